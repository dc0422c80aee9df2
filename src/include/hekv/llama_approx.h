/* hekv/llama_approx.h: the model layer's nonlinearity designs and their bridge to the
 * FHE-simulation hook: the design search of a CKKS circuit (hekv/ckks.h: hekv_nonlin) for
 * a function on an interval (models/nonlin_design.c), intervals from a calibration, the
 * exact Chebyshev series of each design's plaintext circuit (the "hekv-approx 1" set of
 * models/approx.c, one hekv_cheby per hekv_nonlin_kind), and the hook that evaluates them
 * in the reference forward with a count of the inputs that left their intervals, so that
 * the simulated model computes what the encrypted model will compute, up to CKKS noise.
 * Kept out of llama.h, which has nothing encrypted in it. */
#ifndef HEKV_LLAMA_APPROX_H
#define HEKV_LLAMA_APPROX_H

#include "hekv/ckks.h"
#include "hekv/llama.h"
#include "hekv/pack.h"

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

/* ------------------------------------------------------------------ simulation series
 * (approx.c, approx_gen.c) */

/** The model's nonlinearities are the first four kinds of hekv_nonlin_kind:
 *  HEKV_NONLIN_EXP, HEKV_NONLIN_RECIP, HEKV_NONLIN_INVSQRT and HEKV_NONLIN_SILU (0..3),
 *  applied where the hook of hekv/llama.h says. Arrays of per-function values below have
 *  HEKV_LLAMA_NONLIN_COUNT entries indexed by kind. */
#define HEKV_LLAMA_NONLIN_COUNT 4

/** At most one Chebyshev series (hekv_cheby) per model function: what a "hekv-approx 1"
 *  file holds (its grammar is in models/approx.c). A function without one stays exact. */
typedef struct hekv_llama_chebset hekv_llama_chebset;

/** An empty set (every function exact). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_chebset_new(hekv_llama_chebset **out,
                                                            hekv_err *err);
HEKV_API void hekv_llama_chebset_free(hekv_llama_chebset *s);
/** Sets kind's series to a copy of p (replacing any).
 *  @return HEKV_ERR_ARG (NULL, kind not one of the model's four), HEKV_ERR_NOMEM */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_chebset_set(hekv_llama_chebset *s,
                                                            hekv_nonlin_kind kind,
                                                            const hekv_cheby *p,
                                                            hekv_err *err);
/** kind's series, or NULL when it has none (or kind is not one of the four). */
HEKV_API const hekv_cheby *hekv_llama_chebset_get(const hekv_llama_chebset *s,
                                                  hekv_nonlin_kind kind);
/** Parses "hekv-approx 1" text (models/approx.c).
 *  @return HEKV_ERR_FORMAT with the line number, HEKV_ERR_ARG, HEKV_ERR_NOMEM */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_chebset_parse(const char *text, size_t len,
                                                              hekv_llama_chebset **out,
                                                              hekv_err *err);
/** Reads path (a regular file of at most HEKV_LLAMA_TEXT_MAX_BYTES) and parses it.
 *  @return as hekv_llama_chebset_parse (messages prefixed with the path), HEKV_ERR_IO */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_chebset_load(const char *path,
                                                             hekv_llama_chebset **out,
                                                             hekv_err *err);
/** Writes the set as "hekv-approx 1" text (%.17g: every bit survives) atomically
 *  (hekv_file_write). @return HEKV_ERR_IO, HEKV_ERR_NOMEM, HEKV_ERR_ARG */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_chebset_save(const hekv_llama_chebset *s,
                                                             const char *path, hekv_err *err);

