/* shared.c - shared.dll: the classic cross-process instance counter.
 *
 * g_shared_count lives in a section named exactly "Shared" with
 * IMAGE_SCN_MEM_SHARED | MEM_READ | MEM_WRITE: on Windows every process that
 * loads the DLL sees the same page, so the count goes up by one per process.
 * g_private_count lives in ordinary .data (built with
 * -fno-zero-initialized-in-bss so it is not moved to .bss) and is 1 in every
 * process.  DllEntry is the raw entry point (no CRT).
 *
 * Built two ways:
 *   gcc (mingw):       __attribute__((section("Shared"), shared))
 *   clang (MSVC ABI):  #pragma section("Shared", read, write, shared)
 *                      + __declspec(allocate("Shared")), linked with lld-link
 */
#include "pemin.h"

#if defined(_MSC_VER)
/* clang 14 ignores the "shared" attribute of #pragma section, so also ask
 * the linker for it through the .drectve section. */
#pragma section("Shared", read, write, shared)
#pragma comment(linker, "/SECTION:Shared,RWS")
__declspec(allocate("Shared")) volatile LONG g_shared_count = 0;
#else
volatile LONG g_shared_count __attribute__((section("Shared"), shared)) = 0;
#endif
volatile LONG g_private_count = 0;

EXPORT LONG shared_count(void) { return g_shared_count; }
EXPORT LONG private_count(void) { return g_private_count; }

BOOL WINAPI DllEntry(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)inst;
    (void)reserved;
    if (reason == DLL_PROCESS_ATTACH) {
        __sync_add_and_fetch(&g_shared_count, 1); /* lock xadd, no import */
        g_private_count++;
    }
    return 1;
}
