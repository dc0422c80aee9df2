/* test_bconv.c: the basis-conversion dot product out[x] = sum_i in[i*n+x] * coef[i] mod q
 * (R8, R9). The IFMA kernel, called directly and through the dispatcher, must equal the
 * scalar reference bit for bit for k = 0..8, 16, 17, 33, 64, lengths on the 8-lane and
 * 64-position block boundaries and inputs up to 2^50 - 1 (the all-maximum case checks the
 * accumulator bounds). The reference is checked against GMP for moduli up to 61 bits and
 * inputs up to 2^61 - 1. */
#include <gmp.h>
#include <string.h>

#include "kernels/kern.h"
#include "kernels/primes.h"
#include "test/util.h"

#define GUARD 8
#define CANARY 0xB0A710C0FFEEULL

/* The largest prime below 2^bits and the smallest value with that many bits. */
static void moduli_of_bits(int bits, uint64_t q[2]) {
    uint64_t p = (1ULL << bits) - 1;
    while (!hekv_is_prime(p)) p--;
    q[0] = p;
    q[1] = (1ULL << (bits - 1)) + (bits > 1);
}

/* in[k][n]: random values below in_bound with in_bound - 1 and 0 forced at the ends of
 * every row; coef[k] in [0, q) with q - 1 first. all_max: every value at its maximum. */
static void fill(test_rng *g, uint64_t *in, uint64_t *coef, size_t k, size_t n,
                 uint64_t in_bound, uint64_t q, int all_max) {
    for (size_t i = 0; i < k; i++) {
        for (size_t x = 0; x < n; x++)
            in[i * n + x] = all_max ? in_bound - 1 : test_below(g, in_bound);
        in[i * n] = in_bound - 1;
        if (n > 1 && !all_max) in[i * n + n - 1] = 0;
        coef[i] = all_max || i == 0 ? q - 1 : test_below(g, q);
    }
}

/* sum_i in[i*n+x] * coef[i] mod q, computed with GMP. */
static uint64_t gmp_dot(const uint64_t *in, const uint64_t *coef, size_t k, size_t n, size_t x,
                        uint64_t q) {
    mpz_t acc, t;
    mpz_init_set_ui(acc, 0);
    mpz_init(t);
    for (size_t i = 0; i < k; i++) {
        mpz_set_ui(t, in[i * n + x]);
        mpz_mul_ui(t, t, coef[i]);
        mpz_add(acc, acc, t);
    }
    uint64_t r = mpz_fdiv_ui(acc, q);
    mpz_clears(acc, t, NULL);
    return r;
}

Test(kernels, bconv_ref_vs_gmp) {
    static const int bits[] = {2, 17, 30, 31, 49, 50, 51, 59, 60, 61};
    static const size_t ks[] = {1, 2, 3, 7, 16, 33, 64};
    enum { N = 19 };
    test_rng g = test_rng_new(201);
    uint64_t *in = malloc(64 * N * 8), coef[64], out[N];
    cr_assert(in);
    for (size_t bi = 0; bi < sizeof bits / sizeof bits[0]; bi++) {
        uint64_t qs[2];
        moduli_of_bits(bits[bi], qs);
        for (int qi = 0; qi < 2; qi++) {
            hekv_modulus m;
            cr_assert_eq(hekv_modulus_init(&m, qs[qi]), HEKV_KERN_OK);
            for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
                const size_t k = ks[ki];
                for (int all_max = 0; all_max < 2; all_max++) {
                    /* The reference accepts inputs up to 2^61 - 1, above q. */
                    fill(&g, in, coef, k, N, 1ULL << 61, m.q, all_max);
                    hekv_bconv_ref(out, in, coef, k, N, &m, 0);
                    for (size_t x = 0; x < N; x++) {
                        uint64_t w = gmp_dot(in, coef, k, N, x, m.q);
                        cr_assert_eq(out[x], w, "ref q=%llu k=%zu x=%zu: %llu != %llu (GMP)",
                                     (unsigned long long)m.q, k, x,
                                     (unsigned long long)out[x], (unsigned long long)w);
                    }
                }
            }
        }
    }
    free(in);
}

#ifndef HEKV_NO_AVX512
/* got: 64-byte aligned, n + GUARD + 1 words. Every way of calling the kernel (direct,
 * dispatched; plain stores, streamed to an aligned output, streaming asked for on an
 * unaligned one, which falls back to plain stores) must give the reference's words. */
