/* test_ntt.c: the negacyclic NTT kernels (R8, R9).
 *
 * The scalar reference is checked against oracles written differently (R9): stored
 * known-answer vectors (N = 16, produced once by a Python big-integer evaluation and
 * cross-checked here against the direct evaluation), an O(N^2) direct evaluation
 * out[i] = a(psi^(2 bitrev(i) + 1)) for N <= 256, and NTL's product in Z_q[X]/(X^N + 1)
 * against the NTT-based product (fwd, pointwise multiply, inv). Round trips inv(fwd(a)) == a
 * cover every size.
 *
 * The IFMA variant is called directly and through hekv_kern_select (R8) and must equal the
 * reference bit for bit with out_factor 1, and be congruent to it and below out_factor*q
 * when lazy, for log N 4..16 (17 with HEKV_TEST_FULL=1), moduli whose bit sizes straddle
 * the thresholds (the largest and the smallest NTT prime of each size), every in/out factor,
 * in_factor*q - 1 forced into slot 0 and 0 into the last slot, on 64-byte aligned and
 * misaligned buffers with guard words on both sides. Without the AVX-512 kernels (CPU, or
 * a HEKV_NO_AVX512 build, where ntt_ifma.c is not linked) those tests are skipped. */
#include <string.h>

#include "kernels/kern.h"
#include "kernels/primes.h"
#include "src/base/base.h"
#include "test/oracles/oracles.h"
#include "test/util.h"

#define GUARD 8
#define CANARY 0x5EED0FCA11ED0BADULL

typedef void (*ntt_fn)(const void *tab, uint64_t *a, int in_factor, int out_factor);

static int max_logn(void) { return test_full() ? HEKV_NTT_MAX_LOGN : 16; }

/* ---- test-local arithmetic (unsigned __int128, no hekv code) ------------------------- */

static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t q) {
    return (uint64_t)((unsigned __int128)a * b % q);
}

static uint64_t powmod(uint64_t b, uint64_t e, uint64_t q) {
    uint64_t r = 1 % q;
    for (b %= q; e; e >>= 1, b = mulmod(b, b, q))
        if (e & 1) r = mulmod(r, b, q);
    return r;
}

/* O(N^2) oracle: out[i] = sum_j a[j] psi^((2 bitrev(i) + 1) j) mod q (Horner). */
static void direct_fwd(uint64_t *out, const uint64_t *a, size_t n, int logn, uint64_t q,
                       uint64_t psi) {
    for (size_t i = 0; i < n; i++) {
        const uint64_t r = powmod(psi, 2 * (uint64_t)hekv_bitrev((uint32_t)i, logn) + 1, q);
        uint64_t acc = 0;
        for (size_t j = n; j-- > 0;)
            acc = (uint64_t)(((unsigned __int128)acc * r + a[j] % q) % q);
        out[i] = acc;
    }
}

/* ---- moduli -------------------------------------------------------------------------- */

/* The largest NTT prime (q = 1 mod 2N) of exactly `bits` bits. */
static uint64_t prime_top(int bits, int logn) {
    uint64_t q = 0;
    cr_assert_eq(hekv_primes_generate(&q, 1, bits, logn, NULL, 0), HEKV_KERN_OK,
                 "no %d-bit NTT prime for logN %d", bits, logn);
    return q;
}

/* The smallest NTT prime of exactly `bits` bits (searched upward from 2^(bits-1) + 1). */
static uint64_t prime_low(int bits, int logn) {
    const uint64_t step = 1ULL << (logn + 1);
    uint64_t q = (1ULL << (bits - 1)) + 1;
    while (!hekv_is_prime(q)) q += step;
    cr_assert_lt(q, 1ULL << bits, "no low %d-bit prime", bits);
    return q;
}

