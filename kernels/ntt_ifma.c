/* ntt_ifma.c: negacyclic NTT on one RNS limb with AVX-512 IFMA52 (R4). Harvey's lazy
 * butterflies (arXiv 1205.2926) with 52-bit Shoup quotients w' = floor(w * 2^52 / q), in
 * the manner of Intel HEXL (arXiv 2103.16400, hexl/ntt/fwd-ntt-avx512.cpp), with
 * register-fused radix-8 passes, a depth-first split so that the passes below the top ones
 * run on an L1-resident block, and the last four stages (h = 8, 4, 2, 1) done per 16-word
 * chunk in registers. Those per-lane twiddles use Montgomery multiplication (Math. Comp.
 * 44, 1985) with R = 2^52, which needs no stored quotient and so halves their table.
 * Below 2^46 the forward transform also drops the per-butterfly conditional subtraction
 * and reduces once at the end (NTT_IFMA_LAZY_BITS).
 * Same conventions and twiddle order as ntt_ref.c (see ntt.h); the table layout is
 * private to this file.
 * Preconditions (the dispatcher enforces them, nothing is checked here): q < 2^50, so lazy
 * values < 4q fit a 52-bit lane, and 16 <= N <= 2^17. There is no scalar fallback: every
 * N >= 16 is a whole number of 16-word chunks, and the chunk pass covers N = 16 alone. */
#include <immintrin.h>
#include <stdlib.h>

#include "ntt.h"

/* Blocks of at most 2^NTT_IFMA_L1_LOG words (32 KiB) are finished before moving on
 * (depth-first above that size, as in HEXL's recursive NTT). */
#ifndef NTT_IFMA_L1_LOG
#define NTT_IFMA_L1_LOG 12
#endif
/* Chunks interleaved in the chunk passes (more overlap of their dependency chains). */
#ifndef NTT_IFMA_NC
#define NTT_IFMA_NC 8
#endif
/* Forward transforms over primes below 2^NTT_IFMA_LAZY_BITS let values grow by 2q a stage
 * (no conditional subtraction per butterfly): from [0, 4q) in, the 17 stages of the
 * largest N (2^17) end below 38q, and every multiplicand stays below 2^52 while
 * 38q < 2^52, i.e. q < 2^46.7. The CKKS scale primes (~40 bits) take this path, the 50-bit
 * ones the reducing one. */
#define NTT_IFMA_LAZY_BITS 46
/* Words per 16-word chunk in fl/il: the 2 + 4 distinct twiddles of the stages h = 4, 2
 * (and 2 zero pads), then the 8 of h = 1. */
#define LANE_W 16

typedef struct {
    uint64_t q;
    int logn;
    size_t n;
    uint64_t qinv;  /* q^-1 mod 2^52 (Montgomery) */
    uint64_t *fb;   /* [n/8][2] (w[k], w'[k]), w[k] = psi^bitrev(k) as in ntt_ref.c, w' its
                     * 52-bit Shoup quotient: the broadcast twiddles of stages h >= 8 */
    uint64_t *fl;   /* [n/16][LANE_W] per 16-word chunk c, in Montgomery form w 2^52 mod q:
                     * w[n/8 + 2c + 0..1] (h = 4), w[n/4 + 4c + 0..3] (h = 2), 0, 0, then
                     * lane l: w[n/2 + 8c + lane_grp1[l]] (h = 1) */
    uint64_t *ib;   /* [n/8][2] inverse analogue of fb (psi^-bitrev(k)) */
    uint64_t *il;   /* [n/16][LANE_W] inverse analogue of fl */
    uint64_t ninv, ninvp;       /* 1/n and its quotient */
    uint64_t onep;              /* floor(2^52 / q): the Shoup quotient of 1 */
    int lazy;                   /* q < 2^NTT_IFMA_LAZY_BITS: the forward transform skips the
                                 * per-butterfly reduction (see fbf_t) */
    uint64_t ninv_w1, ninv_w1p; /* psi^-bitrev(1) / n: the last inverse stage */
} ntt_tab_ifma;

/* Lane -> group offset within a 16-word chunk for the stage h = 1 in fwd_chunks_n; for
 * h = 4 it is (0 0 0 0 1 1 1 1) and for h = 2 (0 0 2 2 1 1 3 3), see lane_w. */
static const int lane_grp1[8] = {0, 1, 4, 5, 2, 3, 6, 7};

static uint64_t shoup52(uint64_t w, uint64_t q) {
    return (uint64_t)(((hekv_u128)w << 52) / q);
}

static uint64_t mont52(uint64_t w, uint64_t q) {
    return (uint64_t)(((hekv_u128)w << 52) % q);
}

void hekv_ntt_tab_free_ifma(void *tab) {
    ntt_tab_ifma *t = tab;
    if (!t) return;
    hekv_kern_free(t->fb);
    hekv_kern_free(t->fl);
    hekv_kern_free(t->ib);
    hekv_kern_free(t->il);
    free(t);
}

