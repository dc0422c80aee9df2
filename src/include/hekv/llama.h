/* hekv/llama.h: public interface of the model layer's plaintext side: the llama2.c checkpoint
 * and tokenizer formats, the reference forward pass (float64 and float32) with a KV cache,
 * sampling and generation, the FHE-simulation hook that swaps each nonlinearity for an
 * approximation (the "hekv-approx 1" Chebyshev file and the hook that evaluates it are in
 * hekv/llama_approx.h, beside the CKKS designs they come from), calibration of the ranges
 * those approximations must cover (the "hekv-calib 1" sidecar), evaluation (perplexity,
 * LAMBADA) and the golden-logits file written by scripts/train_lm.py. Every loader has a
 * buffer entry point (_parse) beside the path one (_load), which reads through
 * hekv_file_read with a size cap per file kind.
 *
 * It deliberately has nothing encrypted in it: the encrypted forward (llama_enc.c) will sit
 * beside this and mirror hekv_llama_*_fwd function by function.
 *
 * Dimension names, used in every shape comment (defined once, here):
 *   C   = dim                 model width
 *   H   = hidden_dim          SwiGLU hidden width
 *   L   = n_layers
 *   NH  = n_heads             query heads
 *   NKV = n_kv_heads          key/value heads (grouped-query attention: NH % NKV == 0)
 *   HS  = head_size = C / NH
 *   KVD = kv_dim = NKV * HS
 *   V   = vocab_size
 *   T   = seq_len             longest context (KV cache length)
 *
 * Ownership follows STYLE R12: opaque handles with _load/_new and _free (free accepts NULL);
 * small value structs (config, weights view, ranges, options, results) are public. Every
 * fallible call returns an hekv_status and writes what went wrong, and what to do, into the
 * caller's hekv_err (which may be NULL). */
#ifndef HEKV_MODELS_LLAMA_H
#define HEKV_MODELS_LLAMA_H

#include <stddef.h>
#include <stdint.h>

#include "hekv/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------
 * Model: llama2.c checkpoint ("version 0" / legacy export)
 *
 * File layout (little endian): int32 dim, hidden_dim, n_layers, n_heads, n_kv_heads,
 * vocab_size (negative = the classifier is not shared with the embedding), seq_len; then
 * float32 tensors in run.c order: token_embedding[V][C], rms_att[L][C], wq[L][C][C],
 * wk[L][KVD][C], wv[L][KVD][C], wo[L][C][C], rms_ffn[L][C], w1[L][H][C], w2[L][C][H],
 * w3[L][H][C], rms_final[C], freq_cis_real[T][HS/2], freq_cis_imag[T][HS/2] (read, never
 * used: RoPE is recomputed), then wcls[V][C] only when vocab_size < 0. The file size must
 * match the header exactly.
 * ---------------------------------------------------------------------------------------- */

/* Upper bounds a header field may take (a larger value is treated as a corrupted file). */
#define HEKV_LLAMA_MAX_DIM (1 << 16)
#define HEKV_LLAMA_MAX_HIDDEN (1 << 20)
#define HEKV_LLAMA_MAX_LAYERS 1024
#define HEKV_LLAMA_MAX_VOCAB (1 << 22)
#define HEKV_LLAMA_MAX_SEQ (1 << 20)

#define HEKV_LLAMA_RMS_EPS 1e-5 /* RMSNorm epsilon, added to mean(x^2) */
#define HEKV_LLAMA_ROPE_THETA 10000.0
#define HEKV_LLAMA_TOKEN_BOS 1
#define HEKV_LLAMA_TOKEN_EOS 2

/** The header of a checkpoint with the derived sizes. Public value struct. */
typedef struct hekv_llama_config {
    int32_t dim;        /* C */
    int32_t hidden_dim; /* H */
    int32_t n_layers;   /* L */
    int32_t n_heads;    /* NH */
    int32_t n_kv_heads; /* NKV */
    int32_t vocab_size; /* V, always positive here */
    int32_t seq_len;    /* T */
    int32_t shared_classifier; /* 1: wcls is token_embedding (file had vocab_size > 0) */
    int32_t head_size;  /* HS = C / NH (derived) */
    int32_t kv_dim;     /* KVD = NKV * HS (derived) */
} hekv_llama_config;

