/* test_sample.c: the CSPRNG and the samplers of sample.h: seed determinism (and the
 * keystream against libsodium called directly), exact ranges, ternary and sparse-ternary
 * counts, Gaussian mean/variance/tail against named bounds, a chi-square check of the
 * uniform sampler, and the signed lift into RNS limbs. */
#include <math.h>
#include <sodium.h>
#include <string.h>

#include "kernels/primes.h"
#include "src/ring/sample.h"
#include "test/util.h"

/* Tolerances (sample sizes below give z-scores; these bounds sit at 5-6 sigma). */
#define SAMPLE_Z_BOUND 6.0            /* counts: |observed - expected| <= 6 sd */
#define GAUSS_VAR_REL_TOL 0.04        /* sample variance within 4% of sigma^2 (sd ~0.6%) */
#define CHI2_16_BINS_BOUND 60.0       /* 15 dof: P(chi2 > 60) ~ 2e-7 */

static void test_seed32(uint8_t seed[HEKV_SEED_BYTES], uint64_t salt) {
    test_rng g = test_rng_new(salt);
    for (int i = 0; i < HEKV_SEED_BYTES; i += 8) {
        uint64_t v = test_u64(&g);
        memcpy(seed + i, &v, 8);
    }
}

static hekv_ring *make_ring(int logn, int nprimes, int bits) {
    uint64_t primes[8];
    cr_assert_eq(hekv_primes_generate(primes, nprimes, bits, logn, NULL, 0), HEKV_KERN_OK);
    hekv_ring_lit lit = {.logn = logn, .nprimes = nprimes, .primes = primes};
    hekv_ring *r = NULL;
    hekv_err err;
    cr_assert_eq(hekv_ring_new(&lit, &r, &err), HEKV_OK, "%s", err.msg);
    return r;
}

Test(ring_sample, prng_seed_determinism_and_chunking) {
    uint8_t seed[HEKV_SEED_BYTES], other[HEKV_SEED_BYTES];
    test_seed32(seed, 1);
    memcpy(other, seed, sizeof other);
    other[31] ^= 1;
    enum { LEN = 5000 };
    static uint8_t a[LEN], b[LEN], c[LEN], ref[LEN];
    hekv_prng p;
    hekv_prng_init_seed(&p, seed);
    hekv_prng_bytes(&p, a, LEN);
    /* Same stream whatever the chunking (odd sizes, buffer and direct paths, u64s). */
    hekv_prng_init_seed(&p, seed);
    size_t off = 0, chunk = 1;
    while (off < LEN) {
        size_t take = chunk < LEN - off ? chunk : LEN - off;
        if (take == 8) {
            uint64_t v = hekv_prng_u64(&p);
            memcpy(b + off, &v, 8);
        } else {
            hekv_prng_bytes(&p, b + off, take);
        }
        off += take;
        chunk = chunk * 3 % 1031 + 1;
    }
    cr_assert_eq(memcmp(a, b, LEN), 0, "chunked stream differs");
    /* Known answer: libsodium's ChaCha20-IETF keystream, zero nonce, counter 0. */
    memset(ref, 0, LEN);
    uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {0};
    crypto_stream_chacha20_ietf_xor_ic(ref, ref, LEN, nonce, 0, seed);
    cr_assert_eq(memcmp(a, ref, LEN), 0, "stream is not ChaCha20-IETF(seed, 0, 0)");
    hekv_prng_init_seed(&p, other);
    hekv_prng_bytes(&p, c, LEN);
    cr_assert_neq(memcmp(a, c, LEN), 0, "different seeds gave the same stream");
    hekv_prng_wipe(&p);
    uint8_t zero[sizeof p] = {0};
    cr_assert_eq(memcmp(&p, zero, sizeof p), 0, "wipe left bytes");
}

Test(ring_sample, os_random_differs) {
    hekv_prng p, q;
    hekv_err err;
    cr_assert_eq(hekv_prng_init_os(&p, &err), HEKV_OK);
    cr_assert_eq(hekv_prng_init_os(&q, &err), HEKV_OK);
    cr_assert_neq(hekv_prng_u64(&p), hekv_prng_u64(&q));
    cr_assert_eq(hekv_os_random(NULL, 4, &err), HEKV_ERR_ARG);
}

