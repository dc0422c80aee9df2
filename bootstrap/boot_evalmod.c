/* boot_evalmod.c: EvalMod, x mod 1 for x = t/q_0 in [-K, K] near an integer, as
 * (1/2 pi) sin(2 pi x) (Cheon, Han, Kim, Kim, Song 2018), computed as a scaled cosine and
 * double angles (Han, Ki, "Better bootstrapping for approximate homomorphic encryption",
 * 2020; Bossuat et al. 2021 for the scaled form):
 *     s_0 = alpha_0 cos(2 pi (x - 1/4) / 2^r),   alpha_0 = (1 / 2 pi)^(1 / 2^r),
 *     s_i = 2 s_(i-1)^2 - alpha_i,               alpha_i = alpha_0^(2^i),
 * so s_r = (1/2 pi) cos(2 pi (x - 1/4)) = (1/2 pi) sin(2 pi x): the final 1/(2 pi) costs no
 * level. s_0 is a Chebyshev series in u = (x - 1/4) / K' on [-1, 1], K' = K + 1/4
 * (CoeffToSlot divides by K', the 1/4 is a free constant, so the series needs no linear
 * map), of the even function alpha_0 cos(2 pi K' u / 2^r): only even T_k, about half the
 * products of the shifted cosine. Its degree is the least, within the least depth, whose
 * whole chain stays within 2^-log_cos_tol of the exact sine on [-K, K]. Each level is a unit of evalmod_unit primes
 * (hekv_ckks_ext_eval_poly): with two ~30-bit primes a level, the ciphertext keeps a ~2^60
 * scale through EvalMod, so the rescales' noise is 2^-60 of the value instead of 2^-49.
 * Scales are planned backwards from the output's (tau_(i-1) = sqrt(tau_i Q_unit)), so the
 * chain lands on its target exactly. */
#include <math.h>
#include <stdlib.h>

#include "boot_int.h"

#define BOOT_PI 3.14159265358979323846264338327950288L

typedef struct {
    long double k, a0;
    int r;
} cos_ctx;

static long double cos_fn(long double u, void *vctx) {
    const cos_ctx *c = vctx;
    return c->a0 * cosl(2 * BOOT_PI * c->k * u / ldexpl(1, c->r));
}

/* The even part of an interpolant of an even function: its odd coefficients are rounding
 * noise; zeroed, so the evaluator skips them. */
static hekv_status interp_even(cos_ctx *c, int deg, hekv_cheby **out, hekv_err *err) {
    hekv_cheby *p = NULL;
    hekv_status s = hekv_ckks_cheby_interp(cos_fn, c, -1, 1, deg, &p, err);
    if (s != HEKV_OK) return s;
    const int d = hekv_ckks_cheby_degree(p);
    double co[1024];
    for (int k = 0; k <= d; k++) co[k] = k & 1 ? 0.0 : hekv_ckks_cheby_coeffs(p)[k];
    s = hekv_ckks_cheby_new(co, d + 1, -1, 1, out, err);
    hekv_ckks_cheby_free(p);
    return s;
}

static long double chain(const hekv_cheby *p, const double *alpha, int r, long double u) {
    long double s = hekv_ckks_cheby_eval(p, (double)u);
    for (int i = 1; i <= r; i++) s = 2 * s * s - alpha[i];
    return s;
}

long double hekv__boot_evalmod_plain(const hekv_boot *b, long double x) {
    return chain(b->cos, b->alpha, b->lit.double_angles, (x - 0.25L) / b->kp);
}

/* max over [-K, K] of |chain(x) - sin(2 pi x) / (2 pi)| (4096 points, plus every
 * integer and its neighbours at 2^-10, where the circuit is used). */
static double chain_err(const hekv_cheby *p, const double *alpha, int r, double k,
                        double kp) {
    long double worst = 0;
    const int npts = 4096;
    for (int i = 0; i <= npts; i++) {
        long double x = -k + 2 * k * i / npts;
        long double e = fabsl(chain(p, alpha, r, (x - 0.25L) / kp) -
                              sinl(2 * BOOT_PI * x) / (2 * BOOT_PI));
        if (e > worst) worst = e;
    }
    for (int t = (int)-floor(k); t <= (int)floor(k); t++)
        for (int d = -1; d <= 1; d++) {
            long double x = t + d * 0x1p-10L;
            if (fabsl(x) > k) continue;
            long double e = fabsl(chain(p, alpha, r, (x - 0.25L) / kp) -
                                  sinl(2 * BOOT_PI * x) / (2 * BOOT_PI));
            if (e > worst) worst = e;
        }
    return (double)worst;
}