static uint64_t root_of(uint64_t q, int logn) {
    uint64_t psi = 0;
    cr_assert_eq(hekv_primitive_root_2n(q, logn, &psi), HEKV_KERN_OK, "no root for q=%llu",
                 (unsigned long long)q);
    cr_assert_eq(powmod(psi, 1ULL << logn, q), q - 1, "psi^N != -1 for q=%llu",
                 (unsigned long long)q);
    return psi;
}

/* ---- guarded buffers ----------------------------------------------------------------- */

/* n words at base + GUARD + skew, guard words on both sides; skew 1 leaves the data only
 * 8-byte aligned. */
typedef struct {
    uint64_t *base, *p;
    size_t n;
    int skew;
} gbuf;

static gbuf gbuf_new(size_t n, int skew) {
    gbuf b = {hekv_alloc_aligned((n + 2 * GUARD + 1) * 8), NULL, n, skew};
    cr_assert_not_null(b.base);
    b.p = b.base + GUARD + skew;
    for (size_t i = 0; i < GUARD + (size_t)skew; i++) b.base[i] = CANARY;
    for (size_t i = 0; i < GUARD; i++) b.p[n + i] = CANARY;
    return b;
}

static void gbuf_free(gbuf *b) { hekv_free_aligned(b->base); }

/* Copies in to the buffer, runs f on it, and checks that nothing outside was written. */
static void run_guarded(ntt_fn f, const void *tab, gbuf *b, const uint64_t *in, int inf,
                        int outf, const char *what) {
    memcpy(b->p, in, b->n * 8);
    f(tab, b->p, inf, outf);
    for (size_t i = 0; i < GUARD + (size_t)b->skew; i++)
        cr_assert_eq(b->base[i], CANARY, "%s wrote before the array (n=%zu)", what, b->n);
    for (size_t i = 0; i < GUARD; i++)
        cr_assert_eq(b->p[b->n + i], CANARY, "%s wrote past the array (n=%zu)", what, b->n);
}

/* Random values in [0, bound) with 0, 1, q-1 and bound-1 sprinkled in; bound-1 forced in
 * slot 0 and 0 in the last slot. */
static void fill_input(test_rng *g, uint64_t *v, size_t n, uint64_t q, uint64_t bound) {
    for (size_t i = 0; i < n; i++) {
        const uint64_t r = test_u64(g);
        switch (r & 15) {
        case 0: v[i] = 0; break;
        case 1: v[i] = 1; break;
        case 2: v[i] = q - 1; break;
        case 3: v[i] = bound - 1; break;
        default: v[i] = (r >> 4) % bound;
        }
    }
    v[0] = bound - 1;
    v[n - 1] = 0;
}

/* got (fully reduced, out_factor 1) must equal want bit for bit. */
static void expect_equal(const uint64_t *want, const uint64_t *got, size_t n, const char *what,
                         uint64_t q, int logn, int inf, int outf) {
    const long d = test_first_diff(want, got, n);
    cr_assert(d < 0, "%s: q=%llu (%d bits) logN=%d in=%d out=%d slot %ld: want %llu got %llu",
              what, (unsigned long long)q, 64 - __builtin_clzll(q), logn, inf, outf, d,
              (unsigned long long)want[d < 0 ? 0 : d], (unsigned long long)got[d < 0 ? 0 : d]);
}

/* got (lazy) must be below factor*q and congruent to want (fully reduced). */
static void expect_lazy(const uint64_t *want, const uint64_t *got, size_t n, int factor,
                        const char *what, uint64_t q, int logn, int inf) {
    for (size_t i = 0; i < n; i++) {
        cr_assert_lt(got[i], (uint64_t)factor * q,
                     "%s: q=%llu logN=%d in=%d out=%d slot %zu: %llu not below %d*q", what,
                     (unsigned long long)q, logn, inf, factor, i, (unsigned long long)got[i],
                     factor);
        cr_assert_eq(got[i] % q, want[i],
                     "%s: q=%llu logN=%d in=%d out=%d slot %zu: %llu not congruent to %llu",
                     what, (unsigned long long)q, logn, inf, factor, i,
                     (unsigned long long)got[i], (unsigned long long)want[i]);
    }
}

