/* eval.c: the CKKS evaluator object and its arithmetic: add/sub/neg (ct-ct, ct-pt,
 * ct-constant), products (ct-pt, ct-real, ct-integer, ct-ct with relinearisation, square),
 * rescaling and level dropping. Every public entry point validates its arguments first and
 * writes a message into the evaluator (R10, R11); the work itself is limb-parallel ring
 * calls on views of the ciphertext polynomials that hold exactly the limbs 0..level used.
 * Key switching itself (decomposition, ModUp/ModDown) lives in keyswitch.c, rotations in
 * eval_rot.c, linear transforms in lintrans.c; this file does not sample, encode or
 * decrypt anything. */
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ckks_int.h"

/* ------------------------------------------------------------------ object */

static void qp_release(hekv_eval *ev) {
    for (size_t i = 0; i < ev->nqps; i++) hekv__qp_free(&ev->qps[i]);
    free(ev->qps);
    ev->qps = NULL;
    ev->nqps = 0;
}

hekv__qp_poly *hekv__qp_scratch(hekv_eval *ev, size_t count) {
    if (count <= ev->nqps) return ev->qps;
    hekv__qp_poly *q = realloc(ev->qps, count * sizeof *q);
    if (!q) return NULL;
    ev->qps = q;
    for (; ev->nqps < count; ev->nqps++)
        if (hekv__qp_new(ev->params, ev->params->nq - 1, 0, &ev->qps[ev->nqps]) != HEKV_OK)
            return NULL;
    return ev->qps;
}

static void pool_release(hekv_eval *ev) {
    HEKV_CHECK_INTERNAL(ev->lent == 0 && ev->ptlent == 0);
    for (int i = 0; i < ev->npool; i++) hekv_ckks_ct_free(ev->pool[i]);
    for (int i = 0; i < ev->nptpool; i++) hekv_ckks_pt_free(ev->ptpool[i]);
    ev->npool = ev->nptpool = 0;
}

static void eval_release(hekv_eval *ev) {
    pool_release(ev);
    qp_release(ev);
    hekv__decomp_free(&ev->dec);
    hekv__qp_free(&ev->acc0);
    hekv__qp_free(&ev->acc1);
    for (int i = 0; i < 4; i++) hekv_poly_free(&ev->tmp[i]);
    for (int i = 0; i < 3; i++) hekv_poly_free(&ev->mac[i]);
    hekv_free_aligned(ev->bconv_scratch);
    hekv_free_aligned(ev->limb_scratch);
    hekv_free_aligned(ev->gal_map);
    hekv_free_aligned(ev->pt_map);
    hekv_ckks_encoder_free(ev->enc);
    hekv_ring_free(ev->rq);
    hekv_ring_free(ev->rp);
    free(ev);
}

/* The thread-dependent parts: ring views and the per-thread limb scratch. */
static hekv_status set_threads(hekv_eval *ev, int threads) {
    const hekv_ckks_params *p = ev->params;
    hekv_ring *rq = NULL, *rp = NULL;
    const size_t limbs = 2 + 2 * (size_t)threads;
    uint64_t *ls = hekv_alloc_aligned(limbs * p->n * sizeof(uint64_t));
    if (!ls || hekv_ring_view_new(p->rq, threads, &rq) != HEKV_OK ||
        hekv_ring_view_new(p->rp, threads, &rp) != HEKV_OK) {
        hekv_free_aligned(ls);
        hekv_ring_free(rq);
        return HEKV_ERR_NOMEM;
    }
    hekv_ring_free(ev->rq);
    hekv_ring_free(ev->rp);
    hekv_free_aligned(ev->limb_scratch);
    ev->rq = rq, ev->rp = rp;
    /* rescale: one coefficient-form limb per polynomial plus one per thread; in-place
     * rotations: two limbs per thread (hekv_ring_ks_add.keep) */
    ev->limb_scratch = ls;
    ev->limb_scratch_limbs = limbs;
    ev->threads = threads;
    return HEKV_OK;
}

