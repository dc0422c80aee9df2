/* test_ring_ks.c: the ring operations added for key switching: NTTs on a limb range, the
 * centred basis conversion against an exact GMP CRT (x' + u*B with x' centred, |u| <= k/2)
 * and its oddness, several plans in one pass equal to separate calls, the fused key-switching
 * inner product (with and without an automorphism), the fused (a - b) * s, the limb-fused
 * key-switching passes (digits transformed on the fly, own limbs formed from c, ModDown and
 * the added terms), the fused INTT of a product / an automorphism, the fused public-key
 * encryption products and the rounding division by the last prime, each against the
 * composition of the plain ring operations, bit for bit, on scalar and AVX-512 rings. */
#include <gmp.h>
#include <string.h>

#include "kernels/primes.h"
#include "src/ring/ring_fused.h"
#include "src/ring/ring.h"
#include "src/ring/sample.h"
#include "test/util.h"

static hekv_ring *ring_of(int logn, int nprimes, int bits, const uint64_t *avoid, int navoid,
                          uint64_t *primes, hekv_isa isa, int threads) {
    cr_assert_eq(hekv_primes_generate(primes, nprimes, bits, logn, avoid, navoid), HEKV_KERN_OK);
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
        hekv_bconv_apply_multi(plans, a, cnt, 3, in, scratch, centered, 0);
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

/* sub_mul_scalar against sub + mul_scalar, also with out aliasing a. */
static void check_sub_mul_scalar(int logn, hekv_isa isa, int threads, uint64_t salt) {
    if (!isa_ok(isa)) return;
    enum { L = 5 };
    uint64_t pr[L];
    hekv_ring *r = ring_of(logn, L, 49, NULL, 0, pr, isa, threads);
    test_rng g = test_rng_new(salt);
    const size_t n = (size_t)1 << logn;
    hekv_poly d[2], o0, e0;
    for (int j = 0; j < 2; j++) {
        cr_assert_eq(hekv_poly_new(r, L, &d[j]), HEKV_OK);
        random_poly(r, &d[j], &g);
        d[j].ntt = 1;
    }
    cr_assert_eq(hekv_poly_new(r, L, &o0), HEKV_OK);
    cr_assert_eq(hekv_poly_new(r, L, &e0), HEKV_OK);
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
    for (int j = 0; j < 2; j++) hekv_poly_free(&d[j]);
    hekv_poly_free(&o0), hekv_poly_free(&e0);
    hekv_ring_free(r);
}

Test(ring_ks, sub_mul_scalar_equals_composition) {
    check_sub_mul_scalar(4, HEKV_ISA_SCALAR, 1, 50);
    check_sub_mul_scalar(11, HEKV_ISA_SCALAR, 2, 51);
    check_sub_mul_scalar(4, HEKV_ISA_AVX512, 1, 52);
    check_sub_mul_scalar(11, HEKV_ISA_AVX512, 2, 53);
    check_sub_mul_scalar(12, HEKV_ISA_AVX512, 1, 54);
}

/* hekv_ring_ntt_inv_from, hekv_ring_ks_dot_inv and hekv_ring_ks_dot_moddown against the
 * plain ring operations: digits in coefficient form or NTT form, own limbs of c = own or
 * own * own2, every combination of the added e0, tensor and f terms, outputs permuted by
 * an automorphism, and outputs aliasing the tensor operands or f. */
static void check_ks_pipeline(int logn, hekv_isa isa, int threads, uint64_t salt) {
    if (!isa_ok(isa)) return;
    enum { L = 7, K = 3, ALPHA = 3 };
    uint64_t pr[L];
    hekv_ring *r = ring_of(logn, L, 48, NULL, 0, pr, isa, threads);
    test_rng g = test_rng_new(salt);
    const size_t n = (size_t)1 << logn;
    hekv_poly d[K], dn[K], b[K], a[K], c, c2, cx, conv[2], cv[2], o[2], e[2], t[4], x, e0;
    hekv_poly *dp[K];
    const hekv_poly *bp[K], *ap[K];
    for (int j = 0; j < K; j++) {
        cr_assert_eq(hekv_poly_new(r, L, &d[j]), HEKV_OK);
        cr_assert_eq(hekv_poly_new(r, L, &dn[j]), HEKV_OK);
        cr_assert_eq(hekv_poly_new(r, L, &b[j]), HEKV_OK);
        cr_assert_eq(hekv_poly_new(r, L, &a[j]), HEKV_OK);
        random_poly(r, &b[j], &g), random_poly(r, &a[j], &g);
        b[j].ntt = a[j].ntt = 1;
        dp[j] = &d[j], bp[j] = &b[j], ap[j] = &a[j];
    }
    hekv_poly *all[] = {&c, &c2, &cx, &conv[0], &conv[1], &cv[0], &cv[1], &o[0], &o[1],
                        &e[0], &e[1], &t[0], &t[1], &t[2], &t[3], &x, &e0};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        cr_assert_eq(hekv_poly_new(r, L, all[i]), HEKV_OK);
    random_poly(r, &c, &g), random_poly(r, &c2, &g), random_poly(r, &e0, &g);
    for (int u = 0; u < 4; u++) random_poly(r, &t[u], &g);
    c.ntt = c2.ntt = e0.ntt = 1;
    uint32_t *map = malloc(n * sizeof *map);
    cr_assert_eq(hekv_automorph_map_ntt(map, logn, 5), HEKV_KERN_OK);
    uint64_t s[L];
    for (int i = 0; i < L; i++) s[i] = test_below(&g, pr[i]);
    int ob[K], oe[K];
    for (int j = 0; j < K; j++) ob[j] = j * ALPHA, oe[j] = (j + 1) * ALPHA < L ? (j + 1) * ALPHA : L;

    /* ntt_inv_from: the two forms of x */
    for (int form = 0; form < 2; form++) {
        hekv_ring_ntt_inv_from(r, &o[0], &c, form == 1 ? &c2 : NULL);
        if (form == 1) hekv_ring_mul(r, &x, &c, &c2);
        else hekv_poly_copy(r, &x, &c);
        hekv_ring_ntt_inv(r, &x);
        cr_assert_eq(memcmp(o[0].c, x.c, L * n * 8), 0, "ntt_inv_from form %d", form);
    }

    /* mode 5's in-place scratch: two limbs per thread */
    uint64_t *keep = aligned_alloc(64, (size_t)(2 * threads) * n * 8);
    hekv_poly ek, ck; /* mode 5: copies of e0 and c that the outputs overwrite */
    cr_assert(keep);
    cr_assert_eq(hekv_poly_new(r, L, &ek), HEKV_OK);
    cr_assert_eq(hekv_poly_new(r, L, &ck), HEKV_OK);
    for (int mode = 0; mode < 6; mode++) {
        /* mode 0: coef digits, own c; 1: own c * c2; 2: as 0 with the outputs permuted by
         * phi; 3: NTT digits, no own, outputs permuted; 4: as 1 with outputs aliasing t[0]
         * and t[3]; 5: as 2 in place (add.keep), out0 aliasing e0 (or not, without e0)
         * and out1 aliasing own */
        const int coef = mode != 3;
        const uint32_t *omap = mode == 2 || mode == 3 || mode == 5 ? map : NULL;
        for (int j = 0; j < K; j++) {
            random_poly(r, &d[j], &g);
            hekv_poly_copy(r, &dn[j], &d[j]);
            d[j].ntt = !coef;
        }
        random_poly(r, &conv[0], &g), random_poly(r, &conv[1], &g);
        hekv_poly_copy(r, &cv[0], &conv[0]), hekv_poly_copy(r, &cv[1], &conv[1]);
        /* the expected digits x_j, NTT form */
        if (mode == 1 || mode == 4) hekv_ring_mul(r, &cx, &c, &c2);
        else hekv_poly_copy(r, &cx, &c);
        hekv_poly xs[K];
        for (int j = 0; j < K; j++) {
            cr_assert_eq(hekv_poly_new(r, L, &xs[j]), HEKV_OK);
            hekv_poly_copy(r, &xs[j], &dn[j]);
            if (coef) hekv_ring_ntt_fwd(r, &xs[j]);
            if (mode != 3) {
                memcpy(xs[j].c + (size_t)ob[j] * n, cx.c + (size_t)ob[j] * n,
                       (size_t)(oe[j] - ob[j]) * n * 8);
            }
        }
        hekv_ring_ks_args ks = {K, dp, coef, mode == 3 ? NULL : &c,
                                mode == 1 || mode == 4 ? &c2 : NULL, ob, oe, bp, ap};
        /* P-like side: INTT of the dot */
        hekv_ring_ks_dot_inv(r, &o[0], &o[1], &ks);
        hekv_poly_zero(r, &e[0]), hekv_poly_zero(r, &e[1]);
        for (int j = 0; j < K; j++) {
            hekv_ring_mul_acc(r, &e[0], &xs[j], &b[j]);
            hekv_ring_mul_acc(r, &e[1], &xs[j], &a[j]);
        }
        hekv_poly dot0 = e[0], dot1 = e[1];
        hekv_poly d0c, d1c;
        cr_assert_eq(hekv_poly_new(r, L, &d0c), HEKV_OK);
        cr_assert_eq(hekv_poly_new(r, L, &d1c), HEKV_OK);
        hekv_poly_copy(r, &d0c, &dot0), hekv_poly_copy(r, &d1c, &dot1);
        hekv_ring_ntt_inv(r, &d0c), hekv_ring_ntt_inv(r, &d1c);
        cr_assert_eq(memcmp(o[0].c, d0c.c, L * n * 8), 0, "ks_dot_inv out0 mode %d", mode);
        cr_assert_eq(memcmp(o[1].c, d1c.c, L * n * 8), 0, "ks_dot_inv out1 mode %d", mode);
        /* Q-like side with ModDown and the added terms; the digits are transformed again */
        for (int j = 0; j < K; j++) hekv_poly_copy(r, &d[j], &dn[j]);
        hekv_poly tt[4];
        for (int u = 0; u < 4; u++) {
            cr_assert_eq(hekv_poly_new(r, L, &tt[u]), HEKV_OK);
            hekv_poly_copy(r, &tt[u], &t[u]);
        }
        hekv_ring_ntt_fwd(r, &cv[0]), hekv_ring_ntt_fwd(r, &cv[1]);
        hekv_poly ff[2], cs[2];
        for (int u = 0; u < 2; u++) {
            cr_assert_eq(hekv_poly_new(r, L, &ff[u]), HEKV_OK);
            cr_assert_eq(hekv_poly_new(r, L, &cs[u]), HEKV_OK);
            hekv_poly_copy(r, &cs[u], &conv[u]); /* conv is transformed in place: keep it */
        }
        /* the terms present: bit 0 e0, bit 1 the tensor, bit 2 f (after the permutation) */
        for (int terms = 0; terms < 8; terms++) {
            const int he = terms & 1, ht = terms & 2, hf = terms & 4;
            for (int u = 0; u < 4; u++) hekv_poly_copy(r, &tt[u], &t[u]);
            for (int u = 0; u < 2; u++) {
                hekv_poly_copy(r, &ff[u], &t[u + 2]);
                hekv_poly_copy(r, &conv[u], &cs[u]);
            }
            for (int j = 0; j < K; j++) hekv_poly_copy(r, &d[j], &dn[j]);
            hekv_ring_ks_add add = {he ? &e0 : NULL,
                                    ht ? &tt[0] : NULL, ht ? &tt[1] : NULL,
                                    ht ? &tt[2] : NULL, ht ? &tt[3] : NULL,
                                    hf ? &ff[0] : NULL, hf ? &ff[1] : NULL,
                                    NULL, 0};
            hekv_poly *out0 = &o[0], *out1 = &o[1];
            if (mode == 5) {
                if (ht) continue; /* a product's tensor never comes with a permutation */
                hekv_poly_copy(r, &ek, &e0), hekv_poly_copy(r, &ck, &c);
                ks.own = &ck;
                add.e0 = he ? &ek : NULL;
                add.keep = keep, add.keep_limbs = (size_t)(2 * threads);
                out0 = he ? &ek : &o[0], out1 = &ck;
            }
            if (mode == 4 && !omap && ht) out0 = &tt[0], out1 = &tt[3]; /* t0, u1 */
            if (hf && (mode == 3 || mode == 4)) out0 = &ff[0], out1 = &ff[1]; /* f0, f1 */
            hekv_ring_ks_dot_moddown(r, out0, out1, &ks, &conv[0], &conv[1], s, &add, omap);
            /* expected: phi((dot - NTT(conv)) * s + e0 + tensor) + f */
            hekv_ring_sub_mul_scalar(r, &d0c, &dot0, &cv[0], s);
            hekv_ring_sub_mul_scalar(r, &d1c, &dot1, &cv[1], s);
            if (he) hekv_ring_add(r, &d0c, &d0c, &e0);
            if (ht) {
                hekv_ring_mul_acc(r, &d0c, &t[0], &t[2]);
                hekv_ring_mul_acc(r, &d1c, &t[0], &t[3]);
                hekv_ring_mul_acc(r, &d1c, &t[1], &t[2]);
            }
            if (omap) {
                hekv_ring_automorph(r, &x, &d0c, omap);
                hekv_poly_copy(r, &d0c, &x);
                hekv_ring_automorph(r, &x, &d1c, omap);
                hekv_poly_copy(r, &d1c, &x);
            }
            if (hf) hekv_ring_add(r, &d0c, &d0c, &t[2]), hekv_ring_add(r, &d1c, &d1c, &t[3]);
            cr_assert_eq(memcmp(out0->c, d0c.c, L * n * 8), 0,
                         "ks_dot_moddown out0 mode %d terms %d", mode, terms);
            cr_assert_eq(memcmp(out1->c, d1c.c, L * n * 8), 0,
                         "ks_dot_moddown out1 mode %d terms %d", mode, terms);
        }
        for (int u = 0; u < 2; u++) hekv_poly_free(&ff[u]), hekv_poly_free(&cs[u]);
        for (int j = 0; j < K; j++) hekv_poly_free(&xs[j]);
        for (int u = 0; u < 4; u++) hekv_poly_free(&tt[u]);
        hekv_poly_free(&d0c), hekv_poly_free(&d1c);
    }
    free(map);
    free(keep);
    hekv_poly_free(&ek), hekv_poly_free(&ck);
    for (int j = 0; j < K; j++)
        hekv_poly_free(&d[j]), hekv_poly_free(&dn[j]), hekv_poly_free(&b[j]),
            hekv_poly_free(&a[j]);
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) hekv_poly_free(all[i]);
    hekv_ring_free(r);
}

