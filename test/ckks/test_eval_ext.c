/* test_eval_ext.c: the evaluator's run-time options and the extension API of ckks_ext.h:
 *   - scratch: a linear transform and a polynomial evaluated twice leave the evaluator's
 *     scratch exactly as the first call left it (nothing grows per call), the pool is a
 *     stack, release frees it;
 *   - threads: evaluators of one set with 1 and 2 threads give bit-identical results, and
 *     one-thread clones running side by side in OpenMP threads equal the sequential run;
 *   - the extension operations against the public ones they replace: the plaintext inner
 *     product against products and sums, the degree-2 accumulator against relinearised
 *     products and sums, exact scale adjustment, plaintext rotation against ciphertext
 *     rotation, ModRaise (the raised ciphertext decrypts to m + q_0 I with a small I), and
 *     the key checks with their levels. */
#include <omp.h>
#include <string.h>

#include "test/ckks/ckks_fixture.h"
#include "src/ckks/ckks_ext.h"
#include "src/ckks/ckks_int.h"

#define TOL 1e-4

/* c0 and c1 of two ciphertexts are equal residue by residue over their level. */
static int ct_bits_equal(const hekv_ct *a, const hekv_ct *b) {
    if (a->level != b->level || a->scale != b->scale || a->slots != b->slots) return 0;
    const size_t w = ((size_t)a->level + 1) * a->c[0].n * sizeof(uint64_t);
    return !memcmp(a->c[0].c, b->c[0].c, w) && !memcmp(a->c[1].c, b->c[1].c, w);
}

Test(ckks_eval_ext, scratch_is_reused_not_reallocated) {
    const long rots[] = {1, 2, 3, 4, 8, 12};
    ctx c = ctx_new_keys("toy-N12", 16, 1, rots, 6);
    test_rng g = test_rng_new(1);
    double x[16], d[4][16];
    fill(&g, x, 16, -1, 1);
    const long off[4] = {0, 1, 5, 9};
    const double *dd[4];
    for (int k = 0; k < 4; k++) fill(&g, d[k], 16, -1, 1), dd[k] = d[k];
    hekv_lintrans *lt = NULL;
    hekv_err err;
    cr_assert_eq(hekv_ckks_lintrans_new(c.enc, off, dd, NULL, 4, 16, c.top, c.scale, 4, &lt,
                                        &err),
                 HEKV_OK, "%s", err.msg);
    long lr[16];
    size_t nr = hekv_ckks_lintrans_rotations(lt, lr, 16);
    ctx_gen_rotations(&c, lr, nr, 0);
    const double coef[8] = {0.5, 0.25, -0.125, 0.0625, 0.1, 0.05, 0.02, 0.01};
    hekv_cheby *p = NULL;
    cr_assert_eq(hekv_ckks_cheby_new(coef, 8, -1, 1, &p, &err), HEKV_OK);
    hekv_ct *a = ct_encrypt(&c, x, c.top), *out = ct_new(&c), *y = ct_new(&c);
    size_t bytes[3];
    int npool[3];
    for (int round = 0; round < 3; round++) {
        OK(c.ev, hekv_ckks_eval_lintrans(c.ev, out, a, lt));
        OK(c.ev, hekv_ckks_eval_poly(c.ev, y, a, p, 0));
        bytes[round] = hekv_ckks_eval_scratch_bytes(c.ev);
        npool[round] = c.ev->npool;
        cr_assert_eq(c.ev->lent, 0, "scratch not returned");
    }
    cr_assert_gt(npool[0], 0, "the calls used no pooled scratch");
    cr_assert_eq(bytes[1], bytes[0], "scratch grew on the second call: %zu -> %zu", bytes[0],
                 bytes[1]);
    cr_assert_eq(bytes[2], bytes[0]);
    cr_assert_eq(npool[2], npool[0]);
    /* the pool is a stack: lent in order, returned in reverse */
    hekv_ct *s1 = NULL, *s2 = NULL;
    cr_assert_eq(hekv_ckks_ext_scratch_get(c.ev, &s1), HEKV_OK);
    cr_assert_eq(hekv_ckks_ext_scratch_get(c.ev, &s2), HEKV_OK);
    cr_assert_neq(s1, s2);
    cr_assert_eq(hekv_ckks_ct_level(s2), -1);
    hekv_ckks_ext_scratch_put(c.ev, s2);
    hekv_ckks_ext_scratch_put(c.ev, s1);
    hekv_ckks_eval_release_scratch(c.ev);
    cr_assert_eq(c.ev->npool, 0);
    cr_assert_lt(hekv_ckks_eval_scratch_bytes(c.ev), bytes[0]);
    /* and it comes back on use, with the same results */
    hekv_ct *y2 = ct_new(&c);
    OK(c.ev, hekv_ckks_eval_poly(c.ev, y2, a, p, 0));
    cr_assert(ct_bits_equal(y, y2));
    hekv_ckks_ct_free(a), hekv_ckks_ct_free(out), hekv_ckks_ct_free(y), hekv_ckks_ct_free(y2);
    hekv_ckks_cheby_free(p);
    hekv_ckks_lintrans_free(lt);
    ctx_free(&c);
}

