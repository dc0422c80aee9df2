/* hekv/llama_approx.h: the model layer's nonlinearity designs and their bridge to the
 * FHE-simulation hook: the design search of a CKKS circuit (hekv/ckks.h: hekv_nonlin) for
 * a function on an interval (models/nonlin_design.c), intervals from a calibration, and the
 * exact Chebyshev series of each design's plaintext circuit (the "hekv-approx" series of
 * models/approx.c), so that the simulated model computes what the encrypted model will
 * compute, up to CKKS noise. Kept out of llama.h, which has nothing encrypted in it. */
#ifndef HEKV_LLAMA_APPROX_H
#define HEKV_LLAMA_APPROX_H

#include "hekv/ckks.h"
#include "hekv/llama.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ design (nonlin_design.c) */

/** Design options; zero fields take the defaults. */
typedef struct hekv_nonlin_opts {
    double tol;     /**< target max |error| of the plaintext circuit, relative to the range
                         (max f - min f) of f on the interval (0: 2^-12) */
    int max_depth;  /**< 0: no limit; else refuse designs deeper (HEKV_ERR_UNSUPPORTED) */
    double gap;     /**< sign: the bound holds for |x| >= gap (0: hi / 64) */
    int min_newton; /**< recip, invsqrt: at least this many Newton steps */
    int relative;   /**< exp, recip, invsqrt: tol bounds max |g - f| / |f| instead */
    int max_degree; /**< cap on each polynomial stage's degree (0: 255); a low cap makes
                         exp use squarings and recip/invsqrt use Newton steps */
} hekv_nonlin_opts;

/** Designs the circuit of kind on [lo, hi] (finite, lo < hi; recip/invsqrt need lo > 0;
 *  sign needs lo = -hi): among the shapes of nonlin_design.c whose plaintext circuit meets
 *  the tolerance, the one of least depth, then smallest error, then fewest products. Takes
 *  milliseconds (Remez on a few candidates).
 *  @return HEKV_ERR_ARG (kind, interval, options), HEKV_ERR_UNSUPPORTED (no candidate
 *          meets tol within max_depth; the message gives the best error reached),
 *          HEKV_ERR_NOMEM */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_nonlin_design(hekv_nonlin_kind kind, double lo,
                                                             double hi,
                                                             const hekv_nonlin_opts *opts,
                                                             hekv_nonlin **out, hekv_err *err);
/** Called with every candidate the search tries (after measuring it). */
typedef void (*hekv_llama_design_fn)(const hekv_nonlin *candidate, void *ctx);
/** hekv_llama_nonlin_design that also calls cb on every candidate: the error tables of
 *  `hekv bench poly --table`. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_nonlin_design_table(
    hekv_nonlin_kind kind, double lo, double hi, const hekv_nonlin_opts *opts,
    hekv_llama_design_fn cb, void *ctx, hekv_nonlin **out, hekv_err *err);
/** Designs a softmax for scores in [lo, hi] shifted by the constant `shift` (calibrated:
 *  exp runs on [lo - shift, hi - shift]) whose group sums sum_j exp(x_j - shift) lie in
 *  [sum_lo, sum_hi] (0 < sum_lo < sum_hi): the exp design with opts, the reciprocal with
 *  opts made relative and at least one Newton step.
 *  @return as hekv_llama_nonlin_design */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_softmax_design(double lo, double hi,
                                                              double shift, double sum_lo,
                                                              double sum_hi,
                                                              const hekv_nonlin_opts *opts,
                                                              hekv_softmax **out,
                                                              hekv_err *err);

/* ------------------------------------------------------------------ simulation series */

/** The CKKS design kind that approximates model function f (exp, recip, invsqrt, silu). */
HEKV_API hekv_nonlin_kind hekv_llama_fn_nonlin_kind(hekv_llama_fn f);

/** Sets function f of s to the Chebyshev series, on nl's interval, of nl's plaintext
 *  circuit (hekv_ckks_nonlin_eval_plain). The circuit is a polynomial of degree
 *  D = hekv_ckks_nonlin_degree(nl) (stages, squarings and Newton steps composed), so its
 *  interpolation at D + 1 Chebyshev points reproduces it to double rounding.
 *  @return HEKV_ERR_ARG (NULL, nl of another kind than f, D + 1 above
 *          HEKV_LLAMA_CHEB_MAX_COEFFS), HEKV_ERR_NOMEM */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_chebset_set_nonlin(hekv_llama_chebset *s,
                                                                  hekv_llama_fn f,
                                                                  const hekv_nonlin *nl,
                                                                  hekv_err *err);

/** The interval each function's approximation must cover, from a calibration: the union
 *  over layers of
 *    exp      softmax_exp_shifted            recip    softmax_sum_shifted
 *    invsqrt  rmsnorm_att, rmsnorm_ffn, rmsnorm_final, plus HEKV_LLAMA_RMS_EPS
 *    silu     silu
 *  widened by margin >= 0: ranges of positive values multiplicatively, [lo / (1 + margin),
 *  hi (1 + margin)]; the others additively, by margin x width on each side, except the
 *  upper end 0 of exp's argument, which is exact (s - max s <= 0).
 *  @return HEKV_ERR_ARG (NULL, negative margin, an empty range) */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_approx_ranges(hekv_llama_calib *cal,
                                                             double margin,
                                                             hekv_llama_range *out /* [4] */,
                                                             hekv_err *err);

/** Designs the four functions on ranges[HEKV_LLAMA_FN_COUNT] (hekv_llama_nonlin_design with
 *  opts, which may be NULL) and returns their series as a set. designs (may be NULL)
 *  receives the designs (the caller frees them); on failure nothing is left allocated.
 *  @return as hekv_llama_nonlin_design and hekv_llama_chebset_set_nonlin */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_chebset_design(const hekv_llama_range *ranges,
                                                              const hekv_nonlin_opts *opts,
                                                              hekv_llama_chebset **out,
                                                              hekv_nonlin **designs,
                                                              hekv_err *err);

#ifdef __cplusplus
}
#endif
#endif
