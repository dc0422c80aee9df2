/* nonlin_design.c: the design search of the transformer nonlinearities: for a function
 * and an interval (from the calibration ranges of calib.c), the CKKS circuit (hekv/ckks.h:
 * hekv_nonlin, built from its parts by hekv_ckks_nonlin_new, which measures its plaintext
 * error) of least depth, then smallest error, then fewest products, among a few shapes
 * whose polynomial stages come from the Remez exchange (hekv_ckks_cheby_remez). Which
 * circuit a model gets is model knowledge, so it lives here; the circuits themselves and
 * their evaluation are the CKKS layer's.
 *
 * Shapes (among those whose plaintext circuit meets tol * range(f) on a 4000-point grid,
 * the design takes the least depth, then the smallest error, errors under tol / 64
 * counting as equal, then the fewest relinearised products):
 *   exp       remez_d(e^(x / 2^r)) then r squarings, r = 0..8 (r = 0: absolute minimax,
 *             r > 0: relative, since squaring doubles relative errors). A direct series
 *             usually wins on softmax ranges: e^x on [-44, 0] is 2^-31 at degree 31.
 *   recip     relative remez_d(1/x) start, then k Newton steps.
 *   invsqrt   relative remez_d(x^-1/2) start, then k Newton steps.
 *   silu,gelu remez_d absolute minimax, d = 2^j - 1 (a full power-of-two budget).
 *   sign      composite odd minimax (Lee, Lee, Kim, No, "Minimax approximation of sign
 *             function by composite polynomial", 2021): stage 1 is the odd minimax of 1 on
 *             [gap, A]; each stage maps [eps_j, 1] into [1 - d_j, 1 + d_j] and is divided
 *             by 1 + d_j so the next stage sees [eps_{j+1}, 1], eps_{j+1} = (1-d_j)/(1+d_j),
 *             inside [-1, 1]; the last stage is not divided. Stage degrees from
 *             {3, 5, 7, 15, 31}, searched depth-first with branches cut once they cannot beat
 *             the best depth found.
 *
 * Softmax, shift strategy (a documented choice): a calibrated constant shift c, not an
 * encrypted max. softmax(x) = e^(x-c) / sum e^(x-c) for any c, so c only has to keep the
 * exp argument inside its interval and the group sum inside [sum_lo, sum_hi]. With c the
 * calibrated maximum of the scores, exp runs on [lo - c, 0]; the sum lies in
 * [e^(max_row - c), n], so sum_lo = e^-delta needs every row's max within delta of c.
 *
 * Error tables: `hekv bench poly --table` prints, per function, every candidate the
 * search tried (shape, degree, depth, products, plaintext max error). */
#include <math.h>
#include <stdlib.h>

#include "hekv/llama_approx.h"
#include "src/base/base.h"

#define DEFAULT_TOL 0x1p-12
#define GRID 2000

typedef struct {
    hekv_nonlin_kind kind;
    long double xscale; /* f(x * xscale) */
} fn_ctx;

static long double exact_fn(long double x, void *ctx) {
    const fn_ctx *c = ctx;
    return hekv_ckks_nonlin_exactl(c->kind, x * c->xscale);
}

/* max f - min f over [lo, hi] (sign: 2), on a fine grid */
static double f_range(hekv_nonlin_kind kind, double lo, double hi) {
    if (kind == HEKV_NONLIN_SIGN) return 2.0;
    long double mn = INFINITY, mx = -INFINITY;
    for (int k = 0; k <= 4 * GRID; k++) {
        long double v = hekv_ckks_nonlin_exactl(kind, lo + (hi - lo) * (long double)k / (4 * GRID));
        if (v < mn) mn = v;
        if (v > mx) mx = v;
    }
    return (double)(mx - mn);
}


/* Called for every candidate tried (the error tables of hekv bench poly --table). */
typedef hekv_llama_design_fn cand_cb;

typedef struct {
    hekv_nonlin *best;
    int best_depth, best_mults;
    double tol_abs;
    int relative;
    int max_depth;
    int max_degree;
    double best_err_any; /* smallest error among all candidates (for the message) */
    cand_cb cb;
    void *cb_ctx;
} search;

/* Offers candidate c (measured by its constructor); keeps it if it is the best feasible so
 * far. */
