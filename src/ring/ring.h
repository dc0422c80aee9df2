/* ring.h: RNS polynomial rings Z_Q[X]/(X^N + 1) with Q a product of NTT-friendly primes.
 * A ring owns, per prime, the modulus constants, the chosen kernel variant and that
 * variant's NTT tables (R6, R15), plus the thread count used to parallelise over limbs
 * (R16: OpenMP over limbs lives here and nowhere below). Polynomials are one 64-byte
 * aligned block, limb-major ([limbs][N], R15), holding limbs 0..limbs-1 of their ring.
 * Sampling and CKKS semantics live above this layer. */
#ifndef HEKV_RING_H
#define HEKV_RING_H

#include "kernels/kern.h"
#include "src/base/base.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HEKV_RING_MAX_PRIMES 128

/** What a ring is built from (caller allocated, unchecked until hekv_ring_new). */
typedef struct hekv_ring_lit {
    int logn;               /**< ring degree N = 2^logn, HEKV_NTT_MIN_LOGN..HEKV_NTT_MAX_LOGN */
    int nprimes;            /**< number of primes, 1..HEKV_RING_MAX_PRIMES */
    const uint64_t *primes; /**< distinct primes = 1 mod 2N, each < 2^61 */
    hekv_isa isa;           /**< kernel request; AUTO honours HEKV_KERNELS */
    int threads;            /**< OpenMP threads for limb-parallel calls; <= 0 means 1 */
} hekv_ring_lit;

typedef struct hekv_ring hekv_ring;

/** A polynomial over the first `limbs` primes of its ring. Value struct with an owned
 *  coefficient block; create with hekv_poly_new, release with hekv_poly_free. */
typedef struct hekv_poly {
    uint64_t *c;  /**< [limbs][N], limb i at c + i*N */
    size_t limbs; /**< number of limbs held (primes 0..limbs-1 of the ring) */
    size_t n;     /**< ring degree N */
    int ntt;      /**< 1 when the limbs hold NTT (evaluation) values, 0 for coefficients */
} hekv_poly;

/** Builds a ring: checks N, primality, p = 1 mod 2N, distinctness, finds each prime's
 *  smallest primitive 2N-th root and builds the NTT plan of the chosen kernel variant.
 *  @param[out] out the ring, or NULL on failure (nothing stays allocated)
 *  @return HEKV_ERR_ARG / HEKV_ERR_PARAMS (message in err), HEKV_ERR_UNSUPPORTED (isa),
 *          HEKV_ERR_NOMEM */
HEKV_MUST_CHECK hekv_status hekv_ring_new(const hekv_ring_lit *lit, hekv_ring **out,
                                          hekv_err *err);
/** A view of base with its own thread count: the same primes, plans and tables (borrowed:
 *  base must outlive the view), so an evaluator can run its calls on `threads` threads
 *  while another uses the same ring with others. Free with hekv_ring_free. */
HEKV_MUST_CHECK hekv_status hekv_ring_view_new(const hekv_ring *base, int threads,
                                               hekv_ring **out);
/** Frees a ring or a view (a view leaves its base's tables alone). */
void hekv_ring_free(hekv_ring *r);

size_t hekv_ring_n(const hekv_ring *r);
int hekv_ring_logn(const hekv_ring *r);
int hekv_ring_nprimes(const hekv_ring *r);
int hekv_ring_threads(const hekv_ring *r);
/** Modulus constants of prime i (0 <= i < nprimes). */
const hekv_modulus *hekv_ring_modulus(const hekv_ring *r, int i);
/** The kernel variant chosen for prime i. */
const hekv_kern_ops *hekv_ring_ops(const hekv_ring *r, int i);
/** The primitive 2N-th root used by prime i's NTT. */
uint64_t hekv_ring_psi(const hekv_ring *r, int i);

/** Allocates a zero polynomial with `limbs` limbs (1..nprimes) in coefficient form. */
HEKV_MUST_CHECK hekv_status hekv_poly_new(const hekv_ring *r, size_t limbs,
                                                  hekv_poly *out);
/** Releases p's block (wiped first: polynomials may hold secrets) and zeroes p. */
void hekv_poly_free(hekv_poly *p);
/** Copies the first min(dst.limbs, src.limbs) limbs and the form flag. */
void hekv_poly_copy(const hekv_ring *r, hekv_poly *dst, const hekv_poly *src);
void hekv_poly_zero(const hekv_ring *r, hekv_poly *p);

/* Limb-parallel operations (OpenMP over limbs, r->threads). They act on the first `limbs`
 * limbs given by the output; inputs must hold at least that many limbs and share the
 * form (callers above check; kernels assume). Values fully reduced in and out. */

/** Coefficients -> NTT form (in place, all p->limbs limbs). */
void hekv_ring_ntt_fwd(const hekv_ring *r, hekv_poly *p);
/** NTT -> coefficient form (in place). */
void hekv_ring_ntt_inv(const hekv_ring *r, hekv_poly *p);
/** As hekv_ring_ntt_fwd / hekv_ring_ntt_inv, on limbs [begin, end) of p only (limb i is
 *  prime i; begin <= end <= p->limbs), for polynomials whose limbs are briefly in mixed
 *  form (key switching's ModUp). Leaves the other limbs and p->ntt unchanged. */