static void check_ifma(const uint64_t *in, const uint64_t *coef, size_t k, size_t n,
                       const hekv_modulus *m, uint64_t *want, uint64_t *got_base) {
    static const char *const how[] = {"direct", "dispatched", "streamed", "streamed, unaligned"};
    const hekv_kern_ops *disp = hekv_kern_select(HEKV_KERN_AVX512, m->q, 1 << 16);
    cr_assert_str_eq(disp->name, "avx512");
    hekv_bconv_ref(want, in, coef, k, n, m, 0);
    for (int via = 0; via < 4; via++) {
        uint64_t *got = got_base + (via == 3);
        for (size_t i = 0; i < GUARD; i++) got[n + i] = CANARY;
        if (via == 1)
            disp->bconv(got, in, coef, k, n, m, 0);
        else
            hekv_bconv_ifma(got, in, coef, k, n, m, via >= 2);
        long d = test_first_diff(want, got, n);
        cr_assert(d < 0, "%s q=%llu k=%zu n=%zu x=%ld: ref %llu, ifma %llu", how[via],
                  (unsigned long long)m->q, k, n, d, (unsigned long long)want[d < 0 ? 0 : d],
                  (unsigned long long)got[d < 0 ? 0 : d]);
        for (size_t i = 0; i < GUARD; i++)
            cr_assert_eq(got[n + i], CANARY, "bconv_ifma (%s) wrote past n=%zu", how[via], n);
    }
}
#endif

Test(kernels, bconv_ifma_vs_ref) {
#ifdef HEKV_NO_AVX512
    cr_skip_test("built with HEKV_NO_AVX512: no IFMA kernels");
#else
    if (!hekv_cpu_has_avx512_kernels()) cr_skip_test("no AVX-512 IFMA on this CPU");
    static const int bits[] = {2, 17, 30, 31, 40, 48, 49, 50};
    static const size_t ks[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 15, 16, 17, 33, 64};
    static const size_t ns[] = {1, 2, 7, 8, 9, 15, 16, 17, 63, 64, 65, 71, 72, 73, 200, 1000};
    const size_t big = (size_t)1 << 16;
    test_rng g = test_rng_new(202);
    uint64_t *in = malloc(64 * 1000 * 8 + 16 * big * 8), coef[64];
    uint64_t *want = malloc((big + GUARD) * 8);
    uint64_t *got = aligned_alloc(64, ((big + GUARD + 1) * 8 + 63) & ~(size_t)63);
    cr_assert(in && want && got);
    for (size_t bi = 0; bi < sizeof bits / sizeof bits[0]; bi++) {
        uint64_t qs[2];
        moduli_of_bits(bits[bi], qs);
        for (int qi = 0; qi < 2; qi++) {
            hekv_modulus m;
            cr_assert_eq(hekv_modulus_init(&m, qs[qi]), HEKV_KERN_OK);
            for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
                for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++) {
                    const size_t k = ks[ki], n = ns[ni];
                    for (int all_max = 0; all_max < 2; all_max++) {
                        fill(&g, in, coef, k, n, 1ULL << 50, m.q, all_max);
                        check_ifma(in, coef, k, n, &m, want, got);
                    }
                    /* Inputs already reduced mod q (the common case). */
                    fill(&g, in, coef, k, n, m.q, m.q, 0);
                    check_ifma(in, coef, k, n, &m, want, got);
                }
            }
        }
        /* N = 2^16 with the k of the benchmarks, once per bit size. */
        hekv_modulus m;
        cr_assert_eq(hekv_modulus_init(&m, qs[0]), HEKV_KERN_OK);
        static const size_t kbig[] = {4, 16};
        for (size_t ki = 0; ki < 2; ki++) {
            fill(&g, in, coef, kbig[ki], big, 1ULL << 50, m.q, 0);
            check_ifma(in, coef, kbig[ki], big, &m, want, got);
        }
    }
    free(in), free(want), free(got);
#endif
}

/* The IFMA kernel against GMP directly, on the all-maximum inputs for every k <= 64. */
Test(kernels, bconv_ifma_vs_gmp_max) {
#ifdef HEKV_NO_AVX512
    cr_skip_test("built with HEKV_NO_AVX512: no IFMA kernels");
#else
    if (!hekv_cpu_has_avx512_kernels()) cr_skip_test("no AVX-512 IFMA on this CPU");
    enum { N = 11 };
    test_rng g = test_rng_new(203);
    uint64_t *in = malloc(64 * N * 8), coef[64], out[N];
    cr_assert(in);
    static const int bits[] = {2, 31, 49, 50};
    for (size_t bi = 0; bi < sizeof bits / sizeof bits[0]; bi++) {
        uint64_t qs[2];
        moduli_of_bits(bits[bi], qs);
        hekv_modulus m;
        cr_assert_eq(hekv_modulus_init(&m, qs[0]), HEKV_KERN_OK);
        for (size_t k = 1; k <= HEKV_BCONV_MAX_K; k++) {
            fill(&g, in, coef, k, N, 1ULL << 50, m.q, (int)(k & 1));
            hekv_bconv_ifma(out, in, coef, k, N, &m, 0);
            for (size_t x = 0; x < N; x++)
                cr_assert_eq(out[x], gmp_dot(in, coef, k, N, x, m.q), "q=%llu k=%zu x=%zu",
                             (unsigned long long)m.q, k, x);
        }
    }
    free(in);
#endif
}

