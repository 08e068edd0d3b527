/* hostile.c - hostile.dll (x64): each export tries one way out of the sandbox
 * pemap runs image code in, the way hostile code would.  With the sandbox off
 * every one of them succeeds; with it on, each is stopped (or refused by the
 * kernel) and pemap names it.
 *
 *   raw_write, raw_open(path), raw_socket, raw_execve, raw_ptrace
 *       the `syscall` instruction in this DLL's own .text;
 *   sysv_call(fn, a, b, c)
 *       calls fn(a, b, c, 0, 0, 0) with the System V ABI: given the address
 *       of libc's syscall() or open() in the child (fork keeps the parent's
 *       layout), this is code that found libc and jumped into it;
 *   load_library(path)
 *       LoadLibraryA: a file opened by pemap's own host function;
 *   spin, memory_bomb
 *       an endless loop; HeapAlloc of 16 MiB blocks, each touched, forever.
 */
#include "pemin.h"

typedef long long i64;

IMPORT void *WINAPI GetProcessHeap(void);
IMPORT void *WINAPI HeapAlloc(void *heap, DWORD flags, ULONG_PTR size);

/* Linux x86-64 system call numbers and flags: what the kernel sees, whatever
 * the file format of the code that asks. */
#define NR_write 1
#define NR_socket 41
#define NR_execve 59
#define NR_ptrace 101
#define NR_openat 257
#define AT_FDCWD (-100)
#define O_WRONLY 01
#define O_CREAT 0100
#define O_TRUNC 01000
#define AF_INET 2
#define SOCK_STREAM 1
#define PTRACE_TRACEME 0

static i64 raw_syscall(i64 nr, i64 a, i64 b, i64 c, i64 d) {
    i64 ret;
    register i64 r10 __asm__("r10") = d;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
                     : "rcx", "r11", "memory");
    return ret;
}

EXPORT i64 raw_write(void) {
    static const char text[] = "hostile.dll: a raw write reached the terminal\n";
    return raw_syscall(NR_write, 1, (i64)text, sizeof text - 1, 0);
}

EXPORT i64 raw_open(const char *path) {
    return raw_syscall(NR_openat, AT_FDCWD, (i64)path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
}

EXPORT i64 raw_socket(void) { return raw_syscall(NR_socket, AF_INET, SOCK_STREAM, 0, 0); }

EXPORT i64 raw_execve(void) {
    static const char true_path[] = "/bin/true";
    const char *argv[] = {true_path, 0};
    const char *envp[] = {0};
    return raw_syscall(NR_execve, (i64)true_path, (i64)argv, (i64)envp, 0);
}

EXPORT i64 raw_ptrace(void) { return raw_syscall(NR_ptrace, PTRACE_TRACEME, 0, 0, 0); }

typedef i64(__attribute__((sysv_abi)) * SysvFunction)(i64, i64, i64, i64, i64, i64);

EXPORT i64 sysv_call(i64 fn, i64 a, i64 b, i64 c) { return ((SysvFunction)fn)(a, b, c, 0, 0, 0); }

EXPORT i64 load_library(const char *path) { return (i64)LoadLibraryA(path); }

EXPORT i64 spin(void) {
    for (;;) __asm__ volatile("");
}

EXPORT i64 memory_bomb(void) {
    const i64 block = 16 << 20;
    void *heap = GetProcessHeap();
    for (;;) {
        volatile char *p = HeapAlloc(heap, 0, block);
        for (i64 i = 0; i < block; i += 4096) p[i] = 1; /* NULL once refused: an access violation */
    }
}

BOOL WINAPI DllEntry(HINSTANCE inst, DWORD reason, LPVOID reserved) {
    (void)inst;
    (void)reason;
    (void)reserved;
    return 1;
}
