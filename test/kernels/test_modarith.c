/* test_modarith.c: scalar modular arithmetic (modarith.h) and prime generation (primes.c)
 * against independent oracles (R9): unsigned __int128 division for every bit size 2..61,
 * trial division and known 64-bit primes, Carmichael numbers and strong pseudoprimes for
 * the primality test, and direct definitions for the NTT primes and 2N-th roots. */
#include <string.h>

#include "kernels/primes.h"
#include "test/util.h"

typedef unsigned __int128 u128;

/* Moduli of one bit size: 2^(b-1), 2^(b-1)+1, 2^b - 1, the largest prime, a random one. */
static int moduli_of_bits(test_rng *g, int bits, uint64_t *q) {
    const uint64_t low = 1ULL << (bits - 1), top = 1ULL << bits;
    uint64_t p = top - 1;
    while (!hekv_is_prime(p)) p--;
    int c = 0;
    q[c++] = low;
    q[c++] = low + 1 < top ? low + 1 : low;
    q[c++] = top - 1;
    q[c++] = p;
    q[c++] = low + test_below(g, low);
    return c;
}

/* Operands in [0, q): random, plus the edges 0, 1, q-1, q-2 and q/2. */
static uint64_t operand(test_rng *g, uint64_t q, int i) {
    switch (i) {
    case 0: return 0;
    case 1: return 1 % q;
    case 2: return q - 1;
    case 3: return q >= 2 ? q - 2 : 0;
    case 4: return q / 2;
    default: return test_below(g, q);
    }
}

#define SAMPLES 600

Test(kernels, modarith_add_sub_neg_vs_u128) {
    test_rng g = test_rng_new(401);
    for (int bits = 2; bits <= HEKV_MODULUS_MAX_BITS; bits++) {
        uint64_t qs[5];
        int nq = moduli_of_bits(&g, bits, qs);
        for (int qi = 0; qi < nq; qi++) {
            const uint64_t q = qs[qi];
            for (int i = 0; i < SAMPLES; i++) {
                uint64_t a = operand(&g, q, i % 7 == 0 ? i / 7 : 99);
                uint64_t b = operand(&g, q, i % 5);
                cr_assert_eq(hekv_mod_add(a, b, q), (uint64_t)(((u128)a + b) % q));
                cr_assert_eq(hekv_mod_sub(a, b, q), (uint64_t)(((u128)a + q - b) % q));
                cr_assert_eq(hekv_mod_neg(a, q), (uint64_t)(((u128)q - a) % q));
            }
        }
    }
}

Test(kernels, modarith_reduce128_mul_vs_u128) {
    test_rng g = test_rng_new(402);
    for (int bits = 2; bits <= HEKV_MODULUS_MAX_BITS; bits++) {
        uint64_t qs[5];
        int nq = moduli_of_bits(&g, bits, qs);
        for (int qi = 0; qi < nq; qi++) {
            const uint64_t q = qs[qi];
            hekv_modulus m;
            cr_assert_eq(hekv_modulus_init(&m, q), HEKV_KERN_OK);
            /* The domain edges of reduce128: 0, q-1, q, (q-1)^2, q*2^64 - 1. */
            const u128 edges[] = {0, q - 1, q, (u128)(q - 1) * (q - 1), ((u128)q << 64) - 1,
                                  ((u128)(q - 1) << 64), ((u128)q << 64) - q};
            for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++)
                cr_assert_eq(hekv_mod_reduce128(edges[e], &m), (uint64_t)(edges[e] % q),
                             "q=%llu edge %zu", (unsigned long long)q, e);
            for (int i = 0; i < SAMPLES; i++) {
                /* x < q * 2^64: a high word below q and any low word. */
                u128 x = ((u128)test_below(&g, q) << 64) | test_u64(&g);
                cr_assert_eq(hekv_mod_reduce128(x, &m), (uint64_t)(x % q),
                             "reduce128 q=%llu", (unsigned long long)q);
                uint64_t a = operand(&g, q, i % 11), b = operand(&g, q, (i / 11) % 7);
                cr_assert_eq(hekv_mod_mul(a, b, &m), (uint64_t)((u128)a * b % q),
                             "mul q=%llu a=%llu b=%llu", (unsigned long long)q,
                             (unsigned long long)a, (unsigned long long)b);
            }
        }
    }
}

