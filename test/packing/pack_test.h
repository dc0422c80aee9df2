/* pack_test.h: the fixture the packing suites share: a toy parameter set with a secret
 * key, an evaluation-key set that grows with the rotations each test asks for, encoder and
 * evaluator, and encryption/decryption of full slot vectors. Test-only code. */
#ifndef HEKV_TEST_PACK_H
#define HEKV_TEST_PACK_H

#include <math.h>
#include <string.h>

#include "hekv/ckks_client.h"
#include "packing/pack_int.h"
#include "test/util.h"

typedef struct {
    hekv_ckks_params *p;
    hekv_sk *sk;
    hekv_evk *evk;
    hekv_encoder *enc;
    hekv_eval *ev;
    size_t S;
    int top;
    double scale;
} pctx;

static inline void pctx_init(pctx *c, const char *name) {
    hekv_err err;
    hekv_ckks_params_lit lit;
    memset(c, 0, sizeof *c);
    cr_assert_eq(hekv_ckks_params_lit_named(name, &lit, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_params_new(&lit, NULL, &c->p, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_sk_new(c->p, &c->sk, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_evk_new(c->p, &c->evk, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_evk_gen_relin(c->evk, c->sk, -1, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_encoder_new(c->p, &c->enc, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_eval_new(c->p, c->evk, &c->ev, &err), HEKV_OK, "%s", err.msg);
    c->S = hekv_ckks_params_max_slots(c->p);
    c->top = hekv_ckks_params_max_level(c->p);
    c->scale = hekv_ckks_params_default_scale(c->p);
}

static inline void pctx_free(pctx *c) {
    hekv_ckks_eval_free(c->ev);
    hekv_ckks_encoder_free(c->enc);
    hekv_ckks_evk_free(c->evk);
    hekv_ckks_sk_free(c->sk);
    hekv_ckks_params_free(c->p);
}

static inline void pctx_keys(pctx *c, const long *rots, size_t n) {
    hekv_err err;
    cr_assert_eq(hekv_ckks_evk_gen_rotations(c->evk, c->sk, rots, n, 0, -1, &err), HEKV_OK, "%s",
                 err.msg);
}

static inline hekv_ct *pctx_ct(const pctx *c) {
    hekv_ct *ct = NULL;
    hekv_err err;
    cr_assert_eq(hekv_ckks_ct_new(c->p, &ct, &err), HEKV_OK, "%s", err.msg);
    return ct;
}

/* Encrypts a full slot vector v[S] at `level`. */
static inline hekv_ct *pctx_encrypt(const pctx *c, const double *v, int level) {
    hekv_pt *pt = NULL;
    hekv_err err;
    cr_assert_eq(hekv_ckks_pt_new(c->p, &pt, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_encode(c->enc, pt, v, NULL, c->S, level, c->scale, &err), HEKV_OK,
                 "%s", err.msg);
    hekv_ct *ct = pctx_ct(c);
    cr_assert_eq(hekv_ckks_encrypt_sk(c->sk, ct, pt, &err), HEKV_OK, "%s", err.msg);
    hekv_ckks_pt_free(pt);
    return ct;
}

/* Encrypts an interleaved d-vector (n values) at position pos, `fill` elsewhere. */
static inline hekv_ct *pctx_encrypt_vec(const pctx *c, const double *x, size_t n, size_t d,
                                        size_t pos, double fill, int level) {
    hekv_pt *pt = NULL;
    hekv_err err;
    cr_assert_eq(hekv_ckks_pt_new(c->p, &pt, &err), HEKV_OK);
    cr_assert_eq(hekv_pack_vec_encode(c->enc, pt, x, n, d, pos, fill, level, c->scale, &err),
                 HEKV_OK, "%s", err.msg);
    hekv_ct *ct = pctx_ct(c);
    cr_assert_eq(hekv_ckks_encrypt_sk(c->sk, ct, pt, &err), HEKV_OK, "%s", err.msg);
    hekv_ckks_pt_free(pt);
    return ct;
}

/* Decrypts all S slots of ct into v (real parts). */
static inline void pctx_decrypt(const pctx *c, double *v, const hekv_ct *ct) {
    hekv_pt *pt = NULL;
    hekv_err err;
    cr_assert_eq(hekv_ckks_pt_new(c->p, &pt, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_decrypt(c->sk, pt, ct, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_decode(c->enc, v, NULL, pt, &err), HEKV_OK, "%s", err.msg);
    hekv_ckks_pt_free(pt);
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
