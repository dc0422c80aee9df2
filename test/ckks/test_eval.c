/* test_eval.c: the CKKS evaluator's arithmetic. Every operation (add, sub, neg, ct-pt,
 * ct-constant, products, rescale, drop) is checked against the same computation on plain
 * doubles with a named error bound; rescale is also checked exactly against 128-bit
 * integer rounding; a square-and-rescale chain runs from the top level to level 0 and then
 * fails with HEKV_ERR_LEVEL; outputs aliasing inputs; seed flags; and the error paths
 * (NULL, foreign parameters, empty inputs, slot and scale mismatch, exhausted levels,
 * missing relinearisation key) with their messages. Parameters: toy-N12 (N = 2^12, 8
 * limbs, scale 2^40). */
#include <math.h>
#include <string.h>

#include "src/ckks/ckks_int.h"
#include "test/ckks/ckks_fixture.h"

/* Named error bounds on slot values in [-1, 1] at scale 2^40, N = 2^12 (observed values
 * in brackets). A fresh encryption's slot error is ~ sigma sqrt(N) / 2^40 ~ 2^-32.7
 * [2^-34]; every bound leaves at least 2^4 of margin over what was observed. */
#define TOL_FRESH 0x1p-29      /* encrypt + decrypt [2^-34] */
#define TOL_LINEAR 0x1p-28     /* add, sub, neg, ct-pt, ct-constant, drop [2^-33] */
#define TOL_MUL_INT(k) (((double)(k) + 1) * 0x1p-28) /* error scales with |k| [2^-23.6 at
                                                          k = -1000] */
#define TOL_PRODUCT 0x1p-26    /* mul/square/mul_pt/mul_const + rescale: |x|e_y + |y|e_x
                                  + rescale rounding sqrt(N)/2^40 + relin noise [2^-30] */
/* Square-and-rescale chain: the error at most doubles per squaring (|d(x^2)| <= 2|dx| for
 * |x| <= 1) plus a fresh product error: 7 levels give <= 2^7 TOL_PRODUCT [2^-23.5]. */
#define TOL_CHAIN 0x1p-19

static ctx ctx_new(size_t slots, int relin) {
    return ctx_new_keys("toy-N12", slots, relin, NULL, 0);
}

/* ------------------------------------------------------------------ linear operations */

Test(ckks_eval, add_sub_neg) {
    ctx c = ctx_new(64, 0);
    test_rng g = test_rng_new(1);
    size_t n = c.slots;
    double x[64], xi[64], y[64], yi[64], e[64], ei[64];
    hekv_ct *a = ct_random(&c, &g, x, xi, c.top);
    hekv_ct *b = ct_random(&c, &g, y, yi, c.top);
    hekv_ct *o = ct_new(&c);
    check_ct(&c, a, x, xi, TOL_FRESH, "fresh");

    OK(c.ev, hekv_ckks_eval_add(c.ev, o, a, b));
    for (size_t i = 0; i < n; i++) e[i] = x[i] + y[i], ei[i] = xi[i] + yi[i];
    check_ct(&c, o, e, ei, TOL_LINEAR, "add");
    cr_assert_eq(hekv_ckks_ct_level(o), c.top);
    cr_assert_eq(hekv_ckks_ct_scale(o), c.scale);
    cr_assert_eq(hekv_ckks_ct_slots(o), n);

    OK(c.ev, hekv_ckks_eval_sub(c.ev, o, a, b));
    for (size_t i = 0; i < n; i++) e[i] = x[i] - y[i], ei[i] = xi[i] - yi[i];
    check_ct(&c, o, e, ei, TOL_LINEAR, "sub");

    OK(c.ev, hekv_ckks_eval_neg(c.ev, o, a));
    for (size_t i = 0; i < n; i++) e[i] = -x[i], ei[i] = -xi[i];
    check_ct(&c, o, e, ei, TOL_LINEAR, "neg");

    /* levels differ: b dropped to 3, the result is at 3 */
    hekv_ct *b3 = ct_new(&c);
    OK(c.ev, hekv_ckks_eval_drop_to(c.ev, b3, b, 3));
    cr_assert_eq(hekv_ckks_ct_level(b3), 3);
    check_ct(&c, b3, y, yi, TOL_LINEAR, "drop_to");
    OK(c.ev, hekv_ckks_eval_sub(c.ev, o, a, b3));
    cr_assert_eq(hekv_ckks_ct_level(o), 3);
    for (size_t i = 0; i < n; i++) e[i] = x[i] - y[i], ei[i] = xi[i] - yi[i];
    check_ct(&c, o, e, ei, TOL_LINEAR, "sub across levels");

    hekv_ckks_ct_free(a);
    hekv_ckks_ct_free(b);
    hekv_ckks_ct_free(b3);
    hekv_ckks_ct_free(o);
    ctx_free(&c);
}