static void offer(search *s, hekv_nonlin *c) {
    if (s->cb) s->cb(c, s->cb_ctx);
    const int d = hekv_ckks_nonlin_depth(c), m = hekv_ckks_nonlin_ct_mults(c);
    const double cerr = hekv_ckks_nonlin_max_err(c);
    if (cerr < s->best_err_any) s->best_err_any = cerr;
    /* order: depth, then the error (errors below tol / 64 count as equal: they sit under
     * CKKS noise), then products, then the error */
    const double floor_err = s->tol_abs / 64;
    const double berr = s->best ? hekv_ckks_nonlin_max_err(s->best) : 0;
    const double e = cerr > floor_err ? cerr : floor_err;
    const double be = !s->best ? 0 : berr > floor_err ? berr : floor_err;
    int ok = cerr <= s->tol_abs && (s->max_depth <= 0 || d <= s->max_depth);
    int better = !s->best || d < s->best_depth ||
                 (d == s->best_depth &&
                  (e < be || (e == be && (m < s->best_mults ||
                                          (m == s->best_mults && cerr < berr)))));
    if (ok && better) {
        hekv_ckks_nonlin_free(s->best);
        s->best = c;
        s->best_depth = d;
        s->best_mults = m;
    } else {
        hekv_ckks_nonlin_free(c);
    }
}

static int bitlen(int d) {
    int k = 0;
    while (k < 31 && (d >> k)) k++;
    return k;
}

/* Levels of a degree-d series on [lo, hi]. */
static int poly_depth(int d, double lo, double hi) {
    return bitlen(d) + !(lo == -1.0 && hi == 1.0);
}

/* One-stage candidate: remez of f(x * xscale) on [lo, hi]. */
static hekv_status one_stage(search *s, hekv_nonlin_kind kind, double lo, double hi, int d,
                             int rel, int squarings, int newton, hekv_err *err) {
    if (d > s->max_degree) return HEKV_OK;
    fn_ctx fc = {kind, 1.0L / (long double)(1 << squarings)};
    hekv_remez_opts o = {0};
    o.relative = rel;
    hekv_cheby *p = NULL;
    hekv_err e2;
    hekv_status st = hekv_ckks_cheby_remez(exact_fn, &fc, lo, hi, d, &o, &p, NULL, &e2);
    if (st == HEKV_ERR_NOMEM) return hekv_err_set(err, st, "%s", e2.msg);
    if (st != HEKV_OK) return HEKV_OK; /* no such candidate (e.g. an exchange that failed) */
    hekv_nonlin *c = NULL;
    const hekv_cheby *const stages[1] = {p};
    st = hekv_ckks_nonlin_new(kind, lo, hi, stages, 1, squarings, newton, 0, s->relative, &c,
                              err);
    hekv_ckks_cheby_free(p);
    if (st != HEKV_OK) return st;
    offer(s, c);
    return HEKV_OK;
}

static long double one_fn(long double x, void *ctx) {
    (void)x;
    (void)ctx;
    return 1.0L;
}

/* Composite sign candidates: depth-first over the degree of each next stage, with the
 * prefix's stages in pre[0..np) (stage np sees [-a, a] and must map [eps, a] near 1).
 * Branches that cannot beat the best depth found are cut. */
