/* ckks.h: the public RNS-CKKS API of hekv: parameter sets with a security check, the
 * encoder, keys, encryption, homomorphic evaluation (arithmetic, rescaling, rotations,
 * hoisting, BSGS linear transforms) and serialization. Everything above this layer
 * (bootstrapping, packing, the encrypted model, the CLI) uses only what is declared here
 * and, inside the library, the internals in ckks_int.h.
 *
 * Conventions (STYLE R10-R14): objects are opaque handles with _new/_free (free accepts
 * NULL); fallible calls return hekv_status and write a readable message into the hekv_err
 * they are given (or, for evaluator calls, into the evaluator: hekv_eval_last_error);
 * outputs come first; an output ciphertext may alias an input unless a comment says not.
 * Levels count down: a ciphertext at level l has l+1 limbs (primes q_0..q_l); rescale
 * drops q_l and divides the scale by it. Scales are tracked in doubles and must match to a
 * relative 2^-40 (HEKV_CKKS_SCALE_RTOL) where an operation adds or subtracts. */
#ifndef HEKV_CKKS_H
#define HEKV_CKKS_H

#include "../common/base.h"
#include "../../kernels/cpu.h"

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
    hekv_isa isa;           /**< kernel request (AUTO honours HEKV_KERNELS) */
    int threads;            /**< OpenMP threads over limbs; <= 0: HEKV_THREADS or 1 */
} hekv_ckks_params_lit;

/** Fills lit with the built-in set `name` (see hekv_ckks_params_names); toy-* and bench-*
 *  sets come with insecure = 1 because asking for them by name is the explicit request.
 *  @return HEKV_ERR_ARG for an unknown name (the message lists the known ones). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_params_lit_named(const char *name,
                                                               hekv_ckks_params_lit *lit,
                                                               hekv_err *err);
/** The built-in set names, NULL-terminated. */
HEKV_API const char *const *hekv_ckks_params_names(void);

/** The 128-bit classical bound on log2(QP) for ring degree 2^logn and the secret
 *  distribution (HE standard for ternary; 0 when no bound is known, e.g. sparse secrets
 *  or logn outside 10..16). For logn 16 the conservative 1714 is used (1747 published). */
HEKV_API int hekv_ckks_security_bound(int logn, hekv_secret_dist secret);

typedef struct hekv_ckks_params hekv_ckks_params;

