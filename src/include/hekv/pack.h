/* hekv/pack.h: the public packing API of hekv (Cachemir, arXiv 2602.11470; research/papers.md
 * section 3): the interleaved vector layout, the interleaved replicated packing (IRP)
 * vector-matrix product and its diagonal BSGS baseline, and the packed encrypted K/V cache
 * with its append, QK^T and scores x V steps. Everything here sits on the CKKS API
 * (hekv/ckks.h); the encrypted model (models/) strings these steps together.
 *
 * Conventions. S is the slot count (N/2; every packed ciphertext uses all S slots). A
 * d-vector x (d a power of two, d <= S) is *interleaved* when x_i sits at slot i*t,
 * t = S/d, "stride t"; the vector "at position pos" has x_i at slot i*t + pos. Slot
 * rotations are left rotations: Rot(v, r)[s] = v[(s + r) mod S] (hekv_ckks_eval_rotate).
 * Matrices are real, row-major W[out][in]. Dimensions that are not powers of two are
 * zero-padded to the next power of two.
 *
 * Every operation that takes a hekv_pack_stats adds what it did to it (NULL: not
 * counted), so tests and benchmarks can hold the rotation and product counts against the
 * formulas documented with each function. Objects are opaque handles with _new/_free
 * (free accepts NULL); operations report errors through the evaluator
 * (hekv_ckks_eval_last_error) and constructors through a hekv_err. Objects with scratch (the
 * K/V cache) are not thread-safe: use one per thread. */
#ifndef HEKV_PACK_H
#define HEKV_PACK_H

#include "hekv/ckks.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ counters */

/** What packing operations did (caller-allocated value struct; zero it, pass it to any
 *  number of calls, read it). Rotations are key-switched slot rotations; `hoisted` counts
 *  those of them done in hoisted batches (one decomposition of the input shared by the
 *  batch, hekv_ckks_eval_rotate_hoisted). Plaintext products are split by purpose. */
typedef struct hekv_pack_stats {
    uint64_t rotations;  /**< all key-switched rotations, hoisted included */
    uint64_t hoisted;    /**< of which done in hoisted batches */
    uint64_t pt_mults;   /**< ciphertext x weight-plaintext products */
    uint64_t mask_mults; /**< ciphertext x 0/1 mask-plaintext products */
    uint64_t ct_mults;   /**< ciphertext x ciphertext tensor products */
    uint64_t relins;     /**< relinearisations (one key switch each) */
    uint64_t rescales;   /**< ciphertext rescales */
} hekv_pack_stats;

/* ------------------------------------------------------------------ layout (layout.c) */

/** The smallest power of two >= n (n >= 1; 0 for n = 0 or overflow). */
HEKV_API size_t hekv_pack_pow2(size_t n);

/** Encodes x[0..n) as an interleaved d-vector at position pos into pt (all S slots):
 *  slot i*(S/d) + pos holds x_i for i < n, every other slot holds fill (0 for a clean
 *  vector; tests pass other values to check that masks remove them). n <= d, d a power of
 *  two in [1, S], pos < S/d. Scale and level as in hekv_ckks_encode.
 *  @return HEKV_ERR_ARG (shape), the encoder's errors */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_pack_vec_encode(hekv_encoder *enc, hekv_pt *pt,
                                                         const double *x, size_t n, size_t d,
                                                         size_t pos, double fill, int level,
                                                         double scale, hekv_err *err);
/** Decodes the interleaved d-vector at position pos of pt into x[0..n) (n <= d).
 *  @return HEKV_ERR_ARG (shape), the encoder's errors */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_pack_vec_decode(hekv_encoder *enc, double *x,
                                                         size_t n, size_t d, size_t pos,
                                                         const hekv_pt *pt, hekv_err *err);

/** out = in (.) mask, mask = 1 at slots i*(S/d) + pos (i < d) and 0 elsewhere, encoded at
 *  scale q_level, then rescaled: out is the clean interleaved vector, one level down,
 *  same scale. out may alias in. 1 mask product, 1 rescale.
 *  @return HEKV_ERR_ARG (shape), HEKV_ERR_LEVEL (level 0), the evaluator's errors */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_pack_mask_apply(hekv_eval *ev, hekv_encoder *enc,
                                                         hekv_ct *out, const hekv_ct *in,
                                                         size_t d, size_t pos,
                                                         hekv_pack_stats *st);