/** Sets the function of nl's kind to the Chebyshev series, on nl's interval, of nl's
 *  plaintext circuit (hekv_ckks_nonlin_eval_plain). The circuit is a polynomial of degree
 *  D = hekv_ckks_nonlin_degree(nl) (stages, squarings and Newton steps composed), so its
 *  interpolation at D + 1 Chebyshev points reproduces it to double rounding.
 *  @return HEKV_ERR_ARG (NULL, nl of a kind the model does not use, D + 1 above
 *          HEKV_CHEBY_MAX_COEFFS), HEKV_ERR_NOMEM */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_chebset_set_nonlin(hekv_llama_chebset *s,
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
 *  @param[out] out  [HEKV_LLAMA_NONLIN_COUNT], indexed by kind
 *  @return HEKV_ERR_ARG (NULL, negative margin, an empty range) */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_approx_ranges(hekv_llama_calib *cal,
                                                             double margin,
                                                             hekv_llama_range *out,
                                                             hekv_err *err);

/** Designs the four functions on ranges[HEKV_LLAMA_NONLIN_COUNT] (indexed by kind;
 *  hekv_llama_nonlin_design with opts, which may be NULL) and returns their series as a
 *  set. designs (may be NULL; [HEKV_LLAMA_NONLIN_COUNT]) receives the designs (the caller
 *  frees them); on failure nothing is left allocated.
 *  @return as hekv_llama_nonlin_design and hekv_llama_chebset_set_nonlin */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_chebset_design(const hekv_llama_range *ranges,
                                                              const hekv_nonlin_opts *opts,
                                                              hekv_llama_chebset **out,
                                                              hekv_nonlin **designs,
                                                              hekv_err *err);

/* ------------------------------------------------------------------ the simulation hook
 * (approx.c)
 *
 * The hook that runs the model with a set's series in place of the exact functions. By
 * default it evaluates each series exactly as the encrypted circuit will: the input is not
 * clamped, so outside the designed interval the value follows the polynomial (which grows
 * like T_deg there; a 1/x circuit designed on [1, 69.7] gives -9e19 at 89.5), and the
 * simulated model diverges where the encrypted one would. Every input outside its series'
 * interval is counted per function and per layer with the worst excursion, so a run shows
 * where the design's intervals are too narrow. HEKV_LLAMA_SIM_CLAMP holds the input at the
 * interval's ends instead (a bounded simulation of a model that the circuits would not
 * survive; it still counts). */

#define HEKV_LLAMA_SIM_CLAMP 1u /**< clamp inputs to the series' interval (not the circuit) */

typedef struct hekv_llama_sim hekv_llama_sim;

/** Inputs of one function at one layer that fell outside the series' interval [lo, hi]. */
typedef struct hekv_llama_excursion {
    int64_t below;  /**< inputs x < lo */
    int64_t above;  /**< inputs x > hi */
    int64_t nan;    /**< NaN inputs (the model had already diverged) */
    double min_x;   /**< the lowest input (lo when none was below) */
    double max_x;   /**< the highest input (hi when none was above) */
    double worst_u; /**< max |u| over the inputs outside, u = (2x - lo - hi) / (hi - lo) the
                         argument of the T_k (1 at the ends; 0 when none was outside) */
} hekv_llama_excursion;

/** A simulation of the series of s for a model of n_layers layers (1..HEKV_LLAMA_MAX_LAYERS;
 *  the counts have n_layers + 1 rows, the last for the final RMSNorm). s must outlive the
 *  simulation and stay unchanged. flags: 0 or HEKV_LLAMA_SIM_CLAMP.
 *  @return HEKV_ERR_ARG (NULL, n_layers, unknown flags), HEKV_ERR_NOMEM */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_sim_new(const hekv_llama_chebset *s,
                                                        int n_layers, unsigned flags,
                                                        hekv_llama_sim **out, hekv_err *err);
HEKV_API void hekv_llama_sim_free(hekv_llama_sim *sim);
/** The hook (valid while sim lives): functions with a series evaluate it, the others are
 *  NULL (exact). Safe to call from several threads at once (the counters are atomic). A
 *  layer outside [0, n_layers] is counted in row n_layers. */
HEKV_API const hekv_llama_approx *hekv_llama_sim_hook(const hekv_llama_sim *sim);
/** Zeroes every count (not while the hook runs). */
HEKV_API void hekv_llama_sim_reset(hekv_llama_sim *sim);
HEKV_API int hekv_llama_sim_layers(const hekv_llama_sim *sim);
/** The excursions of kind at layer (0..n_layers) into out (may be NULL); returns the inputs
 *  outside, below + above + nan (0 when kind has no series or layer is out of range, and
 *  then out is zeroed). */
HEKV_API int64_t hekv_llama_sim_excursion(const hekv_llama_sim *sim, hekv_nonlin_kind kind,
                                          int layer, hekv_llama_excursion *out);
/** Inputs outside their intervals, over every function and layer. */
HEKV_API int64_t hekv_llama_sim_outside(const hekv_llama_sim *sim);

/* ------------------------------------------------------------------ softmax without a max
 * (softmax_ns.c) */

/** A softmax that never subtracts a plaintext max (normalize-and-square; softmax_ns.c
 *  explains it), designed per layer from a calibration, simulated exactly as its circuit
 *  runs. */
typedef struct hekv_llama_nsoftmax hekv_llama_nsoftmax;

/** Design options; zero fields take the defaults. */
typedef struct hekv_llama_nsoftmax_opts {
    int steps;        /**< squarings k, 0..12 (0: 3; a literal 0 is not expressible: use the
                           simulation of a constant shift for k = 0) */
    double margin;    /**< widening of every calibrated interval (0: 0.5; 0.1 let test
                           text fall outside them: scripts/softmax_study.sh) */
    double crude_tol; /**< relative error of the k intermediate reciprocals (0: 0.3) */
    double final_tol; /**< relative error of the last reciprocal (0: 1e-3) */
    double exp_tol;   /**< error of e^u relative to its range (0: 2^-20) */
    int n_max;        /**< longest row (0: the model's seq_len) */
} hekv_llama_nsoftmax_opts;

/** Designs every layer's circuit: per head a shift B above its calibrated scores, e^u on
 *  the layer's u = (s - B)/2^k, the crude and final reciprocals on the ranges their sums
 *  take for rows of up to n_max positions.
 *  @return HEKV_ERR_ARG (no calibrated scores, options), the designer's errors */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_nsoftmax_design(
    hekv_llama_calib *cal, const hekv_llama_nsoftmax_opts *opts, hekv_llama_nsoftmax **out,
    hekv_err *err);
/** As hekv_llama_nsoftmax_design, then the exact model runs over text (calibration text:
 *  training or validation) recording the sum each normalization sees, and every
 *  normalization gets its own reciprocal on its recorded range (widened by the margin and
 *  by the crude steps' (1 +- crude_tol)^2): early steps see flat rows (sums near 1), late
 *  ones peaked rows, so each covers a far smaller range than the bound [c^2, n c^2].
 *  @return as hekv_llama_nsoftmax_design, hekv_llama_compare */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_nsoftmax_design_text(
    const hekv_llama_model *m, const hekv_llama_tokenizer *tok, const char *text, size_t len,
    int64_t max_tokens, hekv_llama_calib *cal, const hekv_llama_nsoftmax_opts *opts,
    hekv_llama_nsoftmax **out, hekv_err *err);
HEKV_API void hekv_llama_nsoftmax_free(hekv_llama_nsoftmax *s);
/** The softmax of one row in place (thread-safe; inputs outside the designed intervals are
 *  evaluated as the circuit would and counted). */
HEKV_API void hekv_llama_nsoftmax_apply(const hekv_llama_nsoftmax *s, double *a, int n,
                                        int layer, int head);
/** Fills hook with s as its softmax (every other function exact); s must outlive it. */
HEKV_API void hekv_llama_nsoftmax_hook(const hekv_llama_nsoftmax *s, hekv_llama_approx *hook);
/** Levels one layer's softmax consumes; inputs that left their intervals at that layer;
 *  a one-line description of the layer's design. */
HEKV_API int hekv_llama_nsoftmax_depth(const hekv_llama_nsoftmax *s, int layer);
HEKV_API int64_t hekv_llama_nsoftmax_outside(const hekv_llama_nsoftmax *s, int layer);
HEKV_API void hekv_llama_nsoftmax_describe(const hekv_llama_nsoftmax *s, int layer,
                                           char *buf, size_t len);
/** Layer `layer`'s design as the encrypted circuit takes it (hekv_pack_kv_softmax): out's
 *  pointers borrow from s (and from a [steps + 1] table inside s).
 *  @return HEKV_ERR_ARG (layer out of range) */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_nsoftmax_plan(const hekv_llama_nsoftmax *s,
                                                             int layer, hekv_pack_softmax *out,
                                                             hekv_err *err);

/* ------------------------------------------------------------------ comparison (compare.c) */

/** A hooked model against the exact one, teacher-forced on a text. */
typedef struct hekv_llama_compare_result {
    int64_t tokens;       /**< predictions compared */
    int64_t agree;        /**< of them, the same argmax */
    double nll_ref, nll_hook; /**< total negative log-likelihood of the text, nats */
    double ppl_ref, ppl_hook; /**< token perplexities */
    double max_logit_err; /**< max |logit_hook - logit_ref| over every position and token */
} hekv_llama_compare_result;

/** Runs text[0..len) (its first max_tokens tokens; <= 0: all) through the exact model and
 *  through the model with hook, in windows of seq_len tokens from fresh caches (BOS at
 *  position 0, as hekv_llama_eval_text's plain mode), and compares every prediction.
 *  @return HEKV_ERR_ARG, the tokenizer's and the forward's errors, HEKV_ERR_NOMEM */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_compare(
    const hekv_llama_model *m, const hekv_llama_tokenizer *tok, const char *text, size_t len,
    int64_t max_tokens, const hekv_llama_approx *hook, hekv_llama_compare_result *res,
    hekv_err *err);

#ifdef __cplusplus
}
#endif
#endif
