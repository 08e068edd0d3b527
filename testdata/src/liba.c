/* liba.c - liba.dll: a DLL full of absolute pointers.
 *
 * Preferred ImageBase is the same as libb.dll's (0x10000000 / 0x180000000),
 * so at most one of them can load at its preferred address and the other
 * must be rebased using its .reloc table.  liba_checksum() walks every
 * pointer table and returns LIBA_CHECKSUM only if all fixups were applied.
 *
 * Fixups produced (HIGHLOW on x86, DIR64 on x64):
 *   .data  -> .data   g_ptr_table[64], g_nodes[].next
 *   .data  -> .text   g_ops[]
 *   .rdata -> .rdata  g_const_ptrs[], g_names[]
 *   .rdata -> .data   g_const_data_ptrs[]
 *   .rdata -> .text   k_ops_ro[]
 *   .text  -> .data   every global access on x86; movabs in abs_values() on x64
 */
#define LIBA_API /* defining the exports; names/ordinals come from liba.def */
#include "liba.h"
#include "reloc_util.h"

typedef int (*binop)(int, int);

const int liba_version = 0x0102;

int g_values[8] = {1, 2, 3, 4, 5, 6, 7, 8};

#define PTR_ENTRY(i) &g_values[(i) & 7],
int *g_ptr_table[64] = {REP64(PTR_ENTRY)};

static const int k_consts[4] = {10, 20, 30, 40};
const int *const g_const_ptrs[4] = {&k_consts[0], &k_consts[1], &k_consts[2], &k_consts[3]};
int *const g_const_data_ptrs[8] = {&g_values[0], &g_values[1], &g_values[2], &g_values[3],
                                   &g_values[4], &g_values[5], &g_values[6], &g_values[7]};

static int op_sub(int a, int b) { return a - b; }
static int op_xor(int a, int b) { return a ^ b; }
int liba_add(int a, int b) { return a + b; }
int liba_mul(int a, int b) { return a * b; }

binop g_ops[4] = {liba_add, liba_mul, op_sub, op_xor};
const binop k_ops_ro[4] = {liba_add, liba_mul, op_sub, op_xor};
const char *const g_names[4] = {"add", "mul", "sub", "xor"};

struct node {
    struct node *next;
    int v;
};
struct node g_nodes[4] = {{&g_nodes[1], 1}, {&g_nodes[2], 2}, {&g_nodes[3], 3}, {&g_nodes[0], 4}};

int g_attached;
int *const g_attached_ptr = &g_attached;

#if defined(__x86_64__)
/* An absolute 64-bit address embedded in .text (x64 code is otherwise
 * RIP-relative, so C alone produces no DIR64 fixups in .text). */
static int *abs_values(void)
{
    int *p;
    __asm__("movabsq $g_values, %0" : "=r"(p));
    return p;
}
static binop abs_add(void)
{
    binop p;
    __asm__("movabsq $liba_add, %0" : "=r"(p));
    return p;
}
#else
static int *abs_values(void) { return LAUNDER(&g_values[0]); }
static binop abs_add(void) { return LAUNDER(&liba_add); }
#endif

int liba_call(int op, int a, int b) { return LAUNDER(g_ops)[op & 3](a, b); }

int liba_checksum(void)
{
    int s = 0, i;
    struct node *n;
    int *const *pt = LAUNDER(g_ptr_table);
    const int *const *cp = LAUNDER(g_const_ptrs);
    int *const *dp = LAUNDER(g_const_data_ptrs);
    const binop *ro = LAUNDER(k_ops_ro);
    const char *const *nm = LAUNDER(g_names);

    for (i = 0; i < 64; i++) s += *pt[i];               /* 288 */
    for (i = 0; i < 4; i++) s += *cp[i];                /* 100 */
    for (i = 0; i < 8; i++) s += *dp[i];                /*  36 */
    for (i = 0; i < 4; i++) s += liba_call(i, 7, 3);    /*  39 */
    for (i = 0; i < 4; i++) s += ro[i](5, 2);           /*  27 */
    for (i = 0; i < 4; i++) s += str_len(nm[i]);        /*  12 */
    for (n = LAUNDER(&g_nodes[0]), i = 0; i < 8; i++, n = n->next)
        s += n->v;                                      /*  20 */
    if (abs_values() == &g_values[0]) s += 1;           /*   1 */
    if (abs_add()(40, 2) == 42) s += 1;                 /*   1 */
    return s == 524 ? LIBA_CHECKSUM : s;
}

int liba_is_attached(void) { return *LAUNDER(&g_attached); }

BOOL WINAPI DllEntry(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)inst;
    (void)reserved;
    if (reason == DLL_PROCESS_ATTACH)
        *LAUNDER(g_attached_ptr) = 1;
    return 1;
}
