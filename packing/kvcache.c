/* kvcache.c: the packed encrypted K and V caches of one attention layer and the three
 * attention steps that use them: append (K and V), QK^T for one new query over the whole
 * cache, and scores x V (Cachemir section 3.2, research/papers.md; extended here to
 * grouped-query attention without duplicating K or V).
 *
 * Shapes (pack.h): H query heads, Hk K/V heads, gamma = H/Hk, d_h, t = S/d,
 * t_kv = gamma*t, B = S/Hk tokens per block. In the head-interleaved order feature
 * l*Hk + h' of a key sits at slot (l*Hk + h')*t_kv = (l*H + h'*gamma)*t: the gamma query
 * heads h'*gamma + e sharing that key head sit in the same t_kv-slot block, in sub-block
 * e. Every GQA step below is the plain multi-head step run with (Hk, t_kv) in place of
 * (H, t), once per group offset e, on a query that has been moved into the key layout.
 *
 * QK^T, one e: Q_e holds q[l*H + h'*gamma + e] in all t_kv slots of block (l, h'): q is
 * replicated over its t-slot blocks (log2 t rotate-and-adds with Rot(., -r)), masked to
 * the heads with h mod gamma = e, and copied over the gamma sub-blocks by log2 gamma
 * rotate-and-adds whose signs follow the bits of e (Rot(., +r t) where bit r of e is set,
 * Rot(., -r t) otherwise: every copy stays inside its block). Then for K ciphertext c
 * (block b = c / d_h, row c mod d_h):
 *     P = Q_e (x) K_c;  P += Rot(P, r*H*t) for r = 1 .. d_h/2   (sum over the d_h
 *     features of each head; the sum lands in every row, replicated);
 *     S[e][b] += P (.) 1[rows c mod d_h]                         (keep row c)
 * so slot ((c mod d_h)*Hk + h')*t_kv + u of S[e][b] holds q_h . k_{c t_kv + u}.
 *
 * V cache: the token at in-block index i = q'*t_kv + r puts feature l*Hk + h' into
 * diagonal ciphertext (q' - l) mod d_h at slot (l*Hk + h')*t_kv + r. Then
 *     Acc_e = sum_b sum_{j<d_h} Rot(S[e][b], j*Hk*t_kv) (x) V_{b,j}
 * holds at slot (l*Hk + h')*t_kv + u the terms score(h, tau) v_tau[l*Hk + h'] of the
 * tokens tau = b*B + ((l + j) mod d_h)*t_kv + u: summed over the t_kv slots of the block
 * this is the output feature l*H + h of head h = h'*gamma + e. The fold over t_kv with
 * its result put at offset e*t (signs from the bits of e, as in irp.c) is split in a
 * per-e part over the sub-blocks (log2 gamma) and a shared part over t (log2 t, applied
 * once to the sum over e). The per-e part is exact only in sub-block e: the other
 * sub-blocks hold partial sums that would land on the outputs of the other offsets, so
 * with gamma > 1 each part is masked to its sub-block before the sum (gamma mask
 * products, one level). The output feature l*H + h lands at slot (l*H + h)*t: the IRP
 * layout of width d, ready for the O projection.
 *
 * The tensor products of scores x V are accumulated unrelinearised over all blocks, so
 * each e pays one relinearisation. Masks are 0/1 plaintexts at scale q_level (a product
 * and rescale keep the scale); each kind is encoded once per level and moved to its
 * offset by a plaintext automorphism (no key switch).
 *
 * Not here: the softmax between QK^T and scores x V (polynomial layer), the projections
 * (irp.c), serialization (kvcache_serial.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pack_int.h"

/* Hoisted rotations of one score ciphertext are done in batches of this many (memory:
 * one ciphertext each). */
#define KV_HOIST_BATCH 32

/* ------------------------------------------------------------------ construction */

