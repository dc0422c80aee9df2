/* poly_int.h: internals shared by the polynomial files of the CKKS layer: approx.c
 * (Chebyshev series, interpolation and Remez), polyeval.c (homomorphic evaluation), nonlin.c
 * (the nonlinearity circuits) and eval_ext.c. Never installed; only src/ckks and its tests
 * include it (scripts/check_layers.sh). */
#ifndef HEKV_POLY_INT_H
#define HEKV_POLY_INT_H

#include "ckks_int.h"

#ifdef __cplusplus
extern "C" {
#endif

/* approx.c: p at x in long double (Clenshaw; no clamping). */
long double hekv__cheby_evall(const hekv_cheby *p, long double x);

/* approx.c: max over [lo, hi] of |g(x) - f(x)| (rel: divided by |f(x)|), sampled at npts
 * Chebyshev-spaced points plus npts uniform points; *argmax (may be NULL) receives where. */
long double hekv__max_err(hekv_real_fn g, void *gctx, hekv_real_fn f, void *fctx, double lo,
                          double hi, int npts, int rel, double *argmax);

/* polyeval.c: out = in * round(k) on limbs 0..level (level <= in's level), with scale label
 * in->scale * round(k); acc != 0 adds into out instead (out must then be at `level` and
 * its label is kept: the caller makes the two scales agree). No level is consumed.
 * Fails only on allocation (HEKV_ERR_NOMEM). out must not alias in when acc != 0. */
hekv_status hekv__ct_mul_round(hekv_eval *ev, hekv_ct *out, const hekv_ct *in, int level,
                               double k, int acc);

/* polyeval.c: out = in at `level` with scale label as close to `scale` as a 50-bit integer
 * product allows (relative 2^-41): in * round(scale * q_{level+1} / in->scale) at level+1,
 * then rescaled. Needs in->level > level; out may alias in. */
hekv_status hekv__ct_prep(hekv_eval *ev, hekv_ct *out, const hekv_ct *in, int level,
                          double scale);

/* polyeval.c: the prime q_level of ev's parameters, as a double. */
double hekv__q(const hekv_eval *ev, int level);

/* polyeval.c: evaluates p on in (already at the level and scale the caller wants) and
 * writes the result at in->level - r * hekv_ckks_cheby_depth(p) with scale `target`, every
 * level of the circuit a unit of r primes (each of its rescales drops r of them); adds
 * the count of relinearised products to *mults (may be NULL). out may alias in. */
hekv_status hekv__eval_poly(hekv_eval *ev, hekv_ct *out, const hekv_ct *in, const hekv_cheby *p,
                            double target, int r, int *mults);

#ifdef __cplusplus
}
#endif
#endif
