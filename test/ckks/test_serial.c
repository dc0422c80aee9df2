/* test_serial.c: the CKKS objects in the hekv file format (serial.c on the base layer's
 * container and codec). Round trips of every object type are bit-exact (residues compared
 * limb by limb; seeded objects re-expand to the same `a`; keys of lower levels and fewer
 * special primes keep their shape), seed-compressed files are smaller than full ones, and
 * every loader rejects, with an error and without crashing, (a) truncations, (b) single-bit
 * flips, (c) files of another parameter set, (d) files of another object type and (e)
 * garbage, including files whose checksum was recomputed after forging a header field or a
 * residue. A forged parameter file that weakens the set (sigma, the insecure flag, the
 * name) is refused. The file calls (modes, atomic replace, non-regular files) are tested
 * in test/base. */
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test/ckks/ckks_fixture.h"
#include "src/base/container.h"
#include "src/ckks/ckks_int.h"

/* ---- fixture: a named set with every object type -------------------------------------- */

#define FIX_SLOTS 64

typedef struct {
    ctx c;           /* params, sk, evk, encoder, evaluator; FIX_SLOTS slots */
    hekv_pk *pk;
    hekv_pt *pt;     /* (re, im) at the top level */
    hekv_ct *ct_sk;  /* fresh sk encryption at the top level: seeded */
    hekv_ct *ct_pk;  /* pk encryption: not seeded */
    hekv_ct *ct_low; /* fresh sk encryption of re at level 0: small seeded file */
    double re[FIX_SLOTS], im[FIX_SLOTS];
} fix;

/* with_evk: the relinearisation key, rotations 1 and -3 and conjugation. */
static void fix_init(fix *f, const char *name, int with_evk) {
    memset(f, 0, sizeof *f);
    f->c = ctx_new_keys(name, FIX_SLOTS, with_evk, NULL, 0);
    hekv_err err;
    if (with_evk) {
        const long rots[] = {1, -3};
        ctx_gen_rotations(&f->c, rots, 2, 1);
        /* a Galois key only up to level 2, and a tagged q_0 p_0 switching key */
        const long low[] = {5};
        cr_assert_eq(hekv_ckks_evk_gen_rotations(f->c.evk, f->c.sk, low, 1, 0, 2, &err),
                     HEKV_OK, "%s", err.msg);
        hekv_swk *k = NULL;
        cr_assert_eq(hekv_ckks_swk_new(f->c.sk, f->c.sk, 0, 1, &k, &err), HEKV_OK, "%s",
                     err.msg);
        cr_assert_eq(hekv_ckks_evk_add_swk(f->c.evk, 0xb0075eed, k, &err), HEKV_OK);
    }
    cr_assert_eq(hekv_ckks_pk_new(f->c.p, f->c.sk, &f->pk, &err), HEKV_OK, "%s", err.msg);
    test_rng g = test_rng_new(0x5e71a1);
    for (int i = 0; i < FIX_SLOTS; i++) {
        f->re[i] = test_uniform(&g, -1, 1);
        f->im[i] = test_uniform(&g, -1, 1);
    }
    f->pt = pt_encode(&f->c, f->re, f->im, FIX_SLOTS, f->c.top, f->c.scale);
    f->ct_sk = ct_encrypt_pt(&f->c, f->pt);
    f->ct_pk = ct_new(&f->c);
    cr_assert_eq(hekv_ckks_encrypt_pk(f->pk, f->ct_pk, f->pt, &err), HEKV_OK, "%s", err.msg);
    f->ct_low = ct_encrypt(&f->c, f->re, 0);
}

static void fix_free(fix *f) {
    hekv_ckks_ct_free(f->ct_sk);
    hekv_ckks_ct_free(f->ct_pk);
    hekv_ckks_ct_free(f->ct_low);
    hekv_ckks_pt_free(f->pt);
    hekv_ckks_pk_free(f->pk);
    ctx_free(&f->c);
}

/* ---- comparison helpers --------------------------------------------------------------- */

static void assert_poly_eq(const hekv_poly *a, const hekv_poly *b, size_t limbs,
                           const char *what) {
    cr_assert_geq(a->limbs, limbs, "%s: limbs", what);
    cr_assert_geq(b->limbs, limbs, "%s: limbs", what);
    cr_assert_eq(a->n, b->n, "%s: N", what);
    cr_assert_eq(a->ntt, b->ntt, "%s: form", what);
    long d = test_first_diff(a->c, b->c, limbs * a->n);
    cr_assert_eq(d, -1, "%s: residue %ld differs", what, d);
}

static void assert_qp_eq(const hekv__qp_poly *a, const hekv__qp_poly *b, int nq, int np,
                         const char *what) {
    assert_poly_eq(&a->q, &b->q, (size_t)nq, what);
    assert_poly_eq(&a->p, &b->p, (size_t)np, what);
}

static void assert_swk_eq(const hekv_swk *a, const hekv_swk *b) {
    cr_assert_eq(a->level, b->level);
    cr_assert_eq(a->ndigits, b->ndigits);
    cr_assert_eq(a->ksb->np, b->ksb->np);
    cr_assert_eq(a->has_seed, b->has_seed);
    if (a->has_seed) cr_assert_eq(memcmp(a->seed, b->seed, HEKV_SEED_BYTES), 0);
    for (int j = 0; j < a->ndigits; j++) {
        assert_qp_eq(&a->b[j], &b->b[j], a->level + 1, a->ksb->np, "swk b_j");
        assert_qp_eq(&a->a[j], &b->a[j], a->level + 1, a->ksb->np, "swk a_j");
    }
}