void hekv_pack_kv_free(hekv_pack_kv *kv) {
    if (!kv) return;
    for (size_t i = 0; i < kv->nk; i++) hekv_ct_free(kv->k[i]);
    for (size_t i = 0; i < kv->nv; i++) hekv_ct_free(kv->v[i]);
    free(kv->k);
    free(kv->v);
    for (int k = 0; k < KV_MASK_KINDS; k++)
        for (int l = 0; l < HEKV_CKKS_MAX_Q; l++) hekv_pt_free(kv->base[k][l]);
    hekv_pt_free(kv->mask);
    hekv_ct_free(kv->piece);
    free(kv->map);
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
    if (s == HEKV_OK) s = hekv_pt_new(p, &kv->mask, err);
    if (s == HEKV_OK) s = hekv_ct_new(p, &kv->piece, err);
    if (s == HEKV_OK && !(kv->map = malloc(hekv_ckks_params_n(p) * sizeof *kv->map)))
        s = hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    if (s != HEKV_OK) {
        hekv_pack_kv_free(kv);
        return s;
    }
    *out = kv;
    return HEKV_OK;
}

static size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

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

size_t hekv_pack_kv_next_pos_k(const hekv_pack_kv *kv) { return kv ? kv->nk_tok % kv->tkv : 0; }
size_t hekv_pack_kv_next_pos_v(const hekv_pack_kv *kv) { return kv ? kv->nv_tok % kv->tkv : 0; }

size_t hekv_pack_kv_score_count(const hekv_pack_kv *kv) {
    return kv ? kv->gamma * ceil_div(kv->nk_tok, kv->B) : 0;
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
static hekv_status get_mask(hekv_pack_kv *kv, hekv_eval *ev, int kind, int level, size_t shift,
                            const hekv_pt **out) {
    static const char fn[] = "hekv_pack_kv (mask)";
    hekv_pt **bp = &kv->base[kind][level];
    if (!*bp) {
        double *v = malloc(kv->S * sizeof *v);
        hekv_status s = v ? hekv_pt_new(kv->params, bp, &ev->err) : HEKV_ERR_NOMEM;
        if (s == HEKV_OK) {
            base_vals(kv, kind, v);
            s = hekv__mask_encode(kv->enc, *bp, v, level, &ev->err);
        }
        free(v);
        if (s != HEKV_OK) {
            hekv_pt_free(*bp);
            *bp = NULL;
            return hekv_err_set(&ev->err, s, "%s: could not encode a mask at level %d", fn,
                                level);
        }
    }
    if (shift % kv->S == 0) {
        *out = *bp;
        return HEKV_OK;
    }
    hekv_status s = hekv__pt_rotate(kv->params, kv->map, kv->mask, *bp, -(long)(shift % kv->S));
    if (s != HEKV_OK) return hekv_err_set(&ev->err, s, "%s: could not move a mask", fn);
    *out = kv->mask;
    return HEKV_OK;
}

/* ------------------------------------------------------------------ append */

static hekv_status check_in(hekv_eval *ev, const hekv_pack_kv *kv, const char *fn,
                            const hekv_ct *c, const char *what, int need) {
    if (!c) return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: %s is NULL", fn, what);
    if (c->params != kv->params || ev->params != kv->params)
        return hekv_err_set(&ev->err, HEKV_ERR_PARAMS,
                            "%s: %s, cache and evaluator must share one parameter set", fn, what);
    if (c->level < 0 || c->slots != kv->S)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG,
                            "%s: %s must be a non-empty ciphertext over all %zu slots", fn, what,
                            kv->S);
    if (c->level < need)
        return hekv_err_set(&ev->err, HEKV_ERR_LEVEL,
                            "%s: %s is at level %d, this step needs %d level(s): bootstrap it "
                            "first", fn, what, c->level, need);
    return HEKV_OK;
}

