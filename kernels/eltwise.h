/* eltwise.h: element-wise modular kernels on one RNS limb of n words, every variant with
 * the same signatures (R4). Inputs are fully reduced, in [0, q), and so are outputs.
 * out may alias any input (element-wise). scalar: q < 2^61; IFMA: q < 2^50. Any n >= 0. */
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
                                   const hekv_modulus *m);

/* add: a+b; sub: a-b; neg: -a; mul: a*b; mul_scalar: a*s (s in [0,q));
 * fma: out = out + a*b (the _acc contract); fma_scalar: out = out + a*s. */
HEKV_ELTWISE_DECLARE(ref)
HEKV_ELTWISE_DECLARE(ifma)

#ifdef __cplusplus
}
#endif
#endif