void *hekv_ntt_tab_new_ifma(uint64_t q, int logn, uint64_t psi) {
    hekv_modulus m;
    if (logn < HEKV_NTT_MIN_LOGN || logn > HEKV_NTT_MAX_LOGN ||
        q >= (1ULL << HEKV_IFMA_MAX_BITS) || hekv_modulus_init(&m, q) != HEKV_KERN_OK)
        return NULL;
    ntt_tab_ifma *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    const size_t n = (size_t)1 << logn;
    t->q = q, t->logn = logn, t->n = n;
    uint64_t *w = hekv_kern_alloc(n * 8), *iw = hekv_kern_alloc(n * 8);
    t->fb = hekv_kern_alloc(n / 8 * 2 * 8);
    t->ib = hekv_kern_alloc(n / 8 * 2 * 8);
    t->fl = hekv_kern_alloc(n / 16 * LANE_W * 8);
    t->il = hekv_kern_alloc(n / 16 * LANE_W * 8);
    if (!w || !iw || !t->fb || !t->ib || !t->fl || !t->il) {
        hekv_kern_free(w);
        hekv_kern_free(iw);
        hekv_ntt_tab_free_ifma(t);
        return NULL;
    }
    uint64_t psi_inv = hekv_mod_inv_prime(psi, &m), p = 1, pi = 1;
    for (size_t i = 0; i < n; i++) {
        uint32_t r = hekv_bitrev((uint32_t)i, logn);
        w[r] = p;
        iw[r] = pi;
        p = hekv_mod_mul(p, psi, &m);
        pi = hekv_mod_mul(pi, psi_inv, &m);
    }
    for (size_t k = 0; k < n / 8; k++) {
        t->fb[2 * k] = w[k], t->fb[2 * k + 1] = shoup52(w[k], q);
        t->ib[2 * k] = iw[k], t->ib[2 * k + 1] = shoup52(iw[k], q);
    }
    for (size_t c = 0; c < n / 16; c++) {
        uint64_t *f = t->fl + LANE_W * c, *g = t->il + LANE_W * c;
        for (int j = 0; j < 2; j++)
            f[j] = mont52(w[n / 8 + 2 * c + j], q), g[j] = mont52(iw[n / 8 + 2 * c + j], q);
        for (int j = 0; j < 4; j++)
            f[2 + j] = mont52(w[n / 4 + 4 * c + j], q), g[2 + j] = mont52(iw[n / 4 + 4 * c + j], q);
        f[6] = f[7] = g[6] = g[7] = 0;
        for (int l = 0; l < 8; l++) {
            const size_t k = n / 2 + 8 * c + lane_grp1[l];
            f[8 + l] = mont52(w[k], q), g[8 + l] = mont52(iw[k], q);
        }
    }
    uint64_t qi = q; /* q odd: q^-1 = q mod 8; each Newton step doubles the exact bits */
    for (int i = 0; i < 6; i++) qi *= 2 - q * qi;
    t->qinv = qi & ((1ULL << 52) - 1);
    t->ninv = hekv_mod_inv_prime(n % q, &m);
    t->ninvp = shoup52(t->ninv, q);
    t->onep = shoup52(1, q);
    t->lazy = q < (1ULL << NTT_IFMA_LAZY_BITS);
    t->ninv_w1 = hekv_mod_mul(t->ninv, iw[1], &m);
    t->ninv_w1p = shoup52(t->ninv_w1, q);
    hekv_kern_free(w);
    hekv_kern_free(iw);
    return t;
}

/* ---- vector helpers ------------------------------------------------------------------ */

#define INL static inline __attribute__((always_inline))

typedef struct {
    __m512i q, q2, negq, mask, zero, qinv, onep;
} vconst;

INL vconst vconst_make(const ntt_tab_ifma *t) {
    vconst c;
    c.q = _mm512_set1_epi64((long long)t->q);
    c.q2 = _mm512_set1_epi64((long long)(2 * t->q));
    c.negq = _mm512_set1_epi64((long long)((1ULL << 52) - t->q));
    c.mask = _mm512_set1_epi64((long long)((1ULL << 52) - 1));
    c.zero = _mm512_setzero_si512();
    c.qinv = _mm512_set1_epi64((long long)t->qinv);
    c.onep = _mm512_set1_epi64((long long)t->onep);
    return c;
}

INL __m512i ld(const uint64_t *p) { return _mm512_loadu_si512((const void *)p); }
INL void st(uint64_t *p, __m512i v) { _mm512_storeu_si512((void *)p, v); }
INL __m512i bc(const uint64_t *p) { return _mm512_set1_epi64((long long)*p); }

/* w * y mod q in [0, 2q) for y < 2^52, w in [0, q), wp = floor(w * 2^52 / q) (Shoup): the
 * quotient estimate is short by at most one, so the low 52 bits hold the exact result. */
