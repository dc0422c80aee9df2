/* enc_layer.c: one encrypted LLaMA decoder layer (hekv/llama_enc.h) composed from the
 * packing layer's operations, mirroring models/llama_ref.c's forward_f64 step by step.
 *
 * Weights are folded and permuted once: Wq' = diag(1/sqrt(d_head)) P_H Wq diag(w_att),
 * Wk' = P_Hk Wk diag(w_att), Wv' likewise, Wo' = Wo P_H^T (its input arrives in the
 * head-interleaved order of scores x V), W1' = W1 diag(w_ffn), W3' likewise, W2 as it is;
 * P the head-interleaving permutation (hekv_pack_head_feature).
 *
 * The levels of a step are fixed (every product at its weights' level, so every scale is
 * exact and the K/V entries of every step share the cache's scale):
 *   x at the top T (refreshed there when lower);
 *   RMSNorm -> T - d_norm = L_qkv; Q, K, V products there; RoPE on Q and K (which also
 *   cleans them); K, V appended (stored at level S = 5 + (gamma > 1): QK^T's product and
 *   scores x V's run at S, the cache stays small);
 *   QK^T -> scores at S - 2 - (gamma > 1); the scores refreshed to T; the softmax ->
 *   T - d_softmax; scores x V (clean) -> L_o; Wo at L_o (clean: the residual stream must
 *   stay zero outside x's slots, RMSNorm's sum and the next product's replication read
 *   them) -> L_o - 2; added;
 *   x refreshed to T; RMSNorm -> L_13; W1, W3 (clean) -> L_13 - 2; the gate -> L_2; W2 at
 *   L_2 (clean) -> L_2 - 2; added.
 * So a step refreshes x twice (once when x arrives fresh) and every score ciphertext once:
 * the naive placement. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hekv/llama_enc.h"
#include "src/ckks/ckks_ext.h"

struct hekv_llama_enc_layer {
    const hekv_llama_model *m;
    int layer;
    hekv_llama_config cfg;
    hekv_encoder *enc;
    hekv_llama_enc_designs dz;
    hekv_pack_irp *wq, *wk, *wv, *wo, *w1, *w3, *w2;
    hekv_pack_kv *kv;
    size_t S;
    int top, l_qkv, store, l_o, l_13, l_2;
    double scale; /* the residual stream's */
    hekv_llama_probe_fn probe;
    void *probe_ctx;
};

void hekv_llama_enc_layer_set_probe(hekv_llama_enc_layer *L, hekv_llama_probe_fn fn, void *ctx) {
    if (L) L->probe = fn, L->probe_ctx = ctx;
}

#define PROBE(name, ct) \
    do { if (!s && L->probe) L->probe((name), (ct), L->probe_ctx); } while (0)

void hekv_llama_enc_layer_free(hekv_llama_enc_layer *L) {
    if (!L) return;
    hekv_pack_irp_free(L->wq), hekv_pack_irp_free(L->wk), hekv_pack_irp_free(L->wv);
    hekv_pack_irp_free(L->wo), hekv_pack_irp_free(L->w1), hekv_pack_irp_free(L->w3);
    hekv_pack_irp_free(L->w2);
    hekv_pack_kv_free(L->kv);
    free(L);
}

const hekv_pack_kv *hekv_llama_enc_layer_cache(const hekv_llama_enc_layer *L) {
    return L ? L->kv : NULL;
}

/* out[r][c] = w[rows[r]][c] * colw[c] * rs (rows NULL: identity; colw NULL: 1; cols
 * permuted by cols when given: out[r][c] = w[.][cols[c]] ...). */
static double *fold(const float *w, size_t rows, size_t cols, const size_t *rperm,
                    const size_t *cperm, const float *colw, double rs) {
    double *o = malloc(rows * cols * sizeof *o);
    if (!o) return NULL;
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) {
            const size_t sr = rperm ? rperm[r] : r, sc = cperm ? cperm[c] : c;
            o[r * cols + c] = (double)w[sr * cols + sc] * (colw ? (double)colw[sc] : 1.0) * rs;
        }
    return o;
}

