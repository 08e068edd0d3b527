/* fixed.c - fixed.dll: a DLL linked with lld-link /FIXED.
 *
 * It contains absolute pointers (g_ptrs[], and on x86 every global access in
 * .text) but NO base relocations: IMAGE_FILE_RELOCS_STRIPPED is set, there
 * is no .reloc section and the BaseRelocationTable data directory is empty.
 * The preferred ImageBase (0x10000000 / 0x180000000) equals liba.dll's, so a
 * loader that already has liba.dll (or anything else) there must refuse to
 * load fixed.dll rather than map it elsewhere without fixing the pointers. */
#include "pemin.h"
#include "reloc_util.h"

int g_value = 42;
int *g_ptrs[2] = {&g_value, &g_value};

EXPORT int fixed_get(void) { return *LAUNDER(g_ptrs)[1]; } /* 42 */

BOOL WINAPI DllEntry(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)inst;
    (void)reason;
    (void)reserved;
    return 1;
}
