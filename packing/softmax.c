/* softmax.c: the attention softmax on the score layout of hekv_pack_kv_qkt, without a
 * plaintext max: normalize-and-square (models/softmax_ns.c designs it and simulates it;
 * this file is that circuit). For each group offset e (query heads h'*gamma + e) the
 * score ciphertexts S[e][b] of all blocks b hold head h''s scores at slots
 * (c*Hk + h')*t_kv + u:
 *   1. u = (s - B_h)/2^k: a plaintext of -B_h per slot (free), the 1/2^k by relabelling
 *      the scale (free); e = exp-circuit(u);
 *   2. e *= the mask of the slots holding cached tokens (the others held 0 and now hold
 *      e^(-B/2^k)): one level;
 *   3. k + 1 normalizations, the i-th after squaring every sigma (i > 0):
 *        T = sum_b sigma_b; the per-head sum in every slot of the head: over c the cyclic
 *        rotations by j*H*t (exact: they generate the row group), over u the
 *        rotate-and-adds by 1 .. t_kv/2 (exact at the window's first slot only), the mask
 *        of first slots (one level), and the rotate-and-adds by -1 .. -t_kv/2 that copy
 *        it over the window; then T *= n (i > 0), R = recip_i(T), R *= n (i > 0), and
 *        sigma_b *= R.
 * Levels: d_exp + 1 + sum_i (d_recip_i + 2) + k; the design's reciprocals are the
 * simulation's, so the encrypted probabilities equal the simulated ones up to CKKS noise.
 * Rotations per normalization: log2 d_h + 2 log2 t_kv; relinearised products: nb per
 * squaring and per normalization, plus the circuits'. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pack_int.h"

int hekv_pack_kv_softmax_depth(const hekv_pack_kv *kv, const hekv_pack_softmax *sm) {
    (void)kv; /* the depth does not depend on the cache's shape */
    if (!sm || !sm->exp || !sm->recip || sm->steps < 0) return -1;
    int d = hekv_ckks_nonlin_depth(sm->exp) + 1 + sm->steps;
    for (int i = 0; i <= sm->steps; i++) {
        if (!sm->recip[i]) return -1;
        d += hekv_ckks_nonlin_depth(sm->recip[i]) + 2;
    }
    return d;
}

int hekv_pack_kv_softmax_out_level(const hekv_pack_kv *kv, const hekv_pack_softmax *sm,
                                   int scores_level) {
    const int d = hekv_pack_kv_softmax_depth(kv, sm);
    return d < 0 || scores_level - d < 0 ? -1 : scores_level - d;
}

static void add_rot(long *list, size_t *n, size_t cap, long k, long S) {
    k = ((k % S) + S) % S;
    if (!k) return;
    for (size_t i = 0; i < *n && i < cap; i++)
        if (list[i] == k) return;
    if (*n < cap) list[*n] = k;
    (*n)++;
}

size_t hekv_pack_kv_softmax_rotations(const hekv_pack_kv *kv, long *rots, size_t cap) {
    if (!kv) return 0;
    size_t n = 0;
    const long S = (long)kv->S, W = (long)(kv->H * kv->t);
    for (size_t j = 1; j < kv->dh; j <<= 1) add_rot(rots, &n, cap, W * (long)j, S);
    for (size_t j = 1; j < kv->tkv; j <<= 1) {
        add_rot(rots, &n, cap, (long)j, S);
        add_rot(rots, &n, cap, -(long)j, S);
    }
    return n;
}

/* Per-call plaintexts: the shift of offset e (-B_h at head h's slots) at `level` and
 * `scale`, the mask of the cached tokens of block b, and the window-start mask. */
static hekv_status shift_pt(hekv_pack_kv *kv, hekv_eval *ev, const hekv_pack_softmax *sm,
                            size_t e, int level, double scale, hekv_pt *pt, double *v) {
    for (size_t x = 0; x < kv->S; x++) {
        const size_t hp = (x / kv->tkv) % kv->Hk;
        v[x] = -sm->shift[hp * kv->gamma + e];
    }
    return hekv_ckks_encode(kv->enc, pt, v, NULL, kv->S, level, scale, hekv_ckks_ext_err(ev));
}