INL __m512i mulshoup(__m512i y, __m512i w, __m512i wp, const vconst *c) {
    __m512i qh = _mm512_madd52hi_epu64(c->zero, wp, y);
    __m512i t = _mm512_madd52lo_epu64(c->zero, w, y);
    t = _mm512_madd52lo_epu64(t, qh, c->negq);
    return _mm512_and_si512(t, c->mask);
}

/* y * wm / 2^52 mod q in (0, 2q) for y < 2^52, wm in [0, q) (Montgomery, R = 2^52):
 * with y wm = hi 2^52 + lo and m = lo q^-1 mod 2^52, y wm - m q = (hi - hi(m q)) 2^52 and
 * hi - hi(m q) is in (-q, q). wm = w 2^52 mod q gives w y mod q. */
INL __m512i mulmont(__m512i y, __m512i wm, const vconst *c) {
    __m512i lo = _mm512_madd52lo_epu64(c->zero, wm, y);
    __m512i hi = _mm512_madd52hi_epu64(c->q, wm, y);
    __m512i m = _mm512_madd52lo_epu64(c->zero, lo, c->qinv);
    return _mm512_sub_epi64(hi, _mm512_madd52hi_epu64(c->zero, m, c->q));
}

/* min(v, v - b): subtracts b once when v >= b (v - b wraps above v otherwise). */
INL __m512i csub(__m512i v, __m512i b) { return _mm512_min_epu64(v, _mm512_sub_epi64(v, b)); }

/* Cooley-Tukey butterfly on T = w Y in [0, 2q): X in [0, 4q) -> X + T, X - T + 2q, both
 * in [0, 4q). lazy: X in [0, B) as it is -> both in [0, B + 2q) (NTT_IFMA_LAZY_BITS). */
INL void fbf_t(__m512i *x, __m512i *y, __m512i T, const vconst *c, const int lazy) {
    __m512i X = lazy ? *x : csub(*x, c->q2); /* [0, 2q) unless lazy */
    *x = _mm512_add_epi64(X, T);
    *y = _mm512_sub_epi64(_mm512_add_epi64(X, c->q2), T);
}

INL void fbf(__m512i *x, __m512i *y, __m512i w, __m512i wp, const vconst *c,
             const int lazy) {
    fbf_t(x, y, mulshoup(*y, w, wp, c), c, lazy);
}

/* v < 2^52 -> [0, 2q): Shoup multiplication by 1 (the lazy forward path's last step). */
INL __m512i shoup_reduce(__m512i v, const vconst *c) {
    __m512i qh = _mm512_madd52hi_epu64(c->zero, v, c->onep);
    return _mm512_and_si512(_mm512_madd52lo_epu64(v, qh, c->negq), c->mask);
}

/* Gentleman-Sande butterfly: X, Y in [0, 2q) -> X + Y, w(X - Y) in [0, 2q). */
INL void ibf(__m512i *x, __m512i *y, __m512i w, __m512i wp, const vconst *c) {
    __m512i X = *x, Y = *y;
    *x = csub(_mm512_add_epi64(X, Y), c->q2);
    *y = mulshoup(_mm512_sub_epi64(_mm512_add_epi64(X, c->q2), Y), w, wp, c);
}

/* The lane twiddles of one chunk for stage slot s (0: h = 4, 1: h = 2, 2: h = 1) from its
 * fl/il entry f; for h = 4 and 2 the group offsets (0 0 0 0 1 1 1 1) and
 * (0 0 2 2 1 1 3 3) index the compact entries 0..1 and 2..5. */
INL __m512i lane_w(const uint64_t *f, int s) {
    if (s == 2) return ld(f + 8);
    const __m512i i4 = _mm512_setr_epi64(0, 0, 0, 0, 1, 1, 1, 1);
    const __m512i i2 = _mm512_setr_epi64(2, 2, 4, 4, 3, 3, 5, 5);
    return _mm512_permutexvar_epi64(s == 0 ? i4 : i2, ld(f));
}

/* Butterflies of the lane stages (Montgomery twiddles), slot s of the chunk entry f. */
INL void fbf_lane(__m512i *x, __m512i *y, const uint64_t *f, int s, const vconst *c,
              const int lazy) {
    fbf_t(x, y, mulmont(*y, lane_w(f, s), c), c, lazy);
}

INL void ibf_lane(__m512i *x, __m512i *y, const uint64_t *f, int s, const vconst *c) {
    __m512i X = *x, Y = *y;
    *x = csub(_mm512_add_epi64(X, Y), c->q2);
    *y = mulmont(_mm512_sub_epi64(_mm512_add_epi64(X, c->q2), Y), lane_w(f, s), c);
}

/* Last inverse butterfly with 1/N folded in: (X + Y)/N, w(X - Y)/N in [0, 2q), then in
 * [0, q) when full. */
