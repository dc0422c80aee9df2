/* eltwise.h: element-wise modular kernels on one RNS limb of n words, every variant with
 * the same signatures (R4). Inputs are fully reduced, in [0, q), and so are outputs
 * (except reduce, whose input may exceed q). out may alias any input (element-wise).
 * scalar: q < 2^61; IFMA: q < 2^50. Any n >= 0. */
#ifndef HEKV_KERNELS_ELTWISE_H
#define HEKV_KERNELS_ELTWISE_H

#include "modarith.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HEKV_ELTWISE_DECLARE(sfx)                                                          \
    void hekv_elt_add_##sfx(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n, \
                            const hekv_modulus *m);                                        \
    void hekv_elt_sub_##sfx(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n, \
                            const hekv_modulus *m);                                        \
    void hekv_elt_neg_##sfx(uint64_t *out, const uint64_t *a, size_t n,                    \
                            const hekv_modulus *m);                                        \
    void hekv_elt_mul_##sfx(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n, \
                            const hekv_modulus *m);                                        \
    void hekv_elt_mul_scalar_##sfx(uint64_t *out, const uint64_t *a, uint64_t s, size_t n, \
                                   const hekv_modulus *m);                                 \
    void hekv_elt_fma_##sfx(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n, \
                            const hekv_modulus *m);                                        \
    void hekv_elt_fma_scalar_##sfx(uint64_t *out, const uint64_t *a, uint64_t s, size_t n, \
                                   const hekv_modulus *m);                                 \
    void hekv_elt_sub_mul_scalar_##sfx(uint64_t *out, const uint64_t *a, const uint64_t *b, \
                                       uint64_t s, size_t n, const hekv_modulus *m);       \
    void hekv_elt_reduce_##sfx(uint64_t *out, const uint64_t *a, size_t n,                 \
                               const hekv_modulus *m);                                     \
    void hekv_elt_dot2_##sfx(uint64_t *out0, uint64_t *out1, const uint64_t *const *x,     \
                             const uint64_t *const *b, const uint64_t *const *a, size_t k, \
                             size_t n, const hekv_modulus *m);

/* add: a+b; sub: a-b; neg: -a; mul: a*b; mul_scalar: a*s (s in [0,q));
 * fma: out = out + a*b (the _acc contract); fma_scalar: out = out + a*s;
 * sub_mul_scalar: (a - b)*s in one pass (ModDown's and rescale's last step);
 * reduce: a mod q for any a < 2^52 (residues of a larger modulus, lazy values);
 * dot2: the two inner products of key switching over k >= 1 input triples,
 *     out0 = sum_{j<k} x[j]*b[j],  out1 = sum_{j<k} x[j]*a[j]  mod q,
 *   x[j], b[j], a[j] each n words in [0, q); out0 and out1 are distinct and alias no
 *   input. */
HEKV_ELTWISE_DECLARE(ref)
HEKV_ELTWISE_DECLARE(ifma)

#ifdef __cplusplus
}
#endif
#endif
