/* test_eltwise.c: element-wise kernels (R8, R9). Each IFMA kernel is called directly and
 * through the dispatcher and must equal the scalar reference bit for bit, on lengths that
 * sit on the 8-lane boundaries, moduli whose bit sizes straddle the thresholds, edge values
 * (0 and q-1 in the first and last slots) and out aliasing an input. The reference itself is
 * checked against an unsigned __int128 oracle for every bit size up to 61. Without the
 * AVX-512 kernels (CPU or HEKV_NO_AVX512 build) the IFMA tests are skipped, not passed. */
#include <string.h>

#include "kernels/kern.h"
#include "kernels/primes.h"
#include "test/util.h"

typedef enum {
    K_ADD, K_SUB, K_NEG, K_MUL, K_MUL_SCALAR, K_FMA, K_FMA_SCALAR, K_REDUCE, K_SUB_MUL_SCALAR
} kind;

/* Calls kernel k of a variant table; for accumulating kernels out holds the addend. */
static void call(kind k, const hekv_kern_ops *ops, uint64_t *out, const uint64_t *a,
                 const uint64_t *b, uint64_t s, size_t n, const hekv_modulus *m) {
    switch (k) {
    case K_ADD: ops->add(out, a, b, n, m); break;
    case K_SUB: ops->sub(out, a, b, n, m); break;
    case K_NEG: ops->neg(out, a, n, m); break;
    case K_MUL: ops->mul(out, a, b, n, m); break;
    case K_MUL_SCALAR: ops->mul_scalar(out, a, s, n, m); break;
    case K_FMA: ops->fma(out, a, b, n, m); break;
    case K_FMA_SCALAR: ops->fma_scalar(out, a, s, n, m); break;
    case K_REDUCE: ops->reduce(out, a, n, m); break;
    case K_SUB_MUL_SCALAR: ops->sub_mul_scalar(out, a, b, s, n, m); break;
    }
}

/* The _ref functions called directly (not through hekv_kern_scalar). */
static const hekv_kern_ops direct_ref = {
    .name = "direct ref",
    .add = hekv_elt_add_ref,
    .sub = hekv_elt_sub_ref,
    .neg = hekv_elt_neg_ref,
    .mul = hekv_elt_mul_ref,
    .mul_scalar = hekv_elt_mul_scalar_ref,
    .fma = hekv_elt_fma_ref,
    .fma_scalar = hekv_elt_fma_scalar_ref,
    .sub_mul_scalar = hekv_elt_sub_mul_scalar_ref,
    .reduce = hekv_elt_reduce_ref,
    .dot2 = hekv_elt_dot2_ref,
};

/* Moduli of a given bit size: the largest prime, the smallest odd value, a power of two
 * (exercises the clamp of barrett52) and 2^bits - 1. */
static int moduli_of_bits(int bits, uint64_t *q) {
    const uint64_t top = bits == 64 ? 0 : 1ULL << bits, low = 1ULL << (bits - 1);
    uint64_t p = top - 1;
    while (!hekv_is_prime(p)) p--;
    int c = 0;
    q[c++] = p;
    q[c++] = low;
    if (low + 1 < top) q[c++] = low + 1;
    if (top - 1 != p && top - 1 != low + 1) q[c++] = top - 1;
    return c;
}

#define MAXN ((size_t)1 << 16)
#define GUARD 8
#define CANARY 0xC0FFEE0DDBA11ULL

static const int ref_bits[] = {2, 3, 17, 30, 31, 40, 48, 49, 50, 51, 52, 59, 60, 61};

/* Random values in [0, q), with 0, 1 and q-1 sprinkled in, and q-1 / 0 forced at the
 * first and last slots. */
static void fill_edges(test_rng *g, uint64_t *v, size_t n, uint64_t q, int first_max) {
    for (size_t i = 0; i < n; i++) {
        uint64_t r = test_u64(g);
        switch (r & 15) {
        case 0: v[i] = 0; break;
        case 1: v[i] = q - 1; break;
        case 2: v[i] = 1 % q; break;
        default: v[i] = (r >> 4) % q;
        }
    }
    v[0] = first_max ? q - 1 : 0;
    if (n > 1) v[n - 1] = first_max ? 0 : q - 1;
}

/* reduce's inputs: anything below 2^52, with 0, q - 1, q, 2q - 1 and 2^52 - 1 sprinkled
 * in and 2^52 - 1 / 0 forced at the first and last slots. */
