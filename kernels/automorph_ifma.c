/* automorph_ifma.c: AVX-512 signed gather that applies an automorphism index map (see
 * automorph.h). It does not build maps; those are in automorph.c.
 *
 * Eight outputs per vector: the map entries give a negate mask (bit 31, via vpmovd2m) and
 * eight indices; the eight inputs are loaded with scalar loads and assembled into one
 * vector, negated as q - v where the mask is set and v != 0, and stored with one vector
 * store. vpgatherdq was measured on the target (Zen 5, n = 2^16, coefficient and NTT
 * maps): about 6.5 ns per 8-lane gather whatever the access pattern, 1.5-3x slower than
 * scalar loads plus assembly, so it is not used. The tail (n mod 8) uses a masked load of
 * the map and a masked store. */
#include <immintrin.h>

#include "automorph.h"

#define LANES 8
#define IDX 0x7fffffffu

/* in[s & IDX] for eight map entries s, as one vector. */
static inline __m512i load8(const uint64_t *in, const uint32_t *s) {
    return _mm512_set_epi64((long long)in[s[7] & IDX], (long long)in[s[6] & IDX],
                            (long long)in[s[5] & IDX], (long long)in[s[4] & IDX],
                            (long long)in[s[3] & IDX], (long long)in[s[2] & IDX],
                            (long long)in[s[1] & IDX], (long long)in[s[0] & IDX]);
}

/* v, or q - v in the lanes of neg where v != 0. */
static inline __m512i negate_where(__m512i v, __mmask8 neg, __m512i q) {
    return _mm512_mask_sub_epi64(v, _mm512_mask_test_epi64_mask(neg, v, v), q, v);
}

void hekv_automorph_apply_ifma(uint64_t *out, const uint64_t *in, const uint32_t *src,
                               size_t n, uint64_t q) {
#ifdef HEKV_DEBUG
    for (size_t j = 0; j < n; j++) HEKV_KERN_DASSERT((src[j] & IDX) < n && in[j] < q);
#endif
    const __m512i vq = _mm512_set1_epi64((long long)q);
    size_t j = 0;
    for (; j + LANES <= n; j += LANES) {
        __mmask8 neg = _mm256_movepi32_mask(_mm256_loadu_si256((const __m256i *)(src + j)));
        _mm512_storeu_si512(out + j, negate_where(load8(in, src + j), neg, vq));
    }
    if (j < n) {
        const __mmask8 t = (__mmask8)((1u << (n - j)) - 1);
        uint32_t s[LANES] = {0}; /* unused lanes read in[0]; they are not stored */
        _mm256_storeu_si256((__m256i *)s, _mm256_maskz_loadu_epi32(t, src + j));
        __mmask8 neg = _mm256_movepi32_mask(_mm256_loadu_si256((const __m256i *)s));
        _mm512_mask_storeu_epi64(out + j, t, negate_where(load8(in, s), neg, vq));
    }
}