static hekv_status eval_new(const hekv_ckks_params *p, const hekv_evk *evk, int threads,
                            hekv_eval **out, hekv_err *err) {
    hekv_eval *ev = calloc(1, sizeof *ev);
    if (!ev) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ckks_eval_new: out of memory");
    ev->params = p;
    ev->evk = evk;
    ev->mac_level = -1;
    hekv_status s = set_threads(ev, threads);
    if (s == HEKV_OK) s = hekv__decomp_new(p, &ev->dec);
    if (s == HEKV_OK) s = hekv__qp_new(p, p->nq - 1, p->np, &ev->acc0);
    if (s == HEKV_OK) s = hekv__qp_new(p, p->nq - 1, p->np, &ev->acc1);
    for (int i = 0; i < 4 && s == HEKV_OK; i++) {
        s = hekv_poly_new(p->rq, (size_t)p->nq, &ev->tmp[i]);
        ev->tmp[i].ntt = 1;
    }
    if (s == HEKV_OK) {
        /* the largest scratch of any basis-conversion plan key switching may apply: the
         * set's basis and those of the switching keys the evaluator holds */
        size_t words = hekv__ksb_scratch_words(&p->ksb);
        for (size_t i = 0; evk && i < evk->nswk; i++) {
            size_t w = hekv__ksb_scratch_words(evk->swk[i].k->ksb);
            if (w > words) words = w;
        }
        ev->bconv_scratch = hekv_alloc_aligned(words * sizeof(uint64_t));
        ev->gal_map = hekv_alloc_aligned(p->n * sizeof(uint32_t));
        ev->pt_map = hekv_alloc_aligned(p->n * sizeof(uint32_t));
        if (!ev->bconv_scratch || !ev->gal_map || !ev->pt_map) s = HEKV_ERR_NOMEM;
    }
    if (s != HEKV_OK) {
        eval_release(ev);
        return hekv_err_set(err, s,
                            "hekv_ckks_eval_new: could not allocate the evaluator scratch (%s)",
                            hekv_status_str(s));
    }
    hekv_err_clear(&ev->err);
    *out = ev;
    return HEKV_OK;
}

hekv_status hekv_ckks_eval_new(const hekv_ckks_params *p, const hekv_evk *evk, hekv_eval **out,
                               hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_eval_new: out is NULL");
    *out = NULL;
    if (!p) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_eval_new: params is NULL");
    if (evk && evk->params != p)
        return hekv_err_set(err, HEKV_ERR_PARAMS,
                            "hekv_ckks_eval_new: the evaluation keys were made for another "
                            "parameter set (build the evaluator with the keys' params)");
    return eval_new(p, evk, p->opts.threads, out, err);
}

hekv_status hekv_ckks_eval_clone(const hekv_eval *ev, hekv_eval **out, hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_eval_clone: out is NULL");
    *out = NULL;
    if (!ev) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_eval_clone: evaluator is NULL");
    return eval_new(ev->params, ev->evk, ev->threads, out, err);
}

void hekv_ckks_eval_free(hekv_eval *ev) {
    if (ev) eval_release(ev);
}

void hekv_ckks_eval_set_threads(hekv_eval *ev, int threads) {
    if (!ev) return;
    if (threads < 1) threads = 1;
    if (threads != ev->threads && set_threads(ev, threads) != HEKV_OK)
        hekv_err_set(&ev->err, HEKV_ERR_NOMEM,
                     "hekv_ckks_eval_set_threads: out of memory; keeping %d threads",
                     ev->threads);
}

int hekv_ckks_eval_threads(const hekv_eval *ev) { return ev ? ev->threads : 0; }

const char *hekv_ckks_eval_last_error(const hekv_eval *ev) { return ev ? ev->err.msg : ""; }

const hekv_evk *hekv_ckks_eval_evk(const hekv_eval *ev) { return ev ? ev->evk : NULL; }

void hekv_ckks_eval_get_counts(const hekv_eval *ev, hekv_ckks_eval_counts *out) {
    if (!out) return;
    if (ev) *out = ev->counts;
    else memset(out, 0, sizeof *out);
}

void hekv_ckks_eval_reset_counts(hekv_eval *ev) {
    if (ev) memset(&ev->counts, 0, sizeof ev->counts);
}

const hekv_ckks_params *hekv_ckks_eval_params(const hekv_eval *ev) {
    return ev ? ev->params : NULL;
}

/* ------------------------------------------------------------------ scratch pool */

hekv_ct *hekv__pool_get(hekv_eval *ev) {
    if (ev->lent < ev->npool) return ev->pool[ev->lent++];
    if (ev->npool == HEKV__POOL_MAX) return NULL;
    hekv_ct *ct = NULL;
    hekv_err e;
    /* empty: its blocks grow to the highest level it is used at (hekv__ct_resize keeps a
     * block when shrinking), so a pool that has served a circuit once serves it again
     * without allocating, and holds no more limbs than the circuit used */
    if (hekv_ckks_ct_new(ev->params, &ct, &e) != HEKV_OK) return NULL;
    ev->pool[ev->npool++] = ct;
    ev->lent++;
    return ct;
}

