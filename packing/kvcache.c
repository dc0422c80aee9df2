/* kvcache.c: the packed encrypted K and V caches of one attention layer (Cachemir section
 * 3.2, research/papers.md; extended to grouped-query attention without duplicating K or
 * V): construction, the appends of one token's key and value, the layouts a client needs
 * to import a known prefix, and the masks the cache's steps share. The attention steps
 * that read the caches (QK^T, scores x V) are in attention.c; serialization in
 * kvcache_serial.c.
 *
 * Shapes (pack.h): H query heads, Hk K/V heads, gamma = H/Hk, d_h, t = S/d,
 * t_kv = gamma*t, B = S/Hk tokens per block. In the head-interleaved order feature
 * l*Hk + h' of a key sits at slot (l*Hk + h')*t_kv = (l*H + h'*gamma)*t: the gamma query
 * heads h'*gamma + e sharing that key head sit in the same t_kv-slot block, in sub-block
 * e.
 *
 * K cache: ciphertext c holds tokens c*t_kv .. c*t_kv + t_kv - 1, feature g' of token n at
 * slot g'*t_kv + (n mod t_kv). V cache: the token at in-block index i = q'*t_kv + r puts
 * feature l*Hk + h' into diagonal ciphertext (q' - l) mod d_h of its block at slot
 * (l*Hk + h')*t_kv + r. An append masks the projection's output to the token's slots (one
 * mask product per ciphertext written) and adds it; no rotation.
 *
 * Masks are 0/1 plaintexts at scale q_level (a product and rescale keep the scale); each
 * kind is encoded once per level and moved to its offset by a plaintext automorphism (no
 * key switch). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pack_int.h"

/* ------------------------------------------------------------------ construction */

void hekv_pack_kv_free(hekv_pack_kv *kv) {
    if (!kv) return;
    for (size_t i = 0; i < kv->nk; i++) hekv_ckks_ct_free(kv->k[i]);
    for (size_t i = 0; i < kv->nv; i++) hekv_ckks_ct_free(kv->v[i]);
    free(kv->k);
    free(kv->v);
    for (int k = 0; k < KV_MASK_KINDS; k++)
        for (int l = 0; l < HEKV_CKKS_MAX_Q; l++) hekv_ckks_pt_free(kv->base[k][l]);
    hekv_ckks_pt_free(kv->mask);
    hekv_ckks_encoder_free(kv->enc);
    free(kv);
}

hekv_status hekv_pack_kv_new(const hekv_ckks_params *p, size_t d, size_t n_heads,
                             size_t n_kv_heads, int store_level, hekv_pack_kv **out,
                             hekv_err *err) {
    static const char fn[] = "hekv_pack_kv_new";
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (!p) return hekv_err_set(err, HEKV_ERR_ARG, "%s: parameters NULL", fn);
    const size_t S = hekv_ckks_params_max_slots(p);
    if (!hekv__is_pow2(d) || !hekv__is_pow2(n_heads) || !hekv__is_pow2(n_kv_heads) ||
        n_kv_heads > n_heads || n_heads > d || d > S)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: d = %zu, heads = %zu, kv heads = %zu must be powers of two "
                            "with kv heads <= heads <= d <= S = %zu (pad heads and head "
                            "dimensions with zeros)", fn, d, n_heads, n_kv_heads, S);
    if (store_level < -1 || store_level > hekv_ckks_params_max_level(p))
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: store level %d outside [-1, %d]", fn,
                            store_level, hekv_ckks_params_max_level(p));
    hekv_pack_kv *kv = calloc(1, sizeof *kv);
    if (!kv) return hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    kv->params = p;
    kv->S = S, kv->d = d, kv->H = n_heads, kv->Hk = n_kv_heads;
    kv->dh = d / n_heads, kv->gamma = n_heads / n_kv_heads, kv->dkv = n_kv_heads * kv->dh;
    kv->t = S / d, kv->tkv = S / kv->dkv, kv->B = S / n_kv_heads;
    kv->store_level = store_level;
    kv->k_level = kv->v_level = -1;
    hekv_status s = hekv_ckks_encoder_new(p, &kv->enc, err);
    if (s == HEKV_OK) s = hekv_ckks_pt_new(p, &kv->mask, err);
    if (s != HEKV_OK) {
        hekv_pack_kv_free(kv);
        return s;
    }
    *out = kv;
    return HEKV_OK;
}

