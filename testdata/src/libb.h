/* libb.h - interface of libb.dll (exports listed with ordinals in libb.def) */
#ifndef LIBB_H
#define LIBB_H
#include "pemin.h"

#ifndef LIBB_API
#define LIBB_API IMPORT
#endif

LIBB_API int libb_sub(int a, int b);  /* @1 */
LIBB_API int libb_twice(int a);       /* @2: returns liba_add(a, a) (libb imports liba) */
LIBB_API int libb_checksum(void);     /* @3 */
LIBB_API int libb_is_attached(void);  /* @4 */

#define LIBB_CHECKSUM 4242
#endif