INL void ibf_last(__m512i *x, __m512i *y, const ntt_tab_ifma *t, int full, const vconst *c) {
    __m512i X = *x, Y = *y;
    __m512i u = mulshoup(_mm512_add_epi64(X, Y), bc(&t->ninv), bc(&t->ninvp), c);
    __m512i v = mulshoup(_mm512_sub_epi64(_mm512_add_epi64(X, c->q2), Y), bc(&t->ninv_w1),
                         bc(&t->ninv_w1p), c);
    if (full) u = csub(u, c->q), v = csub(v, c->q);
    *x = u, *y = v;
}

/* ---- forward ------------------------------------------------------------------------- */

/* Radix-8 passes: three CT stages on every group of g words in [o0, o1), each as 8 vectors
 * spaced s = g/8 apart (s a multiple of 16). Group o/g of the first stage has twiddle
 * k = (n + o)/g, and stage r uses fb[2^r k .. 2^r k + 2^r). Two columns are interleaved so
 * that their dependency chains overlap. Values stay in [0, 4q). */
INL void fwd_r8_impl(uint64_t *a, size_t o0, size_t o1, size_t g, const ntt_tab_ifma *t,
                     const vconst *cp, const int lazy) {
    const vconst cc = *cp, *c = &cc;
    const size_t s = g / 8;
    const int lg = __builtin_ctzll(g); /* g is a power of two */
    for (size_t o = o0; o < o1; o += g) {
        const size_t k = (t->n + o) >> lg;
        const uint64_t *t0 = t->fb + 2 * k, *t1 = t->fb + 4 * k, *t2 = t->fb + 8 * k;
        uint64_t *p = a + o;
        for (size_t j = 0; j < s; j += 16) {
            __m512i v[2][8];
            for (int u = 0; u < 2; u++)
                for (int i = 0; i < 8; i++) v[u][i] = ld(p + j + 8 * u + i * s);
            for (int u = 0; u < 2; u++)
                for (int i = 0; i < 4; i++)
                    fbf(&v[u][i], &v[u][i + 4], bc(t0), bc(t0 + 1), c, lazy);
            for (int u = 0; u < 2; u++)
                for (int i = 0; i < 8; i++)
                    if ((i & 2) == 0) {
                        const uint64_t *w = t1 + 2 * (i >> 2);
                        fbf(&v[u][i], &v[u][i + 2], bc(w), bc(w + 1), c, lazy);
                    }
            for (int u = 0; u < 2; u++)
                for (int i = 0; i < 8; i += 2)
                    fbf(&v[u][i], &v[u][i + 1], bc(t2 + i), bc(t2 + i + 1), c, lazy);
            for (int u = 0; u < 2; u++)
                for (int i = 0; i < 8; i++) st(p + j + 8 * u + i * s, v[u][i]);
        }
    }
}

/* Radix-4 and radix-2 versions of fwd_r8 for the stages left over. */
INL void fwd_r4_impl(uint64_t *a, size_t o0, size_t o1, size_t g, const ntt_tab_ifma *t,
                     const vconst *cp, const int lazy) {
    const vconst cc = *cp, *c = &cc;
    const size_t s = g / 4;
    const int lg = __builtin_ctzll(g); /* g is a power of two */
    for (size_t o = o0; o < o1; o += g) {
        const size_t k = (t->n + o) >> lg;
        const uint64_t *t0 = t->fb + 2 * k, *t1 = t->fb + 4 * k;
        uint64_t *p = a + o;
        for (size_t j = 0; j < s; j += 16) {
            __m512i v[2][4];
            for (int u = 0; u < 2; u++)
                for (int i = 0; i < 4; i++) v[u][i] = ld(p + j + 8 * u + i * s);
            for (int u = 0; u < 2; u++)
                for (int i = 0; i < 2; i++)
                    fbf(&v[u][i], &v[u][i + 2], bc(t0), bc(t0 + 1), c, lazy);
            for (int u = 0; u < 2; u++)
                for (int i = 0; i < 4; i += 2)
                    fbf(&v[u][i], &v[u][i + 1], bc(t1 + i), bc(t1 + i + 1), c, lazy);
            for (int u = 0; u < 2; u++)
                for (int i = 0; i < 4; i++) st(p + j + 8 * u + i * s, v[u][i]);
        }
    }
}

INL void fwd_r2_impl(uint64_t *a, size_t o0, size_t o1, size_t g, const ntt_tab_ifma *t,
                     const vconst *cp, const int lazy) {
    const vconst cc = *cp, *c = &cc;
    const size_t s = g / 2;
    const int lg = __builtin_ctzll(g); /* g is a power of two */
    for (size_t o = o0; o < o1; o += g) {
        const size_t k = (t->n + o) >> lg;
        const __m512i W = bc(t->fb + 2 * k), P = bc(t->fb + 2 * k + 1);
        uint64_t *p = a + o;
        for (size_t j = 0; j < s; j += 16) {
            __m512i v0 = ld(p + j), v1 = ld(p + j + s);
            __m512i v2 = ld(p + j + 8), v3 = ld(p + j + 8 + s);
            fbf(&v0, &v1, W, P, c, lazy), fbf(&v2, &v3, W, P, c, lazy);
            st(p + j, v0), st(p + j + s, v1), st(p + j + 8, v2), st(p + j + 8 + s, v3);
        }
    }
}

