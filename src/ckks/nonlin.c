/* nonlin.c: the transformer nonlinearities under CKKS: exp, 1/x, 1/sqrt(x), SiLU, GELU,
 * sign (comparison) and softmax. Each is *designed* for an interval (from the calibration
 * ranges of models/calib.c) by searching a few circuit shapes whose polynomial stages come
 * from the Remez exchange of approx.c, then *evaluated* on ciphertexts with polyeval.c.
 * The plaintext circuit (hekv_ckks_nonlin_eval_plain) uses the same coefficients and steps,
 * so the FHE simulation of models/ (the "hekv-approx 1" file written from it) and the
 * encrypted result agree to CKKS noise. It deliberately does not pick intervals (callers
 * pass calibrated ranges) and does not bootstrap.
 *
 * Circuit shapes (among those whose plaintext circuit meets tol * range(f) on a 4000-point
 * grid, the design takes the least depth, then the smallest error, errors under tol / 64
 * counting as equal, then the fewest relinearised products):
 *   exp       remez_d(e^(x / 2^r)) then r squarings, r = 0..8 (r = 0: absolute minimax,
 *             r > 0: relative, since squaring doubles relative errors). A direct series
 *             usually wins on softmax ranges: e^x on [-44, 0] is 2^-31 at degree 31.
 *   recip     relative remez_d(1/x) start, then k Newton steps y <- 2y - x y^2
 *             (relative error e -> e^2; 2 levels and 2 products each).
 *   invsqrt   relative remez_d(x^-1/2) start, then k Newton steps y <- 1.5 y - 0.5 x y^3
 *             (t = x y^2: 1 - t -> (1 - t)^2 (2 + t) / 4; 2 levels, 3 products each: y^2 and
 *             (0.5 x) y in parallel, then their product).
 *   silu,gelu remez_d absolute minimax, d = 2^j - 1 (a full power-of-two budget).
 *   sign      composite odd minimax (Lee, Lee, Kim, No, "Minimax approximation of sign
 *             function by composite polynomial", 2021): stage 1 is the odd minimax of 1 on
 *             [gap, A]; each stage maps [eps_j, 1] into [1 - d_j, 1 + d_j] and is divided
 *             by 1 + d_j so the next stage sees [eps_{j+1}, 1], eps_{j+1} = (1-d_j)/(1+d_j),
 *             inside [-1, 1] (no linear map, no level for it); the last stage is not
 *             divided. Stage degrees from {3, 5, 7, 15, 31}, searched depth-first with
 *             branches cut once they cannot beat the best depth found.
 * Newton steps, squarings and the softmax's fused last step keep exact scale labels: the
 * term that is added to a product before its rescale is first brought to the product's
 * scale by an integer factor ~2^40 (hekv__ct_mul_round), and the x that a Newton step
 * multiplies by is prepared at the level and scale the step needs (hekv__ct_prep: a
 * product by an integer and a rescale, on x's spare levels, off the critical path).
 *
 * Softmax, shift strategy (a documented choice): a calibrated constant shift c, not an
 * encrypted max. softmax(x) = e^(x-c) / sum e^(x-c) for any c, so c only has to keep the
 * exp argument inside its interval and the group sum inside [sum_lo, sum_hi]. With c the
 * calibrated maximum of the scores, exp runs on [lo - c, 0]; the sum lies in
 * [e^(max_row - c), n], so sum_lo = e^-delta needs every row's max within delta of c.
 * An encrypted max (log2 n rounds of max(a, b) = (a + b + (a - b) sign(a - b)) / 2 with the
 * sign above) removes that assumption but costs ~log2 n times the sign depth: it needs
 * bootstrapping, so it is left to the encrypted model. The group sum is log2 n
 * rotate-and-adds (hekv_ckks_eval_inner_sum). The reciprocal's last Newton step is fused
 * with the final product:
 *     out = e y (2 - S y) = 2 (e y) - (e y)(S y),
 * where e y and S y are computed side by side, so the product costs no extra level.
 *
 * Error tables: `hekv bench poly --table` prints, per function, every candidate the
 * search tried (shape, degree, depth, products, plaintext max error). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "poly_int.h"

#define MAX_STAGES 10
#define DEFAULT_TOL 0x1p-12
#define GRID 2000

struct hekv_nonlin {
    hekv_nonlin_kind kind;
    double lo, hi;
    int relative;                   /* max_err is relative (|g - f| / |f|) */
    double gap;                     /* sign */
    int nstage;
    hekv_cheby *stage[MAX_STAGES];  /* applied first to last */
    int squarings;                  /* exp */
    int newton;                     /* recip, invsqrt */
    double max_err, range;
};