static void fill_wide(test_rng *g, uint64_t *v, size_t n, uint64_t q) {
    const uint64_t top = (1ULL << 52) - 1;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = test_u64(g);
        switch (r & 15) {
        case 0: v[i] = 0; break;
        case 1: v[i] = q - 1; break;
        case 2: v[i] = q; break;
        case 3: v[i] = 2 * q - 1 < top ? 2 * q - 1 : top; break;
        case 4: v[i] = top; break;
        default: v[i] = (r >> 12) & top;
        }
    }
    v[0] = top;
    if (n > 1) v[n - 1] = 0;
}

#ifndef HEKV_NO_AVX512
static const int ifma_bits[] = {2, 17, 30, 31, 40, 48, 49, 50};

/* fma and fma_scalar read out: they accumulate. */
static int accumulates(kind k) { return k == K_FMA || k == K_FMA_SCALAR; }

/* Lengths on the vector boundaries: 1..17, 8k-1, 8k, 8k+1, and N = 2^16. */
static size_t lengths(size_t *len) {
    size_t c = 0;
    for (size_t n = 1; n <= 17; n++) len[c++] = n;
    static const size_t ks[] = {3, 4, 7, 16, 33, 128};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        len[c++] = 8 * ks[i] - 1;
        len[c++] = 8 * ks[i];
        len[c++] = 8 * ks[i] + 1;
    }
    len[c++] = (size_t)1 << 16;
    return c;
}

static void set_canary(uint64_t *v, size_t n) {
    for (size_t i = 0; i < GUARD; i++) v[n + i] = CANARY;
}

static void check_canary(const uint64_t *v, size_t n, const char *what, uint64_t q) {
    for (size_t i = 0; i < GUARD; i++)
        cr_assert_eq(v[n + i], CANARY, "%s wrote past n=%zu (q=%llu)", what, n,
                     (unsigned long long)q);
}

static void expect_same(const uint64_t *want, const uint64_t *got, size_t n, const char *what,
                        kind k, uint64_t q) {
    long d = test_first_diff(want, got, n);
    cr_assert(d < 0, "kernel %d %s: q=%llu n=%zu slot %ld: ref %llu, got %llu", (int)k, what,
              (unsigned long long)q, n, d, (unsigned long long)want[d < 0 ? 0 : d],
              (unsigned long long)got[d < 0 ? 0 : d]);
}

static const hekv_kern_ops direct_ifma = {
    .name = "direct ifma",
    .add = hekv_elt_add_ifma,
    .sub = hekv_elt_sub_ifma,
    .neg = hekv_elt_neg_ifma,
    .mul = hekv_elt_mul_ifma,
    .mul_scalar = hekv_elt_mul_scalar_ifma,
    .fma = hekv_elt_fma_ifma,
    .fma_scalar = hekv_elt_fma_scalar_ifma,
    .sub_mul_scalar = hekv_elt_sub_mul_scalar_ifma,
    .reduce = hekv_elt_reduce_ifma,
    .dot2 = hekv_elt_dot2_ifma,
};

/* One variant run: out starts as a copy of c (the addend for fma kernels). */
static void run_into(kind k, const hekv_kern_ops *ops, uint64_t *out, const uint64_t *a,
                     const uint64_t *b, const uint64_t *c, uint64_t s, size_t n,
                     const hekv_modulus *m) {
    memcpy(out, c, n * 8);
    set_canary(out, n);
    call(k, ops, out, a, b, s, n, m);
    check_canary(out, n, ops->name, m->q);
}

