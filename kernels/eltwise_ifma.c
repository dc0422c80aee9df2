/* eltwise_ifma.c: AVX-512 IFMA52 element-wise modular kernels (see eltwise.h) for
 * q < 2^50. Eight 64-bit lanes per vector; the tail (n mod 8) uses masked loads and stores,
 * so no access leaves [0, n). Built only with the IFMA flags (R5); no scalar fallback here.
 *
 * vector x vector product (mul, fma): Barrett reduction (HAC Alg. 14.42) with 52-bit digits.
 * Let b = bits(q), so 2^(b-1) <= q < 2^b, x = a*b' (+ c) < q^2 + q.
 *   q1 = floor(a*b' / 2^(b-1)): madd52hi of a << sa and b' << sb, sa + sb = 53 - b,
 *        sa, sb <= 52 - b, so both shifted operands stay below 2^52 and the high half of the
 *        104-bit product is exactly the shifted-down product; q1 < 2^(b+1);
 *   q3 = floor(q1 * mu / 2^52), mu = m->barrett52 ~ 2^(b+51)/q < 2^52;
 *   q3 <= floor(a*b'/q) <= q3 + 2, hence r = x - q3*q in [0, 3q) (mul), [0, 4q) (fma);
 *   r < 2^52, so it is computed mod 2^52: lo52(a*b') + c + lo52(q3 * (2^52 - q)).
 * vector x scalar product (mul_scalar, fma_scalar): Shoup with a 52-bit quotient,
 *   s' = floor(s * 2^52 / q); qhat = floor(a*s' / 2^52); a*s - qhat*q in [0, 2q).
 *   reduce is the case s = 1 for any a < 2^52: qhat >= floor(a/q) - 1, so a - qhat*q is in
 *   [0, 2q) as well; sub_mul_scalar multiplies a + q - b in (0, 2q) without reducing it
 *   first (any multiplicand below 2^52 keeps the [0, 2q) bound).
 * dot2 (sum of k products, two outputs): no reduction per term; each product < 2^100 is
 *   accumulated as two 52-bit digit sums and the chunk of at most DOT_CHUNK terms is
 *   reduced once, as in bconv_ifma.c (ifma52.h: hekv__ifma_reduce_digits). About 2.5x
 *   fewer instructions per term than fma's Barrett body.
 * The HEXL-style double-precision quotient (Dekker product + FP floor) was measured against
 * this Barrett body on the target (Zen 5): equal at n = 2^16 (both bound by the cache), about
 * 15% slower with operands in L1, so it is not kept. */
#include <immintrin.h>

#include "eltwise.h"
#include "ifma52.h"

#define LANES 8
#define MASK52 ((1ULL << 52) - 1)

/* Preconditions, checked only under HEKV_DEBUG (R11). */
#ifdef HEKV_DEBUG
static void debug_check_below(const uint64_t *v, size_t n, uint64_t bound) {
    for (size_t i = 0; i < n; i++) HEKV_KERN_DASSERT(v[i] < bound);
}
#define DEBUG_CHECK_BELOW(v, n, bound) debug_check_below(v, n, bound)
#else
#define DEBUG_CHECK_BELOW(v, n, bound) ((void)0)
#endif
#define DEBUG_CHECK_MODULUS(m) HEKV_KERN_DASSERT((m)->bits <= HEKV_IFMA_MAX_BITS)

static inline __mmask8 tail_mask(size_t rem) { return (__mmask8)((1u << rem) - 1); }

/* x in [0, 2q) -> [0, q): unsigned min(x, x - q) picks x - q unless it wrapped. */
static inline __m512i reduce_2q(__m512i x, __m512i q) {
    return _mm512_min_epu64(x, _mm512_sub_epi64(x, q));
}

/* Constants of the Barrett body: shift counts, mu, 2^52 - q, q, 2q. */
typedef struct {
    __m128i sa, sb;
    __m512i mu, negq, q, q2, mask;
} barrett52;

static inline barrett52 barrett52_make(const hekv_modulus *m) {
    barrett52 k;
    const int s = 53 - m->bits; /* 3 <= s <= 51 for 2 <= bits <= 50 */
    k.sa = _mm_cvtsi32_si128((s + 1) / 2);
    k.sb = _mm_cvtsi32_si128(s / 2);
    k.mu = _mm512_set1_epi64((long long)m->barrett52);
    k.negq = _mm512_set1_epi64((long long)((1ULL << 52) - m->q));
    k.q = _mm512_set1_epi64((long long)m->q);
    k.q2 = _mm512_set1_epi64((long long)(2 * m->q));
    k.mask = _mm512_set1_epi64((long long)MASK52);
    return k;
}

