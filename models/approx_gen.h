/* approx_gen.h: the bridge from the CKKS layer's nonlinearity designs (src/ckks/nonlin.c)
 * to the model layer's FHE-simulation hook (the "hekv-approx 1" Chebyshev series of
 * models/approx.c): intervals from a calibration, designs on them, and the exact Chebyshev
 * series of each design's plaintext circuit, so that the simulated model computes what the
 * encrypted model will compute, up to CKKS noise. Kept out of llama.h, which has nothing
 * encrypted in it. */
#ifndef HEKV_MODELS_APPROX_GEN_H
#define HEKV_MODELS_APPROX_GEN_H

#include "../src/ckks/ckks.h"
#include "llama.h"

#ifdef __cplusplus
extern "C" {
#endif

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

/** Designs the four functions on ranges[HEKV_LLAMA_FN_COUNT] (hekv_ckks_nonlin_new with
 *  opts, which may be NULL) and returns their series as a set. designs (may be NULL)
 *  receives the designs (the caller frees them); on failure nothing is left allocated.
 *  @return as hekv_ckks_nonlin_new and hekv_llama_chebset_set_nonlin */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_chebset_design(const hekv_llama_range *ranges,
                                                              const hekv_nonlin_opts *opts,
                                                              hekv_llama_chebset **out,
                                                              hekv_nonlin **designs,
                                                              hekv_err *err);

#ifdef __cplusplus
}
#endif
#endif
