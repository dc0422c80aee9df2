/* ckks_ext.h: the one extension header of the CKKS layer, for the library layers built on
 * it (bootstrap/, packing/, models/ encrypted code). It widens the public API
 * (hekv/ckks.h) by what those layers need and a user does not: the evaluator's error
 * buffer, its pool of scratch ciphertexts, the plaintext inner product of baby-step
 * giant-step products, the unrelinearised accumulator of ciphertext products, exact scale
 * adjustment, the raise of a level-0 ciphertext to a higher modulus (ModRaise), and the
 * checks every layer above makes of its keys. Nothing here exposes a struct: the layers
 * above still see opaque handles (scripts/check_layers.sh lets only those layers include
 * this file, and nothing outside src/ckks include ckks_int.h).
 *
 * Conventions as in hekv/ckks.h: evaluator calls return a status and leave a message in
 * the evaluator. Not installed. */
#ifndef HEKV_CKKS_EXT_H
#define HEKV_CKKS_EXT_H

#include "hekv/ckks.h"
#include "src/base/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The evaluator's error buffer: pass it as the hekv_err of a non-evaluator call (an
 *  encode, a copy) or set it with hekv_err_set, so that every failure of a layer above is
 *  read through hekv_ckks_eval_last_error. */
hekv_err *hekv_ckks_ext_err(hekv_eval *ev);

/* ------------------------------------------------------------------ scratch */

/** Lends a scratch ciphertext of the evaluator's pool (empty, level -1). Its blocks grow
 *  to the highest level it is used at and are kept, so a circuit run a second time
 *  allocates nothing, and the pool holds no more limbs than the circuits used. Scratch is
 *  a stack: return it with hekv_ckks_ext_scratch_put in the reverse order of the gets.
 *  @return HEKV_ERR_NOMEM (first use, or more than the pool's 256 at once) */
HEKV_MUST_CHECK hekv_status hekv_ckks_ext_scratch_get(hekv_eval *ev, hekv_ct **out);
/** Returns the most recently lent scratch ciphertext (NULL: nothing). */
void hekv_ckks_ext_scratch_put(hekv_eval *ev, hekv_ct *ct);
/** The same for plaintexts (a mask moved by a plaintext rotation, say): a stack of its own. */
HEKV_MUST_CHECK hekv_status hekv_ckks_ext_scratch_pt_get(hekv_eval *ev, hekv_pt **out);
void hekv_ckks_ext_scratch_pt_put(hekv_eval *ev, hekv_pt *pt);

/* ------------------------------------------------------------------ products */

/** out = sum_{j<n} a[j] (.) pt[j] at `level` (<= every operand's), without rescaling: the
 *  inner products of BSGS linear transforms and IRP giant steps, one pass over the limbs.
 *  The products must share one scale (a[j] scale x pt[j] scale, to HEKV_CKKS_SCALE_RTOL)
 *  and the slot count; out gets that scale. out must alias no a[j].
 *  @return HEKV_ERR_ARG, HEKV_ERR_SCALE, HEKV_ERR_LEVEL (the scale does not fit Q_level) */
HEKV_MUST_CHECK hekv_status hekv_ckks_ext_inner_pt(hekv_eval *ev, hekv_ct *out,
                                                   const hekv_ct *const *a,
                                                   const hekv_pt *const *pt, size_t n,
                                                   int level);

/** The degree-2 accumulator: a sum of ciphertext products held unrelinearised, in the
 *  evaluator's scratch, so that it pays one relinearisation (scores x V: one key switch
 *  for every product of a block). begin starts it at `level`; acc adds a (x) b (both at
 *  `level` or above, their scale product equal to the first one's); relin writes
 *  (d0, d1) + KeySwitch_relin(d2) into out (level of the accumulator, scale the product's)
 *  and ends it. One accumulator per evaluator at a time.
 *  @return HEKV_ERR_ARG (not begun, operands), HEKV_ERR_SCALE, HEKV_ERR_LEVEL,
 *          HEKV_ERR_KEY_MISSING (relin) */
