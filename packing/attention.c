/* attention.c: the two attention steps that read the packed K/V caches of kvcache.c: QK^T
 * for one new query over the whole K cache, and scores x V (Cachemir section 3.2,
 * research/papers.md; grouped-query attention without duplicating K or V). Every GQA step
 * below is the plain multi-head step run with (Hk, t_kv) in place of (H, t), once per
 * group offset e, on a query that has been moved into the key layout.
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
 * Scores x V: with the diagonal V layout of kvcache.c,
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
 * The tensor products of scores x V are accumulated unrelinearised over all blocks (the
 * evaluator's degree-2 accumulator), so each e pays one relinearisation. Scratch
 * ciphertexts come from the evaluator's pool: nothing ciphertext-sized is allocated per
 * call.
 *
 * Not here: the softmax between QK^T and scores x V (polynomial layer), the projections
 * (irp.c), the caches themselves (kvcache.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pack_int.h"

/* Hoisted rotations of one score ciphertext are done in batches of this many (memory:
 * one pooled ciphertext each). */
#define KV_HOIST_BATCH 32

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

/* Every key of qkt and attn_v at `level` (the highest level a step rotates at). */
static hekv_status need_keys(hekv_eval *ev, const hekv_pack_kv *kv, const char *fn, int level) {
    size_t most = 4 * 64 + kv->dh;
    long *list = malloc(most * sizeof *list);
    if (!list) return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_NOMEM, "%s: out of memory", fn);
    size_t n = kv_rots(kv, list, most);
    hekv_status s = HEKV_OK;
    for (size_t i = 0; i < n && !s; i++) s = hekv__need_rot(ev, fn, list[i], level);
    free(list);
    if (!s) s = hekv_ckks_ext_need_relin(ev, fn, level);
    return s;
}

/* ------------------------------------------------------------------ QK^T */

int hekv_pack_kv_qkt_out_level(const hekv_pack_kv *kv, int q_level) {
    if (!kv || kv->k_level < 0 || q_level < 0) return -1;
    const int mq = kv->gamma > 1, lq = q_level - mq;
    const int lp = lq < kv->k_level ? lq : kv->k_level;
    return lp >= 2 ? lp - 2 : -1;
}

int hekv_pack_kv_attn_v_out_level(const hekv_pack_kv *kv, int scores_level, unsigned flags) {
    if (!kv || kv->v_level < 0 || scores_level < 0) return -1;
    const int lp = scores_level < kv->v_level ? scores_level : kv->v_level;
    const int need = 1 + (kv->gamma > 1) + ((flags & HEKV_PACK_CLEAN) != 0);
    return lp >= need ? lp - need : -1;
}