static hekv_status sign_dfs(search *s, double hi, double gap, hekv_cheby **pre, int np,
                            int depth, double eps, double a, hekv_err *err) {
    static const int sd[] = {3, 5, 7, 15, 31};
    hekv_status st = HEKV_OK;
    for (int i = 0; i < 5 && st == HEKV_OK && sd[i] <= s->max_degree; i++) {
        const int dd = poly_depth(sd[i], -a, a);
        if ((s->best && depth + dd > s->best_depth) ||
            (s->max_depth > 0 && depth + dd > s->max_depth))
            continue;
        hekv_remez_opts o = {0};
        o.lo = eps, o.hi = a, o.parity = 1;
        hekv_cheby *p = NULL;
        double delta = 0;
        hekv_err e2;
        st = hekv_ckks_cheby_remez(one_fn, NULL, -a, a, sd[i], &o, &p, &delta, &e2);
        if (st == HEKV_ERR_NOMEM) return hekv_err_set(err, st, "%s", e2.msg);
        if (st != HEKV_OK) {
            st = HEKV_OK; /* no such stage */
            continue;
        }
        const int n = hekv_ckks_cheby_degree(p) + 1;
        const int last = delta <= s->tol_abs;
        if (!(delta < 1.0) || (!last && np + 2 > HEKV_NONLIN_MAX_STAGES) ||
            (!last && s->best && depth + dd + 1 > s->best_depth)) {
            hekv_ckks_cheby_free(p);
            continue;
        }
        /* a middle stage is divided by 1 + delta so the next one sees [-1, 1] */
        double *cc = malloc((size_t)n * sizeof *cc);
        if (!cc) {
            hekv_ckks_cheby_free(p);
            return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_nonlin_design: out of memory");
        }
        for (int k = 0; k < n; k++)
            cc[k] = hekv_ckks_cheby_coeffs(p)[k] / (last ? 1.0 : 1.0 + delta);
        hekv_ckks_cheby_free(p);
        st = hekv_ckks_cheby_new(cc, n, -a, a, &pre[np], err);
        free(cc);
        if (st != HEKV_OK) break;
        if (last) {
            hekv_nonlin *c = NULL;
            st = hekv_ckks_nonlin_new(HEKV_NONLIN_SIGN, -hi, hi, (const hekv_cheby *const *)pre,
                                      np + 1, 0, 0, gap, 0, &c, err);
            if (st == HEKV_OK) offer(s, c);
        } else {
            st = sign_dfs(s, hi, gap, pre, np + 1, depth + dd, (1.0 - delta) / (1.0 + delta),
                          1.0, err);
        }
        hekv_ckks_cheby_free(pre[np]);
        pre[np] = NULL;
    }
    return st;
}

static hekv_status design(hekv_nonlin_kind kind, double lo, double hi,
                          const hekv_nonlin_opts *opts, cand_cb cb, void *cb_ctx,
                          hekv_nonlin **out, hekv_err *err) {
    static const char fn[] = "hekv_llama_nonlin_design";
    const char *name = hekv_ckks_nonlin_name(kind);
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if ((int)kind < 0 || kind >= HEKV_NONLIN_COUNT)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: unknown function %d", fn, (int)kind);
    if (!isfinite(lo) || !isfinite(hi) || !(lo < hi))
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: %s interval [%g, %g] must be finite with lo < hi", fn,
                            name, lo, hi);
    if ((kind == HEKV_NONLIN_RECIP || kind == HEKV_NONLIN_INVSQRT) && !(lo > 0))
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: %s needs lo > 0 (got [%g, %g])", fn,
                            name, lo, hi);
    if (kind == HEKV_NONLIN_SIGN && lo != -hi)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: sign needs a symmetric interval [-A, A] (got [%g, %g])", fn, lo,
                            hi);
    hekv_nonlin_opts o = {0};
    if (opts) o = *opts;
    if (o.tol == 0) o.tol = DEFAULT_TOL;
    if (o.gap == 0) o.gap = hi / 64;
    if (!(o.tol > 0 && o.tol < 1) || o.max_depth < 0 || o.min_newton < 0 || o.min_newton > 8 ||
        o.max_degree < 0 || o.max_degree == 1 || o.max_degree == 2 ||
        (kind == HEKV_NONLIN_SIGN && !(o.gap > 0 && o.gap < hi)) ||
        (o.relative && kind != HEKV_NONLIN_EXP && kind != HEKV_NONLIN_RECIP &&
         kind != HEKV_NONLIN_INVSQRT))
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: options out of range (tol %g in (0, 1), max_depth %d >= 0, "
                            "min_newton %d in 0..8, gap %g in (0, hi), max_degree 0 or >= 3, "
                            "relative only for exp, reciprocal, invsqrt)", fn, o.tol,
                            o.max_depth, o.min_newton, o.gap);
    if (o.max_degree == 0) o.max_degree = HEKV_REMEZ_MAX_DEGREE;
    search s = {NULL, 0, 0, o.relative ? o.tol : o.tol * f_range(kind, lo, hi), !!o.relative,
                o.max_depth, o.max_degree, INFINITY, cb, cb_ctx};
    hekv_status st = HEKV_OK;
    static const int degs[] = {3, 7, 15, 31, 63, 127, 255};
    const int ndeg = (int)(sizeof degs / sizeof degs[0]);
    if (kind == HEKV_NONLIN_SIGN) {
        hekv_cheby *pre[HEKV_NONLIN_MAX_STAGES] = {0};
        st = sign_dfs(&s, hi, o.gap, pre, 0, 0, o.gap, hi, err);
    }
    /* The other shapes in increasing depth; stop after the first depth with a feasible
     * candidate (deeper ones cannot win), or at 48 levels. */
    const int dmax = o.max_depth > 0 && o.max_depth < 48 ? o.max_depth : 48;
    for (int D = 1; D <= dmax && st == HEKV_OK && !s.best && kind != HEKV_NONLIN_SIGN; D++) {
        switch (kind) {
        case HEKV_NONLIN_EXP:
            for (int r = 0; r <= 8 && st == HEKV_OK; r++)
                for (int i = 0; i < ndeg && st == HEKV_OK; i++)
                    if (poly_depth(degs[i], lo, hi) + r == D && (r == 0 || degs[i] <= 31))
                        st = one_stage(&s, kind, lo, hi, degs[i], 0, r, 0, err);
            break;
        case HEKV_NONLIN_RECIP:
        case HEKV_NONLIN_INVSQRT:
            for (int k = o.min_newton; k <= 6 && st == HEKV_OK; k++)
                for (int i = 0; i < ndeg - 1 && st == HEKV_OK; i++)
                    if (poly_depth(degs[i], lo, hi) + 2 * k == D)
                        st = one_stage(&s, kind, lo, hi, degs[i], 1, 0, k, err);
            break;
        default: /* silu, gelu */
            for (int i = 0; i < ndeg && st == HEKV_OK; i++)
                if (poly_depth(degs[i], lo, hi) == D)
                    st = one_stage(&s, kind, lo, hi, degs[i], 0, 0, 0, err);
            break;
        }
    }
    if (st != HEKV_OK) {
        hekv_ckks_nonlin_free(s.best);
        return st;
    }
    if (!s.best)
        return hekv_err_set(err, HEKV_ERR_UNSUPPORTED,
                            "%s: no %s design on [%g, %g] reaches %g x range = %g%s%s (best "
                            "error %g): widen the tolerance, narrow the interval or allow more "
                            "depth", fn, name, lo, hi, o.tol, s.tol_abs,
                            o.max_depth ? " within max_depth " : "",
                            o.max_depth ? "(set)" : "", s.best_err_any);
    *out = s.best;
    return HEKV_OK;
}

