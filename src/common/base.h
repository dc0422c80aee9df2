/* base.h: the definitions every hekv layer shares: export and check macros, the status
 * codes, the error buffer that carries a readable message, aligned allocation and secure
 * wiping. It does not know about rings, CKKS or models. */
#ifndef HEKV_BASE_H
#define HEKV_BASE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define HEKV_API __attribute__((visibility("default")))
#define HEKV_MUST_CHECK __attribute__((warn_unused_result))
#define HEKV_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define HEKV_API
#define HEKV_MUST_CHECK
#define HEKV_PRINTF(f, a)
#endif

#define HEKV_VERSION_STRING "0.1.0"

/** Status codes returned by every fallible hekv call (0 = success). */
typedef enum {
    HEKV_OK = 0,
    HEKV_ERR_ARG = -1,         /**< invalid argument (NULL, out of range, wrong shape) */
    HEKV_ERR_NOMEM = -2,       /**< allocation failed */
    HEKV_ERR_PARAMS = -3,      /**< parameters invalid or mismatched */
    HEKV_ERR_LEVEL = -4,       /**< ciphertext levels do not match or are exhausted */
    HEKV_ERR_SCALE = -5,       /**< scales do not match */
    HEKV_ERR_KEY_MISSING = -6, /**< a needed evaluation key is absent */
    HEKV_ERR_FORMAT = -7,      /**< a file or buffer is malformed, truncated or corrupted */
    HEKV_ERR_IO = -8,          /**< an operating-system I/O call failed */
    HEKV_ERR_INSECURE = -9,    /**< parameters below the security bound without --insecure */
    HEKV_ERR_UNSUPPORTED = -10 /**< not available on this CPU, build or parameter set */
} hekv_status;

/** Short fixed name of a status code ("HEKV_ERR_ARG", ...). Never NULL. */
HEKV_API const char *hekv_status_str(hekv_status s);

#define HEKV_ERR_MSG_LEN 512

/** A status plus a readable message. Objects own one; constructors take an optional one.
 *  The message says what went wrong and, where possible, what to do about it. */
typedef struct hekv_err {
    hekv_status status;
    char msg[HEKV_ERR_MSG_LEN];
} hekv_err;

/** Records status and a formatted message in err (err may be NULL); returns status. */
HEKV_API hekv_status hekv_err_set(hekv_err *err, hekv_status status, const char *fmt, ...)
    HEKV_PRINTF(3, 4);
/** Resets err to HEKV_OK with an empty message (err may be NULL). */
HEKV_API void hekv_err_clear(hekv_err *err);

/** 64-byte aligned allocation of size bytes (rounded up to 64); NULL on failure or size 0.
 *  Free with hekv_free_aligned. */
HEKV_API void *hekv_alloc_aligned(size_t size);
/** 64-byte aligned, zero-filled allocation of n elements of size bytes; NULL on overflow. */
HEKV_API void *hekv_calloc_aligned(size_t n, size_t size);
HEKV_API void hekv_free_aligned(void *p);
/** Wipes len bytes so that the compiler cannot drop the write (secrets, plaintexts). */
HEKV_API void hekv_memzero(void *p, size_t len);
/** Constant-time comparison of len bytes: 0 when equal, -1 otherwise. */
HEKV_API int hekv_memcmp_ct(const void *a, const void *b, size_t len);

/** Broken internal invariant: prints file and line to stderr and aborts. Never used for
 *  bad input, which gets a status code instead. */
HEKV_API void hekv__abort(const char *file, int line, const char *what);
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
