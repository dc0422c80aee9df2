/* hekv/ckks_client.h: the client side of CKKS: what needs the secret key. Sampling a secret
 * key, deriving the public key and the evaluation keys from it (relinearisation, Galois
 * and switching keys, each generated only up to the level it is used at), secret-key
 * encryption, decryption, and the secret key's file.
 *
 * Server code (bootstrapping, packing, the encrypted model, the server commands) never
 * includes this header, so it cannot name the secret-key type (STYLE R17; scripts/
 * check_layers.sh enforces it). Secret keys are wiped when freed and always saved with
 * mode 0600 by hekv_file_write (the type is in the file's header). */
#ifndef HEKV_CKKS_CLIENT_H
#define HEKV_CKKS_CLIENT_H

#include "hekv/ckks.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hekv_sk hekv_sk; /**< a secret key: client side only; wiped when freed */

/** Samples a secret key of the set's distribution (uniform ternary, or sparse ternary of
 *  the set's Hamming weight). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_sk_new(const hekv_ckks_params *p, hekv_sk **out,
                                                     hekv_err *err);
/** Samples a secret key of the set's ring with exactly hw non-zero ternary coefficients
 *  (1 <= hw <= N), whatever the set's own distribution: the ephemeral sparse secret of
 *  sparse-secret encapsulation (bootstrapping), which only ever meets a switching key. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_sk_new_sparse(const hekv_ckks_params *p, int hw,
                                                            hekv_sk **out, hekv_err *err);
HEKV_API void hekv_ckks_sk_free(hekv_sk *sk);
/** The number of non-zero coefficients of sk. */
HEKV_API int hekv_ckks_sk_hamming_weight(const hekv_sk *sk);

/** A public key (b = -a s + e, a) at the top level. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_pk_new(const hekv_ckks_params *p,
                                                     const hekv_sk *sk, hekv_pk **out,
                                                     hekv_err *err);

/** Adds the relinearisation key (s^2 -> s) over levels 0..max_level (< 0: the top). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_evk_gen_relin(hekv_evk *evk, const hekv_sk *sk,
                                                            int max_level, hekv_err *err);
/** Adds Galois keys for the given elements (odd, < 2N) over levels 0..max_level (< 0: the
 *  top): each costs (max_level / alpha + 1) digits of (max_level + 1 + np) limbs, so a key
 *  only used low in the circuit is small. An element already present at a level >= the one
 *  asked for is skipped; one present lower is replaced. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_evk_gen_galois(hekv_evk *evk, const hekv_sk *sk,
                                                             const uint64_t *galois, size_t n,
                                                             int max_level, hekv_err *err);
/** Adds Galois keys for left rotations by rots[0..n) and, if conj, for conjugation (as
 *  hekv_ckks_evk_gen_galois). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_evk_gen_rotations(hekv_evk *evk,
                                                                const hekv_sk *sk,
                                                                const long *rots, size_t n,
                                                                int conj, int max_level,
                                                                hekv_err *err);

/** Generates every key r asks for (hekv_ckks_keyreq in hekv/ckks.h) into evk: the
 *  relinearisation and Galois keys up to their levels and, for an encapsulation pair, a
 *  fresh ephemeral sparse secret (wiped before returning) with its two switching keys
 *  under their tags. Keys evk already holds at a level high enough are kept. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_evk_gen_request(hekv_evk *evk, const hekv_sk *sk,
                                                              const hekv_ckks_keyreq *r,
                                                              hekv_err *err);

/** A switching key from the secret `from` to the secret `to` (both keys of p) over levels
 *  0..max_level (< 0: the top), using the first `special` special primes of the set
 *  (<= 0: all). A switching key at level 0 with one special prime lives in the modulus
 *  q_0 p_0 only: the shape sparse-secret encapsulation needs (the key that moves a level-0
 *  ciphertext to the ephemeral sparse secret never exists at a larger modulus). With fewer
 *  special primes than the set has, P' = p_0 .. p_{special-1} must be at least every
 *  key-switching digit of levels 0..max_level (HEKV_ERR_PARAMS otherwise).
 *  @return HEKV_ERR_ARG, HEKV_ERR_PARAMS (keys of another set, P' too small), NOMEM */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_swk_new(const hekv_sk *from, const hekv_sk *to,
                                                      int max_level, int special,
                                                      hekv_swk **out, hekv_err *err);

/** ct = Enc_sk(pt) with a fresh seeded `a` (c1 expands from a 32-byte seed, so the
 *  ciphertext can be stored seed-compressed until it is first modified). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_encrypt_sk(const hekv_sk *sk, hekv_ct *ct,
                                                         const hekv_pt *pt, hekv_err *err);
/** pt = c0 + c1 s (level, scale and slots of ct). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_decrypt(const hekv_sk *sk, hekv_pt *pt,
                                                      const hekv_ct *ct, hekv_err *err);

/** Saves sk (2 bits a coefficient) into out, which hekv_buf_free wipes. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_sk_save(const hekv_sk *sk, hekv_buf *out,
                                                      hekv_err *err);
/** Loads a secret key of p (checks as the other loaders; a sparse set's key must have the
 *  set's weight). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_ckks_sk_load(const hekv_ckks_params *p,
                                                      const uint8_t *data, size_t len,
                                                      hekv_sk **out, hekv_err *err);

#ifdef __cplusplus
}
#endif
#endif
