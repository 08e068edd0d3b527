/* longnames.c - longnames.exe (x64): built with -g and NOT stripped, so the
 * image keeps its COFF symbol table and string table, and the DWARF
 * sections, whose names are longer than 8 bytes, appear in the section
 * table as "/4", "/19", ... (offsets into the string table).
 * Exit code 0. */
#include "pemin.h"

struct point {
    int x, y;
};

static int manhattan(const struct point *p) { return (p->x < 0 ? -p->x : p->x) + (p->y < 0 ? -p->y : p->y); }

void pe_start(void)
{
    struct point p = {3, -4};
    ExitProcess(manhattan(&p) == 7 ? 0 : 1);
}