/** Read-only view of the weights, all pointing into the model's one arena. */
typedef struct hekv_llama_weights {
    const float *token_embedding; /* [V][C] */
    const float *rms_att;         /* [L][C] */
    const float *wq;              /* [L][C][C] */
    const float *wk;              /* [L][KVD][C] */
    const float *wv;              /* [L][KVD][C] */
    const float *wo;              /* [L][C][C] */
    const float *rms_ffn;         /* [L][C] */
    const float *w1;              /* [L][H][C] */
    const float *w2;              /* [L][C][H] */
    const float *w3;              /* [L][H][C] */
    const float *rms_final;       /* [C] */
    const float *wcls;            /* [V][C]; == token_embedding when shared */
} hekv_llama_weights;

typedef struct hekv_llama_model hekv_llama_model;

/** Fills cfg from the 7 header fields as stored in the file (vocab_size may be negative)
 *  and checks them: every field positive (vocab_size nonzero), within the HEKV_LLAMA_MAX_*
 *  bounds, dim % n_heads == 0, n_heads % n_kv_heads == 0, head_size even.
 *  @param[out] cfg  the config with derived fields (may be NULL to only check)
 *  @return HEKV_OK, or HEKV_ERR_FORMAT naming the field, its value and the rule. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_config_from_header(hekv_llama_config *cfg,
                                                                   const int32_t hdr[7],
                                                                   hekv_err *err);

/** Exact size in bytes of a checkpoint file with this (checked) config. */
HEKV_API uint64_t hekv_llama_config_file_size(const hekv_llama_config *cfg);

/* Size caps of the files the model layer reads (hekv_file_read refuses larger files, and
 * anything that is not a regular file, before reading a byte). */
#define HEKV_LLAMA_MODEL_MAX_BYTES ((uint64_t)4 << 30)      /* checkpoints */
#define HEKV_LLAMA_GOLDEN_MAX_BYTES ((uint64_t)4 << 30)     /* golden logits */
#define HEKV_LLAMA_TOKENIZER_MAX_BYTES ((uint64_t)256 << 20) /* tokenizer.bin */
#define HEKV_LLAMA_TEXT_MAX_BYTES ((uint64_t)1 << 30) /* evaluation and LAMBADA text,
                                                          "hekv-calib 1", "hekv-approx 1" */

/** Parses a llama2.c checkpoint held in data[0..len) (a file's bytes): validates the
 *  header, the exact size and that every weight is finite, and copies the weights into
 *  the model's one 64-byte aligned arena (data is not kept). The buffer entry point of
 *  hekv_llama_model_load (and of the fuzz targets): any bytes give a status, never a crash.
 *  @param[out] out  the model, or NULL on failure (nothing left allocated)
 *  @return HEKV_OK; HEKV_ERR_ARG (NULL); HEKV_ERR_FORMAT (bad field, size expected vs found,
 *          non-finite weight, llama2.c v1/v2 export); HEKV_ERR_NOMEM. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_model_parse(const uint8_t *data, size_t len,
                                                            hekv_llama_model **out,
                                                            hekv_err *err);
/** Reads path (a regular file of at most HEKV_LLAMA_MODEL_MAX_BYTES: a directory, FIFO or
 *  device is refused with a message) and parses it (hekv_llama_model_parse); messages
 *  name the path.
 *  @return as hekv_llama_model_parse, and HEKV_ERR_IO (cannot open or read; not a regular
 *          file; too large). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_model_load(const char *path,
                                                           hekv_llama_model **out,
                                                           hekv_err *err);
HEKV_API void hekv_llama_model_free(hekv_llama_model *m);
HEKV_API const hekv_llama_config *hekv_llama_model_config(const hekv_llama_model *m);
HEKV_API const hekv_llama_weights *hekv_llama_model_weights(const hekv_llama_model *m);

/* ------------------------------------------------------------------------------------------
 * FHE-simulation hook: the four nonlinearities an encrypted engine must approximate.
 *
 * Where each is applied (the argument ranges are what hekv-calib records):
 *   exp     softmax numerator, argument s - max(s) (scores of one head, max over 0..pos)
 *   recip   softmax normaliser, argument sum_t exp(s_t - max(s))
 *   invsqrt RMSNorm, argument mean(x^2) + 1e-5
 *   silu    SwiGLU gate, argument (w1 x)_i;  silu(z) = z / (1 + exp(-z))
 * Every call also gets the layer it comes from: 0..L-1 for the transformer blocks, L for
 * the final RMSNorm (invsqrt only), so a hook can tell where an input left its interval.
 * A NULL hook pointer means exact everywhere; a NULL function pointer inside a hook means
 * exact for that one function. The exact float64 formulas are exp(x), 1.0 / x,
 * 1.0 / sqrt(x) and x / (1.0 + exp(-x)); a hook that computes exactly these gives
 * bit-identical logits. The max subtraction stays (it is computed in plaintext here; the
 * calibration also records the unshifted ranges for engines that cannot subtract it).
 * Evaluation calls one hook from several threads at once (hekv_llama_eval_opts.threads):
 * a hook with state must make it thread-safe. The Chebyshev-series hook of the FHE
 * simulation (hekv_llama_sim, hekv/llama_approx.h) is.
 * ---------------------------------------------------------------------------------------- */
