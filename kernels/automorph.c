/* automorph.c: index maps of the Galois automorphism X -> X^k (see automorph.h). Pure
 * precomputation, no SIMD variant. */
#include "automorph.h"
#include "ntt.h"

static int check(const uint32_t *src, int logn, uint64_t k) {
    if (!src || logn < 1 || logn > 30 || (k & 1) == 0) return HEKV_KERN_EINVAL;
    return HEKV_KERN_OK;
}

int hekv_automorph_map_coeff(uint32_t *src, int logn, uint64_t k) {
    int s = check(src, logn, k);
    if (s != HEKV_KERN_OK) return s;
    const uint64_t n = 1ULL << logn, mask2n = 2 * n - 1;
    /* Coefficient i moves to i*k mod 2n; past n it wraps with a sign (X^n = -1). */
    for (uint64_t i = 0; i < n; i++) {
        uint64_t j = (i * (k & mask2n)) & mask2n;
        src[j & (n - 1)] = (uint32_t)i | (j >= n ? HEKV_AUTOMORPH_NEG : 0);
    }
    return HEKV_KERN_OK;
}

int hekv_automorph_map_ntt(uint32_t *src, int logn, uint64_t k) {
    int s = check(src, logn, k);
    if (s != HEKV_KERN_OK) return s;
    const uint64_t n = 1ULL << logn, mask2n = 2 * n - 1;
    /* Slot i holds a(psi^e), e = 2*bitrev(i)+1; b(X) = a(X^k) has b(psi^e) = a(psi^(e*k)). */
    for (uint64_t i = 0; i < n; i++) {
        uint64_t e = 2 * (uint64_t)hekv_bitrev((uint32_t)i, logn) + 1;
        uint64_t ek = (e * (k & mask2n)) & mask2n;
        src[i] = hekv_bitrev((uint32_t)((ek - 1) / 2), logn);
    }
    return HEKV_KERN_OK;
}

void hekv_automorph_apply_ref(uint64_t *out, const uint64_t *in, const uint32_t *src,
                              size_t n, uint64_t q) {
    for (size_t j = 0; j < n; j++) {
        uint64_t v = in[src[j] & ~HEKV_AUTOMORPH_NEG];
        out[j] = (src[j] & HEKV_AUTOMORPH_NEG) ? (v ? q - v : 0) : v;
    }
}
