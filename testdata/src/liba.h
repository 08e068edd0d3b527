/* liba.h - interface of liba.dll (exports listed with ordinals in liba.def) */
#ifndef LIBA_H
#define LIBA_H
#include "pemin.h"

#ifndef LIBA_API
#define LIBA_API IMPORT
#endif

LIBA_API int liba_add(int a, int b);      /* @1 */
LIBA_API int liba_mul(int a, int b);      /* @2 */
LIBA_API int liba_call(int op, int a, int b); /* @3: via function-pointer table */
LIBA_API int liba_checksum(void);         /* @4: walks absolute-pointer tables */
LIBA_API int liba_is_attached(void);      /* @5: 1 once DllEntry(PROCESS_ATTACH) ran */
LIBA_API extern const int liba_version;   /* @6: DATA export, value 0x0102 */

/* liba_checksum() returns this when all base relocations were applied. */
#define LIBA_CHECKSUM 1337
#endif
