/* lintrans.c: linear maps on the slot vector, y = sum_k diag_k (.) rot(x, k), evaluated
 * with the baby-step giant-step method (Halevi-Shoup diagonals; BSGS as in Han-Ki 2020 and
 * Lattigo's LinearTransform). With baby step n1 every offset is k = g*n1 + b (0 <= b < n1):
 *
 *     y = sum_g rot( sum_b diag'_{g,b} (.) rot(x, b), g*n1 ),   diag'_{g,b} = rot(diag_k, -g*n1)
 *
 * so the baby rotations rot(x, b) are computed once, hoisted (one decomposition of x), the
 * inner sums are plaintext products accumulated at the product scale (no rescale), and one
 * giant rotation per non-zero g follows. Rotations: (#distinct b != 0) + (#distinct g != 0);
 * plaintext products: one per diagonal. The diagonals are pre-rotated and encoded once, in
 * NTT form, when the transform is built.
 *
 * This file does not pick diagonals for a particular matrix (callers extract them) and does
 * not rescale the result. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ckks_int.h"

struct hekv_lintrans {
    const hekv_ckks_params *params;
    size_t slots;
    int level;
    double scale;
    long n1;          /* baby step */
    size_t ndiag;
    long *offsets;    /* [ndiag] ascending, so grouped by giant step g = k / n1 */
    size_t *bidx;     /* [ndiag] index into baby[] of offset % n1 */
    hekv_pt **pts;    /* [ndiag] rot(diag_k, -g*n1) encoded at level/scale, NTT form */
    size_t nbaby;     /* distinct baby offsets */
    long *baby;       /* [nbaby] ascending */
    size_t ngiant;    /* distinct giant steps */
    long *giant;      /* [ngiant] ascending values of g */
    size_t *gstart;   /* [ngiant + 1] diagonals of giant step i: [gstart[i], gstart[i+1]) */
};

/* ------------------------------------------------------------------ planning */

/* An offset with the caller's index of its diagonal, sorted by offset. */
typedef struct {
    long off;
    size_t idx;
} diag_ref;

static int cmp_ref(const void *x, const void *y) {
    long a = ((const diag_ref *)x)->off, b = ((const diag_ref *)y)->off;
    return (a > b) - (a < b);
}

/* Rotations of the BSGS split of sorted, distinct offsets with baby step n1. */
static size_t bsgs_rotations(const long *off, size_t nd, long n1, uint8_t *seen, size_t slots) {
    size_t nb = 0, ng = 0;
    memset(seen, 0, slots);
    for (size_t i = 0; i < nd; i++) {
        long b = off[i] % n1;
        if (b && !seen[b]) {
            seen[b] = 1;
            nb++;
        }
    }
    long last = 0; /* offsets are sorted: g = k / n1 is non-decreasing */
    for (size_t i = 0; i < nd; i++) {
        long g = off[i] / n1;
        if (g && g != last) ng++;
        last = g;
    }
    return nb + ng;
}

/* The baby step with the fewest rotations among the powers of two up to slots; ties go to
 * the larger n1 (baby rotations are hoisted, so they are the cheaper kind). */
static long choose_n1(const long *off, size_t nd, size_t slots, uint8_t *seen) {
    long best = 1;
    size_t best_rot = (size_t)-1;
    for (size_t n1 = 1; n1 <= slots; n1 <<= 1) {
        size_t r = bsgs_rotations(off, nd, (long)n1, seen, slots);
        if (r <= best_rot) {
            best_rot = r;
            best = (long)n1;
        }
    }
    return best;
}

void hekv_ckks_lintrans_free(hekv_lintrans *lt) {
    if (!lt) return;
    if (lt->pts)
        for (size_t i = 0; i < lt->ndiag; i++) hekv_pt_free(lt->pts[i]);
    free(lt->pts);
    free(lt->offsets);
    free(lt->bidx);
    free(lt->baby);
    free(lt->giant);
    free(lt->gstart);
    free(lt);
}