/** Head-interleaved feature order (Cachemir section 3.2): with H heads of d_head dims,
 *  packed feature g = l*H + h carries dimension l of head h, model feature h*d_head + l.
 *  Returns the model feature of packed feature g (g < H*d_head). */
HEKV_API size_t hekv_pack_head_feature(size_t n_heads, size_t d_head, size_t g);
/** out[g][:] = w[hekv_pack_head_feature(H, d_head, g)][:] for a [H*d_head][cols] matrix
 *  (the Q, K, V projections' output rows in head-interleaved order). out must not alias w. */
HEKV_API void hekv_pack_heads_permute_rows(double *out, const double *w, size_t n_heads,
                                           size_t d_head, size_t cols);
/** out[:][g] = w[:][hekv_pack_head_feature(H, d_head, g)] for a [rows][H*d_head] matrix
 *  (the O projection's input columns). out must not alias w. */
HEKV_API void hekv_pack_heads_permute_cols(double *out, const double *w, size_t rows,
                                           size_t n_heads, size_t d_head);

/* ------------------------------------------------------------------ RMSNorm, RoPE
 * (rmsnorm.c, rope.c) */

/** RMSNorm's normalization of a clean interleaved d-vector (stride S/d, zero elsewhere):
 *  out = in / sqrt(mean(in^2) + eps) at the vector's slots, 0 elsewhere (the norm weight is
 *  folded into the next products). invsqrt: a 1/sqrt design (hekv_nonlin) on the layer's
 *  calibrated range of mean(x^2) + eps. log2 d rotations, 2 relinearised products; level
 *  in - hekv_pack_rmsnorm_depth, scale of in. out must not alias in.
 *  @return HEKV_ERR_ARG, HEKV_ERR_LEVEL, HEKV_ERR_KEY_MISSING, the evaluator's */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_pack_rmsnorm(hekv_eval *ev, hekv_encoder *enc,
                                                      hekv_ct *out, const hekv_ct *in,
                                                      size_t d, double eps,
                                                      const hekv_nonlin *invsqrt,
                                                      hekv_pack_stats *st);
/** Levels hekv_pack_rmsnorm consumes with this design: 2 + its depth (-1 for NULL). */
HEKV_API int hekv_pack_rmsnorm_depth(const hekv_nonlin *invsqrt);

/** Rotary position embedding at position pos (rotation base theta, 10000 for LLaMA) of a
 *  head-interleaved vector of n_heads heads x d_head dims at stride S/(n_heads d_head) and
 *  slot offset off (queries: 0; keys in their own layout: n_kv_heads heads, the append
 *  position): 2 rotations (by +-n_heads S/(n_heads d_head)), 3 plaintext products, one
 *  level; out is clean (0 outside the vector's slots) whatever in holds there. out must
 *  not alias in. @return HEKV_ERR_ARG, HEKV_ERR_LEVEL, HEKV_ERR_KEY_MISSING */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_pack_rope(hekv_eval *ev, hekv_encoder *enc,
                                                   hekv_ct *out, const hekv_ct *in,
                                                   size_t n_heads, size_t d_head, size_t off,
                                                   long pos, double theta,
                                                   hekv_pack_stats *st);

/** SwiGLU's gate: out = SiLU(h1) (.) h3 for clean h1 = W1 x and h3 = W3 x (same layout);
 *  silu a design on the layer's calibrated range of W1 x. Level min(h1 - design depth,
 *  h3) - 1, scale of h3 (when h3 is at or below the gate's level). out may alias h1.
 *  @return HEKV_ERR_ARG, HEKV_ERR_LEVEL, HEKV_ERR_KEY_MISSING */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_pack_swiglu(hekv_eval *ev, hekv_ct *out,
                                                     const hekv_ct *h1, const hekv_ct *h3,
                                                     const hekv_nonlin *silu,
                                                     hekv_pack_stats *st);
/** Levels the gate takes from h1: the design's depth + 1 (-1 for NULL). */
HEKV_API int hekv_pack_swiglu_depth(const hekv_nonlin *silu);

/* ------------------------------------------------------------------ IRP (irp.c) */