hekv_status hekv_llama_nonlin_design(hekv_nonlin_kind kind, double lo, double hi,
                                     const hekv_nonlin_opts *opts, hekv_nonlin **out,
                                     hekv_err *err) {
    return design(kind, lo, hi, opts, NULL, NULL, out, err);
}

hekv_status hekv_llama_nonlin_design_table(hekv_nonlin_kind kind, double lo, double hi,
                                           const hekv_nonlin_opts *opts, hekv_llama_design_fn cb,
                                           void *ctx, hekv_nonlin **out, hekv_err *err) {
    return design(kind, lo, hi, opts, cb, ctx, out, err);
}

hekv_status hekv_llama_softmax_design(double lo, double hi, double shift, double sum_lo,
                                      double sum_hi, const hekv_nonlin_opts *opts,
                                      hekv_softmax **out, hekv_err *err) {
    static const char fn[] = "hekv_llama_softmax_design";
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (!isfinite(shift) || !isfinite(sum_lo) || !isfinite(sum_hi) || !(sum_lo > 0) ||
        !(sum_lo < sum_hi))
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: need a finite shift and 0 < sum_lo < sum_hi (got shift %g, "
                            "[%g, %g])", fn, shift, sum_lo, sum_hi);
    hekv_nonlin_opts o = {0};
    if (opts) o = *opts;
    hekv_nonlin *e = NULL, *r = NULL;
    hekv_status st = design(HEKV_NONLIN_EXP, lo - shift, hi - shift, &o, NULL, NULL, &e, err);
    if (o.min_newton < 1) o.min_newton = 1;
    o.relative = 1; /* softmax_i error = e_i / S * relative error of 1/S */
    if (st == HEKV_OK) st = design(HEKV_NONLIN_RECIP, sum_lo, sum_hi, &o, NULL, NULL, &r, err);
    if (st == HEKV_OK) st = hekv_ckks_softmax_new(shift, e, r, out, err);
    hekv_ckks_nonlin_free(e);
    hekv_ckks_nonlin_free(r);
    return st;
}

