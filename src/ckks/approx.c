/* approx.c: Chebyshev series on an interval (the hekv_cheby object) and the two ways this
 * library designs them, both computed in long double: interpolation at the Chebyshev points
 * of the first kind, and the Remez exchange for (optionally relative, optionally odd or
 * even) minimax approximations. Also the sampled error measurement behind the error tables.
 * It deliberately knows nothing of ciphertexts (polyeval.c evaluates a hekv_cheby
 * homomorphically) and nothing of particular functions (nonlin.c designs those).
 *
 * Convention (numpy.polynomial.chebyshev and models/approx.c alike):
 *     p(x) = sum_{k<n} c_k T_k(u),  u = (2x - a - b) / (b - a),  c_0 at full weight. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "poly_int.h"

#define PI_L 3.141592653589793238462643383279502884L

struct hekv_cheby {
    double a, b; /* interval */
    int n;       /* coefficients held: degree + 1 (trailing zeros trimmed, n >= 1) */
    double *c;   /* [n] */
};

/* ------------------------------------------------------------------ object */

hekv_status hekv_ckks_cheby_new(const double *c, int n, double a, double b, hekv_cheby **out,
                                hekv_err *err) {
    static const char fn[] = "hekv_ckks_cheby_new";
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (!c) return hekv_err_set(err, HEKV_ERR_ARG, "%s: coefficients are NULL", fn);
    if (n < 1 || n > HEKV_CHEBY_MAX_COEFFS)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: %d coefficients, expected 1..%d", fn, n,
                            HEKV_CHEBY_MAX_COEFFS);
    if (!isfinite(a) || !isfinite(b) || !(a < b))
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: the interval [%g, %g] must be finite with a < b", fn, a, b);
    for (int k = 0; k < n; k++)
        if (!isfinite(c[k]))
            return hekv_err_set(err, HEKV_ERR_ARG, "%s: coefficient %d is not finite", fn, k);
    while (n > 1 && c[n - 1] == 0.0) n--;
    hekv_cheby *p = calloc(1, sizeof *p);
    if (!p || !(p->c = malloc((size_t)n * sizeof *p->c))) {
        free(p);
        return hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    }
    memcpy(p->c, c, (size_t)n * sizeof *p->c);
    p->n = n;
    p->a = a;
    p->b = b;
    *out = p;
    return HEKV_OK;
}

void hekv_ckks_cheby_free(hekv_cheby *p) {
    if (!p) return;
    free(p->c);
    free(p);
}

int hekv_ckks_cheby_degree(const hekv_cheby *p) { return p ? p->n - 1 : -1; }
const double *hekv_ckks_cheby_coeffs(const hekv_cheby *p) { return p ? p->c : NULL; }
double hekv_ckks_cheby_lo(const hekv_cheby *p) { return p ? p->a : NAN; }
double hekv_ckks_cheby_hi(const hekv_cheby *p) { return p ? p->b : NAN; }

long double hekv__cheby_evall(const hekv_cheby *p, long double x) {
    const long double u = (2.0L * x - (long double)p->a - (long double)p->b) /
                          ((long double)p->b - (long double)p->a);
    long double b1 = 0, b2 = 0;
    for (int k = p->n - 1; k >= 1; k--) {
        long double b0 = 2.0L * u * b1 - b2 + p->c[k];
        b2 = b1;
        b1 = b0;
    }
    return p->c[0] + u * b1 - b2;
}

double hekv_ckks_cheby_eval(const hekv_cheby *p, double x) {
    return p ? (double)hekv__cheby_evall(p, x) : NAN;
}

/* ------------------------------------------------------------------ error measurement */

long double hekv__max_err(hekv_real_fn g, void *gctx, hekv_real_fn f, void *fctx, double lo,
                          double hi, int npts, int rel, double *argmax) {
    long double m = 0;
    double where = lo;
    if (npts < 2) npts = 2;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < npts; i++) {
            long double t = (long double)i / (npts - 1);
            long double x = pass ? lo + (hi - lo) * t
                                 : lo + (hi - lo) * (1.0L - cosl(PI_L * t)) / 2.0L;
            if (x < lo) x = lo;
            if (x > hi) x = hi;
            long double fx = f(x, fctx), d = fabsl(g(x, gctx) - fx);
            if (rel) d /= fabsl(fx);
            if (!(d <= m)) { /* NaN propagates as the worst error */
                m = d;
                where = (double)x;
            }
        }
    if (argmax) *argmax = where;
    return m;
}