struct hekv_softmax {
    double shift;
    hekv_nonlin *exp, *recip;
};

static const char *const names[HEKV_NONLIN_COUNT] = {"exp",  "reciprocal", "invsqrt",
                                                     "silu", "gelu",       "sign"};

const char *hekv_ckks_nonlin_name(hekv_nonlin_kind kind) {
    return (int)kind >= 0 && kind < HEKV_NONLIN_COUNT ? names[kind] : NULL;
}

static long double exact_l(hekv_nonlin_kind kind, long double x) {
    switch (kind) {
    case HEKV_NONLIN_EXP: return expl(x);
    case HEKV_NONLIN_RECIP: return 1.0L / x;
    case HEKV_NONLIN_INVSQRT: return 1.0L / sqrtl(x);
    case HEKV_NONLIN_SILU: return x / (1.0L + expl(-x));
    case HEKV_NONLIN_GELU: return 0.5L * x * (1.0L + erfl(x / sqrtl(2.0L)));
    case HEKV_NONLIN_SIGN: return x > 0 ? 1.0L : x < 0 ? -1.0L : 0.0L;
    default: return NAN;
    }
}

double hekv_ckks_nonlin_exact(hekv_nonlin_kind kind, double x) {
    return (double)exact_l(kind, x);
}

/* ------------------------------------------------------------------ accessors */

hekv_nonlin_kind hekv_ckks_nonlin_kind(const hekv_nonlin *nl) {
    return nl ? nl->kind : HEKV_NONLIN_COUNT;
}
double hekv_ckks_nonlin_lo(const hekv_nonlin *nl) { return nl ? nl->lo : NAN; }
double hekv_ckks_nonlin_hi(const hekv_nonlin *nl) { return nl ? nl->hi : NAN; }
double hekv_ckks_nonlin_max_err(const hekv_nonlin *nl) { return nl ? nl->max_err : NAN; }
double hekv_ckks_nonlin_range(const hekv_nonlin *nl) { return nl ? nl->range : NAN; }
double hekv_ckks_nonlin_gap(const hekv_nonlin *nl) { return nl ? nl->gap : NAN; }
int hekv_ckks_nonlin_stages(const hekv_nonlin *nl) { return nl ? nl->nstage : 0; }
int hekv_ckks_nonlin_squarings(const hekv_nonlin *nl) { return nl ? nl->squarings : 0; }
int hekv_ckks_nonlin_newton(const hekv_nonlin *nl) { return nl ? nl->newton : 0; }

const hekv_cheby *hekv_ckks_nonlin_stage(const hekv_nonlin *nl, int i) {
    return nl && i >= 0 && i < nl->nstage ? nl->stage[i] : NULL;
}

/* relinearised products of one Newton step */
static int newton_mults(hekv_nonlin_kind kind) { return kind == HEKV_NONLIN_INVSQRT ? 3 : 2; }

int hekv_ckks_nonlin_depth(const hekv_nonlin *nl) {
    if (!nl) return -1;
    int d = nl->squarings + 2 * nl->newton;
    for (int i = 0; i < nl->nstage; i++) d += hekv_ckks_cheby_depth(nl->stage[i]);
    return d;
}

int hekv_ckks_nonlin_ct_mults(const hekv_nonlin *nl) {
    if (!nl) return -1;
    int m = nl->squarings + newton_mults(nl->kind) * nl->newton;
    for (int i = 0; i < nl->nstage; i++) m += hekv_ckks_cheby_ct_mults(nl->stage[i]);
    return m;
}

