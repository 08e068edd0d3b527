/* sys_kernelbase.c - stub system kernelbase.dll: the API-set host, Sleep and ExitProcess doing nothing. */
/* Not pemin.h: it declares ExitProcess dllimport and noreturn. */
typedef unsigned long DWORD;
typedef int BOOL;
typedef void *HINSTANCE;
typedef void *LPVOID;

#define WINAPI __stdcall

void WINAPI Sleep(DWORD ms) { (void)ms; }
void WINAPI ExitProcess(unsigned int code) { (void)code; }

BOOL WINAPI DllEntry(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)inst;
    (void)reason;
    (void)reserved;
    return 1;
}