typedef struct hekv_llama_approx {
    double (*exp)(double x, int layer, void *ctx);
    double (*recip)(double x, int layer, void *ctx);
    double (*invsqrt)(double x, int layer, void *ctx);
    double (*silu)(double x, int layer, void *ctx);
    void *ctx;
    /** A whole softmax in place of max, exp and the reciprocal (NULL: those): the scores
     *  a[0..n) of query head `head` over the n cached positions (q.k / sqrt(head size))
     *  become its probabilities, as an engine that cannot subtract a plaintext max computes
     *  them (hekv_llama_nsoftmax in hekv/llama_approx.h). */
    void (*softmax)(double *a, int n, int layer, int head, void *ctx);
} hekv_llama_approx;

/** A hook whose four functions are the exact formulas above (for tests and comparisons). */
HEKV_API const hekv_llama_approx *hekv_llama_approx_exact(void);

/* ------------------------------------------------------------------------------------------
 * Calibration ranges ("hekv-calib 1", see calib.c for the file grammar).
 * ---------------------------------------------------------------------------------------- */

/** A closed interval [lo, hi]; empty (nothing observed) while lo > hi. */
typedef struct hekv_llama_range {
    double lo, hi;
} hekv_llama_range;

/** What one layer's inputs to the nonlinearities spanned. */
typedef struct hekv_llama_layer_calib {
    hekv_llama_range rmsnorm_att;           /* mean(x^2) at the attention RMSNorm */
    hekv_llama_range rmsnorm_ffn;           /* mean(x^2) at the MLP RMSNorm */
    hekv_llama_range softmax_exp_shifted;   /* s - max(s): the exp argument used here */
    hekv_llama_range softmax_exp_unshifted; /* s itself (all heads) */
    hekv_llama_range softmax_sum_shifted;   /* sum exp(s - max(s)): the recip argument */
    hekv_llama_range softmax_sum_unshifted; /* sum exp(s) */
    hekv_llama_range silu;                  /* (w1 x)_i */
    hekv_llama_range *attn_score;           /* [NH]: q.k / sqrt(HS) per query head */
} hekv_llama_layer_calib;

typedef struct hekv_llama_final_calib {
    hekv_llama_range rmsnorm_final; /* mean(x^2) at the final RMSNorm */
    hekv_llama_range logits;        /* classifier outputs */
} hekv_llama_final_calib;

typedef struct hekv_llama_calib hekv_llama_calib;

/** An empty calibration (every range empty) for models with this config. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_calib_new(const hekv_llama_config *cfg,
                                                          hekv_llama_calib **out,
                                                          hekv_err *err);
HEKV_API void hekv_llama_calib_free(hekv_llama_calib *c);
/** Widens every range of dst by the matching one of src (same config, else ARG). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_calib_merge(hekv_llama_calib *dst,
                                                            const hekv_llama_calib *src,
                                                            hekv_err *err);
HEKV_API const hekv_llama_config *hekv_llama_calib_config(const hekv_llama_calib *c);
/** Layer l's ranges (l in [0, L)), or NULL when l is out of range. Mutable for recording. */
HEKV_API hekv_llama_layer_calib *hekv_llama_calib_layer(hekv_llama_calib *c, int l);
HEKV_API hekv_llama_final_calib *hekv_llama_calib_final(hekv_llama_calib *c);
/** Number of forward positions recorded (the "tokens" line of the file). */
HEKV_API int64_t hekv_llama_calib_tokens(const hekv_llama_calib *c);
HEKV_API void hekv_llama_calib_add_tokens(hekv_llama_calib *c, int64_t n);
/** Writes the sidecar atomically (hekv_file_write: the old file stays whole if anything
 *  fails); refuses (HEKV_ERR_ARG) when a range is empty or not finite, before writing.
 *  @return HEKV_ERR_ARG, HEKV_ERR_IO, HEKV_ERR_NOMEM */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_calib_save(const hekv_llama_calib *c,
                                                           const char *path, hekv_err *err);