int hekv_ckks_nonlin_degree(const hekv_nonlin *nl) {
    if (!nl) return -1;
    long d = 1;
    for (int i = 0; i < nl->nstage; i++) d *= hekv_ckks_cheby_degree(nl->stage[i]);
    d <<= nl->squarings;
    for (int k = 0; k < nl->newton; k++)
        d = nl->kind == HEKV_NONLIN_INVSQRT ? 3 * d + 1 : 2 * d + 1;
    return d > 1L << 30 ? 1 << 30 : (int)d;
}

void hekv_ckks_nonlin_describe(const hekv_nonlin *nl, char *buf, size_t len) {
    if (!buf || !len) return;
    buf[0] = '\0';
    if (!nl) return;
    char sq[24] = "", nw[24] = "";
    if (nl->squarings) snprintf(sq, sizeof sq, "+sq%d", nl->squarings);
    if (nl->newton) snprintf(nw, sizeof nw, "+newton%d", nl->newton);
    const int d0 = hekv_ckks_cheby_degree(nl->stage[0]);
    if (nl->kind == HEKV_NONLIN_SIGN) {
        /* odd7.15.15: the stage degrees in order */
        size_t o = 0;
        for (int i = 0; i < nl->nstage && o + 1 < len; i++) {
            int w = snprintf(buf + o, len - o, "%s%d", i ? "." : "odd",
                             hekv_ckks_cheby_degree(nl->stage[i]));
            if (w < 0) break;
            o += (size_t)w < len - o ? (size_t)w : len - o - 1;
        }
    } else {
        snprintf(buf, len, "remez%d%s%s", d0, sq, nw);
    }
}

void hekv_ckks_nonlin_free(hekv_nonlin *nl) {
    if (!nl) return;
    for (int i = 0; i < nl->nstage; i++) hekv_ckks_cheby_free(nl->stage[i]);
    free(nl);
}

/* ------------------------------------------------------------------ plaintext circuit */

static long double plain_l(const hekv_nonlin *nl, long double x) {
    long double y = x;
    for (int i = 0; i < nl->nstage; i++) y = hekv__cheby_evall(nl->stage[i], y);
    for (int j = 0; j < nl->squarings; j++) y = y * y;
    for (int k = 0; k < nl->newton; k++) {
        if (nl->kind == HEKV_NONLIN_INVSQRT)
            y = 1.5L * y - (0.5L * x * y) * (y * y);
        else
            y = 2.0L * y - x * (y * y);
    }
    return y;
}

double hekv_ckks_nonlin_eval_plain(const hekv_nonlin *nl, double x) {
    return nl ? (double)plain_l(nl, x) : NAN;
}

static long double plain_fn(long double x, void *ctx) { return plain_l(ctx, x); }

typedef struct {
    hekv_nonlin_kind kind;
    long double xscale; /* f(x * xscale) */
} fn_ctx;

static long double exact_fn(long double x, void *ctx) {
    const fn_ctx *c = ctx;
    return exact_l(c->kind, x * c->xscale);
}

/* The plaintext circuit's max error over the interval (sign: over gap <= |x| <= hi); +inf
 * when an intermediate of sign leaves [-1, 1] anywhere on [-hi, hi] (the next stage's
 * Chebyshev powers would blow up). */
static double measure(const hekv_nonlin *nl) {
    fn_ctx fc = {nl->kind, 1.0L};
    if (nl->kind != HEKV_NONLIN_SIGN)
        return (double)hekv__max_err(plain_fn, (void *)nl, exact_fn, &fc, nl->lo, nl->hi, GRID,
                                     nl->relative, NULL);
    long double e1 = hekv__max_err(plain_fn, (void *)nl, exact_fn, &fc, nl->gap, nl->hi, GRID,
                                   0, NULL);
    long double e2 = hekv__max_err(plain_fn, (void *)nl, exact_fn, &fc, nl->lo, -nl->gap, GRID,
                                   0, NULL);
    for (int k = 0; k <= 2 * GRID; k++) {
        long double y = nl->lo + (nl->hi - nl->lo) * k / (2.0L * GRID);
        for (int i = 0; i + 1 < nl->nstage; i++) {
            y = hekv__cheby_evall(nl->stage[i], y);
            if (!(fabsl(y) <= 1.0L + 1e-9L)) return INFINITY;
        }
    }
    return (double)(e1 > e2 ? e1 : e2);
}