hekv_status hekv_pack_kv_qkt(hekv_eval *ev, hekv_pack_kv *kv, hekv_ct *const *scores,
                             size_t nscores, const hekv_ct *q, hekv_pack_stats *st) {
    static const char fn[] = "hekv_pack_kv_qkt";
    if (!ev) return HEKV_ERR_ARG;
    hekv_err *err = hekv_ckks_ext_err(ev);
    if (!kv) return hekv_err_set(err, HEKV_ERR_ARG, "%s: cache is NULL", fn);
    const size_t G = kv->gamma, dh = kv->dh, nb = hekv__ceil_div(kv->nk_tok, kv->B);
    if (kv->nk_tok == 0) return hekv_err_set(err, HEKV_ERR_ARG, "%s: the K cache is empty", fn);
    if (nscores != G * nb || !scores)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: %zu score ciphertexts given, %zu needed "
                            "(hekv_pack_kv_score_count)", fn, nscores, G * nb);
    for (size_t i = 0; i < nscores; i++)
        if (!scores[i] || hekv_ckks_ct_params(scores[i]) != kv->params ||
            (const hekv_ct *)scores[i] == q)
            return hekv_err_set(err, HEKV_ERR_ARG,
                                "%s: score %zu is NULL, of other parameters or the query", fn, i);
    const int mq = G > 1; /* the query masks take one level */
    hekv_status s = hekv__kv_check_in(ev, kv, fn, q, "the query", mq);
    if (s) return s;
    const int ql = hekv_ckks_ct_level(q);
    const int lp = (ql - mq) < kv->k_level ? ql - mq : kv->k_level;
    if (hekv_pack_kv_qkt_out_level(kv, ql) < 0)
        return hekv_err_set(err, HEKV_ERR_LEVEL,
                            "%s: the product would be at level %d, QK^T needs 2 (product, "
                            "mask): bootstrap the query or keep the cache higher", fn, lp);
    if ((s = need_keys(ev, kv, fn, ql))) return s;

    const long t = (long)kv->t, Ht = (long)(kv->H * kv->t);
    hekv_ct *qr = NULL, *Q = NULL, *P = NULL;
    if ((s = hekv_ckks_ext_scratch_get(ev, &qr)) || (s = hekv_ckks_ext_scratch_get(ev, &Q)) ||
        (s = hekv_ckks_ext_scratch_get(ev, &P)))
        goto done;
    /* q replicated over its t-slot blocks */
    if ((s = hekv_ckks_ct_copy(qr, q, err))) goto done;
    for (long r = 1; r < t; r <<= 1)
        if ((s = hekv__rot_add(ev, qr, -r, st))) goto done;
    for (size_t e = 0; e < G; e++) {
        /* Q_e: the heads h'*gamma + e copied over the gamma sub-blocks of their block */
        if (G > 1) {
            const hekv_pt *m = NULL;
            if ((s = hekv__kv_mask(kv, ev, KV_MASK_Q, hekv_ckks_ct_level(qr), e * kv->t, &m)) ||
                (s = hekv__mask_mul(ev, Q, qr, m, st)))
                goto done;
            for (long r = 1; r < (long)G; r <<= 1)
                if ((s = hekv__rot_add(ev, Q, ((size_t)r & e) ? r * t : -r * t, st))) goto done;
        } else if ((s = hekv_ckks_ct_copy(Q, qr, err))) {
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
            if ((s = hekv__kv_mask(kv, ev, KV_MASK_BLOCK, hekv_ckks_ct_level(P), row * (size_t)Ht,
                                   &m)))
                goto done;
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
    hekv_ckks_ext_scratch_put(ev, P);
    hekv_ckks_ext_scratch_put(ev, Q);
    hekv_ckks_ext_scratch_put(ev, qr);
    return s;
}

/* ------------------------------------------------------------------ scores x V */

hekv_status hekv_pack_kv_attn_v(hekv_eval *ev, hekv_pack_kv *kv, hekv_ct *out,
                                const hekv_ct *const *scores, size_t nscores, unsigned flags,
                                hekv_pack_stats *st) {
    static const char fn[] = "hekv_pack_kv_attn_v";
    if (!ev) return HEKV_ERR_ARG;
    hekv_err *err = hekv_ckks_ext_err(ev);
    if (!kv || !out) return hekv_err_set(err, HEKV_ERR_ARG, "%s: cache or out NULL", fn);
    const size_t G = kv->gamma, dh = kv->dh, nb = kv->nv / dh;
    if (kv->nv_tok == 0) return hekv_err_set(err, HEKV_ERR_ARG, "%s: the V cache is empty", fn);
    if (nscores != G * nb || !scores)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: %zu score ciphertexts given, %zu needed (gamma x V blocks)",
                            fn, nscores, G * nb);
    hekv_status s;
    const int clean = (flags & HEKV_PACK_CLEAN) != 0;
    int ls = -1;
    for (size_t i = 0; i < nscores; i++) {
        if ((s = hekv__kv_check_in(ev, kv, fn, scores[i], "a score ciphertext", 0))) return s;
        if (scores[i] == out)
            return hekv_err_set(err, HEKV_ERR_ARG, "%s: out aliases a score", fn);
        if (i && (hekv_ckks_ct_level(scores[i]) != hekv_ckks_ct_level(scores[0]) ||
                  !hekv_ckks_scale_eq(hekv_ckks_ct_scale(scores[i]),
                                      hekv_ckks_ct_scale(scores[0]))))
            return hekv_err_set(err, HEKV_ERR_SCALE,
                                "%s: the score ciphertexts must share one level and scale", fn);
        ls = hekv_ckks_ct_level(scores[i]);
    }
    const int lp = ls < kv->v_level ? ls : kv->v_level, need = 1 + (G > 1) + clean;
    if (hekv_pack_kv_attn_v_out_level(kv, ls, flags) < 0)
        return hekv_err_set(err, HEKV_ERR_LEVEL,
                            "%s: the product would be at level %d, this step needs %d", fn, lp,
                            need);
    if ((s = need_keys(ev, kv, fn, lp))) return s;

    const long t = (long)kv->t, Ht = (long)(kv->H * kv->t);
    const size_t nrot = dh - 1, batch = nrot < KV_HOIST_BATCH ? nrot : KV_HOIST_BATCH;
    hekv_ct *rot[KV_HOIST_BATCH], *A = NULL, *sv = NULL;
    long ks[KV_HOIST_BATCH];
    size_t got = 0;
    s = HEKV_OK;
    for (; got < batch && !s; got++) s = hekv_ckks_ext_scratch_get(ev, &rot[got]);
    if (s) {
        got--;
        goto done;
    }
    if ((s = hekv_ckks_ext_scratch_get(ev, &A)) || (s = hekv_ckks_ext_scratch_get(ev, &sv)))
        goto done;
    for (size_t e = 0; e < G; e++) {
        if ((s = hekv_ckks_ext_mac_begin(ev, lp))) goto done;
        for (size_t b = 0; b < nb; b++) {
            /* the score at the product level, rotated by the d_h - 1 diagonal offsets */
            if ((s = hekv_ckks_eval_drop_to(ev, sv, scores[e * nb + b], lp)) ||
                (s = hekv_ckks_ext_mac_acc(ev, sv, kv->v[b * dh])))
                goto done;
            for (size_t j0 = 1; j0 < dh; j0 += batch) {
                const size_t nj = dh - j0 < batch ? dh - j0 : batch;
                for (size_t i = 0; i < nj; i++) ks[i] = (long)(j0 + i) * Ht;
                if ((s = hekv_ckks_eval_rotate_hoisted(ev, rot, sv, ks, nj))) goto done;
                HEKV__ST(st, rotations, nj);
                HEKV__ST(st, hoisted, nj);
                for (size_t i = 0; i < nj; i++)
                    if ((s = hekv_ckks_ext_mac_acc(ev, rot[i], kv->v[b * dh + j0 + i])))
                        goto done;
            }
            HEKV__ST(st, ct_mults, dh);
        }
        if ((s = hekv_ckks_ext_mac_relin(ev, A)) || (s = hekv_ckks_eval_rescale(ev, A, A)))
            goto done;
        HEKV__ST(st, relins, 1);
        HEKV__ST(st, rescales, 1);
        /* fold the gamma sub-blocks to sub-block e: exact there, partial sums elsewhere,
         * which the mask of sub-block e removes before the other offsets are added */
        for (long r = 1; r < (long)G; r <<= 1)
            if ((s = hekv__rot_add(ev, A, ((size_t)r & e) ? -r * t : r * t, st))) goto done;
        if (G > 1) {
            const hekv_pt *m = NULL;
            if ((s = hekv__kv_mask(kv, ev, KV_MASK_Q, hekv_ckks_ct_level(A), e * kv->t, &m)) ||
                (s = hekv_ckks_eval_mul_pt(ev, A, A, m)))
                goto done;
            HEKV__ST(st, mask_mults, 1);
        }
        s = e == 0 ? hekv_ckks_ct_copy(out, A, err) : hekv_ckks_eval_add(ev, out, out, A);
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
        if ((s = hekv__kv_mask(kv, ev, KV_MASK_OUT, hekv_ckks_ct_level(out), 0, &m)) ||
            (s = hekv__mask_mul(ev, out, out, m, st)))
            goto done;
    }
done:
    hekv_ckks_ext_scratch_put(ev, sv);
    hekv_ckks_ext_scratch_put(ev, A);
    while (got > 0) hekv_ckks_ext_scratch_put(ev, rot[--got]);
    return s;
}
