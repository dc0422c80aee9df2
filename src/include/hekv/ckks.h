/* hekv/ckks.h: the public RNS-CKKS API of hekv that a server needs: parameter sets with a
 * security check, the encoder, public keys and evaluation keys, public-key encryption,
 * homomorphic evaluation (arithmetic, rescaling, rotations, hoisting, key switching, BSGS
 * linear transforms, Chebyshev polynomials and the transformer nonlinearities built on
 * them) and serialization. What needs the secret key (key generation, secret-key
 * encryption, decryption) is in hekv/ckks_client.h, so server code can be built without
 * it (STYLE R17). Everything above this layer (bootstrapping, packing, the encrypted model,
 * the CLI) uses only these two headers and, inside the library, the documented extension
 * header src/ckks/ckks_ext.h.
 *
 * Conventions (STYLE R10-R14): objects are opaque handles with _new/_free (free accepts
 * NULL); fallible calls return hekv_status; evaluator calls write a readable message into
 * the evaluator (hekv_ckks_eval_last_error), every other call into the hekv_err it is
 * given; outputs come first; an output ciphertext may alias an input unless a comment says
 * not. Loaders allocate what they load (`..._load(..., T **out, err)`); savers fill a
 * hekv_buf the caller frees with hekv_buf_free (which wipes it).
 * Levels count down: a ciphertext at level l has l+1 limbs (primes q_0..q_l); rescale
 * drops q_l and divides the scale by it. Scales are tracked in doubles and must match to a
 * relative 2^-40 (HEKV_CKKS_SCALE_RTOL) where an operation adds or subtracts. */
#ifndef HEKV_CKKS_H
#define HEKV_CKKS_H

#include "hekv/base.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HEKV_CKKS_MAX_Q 64      /**< most ciphertext primes in a set */
#define HEKV_CKKS_MAX_P 16      /**< most special (key-switching) primes */
#define HEKV_CKKS_SCALE_RTOL 0x1p-40
#define HEKV_CKKS_MAX_PRIME_BITS 50 /**< primes stay below 2^50 for the IFMA kernels */

/* ------------------------------------------------------------------ parameters */

typedef enum {
    HEKV_SECRET_TERNARY = 0, /**< uniform in {-1,0,1}^N */
    HEKV_SECRET_SPARSE = 1   /**< exactly `hw` non-zero ternary coefficients */
} hekv_secret_dist;

/** An unchecked parameter literal (STYLE R13). Named sets come from
 *  hekv_ckks_params_lit_named; hekv_ckks_params_new generates the primes and checks it. */
typedef struct hekv_ckks_params_lit {
    char name[32];          /**< set name, printed and hashed into the fingerprint */
    int logn;               /**< ring degree N = 2^logn, 10..17 */
    int nq;                 /**< number of ciphertext primes (levels + 1) */
    int logq[HEKV_CKKS_MAX_Q]; /**< bit size of q_0..q_{nq-1}; q_0 is the base prime */
    int np;                 /**< number of special primes */
    int logp[HEKV_CKKS_MAX_P]; /**< bit size of p_0..p_{np-1} */
    int dnum;               /**< key-switching digits: q primes split into dnum groups of
                                 alpha = ceil(nq / dnum) consecutive primes */
    int log_scale;          /**< default scale 2^log_scale */
    hekv_secret_dist secret;
    int hw;                 /**< Hamming weight for HEKV_SECRET_SPARSE */
    double sigma;           /**< error standard deviation (3.19) */
    int insecure;           /**< 1: build even if log2(QP) exceeds the 128-bit bound
                                 (toy-* and bench-* sets only; never a default) */
} hekv_ckks_params_lit;

/** Run-time options of a built set: how it computes, never what (both kernel sets give
 *  the same bits, any thread count the same results), so they are not part of the
 *  literal or of the set's fingerprint. Zero fields take the defaults. */
typedef struct hekv_ckks_opts {
    hekv_isa isa; /**< kernel set of the set's rings (AUTO honours HEKV_KERNELS) */
    int threads;  /**< OpenMP threads over limbs for the encoders, key generation and, by
                       default, the evaluators built on the set (<= 0: HEKV_THREADS or 1;
                       an evaluator may change its own: hekv_ckks_eval_set_threads) */
} hekv_ckks_opts;

/** Fills lit with the built-in set `name` (see hekv_ckks_params_names); toy-* and bench-*
 *  sets come with insecure = 1 because asking for them by name is the explicit request.
 *  @return HEKV_ERR_ARG for an unknown name (the message lists the known ones). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_params_lit_named(const char *name,
                                                               hekv_ckks_params_lit *lit,
                                                               hekv_err *err);
/** The built-in set names, NULL-terminated. */
HEKV_API const char *const *hekv_ckks_params_names(void);
/** 1 when `name` asks for a weak set explicitly (toy-* or bench-*): the only names whose
 *  literals may carry insecure = 1. */
HEKV_API int hekv_ckks_params_name_is_insecure(const char *name);

/** The 128-bit classical bound on log2(QP) for ring degree 2^logn and the secret
 *  distribution (HE standard for ternary; 0 when no bound is known, e.g. sparse secrets
 *  or logn outside 10..16). For logn 16 the conservative 1714 is used (1747 published). */
HEKV_API int hekv_ckks_security_bound(int logn, hekv_secret_dist secret);

typedef struct hekv_ckks_params hekv_ckks_params;

/** Generates the primes (distinct, = 1 mod 2N, < 2^50, closest below 2^bits), builds the
 *  rings and the key-switching plans, and checks security: a literal whose log2(QP)
 *  exceeds hekv_ckks_security_bound, whose secret has no known bound (sparse), or whose
 *  error width sigma is below the standard 3.19 (HEKV_GAUSS_SIGMA; wider is allowed, it
 *  only makes the problem harder) is refused with HEKV_ERR_INSECURE unless lit->insecure
 *  is set, and insecure is honoured only for toy-* and bench-* names
 *  (hekv_ckks_params_name_is_insecure). opts may be NULL (defaults).
 *  @return HEKV_ERR_ARG / HEKV_ERR_PARAMS (malformed), HEKV_ERR_INSECURE, HEKV_ERR_NOMEM */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_params_new(const hekv_ckks_params_lit *lit,
                                                         const hekv_ckks_opts *opts,
                                                         hekv_ckks_params **out,
                                                         hekv_err *err);
