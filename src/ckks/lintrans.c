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

#include "ckks_ext.h"
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
        for (size_t i = 0; i < lt->ndiag; i++) hekv_ckks_pt_free(lt->pts[i]);
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
        s = hekv_ckks_pt_new(p, &lt->pts[i], err);
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
    hekv_status s;
    if ((s = hekv__check_product_scale(ev, fn, a->scale * lt->scale, l))) return s;
    for (size_t i = 0; i < lt->nbaby; i++)
        if (lt->baby[i] &&
            (s = hekv_ckks_ext_need_rotation(ev, fn, lt->baby[i], lt->slots, l)))
            return s;
    for (size_t i = 0; i < lt->ngiant; i++)
        if (lt->giant[i] &&
            (s = hekv_ckks_ext_need_rotation(ev, fn, lt->giant[i] * lt->n1, lt->slots, l)))
            return s;

    /* scratch from the pool: the input at level l, the baby rotations and one inner sum */
    const size_t nbr = lt->nbaby;
    hekv_ct **rot = calloc(nbr, sizeof *rot);
    const hekv_ct **xb = malloc(lt->ndiag * sizeof *xb);
    const hekv_pt **pb = malloc(lt->ndiag * sizeof *pb);
    hekv_ct **outs = malloc(nbr * sizeof *outs);
    long *ks = malloc(nbr * sizeof *ks);
    hekv_ct *low = NULL, *inner = NULL;
    const hekv_ct *src = a;
    size_t got = 0, nk = 0;
    if (!rot || !xb || !pb || !outs || !ks) {
        s = hekv_err_set(&ev->err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
        goto done;
    }
    if ((s = hekv_ckks_ext_scratch_get(ev, &low)) || (s = hekv_ckks_ext_scratch_get(ev, &inner)))
        goto done;
    for (; got < nbr; got++) {
        if (!lt->baby[got]) continue;
        if ((s = hekv_ckks_ext_scratch_get(ev, &rot[got]))) goto done;
        outs[nk] = rot[got];
        ks[nk++] = lt->baby[got];
    }
    if (l < a->level) { /* the input seen at level l */
        if ((s = hekv_ckks_eval_drop_to(ev, low, a, l))) goto done;
        src = low;
    }
    /* baby steps: every non-zero b from one decomposition of the input */
    if (nk && (s = hekv_ckks_eval_rotate_hoisted(ev, outs, src, ks, nk))) goto done;

    /* giant steps: inner_g = sum_b diag'_{g,b} (.) rot(x, b) at the product scale, then
     * out += rot(inner_g, g*n1), the sum fused into the rotation */
    for (size_t gi = 0; gi < lt->ngiant; gi++) {
        const size_t d0 = lt->gstart[gi], nd = lt->gstart[gi + 1] - d0;
        for (size_t d = d0; d < d0 + nd; d++) {
            xb[d - d0] = lt->baby[lt->bidx[d]] ? rot[lt->bidx[d]] : src;
            pb[d - d0] = lt->pts[d];
        }
        const long g = lt->giant[gi] * lt->n1;
        hekv_ct *dst = gi == 0 && !g ? out : inner;
        if ((s = hekv_ckks_ext_inner_pt(ev, dst, xb, pb, nd, l))) goto done;
        if (g && gi == 0)
            s = hekv_ckks_eval_rotate(ev, out, inner, g);
        else if (g)
            s = hekv_ckks_eval_rotate_add(ev, out, out, inner, g);
        else if (gi > 0)
            s = hekv_ckks_eval_add(ev, out, out, inner);
        if (s) goto done;
    }

done:
    if (rot)
        while (got > 0) {
            got--;
            if (rot[got]) hekv_ckks_ext_scratch_put(ev, rot[got]);
        }
    hekv_ckks_ext_scratch_put(ev, inner);
    hekv_ckks_ext_scratch_put(ev, low);
    free(rot);
    free(xb);
    free(pb);
    free(outs);
    free(ks);
    return s;
}