static void check_ifma_vs_ref(kind k, uint64_t salt) {
    if (!hekv_cpu_has_avx512_kernels()) cr_skip_test("no AVX-512 IFMA on this CPU");
    test_rng g = test_rng_new(salt);
    size_t len[64], nlen = lengths(len);
    uint64_t *a = malloc((MAXN + GUARD) * 8), *b = malloc((MAXN + GUARD) * 8);
    uint64_t *c = malloc((MAXN + GUARD) * 8), *want = malloc((MAXN + GUARD) * 8);
    uint64_t *got = malloc((MAXN + GUARD) * 8), *want2 = malloc((MAXN + GUARD) * 8);
    cr_assert(a && b && c && want && got && want2);
    for (size_t bi = 0; bi < sizeof ifma_bits / sizeof ifma_bits[0]; bi++) {
        uint64_t qs[4];
        int nq = moduli_of_bits(ifma_bits[bi], qs);
        for (int qi = 0; qi < nq; qi++) {
            hekv_modulus m;
            cr_assert_eq(hekv_modulus_init(&m, qs[qi]), HEKV_KERN_OK);
            const uint64_t q = m.q;
            const hekv_kern_ops *disp = hekv_kern_select(HEKV_KERN_AVX512, q, MAXN);
            cr_assert_str_eq(disp->name, "avx512", "q=%llu < 2^50 must dispatch to IFMA",
                             (unsigned long long)q);
            for (size_t li = 0; li < nlen; li++) {
                const size_t n = len[li];
                /* The full-size length only for the largest prime of each size. */
                if (n == MAXN && qi != 0) continue;
                fill_edges(&g, a, n, q, 1);
                if (k == K_REDUCE) fill_wide(&g, a, n, q);
                fill_edges(&g, b, n, q, (int)(li & 1));
                fill_edges(&g, c, n, q, 1);
                const uint64_t scalars[] = {test_below(&g, q), q - 1, 0, 1 % q};
                const int ns =
                    (k == K_MUL_SCALAR || k == K_FMA_SCALAR || k == K_SUB_MUL_SCALAR) ? 4 : 1;
                for (int si = 0; si < ns; si++) {
                    const uint64_t s = scalars[si];
                    run_into(k, &direct_ref, want, a, b, c, s, n, &m);
                    run_into(k, &direct_ifma, got, a, b, c, s, n, &m);
                    expect_same(want, got, n, "direct", k, q);
                    run_into(k, disp, got, a, b, c, s, n, &m);
                    expect_same(want, got, n, "dispatched", k, q);
                    /* The dispatcher asked with this length (scalar below 16). */
                    run_into(k, hekv_kern_select(HEKV_KERN_AVX512, q, n), got, a, b, c, s, n,
                             &m);
                    expect_same(want, got, n, "dispatched(n)", k, q);

                    /* out == a (for fma the addend is then a as well). */
                    run_into(k, &direct_ref, want2, a, b, accumulates(k) ? a : c, s, n, &m);
                    memcpy(got, a, n * 8);
                    set_canary(got, n);
                    call(k, &direct_ifma, got, got, b, s, n, &m);
                    check_canary(got, n, "alias out=a", q);
                    expect_same(want2, got, n, "alias out=a", k, q);
                    /* out == b for the two-operand kernels. */
                    if (k == K_ADD || k == K_SUB || k == K_MUL || k == K_FMA ||
                        k == K_SUB_MUL_SCALAR) {
                        run_into(k, &direct_ref, want2, a, b, accumulates(k) ? b : c, s, n,
                                 &m);
                        memcpy(got, b, n * 8);
                        call(k, &direct_ifma, got, a, got, s, n, &m);
                        expect_same(want2, got, n, "alias out=b", k, q);
                    }
                }
            }
        }
    }
    free(a), free(b), free(c), free(want), free(got), free(want2);
}
#endif

#ifdef HEKV_NO_AVX512
#define IFMA_TEST(name, k, salt) \
    Test(kernels, name) { cr_skip_test("built with HEKV_NO_AVX512: no IFMA kernels"); }
#else
#define IFMA_TEST(name, k, salt) \
    Test(kernels, name) { check_ifma_vs_ref(k, salt); }
#endif

IFMA_TEST(elt_add_ifma_vs_ref, K_ADD, 101)
IFMA_TEST(elt_sub_ifma_vs_ref, K_SUB, 102)
IFMA_TEST(elt_neg_ifma_vs_ref, K_NEG, 103)
IFMA_TEST(elt_mul_ifma_vs_ref, K_MUL, 104)
IFMA_TEST(elt_mul_scalar_ifma_vs_ref, K_MUL_SCALAR, 105)
IFMA_TEST(elt_fma_ifma_vs_ref, K_FMA, 106)
IFMA_TEST(elt_fma_scalar_ifma_vs_ref, K_FMA_SCALAR, 107)
IFMA_TEST(elt_reduce_ifma_vs_ref, K_REDUCE, 109)
IFMA_TEST(elt_sub_mul_scalar_ifma_vs_ref, K_SUB_MUL_SCALAR, 112)

/* The oracle: the same operations in unsigned __int128, written independently. */
static uint64_t oracle(kind k, uint64_t a, uint64_t b, uint64_t c, uint64_t s, uint64_t q) {
    typedef unsigned __int128 u128;
    switch (k) {
    case K_ADD: return (uint64_t)(((u128)a + b) % q);
    case K_SUB: return (uint64_t)(((u128)a + q - b) % q);
    case K_NEG: return (uint64_t)(((u128)q - a) % q);
    case K_MUL: return (uint64_t)(((u128)a * b) % q);
    case K_MUL_SCALAR: return (uint64_t)(((u128)a * s) % q);
    case K_FMA: return (uint64_t)(((u128)a * b + c) % q);
    case K_FMA_SCALAR: return (uint64_t)(((u128)a * s + c) % q);
    case K_REDUCE: return (uint64_t)((u128)a % q);
    case K_SUB_MUL_SCALAR: return (uint64_t)((((u128)a + q - b) % q) * s % q);
    }
    return 0;
}