static void assert_ct_eq(const hekv_ct *a, const hekv_ct *b) {
    cr_assert_eq(a->level, b->level);
    cr_assert_eq(a->scale, b->scale);
    cr_assert_eq(a->slots, b->slots);
    cr_assert_eq(a->has_seed, b->has_seed);
    if (a->has_seed) cr_assert_eq(memcmp(a->seed, b->seed, HEKV_SEED_BYTES), 0);
    assert_poly_eq(&a->c[0], &b->c[0], (size_t)a->level + 1, "c0");
    assert_poly_eq(&a->c[1], &b->c[1], (size_t)a->level + 1, "c1");
}

/* Recomputes the checksum of a buffer after a test forged a field. */
static void reseal(uint8_t *buf, size_t len) {
    crypto_generichash(buf + len - 32, 32, buf, len - 32, NULL, 0);
}

/* ---- the loaders behind one signature, for the corruption sweeps --------------------- */

/* Loads buf as object `type`, frees whatever was built; returns the status. */
static hekv_status load_any(const hekv_ckks_params *p, int type, const uint8_t *buf, size_t len,
                            hekv_err *err) {
    hekv_status s = HEKV_ERR_ARG;
    switch (type) {
    case HEKV_OBJ_PARAMS: {
        hekv_ckks_params *q = NULL;
        s = hekv_ckks_params_load(buf, len, NULL, &q, err);
        hekv_ckks_params_free(q);
        break;
    }
    case HEKV_OBJ_SK: {
        hekv_sk *k = NULL;
        s = hekv_ckks_sk_load(p, buf, len, &k, err);
        hekv_ckks_sk_free(k);
        break;
    }
    case HEKV_OBJ_PK: {
        hekv_pk *k = NULL;
        s = hekv_ckks_pk_load(p, buf, len, &k, err);
        hekv_ckks_pk_free(k);
        break;
    }
    case HEKV_OBJ_EVK: {
        hekv_evk *k = NULL;
        s = hekv_ckks_evk_load(p, buf, len, &k, err);
        hekv_ckks_evk_free(k);
        break;
    }
    case HEKV_OBJ_CT: {
        hekv_ct *c = NULL;
        s = hekv_ckks_ct_load(p, buf, len, &c, err);
        hekv_ckks_ct_free(c);
        break;
    }
    case HEKV_OBJ_PT: {
        hekv_pt *c = NULL;
        s = hekv_ckks_pt_load(p, buf, len, &c, err);
        hekv_ckks_pt_free(c);
        break;
    }
    }
    return s;
}

/* Serialises the fixture's object of `type` (ct: the small level-0 one unless `big`). */
static void save_any(fix *f, int type, int big, uint8_t **buf, size_t *len) {
    hekv_err err;
    hekv_status s = HEKV_ERR_ARG;
    hekv_buf b = {0};
    switch (type) {
    case HEKV_OBJ_PARAMS: s = hekv_ckks_params_save(f->c.p, &b, &err); break;
    case HEKV_OBJ_SK: s = hekv_ckks_sk_save(f->c.sk, &b, &err); break;
    case HEKV_OBJ_PK: s = hekv_ckks_pk_save(f->pk, &b, &err); break;
    case HEKV_OBJ_EVK: s = hekv_ckks_evk_save(f->c.evk, &b, &err); break;
    case HEKV_OBJ_CT: s = hekv_ckks_ct_save(big ? f->ct_pk : f->ct_low, &b, &err); break;
    case HEKV_OBJ_PT: s = hekv_ckks_pt_save(f->pt, &b, &err); break;
    }
    cr_assert_eq(s, HEKV_OK, "save type %d: %s", type, err.msg);
    *buf = b.data; /* the tests free it with free(), as a plain malloc'd buffer */
    *len = b.len;
}

/* The object type a buffer's container says it holds. */
static int peek(const uint8_t *buf, size_t len) {
    hekv_file_info info;
    hekv_err err;
    cr_assert_eq(hekv_file_peek(buf, len, &info, &err), HEKV_OK, "%s", err.msg);
    return (int)info.type;
}

static const char *type_name(int t) {
    static const char *n[] = {"?", "params", "sk", "pk", "evk", "ct", "pt"};
    return t >= 1 && t <= 6 ? n[t] : "?";
}

/* ---- round trips ---------------------------------------------------------------------- */

Test(ckks_serial, params_round_trip) {
    const char *names[] = {"toy-N12", "toy-N13"};
    for (int t = 0; t < 2; t++) {
        hekv_ckks_params *p = params_named(names[t]);
        hekv_err err;
        hekv_buf b = {0};
        cr_assert_eq(hekv_ckks_params_save(p, &b, &err), HEKV_OK, "%s", err.msg);
        uint8_t *buf = b.data;
        const size_t len = b.len;
        cr_assert_eq(peek(buf, len), HEKV_OBJ_PARAMS);
        hekv_ckks_params *q = NULL;
        const hekv_ckks_opts opts = {.isa = HEKV_ISA_SCALAR, .threads = 2};
        cr_assert_eq(hekv_ckks_params_load(buf, len, &opts, &q, &err), HEKV_OK, "%s", err.msg);
        cr_assert_str_eq(hekv_ckks_params_name(q), names[t]);
        cr_assert_eq(memcmp(hekv_ckks_params_fingerprint(p), hekv_ckks_params_fingerprint(q),
                            HEKV_FINGERPRINT_BYTES), 0);
        cr_assert_eq(q->nq, p->nq);
        cr_assert_eq(q->np, p->np);
        cr_assert_eq(q->dnum, p->dnum);
        cr_assert_eq(q->scale, p->scale);
        cr_assert_eq(q->lit.sigma, p->lit.sigma);
        cr_assert_eq(q->lit.insecure, p->lit.insecure);
        cr_assert_eq(hekv_ckks_params_threads(q), 2);
        cr_assert_str_eq(hekv_ring_ops(q->rq, 0)->name, "scalar");
        for (int i = 0; i < p->nq; i++)
            cr_assert_eq(hekv_ckks_params_q(p, i), hekv_ckks_params_q(q, i));
        for (int i = 0; i < p->np; i++)
            cr_assert_eq(hekv_ckks_params_p(p, i), hekv_ckks_params_p(q, i));
        free(buf);
        hekv_ckks_params_free(q);
        hekv_ckks_params_free(p);
    }
}

