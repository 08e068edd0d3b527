/* chain.c - chain_a.dll -> chain_b.dll -> chain_c.dll, and chain_fail.dll -> chain_c.dll (clang + lld-link, no
 * CRT): a dependency chain whose entry points say what they are called for through OutputDebugStringA, so the
 * order a loader initializes and uninitializes modules in can be read off:
 *
 *   attach chain_c, attach chain_b, tls chain_a attach, attach chain_a      (dependencies first; TLS callbacks
 *   detach chain_a, tls chain_a detach, detach chain_b, detach chain_c      before DllMain; DETACH in reverse)
 *
 * chain_fail.dll's DllMain returns FALSE (STATUS_DLL_INIT_FAILED) after chain_c's has run.
 * Built once per module:  -DSELF=c   -DSELF=b -DNEXT=c   -DSELF=a -DNEXT=b -DWITH_TLS   -DSELF=fail -DNEXT=c
 * chain_depth_<SELF>() returns the length of the chain below and including it (chain_a: 3). */
#include "pemin.h"

IMPORT void WINAPI OutputDebugStringA(const char *s);

#define STR2(x) #x
#define STR(x) STR2(x)
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)

#ifdef NEXT
IMPORT int CAT(chain_depth_, NEXT)(void);
#endif

EXPORT int CAT(chain_depth_, SELF)(void)
{
#ifdef NEXT
    return 1 + CAT(chain_depth_, NEXT)();
#else
    return 1;
#endif
}

BOOL WINAPI DllEntry(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)inst;
    (void)reserved;
    if (reason == DLL_PROCESS_ATTACH)
        OutputDebugStringA("attach chain_" STR(SELF));
    if (reason == DLL_PROCESS_DETACH)
        OutputDebugStringA("detach chain_" STR(SELF));
#ifdef FAIL
    return reason != DLL_PROCESS_ATTACH;
#else
    return 1;
#endif
}

#ifdef WITH_TLS
/* A TLS directory with one callback and an empty template, as tls.c builds it by hand. */
typedef void(WINAPI *PIMAGE_TLS_CALLBACK)(LPVOID dll, DWORD reason, LPVOID reserved);
typedef struct {
    ULONG_PTR StartAddressOfRawData;
    ULONG_PTR EndAddressOfRawData;
    ULONG_PTR AddressOfIndex;
    ULONG_PTR AddressOfCallBacks;
    DWORD SizeOfZeroFill;
    DWORD Characteristics;
} IMAGE_TLS_DIRECTORY;

static void WINAPI tls_cb(LPVOID dll, DWORD reason, LPVOID reserved)
{
    (void)dll;
    (void)reserved;
    if (reason == DLL_PROCESS_ATTACH)
        OutputDebugStringA("tls chain_" STR(SELF) " attach");
    if (reason == DLL_PROCESS_DETACH)
        OutputDebugStringA("tls chain_" STR(SELF) " detach");
}

#pragma section(".tls", read, write)
__declspec(allocate(".tls")) char _tls_template[8] = {0};
DWORD _tls_index = 0;
const PIMAGE_TLS_CALLBACK tls_callbacks[2] = {tls_cb, 0};
const IMAGE_TLS_DIRECTORY _tls_used = {
    (ULONG_PTR)&_tls_template[0], (ULONG_PTR)&_tls_template[8], (ULONG_PTR)&_tls_index, (ULONG_PTR)tls_callbacks, 0, 0,
};
#endif
