/* oracles.h: independent oracles for the test suites (R9), implemented in C++ on top of
 * established libraries (NTL for polynomial arithmetic) and declared here with C linkage
 * so that the Criterion suites, written in C, can call them. Test-only code: never linked
 * into the library. Each oracle computes its answer from scratch, without hekv code. */
#ifndef HEKV_TEST_ORACLES_H
#define HEKV_TEST_ORACLES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- NTL (test/oracles/ntl_oracle.cpp) ------------------------------------------------ */

/** out = a * b in Z_q[X]/(X^n + 1), by NTL's ZZ_pX MulMod modulo X^n + 1.
 *  a, b: n coefficients each, lowest degree first, every one in [0, q); out: n
 *  coefficients in [0, q). out may alias a or b. Any modulus 2 <= q < 2^64 (prime or not).
 *  @return 0 on success; -1 when n == 0, q < 2 or a coefficient is >= q; -2 when NTL
 *          reports an error. */
int hekv_oracle_ntl_negacyclic_mul(uint64_t *out, const uint64_t *a, const uint64_t *b,
                                   size_t n, uint64_t q);

#ifdef __cplusplus
}
#endif
#endif