/* One step of work on ct: a product, a rotation and a rescale. */
static void work(hekv_eval *ev, hekv_ct *out, const hekv_ct *a, const hekv_ct *b) {
    OK(ev, hekv_ckks_eval_mul(ev, out, a, b));
    OK(ev, hekv_ckks_eval_rotate(ev, out, out, 3));
    OK(ev, hekv_ckks_eval_rescale(ev, out, out));
}

Test(ckks_eval_ext, one_thread_evaluators_side_by_side) {
    const long rots[] = {3};
    ctx c = ctx_new_keys("toy-N12", 0, 1, rots, 1);
    test_rng g = test_rng_new(2);
    enum { K = 4 };
    double *x = malloc(c.slots * sizeof *x);
    hekv_ct *in[K], *seq[K], *par[K];
    for (int k = 0; k < K; k++) {
        fill(&g, x, c.slots, -1, 1);
        in[k] = ct_encrypt(&c, x, c.top);
        seq[k] = ct_new(&c);
        par[k] = ct_new(&c);
    }
    /* sequential, with a two-thread evaluator */
    hekv_ckks_eval_set_threads(c.ev, 2);
    cr_assert_eq(hekv_ckks_eval_threads(c.ev), 2);
    for (int k = 0; k < K; k++) work(c.ev, seq[k], in[k], in[(k + 1) % K]);
    /* K independent ciphertexts in parallel, one one-thread clone each */
    hekv_eval *ev[K];
    hekv_err err;
    for (int k = 0; k < K; k++) {
        cr_assert_eq(hekv_ckks_eval_clone(c.ev, &ev[k], &err), HEKV_OK, "%s", err.msg);
        cr_assert_eq(hekv_ckks_eval_threads(ev[k]), 2);
        hekv_ckks_eval_set_threads(ev[k], 1);
    }
    int fails = 0;
#pragma omp parallel for num_threads(2) reduction(+ : fails)
    for (int k = 0; k < K; k++) {
        hekv_status s = hekv_ckks_eval_mul(ev[k], par[k], in[k], in[(k + 1) % K]);
        if (!s) s = hekv_ckks_eval_rotate(ev[k], par[k], par[k], 3);
        if (!s) s = hekv_ckks_eval_rescale(ev[k], par[k], par[k]);
        fails += s != HEKV_OK;
    }
    cr_assert_eq(fails, 0);
    for (int k = 0; k < K; k++) {
        cr_assert(ct_bits_equal(seq[k], par[k]), "ciphertext %d differs", k);
        hekv_ckks_eval_free(ev[k]);
    }
    free(x);
    for (int k = 0; k < K; k++)
        hekv_ckks_ct_free(in[k]), hekv_ckks_ct_free(seq[k]), hekv_ckks_ct_free(par[k]);
    ctx_free(&c);
}

