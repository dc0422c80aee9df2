/* ntt.h: forward and inverse negacyclic NTT over Z_q[X]/(X^N + 1) on one RNS limb, every
 * variant with the same signatures (R4). Each variant lays out its own twiddle table.
 *
 * Conventions shared by all variants (tests hold them to these):
 *  - forward: natural-order coefficients in, bit-reversed evaluations out:
 *      out[i] = a(psi^(2*bitrev(i) + 1)) mod q, psi the table's primitive 2N-th root;
 *  - inverse: exactly undoes forward (bit-reversed in, natural order out, scaled by 1/N);
 *  - forward input in [0, in_factor*q), in_factor in {1, 2, 4}; output in
 *    [0, out_factor*q), out_factor in {1, 4};
 *  - inverse input in [0, in_factor*q), in_factor in {1, 2}; output in [0, out_factor*q),
 *    out_factor in {1, 2};
 *  - outputs with out_factor 1 are fully reduced and identical across variants; lazy
 *    outputs are congruent mod q but may differ by multiples of q between variants;
 *  - scalar: q < 2^61; IFMA: q < 2^50 and N >= 16 (the dispatcher enforces it);
 *  - in place, single-threaded, re-entrant; tables are read-only after creation. */
#ifndef HEKV_KERNELS_NTT_H
#define HEKV_KERNELS_NTT_H

#include "modarith.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HEKV_NTT_MIN_LOGN 4
#define HEKV_NTT_MAX_LOGN 17

/** Builds the table for (q, 2^logn, psi); NULL when allocation fails. */
void *hekv_ntt_tab_new_ref(uint64_t q, int logn, uint64_t psi);
void hekv_ntt_tab_free_ref(void *tab);
void hekv_ntt_fwd_ref(const void *tab, uint64_t *a, int in_factor, int out_factor);
void hekv_ntt_inv_ref(const void *tab, uint64_t *a, int in_factor, int out_factor);

void *hekv_ntt_tab_new_ifma(uint64_t q, int logn, uint64_t psi);
void hekv_ntt_tab_free_ifma(void *tab);
void hekv_ntt_fwd_ifma(const void *tab, uint64_t *a, int in_factor, int out_factor);
void hekv_ntt_inv_ifma(const void *tab, uint64_t *a, int in_factor, int out_factor);

/** Bit reversal of the low `bits` bits of x. */
static inline uint32_t hekv_bitrev(uint32_t x, int bits) {
    x = ((x & 0x55555555u) << 1) | ((x >> 1) & 0x55555555u);
    x = ((x & 0x33333333u) << 2) | ((x >> 2) & 0x33333333u);
    x = ((x & 0x0F0F0F0Fu) << 4) | ((x >> 4) & 0x0F0F0F0Fu);
    x = ((x & 0x00FF00FFu) << 8) | ((x >> 8) & 0x00FF00FFu);
    x = (x << 16) | (x >> 16);
    return bits ? x >> (32 - bits) : 0;
}

#ifdef __cplusplus
}
#endif
#endif