Test(ckks_eval, aliasing) {
    ctx c = ctx_new(32, 1);
    test_rng g = test_rng_new(2);
    size_t n = c.slots;
    double x[32], y[32], e[32];
    hekv_ct *a = ct_random(&c, &g, x, NULL, c.top);
    hekv_ct *b = ct_random(&c, &g, y, NULL, 5);
    /* a = a + b (a at the top, b at 5): a drops to 5 in place */
    OK(c.ev, hekv_ckks_eval_add(c.ev, a, a, b));
    cr_assert_eq(hekv_ckks_ct_level(a), 5);
    for (size_t i = 0; i < n; i++) e[i] = x[i] + y[i];
    check_ct(&c, a, e, NULL, TOL_LINEAR, "a = a + b");
    /* b = a - b */
    OK(c.ev, hekv_ckks_eval_sub(c.ev, b, a, b));
    check_ct(&c, b, x, NULL, TOL_LINEAR, "b = a - b");
    /* b = b * b, rescaled in place */
    OK(c.ev, hekv_ckks_eval_mul(c.ev, b, b, b));
    OK(c.ev, hekv_ckks_eval_rescale(c.ev, b, b));
    for (size_t i = 0; i < n; i++) e[i] = x[i] * x[i];
    check_ct(&c, b, e, NULL, TOL_PRODUCT, "b = b * b");
    /* a = a * b with a at 5, b at 4: product at 4, in place */
    for (size_t i = 0; i < n; i++) e[i] = (x[i] + y[i]) * x[i] * x[i];
    OK(c.ev, hekv_ckks_eval_mul(c.ev, a, a, b));
    cr_assert_eq(hekv_ckks_ct_level(a), 4);
    OK(c.ev, hekv_ckks_eval_rescale(c.ev, a, a));
    check_ct(&c, a, e, NULL, 2 * TOL_PRODUCT, "a = a * b");
    /* square, neg, mul_int, mul_const, add_const, drop_to in place */
    OK(c.ev, hekv_ckks_eval_neg(c.ev, a, a));
    OK(c.ev, hekv_ckks_eval_mul_int(c.ev, a, a, 3));
    OK(c.ev, hekv_ckks_eval_add_const(c.ev, a, a, 0.25, 0));
    OK(c.ev, hekv_ckks_eval_drop_to(c.ev, a, a, 1));
    OK(c.ev, hekv_ckks_eval_mul_const(c.ev, a, a, -0.5));
    OK(c.ev, hekv_ckks_eval_rescale(c.ev, a, a));
    for (size_t i = 0; i < n; i++) e[i] = (-3 * e[i] + 0.25) * -0.5;
    check_ct(&c, a, e, NULL, 8 * TOL_PRODUCT, "in-place chain");
    cr_assert_eq(hekv_ckks_ct_level(a), 0);
    hekv_ckks_ct_free(a);
    hekv_ckks_ct_free(b);
    ctx_free(&c);
}

/* The products and the rescale computed in place equal the out-of-place results bit for
 * bit (the key switch writes its output limb by limb while it still reads a and b), with
 * the output aliasing either operand and operands at different levels. */
