/* pemin.h - the handful of Win32 declarations the pemap test binaries need.
 * Self-contained on purpose: works for mingw gcc (x86_64/i686-w64-mingw32)
 * and clang --target=*-pc-windows-msvc without any Windows SDK headers. */
#ifndef PEMIN_H
#define PEMIN_H

typedef unsigned long DWORD; /* LLP64 / ILP32: 32 bits on every Windows target */
typedef int BOOL;
typedef long LONG;
typedef void *HMODULE;
typedef void *HINSTANCE;
typedef void *LPVOID;
typedef __UINTPTR_TYPE__ ULONG_PTR;
typedef int(__stdcall *FARPROC)(void);

#define WINAPI __stdcall
#define IMPORT __declspec(dllimport)
#define EXPORT __declspec(dllexport)

#define DLL_PROCESS_DETACH 0
#define DLL_PROCESS_ATTACH 1
#define DLL_THREAD_ATTACH 2
#define DLL_THREAD_DETACH 3

IMPORT __declspec(noreturn) void WINAPI ExitProcess(unsigned int code);
IMPORT HMODULE WINAPI LoadLibraryA(const char *name);
IMPORT FARPROC WINAPI GetProcAddress(HMODULE mod, const char *name);

#endif