HEKV_API void hekv_ckks_params_free(hekv_ckks_params *p);

HEKV_API const char *hekv_ckks_params_name(const hekv_ckks_params *p);
HEKV_API int hekv_ckks_params_logn(const hekv_ckks_params *p);
HEKV_API size_t hekv_ckks_params_n(const hekv_ckks_params *p);
HEKV_API size_t hekv_ckks_params_max_slots(const hekv_ckks_params *p); /**< N/2 */
HEKV_API int hekv_ckks_params_max_level(const hekv_ckks_params *p);    /**< nq - 1 */
HEKV_API int hekv_ckks_params_np(const hekv_ckks_params *p);
HEKV_API int hekv_ckks_params_dnum(const hekv_ckks_params *p);
HEKV_API double hekv_ckks_params_default_scale(const hekv_ckks_params *p);
HEKV_API uint64_t hekv_ckks_params_q(const hekv_ckks_params *p, int i);
HEKV_API uint64_t hekv_ckks_params_p(const hekv_ckks_params *p, int i);
/** log2(Q*P) of the generated primes. */
HEKV_API double hekv_ckks_params_log_qp(const hekv_ckks_params *p);
/** 1 when the set passes every 128-bit check: uniform ternary secret, log2(QP) within the
 *  bound, sigma >= 3.19 (an insecure-flagged toy set can still pass them). */
HEKV_API int hekv_ckks_params_secure(const hekv_ckks_params *p);
/** Bytes of one switching key (relinearisation or one rotation), uncompressed. */
HEKV_API size_t hekv_ckks_params_swk_bytes(const hekv_ckks_params *p);
/** 16-byte fingerprint of everything that must match between files and decides security:
 *  name, N, primes, dnum, secret distribution and weight, sigma, the insecure flag, the
 *  default scale and the format version. */
HEKV_API const uint8_t *hekv_ckks_params_fingerprint(const hekv_ckks_params *p);
/** The default thread count (hekv_ckks_opts.threads, resolved). */
HEKV_API int hekv_ckks_params_threads(const hekv_ckks_params *p);
/** "avx512" or "scalar": the kernel set the set's rings use for its primes. */
HEKV_API const char *hekv_ckks_params_kernels(const hekv_ckks_params *p);

/** Galois element of a left rotation by k slots (any k; taken mod N/2): 5^k mod 2N. */
HEKV_API uint64_t hekv_ckks_galois_rot(const hekv_ckks_params *p, long k);
/** Galois element of complex conjugation: 2N - 1. */
HEKV_API uint64_t hekv_ckks_galois_conj(const hekv_ckks_params *p);

/* ------------------------------------------------------------------ keys */

/* Keys are generated by the client (hekv/ckks_client.h); a server holds the public ones. */
typedef struct hekv_pk hekv_pk;   /**< public encryption key */
typedef struct hekv_swk hekv_swk; /**< a switching key from one secret to another */
typedef struct hekv_evk hekv_evk; /**< the evaluation-key bundle a server loads:
                                       relinearisation, Galois and tagged switching keys */

HEKV_API void hekv_ckks_pk_free(hekv_pk *pk);

HEKV_API void hekv_ckks_swk_free(hekv_swk *k);
/** The highest level k switches at, and the number of special primes it uses. */
HEKV_API int hekv_ckks_swk_max_level(const hekv_swk *k);
HEKV_API int hekv_ckks_swk_special(const hekv_swk *k);
/** Bytes k holds in memory. */
HEKV_API size_t hekv_ckks_swk_bytes(const hekv_swk *k);

/** An empty evaluation-key set. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_evk_new(const hekv_ckks_params *p,
                                                      hekv_evk **out, hekv_err *err);
HEKV_API void hekv_ckks_evk_free(hekv_evk *evk);
/** Adds the switching key k under tag (a name the caller chooses, e.g. bootstrapping's
 *  encapsulation keys); the set owns k afterwards (also on failure) and replaces a key of
 *  the same tag. @return HEKV_ERR_PARAMS (k of another set), HEKV_ERR_NOMEM */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_evk_add_swk(hekv_evk *evk, uint32_t tag,
                                                          hekv_swk *k, hekv_err *err);
/** The switching key of tag, or NULL. */
HEKV_API const hekv_swk *hekv_ckks_evk_swk(const hekv_evk *evk, uint32_t tag);
HEKV_API int hekv_ckks_evk_has_relin(const hekv_evk *evk);
HEKV_API int hekv_ckks_evk_has_galois(const hekv_evk *evk, uint64_t galois);
/** The highest level the relinearisation key (Galois key of galois) switches at, or -1
 *  when there is none. */
HEKV_API int hekv_ckks_evk_relin_level(const hekv_evk *evk);
HEKV_API int hekv_ckks_evk_galois_level(const hekv_evk *evk, uint64_t galois);
/** Number of Galois keys held, and element i of them (0 <= i < count). */
HEKV_API size_t hekv_ckks_evk_galois_count(const hekv_evk *evk);
HEKV_API uint64_t hekv_ckks_evk_galois_elt(const hekv_evk *evk, size_t i);
/** Number of tagged switching keys held, and the tag of key i. */
HEKV_API size_t hekv_ckks_evk_swk_count(const hekv_evk *evk);
HEKV_API uint32_t hekv_ckks_evk_swk_tag(const hekv_evk *evk, size_t i);
/** Bytes every key of the set holds in memory. */
HEKV_API size_t hekv_ckks_evk_bytes(const hekv_evk *evk);
/** The parameter set evk belongs to (NULL for NULL). */
HEKV_API const hekv_ckks_params *hekv_ckks_evk_params(const hekv_evk *evk);