/* ---- known answers ------------------------------------------------------------------- */

/* N = 16; q the largest 50- and 61-bit NTT primes (hekv_primes_generate), psi the smallest
 * primitive 32nd root (hekv_primitive_root_2n); inputs from Python's random.Random(20240611
 * + bits); outputs by Python big integers: out[i] = sum_j in[j] psi^((2 bitrev4(i)+1) j). */
typedef struct {
    int bits;
    uint64_t q, psi, in[16], out[16];
} ntt_kat;

static const ntt_kat kats[] = {
    {50,
     1125899906842273ULL,
     150844171873508ULL,
     {177172510051094ULL, 7676239825080ULL, 737026222092384ULL, 313609195097541ULL,
      63699701541980ULL, 494467371682149ULL, 82179121444068ULL, 778928933465010ULL,
      1067353126879248ULL, 422733274609841ULL, 573232543184749ULL, 955935858724138ULL,
      209055527784872ULL, 768946286696243ULL, 58825520162933ULL, 728806425006692ULL},
     {251079072801909ULL, 535748700640037ULL, 305955996457766ULL, 704322531321748ULL,
      15192097494411ULL, 329130927896626ULL, 797652865579866ULL, 691820670447875ULL,
      907512507954954ULL, 523646286479197ULL, 777310886938498ULL, 527614529101055ULL,
      384214546038743ULL, 841617301587309ULL, 14290609408718ULL, 857150164880157ULL}},
    {61,
     2305843009213693921ULL,
     78653324113356032ULL,
     {1526418335688121108ULL, 1706234763265769962ULL, 1638332120974506084ULL,
      118802098337415936ULL, 931845598028299748ULL, 1013073685767296538ULL,
      732927900091879645ULL, 25804528824636398ULL, 2032090066660887589ULL,
      1597634941947376457ULL, 2131982569591012749ULL, 1112616707379670666ULL,
      1493855736817928798ULL, 1521169812260521086ULL, 1700010822367828833ULL,
      1650744143143689255ULL},
     {1954056485604509249ULL, 257862169940017462ULL, 1123097845981481817ULL,
      766353459321034939ULL, 1404714659706018034ULL, 746024323610449935ULL,
      602578660785378561ULL, 1883769365342904249ULL, 487157568900223000ULL,
      555682744843717043ULL, 1129495193433437584ULL, 1385913555506200970ULL,
      76476802000610925ULL, 161409634716680648ULL, 2102694222986738317ULL,
      562034641475759311ULL}},
};

/* Runs one variant on the KATs whose modulus it accepts (bit size <= max_bits). */
static void check_kats(void *(*tab_new)(uint64_t, int, uint64_t), void (*tab_free)(void *),
                       ntt_fn fwd, ntt_fn inv, int max_bits, const char *what) {
    int ran = 0;
    for (size_t k = 0; k < sizeof kats / sizeof kats[0]; k++) {
        const ntt_kat *K = &kats[k];
        if (K->bits > max_bits) continue;
        ran++;
        /* The stored constants are the ones hekv derives: same prime, same root. */
        cr_assert_eq(prime_top(K->bits, 4), K->q);
        cr_assert_eq(root_of(K->q, 4), K->psi);
        void *tab = tab_new(K->q, 4, K->psi);
        cr_assert_not_null(tab);
        uint64_t a[16];
        memcpy(a, K->in, sizeof a);
        fwd(tab, a, 1, 1);
        expect_equal(K->out, a, 16, what, K->q, 4, 1, 1);
        inv(tab, a, 1, 1);
        expect_equal(K->in, a, 16, what, K->q, 4, 1, 1);
        memcpy(a, K->in, sizeof a);
        fwd(tab, a, 1, 4);
        expect_lazy(K->out, a, 16, 4, what, K->q, 4, 1);
        tab_free(tab);
    }
    cr_assert_gt(ran, 0, "%s: no KAT for this variant", what);
}

