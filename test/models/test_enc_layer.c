/* test_enc_layer.c: one encrypted decoder layer (models/enc_layer.c) at the deep toy set on a
 * small synthetic model, four tokens in a row (the K/V cache grows), against the float64
 * reference layer (models/llama_ref.c) run with the exact nonlinearities. The refresh the
 * layer asks for is done here by decrypting and re-encrypting at the top level: TEST CODE
 * ONLY (a server bootstraps; the secret key never leaves the client). */
#include <math.h>

#include "hekv/ckks_client.h"
#include "hekv/llama_approx.h"
#include "hekv/llama_enc.h"
#include "model_util.h"
#include "test/packing/pack_test.h"

/* The designs' errors (2^-14, the softmax's 0.1% of a probability) through one layer on
 * values of size ~1..10; observed 1.6e-5. */
#define TOL_LAYER 1e-3

typedef struct {
    ctx *c;
    int calls;
} refresher;

/* TEST ONLY: decrypt and re-encrypt at the top level, same scale and slots. */
static hekv_status test_refresh(hekv_eval *ev, hekv_ct *ct, int need, void *vctx) {
    refresher *r = vctx;
    (void)ev, (void)need;
    const size_t n = hekv_ckks_ct_slots(ct);
    double *re = malloc(n * sizeof *re), *im = malloc(n * sizeof *im);
    ct_decrypt(r->c, re, im, ct);
    hekv_ct *f = ct_encrypt_cx(r->c, re, im, n, r->c->top, hekv_ckks_ct_scale(ct));
    hekv_err err;
    hekv_status s = hekv_ckks_ct_copy(ct, f, &err);
    hekv_ckks_ct_free(f);
    free(re), free(im);
    r->calls++;
    return s;
}

static double range_pad(hekv_llama_range r, int lo_side, double m) {
    const double w = r.hi - r.lo > 1e-3 ? r.hi - r.lo : 1e-3;
    return lo_side ? r.lo - m * w : r.hi + m * w;
}

typedef struct {
    ctx *c;
    size_t t;
    const char *ref_name[4]; /* stages with a reference vector of the current position */
    const double *ref[4];
    size_t ref_len[4];
} probe_ctx;

static void probe(const char *stage, const hekv_ct *ct, void *vctx) {
    probe_ctx *pc = vctx;
    const size_t n = hekv_ckks_ct_slots(ct);
    double *v = malloc(n * sizeof *v);
    ct_decrypt(pc->c, v, NULL, ct);
    double mx = 0;
    for (size_t i = 0; i < n; i++) mx = fmax(mx, fabs(v[i]));
    cr_log_info("  %-14s level %2d scale 2^%.2f max |slot| %.4g; first %.5g %.5g %.5g", stage,
                hekv_ckks_ct_level(ct), log2(hekv_ckks_ct_scale(ct)), mx, v[0], v[pc->t],
                v[2 * pc->t]);
    for (int r = 0; r < 4; r++) {
        if (!pc->ref_name[r] || strcmp(stage, pc->ref_name[r])) continue;
        const size_t st = n / pc->ref_len[r];
        double e = 0, mr = 0, junk = 0;
        for (size_t i = 0; i < pc->ref_len[r]; i++)
            e = fmax(e, fabs(v[i * st] - pc->ref[r][i])), mr = fmax(mr, fabs(pc->ref[r][i]));
        for (size_t i = 0; i < n; i++)
            if (i % st) junk = fmax(junk, fabs(v[i]));
        cr_log_info("  %-14s vs reference: max error %.3g, |ref| up to %.3g, other slots %.3g",
                    stage, e, mr, junk);
    }
    free(v);
}

