/* nonlin.c: the transformer nonlinearities as CKKS circuits: exp, 1/x, 1/sqrt(x), SiLU,
 * GELU, sign (comparison) and softmax. A circuit is polynomial stages (Chebyshev series,
 * evaluated with polyeval.c), then squarings (exp) or Newton steps (1/x, 1/sqrt); this file
 * builds one from its parts (measuring its plaintext error against the exact function),
 * evaluates it in plaintext (long double: the FHE simulation, the same coefficients and
 * steps) and on ciphertexts. Which shape and which coefficients a circuit gets for an
 * interval is model knowledge: the design search lives in models/nonlin_design.c.
 *
 * Shapes:
 *   exp       a series of e^(x / 2^r), then r squarings.
 *   recip     a start series of 1/x, then k Newton steps y <- 2y - x y^2 (relative error
 *             e -> e^2; 2 levels and 2 products each).
 *   invsqrt   a start series of x^-1/2, then k Newton steps y <- 1.5 y - 0.5 x y^3
 *             (t = x y^2: 1 - t -> (1 - t)^2 (2 + t) / 4; 2 levels, 3 products each: y^2 and
 *             (0.5 x) y in parallel, then their product).
 *   silu,gelu one series.
 *   sign      composite odd series (Lee, Lee, Kim, No 2021): each stage maps [eps_j, 1]
 *             near 1 inside [-1, 1] (no linear map, no level for it).
 * Newton steps, squarings and the softmax's fused last step keep exact scale labels: the
 * term that is added to a product before its rescale is first brought to the product's
 * scale by an integer factor ~2^40 (hekv__ct_mul_round), and the x that a Newton step
 * multiplies by is prepared at the level and scale the step needs (hekv__ct_prep: a
 * product by an integer and a rescale, on x's spare levels, off the critical path).
 *
 * Softmax: e^(x - c) for a constant shift c, the group sum by log2 n rotate-and-adds
 * (hekv_ckks_eval_inner_sum), and the reciprocal whose last Newton step is fused with the
 * final product:
 *     out = e y (2 - S y) = 2 (e y) - (e y)(S y),
 * where e y and S y are computed side by side, so the product costs no extra level. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckks_ext.h"
#include "poly_int.h"

#define GRID 2000 /* measurement grid: GRID Chebyshev-spaced and GRID uniform points */

struct hekv_nonlin {
    hekv_nonlin_kind kind;
    double lo, hi;
    int relative;                   /* max_err is relative (|g - f| / |f|) */
    double gap;                     /* sign */
    int nstage;
    hekv_cheby *stage[HEKV_NONLIN_MAX_STAGES];  /* applied first to last */
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

long double hekv_ckks_nonlin_exactl(hekv_nonlin_kind kind, long double x) {
    return exact_l(kind, x);
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

/* ------------------------------------------------------------------ construction */

hekv_status hekv_ckks_nonlin_new(hekv_nonlin_kind kind, double lo, double hi,
                                 const hekv_cheby *const *stages, int nstage, int squarings,
                                 int newton, double gap, int relative, hekv_nonlin **out,
                                 hekv_err *err) {
    static const char fn[] = "hekv_ckks_nonlin_new";
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if ((int)kind < 0 || kind >= HEKV_NONLIN_COUNT)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: unknown function %d", fn, (int)kind);
    if (!isfinite(lo) || !isfinite(hi) || !(lo < hi))
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: %s interval [%g, %g] must be finite with lo < hi", fn,
                            names[kind], lo, hi);
    if (nstage < 1 || nstage > HEKV_NONLIN_MAX_STAGES || !stages)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: %d stages (want 1..%d)", fn, nstage,
                            HEKV_NONLIN_MAX_STAGES);
    if (squarings < 0 || squarings > 16 || newton < 0 || newton > 16 ||
        (squarings && kind != HEKV_NONLIN_EXP) ||
        (newton && kind != HEKV_NONLIN_RECIP && kind != HEKV_NONLIN_INVSQRT))
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: %d squarings and %d Newton steps do not fit %s (squarings: "
                            "exp; Newton steps: reciprocal, invsqrt; at most 16)",
                            fn, squarings, newton, names[kind]);
    if (kind == HEKV_NONLIN_SIGN && !(lo == -hi && gap > 0 && gap < hi))
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: sign needs [-A, A] and 0 < gap < A (got [%g, %g], gap %g)", fn,
                            lo, hi, gap);
    hekv_nonlin *c = calloc(1, sizeof *c);
    if (!c) return hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    c->kind = kind, c->lo = lo, c->hi = hi, c->relative = !!relative;
    c->gap = kind == HEKV_NONLIN_SIGN ? gap : 0;
    c->squarings = squarings, c->newton = newton;
    for (int i = 0; i < nstage; i++) {
        const hekv_cheby *p = stages[i];
        hekv_status st = p ? hekv_ckks_cheby_new(hekv_ckks_cheby_coeffs(p),
                                                 hekv_ckks_cheby_degree(p) + 1,
                                                 hekv_ckks_cheby_lo(p), hekv_ckks_cheby_hi(p),
                                                 &c->stage[i], err)
                           : hekv_err_set(err, HEKV_ERR_ARG, "%s: stage %d is NULL", fn, i);
        if (st != HEKV_OK) {
            hekv_ckks_nonlin_free(c);
            return st;
        }
        c->nstage = i + 1;
    }
    c->max_err = measure(c);
    c->range = f_range(kind, lo, hi);
    *out = c;
    return HEKV_OK;
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