Test(ckks_eval_ext, inner_product_and_accumulator_equal_plain_operations) {
    ctx c = ctx_new_keys("toy-N12", 0, 1, NULL, 0);
    test_rng g = test_rng_new(3);
    enum { K = 3 };
    const size_t S = c.slots;
    double *x[K], *w[K], *want = calloc(S, sizeof *want), *want2 = calloc(S, sizeof *want2);
    hekv_ct *a[K];
    hekv_pt *pt[K];
    const int l = c.top - 1;
    for (int k = 0; k < K; k++) {
        x[k] = malloc(S * sizeof **x), w[k] = malloc(S * sizeof **w);
        fill(&g, x[k], S, -1, 1), fill(&g, w[k], S, -1, 1);
        a[k] = ct_encrypt(&c, x[k], c.top);
        pt[k] = pt_encode(&c, w[k], NULL, S, c.top, c.scale);
        for (size_t i = 0; i < S; i++) want[i] += x[k][i] * w[k][i];
    }
    for (int k = 0; k < K; k++)
        for (size_t i = 0; i < S; i++) want2[i] += x[k][i] * x[(k + 1) % K][i];
    hekv_ct *ip = ct_new(&c), *ref = ct_new(&c), *t = ct_new(&c);
    OK(c.ev, hekv_ckks_ext_inner_pt(c.ev, ip, (const hekv_ct *const *)a,
                                    (const hekv_pt *const *)pt, K, l));
    cr_assert_eq(hekv_ckks_ct_level(ip), l);
    /* bit-identical to the public products and sums at the same level */
    for (int k = 0; k < K; k++) {
        hekv_ct *al = ct_new(&c);
        OK(c.ev, hekv_ckks_eval_drop_to(c.ev, al, a[k], l));
        OK(c.ev, hekv_ckks_eval_mul_pt(c.ev, k ? t : ref, al, pt[k]));
        if (k) OK(c.ev, hekv_ckks_eval_add(c.ev, ref, ref, t));
        hekv_ckks_ct_free(al);
    }
    cr_assert(ct_bits_equal(ip, ref));
    OK(c.ev, hekv_ckks_eval_rescale(c.ev, ip, ip));
    check_ct(&c, ip, want, NULL, TOL, "inner product");
    /* the accumulator: one relinearisation for the sum of products */
    OK(c.ev, hekv_ckks_ext_mac_begin(c.ev, l));
    for (int k = 0; k < K; k++) OK(c.ev, hekv_ckks_ext_mac_acc(c.ev, a[k], a[(k + 1) % K]));
    hekv_ct *acc = ct_new(&c);
    OK(c.ev, hekv_ckks_ext_mac_relin(c.ev, acc));
    cr_assert_eq(hekv_ckks_ct_level(acc), l);
    OK(c.ev, hekv_ckks_eval_rescale(c.ev, acc, acc));
    check_ct(&c, acc, want2, NULL, TOL, "degree-2 accumulator");
    /* misuse: no accumulator, mismatched scales */
    cr_assert_eq(hekv_ckks_ext_mac_relin(c.ev, acc), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_ext_mac_acc(c.ev, a[0], a[1]), HEKV_ERR_ARG);
    OK(c.ev, hekv_ckks_ext_mac_begin(c.ev, l));
    OK(c.ev, hekv_ckks_ext_mac_acc(c.ev, a[0], a[1]));
    cr_assert_eq(hekv_ckks_ext_mac_acc(c.ev, a[0], acc), HEKV_ERR_LEVEL);
    cr_assert_eq(hekv_ckks_ext_inner_pt(c.ev, a[0], (const hekv_ct *const *)a,
                                        (const hekv_pt *const *)pt, K, l),
                 HEKV_ERR_ARG); /* out aliases an operand */
    for (int k = 0; k < K; k++) {
        free(x[k]), free(w[k]);
        hekv_ckks_ct_free(a[k]);
        hekv_ckks_pt_free(pt[k]);
    }
    free(want), free(want2);
    hekv_ckks_ct_free(ip), hekv_ckks_ct_free(ref), hekv_ckks_ct_free(t), hekv_ckks_ct_free(acc);
    ctx_free(&c);
}

