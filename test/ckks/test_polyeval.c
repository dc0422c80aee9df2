/* test_polyeval.c: Chebyshev series (approx.c) and their homomorphic evaluation
 * (polyeval.c). The designers are checked against closed forms (interpolation reproduces
 * polynomials; the minimax error of x^8 by degree 7 is 2^-7; odd Remez has exact zero even
 * coefficients; Remez never loses to interpolation); the evaluator against the same series
 * evaluated in long double, over degrees 1..63, with and without the linear map of [a, b]:
 * the levels consumed equal hekv_ckks_cheby_depth exactly, the result lands on the target
 * scale, out may alias in, inputs outside [a, b] follow the series (documented growth),
 * and the error paths. Parameters: toy-N12 (N = 2^12, 8 limbs: 7 levels, scale 2^40). */
#include <math.h>
#include <string.h>

#include "test/ckks/ckks_fixture.h"

/* Named bounds (observed in brackets, seed 0x6865b76). A product at scale 2^40 errs by
 * ~2^-30 per unit of value; the leaf constants multiply the powers' errors by |c_k|, so
 * the bound scales with sum |c_k|. */
#define TOL_POLY(sum_abs) ((1.0 + (sum_abs)) * 0x1p-22) /* [2^-24.2 at degree 63, mapped,
                                                           sum ~ 6.5: bound 2^-19.1] */
#define TOL_SCALE 0x1p-30   /* |scale / target - 1| [2^-50] */
#define TOL_INTERP 1e-13    /* interpolation of a polynomial [1e-15] */

static ctx ctx_new(const char *name, size_t slots, int relin) {
    return ctx_new_keys(name, slots, relin, NULL, 0);
}

static hekv_cheby *cheby(const double *c, int n, double a, double b) {
    hekv_cheby *p = NULL;
    hekv_err err;
    cr_assert_eq(hekv_ckks_cheby_new(c, n, a, b, &p, &err), HEKV_OK, "%s", err.msg);
    return p;
}

/* ------------------------------------------------------------------ designers */

static long double series_fn(long double x, void *ctx) {
    const hekv_cheby *p = ctx;
    return hekv_ckks_cheby_eval(p, (double)x);
}

static long double exp_fn(long double x, void *ctx) {
    (void)ctx;
    return expl(x);
}

static long double recip_fn(long double x, void *ctx) {
    (void)ctx;
    return 1.0L / x;
}

static long double invsqrt_fn(long double x, void *ctx) {
    (void)ctx;
    return 1.0L / sqrtl(x);
}

static long double x8_fn(long double x, void *ctx) {
    (void)ctx;
    long double y = x * x;
    y *= y;
    return y * y;
}

static long double one_fn(long double x, void *ctx) {
    (void)x;
    (void)ctx;
    return 1.0L;
}