/** A key request: the evaluation keys a computation needs, each at the highest level it
 *  is used at. Server-side planners fill it (bootstrapping: hekv_boot_keyreq; the packed
 *  model), the client generates exactly these keys from it (hekv_ckks_evk_gen_request in
 *  hekv/ckks_client.h), and the server checks a loaded key set against it before any
 *  work. Asking twice for a key keeps the higher level. */
typedef struct hekv_ckks_keyreq hekv_ckks_keyreq;

HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_keyreq_new(const hekv_ckks_params *p,
                                                         hekv_ckks_keyreq **out,
                                                         hekv_err *err);
HEKV_API void hekv_ckks_keyreq_free(hekv_ckks_keyreq *r);
/** The relinearisation key up to `level`. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_keyreq_relin(hekv_ckks_keyreq *r, int level,
                                                           hekv_err *err);
/** The Galois key of element galois (odd, 1 < galois < 2N) up to `level`. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_keyreq_galois(hekv_ckks_keyreq *r,
                                                            uint64_t galois, int level,
                                                            hekv_err *err);
/** The key a left rotation by k of ciphertexts of `slots` slots looks up
 *  (hekv_ckks_galois_rot(k)) up to `level`; nothing when k = 0 mod slots. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_keyreq_rotation(hekv_ckks_keyreq *r, long k,
                                                              size_t slots, int level,
                                                              hekv_err *err);
/** A sparse-secret encapsulation pair: a fresh secret s' of weight hw, a switching key
 *  s -> s' at level 0 in q_0 p_0 only (tag_to) and s' -> s up to from_level (tag_from). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_keyreq_encapsulation(hekv_ckks_keyreq *r,
                                                                   int hw, uint32_t tag_to,
                                                                   uint32_t tag_from,
                                                                   int from_level,
                                                                   hekv_err *err);
/** Adds everything src asks for to dst (same parameter set). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_keyreq_merge(hekv_ckks_keyreq *dst,
                                                           const hekv_ckks_keyreq *src,
                                                           hekv_err *err);
/** The relinearisation level asked for (-1: none), the Galois keys asked for (sorted by
 *  element) and their levels, the encapsulation weight (0: none). */
HEKV_API int hekv_ckks_keyreq_relin_level(const hekv_ckks_keyreq *r);
HEKV_API size_t hekv_ckks_keyreq_galois_count(const hekv_ckks_keyreq *r);
HEKV_API uint64_t hekv_ckks_keyreq_galois_elt(const hekv_ckks_keyreq *r, size_t i);
HEKV_API int hekv_ckks_keyreq_galois_level(const hekv_ckks_keyreq *r, size_t i);
HEKV_API int hekv_ckks_keyreq_encaps_hw(const hekv_ckks_keyreq *r);
/** Bytes the requested keys take in memory once generated. */
HEKV_API size_t hekv_ckks_keyreq_bytes(const hekv_ckks_keyreq *r);
/** HEKV_OK when evk holds every requested key at its level, else HEKV_ERR_KEY_MISSING with
 *  a message naming the first key that is missing or too low. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_keyreq_check(const hekv_ckks_keyreq *r,
                                                           const hekv_evk *evk,
                                                           hekv_err *err);

/* ------------------------------------------------------------------ plaintexts, ciphertexts */

typedef struct hekv_pt hekv_pt; /**< encoded message: NTT form over q_0..q_level */
typedef struct hekv_ct hekv_ct; /**< ciphertext (c0, c1) in NTT form over q_0..q_level */

/** An empty plaintext/ciphertext of the set (level -1); operations size their outputs. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_pt_new(const hekv_ckks_params *p, hekv_pt **out,
                                                hekv_err *err);
HEKV_API void hekv_ckks_pt_free(hekv_pt *pt); /**< wipes: a plaintext may be secret */
HEKV_API int hekv_ckks_pt_level(const hekv_pt *pt);
HEKV_API double hekv_ckks_pt_scale(const hekv_pt *pt);
HEKV_API size_t hekv_ckks_pt_slots(const hekv_pt *pt);

HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_ct_new(const hekv_ckks_params *p, hekv_ct **out,
                                                hekv_err *err);
HEKV_API void hekv_ckks_ct_free(hekv_ct *ct);
HEKV_API int hekv_ckks_ct_level(const hekv_ct *ct);
HEKV_API double hekv_ckks_ct_scale(const hekv_ct *ct);
HEKV_API size_t hekv_ckks_ct_slots(const hekv_ct *ct);
/** The parameter set a plaintext or ciphertext belongs to (NULL for NULL). */
HEKV_API const hekv_ckks_params *hekv_ckks_pt_params(const hekv_pt *pt);
HEKV_API const hekv_ckks_params *hekv_ckks_ct_params(const hekv_ct *ct);
/** 1 when two scales agree to HEKV_CKKS_SCALE_RTOL (what additions require). */
HEKV_API int hekv_ckks_scale_eq(double a, double b);
/** dst = src (resizing dst). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_ct_copy(hekv_ct *dst, const hekv_ct *src,
                                                 hekv_err *err);

/* ------------------------------------------------------------------ encoder */

typedef struct hekv_encoder hekv_encoder; /**< FFT tables + scratch; one per thread */

HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_encoder_new(const hekv_ckks_params *p,
                                                          hekv_encoder **out, hekv_err *err);
HEKV_API void hekv_ckks_encoder_free(hekv_encoder *enc);
/** The parameter set enc was built for (NULL for NULL). */
HEKV_API const hekv_ckks_params *hekv_ckks_encoder_params(const hekv_encoder *enc);
/** Encodes slots values (re[i] + i*im[i]; im may be NULL for real vectors) into pt at
 *  `level` and `scale`, via the canonical embedding (special FFT). slots is a power of two
 *  in [1, N/2] (sparse packing below N/2: the message lives in X^(N/2slots)).
 *  @return HEKV_ERR_ARG (bad slots, level, scale, non-finite value),
 *          HEKV_ERR_SCALE (a coefficient would not fit: |value * scale| too large) */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_encode(hekv_encoder *enc, hekv_pt *pt,
                                                     const double *re, const double *im,
                                                     size_t slots, int level, double scale,
                                                     hekv_err *err);