/* (a*b + c) mod q for a, b, c in [0, q): mul is c = 0, fma is c = out. */
static inline __attribute__((always_inline)) __m512i
mulmod_acc(__m512i a, __m512i b, __m512i c, const barrett52 *k) {
    __m512i as = _mm512_sll_epi64(a, k->sa);
    __m512i bs = _mm512_sll_epi64(b, k->sb);
    __m512i q1 = _mm512_madd52hi_epu64(_mm512_setzero_si512(), as, bs); /* < 2^(bits+1) */
    __m512i lo = _mm512_madd52lo_epu64(c, a, b);                         /* < 2^52 + q */
    __m512i q3 = _mm512_madd52hi_epu64(_mm512_setzero_si512(), q1, k->mu);
    __m512i r = _mm512_madd52lo_epu64(lo, q3, k->negq);
    r = _mm512_and_si512(r, k->mask); /* [0, 4q) */
    r = _mm512_min_epu64(r, _mm512_sub_epi64(r, k->q2)); /* [0, 2q) */
    return reduce_2q(r, k->q);
}

/* (a*s + c) mod q, Shoup: a, c in [0, q), s in [0, q), sp = floor(s * 2^52 / q). */
static inline __attribute__((always_inline)) __m512i
mulmod_shoup_acc(__m512i a, __m512i s, __m512i sp, __m512i c, __m512i negq, __m512i mask) {
    __m512i qhat = _mm512_madd52hi_epu64(_mm512_setzero_si512(), a, sp);
    __m512i r = _mm512_madd52lo_epu64(c, a, s);
    r = _mm512_madd52lo_epu64(r, qhat, negq);
    return _mm512_and_si512(r, mask); /* a*s - qhat*q + c in [0, 2q + c) */
}

void hekv_elt_add_ifma(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n,
                       const hekv_modulus *m) {
    DEBUG_CHECK_MODULUS(m);
    DEBUG_CHECK_BELOW(a, n, m->q);
    DEBUG_CHECK_BELOW(b, n, m->q);
    const __m512i q = _mm512_set1_epi64((long long)m->q);
    size_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        __m512i x = _mm512_loadu_si512(a + i), y = _mm512_loadu_si512(b + i);
        _mm512_storeu_si512(out + i, reduce_2q(_mm512_add_epi64(x, y), q));
    }
    if (i < n) {
        const __mmask8 t = tail_mask(n - i);
        __m512i x = _mm512_maskz_loadu_epi64(t, a + i), y = _mm512_maskz_loadu_epi64(t, b + i);
        _mm512_mask_storeu_epi64(out + i, t, reduce_2q(_mm512_add_epi64(x, y), q));
    }
}

/* a - b: when a < b the difference wraps above 2^63 and min picks d + q. */
static inline __m512i submod(__m512i x, __m512i y, __m512i q) {
    __m512i d = _mm512_sub_epi64(x, y);
    return _mm512_min_epu64(d, _mm512_add_epi64(d, q));
}

void hekv_elt_sub_ifma(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n,
                       const hekv_modulus *m) {
    DEBUG_CHECK_MODULUS(m);
    DEBUG_CHECK_BELOW(a, n, m->q);
    DEBUG_CHECK_BELOW(b, n, m->q);
    const __m512i q = _mm512_set1_epi64((long long)m->q);
    size_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        __m512i x = _mm512_loadu_si512(a + i), y = _mm512_loadu_si512(b + i);
        _mm512_storeu_si512(out + i, submod(x, y, q));
    }
    if (i < n) {
        const __mmask8 t = tail_mask(n - i);
        __m512i x = _mm512_maskz_loadu_epi64(t, a + i), y = _mm512_maskz_loadu_epi64(t, b + i);
        _mm512_mask_storeu_epi64(out + i, t, submod(x, y, q));
    }
}

/* -x: q - x where x != 0, else 0. */
static inline __m512i negmod(__m512i x, __m512i q) {
    return _mm512_maskz_sub_epi64(_mm512_test_epi64_mask(x, x), q, x);
}