static double f_range(hekv_nonlin_kind kind, double lo, double hi) {
    if (kind == HEKV_NONLIN_SIGN) return 2.0;
    long double mn = INFINITY, mx = -INFINITY;
    for (int k = 0; k <= 4 * GRID; k++) {
        long double v = exact_l(kind, lo + (hi - lo) * (long double)k / (4 * GRID));
        if (v < mn) mn = v;
        if (v > mx) mx = v;
    }
    return (double)(mx - mn);
}

/* ------------------------------------------------------------------ design */

/* A candidate under construction; owns its stages. */
static hekv_nonlin *cand_new(hekv_nonlin_kind kind, double lo, double hi, double gap,
                             int relative) {
    hekv_nonlin *c = calloc(1, sizeof *c);
    if (c) c->kind = kind, c->lo = lo, c->hi = hi, c->gap = gap, c->relative = relative;
    return c;
}

/* Called for every candidate tried (the error tables of hekv bench poly --table). */
typedef void (*cand_cb)(const hekv_nonlin *c, void *ctx);

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

/* Offers candidate c (measured here); keeps it if it is the best feasible so far. */
static void offer(search *s, hekv_nonlin *c) {
    c->max_err = measure(c);
    c->range = f_range(c->kind, c->lo, c->hi);
    if (s->cb) s->cb(c, s->cb_ctx);
    const int d = hekv_ckks_nonlin_depth(c), m = hekv_ckks_nonlin_ct_mults(c);
    if (c->max_err < s->best_err_any) s->best_err_any = c->max_err;
    /* order: depth, then the error (errors below tol / 64 count as equal: they sit under
     * CKKS noise), then products, then the error */
    const double floor_err = s->tol_abs / 64;
    const double e = c->max_err > floor_err ? c->max_err : floor_err;
    const double be = !s->best ? 0 : s->best->max_err > floor_err ? s->best->max_err : floor_err;
    int ok = c->max_err <= s->tol_abs && (s->max_depth <= 0 || d <= s->max_depth);
    int better = !s->best || d < s->best_depth ||
                 (d == s->best_depth &&
                  (e < be || (e == be && (m < s->best_mults ||
                                          (m == s->best_mults && c->max_err < s->best->max_err)))));
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
    hekv_nonlin *c = cand_new(kind, lo, hi, 0, s->relative);
    if (!c) {
        hekv_ckks_cheby_free(p);
        return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ckks_nonlin_new: out of memory");
    }
    c->stage[0] = p;
    c->nstage = 1;
    c->squarings = squarings;
    c->newton = newton;
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
        if (!(delta < 1.0) || (!last && np + 2 > MAX_STAGES) ||
            (!last && s->best && depth + dd + 1 > s->best_depth)) {
            hekv_ckks_cheby_free(p);
            continue;
        }
        /* a middle stage is divided by 1 + delta so the next one sees [-1, 1] */
        double *cc = malloc((size_t)n * sizeof *cc);
        if (!cc) {
            hekv_ckks_cheby_free(p);
            return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ckks_nonlin_new: out of memory");
        }
        for (int k = 0; k < n; k++)
            cc[k] = hekv_ckks_cheby_coeffs(p)[k] / (last ? 1.0 : 1.0 + delta);
        hekv_ckks_cheby_free(p);
        st = hekv_ckks_cheby_new(cc, n, -a, a, &pre[np], err);
        free(cc);
        if (st != HEKV_OK) break;
        if (last) {
            hekv_nonlin *c = cand_new(HEKV_NONLIN_SIGN, -hi, hi, gap, 0);
            for (int k = 0; c && k <= np && st == HEKV_OK; k++) {
                st = hekv_ckks_cheby_new(hekv_ckks_cheby_coeffs(pre[k]),
                                         hekv_ckks_cheby_degree(pre[k]) + 1,
                                         hekv_ckks_cheby_lo(pre[k]), hekv_ckks_cheby_hi(pre[k]),
                                         &c->stage[k], err);
                if (st == HEKV_OK) c->nstage = k + 1;
            }
            if (!c) st = hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ckks_nonlin_new: out of memory");
            if (st == HEKV_OK)
                offer(s, c);
            else
                hekv_ckks_nonlin_free(c);
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
    static const char fn[] = "hekv_ckks_nonlin_new";
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if ((int)kind < 0 || kind >= HEKV_NONLIN_COUNT)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: unknown function %d", fn, (int)kind);
    if (!isfinite(lo) || !isfinite(hi) || !(lo < hi))
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: %s interval [%g, %g] must be finite with lo < hi", fn,
                            names[kind], lo, hi);
    if ((kind == HEKV_NONLIN_RECIP || kind == HEKV_NONLIN_INVSQRT) && !(lo > 0))
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: %s needs lo > 0 (got [%g, %g])", fn,
                            names[kind], lo, hi);
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
        hekv_cheby *pre[MAX_STAGES] = {0};
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
                            "depth", fn, names[kind], lo, hi, o.tol, s.tol_abs,
                            o.max_depth ? " within max_depth " : "",
                            o.max_depth ? "(set)" : "", s.best_err_any);
    *out = s.best;
    return HEKV_OK;
}