/** Parses a sidecar. expect (may be NULL) is the model it must describe; a mismatch is
 *  HEKV_ERR_FORMAT. Any malformed, missing, duplicated or inverted entry is
 *  HEKV_ERR_FORMAT with the line number. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_calib_parse(const char *text, size_t len,
                                                            const hekv_llama_config *expect,
                                                            hekv_llama_calib **out,
                                                            hekv_err *err);
/** Reads path (a regular file of at most HEKV_LLAMA_TEXT_MAX_BYTES) and parses it. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_calib_load(const char *path,
                                                           const hekv_llama_config *expect,
                                                           hekv_llama_calib **out,
                                                           hekv_err *err);

/* ------------------------------------------------------------------------------------------
 * Reference forward, one function per layer (llm.c style). These are kernels in the sense
 * of STYLE R11: they assume valid shapes and cannot fail; hekv_llama_forward checks.
 * ap may be NULL (exact); layer (0..L, see the hook) is passed to its functions. rec /
 * range pointers may be NULL (no recording).
 * ---------------------------------------------------------------------------------------- */

/** out[i] = w[i] * (x[i] * invsqrt(mean(x^2) + eps)), i < C. out may alias in.
 *  Records mean(x^2) into ms_rec. */
HEKV_API void hekv_llama_rmsnorm_fwd(double *out, const double *in, const float *w, int C,
                                     const hekv_llama_approx *ap, int layer,
                                     hekv_llama_range *ms_rec);
/** out[o] = sum_i w[o][i] in[i]: w is [C_out][C_in], in [C_in], out [C_out] (no alias). */
HEKV_API void hekv_llama_matmul_fwd(double *out, const double *in, const float *w, int C_in,
                                    int C_out);
/** Rotates each pair (vec[i], vec[i+1]), i even < n, by angle pos * 10000^-(i % HS)/HS. */
HEKV_API void hekv_llama_rope_fwd(double *vec, int n, int head_size, int pos);
/** Causal grouped-query attention of one query position over n_pos cached positions.
 *  q [NH*HS], kcache and vcache [n_pos][NKV*HS] (this layer), att scratch [NH][n_pos],
 *  out [NH*HS] (no alias). Query head h reads KV head h / (NH / NKV). */
HEKV_API void hekv_llama_attention_fwd(double *out, double *att, const double *q,
                                       const double *kcache, const double *vcache, int n_pos,
                                       int n_heads, int n_kv_heads, int head_size,
                                       const hekv_llama_approx *ap, int layer,
                                       hekv_llama_layer_calib *rec);
/** out[i] = silu(h1[i]) * h3[i], i < H. out may alias h1 or h3. Records h1 into silu_rec. */
HEKV_API void hekv_llama_swiglu_fwd(double *out, const double *h1, const double *h3, int H,
                                    const hekv_llama_approx *ap, int layer,
                                    hekv_llama_range *silu_rec);
/** out[i] = a[i] + b[i], i < C. out may alias a or b. */
HEKV_API void hekv_llama_residual_fwd(double *out, const double *a, const double *b, int C);

/* float32 twins: the same arithmetic as llama2.c run.c, operation for operation (so greedy
 * and seeded samples reproduce run.c's); the hook is applied through double. */
HEKV_API void hekv_llama_rmsnorm_fwd_f32(float *out, const float *in, const float *w, int C,
                                         const hekv_llama_approx *ap, int layer);
HEKV_API void hekv_llama_matmul_fwd_f32(float *out, const float *in, const float *w,
                                        int C_in, int C_out);
HEKV_API void hekv_llama_rope_fwd_f32(float *vec, int n, int head_size, int pos);
HEKV_API void hekv_llama_attention_fwd_f32(float *out, float *att, const float *q,
                                           const float *kcache, const float *vcache,
                                           int n_pos, int n_heads, int n_kv_heads,
                                           int head_size, const hekv_llama_approx *ap,
                                           int layer);
HEKV_API void hekv_llama_swiglu_fwd_f32(float *out, const float *h1, const float *h3, int H,
                                        const hekv_llama_approx *ap, int layer);
HEKV_API void hekv_llama_residual_fwd_f32(float *out, const float *a, const float *b, int C);

/* ------------------------------------------------------------------------------------------
 * Forward state: activations, KV cache and logits for one sequence.
 * ---------------------------------------------------------------------------------------- */

