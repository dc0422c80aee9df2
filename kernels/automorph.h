/* automorph.h: Galois automorphisms X -> X^k (k odd) as index maps, in coefficient form
 * and in the bit-reversed NTT form of ntt.h, plus the signed gather that applies a map.
 *
 * A map src[0..n) says, for each output index j, where it reads from: the low 31 bits are
 * the input index, bit 31 set means negate (only coefficient-form maps negate, because
 * X^n = -1). Applying: out[j] = (src[j] >> 31) ? -in[src[j] & 0x7fffffff] : in[src[j]].
 * out must not alias in; values in [0, q) in and out. */
#ifndef HEKV_KERNELS_AUTOMORPH_H
#define HEKV_KERNELS_AUTOMORPH_H

#include "modarith.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HEKV_AUTOMORPH_NEG 0x80000000u

/** Map of X -> X^k on coefficients, for n = 2^logn; k must be odd (mod 2n). */
HEKV_KERN_MUST_CHECK int hekv_automorph_map_coeff(uint32_t *src, int logn,
                                                             uint64_t k);
/** Map of X -> X^k on bit-reversed NTT values (ntt.h ordering); k must be odd (mod 2n). */
HEKV_KERN_MUST_CHECK int hekv_automorph_map_ntt(uint32_t *src, int logn,
                                                           uint64_t k);

void hekv_automorph_apply_ref(uint64_t *out, const uint64_t *in, const uint32_t *src,
                              size_t n, uint64_t q);
void hekv_automorph_apply_ifma(uint64_t *out, const uint64_t *in, const uint32_t *src,
                               size_t n, uint64_t q);

#ifdef __cplusplus
}
#endif
#endif