void hekv_ring_ntt_fwd_range(const hekv_ring *r, hekv_poly *p, size_t begin,
                                      size_t end);
void hekv_ring_ntt_inv_range(const hekv_ring *r, hekv_poly *p, size_t begin,
                                      size_t end);
void hekv_ring_add(const hekv_ring *r, hekv_poly *out, const hekv_poly *a,
                            const hekv_poly *b);
void hekv_ring_sub(const hekv_ring *r, hekv_poly *out, const hekv_poly *a,
                            const hekv_poly *b);
void hekv_ring_neg(const hekv_ring *r, hekv_poly *out, const hekv_poly *a);
/** Pointwise product (meaningful as a ring product in NTT form). */
void hekv_ring_mul(const hekv_ring *r, hekv_poly *out, const hekv_poly *a,
                            const hekv_poly *b);
/** out += a * b pointwise. */
void hekv_ring_mul_acc(const hekv_ring *r, hekv_poly *out, const hekv_poly *a,
                                const hekv_poly *b);
/** out = a * s[i] on limb i, s[i] in [0, q_i) (per-limb scalars, e.g. an RNS constant). */
void hekv_ring_mul_scalar(const hekv_ring *r, hekv_poly *out, const hekv_poly *a,
                                   const uint64_t *s);
/** out += a * s[i] on limb i. */
void hekv_ring_mul_scalar_acc(const hekv_ring *r, hekv_poly *out, const hekv_poly *a,
                                       const uint64_t *s);
/** out = (a - b) * s[i] on limb i (s[i] in [0, q_i)), in one pass (ModDown's last step). */
void hekv_ring_sub_mul_scalar(const hekv_ring *r, hekv_poly *out, const hekv_poly *a,
                                       const hekv_poly *b, const uint64_t *s);
/** out = a(X^k) using a map from hekv_automorph_map_coeff / _ntt matching a's form;
 *  out must not alias a. */
void hekv_ring_automorph(const hekv_ring *r, hekv_poly *out, const hekv_poly *a,
                                  const uint32_t *map);

/** Fast basis conversion (fast base extension) from limbs [from_begin, from_begin+k) of
 *  ring `from` to limbs [to_begin, to_begin+l) of ring `to`:
 *      out_j = sum_i [x_i * (B/b_i)^-1]_{b_i} * (B/b_i)  mod c_j,
 *  which equals x + u*B for an integer 0 <= u < k (x the CRT value of the input in
 *  [0, B)): the documented approximation of Bajard et al.; callers that need exactness
 *  correct for u. Coefficient form in and out. */
typedef struct hekv_bconv hekv_bconv;

HEKV_MUST_CHECK hekv_status hekv_bconv_new(const hekv_ring *from, int from_begin,
                                                   int k, const hekv_ring *to, int to_begin,
                                                   int l, hekv_bconv **out, hekv_err *err);
void hekv_bconv_free(hekv_bconv *bc);
/** Words of scratch the apply calls need ((k + 1) * N). */
size_t hekv_bconv_scratch_words(const hekv_bconv *bc);
/** out: [l][N] (the l target limbs, contiguous); in: [k][N] (the k source limbs);
 *  scratch: hekv_bconv_scratch_words words, 64-byte aligned. No aliasing. */
void hekv_bconv_apply(const hekv_bconv *bc, uint64_t *out, const uint64_t *in,
                               uint64_t *scratch);
/** As hekv_bconv_apply but computes only the first `lcount` (<= l) target limbs, so one
 *  plan to limbs [to_begin, to_begin + l) serves every lower level. */
void hekv_bconv_apply_prefix(const hekv_bconv *bc, uint64_t *out, const uint64_t *in,
                                      uint64_t *scratch, int lcount);
/** The centred conversion: as hekv_bconv_apply_prefix but with the residues
 *  y_i = [x_i (B/b_i)^-1]_{b_i} taken in (-b_i/2, b_i/2), so out_j = x' + u*B mod c_j with
 *  x' the centred value of the input (|x'| < B/2) and |u| <= k/2 (zero mean: no bias
 *  when the result is divided by B or multiplied by a key). It is odd: the conversion of
 *  -x is exactly minus that of x, so it commutes with signed coefficient permutations
 *  (automorphisms). Needs every source prime odd. */
void hekv_bconv_apply_centered(const hekv_bconv *bc, uint64_t *out,
                                        const uint64_t *in, uint64_t *scratch, int lcount);
/** Several conversions of the same source limbs in one pass over them: plans bcs[0..nplans)
 *  built from the same ring, from_begin and k (targets may differ); plan p writes
 *  lcounts[p] limbs to outs[p]. centered selects the centred residues. Each output equals
 *  the single-plan call's, bit for bit. threads (<= 0: the target ring's) is the OpenMP
 *  thread count over coefficient blocks (the caller's, e.g. an evaluator's). */
void hekv_bconv_apply_multi(const hekv_bconv *const *bcs, uint64_t *const *outs,
                            const int *lcounts, int nplans, const uint64_t *in,
                            uint64_t *scratch, int centered, int threads);

#ifdef __cplusplus
}
#endif
#endif