typedef enum {
    HEKV_LLAMA_F64 = 0, /* activations, KV cache and logits in double (float32 weights) */
    HEKV_LLAMA_F32 = 1  /* everything in float, as llama2.c run.c */
} hekv_llama_precision;

typedef struct hekv_llama_state hekv_llama_state;

/** A state for one sequence of up to T positions. The model must outlive it. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_state_new(const hekv_llama_model *m,
                                                          hekv_llama_precision prec,
                                                          hekv_llama_state **out,
                                                          hekv_err *err);
HEKV_API void hekv_llama_state_free(hekv_llama_state *st);
/** Forgets the cached positions (the next forward must be at pos 0). */
HEKV_API void hekv_llama_state_reset(hekv_llama_state *st);
/** Records every forward's nonlinearity inputs into calib (NULL detaches). Only float64
 *  states record (HEKV_ERR_ARG otherwise); calib must have the model's config. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_state_set_calib(hekv_llama_state *st,
                                                                hekv_llama_calib *calib,
                                                                hekv_err *err);
/** Logits [V] of the last forward (float32 states widen theirs to double). */
HEKV_API const double *hekv_llama_state_logits(const hekv_llama_state *st);
HEKV_API hekv_llama_precision hekv_llama_state_precision(const hekv_llama_state *st);
HEKV_API const hekv_llama_config *hekv_llama_state_config(const hekv_llama_state *st);

/** Runs token at position pos, appending its K and V to the cache, and leaves the logits
 *  for the next token in the state. Positions 0..pos-1 must have been run (pos may also go
 *  back: running pos again overwrites it and forgets later positions).
 *  @param ap  approximation hook, NULL = exact
 *  @return HEKV_OK; HEKV_ERR_ARG (token not in [0, V), pos not in [0, T) or beyond the
 *          cached positions). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_forward(hekv_llama_state *st, int token,
                                                        int pos, const hekv_llama_approx *ap,
                                                        hekv_err *err);

/* ------------------------------------------------------------------------------------------
 * Tokenizer: llama2.c tokenizer.bin
 *
 * File: int32 max_token_length, then for each of the model's V tokens: float32 score,
 * int32 len, len bytes (no terminator). Exact size required. Encoding follows run.c:
 * optional BOS, a dummy-prefix " " token (when the text is not empty), UTF-8 code points
 * looked up whole or else byte-fallback tokens <0xXX> at ids 3 + byte, then repeated
 * merging of the adjacent pair whose concatenation is a vocab entry with the best score
 * (leftmost on ties); optional EOS. Decoding drops the leading space of a piece that
 * follows BOS and turns <0xXX> into the raw byte.
 * ---------------------------------------------------------------------------------------- */

#define HEKV_LLAMA_MAX_TOKEN_LEN 4096

typedef struct hekv_llama_tokenizer hekv_llama_tokenizer;

/** Parses a tokenizer file held in data[0..len) with exactly vocab_size entries (the
 *  model's V); the pieces are copied (data is not kept). The buffer entry point of
 *  hekv_llama_tokenizer_load.
 *  @return HEKV_OK; HEKV_ERR_ARG (NULL, vocab_size outside [3, HEKV_LLAMA_MAX_VOCAB]: a
 *          vocabulary starts with <unk>, <s>, </s>);
 *          HEKV_ERR_FORMAT (bad max_token_length, a token length out of
 *          [0, max_token_length], a NUL byte or non-finite score, truncated or trailing
 *          bytes, with the token index); HEKV_ERR_NOMEM. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_tokenizer_parse(const uint8_t *data, size_t len,
                                                                int vocab_size,
                                                                hekv_llama_tokenizer **out,
                                                                hekv_err *err);
/** Reads path (a regular file of at most HEKV_LLAMA_TOKENIZER_MAX_BYTES) and parses it;
 *  messages name the path.
 *  @return as hekv_llama_tokenizer_parse, and HEKV_ERR_IO (cannot open or read; a
 *          directory, FIFO or device; too large). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_tokenizer_load(const char *path,
                                                               int vocab_size,
                                                               hekv_llama_tokenizer **out,
                                                               hekv_err *err);
HEKV_API void hekv_llama_tokenizer_free(hekv_llama_tokenizer *t);
HEKV_API int hekv_llama_tokenizer_vocab_size(const hekv_llama_tokenizer *t);
/** The raw piece of token id ("" when out of range). */
HEKV_API const char *hekv_llama_tokenizer_piece(const hekv_llama_tokenizer *t, int id);
/** Encodes text[0..len) (may contain any bytes). A capacity of len + 3 always suffices.
 *  @param[out] tokens  ids, *n_tokens of them
 *  @return HEKV_OK; HEKV_ERR_ARG (NULL, capacity too small, a byte the vocab cannot
 *          represent: V <= 258 without that piece); HEKV_ERR_NOMEM. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_tokenizer_encode(
    const hekv_llama_tokenizer *t, int *tokens, size_t cap, size_t *n_tokens, const char *text,
    size_t len, int bos, int eos, hekv_err *err);
/** The text of token after prev, as run.c's decode: NUL-terminated; a <0xXX> piece gives
 *  the one raw byte (an empty string for <0x00>). *len_out (may be NULL) gets the byte
 *  length (1 for <0x00>). Returns "" for an id out of range. */