hekv_status hekv_llama_enc_layer_new(const hekv_llama_model *m, int layer, hekv_encoder *enc,
                                     const hekv_llama_enc_designs *dz,
                                     hekv_llama_enc_layer **out, hekv_err *err) {
    static const char fn[] = "hekv_llama_enc_layer_new";
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (!m || !enc || !dz || !dz->invsqrt_att || !dz->invsqrt_ffn || !dz->silu ||
        !dz->softmax.exp || !dz->softmax.recip || !dz->softmax.shift)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: model, encoder or a design missing", fn);
    const hekv_llama_config *c = hekv_llama_model_config(m);
    if (layer < 0 || layer >= c->n_layers)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: layer %d outside [0, %d)", fn, layer,
                            c->n_layers);
    const hekv_ckks_params *p = hekv_ckks_encoder_params(enc);
    const size_t C = (size_t)c->dim, KVD = (size_t)c->kv_dim, H = (size_t)c->hidden_dim;
    const size_t NH = (size_t)c->n_heads, NKV = (size_t)c->n_kv_heads, HS = (size_t)c->head_size;
    const size_t S = hekv_ckks_params_max_slots(p);
    if (hekv_pack_pow2(C) != C || hekv_pack_pow2(NH) != NH || hekv_pack_pow2(NKV) != NKV ||
        C > S || hekv_pack_pow2(H) > S)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: dim %zu, heads %zu/%zu must be powers of two and the hidden "
                            "layer %zu fit %zu slots", fn, C, NH, NKV, H, S);
    hekv_llama_enc_layer *L = calloc(1, sizeof *L);
    if (!L) return hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    L->m = m, L->layer = layer, L->cfg = *c, L->enc = enc, L->dz = *dz, L->S = S;
    L->top = hekv_ckks_params_max_level(p);
    L->scale = hekv_ckks_params_default_scale(p);
    const int gq = NH / NKV > 1, dsm = hekv_pack_kv_softmax_depth(NULL, &dz->softmax);
    L->l_qkv = L->top - hekv_pack_rmsnorm_depth(dz->invsqrt_att);
    L->store = 5 + gq;
    const int ls = L->top - dsm;
    L->l_o = (ls < L->store ? ls : L->store) - 1 - gq - 1;
    L->l_13 = L->top - hekv_pack_rmsnorm_depth(dz->invsqrt_ffn);
    L->l_2 = L->l_13 - 2 - hekv_pack_swiglu_depth(dz->silu);
    hekv_status s = HEKV_OK;
    if (dsm < 0 || L->l_qkv - 2 < L->store + 1 || L->l_o < 2 || L->l_2 < 2)
        s = hekv_err_set(err, HEKV_ERR_PARAMS,
                         "%s: %s has too few levels for this layer's plan (Q/K/V at %d, "
                         "cache %d, Wo at %d, W2 at %d)", fn, hekv_ckks_params_name(p), L->l_qkv,
                         L->store, L->l_o, L->l_2);
    /* the products */
    const hekv_llama_weights *w = hekv_llama_model_weights(m);
    const size_t l = (size_t)layer;
    size_t *ph = malloc(C * sizeof *ph), *pk = malloc(KVD * sizeof *pk);
    if (!s && (!ph || !pk)) s = hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    for (size_t g = 0; !s && g < C; g++) ph[g] = hekv_pack_head_feature(NH, HS, g);
    for (size_t g = 0; !s && g < KVD; g++) pk[g] = hekv_pack_head_feature(NKV, HS, g);
    const float *ratt = w->rms_att + l * C, *rffn = w->rms_ffn + l * C;
    struct {
        const float *src;
        size_t rows, cols;
        const size_t *rp, *cp;
        const float *cw;
        double rs;
        int level;
        hekv_pack_irp **dst;
    } prods[] = {
        {w->wq + l * C * C, C, C, ph, NULL, ratt, 1.0 / sqrt((double)HS), L->l_qkv, &L->wq},
        {w->wk + l * KVD * C, KVD, C, pk, NULL, ratt, 1.0, L->l_qkv, &L->wk},
        {w->wv + l * KVD * C, KVD, C, pk, NULL, ratt, 1.0, L->l_qkv, &L->wv},
        {w->wo + l * C * C, C, C, NULL, ph, NULL, 1.0, L->l_o, &L->wo},
        {w->w1 + l * H * C, H, C, NULL, NULL, rffn, 1.0, L->l_13, &L->w1},
        {w->w3 + l * H * C, H, C, NULL, NULL, rffn, 1.0, L->l_13, &L->w3},
        {w->w2 + l * C * H, C, H, NULL, NULL, NULL, 1.0, L->l_2, &L->w2},
    };
    for (size_t i = 0; i < sizeof prods / sizeof prods[0] && !s; i++) {
        double *fw = fold(prods[i].src, prods[i].rows, prods[i].cols, prods[i].rp, prods[i].cp,
                          prods[i].cw, prods[i].rs);
        if (!fw) {
            s = hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
            break;
        }
        s = hekv_pack_irp_new(enc, fw, prods[i].rows, prods[i].cols, prods[i].level, 0,
                              prods[i].dst, err);
        free(fw);
    }
    free(ph), free(pk);
    if (!s) s = hekv_pack_kv_new(p, C, NH, NKV, L->store, &L->kv, err);
    if (s) {
        hekv_llama_enc_layer_free(L);
        return s;
    }
    *out = L;
    return HEKV_OK;
}

