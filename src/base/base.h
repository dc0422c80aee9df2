/* base.h (internal): what every library layer above the kernels shares beyond the public
 * hekv/base.h: aligned allocation, secure wiping and constant-time comparison, and the
 * checks of internal invariants. Not installed. The byte codec and the container of the
 * file format are beside it (codec.h, container.h). */
#ifndef HEKV_SRC_BASE_H
#define HEKV_SRC_BASE_H

#include "hekv/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/** 64-byte aligned allocation of size bytes (rounded up to 64); NULL on failure or size 0.
 *  Blocks of 4 MiB and more are placed on 2 MiB boundaries and marked for huge pages.
 *  Free with hekv_free_aligned. */
void *hekv_alloc_aligned(size_t size);
/** 64-byte aligned, zero-filled allocation of n elements of size bytes; NULL on overflow. */
void *hekv_calloc_aligned(size_t n, size_t size);
void hekv_free_aligned(void *p);
/** Wipes len bytes so that the compiler cannot drop the write (secrets, plaintexts). */
void hekv_memzero(void *p, size_t len);
/** Constant-time comparison of len bytes: 0 when equal, -1 otherwise. */
int hekv_memcmp_ct(const void *a, const void *b, size_t len);

/** Broken internal invariant: prints file and line to stderr and aborts. Never used for
 *  bad input, which gets a status code instead. */
void hekv__abort(const char *file, int line, const char *what);
#define HEKV_CHECK_INTERNAL(c) \
    do { if (!(c)) hekv__abort(__FILE__, __LINE__, #c); } while (0)

#ifdef HEKV_DEBUG
#define HEKV_DASSERT(c) HEKV_CHECK_INTERNAL(c)
#else
#define HEKV_DASSERT(c) ((void)0)
#endif

#ifdef __cplusplus
}
#endif
#endif