static void assert_same_ct(const ctx *c, const hekv_ct *x, const hekv_ct *y, const char *what) {
    cr_assert_eq(hekv_ckks_ct_level(x), hekv_ckks_ct_level(y), "%s: levels", what);
    const size_t w = ((size_t)hekv_ckks_ct_level(x) + 1) * c->p->n * sizeof(uint64_t);
    for (int k = 0; k < 2; k++)
        cr_assert_eq(memcmp(x->c[k].c, y->c[k].c, w), 0, "%s: polynomial %d", what, k);
}

Test(ckks_eval, in_place_products_bit_exact) {
    ctx c = ctx_new(64, 1);
    test_rng g = test_rng_new(12);
    double x[64], y[64];
    hekv_ct *a = ct_random(&c, &g, x, NULL, c.top);
    hekv_ct *b = ct_random(&c, &g, y, NULL, 5);
    hekv_ct *want = ct_new(&c), *t = ct_new(&c);
    hekv_err err;
    /* out = a (a above b's level), out = b */
    OK(c.ev, hekv_ckks_eval_mul(c.ev, want, a, b));
    cr_assert_eq(hekv_ckks_ct_copy(t, a, &err), HEKV_OK);
    OK(c.ev, hekv_ckks_eval_mul(c.ev, t, t, b));
    assert_same_ct(&c, t, want, "mul out = a");
    cr_assert_eq(hekv_ckks_ct_copy(t, b, &err), HEKV_OK);
    OK(c.ev, hekv_ckks_eval_mul(c.ev, t, a, t));
    assert_same_ct(&c, t, want, "mul out = b");
    /* square and mul(a, a), in place */
    OK(c.ev, hekv_ckks_eval_square(c.ev, want, b));
    cr_assert_eq(hekv_ckks_ct_copy(t, b, &err), HEKV_OK);
    OK(c.ev, hekv_ckks_eval_mul(c.ev, t, t, t));
    assert_same_ct(&c, t, want, "mul(b, b) in place = square");
    /* rescale in place */
    hekv_ct *r = ct_new(&c);
    OK(c.ev, hekv_ckks_eval_rescale(c.ev, r, want));
    OK(c.ev, hekv_ckks_eval_rescale(c.ev, want, want));
    assert_same_ct(&c, want, r, "rescale in place");
    hekv_ckks_ct_free(a), hekv_ckks_ct_free(b), hekv_ckks_ct_free(want), hekv_ckks_ct_free(t), hekv_ckks_ct_free(r);
    ctx_free(&c);
}

Test(ckks_eval, plaintext_ops) {
    ctx c = ctx_new(128, 0);
    test_rng g = test_rng_new(3);
    size_t n = c.slots;
    double x[128], xi[128], y[128], yi[128], e[128], ei[128];
    hekv_ct *a = ct_random(&c, &g, x, xi, c.top), *o = ct_new(&c);
    fill(&g, y, n, -1, 1);
    fill(&g, yi, n, -1, 1);
    hekv_pt *pt = pt_encode(&c, y, yi, n, c.top, c.scale);

    OK(c.ev, hekv_ckks_eval_add_pt(c.ev, o, a, pt));
    for (size_t i = 0; i < n; i++) e[i] = x[i] + y[i], ei[i] = xi[i] + yi[i];
    check_ct(&c, o, e, ei, TOL_LINEAR, "add_pt");
    OK(c.ev, hekv_ckks_eval_sub_pt(c.ev, o, a, pt));
    for (size_t i = 0; i < n; i++) e[i] = x[i] - y[i], ei[i] = xi[i] - yi[i];
    check_ct(&c, o, e, ei, TOL_LINEAR, "sub_pt");

    /* mul_pt: scale 2^80, then rescale back to ~2^40 one level down */
    OK(c.ev, hekv_ckks_eval_mul_pt(c.ev, o, a, pt));
    cr_assert_eq(hekv_ckks_ct_scale(o), c.scale * c.scale);
    OK(c.ev, hekv_ckks_eval_rescale(c.ev, o, o));
    cr_assert_eq(hekv_ckks_ct_level(o), c.top - 1);
    cr_assert_eq(hekv_ckks_ct_scale(o), c.scale * c.scale / (double)hekv_ckks_params_q(c.p, c.top));
    for (size_t i = 0; i < n; i++)
        e[i] = x[i] * y[i] - xi[i] * yi[i], ei[i] = x[i] * yi[i] + xi[i] * y[i];
    check_ct(&c, o, e, ei, TOL_PRODUCT, "mul_pt + rescale");

    /* a plaintext at a lower level brings the result down to it */
    hekv_pt *pt2 = pt_encode(&c, y, yi, n, 2, c.scale);
    OK(c.ev, hekv_ckks_eval_add_pt(c.ev, o, a, pt2));
    cr_assert_eq(hekv_ckks_ct_level(o), 2);
    for (size_t i = 0; i < n; i++) e[i] = x[i] + y[i], ei[i] = xi[i] + yi[i];
    check_ct(&c, o, e, ei, TOL_LINEAR, "add_pt at a lower level");

    hekv_ckks_pt_free(pt);
    hekv_ckks_pt_free(pt2);
    hekv_ckks_ct_free(a);
    hekv_ckks_ct_free(o);
    ctx_free(&c);
}

