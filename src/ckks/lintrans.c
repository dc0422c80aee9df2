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
    hekv_lt_hoist hoist;
    hekv_poly *pd;    /* [ndiag] double hoisting: the diagonals' P parts (np limbs, NTT) */
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

/* The cost model of the split, in units of a full rotation (127 ms at the top of
 * N16-boot-L12, 1 thread, 15-diagonal transforms with n1 = 2 .. 16): a hoisted baby
 * rotation costs 0.56 of one with single hoisting; with double hoisting a baby (its key
 * product and automorphism over Q u P) 0.42 and a giant (a one-polynomial ModDown, a key
 * switch without ModDown, automorphisms over Q u P) 1.24. */
#define LT_COST_BABY_SINGLE 0.56
#define LT_COST_BABY_DOUBLE 0.42
#define LT_COST_GIANT_DOUBLE 1.24
#define LT_EXTRA_KEYS 2

/* The most diagonals one giant step of the split with baby step n1 sums (offsets sorted). */
static size_t bsgs_max_group(const long *off, size_t nd, long n1) {
    size_t best = 0, run = 0;
    for (size_t i = 0; i < nd; i++) {
        run = i && off[i] / n1 == off[i - 1] / n1 ? run + 1 : 1;
        if (run > best) best = run;
    }
    return best;
}

/* Baby and giant rotations of the split with baby step n1. */
static void bsgs_counts(const long *off, size_t nd, long n1, uint8_t *seen, size_t slots,
                        size_t *nb, size_t *ng) {
    const size_t r = bsgs_rotations(off, nd, n1, seen, slots);
    size_t b = 0;
    memset(seen, 0, slots);
    for (size_t i = 0; i < nd; i++) {
        long x = off[i] % n1;
        if (x && !seen[x]) seen[x] = 1, b++;
    }
    *nb = b, *ng = r - b;
}

/* The baby step of least estimated cost (costs of a baby and a giant rotation relative to
 * a full one) among the splits with at most LT_EXTRA_KEYS more rotations than the fewest:
 * every rotation is a key to hold (a top-level key of N16-boot is 168 MiB), and a baby's
 * measured cost already includes streaming its own key once. Ties go to fewer rotations,
 * then to the larger n1. */
static long choose_n1_cost(const long *off, size_t nd, size_t slots, uint8_t *seen,
                           double cb, double cg, size_t max_group) {
    size_t fewest = (size_t)-1;
    for (size_t n1 = 1; n1 <= slots; n1 <<= 1) {
        size_t nb, ng;
        if (bsgs_max_group(off, nd, (long)n1) > max_group) continue;
        bsgs_counts(off, nd, (long)n1, seen, slots, &nb, &ng);
        if (nb + ng < fewest) fewest = nb + ng;
    }
    long best = 1;
    double best_c = INFINITY;
    size_t best_r = (size_t)-1;
    for (size_t n1 = 1; n1 <= slots; n1 <<= 1) {
        size_t nb, ng;
        if (bsgs_max_group(off, nd, (long)n1) > max_group) continue;
        bsgs_counts(off, nd, (long)n1, seen, slots, &nb, &ng);
        if (nb + ng > fewest + LT_EXTRA_KEYS) continue;
        const double c = cb * (double)nb + cg * (double)ng;
        if (c < best_c - 1e-9 || (c < best_c + 1e-9 && nb + ng <= best_r)) {
            best_c = c, best_r = nb + ng;
            best = (long)n1;
        }
    }
    return best;
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
    if (lt->pd)
        for (size_t i = 0; i < lt->ndiag; i++) hekv__poly_release(&lt->pd[i]);
    free(lt->pd);
    free(lt->pts);
    free(lt->offsets);
    free(lt->bidx);
    free(lt->baby);
    free(lt->giant);
    free(lt->gstart);
    free(lt);
}

/* cost_model: 0 = the fewest rotations (hekv_ckks_lintrans_new's n1 = 0), 1 = the least
 * estimated cost for the hoisting mode. */