/** y = W x for one encrypted interleaved vector by interleaved replicated packing, with
 *  the weight plaintexts (generalised diagonals, each holding S distinct weights) encoded
 *  once, in NTT form. See irp.c for the derivation; the steps are
 *    1. preprocess: log2 t_in rotate-and-adds replicate x inside its t_in-slot blocks;
 *    2. baby steps: M-1 hoisted rotations by multiples of t_in*t_out;
 *    3. K = d_in*d_out/S plaintext products, accumulated per giant step;
 *    4. giant steps: G-1 rotations by multiples of M*t_in*t_out (M*G = K);
 *    5. the fold: log2 t_out rotate-and-adds sum each t_out block, then one rescale,
 *  so output y_l lands at slot l*t_out + pos: the interleaved layout of d_out, and
 *  layers chain (after a mask: the other slots hold partial sums).
 *  Rotations: log2 t_in + log2 t_out + (M-1) + (G-1). Products: K. Depth 1.
 *  When d_in*d_out < S (fewer weights than slots) one product suffices: the replication
 *  and fold then cover only d_in slots per output, log2 d_in + log2 d_out rotations
 *  (pos = 0; any other pos folds the whole t_out block: log2 t_out instead of the fold's
 *  share). */
typedef struct hekv_pack_irp hekv_pack_irp;

/** Facts about a built IRP product. */
typedef struct hekv_pack_irp_info {
    size_t d_in, d_out;           /**< padded to powers of two */
    size_t d_in_real, d_out_real; /**< as given */
    size_t slots, t_in, t_out;    /**< S, S/d_in, S/d_out */
    size_t k, m, g;               /**< products, baby steps, giant steps (m*g = k) */
    size_t rotations;             /**< rotations of one apply at pos = 0 */
    size_t bytes;                 /**< memory held by the weight (and mask) plaintexts */
    int level;                    /**< level of the weight plaintexts */
} hekv_pack_irp_info;

/** Builds the product for W (d_out x d_in reals, row-major, any sizes in [1, S] whose
 *  padded product fits: d_in, d_out <= S), encoding K weight plaintexts at `level` with
 *  scale q_level (so the output keeps the input's scale) and one output mask at level-1.
 *  baby = number of baby steps M (a power of two dividing K), or 0 to choose the split of
 *  least cost: (M-1) hoisted rotations at HEKV_PACK_HOIST_COST of a full one, plus G-1.
 *  @return HEKV_ERR_ARG (sizes, level < 1, baby), the encoder's errors, HEKV_ERR_NOMEM */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_pack_irp_new(hekv_encoder *enc, const double *w,
                                                      size_t d_out, size_t d_in, int level,
                                                      size_t baby, hekv_pack_irp **out,
                                                      hekv_err *err);
HEKV_API void hekv_pack_irp_free(hekv_pack_irp *irp);
HEKV_API void hekv_pack_irp_get_info(const hekv_pack_irp *irp, hekv_pack_irp_info *info);

/** Cost of a hoisted rotation after the first, relative to a full rotation (measured:
 *  rotate_hoisted_extra / rotate in results/ckks.csv, 85 / 137 ms at N = 2^16). */
#define HEKV_PACK_HOIST_COST 0.6

/** Flags of hekv_pack_irp_rotations and hekv_pack_irp_apply. */
#define HEKV_PACK_ANY_POS 1u /**< rotations: also the keys of every output position */
#define HEKV_PACK_CLEAN 2u   /**< apply: mask the output (one more level) */

/** The left rotations one apply needs keys for (pos = 0; with HEKV_PACK_ANY_POS those of
 *  every pos too), distinct, each in [1, S). Writes up to cap to rots (may be NULL) and
 *  returns how many there are. */
HEKV_API size_t hekv_pack_irp_rotations(const hekv_pack_irp *irp, unsigned flags, long *rots,
                                        size_t cap);

/** out = W x: `in` holds x interleaved at stride t_in (clean: zero outside slots i*t_in)
 *  at a level >= 1 (the weights' level or any other: the product is taken at the lower of
 *  the two); out holds y at slots l*t_out + pos, one level below, scale
 *  in.scale * q_level / q_(level) (= in.scale at the weights' level). The other slots of
 *  out hold partial sums unless flags has HEKV_PACK_CLEAN, which masks them to zero (one
 *  mask product, one more level). pos < t_out places y for the K/V cache append with no
 *  extra rotation: fold step r rotates by -r where bit r of pos is set. out must not alias
 *  in. Counts: see hekv_pack_irp; + 1 rescale (+ 1 mask product and rescale when clean).
 *  @return HEKV_ERR_ARG (layout, pos, aliasing), HEKV_ERR_LEVEL, HEKV_ERR_KEY_MISSING */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_pack_irp_apply(hekv_eval *ev, hekv_ct *out,
                                                        const hekv_ct *in,
                                                        const hekv_pack_irp *irp, size_t pos,
                                                        unsigned flags, hekv_pack_stats *st);