Test(kernels, elt_ref_vs_oracle) {
    test_rng g = test_rng_new(108);
    enum { N = 257 };
    uint64_t a[N], b[N], c[N], out[N];
    for (size_t bi = 0; bi < sizeof ref_bits / sizeof ref_bits[0]; bi++) {
        uint64_t qs[4];
        int nq = moduli_of_bits(ref_bits[bi], qs);
        for (int qi = 0; qi < nq; qi++) {
            hekv_modulus m;
            cr_assert_eq(hekv_modulus_init(&m, qs[qi]), HEKV_KERN_OK);
            const uint64_t q = m.q;
            for (kind k = K_ADD; k <= K_SUB_MUL_SCALAR; k++) {
                for (int rep = 0; rep < 4; rep++) {
                    fill_edges(&g, a, N, q, rep & 1);
                    if (k == K_REDUCE) fill_wide(&g, a, N, q);
                    fill_edges(&g, b, N, q, 1);
                    fill_edges(&g, c, N, q, 1);
                    const uint64_t s = rep == 0 ? q - 1 : test_below(&g, q);
                    memcpy(out, c, sizeof out);
                    call(k, &direct_ref, out, a, b, s, N, &m);
                    for (size_t i = 0; i < N; i++) {
                        uint64_t w = oracle(k, a[i], b[i], c[i], s, q);
                        cr_assert_eq(out[i], w,
                                     "ref kernel %d q=%llu i=%zu a=%llu b=%llu: %llu != %llu",
                                     (int)k, (unsigned long long)q, i,
                                     (unsigned long long)a[i], (unsigned long long)b[i],
                                     (unsigned long long)out[i], (unsigned long long)w);
                    }
                }
            }
        }
    }
}

/* The per-modulus choice: IFMA exactly for q < 2^50, n >= 16 and a capable CPU. */
Test(kernels, elt_dispatch_choice) {
    const uint64_t below = (1ULL << 50) - 27, at = 1ULL << 50;
    cr_assert_str_eq(hekv_kern_select(HEKV_KERN_SCALAR, below, 1 << 12)->name, "scalar");
    cr_assert_str_eq(hekv_kern_select(HEKV_KERN_AVX512, at, 1 << 12)->name, "scalar");
    cr_assert_str_eq(hekv_kern_select(HEKV_KERN_AVX512, below, 8)->name, "scalar");
    const char *want = hekv_cpu_has_avx512_kernels() ? "avx512" : "scalar";
    cr_assert_str_eq(hekv_kern_select(HEKV_KERN_AVX512, below, 16)->name, want);
    cr_assert_str_eq(hekv_kern_select(HEKV_KERN_AVX512, 3, 1 << 16)->name, want);
}

/* ---- dot2: the key-switching inner products over k input triples ---------------------- */

#define DOT_MAXK 40
static const size_t dot_ks[] = {1, 2, 3, 4, 5, 15, 16, 17, 33, DOT_MAXK};

/* k triples of n values each in [0, q) (edges forced in the first and last slots). */
static void fill_triples(test_rng *g, uint64_t *x, uint64_t *b, uint64_t *a, size_t k, size_t n,
                         uint64_t q) {
    for (size_t j = 0; j < k; j++) {
        fill_edges(g, x + j * n, n, q, 1);
        fill_edges(g, b + j * n, n, q, (int)(j & 1));
        fill_edges(g, a + j * n, n, q, 1);
    }
}

static void dot2_call(const hekv_kern_ops *ops, uint64_t *o0, uint64_t *o1, const uint64_t *x,
                      const uint64_t *b, const uint64_t *a, size_t k, size_t n,
                      const hekv_modulus *m) {
    const uint64_t *xp[DOT_MAXK], *bp[DOT_MAXK], *ap[DOT_MAXK];
    for (size_t j = 0; j < k; j++) xp[j] = x + j * n, bp[j] = b + j * n, ap[j] = a + j * n;
    ops->dot2(o0, o1, xp, bp, ap, k, n, m);
}