Test(ring_sample, uniform_range_determinism_chi2) {
    const int logn = 12;
    hekv_ring *r = make_ring(logn, 3, 40);
    hekv_ring *r2 = make_ring(logn, 3, 50);
    uint8_t seed[HEKV_SEED_BYTES];
    test_seed32(seed, 2);
    hekv_poly a, b;
    cr_assert_eq(hekv_poly_new(r, 3, &a), HEKV_OK);
    cr_assert_eq(hekv_poly_new(r, 3, &b), HEKV_OK);
    hekv_prng p;
    hekv_prng_init_seed(&p, seed);
    a.ntt = 1;
    hekv_sample_uniform(r, &p, &a);
    cr_assert_eq(a.ntt, 1, "sample_uniform must leave the form flag alone");
    hekv_prng_init_seed(&p, seed);
    hekv_sample_uniform(r, &p, &b);
    const size_t n = a.n;
    cr_assert_eq(memcmp(a.c, b.c, 3 * n * 8), 0, "same seed, different polynomial");
    for (int rr = 0; rr < 2; rr++) {
        const hekv_ring *ring = rr ? r2 : r;
        if (rr) {
            hekv_prng_init_seed(&p, seed);
            hekv_sample_uniform(ring, &p, &a);
        }
        for (int l = 0; l < 3; l++) {
            const uint64_t q = hekv_ring_modulus(ring, l)->q;
            double cnt[16] = {0};
            uint64_t maxv = 0;
            for (size_t j = 0; j < n; j++) {
                uint64_t v = a.c[l * n + j];
                cr_assert_lt(v, q, "residue %llu >= q", (unsigned long long)v);
                if (v > maxv) maxv = v;
                cnt[(size_t)((hekv_u128)v * 16 / q)] += 1;
            }
            double chi2 = 0, e = (double)n / 16;
            for (int k = 0; k < 16; k++) chi2 += (cnt[k] - e) * (cnt[k] - e) / e;
            cr_assert_lt(chi2, CHI2_16_BINS_BOUND, "limb %d: chi2 %.1f", l, chi2);
            cr_assert_gt(maxv, q - q / 64, "limb %d: the top of [0, q) never drawn", l);
        }
    }
    hekv_poly_free(&a);
    hekv_poly_free(&b);
    hekv_ring_free(r);
    hekv_ring_free(r2);
}

Test(ring_sample, ternary_counts) {
    enum { N = 1 << 16 };
    static int64_t v[N];
    uint8_t seed[HEKV_SEED_BYTES];
    test_seed32(seed, 3);
    hekv_prng p;
    hekv_prng_init_seed(&p, seed);
    hekv_sample_ternary(&p, v, N);
    double c[3] = {0};
    for (size_t i = 0; i < N; i++) {
        cr_assert(v[i] >= -1 && v[i] <= 1, "coefficient %lld", (long long)v[i]);
        c[v[i] + 1] += 1;
    }
    const double e = N / 3.0, sd = sqrt(N * (1.0 / 3) * (2.0 / 3));
    for (int k = 0; k < 3; k++)
        cr_assert_lt(fabs(c[k] - e), SAMPLE_Z_BOUND * sd, "value %d: %g of %d", k - 1, c[k], N);
}

Test(ring_sample, sparse_ternary_exact_weight) {
    enum { N = 1 << 12 };
    static int64_t v[N], w[N];
    uint8_t seed[HEKV_SEED_BYTES];
    test_seed32(seed, 4);
    hekv_prng p;
    hekv_prng_init_seed(&p, seed);
    const size_t hws[] = {1, 64, 192, N - 1, N};
    double plus = 0, total = 0;
    for (size_t t = 0; t < sizeof hws / sizeof hws[0]; t++) {
        hekv_sample_sparse_ternary(&p, v, N, hws[t]);
        size_t nz = 0;
        for (size_t i = 0; i < N; i++) {
            cr_assert(v[i] >= -1 && v[i] <= 1);
            nz += v[i] != 0;
            plus += v[i] == 1;
        }
        total += (double)hws[t];
        cr_assert_eq(nz, hws[t], "hw %zu: %zu non-zero", hws[t], nz);
    }
    /* Signs balanced over all draws. */
    cr_assert_lt(fabs(plus - total / 2), SAMPLE_Z_BOUND * sqrt(total / 4));
    /* Two draws of weight 64 put the non-zeros in different places. */
    hekv_sample_sparse_ternary(&p, v, N, 64);
    hekv_sample_sparse_ternary(&p, w, N, 64);
    cr_assert_neq(memcmp(v, w, sizeof v), 0);
    /* Every position is reachable: weight N/2 draws cover all positions quickly. */
    static unsigned char hit[N];
    memset(hit, 0, sizeof hit);
    for (int d = 0; d < 32; d++) {
        hekv_sample_sparse_ternary(&p, v, N, N / 2);
        for (size_t i = 0; i < N; i++) hit[i] |= v[i] != 0;
    }
    for (size_t i = 0; i < N; i++) cr_assert(hit[i], "position %zu never chosen", i);
}