Test(ckks_serial, sk_round_trip) {
    fix f;
    fix_init(&f, "toy-N12", 0);
    uint8_t *buf;
    size_t len;
    hekv_err err;
    save_any(&f, HEKV_OBJ_SK, 0, &buf, &len);
    /* 2 bits per coefficient */
    cr_assert_eq(len, 64 + 8 + f.c.p->n / 4 + 32);
    hekv_sk *sk = NULL;
    cr_assert_eq(hekv_ckks_sk_load(f.c.p, buf, len, &sk, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(memcmp(sk->coeffs, f.c.sk->coeffs, f.c.p->n * sizeof(int64_t)), 0);
    assert_poly_eq(&sk->sq, &f.c.sk->sq, (size_t)f.c.p->nq, "sq");
    assert_poly_eq(&sk->sp, &f.c.sk->sp, (size_t)f.c.p->np, "sp");
    /* the loaded key decrypts what the original encrypted */
    hekv_pt *pt = NULL;
    cr_assert_eq(hekv_ckks_pt_new(f.c.p, &pt, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_decrypt(sk, pt, f.ct_pk, &err), HEKV_OK, "%s", err.msg);
    double re[FIX_SLOTS], im[FIX_SLOTS];
    cr_assert_eq(hekv_ckks_decode(f.c.enc, re, im, pt, &err), HEKV_OK, "%s", err.msg);
    for (int i = 0; i < FIX_SLOTS; i++) {
        cr_assert_float_eq(re[i], f.re[i], 1e-6);
        cr_assert_float_eq(im[i], f.im[i], 1e-6);
    }
    sodium_memzero(buf, len);
    free(buf);
    hekv_ckks_pt_free(pt);
    hekv_ckks_sk_free(sk);
    fix_free(&f);
}

Test(ckks_serial, pk_round_trip_seeded_and_full) {
    fix f;
    fix_init(&f, "toy-N12", 0);
    hekv_err err;
    uint8_t *b1, *b2;
    size_t l1, l2;
    cr_assert(f.pk->has_seed);
    save_any(&f, HEKV_OBJ_PK, 0, &b1, &l1);
    f.pk->has_seed = 0;
    save_any(&f, HEKV_OBJ_PK, 0, &b2, &l2);
    f.pk->has_seed = 1;
    cr_assert_lt(l1, l2);
    cr_assert_lt(l1 + l1 / 2, l2, "seeded %zu bytes vs full %zu", l1, l2);
    /* packed: 50-bit primes take 50 bits, not 64 */
    size_t qp_words = ((size_t)f.c.p->nq + (size_t)f.c.p->np) * f.c.p->n;
    cr_assert_lt(l2, 2 * qp_words * 8 * 50 / 64 + 200, "full pk %zu bytes is not packed", l2);
    hekv_pk *a = NULL, *b = NULL;
    cr_assert_eq(hekv_ckks_pk_load(f.c.p, b1, l1, &a, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_pk_load(f.c.p, b2, l2, &b, &err), HEKV_OK, "%s", err.msg);
    cr_assert(a->has_seed);
    cr_assert_eq(memcmp(a->seed, f.pk->seed, HEKV_SEED_BYTES), 0);
    cr_assert_not(b->has_seed);
    assert_qp_eq(&a->b, &f.pk->b, f.c.p->nq, f.c.p->np, "pk b (seeded file)");
    assert_qp_eq(&a->a, &f.pk->a, f.c.p->nq, f.c.p->np, "pk a (re-expanded)");
    assert_qp_eq(&b->b, &f.pk->b, f.c.p->nq, f.c.p->np, "pk b (full file)");
    assert_qp_eq(&b->a, &f.pk->a, f.c.p->nq, f.c.p->np, "pk a (full file)");
    free(b1);
    free(b2);
    hekv_ckks_pk_free(a);
    hekv_ckks_pk_free(b);
    fix_free(&f);
}

Test(ckks_serial, evk_round_trip) {
    fix f;
    fix_init(&f, "toy-N12", 1);
    hekv_err err;
    cr_assert(f.c.evk->relin && f.c.evk->ngal == 4 && f.c.evk->nswk == 1);
    uint8_t *b1, *b2;
    size_t l1, l2;
    save_any(&f, HEKV_OBJ_EVK, 0, &b1, &l1);
    /* a mix: relin, one Galois key and the tagged key stored in full */
    hekv_swk *full[3] = {f.c.evk->relin, f.c.evk->galk[2], f.c.evk->swk[0].k};
    for (int i = 0; i < 3; i++) full[i]->has_seed = 0;
    save_any(&f, HEKV_OBJ_EVK, 0, &b2, &l2);
    cr_assert_lt(l1, l2);
    hekv_evk *a = NULL, *b = NULL;
    cr_assert_eq(hekv_ckks_evk_load(f.c.p, b2, l2, &b, &err), HEKV_OK, "%s", err.msg);
    for (int i = 0; i < 3; i++) full[i]->has_seed = 1;
    cr_assert_eq(hekv_ckks_evk_load(f.c.p, b1, l1, &a, &err), HEKV_OK, "%s", err.msg);
    for (int v = 0; v < 2; v++) {
        hekv_evk *e = v ? b : a;
        cr_assert(hekv_ckks_evk_has_relin(e));
        cr_assert_eq(e->ngal, f.c.evk->ngal);
        cr_assert_eq(e->nswk, 1);
        cr_assert_eq(e->swk[0].tag, 0xb0075eed);
        if (v) { /* compare residues; the seeds are still the same */
            hekv_swk *got[3] = {e->relin, e->galk[2], e->swk[0].k};
            for (int i = 0; i < 3; i++) {
                got[i]->has_seed = 1;
                memcpy(got[i]->seed, full[i]->seed, HEKV_SEED_BYTES);
            }
        }
        assert_swk_eq(e->relin, f.c.evk->relin);
        for (size_t i = 0; i < e->ngal; i++) {
            cr_assert_eq(e->gal[i], f.c.evk->gal[i]);
            assert_swk_eq(e->galk[i], f.c.evk->galk[i]);
        }
        assert_swk_eq(e->swk[0].k, f.c.evk->swk[0].k);
        cr_assert_eq(hekv_ckks_evk_galois_level(e, hekv_ckks_galois_rot(f.c.p, 5)), 2);
        cr_assert_eq(hekv_ckks_swk_special(hekv_ckks_evk_swk(e, 0xb0075eed)), 1);
        cr_assert_eq(hekv_ckks_evk_bytes(e), hekv_ckks_evk_bytes(f.c.evk));
    }
    /* an empty key set round-trips too */
    hekv_evk *empty = NULL, *e2 = NULL;
    cr_assert_eq(hekv_ckks_evk_new(f.c.p, &empty, &err), HEKV_OK);
    hekv_buf b3 = {0};
    cr_assert_eq(hekv_ckks_evk_save(empty, &b3, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_evk_load(f.c.p, b3.data, b3.len, &e2, &err), HEKV_OK, "%s", err.msg);
    cr_assert_not(hekv_ckks_evk_has_relin(e2));
    cr_assert_eq(hekv_ckks_evk_galois_count(e2), 0);
    free(b1);
    free(b2);
    hekv_buf_free(&b3);
    hekv_ckks_evk_free(a);
    hekv_ckks_evk_free(b);
    hekv_ckks_evk_free(empty);
    hekv_ckks_evk_free(e2);
    fix_free(&f);
}

Test(ckks_serial, ct_pt_round_trip) {
    fix f;
    fix_init(&f, "toy-N12", 0);
    hekv_err err;
    hekv_ct *cts[] = {f.ct_sk, f.ct_pk, f.ct_low};
    hekv_ct *got = NULL;
    size_t seeded_len = 0, full_len = 0;
    for (int i = 0; i < 3; i++) {
        hekv_buf b = {0};
        cr_assert_eq(hekv_ckks_ct_save(cts[i], &b, &err), HEKV_OK, "%s", err.msg);
        if (i == 0) seeded_len = b.len;
        if (i == 1) full_len = b.len;
        hekv_ckks_ct_free(got);
        got = NULL;
        cr_assert_eq(hekv_ckks_ct_load(f.c.p, b.data, b.len, &got, &err), HEKV_OK, "%s",
                     err.msg);
        assert_ct_eq(got, cts[i]);
        hekv_buf_free(&b);
    }
    cr_assert(f.ct_sk->has_seed && !f.ct_pk->has_seed);
    cr_assert_lt(seeded_len + seeded_len / 2, full_len, "seeded %zu vs full %zu", seeded_len,
                 full_len);
    /* the loaded ciphertext decrypts to the message */
    hekv_pt *pt = NULL;
    cr_assert_eq(hekv_ckks_pt_new(f.c.p, &pt, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_decrypt(f.c.sk, pt, got, &err), HEKV_OK, "%s", err.msg);
    double re[FIX_SLOTS];
    cr_assert_eq(hekv_ckks_decode(f.c.enc, re, NULL, pt, &err), HEKV_OK, "%s", err.msg);
    for (int i = 0; i < FIX_SLOTS; i++) cr_assert_float_eq(re[i], f.re[i], 1e-6);
    hekv_ckks_pt_free(pt);
    /* the plaintext */
    hekv_buf b = {0};
    cr_assert_eq(hekv_ckks_pt_save(f.pt, &b, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_pt_load(f.c.p, b.data, b.len, &pt, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(pt->level, f.pt->level);
    cr_assert_eq(pt->scale, f.pt->scale);
    cr_assert_eq(pt->slots, f.pt->slots);
    assert_poly_eq(&pt->m, &f.pt->m, (size_t)pt->level + 1, "pt m");
    hekv_buf_free(&b);
    /* a non-default scale survives bit-exactly */
    f.ct_pk->scale = 0x1.23456789abcdep+71;
    cr_assert_eq(hekv_ckks_ct_save(f.ct_pk, &b, &err), HEKV_OK);
    hekv_ckks_ct_free(got);
    cr_assert_eq(hekv_ckks_ct_load(f.c.p, b.data, b.len, &got, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(got->scale, 0x1.23456789abcdep+71);
    hekv_buf_free(&b);
    hekv_ckks_pt_free(pt);
    hekv_ckks_ct_free(got);
    fix_free(&f);
}

Test(ckks_serial, save_rejects_bad_objects) {
    fix f;
    fix_init(&f, "toy-N12", 0);
    hekv_err err;
    hekv_buf b = {(uint8_t *)1, 7};
    hekv_ct *empty = ct_new(&f.c);
    cr_assert_eq(hekv_ckks_ct_save(empty, &b, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_ct_save(NULL, &b, &err), HEKV_ERR_ARG);
    b.data = NULL, b.len = 0;
    /* a non-ternary secret cannot be written in the 2-bit format */
    int64_t keep = f.c.sk->coeffs[5];
    f.c.sk->coeffs[5] = 2;
    cr_assert_eq(hekv_ckks_sk_save(f.c.sk, &b, &err), HEKV_ERR_ARG);
    f.c.sk->coeffs[5] = -2;
    cr_assert_eq(hekv_ckks_sk_save(f.c.sk, &b, &err), HEKV_ERR_ARG);
    f.c.sk->coeffs[5] = keep;
    cr_assert_null(b.data);
    hekv_ckks_ct_free(empty);
    fix_free(&f);
}

/* ---- corruption sweeps ---------------------------------------------------------------- */

/* (a) truncations: every length below `every`, plus `samples` random ones and the lengths
 * next to the end. */
static void sweep_truncations(fix *f, int type, size_t every, int samples) {
    uint8_t *buf;
    size_t len;
    save_any(f, type, 0, &buf, &len);
    test_rng g = test_rng_new(0x7a0c + (uint64_t)type);
    hekv_err err;
    cr_assert_eq(load_any(f->c.p, type, buf, len, &err), HEKV_OK, "%s intact: %s",
                 type_name(type), err.msg);
    size_t n = every < len ? every : len;
    size_t ncuts = n + (size_t)samples + 40;
    for (size_t l = 0; l < ncuts; l++) {
        size_t cut;
        if (l < n)
            cut = l; /* every short length */
        else if (l < n + (size_t)samples)
            cut = test_below(&g, len); /* random lengths */
        else
            cut = len - 1 - (l - n - (size_t)samples); /* just short of the end */
        if (cut >= len) continue;
        uint8_t *copy = malloc(cut ? cut : 1); /* exact size: ASan sees any over-read */
        memcpy(copy, buf, cut);
        hekv_status s = load_any(f->c.p, type, copy, cut, &err);
        cr_assert_eq(s, HEKV_ERR_FORMAT, "%s cut to %zu of %zu bytes: status %d", type_name(type),
                     cut, len, s);
        free(copy);
    }
    /* the message names the problem */
    size_t cut = len - (len > 200 ? 100 : 10);
    uint8_t *copy = malloc(cut);
    memcpy(copy, buf, cut);
    cr_assert_eq(load_any(f->c.p, type, copy, cut, &err), HEKV_ERR_FORMAT);
    cr_assert(strstr(err.msg, "truncated") && strstr(err.msg, "header says"), "message: %s",
              err.msg);
    free(copy);
    free(buf);
}

Test(ckks_serial, truncations_rejected) {
    fix f;
    fix_init(&f, "toy-N12", 1);
    sweep_truncations(&f, HEKV_OBJ_PARAMS, SIZE_MAX, 0);
    sweep_truncations(&f, HEKV_OBJ_SK, SIZE_MAX, 0);
    sweep_truncations(&f, HEKV_OBJ_CT, test_full() ? SIZE_MAX : 4096, 300);
    sweep_truncations(&f, HEKV_OBJ_PT, 2048, 200);
    sweep_truncations(&f, HEKV_OBJ_PK, 2048, 200);
    sweep_truncations(&f, HEKV_OBJ_EVK, 1024, 60);
    fix_free(&f);
}

/* (b) single-bit flips: every bit of the first `head` bytes, `sumbits` bits of the
 * checksum and `samples` random positions; each must be caught (checksum or earlier). */
static void sweep_flips(fix *f, int type, size_t head, size_t sumbits, int samples) {
    uint8_t *buf;
    size_t len;
    save_any(f, type, 0, &buf, &len);
    test_rng g = test_rng_new(0xf11b + (uint64_t)type);
    hekv_err err;
    size_t hb = head < len ? head : len;
    size_t total = 8 * hb + sumbits + (size_t)samples;
    for (size_t t = 0; t < total; t++) {
        size_t bit;
        if (t < 8 * hb)
            bit = t;
        else if (t < 8 * hb + sumbits)
            bit = 8 * (len - 32) + (t - 8 * hb) * 256 / sumbits;
        else
            bit = test_below(&g, 8 * len);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        hekv_status s = load_any(f->c.p, type, buf, len, &err);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        cr_assert_eq(s, HEKV_ERR_FORMAT, "%s: flip of bit %zu of %zu bytes not caught (%d)",
                     type_name(type), bit, len, s);
    }
    /* a flip in the payload is a checksum failure with that message */
    buf[len - 40] ^= 4;
    cr_assert_eq(load_any(f->c.p, type, buf, len, &err), HEKV_ERR_FORMAT);
    cr_assert(strstr(err.msg, "checksum"), "message: %s", err.msg);
    free(buf);
}

Test(ckks_serial, bit_flips_rejected) {
    fix f;
    fix_init(&f, "toy-N12", 1);
    sweep_flips(&f, HEKV_OBJ_PARAMS, SIZE_MAX, 256, 0);
    sweep_flips(&f, HEKV_OBJ_SK, SIZE_MAX, 256, 0);
    sweep_flips(&f, HEKV_OBJ_CT, 256, 256, 1500);
    sweep_flips(&f, HEKV_OBJ_PT, 128, 64, 200);
    sweep_flips(&f, HEKV_OBJ_PK, 96, 32, 100);
    sweep_flips(&f, HEKV_OBJ_EVK, 112, 16, 16);
    fix_free(&f);
}

/* (c) files of another parameter set, and (d) of another object type. */
Test(ckks_serial, other_set_and_wrong_type_rejected) {
    fix a, b;
    fix_init(&a, "toy-N12", 1);
    fix_init(&b, "toy-N13", 1);
    hekv_err err;
    for (int t = HEKV_OBJ_SK; t <= HEKV_OBJ_PT; t++) {
        uint8_t *buf;
        size_t len;
        save_any(&b, t, 0, &buf, &len);
        cr_assert_eq(load_any(a.c.p, t, buf, len, &err), HEKV_ERR_PARAMS, "%s of toy-N13",
                     type_name(t));
        cr_assert(strstr(err.msg, "toy-N13") && strstr(err.msg, "toy-N12"), "message: %s",
                  err.msg);
        free(buf);
    }
    for (int t = HEKV_OBJ_PARAMS; t <= HEKV_OBJ_PT; t++) {
        uint8_t *buf;
        size_t len;
        save_any(&a, t, 0, &buf, &len);
        cr_assert_eq(peek(buf, len), t);
        for (int u = HEKV_OBJ_PARAMS; u <= HEKV_OBJ_PT; u++) {
            if (u == t) continue;
            cr_assert_eq(load_any(a.c.p, u, buf, len, &err), HEKV_ERR_FORMAT, "%s as %s",
                         type_name(t), type_name(u));
            cr_assert(strstr(err.msg, "not a"), "message: %s", err.msg);
        }
        free(buf);
    }
    fix_free(&a);
    fix_free(&b);
}

/* (e) garbage: random bytes, random bytes behind a valid magic and version, and empty. */
Test(ckks_serial, garbage_rejected) {
    fix f;
    fix_init(&f, "toy-N12", 0);
    test_rng g = test_rng_new(0x9a7b);
    hekv_err err;
    for (int it = 0; it < 300; it++) {
        size_t len = it < 100 ? (size_t)it : test_below(&g, 70000);
        uint8_t *buf = malloc(len ? len : 1);
        for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)test_u64(&g);
        if (it % 2 && len >= 8) {
            memcpy(buf, "HEKV", 4);
            buf[4] = HEKV_FORMAT_VERSION, buf[5] = 0;
            buf[6] = (uint8_t)(1 + it % 6);
        }
        if (it % 4 == 3 && len >= 96) { /* consistent length field and checksum too */
            for (int i = 0; i < 8; i++) buf[8 + i] = (uint8_t)((uint64_t)len >> (8 * i));
            buf[7] = 0;
            memcpy(buf + 16, hekv_ckks_params_fingerprint(f.c.p), 16);
            reseal(buf, len);
        }
        for (int t = HEKV_OBJ_PARAMS; t <= HEKV_OBJ_PT; t++) {
            hekv_status s = load_any(f.c.p, t, buf, len, &err);
            cr_assert(s == HEKV_ERR_FORMAT || s == HEKV_ERR_PARAMS,
                      "garbage of %zu bytes as %s: status %d", len, type_name(t), s);
        }
        free(buf);
    }
    hekv_file_info info;
    cr_assert_eq(hekv_file_peek((const uint8_t *)"HEK", 3, &info, &err), HEKV_ERR_FORMAT);
    cr_assert_eq(hekv_file_peek(NULL, 0, &info, &err), HEKV_ERR_ARG);
    fix_free(&f);
}

/* Files with a valid checksum but a forged field: each rejected with a message naming it. */
static void expect_forged(fix *f, int type, const uint8_t *orig, size_t len, size_t off,
                          const void *val, size_t vlen, const char *needle) {
    uint8_t *buf = malloc(len);
    memcpy(buf, orig, len);
    memcpy(buf + off, val, vlen);
    reseal(buf, len);
    hekv_err err;
    hekv_status s = load_any(f->c.p, type, buf, len, &err);
    cr_assert(s == HEKV_ERR_FORMAT || s == HEKV_ERR_PARAMS || s == HEKV_ERR_INSECURE,
              "%s forged at %zu: status %d", type_name(type), off, s);
    cr_assert(strstr(err.msg, needle), "%s forged at %zu: message '%s' lacks '%s'",
              type_name(type), off, err.msg, needle);
    free(buf);
}

static void put64(uint8_t *b, uint64_t v) {
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
}

Test(ckks_serial, forged_fields_rejected) {
    fix f;
    fix_init(&f, "toy-N12", 1);
    uint8_t *buf, v[8];
    size_t len;
    /* ciphertext: level, scale, slots, residue, flags, version, length */
    save_any(&f, HEKV_OBJ_CT, 0, &buf, &len);
    put64(v, 8);
    expect_forged(&f, HEKV_OBJ_CT, buf, len, 64, v, 4, "level");
    put64(v, 0x7ff8000000000000ULL); /* NaN */
    expect_forged(&f, HEKV_OBJ_CT, buf, len, 72, v, 8, "scale");
    put64(v, 0xbff0000000000000ULL); /* -1.0 */
    expect_forged(&f, HEKV_OBJ_CT, buf, len, 72, v, 8, "scale");
    put64(v, 0x7ff0000000000000ULL); /* +inf */
    expect_forged(&f, HEKV_OBJ_CT, buf, len, 72, v, 8, "scale");
    put64(v, 48);
    expect_forged(&f, HEKV_OBJ_CT, buf, len, 80, v, 8, "slots");
    put64(v, f.c.p->n);
    expect_forged(&f, HEKV_OBJ_CT, buf, len, 80, v, 8, "slots");
    put64(v, 0);
    expect_forged(&f, HEKV_OBJ_CT, buf, len, 80, v, 8, "slots");
    memset(v, 0xff, 8); /* first residue of c0 = 2^50 - 1 > q_0 */
    expect_forged(&f, HEKV_OBJ_CT, buf, len, 88, v, 7, "below its prime");
    v[0] = 0x80;
    expect_forged(&f, HEKV_OBJ_CT, buf, len, 7, v, 1, "flags");
    v[0] = 0; /* flag "seeded" cleared: c1 would need a whole limb */
    expect_forged(&f, HEKV_OBJ_CT, buf, len, 7, v, 1, "truncated");
    put64(v, HEKV_FORMAT_VERSION + 1);
    expect_forged(&f, HEKV_OBJ_CT, buf, len, 4, v, 2, "version");
    memcpy(v, "HEKW", 4);
    expect_forged(&f, HEKV_OBJ_CT, buf, len, 0, v, 4, "magic");
    put64(v, 1);
    expect_forged(&f, HEKV_OBJ_CT, buf, len, 64, v, 4, "truncated"); /* level 1 */
    v[0] = 1;
    expect_forged(&f, HEKV_OBJ_CT, buf, len, 16, v, 1, "parameter set");
    free(buf);
    /* a full ciphertext flagged seeded: content longer than its fields describe */
    save_any(&f, HEKV_OBJ_CT, 1, &buf, &len);
    v[0] = 1;
    expect_forged(&f, HEKV_OBJ_CT, buf, len, 7, v, 1, "size mismatch");
    free(buf);
    /* plaintext level too high */
    save_any(&f, HEKV_OBJ_PT, 0, &buf, &len);
    put64(v, 200);
    expect_forged(&f, HEKV_OBJ_PT, buf, len, 64, v, 4, "level");
    free(buf);
    /* evaluation keys: Galois table order, tag order, dnum, relin flag, counts, key flags,
     * key level and special primes */
    save_any(&f, HEKV_OBJ_EVK, 0, &buf, &len);
    const size_t tab = 64 + 24, ngal = f.c.evk->ngal, key0 = tab + 8 * ngal + 4;
    put64(v, 1);
    expect_forged(&f, HEKV_OBJ_EVK, buf, len, tab + 8, v, 8, "Galois element");
    put64(v, 2);
    expect_forged(&f, HEKV_OBJ_EVK, buf, len, tab, v, 8, "Galois element");
    put64(v, 5);
    expect_forged(&f, HEKV_OBJ_EVK, buf, len, 64 + 12, v, 4, "dnum");
    put64(v, 2);
    expect_forged(&f, HEKV_OBJ_EVK, buf, len, 64, v, 1, "relinearisation");
    put64(v, 0xffffffff);
    expect_forged(&f, HEKV_OBJ_EVK, buf, len, 64 + 4, v, 4, "Galois keys");
    expect_forged(&f, HEKV_OBJ_EVK, buf, len, 64 + 8, v, 4, "switching keys");
    put64(v, 2);
    expect_forged(&f, HEKV_OBJ_EVK, buf, len, key0, v, 1, "flags");
    put64(v, 200);
    expect_forged(&f, HEKV_OBJ_EVK, buf, len, key0 + 1, v, 1, "level");
    put64(v, 0);
    expect_forged(&f, HEKV_OBJ_EVK, buf, len, key0 + 2, v, 1, "special");
    put64(v, 9);
    expect_forged(&f, HEKV_OBJ_EVK, buf, len, key0 + 2, v, 1, "special");
    put64(v, 3); /* a lower level than the body holds: the content does not end there */
    expect_forged(&f, HEKV_OBJ_EVK, buf, len, key0 + 1, v, 1, "evaluation key");
    free(buf);
    /* secret key: the invalid code 2 */
    save_any(&f, HEKV_OBJ_SK, 0, &buf, &len);
    v[0] = 0x02;
    expect_forged(&f, HEKV_OBJ_SK, buf, len, 72, v, 1, "ternary");
    put64(v, 8192);
    expect_forged(&f, HEKV_OBJ_SK, buf, len, 64, v, 4, "degree");
    free(buf);
    /* public key: limb counts */
    save_any(&f, HEKV_OBJ_PK, 0, &buf, &len);
    put64(v, 9);
    expect_forged(&f, HEKV_OBJ_PK, buf, len, 64, v, 4, "limbs");
    free(buf);
    /* parameters: enums and ranges */
    save_any(&f, HEKV_OBJ_PARAMS, 0, &buf, &len);
    v[0] = 9;
    expect_forged(&f, HEKV_OBJ_PARAMS, buf, len, 64, v, 1, "logn");
    v[0] = 0;
    expect_forged(&f, HEKV_OBJ_PARAMS, buf, len, 65, v, 1, "ciphertext primes");
    v[0] = 7;
    expect_forged(&f, HEKV_OBJ_PARAMS, buf, len, 69, v, 1, "secret");
    v[0] = 2;
    expect_forged(&f, HEKV_OBJ_PARAMS, buf, len, 70, v, 1, "insecure");
    put64(v, 0x7ff8000000000000ULL);
    expect_forged(&f, HEKV_OBJ_PARAMS, buf, len, 80, v, 8, "sigma");
    v[0] = 60;
    expect_forged(&f, HEKV_OBJ_PARAMS, buf, len, 88, v, 1, "bits");
    v[0] = 'X'; /* renamed set: no longer a toy name, so its insecure flag is refused */
    expect_forged(&f, HEKV_OBJ_PARAMS, buf, len, 32, v, 1, "insecure");
    memcpy(v, "toy-N14", 7); /* another toy name: rebuilt fingerprint differs */
    expect_forged(&f, HEKV_OBJ_PARAMS, buf, len, 32, v, 7, "fingerprint");
    free(buf);
    fix_free(&f);
}

/* The attack of a forged parameter file: a secure set's file with sigma patched (so that
 * ciphertexts carry no noise) or the insecure flag set, checksum recomputed. Each is
 * refused; the genuine file loads and says it is secure. */
Test(ckks_serial, forged_security_fields_refused) {
    hekv_ckks_params *p = params_named("N15-128");
    cr_assert(hekv_ckks_params_secure(p));
    hekv_buf b = {0};
    hekv_err err;
    cr_assert_eq(hekv_ckks_params_save(p, &b, &err), HEKV_OK, "%s", err.msg);
    hekv_ckks_params *q = NULL;
    cr_assert_eq(hekv_ckks_params_load(b.data, b.len, NULL, &q, &err), HEKV_OK, "%s", err.msg);
    cr_assert(hekv_ckks_params_secure(q));
    hekv_ckks_params_free(q);
    const double sigmas[] = {1e-300, 1.0, 3.0};
    for (int i = 0; i < 3; i++) {
        uint8_t *buf = malloc(b.len);
        memcpy(buf, b.data, b.len);
        memcpy(buf + 80, &sigmas[i], 8);
        reseal(buf, b.len);
        cr_assert_eq(hekv_ckks_params_load(buf, b.len, NULL, &q, &err), HEKV_ERR_INSECURE,
                     "sigma %g accepted", sigmas[i]);
        cr_assert(strstr(err.msg, "sigma"), "message: %s", err.msg);
        cr_assert_null(q);
        free(buf);
    }
    /* a wider error is allowed by the rules, but it is another set: the fingerprint says so */
    uint8_t *buf = malloc(b.len);
    memcpy(buf, b.data, b.len);
    const double wide = 4.0;
    memcpy(buf + 80, &wide, 8);
    reseal(buf, b.len);
    cr_assert_eq(hekv_ckks_params_load(buf, b.len, NULL, &q, &err), HEKV_ERR_PARAMS);
    cr_assert(strstr(err.msg, "fingerprint"), "message: %s", err.msg);
    /* the insecure flag on a production name */
    memcpy(buf, b.data, b.len);
    buf[70] = 1;
    reseal(buf, b.len);
    cr_assert_eq(hekv_ckks_params_load(buf, b.len, NULL, &q, &err), HEKV_ERR_INSECURE);
    cr_assert(strstr(err.msg, "insecure"), "message: %s", err.msg);
    /* a Hamming weight on a ternary set */
    memcpy(buf, b.data, b.len);
    buf[72] = 5;
    reseal(buf, b.len);
    cr_assert_eq(hekv_ckks_params_load(buf, b.len, NULL, &q, &err), HEKV_ERR_PARAMS);
    cr_assert(strstr(err.msg, "Hamming"), "message: %s", err.msg);
    free(buf);
    hekv_buf_free(&b);
    hekv_ckks_params_free(p);
}

/* A sparse-secret set: the parameter file keeps the distribution and Hamming weight, and the
 * secret-key loader checks the weight. */
Test(ckks_serial, sparse_secret_set) {
    hekv_ckks_params_lit lit;
    hekv_err err;
    cr_assert_eq(hekv_ckks_params_lit_named("toy-N12", &lit, &err), HEKV_OK);
    snprintf(lit.name, sizeof lit.name, "toy-sparse");
    lit.nq = 3;
    lit.np = 2;
    lit.dnum = 3;
    lit.secret = HEKV_SECRET_SPARSE;
    lit.hw = 64;
    lit.insecure = 1;
    hekv_ckks_params *p = params_from_lit(&lit, 0), *q = NULL;
    hekv_buf b = {0};
    cr_assert_eq(hekv_ckks_params_save(p, &b, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_params_load(b.data, b.len, NULL, &q, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(q->lit.secret, HEKV_SECRET_SPARSE);
    cr_assert_eq(q->lit.hw, 64);
    cr_assert_eq(memcmp(hekv_ckks_params_fingerprint(p), hekv_ckks_params_fingerprint(q), 16), 0);
    hekv_buf_free(&b);
    hekv_sk *sk = NULL, *back = NULL;
    cr_assert_eq(hekv_ckks_sk_new(p, &sk, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_sk_save(sk, &b, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_sk_load(p, b.data, b.len, &back, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(memcmp(back->coeffs, sk->coeffs, p->n * sizeof(int64_t)), 0);
    cr_assert_eq(hekv_ckks_sk_hamming_weight(back), 64);
    hekv_ckks_sk_free(back);
    /* one more non-zero coefficient, resealed: wrong Hamming weight */
    size_t i = 0;
    while (sk->coeffs[i]) i++;
    b.data[72 + i / 4] |= (uint8_t)(1u << (2 * (i % 4)));
    reseal(b.data, b.len);
    cr_assert_eq(hekv_ckks_sk_load(p, b.data, b.len, &back, &err), HEKV_ERR_FORMAT);
    cr_assert(strstr(err.msg, "Hamming weight"), "message: %s", err.msg);
    cr_assert_null(back);
    /* the sparse set's files are not the ternary set's */
    hekv_buf_free(&b);
    cr_assert_eq(hekv_ckks_sk_save(sk, &b, &err), HEKV_OK);
    hekv_ckks_params *t = params_named("toy-N12");
    cr_assert_eq(hekv_ckks_sk_load(t, b.data, b.len, &back, &err), HEKV_ERR_PARAMS);
    hekv_buf_free(&b);
    hekv_ckks_params_free(t);
    hekv_ckks_sk_free(sk);
    hekv_ckks_params_free(q);
    hekv_ckks_params_free(p);
}