void hekv_pack_kv_get_info(const hekv_pack_kv *kv, hekv_pack_kv_info *in) {
    memset(in, 0, sizeof *in);
    if (!kv) return;
    in->slots = kv->S, in->d = kv->d, in->n_heads = kv->H, in->n_kv_heads = kv->Hk;
    in->d_head = kv->dh, in->d_kv = kv->dkv, in->group = kv->gamma, in->t = kv->t;
    in->t_kv = kv->tkv, in->block_tokens = kv->B;
    in->k_tokens = kv->nk_tok, in->v_tokens = kv->nv_tok;
    in->k_cts = kv->nk, in->v_cts = kv->nv, in->blocks = kv->nv / kv->dh;
    in->k_level = kv->k_level, in->v_level = kv->v_level;
    in->k_scale = kv->k_scale, in->v_scale = kv->v_scale;
    const size_t n = hekv_ckks_params_n(kv->params);
    in->bytes = (kv->nk * (size_t)(kv->k_level + 1) + kv->nv * (size_t)(kv->v_level + 1)) * 2 *
                n * sizeof(uint64_t);
}

const hekv_ct *hekv_pack_kv_k_ct(const hekv_pack_kv *kv, size_t c) {
    return kv && c < kv->nk ? kv->k[c] : NULL;
}

const hekv_ct *hekv_pack_kv_v_ct(const hekv_pack_kv *kv, size_t b, size_t j) {
    return kv && j < kv->dh && b * kv->dh + j < kv->nv ? kv->v[b * kv->dh + j] : NULL;
}

size_t hekv_pack_kv_next_pos_k(const hekv_pack_kv *kv) { return kv ? kv->nk_tok % kv->tkv : 0; }
size_t hekv_pack_kv_next_pos_v(const hekv_pack_kv *kv) { return kv ? kv->nv_tok % kv->tkv : 0; }

size_t hekv_pack_kv_score_count(const hekv_pack_kv *kv) {
    return kv ? kv->gamma * hekv__ceil_div(kv->nk_tok, kv->B) : 0;
}

/* ------------------------------------------------------------------ masks */

/* The base mask of `kind` (pack_int.h) as a slot vector. */
static void base_vals(const hekv_pack_kv *kv, int kind, double *v) {
    memset(v, 0, kv->S * sizeof *v);
    switch (kind) {
    case KV_MASK_K: /* every key feature at offset 0 */
        for (size_t g = 0; g < kv->dkv; g++) v[g * kv->tkv] = 1;
        break;
    case KV_MASK_V: /* the Hk features of row l = 0 at offset 0 */
        for (size_t h = 0; h < kv->Hk; h++) v[h * kv->tkv] = 1;
        break;
    case KV_MASK_BLOCK: /* row 0 of a score ciphertext: Hk*t_kv = H*t slots */
        for (size_t s = 0; s < kv->H * kv->t; s++) v[s] = 1;
        break;
    case KV_MASK_Q: /* sub-block 0 of every (l, h') block: the query heads h'*gamma */
        for (size_t l = 0; l < kv->dh; l++)
            for (size_t h = 0; h < kv->Hk; h++)
                for (size_t u = 0; u < kv->t; u++) v[(l * kv->H + h * kv->gamma) * kv->t + u] = 1;
        break;
    case KV_MASK_OUT: /* the attention output, interleaved at stride t */
        for (size_t g = 0; g < kv->d; g++) v[g * kv->t] = 1;
        break;
    }
}

/* The mask of `kind` at `level` moved right by `shift` slots (1 at s + shift where the base
 * has 1 at s). Returned pointer: the cached base (shift 0) or kv->mask. */
hekv_status hekv__kv_mask(hekv_pack_kv *kv, hekv_eval *ev, int kind, int level, size_t shift,
                          const hekv_pt **out) {
    static const char fn[] = "hekv_pack_kv (mask)";
    hekv_pt **bp = &kv->base[kind][level];
    if (!*bp) {
        double *v = malloc(kv->S * sizeof *v);
        hekv_status s = v ? hekv_ckks_pt_new(kv->params, bp, hekv_ckks_ext_err(ev)) : HEKV_ERR_NOMEM;
        if (s == HEKV_OK) {
            base_vals(kv, kind, v);
            s = hekv__mask_encode(kv->enc, *bp, v, level, hekv_ckks_ext_err(ev));
        }
        free(v);
        if (s != HEKV_OK) {
            hekv_ckks_pt_free(*bp);
            *bp = NULL;
            return hekv_err_set(hekv_ckks_ext_err(ev), s, "%s: could not encode a mask at level %d", fn,
                                level);
        }
    }
    if (shift % kv->S == 0) {
        *out = *bp;
        return HEKV_OK;
    }
    hekv_status s = hekv_ckks_eval_rotate_pt(ev, kv->mask, *bp, -(long)(shift % kv->S));
    if (s != HEKV_OK) return s;
    *out = kv->mask;
    return HEKV_OK;
}