Test(ckks_poly_approx, interp_reproduces_polynomials) {
    test_rng g = test_rng_new(11);
    double c[10];
    for (int k = 0; k < 10; k++) c[k] = test_uniform(&g, -1, 1);
    hekv_cheby *p = cheby(c, 10, -3, 5), *q = NULL, *r = NULL;
    hekv_err err;
    cr_assert_eq(hekv_ckks_cheby_interp(series_fn, p, -3, 5, 9, &q, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_cheby_degree(q), 9);
    for (int k = 0; k < 10; k++)
        cr_assert(fabs(hekv_ckks_cheby_coeffs(q)[k] - c[k]) < TOL_INTERP, "c_%d: %g vs %g", k,
                  hekv_ckks_cheby_coeffs(q)[k], c[k]);
    /* more points than needed: the extra coefficients vanish */
    cr_assert_eq(hekv_ckks_cheby_interp(series_fn, p, -3, 5, 20, &r, &err), HEKV_OK);
    for (int k = 10; k <= hekv_ckks_cheby_degree(r); k++)
        cr_assert(fabs(hekv_ckks_cheby_coeffs(r)[k]) < TOL_INTERP);
    /* Clenshaw against the direct sum of cos(k acos u) */
    for (int i = 0; i <= 16; i++) {
        double x = -3 + 0.5 * i, u = (2 * x - 2) / 8, s = 0;
        for (int k = 0; k < 10; k++) s += c[k] * cos(k * acos(u));
        cr_assert(fabs(hekv_ckks_cheby_eval(p, x) - s) < 1e-13);
    }
    hekv_ckks_cheby_free(p);
    hekv_ckks_cheby_free(q);
    hekv_ckks_cheby_free(r);
}

Test(ckks_poly_approx, interp_exp_converges) {
    hekv_err err;
    double prev = INFINITY;
    for (int d = 3; d <= 15; d += 4) {
        hekv_cheby *p = NULL;
        cr_assert_eq(hekv_ckks_cheby_interp(exp_fn, NULL, -1, 1, d, &p, &err), HEKV_OK);
        double e = hekv_ckks_cheby_max_err(p, exp_fn, NULL, -1, 1, 1000, 0);
        /* the interpolation error is at most 2 e / ((d + 1)! 2^d) on [-1, 1] */
        double fact = 1;
        for (int k = 2; k <= d + 1; k++) fact *= k;
        cr_assert(e <= 2 * M_E / (fact * ldexp(1, d)) + 1e-16, "degree %d: %g", d, e);
        cr_assert(e < prev);
        prev = e;
        hekv_ckks_cheby_free(p);
    }
}

Test(ckks_poly_approx, remez_chebyshev_alternant) {
    /* the best degree-7 approximation of x^8 on [-1, 1] is x^8 - T_8 / 2^7: error 2^-7 */
    hekv_cheby *p = NULL;
    hekv_err err;
    double me = 0;
    cr_assert_eq(hekv_ckks_cheby_remez(x8_fn, NULL, -1, 1, 7, NULL, &p, &me, &err), HEKV_OK, "%s",
                 err.msg);
    cr_assert(fabs(me - 0x1p-7) < 1e-12, "minimax error %.17g", me);
    /* x^8 = (T_8 + 8 T_6 + 28 T_4 + 56 T_2 + 35) / 128 */
    const double want[8] = {35.0 / 128, 0, 56.0 / 128, 0, 28.0 / 128, 0, 8.0 / 128, 0};
    for (int k = 0; k < 8; k++) cr_assert(fabs(hekv_ckks_cheby_coeffs(p)[k] - want[k]) < 1e-12);
    cr_assert(fabs(hekv_ckks_cheby_max_err(p, x8_fn, NULL, -1, 1, 2000, 0) - 0x1p-7) < 1e-12);
    hekv_ckks_cheby_free(p);
}

Test(ckks_poly_approx, remez_beats_interpolation) {
    hekv_err err;
    struct {
        hekv_real_fn f;
        double a, b;
        int deg, rel;
    } cases[] = {{exp_fn, -44, 0, 15, 0}, {recip_fn, 1, 128, 15, 1}, {invsqrt_fn, 0.5, 8, 7, 1}};
    /* (for 1/x the relative minimax IS the interpolant: 1 - x p(x) is a multiple of
     * T_{d+1} vanishing at the d + 1 Chebyshev points, so the two errors coincide) */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hekv_cheby *pi = NULL, *pr = NULL;
        hekv_remez_opts o = {0};
        o.relative = cases[i].rel;
        double me = 0;
        cr_assert_eq(hekv_ckks_cheby_interp(cases[i].f, NULL, cases[i].a, cases[i].b, cases[i].deg,
                                            &pi, &err), HEKV_OK);
        cr_assert_eq(hekv_ckks_cheby_remez(cases[i].f, NULL, cases[i].a, cases[i].b, cases[i].deg,
                                           &o, &pr, &me, &err), HEKV_OK, "%s", err.msg);
        double ei = hekv_ckks_cheby_max_err(pi, cases[i].f, NULL, cases[i].a, cases[i].b, 4000,
                                            o.relative);
        double er = hekv_ckks_cheby_max_err(pr, cases[i].f, NULL, cases[i].a, cases[i].b, 4000,
                                            o.relative);
        cr_log_info("case %zu: interpolation 2^%.2f, remez 2^%.2f (reported 2^%.2f)", i, log2(ei),
                    log2(er), log2(me));
        cr_assert(er <= ei, "remez %g worse than interpolation %g", er, ei);
        /* the reported error is the sampled one, to the exchange's 1e-6 */
        cr_assert(fabs(er - me) <= 1e-5 * me, "reported %g, sampled %g", me, er);
        hekv_ckks_cheby_free(pi);
        hekv_ckks_cheby_free(pr);
    }
}

