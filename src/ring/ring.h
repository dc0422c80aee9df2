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
/** out = INTT(x) limb by limb on the first out->limbs limbs, with x (NTT form) formed in the
 *  same pass while each limb is in cache: x = a * b (pointwise) when b is given, else
 *  x = a. Inputs are unchanged; out aliases none of them. */
void hekv_ring_ntt_inv_from(const hekv_ring *r, hekv_poly *out, const hekv_poly *a,
                                     const hekv_poly *b);

/** Division by the last prime with rounding, in NTT form (the CKKS rescale; Lattigo's
 *  DivRoundByLastModulusNTT), of `count` polynomials at once: with l = in[c]->limbs - 1
 *  >= 1 (the same for every c),
 *      out_i = round(x / q_l) mod q_i = (x_i + h - [x_l + h]_{q_l}) * qinv[i]  (i < l),
 *  h = floor(q_l / 2), x the CRT value of in[c], qinv[i] = q_l^-1 mod q_i. Computed limb by
 *  limb in one pass (reduce [x_l + h]_{q_l} mod q_i, NTT, subtract, scale), all
 *  polynomials of a limb together, so that each limb's temporary and the prime's NTT table
 *  stay in cache. out[c] holds at least l limbs (written: limbs 0..l-1) and may alias
 *  in[c]. scratch: scratch_limbs >= count + 1 limbs of N words, aliasing no polynomial;
 *  min(threads, scratch_limbs - count) threads are used. */
void hekv_ring_div_round_last_ntt(const hekv_ring *r, hekv_poly *const *out,
                                           const hekv_poly *const *in, int count,
                                           const uint64_t *qinv, uint64_t *scratch,
                                           size_t scratch_limbs);

/** The products of a small polynomial with public polynomials, plus small errors, as in
 *  public-key encryption, limb by limb on the first out[k]->limbs limbs (the same for
 *  every k):
 *      out[k] = NTT(v) * a[k] + NTT(e[k])  (+ m for k = 0 when m is given),
 *  v and e[k] signed coefficients with |.| < every q_i (lifted as hekv_poly_set_small
 *  lifts them), a[k] and m in NTT form. Each limb of NTT(v) is computed once and, with the
 *  errors, transformed while in cache; nothing but the outputs is written to memory.
 *  scratch: scratch_limbs >= 2 limbs of N words (wiped before returning: it held v and e);
 *  min(threads, scratch_limbs / 2) threads. out[k] may alias m or a[k]. */
void hekv_ring_small_mul_add_ntt(const hekv_ring *r, hekv_poly *const *out,
                                          const int64_t *v, const hekv_poly *const *a,
                                          const int64_t *const *e, const hekv_poly *m,
                                          int count, uint64_t *scratch, size_t scratch_limbs);

/** Most digits a fused key-switching pass takes. */
#define HEKV_RING_KS_MAX_DIGITS 64

/** The lifted digits and the key of one key-switching inner product over one ring (Q at
 *  some level, or P), read limb by limb:
 *      dot0 = sum_{j<k} x_j * b[j],  dot1 = sum_{j<k} x_j * a[j]   (NTT form)
 *  where limb i of x_j is limb i of the switched polynomial c when own_begin[j] <= i <
 *  own_end[j] (the digit's own primes: exact), else limb i of d[j]. c is read from own in
 *  NTT form, and formed as it is read: c = own * own2 when own2 is given, else c = own. */
typedef struct hekv_ring_ks_args {
    int k;                        /**< digits, 1..HEKV_RING_KS_MAX_DIGITS */
    hekv_poly *const *d;          /**< [k] lifted digits over the ring's first limbs */
    int coef;                     /**< 1: the d limbs read hold coefficients and are
                                       transformed in place first (d is scratch) */
    const hekv_poly *own;         /**< NULL (the own limbs are in d), or c's source */
    const hekv_poly *own2;        /**< NULL, or c's second factor */
    const int *own_begin;         /**< [k] (only with own) */
    const int *own_end;           /**< [k] (only with own) */
    const hekv_poly *const *b;    /**< [k] key parts, NTT form */
    const hekv_poly *const *a;    /**< [k] key parts, NTT form */
} hekv_ring_ks_args;

/** The P side of a key switch: (out0, out1) = INTT(dot0, dot1) on the first out0->limbs
 *  limbs, in coefficient form (ready for the P -> Q conversion of ModDown). out0, out1
 *  alias nothing else. */
void hekv_ring_ks_dot_inv(const hekv_ring *r, hekv_poly *out0, hekv_poly *out1,
                                   const hekv_ring_ks_args *ks);

/** Terms added to the Q side of a key switch after ModDown (all optional, NTT form):
 *      y0 += e0
 *      y0 += t0*u0, y1 += t0*u1 + t1*u0   (the tensor of a ciphertext product)
 *  and, after the permutation of hekv_ring_ks_dot_moddown (if any),
 *      out0 += f0, out1 += f1             (an accumulator: rotate-and-add)
 *  keep (optional) lets a permuted pass run in place: scratch of keep_limbs >= 2 limbs of
 *  N words, into which each thread copies limb i of e0 and of ks->own before it writes
 *  limb i (the pass then runs on at most keep_limbs / 2 threads). */
typedef struct hekv_ring_ks_add {
    const hekv_poly *e0;
    const hekv_poly *t0, *t1, *u0, *u1; /**< all four or none */
    const hekv_poly *f0, *f1;           /**< both or none */
    uint64_t *keep;                     /**< NULL, or [keep_limbs][N] words of scratch */
    size_t keep_limbs;
} hekv_ring_ks_add;

/** The Q side of a key switch with ModDown fused, limb by limb on the first out0->limbs
 *  limbs:
 *      y0 = (dot0 - NTT(conv0)) * s[i] (+ add),  y1 = (dot1 - NTT(conv1)) * s[i] (+ add)
 *  where conv0/conv1 hold the conversions of the P side to Q in coefficient form (they
 *  are transformed in place: scratch) and s[i] = P^-1 mod q_i; then (out0, out1) =
 *  (phi(y0), phi(y1)) (+ f0, f1) when out_map is given (an NTT-form automorphism map:
 *  every aligned block of outputs reads one aligned block of y, so each block of y is
 *  computed and permuted while in cache, never stored), else (y0, y1) (+ f0, f1). Every
 *  step of a limb runs while its data is in cache. Without out_map, out0/out1 may alias
 *  add->*, ks->own and ks->own2 (each block is read before it is written); with it,
 *  add->f0/f1, and add->e0 and ks->own too when add->keep is given (ks->own2 must then be
 *  NULL). Never the digits, key or conv. */
void hekv_ring_ks_dot_moddown(const hekv_ring *r, hekv_poly *out0, hekv_poly *out1,
                                       const hekv_ring_ks_args *ks, hekv_poly *conv0,
                                       hekv_poly *conv1, const uint64_t *s,
                                       const hekv_ring_ks_add *add, const uint32_t *out_map);

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
