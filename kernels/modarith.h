/* modarith.h: scalar modular arithmetic on 64-bit words for one modulus q < 2^62:
 * add/sub/neg, Barrett reduction of 128-bit products, Shoup multiplication by a fixed
 * operand, powers and inverses. These are the building blocks of every scalar kernel and
 * of table precomputation. No SIMD, no allocation, no knowledge of rings or CKKS. */
#ifndef HEKV_KERNELS_MODARITH_H
#define HEKV_KERNELS_MODARITH_H

#include <stdint.h>

#include "kern_defs.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest modulus bit size any kernel accepts: lazy values in [0, 4q) must fit 64 bits. */
#define HEKV_MODULUS_MAX_BITS 61
/** AVX-512 IFMA kernels need q < 2^50 so lazy [0, 4q) values fit a 52-bit lane. */
#define HEKV_IFMA_MAX_BITS 50

/** A modulus with its precomputed constants. Public value struct (caller allocated);
 *  fill it with hekv_modulus_init. */
typedef struct hekv_modulus {
    uint64_t q;          /**< the modulus, 2 <= q < 2^61 */
    int bits;            /**< bit length of q */
    uint64_t barrett_hi; /**< floor(2^128 / q), high word */
    uint64_t barrett_lo; /**< floor(2^128 / q), low word */
    uint64_t barrett52;  /**< IFMA Barrett constant for bits <= HEKV_IFMA_MAX_BITS:
                              min(floor(2^(bits+51) / q), 2^52 - 1), a 52-bit lane value
                              (the clamp only bites for q a power of two); 0 otherwise */
} hekv_modulus;

/** Fills m for q; returns HEKV_KERN_EINVAL when q < 2 or q >= 2^HEKV_MODULUS_MAX_BITS. */
HEKV_KERN_MUST_CHECK int hekv_modulus_init(hekv_modulus *m, uint64_t q);

typedef unsigned __int128 hekv_u128;

/** a + b mod q for a, b in [0, q). */
static inline uint64_t hekv_mod_add(uint64_t a, uint64_t b, uint64_t q) {
    uint64_t s = a + b;
    return s >= q ? s - q : s;
}

/** a - b mod q for a, b in [0, q). */
static inline uint64_t hekv_mod_sub(uint64_t a, uint64_t b, uint64_t q) {
    return a >= b ? a - b : a + q - b;
}

/** -a mod q for a in [0, q). */
static inline uint64_t hekv_mod_neg(uint64_t a, uint64_t q) { return a ? q - a : 0; }

/** x mod q for any x < 2^128 with x < q * 2^64 (so any product of two values < q).
 *  Barrett with floor(2^128/q): the quotient estimate is short by at most 2. */
static inline uint64_t hekv_mod_reduce128(hekv_u128 x, const hekv_modulus *m) {
    uint64_t xlo = (uint64_t)x, xhi = (uint64_t)(x >> 64);
    hekv_u128 ll = (hekv_u128)xlo * m->barrett_lo;
    hekv_u128 lh = (hekv_u128)xlo * m->barrett_hi;
    hekv_u128 hl = (hekv_u128)xhi * m->barrett_lo;
    hekv_u128 mid = (ll >> 64) + (uint64_t)lh + (uint64_t)hl;
    uint64_t qhat = xhi * m->barrett_hi + (uint64_t)(lh >> 64) + (uint64_t)(hl >> 64) +
                    (uint64_t)(mid >> 64);
    uint64_t r = xlo - qhat * m->q;
    r = r >= m->q ? r - m->q : r;
    return r >= m->q ? r - m->q : r;
}

/** a * b mod q for a, b in [0, q). */
static inline uint64_t hekv_mod_mul(uint64_t a, uint64_t b, const hekv_modulus *m) {
    return hekv_mod_reduce128((hekv_u128)a * b, m);
}

/** Shoup's precomputed quotient floor(w * 2^64 / q) for a fixed operand w in [0, q). */
static inline uint64_t hekv_mod_shoup(uint64_t w, uint64_t q) {
    return (uint64_t)(((hekv_u128)w << 64) / q);
}

/** w * a mod q in [0, 2q) for any a < 2^64, w in [0, q), wp = hekv_mod_shoup(w, q)
 *  (Shoup / Harvey: the quotient estimate is short by at most 1). */
static inline uint64_t hekv_mod_mul_shoup_lazy(uint64_t a, uint64_t w, uint64_t wp, uint64_t q) {
    uint64_t qhat = (uint64_t)(((hekv_u128)a * wp) >> 64);
    return a * w - qhat * q;
}

/** w * a mod q in [0, q); same preconditions as hekv_mod_mul_shoup_lazy. */
static inline uint64_t hekv_mod_mul_shoup(uint64_t a, uint64_t w, uint64_t wp, uint64_t q) {
    uint64_t r = hekv_mod_mul_shoup_lazy(a, w, wp, q);
    return r >= q ? r - q : r;
}

/** base^e mod q. */
static inline uint64_t hekv_mod_pow(uint64_t base, uint64_t e, const hekv_modulus *m) {
    uint64_t r = 1 % m->q, b = base % m->q;
    while (e) {
        if (e & 1) r = hekv_mod_mul(r, b, m);
        b = hekv_mod_mul(b, b, m);
        e >>= 1;
    }
    return r;
}

/** a^-1 mod q for prime q and a not divisible by q (Fermat). */
static inline uint64_t hekv_mod_inv_prime(uint64_t a, const hekv_modulus *m) {
    return hekv_mod_pow(a, m->q - 2, m);
}

#ifdef __cplusplus
}
#endif
#endif
