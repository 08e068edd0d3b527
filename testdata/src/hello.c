/* hello.c - hello.exe (x64): an ordinary console program linked with the
 * mingw-w64 CRT (msvcrt.dll); prints one line and returns 0. */
#include <stdio.h>

int main(void)
{
    printf("hello from pemap testdata\n");
    return 0;
}