hekv_status hekv_ckks_nonlin_new(hekv_nonlin_kind kind, double lo, double hi,
                                 const hekv_nonlin_opts *opts, hekv_nonlin **out,
                                 hekv_err *err) {
    return design(kind, lo, hi, opts, NULL, NULL, out, err);
}

hekv_status hekv__nonlin_design_table(hekv_nonlin_kind kind, double lo, double hi,
                                      const hekv_nonlin_opts *opts,
                                      void (*cb)(const hekv_nonlin *c, void *ctx), void *ctx,
                                      hekv_nonlin **out, hekv_err *err) {
    return design(kind, lo, hi, opts, cb, ctx, out, err);
}

/* ------------------------------------------------------------------ encrypted circuit */

/* One Newton step on y (in place) for kind, with x the original input (level > y's):
 * y <- 2y - x y^2 (recip) or 1.5 y - (0.5 x y) y^2 (invsqrt); 2 levels; the result lands
 * at scale tau. */
static hekv_status newton_step(hekv_eval *ev, hekv_nonlin_kind kind, hekv_ct *y,
                               const hekv_ct *x, double tau, hekv_ct *s, hekv_ct *u,
                               hekv_ct *w) {
    const int l = y->level;
    hekv_status st = hekv_ckks_eval_square(ev, s, y);
    if (st == HEKV_OK) st = hekv_ckks_eval_rescale(ev, s, s); /* y^2 at l-1 */
    if (st != HEKV_OK) return st;
    const double ql1 = hekv__q(ev, l - 1), want = tau * ql1; /* u's scale before rescale */
    double c;
    if (kind == HEKV_NONLIN_INVSQRT) {
        /* w = (0.5 x) y at l-1 with scale want / scale(s); x is labelled at twice its scale
         * so that it reads 0.5 x */
        const double ws = want / s->scale, xs = ws * hekv__q(ev, l) / y->scale;
        st = hekv__ct_prep(ev, w, x, l, xs / 2);
        if (st == HEKV_OK) w->scale *= 2;
        if (st == HEKV_OK) st = hekv_ckks_eval_mul(ev, w, w, y);
        if (st == HEKV_OK) st = hekv_ckks_eval_rescale(ev, w, w);
        if (st == HEKV_OK) st = hekv_ckks_eval_mul(ev, u, w, s); /* 0.5 x y^3 */
        c = 1.5;
    } else {
        st = hekv__ct_prep(ev, w, x, l - 1, want / s->scale);
        if (st == HEKV_OK) st = hekv_ckks_eval_mul(ev, u, w, s); /* x y^2 */
        c = 2.0;
    }
    if (st != HEKV_OK) return st;
    /* y <- c y - u, with c y brought to u's scale by an integer factor (value c y) */
    const double us = u->scale;
    st = hekv__ct_mul_round(ev, y, y, l - 1, c * us / y->scale, 0);
    if (st == HEKV_OK) {
        y->scale = us;
        st = hekv_ckks_eval_sub(ev, y, y, u);
    }
    if (st == HEKV_OK) st = hekv_ckks_eval_rescale(ev, y, y);
    return st;
}

