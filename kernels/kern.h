/* kern.h: the kernel dispatch table. Each variant (scalar reference, AVX-512 IFMA) exports
 * one const hekv_kern_ops; hekv_kern_select picks one per modulus (R6). Nothing here is
 * mutable: the chosen pointer lives in the caller's per-prime plan. */
#ifndef HEKV_KERNELS_KERN_H
#define HEKV_KERNELS_KERN_H

#include "automorph.h"
#include "bconv.h"
#include "cpu.h"
#include "eltwise.h"
#include "ntt.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hekv_kern_ops {
    const char *name; /**< "scalar" or "avx512" */
    void *(*ntt_tab_new)(uint64_t q, int logn, uint64_t psi);
    void (*ntt_tab_free)(void *tab);
    void (*ntt_fwd)(const void *tab, uint64_t *a, int in_factor, int out_factor);
    void (*ntt_inv)(const void *tab, uint64_t *a, int in_factor, int out_factor);
    void (*add)(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n,
                const hekv_modulus *m);
    void (*sub)(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n,
                const hekv_modulus *m);
    void (*neg)(uint64_t *out, const uint64_t *a, size_t n, const hekv_modulus *m);
    void (*mul)(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n,
                const hekv_modulus *m);
    void (*mul_scalar)(uint64_t *out, const uint64_t *a, uint64_t s, size_t n,
                       const hekv_modulus *m);
    void (*fma)(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n,
                const hekv_modulus *m);
    void (*fma_scalar)(uint64_t *out, const uint64_t *a, uint64_t s, size_t n,
                       const hekv_modulus *m);
    void (*sub_mul_scalar)(uint64_t *out, const uint64_t *a, const uint64_t *b, uint64_t s,
                           size_t n, const hekv_modulus *m);
    void (*reduce)(uint64_t *out, const uint64_t *a, size_t n, const hekv_modulus *m);
    void (*dot2)(uint64_t *out0, uint64_t *out1, const uint64_t *const *x,
                 const uint64_t *const *b, const uint64_t *const *a, size_t k, size_t n,
                 const hekv_modulus *m);
    void (*bconv_scale)(uint64_t *y, uint64_t *w, const uint64_t *x, uint64_t s, size_t n,
                        const hekv_modulus *m);
    void (*bconv)(uint64_t *out, const uint64_t *in, const uint64_t *coef, size_t k, size_t n,
                  const hekv_modulus *m, int stream);
    void (*automorph)(uint64_t *out, const uint64_t *in, const uint32_t *src, size_t n,
                      uint64_t q);
} hekv_kern_ops;

/** The scalar reference variant (always present). */
extern const hekv_kern_ops hekv_kern_scalar;
#ifndef HEKV_NO_AVX512
/** The AVX-512 IFMA variant; only valid for q < 2^50, n >= 16, on a CPU that has it. */
extern const hekv_kern_ops hekv_kern_avx512;
#endif

/** The variant for modulus q and transform size n under a resolved ISA (SCALAR or AVX512,
 *  see hekv_isa_resolve): AVX512 gives the IFMA variant when q < 2^50 and n >= 16, else
 *  the scalar one. Never NULL. */
const hekv_kern_ops *hekv_kern_select(hekv_kern_isa isa, uint64_t q, size_t n);

#ifdef __cplusplus
}
#endif
#endif