/* The level and scale an appended entry will have, checked against the cache's. */
static hekv_status entry_target(hekv_eval *ev, const hekv_pack_kv *kv, const char *fn,
                                const hekv_ct *x, int cache_level, double cache_scale,
                                int *level) {
    const int l = x->level;
    const double ql = (double)hekv_ckks_params_q(kv->params, l);
    const double scale = x->scale * ql / ql;
    int nl = l - 1;
    if (kv->store_level >= 0 && nl > kv->store_level) nl = kv->store_level;
    if (cache_level >= 0) {
        if (nl < cache_level)
            return hekv_err_set(&ev->err, HEKV_ERR_LEVEL,
                                "%s: the entry would be stored at level %d, below the cache's "
                                "level %d: append at level %d or higher", fn, nl, cache_level,
                                cache_level + 1);
        if (!hekv__scale_eq(scale, cache_scale))
            return hekv_err_set(&ev->err, HEKV_ERR_SCALE,
                                "%s: the entry's scale 2^%.6f differs from the cache's 2^%.6f",
                                fn, log2(scale), log2(cache_scale));
        nl = cache_level;
    }
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
    hekv_ct *piece = kv->piece;
    hekv_status s = hekv__mask_mul(ev, piece, x, mask, st);
    if (!s && piece->level > level) s = hekv_ckks_eval_drop_to(ev, piece, piece, level);
    if (s) return s;
    if (fresh) {
        if (!*dst && hekv_ct_new(kv->params, dst, &ev->err) != HEKV_OK)
            return hekv_err_set(&ev->err, HEKV_ERR_NOMEM, "hekv_pack_kv: out of memory");
        return hekv_ct_copy(*dst, piece, &ev->err);
    }
    return hekv_ckks_eval_add(ev, *dst, *dst, piece);
}

