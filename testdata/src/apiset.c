/* apiset.c - apiset.exe: every import comes from an API-set contract name,
 *   api-ms-win-core-synch-l1-2-0.dll          Sleep
 *   api-ms-win-core-processthreads-l1-1-0.dll ExitProcess
 * and none from kernel32.dll.  Exit code 0. */
#include "pemin.h"

IMPORT void WINAPI Sleep(DWORD ms);

void pe_start(void)
{
    Sleep(0);
    ExitProcess(0);
}