static hekv_status irp_keys(const hekv_pack_irp *irp, unsigned flags, hekv_ckks_keyreq *r,
                            int level, size_t S, hekv_err *err) {
    const size_t n = hekv_pack_irp_rotations(irp, flags, NULL, 0);
    long *rots = malloc((n ? n : 1) * sizeof *rots);
    if (!rots) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_enc_layer_keyreq: out of memory");
    hekv_pack_irp_rotations(irp, flags, rots, n);
    hekv_status s = HEKV_OK;
    for (size_t i = 0; i < n && !s; i++) s = hekv_ckks_keyreq_rotation(r, rots[i], S, level, err);
    free(rots);
    return s;
}

hekv_status hekv_llama_enc_layer_keyreq(const hekv_llama_enc_layer *L, hekv_ckks_keyreq *r,
                                        hekv_err *err) {
    if (!L || !r) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_enc_layer_keyreq: NULL");
    const size_t S = L->S, C = (size_t)L->cfg.dim, t = S / C;
    const int T = L->top;
    hekv_status s = hekv_ckks_keyreq_relin(r, T, err);
    if (!s) s = irp_keys(L->wq, 0, r, T, S, err);
    if (!s) s = irp_keys(L->wk, HEKV_PACK_ANY_POS, r, T, S, err);
    if (!s) s = irp_keys(L->wv, HEKV_PACK_ANY_POS, r, T, S, err);
    if (!s) s = irp_keys(L->wo, 0, r, T, S, err);
    if (!s) s = irp_keys(L->w1, 0, r, T, S, err);
    if (!s) s = irp_keys(L->w3, 0, r, T, S, err);
    if (!s) s = irp_keys(L->w2, 0, r, T, S, err);
    const long ht = (long)((size_t)L->cfg.n_heads * t);
    if (!s) s = hekv_ckks_keyreq_rotation(r, ht, S, T, err);
    if (!s) s = hekv_ckks_keyreq_rotation(r, -ht, S, T, err);
    for (size_t j = 1; j < C && !s; j <<= 1) s = hekv_ckks_keyreq_rotation(r, (long)(j * t), S, T, err);
    long rots[256];
    size_t n = hekv_pack_kv_rotations(L->kv, rots, 256);
    for (size_t i = 0; i < n && i < 256 && !s; i++) s = hekv_ckks_keyreq_rotation(r, rots[i], S, T, err);
    n = hekv_pack_kv_softmax_rotations(L->kv, rots, 256);
    for (size_t i = 0; i < n && i < 256 && !s; i++) s = hekv_ckks_keyreq_rotation(r, rots[i], S, T, err);
    return s;
}

