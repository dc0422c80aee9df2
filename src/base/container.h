/* container.h (internal): the "HEKV" container every hekv binary object is stored in, and
 * the one implementation of its header and checksum. Layout (codec.h, little-endian):
 *
 *   offset  size  field
 *        0     4  magic "HEKV"
 *        4     2  format version (HEKV_FORMAT_VERSION)
 *        6     1  object type (hekv_obj_type)
 *        7     1  flags (type-specific; the loader says which bits it allows)
 *        8     8  total length in bytes, checksum included
 *       16    16  fingerprint of the parameter set the object belongs to
 *       32    32  name of that set, NUL padded (for messages only)
 *       64     -  body (the object type's own layout)
 *   len-32    32  checksum: BLAKE2b-256 of bytes [0, len-32)
 *
 * The checksum detects accidental damage (truncation, flipped bits, a file cut short by a
 * full disk). It is unkeyed, so it cannot detect a deliberate change: anyone can edit a
 * field and recompute it. Loaders therefore validate every field of the body as if it came
 * from an adversary (README, "Threat model"). */
#ifndef HEKV_SRC_CONTAINER_H
#define HEKV_SRC_CONTAINER_H

#include "codec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 3: parameter fingerprints cover sigma, the secret's weight and the insecure flag; K/V
 * caches are containers of their own type. (2: Galois keys switch from s to
 * phi_g^-1(s).) */
#define HEKV_FORMAT_VERSION 3
#define HEKV_CONT_HDR 64
#define HEKV_CONT_SUM 32
#define HEKV_FINGERPRINT_BYTES 16

/** Starts an object: allocates a buffer of HEKV_CONT_HDR + body + HEKV_CONT_SUM bytes into
 *  w and writes the header; the caller then writes exactly `body` bytes and calls
 *  hekv_cont_finish. set_name may be longer than 31 bytes (it is cut). */
HEKV_MUST_CHECK hekv_status hekv_cont_begin(hekv_wr *w, size_t body, hekv_obj_type type,
                                            unsigned flags, const uint8_t *fingerprint,
                                            const char *set_name, hekv_err *err);
/** Appends the checksum and hands the buffer to out (a broken invariant unless the body
 *  had exactly the announced size). */
void hekv_cont_finish(hekv_wr *w, hekv_buf *out);
/** Frees the buffer of a begun object (after a failure while writing its body). */
void hekv_cont_abort(hekv_wr *w);

/** Opens a buffer that must hold an object of `type`: checks magic, version, type (naming
 *  the type actually found), exact length, checksum and flags (allowed_flags), fills info
 *  and sets r to the body. fingerprint (may be NULL) must equal the file's: otherwise
 *  HEKV_ERR_PARAMS with a message naming both sets (expect_name).
 *  @return HEKV_ERR_FORMAT, HEKV_ERR_PARAMS, HEKV_ERR_ARG */
HEKV_MUST_CHECK hekv_status hekv_cont_open(hekv_rd *r, const uint8_t *data, size_t len,
                                           hekv_obj_type type, unsigned allowed_flags,
                                           const uint8_t *fingerprint, const char *expect_name,
                                           hekv_file_info *info, hekv_err *err);
/** HEKV_ERR_FORMAT unless the body was read exactly to its end. */
HEKV_MUST_CHECK hekv_status hekv_cont_close(const hekv_rd *r, hekv_obj_type type,
                                            hekv_err *err);
/** The message of a body that ends early: "<noun> file truncated inside <what>". */
hekv_status hekv_cont_truncated(const hekv_rd *r, hekv_obj_type type, const char *what,
                                hekv_err *err);

/** 1 for object types whose files hold secrets (written mode 0600). */
int hekv_obj_type_secret(int type);

#ifdef __cplusplus
}
#endif
#endif