/** The level hekv_pack_irp_apply leaves its output at for an input at in_level with these
 *  flags: min(in_level, the weights' level) - 1 - (clean), or -1 where the apply refuses
 *  the input (HEKV_ERR_LEVEL): what a level planner places bootstraps by. */
HEKV_API int hekv_pack_irp_out_level(const hekv_pack_irp *irp, int in_level, unsigned flags);

/** A re-interleaving: the identity as an IRP product from the d_from layout to the d_to
 *  layout (truncating or zero-padding), e.g. to move a vector between layers of
 *  different width. Same costs as any IRP product of that shape. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_pack_reinterleave_new(hekv_encoder *enc,
                                                               size_t d_from, size_t d_to,
                                                               int level, hekv_pack_irp **out,
                                                               hekv_err *err);

/* ------------------------------------------------------------------ baseline (matvec.c) */

/** The diagonal (Halevi-Shoup) method with baby-step giant-step, for comparison: W padded
 *  to a D x D square, D = max(d_in, d_out) padded to a power of two, its D generalised
 *  diagonals in a hekv_ckks_lintrans over D slots (x encrypted with D slots, i.e.
 *  replicated S/D times). Rotations: (n1-1) + (D/n1-1) with n1 chosen by the lintrans;
 *  products: D. */
typedef struct hekv_pack_bsgs hekv_pack_bsgs;

HEKV_API HEKV_MUST_CHECK hekv_status hekv_pack_bsgs_new(hekv_encoder *enc, const double *w,
                                                       size_t d_out, size_t d_in, int level,
                                                       hekv_pack_bsgs **out, hekv_err *err);
HEKV_API void hekv_pack_bsgs_free(hekv_pack_bsgs *b);
/** D: the slot count of the baseline's input and output ciphertexts. */
HEKV_API size_t hekv_pack_bsgs_slots(const hekv_pack_bsgs *b);
HEKV_API size_t hekv_pack_bsgs_rotations(const hekv_pack_bsgs *b, long *rots, size_t cap);
HEKV_API size_t hekv_pack_bsgs_products(const hekv_pack_bsgs *b);
HEKV_API size_t hekv_pack_bsgs_bytes(const hekv_pack_bsgs *b);
/** out = W x rescaled: in holds x (zero-padded to D) in D slots; out holds y in its first
 *  d_out of D slots, one level down. out must not alias in. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_pack_bsgs_apply(hekv_eval *ev, hekv_ct *out,
                                                         const hekv_ct *in,
                                                         const hekv_pack_bsgs *b,
                                                         hekv_pack_stats *st);

/* ------------------------------------------------------------------ K/V cache (kvcache.c) */

/** The packed, encrypted K and V caches of one attention layer (Cachemir section 3.2,
 *  extended to grouped-query attention), with the shape
 *    d model width, H query heads, Hk K/V heads (H/Hk = gamma queries share one K/V head),
 *    d_h = d/H, d_kv = Hk*d_h, t = S/d, t_kv = S/d_kv = gamma*t, B = S/Hk tokens per block,
 *  all powers of two. Queries are d-vectors and keys/values d_kv-vectors in the
 *  head-interleaved order (hekv_pack_head_feature), interleaved at stride t and t_kv:
 *  feature l*Hk + h' of a key sits at slot (l*H + h'*gamma)*t, next to the features of the
 *  gamma query heads h'*gamma + e that use it. Token n has block b = n / B, in-block index
 *  i = n mod B, row q' = i / t_kv and position r = n mod t_kv.
 *
 *  K cache: ciphertext c holds tokens c*t_kv .. c*t_kv + t_kv - 1; feature g' of token n
 *    at slot g'*t_kv + r. One ciphertext per t_kv tokens.
 *  V cache: block b has d_h "diagonal" ciphertexts; feature g' = l*Hk + h' of token n goes
 *    to ciphertext (q' - l) mod d_h of its block, at slot g'*t_kv + r. d_h ciphertexts per
 *    B tokens: the same count as K for a full block, no duplication across query heads.
 *  Scores: for each group offset e < gamma and block b one ciphertext S[e][b] (index
 *    e*nblocks + b) with the score of query head h'*gamma + e and token b*B + c*t_kv + u
 *    at slot (c*Hk + h')*t_kv + u (c < d_h, u < t_kv); slots of tokens not in the cache
 *    hold 0. The softmax is per query head over these slots (all blocks, one e).
 *
 *  Levels: each cache keeps one level and scale, set by its first append (or import);
 *  later appends must match (a higher level is dropped). Appends consume one level (the
 *  mask); QK^T two below min(level(q), level(K)) (product, mask; +1 for the query masks
 *  when gamma > 1); scores x V one below min(level(scores), level(V)) (+1 for the
 *  sub-block masks when gamma > 1). */
