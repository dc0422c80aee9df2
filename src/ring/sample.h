/* sample.h: the randomness of hekv. A CSPRNG (ChaCha20 from libsodium, keyed from the OS
 * or from a 32-byte seed) and the samplers the CKKS layer draws from: uniform mod each
 * prime of a ring, uniform ternary, fixed-Hamming-weight sparse ternary and a bounded
 * discrete Gaussian. Small distributions come out as signed coefficient arrays so one
 * sample can be lifted into several rings (Q and P); hekv_poly_set_small does the lift.
 * No CKKS semantics here. */
#ifndef HEKV_SAMPLE_H
#define HEKV_SAMPLE_H

#include "ring.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HEKV_SEED_BYTES 32
#define HEKV_GAUSS_SIGMA 3.19
/** Tail cut of the discrete Gaussian, in standard deviations (|e| <= 6 sigma = 19). */
#define HEKV_GAUSS_TAIL 6.0

/** A ChaCha20 keystream (libsodium crypto_stream_chacha20_ietf) with a 32-byte key. Value
 *  struct: the caller owns it (stack is fine); wipe with hekv_prng_wipe. Not thread-safe. */
typedef struct hekv_prng {
    uint8_t key[HEKV_SEED_BYTES];
    uint64_t block;    /**< next ChaCha20 block counter */
    uint8_t buf[4096]; /**< keystream not yet handed out (64 blocks per refill) */
    size_t pos;        /**< first unused byte of buf (sizeof buf when empty) */
} hekv_prng;

/** Keys p from the operating system (getrandom). @return HEKV_ERR_IO if the OS fails. */
HEKV_MUST_CHECK hekv_status hekv_prng_init_os(hekv_prng *p, hekv_err *err);
/** Keys p from a 32-byte seed: the same seed gives the same stream (expandable `a`). */
void hekv_prng_init_seed(hekv_prng *p, const uint8_t seed[HEKV_SEED_BYTES]);
/** Fills out with len keystream bytes. */
void hekv_prng_bytes(hekv_prng *p, void *out, size_t len);
/** A uniform 64-bit word. */
uint64_t hekv_prng_u64(hekv_prng *p);
/** Wipes p (its key is secret when it generated secrets). */
void hekv_prng_wipe(hekv_prng *p);
/** 32 fresh bytes from the OS. @return HEKV_ERR_IO if the OS fails. */
HEKV_MUST_CHECK hekv_status hekv_os_random(uint8_t *out, size_t len, hekv_err *err);

/** Uniform residues mod q_i in every limb of p (rejection sampling, no bias). Uniform in
 *  coefficient form is uniform in NTT form, so the caller chooses what p->ntt means;
 *  this function leaves p->ntt unchanged. */
void hekv_sample_uniform(const hekv_ring *r, hekv_prng *prng, hekv_poly *p);
/** n coefficients uniform in {-1, 0, 1}. Branch-free in the secret values. */
void hekv_sample_ternary(hekv_prng *prng, int64_t *out, size_t n);
/** n coefficients in {-1, 0, 1} with exactly hw non-zero (uniform positions and signs);
 *  1 <= hw <= n. */
void hekv_sample_sparse_ternary(hekv_prng *prng, int64_t *out, size_t n, size_t hw);
/** n coefficients from the discrete Gaussian of standard deviation sigma, cut at
 *  tail*sigma (constant-time cumulative table walk). sigma in (0, 64]. */
void hekv_sample_gaussian(hekv_prng *prng, int64_t *out, size_t n, double sigma,
                                   double tail);
/** Lifts signed coefficients (|c| < q_i for every limb) into every limb of p, in
 *  coefficient form (p->ntt = 0). */
void hekv_poly_set_small(const hekv_ring *r, hekv_poly *p, const int64_t *coeffs);

#ifdef __cplusplus
}
#endif
#endif