static long double cheby_fn(long double x, void *ctx) { return hekv__cheby_evall(ctx, x); }

double hekv_ckks_cheby_max_err(const hekv_cheby *p, hekv_real_fn f, void *ctx, double lo,
                               double hi, int npts, int relative) {
    if (!p || !f || !(lo <= hi)) return NAN;
    return (double)hekv__max_err(cheby_fn, (void *)p, f, ctx, lo, hi, npts, relative, NULL);
}

/* ------------------------------------------------------------------ interpolation */

hekv_status hekv_ckks_cheby_interp(hekv_real_fn f, void *ctx, double a, double b, int deg,
                                   hekv_cheby **out, hekv_err *err) {
    static const char fn[] = "hekv_ckks_cheby_interp";
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (!f) return hekv_err_set(err, HEKV_ERR_ARG, "%s: function is NULL", fn);
    if (deg < 0 || deg >= HEKV_CHEBY_MAX_COEFFS)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: degree %d outside 0..%d", fn, deg,
                            HEKV_CHEBY_MAX_COEFFS - 1);
    if (!isfinite(a) || !isfinite(b) || !(a < b))
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: the interval [%g, %g] must be finite with a < b", fn, a, b);
    const int n = deg + 1;
    long double *v = malloc((size_t)n * sizeof *v);
    long double *cs = malloc((size_t)4 * (size_t)n * sizeof *cs);
    double *c = malloc((size_t)n * sizeof *c);
    hekv_status s = HEKV_OK;
    if (!v || !cs || !c) {
        s = hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
        goto done;
    }
    /* f at x_j = mid + half cos(theta_j), theta_j = pi (j + 1/2) / n */
    const long double mid = ((long double)a + b) / 2, half = ((long double)b - a) / 2;
    for (int j = 0; j < n; j++) {
        v[j] = f(mid + half * cosl(PI_L * (2 * j + 1) / (2.0L * n)), ctx);
        if (!isfinite((double)v[j])) {
            s = hekv_err_set(err, HEKV_ERR_ARG, "%s: f is not finite at a Chebyshev point of "
                             "[%g, %g]", fn, a, b);
            goto done;
        }
    }
    /* c_k = (2 - [k = 0]) / n sum_j f(x_j) cos(k theta_j); cos(k theta_j) = cos(pi m / 2n)
     * with m = k (2j + 1) mod 4n, from one table */
    for (int m = 0; m < 4 * n; m++) cs[m] = cosl(PI_L * m / (2.0L * n));
    for (int k = 0; k < n; k++) {
        long double acc = 0;
        const unsigned long long step = 2ULL * (unsigned long long)k, mod = 4ULL * n;
        unsigned long long m = (unsigned long long)k % mod;
        for (int j = 0; j < n; j++) {
            acc += v[j] * cs[m];
            m = (m + step) % mod;
        }
        c[k] = (double)((k == 0 ? 1.0L : 2.0L) * acc / n);
    }
    s = hekv_ckks_cheby_new(c, n, a, b, out, err);
done:
    free(v);
    free(cs);
    free(c);
    return s;
}

/* ------------------------------------------------------------------ Remez exchange */

/* The working state of one Remez run: basis T_{ks[j]}(u(x)), j < nb, on the reference
 * x_0 < ... < x_nb in [lo, hi] of the minimisation interval. */
typedef struct {
    hekv_real_fn f;
    void *ctx;
    long double a, b, lo, hi;
    int rel, nb, deg;
    int *ks;          /* [nb] basis degrees */
    long double *t;   /* [deg + 1] scratch: T_0..T_deg at one point */
    long double *m;   /* [(nb + 1) * (nb + 2)] augmented system */
    long double *co;  /* [nb] coefficients of the current solution */
    long double lev;  /* levelled error |E| of the current solution */
} remez;

