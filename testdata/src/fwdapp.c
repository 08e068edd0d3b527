/* fwdapp.c - fwdapp.exe: imports only forwarded exports from fwd1.dll.
 *   Chain(2,3)      fwd1 -> fwd2 -> liba.liba_add   = 5
 *   ByOrd(6,7)      fwd1 -> liba.#2 (liba_mul)      = 42
 *   ToB(21)         fwd1 -> libb.libb_twice         = 42
 *   ToBUpper(21)    fwd1 -> LIBB.libb_twice         = 42
 * Exit code 0 = all forwarders resolved to the right functions. */
#include "pemin.h"

IMPORT int Chain(int a, int b);
IMPORT int ByOrd(int a, int b);
IMPORT int ToB(int a);
IMPORT int ToBUpper(int a);

void pe_start(void)
{
    unsigned fail = 0;
    if (Chain(2, 3) != 5) fail |= 1;
    if (ByOrd(6, 7) != 42) fail |= 2;
    if (ToB(21) != 42) fail |= 4;
    if (ToBUpper(21) != 42) fail |= 8;
    ExitProcess(fail);
}