/** Generates the primes (distinct, = 1 mod 2N, < 2^50, closest below 2^bits), builds the
 *  rings and the key-switching plans, and checks security: a literal whose log2(QP)
 *  exceeds hekv_ckks_security_bound is refused with HEKV_ERR_INSECURE unless
 *  lit->insecure is set.
 *  @return HEKV_ERR_ARG / HEKV_ERR_PARAMS (malformed), HEKV_ERR_INSECURE, HEKV_ERR_NOMEM */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_params_new(const hekv_ckks_params_lit *lit,
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
/** 1 when log2(QP) is within the bound (the set may still have been built insecure). */
HEKV_API int hekv_ckks_params_secure(const hekv_ckks_params *p);
/** Bytes of one switching key (relinearisation or one rotation), uncompressed. */
HEKV_API size_t hekv_ckks_params_swk_bytes(const hekv_ckks_params *p);
/** 16-byte fingerprint of everything that must match between files (name, N, primes,
 *  dnum, secret distribution, format version). */
HEKV_API const uint8_t *hekv_ckks_params_fingerprint(const hekv_ckks_params *p);
HEKV_API int hekv_ckks_params_threads(const hekv_ckks_params *p);

/** Galois element of a left rotation by k slots (any k; taken mod N/2): 5^k mod 2N. */
HEKV_API uint64_t hekv_ckks_galois_rot(const hekv_ckks_params *p, long k);
/** Galois element of complex conjugation: 2N - 1. */
HEKV_API uint64_t hekv_ckks_galois_conj(const hekv_ckks_params *p);

/* ------------------------------------------------------------------ keys */

typedef struct hekv_sk hekv_sk;   /**< secret key: client side only; wiped when freed */
typedef struct hekv_pk hekv_pk;   /**< public encryption key */
typedef struct hekv_evk hekv_evk; /**< evaluation keys: relinearisation + Galois keys */

/** Samples a secret key of the set's distribution. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_sk_new(const hekv_ckks_params *p, hekv_sk **out,
                                                     hekv_err *err);
HEKV_API void hekv_ckks_sk_free(hekv_sk *sk);
/** A public key (b = -a s + e, a) at the top level. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_pk_new(const hekv_ckks_params *p,
                                                     const hekv_sk *sk, hekv_pk **out,
                                                     hekv_err *err);
HEKV_API void hekv_ckks_pk_free(hekv_pk *pk);

/** An empty evaluation-key set. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_evk_new(const hekv_ckks_params *p,
                                                      hekv_evk **out, hekv_err *err);
HEKV_API void hekv_ckks_evk_free(hekv_evk *evk);
/** Adds the relinearisation key (s^2 -> s). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_evk_gen_relin(hekv_evk *evk, const hekv_sk *sk,
                                                            hekv_err *err);
/** Adds Galois keys for the given elements (odd, < 2N; duplicates and existing ones are
 *  skipped). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_evk_gen_galois(hekv_evk *evk, const hekv_sk *sk,
                                                             const uint64_t *galois, size_t n,
                                                             hekv_err *err);
/** Adds Galois keys for left rotations by rots[0..n) and, if conj, for conjugation. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_evk_gen_rotations(hekv_evk *evk,
                                                                const hekv_sk *sk,
                                                                const long *rots, size_t n,
                                                                int conj, hekv_err *err);
HEKV_API int hekv_ckks_evk_has_relin(const hekv_evk *evk);
HEKV_API int hekv_ckks_evk_has_galois(const hekv_evk *evk, uint64_t galois);
/** Number of Galois keys held, and element i of them (0 <= i < count). */
HEKV_API size_t hekv_ckks_evk_galois_count(const hekv_evk *evk);
HEKV_API uint64_t hekv_ckks_evk_galois_elt(const hekv_evk *evk, size_t i);

/* ------------------------------------------------------------------ plaintexts, ciphertexts */

typedef struct hekv_pt hekv_pt; /**< encoded message: NTT form over q_0..q_level */
typedef struct hekv_ct hekv_ct; /**< ciphertext (c0, c1) in NTT form over q_0..q_level */

/** An empty plaintext/ciphertext of the set (level -1); operations size their outputs. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_pt_new(const hekv_ckks_params *p, hekv_pt **out,
                                                hekv_err *err);
HEKV_API void hekv_pt_free(hekv_pt *pt); /**< wipes: a plaintext may be secret */
HEKV_API int hekv_pt_level(const hekv_pt *pt);
HEKV_API double hekv_pt_scale(const hekv_pt *pt);
HEKV_API size_t hekv_pt_slots(const hekv_pt *pt);

HEKV_API HEKV_MUST_CHECK hekv_status hekv_ct_new(const hekv_ckks_params *p, hekv_ct **out,
                                                hekv_err *err);
HEKV_API void hekv_ct_free(hekv_ct *ct);
HEKV_API int hekv_ct_level(const hekv_ct *ct);
HEKV_API double hekv_ct_scale(const hekv_ct *ct);
HEKV_API size_t hekv_ct_slots(const hekv_ct *ct);
/** dst = src (resizing dst). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ct_copy(hekv_ct *dst, const hekv_ct *src,
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
/** Decodes pt's hekv_pt_slots(pt) values into re (and im unless NULL), exactly (CRT over
 *  every limb, centred), divided by the scale. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_decode(hekv_encoder *enc, double *re, double *im,
                                                     const hekv_pt *pt, hekv_err *err);

/* ------------------------------------------------------------------ encryption */

/** ct = Enc_sk(pt) with a fresh seeded `a` (c1 expands from a 32-byte seed, so the
 *  ciphertext can be stored seed-compressed until it is first modified). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_encrypt_sk(const hekv_sk *sk, hekv_ct *ct,
                                                         const hekv_pt *pt, hekv_err *err);
/** ct = Enc_pk(pt): (v*b + e0 + m, v*a + e1), v ternary. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_encrypt_pk(const hekv_pk *pk, hekv_ct *ct,
                                                         const hekv_pt *pt, hekv_err *err);
/** pt = c0 + c1 s (level, scale and slots of ct). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_decrypt(const hekv_sk *sk, hekv_pt *pt,
                                                      const hekv_ct *ct, hekv_err *err);

/* ------------------------------------------------------------------ evaluation */

/** The evaluator: parameters, an optional evaluation-key set (borrowed, not owned),
 *  scratch sized once, and the message of the last failed call. Not thread-safe: clone it
 *  per thread. */
typedef struct hekv_eval hekv_eval;

HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_new(const hekv_ckks_params *p,
                                                       const hekv_evk *evk, hekv_eval **out,
                                                       hekv_err *err);
/** An independent evaluator sharing ev's parameters and keys (for another thread). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_clone(const hekv_eval *ev, hekv_eval **out,
                                                         hekv_err *err);
HEKV_API void hekv_ckks_eval_free(hekv_eval *ev);
/** The message of the last failed call on ev ("" if none). */
HEKV_API const char *hekv_eval_last_error(const hekv_eval *ev);
HEKV_API const hekv_ckks_params *hekv_ckks_eval_params(const hekv_eval *ev);

/* Binary operations need equal slots; levels may differ (the higher operand is dropped to
 * the lower level first); scales must match to HEKV_CKKS_SCALE_RTOL for add/sub. Every
 * operation below may write its output into one of its inputs (out == a or out == b).
 * Common failures (message in hekv_eval_last_error): HEKV_ERR_ARG (NULL, empty input,
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
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_eval_conjugate(hekv_eval *ev, hekv_ct *out,
                                                             const hekv_ct *a);
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
HEKV_API void hekv_ckks_lintrans_free(hekv_lintrans *lt);
/** The rotations hekv_ckks_eval_lintrans needs (for key generation), each in [1, slots):
 *  the non-zero baby offsets b, then the non-zero giant steps g*n1. Writes up to cap of
 *  them to rots (rots may be NULL) and returns how many there are, which is also the
 *  number of rotations one evaluation performs. */
HEKV_API size_t hekv_ckks_lintrans_rotations(const hekv_lintrans *lt, long *rots, size_t cap);
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

/* ------------------------------------------------------------------ serialization */

/** Object types of the hekv file format (one format for everything, see serial.c). */
typedef enum {
    HEKV_OBJ_PARAMS = 1,
    HEKV_OBJ_SK = 2,
    HEKV_OBJ_PK = 3,
    HEKV_OBJ_EVK = 4,
    HEKV_OBJ_CT = 5,
    HEKV_OBJ_PT = 6
} hekv_obj_type;

/** Serializes an object into a newly allocated buffer (*buf, free with free()).
 *  Ciphertexts and keys that still carry their seed are written seed-compressed. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_params_save(const hekv_ckks_params *p,
                                                          uint8_t **buf, size_t *len,
                                                          hekv_err *err);
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_sk_save(const hekv_sk *sk, uint8_t **buf,
                                                      size_t *len, hekv_err *err);
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_pk_save(const hekv_pk *pk, uint8_t **buf,
                                                      size_t *len, hekv_err *err);
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_evk_save(const hekv_evk *evk, uint8_t **buf,
                                                       size_t *len, hekv_err *err);
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_ct_save(const hekv_ckks_params *p,
                                                      const hekv_ct *ct, uint8_t **buf,
                                                      size_t *len, hekv_err *err);
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_pt_save(const hekv_ckks_params *p,
                                                      const hekv_pt *pt, uint8_t **buf,
                                                      size_t *len, hekv_err *err);

/** Loaders validate every field (magic, version, type, fingerprint against p, level,
 *  scale, sizes, residues < q_i, checksum) and return HEKV_ERR_FORMAT with a message that
 *  names the problem, or HEKV_ERR_PARAMS when the file belongs to other parameters. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_params_load(const uint8_t *buf, size_t len,
                                                          const hekv_ckks_params_lit *opts,
                                                          hekv_ckks_params **out,
                                                          hekv_err *err);
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_sk_load(const hekv_ckks_params *p,
                                                      const uint8_t *buf, size_t len,
                                                      hekv_sk **out, hekv_err *err);
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_pk_load(const hekv_ckks_params *p,
                                                      const uint8_t *buf, size_t len,
                                                      hekv_pk **out, hekv_err *err);
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_evk_load(const hekv_ckks_params *p,
                                                       const uint8_t *buf, size_t len,
                                                       hekv_evk **out, hekv_err *err);
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_ct_load(const hekv_ckks_params *p,
                                                      const uint8_t *buf, size_t len,
                                                      hekv_ct *ct, hekv_err *err);
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_pt_load(const hekv_ckks_params *p,
                                                      const uint8_t *buf, size_t len,
                                                      hekv_pt *pt, hekv_err *err);
/** The object type of a serialized buffer (after checking magic and version only). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_peek_type(const uint8_t *buf, size_t len,
                                                        hekv_obj_type *type, hekv_err *err);

/** Writes buf to path atomically (temporary file + rename); mode 0600 when secret, else
 *  0644. Reads a whole file into a malloc'd buffer (free with free()). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_file_write(const char *path, const uint8_t *buf,
                                                    size_t len, int secret, hekv_err *err);
HEKV_API HEKV_MUST_CHECK hekv_status hekv_file_read(const char *path, uint8_t **buf,
                                                   size_t *len, hekv_err *err);

#ifdef __cplusplus
}
#endif
#endif
