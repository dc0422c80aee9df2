/* kern_defs.h: the few definitions every kernel file shares. The kernel layer is the
 * bottom of hekv and stands alone: it includes nothing from src/, knows no status type or
 * error buffer, and its fallible functions (table builders, maps, prime search) return
 * one of the codes below; the ring layer above turns them into messages. */
#ifndef HEKV_KERNELS_KERN_DEFS_H
#define HEKV_KERNELS_KERN_DEFS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#if defined(__GNUC__)
#define HEKV_KERN_MUST_CHECK __attribute__((warn_unused_result))
#else
#define HEKV_KERN_MUST_CHECK
#endif

/* Return codes of the fallible kernel functions. */
#define HEKV_KERN_OK 0
#define HEKV_KERN_EINVAL (-1)   /* an argument outside its documented range */
#define HEKV_KERN_ENOTFOUND (-2) /* fewer primes of the requested shape exist */

/* 64-byte aligned tables (the NTT twiddles): size rounded up to 64; NULL for 0. */
static inline void *hekv_kern_alloc(size_t size) {
    return size ? aligned_alloc(64, (size + 63) & ~(size_t)63) : NULL;
}
static inline void hekv_kern_free(void *p) { free(p); }

/* Range checks of the kernels' preconditions, compiled in only with HEKV_DEBUG (STYLE
 * R11: kernels assume what their callers checked). */
#ifdef HEKV_DEBUG
#define HEKV_KERN_DASSERT(c)                                                              \
    do {                                                                                  \
        if (!(c)) {                                                                       \
            fprintf(stderr, "hekv: kernel precondition broken at %s:%d: %s\n", __FILE__, \
                    __LINE__, #c);                                                        \
            abort();                                                                      \
        }                                                                                 \
    } while (0)
#else
#define HEKV_KERN_DASSERT(c) ((void)0)
#endif

#endif
