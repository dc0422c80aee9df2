/* eltwise_ref.c: portable scalar element-wise modular kernels (see eltwise.h). */
#include "eltwise.h"

void hekv_elt_add_ref(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n,
                      const hekv_modulus *m) {
    for (size_t i = 0; i < n; i++) out[i] = hekv_mod_add(a[i], b[i], m->q);
}

void hekv_elt_sub_ref(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n,
                      const hekv_modulus *m) {
    for (size_t i = 0; i < n; i++) out[i] = hekv_mod_sub(a[i], b[i], m->q);
}

void hekv_elt_neg_ref(uint64_t *out, const uint64_t *a, size_t n, const hekv_modulus *m) {
    for (size_t i = 0; i < n; i++) out[i] = hekv_mod_neg(a[i], m->q);
}

void hekv_elt_mul_ref(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n,
                      const hekv_modulus *m) {
    for (size_t i = 0; i < n; i++) out[i] = hekv_mod_mul(a[i], b[i], m);
}

void hekv_elt_mul_scalar_ref(uint64_t *out, const uint64_t *a, uint64_t s, size_t n,
                             const hekv_modulus *m) {
    const uint64_t sp = hekv_mod_shoup(s, m->q);
    for (size_t i = 0; i < n; i++) out[i] = hekv_mod_mul_shoup(a[i], s, sp, m->q);
}

void hekv_elt_fma_ref(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n,
                      const hekv_modulus *m) {
    /* out + a*b < q + q^2 < q * 2^64, inside hekv_mod_reduce128's domain. */
    for (size_t i = 0; i < n; i++)
        out[i] = hekv_mod_reduce128((hekv_u128)a[i] * b[i] + out[i], m);
}

void hekv_elt_fma_scalar_ref(uint64_t *out, const uint64_t *a, uint64_t s, size_t n,
                             const hekv_modulus *m) {
    const uint64_t sp = hekv_mod_shoup(s, m->q);
    for (size_t i = 0; i < n; i++)
        out[i] = hekv_mod_add(out[i], hekv_mod_mul_shoup(a[i], s, sp, m->q), m->q);
}

void hekv_elt_sub_mul_scalar_ref(uint64_t *out, const uint64_t *a, const uint64_t *b,
                                 uint64_t s, size_t n, const hekv_modulus *m) {
    const uint64_t sp = hekv_mod_shoup(s, m->q);
    for (size_t i = 0; i < n; i++)
        out[i] = hekv_mod_mul_shoup(hekv_mod_sub(a[i], b[i], m->q), s, sp, m->q);
}

void hekv_elt_reduce_ref(uint64_t *out, const uint64_t *a, size_t n, const hekv_modulus *m) {
    for (size_t i = 0; i < n; i++) out[i] = a[i] % m->q;
}

void hekv_elt_dot2_ref(uint64_t *out0, uint64_t *out1, const uint64_t *const *x,
                       const uint64_t *const *b, const uint64_t *const *a, size_t k, size_t n,
                       const hekv_modulus *m) {
    for (size_t i = 0; i < n; i++) {
        uint64_t s0 = 0, s1 = 0;
        for (size_t j = 0; j < k; j++) {
            s0 = hekv_mod_add(s0, hekv_mod_mul(x[j][i], b[j][i], m), m->q);
            s1 = hekv_mod_add(s1, hekv_mod_mul(x[j][i], a[j][i], m), m->q);
        }
        out0[i] = s0;
        out1[i] = s1;
    }
}