static void cheb_all(long double u, int deg, long double *t) {
    t[0] = 1;
    if (deg >= 1) t[1] = u;
    for (int k = 2; k <= deg; k++) t[k] = 2 * u * t[k - 1] - t[k - 2];
}

static long double rz_u(const remez *r, long double x) {
    return (2 * x - r->a - r->b) / (r->b - r->a);
}

/* weighted error w(x) (f(x) - p(x)) of the current solution */
static long double rz_err(remez *r, long double x) {
    cheb_all(rz_u(r, x), r->deg, r->t);
    long double p = 0;
    for (int j = 0; j < r->nb; j++) p += r->co[j] * r->t[r->ks[j]];
    long double fx = r->f(x, r->ctx), e = fx - p;
    return r->rel ? e / fabsl(fx) : e;
}

/* Solves sum_j co_j T_kj(x_i) + (-1)^i E / w(x_i) = f(x_i), i = 0..nb, by Gaussian
 * elimination with partial pivoting. Returns 0 when the system is singular. */
static int rz_solve(remez *r, const long double *xr) {
    const int nr = r->nb + 1, nc = r->nb + 2;
    long double *m = r->m;
    for (int i = 0; i < nr; i++) {
        cheb_all(rz_u(r, xr[i]), r->deg, r->t);
        long double fx = r->f(xr[i], r->ctx);
        for (int j = 0; j < r->nb; j++) m[i * nc + j] = r->t[r->ks[j]];
        m[i * nc + r->nb] = (i & 1 ? -1.0L : 1.0L) * (r->rel ? fabsl(fx) : 1.0L);
        m[i * nc + r->nb + 1] = fx;
    }
    for (int col = 0; col < nr; col++) {
        int piv = col;
        for (int i = col + 1; i < nr; i++)
            if (fabsl(m[i * nc + col]) > fabsl(m[piv * nc + col])) piv = i;
        if (m[piv * nc + col] == 0) return 0;
        if (piv != col)
            for (int j = 0; j < nc; j++) {
                long double t = m[col * nc + j];
                m[col * nc + j] = m[piv * nc + j];
                m[piv * nc + j] = t;
            }
        for (int i = col + 1; i < nr; i++) {
            long double g = m[i * nc + col] / m[col * nc + col];
            if (g == 0) continue;
            for (int j = col; j < nc; j++) m[i * nc + j] -= g * m[col * nc + j];
        }
    }
    long double sol[HEKV_REMEZ_MAX_DEGREE + 2];
    for (int i = nr - 1; i >= 0; i--) {
        long double s = m[i * nc + nr];
        for (int j = i + 1; j < nr; j++) s -= m[i * nc + j] * sol[j];
        sol[i] = s / m[i * nc + i];
    }
    for (int j = 0; j < r->nb; j++) r->co[j] = sol[j];
    r->lev = fabsl(sol[r->nb]);
    return isfinite((double)r->lev);
}

/* Local maximum of |e| in [l, h] around x (golden section), kept inside [lo, hi]. */
static long double rz_refine(remez *r, long double l, long double h, long double *ex) {
    const long double g = 0.6180339887498948482L;
    long double x1 = h - g * (h - l), x2 = l + g * (h - l);
    long double f1 = fabsl(rz_err(r, x1)), f2 = fabsl(rz_err(r, x2));
    for (int it = 0; it < 40 && h - l > 1e-15L * (fabsl(l) + fabsl(h) + 1e-300L); it++) {
        if (f1 >= f2) {
            h = x2, x2 = x1, f2 = f1;
            x1 = h - g * (h - l);
            f1 = fabsl(rz_err(r, x1));
        } else {
            l = x1, x1 = x2, f1 = f2;
            x2 = l + g * (h - l);
            f2 = fabsl(rz_err(r, x2));
        }
    }
    long double x = f1 >= f2 ? x1 : x2;
    *ex = rz_err(r, x);
    return x;
}

static int cmp_ld(const void *p, const void *q) {
    long double x = *(const long double *)p, y = *(const long double *)q;
    return (x > y) - (x < y);
}