HEKV_API const char *hekv_llama_tokenizer_decode(const hekv_llama_tokenizer *t, int prev,
                                                 int token, size_t *len_out);

/* ------------------------------------------------------------------------------------------
 * Sampling (run.c's sampler: xorshift RNG, temperature, top-p) and generation.
 * ---------------------------------------------------------------------------------------- */

typedef struct hekv_llama_sampler hekv_llama_sampler;

/* The generator state that seed 0 starts from: xorshift must not start at 0, and mapping 0
 * to 1 (as this sampler once did) made seeds 0 and 1 the same stream. A fixed odd constant
 * (2^64 / golden ratio) instead, so seed 0 is a stream of its own (the same as the seed
 * HEKV_LLAMA_SEED_ZERO itself). */
#define HEKV_LLAMA_SEED_ZERO 0x9E3779B97F4A7C15ULL

/** temperature 0 = greedy (argmax); topp in (0, 1) = nucleus sampling, otherwise plain
 *  multinomial. The generator starts at seed (seed 0: at HEKV_LLAMA_SEED_ZERO); a seed
 *  gives the same samples every time, and any seed other than 1 gives other samples than
 *  run.c's seed 1.
 *  @return HEKV_OK; HEKV_ERR_ARG (vocab_size < 1, temperature < 0 or not finite, topp not
 *          finite); HEKV_ERR_NOMEM. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_sampler_new(int vocab_size, double temperature,
                                                            double topp, uint64_t seed,
                                                            hekv_llama_sampler **out,
                                                            hekv_err *err);
HEKV_API void hekv_llama_sampler_free(hekv_llama_sampler *s);
/** Picks the next token from logits [V] (not modified). */
HEKV_API int hekv_llama_sampler_sample(hekv_llama_sampler *s, const double *logits);
/** Index of the first maximum of x[0..n). */
HEKV_API int hekv_llama_argmax(const double *x, int n);

/** Called for every token appended after BOS (prompt tokens included, like run.c prints
 *  the prompt); prev is the token before it. */
typedef void (*hekv_llama_token_fn)(int prev, int token, void *user);

typedef struct hekv_llama_gen_opts {
    const char *prompt;              /* may be NULL or "" (then generation starts at BOS) */
    int max_new;                     /* most tokens to sample after the prompt */
    const hekv_llama_approx *approx; /* NULL = exact */
    hekv_llama_token_fn on_token;    /* may be NULL */
    void *user;
} hekv_llama_gen_opts;

/** Encodes the prompt (BOS + text), runs it and samples up to max_new tokens, stopping at
 *  BOS or EOS (not emitted) or at position T. tokens receives BOS, the prompt and the
 *  sampled tokens; *n_prompt (may be NULL) gets the prompt's count including BOS.
 *  The state is reset first.
 *  Generation also stops when tokens is full (cap).
 *  @return HEKV_OK; HEKV_ERR_ARG (NULL, max_new < 0, prompt longer than T or cap);
 *          HEKV_ERR_NOMEM. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_generate(
    hekv_llama_state *st, const hekv_llama_tokenizer *tok, hekv_llama_sampler *smp,
    int *tokens, size_t cap, size_t *n_tokens, size_t *n_prompt,
    const hekv_llama_gen_opts *opts, hekv_err *err);

/* ------------------------------------------------------------------------------------------
 * Evaluation: perplexity over a text and LAMBADA last-word accuracy (eval.c).
 * ---------------------------------------------------------------------------------------- */