static hekv_status valid_pt(hekv_pack_kv *kv, hekv_eval *ev, size_t b, int level, hekv_pt *pt,
                            double *v) {
    for (size_t x = 0; x < kv->S; x++) {
        const size_t c = x / (kv->Hk * kv->tkv), u = x % kv->tkv;
        v[x] = b * kv->B + c * kv->tkv + u < kv->nk_tok ? 1.0 : 0.0;
    }
    return hekv__mask_encode(kv->enc, pt, v, level, hekv_ckks_ext_err(ev));
}

static hekv_status start_pt(hekv_pack_kv *kv, hekv_eval *ev, int level, hekv_pt *pt,
                            double *v) {
    for (size_t x = 0; x < kv->S; x++) v[x] = x % kv->tkv == 0 ? 1.0 : 0.0;
    return hekv__mask_encode(kv->enc, pt, v, level, hekv_ckks_ext_err(ev));
}

/* T = the per-head sums of sigma[0..nb) in every slot of the head. */
static hekv_status head_sums(hekv_pack_kv *kv, hekv_eval *ev, hekv_ct *T,
                             hekv_ct *const *sigma, size_t nb, hekv_pt *pt, double *v,
                             hekv_pack_stats *st) {
    hekv_status s = hekv_ckks_ct_copy(T, sigma[0], hekv_ckks_ext_err(ev));
    for (size_t b = 1; b < nb && !s; b++) s = hekv_ckks_eval_add(ev, T, T, sigma[b]);
    const long W = (long)(kv->H * kv->t);
    for (size_t j = 1; j < kv->dh && !s; j <<= 1) s = hekv__rot_add(ev, T, W * (long)j, st);
    for (size_t j = 1; j < kv->tkv && !s; j <<= 1) s = hekv__rot_add(ev, T, (long)j, st);
    if (!s && kv->tkv > 1) {
        s = start_pt(kv, ev, hekv_ckks_ct_level(T), pt, v);
        if (!s) s = hekv__mask_mul(ev, T, T, pt, st);
        for (size_t j = 1; j < kv->tkv && !s; j <<= 1) s = hekv__rot_add(ev, T, -(long)j, st);
    } else if (!s) { /* t_kv = 1: no window; the mask's level is still spent (one depth) */
        s = hekv_ckks_eval_drop_to(ev, T, T, hekv_ckks_ct_level(T) - 1);
    }
    return s;
}