Test(ring_ks, fused_keyswitch_passes_equal_composition) {
    check_ks_pipeline(4, HEKV_ISA_SCALAR, 1, 60);
    check_ks_pipeline(11, HEKV_ISA_SCALAR, 2, 61);
    check_ks_pipeline(4, HEKV_ISA_AVX512, 1, 62);
    check_ks_pipeline(11, HEKV_ISA_AVX512, 2, 63);
}

/* hekv_ring_div_round_last_ntt against the direct computation on coefficients: y = [x_l +
 * h]_{q_l}, t_i = y mod q_i - h, out_i = (x_i - NTT(t_i)) q_l^-1; one and two polynomials,
 * out aliasing in, and a scratch that allows fewer threads than asked for. */
static void check_div_round(int logn, hekv_isa isa, int threads, uint64_t salt) {
    if (!isa_ok(isa)) return;
    enum { L = 6 };
    uint64_t pr[L];
    hekv_ring *r = ring_of(logn, L, 45, NULL, 0, pr, isa, threads);
    test_rng g = test_rng_new(salt);
    const size_t n = (size_t)1 << logn;
    const int l = L - 1;
    hekv_poly in[2], out[2], want[2], y, t;
    for (int c = 0; c < 2; c++) {
        cr_assert_eq(hekv_poly_new(r, L, &in[c]), HEKV_OK);
        cr_assert_eq(hekv_poly_new(r, L, &out[c]), HEKV_OK);
        cr_assert_eq(hekv_poly_new(r, L, &want[c]), HEKV_OK);
        random_poly(r, &in[c], &g);
        in[c].ntt = 1;
    }
    cr_assert_eq(hekv_poly_new(r, L, &y), HEKV_OK);
    cr_assert_eq(hekv_poly_new(r, L, &t), HEKV_OK);
    const hekv_modulus *ml = hekv_ring_modulus(r, l);
    const uint64_t h = ml->q >> 1;
    uint64_t qinv[L];
    for (int i = 0; i < l; i++) {
        const hekv_modulus *mi = hekv_ring_modulus(r, i);
        qinv[i] = hekv_mod_inv_prime(ml->q % mi->q, mi);
    }
    for (int c = 0; c < 2; c++) {
        hekv_poly_copy(r, &y, &in[c]);
        hekv_ring_ntt_inv_range(r, &y, (size_t)l, (size_t)L);
        const uint64_t *yl = y.c + (size_t)l * n;
        hekv_poly tl = t;
        tl.limbs = (size_t)l;
        for (int i = 0; i < l; i++) {
            const uint64_t qi = hekv_ring_modulus(r, i)->q;
            for (size_t x = 0; x < n; x++)
                t.c[(size_t)i * n + x] =
                    hekv_mod_sub(hekv_mod_add(yl[x], h, ml->q) % qi, h % qi, qi);
        }
        hekv_ring_ntt_fwd(r, &tl);
        hekv_poly wl = want[c], il = in[c];
        wl.limbs = il.limbs = (size_t)l;
        hekv_ring_sub(r, &wl, &il, &tl);
        hekv_ring_mul_scalar(r, &wl, &wl, qinv);
    }
    uint64_t *scratch = hekv_alloc_aligned((2 + 4) * n * 8);
    for (int count = 1; count <= 2; count++) {
        for (int sl = count + 1; sl <= count + 4; sl += 3) { /* 1 thread, then up to 4 */
            hekv_poly *op[2] = {&out[0], &out[1]};
            const hekv_poly *ip[2] = {&in[0], &in[1]};
            for (int c = 0; c < 2; c++) hekv_poly_zero(r, &out[c]);
            hekv_ring_div_round_last_ntt(r, op, ip, count, qinv, scratch, (size_t)sl);
            for (int c = 0; c < count; c++)
                cr_assert_eq(memcmp(out[c].c, want[c].c, (size_t)l * n * 8), 0,
                             "div_round poly %d of %d, scratch %d", c, count, sl);
        }
    }
    /* in place, both polynomials */
    hekv_poly *op[2] = {&in[0], &in[1]};
    const hekv_poly *ip[2] = {&in[0], &in[1]};
    hekv_ring_div_round_last_ntt(r, op, ip, 2, qinv, scratch, 6);
    for (int c = 0; c < 2; c++)
        cr_assert_eq(memcmp(in[c].c, want[c].c, (size_t)l * n * 8), 0, "div_round in place %d",
                     c);
    hekv_free_aligned(scratch);
    for (int c = 0; c < 2; c++)
        hekv_poly_free(&in[c]), hekv_poly_free(&out[c]), hekv_poly_free(&want[c]);
    hekv_poly_free(&y), hekv_poly_free(&t);
    hekv_ring_free(r);
}