void hekv__pool_put(hekv_eval *ev, hekv_ct *ct) {
    if (!ct) return;
    HEKV_CHECK_INTERNAL(ev->lent > 0 && ev->pool[ev->lent - 1] == ct);
    ev->lent--;
    ct->level = -1;
    ct->has_seed = 0;
}

hekv_pt *hekv__ptpool_get(hekv_eval *ev) {
    if (ev->ptlent < ev->nptpool) return ev->ptpool[ev->ptlent++];
    if (ev->nptpool == HEKV__PT_POOL_MAX) return NULL;
    hekv_pt *pt = NULL;
    hekv_err e;
    if (hekv_ckks_pt_new(ev->params, &pt, &e) != HEKV_OK) return NULL;
    ev->ptpool[ev->nptpool++] = pt;
    ev->ptlent++;
    return pt;
}

void hekv__ptpool_put(hekv_eval *ev, hekv_pt *pt) {
    if (!pt) return;
    HEKV_CHECK_INTERNAL(ev->ptlent > 0 && ev->ptpool[ev->ptlent - 1] == pt);
    ev->ptlent--;
    pt->level = -1;
}

size_t hekv_ckks_eval_scratch_bytes(const hekv_eval *ev) {
    if (!ev) return 0;
    const hekv_ckks_params *p = ev->params;
    const size_t limb = p->n * sizeof(uint64_t);
    size_t b = 0;
    for (int i = 0; i < ev->npool; i++)
        for (int k = 0; k < 2; k++)
            if (ev->pool[i]->c[k].c) b += malloc_usable_size(ev->pool[i]->c[k].c);
    for (int i = 0; i < ev->nptpool; i++)
        if (ev->ptpool[i]->m.c) b += malloc_usable_size(ev->ptpool[i]->m.c);
    b += (size_t)ev->dec.ndigits * (size_t)(p->nq + p->np) * limb;
    b += 2 * (size_t)(p->nq + p->np) * limb + 4 * (size_t)p->nq * limb;
    b += ev->limb_scratch_limbs * limb;
    b += ev->nqps * (size_t)(p->nq + p->np) * limb;
    return b;
}

void hekv_ckks_eval_release_scratch(hekv_eval *ev) {
    if (ev && ev->lent == 0 && ev->ptlent == 0) {
        pool_release(ev);
        qp_release(ev);
    }
}

/* ------------------------------------------------------------------ validation */

hekv_status hekv__check_ct(hekv_eval *ev, const char *fn, const char *name, const hekv_ct *ct) {
    if (!ct) return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: %s is NULL", fn, name);
    if (ct->params != ev->params)
        return hekv_err_set(&ev->err, HEKV_ERR_PARAMS,
                            "%s: %s belongs to another parameter set than the evaluator "
                            "(create it with the evaluator's params)", fn, name);
    if (ct->level < 0)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG,
                            "%s: %s is empty (level -1): encrypt into it or compute it first",
                            fn, name);
    if (ct->level >= ev->params->nq || ct->c[0].limbs < (size_t)ct->level + 1 ||
        ct->c[1].limbs < (size_t)ct->level + 1 || !ct->c[0].ntt || !ct->c[1].ntt)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG,
                            "%s: %s is malformed (level %d, %zu/%zu limbs held, NTT form %d/%d)",
                            fn, name, ct->level, ct->c[0].limbs, ct->c[1].limbs, ct->c[0].ntt,
                            ct->c[1].ntt);
    return HEKV_OK;
}

hekv_status hekv__check_pt(hekv_eval *ev, const char *fn, const hekv_pt *pt) {
    if (!pt) return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: plaintext is NULL", fn);
    if (pt->params != ev->params)
        return hekv_err_set(&ev->err, HEKV_ERR_PARAMS,
                            "%s: the plaintext belongs to another parameter set than the "
                            "evaluator (encode it with an encoder of the evaluator's params)",
                            fn);
    if (pt->level < 0)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG,
                            "%s: the plaintext is empty (level -1): encode into it first", fn);
    if (pt->level >= ev->params->nq || pt->m.limbs < (size_t)pt->level + 1)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG,
                            "%s: the plaintext is malformed (level %d, %zu limbs held)", fn,
                            pt->level, pt->m.limbs);
    if (!pt->m.ntt)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG,
                            "%s: the plaintext is not in NTT form (plaintexts from "
                            "hekv_ckks_encode are)", fn);
    return HEKV_OK;
}

hekv_status hekv__check_out(hekv_eval *ev, const char *fn, const hekv_ct *out) {
    if (!out) return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: output ciphertext is NULL", fn);
    if (out->params != ev->params)
        return hekv_err_set(&ev->err, HEKV_ERR_PARAMS,
                            "%s: the output ciphertext belongs to another parameter set than "
                            "the evaluator", fn);
    return HEKV_OK;
}