Test(models_enc_layer, four_tokens_against_the_reference, .timeout = 900) {
    char dir[256];
    tm_tmpdir(dir, sizeof dir);
    const int32_t hdr[7] = {64, 128, 1, 4, 2, 32, 8};
    hekv_llama_model *m = tm_synth_load(dir, hdr, 21);
    const hekv_llama_config *cfg = hekv_llama_model_config(m);
    const hekv_llama_weights *w = hekv_llama_model_weights(m);
    const int C = cfg->dim, KVD = cfg->kv_dim, H = cfg->hidden_dim, HS = cfg->head_size;
    const int tokens[4] = {3, 17, 5, 29};
    hekv_err err;
    /* calibration: the reference over the four tokens */
    hekv_llama_calib *cal = NULL;
    hekv_llama_state *st = NULL;
    cr_assert_eq(hekv_llama_calib_new(cfg, &cal, &err), HEKV_OK);
    cr_assert_eq(hekv_llama_state_new(m, HEKV_LLAMA_F64, &st, &err), HEKV_OK);
    cr_assert_eq(hekv_llama_state_set_calib(st, cal, &err), HEKV_OK);
    for (int p = 0; p < 4; p++) cr_assert_eq(hekv_llama_forward(st, tokens[p], p, NULL, &err), HEKV_OK);
    hekv_llama_state_free(st);
    hekv_llama_layer_calib *lc = hekv_llama_calib_layer(cal, 0);
    /* designs on the calibrated ranges, widened */
    hekv_nonlin *inv_a = NULL, *inv_f = NULL, *silu = NULL;
    const hekv_nonlin_opts rel = {0x1p-14, 0, 0, 0, 1, 0}, abs_ = {0x1p-14, 0, 0, 0, 0, 0};
    const double e5 = HEKV_LLAMA_RMS_EPS;
    cr_assert_eq(hekv_llama_nonlin_design(HEKV_NONLIN_INVSQRT, lc->rmsnorm_att.lo / 2 + e5,
                                          lc->rmsnorm_att.hi * 2 + e5, &rel, &inv_a, &err),
                 HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_llama_nonlin_design(HEKV_NONLIN_INVSQRT, lc->rmsnorm_ffn.lo / 2 + e5,
                                          lc->rmsnorm_ffn.hi * 2 + e5, &rel, &inv_f, &err),
                 HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_llama_nonlin_design(HEKV_NONLIN_SILU, range_pad(lc->silu, 1, 0.5),
                                          range_pad(lc->silu, 0, 0.5), &abs_, &silu, &err),
                 HEKV_OK, "%s", err.msg);
    const hekv_llama_nsoftmax_opts so = {1, 1.0, 0.5, 1e-3, 0, 8};
    hekv_llama_nsoftmax *sm = NULL;
    cr_assert_eq(hekv_llama_nsoftmax_design(cal, &so, &sm, &err), HEKV_OK, "%s", err.msg);
    hekv_llama_enc_designs dz = {inv_a, inv_f, silu, {0}};
    cr_assert_eq(hekv_llama_nsoftmax_plan(sm, 0, &dz.softmax, &err), HEKV_OK);
    /* the encrypted layer, its keys */
    ctx c = ctx_new_keys("toy-N12-L44", 0, 0, NULL, 0);
    hekv_llama_enc_layer *L = NULL;
    cr_assert_eq(hekv_llama_enc_layer_new(m, 0, c.enc, &dz, &L, &err), HEKV_OK, "%s", err.msg);
    hekv_ckks_keyreq *req = NULL;
    cr_assert_eq(hekv_ckks_keyreq_new(c.p, &req, &err), HEKV_OK);
    cr_assert_eq(hekv_llama_enc_layer_keyreq(L, req, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_evk_gen_request(c.evk, c.sk, req, &err), HEKV_OK, "%s", err.msg);
    /* the reference layer, position by position */
    double *x = malloc(C * sizeof *x), *xb = malloc(C * sizeof *xb), *xb2 = malloc(C * sizeof *xb2);
    double *q = malloc(C * sizeof *q), *k = malloc(KVD * sizeof *k), *v = malloc(KVD * sizeof *v);
    double *hb = malloc(H * sizeof *hb), *hb2 = malloc(H * sizeof *hb2);
    double *w1ref = malloc(H * sizeof *w1ref);
    double *kc = malloc(4 * KVD * sizeof *kc), *vc = malloc(4 * KVD * sizeof *vc);
    double *att = malloc(cfg->n_heads * 4 * sizeof *att), *slots = malloc(c.slots * sizeof *slots);
    refresher rf = {&c, 0};
    const size_t t = c.slots / (size_t)C;
    double *resref = malloc(C * sizeof *resref);
    probe_ctx pc = {&c, t, {"w1", "residual_att"}, {w1ref, resref}, {(size_t)H, (size_t)C}};
    if (getenv("HEKV_TEST_PROBE")) hekv_llama_enc_layer_set_probe(L, probe, &pc);
    double worst = 0;
    for (int p = 0; p < 4; p++) {
        const float *emb = w->token_embedding + (size_t)tokens[p] * C;
        for (int i = 0; i < C; i++) x[i] = emb[i];
        hekv_ct *xc = ct_encrypt_vec(&c, x, (size_t)C, (size_t)C, 0, 0.0, c.top);
        hekv_llama_enc_stats es = {0};
        /* reference: forward_f64's layer 0 */
        hekv_llama_rmsnorm_fwd(xb, x, w->rms_att, C, NULL, 0, NULL);
        hekv_llama_matmul_fwd(q, xb, w->wq, C, C);
        hekv_llama_matmul_fwd(k, xb, w->wk, C, KVD);
        hekv_llama_matmul_fwd(v, xb, w->wv, C, KVD);
        hekv_llama_rope_fwd(q, C, HS, p);
        hekv_llama_rope_fwd(k, KVD, HS, p);
        memcpy(kc + (size_t)p * KVD, k, (size_t)KVD * sizeof *k);
        memcpy(vc + (size_t)p * KVD, v, (size_t)KVD * sizeof *v);
        hekv_llama_attention_fwd(xb, att, q, kc, vc, p + 1, cfg->n_heads, cfg->n_kv_heads, HS,
                                 NULL, 0, NULL);
        hekv_llama_matmul_fwd(xb2, xb, w->wo, C, C);
        hekv_llama_residual_fwd(x, x, xb2, C);
        memcpy(resref, x, (size_t)C * sizeof *x);
        hekv_llama_rmsnorm_fwd(xb, x, w->rms_ffn, C, NULL, 0, NULL);
        hekv_llama_matmul_fwd(hb, xb, w->w1, C, H);
        hekv_llama_matmul_fwd(hb2, xb, w->w3, C, H);
        memcpy(w1ref, hb, (size_t)H * sizeof *hb);
        hekv_llama_swiglu_fwd(hb, hb, hb2, H, NULL, 0, NULL);
        hekv_llama_matmul_fwd(xb, hb, w->w2, H, C);
        hekv_llama_residual_fwd(x, x, xb, C);
        OK(c.ev, hekv_llama_enc_layer_step(L, c.ev, xc, p, test_refresh, &rf, &es));
        ct_decrypt(&c, slots, NULL, xc);
        double e = 0, junk = 0, mag = 0;
        for (int i = 0; i < C; i++) {
            e = fmax(e, fabs(slots[(size_t)i * t] - x[i]));
            mag = fmax(mag, fabs(x[i]));
        }
        for (size_t s2 = 0; s2 < c.slots; s2++)
            if (s2 % t) junk = fmax(junk, fabs(slots[s2]));
        cr_log_info("position %d: max error %.3g (values up to %.2f), other slots %.3g, %d "
                    "refreshes, %llu rotations, level %d", p, e, mag, junk, es.refreshes,
                    (unsigned long long)es.ops.rotations, hekv_ckks_ct_level(xc));
        cr_assert(e <= TOL_LAYER * (1 + mag), "position %d: error %.3g", p, e);
        cr_assert(junk <= 1e-3, "position %d: other slots %.3g", p, junk);
        /* x arrives fresh: refreshed once (before the MLP), every score ciphertext once */
        cr_assert_eq(es.refreshes, 1 + (int)hekv_pack_kv_score_count(hekv_llama_enc_layer_cache(L)));
        worst = fmax(worst, e);
        hekv_ckks_ct_free(xc);
    }
    /* the wrong position */
    hekv_ct *xc = ct_encrypt_vec(&c, x, (size_t)C, (size_t)C, 0, 0.0, c.top);
    cr_assert_eq(hekv_llama_enc_layer_step(L, c.ev, xc, 2, test_refresh, &rf, NULL), HEKV_ERR_ARG);
    hekv_ckks_ct_free(xc);
    /* bad arguments: a layer the model lacks, a missing design, a set with too few levels */
    hekv_llama_enc_layer *bad = NULL;
    cr_assert_eq(hekv_llama_enc_layer_new(m, 1, c.enc, &dz, &bad, &err), HEKV_ERR_ARG);
    hekv_llama_enc_designs nodz = dz;
    nodz.silu = NULL;
    cr_assert_eq(hekv_llama_enc_layer_new(m, 0, c.enc, &nodz, &bad, &err), HEKV_ERR_ARG);
    ctx small = ctx_new_keys("toy-N12", 0, 0, NULL, 0);
    cr_assert_eq(hekv_llama_enc_layer_new(m, 0, small.enc, &dz, &bad, &err), HEKV_ERR_PARAMS);
    cr_assert(strstr(err.msg, "too few levels"), "%s", err.msg);
    cr_assert_null(bad);
    ctx_free(&small);
    free(x), free(xb), free(xb2), free(q), free(k), free(v), free(hb), free(hb2), free(w1ref), free(resref);
    free(kc), free(vc), free(att), free(slots);
    hekv_ckks_keyreq_free(req);
    hekv_llama_enc_layer_free(L);
    ctx_free(&c);
    hekv_llama_nsoftmax_free(sm);
    hekv_ckks_nonlin_free(inv_a), hekv_ckks_nonlin_free(inv_f), hekv_ckks_nonlin_free(silu);
    hekv_llama_calib_free(cal);
    hekv_llama_model_free(m);
    tm_rmtree(dir);
}
