/* basis_conv.c: RNS fast basis conversion (Bajard, Eynard, Hasan, Zucca 2016; the
 * building block of rescaling and of key switching's ModUp/ModDown). Precomputes
 * (B/b_i)^-1 mod b_i and (B/b_i) mod c_j once per (source limbs, target limbs) pair; the
 * apply step is one scalar multiplication per source limb followed by one dot-product
 * kernel per target limb, over cache blocks of coefficients (parallelised over blocks).
 * The result is approximate by a multiple u*B, as documented in ring.h: 0 <= u < k for
 * the plain variant; the centred variant (residues taken in (-b_i/2, b_i/2)) gives
 * |u| <= k/2 around the centred value and is an odd function of its input. This file
 * never corrects u. */
#include <stdlib.h>
#include <string.h>

#include "ring.h"

struct hekv_bconv {
    const hekv_ring *from, *to;
    int from_begin, k, to_begin, l;
    size_t n;
    uint64_t *qhat_inv;          /* [k] (B/b_i)^-1 mod b_i */
    uint64_t *coef;              /* [l][k] (B/b_i) mod c_j */
    uint64_t *coefc;             /* [l][k+1] the row of coef, then (-B) mod c_j (centred) */
    const hekv_kern_ops **dot;   /* [l] dot-product variant per target limb */
};

void hekv_bconv_free(hekv_bconv *bc) {
    if (!bc) return;
    free(bc->qhat_inv);
    free(bc->coef);
    free(bc->coefc);
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
    bc->coefc = calloc((size_t)(k + 1) * (size_t)l, sizeof(uint64_t));
    bc->dot = calloc((size_t)l, sizeof *bc->dot);
    if (!bc->qhat_inv || !bc->coef || !bc->coefc || !bc->dot) {
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
        /* centred: the same row, then -B mod c_j for the count of lifted residues */
        const hekv_modulus *cj = hekv_ring_modulus(to, to_begin + j);
        uint64_t b = 1 % cj->q;
        for (int m = 0; m < k; m++)
            b = hekv_mod_mul(b, hekv_ring_modulus(from, from_begin + m)->q % cj->q, cj);
        memcpy(bc->coefc + (size_t)j * (k + 1), bc->coef + (size_t)j * k,
               (size_t)k * sizeof(uint64_t));
        bc->coefc[(size_t)j * (k + 1) + k] = hekv_mod_neg(b, cj->q);
    }
    for (int j = 0; j < l; j++) {
        /* The IFMA dot product needs every input below 2^50; otherwise the scalar one. */
        const hekv_kern_ops *ops = hekv_ring_ops(to, to_begin + j);
        bc->dot[j] = all_ifma_inputs ? ops : &hekv_kern_scalar;
    }
    *out = bc;
    return HEKV_OK;
}

size_t hekv_bconv_scratch_words(const hekv_bconv *bc) { return ((size_t)bc->k + 1) * bc->n; }

void hekv_bconv_apply(const hekv_bconv *bc, uint64_t *out, const uint64_t *in,
                      uint64_t *scratch) {
    hekv_bconv_apply_prefix(bc, out, in, scratch, bc->l);
}

void hekv_bconv_apply_prefix(const hekv_bconv *bc, uint64_t *out, const uint64_t *in,
                             uint64_t *scratch, int lcount) {
    hekv_bconv_apply_multi(&bc, &out, &lcount, 1, in, scratch, 0, 0);
}

void hekv_bconv_apply_centered(const hekv_bconv *bc, uint64_t *out, const uint64_t *in,
                               uint64_t *scratch, int lcount) {
    hekv_bconv_apply_multi(&bc, &out, &lcount, 1, in, scratch, 1, 0);
}

/* Coefficients per cache block: the block's k scaled input rows (k * 2 KiB) stay in L1/L2
 * while every target limb reads them, instead of streaming all k input limbs from memory
 * once per target limb. Blocking only reorders independent coefficients: the result is
 * bit-identical to the unblocked loop. */
#define BCONV_BLOCK 256

/* Calls that write at least this much output store it non-temporally (bconv.h: stream):
 * such outputs (ModUp digits, ModDown conversions at N >= 2^13) are read back only after
 * they have left the cache, so caching them costs a read of every line and evicts the
 * block's rows. Half a 1 MiB L2: toy-N12 (256 KiB per call) was 7% slower streamed,
 * toy-N13 (768 KiB) 3-7% faster (Zen 4, one thread, key switches). */
#define BCONV_STREAM_MIN ((size_t)512 << 10)

void hekv_bconv_apply_multi(const hekv_bconv *const *bcs, uint64_t *const *outs,
                            const int *lcounts, int nplans, const uint64_t *in,
                            uint64_t *scratch, int centered, int threads) {
    const hekv_bconv *bc = bcs[0]; /* every plan shares its source limbs */
    const size_t n = bc->n, k = (size_t)bc->k;
    const size_t bs = n < BCONV_BLOCK ? n : BCONV_BLOCK, nb = n / bs; /* n = 2^logn */
    const size_t rows = k + (centered ? 1 : 0);
    if (threads <= 0) threads = hekv_ring_threads(bc->to);
    size_t out_words = 0;
    for (int p = 0; p < nplans; p++) out_words += (size_t)lcounts[p] * n;
    const int stream = out_words * sizeof(uint64_t) >= BCONV_STREAM_MIN;
    /* both dot-product kernels take any row count; MAX_K bounds plans, so k + 1 <= 65 */
    HEKV_DASSERT(rows <= HEKV_BCONV_MAX_K + 1);
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
    for (size_t b = 0; b < nb; b++) {
        const size_t x0 = b * bs;
        uint64_t *y = scratch + x0 * rows; /* block b's own [rows][bs] slice of the scratch */
        /* y_i = x_i * (B/b_i)^-1 mod b_i; centred: y_i - b_i for y_i > b_i/2, i.e. the
         * same dot product plus w * (-B), w the number of lifted residues of the
         * coefficient (an extra input row) */
        uint64_t *w = centered ? y + k * bs : NULL;
        if (w) memset(w, 0, bs * sizeof *w);
        for (size_t i = 0; i < k; i++) {
            int fi = bc->from_begin + (int)i;
            hekv_ring_ops(bc->from, fi)->bconv_scale(y + i * bs, w, in + i * n + x0,
                                                     bc->qhat_inv[i], bs,
                                                     hekv_ring_modulus(bc->from, fi));
        }
        /* out_j = sum_i y_i * (B/b_i) mod c_j */
        for (int p = 0; p < nplans; p++) {
            const hekv_bconv *pc = bcs[p];
            const uint64_t *coef = centered ? pc->coefc : pc->coef;
            for (int j = 0; j < lcounts[p]; j++)
                pc->dot[j]->bconv(outs[p] + (size_t)j * n + x0, y, coef + (size_t)j * rows, rows,
                                  bs, hekv_ring_modulus(pc->to, pc->to_begin + j), stream);
        }
    }
}
