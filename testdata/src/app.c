/* app.c - app.exe: imports by name (with hints) from liba.dll, libb.dll and
 * kernel32.dll, including one DATA import (liba_version).
 * Exit code 0 = everything worked; otherwise a bit mask of failed checks. */
#include "liba.h"
#include "libb.h"

void pe_start(void)
{
    unsigned fail = 0;
    if (liba_add(2, 3) != 5) fail |= 0x01;
    if (liba_mul(6, 7) != 42) fail |= 0x02;
    if (libb_twice(21) != 42) fail |= 0x04;
    if (libb_sub(50, 8) != 42) fail |= 0x08;
    if (liba_checksum() != LIBA_CHECKSUM) fail |= 0x10;
    if (libb_checksum() != LIBB_CHECKSUM) fail |= 0x20;
    if (!liba_is_attached() || !libb_is_attached()) fail |= 0x40;
    if (liba_version != 0x0102) fail |= 0x80;
    ExitProcess(fail);
}