Test(ckks_poly_approx, remez_odd_parity) {
    hekv_cheby *p = NULL;
    hekv_err err;
    hekv_remez_opts o = {0};
    o.lo = 1.0 / 16, o.hi = 1, o.parity = 1;
    double me = 0;
    cr_assert_eq(hekv_ckks_cheby_remez(one_fn, NULL, -1, 1, 16, &o, &p, &me, &err), HEKV_OK, "%s",
                 err.msg);
    cr_assert_eq(hekv_ckks_cheby_degree(p), 15); /* lowered to odd */
    for (int k = 0; k <= 15; k += 2) cr_assert_eq(hekv_ckks_cheby_coeffs(p)[k], 0.0);
    cr_assert(me > 0 && me < 0.5);
    cr_assert(fabs(hekv_ckks_cheby_max_err(p, one_fn, NULL, 1.0 / 16, 1, 4000, 0) - me) <=
              1e-5 * me);
    /* odd: p(-x) = -p(x) */
    cr_assert(fabs(hekv_ckks_cheby_eval(p, -0.3) + hekv_ckks_cheby_eval(p, 0.3)) < 1e-15);
    /* parity needs a symmetric interval */
    hekv_cheby *q = NULL;
    cr_assert_eq(hekv_ckks_cheby_remez(one_fn, NULL, 0, 1, 7, &o, &q, NULL, &err), HEKV_ERR_ARG);
    cr_assert_null(q);
    hekv_ckks_cheby_free(p);
}