Test(kernels, modarith_shoup_vs_u128) {
    test_rng g = test_rng_new(403);
    for (int bits = 2; bits <= HEKV_MODULUS_MAX_BITS; bits++) {
        uint64_t qs[5];
        int nq = moduli_of_bits(&g, bits, qs);
        for (int qi = 0; qi < nq; qi++) {
            const uint64_t q = qs[qi];
            for (int j = 0; j < 8; j++) {
                const uint64_t w = operand(&g, q, j);
                const uint64_t wp = hekv_mod_shoup(w, q);
                cr_assert_eq(wp, (uint64_t)(((u128)w << 64) / q));
                for (int i = 0; i < SAMPLES / 8; i++) {
                    /* The lazy form takes any a < 2^64; the strict one too. */
                    uint64_t a = i == 0 ? UINT64_MAX : i == 1 ? q - 1 : i & 1 ? test_u64(&g)
                                                                          : test_below(&g, q);
                    uint64_t want = (uint64_t)((u128)a * w % q);
                    uint64_t lazy = hekv_mod_mul_shoup_lazy(a, w, wp, q);
                    cr_assert(lazy < 2 * q && lazy % q == want, "shoup_lazy q=%llu a=%llu",
                              (unsigned long long)q, (unsigned long long)a);
                    cr_assert_eq(hekv_mod_mul_shoup(a, w, wp, q), want);
                }
            }
        }
    }
}

static uint64_t powmod_u128(uint64_t b, uint64_t e, uint64_t q) {
    u128 r = 1 % q, x = b % q;
    for (; e; e >>= 1) {
        if (e & 1) r = r * x % q;
        x = x * x % q;
    }
    return (uint64_t)r;
}

Test(kernels, modarith_pow_inv) {
    test_rng g = test_rng_new(404);
    for (int bits = 2; bits <= HEKV_MODULUS_MAX_BITS; bits++) {
        uint64_t qs[5];
        int nq = moduli_of_bits(&g, bits, qs);
        for (int qi = 0; qi < nq; qi++) {
            hekv_modulus m;
            cr_assert_eq(hekv_modulus_init(&m, qs[qi]), HEKV_KERN_OK);
            for (int i = 0; i < 40; i++) {
                uint64_t b = i < 2 ? (uint64_t)i : test_u64(&g); /* bases may exceed q */
                uint64_t e = i == 2 ? 0 : test_u64(&g) >> (i % 64);
                cr_assert_eq(hekv_mod_pow(b, e, &m), powmod_u128(b, e, m.q));
            }
            if (qi == 3) { /* the prime */
                for (int i = 0; i < 20; i++) {
                    uint64_t a = 1 + test_below(&g, m.q - 1);
                    uint64_t inv = hekv_mod_inv_prime(a, &m);
                    cr_assert(inv < m.q && (u128)a * inv % m.q == 1);
                }
            }
        }
    }
}

Test(kernels, modulus_init_fields_and_args) {
    test_rng g = test_rng_new(405);
    hekv_modulus m;
    cr_assert_eq(hekv_modulus_init(NULL, 17), HEKV_KERN_EINVAL);
    cr_assert_eq(hekv_modulus_init(&m, 0), HEKV_KERN_EINVAL);
    cr_assert_eq(hekv_modulus_init(&m, 1), HEKV_KERN_EINVAL);
    cr_assert_eq(hekv_modulus_init(&m, 1ULL << HEKV_MODULUS_MAX_BITS), HEKV_KERN_EINVAL);
    cr_assert_eq(hekv_modulus_init(&m, UINT64_MAX), HEKV_KERN_EINVAL);
    for (int bits = 2; bits <= HEKV_MODULUS_MAX_BITS; bits++) {
        uint64_t qs[5];
        int nq = moduli_of_bits(&g, bits, qs);
        for (int qi = 0; qi < nq; qi++) {
            const uint64_t q = qs[qi];
            cr_assert_eq(hekv_modulus_init(&m, q), HEKV_KERN_OK);
            cr_assert_eq(m.q, q);
            cr_assert_eq(m.bits, bits);
            /* floor(2^128 / q) by long division in base 2^64. */
            u128 hi = ((u128)1 << 64) / q, r = ((u128)1 << 64) % q;
            u128 lo = (r << 64) / q;
            cr_assert_eq(m.barrett_hi, (uint64_t)hi, "q=%llu", (unsigned long long)q);
            cr_assert_eq(m.barrett_lo, (uint64_t)lo, "q=%llu", (unsigned long long)q);
            if (bits <= HEKV_IFMA_MAX_BITS) {
                u128 mu = ((u128)1 << (bits + 51)) / q;
                if (mu > (1ULL << 52) - 1) mu = (1ULL << 52) - 1;
                cr_assert_eq(m.barrett52, (uint64_t)mu, "q=%llu", (unsigned long long)q);
            } else {
                cr_assert_eq(m.barrett52, 0);
            }
        }
    }
}