typedef struct hekv_pack_kv hekv_pack_kv;

/** Shape and state of a cache. */
typedef struct hekv_pack_kv_info {
    size_t slots, d, n_heads, n_kv_heads, d_head, d_kv, group, t, t_kv, block_tokens;
    size_t k_tokens, v_tokens; /**< tokens appended to each cache */
    size_t k_cts, v_cts;       /**< ciphertexts held */
    size_t blocks;             /**< V blocks: ceil(v_tokens / block_tokens) */
    int k_level, v_level;      /**< -1 while empty */
    double k_scale, v_scale;
    size_t bytes;              /**< memory of the cached ciphertexts */
} hekv_pack_kv_info;

/** An empty cache for d = n_heads * d_head (all powers of two, n_kv_heads dividing
 *  n_heads, d <= S). store_level >= 0 drops appended entries to that level (they are kept
 *  as appended when -1). The cache owns an encoder for its masks.
 *  @return HEKV_ERR_ARG (shape), HEKV_ERR_NOMEM */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_pack_kv_new(const hekv_ckks_params *p, size_t d,
                                                     size_t n_heads, size_t n_kv_heads,
                                                     int store_level, hekv_pack_kv **out,
                                                     hekv_err *err);
HEKV_API void hekv_pack_kv_free(hekv_pack_kv *kv);
HEKV_API void hekv_pack_kv_get_info(const hekv_pack_kv *kv, hekv_pack_kv_info *info);

/** K ciphertext c (c < k_cts) and V ciphertext (block b, diagonal j) (b*d_head + j <
 *  v_cts), as held by the cache (borrowed; NULL out of range): what a client decrypts to
 *  read a cache back, and what tests compare against hekv_pack_kv_k_slots / _v_slots. */
HEKV_API const hekv_ct *hekv_pack_kv_k_ct(const hekv_pack_kv *kv, size_t c);
HEKV_API const hekv_ct *hekv_pack_kv_v_ct(const hekv_pack_kv *kv, size_t b, size_t j);

/** The position the next token's K and V projections must be folded to
 *  (hekv_pack_irp_apply's pos): k_tokens mod t_kv and v_tokens mod t_kv. */
HEKV_API size_t hekv_pack_kv_next_pos_k(const hekv_pack_kv *kv);
HEKV_API size_t hekv_pack_kv_next_pos_v(const hekv_pack_kv *kv);

/** Appends one token's key: k holds the key at slots g'*t_kv + pos, pos =
 *  hekv_pack_kv_next_pos_k (the K projection folded there: no rotation), anything
 *  elsewhere. Masks it (1 mask product, 1 rescale) and adds it to the last K ciphertext,
 *  or starts a new one. 0 rotations.
 *  @return HEKV_ERR_LEVEL / HEKV_ERR_SCALE (does not match the cache), evaluator errors */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_pack_kv_append_k(hekv_eval *ev, hekv_pack_kv *kv,
                                                          const hekv_ct *k,
                                                          hekv_pack_stats *st);
/** Appends one token's value, held like k at position hekv_pack_kv_next_pos_v: d_h mask
 *  products (one per diagonal ciphertext of the block, each selecting the features of one
 *  l), d_h rescales and adds; a new block starts with d_h new ciphertexts. 0 rotations. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_pack_kv_append_v(hekv_eval *ev, hekv_pack_kv *kv,
                                                          const hekv_ct *v,
                                                          hekv_pack_stats *st);
/** The level an entry appended at in_level is stored at in the K (v = 0) or V (v = 1)
 *  cache: the cache's level once it holds one, else in_level - 1 (at most the store
 *  level); -1 where the append refuses it (HEKV_ERR_LEVEL: it would land below the
 *  cache's level, or in_level < 1). */