static hekv_status lintrans_build(hekv_encoder *enc, const long *offsets,
                                  const double *const *diags_re,
                                  const double *const *diags_im, size_t ndiag, size_t slots,
                                  int level, double scale, long n1, hekv_lt_hoist hoist,
                                  int cost_model, hekv_lintrans **out, hekv_err *err) {
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

    lt->hoist = hoist;
    if (n1) lt->n1 = n1;
    else if (!cost_model) lt->n1 = choose_n1(lt->offsets, ndiag, slots, seen);
    else if (hoist == HEKV_LT_HOIST_DOUBLE)
        lt->n1 = choose_n1_cost(lt->offsets, ndiag, slots, seen, LT_COST_BABY_DOUBLE,
                                LT_COST_GIANT_DOUBLE, HEKV_RING_KS_MAX_DIGITS);
    else
        lt->n1 = choose_n1_cost(lt->offsets, ndiag, slots, seen, LT_COST_BABY_SINGLE, 1.0,
                                ndiag);
    const long n1v = lt->n1;
    if (hoist == HEKV_LT_HOIST_DOUBLE &&
        bsgs_max_group(lt->offsets, ndiag, n1v) > HEKV_RING_KS_MAX_DIGITS) {
        s = hekv_err_set(err, HEKV_ERR_ARG,
                         "%s: baby step %ld puts more than %d diagonals in one giant step, the "
                         "most a double-hoisted giant step sums in one pass", fn, n1v,
                         HEKV_RING_KS_MAX_DIGITS);
        goto done;
    }

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
        if (s == HEKV_OK && hoist == HEKV_LT_HOIST_DOUBLE) {
            if (!lt->pd && !(lt->pd = calloc(ndiag, sizeof *lt->pd))) {
                s = hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
                break;
            }
            s = hekv_poly_new(p->rp, (size_t)p->np, &lt->pd[i]);
            if (s == HEKV_OK)
                s = hekv__encode_p(enc, &lt->pd[i], re, dim ? im : NULL, slots, scale, err);
            else
                hekv_err_set(err, s, "%s: out of memory", fn);
        }
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

hekv_status hekv_ckks_lintrans_new(hekv_encoder *enc, const long *offsets,
                                   const double *const *diags_re,
                                   const double *const *diags_im, size_t ndiag, size_t slots,
                                   int level, double scale, long n1, hekv_lintrans **out,
                                   hekv_err *err) {
    return lintrans_build(enc, offsets, diags_re, diags_im, ndiag, slots, level, scale, n1,
                          HEKV_LT_HOIST_SINGLE, 0, out, err);
}

hekv_status hekv_ckks_lintrans_new_opts(hekv_encoder *enc, const long *offsets,
                                        const double *const *diags_re,
                                        const double *const *diags_im, size_t ndiag,
                                        size_t slots, int level, double scale,
                                        const hekv_lintrans_opts *opts, hekv_lintrans **out,
                                        hekv_err *err) {
    const hekv_lintrans_opts dflt = {0, HEKV_LT_HOIST_SINGLE};
    if (!opts) opts = &dflt;
    if (opts->hoist != HEKV_LT_HOIST_SINGLE && opts->hoist != HEKV_LT_HOIST_DOUBLE) {
        if (out) *out = NULL;
        return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_lintrans_new_opts: unknown hoisting "
                            "mode %d", (int)opts->hoist);
    }
    return lintrans_build(enc, offsets, diags_re, diags_im, ndiag, slots, level, scale,
                          opts->n1, opts->hoist, 1, out, err);
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

void hekv_ckks_lintrans_counts(const hekv_lintrans *lt, size_t *babies, size_t *giants) {
    size_t b = 0, g = 0;
    if (lt) {
        for (size_t i = 0; i < lt->nbaby; i++) b += lt->baby[i] != 0;
        for (size_t i = 0; i < lt->ngiant; i++) g += lt->giant[i] != 0;
    }
    if (babies) *babies = b;
    if (giants) *giants = g;
}

size_t hekv_ckks_lintrans_bytes(const hekv_lintrans *lt) {
    if (!lt) return 0;
    const size_t limbs = (size_t)lt->level + 1 + (lt->pd ? (size_t)lt->params->np : 0);
    return lt->ndiag * limbs * lt->params->n * sizeof(uint64_t);
}

/* ------------------------------------------------------------------ double hoisting */

/* out = a + b and out = phi(a) (map: an NTT-form automorphism map) over Q[0..level] u P. */
static void qp_add(const hekv_eval *ev, hekv__qp_poly *out, const hekv__qp_poly *a,
                   const hekv__qp_poly *b, int level) {
    hekv_poly oq = hekv__lv(&out->q, level), aq = hekv__lv(&a->q, level),
              bq = hekv__lv(&b->q, level);
    hekv_ring_add(ev->rq, &oq, &aq, &bq);
    hekv_ring_add(ev->rp, &out->p, &a->p, &b->p);
}

static void qp_automorph(const hekv_eval *ev, hekv__qp_poly *out, const hekv__qp_poly *a,
                         int level, const uint32_t *map) {
    hekv_poly oq = hekv__lv(&out->q, level), aq = hekv__lv(&a->q, level);
    hekv_ring_automorph(ev->rq, &oq, &aq, map);
    hekv_ring_automorph(ev->rp, &out->p, &a->p, map);
}

/* acc = sum over the diagonals d of giant step gi of pt_d (.) X_{b(d)} over Q u P, in one
 * fused pass per side (the key-switch dot product's kernel; a giant step holds at most
 * n1 <= HEKV_RING_KS_MAX_DIGITS diagonals when planned for double hoisting). */
static void qp_inner(const hekv_eval *ev, const hekv_lintrans *lt, size_t gi,
                     hekv__qp_poly *const *x, hekv__qp_poly *acc, int level) {
    const size_t d0 = lt->gstart[gi], nd = lt->gstart[gi + 1] - d0;
    hekv_poly mq[HEKV_RING_KS_MAX_DIGITS], xq0[HEKV_RING_KS_MAX_DIGITS],
        xq1[HEKV_RING_KS_MAX_DIGITS];
    hekv_poly *mqp[HEKV_RING_KS_MAX_DIGITS], *mpp[HEKV_RING_KS_MAX_DIGITS];
    const hekv_poly *q0[HEKV_RING_KS_MAX_DIGITS], *q1[HEKV_RING_KS_MAX_DIGITS];
    const hekv_poly *p0[HEKV_RING_KS_MAX_DIGITS], *p1[HEKV_RING_KS_MAX_DIGITS];
    for (size_t j = 0; j < nd; j++) {
        const size_t d = d0 + j;
        const hekv__qp_poly *xb = x[lt->bidx[d]];
        mq[j] = hekv__lv(&lt->pts[d]->m, level);
        xq0[j] = hekv__lv(&xb[0].q, level), xq1[j] = hekv__lv(&xb[1].q, level);
        mqp[j] = &mq[j], mpp[j] = &lt->pd[d];
        q0[j] = &xq0[j], q1[j] = &xq1[j];
        p0[j] = &xb[0].p, p1[j] = &xb[1].p;
    }
    const hekv_ring_ks_args kq = {(int)nd, mqp, 0, NULL, NULL, NULL, NULL, q0, q1};
    const hekv_ring_ks_args kp = {(int)nd, mpp, 0, NULL, NULL, NULL, NULL, p0, p1};
    hekv_poly a0 = hekv__lv(&acc[0].q, level), a1 = hekv__lv(&acc[1].q, level);
    hekv_ring_ks_dot(ev->rq, &a0, &a1, &kq);
    hekv_ring_ks_dot(ev->rp, &acc[0].p, &acc[1].p, &kp);
}

/* Double hoisting (Bossuat, Mouchet, Troncoso-Pastoriza, Hubaux, Eurocrypt 2021, Alg. 6;
 * Lattigo's MultiplyByDiagMatrixBSGS): every quantity below is P times a ciphertext, held
 * over Q u P with no ModDown until the end.
 *   X_0 = P (c0, c1); X_b = phi_b(P c0 + <decomp(c1), k_b>) for the babies (one
 *   decomposition shared);
 *   per giant g: A = sum_b pt'_{g,b} (.) X_b; g = 0: Y += A; else c1' = ModDown(A_1),
 *   Y += phi_g(A_0 + <decomp(c1'), k_g>);
 *   out = ModDown(Y).
 * ModDowns: one per non-zero giant plus two; key products: babies + giants. */
static hekv_status eval_double(hekv_eval *ev, hekv_ct *out, const hekv_ct *a,
                               const hekv_lintrans *lt, int l, const char *fn) {
    const hekv_ckks_params *p = ev->params;
    const uint64_t *pq = p->ksb.p_mod_q;
    size_t nx = lt->nbaby;
    /* QP scratch: X[nbaby] x 2, A x 2, Y x 2, T x 2 */
    hekv__qp_poly *q = hekv__qp_scratch(ev, 2 * nx + 6);
    hekv__qp_poly **x = malloc((nx ? nx : 1) * sizeof *x);
    if (!q || !x) {
        free(x);
        return hekv_err_set(&ev->err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    }
    hekv__qp_poly *A = q + 2 * nx, *Y = A + 2, *T = Y + 2;
    for (size_t i = 0; i < nx; i++) x[i] = q + 2 * i;
    hekv_poly c0 = hekv__lv(&a->c[0], l), c1 = hekv__lv(&a->c[1], l);
    hekv_status s = HEKV_OK;
    hekv__decompose(ev, &ev->dec, &c1, l);
    for (size_t i = 0; i < nx && s == HEKV_OK; i++) {
        hekv__qp_poly *X = x[i];
        if (lt->baby[i] == 0) {
            for (int k = 0; k < 2; k++) {
                hekv_poly xq = hekv__lv(&X[k].q, l), cv = hekv__lv(&a->c[k], l);
                hekv_ring_mul_scalar(ev->rq, &xq, &cv, pq);
                hekv_poly_zero(ev->rp, &X[k].p);
            }
            continue;
        }
        uint64_t g;
        const hekv_swk *key;
        if ((s = hekv__rot_key(ev, fn, lt->slots, l, lt->baby[i], &g, &key))) break;
        hekv__ks_product(ev, &T[0], &T[1], &ev->dec, key);
        hekv_poly t0 = hekv__lv(&T[0].q, l);
        hekv_ring_mul_scalar_acc(ev->rq, &t0, &c0, pq);
        const uint32_t *map = hekv__galois_map(ev, g);
        qp_automorph(ev, &X[0], &T[0], l, map);
        qp_automorph(ev, &X[1], &T[1], l, map);
    }
    int have_y = 0;
    for (size_t gi = 0; gi < lt->ngiant && s == HEKV_OK; gi++) {
        qp_inner(ev, lt, gi, x, A, l);
        const long gk = lt->giant[gi] * lt->n1;
        if (gk == 0) {
            for (int k = 0; k < 2; k++) {
                if (have_y) qp_add(ev, &Y[k], &Y[k], &A[k], l);
                else {
                    hekv_poly yq = hekv__lv(&Y[k].q, l), aq = hekv__lv(&A[k].q, l);
                    hekv_poly_copy(ev->rq, &yq, &aq);
                    hekv_poly_copy(ev->rp, &Y[k].p, &A[k].p);
                }
            }
            have_y = 1;
            continue;
        }
        uint64_t g;
        const hekv_swk *key;
        if ((s = hekv__rot_key(ev, fn, lt->slots, l, gk, &g, &key))) break;
        hekv_poly *c1d = &ev->tmp[0];
        hekv__moddown(ev, c1d, &A[1], l);
        hekv__decompose(ev, &ev->dec, c1d, l);
        hekv__ks_product(ev, &T[0], &T[1], &ev->dec, key);
        qp_add(ev, &T[0], &T[0], &A[0], l);
        const uint32_t *map = hekv__galois_map(ev, g);
        for (int k = 0; k < 2; k++) {
            if (have_y) {
                qp_automorph(ev, &A[k], &T[k], l, map);
                qp_add(ev, &Y[k], &Y[k], &A[k], l);
            } else {
                qp_automorph(ev, &Y[k], &T[k], l, map);
            }
        }
        have_y = 1;
    }
    free(x);
    if (s != HEKV_OK) return s;
    if ((s = hekv__ct_resize(out, l)) != HEKV_OK)
        return hekv_err_set(&ev->err, s, "%s: out of memory sizing the output", fn);
    hekv__moddown(ev, &out->c[0], &Y[0], l);
    hekv__moddown(ev, &out->c[1], &Y[1], l);
    hekv__ct_finish(out, l, a->scale * lt->scale, a->slots, NULL);
    return HEKV_OK;
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

    if (lt->hoist == HEKV_LT_HOIST_DOUBLE) return eval_double(ev, out, a, lt, l, fn);

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
