/* hekv/base.h: what every part of the hekv API shares: the export and check macros, the
 * status codes and the error buffer that carries a readable message, the kernel-set
 * request, owned byte buffers (wiped when freed), the object types of the hekv file format
 * and the two file calls (an atomic writer and a checked reader).
 *
 * It knows nothing of rings, CKKS or models. Include <hekv/hekv.h> for everything. */
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

#define HEKV_VERSION_STRING "0.2.0"

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

/** A status plus a readable message. Every call that does not act on an evaluator takes an
 *  optional one (NULL: no message); evaluator calls keep theirs in the evaluator
 *  (hekv_ckks_eval_last_error). The message says what went wrong and, where possible, what
 *  to do about it. */
typedef struct hekv_err {
    hekv_status status;
    char msg[HEKV_ERR_MSG_LEN];
} hekv_err;

/** Records status and a formatted message in err (err may be NULL); returns status. */
HEKV_API hekv_status hekv_err_set(hekv_err *err, hekv_status status, const char *fmt, ...)
    HEKV_PRINTF(3, 4);
/** Resets err to HEKV_OK with an empty message (err may be NULL). */
HEKV_API void hekv_err_clear(hekv_err *err);

/** Which kernel set a ring uses (a run-time option, never part of a parameter set's
 *  identity: every set computes the same bits with either). */
typedef enum {
    HEKV_ISA_AUTO = 0,   /**< the best available; HEKV_KERNELS=scalar|avx512|auto overrides */
    HEKV_ISA_SCALAR = 1, /**< the portable scalar references only */
    HEKV_ISA_AVX512 = 2  /**< the AVX-512 IFMA kernels; an error when the CPU lacks them */
} hekv_isa;

/** 1 when this build has the AVX-512 IFMA kernels and this CPU and OS can run them. */
HEKV_API int hekv_isa_avx512_available(void);
/** Resolves a request to HEKV_ISA_SCALAR or HEKV_ISA_AVX512: AUTO consults HEKV_KERNELS
 *  ("scalar", "avx512" or "auto"), then the CPU.
 *  @return HEKV_ERR_UNSUPPORTED (AVX512 asked for but unavailable), HEKV_ERR_ARG (an
 *          unknown request or HEKV_KERNELS value) */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_isa_resolve(hekv_isa request, hekv_isa *out,
                                                     hekv_err *err);
/** "scalar" or "avx512" for a resolved set ("?" otherwise). */
HEKV_API const char *hekv_isa_name(hekv_isa isa);

/** An owned byte buffer (what the savers return). Free it with hekv_buf_free, which wipes
 *  the bytes first: a saved secret key or plaintext must not linger in freed memory. */
typedef struct hekv_buf {
    uint8_t *data;
    size_t len;
} hekv_buf;

/** Wipes and frees b's bytes and zeroes b (b may be NULL or empty). */
HEKV_API void hekv_buf_free(hekv_buf *b);

/** The object types of the hekv file format ("HEKV" container: magic, format version,
 *  type, flags, length, parameter fingerprint, set name, body, BLAKE2b-256 checksum). */
typedef enum {
    HEKV_OBJ_PARAMS = 1, /**< a CKKS parameter set */
    HEKV_OBJ_SK = 2,     /**< a secret key (client only; always written mode 0600) */
    HEKV_OBJ_PK = 3,     /**< a public encryption key */
    HEKV_OBJ_EVK = 4,    /**< an evaluation-key set (relinearisation, Galois, switching) */
    HEKV_OBJ_CT = 5,     /**< a ciphertext */
    HEKV_OBJ_PT = 6,     /**< a plaintext */
    HEKV_OBJ_KVCACHE = 7 /**< the packed encrypted K/V cache of one attention layer */
} hekv_obj_type;

/** A readable noun for an object type ("ciphertext", ...; "unknown object" otherwise). */
HEKV_API const char *hekv_obj_type_name(int type);

/** What the container header of a buffer says, after its magic, version, type, length and
 *  checksum are checked (hekv_file_peek). */
typedef struct hekv_file_info {
    hekv_obj_type type;
    unsigned flags;          /**< type-specific, e.g. seed-compressed */
    uint64_t length;         /**< total bytes, checksum included */
    uint8_t fingerprint[16]; /**< of the parameter set the object belongs to */
    char set_name[33];       /**< that set's name, printable, NUL-terminated */
} hekv_file_info;

/** Checks the container of data[0..len) (magic, version, known type, exact length,
 *  checksum) and describes it. Says nothing about the body, which the type's loader checks.
 *  @return HEKV_ERR_FORMAT (with a message naming the problem), HEKV_ERR_ARG (NULL) */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_file_peek(const uint8_t *data, size_t len,
                                                   hekv_file_info *info, hekv_err *err);

/** Flags of hekv_file_write. */
#define HEKV_FILE_SECRET 1u /**< mode 0600 whatever the contents */

/** Writes data[0..len) to path atomically: a temporary file beside it, written, flushed to
 *  disk and renamed over path, so a failure at any point (a full disk, a signal) leaves
 *  the previous file as it was. The file gets mode 0600 when flags has HEKV_FILE_SECRET or
 *  data is a container of a secret type (a secret key: the type is in its header); any
 *  other file 0666 less the process umask.
 *  @return HEKV_ERR_IO (the message names the step and the OS error), HEKV_ERR_ARG */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_file_write(const char *path, const uint8_t *data,
                                                    size_t len, unsigned flags,
                                                    hekv_err *err);

/** Default and largest cap of hekv_file_read (bytes). */
#define HEKV_FILE_MAX_BYTES ((uint64_t)16 << 30)

/** Reads the whole regular file at path into out (free with hekv_buf_free). Directories,
 *  FIFOs, devices and sockets are refused without blocking on them, and so is a file over
 *  max_bytes (0: HEKV_FILE_MAX_BYTES).
 *  @return HEKV_ERR_IO (cannot open or read; not a regular file; too large: each with the
 *          path and the reason), HEKV_ERR_NOMEM, HEKV_ERR_ARG */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_file_read(const char *path, uint64_t max_bytes,
                                                   hekv_buf *out, hekv_err *err);

/** Checks, before any work is done, that path can be written by hekv_file_write later: its
 *  directory exists and is writable, and path is not a directory or other non-regular
 *  file. Creates nothing.
 *  @return HEKV_ERR_IO naming the problem */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_file_check_writable(const char *path,
                                                             hekv_err *err);

#ifdef __cplusplus
}
#endif
#endif