/* Trial division: the independent primality oracle. */
static int prime_td(uint64_t n) {
    if (n < 2) return 0;
    if (n % 2 == 0) return n == 2;
    for (uint64_t d = 3; d <= n / d; d += 2)
        if (n % d == 0) return 0;
    return 1;
}

/* Some factor of n below 2^24, or 0. */
static uint64_t small_factor(uint64_t n) {
    for (uint64_t d = 2; d < (1u << 24) && d < n; d++)
        if (n % d == 0) return d;
    return 0;
}

Test(kernels, is_prime_vs_trial_division) {
    for (uint64_t n = 0; n < (1u << 17); n++)
        cr_assert_eq(hekv_is_prime(n), prime_td(n), "n=%llu", (unsigned long long)n);
    test_rng g = test_rng_new(406);
    for (int i = 0; i < 300; i++) {
        uint64_t n = (test_u64(&g) >> 24) | 1; /* odd, up to 40 bits */
        cr_assert_eq(hekv_is_prime(n), prime_td(n), "n=%llu", (unsigned long long)n);
    }
}

Test(kernels, is_prime_known_64bit) {
    static const uint64_t primes[] = {
        2305843009213693951ULL,  /* 2^61 - 1 */
        4611686018427387847ULL,  /* 2^62 - 57, largest below 2^62 */
        9223372036854775783ULL,  /* 2^63 - 25, largest below 2^63 */
        18446744073709551557ULL, /* 2^64 - 59, largest below 2^64 */
        18446744069414584321ULL, /* 2^64 - 2^32 + 1 */
        4294967291ULL,           /* 2^32 - 5 */
        998244353ULL,            /* 119 * 2^23 + 1 */
        1000000007ULL,
    };
    for (size_t i = 0; i < sizeof primes / sizeof primes[0]; i++)
        cr_assert(hekv_is_prime(primes[i]), "%llu is prime", (unsigned long long)primes[i]);

    /* Carmichael numbers and strong pseudoprimes to the first several prime bases
     * (2047: base 2; ...; 3825123056546413051: bases 2..23). All have a factor < 2^24,
     * checked here independently of hekv_is_prime. */
    static const uint64_t composites[] = {
        561, 1105, 1729, 2465, 2821, 6601, 8911, 41041, 825265, 321197185,
        2047, 1373653, 25326001, 3215031751ULL, 2152302898747ULL, 3474749660383ULL,
        341550071728321ULL, 3825123056546413051ULL,
        18446744073709551615ULL, /* 2^64 - 1 */
    };
    for (size_t i = 0; i < sizeof composites / sizeof composites[0]; i++) {
        cr_assert(small_factor(composites[i]) != 0);
        cr_assert(!hekv_is_prime(composites[i]), "%llu is composite",
                  (unsigned long long)composites[i]);
    }

    /* A large Chernick Carmichael number (6k+1)(12k+1)(18k+1) near 2^63, found by trial
     * division; the square of the largest 32-bit prime and its product with the next. */
    uint64_t k = 190000;
    while (!(prime_td(6 * k + 1) && prime_td(12 * k + 1) && prime_td(18 * k + 1))) k--;
    uint64_t carmichael = (6 * k + 1) * (12 * k + 1) * (18 * k + 1);
    cr_assert(!hekv_is_prime(carmichael), "Carmichael %llu", (unsigned long long)carmichael);
    uint64_t p1 = 4294967295ULL, p2;
    while (!prime_td(p1)) p1--;
    p2 = p1 - 2;
    while (!prime_td(p2)) p2--;
    cr_assert(!hekv_is_prime(p1 * p2));
    cr_assert(!hekv_is_prime(p1 * p1)); /* (2^32 - 5)^2 */
    cr_assert(hekv_is_prime(p1) && hekv_is_prime(p2));
}

