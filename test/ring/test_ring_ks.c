/* test_ring_ks.c: the ring operations added for key switching: NTTs on a limb range, the
 * centred basis conversion against an exact GMP CRT (x' + u*B with x' centred, |u| <= k/2)
 * and its oddness, several plans in one pass equal to separate calls, the fused key-switching
 * inner product (with and without an automorphism) and the fused (a - b) * s, each against
 * the composition of the plain ring operations, bit for bit, on scalar and AVX-512 rings. */
#include <gmp.h>
#include <string.h>

#include "../../kernels/primes.h"
#include "../../src/ring/ring.h"
#include "../util.h"

static hekv_ring *ring_of(int logn, int nprimes, int bits, const uint64_t *avoid, int navoid,
                          uint64_t *primes, hekv_isa isa, int threads) {
    cr_assert_eq(hekv_primes_generate(primes, nprimes, bits, logn, avoid, navoid), HEKV_OK);
    hekv_ring_lit lit = {.logn = logn, .nprimes = nprimes, .primes = primes, .isa = isa,
                         .threads = threads};
    hekv_ring *r = NULL;
    hekv_err err;
    cr_assert_eq(hekv_ring_new(&lit, &r, &err), HEKV_OK, "%s", err.msg);
    return r;
}

static void random_poly(const hekv_ring *r, hekv_poly *p, test_rng *g) {
    for (size_t i = 0; i < p->limbs; i++)
        test_fill(g, p->c + i * p->n, p->n, hekv_ring_modulus(r, (int)i)->q);
}

static int isa_ok(hekv_isa isa) {
    return isa != HEKV_ISA_AVX512 || hekv_cpu_has_avx512_kernels();
}

Test(ring_ks, ntt_range_matches_full) {
    uint64_t pr[6];
    hekv_ring *r = ring_of(10, 6, 45, NULL, 0, pr, HEKV_ISA_AUTO, 2);
    test_rng g = test_rng_new(1);
    hekv_poly a, b;
    cr_assert_eq(hekv_poly_new(r, 6, &a), HEKV_OK);
    cr_assert_eq(hekv_poly_new(r, 6, &b), HEKV_OK);
    random_poly(r, &a, &g);
    hekv_poly_copy(r, &b, &a);
    hekv_ring_ntt_fwd(r, &a);
    hekv_ring_ntt_fwd_range(r, &b, 2, 5);
    const size_t n = a.n;
    for (size_t i = 2; i < 5; i++)
        cr_assert_eq(memcmp(a.c + i * n, b.c + i * n, n * 8), 0, "limb %zu", i);
    hekv_ring_ntt_fwd_range(r, &b, 0, 2);
    hekv_ring_ntt_fwd_range(r, &b, 5, 6);
    hekv_ring_ntt_fwd_range(r, &b, 3, 3); /* empty range: nothing */
    cr_assert_eq(memcmp(a.c, b.c, 6 * n * 8), 0);
    hekv_ring_ntt_inv_range(r, &b, 1, 6);
    hekv_ring_ntt_inv(r, &a);
    cr_assert_eq(memcmp(a.c + n, b.c + n, 5 * n * 8), 0, "range inverse");
    hekv_poly_free(&a);
    hekv_poly_free(&b);
    hekv_ring_free(r);
}