/* The reference against sums of unsigned __int128 products reduced at the end. */
Test(kernels, elt_dot2_ref_vs_oracle) {
    test_rng g = test_rng_new(110);
    enum { N = 67 };
    static uint64_t x[DOT_MAXK * N], b[DOT_MAXK * N], a[DOT_MAXK * N];
    uint64_t o0[N], o1[N];
    for (size_t bi = 0; bi < sizeof ref_bits / sizeof ref_bits[0]; bi++) {
        uint64_t qs[4];
        int nq = moduli_of_bits(ref_bits[bi], qs);
        for (int qi = 0; qi < nq; qi++) {
            hekv_modulus m;
            cr_assert_eq(hekv_modulus_init(&m, qs[qi]), HEKV_KERN_OK);
            const uint64_t q = m.q;
            for (size_t ki = 0; ki < sizeof dot_ks / sizeof dot_ks[0]; ki++) {
                const size_t k = dot_ks[ki];
                fill_triples(&g, x, b, a, k, N, q);
                dot2_call(&direct_ref, o0, o1, x, b, a, k, N, &m);
                for (size_t i = 0; i < N; i++) {
                    unsigned __int128 s0 = 0, s1 = 0;
                    for (size_t j = 0; j < k; j++) {
                        s0 += ((unsigned __int128)x[j * N + i] * b[j * N + i]) % q;
                        s1 += ((unsigned __int128)x[j * N + i] * a[j * N + i]) % q;
                    }
                    cr_assert_eq(o0[i], (uint64_t)(s0 % q), "dot2 ref out0 q=%llu k=%zu i=%zu",
                                 (unsigned long long)q, k, i);
                    cr_assert_eq(o1[i], (uint64_t)(s1 % q), "dot2 ref out1 q=%llu k=%zu i=%zu",
                                 (unsigned long long)q, k, i);
                }
            }
        }
    }
}

#ifdef HEKV_NO_AVX512
Test(kernels, elt_dot2_ifma_vs_ref) { cr_skip_test("built with HEKV_NO_AVX512: no IFMA kernels"); }
#else
Test(kernels, elt_dot2_ifma_vs_ref) {
    if (!hekv_cpu_has_avx512_kernels()) cr_skip_test("no AVX-512 IFMA on this CPU");
    test_rng g = test_rng_new(111);
    const size_t maxn = (size_t)1 << 12;
    size_t len[64], nlen = lengths(len);
    len[nlen - 1] = maxn; /* N = 2^16 would make k = 40 triples large; 2^12 covers the body */
    uint64_t *x = malloc(DOT_MAXK * maxn * 8), *b = malloc(DOT_MAXK * maxn * 8);
    uint64_t *a = malloc(DOT_MAXK * maxn * 8);
    uint64_t *w0 = malloc((maxn + GUARD) * 8), *w1 = malloc((maxn + GUARD) * 8);
    uint64_t *g0 = malloc((maxn + GUARD) * 8), *g1 = malloc((maxn + GUARD) * 8);
    cr_assert(x && b && a && w0 && w1 && g0 && g1);
    for (size_t bi = 0; bi < sizeof ifma_bits / sizeof ifma_bits[0]; bi++) {
        uint64_t qs[4];
        int nq = moduli_of_bits(ifma_bits[bi], qs);
        for (int qi = 0; qi < nq; qi++) {
            hekv_modulus m;
            cr_assert_eq(hekv_modulus_init(&m, qs[qi]), HEKV_KERN_OK);
            const uint64_t q = m.q;
            const hekv_kern_ops *disp = hekv_kern_select(HEKV_KERN_AVX512, q, 1 << 16);
            for (size_t ki = 0; ki < sizeof dot_ks / sizeof dot_ks[0]; ki++) {
                const size_t k = dot_ks[ki];
                for (size_t li = 0; li < nlen; li++) {
                    const size_t n = len[li];
                    if (n == maxn && qi != 0) continue;
                    fill_triples(&g, x, b, a, k, n, q);
                    dot2_call(&direct_ref, w0, w1, x, b, a, k, n, &m);
                    const hekv_kern_ops *vs[2] = {&direct_ifma, disp};
                    for (int v = 0; v < 2; v++) {
                        set_canary(g0, n), set_canary(g1, n);
                        dot2_call(vs[v], g0, g1, x, b, a, k, n, &m);
                        check_canary(g0, n, vs[v]->name, q), check_canary(g1, n, vs[v]->name, q);
                        long d0 = test_first_diff(w0, g0, n), d1 = test_first_diff(w1, g1, n);
                        cr_assert(d0 < 0 && d1 < 0, "dot2 %s: q=%llu k=%zu n=%zu slot %ld/%ld",
                                  vs[v]->name, (unsigned long long)q, k, n, d0, d1);
                    }
                }
            }
        }
    }
    free(x), free(b), free(a), free(w0), free(w1), free(g0), free(g1);
}
#endif