Test(kernels, ntt_ref_kat) {
    /* The stored vectors agree with the direct-evaluation oracle too. */
    for (size_t k = 0; k < sizeof kats / sizeof kats[0]; k++) {
        uint64_t d[16];
        direct_fwd(d, kats[k].in, 16, 4, kats[k].q, kats[k].psi);
        expect_equal(kats[k].out, d, 16, "direct vs KAT", kats[k].q, 4, 1, 1);
    }
    check_kats(hekv_ntt_tab_new_ref, hekv_ntt_tab_free_ref, hekv_ntt_fwd_ref, hekv_ntt_inv_ref,
               HEKV_MODULUS_MAX_BITS, "ref KAT");
}

Test(kernels, ntt_ifma_kat) {
#ifdef HEKV_NO_AVX512
    cr_skip_test("built with HEKV_NO_AVX512: no IFMA kernels");
#else
    if (!hekv_cpu_has_avx512_kernels()) cr_skip_test("no AVX-512 IFMA on this CPU");
    check_kats(hekv_ntt_tab_new_ifma, hekv_ntt_tab_free_ifma, hekv_ntt_fwd_ifma,
               hekv_ntt_inv_ifma, HEKV_IFMA_MAX_BITS, "ifma KAT");
#endif
}

/* ---- reference against the direct evaluation ----------------------------------------- */

static const int ref_bits[] = {30, 31, 40, 48, 49, 50, 51, 55, 59, 60, 61};
#define NREF_BITS (sizeof ref_bits / sizeof ref_bits[0])

Test(kernels, ntt_ref_vs_direct) {
    test_rng g = test_rng_new(0x4e7701);
    uint64_t in[256], want[256], x[256];
    for (int logn = 4; logn <= 8; logn++) {
        const size_t n = (size_t)1 << logn;
        gbuf b = gbuf_new(n, logn & 1);
        for (size_t bi = 0; bi < NREF_BITS; bi++)
            for (int low = 0; low < 2; low++) {
                const uint64_t q = low ? prime_low(ref_bits[bi], logn)
                                       : prime_top(ref_bits[bi], logn);
                const uint64_t psi = root_of(q, logn);
                void *tab = hekv_ntt_tab_new_ref(q, logn, psi);
                cr_assert_not_null(tab);
                /* forward: every in_factor, both out_factors */
                for (int inf = 1; inf <= 4; inf *= 2) {
                    fill_input(&g, in, n, q, (uint64_t)inf * q);
                    direct_fwd(want, in, n, logn, q, psi);
                    for (int outf = 1; outf <= 4; outf *= 4) {
                        run_guarded(hekv_ntt_fwd_ref, tab, &b, in, inf, outf, "ref fwd");
                        if (outf == 1)
                            expect_equal(want, b.p, n, "ref fwd vs direct", q, logn, inf, outf);
                        else
                            expect_lazy(want, b.p, n, outf, "ref fwd vs direct", q, logn, inf);
                    }
                }
                /* inverse: the direct evaluation of a, lifted to [0, in_factor q) (slot 0
                 * forced to the top), comes back to a */
                fill_input(&g, in, n, q, q);
                direct_fwd(want, in, n, logn, q, psi);
                for (int inf = 1; inf <= 2; inf++)
                    for (int outf = 1; outf <= 2; outf++) {
                        for (size_t i = 0; i < n; i++)
                            x[i] = want[i] + (inf == 2 && (test_u64(&g) & 1) ? q : 0);
                        if (inf == 2) x[0] = want[0] + q;
                        run_guarded(hekv_ntt_inv_ref, tab, &b, x, inf, outf, "ref inv");
                        if (outf == 1)
                            expect_equal(in, b.p, n, "ref inv of direct", q, logn, inf, outf);
                        else
                            expect_lazy(in, b.p, n, outf, "ref inv of direct", q, logn, inf);
                    }
                hekv_ntt_tab_free_ref(tab);
            }
        gbuf_free(&b);
    }
}