hekv_status hekv__check_slots(hekv_eval *ev, const char *fn, size_t a, size_t b,
                              const char *what) {
    if (a == b) return HEKV_OK;
    return hekv_err_set(&ev->err, HEKV_ERR_ARG,
                        "%s: slot counts differ (ciphertext %zu, %s %zu): encode and encrypt "
                        "both with the same number of slots", fn, a, what, b);
}

hekv_status hekv__check_scales(hekv_eval *ev, const char *fn, double a, double b,
                               const char *what) {
    if (hekv__scale_eq(a, b)) return HEKV_OK;
    return hekv_err_set(&ev->err, HEKV_ERR_SCALE,
                        "%s: scales differ: ciphertext 2^%.6f (%.17g), %s 2^%.6f (%.17g); they "
                        "must agree to a relative 2^-40: rescale the operand with the larger "
                        "scale (hekv_ckks_eval_rescale) or encode/multiply so that both match",
                        fn, log2(a), a, what, log2(b), b);
}

/* A product whose scale reaches Q_level cannot be decrypted: refuse it. */
hekv_status hekv__check_product_scale(hekv_eval *ev, const char *fn, double scale, int level) {
    double lq = hekv__log2_q(ev->params, level);
    if (isfinite(scale) && log2(scale) < lq) return HEKV_OK;
    return hekv_err_set(&ev->err, HEKV_ERR_LEVEL,
                        "%s: the product scale 2^%.2f would not fit the modulus 2^%.2f left at "
                        "level %d (levels exhausted): rescale the operands first, or bootstrap",
                        fn, log2(scale), lq, level);
}

hekv_status hekv__check_relin(hekv_eval *ev, const char *fn, int level) {
    if (ev->evk && ev->evk->relin && ev->evk->relin->level >= level) return HEKV_OK;
    if (ev->evk && ev->evk->relin)
        return hekv_err_set(&ev->err, HEKV_ERR_KEY_MISSING,
                            "%s: the relinearisation key reaches level %d, the operands are at "
                            "level %d: generate it up to that level (hekv_ckks_evk_gen_relin)",
                            fn, ev->evk->relin->level, level);
    return hekv_err_set(&ev->err, HEKV_ERR_KEY_MISSING,
                        "%s: no relinearisation key: %s (generate one with "
                        "hekv_ckks_evk_gen_relin and build the evaluator with that key set)",
                        fn, ev->evk ? "the evaluator's key set has none"
                                    : "the evaluator was built without evaluation keys");
}

/* Sizes out for `level` (out may alias an input whose level is >= level: shrinking keeps
 * the block). */
static hekv_status prepare_out(hekv_eval *ev, const char *fn, hekv_ct *out, int level) {
    hekv_status s = hekv__ct_resize(out, level);
    if (s != HEKV_OK)
        return hekv_err_set(&ev->err, s, "%s: could not size the output ciphertext (%s)", fn,
                            hekv_status_str(s));
    return HEKV_OK;
}

/* Sets out's metadata. c1 keeps its seed only when it is still the untouched expansion of
 * the source's seed at the same level (seed_src, or NULL when c1 changed). */
void hekv__ct_finish(hekv_ct *out, int level, double scale, size_t slots,
                     const uint8_t *seed_src) {
    out->level = level;
    out->scale = scale;
    out->slots = slots;
    out->c[0].ntt = 1;
    out->c[1].ntt = 1;
    if (seed_src) {
        if (seed_src != out->seed) memcpy(out->seed, seed_src, HEKV_SEED_BYTES);
        out->has_seed = 1;
    } else {
        out->has_seed = 0;
        memset(out->seed, 0, HEKV_SEED_BYTES);
    }
}

/* x mod q for an integral finite double (any magnitude): fmod is exact. */
static uint64_t residue_of(double x, uint64_t q) {
    double r = fmod(x, (double)q);
    if (r < 0) r += (double)q;
    uint64_t u = (uint64_t)r;
    return u >= q ? u - q : u;
}

/* ------------------------------------------------------------------ add, sub, neg */

