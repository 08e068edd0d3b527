/* lowalign.c - lowalign.exe: linked with SectionAlignment = FileAlignment =
 * 0x200 (below the 4 KiB page size).  Windows maps such "flat" images
 * without moving sections, which only works because the linker lays every
 * section out with VirtualAddress == PointerToRawData.
 * Has .text, .rdata, .data, .idata and .reloc; no .bss (all data is
 * initialised) so every section has raw data.
 * Exit code 0 = data reached through absolute pointers is intact. */
#include "pemin.h"
#include "reloc_util.h"

static const char k_msg[] = "flat image";
const char *g_msg_ptr = k_msg;
int g_counter = 5;
int *const g_counter_ptr = &g_counter;

void pe_start(void)
{
    unsigned fail = 0;
    if (str_len(LAUNDER(g_msg_ptr)) != 10) fail |= 1;
    *LAUNDER(g_counter_ptr) += 37;
    if (*LAUNDER(&g_counter) != 42) fail |= 2;
    ExitProcess(fail);
}
