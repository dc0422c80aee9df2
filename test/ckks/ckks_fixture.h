/* ckks_fixture.h: the set-up the CKKS and packing suites share: a named (insecure, toy) parameter set
 * with a secret key, evaluation keys, encoder and evaluator (`ctx`), and the helpers the
 * suites build their checks from: encode / encrypt complex slot vectors at a given slot
 * count, level and scale, decrypt back to (re, im), fill vectors from the seeded test RNG,
 * and compare a decryption with expected slots under an error bound. Test-only code: every
 * helper asserts success through Criterion; nothing here is a check of its own. */
#ifndef HEKV_TEST_CKKS_FIXTURE_H
#define HEKV_TEST_CKKS_FIXTURE_H

#include <math.h>
#include <stdlib.h>

#include "hekv/ckks.h"
#include "hekv/ckks_client.h"
#include "test/util.h"

typedef struct {
    hekv_ckks_params *p;
    hekv_sk *sk;
    hekv_evk *evk;
    hekv_encoder *enc;
    hekv_eval *ev;
    size_t slots; /* what ct_encrypt / ct_random / check_ct encode and compare */
    int top;      /* max level */
    double scale; /* default scale */
} ctx;

/* Parameters built from lit with `threads` evaluator threads (0: the default) (asserts on
 * failure). */
static inline hekv_ckks_params *params_from_lit(const hekv_ckks_params_lit *lit, int threads) {
    hekv_err err;
    const hekv_ckks_opts opts = {.threads = threads};
    hekv_ckks_params *p = NULL;
    cr_assert_eq(hekv_ckks_params_new(lit, threads ? &opts : NULL, &p, &err), HEKV_OK, "%s: %s",
                 lit->name, err.msg);
    return p;
}

/* The named parameter set with `threads` evaluator threads (0: the default). */
static inline hekv_ckks_params *params_named_threads(const char *name, int threads) {
    hekv_ckks_params_lit lit;
    hekv_err err;
    cr_assert_eq(hekv_ckks_params_lit_named(name, &lit, &err), HEKV_OK, "%s", err.msg);
    return params_from_lit(&lit, threads);
}

/* The named parameter set, built (asserts on failure). */
static inline hekv_ckks_params *params_named(const char *name) {
    return params_named_threads(name, 0);
}

/* Adds the rotation keys rots[0..nrot) (and the conjugation key when conj) to c->evk; the
 * evaluator sees them at once. */
static inline void ctx_gen_rotations(ctx *c, const long *rots, size_t nrot, int conj) {
    hekv_err err;
    cr_assert_eq(hekv_ckks_evk_gen_rotations(c->evk, c->sk, rots, nrot, conj, -1, &err), HEKV_OK,
                 "%s", err.msg);
}

/* Parameters `name`, a secret key, an evaluation-key set with the relinearisation key when
 * relin and the rotation keys rots[0..nrot), an encoder and an evaluator. slots is the slot
 * count the helpers encode with (0: the set's maximum, N/2). */