void hekv_elt_neg_ifma(uint64_t *out, const uint64_t *a, size_t n, const hekv_modulus *m) {
    DEBUG_CHECK_MODULUS(m);
    DEBUG_CHECK_BELOW(a, n, m->q);
    const __m512i q = _mm512_set1_epi64((long long)m->q);
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        _mm512_storeu_si512(out + i, negmod(_mm512_loadu_si512(a + i), q));
    if (i < n) {
        const __mmask8 t = tail_mask(n - i);
        _mm512_mask_storeu_epi64(out + i, t, negmod(_mm512_maskz_loadu_epi64(t, a + i), q));
    }
}

void hekv_elt_mul_ifma(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n,
                       const hekv_modulus *m) {
    DEBUG_CHECK_MODULUS(m);
    DEBUG_CHECK_BELOW(a, n, m->q);
    DEBUG_CHECK_BELOW(b, n, m->q);
    const barrett52 k = barrett52_make(m);
    const __m512i zero = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        __m512i x = _mm512_loadu_si512(a + i), y = _mm512_loadu_si512(b + i);
        _mm512_storeu_si512(out + i, mulmod_acc(x, y, zero, &k));
    }
    if (i < n) {
        const __mmask8 t = tail_mask(n - i);
        __m512i x = _mm512_maskz_loadu_epi64(t, a + i), y = _mm512_maskz_loadu_epi64(t, b + i);
        _mm512_mask_storeu_epi64(out + i, t, mulmod_acc(x, y, zero, &k));
    }
}

void hekv_elt_fma_ifma(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n,
                       const hekv_modulus *m) {
    DEBUG_CHECK_MODULUS(m);
    DEBUG_CHECK_BELOW(a, n, m->q);
    DEBUG_CHECK_BELOW(b, n, m->q);
    DEBUG_CHECK_BELOW(out, n, m->q);
    const barrett52 k = barrett52_make(m);
    size_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        __m512i x = _mm512_loadu_si512(a + i), y = _mm512_loadu_si512(b + i);
        __m512i c = _mm512_loadu_si512(out + i);
        _mm512_storeu_si512(out + i, mulmod_acc(x, y, c, &k));
    }
    if (i < n) {
        const __mmask8 t = tail_mask(n - i);
        __m512i x = _mm512_maskz_loadu_epi64(t, a + i), y = _mm512_maskz_loadu_epi64(t, b + i);
        __m512i c = _mm512_maskz_loadu_epi64(t, out + i);
        _mm512_mask_storeu_epi64(out + i, t, mulmod_acc(x, y, c, &k));
    }
}

/* floor(s * 2^52 / q) < 2^52 for s in [0, q). */
static inline uint64_t shoup52(uint64_t s, uint64_t q) {
    return (uint64_t)(((hekv_u128)s << 52) / q);
}

/* out = a*s mod q by Shoup, for any a < 2^52 (mul_scalar: a < q; reduce: s = 1). */
static inline void scale_shoup(uint64_t *out, const uint64_t *a, uint64_t s, size_t n,
                               const hekv_modulus *m) {
    const __m512i q = _mm512_set1_epi64((long long)m->q);
    const __m512i negq = _mm512_set1_epi64((long long)((1ULL << 52) - m->q));
    const __m512i mask = _mm512_set1_epi64((long long)MASK52);
    const __m512i vs = _mm512_set1_epi64((long long)s);
    const __m512i vsp = _mm512_set1_epi64((long long)shoup52(s, m->q));
    const __m512i zero = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        __m512i r = mulmod_shoup_acc(_mm512_loadu_si512(a + i), vs, vsp, zero, negq, mask);
        _mm512_storeu_si512(out + i, reduce_2q(r, q));
    }
    if (i < n) {
        const __mmask8 t = tail_mask(n - i);
        __m512i r =
            mulmod_shoup_acc(_mm512_maskz_loadu_epi64(t, a + i), vs, vsp, zero, negq, mask);
        _mm512_mask_storeu_epi64(out + i, t, reduce_2q(r, q));
    }
}

void hekv_elt_mul_scalar_ifma(uint64_t *out, const uint64_t *a, uint64_t s, size_t n,
                              const hekv_modulus *m) {
    DEBUG_CHECK_MODULUS(m);
    DEBUG_CHECK_BELOW(a, n, m->q);
    HEKV_KERN_DASSERT(s < m->q);
    scale_shoup(out, a, s, n, m);
}

