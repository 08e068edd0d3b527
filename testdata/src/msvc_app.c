/* msvc_app.c - msvc/app.exe: MSVC-ABI (clang --target=*-pc-windows-msvc,
 * lld-link, no CRT) importer of msvc/liba.dll, which is liba.c built the
 * same way.  Exit code 0 = all checks passed, else a bit mask. */
#include "liba.h"

void pe_start(void)
{
    unsigned fail = 0;
    if (liba_add(2, 3) != 5) fail |= 0x01;
    if (liba_mul(6, 7) != 42) fail |= 0x02;
    if (liba_call(3, 7, 3) != 4) fail |= 0x04;
    if (liba_checksum() != LIBA_CHECKSUM) fail |= 0x10;
    if (!liba_is_attached()) fail |= 0x40;
    if (liba_version != 0x0102) fail |= 0x80;
    ExitProcess(fail);
}
