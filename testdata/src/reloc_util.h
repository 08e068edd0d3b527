/* reloc_util.h - helpers shared by the relocation-heavy test DLLs */
#ifndef RELOC_UTIL_H
#define RELOC_UTIL_H

/* Hide a value from the optimizer so table reads really happen at run time
 * (otherwise gcc/clang constant-fold "const T *const tbl[]" lookups and the
 * fixups in the table would never be exercised). */
#define LAUNDER(p) __extension__({ __typeof__(&*(p)) q_ = (p); __asm__("" : "+r"(q_)); q_; })

/* Repeat a macro for 0..7 / 0..63. */
#define REP8(M, b) M(b+0) M(b+1) M(b+2) M(b+3) M(b+4) M(b+5) M(b+6) M(b+7)
#define REP64(M) REP8(M, 0) REP8(M, 8) REP8(M, 16) REP8(M, 24) \
                 REP8(M, 32) REP8(M, 40) REP8(M, 48) REP8(M, 56)

static inline int str_len(const char *s)
{
    int n = 0;
    while (LAUNDER(s)[n])
        n++;
    return n;
}
#endif