/* ---- reference round trips and NTL products ------------------------------------------ */

/* in_factor 4 input, lazy forward, lazy inverse: inv(fwd(a)) == a mod q; and the fully
 * reduced round trip is the identity. */
static void check_roundtrip(void *(*tab_new)(uint64_t, int, uint64_t),
                            void (*tab_free)(void *), ntt_fn fwd, ntt_fn inv,
                            const int *bits, size_t nbits, uint64_t salt, const char *what) {
    test_rng g = test_rng_new(salt);
    for (int logn = 4; logn <= max_logn(); logn++) {
        const size_t n = (size_t)1 << logn;
        gbuf b = gbuf_new(n, logn & 1);
        uint64_t *in = malloc(n * 8), *x = malloc(n * 8);
        cr_assert(in && x);
        for (size_t bi = 0; bi < nbits; bi++)
            for (int low = 0; low < 2; low++) {
                const uint64_t q = low ? prime_low(bits[bi], logn) : prime_top(bits[bi], logn);
                void *tab = tab_new(q, logn, root_of(q, logn));
                cr_assert_not_null(tab);
                fill_input(&g, in, n, q, q);
                run_guarded(fwd, tab, &b, in, 1, 1, what);
                memcpy(x, b.p, n * 8);
                run_guarded(inv, tab, &b, x, 1, 1, what);
                expect_equal(in, b.p, n, what, q, logn, 1, 1);
                /* lazy chain: [0, 4q) in, [0, 4q) out, brought to [0, 2q), [0, 2q) out */
                for (size_t i = 0; i < n; i++) x[i] = in[i] + q * (test_u64(&g) & 3);
                x[0] = in[0] + 3 * q;
                run_guarded(fwd, tab, &b, x, 4, 4, what);
                for (size_t i = 0; i < n; i++) {
                    cr_assert_lt(b.p[i], 4 * q, "%s: lazy forward out of range", what);
                    x[i] = b.p[i] >= 2 * q ? b.p[i] - 2 * q : b.p[i];
                }
                run_guarded(inv, tab, &b, x, 2, 2, what);
                expect_lazy(in, b.p, n, 2, what, q, logn, 2);
                tab_free(tab);
            }
        free(in);
        free(x);
        gbuf_free(&b);
    }
}

Test(kernels, ntt_ref_roundtrip) {
    check_roundtrip(hekv_ntt_tab_new_ref, hekv_ntt_tab_free_ref, hekv_ntt_fwd_ref,
                    hekv_ntt_inv_ref, ref_bits, NREF_BITS, 0x4e7702, "ref round trip");
}

/* c = a * b in Z_q[X]/(X^N + 1) by NTT (fwd a, fwd b, pointwise, inv) must equal NTL's. */
static void check_ntl_product(void *(*tab_new)(uint64_t, int, uint64_t),
                              void (*tab_free)(void *), ntt_fn fwd, ntt_fn inv,
                              const int *bits, size_t nbits, uint64_t salt, const char *what) {
    test_rng g = test_rng_new(salt);
    const int top = test_full() ? 16 : 12;
    for (int logn = 4; logn <= top; logn++) {
        const size_t n = (size_t)1 << logn;
        uint64_t *a = malloc(n * 8), *b = malloc(n * 8), *fa = malloc(n * 8),
                 *fb = malloc(n * 8), *want = malloc(n * 8);
        cr_assert(a && b && fa && fb && want);
        for (size_t bi = 0; bi < nbits; bi++) {
            const uint64_t q = prime_top(bits[bi], logn);
            void *tab = tab_new(q, logn, root_of(q, logn));
            cr_assert_not_null(tab);
            fill_input(&g, a, n, q, q);
            fill_input(&g, b, n, q, q);
            b[n - 1] = q - 1; /* a top coefficient, so the wrap-around X^N = -1 is exercised */
            cr_assert_eq(hekv_oracle_ntl_negacyclic_mul(want, a, b, n, q), 0, "NTL oracle");
            memcpy(fa, a, n * 8);
            memcpy(fb, b, n * 8);
            fwd(tab, fa, 1, 1);
            fwd(tab, fb, 1, 1);
            for (size_t i = 0; i < n; i++) fa[i] = mulmod(fa[i], fb[i], q);
            inv(tab, fa, 1, 1);
            expect_equal(want, fa, n, what, q, logn, 1, 1);
            tab_free(tab);
        }
        free(a), free(b), free(fa), free(fb), free(want);
    }
}