int hekv__boot_evalmod_depth(const hekv_boot *b) {
    return hekv_ckks_cheby_depth(b->cos) + b->lit.double_angles;
}

hekv_status hekv__boot_evalmod_design(hekv_boot *b, hekv_err *err) {
    const int r = b->lit.double_angles;
    cos_ctx c = {(long double)b->kp, powl(1 / (2 * BOOT_PI), 1.0L / ldexpl(1, r)), r};
    b->alpha[0] = (double)c.a0;
    for (int i = 1; i <= r; i++) b->alpha[i] = b->alpha[i - 1] * b->alpha[i - 1];
    const double tol = ldexp(1, -(b->lit.log_cos_tol ? b->lit.log_cos_tol : 44));
    hekv_status s;
    if (b->lit.cos_degree > 0) {
        s = interp_even(&c, b->lit.cos_degree, &b->cos, err);
        if (s == HEKV_OK) b->cos_err = chain_err(b->cos, b->alpha, r, b->k, b->kp);
        return s;
    }
    /* the least depth whose largest degree meets tol, then the least degree of it */
    for (int m = 2; m <= 10; m++) {
        hekv_cheby *p = NULL;
        if ((s = interp_even(&c, (1 << m) - 1, &p, err))) return s;
        double e = chain_err(p, b->alpha, r, b->k, b->kp);
        if (!(e <= tol)) {
            hekv_ckks_cheby_free(p);
            continue;
        }
        for (int d = 1 << (m - 1); d < (1 << m) - 1; d++) {
            hekv_cheby *q = NULL;
            if ((s = interp_even(&c, d, &q, err))) {
                hekv_ckks_cheby_free(p);
                return s;
            }
            double eq = chain_err(q, b->alpha, r, b->k, b->kp);
            if (eq <= tol) {
                hekv_ckks_cheby_free(p);
                p = q, e = eq;
                break;
            }
            hekv_ckks_cheby_free(q);
        }
        b->cos = p;
        b->cos_err = e;
        return HEKV_OK;
    }
    return hekv_err_set(err, HEKV_ERR_ARG,
                        "hekv_boot_new: no cosine series of depth <= 10 reaches 2^-%d on "
                        "[-%g, %g] with %d double angles", b->lit.log_cos_tol, b->k, b->k, r);
}

/* The product of the u primes a rescale from `level` drops. */
static double qunit(const hekv_boot *b, int level) {
    double q = 1;
    for (int i = 0; i < b->lit.evalmod_unit; i++)
        q *= (double)hekv_ckks_params_q(b->p, level - i);
    return q;
}

hekv_status hekv__boot_evalmod(const hekv_boot *b, hekv_eval *ev, hekv_ct *ct) {
    const int r = b->lit.double_angles, u = b->lit.evalmod_unit;
    const int dc = hekv_ckks_cheby_depth(b->cos);
    /* labels, backwards from the output's (s0) */
    double tau = b->s0;
    for (int i = r; i >= 1; i--) {
        const int lvl = b->l_em - u * (dc + i - 1); /* where step i squares */
        tau = sqrt(tau * qunit(b, lvl));
    }
    hekv_status s = hekv_ckks_eval_add_const(ev, ct, ct, -0.25 / b->kp, 0.0);
    if (s == HEKV_OK) s = hekv_ckks_ext_eval_poly(ev, ct, ct, b->cos, tau, u);
    for (int i = 1; i <= r && s == HEKV_OK; i++) {
        s = hekv_ckks_eval_square(ev, ct, ct);
        if (s == HEKV_OK) s = hekv_ckks_eval_mul_int(ev, ct, ct, 2);
        if (s == HEKV_OK) s = hekv_ckks_eval_add_const(ev, ct, ct, -b->alpha[i], 0.0);
        for (int j = 0; j < u && s == HEKV_OK; j++) s = hekv_ckks_eval_rescale(ev, ct, ct);
    }
    return s;
}
