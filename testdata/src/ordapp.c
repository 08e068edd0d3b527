/* ordapp.c - ordapp.exe: imports ord_add (#5), ord_sub (#6) and ord_mul (#10)
 * from ordlib.dll BY ORDINAL (the import library made from ordlib.def knows
 * they are NONAME) and ord_named by name.  Exit code 0 = all results right. */
#include "pemin.h"

IMPORT int ord_add(int a, int b);
IMPORT int ord_sub(int a, int b);
IMPORT int ord_mul(int a, int b);
IMPORT int ord_named(void);

void pe_start(void)
{
    unsigned fail = 0;
    if (ord_add(40, 2) != 42) fail |= 1;
    if (ord_sub(50, 8) != 42) fail |= 2;
    if (ord_mul(6, 7) != 42) fail |= 4;
    if (ord_named() != 7) fail |= 8;
    ExitProcess(fail);
}
