/* util.h: shared helpers of the Criterion suites: a seeded PRNG (HEKV_TEST_SEED overrides
 * the seed; the seed in use is printed once per process), the full/fast switch, and a few
 * assertions. Test-only code: not part of the library. */
#ifndef HEKV_TEST_UTIL_H
#define HEKV_TEST_UTIL_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* splitmix64: deterministic test randomness (never used for keys). */
typedef struct { uint64_t s; } test_rng;

static inline uint64_t test_seed(void) {
    static uint64_t seed;
    static int done;
    if (!done) {
        const char *e = getenv("HEKV_TEST_SEED");
        seed = e && *e ? strtoull(e, NULL, 0) : 0x6865b76ULL;
        done = 1;
        fprintf(stderr, "hekv tests: HEKV_TEST_SEED=%llu\n", (unsigned long long)seed);
    }
    return seed;
}

/* A generator for one test, seeded from the global seed and a per-test salt. */
static inline test_rng test_rng_new(uint64_t salt) {
    test_rng r = {test_seed() ^ (salt * 0x9E3779B97F4A7C15ULL)};
    return r;
}

static inline uint64_t test_u64(test_rng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, bound), bound > 0 (tiny modulo bias is irrelevant for tests). */
static inline uint64_t test_below(test_rng *r, uint64_t bound) { return test_u64(r) % bound; }

static inline double test_uniform(test_rng *r, double lo, double hi) {
    return lo + (hi - lo) * (double)(test_u64(r) >> 11) * 0x1.0p-53;
}

/* HEKV_TEST_FULL=1 (make test-full) enables the slow, full-size sweeps. */
static inline int test_full(void) {
    const char *e = getenv("HEKV_TEST_FULL");
    return e && *e && *e != '0';
}

/* Fills v[0..n) with values in [0, bound). */
static inline void test_fill(test_rng *r, uint64_t *v, size_t n, uint64_t bound) {
    for (size_t i = 0; i < n; i++) v[i] = test_below(r, bound);
}

/* Index of the first difference of two arrays, or -1. */
static inline long test_first_diff(const uint64_t *a, const uint64_t *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return (long)i;
    return -1;
}

#endif
