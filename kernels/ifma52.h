/* ifma52.h: helpers shared by the AVX-512 IFMA52 kernel files (include only from
 * *_ifma.c, which are built with the IFMA flags): the reduction of a sum of 52-bit-digit
 * products. Not a kernel family of its own and no dispatch entry.
 *
 * A sum S of products x*w with x, w < 2^50, accumulated without reduction as two digit
 * sums lo += lo52(x*w), hi += floor(x*w / 2^52) (each high digit < 2^48), satisfies
 * h1 = hi + (lo >> 52) < 2^52 for up to 16 terms, so S = h1 * 2^52 + h0 with h0, h1 < 2^52
 * (valid 52-bit multiplicands). It is reduced once:
 *   S = h0 + h1 * R (mod q), R = 2^52 mod q,
 * both terms by Shoup multiplication with 52-bit quotients (w = 1 and w = R), each in
 * [0, 2q), so their sum is in [0, 4q) < 2^52 and is computed mod 2^52. q < 2^50. */
#ifndef HEKV_KERNELS_IFMA52_H
#define HEKV_KERNELS_IFMA52_H

#include <immintrin.h>

#include "modarith.h"

typedef struct {
    __m512i one_p, r, r_p, negq, q, q2, mask;
} hekv__ifma_digit_consts;

static inline hekv__ifma_digit_consts hekv__ifma_digit_consts_make(uint64_t q) {
    hekv__ifma_digit_consts c;
    const uint64_t r = (1ULL << 52) % q;
    c.one_p = _mm512_set1_epi64((long long)((1ULL << 52) / q)); /* Shoup quotient of 1 */
    c.r = _mm512_set1_epi64((long long)r);
    c.r_p = _mm512_set1_epi64((long long)(((hekv_u128)r << 52) / q));
    c.negq = _mm512_set1_epi64((long long)((1ULL << 52) - q));
    c.q = _mm512_set1_epi64((long long)q);
    c.q2 = _mm512_set1_epi64((long long)(2 * q));
    c.mask = _mm512_set1_epi64((long long)((1ULL << 52) - 1));
    return c;
}

/* lo, hi: digit sums of at most 16 products -> their sum mod q, in [0, q). */
static inline __attribute__((always_inline)) __m512i
hekv__ifma_reduce_digits(__m512i lo, __m512i hi, const hekv__ifma_digit_consts *c) {
    __m512i h1 = _mm512_add_epi64(hi, _mm512_srli_epi64(lo, 52)); /* < 2^52 */
    __m512i h0 = _mm512_and_si512(lo, c->mask);
    __m512i qa = _mm512_madd52hi_epu64(_mm512_setzero_si512(), h0, c->one_p);
    __m512i qb = _mm512_madd52hi_epu64(_mm512_setzero_si512(), h1, c->r_p);
    __m512i s = _mm512_madd52lo_epu64(h0, h1, c->r);
    s = _mm512_madd52lo_epu64(s, qa, c->negq);
    s = _mm512_madd52lo_epu64(s, qb, c->negq);
    s = _mm512_and_si512(s, c->mask);                      /* [0, 4q) */
    s = _mm512_min_epu64(s, _mm512_sub_epi64(s, c->q2));   /* [0, 2q) */
    return _mm512_min_epu64(s, _mm512_sub_epi64(s, c->q)); /* [0, q) */
}

#endif