HEKV_API int hekv_pack_kv_entry_level(const hekv_pack_kv *kv, int v, int in_level);

/** The slot vector (S values) of K ciphertext c or of V ciphertext (block b, diagonal j)
 *  for plaintext keys/values kv[n][d_kv] (head-interleaved features): what the cache
 *  holds, for a client that imports a known prefix and for tests. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_pack_kv_k_slots(const hekv_pack_kv *kv,
                                                         const double *keys, size_t n,
                                                         size_t c, double *slots);
HEKV_API HEKV_MUST_CHECK hekv_status hekv_pack_kv_v_slots(const hekv_pack_kv *kv,
                                                         const double *values, size_t n,
                                                         size_t b, size_t j, double *slots);
/** Replaces the contents of an empty cache with n_k keys and n_v values given as
 *  ciphertexts of hekv_pack_kv_k_slots / _v_slots (copied; k_cts[ceil(n_k/t_kv)],
 *  v_cts[ceil(n_v/B)*d_h] in block-major order), each cache at one level and scale.
 *  @return HEKV_ERR_ARG (counts, non-empty cache), HEKV_ERR_LEVEL/SCALE (mixed) */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_pack_kv_import(hekv_eval *ev, hekv_pack_kv *kv,
                                                        size_t n_k, const hekv_ct *const *k_cts,
                                                        size_t n_v,
                                                        const hekv_ct *const *v_cts);

/** Number of score ciphertexts for the current K cache: gamma * ceil(k_tokens / B). */
HEKV_API size_t hekv_pack_kv_score_count(const hekv_pack_kv *kv);

/** The left rotations QK^T and scores x V need keys for (plus the relinearisation key),
 *  distinct, in [1, S). Writes up to cap of them to rots and returns the count. */
HEKV_API size_t hekv_pack_kv_rotations(const hekv_pack_kv *kv, long *rots, size_t cap);

/** Scores of one query against the whole K cache. q holds the query interleaved at stride
 *  t, clean (zero elsewhere). scores[0..nscores) (nscores = hekv_pack_kv_score_count)
 *  receive the score ciphertexts described at hekv_pack_kv. Steps and counts, n_c = K
 *  ciphertexts:
 *    replicate q in its t-slot blocks: log2 t rotations;
 *    gamma > 1: per e one mask product (heads h = e mod gamma) and log2 gamma
 *      rotate-and-adds that copy it over the gamma sub-blocks of each K/V head;
 *    per K ciphertext and e: one product with relinearisation and rescale, log2 d_h
 *      rotations summing the d_h features of each head, one block mask;
 *    one rescale per score ciphertext.
 *  Rotations log2 t + gamma*log2 gamma + n_c*gamma*log2 d_h; ct products n_c*gamma
 *  (1/t per token). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_pack_kv_qkt(hekv_eval *ev, hekv_pack_kv *kv,
                                                     hekv_ct *const *scores, size_t nscores,
                                                     const hekv_ct *q, hekv_pack_stats *st);
/** The level of the scores hekv_pack_kv_qkt returns for a query at q_level against the
 *  cache as it is: min(q_level - (gamma > 1), K's level) - 2; -1 where it refuses (K cache
 *  empty, or too low). */
HEKV_API int hekv_pack_kv_qkt_out_level(const hekv_pack_kv *kv, int q_level);