typedef struct hekv_llama_eval_opts {
    int64_t max_tokens;              /* score at most this many text tokens (<= 0: all) */
    int threads;                     /* windows / examples run in parallel (<= 0: 1) */
    int line_eos;                    /* 1: count one extra "<eos>" word per text line */
    hekv_llama_precision precision;
    const hekv_llama_approx *approx; /* NULL = exact */
    hekv_llama_calib *calib;         /* NULL, or receives the ranges (float64 only) */
    int per_line;                    /* 1: the line-stream convention of scripts/train_lm.py
                                        (see hekv_llama_eval_text) */
    int stride;                      /* per_line only: a window every `stride` stream tokens
                                        (1..T; <= 0: T, non-overlapping windows) */
} hekv_llama_eval_opts;

typedef struct hekv_llama_eval_result {
    int64_t tokens;      /* text tokens scored (each predicted exactly once) */
    int64_t words;       /* whitespace-separated words in the scored text (+ lines) */
    int64_t lines;       /* lines in the scored text */
    int64_t windows;     /* windows of up to T tokens (ceil(tokens / stride)) */
    int64_t bytes;       /* bytes of the text covered by the scored tokens (the scored
                            text: words, lines and bytes all count only this prefix) */
    double nll;          /* total negative log-likelihood, nats */
    double ce;           /* nll / tokens (nats/token) */
    double ppl_token;    /* exp(ce) */
    double ppl_word;     /* exp(nll / words) */
} hekv_llama_eval_result;

/** Scores text[0..len): the whole text is encoded once (dummy prefix, no BOS) and cut into
 *  consecutive, non-overlapping windows of T tokens. Each window runs from a fresh KV cache:
 *  BOS at position 0, then the window's tokens; its token p is predicted by the logits at
 *  position p, i.e. from BOS and the p window tokens before it (at most T-1 tokens of
 *  context), so every text token is predicted exactly once. Words are the maximal runs of
 *  non-whitespace bytes (space, \t, \n, \v, \f, \r separate) in the text the scored
 *  tokens cover (a word cut by max_tokens counts); with line_eos each line (each '\n', plus
 *  a last line without one) adds one "<eos>" word, the WikiText/PTB convention (this gives
 *  WikiText-2 test's published 245,569 words).
 *  With opts->per_line the convention of scripts/train_lm.py (the one its PyTorch figures
 *  use) instead: stream = BOS, then for each line (split on '\n'; a final '\n' ends the
 *  last line) the encoding of the line stripped of ' ', '\t', '\r' (nothing if empty)
 *  followed by the byte token <0x0A>; windows of T stream tokens each start from a fresh
 *  cache at position 0 (only the first starts with BOS) and predict the next T tokens, so
 *  every stream token after BOS is scored once; words = whitespace words + lines. With
 *  max_tokens the scored text is the prefix the scored stream tokens cover: whole lines up
 *  to the last scored <0x0A> (its '\n' included), then, if the last scored token is inside
 *  a line, that line up to the bytes of its scored tokens (a cut line counts as a line and
 *  a cut word as a word, as in the plain mode).
 *  With per_line and a stride S < T the windows slide (the sliding-window evaluation of
 *  fixed-context models): window c still scores the S predictions of stream tokens
 *  cS+1 .. cS+S, but it starts from a fresh cache at stream token max(0, cS + S - T), so
 *  every prediction has at least T - S tokens of context (or the whole stream before it);
 *  it costs about T/S times as much. S = T is the non-overlapping evaluation above.
 *  @return HEKV_OK; HEKV_ERR_ARG (NULL, empty text, calib with F32, per_line with a vocab
 *          without <0x0A>, stride > T or stride without per_line); HEKV_ERR_NOMEM. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_eval_text(
    const hekv_llama_model *m, const hekv_llama_tokenizer *tok, const char *text, size_t len,
    const hekv_llama_eval_opts *opts, hekv_llama_eval_result *res, hekv_err *err);

typedef struct hekv_llama_lambada_result {
    int64_t examples; /* passages scored */
    int64_t correct;  /* last word greedily reproduced token for token */
    int64_t skipped;  /* lines without a context and a last word */
    double accuracy;  /* correct / examples */
} hekv_llama_lambada_result;

/** What one line of a LAMBADA file holds (hekv_llama_lambada_parse_line). */
typedef enum {
    HEKV_LLAMA_LAMBADA_BLANK = 0,  /* empty or whitespace only: ignored */
    HEKV_LLAMA_LAMBADA_SKIP = 1,   /* no context or no last word: counted as skipped */
    HEKV_LLAMA_LAMBADA_PASSAGE = 2 /* context and target below */
} hekv_llama_lambada_kind;