hekv_status hekv_pack_kv_softmax(hekv_eval *ev, hekv_pack_kv *kv, hekv_ct *const *scores,
                                 size_t nscores, const hekv_pack_softmax *sm,
                                 hekv_pack_stats *st) {
    static const char fn[] = "hekv_pack_kv_softmax";
    if (!ev) return HEKV_ERR_ARG;
    hekv_err *err = hekv_ckks_ext_err(ev);
    if (!kv || !scores || !sm || !sm->shift || !sm->exp || !sm->recip || sm->steps < 0)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: cache, scores or design missing", fn);
    const size_t G = kv->gamma, nb = hekv__ceil_div(kv->nk_tok, kv->B);
    if (nb == 0 || nscores != G * nb)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: %zu score ciphertexts given, %zu needed "
                            "(hekv_pack_kv_score_count)", fn, nscores, G * nb);
    const int depth = hekv_pack_kv_softmax_depth(kv, sm);
    if (depth < 0) return hekv_err_set(err, HEKV_ERR_ARG, "%s: a reciprocal is missing", fn);
    hekv_status s;
    for (size_t i = 0; i < nscores; i++)
        if ((s = hekv__kv_check_in(ev, kv, fn, scores[i], "a score ciphertext", depth)))
            return s;
    const int top = hekv_ckks_ct_level(scores[0]);
    for (size_t i = 1; i < nscores; i++)
        if (hekv_ckks_ct_level(scores[i]) != top ||
            !hekv_ckks_scale_eq(hekv_ckks_ct_scale(scores[i]), hekv_ckks_ct_scale(scores[0])))
            return hekv_err_set(err, HEKV_ERR_SCALE,
                                "%s: the score ciphertexts must share one level and scale", fn);
    /* every key before any work */
    long rots[64];
    const size_t nr = hekv_pack_kv_softmax_rotations(kv, rots, 64);
    for (size_t i = 0; i < nr && i < 64; i++)
        if ((s = hekv__need_rot(ev, fn, rots[i], top))) return s;
    if ((s = hekv_ckks_ext_need_relin(ev, fn, top))) return s;

    const double scale = hekv_ckks_ct_scale(scores[0]);
    double *v = malloc(kv->S * sizeof *v);
    hekv_pt *pt = NULL;
    hekv_ct *T = NULL, *R = NULL;
    if (!v) return hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    if ((s = hekv_ckks_ext_scratch_pt_get(ev, &pt)) || (s = hekv_ckks_ext_scratch_get(ev, &T)) ||
        (s = hekv_ckks_ext_scratch_get(ev, &R)))
        goto done;
    for (size_t e = 0; e < G && !s; e++) {
        hekv_ct *const *sig = scores + e * nb;
        /* 1. u = (s - B)/2^k, e^u */
        s = shift_pt(kv, ev, sm, e, top, scale, pt, v);
        for (size_t b = 0; b < nb && !s; b++) {
            s = hekv_ckks_eval_add_pt(ev, sig[b], sig[b], pt);
            if (!s) s = hekv_ckks_ext_set_scale(ev, sig[b], scale * ldexp(1, sm->steps));
            if (!s) s = hekv_ckks_eval_nonlin(ev, sig[b], sig[b], sm->exp, scale);
        }
        /* 2. the cached tokens only */
        for (size_t b = 0; b < nb && !s; b++) {
            s = valid_pt(kv, ev, b, hekv_ckks_ct_level(sig[b]), pt, v);
            if (!s) s = hekv__mask_mul(ev, sig[b], sig[b], pt, st);
        }
        /* 3. k + 1 normalizations */
        for (int i = 0; i <= sm->steps && !s; i++) {
            if (i > 0)
                for (size_t b = 0; b < nb && !s; b++) {
                    s = hekv_ckks_eval_square(ev, sig[b], sig[b]);
                    if (!s) s = hekv_ckks_eval_rescale(ev, sig[b], sig[b]);
                    HEKV__ST(st, ct_mults, 1);
                    HEKV__ST(st, relins, 1);
                    HEKV__ST(st, rescales, 1);
                }
            if (!s) s = head_sums(kv, ev, T, sig, nb, pt, v, st);
            if (!s && i > 0) s = hekv_ckks_eval_mul_int(ev, T, T, (int64_t)kv->nk_tok);
            if (!s) s = hekv_ckks_eval_nonlin(ev, R, T, sm->recip[i], scale);
            if (!s && i > 0) s = hekv_ckks_eval_mul_int(ev, R, R, (int64_t)kv->nk_tok);
            for (size_t b = 0; b < nb && !s; b++) {
                s = hekv_ckks_eval_mul(ev, sig[b], sig[b], R);
                if (!s) s = hekv_ckks_eval_rescale(ev, sig[b], sig[b]);
                HEKV__ST(st, ct_mults, 1);
                HEKV__ST(st, relins, 1);
                HEKV__ST(st, rescales, 1);
            }
        }
    }
done:
    hekv_ckks_ext_scratch_put(ev, R);
    hekv_ckks_ext_scratch_put(ev, T);
    hekv_ckks_ext_scratch_pt_put(ev, pt);
    free(v);
    return s;
}