/** Decodes pt's hekv_ckks_pt_slots(pt) values into re (and im unless NULL), exactly (CRT over
 *  every limb, centred), divided by the scale. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_decode(hekv_encoder *enc, double *re, double *im,
                                                     const hekv_pt *pt, hekv_err *err);

/* ------------------------------------------------------------------ encryption */

/** ct = Enc_pk(pt): (v*b + e0 + m, v*a + e1), v ternary. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_encrypt_pk(const hekv_pk *pk, hekv_ct *ct,
                                                         const hekv_pt *pt, hekv_err *err);

/* ------------------------------------------------------------------ evaluation */

/** The evaluator: parameters, an optional evaluation-key set (borrowed, not owned),
 *  scratch sized once, and the message of the last failed call. Not thread-safe: clone it
 *  per thread. */
typedef struct hekv_eval hekv_eval;

HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_new(const hekv_ckks_params *p,
                                                       const hekv_evk *evk, hekv_eval **out,
                                                       hekv_err *err);
/** An independent evaluator sharing ev's parameters and keys (for another thread), with
 *  ev's thread count. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_clone(const hekv_eval *ev, hekv_eval **out,
                                                         hekv_err *err);
HEKV_API void hekv_ckks_eval_free(hekv_eval *ev);
/** Sets the OpenMP threads ev's calls use over limbs (>= 1; default: the set's). Several
 *  one-thread evaluators can then work on independent ciphertexts (attention heads, K and
 *  V) in parallel threads of the caller, beside or instead of one evaluator that
 *  parallelises over limbs. */
HEKV_API void hekv_ckks_eval_set_threads(hekv_eval *ev, int threads);
HEKV_API int hekv_ckks_eval_threads(const hekv_eval *ev);
/** Bytes of scratch ev holds (its pool of ciphertexts grows to what the calls made on it
 *  needed and is reused; see hekv_ckks_eval_release_scratch). */
HEKV_API size_t hekv_ckks_eval_scratch_bytes(const hekv_eval *ev);
/** Frees the pooled scratch ciphertexts (they are allocated again when needed). */
HEKV_API void hekv_ckks_eval_release_scratch(hekv_eval *ev);
/** Counts of the costly steps ev's calls have performed since it was made (or the counts
 *  reset): what a planner's formulas are checked against. */
typedef struct hekv_ckks_eval_counts {
    uint64_t keyswitches; /**< key products: rotations, relinearisations, key switches */
    uint64_t modups;      /**< decompositions (ModUp); a set of hoisted rotations shares one */
    uint64_t moddowns;    /**< ModDowns (of a two-polynomial result) */
    uint64_t rescales;
} hekv_ckks_eval_counts;
HEKV_API void hekv_ckks_eval_get_counts(const hekv_eval *ev, hekv_ckks_eval_counts *out);
HEKV_API void hekv_ckks_eval_reset_counts(hekv_eval *ev);
/** The message of the last failed call on ev ("" if none). */
HEKV_API const char *hekv_ckks_eval_last_error(const hekv_eval *ev);
HEKV_API const hekv_ckks_params *hekv_ckks_eval_params(const hekv_eval *ev);
/** The evaluation-key set ev was made with (NULL when none). */
HEKV_API const hekv_evk *hekv_ckks_eval_evk(const hekv_eval *ev);

/* Binary operations need equal slots; levels may differ (the higher operand is dropped to
 * the lower level first); scales must match to HEKV_CKKS_SCALE_RTOL for add/sub. Every
 * operation below may write its output into one of its inputs (out == a or out == b).
 * Common failures (message in hekv_ckks_eval_last_error): HEKV_ERR_ARG (NULL, empty input,
 * slot mismatch, non-finite constant), HEKV_ERR_PARAMS (an object of another parameter
 * set), HEKV_ERR_SCALE (add/sub scales differ), HEKV_ERR_LEVEL (a product whose scale
 * would not fit Q_level, rescale at level 0), HEKV_ERR_KEY_MISSING, HEKV_ERR_NOMEM. A
 * call that fails validation leaves out unchanged. */

/** out = a + b; out = a - b; out = -a. Level min(a, b); scale of a. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_add(hekv_eval *ev, hekv_ct *out,
                                                       const hekv_ct *a, const hekv_ct *b);
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_sub(hekv_eval *ev, hekv_ct *out,
                                                       const hekv_ct *a, const hekv_ct *b);
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_neg(hekv_eval *ev, hekv_ct *out,
                                                       const hekv_ct *a);
/** out = a + pt, a - pt (equal scale and slots): level min(a, pt), scale of a. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_add_pt(hekv_eval *ev, hekv_ct *out,
                                                          const hekv_ct *a, const hekv_pt *pt);
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_sub_pt(hekv_eval *ev, hekv_ct *out,
                                                          const hekv_ct *a, const hekv_pt *pt);
/** out = a + (re + i*im) in every slot (encoded at a's scale): level and scale of a. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_add_const(hekv_eval *ev, hekv_ct *out,
                                                             const hekv_ct *a, double re,
                                                             double im);
/** out = a * pt: scale a.scale * pt.scale, level min; rescale afterwards.
 *  @return HEKV_ERR_LEVEL when the product scale reaches Q_level */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_mul_pt(hekv_eval *ev, hekv_ct *out,
                                                          const hekv_ct *a, const hekv_pt *pt);
/** out = a * v for a real v, v encoded at scale q_level (so a rescale restores a's scale
 *  up to q_level rounding): scale a.scale * q_level. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_mul_const(hekv_eval *ev, hekv_ct *out,
                                                             const hekv_ct *a, double v);
/** out = a * k for an integer k: scale and level unchanged. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_mul_int(hekv_eval *ev, hekv_ct *out,
                                                           const hekv_ct *a, int64_t k);
/** out = a * b relinearised (needs the relin key): scale a.scale * b.scale, level min.
 *  @return HEKV_ERR_KEY_MISSING without the relin key, HEKV_ERR_LEVEL when the product
 *          scale reaches Q_level */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_mul(hekv_eval *ev, hekv_ct *out,
                                                       const hekv_ct *a, const hekv_ct *b);
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_square(hekv_eval *ev, hekv_ct *out,
                                                          const hekv_ct *a);