static const int ntl_ref_bits[] = {30, 40, 50, 55, 61};

Test(kernels, ntt_ref_ntl_product) {
    check_ntl_product(hekv_ntt_tab_new_ref, hekv_ntt_tab_free_ref, hekv_ntt_fwd_ref,
                      hekv_ntt_inv_ref, ntl_ref_bits,
                      sizeof ntl_ref_bits / sizeof ntl_ref_bits[0], 0x4e7703, "ref vs NTL");
}

Test(kernels, ntt_oracle_ntl_selfcheck) {
    /* (1 + X^(N-1)) * X = X - 1 + ... : X^N wraps to -1. N = 16, q = 97. */
    uint64_t a[16] = {0}, b[16] = {0}, c[16];
    a[0] = 1, a[15] = 1, b[1] = 1;
    cr_assert_eq(hekv_oracle_ntl_negacyclic_mul(c, a, b, 16, 97), 0);
    for (int i = 0; i < 16; i++)
        cr_assert_eq(c[i], i == 0 ? 96u : i == 1 ? 1u : 0u, "coefficient %d = %llu", i,
                     (unsigned long long)c[i]);
    cr_assert_eq(hekv_oracle_ntl_negacyclic_mul(c, a, b, 16, 1), -1);
    b[3] = 97;
    cr_assert_eq(hekv_oracle_ntl_negacyclic_mul(c, a, b, 16, 97), -1);
}

/* ---- IFMA against the reference ------------------------------------------------------ */

#ifndef HEKV_NO_AVX512
/* 46 and 47 bits straddle the forward transform's lazy path (primes below 2^46) */
static const int ifma_bits[] = {30, 31, 40, 46, 47, 48, 49, 50};
#define NIFMA_BITS (sizeof ifma_bits / sizeof ifma_bits[0])

/* A variant under test: the IFMA functions called directly, or what the dispatcher gives
 * for (HEKV_KERN_AVX512, q, n). */
typedef struct {
    const char *name;
    void *tab;
    void (*tab_free)(void *);
    ntt_fn fwd, inv;
} variant;

static int ifma_variants(variant *v, uint64_t q, int logn, uint64_t psi) {
    v[0] = (variant){"ifma direct", hekv_ntt_tab_new_ifma(q, logn, psi),
                     hekv_ntt_tab_free_ifma, hekv_ntt_fwd_ifma, hekv_ntt_inv_ifma};
    const hekv_kern_ops *ops = hekv_kern_select(HEKV_KERN_AVX512, q, (size_t)1 << logn);
    cr_assert_eq(ops, &hekv_kern_avx512, "dispatcher did not pick IFMA for q=%llu logN=%d",
                 (unsigned long long)q, logn);
    v[1] = (variant){"ifma dispatched", ops->ntt_tab_new(q, logn, psi), ops->ntt_tab_free,
                     ops->ntt_fwd, ops->ntt_inv};
    cr_assert(v[0].tab && v[1].tab, "IFMA table for q=%llu logN=%d",
              (unsigned long long)q, logn);
    return 2;
}

