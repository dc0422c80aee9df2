/* primes.h: NTT-friendly prime generation (q = 1 mod 2N) and primitive 2N-th roots of
 * unity. Scalar, deterministic, used only while building plans; no SIMD variant. */
#ifndef HEKV_KERNELS_PRIMES_H
#define HEKV_KERNELS_PRIMES_H

#include "modarith.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Deterministic Miller-Rabin primality test, exact for every 64-bit n. */
int hekv_is_prime(uint64_t n);

/** Writes count distinct primes q = 1 mod 2^(logn+1) with exactly `bits` bits, the largest
 *  such primes below 2^bits that are not in exclude[0..nexclude), in descending order.
 *  @return HEKV_KERN_EINVAL for bits outside [logn+2, HEKV_MODULUS_MAX_BITS] or logn outside
 *          [1, 20]; HEKV_KERN_ENOTFOUND when fewer than count such primes exist. */
HEKV_KERN_MUST_CHECK int hekv_primes_generate(uint64_t *out, int count, int bits,
                                                         int logn, const uint64_t *exclude,
                                                         int nexclude);

/** The smallest primitive 2^(logn+1)-th root of unity mod the prime q (q = 1 mod 2^(logn+1)).
 *  @return HEKV_KERN_EINVAL when q is not such a prime. */
HEKV_KERN_MUST_CHECK int hekv_primitive_root_2n(uint64_t q, int logn, uint64_t *psi);

#ifdef __cplusplus
}
#endif
#endif
