/* tls.c - tls.exe: an MSVC-style TLS directory built by hand (no CRT),
 * linked with lld-link, which points the TLS data directory at _tls_used.
 *
 *   .tls            _tls_start, then every __declspec(thread) variable,
 *   .tls$ZZZ        _tls_end
 *   _tls_used       IMAGE_TLS_DIRECTORY{Start, End, &_tls_index, callbacks}
 *   tls_callbacks[] {tls_cb1, tls_cb2, NULL}
 *
 * The loader must run tls_cb1 then tls_cb2 (reason DLL_PROCESS_ATTACH)
 * before the entry point, and set up the thread's TLS block from the
 * template [_tls_start, _tls_end) so that tls_var starts as 42.
 * Exit code 0 = callbacks ran once each, in order, and TLS was set up. */
#include "pemin.h"

typedef void(WINAPI *PIMAGE_TLS_CALLBACK)(LPVOID dll, DWORD reason, LPVOID reserved);

typedef struct {
    ULONG_PTR StartAddressOfRawData;
    ULONG_PTR EndAddressOfRawData;
    ULONG_PTR AddressOfIndex;
    ULONG_PTR AddressOfCallBacks;
    DWORD SizeOfZeroFill;
    DWORD Characteristics;
} IMAGE_TLS_DIRECTORY;

#pragma section(".tls", read, write)
#pragma section(".tls$ZZZ", read, write)
__declspec(allocate(".tls")) char _tls_start = 0;
__declspec(allocate(".tls$ZZZ")) char _tls_end = 0;
DWORD _tls_index = 0;

__declspec(thread) int tls_var = 42;

#if defined(__i386__)
/* MSVC-ABI x86 code finds the TLS slot array at fs:[__tls_array]; the CRT
 * normally defines this absolute symbol (offset of ThreadLocalStoragePointer
 * in the 32-bit TEB). */
__asm__(".globl __tls_array\n.set __tls_array, 0x2c");
#endif

volatile unsigned g_cb_trace = 0; /* each callback appends its number */

static void WINAPI tls_cb1(LPVOID dll, DWORD reason, LPVOID reserved)
{
    (void)dll;
    (void)reserved;
    if (reason == DLL_PROCESS_ATTACH)
        g_cb_trace = g_cb_trace * 16 + 1;
}

static void WINAPI tls_cb2(LPVOID dll, DWORD reason, LPVOID reserved)
{
    (void)dll;
    (void)reserved;
    if (reason == DLL_PROCESS_ATTACH)
        g_cb_trace = g_cb_trace * 16 + 2;
}

const PIMAGE_TLS_CALLBACK tls_callbacks[3] = {tls_cb1, tls_cb2, 0};

const IMAGE_TLS_DIRECTORY _tls_used = {
    (ULONG_PTR)&_tls_start,
    (ULONG_PTR)&_tls_end,
    (ULONG_PTR)&_tls_index,
    (ULONG_PTR)tls_callbacks,
    0,
    0,
};

void pe_start(void)
{
    unsigned fail = 0;
    if (g_cb_trace != 0x12) fail |= 1; /* cb1 then cb2, once each */
    if (tls_var != 42) fail |= 2;
    tls_var++;
    if (tls_var != 43) fail |= 4;
    ExitProcess(fail);
}