/* Refreshes ct when it is below `need` (counted). */
static hekv_status ensure(hekv_eval *ev, hekv_ct *ct, int need, hekv_llama_refresh_fn refresh,
                          void *rctx, hekv_llama_enc_stats *st) {
    if (hekv_ckks_ct_level(ct) >= need) return HEKV_OK;
    if (!refresh)
        return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_LEVEL,
                            "hekv_llama_enc_layer_step: a ciphertext at level %d needs %d and "
                            "no refresh function was given", hekv_ckks_ct_level(ct), need);
    if (st) st->refreshes++;
    return refresh(ev, ct, need, rctx);
}

/* x += o; o (a clean product output) brought to x's scale first when they differ. */
static hekv_status add_residual(hekv_eval *ev, hekv_ct *x, hekv_ct *o) {
    hekv_status s = HEKV_OK;
    if (!hekv_ckks_scale_eq(hekv_ckks_ct_scale(o), hekv_ckks_ct_scale(x)))
        s = hekv_ckks_ext_adjust_scale(ev, o, o, hekv_ckks_ct_level(o) - 1,
                                       hekv_ckks_ct_scale(x));
    return s ? s : hekv_ckks_eval_add(ev, x, x, o);
}

hekv_status hekv_llama_enc_layer_step(hekv_llama_enc_layer *L, hekv_eval *ev, hekv_ct *x,
                                      int pos, hekv_llama_refresh_fn refresh, void *rctx,
                                      hekv_llama_enc_stats *st) {
    static const char fn[] = "hekv_llama_enc_layer_step";
    if (!ev) return HEKV_ERR_ARG;
    hekv_err *err = hekv_ckks_ext_err(ev);
    if (!L || !x)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: layer or ciphertext NULL", fn);
    hekv_pack_kv_info info;
    hekv_pack_kv_get_info(L->kv, &info);
    if (pos < 0 || (size_t)pos != info.k_tokens)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: position %d, but the cache holds %zu tokens (the step must "
                            "run at the next position)", fn, pos, info.k_tokens);
    hekv_pack_stats *ops = st ? &st->ops : NULL;
    const hekv_llama_config *c = &L->cfg;
    const size_t C = (size_t)c->dim, NH = (size_t)c->n_heads, NKV = (size_t)c->n_kv_heads;
    const size_t HS = (size_t)c->head_size;
    hekv_ct *xn = NULL, *a = NULL, *q = NULL, *o = NULL, *h3 = NULL;
    hekv_ct *sc[64] = {0};
    size_t ns = 0;
    hekv_status s;
    if ((s = hekv_ckks_ext_scratch_get(ev, &xn)) || (s = hekv_ckks_ext_scratch_get(ev, &a)) ||
        (s = hekv_ckks_ext_scratch_get(ev, &q)) || (s = hekv_ckks_ext_scratch_get(ev, &o)) ||
        (s = hekv_ckks_ext_scratch_get(ev, &h3)))
        goto done;
    /* ---- attention block */
    if ((s = ensure(ev, x, L->top, refresh, rctx, st)) ||
        (s = hekv_ckks_eval_drop_to(ev, x, x, L->top)) ||
        (s = hekv_pack_rmsnorm(ev, L->enc, xn, x, C, HEKV_LLAMA_RMS_EPS, L->dz.invsqrt_att, ops)))
        goto done;
    PROBE("rmsnorm_att", xn);
    /* Q = RoPE(Wq x) */
    if ((s = hekv_pack_irp_apply(ev, a, xn, L->wq, 0, 0, ops)) ||
        (s = hekv_pack_rope(ev, L->enc, q, a, NH, HS, 0, pos, HEKV_LLAMA_ROPE_THETA, ops)))
        goto done;
    PROBE("q", q);
    /* K = RoPE(Wk x), folded to the append position, appended */
    const size_t pk = hekv_pack_kv_next_pos_k(L->kv), pv = hekv_pack_kv_next_pos_v(L->kv);
    if ((s = hekv_pack_irp_apply(ev, a, xn, L->wk, pk, 0, ops)) ||
        (s = hekv_pack_rope(ev, L->enc, o, a, NKV, HS, pk, pos, HEKV_LLAMA_ROPE_THETA, ops)))
        goto done;
    PROBE("k", o);
    if ((s = hekv_pack_kv_append_k(ev, L->kv, o, ops))) goto done;
    /* V = Wv x, appended */
    if ((s = hekv_pack_irp_apply(ev, a, xn, L->wv, pv, 0, ops))) goto done;
    PROBE("v", a);
    if ((s = hekv_pack_kv_append_v(ev, L->kv, a, ops))) goto done;
    /* scores, softmax, scores x V */
    ns = hekv_pack_kv_score_count(L->kv);
    if (ns > 64) {
        s = hekv_err_set(err, HEKV_ERR_ARG, "%s: %zu score ciphertexts (at most 64)", fn, ns);
        goto done;
    }
    for (size_t i = 0; i < ns && !s; i++) s = hekv_ckks_ct_new(hekv_ckks_eval_params(ev), &sc[i], err);
    if (!s) s = hekv_pack_kv_qkt(ev, L->kv, sc, ns, q, ops);
    PROBE("scores", sc[0]);
    for (size_t i = 0; i < ns && !s; i++) s = ensure(ev, sc[i], L->top, refresh, rctx, st);
    if (!s) s = hekv_pack_kv_softmax(ev, L->kv, sc, ns, &L->dz.softmax, ops);
    PROBE("probabilities", sc[0]);
    if (!s) s = hekv_pack_kv_attn_v(ev, L->kv, a, (const hekv_ct *const *)sc, ns,
                                    HEKV_PACK_CLEAN, ops);
    PROBE("attention", a);
    /* Wo, brought to x's scale, added */
    if (!s) s = hekv_pack_irp_apply(ev, o, a, L->wo, 0, HEKV_PACK_CLEAN, ops);
    if (!s) s = add_residual(ev, x, o);
    PROBE("residual_att", x);
    /* ---- MLP block */
    if (!s) s = ensure(ev, x, L->top, refresh, rctx, st);
    if (!s) s = hekv_ckks_eval_drop_to(ev, x, x, L->top);
    if (!s) s = hekv_pack_rmsnorm(ev, L->enc, xn, x, C, HEKV_LLAMA_RMS_EPS, L->dz.invsqrt_ffn, ops);
    if (!s) s = hekv_pack_irp_apply(ev, a, xn, L->w1, 0, HEKV_PACK_CLEAN, ops);
    if (!s) s = hekv_pack_irp_apply(ev, h3, xn, L->w3, 0, HEKV_PACK_CLEAN, ops);
    PROBE("rmsnorm_ffn", xn);
    PROBE("w1", a);
    PROBE("w3", h3);
    if (!s) s = hekv_pack_swiglu(ev, a, a, h3, L->dz.silu, ops);
    PROBE("gate", a);
    if (!s) s = hekv_pack_irp_apply(ev, o, a, L->w2, 0, HEKV_PACK_CLEAN, ops);
    if (!s) s = add_residual(ev, x, o);
done:
    for (size_t i = 0; i < ns; i++) hekv_ckks_ct_free(sc[i]);
    hekv_ckks_ext_scratch_put(ev, h3);
    hekv_ckks_ext_scratch_put(ev, o);
    hekv_ckks_ext_scratch_put(ev, q);
    hekv_ckks_ext_scratch_put(ev, a);
    hekv_ckks_ext_scratch_put(ev, xn);
    return s;
}
