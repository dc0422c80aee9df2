/* bconv.h: the inner kernel of RNS fast basis conversion (fast base extension,
 * Bajard et al. / HPS): one output limb as a dot product over input limbs,
 *     out[x] = sum_{i<k} in[i*n + x] * coef[i]  mod q,
 * where the caller has already multiplied each input limb by (B/b_i)^-1 mod b_i and coef[i]
 * = (B/b_i) mod q. The full conversion (and its documented approximation: the result is
 * x + u*B with 0 <= u < k) lives in src/ring/basis_conv.c.
 * Preconditions: coef[i] in [0, q); in values < 2^61 for scalar, < 2^50 for IFMA; k <= 64;
 * out does not alias in. Output fully reduced in [0, q).
 * stream = 1 asks for non-temporal stores of out (same values): for outputs the caller
 * will not read again while they could still be cached, where the stores would otherwise
 * first read every output line and displace the inputs. The IFMA kernel honours it (and
 * ends with a store fence); the scalar one ignores it. */
#ifndef HEKV_KERNELS_BCONV_H
#define HEKV_KERNELS_BCONV_H

#include "modarith.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HEKV_BCONV_MAX_K 64

/* The preparation of one input row: y[x] = in[x] * s mod q (s = (B/b_i)^-1 mod b_i, q = b_i,
 * in and s in [0, q)), and when w is not NULL, w[x] += 1 where y[x] > q/2 (the count of
 * residues the centred conversion lifts to y - q, an extra input row). */
void hekv_bconv_scale_ref(uint64_t *y, uint64_t *w, const uint64_t *x, uint64_t s, size_t n,
                          const hekv_modulus *m);
void hekv_bconv_scale_ifma(uint64_t *y, uint64_t *w, const uint64_t *x, uint64_t s, size_t n,
                           const hekv_modulus *m);

void hekv_bconv_ref(uint64_t *out, const uint64_t *in, const uint64_t *coef, size_t k,
                    size_t n, const hekv_modulus *m, int stream);
void hekv_bconv_ifma(uint64_t *out, const uint64_t *in, const uint64_t *coef, size_t k,
                     size_t n, const hekv_modulus *m, int stream);

#ifdef __cplusplus
}
#endif
#endif
