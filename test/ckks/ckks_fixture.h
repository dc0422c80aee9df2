/* ckks_fixture.h: the set-up the CKKS evaluation suites share: a toy parameter set with
 * keys, encoder and evaluator, and encrypt / decrypt helpers for real slot vectors.
 * Test-only code. */
#ifndef HEKV_TEST_CKKS_FIXTURE_H
#define HEKV_TEST_CKKS_FIXTURE_H

#include <stdlib.h>

#include "../../src/ckks/ckks.h"
#include "../util.h"

typedef struct {
    hekv_ckks_params *p;
    hekv_sk *sk;
    hekv_evk *evk;
    hekv_encoder *enc;
    hekv_eval *ev;
    size_t slots;
    int top;
    double scale;
} ctx;

/* Parameters `name` (built insecure by name), a secret key, an evaluation-key set with the
 * relinearisation key when relin and the rotation keys rots[0..nrot), an encoder and an
 * evaluator; slots is the slot count the helpers encode with. */
static inline ctx ctx_new_keys(const char *name, size_t slots, int relin, const long *rots,
                               size_t nrot) {
    ctx c = {0};
    hekv_err err;
    hekv_ckks_params_lit lit;
    cr_assert_eq(hekv_ckks_params_lit_named(name, &lit, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_params_new(&lit, &c.p, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_sk_new(c.p, &c.sk, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_evk_new(c.p, &c.evk, &err), HEKV_OK, "%s", err.msg);
    if (relin) cr_assert_eq(hekv_ckks_evk_gen_relin(c.evk, c.sk, &err), HEKV_OK, "%s", err.msg);
    if (nrot)
        cr_assert_eq(hekv_ckks_evk_gen_rotations(c.evk, c.sk, rots, nrot, 0, &err), HEKV_OK,
                     "%s", err.msg);
    cr_assert_eq(hekv_ckks_encoder_new(c.p, &c.enc, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_eval_new(c.p, c.evk, &c.ev, &err), HEKV_OK, "%s", err.msg);
    c.slots = slots;
    c.top = hekv_ckks_params_max_level(c.p);
    c.scale = hekv_ckks_params_default_scale(c.p);
    return c;
}

static inline void ctx_free(ctx *c) {
    hekv_ckks_eval_free(c->ev);
    hekv_ckks_encoder_free(c->enc);
    hekv_ckks_evk_free(c->evk);
    hekv_ckks_sk_free(c->sk);
    hekv_ckks_params_free(c->p);
}

static inline hekv_ct *ct_encrypt(const ctx *c, const double *x, int level) {
    hekv_err err;
    hekv_pt *pt = NULL;
    hekv_ct *ct = NULL;
    cr_assert_eq(hekv_pt_new(c->p, &pt, &err), HEKV_OK);
    cr_assert_eq(hekv_ct_new(c->p, &ct, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_encode(c->enc, pt, x, NULL, c->slots, level, c->scale, &err), HEKV_OK,
                 "%s", err.msg);
    cr_assert_eq(hekv_ckks_encrypt_sk(c->sk, ct, pt, &err), HEKV_OK, "%s", err.msg);
    hekv_pt_free(pt);
    return ct;
}

static inline void ct_decrypt(const ctx *c, double *re, const hekv_ct *ct) {
    hekv_err err;
    hekv_pt *pt = NULL;
    double *im = malloc(c->slots * sizeof *im);
    cr_assert_eq(hekv_pt_new(c->p, &pt, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_decrypt(c->sk, pt, ct, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_decode(c->enc, re, im, pt, &err), HEKV_OK, "%s", err.msg);
    hekv_pt_free(pt);
    free(im);
}

#define OK(ev, call) cr_assert_eq((call), HEKV_OK, "%s: %s", #call, hekv_eval_last_error(ev))

#endif