/* One exchange: finds the alternating extrema of e over a grid that includes the current
 * reference, refines them, keeps nb + 1 of them (keeping alternation) in xr. Returns the
 * largest |e| found (the current max error) or -1 when fewer than nb + 1 alternations were
 * found (should not happen: e alternates on the reference). */
static long double rz_exchange(remez *r, long double *xr, long double *grid, long double *ge,
                               int ngrid, long double *cx, long double *ce) {
    const int nref = r->nb + 1;
    int g = 0;
    for (int k = 0; k < ngrid - nref; k++) {
        long double t = (long double)k / (ngrid - nref - 1);
        grid[g++] = r->lo + (r->hi - r->lo) * (1.0L - cosl(PI_L * t)) / 2.0L;
    }
    for (int i = 0; i < nref; i++) grid[g++] = xr[i];
    qsort(grid, (size_t)g, sizeof *grid, cmp_ld);
    for (int k = 0; k < g; k++) ge[k] = rz_err(r, grid[k]);
    /* runs of constant sign; the extremum of each */
    int nc = 0, k = 0;
    long double emax = 0;
    while (k < g) {
        int sgn = ge[k] >= 0, best = k;
        int j = k;
        while (j < g && (ge[j] >= 0) == sgn) {
            if (fabsl(ge[j]) > fabsl(ge[best])) best = j;
            j++;
        }
        long double l = best > 0 ? grid[best - 1] : grid[best];
        long double h = best + 1 < g ? grid[best + 1] : grid[best];
        long double e0 = ge[best], x0 = grid[best], e1, x1 = x0;
        if (h > l) {
            x1 = rz_refine(r, l, h, &e1);
            if (fabsl(e1) > fabsl(e0) && (e1 >= 0) == sgn) x0 = x1, e0 = e1;
        }
        cx[nc] = x0;
        ce[nc] = e0;
        if (fabsl(e0) > emax) emax = fabsl(e0);
        nc++;
        k = j;
    }
    if (nc < nref) return -1;
    /* drop extrema, keeping alternation, until nref remain */
    while (nc > nref) {
        if ((nc - nref) & 1) {
            int drop = fabsl(ce[0]) < fabsl(ce[nc - 1]) ? 0 : nc - 1;
            memmove(cx + drop, cx + drop + 1, (size_t)(nc - drop - 1) * sizeof *cx);
            memmove(ce + drop, ce + drop + 1, (size_t)(nc - drop - 1) * sizeof *ce);
            nc--;
        } else {
            int bi = 0;
            long double bv = INFINITY;
            for (int i = 0; i + 1 < nc; i++) {
                long double v = fabsl(ce[i]) + fabsl(ce[i + 1]);
                if (v < bv) bv = v, bi = i;
            }
            memmove(cx + bi, cx + bi + 2, (size_t)(nc - bi - 2) * sizeof *cx);
            memmove(ce + bi, ce + bi + 2, (size_t)(nc - bi - 2) * sizeof *ce);
            nc -= 2;
        }
    }
    memcpy(xr, cx, (size_t)nref * sizeof *xr);
    return emax;
}