Test(ckks_eval, constants) {
    ctx c = ctx_new(64, 0);
    test_rng g = test_rng_new(4);
    size_t n = c.slots;
    double x[64], xi[64], e[64], ei[64];
    hekv_ct *a = ct_random(&c, &g, x, xi, c.top), *o = ct_new(&c);

    /* add_const, real and complex */
    OK(c.ev, hekv_ckks_eval_add_const(c.ev, o, a, -0.375, 0));
    for (size_t i = 0; i < n; i++) e[i] = x[i] - 0.375, ei[i] = xi[i];
    check_ct(&c, o, e, ei, TOL_LINEAR, "add_const real");
    OK(c.ev, hekv_ckks_eval_add_const(c.ev, o, a, 0.5, -0.75));
    for (size_t i = 0; i < n; i++) e[i] = x[i] + 0.5, ei[i] = xi[i] - 0.75;
    check_ct(&c, o, e, ei, TOL_LINEAR, "add_const complex");
    /* the same constant through the encoder gives the same slots */
    double cre[64], cim[64];
    for (size_t i = 0; i < n; i++) cre[i] = 0.5, cim[i] = -0.75;
    hekv_pt *cpt = pt_encode(&c, cre, cim, n, c.top, c.scale);
    hekv_ct *o2 = ct_new(&c);
    OK(c.ev, hekv_ckks_eval_add_pt(c.ev, o2, a, cpt));
    OK(c.ev, hekv_ckks_eval_sub(c.ev, o2, o2, o));
    double z[64] = {0};
    check_ct(&c, o2, z, z, 0x1p-35, "add_const vs add_pt of the encoded constant");
    hekv_ckks_pt_free(cpt);
    hekv_ckks_ct_free(o2);

    /* mul_const: scale a.scale * q_top, a rescale restores a.scale (to q rounding) */
    const double vs[] = {0.7, -1.25, 3.0, 0.0};
    for (size_t t = 0; t < sizeof vs / sizeof *vs; t++) {
        OK(c.ev, hekv_ckks_eval_mul_const(c.ev, o, a, vs[t]));
        cr_assert_eq(hekv_ckks_ct_scale(o), c.scale * (double)hekv_ckks_params_q(c.p, c.top));
        OK(c.ev, hekv_ckks_eval_rescale(c.ev, o, o));
        cr_assert(fabs(hekv_ckks_ct_scale(o) / c.scale - 1) < 0x1p-40);
        for (size_t i = 0; i < n; i++) e[i] = vs[t] * x[i], ei[i] = vs[t] * xi[i];
        check_ct(&c, o, e, ei, 4 * TOL_PRODUCT, "mul_const + rescale");
    }

    /* mul_int: negative, zero, large; scale and level unchanged */
    const int64_t ks[] = {-3, 0, 1, 7, -1000};
    for (size_t t = 0; t < sizeof ks / sizeof *ks; t++) {
        OK(c.ev, hekv_ckks_eval_mul_int(c.ev, o, a, ks[t]));
        cr_assert_eq(hekv_ckks_ct_scale(o), c.scale);
        cr_assert_eq(hekv_ckks_ct_level(o), c.top);
        for (size_t i = 0; i < n; i++) e[i] = (double)ks[t] * x[i], ei[i] = (double)ks[t] * xi[i];
        check_ct(&c, o, e, ei, TOL_MUL_INT(llabs(ks[t])), "mul_int");
    }
    /* INT64_MIN is a valid integer (its magnitude does not fit int64) */
    OK(c.ev, hekv_ckks_eval_mul_int(c.ev, o, a, INT64_MIN));
    hekv_ckks_ct_free(a);
    hekv_ckks_ct_free(o);
    ctx_free(&c);
}

