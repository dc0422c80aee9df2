/* test_automorph.c: Galois automorphism maps and the signed gather that applies them (R8,
 * R9). The maps of automorph.c are checked against direct definitions: in coefficient form
 * against a(X^k) mod (X^N + 1) computed term by term, in NTT form against a direct O(N^2)
 * evaluation a(psi^(2*bitrev(i)+1)) (no NTT kernel involved). The IFMA apply is compared
 * bit for bit with the reference, directly and through the dispatcher. */
#include <string.h>

#include "kernels/kern.h"
#include "kernels/primes.h"
#include "test/util.h"

/* b = a(X^k) mod (X^N + 1, q), term by term: X^(i*k) = (-1)^floor(i*k / N) X^(i*k mod N). */
static void direct_automorph(uint64_t *b, const uint64_t *a, size_t n, uint64_t k,
                             uint64_t q) {
    memset(b, 0, n * 8);
    for (size_t i = 0; i < n; i++) {
        uint64_t e = (uint64_t)((unsigned __int128)i * k % (2 * n));
        uint64_t v = e < n ? a[i] : (q - a[i]) % q;
        size_t j = e % n;
        b[j] = (b[j] + v) % q; /* each j is hit exactly once for odd k */
    }
}

static uint64_t powmod(uint64_t b, uint64_t e, uint64_t q) {
    unsigned __int128 r = 1 % q, x = b % q;
    for (; e; e >>= 1) {
        if (e & 1) r = r * x % q;
        x = x * x % q;
    }
    return (uint64_t)r;
}

static uint32_t bitrev(uint32_t x, int bits) {
    uint32_t r = 0;
    for (int i = 0; i < bits; i++) r |= ((x >> i) & 1u) << (bits - 1 - i);
    return r;
}

/* A[i] = a(psi^(2*bitrev(i)+1)) mod q, by Horner, O(N^2). */
static void direct_ntt(uint64_t *A, const uint64_t *a, int logn, uint64_t psi, uint64_t q) {
    const size_t n = (size_t)1 << logn;
    for (size_t i = 0; i < n; i++) {
        uint64_t x = powmod(psi, 2 * (uint64_t)bitrev((uint32_t)i, logn) + 1, q);
        unsigned __int128 acc = 0;
        for (size_t j = n; j-- > 0;) acc = (acc * x + a[j]) % q;
        A[i] = (uint64_t)acc;
    }
}

/* Odd exponents to try for size n: 1, 3, 5^j (the rotation group), 2N-1 (conjugation),
 * and one above 2N (maps reduce k mod 2N). */
static size_t exponents(uint64_t *k, size_t n) {
    size_t c = 0;
    k[c++] = 1;
    k[c++] = 3;
    uint64_t p = 5;
    for (int j = 1; j <= 4; j++, p = p * 5 % (2 * n)) k[c++] = p;
    k[c++] = 2 * n - 1;
    k[c++] = 2 * n + 5;
    k[c++] = 5 * (2 * n - 1) % (2 * n); /* conjugation after a rotation */
    return c;
}

Test(kernels, automorph_map_coeff_direct) {
    test_rng g = test_rng_new(301);
    const uint64_t q = (1ULL << 50) - 27;
    for (int logn = 1; logn <= 12; logn++) {
        const size_t n = (size_t)1 << logn;
        uint64_t *a = malloc(n * 8), *b = malloc(n * 8), *want = malloc(n * 8), ks[16];
        uint32_t *src = malloc(n * 4);
        cr_assert(a && b && want && src);
        size_t nk = exponents(ks, n);
        for (size_t ki = 0; ki < nk; ki++) {
            test_fill(&g, a, n, q);
            a[0] = q - 1;
            if (n > 1) a[n - 1] = 0;
            cr_assert_eq(hekv_automorph_map_coeff(src, logn, ks[ki]), HEKV_KERN_OK);
            hekv_automorph_apply_ref(b, a, src, n, q);
            direct_automorph(want, a, n, ks[ki], q);
            long d = test_first_diff(want, b, n);
            cr_assert(d < 0, "coeff map logn=%d k=%llu: slot %ld", logn,
                      (unsigned long long)ks[ki], d);
        }
        free(a), free(b), free(want), free(src);
    }
}

Test(kernels, automorph_map_ntt_direct) {
    test_rng g = test_rng_new(302);
    for (int logn = 1; logn <= 6; logn++) {
        const size_t n = (size_t)1 << logn;
        uint64_t q, psi, ks[16];
        cr_assert_eq(hekv_primes_generate(&q, 1, 30, logn, NULL, 0), HEKV_KERN_OK);
        cr_assert_eq(hekv_primitive_root_2n(q, logn, &psi), HEKV_KERN_OK);
        uint64_t a[64], b[64], A[64], B[64], got[64];
        uint32_t src[64];
        size_t nk = exponents(ks, n);
        for (size_t ki = 0; ki < nk; ki++) {
            test_fill(&g, a, n, q);
            a[0] = q - 1;
            direct_automorph(b, a, n, ks[ki], q); /* b = a(X^k) */
            direct_ntt(A, a, logn, psi, q);
            direct_ntt(B, b, logn, psi, q);
            cr_assert_eq(hekv_automorph_map_ntt(src, logn, ks[ki]), HEKV_KERN_OK);
            for (size_t i = 0; i < n; i++)
                cr_assert_eq(src[i] & HEKV_AUTOMORPH_NEG, 0u, "NTT maps never negate");
            hekv_automorph_apply_ref(got, A, src, n, q);
            long d = test_first_diff(B, got, n);
            cr_assert(d < 0, "NTT map logn=%d k=%llu: slot %ld", logn,
                      (unsigned long long)ks[ki], d);
        }
    }
}