static inline ctx ctx_new_keys(const char *name, size_t slots, int relin, const long *rots,
                               size_t nrot) {
    ctx c = {0};
    hekv_err err;
    c.p = params_named(name);
    cr_assert_eq(hekv_ckks_sk_new(c.p, &c.sk, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_evk_new(c.p, &c.evk, &err), HEKV_OK, "%s", err.msg);
    if (relin) cr_assert_eq(hekv_ckks_evk_gen_relin(c.evk, c.sk, -1, &err), HEKV_OK, "%s", err.msg);
    if (nrot) ctx_gen_rotations(&c, rots, nrot, 0);
    cr_assert_eq(hekv_ckks_encoder_new(c.p, &c.enc, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_eval_new(c.p, c.evk, &c.ev, &err), HEKV_OK, "%s", err.msg);
    c.slots = slots ? slots : hekv_ckks_params_max_slots(c.p);
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

/* A fresh empty ciphertext of c's parameter set. */
static inline hekv_ct *ct_new(const ctx *c) {
    hekv_ct *ct = NULL;
    hekv_err err;
    cr_assert_eq(hekv_ckks_ct_new(c->p, &ct, &err), HEKV_OK, "%s", err.msg);
    return ct;
}

/* (re, im) (im NULL: real) encoded into `slots` slots at level and scale. */
static inline hekv_pt *pt_encode(const ctx *c, const double *re, const double *im, size_t slots,
                                 int level, double scale) {
    hekv_pt *pt = NULL;
    hekv_err err;
    cr_assert_eq(hekv_ckks_pt_new(c->p, &pt, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_encode(c->enc, pt, re, im, slots, level, scale, &err), HEKV_OK,
                 "%s", err.msg);
    return pt;
}

/* A fresh secret-key encryption of pt. */
static inline hekv_ct *ct_encrypt_pt(const ctx *c, const hekv_pt *pt) {
    hekv_ct *ct = ct_new(c);
    hekv_err err;
    cr_assert_eq(hekv_ckks_encrypt_sk(c->sk, ct, pt, &err), HEKV_OK, "%s", err.msg);
    return ct;
}

/* A fresh encryption of (re, im) (im NULL: real) in `slots` slots at level and scale. */
static inline hekv_ct *ct_encrypt_cx(const ctx *c, const double *re, const double *im,
                                     size_t slots, int level, double scale) {
    hekv_pt *pt = pt_encode(c, re, im, slots, level, scale);
    hekv_ct *ct = ct_encrypt_pt(c, pt);
    hekv_ckks_pt_free(pt);
    return ct;
}

/* A fresh encryption of the real vector x[0..c->slots) at level and c->scale. */
static inline hekv_ct *ct_encrypt(const ctx *c, const double *x, int level) {
    return ct_encrypt_cx(c, x, NULL, c->slots, level, c->scale);
}

/* v[0..n) uniform in [lo, hi). */
static inline void fill(test_rng *g, double *v, size_t n, double lo, double hi) {
    for (size_t i = 0; i < n; i++) v[i] = test_uniform(g, lo, hi);
}

/* Fills re[0..c->slots), then im (unless NULL), uniform in [-1, 1), and encrypts them at
 * level and c->scale. */
static inline hekv_ct *ct_random(const ctx *c, test_rng *g, double *re, double *im, int level) {
    fill(g, re, c->slots, -1, 1);
    if (im) fill(g, im, c->slots, -1, 1);
    return ct_encrypt_cx(c, re, im, c->slots, level, c->scale);
}

/* Decrypts ct and decodes its hekv_ckks_ct_slots(ct) slots into re (and im unless NULL). */
static inline void ct_decrypt(const ctx *c, double *re, double *im, const hekv_ct *ct) {
    hekv_pt *pt = NULL;
    hekv_err err;
    cr_assert_eq(hekv_ckks_pt_new(c->p, &pt, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_decrypt(c->sk, pt, ct, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_decode(c->enc, re, im, pt, &err), HEKV_OK, "%s", err.msg);
    hekv_ckks_pt_free(pt);
}

/* max_i |dec(ct)_i - (ere_i + i eim_i)| over hekv_ckks_ct_slots(ct) slots (eim NULL: real
 * expected); a NaN slot makes the result NaN. */
static inline double ct_max_err(const ctx *c, const hekv_ct *ct, const double *ere,
                                const double *eim) {
    const size_t n = hekv_ckks_ct_slots(ct);
    double *re = malloc(n * sizeof *re), *im = malloc(n * sizeof *im);
    ct_decrypt(c, re, im, ct);
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = hypot(re[i] - ere[i], im[i] - (eim ? eim[i] : 0.0));
        if (!(d <= m)) m = d;
    }
    free(re);
    free(im);
    return m;
}

/* Asserts ct_max_err(c, ct, ere, eim) <= tol, logs it under `what`, and returns it. */
static inline double check_ct(const ctx *c, const hekv_ct *ct, const double *ere,
                              const double *eim, double tol, const char *what) {
    const double m = ct_max_err(c, ct, ere, eim);
    cr_log_info("%s: max error 2^%.2f (bound 2^%.2f)", what, log2(m), log2(tol));
    cr_assert(m <= tol, "%s: max error 2^%.2f exceeds the bound 2^%.2f", what, log2(m),
              log2(tol));
    return m;
}

#define OK(ev, call) cr_assert_eq((call), HEKV_OK, "%s: %s", #call, hekv_ckks_eval_last_error(ev))

#endif