hekv_status hekv_ckks_cheby_remez(hekv_real_fn f, void *ctx, double a, double b, int deg,
                                  const hekv_remez_opts *opts, hekv_cheby **out,
                                  double *max_err, hekv_err *err) {
    static const char fn[] = "hekv_ckks_cheby_remez";
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (!f) return hekv_err_set(err, HEKV_ERR_ARG, "%s: function is NULL", fn);
    if (deg < 0 || deg > HEKV_REMEZ_MAX_DEGREE)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: degree %d outside 0..%d", fn, deg,
                            HEKV_REMEZ_MAX_DEGREE);
    if (!isfinite(a) || !isfinite(b) || !(a < b))
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: the interval [%g, %g] must be finite with a < b", fn, a, b);
    hekv_remez_opts o = {0};
    if (opts) o = *opts;
    if (o.lo == 0 && o.hi == 0) o.lo = a, o.hi = b;
    if (!(o.lo >= a && o.hi <= b && o.lo < o.hi))
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: the minimisation interval [%g, %g] must lie inside [%g, %g] "
                            "with lo < hi", fn, o.lo, o.hi, a, b);
    if (o.parity < 0 || o.parity > 2)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: parity %d is not 0, 1 (odd) or 2 (even)",
                            fn, o.parity);
    if (o.parity && a != -b)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: an odd or even series needs an interval symmetric about 0 "
                            "(got [%g, %g])", fn, a, b);
    if (o.parity == 1 && deg % 2 == 0) deg--;
    if (o.parity == 2 && deg % 2 == 1) deg--;
    if (deg < 0) return hekv_err_set(err, HEKV_ERR_ARG, "%s: an odd series needs degree >= 1", fn);
    const int max_iter = o.max_iter > 0 ? o.max_iter : 60;

    remez r = {f, ctx, a, b, o.lo, o.hi, o.relative, 0, deg, NULL, NULL, NULL, NULL, 0};
    r.nb = o.parity ? deg / 2 + 1 : deg + 1;
    const int nref = r.nb + 1, ngrid = 40 * nref + 400 + nref;
    r.ks = malloc((size_t)r.nb * sizeof *r.ks);
    r.t = malloc((size_t)(deg + 1) * sizeof *r.t);
    r.m = malloc((size_t)nref * (size_t)(nref + 1) * sizeof *r.m);
    r.co = malloc((size_t)r.nb * sizeof *r.co);
    long double *xr = malloc((size_t)nref * sizeof *xr);
    long double *best = malloc((size_t)r.nb * sizeof *best);
    long double *grid = malloc((size_t)ngrid * sizeof *grid);
    long double *ge = malloc((size_t)ngrid * sizeof *ge);
    long double *cx = malloc((size_t)ngrid * sizeof *cx);
    long double *ce = malloc((size_t)ngrid * sizeof *ce);
    double *c = calloc((size_t)deg + 1, sizeof *c);
    hekv_status s = HEKV_OK;
    if (!r.ks || !r.t || !r.m || !r.co || !xr || !best || !grid || !ge || !cx || !ce || !c) {
        s = hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
        goto done;
    }
    for (int j = 0; j < r.nb; j++) r.ks[j] = o.parity == 1 ? 2 * j + 1 : o.parity == 2 ? 2 * j : j;
    /* f must be finite (and non-zero for a relative error) on the minimisation interval */
    for (int k = 0; k <= 64; k++) {
        long double x = r.lo + (r.hi - r.lo) * k / 64.0L, fx = f(x, ctx);
        if (!isfinite((double)fx) || (r.rel && fx == 0)) {
            s = hekv_err_set(err, HEKV_ERR_ARG, "%s: f(%g) = %Lg: %s", fn, (double)x, fx,
                             r.rel ? "a relative error needs a finite, non-zero f"
                                   : "f must be finite on the interval");
            goto done;
        }
    }
    /* initial reference: the Chebyshev extrema of [lo, hi] */
    for (int i = 0; i < nref; i++)
        xr[i] = r.lo + (r.hi - r.lo) * (1.0L - cosl(PI_L * i / (nref - 1))) / 2.0L;
    long double best_err = INFINITY;
    for (int it = 0; it < max_iter; it++) {
        if (!rz_solve(&r, xr)) break;
        long double emax = rz_exchange(&r, xr, grid, ge, ngrid, cx, ce);
        if (emax < 0) break;
        if (emax < best_err) {
            best_err = emax;
            memcpy(best, r.co, (size_t)r.nb * sizeof *best);
        }
        if (emax - r.lev <= 1e-6L * emax) break;
    }
    if (!isfinite((double)best_err)) {
        s = hekv_err_set(err, HEKV_ERR_ARG,
                         "%s: the exchange did not start (singular system): degree %d on "
                         "[%g, %g]", fn, deg, o.lo, o.hi);
        goto done;
    }
    for (int j = 0; j < r.nb; j++) c[r.ks[j]] = (double)best[j];
    if (max_err) *max_err = (double)best_err;
    s = hekv_ckks_cheby_new(c, deg + 1, a, b, out, err);
done:
    free(r.ks);
    free(r.t);
    free(r.m);
    free(r.co);
    free(xr);
    free(best);
    free(grid);
    free(ge);
    free(cx);
    free(ce);
    free(c);
    return s;
}