/** Divides by q_level with rounding and drops it: level - 1, scale / q_level.
 *  @return HEKV_ERR_LEVEL at level 0 */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_rescale(hekv_eval *ev, hekv_ct *out,
                                                           const hekv_ct *a);
/** Drops limbs down to `level` (<= a's level) without changing the scale.
 *  @return HEKV_ERR_LEVEL when level is above a's or negative */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_drop_to(hekv_eval *ev, hekv_ct *out,
                                                           const hekv_ct *a, int level);
/** Left rotation of the slot vector by k (any sign; needs the Galois key of k). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_rotate(hekv_eval *ev, hekv_ct *out,
                                                          const hekv_ct *a, long k);
/** out = acc + (a rotated left by k), the sum formed by the rotation's last pass (cheaper
 *  than rotate then add). Level min(acc, a); acc and a need the same scale and slot count;
 *  out may be acc or a. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_rotate_add(hekv_eval *ev, hekv_ct *out,
                                                              const hekv_ct *acc,
                                                              const hekv_ct *a, long k);
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_conjugate(hekv_eval *ev, hekv_ct *out,
                                                             const hekv_ct *a);
/** out = a re-encrypted from k's source secret to its target secret (hybrid key
 *  switching: the same level, scale and slots; a's level at most k's). The evaluator's
 *  own keys play no part: k names both secrets.
 *  @return HEKV_ERR_LEVEL (a above k's level), HEKV_ERR_PARAMS, HEKV_ERR_ARG */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_keyswitch(hekv_eval *ev, hekv_ct *out,
                                                             const hekv_ct *a,
                                                             const hekv_swk *k);
/** out = in with its slots rotated left by k: the automorphism of a plaintext (public
 *  data: no key, no noise). Level, scale and slots of in; out must not alias in. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_rotate_pt(hekv_eval *ev, hekv_pt *out,
                                                             const hekv_pt *in, long k);
/** Hoisted rotations: outs[i] = rotate(a, ks[i]) with one decomposition of a shared by all
 *  (k = 0 gives a copy). outs must be n distinct ciphertexts, none aliasing a. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_rotate_hoisted(hekv_eval *ev,
                                                                  hekv_ct *const *outs,
                                                                  const hekv_ct *a,
                                                                  const long *ks, size_t n);
/** out = sum_{j<n} rotate(a, j*stride), n a power of two (log2 n rotate-and-adds with
 *  keys for stride * 2^i). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_inner_sum(hekv_eval *ev, hekv_ct *out,
                                                             const hekv_ct *a, long stride,
                                                             size_t n);
/** out = sum_{j<n} rotate(a, -j*stride): replicates a block of `stride` slots n times. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_replicate(hekv_eval *ev, hekv_ct *out,
                                                             const hekv_ct *a, long stride,
                                                             size_t n);

/* ------------------------------------------------------------------ linear transforms */

/** A linear map on the slots given by its non-zero generalised diagonals
 *  (y = sum_k diag_k (.) rot(x, k)), pre-encoded in NTT form for the baby-step
 *  giant-step method with baby step n1: diagonal k = g*n1 + b is stored pre-rotated by
 *  -g*n1 so that y = sum_g rot(sum_b diag'_k (.) rot(x, b), g*n1). */
typedef struct hekv_lintrans hekv_lintrans;

/** Encodes the diagonals: offsets[0..ndiag) (distinct, in [0, slots), any order),
 *  diags[i] real or complex (im may be NULL) vectors of `slots` values, at `level` and
 *  `scale`; n1 in [1, slots] is the baby step, n1 = 0 picks the power of two minimising
 *  rotations, (#distinct k mod n1 != 0) + (#distinct k div n1 != 0) (ties: the larger).
 *  @return HEKV_ERR_ARG (offsets out of range or repeated, slots, level, n1), the
 *          encoder's errors, HEKV_ERR_NOMEM */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_lintrans_new(hekv_encoder *enc,
                                                           const long *offsets,
                                                           const double *const *diags_re,
                                                           const double *const *diags_im,
                                                           size_t ndiag, size_t slots,
                                                           int level, double scale, long n1,
                                                           hekv_lintrans **out, hekv_err *err);
/** How a linear transform evaluates its baby-step giant-step split. */
typedef enum {
    /** Baby rotations hoisted (one decomposition of the input), each a full ciphertext. */
    HEKV_LT_HOIST_SINGLE = 0,
    /** Double hoisting (Bossuat et al., Eurocrypt 2021): the baby rotations stay in the
     *  key-switching basis Q*P with no ModDown, the plaintext products accumulate there
     *  (the diagonals are encoded over P too), and each giant step costs one ModDown of
     *  half its sum, one key switch and no ModDown; one final ModDown. ModDowns per
     *  evaluation: giants + 2 instead of babies + giants. */
    HEKV_LT_HOIST_DOUBLE = 1
} hekv_lt_hoist;

/** Options of hekv_ckks_lintrans_new_opts; zero fields take the defaults. */
typedef struct hekv_lintrans_opts {
    long n1;            /**< baby step (0: chosen: the least estimated cost, see
                             hekv_ckks_lintrans_new_opts) */
    hekv_lt_hoist hoist;
} hekv_lintrans_opts;

/** hekv_ckks_lintrans_new with options. With n1 = 0 the baby step is the power of two of
 *  least estimated cost among the splits within two rotations (keys) of the fewest: single
 *  hoisting counts a hoisted baby rotation at 0.56 of a full one, double hoisting a baby at
 *  0.42 and a giant step at 1.24 (measured at N = 2^16, lintrans.c); ties go to fewer
 *  rotations. The diagonals take
 *  (level + 1 + np) limbs each with double hoisting instead of level + 1. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_lintrans_new_opts(
    hekv_encoder *enc, const long *offsets, const double *const *diags_re,
    const double *const *diags_im, size_t ndiag, size_t slots, int level, double scale,
    const hekv_lintrans_opts *opts, hekv_lintrans **out, hekv_err *err);
HEKV_API void hekv_ckks_lintrans_free(hekv_lintrans *lt);
/** The rotations hekv_ckks_eval_lintrans needs (for key generation), each in [1, slots):
 *  the non-zero baby offsets b, then the non-zero giant steps g*n1. Writes up to cap of
 *  them to rots (rots may be NULL) and returns how many there are, which is also the
 *  number of rotations one evaluation performs. */