/* ------------------------------------------------------------------ append */

hekv_status hekv__kv_check_in(hekv_eval *ev, const hekv_pack_kv *kv, const char *fn,
                              const hekv_ct *c, const char *what, int need) {
    if (!c) return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_ARG, "%s: %s is NULL", fn, what);
    if (hekv_ckks_ct_params(c) != kv->params || hekv_ckks_eval_params(ev) != kv->params)
        return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_PARAMS,
                            "%s: %s, cache and evaluator must share one parameter set", fn, what);
    if (hekv_ckks_ct_level(c) < 0 || hekv_ckks_ct_slots(c) != kv->S)
        return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_ARG,
                            "%s: %s must be a non-empty ciphertext over all %zu slots", fn, what,
                            kv->S);
    if (hekv_ckks_ct_level(c) < need)
        return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_LEVEL,
                            "%s: %s is at level %d, this step needs %d level(s): bootstrap it "
                            "first", fn, what, hekv_ckks_ct_level(c), need);
    return HEKV_OK;
}

int hekv_pack_kv_entry_level(const hekv_pack_kv *kv, int v, int in_level) {
    if (!kv || in_level < 1) return -1;
    int nl = in_level - 1;
    if (kv->store_level >= 0 && nl > kv->store_level) nl = kv->store_level;
    const int cache_level = v ? kv->v_level : kv->k_level;
    if (cache_level >= 0) return nl < cache_level ? -1 : cache_level;
    return nl;
}

/* The level an appended entry will have (hekv_pack_kv_entry_level), its scale checked
 * against the cache's. */
static hekv_status entry_target(hekv_eval *ev, const hekv_pack_kv *kv, const char *fn,
                                const hekv_ct *x, int v, int *level) {
    const int l = hekv_ckks_ct_level(x), cache_level = v ? kv->v_level : kv->k_level;
    const double cache_scale = v ? kv->v_scale : kv->k_scale;
    const int nl = hekv_pack_kv_entry_level(kv, v, l);
    if (nl < 0)
        return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_LEVEL,
                            "%s: an entry at level %d would be stored below the cache's "
                            "level %d: append at level %d or higher", fn, l, cache_level,
                            cache_level + 1);
    const double ql = (double)hekv_ckks_params_q(kv->params, l);
    const double scale = hekv_ckks_ct_scale(x) * ql / ql;
    if (cache_level >= 0 && !hekv_ckks_scale_eq(scale, cache_scale))
        return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_SCALE,
                            "%s: the entry's scale 2^%.6f differs from the cache's 2^%.6f", fn,
                            log2(scale), log2(cache_scale));
    *level = nl;
    return HEKV_OK;
}

/* Grows a ciphertext array to hold `need` entries. */
static hekv_status grow(hekv_ct ***arr, size_t *cap, size_t need) {
    if (need <= *cap) return HEKV_OK;
    size_t nc = *cap ? *cap : 8;
    while (nc < need) nc *= 2;
    hekv_ct **a = realloc(*arr, nc * sizeof *a);
    if (!a) return HEKV_ERR_NOMEM;
    memset(a + *cap, 0, (nc - *cap) * sizeof *a);
    *arr = a;
    *cap = nc;
    return HEKV_OK;
}

/* piece = rescale(x (.) mask) dropped to `level`; then dst = piece (fresh) or dst += piece. */
static hekv_status add_piece(hekv_eval *ev, hekv_pack_kv *kv, hekv_ct **dst, int fresh,
                             const hekv_ct *x, const hekv_pt *mask, int level,
                             hekv_pack_stats *st) {
    hekv_ct *piece = NULL;
    hekv_status s = hekv_ckks_ext_scratch_get(ev, &piece);
    if (!s) s = hekv__mask_mul(ev, piece, x, mask, st);
    if (!s && hekv_ckks_ct_level(piece) > level)
        s = hekv_ckks_eval_drop_to(ev, piece, piece, level);
    if (!s && fresh && !*dst && hekv_ckks_ct_new(kv->params, dst, hekv_ckks_ext_err(ev)) != HEKV_OK)
        s = hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_NOMEM, "hekv_pack_kv: out of memory");
    if (!s) s = fresh ? hekv_ckks_ct_copy(*dst, piece, hekv_ckks_ext_err(ev))
                      : hekv_ckks_eval_add(ev, *dst, *dst, piece);
    hekv_ckks_ext_scratch_put(ev, piece);
    return s;
}