typedef struct {
    hekv_ct *s, *u, *w, *x;
} scratch;

static void scratch_free(scratch *k) {
    hekv_ct_free(k->s);
    hekv_ct_free(k->u);
    hekv_ct_free(k->w);
    hekv_ct_free(k->x);
}

static hekv_status scratch_new(hekv_eval *ev, scratch *k) {
    memset(k, 0, sizeof *k);
    hekv_err e;
    hekv_status st = hekv_ct_new(ev->params, &k->s, &e);
    if (st == HEKV_OK) st = hekv_ct_new(ev->params, &k->u, &e);
    if (st == HEKV_OK) st = hekv_ct_new(ev->params, &k->w, &e);
    if (st == HEKV_OK) st = hekv_ct_new(ev->params, &k->x, &e);
    if (st != HEKV_OK) {
        scratch_free(k);
        return hekv_err_set(&ev->err, st, "nonlinearity: %s", e.msg);
    }
    return HEKV_OK;
}

/* The whole circuit of nl on in (validated), result at scale target. When fuse_e is
 * given (softmax), nl must be a reciprocal with newton >= 1 and the last step computes
 * fuse_e * 1/in instead: out = 2 (e y) - (e y)(in y). */
static hekv_status run(hekv_eval *ev, hekv_ct *out, const hekv_ct *in, const hekv_nonlin *nl,
                       double target, const hekv_ct *fuse_e) {
    scratch k;
    hekv_status st = scratch_new(ev, &k);
    if (st != HEKV_OK) return st;
    const hekv_ct *x = in;
    if (nl->newton && (out == in || out == fuse_e)) {
        /* keep x (and e) readable while out is written */
        hekv_err e;
        if ((st = hekv_ct_copy(k.x, in, &e)) != HEKV_OK) {
            scratch_free(&k);
            return hekv_err_set(&ev->err, st, "nonlinearity: %s", e.msg);
        }
        x = k.x;
    }
    const hekv_ct *src = in;
    int level = in->level;
    for (int i = 0; i < nl->nstage && st == HEKV_OK; i++) {
        level -= hekv_ckks_cheby_depth(nl->stage[i]);
        double tau = hekv__q(ev, level);
        if (i == nl->nstage - 1 && !nl->squarings && !nl->newton) tau = target;
        if (i == nl->nstage - 1 && nl->squarings) {
            /* back from the target through the squarings: s_j = sqrt(s_{j+1} q) */
            tau = target;
            for (int j = nl->squarings - 1; j >= 0; j--) tau = sqrt(tau * hekv__q(ev, level - j));
        }
        st = hekv__eval_poly(ev, out, src, nl->stage[i], tau, NULL);
        src = out;
    }
    for (int j = 0; j < nl->squarings && st == HEKV_OK; j++) {
        st = hekv_ckks_eval_square(ev, out, out);
        if (st == HEKV_OK) st = hekv_ckks_eval_rescale(ev, out, out);
    }
    for (int j = 0; j < nl->newton && st == HEKV_OK; j++) {
        const int last = j == nl->newton - 1;
        const double tau = last ? target : hekv__q(ev, out->level - 2);
        if (last && fuse_e) {
            /* A = e y (scale tau), B = S y (scale q_{l-1}), out = 2A - AB */
            const int l = out->level;
            const double ql = hekv__q(ev, l), ql1 = hekv__q(ev, l - 1);
            st = hekv__ct_prep(ev, k.w, fuse_e, l, tau * ql / out->scale);
            if (st == HEKV_OK) st = hekv_ckks_eval_mul(ev, k.w, k.w, out);
            if (st == HEKV_OK) st = hekv_ckks_eval_rescale(ev, k.w, k.w); /* A */
            if (st == HEKV_OK) st = hekv__ct_prep(ev, k.s, x, l, ql1 * ql / out->scale);
            if (st == HEKV_OK) st = hekv_ckks_eval_mul(ev, k.s, k.s, out);
            if (st == HEKV_OK) st = hekv_ckks_eval_rescale(ev, k.s, k.s); /* B */
            if (st == HEKV_OK) st = hekv_ckks_eval_mul(ev, k.u, k.w, k.s); /* AB */
            if (st == HEKV_OK) {
                const double us = k.u->scale;
                st = hekv__ct_mul_round(ev, out, k.w, l - 1, 2.0 * us / k.w->scale, 0);
                if (st == HEKV_OK) out->scale = us;
            }
            if (st == HEKV_OK) st = hekv_ckks_eval_sub(ev, out, out, k.u);
            if (st == HEKV_OK) st = hekv_ckks_eval_rescale(ev, out, out);
        } else {
            st = newton_step(ev, nl->kind, out, x, tau, k.s, k.u, k.w);
        }
    }
    scratch_free(&k);
    return st;
}