/* Checks one hekv_primes_generate result against its definition. */
static void check_generated(const uint64_t *out, int count, int bits, int logn,
                            const uint64_t *exclude, int nexclude) {
    const uint64_t m2n = 1ULL << (logn + 1), top = bits == 64 ? 0 : 1ULL << bits;
    for (int i = 0; i < count; i++) {
        const uint64_t q = out[i];
        cr_assert(hekv_is_prime(q), "%llu prime", (unsigned long long)q);
        if (bits <= 36) cr_assert(prime_td(q));
        cr_assert_eq(q % m2n, 1, "%llu = 1 mod 2N", (unsigned long long)q);
        cr_assert_eq(64 - __builtin_clzll(q), bits);
        if (i) cr_assert(out[i - 1] > q, "descending and distinct");
        for (int j = 0; j < nexclude; j++) cr_assert_neq(q, exclude[j]);
    }
    /* The largest such: every other candidate above the last one is excluded or composite. */
    if (count == 0) return;
    for (uint64_t c = top - m2n + 1; c > out[count - 1]; c -= m2n) {
        int listed = 0;
        for (int i = 0; i < count; i++) listed |= out[i] == c;
        for (int j = 0; j < nexclude; j++) listed |= exclude[j] == c;
        if (!listed)
            cr_assert(bits <= 36 ? !prime_td(c) : !hekv_is_prime(c),
                      "prime %llu (bits %d logn %d) was skipped", (unsigned long long)c, bits,
                      logn);
    }
}