Test(ckks_poly_approx, object_errors) {
    hekv_cheby *p = NULL;
    hekv_err err;
    const double c[4] = {1, 2, 0, 0}, bad[2] = {1, NAN};
    cr_assert_eq(hekv_ckks_cheby_new(NULL, 2, -1, 1, &p, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_cheby_new(c, 0, -1, 1, &p, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_cheby_new(c, HEKV_CHEBY_MAX_COEFFS + 1, -1, 1, &p, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_cheby_new(c, 2, 1, 1, &p, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_cheby_new(c, 2, -1, INFINITY, &p, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_cheby_new(bad, 2, -1, 1, &p, &err), HEKV_ERR_ARG);
    cr_assert(strstr(err.msg, "coefficient 1"), "%s", err.msg);
    cr_assert_null(p);
    cr_assert_eq(hekv_ckks_cheby_new(c, 4, -1, 1, &p, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_cheby_degree(p), 1); /* trailing zeros dropped */
    cr_assert_eq(hekv_ckks_cheby_depth(p), 1);
    cr_assert_eq(hekv_ckks_cheby_ct_mults(p), 0);
    hekv_ckks_cheby_free(p);
    hekv_ckks_cheby_free(NULL);
    cr_assert_eq(hekv_ckks_cheby_interp(exp_fn, NULL, 1, 0, 3, &p, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_cheby_remez(exp_fn, NULL, -1, 1, HEKV_REMEZ_MAX_DEGREE + 1, NULL, &p,
                                       NULL, &err), HEKV_ERR_ARG);
    hekv_remez_opts o = {0};
    o.relative = 1;
    cr_assert_eq(hekv_ckks_cheby_remez(x8_fn, NULL, -1, 1, 3, &o, &p, NULL, &err), HEKV_ERR_ARG);
    cr_assert(strstr(err.msg, "non-zero"), "%s", err.msg);
}

/* ------------------------------------------------------------------ plan */

Test(ckks_poly_eval, depth_and_products) {
    /* depth: ceil(log2(d + 1)) (+1 for the map); products: powers + giant steps */
    double c[256];
    for (int k = 0; k < 256; k++) c[k] = 1.0 / (k + 1);
    struct {
        int deg, mults;
    } known[] = {{1, 0}, {2, 1}, {3, 2}, {4, 3}, {7, 5}, {15, 8}, {31, 13}, {63, 18}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        int d = known[i].deg;
        hekv_cheby *p = cheby(c, d + 1, -1, 1), *q = cheby(c, d + 1, -2, 3);
        int m = (int)ceil(log2(d + 1.0));
        cr_assert_eq(hekv_ckks_cheby_depth(p), m, "degree %d", d);
        cr_assert_eq(hekv_ckks_cheby_depth(q), m + 1, "degree %d mapped", d);
        cr_assert_eq(hekv_ckks_cheby_ct_mults(p), known[i].mults, "degree %d: %d products", d,
                     hekv_ckks_cheby_ct_mults(p));
        cr_assert_eq(hekv_ckks_cheby_ct_mults(q), known[i].mults);
        hekv_ckks_cheby_free(p);
        hekv_ckks_cheby_free(q);
    }
    /* about 2 sqrt(d) + log2 d products, far below the d - 1 of computing every power */
    for (int d = 7; d <= 255; d = 2 * d + 1) {
        hekv_cheby *p = cheby(c, d + 1, -1, 1);
        int m = hekv_ckks_cheby_ct_mults(p);
        cr_log_info("degree %d: %d products (depth %d)", d, m, hekv_ckks_cheby_depth(p));
        cr_assert(m <= 2 * sqrt(d + 1.0) + log2(d + 1.0) + 1, "degree %d: %d products", d, m);
        hekv_ckks_cheby_free(p);
    }
    /* an odd series skips the even powers */
    double o[32] = {0};
    for (int k = 1; k < 32; k += 2) o[k] = 1.0 / k;
    hekv_cheby *dense = cheby(c, 32, -1, 1), *odd = cheby(o, 32, -1, 1);
    cr_assert_lt(hekv_ckks_cheby_ct_mults(odd), hekv_ckks_cheby_ct_mults(dense));
    cr_log_info("degree 31: dense %d, odd %d products", hekv_ckks_cheby_ct_mults(dense),
                hekv_ckks_cheby_ct_mults(odd));
    hekv_ckks_cheby_free(dense);
    hekv_ckks_cheby_free(odd);
}

/* ------------------------------------------------------------------ encrypted */

/* Encrypts x (slots values at `level`), evaluates p to `target` (0: input scale) and checks
 * level, scale and error against the series in long double. Returns the max error. */
static double run_poly(ctx *c, const hekv_cheby *p, const double *x, int level, double target,
                       double tol, const char *what) {
    hekv_ct *ct = ct_encrypt(c, x, level);
    const int depth = hekv_ckks_cheby_depth(p);
    OK(c->ev, hekv_ckks_eval_poly(c->ev, ct, ct, p, target));
    cr_assert_eq(hekv_ckks_ct_level(ct), level - depth, "%s: level %d, expected %d - %d", what,
                 hekv_ckks_ct_level(ct), level, depth);
    const double want = target ? target : c->scale;
    cr_assert(fabs(hekv_ckks_ct_scale(ct) / want - 1) <= TOL_SCALE, "%s: scale 2^%.6f vs 2^%.6f",
              what, log2(hekv_ckks_ct_scale(ct)), log2(want));
    double *y = malloc(c->slots * sizeof *y), m = 0;
    ct_decrypt(c, y, NULL, ct);
    for (size_t i = 0; i < c->slots; i++) {
        double d = fabs(y[i] - hekv_ckks_cheby_eval(p, x[i]));
        if (!(d <= m)) m = d;
    }
    cr_log_info("%s: max error 2^%.2f (bound 2^%.2f)", what, log2(m), log2(tol));
    cr_assert(m <= tol, "%s: max error 2^%.2f > bound 2^%.2f", what, log2(m), log2(tol));
    free(y);
    hekv_ckks_ct_free(ct);
    return m;
}

Test(ckks_poly_eval, random_series_all_degrees) {
    ctx c = ctx_new("toy-N12", 64, 1);
    test_rng g = test_rng_new(12);
    double x[64], coef[64];
    const int degs[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16, 17, 31, 33, 63};
    for (size_t t = 0; t < sizeof degs / sizeof degs[0]; t++) {
        const int d = degs[t];
        double sum = 0;
        for (int k = 0; k <= d; k++) {
            coef[k] = test_uniform(&g, -1, 1) / (1 + 0.2 * k);
            sum += fabs(coef[k]);
        }
        for (int map = 0; map < 2; map++) {
            const double a = map ? -2.5 : -1, b = map ? 4 : 1;
            hekv_cheby *p = cheby(coef, d + 1, a, b);
            if (hekv_ckks_cheby_depth(p) > c.top) {
                hekv_ckks_cheby_free(p);
                continue;
            }
            for (size_t i = 0; i < c.slots; i++) x[i] = test_uniform(&g, a, b);
            x[0] = a, x[1] = b; /* the ends, where |T_k| = 1 */
            char what[64];
            snprintf(what, sizeof what, "degree %d on [%g, %g]", d, a, b);
            run_poly(&c, p, x, c.top, 0, TOL_POLY(sum), what);
            hekv_ckks_cheby_free(p);
        }
    }
    ctx_free(&c);
}

Test(ckks_poly_eval, target_scale_and_level) {
    ctx c = ctx_new("toy-N12", 32, 1);
    test_rng g = test_rng_new(13);
    double x[32], coef[16];
    for (int k = 0; k < 16; k++) coef[k] = test_uniform(&g, -1, 1) / (k + 1);
    for (size_t i = 0; i < c.slots; i++) x[i] = test_uniform(&g, 0, 2);
    hekv_cheby *p = cheby(coef, 16, 0, 2);
    /* landing scales other than the input's: the constants absorb any ratio */
    const double targets[] = {0x1p35, 0x1p40, 0x1p44, 1.2345e12};
    for (size_t t = 0; t < 4; t++) run_poly(&c, p, x, c.top, targets[t], TOL_POLY(4), "target");
    /* starting lower: the result is depth levels below the input, whatever it is */
    run_poly(&c, p, x, 5, 0, TOL_POLY(4), "from level 5");
    /* odd series on [-1, 1]: no map, one level less */
    double o[16] = {0};
    for (int k = 1; k < 16; k += 2) o[k] = coef[k];
    hekv_cheby *q = cheby(o, 16, -1, 1);
    for (size_t i = 0; i < c.slots; i++) x[i] = test_uniform(&g, -1, 1);
    cr_assert_eq(hekv_ckks_cheby_depth(q), 4);
    run_poly(&c, q, x, 4, 0, TOL_POLY(4), "odd from level 4 to 0");
    hekv_ckks_cheby_free(p);
    hekv_ckks_cheby_free(q);
    ctx_free(&c);
}

Test(ckks_poly_eval, outside_the_interval_follows_the_series) {
    /* documented behaviour: no clamping; the encrypted result is the series, which grows
     * like T_d(u) ~ (u + sqrt(u^2 - 1))^d / 2 outside [-1, 1] */
    ctx c = ctx_new("toy-N12", 16, 1);
    double coef[8] = {0, 0, 0, 0, 0, 0, 0, 1}; /* T_7 */
    hekv_cheby *p = cheby(coef, 8, -1, 1);
    double x[16];
    for (size_t i = 0; i < c.slots; i++) x[i] = 1.0 + 0.01 * (double)i; /* up to 1.15 */
    run_poly(&c, p, x, c.top, 0, 0x1p-16, "T_7 on [1, 1.15]");
    cr_assert(hekv_ckks_cheby_eval(p, 1.15) > 10); /* T_7(1.15) = 12.3: far from 1 */
    hekv_ckks_cheby_free(p);
    ctx_free(&c);
}

Test(ckks_poly_eval, errors) {
    ctx c = ctx_new("toy-N12", 16, 1), nk = ctx_new("toy-N12", 16, 0);
    double x[16] = {0}, coef[32];
    for (int k = 0; k < 32; k++) coef[k] = 1.0 / (k + 1);
    hekv_cheby *p = cheby(coef, 32, -3, 3), *k0 = cheby(coef, 1, -1, 1);
    hekv_ct *ct = ct_encrypt(&c, x, c.top), *lo = ct_encrypt(&c, x, 5);
    /* depth 6 from level 5 */
    cr_assert_eq(hekv_ckks_eval_poly(c.ev, ct, lo, p, 0), HEKV_ERR_LEVEL);
    cr_assert(strstr(hekv_ckks_eval_last_error(c.ev), "needs 6 levels"), "%s",
              hekv_ckks_eval_last_error(c.ev));
    cr_assert_eq(hekv_ckks_ct_level(ct), c.top); /* output untouched on failure */
    cr_assert_eq(hekv_ckks_eval_poly(c.ev, ct, ct, k0, 0), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_eval_poly(c.ev, ct, ct, NULL, 0), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_eval_poly(c.ev, ct, ct, p, -1), HEKV_ERR_SCALE);
    cr_assert_eq(hekv_ckks_eval_poly(NULL, ct, ct, p, 0), HEKV_ERR_ARG);
    /* without the relinearisation key */
    hekv_ct *ct2 = ct_encrypt(&nk, x, nk.top);
    cr_assert_eq(hekv_ckks_eval_poly(nk.ev, ct2, ct2, p, 0), HEKV_ERR_KEY_MISSING);
    /* a ciphertext of other parameters */
    cr_assert_eq(hekv_ckks_eval_poly(c.ev, ct, ct2, p, 0), HEKV_ERR_PARAMS);
    hekv_ckks_ct_free(ct);
    hekv_ckks_ct_free(ct2);
    hekv_ckks_ct_free(lo);
    hekv_ckks_cheby_free(p);
    hekv_ckks_cheby_free(k0);
    ctx_free(&c);
    ctx_free(&nk);
}
