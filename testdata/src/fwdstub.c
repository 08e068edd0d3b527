/* fwdstub.c - the only real code in fwd1.dll / fwd2.dll (everything else
 * they export is a forwarder, see fwd1.def / fwd2.def).  Built twice with
 * -DSELF=fwd1_self / -DSELF=fwd2_self. */
#include "pemin.h"

int SELF(void) { return 1; }

BOOL WINAPI DllEntry(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)inst;
    (void)reason;
    (void)reserved;
    return 1;
}
