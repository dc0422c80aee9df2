/* dispatch.c: the two const variant tables and the per-modulus choice between them. */
#include "kern.h"

const hekv_kern_ops hekv_kern_scalar = {
    .name = "scalar",
    .ntt_tab_new = hekv_ntt_tab_new_ref,
    .ntt_tab_free = hekv_ntt_tab_free_ref,
    .ntt_fwd = hekv_ntt_fwd_ref,
    .ntt_inv = hekv_ntt_inv_ref,
    .add = hekv_elt_add_ref,
    .sub = hekv_elt_sub_ref,
    .neg = hekv_elt_neg_ref,
    .mul = hekv_elt_mul_ref,
    .mul_scalar = hekv_elt_mul_scalar_ref,
    .fma = hekv_elt_fma_ref,
    .fma_scalar = hekv_elt_fma_scalar_ref,
    .sub_mul_scalar = hekv_elt_sub_mul_scalar_ref,
    .reduce = hekv_elt_reduce_ref,
    .dot2 = hekv_elt_dot2_ref,
    .bconv_scale = hekv_bconv_scale_ref,
    .bconv = hekv_bconv_ref,
    .automorph = hekv_automorph_apply_ref,
};

#ifndef HEKV_NO_AVX512
const hekv_kern_ops hekv_kern_avx512 = {
    .name = "avx512",
    .ntt_tab_new = hekv_ntt_tab_new_ifma,
    .ntt_tab_free = hekv_ntt_tab_free_ifma,
    .ntt_fwd = hekv_ntt_fwd_ifma,
    .ntt_inv = hekv_ntt_inv_ifma,
    .add = hekv_elt_add_ifma,
    .sub = hekv_elt_sub_ifma,
    .neg = hekv_elt_neg_ifma,
    .mul = hekv_elt_mul_ifma,
    .mul_scalar = hekv_elt_mul_scalar_ifma,
    .fma = hekv_elt_fma_ifma,
    .fma_scalar = hekv_elt_fma_scalar_ifma,
    .sub_mul_scalar = hekv_elt_sub_mul_scalar_ifma,
    .reduce = hekv_elt_reduce_ifma,
    .dot2 = hekv_elt_dot2_ifma,
    .bconv_scale = hekv_bconv_scale_ifma,
    .bconv = hekv_bconv_ifma,
    .automorph = hekv_automorph_apply_ifma,
};
#endif

const hekv_kern_ops *hekv_kern_select(hekv_kern_isa isa, uint64_t q, size_t n) {
#ifndef HEKV_NO_AVX512
    if (isa == HEKV_KERN_AVX512 && q < (1ULL << HEKV_IFMA_MAX_BITS) && n >= 16 &&
        hekv_cpu_has_avx512_kernels())
        return &hekv_kern_avx512;
#else
    (void)isa, (void)q, (void)n;
#endif
    return &hekv_kern_scalar;
}