hekv_status hekv_pack_kv_append_k(hekv_eval *ev, hekv_pack_kv *kv, const hekv_ct *k,
                                  hekv_pack_stats *st) {
    static const char fn[] = "hekv_pack_kv_append_k";
    if (!ev) return HEKV_ERR_ARG;
    if (!kv) return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: cache is NULL", fn);
    hekv_status s = check_in(ev, kv, fn, k, "the key", 1);
    int level;
    if (!s) s = entry_target(ev, kv, fn, k, kv->k_level, kv->k_scale, &level);
    if (s) return s;
    const size_t pos = kv->nk_tok % kv->tkv;
    const int fresh = pos == 0;
    if (fresh && grow(&kv->k, &kv->capk, kv->nk + 1) != HEKV_OK)
        return hekv_err_set(&ev->err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    const hekv_pt *m = NULL;
    if ((s = get_mask(kv, ev, KV_MASK_K, k->level, pos, &m))) return s;
    if ((s = add_piece(ev, kv, &kv->k[fresh ? kv->nk : kv->nk - 1], fresh, k, m, level, st)))
        return s;
    if (fresh) kv->nk++;
    if (kv->k_level < 0) {
        kv->k_level = level;
        kv->k_scale = hekv_ct_scale(kv->k[0]);
    }
    kv->nk_tok++;
    return HEKV_OK;
}

hekv_status hekv_pack_kv_append_v(hekv_eval *ev, hekv_pack_kv *kv, const hekv_ct *v,
                                  hekv_pack_stats *st) {
    static const char fn[] = "hekv_pack_kv_append_v";
    if (!ev) return HEKV_ERR_ARG;
    if (!kv) return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: cache is NULL", fn);
    hekv_status s = check_in(ev, kv, fn, v, "the value", 1);
    int level;
    if (!s) s = entry_target(ev, kv, fn, v, kv->v_level, kv->v_scale, &level);
    if (s) return s;
    const size_t dh = kv->dh, i = kv->nv_tok % kv->B, qr = i / kv->tkv, r = i % kv->tkv;
    const int fresh = i == 0;
    const size_t base = fresh ? kv->nv : kv->nv - dh;
    if (fresh && grow(&kv->v, &kv->capv, kv->nv + dh) != HEKV_OK)
        return hekv_err_set(&ev->err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    for (size_t j = 0; j < dh; j++) {
        const size_t l = (qr + dh - j) % dh; /* feature row that goes to diagonal j */
        const hekv_pt *m = NULL;
        if ((s = get_mask(kv, ev, KV_MASK_V, v->level, l * kv->Hk * kv->tkv + r, &m)) ||
            (s = add_piece(ev, kv, &kv->v[base + j], fresh, v, m, level, st))) {
            if (fresh) /* drop a half-built block */
                for (size_t x = 0; x < dh; x++) {
                    hekv_ct_free(kv->v[base + x]);
                    kv->v[base + x] = NULL;
                }
            return s;
        }
    }
    if (fresh) kv->nv += dh;
    if (kv->v_level < 0) {
        kv->v_level = level;
        kv->v_scale = hekv_ct_scale(kv->v[0]);
    }
    kv->nv_tok++;
    return HEKV_OK;
}

/* ------------------------------------------------------------------ layouts for clients */

hekv_status hekv_pack_kv_k_slots(const hekv_pack_kv *kv, const double *keys, size_t n, size_t c,
                                 double *slots) {
    if (!kv || !keys || !slots || c >= ceil_div(n, kv->tkv)) return HEKV_ERR_ARG;
    memset(slots, 0, kv->S * sizeof *slots);
    for (size_t tau = c * kv->tkv; tau < n && tau < (c + 1) * kv->tkv; tau++)
        for (size_t g = 0; g < kv->dkv; g++)
            slots[g * kv->tkv + tau % kv->tkv] = keys[tau * kv->dkv + g];
    return HEKV_OK;
}

hekv_status hekv_pack_kv_v_slots(const hekv_pack_kv *kv, const double *values, size_t n,
                                 size_t b, size_t j, double *slots) {
    if (!kv || !values || !slots || b >= ceil_div(n, kv->B) || j >= kv->dh) return HEKV_ERR_ARG;
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
        if ((s = check_in(ev, kv, fn, cts[i], "an imported ciphertext", 0))) return s;
        if (cts[i]->level != cts[0]->level)
            return hekv_err_set(&ev->err, HEKV_ERR_LEVEL,
                                "%s: imported ciphertexts at levels %d and %d: one cache keeps "
                                "one level", fn, cts[0]->level, cts[i]->level);
        if (!hekv__scale_eq(cts[i]->scale, cts[0]->scale))
            return hekv_err_set(&ev->err, HEKV_ERR_SCALE,
                                "%s: imported ciphertexts with different scales", fn);
    }
    if (!n) return HEKV_OK;
    if (grow(arr, cap, n) != HEKV_OK)
        return hekv_err_set(&ev->err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    for (size_t i = 0; i < n; i++) {
        if (!(*arr)[i] && hekv_ct_new(kv->params, &(*arr)[i], &ev->err) != HEKV_OK)
            return hekv_err_set(&ev->err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
        if ((s = hekv_ct_copy((*arr)[i], cts[i], &ev->err))) return s;
        *held = i + 1;
    }
    *level = cts[0]->level;
    *scale = cts[0]->scale;
    return HEKV_OK;
}

hekv_status hekv_pack_kv_import(hekv_eval *ev, hekv_pack_kv *kv, size_t n_k,
                                const hekv_ct *const *k_cts, size_t n_v,
                                const hekv_ct *const *v_cts) {
    static const char fn[] = "hekv_pack_kv_import";
    if (!ev) return HEKV_ERR_ARG;
    if (!kv || (n_k && !k_cts) || (n_v && !v_cts))
        return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: NULL argument", fn);
    if (kv->nk_tok || kv->nv_tok)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: the cache is not empty", fn);
    hekv_status s = import_set(ev, kv, fn, k_cts, ceil_div(n_k, kv->tkv), &kv->k, &kv->capk,
                               &kv->nk, &kv->k_level, &kv->k_scale);
    if (!s)
        s = import_set(ev, kv, fn, v_cts, ceil_div(n_v, kv->B) * kv->dh, &kv->v, &kv->capv,
                       &kv->nv, &kv->v_level, &kv->v_scale);
    if (s) { /* back to empty */
        for (size_t i = 0; i < kv->nk; i++) hekv_ct_free(kv->k[i]), kv->k[i] = NULL;
        for (size_t i = 0; i < kv->nv; i++) hekv_ct_free(kv->v[i]), kv->v[i] = NULL;
        kv->nk = kv->nv = 0;
        kv->k_level = kv->v_level = -1;
        return s;
    }
    kv->nk_tok = n_k;
    kv->nv_tok = n_v;
    return HEKV_OK;
}

/* ------------------------------------------------------------------ rotations */

static void add_rot(long *list, size_t *n, size_t cap, long k, long S) {
    k = ((k % S) + S) % S;
    if (!k) return;
    for (size_t i = 0; i < *n && i < cap; i++)
        if (list[i] == k) return;
    if (*n < cap) list[*n] = k;
    (*n)++;
}

/* All rotations of qkt and attn_v (see their doc comments). */
static size_t kv_rots(const hekv_pack_kv *kv, long *list, size_t cap) {
    size_t n = 0;
    const long S = (long)kv->S, t = (long)kv->t, Ht = (long)(kv->H * kv->t);
    for (long r = 1; r < t; r <<= 1) add_rot(list, &n, cap, -r, S); /* replicate q */
    for (long r = 1; r < (long)kv->gamma; r <<= 1) {                /* group sub-blocks */
        add_rot(list, &n, cap, r * t, S);
        add_rot(list, &n, cap, -r * t, S);
    }
    for (long r = 1; r < (long)kv->dh; r <<= 1) add_rot(list, &n, cap, r * Ht, S); /* fold */
    for (long j = 1; j < (long)kv->dh; j++) add_rot(list, &n, cap, j * Ht, S); /* diagonals */
    for (long r = 1; r < t; r <<= 1) add_rot(list, &n, cap, r, S); /* final fold */
    return n;
}

size_t hekv_pack_kv_rotations(const hekv_pack_kv *kv, long *rots, size_t cap) {
    if (!kv) return 0;
    size_t most = 4 * 64 + kv->dh;
    long *list = malloc(most * sizeof *list);
    if (!list) return 0;
    size_t n = kv_rots(kv, list, most);
    if (rots)
        for (size_t i = 0; i < n && i < cap; i++) rots[i] = list[i];
    free(list);
    return n;
}

static hekv_status need_keys(hekv_eval *ev, const hekv_pack_kv *kv, const char *fn) {
    size_t most = 4 * 64 + kv->dh;
    long *list = malloc(most * sizeof *list);
    if (!list) return hekv_err_set(&ev->err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    size_t n = kv_rots(kv, list, most);
    hekv_status s = HEKV_OK;
    for (size_t i = 0; i < n && !s; i++) s = hekv__need_rot(ev, fn, list[i]);
    free(list);
    if (!s && (!ev->evk || !ev->evk->relin))
        s = hekv_err_set(&ev->err, HEKV_ERR_KEY_MISSING,
                         "%s: no relinearisation key (hekv_ckks_evk_gen_relin)", fn);
    return s;
}

/* ------------------------------------------------------------------ QK^T */

hekv_status hekv_pack_kv_qkt(hekv_eval *ev, hekv_pack_kv *kv, hekv_ct *const *scores,
                             size_t nscores, const hekv_ct *q, hekv_pack_stats *st) {
    static const char fn[] = "hekv_pack_kv_qkt";
    if (!ev) return HEKV_ERR_ARG;
    if (!kv) return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: cache is NULL", fn);
    const size_t G = kv->gamma, dh = kv->dh, nb = ceil_div(kv->nk_tok, kv->B);
    if (kv->nk_tok == 0)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: the K cache is empty", fn);
    if (nscores != G * nb || !scores)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG,
                            "%s: %zu score ciphertexts given, %zu needed "
                            "(hekv_pack_kv_score_count)", fn, nscores, G * nb);
    for (size_t i = 0; i < nscores; i++)
        if (!scores[i] || scores[i]->params != kv->params || (const hekv_ct *)scores[i] == q)
            return hekv_err_set(&ev->err, HEKV_ERR_ARG,
                                "%s: score %zu is NULL, of other parameters or the query", fn, i);
    const int mq = G > 1; /* the query masks take one level */
    hekv_status s = check_in(ev, kv, fn, q, "the query", mq);
    if (s) return s;
    const int lp = (q->level - mq) < kv->k_level ? q->level - mq : kv->k_level;
    if (lp < 2)
        return hekv_err_set(&ev->err, HEKV_ERR_LEVEL,
                            "%s: the product would be at level %d, QK^T needs 2 (product, "
                            "mask): bootstrap the query or keep the cache higher", fn, lp);
    if ((s = need_keys(ev, kv, fn))) return s;

    const long t = (long)kv->t, Ht = (long)(kv->H * kv->t);
    hekv_ct *qr = NULL, *Q = NULL, *P = NULL;
    if (hekv_ct_new(kv->params, &qr, &ev->err) || hekv_ct_new(kv->params, &Q, &ev->err) ||
        hekv_ct_new(kv->params, &P, &ev->err)) {
        s = hekv_err_set(&ev->err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
        goto done;
    }
    /* q replicated over its t-slot blocks */
    if ((s = hekv_ct_copy(qr, q, &ev->err))) goto done;
    for (long r = 1; r < t; r <<= 1)
        if ((s = hekv__rot_add(ev, qr, -r, st))) goto done;
    for (size_t e = 0; e < G; e++) {
        /* Q_e: the heads h'*gamma + e copied over the gamma sub-blocks of their block */
        if (G > 1) {
            const hekv_pt *m = NULL;
            if ((s = get_mask(kv, ev, KV_MASK_Q, qr->level, e * kv->t, &m)) ||
                (s = hekv__mask_mul(ev, Q, qr, m, st)))
                goto done;
            for (long r = 1; r < (long)G; r <<= 1)
                if ((s = hekv__rot_add(ev, Q, ((size_t)r & e) ? r * t : -r * t, st)))
                    goto done;
        } else if ((s = hekv_ct_copy(Q, qr, &ev->err))) {
            goto done;
        }
        for (size_t c = 0; c < kv->nk; c++) {
            const size_t b = c / dh, row = c % dh;
            hekv_ct *out = scores[e * nb + b];
            if ((s = hekv_ckks_eval_mul(ev, P, Q, kv->k[c])) ||
                (s = hekv_ckks_eval_rescale(ev, P, P)))
                goto done;
            HEKV__ST(st, ct_mults, 1);
            HEKV__ST(st, relins, 1);
            HEKV__ST(st, rescales, 1);
            for (long r = 1; r < (long)dh; r <<= 1)
                if ((s = hekv__rot_add(ev, P, r * Ht, st))) goto done;
            const hekv_pt *m = NULL;
            if ((s = get_mask(kv, ev, KV_MASK_BLOCK, P->level, row * (size_t)Ht, &m))) goto done;
            if (row == 0) {
                if ((s = hekv_ckks_eval_mul_pt(ev, out, P, m))) goto done;
            } else {
                if ((s = hekv_ckks_eval_mul_pt(ev, P, P, m)) ||
                    (s = hekv_ckks_eval_add(ev, out, out, P)))
                    goto done;
            }
            HEKV__ST(st, mask_mults, 1);
            if (row == dh - 1 || c == kv->nk - 1) {
                if ((s = hekv_ckks_eval_rescale(ev, out, out))) goto done;
                HEKV__ST(st, rescales, 1);
            }
        }
    }
done:
    hekv_ct_free(qr);
    hekv_ct_free(Q);
    hekv_ct_free(P);
    return s;
}

/* ------------------------------------------------------------------ scores x V */

hekv_status hekv_pack_kv_attn_v(hekv_eval *ev, hekv_pack_kv *kv, hekv_ct *out,
                                const hekv_ct *const *scores, size_t nscores, unsigned flags,
                                hekv_pack_stats *st) {
    static const char fn[] = "hekv_pack_kv_attn_v";
    if (!ev) return HEKV_ERR_ARG;
    if (!kv || !out) return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: cache or out NULL", fn);
    const size_t G = kv->gamma, dh = kv->dh, nb = kv->nv / dh;
    if (kv->nv_tok == 0)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: the V cache is empty", fn);
    if (nscores != G * nb || !scores)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG,
                            "%s: %zu score ciphertexts given, %zu needed (gamma x V blocks)",
                            fn, nscores, G * nb);
    hekv_status s;
    const int clean = (flags & HEKV_PACK_CLEAN) != 0;
    int ls = -1;
    for (size_t i = 0; i < nscores; i++) {
        if ((s = check_in(ev, kv, fn, scores[i], "a score ciphertext", 0))) return s;
        if (scores[i] == out)
            return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: out aliases a score", fn);
        if (i && (scores[i]->level != scores[0]->level ||
                  !hekv__scale_eq(scores[i]->scale, scores[0]->scale)))
            return hekv_err_set(&ev->err, HEKV_ERR_SCALE,
                                "%s: the score ciphertexts must share one level and scale", fn);
        ls = scores[i]->level;
    }
    const int lp = ls < kv->v_level ? ls : kv->v_level, need = 1 + (G > 1) + clean;
    if (lp < need)
        return hekv_err_set(&ev->err, HEKV_ERR_LEVEL,
                            "%s: the product would be at level %d, this step needs %d", fn, lp,
                            need);
    if ((s = need_keys(ev, kv, fn))) return s;

    const long t = (long)kv->t, Ht = (long)(kv->H * kv->t);
    const size_t nrot = dh - 1, batch = nrot < KV_HOIST_BATCH ? nrot : KV_HOIST_BATCH;
    hekv_ct **rot = calloc(batch ? batch : 1, sizeof *rot);
    long *ks = malloc((batch ? batch : 1) * sizeof *ks);
    hekv_ct *A = NULL;
    hekv__tensor acc;
    memset(&acc, 0, sizeof acc);
    int acc_ok = 0;
    s = HEKV_OK;
    if (!rot || !ks || hekv_ct_new(kv->params, &A, &ev->err) ||
        hekv__tensor_init(&acc, kv->params, lp) != HEKV_OK) {
        s = hekv_err_set(&ev->err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
        goto done;
    }
    acc_ok = 1;
    for (size_t i = 0; i < batch && !s; i++) s = hekv_ct_new(kv->params, &rot[i], &ev->err);
    if (s) goto done;
    for (size_t e = 0; e < G; e++) {
        acc.level = -1;
        for (size_t b = 0; b < nb; b++) {
            const hekv_ct sv = hekv__ct_view(scores[e * nb + b], lp);
            hekv__tensor_acc(kv->params, &acc, &sv, kv->v[b * dh]);
            for (size_t j0 = 1; j0 < dh; j0 += batch) {
                const size_t nj = dh - j0 < batch ? dh - j0 : batch;
                for (size_t i = 0; i < nj; i++) ks[i] = (long)(j0 + i) * Ht;
                if ((s = hekv_ckks_eval_rotate_hoisted(ev, rot, &sv, ks, nj))) goto done;
                HEKV__ST(st, rotations, nj);
                HEKV__ST(st, hoisted, nj);
                for (size_t i = 0; i < nj; i++)
                    hekv__tensor_acc(kv->params, &acc, rot[i], kv->v[b * dh + j0 + i]);
            }
            HEKV__ST(st, ct_mults, dh);
        }
        if ((s = hekv__tensor_relin(ev, A, &acc, kv->S)) ||
            (s = hekv_ckks_eval_rescale(ev, A, A)))
            goto done;
        HEKV__ST(st, relins, 1);
        HEKV__ST(st, rescales, 1);
        /* fold the gamma sub-blocks to sub-block e: exact there, partial sums elsewhere,
         * which the mask of sub-block e removes before the other offsets are added */
        for (long r = 1; r < (long)G; r <<= 1)
            if ((s = hekv__rot_add(ev, A, ((size_t)r & e) ? -r * t : r * t, st))) goto done;
        if (G > 1) {
            const hekv_pt *m = NULL;
            if ((s = get_mask(kv, ev, KV_MASK_Q, A->level, e * kv->t, &m)) ||
                (s = hekv_ckks_eval_mul_pt(ev, A, A, m)))
                goto done;
            HEKV__ST(st, mask_mults, 1);
        }
        if (e == 0)
            s = hekv_ct_copy(out, A, &ev->err);
        else
            s = hekv_ckks_eval_add(ev, out, out, A);
        if (s) goto done;
    }
    if (G > 1) {
        if ((s = hekv_ckks_eval_rescale(ev, out, out))) goto done;
        HEKV__ST(st, rescales, 1);
    }
    for (long r = 1; r < t; r <<= 1)
        if ((s = hekv__rot_add(ev, out, r, st))) goto done;
    if (clean) {
        const hekv_pt *m = NULL;
        if ((s = get_mask(kv, ev, KV_MASK_OUT, out->level, 0, &m)) ||
            (s = hekv__mask_mul(ev, out, out, m, st)))
            goto done;
    }
done:
    if (rot)
        for (size_t i = 0; i < batch; i++) hekv_ct_free(rot[i]);
    free(rot);
    free(ks);
    hekv_ct_free(A);
    if (acc_ok) hekv__tensor_free(&acc);
    return s;
}