hekv_status hekv_ckks_lintrans_new(hekv_encoder *enc, const long *offsets,
                                   const double *const *diags_re,
                                   const double *const *diags_im, size_t ndiag, size_t slots,
                                   int level, double scale, long n1, hekv_lintrans **out,
                                   hekv_err *err) {
    static const char fn[] = "hekv_ckks_lintrans_new";
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (!enc || !offsets || !diags_re)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: encoder, offsets or diagonals NULL", fn);
    const hekv_ckks_params *p = hekv_ckks_encoder_params(enc);
    if (ndiag == 0)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: no diagonals (ndiag = 0)", fn);
    if (slots == 0 || (slots & (slots - 1)) || slots > p->n / 2)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: slots %zu must be a power of two in [1, %zu]", fn, slots,
                            p->n / 2);
    if (ndiag > slots)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: %zu diagonals but only %zu slots", fn,
                            ndiag, slots);
    if (level < 0 || level >= p->nq)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: level %d outside [0, %d]", fn, level,
                            p->nq - 1);
    if (!isfinite(scale) || !(scale > 0))
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: scale %g must be finite and positive", fn,
                            scale);
    if (n1 < 0 || (size_t)n1 > slots)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: baby step %ld outside [1, %zu] (0 picks the best)", fn, n1,
                            slots);
    for (size_t i = 0; i < ndiag; i++) {
        if (offsets[i] < 0 || (size_t)offsets[i] >= slots)
            return hekv_err_set(err, HEKV_ERR_ARG,
                                "%s: offset %ld (diagonal %zu) outside [0, %zu): reduce it "
                                "mod slots", fn, offsets[i], i, slots);
        if (!diags_re[i])
            return hekv_err_set(err, HEKV_ERR_ARG, "%s: diagonal %zu is NULL", fn, i);
    }

    hekv_lintrans *lt = calloc(1, sizeof *lt);
    diag_ref *order = malloc(ndiag * sizeof *order);
    uint8_t *seen = malloc(slots);
    size_t *bpos = malloc(slots * sizeof *bpos);
    double *re = malloc(slots * sizeof *re), *im = malloc(slots * sizeof *im);
    hekv_status s = HEKV_OK;
    if (!lt || !order || !seen || !bpos || !re || !im) {
        s = hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
        goto done;
    }
    lt->params = p;
    lt->slots = slots;
    lt->level = level;
    lt->scale = scale;
    lt->ndiag = ndiag;
    lt->offsets = malloc(ndiag * sizeof *lt->offsets);
    lt->bidx = malloc(ndiag * sizeof *lt->bidx);
    lt->pts = calloc(ndiag, sizeof *lt->pts);
    lt->baby = malloc(ndiag * sizeof *lt->baby);
    lt->giant = malloc(ndiag * sizeof *lt->giant);
    lt->gstart = malloc((ndiag + 1) * sizeof *lt->gstart);
    if (!lt->offsets || !lt->bidx || !lt->pts || !lt->baby || !lt->giant || !lt->gstart) {
        s = hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
        goto done;
    }

    /* Sort the offsets (so diagonals group by giant step) and reject duplicates;
     * order[i].idx is the caller's index of sorted diagonal i. */
    for (size_t i = 0; i < ndiag; i++) order[i] = (diag_ref){offsets[i], i};
    qsort(order, ndiag, sizeof *order, cmp_ref);
    for (size_t i = 0; i < ndiag; i++) {
        lt->offsets[i] = order[i].off;
        if (i && order[i].off == order[i - 1].off) {
            s = hekv_err_set(err, HEKV_ERR_ARG,
                             "%s: offset %ld is given twice: add the two diagonals first", fn,
                             order[i].off);
            goto done;
        }
    }

    lt->n1 = n1 ? n1 : choose_n1(lt->offsets, ndiag, slots, seen);
    const long n1v = lt->n1;

    /* distinct baby offsets (ascending) and each diagonal's index among them (bpos[b]) */
    memset(seen, 0, slots);
    for (size_t i = 0; i < ndiag; i++) seen[lt->offsets[i] % n1v] = 1;
    for (long b = 0; b < n1v && (size_t)b < slots; b++)
        if (seen[b]) {
            bpos[b] = lt->nbaby;
            lt->baby[lt->nbaby++] = b;
        }
    for (size_t i = 0; i < ndiag; i++) lt->bidx[i] = bpos[lt->offsets[i] % n1v];
    /* giant groups */
    for (size_t i = 0; i < ndiag; i++) {
        long g = lt->offsets[i] / n1v;
        if (lt->ngiant == 0 || lt->giant[lt->ngiant - 1] != g) {
            lt->giant[lt->ngiant] = g;
            lt->gstart[lt->ngiant++] = i;
        }
    }
    lt->gstart[lt->ngiant] = ndiag;

    /* encode rot(diag_k, -g*n1): diag'[i] = diag_k[(i - g*n1) mod slots] */
    for (size_t i = 0; i < ndiag && s == HEKV_OK; i++) {
        const size_t src = order[i].idx;
        const double *dre = diags_re[src], *dim = diags_im ? diags_im[src] : NULL;
        const size_t shift = (size_t)((lt->offsets[i] / n1v) * n1v) % slots;
        for (size_t j = 0; j < slots; j++) {
            size_t from = (j + slots - shift) % slots;
            re[j] = dre[from];
            im[j] = dim ? dim[from] : 0.0;
        }
        s = hekv_pt_new(p, &lt->pts[i], err);
        if (s == HEKV_OK)
            s = hekv_ckks_encode(enc, lt->pts[i], re, dim ? im : NULL, slots, level, scale, err);
    }

