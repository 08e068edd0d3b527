/* ordlib.c - ordlib.dll: see ordlib.def for the export ordinals. */
#include "pemin.h"

int ord_add(int a, int b) { return a + b; }
int ord_sub(int a, int b) { return a - b; }
int ord_mul(int a, int b) { return a * b; }
int ord_named(void) { return 7; }

BOOL WINAPI DllEntry(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)inst;
    (void)reason;
    (void)reserved;
    return 1;
}
