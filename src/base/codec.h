/* codec.h (internal): the one byte codec of hekv's binary files: a bounded writer and a
 * bounded reader of little-endian integers, IEEE-754 doubles, raw bytes and bit-packed
 * residues (each value of a limb takes exactly `bits` bits, LSB first). Every binary
 * format (the container of container.h and the bodies inside it, the model checkpoint,
 * the tokenizer, golden logits) reads and writes through it; none has its own shifts.
 *
 * The writer writes into a buffer sized by the caller beforehand (formats compute their
 * length first) and treats an overflow as a broken invariant. The reader never reads past
 * its end: every call returns 0 and leaves the value zero once too few bytes remain, so a
 * parser checks hekv_rd_has (or the sticky `short_read` flag) and reports truncation with
 * its own message. */
#ifndef HEKV_SRC_CODEC_H
#define HEKV_SRC_CODEC_H

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hekv_wr {
    uint8_t *buf;
    size_t len; /* capacity */
    size_t off; /* write position */
} hekv_wr;

void hekv_wr_init(hekv_wr *w, uint8_t *buf, size_t len);
/** The low `bytes` (1..8) bytes of v, little-endian. */
void hekv_wr_uint(hekv_wr *w, uint64_t v, int bytes);
static inline void hekv_wr_u8(hekv_wr *w, uint64_t v) { hekv_wr_uint(w, v, 1); }
static inline void hekv_wr_u16(hekv_wr *w, uint64_t v) { hekv_wr_uint(w, v, 2); }
static inline void hekv_wr_u32(hekv_wr *w, uint64_t v) { hekv_wr_uint(w, v, 4); }
static inline void hekv_wr_u64(hekv_wr *w, uint64_t v) { hekv_wr_uint(w, v, 8); }
/** The IEEE-754 bits of d as a u64. */
void hekv_wr_f64(hekv_wr *w, double d);
void hekv_wr_bytes(hekv_wr *w, const void *p, size_t n);
/** Bytes of one bit-packed limb of n values of `bits` bits (n * bits a multiple of 64). */
static inline size_t hekv_codec_limb_bytes(size_t n, int bits) { return n * (size_t)bits / 8; }
/** x[0..n) (each < 2^bits, 1 <= bits <= 64) as an LSB-first stream of n*bits bits. */
void hekv_wr_limb(hekv_wr *w, const uint64_t *x, size_t n, int bits);

typedef struct hekv_rd {
    const uint8_t *buf;
    size_t end;     /* readable bytes: [0, end) */
    size_t off;     /* read position */
    int short_read; /* set once a read ran past end */
} hekv_rd;

void hekv_rd_init(hekv_rd *r, const uint8_t *buf, size_t end);
/** 1 when at least n more bytes remain. */
static inline int hekv_rd_has(const hekv_rd *r, size_t n) {
    return r->end >= r->off && r->end - r->off >= n;
}
uint64_t hekv_rd_uint(hekv_rd *r, int bytes);
static inline uint64_t hekv_rd_u8(hekv_rd *r) { return hekv_rd_uint(r, 1); }
static inline uint64_t hekv_rd_u16(hekv_rd *r) { return hekv_rd_uint(r, 2); }
static inline uint64_t hekv_rd_u32(hekv_rd *r) { return hekv_rd_uint(r, 4); }
static inline uint64_t hekv_rd_u64(hekv_rd *r) { return hekv_rd_uint(r, 8); }
/** A little-endian int32 (two's complement). */
int32_t hekv_rd_i32(hekv_rd *r);
double hekv_rd_f64(hekv_rd *r);
/** A little-endian IEEE-754 float32. */
float hekv_rd_f32(hekv_rd *r);
/** Copies n bytes (or zeroes, short). */
void hekv_rd_bytes(hekv_rd *r, void *p, size_t n);
/** The current position, advanced by n bytes (NULL when fewer remain). */
const uint8_t *hekv_rd_skip(hekv_rd *r, size_t n);
/** Reads one bit-packed limb of n values of `bits` bits into x (x NULL: check only) and
 *  returns the index of the first value >= q, or n when every value is below q. A short
 *  buffer sets short_read and returns 0. */
size_t hekv_rd_limb(hekv_rd *r, uint64_t *x, size_t n, int bits, uint64_t q);

#ifdef __cplusplus
}
#endif
#endif