Test(ckks_eval, mul_square) {
    ctx c = ctx_new(256, 1);
    test_rng g = test_rng_new(5);
    size_t n = c.slots;
    double x[256], xi[256], y[256], yi[256], e[256], ei[256];
    hekv_ct *a = ct_random(&c, &g, x, xi, c.top);
    hekv_ct *b = ct_random(&c, &g, y, yi, c.top);
    hekv_ct *o = ct_new(&c);
    OK(c.ev, hekv_ckks_eval_mul(c.ev, o, a, b));
    cr_assert_eq(hekv_ckks_ct_scale(o), c.scale * c.scale);
    cr_assert_eq(hekv_ckks_ct_level(o), c.top);
    OK(c.ev, hekv_ckks_eval_rescale(c.ev, o, o));
    for (size_t i = 0; i < n; i++)
        e[i] = x[i] * y[i] - xi[i] * yi[i], ei[i] = x[i] * yi[i] + xi[i] * y[i];
    check_ct(&c, o, e, ei, TOL_PRODUCT, "mul + rescale");

    OK(c.ev, hekv_ckks_eval_square(c.ev, o, a));
    OK(c.ev, hekv_ckks_eval_rescale(c.ev, o, o));
    for (size_t i = 0; i < n; i++) e[i] = x[i] * x[i] - xi[i] * xi[i], ei[i] = 2 * x[i] * xi[i];
    check_ct(&c, o, e, ei, TOL_PRODUCT, "square + rescale");

    /* square(a) and mul(a, a) agree bit for bit */
    hekv_ct *o2 = ct_new(&c);
    OK(c.ev, hekv_ckks_eval_square(c.ev, o, a));
    OK(c.ev, hekv_ckks_eval_mul(c.ev, o2, a, a));
    for (int k = 0; k < 2; k++)
        cr_assert_eq(memcmp(o->c[k].c, o2->c[k].c, (size_t)(c.top + 1) * c.p->n * 8), 0);

    /* a clone computes the same product */
    hekv_eval *ev2 = NULL;
    hekv_err err;
    cr_assert_eq(hekv_ckks_eval_clone(c.ev, &ev2, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_eval_params(ev2), c.p);
    OK(ev2, hekv_ckks_eval_mul(ev2, o2, a, a));
    for (int k = 0; k < 2; k++)
        cr_assert_eq(memcmp(o->c[k].c, o2->c[k].c, (size_t)(c.top + 1) * c.p->n * 8), 0);
    hekv_ckks_eval_free(ev2);

    hekv_ckks_ct_free(a);
    hekv_ckks_ct_free(b);
    hekv_ckks_ct_free(o);
    hekv_ckks_ct_free(o2);
    ctx_free(&c);
}

/* x^(2^k) by repeated square + rescale from the top level down to level 0, then the
 * levels are exhausted: the next square does not fit and rescale at level 0 fails. */
Test(ckks_eval, square_chain_to_level0) {
    ctx c = ctx_new(2048, 1);
    test_rng g = test_rng_new(6);
    size_t n = c.slots;
    double *x = malloc(n * sizeof *x);
    hekv_ct *a = ct_random(&c, &g, x, NULL, c.top);
    double worst = 0;
    for (int l = c.top; l > 0; l--) {
        OK(c.ev, hekv_ckks_eval_square(c.ev, a, a));
        OK(c.ev, hekv_ckks_eval_rescale(c.ev, a, a));
        cr_assert_eq(hekv_ckks_ct_level(a), l - 1);
        for (size_t i = 0; i < n; i++) x[i] *= x[i];
        worst = check_ct(&c, a, x, NULL, TOL_CHAIN, "square chain");
    }
    cr_log_info("square chain: 7 levels, final max error 2^%.2f (bound 2^%.0f)", log2(worst),
                log2(TOL_CHAIN));
    hekv_ct *o = ct_new(&c);
    cr_assert_eq(hekv_ckks_eval_rescale(c.ev, o, a), HEKV_ERR_LEVEL);
    cr_assert(strstr(hekv_ckks_eval_last_error(c.ev), "level 0"), "%s", hekv_ckks_eval_last_error(c.ev));
    cr_assert_eq(hekv_ckks_eval_square(c.ev, o, a), HEKV_ERR_LEVEL);
    cr_assert(strstr(hekv_ckks_eval_last_error(c.ev), "rescale"), "%s", hekv_ckks_eval_last_error(c.ev));
    cr_assert_eq(hekv_ckks_eval_mul_const(c.ev, o, a, 0.5), HEKV_ERR_LEVEL);
    cr_assert_eq(hekv_ckks_ct_level(o), -1, "a failed call leaves its output untouched");
    free(x);
    hekv_ckks_ct_free(a);
    hekv_ckks_ct_free(o);
    ctx_free(&c);
}

/* ------------------------------------------------------------------ rescale, exactly */

/* Rescale of (c0, 0) at level 1 against round(c0 / q_1) computed in 128-bit integers
 * (Q_1 = q_0 q_1 < 2^90), coefficient by coefficient. */
Test(ckks_eval, rescale_exact) {
    ctx c = ctx_new(2048, 0);
    test_rng g = test_rng_new(7);
    const size_t n = c.p->n;
    const uint64_t q0 = hekv_ckks_params_q(c.p, 0), q1 = hekv_ckks_params_q(c.p, 1);
    const hekv_u128 Q = (hekv_u128)q0 * q1;
    hekv_u128 *v = malloc(n * sizeof *v);
    hekv_ct *a = ct_new(&c);
    cr_assert_eq(hekv__ct_resize(a, 1), HEKV_OK);
    for (size_t j = 0; j < n; j++) {
        hekv_u128 r = ((hekv_u128)test_u64(&g) << 64 | test_u64(&g)) % Q;
        /* edges: 0, Q-1, and values next to a rounding boundary */
        if (j == 0) r = 0;
        if (j == 1) r = Q - 1;
        if (j == 2) r = (hekv_u128)q1 / 2;
        if (j == 3) r = (hekv_u128)q1 / 2 + 1;
        v[j] = r;
        a->c[0].c[j] = (uint64_t)(r % q0);
        a->c[0].c[n + j] = (uint64_t)(r % q1);
    }
    hekv_poly c0 = a->c[0];
    c0.limbs = 2;
    hekv_ring_ntt_fwd(c.p->rq, &c0);
    memset(a->c[1].c, 0, 2 * n * sizeof(uint64_t));
    a->level = 1;
    a->scale = c.scale;
    a->slots = c.slots;
    a->c[0].ntt = a->c[1].ntt = 1;
    hekv_ct *o = ct_new(&c);
    OK(c.ev, hekv_ckks_eval_rescale(c.ev, o, a));
    cr_assert_eq(hekv_ckks_ct_level(o), 0);
    hekv_poly r0 = o->c[0], r1 = o->c[1];
    r0.limbs = r1.limbs = 1;
    hekv_ring_ntt_inv(c.p->rq, &r0);
    hekv_ring_ntt_inv(c.p->rq, &r1);
    for (size_t j = 0; j < n; j++) {
        uint64_t want = (uint64_t)(((v[j] + q1 / 2) / q1) % q0);
        cr_assert_eq(r0.c[j], want, "coefficient %zu: %llu, want %llu", j,
                     (unsigned long long)r0.c[j], (unsigned long long)want);
        cr_assert_eq(r1.c[j], 0);
    }
    free(v);
    hekv_ckks_ct_free(a);
    hekv_ckks_ct_free(o);
    ctx_free(&c);
}

/* ------------------------------------------------------------------ seeds */

Test(ckks_eval, seed_flags) {
    ctx c = ctx_new(16, 0);
    double x[16] = {0.5};
    hekv_ct *a = ct_encrypt(&c, x, c.top), *o = ct_new(&c);
    cr_assert(a->has_seed, "a fresh secret-key encryption carries its seed");
    OK(c.ev, hekv_ckks_eval_add_const(c.ev, o, a, 1.0, 0));
    cr_assert(o->has_seed && !memcmp(o->seed, a->seed, HEKV_SEED_BYTES),
              "c1 untouched by add_const: the seed stays valid");
    OK(c.ev, hekv_ckks_eval_drop_to(c.ev, o, a, c.top));
    cr_assert(o->has_seed);
    OK(c.ev, hekv_ckks_eval_drop_to(c.ev, o, a, 2));
    cr_assert(!o->has_seed, "dropping limbs changes c1");
    OK(c.ev, hekv_ckks_eval_neg(c.ev, o, a));
    cr_assert(!o->has_seed);
    OK(c.ev, hekv_ckks_eval_add(c.ev, a, a, a));
    cr_assert(!a->has_seed, "in-place add clears the seed");
    hekv_ckks_ct_free(a);
    hekv_ckks_ct_free(o);
    ctx_free(&c);
}

/* ------------------------------------------------------------------ errors */

Test(ckks_eval, errors) {
    ctx c = ctx_new(64, 0);
    double x[64] = {0.25, -0.5};
    hekv_ct *a = ct_encrypt(&c, x, c.top), *o = ct_new(&c);
    hekv_ct *empty = ct_new(&c);
    const char *msg;

    /* NULLs */
    cr_assert_eq(hekv_ckks_eval_add(NULL, o, a, a), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_eval_add(c.ev, NULL, a, a), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_eval_add(c.ev, o, a, NULL), HEKV_ERR_ARG);
    cr_assert(strstr(hekv_ckks_eval_last_error(c.ev), "b is NULL"), "%s", hekv_ckks_eval_last_error(c.ev));
    cr_assert_eq(hekv_ckks_eval_mul_pt(c.ev, o, a, NULL), HEKV_ERR_ARG);
    cr_assert_str_eq(hekv_ckks_eval_last_error(NULL), "");
    cr_assert_null(hekv_ckks_eval_params(NULL));
    hekv_eval *ev = (hekv_eval *)1;
    hekv_err err;
    cr_assert_eq(hekv_ckks_eval_new(NULL, NULL, &ev, &err), HEKV_ERR_ARG);
    cr_assert_null(ev);
    hekv_ckks_eval_free(NULL);

    /* empty input */
    cr_assert_eq(hekv_ckks_eval_neg(c.ev, o, empty), HEKV_ERR_ARG);
    cr_assert(strstr(hekv_ckks_eval_last_error(c.ev), "empty"), "%s", hekv_ckks_eval_last_error(c.ev));
    cr_assert_eq(hekv_ckks_eval_rescale(c.ev, o, empty), HEKV_ERR_ARG);

    /* another parameter object (even an identical set) */
    hekv_ckks_params *p2 = params_named("toy-N12");
    hekv_ct *f = NULL;
    cr_assert_eq(hekv_ckks_ct_new(p2, &f, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_eval_add(c.ev, o, a, f), HEKV_ERR_PARAMS);
    cr_assert(strstr(hekv_ckks_eval_last_error(c.ev), "parameter set"), "%s",
              hekv_ckks_eval_last_error(c.ev));
    cr_assert_eq(hekv_ckks_eval_neg(c.ev, f, a), HEKV_ERR_PARAMS);
    hekv_evk *evk2 = NULL;
    cr_assert_eq(hekv_ckks_evk_new(p2, &evk2, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_eval_new(c.p, evk2, &ev, &err), HEKV_ERR_PARAMS);
    hekv_ckks_evk_free(evk2);
    hekv_ckks_ct_free(f);
    hekv_ckks_params_free(p2);

    /* slot mismatch */
    hekv_ct *s32 = ct_encrypt_cx(&c, x, NULL, 32, c.top, c.scale);
    cr_assert_eq(hekv_ckks_eval_add(c.ev, o, a, s32), HEKV_ERR_ARG);
    cr_assert(strstr(hekv_ckks_eval_last_error(c.ev), "slot"), "%s", hekv_ckks_eval_last_error(c.ev));

    /* scale mismatch: a product without rescale added to a fresh ciphertext */
    hekv_ct *sq = ct_new(&c);
    OK(c.ev, hekv_ckks_eval_mul_const(c.ev, sq, a, 0.5));
    cr_assert_eq(hekv_ckks_eval_add(c.ev, o, a, sq), HEKV_ERR_SCALE);
    msg = hekv_ckks_eval_last_error(c.ev);
    cr_assert(strstr(msg, "2^40.000000") && strstr(msg, "2^79.") && strstr(msg, "rescale"),
              "the message names both scales and the fix: %s", msg);
    hekv_pt *pt = pt_encode(&c, x, NULL, c.slots, c.top, 2 * c.scale);
    cr_assert_eq(hekv_ckks_eval_sub_pt(c.ev, o, a, pt), HEKV_ERR_SCALE);
    hekv_ckks_pt_free(pt);
    /* a relative difference below 2^-40 is tolerated */
    double sc = a->scale;
    a->scale = sc * (1 + 0x1p-45);
    OK(c.ev, hekv_ckks_eval_add(c.ev, o, a, a));
    a->scale = sc;

    /* levels */
    cr_assert_eq(hekv_ckks_eval_drop_to(c.ev, o, a, c.top + 1), HEKV_ERR_LEVEL);
    cr_assert(strstr(hekv_ckks_eval_last_error(c.ev), "levels can only go down"), "%s",
              hekv_ckks_eval_last_error(c.ev));
    cr_assert_eq(hekv_ckks_eval_drop_to(c.ev, o, a, -1), HEKV_ERR_LEVEL);
    hekv_ct *l0 = ct_new(&c);
    OK(c.ev, hekv_ckks_eval_drop_to(c.ev, l0, a, 0));
    cr_assert_eq(hekv_ckks_eval_rescale(c.ev, o, l0), HEKV_ERR_LEVEL);

    /* no relinearisation key */
    cr_assert_eq(hekv_ckks_eval_mul(c.ev, o, a, a), HEKV_ERR_KEY_MISSING);
    cr_assert(strstr(hekv_ckks_eval_last_error(c.ev), "relinearisation"), "%s",
              hekv_ckks_eval_last_error(c.ev));
    hekv_eval *bare = NULL;
    cr_assert_eq(hekv_ckks_eval_new(c.p, NULL, &bare, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_eval_square(bare, o, a), HEKV_ERR_KEY_MISSING);
    cr_assert(strstr(hekv_ckks_eval_last_error(bare), "without evaluation keys"), "%s",
              hekv_ckks_eval_last_error(bare));
    hekv_ckks_eval_free(bare);

    /* non-finite constants */
    cr_assert_eq(hekv_ckks_eval_mul_const(c.ev, o, a, NAN), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_eval_add_const(c.ev, o, a, INFINITY, 0), HEKV_ERR_ARG);

    hekv_ckks_ct_free(a);
    hekv_ckks_ct_free(o);
    hekv_ckks_ct_free(empty);
    hekv_ckks_ct_free(s32);
    hekv_ckks_ct_free(sq);
    hekv_ckks_ct_free(l0);
    ctx_free(&c);
}
