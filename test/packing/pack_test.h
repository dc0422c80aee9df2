/* pack_test.h: what the packing suites add to the CKKS fixture (test/ckks/ckks_fixture.h:
 * parameters, keys, encoder, evaluator, encryption and decryption): encryption of an
 * interleaved vector and a few size helpers. Test-only code. */
#ifndef HEKV_TEST_PACK_H
#define HEKV_TEST_PACK_H

#include <math.h>
#include <string.h>

#include "packing/pack_int.h"
#include "test/ckks/ckks_fixture.h"

/* Encrypts an interleaved d-vector (n values) at position pos, `other` elsewhere. */
static inline hekv_ct *ct_encrypt_vec(const ctx *c, const double *x, size_t n, size_t d,
                                        size_t pos, double other, int level) {
    hekv_pt *pt = NULL;
    hekv_err err;
    cr_assert_eq(hekv_ckks_pt_new(c->p, &pt, &err), HEKV_OK);
    cr_assert_eq(hekv_pack_vec_encode(c->enc, pt, x, n, d, pos, other, level, c->scale, &err),
                 HEKV_OK, "%s", err.msg);
    hekv_ct *ct = ct_new(c);
    cr_assert_eq(hekv_ckks_encrypt_sk(c->sk, ct, pt, &err), HEKV_OK, "%s", err.msg);
    hekv_ckks_pt_free(pt);
    return ct;
}

static inline double *rand_vec(test_rng *g, size_t n, double lo, double hi) {
    double *v = malloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = test_uniform(g, lo, hi);
    return v;
}

static inline size_t ilog2(size_t x) {
    size_t l = 0;
    while (((size_t)1 << l) < x) l++;
    return l;
}

static inline size_t pow2_up(size_t x) {
    size_t p = 1;
    while (p < x) p <<= 1;
    return p;
}

#endif
