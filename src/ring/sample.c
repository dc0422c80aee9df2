/* sample.c: the CSPRNG and the samplers of sample.h. The keystream is libsodium's
 * ChaCha20 (IETF variant) under the 32-byte key, with the 64-bit block counter split into
 * the 32-bit IETF counter (low half) and the first nonce word (high half, zero for the
 * first 2^32 blocks = 256 GiB), so a seed defines one fixed byte stream however it is
 * consumed. Samplers that produce secrets (ternary, Gaussian) avoid branches on the
 * values they draw; sparse ternary positions come from a partial Fisher-Yates shuffle.
 * No CKKS semantics and no OpenMP here: sampling is cheap next to the NTTs that follow. */
#include "sample.h"

#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "kernels/modarith.h"

/* Writes nblocks keystream blocks starting at block `block` into out. */
static void chacha_blocks(const uint8_t key[HEKV_SEED_BYTES], uint64_t block, uint8_t *out,
                          size_t nblocks) {
    while (nblocks) {
        /* The IETF counter is 32 bits: never let one call cross a 2^32 boundary. */
        uint64_t room = (1ULL << 32) - (block & 0xffffffffULL);
        size_t nb = nblocks < room ? nblocks : (size_t)room;
        uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {0};
        uint32_t hi = (uint32_t)(block >> 32);
        nonce[0] = (uint8_t)hi, nonce[1] = (uint8_t)(hi >> 8);
        nonce[2] = (uint8_t)(hi >> 16), nonce[3] = (uint8_t)(hi >> 24);
        memset(out, 0, nb * 64);
        crypto_stream_chacha20_ietf_xor_ic(out, out, (unsigned long long)nb * 64, nonce,
                                           (uint32_t)block, key);
        out += nb * 64, block += nb, nblocks -= nb;
    }
}

static void prng_refill(hekv_prng *p) {
    chacha_blocks(p->key, p->block, p->buf, sizeof p->buf / 64);
    p->block += sizeof p->buf / 64;
    p->pos = 0;
}

hekv_status hekv_os_random(uint8_t *out, size_t len, hekv_err *err) {
    if (!out && len) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_os_random: out is NULL");
    size_t done = 0;
    while (done < len) {
        ssize_t r = getrandom(out + done, len - done, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            return hekv_err_set(err, HEKV_ERR_IO,
                                "getrandom failed (%s): the OS random source is unavailable",
                                strerror(errno));
        }
        done += (size_t)r;
    }
    return HEKV_OK;
}

void hekv_prng_init_seed(hekv_prng *p, const uint8_t seed[HEKV_SEED_BYTES]) {
    /* Lets libsodium pick its fastest ChaCha20 (idempotent; the reference one works
     * without it, so a failure here only costs speed). */
    if (sodium_init() < 0) p->pos = sizeof p->buf;
    memcpy(p->key, seed, HEKV_SEED_BYTES);
    p->block = 0;
    p->pos = sizeof p->buf;
}

hekv_status hekv_prng_init_os(hekv_prng *p, hekv_err *err) {
    if (!p) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_prng_init_os: p is NULL");
    uint8_t seed[HEKV_SEED_BYTES];
    hekv_status s = hekv_os_random(seed, sizeof seed, err);
    if (s != HEKV_OK) return s;
    hekv_prng_init_seed(p, seed);
    hekv_memzero(seed, sizeof seed);
    return HEKV_OK;
}

void hekv_prng_bytes(hekv_prng *p, void *out, size_t len) {
    uint8_t *o = out;
    while (len) {
        if (p->pos == sizeof p->buf) {
            /* Whole blocks straight into the output when the buffer is drained: the same
             * stream bytes as going through the buffer, without the copy. */
            if (len >= 64) {
                size_t nb = len / 64;
                chacha_blocks(p->key, p->block, o, nb);
                p->block += nb;
                o += nb * 64, len -= nb * 64;
                continue;
            }
            prng_refill(p);
        }
        size_t take = sizeof p->buf - p->pos;
        if (take > len) take = len;
        memcpy(o, p->buf + p->pos, take);
        hekv_memzero(p->buf + p->pos, take);
        p->pos += take, o += take, len -= take;
    }
}

uint64_t hekv_prng_u64(hekv_prng *p) {
    if (sizeof p->buf - p->pos < 8) {
        uint64_t v;
        hekv_prng_bytes(p, &v, sizeof v);
        return v;
    }
    uint64_t v;
    memcpy(&v, p->buf + p->pos, 8);
    memset(p->buf + p->pos, 0, 8);
    p->pos += 8;
    return v;
}

void hekv_prng_wipe(hekv_prng *p) {
    if (p) hekv_memzero(p, sizeof *p);
}

/* A value in [0, bound) from one 64-bit word by a widening multiply (bias < bound/2^64). */
static inline uint64_t mul_range(uint64_t r, uint64_t bound) {
    return (uint64_t)(((hekv_u128)r * bound) >> 64);
}