HEKV_API size_t hekv_ckks_lintrans_rotations(const hekv_lintrans *lt, long *rots, size_t cap);
/** The rotations of one evaluation split into the baby ones (hoisted) and the giant ones
 *  (either may be NULL); the key switches an evaluation performs are their sum, its
 *  ModDowns the same sum with single hoisting and giants + 2 with double hoisting. */
HEKV_API void hekv_ckks_lintrans_counts(const hekv_lintrans *lt, size_t *babies,
                                        size_t *giants);
/** Bytes held by the encoded diagonals. */
HEKV_API size_t hekv_ckks_lintrans_bytes(const hekv_lintrans *lt);
/** out = LT(a): scale a.scale * lt scale, level min(a, lt level); no rescale. out must not
 *  alias a. Costs hekv_ckks_lintrans_rotations rotations (the baby ones hoisted) and one
 *  plaintext product per diagonal.
 *  @return HEKV_ERR_KEY_MISSING (a listed rotation has no key), HEKV_ERR_LEVEL (the
 *          product scale reaches Q_level), HEKV_ERR_ARG (aliasing, slots), HEKV_ERR_PARAMS */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_lintrans(hekv_eval *ev, hekv_ct *out,
                                                            const hekv_ct *a,
                                                            const hekv_lintrans *lt);

/* ------------------------------------------------------------------ polynomials (approx.c,
 * polyeval.c) */

#define HEKV_CHEBY_MAX_COEFFS 8192 /**< most coefficients of a series (as "hekv-approx 1") */
#define HEKV_REMEZ_MAX_DEGREE 255  /**< highest degree hekv_ckks_cheby_remez designs */

/** A real function for the designers, evaluated in long double (ctx is passed through). */
typedef long double (*hekv_real_fn)(long double x, void *ctx);

/** A Chebyshev series on [a, b]:  p(x) = sum_{k<n} c_k T_k(u),  u = (2x - a - b)/(b - a),
 *  c_0 at full weight (numpy.polynomial.chebyshev's convention, and that of the
 *  "hekv-approx 1" files of models/approx.c). Immutable once built. */
typedef struct hekv_cheby hekv_cheby;

/** Copies c[0..n) (1 <= n <= HEKV_CHEBY_MAX_COEFFS, finite) on [a, b] (finite, a < b);
 *  trailing zero coefficients are dropped. @return HEKV_ERR_ARG, HEKV_ERR_NOMEM */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_cheby_new(const double *c, int n, double a,
                                                        double b, hekv_cheby **out,
                                                        hekv_err *err);
HEKV_API void hekv_ckks_cheby_free(hekv_cheby *p);
/** Degree (index of the last non-zero coefficient; 0 for a constant). */
HEKV_API int hekv_ckks_cheby_degree(const hekv_cheby *p);
/** The degree + 1 coefficients. */
HEKV_API const double *hekv_ckks_cheby_coeffs(const hekv_cheby *p);
HEKV_API double hekv_ckks_cheby_lo(const hekv_cheby *p); /**< a */
HEKV_API double hekv_ckks_cheby_hi(const hekv_cheby *p); /**< b */
/** p(x) by Clenshaw's recurrence in long double; no clamping (outside [a, b] the series
 *  grows like T_deg, as it does under encryption). */
HEKV_API double hekv_ckks_cheby_eval(const hekv_cheby *p, double x);
/** Max over [lo, hi] of |p - f| (relative != 0: |p - f| / |f|), sampled at npts
 *  Chebyshev-spaced and npts uniform points. */
HEKV_API double hekv_ckks_cheby_max_err(const hekv_cheby *p, hekv_real_fn f, void *ctx,
                                        double lo, double hi, int npts, int relative);

/** Interpolates f at the deg + 1 Chebyshev points of the first kind of [a, b] (long double
 *  DCT). Near-minimax for smooth f (within a factor ~ 2 + (2/pi) log(deg + 1)).
 *  @return HEKV_ERR_ARG (deg outside 0..HEKV_CHEBY_MAX_COEFFS-1, interval, f not finite at
 *          a node), HEKV_ERR_NOMEM */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_cheby_interp(hekv_real_fn f, void *ctx, double a,
                                                           double b, int deg, hekv_cheby **out,
                                                           hekv_err *err);

/** Options of the Remez exchange; zero fields take the defaults. */
typedef struct hekv_remez_opts {
    double lo, hi; /**< where the error is minimised, inside [a, b] (both 0: [a, b]) */
    int relative;  /**< 1: minimise max |f - p| / |f| (f finite and non-zero there) */
    int parity;    /**< 0: all T_k; 1: odd T_k only; 2: even T_k only (needs a = -b) */
    int max_iter;  /**< exchange iterations (0: 60) */
} hekv_remez_opts;

/** Minimax approximation of degree deg <= HEKV_REMEZ_MAX_DEGREE in the Chebyshev basis of
 *  [a, b], by the multi-point Remez exchange in long double (stops when the largest error
 *  is within 1e-6 of the levelled error). *max_err (may be NULL) receives the weighted
 *  max error reached. With parity 1 (2) the degree is lowered to odd (even) if needed.
 *  @return HEKV_ERR_ARG (degree, intervals, parity on an asymmetric interval, f not finite
 *          or zero with relative), HEKV_ERR_NOMEM */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_cheby_remez(hekv_real_fn f, void *ctx, double a,
                                                          double b, int deg,
                                                          const hekv_remez_opts *opts,
                                                          hekv_cheby **out, double *max_err,
                                                          hekv_err *err);