HEKV_MUST_CHECK hekv_status hekv_ckks_ext_mac_begin(hekv_eval *ev, int level);
HEKV_MUST_CHECK hekv_status hekv_ckks_ext_mac_acc(hekv_eval *ev, const hekv_ct *a,
                                                  const hekv_ct *b);
HEKV_MUST_CHECK hekv_status hekv_ckks_ext_mac_relin(hekv_eval *ev, hekv_ct *out);

/** hekv_ckks_eval_poly with every level of the circuit a unit of r >= 1 primes: each of
 *  its rescales drops r primes (a scale near the product of r small primes, e.g. ~2^60
 *  from two 30-bit primes, for bootstrapping's EvalMod), so it consumes
 *  r * hekv_ckks_cheby_depth(p) primes; the result has scale target_scale (0: in's).
 *  r = 1 is hekv_ckks_eval_poly. */
HEKV_MUST_CHECK hekv_status hekv_ckks_ext_eval_poly(hekv_eval *ev, hekv_ct *out,
                                                    const hekv_ct *in, const hekv_cheby *p,
                                                    double target_scale, int r);

/* ------------------------------------------------------------------ scales and levels */

/** out = in at `level` (< in's level) with the scale label as close to `scale` as an
 *  integer product allows: in * k, k = round(scale * q_{level+1} / in.scale), at level + 1,
 *  then one rescale, so the label is within 1 / (2k) of the target relatively (k ~ 2^38
 *  or more when scale and in.scale are near the primes). The constant is an integer, so no plaintext
 *  and no extra noise beyond the rescale's. out may alias in.
 *  @return HEKV_ERR_LEVEL (level >= in's), HEKV_ERR_SCALE (the constant would not fit) */
HEKV_MUST_CHECK hekv_status hekv_ckks_ext_adjust_scale(hekv_eval *ev, hekv_ct *out,
                                                       const hekv_ct *in, int level,
                                                       double scale);
/** Relabels ct's scale without touching its polynomials: the caller knows the encrypted
 *  value is m * scale' and declares it m' * scale (e.g. bootstrapping, which reinterprets
 *  a ciphertext after ModRaise). scale finite and > 0, else HEKV_ERR_ARG. */
HEKV_MUST_CHECK hekv_status hekv_ckks_ext_set_scale(hekv_eval *ev, hekv_ct *ct, double scale);
/** Relabels ct's slot count without touching its polynomials: the caller knows the message
 *  is periodic with period `slots` (any ciphertext is one of N/2 slots; one of n slots is
 *  one of 2n slots whose halves agree), as bootstrapping's trace and sparse transforms do.
 *  slots a power of two in [1, N/2], else HEKV_ERR_ARG. */
HEKV_MUST_CHECK hekv_status hekv_ckks_ext_set_slots(hekv_eval *ev, hekv_ct *ct, size_t slots);
/** ModRaise: out holds in's polynomials (in at level 0, coefficients centred mod q_0)
 *  lifted to levels 0..level, so that out decrypts to m + q_0 I for a small integer
 *  polynomial I (|I| bounded by the secret's weight). Scale and slots kept. out may alias
 *  in. @return HEKV_ERR_LEVEL (in not at level 0, level out of range) */
HEKV_MUST_CHECK hekv_status hekv_ckks_ext_mod_raise(hekv_eval *ev, hekv_ct *out,
                                                    const hekv_ct *in, int level);

/* ------------------------------------------------------------------ key checks */

/** HEKV_OK when the evaluator holds a Galois key for a left rotation by k of ciphertexts of
 *  `slots` slots at `level` (k = 0 mod slots needs none); else HEKV_ERR_KEY_MISSING with a
 *  message naming fn, the rotation and the level. */
HEKV_MUST_CHECK hekv_status hekv_ckks_ext_need_rotation(hekv_eval *ev, const char *fn, long k,
                                                        size_t slots, int level);
/** The same for the relinearisation key at `level`. */
HEKV_MUST_CHECK hekv_status hekv_ckks_ext_need_relin(hekv_eval *ev, const char *fn,
                                                     int level);

#ifdef __cplusplus
}
#endif
#endif
