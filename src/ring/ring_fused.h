/* ring_fused.h: the fused limb passes of the CKKS hot paths (key switching with ModDown,
 * rescaling, public-key encryption). They are ring operations (limb-parallel, in cache),
 * but each is shaped after one CKKS step; src/ckks is their only user. */
#ifndef HEKV_RING_FUSED_H
#define HEKV_RING_FUSED_H

#include "src/ring/ring.h"

#ifdef __cplusplus
extern "C" {
#endif

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

/** The product of a key switch without a ModDown (double hoisting keeps it in the
 *  extended basis): (out0, out1) = (dot0, dot1) on the first out0->limbs limbs, NTT form.
 *  out0, out1 alias nothing else. */
void hekv_ring_ks_dot(const hekv_ring *r, hekv_poly *out0, hekv_poly *out1,
                      const hekv_ring_ks_args *ks);

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

#ifdef __cplusplus
}
#endif
#endif