static hekv_status addsub(hekv_eval *ev, hekv_ct *out, const hekv_ct *a, const hekv_ct *b,
                          int sub, const char *fn) {
    if (!ev) return HEKV_ERR_ARG;
    hekv_status s;
    if ((s = hekv__check_out(ev, fn, out)) || (s = hekv__check_ct(ev, fn, "a", a)) ||
        (s = hekv__check_ct(ev, fn, "b", b)) || (s = hekv__check_slots(ev, fn, a->slots, b->slots, "b")) ||
        (s = hekv__check_scales(ev, fn, a->scale, b->scale, "b")))
        return s;
    const int l = a->level < b->level ? a->level : b->level;
    const double scale = a->scale;
    const size_t slots = a->slots;
    if ((s = prepare_out(ev, fn, out, l))) return s;
    for (int k = 0; k < 2; k++) {
        hekv_poly o = hekv__lv(&out->c[k], l), x = hekv__lv(&a->c[k], l), y = hekv__lv(&b->c[k], l);
        if (sub)
            hekv_ring_sub(ev->rq, &o, &x, &y);
        else
            hekv_ring_add(ev->rq, &o, &x, &y);
    }
    hekv__ct_finish(out, l, scale, slots, NULL);
    return HEKV_OK;
}

hekv_status hekv_ckks_eval_add(hekv_eval *ev, hekv_ct *out, const hekv_ct *a, const hekv_ct *b) {
    return addsub(ev, out, a, b, 0, "hekv_ckks_eval_add");
}

hekv_status hekv_ckks_eval_sub(hekv_eval *ev, hekv_ct *out, const hekv_ct *a, const hekv_ct *b) {
    return addsub(ev, out, a, b, 1, "hekv_ckks_eval_sub");
}

hekv_status hekv_ckks_eval_neg(hekv_eval *ev, hekv_ct *out, const hekv_ct *a) {
    static const char fn[] = "hekv_ckks_eval_neg";
    if (!ev) return HEKV_ERR_ARG;
    hekv_status s;
    if ((s = hekv__check_out(ev, fn, out)) || (s = hekv__check_ct(ev, fn, "a", a))) return s;
    const int l = a->level;
    const double scale = a->scale;
    const size_t slots = a->slots;
    if ((s = prepare_out(ev, fn, out, l))) return s;
    for (int k = 0; k < 2; k++) {
        hekv_poly o = hekv__lv(&out->c[k], l), x = hekv__lv(&a->c[k], l);
        hekv_ring_neg(ev->rq, &o, &x);
    }
    hekv__ct_finish(out, l, scale, slots, NULL);
    return HEKV_OK;
}

/* out = a +/- pt at level min(a, pt); c1 is only copied (and keeps its seed when the level
 * does not change). */
static hekv_status addsub_pt(hekv_eval *ev, hekv_ct *out, const hekv_ct *a, const hekv_pt *pt,
                             int sub, const char *fn) {
    if (!ev) return HEKV_ERR_ARG;
    hekv_status s;
    if ((s = hekv__check_out(ev, fn, out)) || (s = hekv__check_ct(ev, fn, "a", a)) ||
        (s = hekv__check_pt(ev, fn, pt)) ||
        (s = hekv__check_slots(ev, fn, a->slots, pt->slots, "plaintext")) ||
        (s = hekv__check_scales(ev, fn, a->scale, pt->scale, "plaintext")))
        return s;
    const int l = a->level < pt->level ? a->level : pt->level;
    const double scale = a->scale;
    const size_t slots = a->slots;
    uint8_t seed[HEKV_SEED_BYTES];
    const int keep_seed = a->has_seed && l == a->level;
    if (keep_seed) memcpy(seed, a->seed, sizeof seed);
    if ((s = prepare_out(ev, fn, out, l))) return s;
    hekv_poly o0 = hekv__lv(&out->c[0], l), x0 = hekv__lv(&a->c[0], l), m = hekv__lv(&pt->m, l);
    if (sub)
        hekv_ring_sub(ev->rq, &o0, &x0, &m);
    else
        hekv_ring_add(ev->rq, &o0, &x0, &m);
    if (out != a) {
        hekv_poly o1 = hekv__lv(&out->c[1], l), x1 = hekv__lv(&a->c[1], l);
        hekv_poly_copy(ev->rq, &o1, &x1);
    }
    hekv__ct_finish(out, l, scale, slots, keep_seed ? seed : NULL);
    return HEKV_OK;
}

hekv_status hekv_ckks_eval_add_pt(hekv_eval *ev, hekv_ct *out, const hekv_ct *a,
                                  const hekv_pt *pt) {
    return addsub_pt(ev, out, a, pt, 0, "hekv_ckks_eval_add_pt");
}

hekv_status hekv_ckks_eval_sub_pt(hekv_eval *ev, hekv_ct *out, const hekv_ct *a,
                                  const hekv_pt *pt) {
    return addsub_pt(ev, out, a, pt, 1, "hekv_ckks_eval_sub_pt");
}