/* The passes, each compiled reducing and lazy. */
#define FWD_VARIANTS(r)                                                                   \
    static void fwd_##r(uint64_t *a, size_t o0, size_t o1, size_t g, const ntt_tab_ifma *t, \
                        const vconst *c) {                                                \
        fwd_##r##_impl(a, o0, o1, g, t, c, 0);                                            \
    }                                                                                     \
    static void fwd_##r##_lazy(uint64_t *a, size_t o0, size_t o1, size_t g,               \
                               const ntt_tab_ifma *t, const vconst *c) {                  \
        fwd_##r##_impl(a, o0, o1, g, t, c, 1);                                            \
    }
FWD_VARIANTS(r8)
FWD_VARIANTS(r4)
FWD_VARIANTS(r2)

/* r stages (1, 2 or 3) on the groups of g words in [o0, o1). */
static void fwd_pass(int r, uint64_t *a, size_t o0, size_t o1, size_t g,
                     const ntt_tab_ifma *t, const vconst *c) {
    if (t->lazy) {
        if (r == 3) fwd_r8_lazy(a, o0, o1, g, t, c);
        else if (r == 2) fwd_r4_lazy(a, o0, o1, g, t, c);
        else fwd_r2_lazy(a, o0, o1, g, t, c);
    } else {
        if (r == 3) fwd_r8(a, o0, o1, g, t, c);
        else if (r == 2) fwd_r4(a, o0, o1, g, t, c);
        else fwd_r2(a, o0, o1, g, t, c);
    }
}

/* The last four stages (h = 8, 4, 2, 1) on NC 16-word chunks from x = a + o, in registers.
 * With e0..e15 one chunk: h = 8 pairs (e0-7 | e8-15) with twiddle fb[(n + o)/16];
 * h = 4 runs on X = (e0-3, e8-11), Y = (e4-7, e12-15); h = 2 on
 * X = (e0 e1 e8 e9 e4 e5 e12 e13); h = 1 on X = (e0 e2 e8 e10 e4 e6 e12 e14); the lane
 * twiddles follow those orders (lane_grp1, lane_w). The chunks go step by step so that
 * their dependency chains overlap. Values in [0, 4q); output in [0, q) when full. lazy:
 * values below 38q (NTT_IFMA_LAZY_BITS), brought to [0, 2q) at the end (then [0, q) when
 * full). */
INL void fwd_chunks_n(uint64_t *x, size_t o, const ntt_tab_ifma *t, int NC, int full,
                      const int lazy, const vconst *c) {
    const __m512i ia = _mm512_setr_epi64(0, 8, 1, 9, 4, 12, 5, 13);
    const __m512i ib = _mm512_setr_epi64(2, 10, 3, 11, 6, 14, 7, 15);
    const uint64_t *fl = t->fl + LANE_W * (o / 16), *fb = t->fb + 2 * ((t->n + o) / 16);
    __m512i A[NTT_IFMA_NC], B[NTT_IFMA_NC];
#pragma GCC unroll 16
    for (int u = 0; u < NC; u++) {
        A[u] = ld(x + 16 * u), B[u] = ld(x + 16 * u + 8);
        fbf(&A[u], &B[u], bc(fb + 2 * u), bc(fb + 2 * u + 1), c, lazy);
    }
#pragma GCC unroll 16
    for (int u = 0; u < NC; u++) {
        __m512i X = _mm512_shuffle_i64x2(A[u], B[u], 0x44);
        __m512i Y = _mm512_shuffle_i64x2(A[u], B[u], 0xEE);
        fbf_lane(&X, &Y, fl + LANE_W * u, 0, c, lazy);
        A[u] = X, B[u] = Y;
    }
#pragma GCC unroll 16
    for (int u = 0; u < NC; u++) {
        __m512i X = _mm512_shuffle_i64x2(A[u], B[u], 0x88);
        __m512i Y = _mm512_shuffle_i64x2(A[u], B[u], 0xDD);
        fbf_lane(&X, &Y, fl + LANE_W * u, 1, c, lazy);
        A[u] = X, B[u] = Y;
    }
#pragma GCC unroll 16
    for (int u = 0; u < NC; u++) {
        __m512i X = _mm512_unpacklo_epi64(A[u], B[u]);
        __m512i Y = _mm512_unpackhi_epi64(A[u], B[u]);
        fbf_lane(&X, &Y, fl + LANE_W * u, 2, c, lazy);
        if (lazy) {
            X = shoup_reduce(X, c), Y = shoup_reduce(Y, c); /* [0, 2q) */
            if (full) X = csub(X, c->q), Y = csub(Y, c->q);
        } else if (full) {
            X = csub(csub(X, c->q2), c->q);
            Y = csub(csub(Y, c->q2), c->q);
        }
        st(x + 16 * u, _mm512_permutex2var_epi64(X, ia, Y));
        st(x + 16 * u + 8, _mm512_permutex2var_epi64(X, ib, Y));
    }
}