/** Levels hekv_ckks_eval_poly consumes on p: ceil(log2(deg + 1)), plus 1 for the linear
 *  map of [a, b] onto [-1, 1] unless [a, b] is exactly [-1, 1]. */
HEKV_API int hekv_ckks_cheby_depth(const hekv_cheby *p);
/** Relinearised (ciphertext-ciphertext) products hekv_ckks_eval_poly performs on p: the
 *  Chebyshev powers it builds plus one per giant-step product (baby bound chosen to
 *  minimise the sum; zero coefficients skipped). */
HEKV_API int hekv_ckks_cheby_ct_mults(const hekv_cheby *p);

/** out = p(in) slot-wise, by baby-step giant-step in the Chebyshev basis (polyeval.c).
 *  Level: in's level - hekv_ckks_cheby_depth(p), exactly; scale: target_scale (0: in's
 *  scale) to a relative 2^-40, whatever the primes (scale-invariant constants). The input
 *  values must lie in [a, b]: outside it the result follows the series, which grows like
 *  T_deg(u) (|T_k(u)| ~ (|u| + sqrt(u^2 - 1))^k / 2), so nothing is clamped. The input
 *  scale should be near the current prime (the default scale) when [a, b] = [-1, 1], as
 *  no rescale normalises it then. out may alias in.
 *  @return HEKV_ERR_ARG (NULL, empty input, degree 0), HEKV_ERR_PARAMS, HEKV_ERR_LEVEL
 *          (fewer levels than the depth), HEKV_ERR_SCALE (target <= 1),
 *          HEKV_ERR_KEY_MISSING (no relinearisation key), HEKV_ERR_NOMEM */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_poly(hekv_eval *ev, hekv_ct *out,
                                                        const hekv_ct *in, const hekv_cheby *p,
                                                        double target_scale);

/* ------------------------------------------------------------------ nonlinearities (nonlin.c) */

typedef enum {
    HEKV_NONLIN_EXP = 0,     /**< e^x */
    HEKV_NONLIN_RECIP = 1,   /**< 1/x, 0 < lo */
    HEKV_NONLIN_INVSQRT = 2, /**< 1/sqrt(x), 0 < lo */
    HEKV_NONLIN_SILU = 3,    /**< x / (1 + e^-x) */
    HEKV_NONLIN_GELU = 4,    /**< x (1 + erf(x / sqrt 2)) / 2 */
    HEKV_NONLIN_SIGN = 5,    /**< sign(x) on [-A, A] with |x| >= gap; lo = -hi */
    HEKV_NONLIN_COUNT = 6
} hekv_nonlin_kind;

/** A nonlinearity as a CKKS circuit on [lo, hi]: polynomial stages (Chebyshev series),
 *  then squarings (exp) or Newton steps (recip, invsqrt). The shape and coefficients for
 *  an interval come from a designer (models: hekv_llama_nonlin_design, hekv/llama_approx.h);
 *  this layer builds, measures, evaluates and describes circuits. Immutable once built. */
typedef struct hekv_nonlin hekv_nonlin;

#define HEKV_NONLIN_MAX_STAGES 10

/** A circuit of kind on [lo, hi] from its parts: stages[0..nstage) applied in order
 *  (copied), then `squarings` squarings (exp only) or `newton` Newton steps (recip and
 *  invsqrt only: y <- 2y - x y^2, y <- 1.5 y - 0.5 x y^3); gap is sign's (|x| >= gap,
 *  lo = -hi), 0 otherwise. The plaintext circuit's max error against the exact function
 *  (relative: |g - f| / |f|) is measured here, in long double on 4000 points of the
 *  interval (sign: on gap <= |x| <= hi, and +inf when a middle stage leaves [-1, 1]).
 *  @return HEKV_ERR_ARG (kind, interval, stage count, steps that do not fit kind),
 *          HEKV_ERR_NOMEM */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_nonlin_new(hekv_nonlin_kind kind, double lo,
                                                         double hi,
                                                         const hekv_cheby *const *stages,
                                                         int nstage, int squarings, int newton,
                                                         double gap, int relative,
                                                         hekv_nonlin **out, hekv_err *err);
HEKV_API void hekv_ckks_nonlin_free(hekv_nonlin *nl);
/** "exp", "reciprocal", "invsqrt", "silu", "gelu", "sign" (NULL out of range). */
HEKV_API const char *hekv_ckks_nonlin_name(hekv_nonlin_kind kind);
/** The exact function in double (for sign: -1, 0, 1), and in long double (the designers'
 *  reference). */
HEKV_API double hekv_ckks_nonlin_exact(hekv_nonlin_kind kind, double x);
HEKV_API long double hekv_ckks_nonlin_exactl(hekv_nonlin_kind kind, long double x);
HEKV_API hekv_nonlin_kind hekv_ckks_nonlin_kind(const hekv_nonlin *nl);
HEKV_API double hekv_ckks_nonlin_lo(const hekv_nonlin *nl);
HEKV_API double hekv_ckks_nonlin_hi(const hekv_nonlin *nl);
/** Levels hekv_ckks_eval_nonlin consumes (exactly). */
HEKV_API int hekv_ckks_nonlin_depth(const hekv_nonlin *nl);
/** Relinearised products hekv_ckks_eval_nonlin performs. */
HEKV_API int hekv_ckks_nonlin_ct_mults(const hekv_nonlin *nl);
/** Degree of the whole circuit as a polynomial in x (e.g. (d + 1) 2^k - 1 for a degree-d
 *  start and k Newton steps of 1/x). */
HEKV_API int hekv_ckks_nonlin_degree(const hekv_nonlin *nl);
/** Max |circuit - f| of the plaintext circuit over the interval (for sign: over
 *  gap <= |x| <= hi; relative circuits: max |circuit - f| / |f|), measured when the circuit
 *  was built, in long double on 4000 points; and the range of f. */