void hekv_elt_fma_scalar_ifma(uint64_t *out, const uint64_t *a, uint64_t s, size_t n,
                              const hekv_modulus *m) {
    DEBUG_CHECK_MODULUS(m);
    DEBUG_CHECK_BELOW(a, n, m->q);
    DEBUG_CHECK_BELOW(out, n, m->q);
    HEKV_KERN_DASSERT(s < m->q);
    const __m512i q = _mm512_set1_epi64((long long)m->q);
    const __m512i q2 = _mm512_set1_epi64((long long)(2 * m->q));
    const __m512i negq = _mm512_set1_epi64((long long)((1ULL << 52) - m->q));
    const __m512i mask = _mm512_set1_epi64((long long)MASK52);
    const __m512i vs = _mm512_set1_epi64((long long)s);
    const __m512i vsp = _mm512_set1_epi64((long long)shoup52(s, m->q));
    size_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        __m512i c = _mm512_loadu_si512(out + i);
        __m512i r = mulmod_shoup_acc(_mm512_loadu_si512(a + i), vs, vsp, c, negq, mask);
        r = _mm512_min_epu64(r, _mm512_sub_epi64(r, q2)); /* [0, 3q) -> [0, 2q) */
        _mm512_storeu_si512(out + i, reduce_2q(r, q));
    }
    if (i < n) {
        const __mmask8 t = tail_mask(n - i);
        __m512i c = _mm512_maskz_loadu_epi64(t, out + i);
        __m512i r =
            mulmod_shoup_acc(_mm512_maskz_loadu_epi64(t, a + i), vs, vsp, c, negq, mask);
        r = _mm512_min_epu64(r, _mm512_sub_epi64(r, q2));
        _mm512_mask_storeu_epi64(out + i, t, reduce_2q(r, q));
    }
}

void hekv_elt_sub_mul_scalar_ifma(uint64_t *out, const uint64_t *a, const uint64_t *b,
                                  uint64_t s, size_t n, const hekv_modulus *m) {
    DEBUG_CHECK_MODULUS(m);
    DEBUG_CHECK_BELOW(a, n, m->q);
    DEBUG_CHECK_BELOW(b, n, m->q);
    HEKV_KERN_DASSERT(s < m->q);
    const __m512i q = _mm512_set1_epi64((long long)m->q);
    const __m512i negq = _mm512_set1_epi64((long long)((1ULL << 52) - m->q));
    const __m512i mask = _mm512_set1_epi64((long long)MASK52);
    const __m512i vs = _mm512_set1_epi64((long long)s);
    const __m512i vsp = _mm512_set1_epi64((long long)shoup52(s, m->q));
    const __m512i zero = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        __m512i d = _mm512_sub_epi64(_mm512_add_epi64(_mm512_loadu_si512(a + i), q),
                                     _mm512_loadu_si512(b + i)); /* (0, 2q) */
        _mm512_storeu_si512(out + i, reduce_2q(mulmod_shoup_acc(d, vs, vsp, zero, negq, mask), q));
    }
    if (i < n) {
        const __mmask8 t = tail_mask(n - i);
        __m512i d = _mm512_sub_epi64(_mm512_add_epi64(_mm512_maskz_loadu_epi64(t, a + i), q),
                                     _mm512_maskz_loadu_epi64(t, b + i));
        _mm512_mask_storeu_epi64(out + i, t,
                                 reduce_2q(mulmod_shoup_acc(d, vs, vsp, zero, negq, mask), q));
    }
}

void hekv_elt_reduce_ifma(uint64_t *out, const uint64_t *a, size_t n, const hekv_modulus *m) {
    DEBUG_CHECK_MODULUS(m);
    DEBUG_CHECK_BELOW(a, n, 1ULL << 52);
    scale_shoup(out, a, 1, n, m);
}

/* Terms per digit-sum chunk: with inputs < 2^50 each high digit is < 2^48, so 16 of them
 * plus the carries of the low sums stay below 2^52 (hekv__ifma_reduce_digits). */
#define DOT_CHUNK 16
/* Vectors per step: 4 digit sums each, 16 accumulators in registers. */
#define DOT_NV 4