Test(ring_ks, div_round_last_equals_direct) {
    check_div_round(4, HEKV_ISA_SCALAR, 1, 70);
    check_div_round(11, HEKV_ISA_SCALAR, 2, 71);
    check_div_round(4, HEKV_ISA_AVX512, 1, 72);
    check_div_round(12, HEKV_ISA_AVX512, 3, 73);
}

/* hekv_ring_small_mul_add_ntt against set_small + NTT + mul + add, with and without m, one
 * and two outputs, outputs aliasing m and a[k], and fewer scratch limbs than threads. */
static void check_small_mul_add(int logn, hekv_isa isa, int threads, uint64_t salt) {
    if (!isa_ok(isa)) return;
    enum { L = 5 };
    uint64_t pr[L];
    hekv_ring *r = ring_of(logn, L, 45, NULL, 0, pr, isa, threads);
    test_rng g = test_rng_new(salt);
    const size_t n = (size_t)1 << logn;
    int64_t *v = malloc(n * 8), *e0 = malloc(n * 8), *e1 = malloc(n * 8);
    for (size_t x = 0; x < n; x++) {
        v[x] = (int64_t)test_below(&g, 3) - 1;
        e0[x] = (int64_t)test_below(&g, 41) - 20;
        e1[x] = (int64_t)test_below(&g, 41) - 20;
    }
    v[0] = -1, e0[0] = -20, e1[n - 1] = 20;
    hekv_poly a0, a1, m, o0, o1, w0, w1, t;
    hekv_poly *all[] = {&a0, &a1, &m, &o0, &o1, &w0, &w1, &t};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        cr_assert_eq(hekv_poly_new(r, L, all[i]), HEKV_OK);
    random_poly(r, &a0, &g), random_poly(r, &a1, &g), random_poly(r, &m, &g);
    a0.ntt = a1.ntt = m.ntt = 1;
    /* expected */
    hekv_poly vv = w1;
    hekv_poly_set_small(r, &t, v);
    hekv_ring_ntt_fwd(r, &t);
    hekv_poly_set_small(r, &w0, e0);
    hekv_ring_ntt_fwd(r, &w0);
    hekv_ring_mul_acc(r, &w0, &t, &a0);
    hekv_poly_set_small(r, &vv, e1);
    hekv_ring_ntt_fwd(r, &vv);
    hekv_ring_mul_acc(r, &w1, &t, &a1);
    uint64_t *scratch = hekv_alloc_aligned(4 * n * 8);
    const int64_t *errs[2] = {e0, e1};
    const hekv_poly *keys[2] = {&a0, &a1};
    for (int sl = 2; sl <= 4; sl += 2) {
        hekv_poly *outs[2] = {&o0, &o1};
        hekv_ring_small_mul_add_ntt(r, outs, v, keys, errs, NULL, 2, scratch, (size_t)sl);
        cr_assert_eq(memcmp(o0.c, w0.c, L * n * 8), 0, "no m, out0, scratch %d", sl);
        cr_assert_eq(memcmp(o1.c, w1.c, L * n * 8), 0, "no m, out1, scratch %d", sl);
        hekv_ring_small_mul_add_ntt(r, outs, v, keys, errs, NULL, 1, scratch, (size_t)sl);
        cr_assert_eq(memcmp(o0.c, w0.c, L * n * 8), 0, "one output, scratch %d", sl);
    }
    for (size_t x = 0; x < 4 * n; x++) cr_assert_eq(scratch[x], 0, "scratch not wiped");
    hekv_ring_add(r, &w0, &w0, &m);
    hekv_poly_copy(r, &o1, &a1);
    hekv_poly *outs[2] = {&m, &o1}; /* out0 aliasing m, out1 aliasing its a (a copy) */
    const hekv_poly *keys2[2] = {&a0, &o1};
    hekv_ring_small_mul_add_ntt(r, outs, v, keys2, errs, &m, 2, scratch, 2);
    cr_assert_eq(memcmp(m.c, w0.c, L * n * 8), 0, "with m, aliasing");
    cr_assert_eq(memcmp(o1.c, w1.c, L * n * 8), 0, "aliasing a[1]");
    hekv_free_aligned(scratch);
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) hekv_poly_free(all[i]);
    free(v), free(e0), free(e1);
    hekv_ring_free(r);
}

Test(ring_ks, small_mul_add_equals_composition) {
    check_small_mul_add(4, HEKV_ISA_SCALAR, 1, 80);
    check_small_mul_add(10, HEKV_ISA_SCALAR, 2, 81);
    check_small_mul_add(4, HEKV_ISA_AVX512, 1, 82);
    check_small_mul_add(12, HEKV_ISA_AVX512, 2, 83);
}