hekv_status hekv_pack_kv_append_k(hekv_eval *ev, hekv_pack_kv *kv, const hekv_ct *k,
                                  hekv_pack_stats *st) {
    static const char fn[] = "hekv_pack_kv_append_k";
    if (!ev) return HEKV_ERR_ARG;
    if (!kv) return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_ARG, "%s: cache is NULL", fn);
    hekv_status s = hekv__kv_check_in(ev, kv, fn, k, "the key", 1);
    int level;
    if (!s) s = entry_target(ev, kv, fn, k, 0, &level);
    if (s) return s;
    const size_t pos = kv->nk_tok % kv->tkv;
    const int fresh = pos == 0;
    if (fresh && grow(&kv->k, &kv->capk, kv->nk + 1) != HEKV_OK)
        return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_NOMEM, "%s: out of memory", fn);
    const hekv_pt *m = NULL;
    if ((s = hekv__kv_mask(kv, ev, KV_MASK_K, hekv_ckks_ct_level(k), pos, &m))) return s;
    if ((s = add_piece(ev, kv, &kv->k[fresh ? kv->nk : kv->nk - 1], fresh, k, m, level, st)))
        return s;
    if (fresh) kv->nk++;
    if (kv->k_level < 0) {
        kv->k_level = level;
        kv->k_scale = hekv_ckks_ct_scale(kv->k[0]);
    }
    kv->nk_tok++;
    return HEKV_OK;
}

hekv_status hekv_pack_kv_append_v(hekv_eval *ev, hekv_pack_kv *kv, const hekv_ct *v,
                                  hekv_pack_stats *st) {
    static const char fn[] = "hekv_pack_kv_append_v";
    if (!ev) return HEKV_ERR_ARG;
    if (!kv) return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_ARG, "%s: cache is NULL", fn);
    hekv_status s = hekv__kv_check_in(ev, kv, fn, v, "the value", 1);
    int level;
    if (!s) s = entry_target(ev, kv, fn, v, 1, &level);
    if (s) return s;
    const size_t dh = kv->dh, i = kv->nv_tok % kv->B, qr = i / kv->tkv, r = i % kv->tkv;
    const int fresh = i == 0;
    const size_t base = fresh ? kv->nv : kv->nv - dh;
    if (fresh && grow(&kv->v, &kv->capv, kv->nv + dh) != HEKV_OK)
        return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_NOMEM, "%s: out of memory", fn);
    for (size_t j = 0; j < dh; j++) {
        const size_t l = (qr + dh - j) % dh; /* feature row that goes to diagonal j */
        const hekv_pt *m = NULL;
        if ((s = hekv__kv_mask(kv, ev, KV_MASK_V, hekv_ckks_ct_level(v), l * kv->Hk * kv->tkv + r, &m)) ||
            (s = add_piece(ev, kv, &kv->v[base + j], fresh, v, m, level, st))) {
            if (fresh) /* drop a half-built block */
                for (size_t x = 0; x < dh; x++) {
                    hekv_ckks_ct_free(kv->v[base + x]);
                    kv->v[base + x] = NULL;
                }
            return s;
        }
    }
    if (fresh) kv->nv += dh;
    if (kv->v_level < 0) {
        kv->v_level = level;
        kv->v_scale = hekv_ckks_ct_scale(kv->v[0]);
    }
    kv->nv_tok++;
    return HEKV_OK;
}

/* ------------------------------------------------------------------ layouts for clients */

hekv_status hekv_pack_kv_k_slots(const hekv_pack_kv *kv, const double *keys, size_t n, size_t c,
                                 double *slots) {
    if (!kv || !keys || !slots || c >= hekv__ceil_div(n, kv->tkv)) return HEKV_ERR_ARG;
    memset(slots, 0, kv->S * sizeof *slots);
    for (size_t tau = c * kv->tkv; tau < n && tau < (c + 1) * kv->tkv; tau++)
        for (size_t g = 0; g < kv->dkv; g++)
            slots[g * kv->tkv + tau % kv->tkv] = keys[tau * kv->dkv + g];
    return HEKV_OK;
}