/* The centred conversion of random residues (plus edge values) against GMP. */
static void check_centered(int logn, int k, int l, int bits_from, int bits_to, hekv_isa isa,
                           uint64_t salt) {
    if (!isa_ok(isa)) return;
    uint64_t pf[64], pt[64];
    hekv_ring *rf = ring_of(logn, k, bits_from, NULL, 0, pf, isa, 2);
    hekv_ring *rt = ring_of(logn, l, bits_to, pf, k, pt, isa, 2);
    hekv_bconv *bc;
    hekv_err err;
    cr_assert_eq(hekv_bconv_new(rf, 0, k, rt, 0, l, &bc, &err), HEKV_OK, "%s", err.msg);
    const size_t n = (size_t)1 << logn;
    uint64_t *in = hekv_alloc_aligned((size_t)k * n * 8);
    uint64_t *neg = hekv_alloc_aligned((size_t)k * n * 8);
    uint64_t *out = hekv_alloc_aligned((size_t)l * n * 8);
    uint64_t *nout = hekv_alloc_aligned((size_t)l * n * 8);
    uint64_t *scratch = hekv_alloc_aligned(hekv_bconv_scratch_words(bc) * 8);
    test_rng g = test_rng_new(salt);
    for (int i = 0; i < k; i++) test_fill(&g, in + i * n, n, pf[i]);
    for (int i = 0; i < k; i++) in[i * n] = 0, in[i * n + 1] = pf[i] - 1; /* x = 0, x = -1 */
    hekv_bconv_apply_centered(bc, out, in, scratch, l);

    mpz_t B, half, x, t, bi, hat, inv;
    mpz_inits(B, half, x, t, bi, hat, inv, NULL);
    mpz_set_ui(B, 1);
    for (int i = 0; i < k; i++) mpz_mul_ui(B, B, pf[i]);
    mpz_fdiv_q_2exp(half, B, 1);
    for (size_t c = 0; c < n; c++) {
        mpz_set_ui(x, 0);
        for (int i = 0; i < k; i++) {
            mpz_set_ui(bi, pf[i]);
            mpz_divexact(hat, B, bi);
            mpz_invert(inv, hat, bi);
            mpz_mul_ui(t, hat, in[i * n + c]);
            mpz_mul(t, t, inv);
            mpz_add(x, x, t);
        }
        mpz_mod(x, x, B);
        if (mpz_cmp(x, half) > 0) mpz_sub(x, x, B); /* centred value */
        int found = 0;
        for (long u = -(k + 1) / 2; u <= (k + 1) / 2 && !found; u++) {
            mpz_set(t, B);
            mpz_mul_si(t, t, u);
            mpz_add(t, t, x);
            found = 1;
            for (int j = 0; j < l && found; j++) found = mpz_fdiv_ui(t, pt[j]) == out[j * n + c];
        }
        cr_assert(found, "k %d coefficient %zu: no |u| <= k/2 explains the centred output", k, c);
    }
    mpz_clears(B, half, x, t, bi, hat, inv, NULL);
    /* odd: conv(-x) = -conv(x) */
    for (int i = 0; i < k; i++)
        for (size_t c = 0; c < n; c++) neg[i * n + c] = in[i * n + c] ? pf[i] - in[i * n + c] : 0;
    hekv_bconv_apply_centered(bc, nout, neg, scratch, l);
    for (int j = 0; j < l; j++)
        for (size_t c = 0; c < n; c++) {
            uint64_t v = out[j * n + c];
            cr_assert_eq(nout[j * n + c], v ? pt[j] - v : 0, "k %d odd: limb %d coef %zu", k, j, c);
        }
    hekv_free_aligned(in), hekv_free_aligned(neg), hekv_free_aligned(out);
    hekv_free_aligned(nout), hekv_free_aligned(scratch);
    hekv_bconv_free(bc);
    hekv_ring_free(rf), hekv_ring_free(rt);
}

Test(ring_ks, bconv_centered_vs_gmp) {
    const hekv_isa isas[2] = {HEKV_ISA_SCALAR, HEKV_ISA_AVX512};
    for (int t = 0; t < 2; t++) {
        check_centered(4, 1, 2, 40, 45, isas[t], 31);
        check_centered(6, 3, 4, 50, 49, isas[t], 32);
        check_centered(8, 11, 5, 40, 50, isas[t], 33);
        check_centered(8, 9, 12, 50, 40, isas[t], 34);
    }
}