/* Input patterns: 0 random with edge values, 1 every slot at the top of the range. */
static void fill_pattern(test_rng *g, uint64_t *v, size_t n, uint64_t q, uint64_t bound,
                         int pattern) {
    fill_input(g, v, n, q, bound);
    if (pattern == 1)
        for (size_t i = 0; i + 1 < n; i++) v[i] = bound - 1;
}
#endif

Test(kernels, ntt_fwd_ifma_vs_ref) {
#ifdef HEKV_NO_AVX512
    cr_skip_test("built with HEKV_NO_AVX512: no IFMA kernels");
#else
    if (!hekv_cpu_has_avx512_kernels()) cr_skip_test("no AVX-512 IFMA on this CPU");
    test_rng g = test_rng_new(0x4e7704);
    for (int logn = 4; logn <= max_logn(); logn++) {
        const size_t n = (size_t)1 << logn;
        gbuf b = gbuf_new(n, logn & 1);
        uint64_t *in = malloc(n * 8), *want = malloc(n * 8);
        cr_assert(in && want);
        for (size_t bi = 0; bi < NIFMA_BITS; bi++)
            for (int low = 0; low < 2; low++) {
                const uint64_t q = low ? prime_low(ifma_bits[bi], logn)
                                       : prime_top(ifma_bits[bi], logn);
                const uint64_t psi = root_of(q, logn);
                void *rt = hekv_ntt_tab_new_ref(q, logn, psi);
                variant v[2];
                const int nv = ifma_variants(v, q, logn, psi);
                for (int inf = 1; inf <= 4; inf *= 2)
                    for (int pat = 0; pat < 2; pat++) {
                        fill_pattern(&g, in, n, q, (uint64_t)inf * q, pat);
                        run_guarded(hekv_ntt_fwd_ref, rt, &b, in, inf, 1, "ref fwd");
                        memcpy(want, b.p, n * 8);
                        for (int k = 0; k < nv; k++)
                            for (int outf = 1; outf <= 4; outf *= 4) {
                                run_guarded(v[k].fwd, v[k].tab, &b, in, inf, outf, v[k].name);
                                if (outf == 1)
                                    expect_equal(want, b.p, n, v[k].name, q, logn, inf, 1);
                                else
                                    expect_lazy(want, b.p, n, 4, v[k].name, q, logn, inf);
                            }
                    }
                for (int k = 0; k < nv; k++) v[k].tab_free(v[k].tab);
                hekv_ntt_tab_free_ref(rt);
            }
        free(in), free(want);
        gbuf_free(&b);
    }
#endif
}

Test(kernels, ntt_inv_ifma_vs_ref) {
#ifdef HEKV_NO_AVX512
    cr_skip_test("built with HEKV_NO_AVX512: no IFMA kernels");
#else
    if (!hekv_cpu_has_avx512_kernels()) cr_skip_test("no AVX-512 IFMA on this CPU");
    test_rng g = test_rng_new(0x4e7705);
    for (int logn = 4; logn <= max_logn(); logn++) {
        const size_t n = (size_t)1 << logn;
        gbuf b = gbuf_new(n, logn & 1);
        uint64_t *in = malloc(n * 8), *want = malloc(n * 8);
        cr_assert(in && want);
        for (size_t bi = 0; bi < NIFMA_BITS; bi++)
            for (int low = 0; low < 2; low++) {
                const uint64_t q = low ? prime_low(ifma_bits[bi], logn)
                                       : prime_top(ifma_bits[bi], logn);
                const uint64_t psi = root_of(q, logn);
                void *rt = hekv_ntt_tab_new_ref(q, logn, psi);
                variant v[2];
                const int nv = ifma_variants(v, q, logn, psi);
                for (int inf = 1; inf <= 2; inf++)
                    for (int pat = 0; pat < 2; pat++) {
                        fill_pattern(&g, in, n, q, (uint64_t)inf * q, pat);
                        run_guarded(hekv_ntt_inv_ref, rt, &b, in, inf, 1, "ref inv");
                        memcpy(want, b.p, n * 8);
                        for (int k = 0; k < nv; k++)
                            for (int outf = 1; outf <= 2; outf++) {
                                run_guarded(v[k].inv, v[k].tab, &b, in, inf, outf, v[k].name);
                                if (outf == 1)
                                    expect_equal(want, b.p, n, v[k].name, q, logn, inf, 1);
                                else
                                    expect_lazy(want, b.p, n, 2, v[k].name, q, logn, inf);
                            }
                    }
                for (int k = 0; k < nv; k++) v[k].tab_free(v[k].tab);
                hekv_ntt_tab_free_ref(rt);
            }
        free(in), free(want);
        gbuf_free(&b);
    }
#endif
}

