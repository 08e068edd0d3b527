/* missing.c - missing.exe: must FAIL to load.
 *   liba.dll   liba_add               exists
 *   liba.dll   liba_no_such_function  not exported by liba.dll
 *   nosuch.dll nosuch_function        the DLL does not exist
 * (Windows: STATUS_ENTRYPOINT_NOT_FOUND / STATUS_DLL_NOT_FOUND.)
 * If a loader wrongly starts it anyway, the exit code is 0x7e57. */
#include "pemin.h"

IMPORT int liba_add(int a, int b);
IMPORT int liba_no_such_function(void);
IMPORT int nosuch_function(void);

void pe_start(void)
{
    ExitProcess(0x7e57 + liba_add(0, 0) + 0 * (liba_no_such_function() + nosuch_function()));
}