void hekv_sample_uniform(const hekv_ring *r, hekv_prng *prng, hekv_poly *p) {
    const size_t n = hekv_ring_n(r);
    for (size_t i = 0; i < p->limbs; i++) {
        const hekv_modulus *m = hekv_ring_modulus(r, (int)i);
        const uint64_t mask = m->bits >= 64 ? ~0ULL : (1ULL << m->bits) - 1, q = m->q;
        uint64_t *c = p->c + i * n;
        /* Rejection on masked words: the public a polynomials are exactly uniform. The
         * words are read straight from the keystream buffer (the same stream as
         * hekv_prng_u64, without a call per word) and the consumed bytes wiped at once. */
        for (size_t j = 0; j < n;) {
            if (sizeof prng->buf - prng->pos < 8) {
                /* a word straddles the refill (or the buffer is empty) */
                uint64_t v = hekv_prng_u64(prng) & mask;
                if (v < q) c[j++] = v;
                continue;
            }
            const size_t pos0 = prng->pos;
            size_t pos = pos0;
            while (j < n && pos + 8 <= sizeof prng->buf) {
                uint64_t v;
                memcpy(&v, prng->buf + pos, 8);
                pos += 8;
                v &= mask;
                c[j] = v;
                j += v < q;
            }
            memset(prng->buf + pos0, 0, pos - pos0);
            prng->pos = pos;
        }
    }
}

void hekv_sample_ternary(hekv_prng *prng, int64_t *out, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = (int64_t)mul_range(hekv_prng_u64(prng), 3) - 1;
}

void hekv_sample_sparse_ternary(hekv_prng *prng, int64_t *out, size_t n, size_t hw) {
    if (hw > n) hw = n;
    memset(out, 0, n * sizeof *out);
    uint32_t *idx = malloc(n * sizeof *idx);
    if (!idx) {
        /* No memory for the index: draw positions by rejection on out itself. */
        for (size_t k = 0; k < hw;) {
            size_t j = (size_t)mul_range(hekv_prng_u64(prng), n);
            if (out[j]) continue;
            out[j] = 1 - 2 * (int64_t)(hekv_prng_u64(prng) & 1);
            k++;
        }
        return;
    }
    for (size_t i = 0; i < n; i++) idx[i] = (uint32_t)i;
    /* Partial Fisher-Yates: the first hw entries of idx become a uniform hw-subset. */
    for (size_t i = 0; i < hw; i++) {
        uint64_t w = hekv_prng_u64(prng);
        /* position from the top 63 bits, sign from the low bit */
        size_t j = i + (size_t)(((hekv_u128)(w >> 1) * (n - i)) >> 63);
        uint32_t t = idx[i];
        idx[i] = idx[j], idx[j] = t;
        out[idx[i]] = 1 - 2 * (int64_t)(w & 1);
    }
    hekv_memzero(idx, n * sizeof *idx);
    free(idx);
}

#define GAUSS_MAX_BOUND 1023

void hekv_sample_gaussian(hekv_prng *prng, int64_t *out, size_t n, double sigma, double tail) {
    /* Cumulative table of |e| (folded distribution): rho(k) = exp(-k^2 / 2 sigma^2),
     * P(|e| = 0) = rho(0)/S, P(|e| = k) = 2 rho(k)/S for 1 <= k <= B, with 63-bit fixed
     * point entries cdt[k] = 2^63 * P(|e| <= k). */
    uint64_t cdt[GAUSS_MAX_BOUND + 1];
    double bd = floor(tail * sigma);
    int bound = bd < 1 ? 1 : bd > GAUSS_MAX_BOUND ? GAUSS_MAX_BOUND : (int)bd;
    double sum = 1.0;
    for (int k = 1; k <= bound; k++) sum += 2.0 * exp(-(double)k * k / (2.0 * sigma * sigma));
    double acc = 0;
    for (int k = 0; k <= bound; k++) {
        acc += (k ? 2.0 : 1.0) * exp(-(double)k * k / (2.0 * sigma * sigma)) / sum;
        double v = ldexp(acc, 63);
        cdt[k] = v >= 0x1p63 ? (1ULL << 63) : (uint64_t)v;
        if (cdt[k] == 0) cdt[k] = 1;
    }
    cdt[bound] = 1ULL << 63; /* the last entry covers all of [0, 2^63) */
    for (size_t i = 0; i < n; i++) {
        uint64_t w = hekv_prng_u64(prng);
        uint64_t r = w >> 1;                  /* 63 bits */
        uint64_t s = w & 1;                   /* sign */
        uint64_t mag = 0;
        /* Constant-time walk: every entry is compared; ge = 1 iff r >= cdt[k]. */
        for (int k = 0; k < bound; k++) mag += (cdt[k] - 1 - r) >> 63;
        out[i] = (int64_t)((mag ^ (0 - s)) + s);
    }
    hekv_memzero(cdt, sizeof cdt);
}

void hekv_poly_set_small(const hekv_ring *r, hekv_poly *p, const int64_t *coeffs) {
    const size_t n = hekv_ring_n(r);
    for (size_t i = 0; i < p->limbs; i++) {
        const uint64_t q = hekv_ring_modulus(r, (int)i)->q;
        uint64_t *c = p->c + i * n;
        for (size_t j = 0; j < n; j++) {
            uint64_t v = (uint64_t)coeffs[j];
            c[j] = v + (q & (0 - (v >> 63))); /* c + q when c < 0, branch-free */
        }
    }
    p->ntt = 0;
}