done:
    if (re) hekv_memzero(re, slots * sizeof *re);
    if (im) hekv_memzero(im, slots * sizeof *im);
    free(re);
    free(im);
    free(seen);
    free(bpos);
    free(order);
    if (s != HEKV_OK) {
        hekv_ckks_lintrans_free(lt);
        return s;
    }
    *out = lt;
    return HEKV_OK;
}

/* The rotations in evaluation order: non-zero baby offsets, then non-zero g*n1. */
size_t hekv_ckks_lintrans_rotations(const hekv_lintrans *lt, long *rots, size_t cap) {
    if (!lt) return 0;
    size_t n = 0;
    for (size_t i = 0; i < lt->nbaby; i++)
        if (lt->baby[i]) {
            if (rots && n < cap) rots[n] = lt->baby[i];
            n++;
        }
    for (size_t i = 0; i < lt->ngiant; i++)
        if (lt->giant[i]) {
            if (rots && n < cap) rots[n] = lt->giant[i] * lt->n1;
            n++;
        }
    return n;
}

size_t hekv_ckks_lintrans_bytes(const hekv_lintrans *lt) {
    if (!lt) return 0;
    return lt->ndiag * ((size_t)lt->level + 1) * lt->params->n * sizeof(uint64_t);
}

/* ------------------------------------------------------------------ evaluation */

static hekv_poly view(const hekv_poly *p, int level) {
    hekv_poly v = *p;
    v.limbs = (size_t)level + 1;
    return v;
}

static hekv_status need_key(hekv_eval *ev, const char *fn, long rot, size_t slots) {
    /* under sparse packing rot and rot - slots are the same rotation (eval_rot.c takes
     * either key) */
    uint64_t g = hekv_ckks_galois_rot(ev->params, rot);
    long alt = rot - (long)slots;
    if (ev->evk && (hekv__evk_find(ev->evk, g) ||
                    (slots < ev->params->n / 2 &&
                     hekv__evk_find(ev->evk, hekv_ckks_galois_rot(ev->params, alt)))))
        return HEKV_OK;
    return hekv_err_set(&ev->err, HEKV_ERR_KEY_MISSING,
                        "%s: no Galois key for rotation %ld (element %llu): generate the keys "
                        "listed by hekv_ckks_lintrans_rotations", fn, rot,
                        (unsigned long long)g);
}

