/* sys_kernel32.c - stub system kernel32.dll: every KERNEL32 function the testdata images import, doing nothing. */
/* Not pemin.h: it declares these functions dllimport (and ExitProcess noreturn). */
typedef unsigned long DWORD;
typedef int BOOL;
typedef void *HMODULE;
typedef void *HINSTANCE;
typedef void *LPVOID;
typedef int(__stdcall *FARPROC)(void);

#define WINAPI __stdcall

/* The names the export table uses come from sys_kernel32_<arch>.def; Sleep is
 * only a forwarder there (to the API set), so it has no code here. */
void WINAPI ExitProcess(unsigned int code) { (void)code; }
HMODULE WINAPI LoadLibraryA(const char *name) { (void)name; return 0; }
FARPROC WINAPI GetProcAddress(HMODULE mod, const char *name) { (void)mod; (void)name; return 0; }
void WINAPI OutputDebugStringA(const char *s) { (void)s; }

BOOL WINAPI DllEntry(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)inst;
    (void)reason;
    (void)reserved;
    return 1;
}