/* bconv_scale: y = x s mod q and the count of y > q/2, the reference against __int128, the
 * IFMA kernel (direct and dispatched) against the reference, with and without the count,
 * on the lengths around the 8-lane boundary and values at 0, q/2, q/2 + 1 and q - 1. */
static void scale_fill(test_rng *g, uint64_t *x, size_t n, uint64_t q) {
    for (size_t i = 0; i < n; i++) {
        uint64_t r = test_u64(g);
        switch (r & 7) {
        case 0: x[i] = 0; break;
        case 1: x[i] = q - 1; break;
        case 2: x[i] = q / 2; break;
        case 3: x[i] = q / 2 + 1 < q ? q / 2 + 1 : 0; break;
        default: x[i] = (r >> 3) % q;
        }
    }
}

Test(kernels, bconv_scale_ref_vs_oracle) {
    static const int bits[] = {2, 17, 31, 40, 49, 50, 51, 59, 61};
    test_rng g = test_rng_new(203);
    enum { N = 131 };
    uint64_t x[N], y[N], w[N];
    for (size_t bi = 0; bi < sizeof bits / sizeof bits[0]; bi++) {
        uint64_t qs[2];
        moduli_of_bits(bits[bi], qs);
        for (int qi = 0; qi < 2; qi++) {
            hekv_modulus m;
            cr_assert_eq(hekv_modulus_init(&m, qs[qi]), HEKV_KERN_OK);
            const uint64_t q = m.q, ss[3] = {0, q - 1, test_below(&g, q)};
            for (int si = 0; si < 3; si++) {
                scale_fill(&g, x, N, q);
                for (size_t i = 0; i < N; i++) w[i] = i;
                hekv_bconv_scale_ref(y, w, x, ss[si], N, &m);
                for (size_t i = 0; i < N; i++) {
                    uint64_t want = (uint64_t)((unsigned __int128)x[i] * ss[si] % q);
                    cr_assert_eq(y[i], want, "scale q=%llu i=%zu", (unsigned long long)q, i);
                    cr_assert_eq(w[i], i + (want > q / 2), "count q=%llu i=%zu",
                                 (unsigned long long)q, i);
                }
            }
        }
    }
}

Test(kernels, bconv_scale_ifma_vs_ref) {
#ifdef HEKV_NO_AVX512
    cr_skip_test("built with HEKV_NO_AVX512: no IFMA kernels");
#else
    if (!hekv_cpu_has_avx512_kernels()) cr_skip_test("no AVX-512 IFMA on this CPU");
    static const int bits[] = {2, 17, 30, 31, 40, 48, 49, 50};
    static const size_t ns[] = {1, 2, 7, 8, 9, 15, 16, 17, 63, 64, 65, 255, 256, 257, 4096};
    test_rng g = test_rng_new(204);
    enum { MAXN = 4096 };
    static uint64_t x[MAXN], y0[MAXN + GUARD], y1[MAXN + GUARD], w0[MAXN + GUARD],
        w1[MAXN + GUARD];
    for (size_t bi = 0; bi < sizeof bits / sizeof bits[0]; bi++) {
        uint64_t qs[2];
        moduli_of_bits(bits[bi], qs);
        for (int qi = 0; qi < 2; qi++) {
            hekv_modulus m;
            cr_assert_eq(hekv_modulus_init(&m, qs[qi]), HEKV_KERN_OK);
            const uint64_t q = m.q, s = test_below(&g, q);
            const hekv_kern_ops *disp = hekv_kern_select(HEKV_KERN_AVX512, q, 1 << 16);
            for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++) {
                const size_t n = ns[ni];
                scale_fill(&g, x, n, q);
                for (int counted = 0; counted < 2; counted++) {
                    for (int via = 0; via < 2; via++) {
                        for (size_t i = 0; i < n + GUARD; i++)
                            w0[i] = w1[i] = i < n ? i % 5 : CANARY, y1[i] = CANARY;
                        hekv_bconv_scale_ref(y0, counted ? w0 : NULL, x, s, n, &m);
                        if (via == 0)
                            hekv_bconv_scale_ifma(y1, counted ? w1 : NULL, x, s, n, &m);
                        else
                            disp->bconv_scale(y1, counted ? w1 : NULL, x, s, n, &m);
                        cr_assert(test_first_diff(y0, y1, n) < 0, "scale q=%llu n=%zu",
                                  (unsigned long long)q, n);
                        cr_assert(test_first_diff(w0, w1, n + GUARD) < 0,
                                  "count q=%llu n=%zu", (unsigned long long)q, n);
                        for (size_t i = n; i < n + GUARD; i++)
                            cr_assert_eq(y1[i], CANARY, "wrote past n=%zu", n);
                    }
                }
            }
        }
    }
#endif
}