/** out = scores x V for every query head: out holds the attention output (before the O
 *  projection) interleaved at stride t in head-interleaved order, feature l*H + h at slot
 *  (l*H + h)*t: the layout the O projection consumes. Per e: for every block b the d_h - 1
 *  hoisted rotations of S[e][b] by multiples of Hk*t_kv and d_h tensor products with the
 *  diagonal ciphertexts, accumulated unrelinearised over all blocks; one relinearisation
 *  and rescale; log2 gamma rotate-and-adds folding the gamma sub-blocks to sub-block e and
 *  (gamma > 1) a mask of that sub-block. Then (gamma > 1) one rescale and log2 t
 *  rotate-and-adds fold the t-slot blocks. Rotations
 *  nblocks*gamma*(d_h - 1) + gamma*log2 gamma + log2 t; ct products nblocks*gamma*d_h
 *  (flat inside a block); relinearisations gamma; masks gamma when gamma > 1. Levels: one
 *  below min(level(scores), level(V)), two when gamma > 1. Other slots hold partial sums
 *  unless flags has HEKV_PACK_CLEAN (one more mask level). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_pack_kv_attn_v(hekv_eval *ev, hekv_pack_kv *kv,
                                                        hekv_ct *out,
                                                        const hekv_ct *const *scores,
                                                        size_t nscores, unsigned flags,
                                                        hekv_pack_stats *st);
/** The level of hekv_pack_kv_attn_v's output for scores at scores_level: min(scores_level,
 *  V's level) - 1 - (gamma > 1) - (clean); -1 where it refuses (V cache empty, too low). */
HEKV_API int hekv_pack_kv_attn_v_out_level(const hekv_pack_kv *kv, int scores_level,
                                           unsigned flags);

/** The attention softmax without a plaintext max (normalize-and-square, packing/softmax.c),
 *  as designed and simulated by the model layer (hekv_llama_nsoftmax_plan): per query head
 *  a shift B_h above its scores, e^u on u = (s - B_h)/2^k, and k + 1 reciprocals, the i-th
 *  on n * (the head's sum of sigma^2) (i > 0) or on the sum of e^u (i = 0). */
typedef struct hekv_pack_softmax {
    int steps;                       /**< k >= 0 */
    const double *shift;             /**< [n_heads] B_h */
    const hekv_nonlin *exp;          /**< e^u */
    const hekv_nonlin *const *recip; /**< [steps + 1] */
} hekv_pack_softmax;

/** Levels hekv_pack_kv_softmax consumes: d_exp + 1 + sum_i (d_recip_i + 2) + steps (-1 for
 *  an incomplete design; kv may be NULL); the output level for scores at scores_level (-1:
 *  too low). */
HEKV_API int hekv_pack_kv_softmax_depth(const hekv_pack_kv *kv, const hekv_pack_softmax *sm);
HEKV_API int hekv_pack_kv_softmax_out_level(const hekv_pack_kv *kv, const hekv_pack_softmax *sm,
                                            int scores_level);
/** The left rotations the softmax needs keys for (plus the relinearisation key). */
HEKV_API size_t hekv_pack_kv_softmax_rotations(const hekv_pack_kv *kv, long *rots, size_t cap);
/** In place: the score ciphertexts of hekv_pack_kv_qkt (one level and scale) become the
 *  attention probabilities of every query head over the n cached tokens, in the same
 *  layout, 0 at the slots of tokens not in the cache: what hekv_pack_kv_attn_v takes.
 *  Per group offset and normalization: log2 d_h + 2 log2 t_kv rotations, one mask.
 *  @return HEKV_ERR_ARG (count, design), HEKV_ERR_LEVEL (fewer levels than the depth),
 *          HEKV_ERR_SCALE, HEKV_ERR_KEY_MISSING, the evaluator's */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_pack_kv_softmax(hekv_eval *ev, hekv_pack_kv *kv,
                                                         hekv_ct *const *scores,
                                                         size_t nscores,
                                                         const hekv_pack_softmax *sm,
                                                         hekv_pack_stats *st);

/** Serializes both caches (shape, counts, every ciphertext in the CKKS format) into out
 *  (free with hekv_buf_free), a HEKV_OBJ_KVCACHE container; the body is described in
 *  kvcache_serial.c. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_pack_kv_save(const hekv_pack_kv *kv, hekv_buf *out,
                                                      hekv_err *err);
/** Loads a cache saved by hekv_pack_kv_save under parameters p, checking the container,
 *  the shape, the counts against each other (the K cache and the V cache hold the same
 *  number of tokens, the ciphertext counts match the token counts) and every ciphertext.
 *  @return HEKV_ERR_FORMAT (truncated, corrupted, inconsistent), HEKV_ERR_PARAMS (saved
 *          under another parameter set), HEKV_ERR_NOMEM */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_pack_kv_load(const hekv_ckks_params *p,
                                                      const uint8_t *data, size_t len,
                                                      hekv_pack_kv **out, hekv_err *err);

#ifdef __cplusplus
}
#endif
#endif
