/* delayhlp.c - a minimal, working __delayLoadHelper2 for images linked with
 * lld-link /DELAYLOAD without the MSVC CRT (which normally supplies it).
 *
 * lld-link emits, per delay-loaded DLL, a descriptor in the "RVA form"
 * (grAttrs bit 0 = dlattrRva: all fields are RVAs, not VAs), a module handle
 * slot, a delay IAT initially pointing at thunks, and a delay INT.  The first
 * call through an IAT slot lands here with the descriptor and the slot. */
#include "pemin.h"

typedef struct {
    DWORD grAttrs;      /* bit 0: dlattrRva */
    DWORD rvaDLLName;   /* char[] */
    DWORD rvaHmod;      /* HMODULE slot */
    DWORD rvaIAT;       /* FARPROC[] patched here */
    DWORD rvaINT;       /* IMAGE_THUNK_DATA[]: hint/name RVA or ordinal */
    DWORD rvaBoundIAT;
    DWORD rvaUnloadIAT;
    DWORD dwTimeStamp;
} ImgDelayDescr;

extern char __ImageBase[]; /* defined by lld-link (x86: ___ImageBase) */

#define DELAY_FAIL_LOAD 0xDE1A0001u
#define DELAY_FAIL_PROC 0xDE1A0002u
#define DELAY_FAIL_ATTR 0xDE1A0003u

FARPROC WINAPI __delayLoadHelper2(const ImgDelayDescr *d, FARPROC *slot)
{
    char *base = __ImageBase;
    HMODULE *hmod;
    FARPROC *iat, fn;
    ULONG_PTR entry;
    const char *name;

    if (!(d->grAttrs & 1))
        ExitProcess(DELAY_FAIL_ATTR); /* old VA form: not produced by lld */
    hmod = (HMODULE *)(base + d->rvaHmod);
    if (!*hmod) {
        *hmod = LoadLibraryA(base + d->rvaDLLName);
        if (!*hmod)
            ExitProcess(DELAY_FAIL_LOAD);
    }
    iat = (FARPROC *)(base + d->rvaIAT);
    entry = ((ULONG_PTR *)(base + d->rvaINT))[slot - iat];
    if (entry >> (sizeof(ULONG_PTR) * 8 - 1))
        name = (const char *)(entry & 0xffff); /* import by ordinal */
    else
        name = base + entry + 2; /* skip the 16-bit hint */
    fn = GetProcAddress(*hmod, name);
    if (!fn)
        ExitProcess(DELAY_FAIL_PROC);
    *slot = fn;
    return fn;
}