/* Shared validation of the encrypted entry points. */
static hekv_status check_common(hekv_eval *ev, const char *fn, hekv_ct *out, const hekv_ct *in,
                                int depth, double *target) {
    if (!out || !in)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: NULL argument", fn);
    if (in->params != ev->params || out->params != ev->params)
        return hekv_err_set(&ev->err, HEKV_ERR_PARAMS,
                            "%s: the ciphertexts belong to another parameter set than the "
                            "evaluator", fn);
    if (in->level < 0)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: the input ciphertext is empty", fn);
    if (in->level < depth)
        return hekv_err_set(&ev->err, HEKV_ERR_LEVEL,
                            "%s: the circuit needs %d levels, the input has %d (levels "
                            "exhausted: bootstrap first or design with max_depth)", fn, depth,
                            in->level);
    if (*target == 0) *target = in->scale;
    if (!isfinite(*target) || *target <= 1)
        return hekv_err_set(&ev->err, HEKV_ERR_SCALE, "%s: target scale %g is not > 1", fn,
                            *target);
    if (!ev->evk || !ev->evk->relin)
        return hekv_err_set(&ev->err, HEKV_ERR_KEY_MISSING,
                            "%s: needs the relinearisation key (hekv_ckks_evk_gen_relin)", fn);
    return HEKV_OK;
}

hekv_status hekv_ckks_eval_nonlin(hekv_eval *ev, hekv_ct *out, const hekv_ct *in,
                                  const hekv_nonlin *nl, double target_scale) {
    static const char fn[] = "hekv_ckks_eval_nonlin";
    if (!ev) return HEKV_ERR_ARG;
    if (!nl) return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: design is NULL", fn);
    hekv_status st = check_common(ev, fn, out, in, hekv_ckks_nonlin_depth(nl), &target_scale);
    if (st != HEKV_OK) return st;
    return run(ev, out, in, nl, target_scale, NULL);
}

/* ------------------------------------------------------------------ softmax */

hekv_status hekv_ckks_softmax_new(double lo, double hi, double shift, double sum_lo,
                                  double sum_hi, const hekv_nonlin_opts *opts,
                                  hekv_softmax **out, hekv_err *err) {
    static const char fn[] = "hekv_ckks_softmax_new";
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (!isfinite(shift) || !isfinite(sum_lo) || !isfinite(sum_hi) || !(sum_lo > 0) ||
        !(sum_lo < sum_hi))
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: need a finite shift and 0 < sum_lo < sum_hi (got shift %g, "
                            "[%g, %g])", fn, shift, sum_lo, sum_hi);
    hekv_softmax *sm = calloc(1, sizeof *sm);
    if (!sm) return hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    sm->shift = shift;
    hekv_nonlin_opts o = {0};
    if (opts) o = *opts;
    hekv_status st = hekv_ckks_nonlin_new(HEKV_NONLIN_EXP, lo - shift, hi - shift, &o, &sm->exp,
                                          err);
    if (o.min_newton < 1) o.min_newton = 1;
    o.relative = 1; /* softmax_i error = e_i / S * relative error of 1/S */
    if (st == HEKV_OK)
        st = hekv_ckks_nonlin_new(HEKV_NONLIN_RECIP, sum_lo, sum_hi, &o, &sm->recip, err);
    if (st != HEKV_OK) {
        hekv_ckks_softmax_free(sm);
        return st;
    }
    *out = sm;
    return HEKV_OK;
}

