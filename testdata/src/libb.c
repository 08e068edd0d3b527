/* libb.c - libb.dll: same preferred ImageBase as liba.dll, its own pointer
 * tables, and an import from liba.dll (so loading app.exe loads liba twice
 * by reference: once from app.exe, once from libb.dll).
 *
 * Fixups produced (HIGHLOW on x86, DIR64 on x64):
 *   .data  -> .rdata  g_msgs[] (string pointers)
 *   .data  -> .data   g_rows[][]
 *   .rdata -> .data   k_row_ptrs[]
 *   .rdata -> .text   k_funcs[]
 *   .text  -> .data   global accesses on x86; movabs in abs_rows() on x64
 */
#define LIBB_API
#include "libb.h"
#include "liba.h"
#include "reloc_util.h"

typedef int (*unop)(int);

const char *g_msgs[3] = {"one", "three", "fifteen"};          /* 3+5+7 = 15 */
int g_row0[4] = {1, 1, 1, 1}, g_row1[4] = {2, 2, 2, 2}, g_row2[4] = {3, 3, 3, 3};
int *g_rows[3] = {g_row0, g_row1, g_row2};
int **const k_row_ptrs[3] = {&g_rows[0], &g_rows[1], &g_rows[2]};

int libb_sub(int a, int b) { return a - b; }
int libb_twice(int a) { return liba_add(a, a); }
static int neg(int a) { return -a; }
static int sq(int a) { return a * a; }
const unop k_funcs[3] = {libb_twice, neg, sq};

int g_attached;

#if defined(__x86_64__)
static int **abs_rows(void)
{
    int **p;
    __asm__("movabsq $g_rows, %0" : "=r"(p));
    return p;
}
#else
static int **abs_rows(void) { return LAUNDER(&g_rows[0]); }
#endif

int libb_checksum(void)
{
    int s = 0, i, j;
    const char **m = LAUNDER(g_msgs);
    int **const *rp = LAUNDER(k_row_ptrs);
    const unop *f = LAUNDER(k_funcs);

    for (i = 0; i < 3; i++) s += str_len(m[i]);            /* 15 */
    for (i = 0; i < 3; i++)
        for (j = 0; j < 4; j++) s += (*rp[i])[j];          /* 24 */
    s += f[0](5) + f[1](5) + f[2](5);                      /* 10 - 5 + 25 = 30 */
    if (abs_rows() == &g_rows[0]) s += 1;                  /*  1 */
    return s == 70 ? LIBB_CHECKSUM : s;
}

int libb_is_attached(void) { return *LAUNDER(&g_attached); }

BOOL WINAPI DllEntry(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)inst;
    (void)reserved;
    if (reason == DLL_PROCESS_ATTACH)
        *LAUNDER(&g_attached) = 1;
    return 1;
}