/* out0/out1[0 .. 8*nv) from offset off of every input; the last vector under mask t. */
static inline __attribute__((always_inline)) void
dot2_vecs(uint64_t *out0, uint64_t *out1, const uint64_t *const *x, const uint64_t *const *b,
          const uint64_t *const *a, size_t k, size_t off, const int nv, __mmask8 t,
          const hekv__ifma_digit_consts *c) {
    __m512i acc0[DOT_NV], acc1[DOT_NV];
#pragma GCC unroll 4
    for (int v = 0; v < DOT_NV; v++) acc0[v] = acc1[v] = _mm512_setzero_si512();
    for (size_t j0 = 0; j0 < k; j0 += DOT_CHUNK) {
        const size_t j1 = k - j0 < DOT_CHUNK ? k : j0 + DOT_CHUNK;
        __m512i lo0[DOT_NV], hi0[DOT_NV], lo1[DOT_NV], hi1[DOT_NV];
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            lo0[v] = hi0[v] = lo1[v] = hi1[v] = _mm512_setzero_si512();
        for (size_t j = j0; j < j1; j++) {
            const uint64_t *xj = x[j] + off, *bj = b[j] + off, *aj = a[j] + off;
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++) {
                const int last = v == nv - 1;
                __m512i X = last ? _mm512_maskz_loadu_epi64(t, xj + v * LANES)
                                 : _mm512_loadu_si512(xj + v * LANES);
                __m512i B = last ? _mm512_maskz_loadu_epi64(t, bj + v * LANES)
                                 : _mm512_loadu_si512(bj + v * LANES);
                __m512i A = last ? _mm512_maskz_loadu_epi64(t, aj + v * LANES)
                                 : _mm512_loadu_si512(aj + v * LANES);
                lo0[v] = _mm512_madd52lo_epu64(lo0[v], X, B);
                hi0[v] = _mm512_madd52hi_epu64(hi0[v], X, B);
                lo1[v] = _mm512_madd52lo_epu64(lo1[v], X, A);
                hi1[v] = _mm512_madd52hi_epu64(hi1[v], X, A);
            }
        }
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) {
            __m512i s0 = hekv__ifma_reduce_digits(lo0[v], hi0[v], c);
            __m512i s1 = hekv__ifma_reduce_digits(lo1[v], hi1[v], c);
            if (j0) {
                s0 = reduce_2q(_mm512_add_epi64(acc0[v], s0), c->q);
                s1 = reduce_2q(_mm512_add_epi64(acc1[v], s1), c->q);
            }
            acc0[v] = s0, acc1[v] = s1;
        }
    }
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) {
        if (v == nv - 1) {
            _mm512_mask_storeu_epi64(out0 + v * LANES, t, acc0[v]);
            _mm512_mask_storeu_epi64(out1 + v * LANES, t, acc1[v]);
        } else {
            _mm512_storeu_si512(out0 + v * LANES, acc0[v]);
            _mm512_storeu_si512(out1 + v * LANES, acc1[v]);
        }
    }
}

void hekv_elt_dot2_ifma(uint64_t *out0, uint64_t *out1, const uint64_t *const *x,
                        const uint64_t *const *b, const uint64_t *const *a, size_t k, size_t n,
                        const hekv_modulus *m) {
    DEBUG_CHECK_MODULUS(m);
#ifdef HEKV_DEBUG
    for (size_t j = 0; j < k; j++) {
        DEBUG_CHECK_BELOW(x[j], n, m->q);
        DEBUG_CHECK_BELOW(b[j], n, m->q);
        DEBUG_CHECK_BELOW(a[j], n, m->q);
    }
#endif
    const hekv__ifma_digit_consts c = hekv__ifma_digit_consts_make(m->q);
    const __mmask8 full = (__mmask8)0xFF;
    size_t i = 0;
    for (; i + DOT_NV * LANES <= n; i += DOT_NV * LANES)
        dot2_vecs(out0 + i, out1 + i, x, b, a, k, i, DOT_NV, full, &c);
    for (; i + LANES <= n; i += LANES) dot2_vecs(out0 + i, out1 + i, x, b, a, k, i, 1, full, &c);
    if (i < n) dot2_vecs(out0 + i, out1 + i, x, b, a, k, i, 1, tail_mask(n - i), &c);
}