hekv_status hekv_ckks_eval_lintrans(hekv_eval *ev, hekv_ct *out, const hekv_ct *a,
                                    const hekv_lintrans *lt) {
    static const char fn[] = "hekv_ckks_eval_lintrans";
    if (!ev) return HEKV_ERR_ARG;
    if (!out || !a || !lt)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: output, input or transform NULL", fn);
    const hekv_ckks_params *p = ev->params;
    if (a->params != p || out->params != p || lt->params != p)
        return hekv_err_set(&ev->err, HEKV_ERR_PARAMS,
                            "%s: the ciphertexts and the transform must belong to the "
                            "evaluator's parameter set", fn);
    if (out == a)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG,
                            "%s: out must not alias the input (use another ciphertext)", fn);
    if (a->level < 0)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG,
                            "%s: the input is empty (level -1): encrypt into it first", fn);
    if (a->slots != lt->slots)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG,
                            "%s: slot counts differ (ciphertext %zu, transform %zu)", fn,
                            a->slots, lt->slots);
    const int l = a->level < lt->level ? a->level : lt->level;
    const double scale = a->scale * lt->scale;
    double lq = 0;
    for (int i = 0; i <= l; i++) lq += log2((double)hekv_ckks_params_q(p, i));
    if (!(log2(scale) < lq))
        return hekv_err_set(&ev->err, HEKV_ERR_LEVEL,
                            "%s: the product scale 2^%.2f would not fit the modulus 2^%.2f "
                            "left at level %d: rescale the input first, or bootstrap", fn,
                            log2(scale), lq, l);
    hekv_status s;
    for (size_t i = 0; i < lt->nbaby; i++)
        if (lt->baby[i] && (s = need_key(ev, fn, lt->baby[i], lt->slots))) return s;
    for (size_t i = 0; i < lt->ngiant; i++)
        if (lt->giant[i] && (s = need_key(ev, fn, lt->giant[i] * lt->n1, lt->slots))) return s;

    /* Scratch ciphertexts: the baby rotations and the inner sum. */
    const size_t nbr = lt->nbaby;
    hekv_ct **rot = calloc(nbr, sizeof *rot);
    long *ks = malloc(nbr * sizeof *ks);
    hekv_ct *inner = NULL;
    hekv_err e;
    if (!rot || !ks) {
        s = hekv_err_set(&ev->err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
        goto done;
    }
    s = hekv_ct_new(p, &inner, &e);
    if (s == HEKV_OK) s = hekv__ct_resize(inner, l);
    if (s == HEKV_OK) s = hekv__ct_resize(out, l);
    size_t nk = 0;
    for (size_t i = 0; i < nbr && s == HEKV_OK; i++) {
        if (!lt->baby[i]) continue;
        s = hekv_ct_new(p, &rot[i], &e);
        if (s == HEKV_OK) s = hekv__ct_resize(rot[i], l);
        ks[nk++] = lt->baby[i];
    }
    if (s != HEKV_OK) {
        hekv_err_set(&ev->err, s, "%s: could not allocate scratch ciphertexts (%s)", fn,
                     hekv_status_str(s));
        goto done;
    }
    /* the input seen at level l: a shallow view of a's blocks (dropping limbs is free) */
    hekv_ct xl = *a;
    xl.level = l;
    xl.c[0].limbs = xl.c[1].limbs = (size_t)l + 1;
    xl.has_seed = 0;
    const hekv_ct *src = &xl;

    /* baby steps: every non-zero b from one decomposition of the input */
    hekv_ct **outs = malloc((nk ? nk : 1) * sizeof *outs);
    if (!outs) {
        s = hekv_err_set(&ev->err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
        goto done;
    }
    nk = 0;
    for (size_t i = 0; i < nbr; i++)
        if (lt->baby[i]) outs[nk++] = rot[i];
    if (nk) s = hekv_ckks_eval_rotate_hoisted(ev, outs, src, ks, nk);
    free(outs);
    if (s) goto done;

    /* giant steps: inner_g = sum_b diag'_{g,b} (.) rot(x, b) at the product scale, then
     * out += rot(inner_g, g*n1), the sum fused into the rotation */
    const hekv_ring *rq = p->rq;
    out->level = l;
    out->scale = scale;
    out->slots = a->slots;
    out->c[0].ntt = out->c[1].ntt = 1;
    out->has_seed = 0;
    memset(out->seed, 0, sizeof out->seed);
    int first = 1;
    for (size_t gi = 0; gi < lt->ngiant; gi++) {
        for (size_t d = lt->gstart[gi]; d < lt->gstart[gi + 1]; d++) {
            const hekv_ct *xb = lt->baby[lt->bidx[d]] ? rot[lt->bidx[d]] : src;
            hekv_poly m = view(&lt->pts[d]->m, l);
            for (int k = 0; k < 2; k++) {
                hekv_poly o = view(&inner->c[k], l), xv = view(&xb->c[k], l);
                if (d == lt->gstart[gi])
                    hekv_ring_mul(rq, &o, &xv, &m);
                else
                    hekv_ring_mul_acc(rq, &o, &xv, &m);
            }
        }
        inner->level = l;
        inner->scale = scale;
        inner->slots = a->slots;
        inner->has_seed = 0;
        const long g = lt->giant[gi] * lt->n1;
        if (g && first) {
            s = hekv_ckks_eval_rotate(ev, out, inner, g);
        } else if (g) {
            s = hekv_ckks_eval_rotate_add(ev, out, out, inner, g);
        } else {
            for (int k = 0; k < 2; k++) {
                hekv_poly o = view(&out->c[k], l), t = view(&inner->c[k], l);
                if (first)
                    hekv_poly_copy(rq, &o, &t);
                else
                    hekv_ring_add(rq, &o, &o, &t);
            }
        }
        if (s) goto done;
        first = 0;
    }

done:
    if (rot)
        for (size_t i = 0; i < nbr; i++) hekv_ct_free(rot[i]);
    free(rot);
    free(ks);
    hekv_ct_free(inner);
    return s;
}