/* The constant re + i*im in every slot, at scale Delta, is the polynomial
 * round(re*Delta) + round(im*Delta) X^(N/2): X^(N/2) evaluates to i at every root
 * zeta^(5^j) of the canonical embedding (5^j = 1 mod 4), also under sparse packing. A
 * constant polynomial is constant in NTT form; the X^(N/2) part goes through one NTT. */
hekv_status hekv_ckks_eval_add_const(hekv_eval *ev, hekv_ct *out, const hekv_ct *a, double re,
                                     double im) {
    static const char fn[] = "hekv_ckks_eval_add_const";
    if (!ev) return HEKV_ERR_ARG;
    hekv_status s;
    if ((s = hekv__check_out(ev, fn, out)) || (s = hekv__check_ct(ev, fn, "a", a))) return s;
    const double cre = round(re * a->scale), cim = round(im * a->scale);
    if (!isfinite(cre) || !isfinite(cim))
        return hekv_err_set(&ev->err, HEKV_ERR_ARG,
                            "%s: the constant (%g, %g) times the scale 2^%.2f is not finite", fn,
                            re, im, log2(a->scale));
    const int l = a->level;
    const double scale = a->scale;
    const size_t slots = a->slots;
    uint8_t seed[HEKV_SEED_BYTES];
    const int keep_seed = a->has_seed;
    if (keep_seed) memcpy(seed, a->seed, sizeof seed);
    if ((s = prepare_out(ev, fn, out, l))) return s;
    const hekv_ring *rq = ev->rq;
    const size_t n = ev->params->n;
    hekv_poly o0 = hekv__lv(&out->c[0], l), x0 = hekv__lv(&a->c[0], l);
    if (cim != 0) {
        /* t = cre + cim X^(N/2), NTT form, then out0 = a0 + t */
        hekv_poly t = hekv__lv(&ev->tmp[0], l);
        hekv_poly_zero(rq, &t);
        for (int i = 0; i <= l; i++) {
            uint64_t q = hekv_ring_modulus(rq, i)->q;
            t.c[(size_t)i * n] = residue_of(cre, q);
            t.c[(size_t)i * n + n / 2] = residue_of(cim, q);
        }
        t.ntt = 0;
        hekv_ring_ntt_fwd(rq, &t);
        hekv_ring_add(rq, &o0, &x0, &t);
    } else {
        for (int i = 0; i <= l; i++) {
            uint64_t q = hekv_ring_modulus(rq, i)->q, c = residue_of(cre, q);
            uint64_t *op = o0.c + (size_t)i * n;
            const uint64_t *xp = x0.c + (size_t)i * n;
            for (size_t j = 0; j < n; j++) op[j] = hekv_mod_add(xp[j], c, q);
        }
    }
    if (out != a) {
        hekv_poly o1 = hekv__lv(&out->c[1], l), x1 = hekv__lv(&a->c[1], l);
        hekv_poly_copy(rq, &o1, &x1);
    }
    hekv__ct_finish(out, l, scale, slots, keep_seed ? seed : NULL);
    return HEKV_OK;
}

/* ------------------------------------------------------------------ products */

hekv_status hekv_ckks_eval_mul_pt(hekv_eval *ev, hekv_ct *out, const hekv_ct *a,
                                  const hekv_pt *pt) {
    static const char fn[] = "hekv_ckks_eval_mul_pt";
    if (!ev) return HEKV_ERR_ARG;
    hekv_status s;
    if ((s = hekv__check_out(ev, fn, out)) || (s = hekv__check_ct(ev, fn, "a", a)) ||
        (s = hekv__check_pt(ev, fn, pt)) ||
        (s = hekv__check_slots(ev, fn, a->slots, pt->slots, "plaintext")))
        return s;
    const int l = a->level < pt->level ? a->level : pt->level;
    const double scale = a->scale * pt->scale;
    const size_t slots = a->slots;
    if ((s = hekv__check_product_scale(ev, fn, scale, l))) return s;
    if ((s = prepare_out(ev, fn, out, l))) return s;
    hekv_poly m = hekv__lv(&pt->m, l);
    for (int k = 0; k < 2; k++) {
        hekv_poly o = hekv__lv(&out->c[k], l), x = hekv__lv(&a->c[k], l);
        hekv_ring_mul(ev->rq, &o, &x, &m);
    }
    hekv__ct_finish(out, l, scale, slots, NULL);
    return HEKV_OK;
}

/* out = a * c[i] on limb i for per-limb residues c (an RNS integer). */
static void mul_rns_const(hekv_eval *ev, hekv_ct *out, const hekv_ct *a, int l,
                          const uint64_t *c) {
    for (int k = 0; k < 2; k++) {
        hekv_poly o = hekv__lv(&out->c[k], l), x = hekv__lv(&a->c[k], l);
        hekv_ring_mul_scalar(ev->rq, &o, &x, c);
    }
}