static void check_gaussian(double sigma, double tail, uint64_t salt) {
    enum { N = 1 << 17 };
    static int64_t v[N];
    uint8_t seed[HEKV_SEED_BYTES];
    test_seed32(seed, salt);
    hekv_prng p;
    hekv_prng_init_seed(&p, seed);
    hekv_sample_gaussian(&p, v, N, sigma, tail);
    const int64_t bound = (int64_t)floor(tail * sigma);
    double sum = 0, sq = 0, pos = 0, neg = 0;
    int64_t maxabs = 0;
    for (size_t i = 0; i < N; i++) {
        cr_assert(llabs(v[i]) <= bound, "sample %lld beyond the tail cut %lld",
                  (long long)v[i], (long long)bound);
        if (llabs(v[i]) > maxabs) maxabs = llabs(v[i]);
        sum += (double)v[i];
        sq += (double)v[i] * (double)v[i];
        pos += v[i] > 0, neg += v[i] < 0;
    }
    const double mean = sum / N, var = sq / N - mean * mean, s2 = sigma * sigma;
    cr_assert_lt(fabs(mean), SAMPLE_Z_BOUND * sigma / sqrt(N), "sigma %g: mean %g", sigma,
                 mean);
    cr_assert_lt(fabs(var - s2), GAUSS_VAR_REL_TOL * s2, "sigma %g: variance %g vs %g", sigma,
                 var, s2);
    cr_assert_lt(fabs(pos - neg), SAMPLE_Z_BOUND * sqrt(pos + neg), "sign imbalance");
    /* The tails are populated: something beyond 3 sigma shows up in 2^17 draws. */
    cr_assert_gt((double)maxabs, 3 * sigma, "sigma %g: max |e| %lld", sigma, (long long)maxabs);
    /* P(e = 0) matches the discrete Gaussian: rho(0) / sum rho(k). */
    double z = 0, rho = 0;
    for (int64_t k = -bound; k <= bound; k++) rho += exp(-(double)(k * k) / (2 * s2));
    for (size_t i = 0; i < N; i++) z += v[i] == 0;
    const double p0 = 1.0 / rho;
    cr_assert_lt(fabs(z - N * p0), SAMPLE_Z_BOUND * sqrt(N * p0 * (1 - p0)),
                 "sigma %g: %g zeros, expected %g", sigma, z, N * p0);
}

Test(ring_sample, gaussian_moments_and_tail) {
    check_gaussian(HEKV_GAUSS_SIGMA, HEKV_GAUSS_TAIL, 5);
    check_gaussian(10.0, 6.0, 6);
    check_gaussian(1.0, 4.0, 7);
}

Test(ring_sample, gaussian_default_bound_is_19) {
    cr_assert_eq((int)floor(HEKV_GAUSS_SIGMA * HEKV_GAUSS_TAIL), 19);
}

Test(ring_sample, set_small_lifts_signed) {
    hekv_ring *r = make_ring(10, 2, 40);
    const size_t n = 1024;
    int64_t c[1024];
    test_rng g = test_rng_new(8);
    for (size_t i = 0; i < n; i++) c[i] = (int64_t)test_below(&g, 2001) - 1000;
    c[0] = -1, c[1] = 0, c[2] = 1;
    hekv_poly p;
    cr_assert_eq(hekv_poly_new(r, 2, &p), HEKV_OK);
    p.ntt = 1;
    hekv_poly_set_small(r, &p, c);
    cr_assert_eq(p.ntt, 0);
    for (int l = 0; l < 2; l++) {
        const uint64_t q = hekv_ring_modulus(r, l)->q;
        for (size_t i = 0; i < n; i++) {
            uint64_t want = c[i] < 0 ? q - (uint64_t)(-c[i]) : (uint64_t)c[i];
            cr_assert_eq(p.c[l * n + i], want, "limb %d coeff %zu", l, i);
        }
    }
    hekv_poly_free(&p);
    hekv_ring_free(r);
}
