/* bconv_ifma.c: AVX-512 IFMA52 basis-conversion dot product (see bconv.h) for q < 2^50 and
 * inputs < 2^50. It does not reduce per term, and it has no scalar fallback.
 *
 * Each product in*coef < 2^100 is accumulated exactly as two 52-bit-digit sums,
 *   lo += lo52(in*coef), hi += floor(in*coef / 2^52) <= 2^48 - 1,
 * with no reduction per term. A chunk of at most CHUNK = 16 terms keeps
 * hi + (lo >> 52) <= 16 * (2^48 - 1) + 15 < 2^52 and is reduced once (ifma52.h:
 * S = h0 + h1 * R mod q, R = 2^52 mod q). Chunks (k > 16) are added mod q.
 *
 * Blocking: the k input rows sit n words apart (n usually a power of two, so they share
 * cache sets). A block is BLOCK = 8 consecutive vectors (64 outputs, 16 accumulators in
 * registers); each step reads that block from ROWS = 4 rows. On the target (Zen 5,
 * n = 2^16) this measured 1.5-1.8x faster than one vector from two rows per step for
 * k = 8, 16, and 1.6x faster than the 8-vector block from one row per step for k = 4. The
 * last partial block runs vector by vector; the final vector uses masked loads and stores.
 *
 * Streaming (stream = 1, out 64-byte aligned): whole vectors are stored non-temporally.
 * The ring layer asks for it on conversions whose outputs outgrow the cache (ModUp and
 * ModDown at N >= 2^13). Measured on Zen 4, one thread: 2-4% off mult+relin and rotations
 * at bench-N16-L33 (two builds side by side in one process, 25 alternating calls; 5-10%
 * when every conversion streamed against none), 5-10% at toy-N14; at toy-N12, where the
 * outputs fit in L2, streaming cost 7%. */
#include <immintrin.h>

#include "bconv.h"
#include "ifma52.h"

#define LANES 8
#define BLOCK 8
#define ROWS 4
#define CHUNK 16 /* a multiple of ROWS */

/* Preconditions, checked only under HEKV_DEBUG (R11). */
#ifdef HEKV_DEBUG
static void debug_check_below(const uint64_t *v, size_t n, uint64_t bound) {
    for (size_t i = 0; i < n; i++) HEKV_KERN_DASSERT(v[i] < bound);
}
#define DEBUG_CHECK_BELOW(v, n, bound) debug_check_below(v, n, bound)
#else
#define DEBUG_CHECK_BELOW(v, n, bound) ((void)0)
#endif

typedef hekv__ifma_digit_consts bconv_consts;
#define reduce_digits hekv__ifma_reduce_digits

/* lo, hi += digits of row[0 .. 8*nv) * w; the last vector loads under mask t. */
static inline __attribute__((always_inline)) void
accumulate_row(__m512i *lo, __m512i *hi, const uint64_t *row, uint64_t w, const int nv,
               __mmask8 t) {
    const __m512i vw = _mm512_set1_epi64((long long)w);
#pragma GCC unroll 8
    for (int v = 0; v < nv; v++) {
        __m512i x = v == nv - 1 ? _mm512_maskz_loadu_epi64(t, row + v * LANES)
                                : _mm512_loadu_si512(row + v * LANES);
        lo[v] = _mm512_madd52lo_epu64(lo[v], x, vw);
        hi[v] = _mm512_madd52hi_epu64(hi[v], x, vw);
    }
}

/* out[0 .. 8*nv) for nv <= BLOCK vectors; the last vector loads and stores under mask t. */
static inline __attribute__((always_inline)) void
dot_block(uint64_t *out, const uint64_t *in, const uint64_t *coef, size_t k, size_t n,
          const int nv, __mmask8 t, const int stream, const bconv_consts *c) {
    __m512i acc[BLOCK];
    for (size_t i0 = 0; i0 < k; i0 += CHUNK) {
        const size_t i1 = k - i0 < CHUNK ? k : i0 + CHUNK;
        __m512i lo[BLOCK], hi[BLOCK];
#pragma GCC unroll 8
        for (int v = 0; v < nv; v++) lo[v] = hi[v] = _mm512_setzero_si512();
        size_t i = i0;
        for (; i + ROWS <= i1; i += ROWS) {
#pragma GCC unroll 4
            for (int s = 0; s < ROWS; s++)
                accumulate_row(lo, hi, in + (i + s) * n, coef[i + s], nv, t);
        }
        for (; i < i1; i++) accumulate_row(lo, hi, in + i * n, coef[i], nv, t);
#pragma GCC unroll 8
        for (int v = 0; v < nv; v++) {
            __m512i s = reduce_digits(lo[v], hi[v], c);
            if (i0) {
                s = _mm512_add_epi64(acc[v], s);
                s = _mm512_min_epu64(s, _mm512_sub_epi64(s, c->q));
            }
            acc[v] = s;
        }
    }
#pragma GCC unroll 8
    for (int v = 0; v < nv; v++) {
        if (v == nv - 1 && t != (__mmask8)0xFF)
            _mm512_mask_storeu_epi64(out + v * LANES, t, acc[v]);
        else if (stream)
            _mm512_stream_si512((void *)(out + v * LANES), acc[v]);
        else
            _mm512_storeu_si512(out + v * LANES, acc[v]);
    }
}