hekv_status hekv_ckks_eval_mul_const(hekv_eval *ev, hekv_ct *out, const hekv_ct *a, double v) {
    static const char fn[] = "hekv_ckks_eval_mul_const";
    if (!ev) return HEKV_ERR_ARG;
    hekv_status s;
    if ((s = hekv__check_out(ev, fn, out)) || (s = hekv__check_ct(ev, fn, "a", a))) return s;
    if (!isfinite(v))
        return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: the constant %g is not finite", fn, v);
    const int l = a->level;
    const hekv_ring *rq = ev->rq;
    const double ql = (double)hekv_ring_modulus(rq, l)->q;
    const double scale = a->scale * ql;
    const size_t slots = a->slots;
    if ((s = hekv__check_product_scale(ev, fn, scale, l))) return s;
    const double c = round(v * ql);
    uint64_t res[HEKV_CKKS_MAX_Q];
    for (int i = 0; i <= l; i++) res[i] = residue_of(c, hekv_ring_modulus(rq, i)->q);
    if ((s = prepare_out(ev, fn, out, l))) return s;
    mul_rns_const(ev, out, a, l, res);
    hekv__ct_finish(out, l, scale, slots, NULL);
    return HEKV_OK;
}

hekv_status hekv_ckks_eval_mul_int(hekv_eval *ev, hekv_ct *out, const hekv_ct *a, int64_t k) {
    static const char fn[] = "hekv_ckks_eval_mul_int";
    if (!ev) return HEKV_ERR_ARG;
    hekv_status s;
    if ((s = hekv__check_out(ev, fn, out)) || (s = hekv__check_ct(ev, fn, "a", a))) return s;
    const int l = a->level;
    const double scale = a->scale;
    const size_t slots = a->slots;
    const hekv_ring *rq = ev->rq;
    /* |k| as unsigned (INT64_MIN included), then the sign */
    const uint64_t mag = k < 0 ? (uint64_t)0 - (uint64_t)k : (uint64_t)k;
    /* a value of magnitude 1 times k must still fit Q_level, or the product wraps
     * around the modulus silently */
    if (mag > 1 && (s = hekv__check_product_scale(ev, fn, scale * (double)mag, l))) return s;
    uint64_t res[HEKV_CKKS_MAX_Q];
    for (int i = 0; i <= l; i++) {
        uint64_t q = hekv_ring_modulus(rq, i)->q, r = mag % q;
        res[i] = k < 0 ? hekv_mod_neg(r, q) : r;
    }
    if ((s = prepare_out(ev, fn, out, l))) return s;
    mul_rns_const(ev, out, a, l, res);
    hekv__ct_finish(out, l, scale, slots, NULL);
    return HEKV_OK;
}

/* The tensor (d0, d1, d2) of a and b at level l, then d2 switched from s^2 to s and added:
 *   d0 = a0 b0, d1 = a0 b1 + a1 b0, d2 = a1 b1;  out = (d0, d1) + KS_relin(d2).
 * Nothing is stored: the key switch forms d2 = a1 b1 limb by limb where it reads it, and
 * its last pass adds d0 and d1 limb by limb, reading each block of a and b before it
 * writes that block of out, so out may alias a or b (and must already hold limbs 0..l:
 * it does when it is a or b). */
static void mul_relin(hekv_eval *ev, hekv_ct *out, const hekv_ct *a, const hekv_ct *b, int l) {
    hekv_poly a0 = hekv__lv(&a->c[0], l), a1 = hekv__lv(&a->c[1], l);
    hekv_poly b0 = hekv__lv(&b->c[0], l), b1 = hekv__lv(&b->c[1], l);
    const hekv_ring_ks_add tensor = {NULL, &a0, &a1, &b0, &b1, NULL, NULL, NULL, 0};
    hekv__keyswitch_add(ev, &out->c[0], &out->c[1], &a1, &b1, l, ev->evk->relin, NULL,
                        &tensor);
}

static hekv_status mul_common(hekv_eval *ev, hekv_ct *out, const hekv_ct *a, const hekv_ct *b,
                              const char *fn) {
    if (!ev) return HEKV_ERR_ARG;
    hekv_status s;
    if ((s = hekv__check_out(ev, fn, out)) || (s = hekv__check_ct(ev, fn, "a", a)) ||
        (s = hekv__check_ct(ev, fn, "b", b)) || (s = hekv__check_slots(ev, fn, a->slots, b->slots, "b")) ||
        (s = hekv__check_relin(ev, fn, a->level < b->level ? a->level : b->level)))
        return s;
    const int l = a->level < b->level ? a->level : b->level;
    const double scale = a->scale * b->scale;
    const size_t slots = a->slots;
    if ((s = hekv__check_product_scale(ev, fn, scale, l))) return s;
    /* out is sized only after the inputs are read when it aliases one of them */
    const int alias = out == a || out == b;
    if (!alias && (s = prepare_out(ev, fn, out, l))) return s;
    mul_relin(ev, out, a, b, l);
    if (alias && (s = prepare_out(ev, fn, out, l))) return s;
    hekv__ct_finish(out, l, scale, slots, NULL);
    return HEKV_OK;
}