void hekv_ckks_softmax_free(hekv_softmax *sm) {
    if (!sm) return;
    hekv_ckks_nonlin_free(sm->exp);
    hekv_ckks_nonlin_free(sm->recip);
    free(sm);
}

const hekv_nonlin *hekv_ckks_softmax_exp(const hekv_softmax *sm) { return sm ? sm->exp : NULL; }
const hekv_nonlin *hekv_ckks_softmax_recip(const hekv_softmax *sm) {
    return sm ? sm->recip : NULL;
}
double hekv_ckks_softmax_shift(const hekv_softmax *sm) { return sm ? sm->shift : NAN; }

int hekv_ckks_softmax_depth(const hekv_softmax *sm) {
    return sm ? hekv_ckks_nonlin_depth(sm->exp) + hekv_ckks_nonlin_depth(sm->recip) : -1;
}

int hekv_ckks_softmax_ct_mults(const hekv_softmax *sm) {
    return sm ? hekv_ckks_nonlin_ct_mults(sm->exp) + hekv_ckks_nonlin_ct_mults(sm->recip) + 1
              : -1;
}

size_t hekv_ckks_softmax_rotations(long stride, size_t n, long *rots, size_t cap) {
    size_t k = 0;
    for (size_t m = 1; m < n; m <<= 1, k++)
        if (rots && k < cap) rots[k] = stride * (long)m;
    return k;
}

hekv_status hekv_ckks_eval_softmax(hekv_eval *ev, hekv_ct *out, const hekv_ct *in,
                                   const hekv_softmax *sm, long stride, size_t n,
                                   double target_scale) {
    static const char fn[] = "hekv_ckks_eval_softmax";
    if (!ev) return HEKV_ERR_ARG;
    if (!sm) return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: design is NULL", fn);
    hekv_status st = check_common(ev, fn, out, in, hekv_ckks_softmax_depth(sm), &target_scale);
    if (st != HEKV_OK) return st;
    if (n == 0 || (n & (n - 1)) || stride < 1 || in->slots != n * (size_t)stride)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG,
                            "%s: groups of n = %zu (a power of two) at stride %ld need a "
                            "ciphertext of exactly n * stride slots (it has %zu)", fn, n, stride,
                            in->slots);
    for (size_t m = 1; m < n; m <<= 1) {
        uint64_t g = hekv_ckks_galois_rot(ev->params, stride * (long)m);
        if (!hekv_ckks_evk_has_galois(ev->evk, g))
            return hekv_err_set(&ev->err, HEKV_ERR_KEY_MISSING,
                                "%s: no rotation key for %ld (the group sum needs stride * 2^i, "
                                "see hekv_ckks_softmax_rotations)", fn, stride * (long)m);
    }
    hekv_ct *e = NULL, *s = NULL;
    hekv_err er;
    if ((st = hekv_ct_new(ev->params, &e, &er)) != HEKV_OK ||
        (st = hekv_ct_new(ev->params, &s, &er)) != HEKV_OK) {
        hekv_ct_free(e);
        return hekv_err_set(&ev->err, st, "%s: %s", fn, er.msg);
    }
    /* e = exp(x - shift) at the prime's scale; s = the group sums */
    st = hekv_ckks_eval_add_const(ev, e, in, -sm->shift, 0.0);
    if (st == HEKV_OK)
        st = run(ev, e, e, sm->exp, hekv__q(ev, in->level - hekv_ckks_nonlin_depth(sm->exp)),
                 NULL);
    if (st == HEKV_OK) st = hekv_ckks_eval_inner_sum(ev, s, e, stride, n);
    /* out = e / s with the last Newton step fused */
    if (st == HEKV_OK) st = run(ev, out, s, sm->recip, target_scale, e);
    hekv_ct_free(e);
    hekv_ct_free(s);
    return st;
}
