/* printf.c - printf.exe (x64, mingw-w64 CRT, msvcrt.dll): msvcrt's printf family and a few CRT and kernel32
 * functions. Prints the lines in printf.expected (stdout), "to stderr 5" on stderr, and returns 3. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <windows.h>

static void bye(void) { printf("atexit ran\n"); fflush(stdout); }

int main(int argc, char **argv)
{
    printf("argc=%d argv0 ends with printf.exe: %d\n", argc, strstr(argv[0], "printf.exe") != NULL);
    printf("[%d|%5d|%-5d|%05d|%+d|% d|%i]\n", -42, 42, 42, 42, 42, 42, -7);
    printf("[%ld|%lu|%lld|%I64d|%I64u|%I32d|%Id]\n", 0x7fffffffL, 0xffffffffUL, -1234567890123LL,
           -1234567890123LL, 18446744073709551615ULL, -5, (ptrdiff_t)-6);
    printf("[%x|%X|%#x|%#x|%o|%#o|%p|%.3d|%.0d]\n", 255, 255, 255, 0, 8, 8, (void *)0x1234, 5, 0);
    printf("[%s|%.3s|%8s|%-8s|%08s|%S|%ls|%c|%C|%s]\n", "abc", "abcdef", "abc", "abc", "abc", L"wide",
           L"wide2", 'x', L'y', (char *)NULL);
    printf("[%f|%.2f|%e|%E|%g|%G|%10.3f|%-10.1e|%.0f|%#.0f]\n", 3.14159, 2.5, 12345.678, 0.000123, 0.0001,
           1e20, -3.14159, 1.5, 2.5, 3.0);
    printf("[%*d|%-*d|%.*f]\n", 6, 1, 4, 2, 3, 1.0);
    printf("[%zu|%hd|%hu|%%]\n", 7, 70000, 70000);
    int n = 0;
    printf("abc%n|", &n);
    printf("n=%d\n", n);
    char buf[16];
    memset(buf, 'Z', sizeof buf);
    int r = _snprintf(buf, 4, "%s", "abcdef");
    printf("_snprintf=%d [%.6s]\n", r, buf);
    r = sprintf(buf, "%d-%s", 12, "xy");
    printf("sprintf=%d [%s]\n", r, buf);
    fprintf(stderr, "to stderr %d\n", 5);
    printf("strerror(2)=%s|", strerror(2));
    printf("strerror(42)=%s|", strerror(42));
    printf("strerror(99)=%s\n", strerror(99));
    volatile double zero = 0.0;
    double inf = 1.0 / zero, nan = zero / zero;
    printf("[%f|%e|%g|%.1f|%.0f|%f|%f]\n", inf, -inf, inf, inf, inf, nan, -nan);
    printf("[%.2f|%.1f|%.0f|%.0f|%.20f|%.3e|%g|%g|%g|%#g|%-8.3g|]\n", 0.125, 0.25, 0.5, 1.5, 0.1, 9.9996, 100000.0,
           1000000.0, 0.00001234, 1.0, 3.14159);
    printf("[%f|%.3f|%e|%5.1f|%08.2f|%+.1e]\n", -0.0, 0.0005, 0.0, 9.96, -1.5, 12345.0);
    DWORD t = TlsAlloc();
    TlsSetValue(t, (void *)0x1234);
    printf("tls %s %p\n", t != TLS_OUT_OF_INDEXES ? "ok" : "fail", TlsGetValue(t));
    SetLastError(1234);
    printf("lasterror=%lu\n", GetLastError());
    WCHAR w[16];
    int wn = MultiByteToWideChar(CP_UTF8, 0, "h\xc3\xa9llo", -1, w, 16);
    char back[16];
    int bn = WideCharToMultiByte(CP_UTF8, 0, w, -1, back, 16, NULL, NULL);
    printf("utf8: %d units, e-acute=%04x, back %d bytes same=%d\n", wn, w[1], bn, strcmp(back, "h\xc3\xa9llo") == 0);
    MEMORY_BASIC_INFORMATION mbi;
    SIZE_T q = VirtualQuery((void *)main, &mbi, sizeof mbi);
    printf("VirtualQuery=%d type=%lx protect=%lx\n", (int)q, mbi.Type, mbi.Protect);
    atexit(bye);
    return 3;
}