INL void fwd_chunks_impl(uint64_t *a, size_t o0, size_t o1, const ntt_tab_ifma *t, int full,
                         const int lazy, const vconst *cp) {
    const vconst c = *cp;
    if (o1 - o0 >= 16 * NTT_IFMA_NC) /* block lengths are powers of two */
        for (size_t o = o0; o < o1; o += 16 * NTT_IFMA_NC)
            fwd_chunks_n(a + o, o, t, NTT_IFMA_NC, full, lazy, &c);
    else
        for (size_t o = o0; o < o1; o += 16) fwd_chunks_n(a + o, o, t, 1, full, lazy, &c);
}

static void fwd_chunks(uint64_t *a, size_t o0, size_t o1, const ntt_tab_ifma *t, int full,
                       const vconst *c) {
    if (t->lazy) {
        if (full) fwd_chunks_impl(a, o0, o1, t, 1, 1, c);
        else fwd_chunks_impl(a, o0, o1, t, 0, 1, c);
    } else {
        if (full) fwd_chunks_impl(a, o0, o1, t, 1, 0, c);
        else fwd_chunks_impl(a, o0, o1, t, 0, 0, c);
    }
}

/* Stages per pass above the chunk pass, top-down: radix-8 where possible, 4 = 2 + 2. */
static int pass_stages(int nst) { return nst == 1 ? 1 : (nst == 2 || nst == 4) ? 2 : 3; }

/* The stages log2(m) >= lm on the block a[off, off + n/2^lm) (group off/len of stage lm):
 * depth-first above 2^NTT_IFMA_L1_LOG words, breadth-first below. */
static void fwd_rec(const ntt_tab_ifma *t, uint64_t *a, size_t off, int lm, int full,
                    const vconst *c) {
    const int L = t->logn;
    int nst = L - 4 - lm; /* broadcast-twiddle stages (h >= 16) left */
    const size_t len = t->n >> lm;
    if (L - lm > NTT_IFMA_L1_LOG && nst >= 3) {
        fwd_pass(3, a, off, off + len, len, t, c);
        for (int k = 0; k < 8; k++) fwd_rec(t, a, off + k * (len / 8), lm + 3, full, c);
        return;
    }
    while (nst > 0) {
        const int r = pass_stages(nst);
        fwd_pass(r, a, off, off + len, t->n >> lm, t, c);
        lm += r, nst -= r;
    }
    fwd_chunks(a, off, off + len, t, full, c);
}

void hekv_ntt_fwd_ifma(const void *tab, uint64_t *a, int in_factor, int out_factor) {
    const ntt_tab_ifma *t = tab;
    const vconst c = vconst_make(t);
    (void)in_factor; /* the butterflies accept [0, 4q) whatever the factor */
    fwd_rec(t, a, 0, 0, out_factor == 1, &c);
}

/* ---- inverse ------------------------------------------------------------------------- */

/* Inverse radix-8 passes: three GS stages on every group of g words in [o0, o1), as 8
 * vectors spaced s = g/8 apart; with k = (n + o)/g the twiddles are ib[4k..4k+3], then
 * ib[2k..2k+1], then ib[k]; two columns interleaved. Values stay in [0, 2q).
 * last: the third stage is the final one (g == n) and carries 1/N; full: then reduce to
 * [0, q). */
INL void inv_r8_impl(uint64_t *a, size_t o0, size_t o1, size_t g, const ntt_tab_ifma *t,
                     int last, int full, const vconst *cp) {
    const vconst cc = *cp, *c = &cc;
    const size_t s = g / 8;
    const int lg = __builtin_ctzll(g); /* g is a power of two */
    for (size_t o = o0; o < o1; o += g) {
        const size_t k = (t->n + o) >> lg;
        const uint64_t *t0 = t->ib + 2 * k, *t1 = t->ib + 4 * k, *t2 = t->ib + 8 * k;
        uint64_t *p = a + o;
        for (size_t j = 0; j < s; j += 16) {
            __m512i v[2][8];
            for (int u = 0; u < 2; u++)
                for (int i = 0; i < 8; i++) v[u][i] = ld(p + j + 8 * u + i * s);
            for (int u = 0; u < 2; u++)
                for (int i = 0; i < 8; i += 2)
                    ibf(&v[u][i], &v[u][i + 1], bc(t2 + i), bc(t2 + i + 1), c);
            for (int u = 0; u < 2; u++)
                for (int i = 0; i < 8; i++)
                    if ((i & 2) == 0) {
                        const uint64_t *w = t1 + 2 * (i >> 2);
                        ibf(&v[u][i], &v[u][i + 2], bc(w), bc(w + 1), c);
                    }
            for (int u = 0; u < 2; u++)
                for (int i = 0; i < 4; i++) {
                    if (last)
                        ibf_last(&v[u][i], &v[u][i + 4], t, full, c);
                    else
                        ibf(&v[u][i], &v[u][i + 4], bc(t0), bc(t0 + 1), c);
                }
            for (int u = 0; u < 2; u++)
                for (int i = 0; i < 8; i++) st(p + j + 8 * u + i * s, v[u][i]);
        }
    }
}