Test(kernels, primes_generate_properties) {
    static const struct { int bits, logn, count; } cases[] = {
        {61, 16, 4}, {60, 17, 3}, {50, 16, 6}, {50, 17, 3}, {49, 12, 4}, {40, 12, 5},
        {36, 10, 5}, {30, 10, 5}, {20, 4, 5}, {17, 1, 20}, {8, 1, 5}, {5, 3, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t out[32];
        const int bits = cases[i].bits, logn = cases[i].logn, count = cases[i].count;
        cr_assert_eq(hekv_primes_generate(out, count, bits, logn, NULL, 0), HEKV_KERN_OK,
                     "bits %d logn %d", bits, logn);
        check_generated(out, count, bits, logn, NULL, 0);
        /* Excluding the first two (and an unrelated value) gives the next ones. */
        if (count >= 3) {
            uint64_t ex[3] = {out[1], 12345, out[0]}, out2[32];
            cr_assert_eq(hekv_primes_generate(out2, count - 2, bits, logn, ex, 3), HEKV_KERN_OK);
            check_generated(out2, count - 2, bits, logn, ex, 3);
            cr_assert_eq(memcmp(out2, out + 2, (size_t)(count - 2) * 8), 0);
        }
    }
    uint64_t q;
    cr_assert_eq(hekv_primes_generate(&q, 0, 30, 10, NULL, 0), HEKV_KERN_OK);
}

Test(kernels, primes_generate_bad_args) {
    uint64_t out[4], ex = 17;
    cr_assert_eq(hekv_primes_generate(NULL, 1, 30, 10, NULL, 0), HEKV_KERN_EINVAL);
    cr_assert_eq(hekv_primes_generate(out, -1, 30, 10, NULL, 0), HEKV_KERN_EINVAL);
    cr_assert_eq(hekv_primes_generate(out, 1, 11, 10, NULL, 0), HEKV_KERN_EINVAL); /* < logn+2 */
    cr_assert_eq(hekv_primes_generate(out, 1, 62, 10, NULL, 0), HEKV_KERN_EINVAL);
    cr_assert_eq(hekv_primes_generate(out, 1, 30, 0, NULL, 0), HEKV_KERN_EINVAL);
    cr_assert_eq(hekv_primes_generate(out, 1, 30, 21, NULL, 0), HEKV_KERN_EINVAL);
    cr_assert_eq(hekv_primes_generate(out, 1, 30, 10, NULL, 1), HEKV_KERN_EINVAL);
    /* 5 bits, 2N = 16: only 17 qualifies. */
    cr_assert_eq(hekv_primes_generate(out, 1, 5, 3, NULL, 0), HEKV_KERN_OK);
    cr_assert_eq(out[0], 17);
    cr_assert_eq(hekv_primes_generate(out, 2, 5, 3, NULL, 0), HEKV_KERN_ENOTFOUND);
    cr_assert_eq(hekv_primes_generate(out, 1, 5, 3, &ex, 1), HEKV_KERN_ENOTFOUND);
}

Test(kernels, primitive_root_smallest) {
    /* Small primes: the smallest x with x^N = -1, found by brute force. */
    static const struct { int bits, logn; } small[] = {{20, 3}, {20, 8}, {17, 1}, {24, 10},
                                                       {12, 4}};
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
        uint64_t qs[3];
        cr_assert_eq(hekv_primes_generate(qs, 3, small[i].bits, small[i].logn, NULL, 0),
                     HEKV_KERN_OK);
        for (int j = 0; j < 3; j++) {
            const uint64_t q = qs[j], n = 1ULL << small[i].logn;
            uint64_t psi, x = 1;
            cr_assert_eq(hekv_primitive_root_2n(q, small[i].logn, &psi), HEKV_KERN_OK);
            while (powmod_u128(x, n, q) != q - 1) x++;
            cr_assert_eq(psi, x, "q=%llu logn=%d", (unsigned long long)q, small[i].logn);
        }
    }
    /* Large primes: psi^N = -1, and no primitive 2N-th root (an odd power) is smaller. */
    static const struct { int bits, logn; } large[] = {{50, 16}, {61, 15}, {40, 12}};
    for (size_t i = 0; i < sizeof large / sizeof large[0]; i++) {
        uint64_t q, psi;
        const int logn = large[i].logn;
        const uint64_t n = 1ULL << logn;
        cr_assert_eq(hekv_primes_generate(&q, 1, large[i].bits, logn, NULL, 0), HEKV_KERN_OK);
        cr_assert_eq(hekv_primitive_root_2n(q, logn, &psi), HEKV_KERN_OK);
        cr_assert_eq(powmod_u128(psi, n, q), q - 1);
        const uint64_t psi2 = (uint64_t)((u128)psi * psi % q);
        uint64_t cur = psi;
        for (uint64_t j = 1; j < n; j++) {
            cur = (uint64_t)((u128)cur * psi2 % q);
            cr_assert(cur > psi, "psi^%llu = %llu < psi", (unsigned long long)(2 * j + 1),
                      (unsigned long long)cur);
        }
    }
}

Test(kernels, primitive_root_bad_args) {
    uint64_t psi, q;
    cr_assert_eq(hekv_primes_generate(&q, 1, 30, 4, NULL, 0), HEKV_KERN_OK);
    cr_assert_eq(hekv_primitive_root_2n(q, 4, NULL), HEKV_KERN_EINVAL);
    cr_assert_eq(hekv_primitive_root_2n(q, 0, &psi), HEKV_KERN_EINVAL);
    cr_assert_eq(hekv_primitive_root_2n(q, 21, &psi), HEKV_KERN_EINVAL);
    cr_assert_eq(hekv_primitive_root_2n(33, 4, &psi), HEKV_KERN_EINVAL);  /* 1 mod 32, 3*11 */
    cr_assert_eq(hekv_primitive_root_2n(1000003, 4, &psi), HEKV_KERN_EINVAL); /* prime, 3 mod 32 */
    cr_assert_eq(hekv_primitive_root_2n(2305843009213693951ULL, 4, &psi), HEKV_KERN_EINVAL);
    cr_assert_eq(hekv_primitive_root_2n((1ULL << 62) + 1, 4, &psi), HEKV_KERN_EINVAL);
    cr_assert_eq(hekv_primitive_root_2n(0, 4, &psi), HEKV_KERN_EINVAL);
    cr_assert_eq(hekv_primitive_root_2n(1, 4, &psi), HEKV_KERN_EINVAL);
}