void hekv_bconv_ifma(uint64_t *out, const uint64_t *in, const uint64_t *coef, size_t k,
                     size_t n, const hekv_modulus *m, int stream) {
    HEKV_KERN_DASSERT(m->bits <= HEKV_IFMA_MAX_BITS && k <= HEKV_BCONV_MAX_K);
    DEBUG_CHECK_BELOW(coef, k, m->q);
    DEBUG_CHECK_BELOW(in, k * n, 1ULL << HEKV_IFMA_MAX_BITS);
    if (k == 0) {
        for (size_t x = 0; x < n; x++) out[x] = 0;
        return;
    }
    const bconv_consts c = hekv__ifma_digit_consts_make(m->q);
    size_t x = 0;
    if (stream && ((uintptr_t)out & 63) == 0) {
        for (; x + BLOCK * LANES <= n; x += BLOCK * LANES)
            dot_block(out + x, in + x, coef, k, n, BLOCK, (__mmask8)0xFF, 1, &c);
        for (; x + LANES <= n; x += LANES)
            dot_block(out + x, in + x, coef, k, n, 1, (__mmask8)0xFF, 1, &c);
        _mm_sfence(); /* the streamed stores are weakly ordered: order them before what follows */
    }
    for (; x + BLOCK * LANES <= n; x += BLOCK * LANES)
        dot_block(out + x, in + x, coef, k, n, BLOCK, (__mmask8)0xFF, 0, &c);
    for (; x + LANES <= n; x += LANES)
        dot_block(out + x, in + x, coef, k, n, 1, (__mmask8)0xFF, 0, &c);
    if (x < n)
        dot_block(out + x, in + x, coef, k, n, 1, (__mmask8)((1u << (n - x)) - 1), 0, &c);
}

void hekv_bconv_scale_ifma(uint64_t *y, uint64_t *w, const uint64_t *x, uint64_t s, size_t n,
                           const hekv_modulus *m) {
    HEKV_KERN_DASSERT(m->bits <= HEKV_IFMA_MAX_BITS && s < m->q);
    DEBUG_CHECK_BELOW(x, n, m->q);
    const uint64_t q = m->q;
    const __m512i vq = _mm512_set1_epi64((long long)q);
    const __m512i half = _mm512_set1_epi64((long long)(q / 2));
    const __m512i negq = _mm512_set1_epi64((long long)((1ULL << 52) - q));
    const __m512i mask = _mm512_set1_epi64((long long)((1ULL << 52) - 1));
    const __m512i vs = _mm512_set1_epi64((long long)s);
    const __m512i vsp = _mm512_set1_epi64((long long)(((hekv_u128)s << 52) / q));
    const __m512i one = _mm512_set1_epi64(1);
    for (size_t i = 0; i < n; i += LANES) {
        const __mmask8 t = n - i >= LANES ? (__mmask8)0xFF : (__mmask8)((1u << (n - i)) - 1);
        __m512i v = _mm512_maskz_loadu_epi64(t, x + i);
        /* Shoup with a 52-bit quotient: v*s - qhat*q in [0, 2q) */
        __m512i qh = _mm512_madd52hi_epu64(_mm512_setzero_si512(), v, vsp);
        __m512i r = _mm512_madd52lo_epu64(_mm512_setzero_si512(), v, vs);
        r = _mm512_and_si512(_mm512_madd52lo_epu64(r, qh, negq), mask);
        r = _mm512_min_epu64(r, _mm512_sub_epi64(r, vq));
        _mm512_mask_storeu_epi64(y + i, t, r);
        if (w) {
            __mmask8 big = _mm512_mask_cmpgt_epu64_mask(t, r, half);
            __m512i c = _mm512_maskz_loadu_epi64(t, w + i);
            _mm512_mask_storeu_epi64(w + i, t, _mm512_mask_add_epi64(c, big, c, one));
        }
    }
}