HEKV_API double hekv_ckks_nonlin_max_err(const hekv_nonlin *nl);
HEKV_API double hekv_ckks_nonlin_range(const hekv_nonlin *nl);
HEKV_API double hekv_ckks_nonlin_gap(const hekv_nonlin *nl); /**< sign; 0 otherwise */
/** Stages: count, and stage i (0 first) as a series; squarings (exp) and Newton steps. */
HEKV_API int hekv_ckks_nonlin_stages(const hekv_nonlin *nl);
HEKV_API const hekv_cheby *hekv_ckks_nonlin_stage(const hekv_nonlin *nl, int i);
HEKV_API int hekv_ckks_nonlin_squarings(const hekv_nonlin *nl);
HEKV_API int hekv_ckks_nonlin_newton(const hekv_nonlin *nl);
/** A short description of the design, e.g. "remez15+newton2" (always NUL-terminated). */
HEKV_API void hekv_ckks_nonlin_describe(const hekv_nonlin *nl, char *buf, size_t len);
/** The plaintext circuit: the same coefficients and steps as the encrypted evaluation, in
 *  long double, returned as double (the FHE simulation of this function). No clamping. */
HEKV_API double hekv_ckks_nonlin_eval_plain(const hekv_nonlin *nl, double x);

/** out = f(in) slot-wise with the design nl: level in - hekv_ckks_nonlin_depth(nl),
 *  scale target_scale (0: in's scale). Inputs outside [lo, hi] (for sign, inside the gap)
 *  get no guarantee: polynomial stages diverge outside, Newton steps may not converge.
 *  out may alias in. Errors as hekv_ckks_eval_poly. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_nonlin(hekv_eval *ev, hekv_ct *out,
                                                          const hekv_ct *in,
                                                          const hekv_nonlin *nl,
                                                          double target_scale);

/** Softmax over groups of slots: exp(x - shift), the group sum by rotations, 1/sum by a
 *  polynomial start and Newton steps (the last one fused with the final product). */
typedef struct hekv_softmax hekv_softmax;

/** A softmax of the circuits e^x (run on x - shift) and 1/x (run on the group sums; at
 *  least one Newton step, the last one fused with the final product), copied. Designed by
 *  hekv_llama_softmax_design.
 *  @return HEKV_ERR_ARG (shift not finite, circuits of the wrong kinds), HEKV_ERR_NOMEM */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_softmax_new(double shift,
                                                          const hekv_nonlin *exp_circuit,
                                                          const hekv_nonlin *recip_circuit,
                                                          hekv_softmax **out, hekv_err *err);
HEKV_API void hekv_ckks_softmax_free(hekv_softmax *sm);
HEKV_API const hekv_nonlin *hekv_ckks_softmax_exp(const hekv_softmax *sm);
HEKV_API const hekv_nonlin *hekv_ckks_softmax_recip(const hekv_softmax *sm);
HEKV_API double hekv_ckks_softmax_shift(const hekv_softmax *sm);
/** Levels (exp depth + reciprocal depth: the final product is fused) and relinearised
 *  products (exp + reciprocal + 1). */
HEKV_API int hekv_ckks_softmax_depth(const hekv_softmax *sm);
HEKV_API int hekv_ckks_softmax_ct_mults(const hekv_softmax *sm);
/** The left rotations hekv_ckks_eval_softmax needs: stride * 2^i, i < log2 n. Writes up
 *  to cap of them (rots may be NULL); returns log2 n. */
HEKV_API size_t hekv_ckks_softmax_rotations(long stride, size_t n, long *rots, size_t cap);
/** out = softmax over each group g = {g + j stride : j < n}, g < stride, of in, whose slot
 *  count must be n * stride (so that the rotations of the group sum are cyclic within a
 *  group); n a power of two. Level in - hekv_ckks_softmax_depth(sm), scale target_scale (0:
 *  in's scale). out may alias in.
 *  @return as hekv_ckks_eval_nonlin, plus HEKV_ERR_ARG (slots != n * stride, n) and
 *          HEKV_ERR_KEY_MISSING (a rotation key) */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_softmax(hekv_eval *ev, hekv_ct *out,
                                                           const hekv_ct *in,
                                                           const hekv_softmax *sm, long stride,
                                                           size_t n, double target_scale);

/* ------------------------------------------------------------------ serialization */

/* Every object is stored in the one hekv container (hekv/base.h: hekv_obj_type, and
 * src/base/container.h for the layout); the bodies are described in src/ckks/serial.c.
 * Savers fill *out (free it with hekv_buf_free); ciphertexts and keys that still carry the
 * seed of their uniform part are written seed-compressed. Loaders check the container,
 * then the fingerprint against p (HEKV_ERR_PARAMS: the file belongs to another set), then
 * every field and residue (HEKV_ERR_FORMAT with a message naming it), and only then
 * allocate the object (*out; NULL on failure). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_params_save(const hekv_ckks_params *p,
                                                          hekv_buf *out, hekv_err *err);
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_pk_save(const hekv_pk *pk, hekv_buf *out,
                                                      hekv_err *err);
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_evk_save(const hekv_evk *evk, hekv_buf *out,
                                                       hekv_err *err);
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_ct_save(const hekv_ct *ct, hekv_buf *out,
                                                      hekv_err *err);
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_pt_save(const hekv_pt *pt, hekv_buf *out,
                                                      hekv_err *err);

/** Rebuilds a saved set (hekv_ckks_params_new on the stored literal, with opts) and
 *  requires the rebuilt fingerprint to equal the stored one. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_params_load(const uint8_t *data, size_t len,
                                                          const hekv_ckks_opts *opts,
                                                          hekv_ckks_params **out,
                                                          hekv_err *err);
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_pk_load(const hekv_ckks_params *p,
                                                      const uint8_t *data, size_t len,
                                                      hekv_pk **out, hekv_err *err);
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_evk_load(const hekv_ckks_params *p,
                                                       const uint8_t *data, size_t len,
                                                       hekv_evk **out, hekv_err *err);
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_ct_load(const hekv_ckks_params *p,
                                                      const uint8_t *data, size_t len,
                                                      hekv_ct **out, hekv_err *err);
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_pt_load(const hekv_ckks_params *p,
                                                      const uint8_t *data, size_t len,
                                                      hekv_pt **out, hekv_err *err);

#ifdef __cplusplus
}
#endif
#endif