/* apply_multi = the separate calls, plain and centred; prefixes honoured. */
Test(ring_ks, bconv_multi_equals_separate) {
    const int logn = 9, nq = 7;
    const size_t n = (size_t)1 << logn;
    uint64_t pq[8], pp[3];
    hekv_ring *rq = ring_of(logn, nq, 45, NULL, 0, pq, HEKV_ISA_AUTO, 2);
    hekv_ring *rp = ring_of(logn, 3, 50, pq, nq, pp, HEKV_ISA_AUTO, 2);
    hekv_bconv *lo, *hi, *p;
    hekv_err err;
    /* source limbs [2, 4) of Q to Q[0, 2), Q[4, 7) and P */
    cr_assert_eq(hekv_bconv_new(rq, 2, 2, rq, 0, 2, &lo, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_bconv_new(rq, 2, 2, rq, 4, 3, &hi, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_bconv_new(rq, 2, 2, rp, 0, 3, &p, &err), HEKV_OK, "%s", err.msg);
    uint64_t *in = hekv_alloc_aligned(2 * n * 8), *scratch = hekv_alloc_aligned(3 * n * 8);
    uint64_t *a[3], *b[3];
    for (int i = 0; i < 3; i++) {
        a[i] = hekv_calloc_aligned(3 * n, 8);
        b[i] = hekv_calloc_aligned(3 * n, 8);
    }
    test_rng g = test_rng_new(40);
    test_fill(&g, in, n, pq[2]);
    test_fill(&g, in + n, n, pq[3]);
    const hekv_bconv *plans[3] = {lo, hi, p};
    const int cnt[3] = {2, 2, 3}; /* hi as a prefix of 2 of its 3 limbs */
    for (int centered = 0; centered < 2; centered++) {
        hekv_bconv_apply_multi(plans, a, cnt, 3, in, scratch, centered);
        for (int i = 0; i < 3; i++) {
            if (centered)
                hekv_bconv_apply_centered(plans[i], b[i], in, scratch, cnt[i]);
            else
                hekv_bconv_apply_prefix(plans[i], b[i], in, scratch, cnt[i]);
            cr_assert_eq(memcmp(a[i], b[i], (size_t)cnt[i] * n * 8), 0, "plan %d centred %d",
                         i, centered);
        }
    }
    for (int i = 0; i < 3; i++) hekv_free_aligned(a[i]), hekv_free_aligned(b[i]);
    hekv_free_aligned(in), hekv_free_aligned(scratch);
    hekv_bconv_free(lo), hekv_bconv_free(hi), hekv_bconv_free(p);
    hekv_ring_free(rq), hekv_ring_free(rp);
}

/* dot2 and sub_mul_scalar against automorph + mul/mul_acc and sub + mul_scalar. */
static void check_fused(int logn, hekv_isa isa, int threads, uint64_t salt) {
    if (!isa_ok(isa)) return;
    enum { L = 5, K = 3 };
    uint64_t pr[L];
    hekv_ring *r = ring_of(logn, L, 49, NULL, 0, pr, isa, threads);
    test_rng g = test_rng_new(salt);
    hekv_poly d[K], b[K], a[K], o0, o1, e0, e1, t;
    const hekv_poly *dp[K], *bp[K], *ap[K];
    for (int j = 0; j < K; j++) {
        cr_assert_eq(hekv_poly_new(r, L, &d[j]), HEKV_OK);
        cr_assert_eq(hekv_poly_new(r, L, &b[j]), HEKV_OK);
        cr_assert_eq(hekv_poly_new(r, L, &a[j]), HEKV_OK);
        random_poly(r, &d[j], &g), random_poly(r, &b[j], &g), random_poly(r, &a[j], &g);
        d[j].ntt = b[j].ntt = a[j].ntt = 1;
        dp[j] = &d[j], bp[j] = &b[j], ap[j] = &a[j];
    }
    cr_assert_eq(hekv_poly_new(r, L, &o0), HEKV_OK);
    cr_assert_eq(hekv_poly_new(r, L, &o1), HEKV_OK);
    cr_assert_eq(hekv_poly_new(r, L, &e0), HEKV_OK);
    cr_assert_eq(hekv_poly_new(r, L, &e1), HEKV_OK);
    cr_assert_eq(hekv_poly_new(r, L, &t), HEKV_OK);
    const size_t n = (size_t)1 << logn;
    uint32_t *map = malloc(n * sizeof *map);
    const uint64_t gal[3] = {1, 5, 2 * n - 1};
    for (int gi = 0; gi < 3; gi++) {
        const uint32_t *m = NULL;
        if (gal[gi] != 1) {
            cr_assert_eq(hekv_automorph_map_ntt(map, logn, gal[gi]), HEKV_OK);
            m = map;
        }
        for (int k = 1; k <= K; k++) {
            hekv_poly v0 = o0, v1 = o1; /* a prefix of 4 limbs: the rest stays untouched */
            v0.limbs = v1.limbs = L - 1;
            hekv_poly_zero(r, &o0), hekv_poly_zero(r, &o1);
            hekv_ring_dot2(r, &v0, &v1, dp, bp, ap, k, m);
            hekv_poly w0 = e0, w1 = e1;
            w0.limbs = w1.limbs = L - 1;
            hekv_poly_zero(r, &e0), hekv_poly_zero(r, &e1);
            for (int j = 0; j < k; j++) {
                const hekv_poly *src = &d[j];
                if (m) {
                    hekv_ring_automorph(r, &t, &d[j], m);
                    src = &t;
                }
                hekv_ring_mul_acc(r, &w0, src, &b[j]);
                hekv_ring_mul_acc(r, &w1, src, &a[j]);
            }
            cr_assert_eq(memcmp(o0.c, e0.c, L * n * 8), 0, "dot2 out0 g %llu k %d",
                         (unsigned long long)gal[gi], k);
            cr_assert_eq(memcmp(o1.c, e1.c, L * n * 8), 0, "dot2 out1 g %llu k %d",
                         (unsigned long long)gal[gi], k);
        }
    }
    uint64_t s[L];
    for (int i = 0; i < L; i++) s[i] = test_below(&g, pr[i]);
    hekv_ring_sub_mul_scalar(r, &o0, &d[0], &d[1], s);
    hekv_ring_sub(r, &e0, &d[0], &d[1]);
    hekv_ring_mul_scalar(r, &e0, &e0, s);
    cr_assert_eq(memcmp(o0.c, e0.c, L * n * 8), 0, "sub_mul_scalar");
    hekv_ring_sub_mul_scalar(r, &o0, &o0, &d[1], s); /* out aliasing a */
    hekv_ring_sub(r, &e0, &e0, &d[1]);
    hekv_ring_mul_scalar(r, &e0, &e0, s);
    cr_assert_eq(memcmp(o0.c, e0.c, L * n * 8), 0, "sub_mul_scalar in place");
    free(map);
    for (int j = 0; j < K; j++) hekv_poly_free(&d[j]), hekv_poly_free(&b[j]), hekv_poly_free(&a[j]);
    hekv_poly_free(&o0), hekv_poly_free(&o1), hekv_poly_free(&e0), hekv_poly_free(&e1);
    hekv_poly_free(&t);
    hekv_ring_free(r);
}

Test(ring_ks, fused_ops_equal_composition) {
    check_fused(4, HEKV_ISA_SCALAR, 1, 50);
    check_fused(11, HEKV_ISA_SCALAR, 2, 51);
    check_fused(4, HEKV_ISA_AVX512, 1, 52);
    check_fused(11, HEKV_ISA_AVX512, 2, 53);
    check_fused(12, HEKV_ISA_AVX512, 1, 54);
}