typedef struct hekv_llama_lambada_line {
    hekv_llama_lambada_kind kind;
    const char *context; /* PASSAGE: the passage before its last run of whitespace, */
    size_t context_len;  /*   without leading whitespace (never empty) */
    const char *target;  /* PASSAGE: the last word (never empty) */
    size_t target_len;
} hekv_llama_lambada_line;

/** Parses one line of a LAMBADA file, line[0..len) without its '\n': plain text, or, when
 *  its first non-whitespace byte is '{', a JSON object whose "text" member (a string;
 *  other members are skipped whatever their values) is the passage, decoded (escapes,
 *  \uXXXX with surrogate pairs, to UTF-8) into scratch, which must have room for len
 *  bytes. The passage is split at its last run of whitespace. out's pointers point into
 *  line or scratch. The buffer entry point of the LAMBADA reader (models/lambada.c; the
 *  JSON part is models/jsonl.c).
 *  @param line_no  the line's number (from 1) for messages
 *  @return HEKV_OK; HEKV_ERR_FORMAT ("line N: ..." naming what is wrong with the JSON);
 *          HEKV_ERR_ARG (NULL) */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_lambada_parse_line(
    const char *line, size_t len, int line_no, char *scratch, hekv_llama_lambada_line *out,
    hekv_err *err);

/** LAMBADA last-word accuracy over text[0..len), the contents of a LAMBADA file: one
 *  passage per line (hekv_llama_lambada_parse_line). The context is encoded with BOS, the
 *  target as " " + word (the encoder's dummy prefix); the context is run, then each target
 *  token must be the argmax given everything before it (teacher forcing), and the example
 *  counts as correct when all are. Contexts longer than T minus the target keep BOS and
 *  their last tokens; a target of T tokens or more is skipped. max_examples <= 0: all
 *  (the file is read up to the line that completes max_examples).
 *  @return HEKV_OK; HEKV_ERR_ARG (NULL, no passage); HEKV_ERR_FORMAT (bad JSON line, with
 *          its number); HEKV_ERR_NOMEM. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_eval_lambada_text(
    const hekv_llama_model *m, const hekv_llama_tokenizer *tok, const char *text, size_t len,
    int64_t max_examples, const hekv_llama_eval_opts *opts, hekv_llama_lambada_result *res,
    hekv_err *err);
/** hekv_llama_eval_lambada_text on the file at path (a regular file of at most
 *  HEKV_LLAMA_TEXT_MAX_BYTES); messages name the path.
 *  @return as hekv_llama_eval_lambada_text, and HEKV_ERR_IO. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_eval_lambada(
    const hekv_llama_model *m, const hekv_llama_tokenizer *tok, const char *path,
    int64_t max_examples, const hekv_llama_eval_opts *opts, hekv_llama_lambada_result *res,
    hekv_err *err);

/* ------------------------------------------------------------------------------------------
 * Golden logits ("HKGL" file from scripts/train_lm.py): little endian, 4 bytes "HKGL",
 * int32 version (1), int32 T, int32 V, int32 tokens[T], float32 logits[T][V], where
 * logits[t] follow tokens[0..t] fed from position 0.
 * ---------------------------------------------------------------------------------------- */

typedef struct hekv_llama_golden {
    int32_t n_tokens;  /* T */
    int32_t vocab;     /* V */
    int32_t *tokens;   /* [T] */
    float *logits;     /* [T][V] */
} hekv_llama_golden;

/** Parses a golden-logits file held in data[0..len) (copied; data is not kept).
 *  @return HEKV_OK; HEKV_ERR_ARG (NULL); HEKV_ERR_FORMAT (magic, version, sizes, token ids,
 *          exact length); HEKV_ERR_NOMEM. *out is NULL on failure. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_golden_parse(const uint8_t *data, size_t len,
                                                             hekv_llama_golden **out,
                                                             hekv_err *err);
/** Reads path (a regular file of at most HEKV_LLAMA_GOLDEN_MAX_BYTES) and parses it.
 *  @return as hekv_llama_golden_parse, and HEKV_ERR_IO. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_llama_golden_load(const char *path,
                                                            hekv_llama_golden **out,
                                                            hekv_err *err);
HEKV_API void hekv_llama_golden_free(hekv_llama_golden *g);

#ifdef __cplusplus
}
#endif
#endif
