/* bconv_ref.c: portable scalar basis-conversion dot product (see bconv.h), written for
 * clarity: each product is reduced exactly (inputs may exceed q) and added mod q. */
#include "bconv.h"

void hekv_bconv_ref(uint64_t *out, const uint64_t *in, const uint64_t *coef, size_t k,
                    size_t n, const hekv_modulus *m, int stream) {
    (void)stream; /* plain stores: the scalar kernel is the reference, not the fast path */
    for (size_t x = 0; x < n; x++) {
        uint64_t acc = 0;
        for (size_t i = 0; i < k; i++) {
            /* in < 2^61 may exceed q: reduce the 122-bit product via its two halves. */
            hekv_u128 p = (hekv_u128)in[i * n + x] * coef[i];
            uint64_t hi = hekv_mod_reduce128(p >> 64, m);
            uint64_t r = hekv_mod_reduce128(((hekv_u128)hi << 64) | (uint64_t)p, m);
            acc = hekv_mod_add(acc, r, m->q);
        }
        out[x] = acc;
    }
}

void hekv_bconv_scale_ref(uint64_t *y, uint64_t *w, const uint64_t *x, uint64_t s, size_t n,
                          const hekv_modulus *m) {
    const uint64_t sp = hekv_mod_shoup(s, m->q), half = m->q / 2;
    for (size_t i = 0; i < n; i++) {
        y[i] = hekv_mod_mul_shoup(x[i], s, sp, m->q);
        if (w) w[i] += y[i] > half;
    }
}
