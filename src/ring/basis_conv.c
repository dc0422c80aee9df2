/* basis_conv.c: RNS fast basis conversion (Bajard, Eynard, Hasan, Zucca 2016; the
 * building block of rescaling and of key switching's ModUp/ModDown). Precomputes
 * (B/b_i)^-1 mod b_i and (B/b_i) mod c_j once per (source limbs, target limbs) pair; the
 * apply step is one scalar multiplication per source limb followed by one dot-product
 * kernel per target limb, each parallelised over limbs. The result is approximate by a
 * multiple u*B, 0 <= u < k, as documented in ring.h: this file never corrects it. */
#include <stdlib.h>
#include <string.h>

#include "ring.h"

struct hekv_bconv {
    const hekv_ring *from, *to;
    int from_begin, k, to_begin, l;
    size_t n;
    uint64_t *qhat_inv;          /* [k] (B/b_i)^-1 mod b_i */
    uint64_t *coef;              /* [l][k] (B/b_i) mod c_j */
    const hekv_kern_ops **dot;   /* [l] dot-product variant per target limb */
};

void hekv_bconv_free(hekv_bconv *bc) {
    if (!bc) return;
    free(bc->qhat_inv);
    free(bc->coef);
    free(bc->dot);
    free(bc);
}

hekv_status hekv_bconv_new(const hekv_ring *from, int from_begin, int k, const hekv_ring *to,
                           int to_begin, int l, hekv_bconv **out, hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_bconv_new: out is NULL");
    *out = NULL;
    if (!from || !to || k < 1 || l < 1 || from_begin < 0 || to_begin < 0 ||
        from_begin + k > hekv_ring_nprimes(from) || to_begin + l > hekv_ring_nprimes(to) ||
        k > HEKV_BCONV_MAX_K || hekv_ring_n(from) != hekv_ring_n(to))
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "hekv_bconv_new: limb ranges [%d,+%d) -> [%d,+%d) do not fit the "
                            "rings (or k > %d, or ring degrees differ)",
                            from_begin, k, to_begin, l, HEKV_BCONV_MAX_K);
    hekv_bconv *bc = calloc(1, sizeof *bc);
    if (!bc) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_bconv_new: out of memory");
    bc->from = from, bc->to = to, bc->from_begin = from_begin, bc->k = k;
    bc->to_begin = to_begin, bc->l = l, bc->n = hekv_ring_n(from);
    bc->qhat_inv = calloc((size_t)k, sizeof(uint64_t));
    bc->coef = calloc((size_t)k * (size_t)l, sizeof(uint64_t));
    bc->dot = calloc((size_t)l, sizeof *bc->dot);
    if (!bc->qhat_inv || !bc->coef || !bc->dot) {
        hekv_bconv_free(bc);
        return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_bconv_new: out of memory");
    }
    int all_ifma_inputs = 1;
    for (int i = 0; i < k; i++) {
        const hekv_modulus *bi = hekv_ring_modulus(from, from_begin + i);
        all_ifma_inputs &= bi->bits <= HEKV_IFMA_MAX_BITS;
        /* (B/b_i) mod b_i as a product of the other source primes. */
        uint64_t prod = 1 % bi->q;
        for (int m = 0; m < k; m++)
            if (m != i)
                prod = hekv_mod_mul(prod, hekv_ring_modulus(from, from_begin + m)->q % bi->q, bi);
        bc->qhat_inv[i] = hekv_mod_inv_prime(prod, bi);
        for (int j = 0; j < l; j++) {
            const hekv_modulus *cj = hekv_ring_modulus(to, to_begin + j);
            uint64_t c = 1 % cj->q;
            for (int m = 0; m < k; m++)
                if (m != i)
                    c = hekv_mod_mul(c, hekv_ring_modulus(from, from_begin + m)->q % cj->q, cj);
            bc->coef[(size_t)j * k + i] = c;
        }
    }
    for (int j = 0; j < l; j++) {
        /* The IFMA dot product needs every input below 2^50; otherwise the scalar one. */
        const hekv_kern_ops *ops = hekv_ring_ops(to, to_begin + j);
        bc->dot[j] = all_ifma_inputs ? ops : &hekv_kern_scalar;
    }
    *out = bc;
    return HEKV_OK;
}

size_t hekv_bconv_scratch_words(const hekv_bconv *bc) { return (size_t)bc->k * bc->n; }

void hekv_bconv_apply(const hekv_bconv *bc, uint64_t *out, const uint64_t *in,
                      uint64_t *scratch) {
    hekv_bconv_apply_prefix(bc, out, in, scratch, bc->l);
}

void hekv_bconv_apply_prefix(const hekv_bconv *bc, uint64_t *out, const uint64_t *in,
                             uint64_t *scratch, int lcount) {
    const size_t n = bc->n;
    const int threads = hekv_ring_threads(bc->to);
    /* y_i = x_i * (B/b_i)^-1 mod b_i */
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
    for (int i = 0; i < bc->k; i++) {
        int fi = bc->from_begin + i;
        hekv_ring_ops(bc->from, fi)->mul_scalar(scratch + (size_t)i * n, in + (size_t)i * n,
                                                bc->qhat_inv[i], n,
                                                hekv_ring_modulus(bc->from, fi));
    }
    /* out_j = sum_i y_i * (B/b_i) mod c_j */
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
    for (int j = 0; j < lcount; j++)
        bc->dot[j]->bconv(out + (size_t)j * n, scratch, bc->coef + (size_t)j * bc->k,
                          (size_t)bc->k, n, hekv_ring_modulus(bc->to, bc->to_begin + j));
}
