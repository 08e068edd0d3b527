/* delayapp.c - delayapp.exe: liba.dll is DELAY-loaded (lld-link
 * /DELAYLOAD:liba.dll): it appears in the delay import table, not the normal
 * import table, and is only loaded (by delayhlp.c's __delayLoadHelper2) on
 * the first call.  kernel32.dll is imported normally.
 * Exit code 0 = delay-loaded calls returned the right values. */
#include "liba.h"

void pe_start(void)
{
    unsigned fail = 0;
    if (liba_add(40, 2) != 42) fail |= 1; /* first call: loads liba.dll */
    if (liba_mul(6, 7) != 42) fail |= 2;
    if (liba_add(1, 1) != 2) fail |= 4;   /* slot already patched */
    ExitProcess(fail);
}
