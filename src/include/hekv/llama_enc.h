/* hekv/llama_enc.h: the encrypted LLaMA decoder layer (models/enc_layer.c) on the packed
 * layouts of hekv/pack.h: the residual stream is a clean interleaved d-vector (stride S/d,
 * model feature order); one step runs RMSNorm, the Q/K/V products with RoPE, the K/V
 * append, QK^T, the softmax without a plaintext max, scores x V, the O product and the
 * residual, RMSNorm, W1/W3, the SwiGLU gate, W2 and the residual, with the layer's weights
 * encoded once (norm weights and 1/sqrt(d_head) folded into the products, heads permuted
 * to the head-interleaved order) and its nonlinearity designs (per layer, from a
 * calibration: hekv/llama_approx.h). Server side: no secret key anywhere.
 *
 * Where the levels run out the step calls the caller's refresh function on the ciphertext
 * (bootstrapping in the server; a test may decrypt and re-encrypt), before the operation
 * that would not fit: the naive placement, against which the planned one of the
 * end-to-end issue is measured. */
#ifndef HEKV_LLAMA_ENC_H
#define HEKV_LLAMA_ENC_H

#include "hekv/ckks.h"
#include "hekv/llama.h"
#include "hekv/pack.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Raises ct to a level >= `need` (keeping its message, slots and, ideally, its scale);
 *  returns a status (and leaves a message in ev on failure). */
typedef hekv_status (*hekv_llama_refresh_fn)(hekv_eval *ev, hekv_ct *ct, int need, void *ctx);

/** A layer's nonlinearity designs (borrowed: they must outlive the layer). */
typedef struct hekv_llama_enc_designs {
    const hekv_nonlin *invsqrt_att; /**< 1/sqrt on mean(x^2) + eps at the attention norm */
    const hekv_nonlin *invsqrt_ffn; /**< the same at the MLP norm */
    const hekv_nonlin *silu;        /**< SiLU on W1 x */
    hekv_pack_softmax softmax;      /**< hekv_llama_nsoftmax_plan's */
} hekv_llama_enc_designs;

typedef struct hekv_llama_enc_layer hekv_llama_enc_layer;

/** Encodes layer `layer` of m for the parameter set of enc (each product at its fixed level
 *  in the step's plan, see enc_layer.c) and makes its empty K/V cache.
 *  @return HEKV_ERR_ARG (layer, designs, a shape the slots do not hold), HEKV_ERR_PARAMS
 *          (a set with too few levels for the plan), the packing layer's errors,
 *          HEKV_ERR_NOMEM */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_enc_layer_new(const hekv_llama_model *m,
                                                             int layer, hekv_encoder *enc,
                                                             const hekv_llama_enc_designs *dz,
                                                             hekv_llama_enc_layer **out,
                                                             hekv_err *err);
HEKV_API void hekv_llama_enc_layer_free(hekv_llama_enc_layer *L);
/** Adds the keys a step needs to r (every rotation at the top level, relinearisation). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_enc_layer_keyreq(const hekv_llama_enc_layer *L,
                                                                hekv_ckks_keyreq *r,
                                                                hekv_err *err);
/** The layer's K/V cache (its tokens are the positions run so far). */
HEKV_API const hekv_pack_kv *hekv_llama_enc_layer_cache(const hekv_llama_enc_layer *L);

/** A probe called after each stage of a step with the stage's name and its result (for
 *  tests and diagnostics: a client with the key can decrypt it). NULL removes it. */
typedef void (*hekv_llama_probe_fn)(const char *stage, const hekv_ct *ct, void *ctx);
HEKV_API void hekv_llama_enc_layer_set_probe(hekv_llama_enc_layer *L, hekv_llama_probe_fn fn,
                                             void *ctx);

/** What one step did: the operation counts and the refreshes it asked for. */
typedef struct hekv_llama_enc_stats {
    hekv_pack_stats ops;
    int refreshes;
} hekv_llama_enc_stats;

/** One decoder step of the token at position pos (= the tokens cached so far): x, the
 *  residual stream (a clean interleaved d-vector), becomes the layer's output in place.
 *  refresh is called whenever an operation needs more levels than its input has.
 *  @return HEKV_ERR_ARG (pos, x), the refresh's and the evaluator's errors */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_enc_layer_step(hekv_llama_enc_layer *L,
                                                              hekv_eval *ev, hekv_ct *x,
                                                              int pos,
                                                              hekv_llama_refresh_fn refresh,
                                                              void *rctx,
                                                              hekv_llama_enc_stats *st);

#ifdef __cplusplus
}
#endif
#endif