INL void inv_r4_impl(uint64_t *a, size_t o0, size_t o1, size_t g, const ntt_tab_ifma *t,
                     int last, int full, const vconst *cp) {
    const vconst cc = *cp, *c = &cc;
    const size_t s = g / 4;
    const int lg = __builtin_ctzll(g); /* g is a power of two */
    for (size_t o = o0; o < o1; o += g) {
        const size_t k = (t->n + o) >> lg;
        const uint64_t *t0 = t->ib + 2 * k, *t1 = t->ib + 4 * k;
        uint64_t *p = a + o;
        for (size_t j = 0; j < s; j += 16) {
            __m512i v[2][4];
            for (int u = 0; u < 2; u++)
                for (int i = 0; i < 4; i++) v[u][i] = ld(p + j + 8 * u + i * s);
            for (int u = 0; u < 2; u++)
                for (int i = 0; i < 4; i += 2)
                    ibf(&v[u][i], &v[u][i + 1], bc(t1 + i), bc(t1 + i + 1), c);
            for (int u = 0; u < 2; u++)
                for (int i = 0; i < 2; i++) {
                    if (last)
                        ibf_last(&v[u][i], &v[u][i + 2], t, full, c);
                    else
                        ibf(&v[u][i], &v[u][i + 2], bc(t0), bc(t0 + 1), c);
                }
            for (int u = 0; u < 2; u++)
                for (int i = 0; i < 4; i++) st(p + j + 8 * u + i * s, v[u][i]);
        }
    }
}

INL void inv_r2_impl(uint64_t *a, size_t o0, size_t o1, size_t g, const ntt_tab_ifma *t,
                     int last, int full, const vconst *cp) {
    const vconst cc = *cp, *c = &cc;
    const size_t s = g / 2;
    const int lg = __builtin_ctzll(g); /* g is a power of two */
    for (size_t o = o0; o < o1; o += g) {
        const size_t k = (t->n + o) >> lg;
        const __m512i W = bc(t->ib + 2 * k), P = bc(t->ib + 2 * k + 1);
        uint64_t *p = a + o;
        for (size_t j = 0; j < s; j += 16) {
            __m512i v0 = ld(p + j), v1 = ld(p + j + s);
            __m512i v2 = ld(p + j + 8), v3 = ld(p + j + 8 + s);
            if (last) {
                ibf_last(&v0, &v1, t, full, c);
                ibf_last(&v2, &v3, t, full, c);
            } else {
                ibf(&v0, &v1, W, P, c), ibf(&v2, &v3, W, P, c);
            }
            st(p + j, v0), st(p + j + s, v1), st(p + j + 8, v2), st(p + j + 8 + s, v3);
        }
    }
}

/* r inverse stages (1, 2 or 3) on the groups of g words in [o0, o1); the last/full
 * variants are instantiated separately so that the inner loops carry no flag tests. */
static void inv_pass(int r, uint64_t *a, size_t o0, size_t o1, size_t g,
                     const ntt_tab_ifma *t, int last, int full, const vconst *c) {
    const int mode = last ? (full ? 2 : 1) : 0;
#define INV_CASE(R, IMPL)                                              \
    case R:                                                            \
        if (mode == 0) IMPL(a, o0, o1, g, t, 0, 0, c);                 \
        else if (mode == 1) IMPL(a, o0, o1, g, t, 1, 0, c);            \
        else IMPL(a, o0, o1, g, t, 1, 1, c);                           \
        break;
    switch (r) {
        INV_CASE(3, inv_r8_impl)
        INV_CASE(2, inv_r4_impl)
        INV_CASE(1, inv_r2_impl)
    }
#undef INV_CASE
}

/* The first four inverse stages (h = 1, 2, 4, 8) on NC 16-word chunks from x = a + o, the
 * mirror of fwd_chunks_n (same lane orders, so il is laid out like fl). Input and output
 * in [0, 2q). last: N == 16, so the h = 8 stage is the final one (1/N folded in, then
 * [0, q) when full). */