hekv_status hekv_ckks_eval_mul(hekv_eval *ev, hekv_ct *out, const hekv_ct *a, const hekv_ct *b) {
    return mul_common(ev, out, a, b, "hekv_ckks_eval_mul");
}

hekv_status hekv_ckks_eval_square(hekv_eval *ev, hekv_ct *out, const hekv_ct *a) {
    return mul_common(ev, out, a, a, "hekv_ckks_eval_square");
}

/* ------------------------------------------------------------------ rescale, drop */

hekv_status hekv_ckks_eval_rescale(hekv_eval *ev, hekv_ct *out, const hekv_ct *a) {
    static const char fn[] = "hekv_ckks_eval_rescale";
    if (!ev) return HEKV_ERR_ARG;
    hekv_status s;
    if ((s = hekv__check_out(ev, fn, out)) || (s = hekv__check_ct(ev, fn, "a", a))) return s;
    const int l = a->level;
    if (l == 0)
        return hekv_err_set(&ev->err, HEKV_ERR_LEVEL,
                            "%s: the ciphertext is at level 0, no prime is left to divide by "
                            "(levels exhausted): bootstrap it, or use a parameter set with more "
                            "levels", fn);
    const hekv_ckks_params *p = ev->params;
    const double ql = (double)hekv_ring_modulus(ev->rq, l)->q;
    const double scale = a->scale / ql;
    const size_t slots = a->slots;
    /* q_l^-1 mod q_i for i < l: row l of the [nq][nq] table (q_j^-1 mod q_i at [j][i]) */
    const uint64_t *qinv = p->qinv_mod_q + (size_t)l * (size_t)p->nq;
    /* out (when distinct) is sized first; when it is a, the level l limb is read before
     * anything is written and the block is kept when shrinking */
    if ((s = prepare_out(ev, fn, out, l - 1))) return s;
    /* o = round(x / q_l) for both polynomials: the ring's limb-fused division by the last
     * prime, in the evaluator's limb scratch */
    hekv_poly x0 = hekv__lv(&a->c[0], l), x1 = hekv__lv(&a->c[1], l);
    hekv_poly o0 = hekv__lv(&out->c[0], l - 1), o1 = hekv__lv(&out->c[1], l - 1);
    hekv_poly *o[2] = {&o0, &o1};
    const hekv_poly *x[2] = {&x0, &x1};
    hekv_ring_div_round_last_ntt(ev->rq, o, x, 2, qinv, ev->limb_scratch, ev->limb_scratch_limbs);
    hekv__ct_finish(out, l - 1, scale, slots, NULL);
    ev->counts.rescales++;
    return HEKV_OK;
}

hekv_status hekv_ckks_eval_drop_to(hekv_eval *ev, hekv_ct *out, const hekv_ct *a, int level) {
    static const char fn[] = "hekv_ckks_eval_drop_to";
    if (!ev) return HEKV_ERR_ARG;
    hekv_status s;
    if ((s = hekv__check_out(ev, fn, out)) || (s = hekv__check_ct(ev, fn, "a", a))) return s;
    if (level < 0 || level > a->level)
        return hekv_err_set(&ev->err, HEKV_ERR_LEVEL,
                            "%s: cannot drop a level-%d ciphertext to level %d (the target "
                            "must be in [0, %d]; levels can only go down)", fn, a->level, level,
                            a->level);
    const double scale = a->scale;
    const size_t slots = a->slots;
    uint8_t seed[HEKV_SEED_BYTES];
    const int keep_seed = a->has_seed && level == a->level;
    if (keep_seed) memcpy(seed, a->seed, sizeof seed);
    if ((s = prepare_out(ev, fn, out, level))) return s;
    if (out != a)
        for (int k = 0; k < 2; k++) {
            hekv_poly o = hekv__lv(&out->c[k], level), x = hekv__lv(&a->c[k], level);
            hekv_poly_copy(ev->rq, &o, &x);
        }
    hekv__ct_finish(out, level, scale, slots, keep_seed ? seed : NULL);
    return HEKV_OK;
}