hekv_status hekv_pack_kv_v_slots(const hekv_pack_kv *kv, const double *values, size_t n,
                                 size_t b, size_t j, double *slots) {
    if (!kv || !values || !slots || b >= hekv__ceil_div(n, kv->B) || j >= kv->dh) return HEKV_ERR_ARG;
    memset(slots, 0, kv->S * sizeof *slots);
    for (size_t tau = b * kv->B; tau < n && tau < (b + 1) * kv->B; tau++) {
        const size_t i = tau - b * kv->B, qr = i / kv->tkv, r = i % kv->tkv;
        const size_t l = (qr + kv->dh - j) % kv->dh;
        for (size_t h = 0; h < kv->Hk; h++) {
            const size_t g = l * kv->Hk + h;
            slots[g * kv->tkv + r] = values[tau * kv->dkv + g];
        }
    }
    return HEKV_OK;
}

static hekv_status import_set(hekv_eval *ev, hekv_pack_kv *kv, const char *fn,
                              const hekv_ct *const *cts, size_t n, hekv_ct ***arr,
                              size_t *cap, size_t *held, int *level, double *scale) {
    hekv_status s;
    for (size_t i = 0; i < n; i++) {
        if ((s = hekv__kv_check_in(ev, kv, fn, cts[i], "an imported ciphertext", 0))) return s;
        if (hekv_ckks_ct_level(cts[i]) != hekv_ckks_ct_level(cts[0]))
            return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_LEVEL,
                                "%s: imported ciphertexts at levels %d and %d: one cache keeps "
                                "one level", fn, hekv_ckks_ct_level(cts[0]), hekv_ckks_ct_level(cts[i]));
        if (!hekv_ckks_scale_eq(hekv_ckks_ct_scale(cts[i]), hekv_ckks_ct_scale(cts[0])))
            return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_SCALE,
                                "%s: imported ciphertexts with different scales", fn);
    }
    if (!n) return HEKV_OK;
    if (grow(arr, cap, n) != HEKV_OK)
        return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_NOMEM, "%s: out of memory", fn);
    for (size_t i = 0; i < n; i++) {
        if (!(*arr)[i] && hekv_ckks_ct_new(kv->params, &(*arr)[i], hekv_ckks_ext_err(ev)) != HEKV_OK)
            return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_NOMEM, "%s: out of memory", fn);
        if ((s = hekv_ckks_ct_copy((*arr)[i], cts[i], hekv_ckks_ext_err(ev)))) return s;
        *held = i + 1;
    }
    *level = hekv_ckks_ct_level(cts[0]);
    *scale = hekv_ckks_ct_scale(cts[0]);
    return HEKV_OK;
}

hekv_status hekv_pack_kv_import(hekv_eval *ev, hekv_pack_kv *kv, size_t n_k,
                                const hekv_ct *const *k_cts, size_t n_v,
                                const hekv_ct *const *v_cts) {
    static const char fn[] = "hekv_pack_kv_import";
    if (!ev) return HEKV_ERR_ARG;
    if (!kv || (n_k && !k_cts) || (n_v && !v_cts))
        return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_ARG, "%s: NULL argument", fn);
    if (kv->nk_tok || kv->nv_tok)
        return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_ARG, "%s: the cache is not empty", fn);
    hekv_status s = import_set(ev, kv, fn, k_cts, hekv__ceil_div(n_k, kv->tkv), &kv->k, &kv->capk,
                               &kv->nk, &kv->k_level, &kv->k_scale);
    if (!s)
        s = import_set(ev, kv, fn, v_cts, hekv__ceil_div(n_v, kv->B) * kv->dh, &kv->v, &kv->capv,
                       &kv->nv, &kv->v_level, &kv->v_scale);
    if (s) { /* back to empty */
        for (size_t i = 0; i < kv->nk; i++) hekv_ckks_ct_free(kv->k[i]), kv->k[i] = NULL;
        for (size_t i = 0; i < kv->nv; i++) hekv_ckks_ct_free(kv->v[i]), kv->v[i] = NULL;
        kv->nk = kv->nv = 0;
        kv->k_level = kv->v_level = -1;
        return s;
    }
    kv->nk_tok = n_k;
    kv->nv_tok = n_v;
    return HEKV_OK;
}