INL void inv_chunks_n(uint64_t *x, size_t o, const ntt_tab_ifma *t, int NC, int last,
                      int full, const vconst *c) {
    const __m512i i3x = _mm512_setr_epi64(0, 2, 8, 10, 4, 6, 12, 14);
    const __m512i i3y = _mm512_setr_epi64(1, 3, 9, 11, 5, 7, 13, 15);
    const __m512i i1x = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11);
    const __m512i i1y = _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15);
    const uint64_t *il = t->il + LANE_W * (o / 16), *ib = t->ib + 2 * ((t->n + o) / 16);
    __m512i A[NTT_IFMA_NC], B[NTT_IFMA_NC];
#pragma GCC unroll 16
    for (int u = 0; u < NC; u++) {
        __m512i P = ld(x + 16 * u), Q = ld(x + 16 * u + 8);
        __m512i X = _mm512_permutex2var_epi64(P, i3x, Q);
        __m512i Y = _mm512_permutex2var_epi64(P, i3y, Q);
        ibf_lane(&X, &Y, il + LANE_W * u, 2, c);
        A[u] = X, B[u] = Y;
    }
#pragma GCC unroll 16
    for (int u = 0; u < NC; u++) {
        __m512i X = _mm512_unpacklo_epi64(A[u], B[u]);
        __m512i Y = _mm512_unpackhi_epi64(A[u], B[u]);
        ibf_lane(&X, &Y, il + LANE_W * u, 1, c);
        A[u] = X, B[u] = Y;
    }
#pragma GCC unroll 16
    for (int u = 0; u < NC; u++) {
        __m512i X = _mm512_permutex2var_epi64(A[u], i1x, B[u]);
        __m512i Y = _mm512_permutex2var_epi64(A[u], i1y, B[u]);
        ibf_lane(&X, &Y, il + LANE_W * u, 0, c);
        A[u] = X, B[u] = Y;
    }
#pragma GCC unroll 16
    for (int u = 0; u < NC; u++) {
        __m512i X = _mm512_shuffle_i64x2(A[u], B[u], 0x44);
        __m512i Y = _mm512_shuffle_i64x2(A[u], B[u], 0xEE);
        if (last)
            ibf_last(&X, &Y, t, full, c);
        else
            ibf(&X, &Y, bc(ib + 2 * u), bc(ib + 2 * u + 1), c);
        st(x + 16 * u, X), st(x + 16 * u + 8, Y);
    }
}

INL void inv_chunks_impl(uint64_t *a, size_t o0, size_t o1, const ntt_tab_ifma *t, int last,
                         int full, const vconst *cp) {
    const vconst c = *cp;
    if (o1 - o0 >= 16 * NTT_IFMA_NC) /* block lengths are powers of two */
        for (size_t o = o0; o < o1; o += 16 * NTT_IFMA_NC)
            inv_chunks_n(a + o, o, t, NTT_IFMA_NC, last, full, &c);
    else
        for (size_t o = o0; o < o1; o += 16) inv_chunks_n(a + o, o, t, 1, last, full, &c);
}

static void inv_chunks(uint64_t *a, size_t o0, size_t o1, const ntt_tab_ifma *t, int last,
                       int full, const vconst *c) {
    if (!last)
        inv_chunks_impl(a, o0, o1, t, 0, 0, c);
    else if (!full)
        inv_chunks_impl(a, o0, o1, t, 1, 0, c);
    else
        inv_chunks_impl(a, o0, o1, t, 1, 1, c);
}

/* All stages log2(m) >= lm on the block a[off, off + n/2^lm), bottom-up: the passes of
 * fwd_rec in reverse order. */
static void inv_rec(const ntt_tab_ifma *t, uint64_t *a, size_t off, int lm, int full,
                    const vconst *c) {
    const int L = t->logn;
    const int nst = L - 4 - lm;
    const size_t len = t->n >> lm;
    if (L - lm > NTT_IFMA_L1_LOG && nst >= 3) {
        for (int k = 0; k < 8; k++) inv_rec(t, a, off + k * (len / 8), lm + 3, full, c);
        inv_pass(3, a, off, off + len, len, t, lm == 0, full, c);
        return;
    }
    inv_chunks(a, off, off + len, t, L == 4, full, c);
    int rs[HEKV_NTT_MAX_LOGN], cnt = 0;
    for (int left = nst; left > 0; left -= rs[cnt++]) rs[cnt] = pass_stages(left);
    for (int top = lm + nst; cnt > 0; cnt--) {
        const int s0 = top - rs[cnt - 1];
        inv_pass(rs[cnt - 1], a, off, off + len, t->n >> s0, t, s0 == 0, full, c);
        top = s0;
    }
}

void hekv_ntt_inv_ifma(const void *tab, uint64_t *a, int in_factor, int out_factor) {
    const ntt_tab_ifma *t = tab;
    const vconst c = vconst_make(t);
    (void)in_factor; /* inputs in [0, 2q) are what the butterflies keep anyway */
    inv_rec(t, a, 0, 0, out_factor == 1, &c);
}