/* The scratch of run() from the evaluator's pool (released in reverse order). */
static void scratch_free(hekv_eval *ev, scratch *k) {
    hekv_ckks_ext_scratch_put(ev, k->x);
    hekv_ckks_ext_scratch_put(ev, k->w);
    hekv_ckks_ext_scratch_put(ev, k->u);
    hekv_ckks_ext_scratch_put(ev, k->s);
}

static hekv_status scratch_new(hekv_eval *ev, scratch *k) {
    memset(k, 0, sizeof *k);
    hekv_status st = hekv_ckks_ext_scratch_get(ev, &k->s);
    if (st == HEKV_OK) st = hekv_ckks_ext_scratch_get(ev, &k->u);
    if (st == HEKV_OK) st = hekv_ckks_ext_scratch_get(ev, &k->w);
    if (st == HEKV_OK) st = hekv_ckks_ext_scratch_get(ev, &k->x);
    if (st != HEKV_OK) scratch_free(ev, k);
    return st;
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
        if ((st = hekv_ckks_ct_copy(k.x, in, &ev->err)) != HEKV_OK) {
            scratch_free(ev, &k);
            return st;
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
        st = hekv__eval_poly(ev, out, src, nl->stage[i], tau, 1, NULL);
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
    scratch_free(ev, &k);
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
    return hekv__check_relin(ev, fn, in->level);
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

hekv_status hekv_ckks_softmax_new(double shift, const hekv_nonlin *exp_circuit,
                                  const hekv_nonlin *recip_circuit, hekv_softmax **out,
                                  hekv_err *err) {
    static const char fn[] = "hekv_ckks_softmax_new";
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (!isfinite(shift) || !exp_circuit || !recip_circuit ||
        exp_circuit->kind != HEKV_NONLIN_EXP || recip_circuit->kind != HEKV_NONLIN_RECIP ||
        recip_circuit->newton < 1)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: need a finite shift, an exp circuit and a reciprocal circuit "
                            "with at least one Newton step (its last step is fused with the "
                            "final product)", fn);
    hekv_softmax *sm = calloc(1, sizeof *sm);
    if (!sm) return hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    sm->shift = shift;
    const hekv_nonlin *src[2] = {exp_circuit, recip_circuit};
    hekv_nonlin **dst[2] = {&sm->exp, &sm->recip};
    for (int i = 0; i < 2; i++) {
        const hekv_nonlin *c = src[i];
        hekv_status st = hekv_ckks_nonlin_new(c->kind, c->lo, c->hi,
                                              (const hekv_cheby *const *)c->stage, c->nstage,
                                              c->squarings, c->newton, c->gap, c->relative,
                                              dst[i], err);
        if (st != HEKV_OK) {
            hekv_ckks_softmax_free(sm);
            return st;
        }
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
    /* the group sum runs after exp, at its output level */
    const int sum_level = in->level - hekv_ckks_nonlin_depth(sm->exp);
    for (size_t m = 1; m < n; m <<= 1)
        if ((st = hekv_ckks_ext_need_rotation(ev, fn, stride * (long)m, in->slots, sum_level)))
            return st;
    hekv_ct *e = NULL, *s = NULL;
    if ((st = hekv_ckks_ext_scratch_get(ev, &e)) != HEKV_OK) return st;
    if ((st = hekv_ckks_ext_scratch_get(ev, &s)) != HEKV_OK) {
        hekv_ckks_ext_scratch_put(ev, e);
        return st;
    }
    /* e = exp(x - shift) at the prime's scale; s = the group sums */
    st = hekv_ckks_eval_add_const(ev, e, in, -sm->shift, 0.0);
    if (st == HEKV_OK)
        st = run(ev, e, e, sm->exp, hekv__q(ev, in->level - hekv_ckks_nonlin_depth(sm->exp)),
                 NULL);
    if (st == HEKV_OK) st = hekv_ckks_eval_inner_sum(ev, s, e, stride, n);
    /* out = e / s with the last Newton step fused */
    if (st == HEKV_OK) st = run(ev, out, s, sm->recip, target_scale, e);
    hekv_ckks_ext_scratch_put(ev, s);
    hekv_ckks_ext_scratch_put(ev, e);
    return st;
}