Test(kernels, ntt_ifma_roundtrip) {
#ifdef HEKV_NO_AVX512
    cr_skip_test("built with HEKV_NO_AVX512: no IFMA kernels");
#else
    if (!hekv_cpu_has_avx512_kernels()) cr_skip_test("no AVX-512 IFMA on this CPU");
    check_roundtrip(hekv_ntt_tab_new_ifma, hekv_ntt_tab_free_ifma, hekv_ntt_fwd_ifma,
                    hekv_ntt_inv_ifma, ifma_bits, NIFMA_BITS, 0x4e7706, "ifma round trip");
#endif
}

Test(kernels, ntt_ifma_ntl_product) {
#ifdef HEKV_NO_AVX512
    cr_skip_test("built with HEKV_NO_AVX512: no IFMA kernels");
#else
    if (!hekv_cpu_has_avx512_kernels()) cr_skip_test("no AVX-512 IFMA on this CPU");
    static const int bits[] = {30, 40, 50};
    check_ntl_product(hekv_ntt_tab_new_ifma, hekv_ntt_tab_free_ifma, hekv_ntt_fwd_ifma,
                      hekv_ntt_inv_ifma, bits, sizeof bits / sizeof bits[0], 0x4e7707,
                      "ifma vs NTL");
#endif
}

/* The dispatcher's NTT entries around the IFMA threshold (q < 2^50): 49 and 50 bits get
 * IFMA when the CPU has it, 51 and 61 bits and any SCALAR request get the reference. */
Test(kernels, ntt_dispatch_threshold) {
    static const int bits[] = {49, 50, 51, 61};
    for (size_t bi = 0; bi < sizeof bits / sizeof bits[0]; bi++)
        for (int logn = 4; logn <= 12; logn += 8) {
            const uint64_t q = prime_top(bits[bi], logn);
            const size_t n = (size_t)1 << logn;
            const hekv_kern_ops *s = hekv_kern_select(HEKV_KERN_SCALAR, q, n);
            cr_assert(s->ntt_fwd == hekv_ntt_fwd_ref && s->ntt_inv == hekv_ntt_inv_ref);
            const hekv_kern_ops *v = hekv_kern_select(HEKV_KERN_AVX512, q, n);
#ifndef HEKV_NO_AVX512
            if (bits[bi] <= 50 && hekv_cpu_has_avx512_kernels()) {
                cr_assert(v->ntt_fwd == hekv_ntt_fwd_ifma && v->ntt_inv == hekv_ntt_inv_ifma &&
                              v->ntt_tab_new == hekv_ntt_tab_new_ifma,
                          "%d-bit q should get the IFMA NTT", bits[bi]);
                continue;
            }
#endif
            cr_assert(v->ntt_fwd == hekv_ntt_fwd_ref && v->ntt_inv == hekv_ntt_inv_ref &&
                          v->ntt_tab_new == hekv_ntt_tab_new_ref,
                      "%d-bit q should get the reference NTT", bits[bi]);
        }
}