Test(kernels, automorph_bad_args) {
    uint32_t src[64];
    for (uint64_t k = 0; k < 8; k += 2) {
        cr_assert_eq(hekv_automorph_map_coeff(src, 5, k), HEKV_KERN_EINVAL, "even k=%llu",
                     (unsigned long long)k);
        cr_assert_eq(hekv_automorph_map_ntt(src, 5, k), HEKV_KERN_EINVAL);
    }
    cr_assert_eq(hekv_automorph_map_coeff(src, 5, 64), HEKV_KERN_EINVAL); /* 2N, even */
    cr_assert_eq(hekv_automorph_map_ntt(src, 5, 66), HEKV_KERN_EINVAL);
    cr_assert_eq(hekv_automorph_map_coeff(NULL, 5, 5), HEKV_KERN_EINVAL);
    cr_assert_eq(hekv_automorph_map_ntt(NULL, 5, 5), HEKV_KERN_EINVAL);
    cr_assert_eq(hekv_automorph_map_coeff(src, 0, 5), HEKV_KERN_EINVAL);
    cr_assert_eq(hekv_automorph_map_ntt(src, 31, 5), HEKV_KERN_EINVAL);
}

Test(kernels, automorph_ifma_vs_ref) {
#ifdef HEKV_NO_AVX512
    cr_skip_test("built with HEKV_NO_AVX512: no IFMA kernels");
#else
    if (!hekv_cpu_has_avx512_kernels()) cr_skip_test("no AVX-512 IFMA on this CPU");
    enum { GUARD = 8 };
    const uint64_t CANARY = 0xA070C0FFEEULL;
    test_rng g = test_rng_new(303);
    static const int bits[] = {2, 17, 30, 31, 40, 48, 49, 50};
    const size_t maxn = (size_t)1 << 16;
    uint64_t *in = malloc(maxn * 8), *want = malloc(maxn * 8), *got = malloc((maxn + GUARD) * 8);
    uint32_t *src = malloc(maxn * 4);
    cr_assert(in && want && got && src);
    for (size_t bi = 0; bi < sizeof bits / sizeof bits[0]; bi++) {
        const uint64_t q = (1ULL << bits[bi]) - 1;
        const hekv_kern_ops *disp = hekv_kern_select(HEKV_KERN_AVX512, q, maxn);
        cr_assert_str_eq(disp->name, "avx512");
        /* (a) random signed maps on boundary lengths; (b) real maps for logn 4..16. */
        size_t cases[64], nc = 0;
        for (size_t n = 1; n <= 17; n++) cases[nc++] = n;
        static const size_t ks[] = {3, 4, 16, 33};
        for (size_t i = 0; i < 4; i++) {
            cases[nc++] = 8 * ks[i] - 1;
            cases[nc++] = 8 * ks[i];
            cases[nc++] = 8 * ks[i] + 1;
        }
        const size_t nrandom = nc;
        for (int logn = 4; logn <= 16; logn += 3) cases[nc++] = (size_t)1 << logn;
        for (size_t ci = 0; ci < nc; ci++) {
            const size_t n = cases[ci];
            for (int form = 0; form < (ci < nrandom ? 1 : 2); form++) {
                test_fill(&g, in, n, q);
                /* zeros and q-1 in both signs, at the ends and scattered */
                in[0] = 0;
                in[n - 1] = q - 1;
                for (size_t i = 0; i < n; i += 5) in[i] = (i & 1) ? q - 1 : 0;
                if (ci < nrandom) {
                    for (size_t j = 0; j < n; j++)
                        src[j] = (uint32_t)test_below(&g, n) |
                                 (test_u64(&g) & 1 ? HEKV_AUTOMORPH_NEG : 0);
                } else {
                    int logn = __builtin_ctzll(n);
                    uint64_t k = (2 * test_below(&g, n) + 1);
                    cr_assert_eq(form ? hekv_automorph_map_ntt(src, logn, k)
                                      : hekv_automorph_map_coeff(src, logn, k),
                                 HEKV_KERN_OK);
                }
                hekv_automorph_apply_ref(want, in, src, n, q);
                for (int via = 0; via < 2; via++) {
                    for (size_t i = 0; i < GUARD; i++) got[n + i] = CANARY;
                    if (via == 0)
                        hekv_automorph_apply_ifma(got, in, src, n, q);
                    else
                        disp->automorph(got, in, src, n, q);
                    long d = test_first_diff(want, got, n);
                    cr_assert(d < 0, "%s q=%llu n=%zu slot %ld: ref %llu, ifma %llu",
                              via ? "dispatched" : "direct", (unsigned long long)q, n, d,
                              (unsigned long long)want[d < 0 ? 0 : d],
                              (unsigned long long)got[d < 0 ? 0 : d]);
                    for (size_t i = 0; i < GUARD; i++)
                        cr_assert_eq(got[n + i], CANARY, "wrote past n=%zu", n);
                }
            }
        }
    }
    free(in), free(want), free(got), free(src);
#endif
}