Test(ckks_eval_ext, scales_rotations_modraise_and_key_checks) {
    const long rots[] = {5};
    ctx c = ctx_new_keys("toy-N12", 0, 1, rots, 1);
    test_rng g = test_rng_new(4);
    const size_t S = c.slots;
    double *x = malloc(S * sizeof *x), *xr = malloc(S * sizeof *xr);
    fill(&g, x, S, -1, 1);
    hekv_ct *a = ct_encrypt(&c, x, c.top), *b = ct_new(&c);
    /* an exact target scale two levels down */
    const double target = 0x1.3p38;
    OK(c.ev, hekv_ckks_ext_adjust_scale(c.ev, b, a, c.top - 2, target));
    cr_assert_eq(hekv_ckks_ct_level(b), c.top - 2);
    /* the integer factor is ~2^38 here: the label is within 2^-38 of the target */
    cr_assert(fabs(hekv_ckks_ct_scale(b) / target - 1) < 0x1p-37, "scale 2^%.8f",
              log2(hekv_ckks_ct_scale(b)));
    check_ct(&c, b, x, NULL, TOL, "adjusted scale");
    cr_assert_eq(hekv_ckks_ext_adjust_scale(c.ev, b, a, c.top, target), HEKV_ERR_LEVEL);
    /* relabelling */
    OK(c.ev, hekv_ckks_ext_set_scale(c.ev, b, hekv_ckks_ct_scale(b) * 2));
    for (size_t i = 0; i < S; i++) xr[i] = x[i] / 2;
    check_ct(&c, b, xr, NULL, TOL, "relabelled scale");
    cr_assert_eq(hekv_ckks_ext_set_scale(c.ev, b, -1), HEKV_ERR_ARG);
    /* a plaintext rotation equals the ciphertext rotation of its encryption */
    hekv_pt *pt = pt_encode(&c, x, NULL, S, c.top, c.scale), *pr = NULL;
    hekv_err err;
    cr_assert_eq(hekv_ckks_pt_new(c.p, &pr, &err), HEKV_OK);
    OK(c.ev, hekv_ckks_eval_rotate_pt(c.ev, pr, pt, 5));
    for (size_t i = 0; i < S; i++) xr[i] = x[(i + 5) % S];
    hekv_ct *er = ct_encrypt_pt(&c, pr);
    check_ct(&c, er, xr, NULL, TOL, "plaintext rotation");
    cr_assert_eq(hekv_ckks_eval_rotate_pt(c.ev, pt, pt, 5), HEKV_ERR_ARG);
    /* ModRaise: a level-0 ciphertext lifted to the top decrypts to m + q0 I, |I| small */
    hekv_ct *low = ct_encrypt(&c, x, 0), *up = ct_new(&c);
    OK(c.ev, hekv_ckks_ext_mod_raise(c.ev, up, low, c.top));
    cr_assert_eq(hekv_ckks_ct_level(up), c.top);
    hekv_pt *m0 = NULL, *m1 = NULL;
    cr_assert_eq(hekv_ckks_pt_new(c.p, &m0, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_pt_new(c.p, &m1, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_decrypt(c.sk, m0, low, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_decrypt(c.sk, m1, up, &err), HEKV_OK);
    /* coefficients: m1 = m0 + q0 I on every limb; I from limb 1, then checked everywhere */
    const hekv_ring *rq = c.p->rq;
    const size_t n = c.p->n;
    hekv_poly_copy(rq, &c.ev->tmp[0], &m0->m);
    hekv_poly t0 = hekv__lv(&c.ev->tmp[0], 0), t1 = hekv__lv(&m1->m, c.top);
    hekv_ring_ntt_inv(rq, &t0);
    hekv_ring_ntt_inv(rq, &t1);
    const uint64_t q0 = hekv_ckks_params_q(c.p, 0);
    long maxI = 0;
    for (size_t j = 0; j < n; j++) {
        const int64_t v0 = t0.c[j] > q0 / 2 ? (int64_t)t0.c[j] - (int64_t)q0 : (int64_t)t0.c[j];
        /* I from the CRT of limbs 0 and 1 is (m1 - v0) / q0 over the integers: read limb 1 */
        const uint64_t q1 = hekv_ckks_params_q(c.p, 1);
        const hekv_modulus *m = hekv_ring_modulus(rq, 1);
        const uint64_t diff = hekv_mod_sub(t1.c[n + j], (uint64_t)((v0 % (int64_t)q1 + (int64_t)q1) % (int64_t)q1), q1);
        const uint64_t I1 = hekv_mod_mul(diff, hekv_mod_inv_prime(q0 % q1, m), m);
        const long I = I1 > q1 / 2 ? (long)I1 - (long)q1 : (long)I1;
        if (labs(I) > maxI) maxI = labs(I);
    }
    /* a uniform ternary secret of N coefficients gives |I| up to ~sqrt(N) in practice and
     * never above N/2 + 1: far below q_1, which is what separates it from a wrong lift */
    cr_log_info("ModRaise: max |I| = %ld (N = %zu)", maxI, n);
    cr_assert_lt(maxI, (long)n);
    cr_assert_eq(hekv_ckks_ext_mod_raise(c.ev, up, a, c.top), HEKV_ERR_LEVEL);
    /* key checks at a level */
    OK(c.ev, hekv_ckks_ext_need_rotation(c.ev, "t", 5, S, c.top));
    OK(c.ev, hekv_ckks_ext_need_rotation(c.ev, "t", 0, S, c.top));
    cr_assert_eq(hekv_ckks_ext_need_rotation(c.ev, "t", 7, S, 0), HEKV_ERR_KEY_MISSING);
    const long low_rot[] = {9};
    cr_assert_eq(hekv_ckks_evk_gen_rotations(c.evk, c.sk, low_rot, 1, 0, 1, &err), HEKV_OK);
    OK(c.ev, hekv_ckks_ext_need_rotation(c.ev, "t", 9, S, 1));
    cr_assert_eq(hekv_ckks_ext_need_rotation(c.ev, "t", 9, S, 2), HEKV_ERR_KEY_MISSING);
    cr_assert(strstr(hekv_ckks_eval_last_error(c.ev), "level 1"), "%s",
              hekv_ckks_eval_last_error(c.ev));
    cr_assert_eq(hekv_ckks_eval_rotate(c.ev, b, a, 9), HEKV_ERR_KEY_MISSING);
    OK(c.ev, hekv_ckks_ext_need_relin(c.ev, "t", c.top));
    free(x), free(xr);
    hekv_ckks_pt_free(pt), hekv_ckks_pt_free(pr), hekv_ckks_pt_free(m0), hekv_ckks_pt_free(m1);
    hekv_ckks_ct_free(a), hekv_ckks_ct_free(b), hekv_ckks_ct_free(er);
    hekv_ckks_ct_free(low), hekv_ckks_ct_free(up);
    ctx_free(&c);
}

/* hekv_ckks_ext_eval_poly with two primes a level, on the EvalMod region of toy-boot-N12
 * (30-bit primes; the label ~2^60 is the product of two): the result lands 2 x depth
 * primes down at the target scale, within CKKS noise of the plain series; r = 1 equals
 * hekv_ckks_eval_poly bit for bit. */
Test(ckks_eval_ext, polynomial_with_two_primes_a_level) {
    ctx c = ctx_new_keys("toy-boot-N12", 0, 1, NULL, 0);
    /* the highest 30-bit pair: levels 23 and 22 (q_0, 2 x 40, 3 x 45, then 18 x 30) */
    const int l = 1 + 2 + 3 + 18 - 1;
    cr_assert_lt(hekv_ckks_params_q(c.p, l), 1ULL << 30);
    cr_assert_gt(hekv_ckks_params_q(c.p, l + 1), 1ULL << 40);
    const double s2 = (double)hekv_ckks_params_q(c.p, l) * (double)hekv_ckks_params_q(c.p, l - 1);
    double coef[12];
    test_rng g = test_rng_new(31);
    for (int k = 0; k < 12; k++) coef[k] = test_uniform(&g, -1, 1) / (1 + k);
    hekv_cheby *p = NULL;
    hekv_err err;
    cr_assert_eq(hekv_ckks_cheby_new(coef, 12, -1, 1, &p, &err), HEKV_OK);
    const int depth = hekv_ckks_cheby_depth(p);
    double *x = malloc(c.slots * sizeof *x), *want = malloc(c.slots * sizeof *want);
    fill(&g, x, c.slots, -1, 1);
    for (size_t j = 0; j < c.slots; j++) want[j] = hekv_ckks_cheby_eval(p, x[j]);
    hekv_ct *a = ct_encrypt_cx(&c, x, NULL, c.slots, l, s2), *o = ct_new(&c);
    OK(c.ev, hekv_ckks_ext_eval_poly(c.ev, o, a, p, s2, 2));
    cr_assert_eq(hekv_ckks_ct_level(o), l - 2 * depth);
    cr_assert(fabs(hekv_ckks_ct_scale(o) / s2 - 1) < 0x1p-40);
    check_ct(&c, o, want, NULL, 0x1p-30, "two primes a level");
    cr_assert_eq(hekv_ckks_ext_eval_poly(c.ev, o, a, p, s2, 0), HEKV_ERR_ARG);
    hekv_ct *low = ct_encrypt_cx(&c, x, NULL, c.slots, 2 * depth - 1, s2);
    cr_assert_eq(hekv_ckks_ext_eval_poly(c.ev, o, low, p, s2, 2), HEKV_ERR_LEVEL);
    /* r = 1 is the public call */
    hekv_ct *b = ct_encrypt_cx(&c, x, NULL, c.slots, c.top, c.scale), *o1 = ct_new(&c),
            *o2 = ct_new(&c);
    OK(c.ev, hekv_ckks_ext_eval_poly(c.ev, o1, b, p, 0, 1));
    OK(c.ev, hekv_ckks_eval_poly(c.ev, o2, b, p, 0));
    cr_assert_eq(hekv_ckks_ct_level(o1), hekv_ckks_ct_level(o2));
    double *d1 = malloc(c.slots * sizeof *d1), *d2 = malloc(c.slots * sizeof *d2);
    ct_decrypt(&c, d1, NULL, o1), ct_decrypt(&c, d2, NULL, o2);
    cr_assert_eq(memcmp(d1, d2, c.slots * sizeof *d1), 0);
    free(x), free(want), free(d1), free(d2);
    hekv_ckks_cheby_free(p);
    hekv_ckks_ct_free(a), hekv_ckks_ct_free(o), hekv_ckks_ct_free(low);
    hekv_ckks_ct_free(b), hekv_ckks_ct_free(o1), hekv_ckks_ct_free(o2);
    ctx_free(&c);
}

/* The evaluator's counters: a rotation is one ModUp and one key switch (a ModDown), k
 * hoisted rotations one ModUp and k key switches, a relinearised product one of each,
 * a rescale one rescale; set_slots relabels a periodic ciphertext. */
Test(ckks_eval_ext, counters_and_slot_relabel) {
    const long rots[] = {1, 2, 3};
    ctx c = ctx_new_keys("toy-N12", 0, 1, rots, 3);
    test_rng g = test_rng_new(37);
    double *x = malloc(c.slots * sizeof *x);
    hekv_ct *a = ct_random(&c, &g, x, NULL, c.top), *o[3] = {ct_new(&c), ct_new(&c), ct_new(&c)};
    hekv_ckks_eval_counts k;
    hekv_ckks_eval_reset_counts(c.ev);
    OK(c.ev, hekv_ckks_eval_rotate(c.ev, o[0], a, 1));
    hekv_ckks_eval_get_counts(c.ev, &k);
    cr_assert(k.keyswitches == 1 && k.modups == 1 && k.moddowns == 1 && k.rescales == 0);
    OK(c.ev, hekv_ckks_eval_rotate_hoisted(c.ev, o, a, rots, 3));
    hekv_ckks_eval_get_counts(c.ev, &k);
    cr_assert(k.keyswitches == 4 && k.modups == 2, "%llu %llu", (unsigned long long)k.keyswitches,
              (unsigned long long)k.modups);
    OK(c.ev, hekv_ckks_eval_mul(c.ev, o[0], a, a));
    OK(c.ev, hekv_ckks_eval_rescale(c.ev, o[0], o[0]));
    hekv_ckks_eval_get_counts(c.ev, &k);
    cr_assert(k.keyswitches == 5 && k.modups == 3 && k.moddowns == 5 && k.rescales == 1);
    hekv_ckks_eval_reset_counts(c.ev);
    hekv_ckks_eval_get_counts(c.ev, &k);
    cr_assert(k.keyswitches == 0 && k.rescales == 0);
    /* a 64-slot ciphertext relabelled as 128 slots decodes to two equal halves */
    double v[64];
    fill(&g, v, 64, -1, 1);
    hekv_ct *s = ct_encrypt_cx(&c, v, NULL, 64, c.top, c.scale);
    OK(c.ev, hekv_ckks_ext_set_slots(c.ev, s, 128));
    cr_assert_eq(hekv_ckks_ct_slots(s), 128);
    double w[128];
    for (int j = 0; j < 128; j++) w[j] = v[j % 64];
    check_ct(&c, s, w, NULL, 0x1p-25, "relabelled slots");
    cr_assert_eq(hekv_ckks_ext_set_slots(c.ev, s, 96), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_ext_set_slots(c.ev, s, c.slots * 2), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_eval_evk(c.ev), c.evk);
    free(x);
    hekv_ckks_ct_free(a), hekv_ckks_ct_free(s);
    for (int i = 0; i < 3; i++) hekv_ckks_ct_free(o[i]);
    ctx_free(&c);
}
