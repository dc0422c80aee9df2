/* approx_gen.c: makes the FHE-simulation hook's Chebyshev series (models/approx.c) from
 * the nonlinearity designs (models/nonlin_design.c: CKKS circuits), on intervals from a
 * calibration (models/calib.c). The series of a design is the exact polynomial its
 * plaintext circuit computes (a composite of Remez stages, squarings and Newton steps is a
 * polynomial of known degree D; interpolating it at D + 1 Chebyshev points recovers it), so
 * the simulated model and the encrypted model agree up to CKKS noise, not up to a second
 * approximation. It deliberately does not evaluate anything encrypted and does not pick
 * tolerances (callers pass hekv_nonlin_opts). */
#include <math.h>
#include <stdlib.h>

#include "hekv/llama_approx.h"
#include "src/base/base.h"

static long double circuit(long double x, void *ctx) {
    return hekv_ckks_nonlin_eval_plain(ctx, (double)x);
}

hekv_status hekv_llama_chebset_set_nonlin(hekv_llama_chebset *s, const hekv_nonlin *nl,
                                          hekv_err *err) {
    static const char fn[] = "hekv_llama_chebset_set_nonlin";
    if (!s || !nl) return hekv_err_set(err, HEKV_ERR_ARG, "%s: NULL argument", fn);
    const hekv_nonlin_kind kind = hekv_ckks_nonlin_kind(nl);
    if ((int)kind < 0 || kind >= HEKV_LLAMA_NONLIN_COUNT)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: the model has no %s to approximate (exp, recip, invsqrt, "
                            "silu)", fn, hekv_ckks_nonlin_name(kind));
    const int deg = hekv_ckks_nonlin_degree(nl);
    if (deg + 1 > HEKV_CHEBY_MAX_COEFFS)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: the %s circuit has degree %d, more than a hekv-approx series "
                            "holds (%d coefficients)", fn, hekv_ckks_nonlin_name(kind), deg,
                            HEKV_CHEBY_MAX_COEFFS);
    hekv_cheby *p = NULL;
    hekv_status st = hekv_ckks_cheby_interp(circuit, (void *)nl, hekv_ckks_nonlin_lo(nl),
                                            hekv_ckks_nonlin_hi(nl), deg, &p, err);
    if (st != HEKV_OK) return st;
    st = hekv_llama_chebset_set(s, kind, p, err);
    hekv_ckks_cheby_free(p);
    return st;
}

static void widen(hekv_llama_range *d, hekv_llama_range s) {
    if (s.lo < d->lo) d->lo = s.lo;
    if (s.hi > d->hi) d->hi = s.hi;
}

hekv_status hekv_llama_approx_ranges(hekv_llama_calib *cal, double margin,
                                     hekv_llama_range *out, hekv_err *err) {
    static const char fn[] = "hekv_llama_approx_ranges";
    if (!cal || !out) return hekv_err_set(err, HEKV_ERR_ARG, "%s: NULL argument", fn);
    if (!(margin >= 0) || !isfinite(margin))
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: margin %g must be >= 0", fn, margin);
    const hekv_llama_range empty = {INFINITY, -INFINITY};
    for (int f = 0; f < HEKV_LLAMA_NONLIN_COUNT; f++) out[f] = empty;
    const int L = hekv_llama_calib_config(cal)->n_layers;
    for (int l = 0; l < L; l++) {
        const hekv_llama_layer_calib *lc = hekv_llama_calib_layer(cal, l);
        widen(&out[HEKV_NONLIN_EXP], lc->softmax_exp_shifted);
        widen(&out[HEKV_NONLIN_RECIP], lc->softmax_sum_shifted);
        widen(&out[HEKV_NONLIN_INVSQRT], lc->rmsnorm_att);
        widen(&out[HEKV_NONLIN_INVSQRT], lc->rmsnorm_ffn);
        widen(&out[HEKV_NONLIN_SILU], lc->silu);
    }
    widen(&out[HEKV_NONLIN_INVSQRT], hekv_llama_calib_final(cal)->rmsnorm_final);
    out[HEKV_NONLIN_INVSQRT].lo += HEKV_LLAMA_RMS_EPS;
    out[HEKV_NONLIN_INVSQRT].hi += HEKV_LLAMA_RMS_EPS;
    for (int f = 0; f < HEKV_LLAMA_NONLIN_COUNT; f++) {
        hekv_llama_range *r = &out[f];
        if (!(r->lo <= r->hi) || !isfinite(r->lo) || !isfinite(r->hi))
            return hekv_err_set(err, HEKV_ERR_ARG,
                                "%s: the calibration has no range for %s (calibrate on more "
                                "text)", fn, hekv_ckks_nonlin_name((hekv_nonlin_kind)f));
        if (f == HEKV_NONLIN_EXP && r->hi == 0) {
            /* s - max(s) <= 0 holds exactly: only the lower end needs room */
            r->lo -= margin * (r->hi - r->lo);
        } else if (r->lo > 0) {
            r->lo /= 1 + margin;
            r->hi *= 1 + margin;
        } else {
            double w = r->hi - r->lo;
            if (w == 0) w = fabs(r->hi) + 1;
            r->lo -= margin * w;
            r->hi += margin * w;
        }
    }
    return HEKV_OK;
}

hekv_status hekv_llama_chebset_design(const hekv_llama_range *ranges,
                                      const hekv_nonlin_opts *opts, hekv_llama_chebset **out,
                                      hekv_nonlin **designs, hekv_err *err) {
    static const char fn[] = "hekv_llama_chebset_design";
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (!ranges) return hekv_err_set(err, HEKV_ERR_ARG, "%s: ranges is NULL", fn);
    hekv_nonlin *nl[HEKV_LLAMA_NONLIN_COUNT] = {0};
    hekv_llama_chebset *s = NULL;
    hekv_status st = hekv_llama_chebset_new(&s, err);
    for (int f = 0; f < HEKV_LLAMA_NONLIN_COUNT && st == HEKV_OK; f++) {
        st = hekv_llama_nonlin_design((hekv_nonlin_kind)f, ranges[f].lo, ranges[f].hi, opts,
                                      &nl[f], err);
        if (st == HEKV_OK) st = hekv_llama_chebset_set_nonlin(s, nl[f], err);
    }
    if (st != HEKV_OK || !designs) {
        for (int f = 0; f < HEKV_LLAMA_NONLIN_COUNT; f++) hekv_ckks_nonlin_free(nl[f]);
        if (st != HEKV_OK) {
            hekv_llama_chebset_free(s);
            return st;
        }
    } else {
        for (int f = 0; f < HEKV_LLAMA_NONLIN_COUNT; f++) designs[f] = nl[f];
    }
    *out = s;
    return HEKV_OK;
}
