/* keyswitch.c: hybrid RNS key switching (Han-Ki 2020, "Better bootstrapping for
 * approximate HE", Sec. 3; the GHS special-modulus method with dnum digits). A switching
 * key from s' to s holds, per digit j, (b_j, a_j) over Q u P with
 *     b_j = -a_j s + e_j + g_j s',  g_j = P mod q_i on digit j's primes, 0 elsewhere;
 * switching c at level l is
 *     ModUp:   d_j = digit j of c (its residues on q_{j*alpha} .. q_{j*alpha+k-1}, k <= alpha
 *              of them present at level l), lifted to Q[0..l] and P by fast basis conversion;
 *     product: (acc0, acc1) = sum_j d_j * (b_j, a_j) over Q[0..l] u P;
 *     ModDown: out = (acc_Q - conv_{P->Q}(acc_P)) * P^-1 mod q_i,
 * and for a rotation out is then permuted by the Galois automorphism phi (eval_rot.c: its
 * key switches from s to phi^-1(s), so phi can act on the switch's output instead of its
 * input). phi is a pure permutation in NTT form that sends aligned blocks to aligned
 * blocks, so it is applied block by block as ModDown writes each block: no pass of its own,
 * and one decomposition serves every rotation of a ciphertext unchanged (hoisting).
 * Both conversions are the centred ones of the ring layer: the lifted digit is the centred
 * residue plus u*Q_j with |u| <= alpha/2, and ModDown rounds. Their errors have zero mean;
 * the plain [0, B) conversions add a constant offset per coefficient (u ~ k/2 on average),
 * which the canonical embedding turns into a slot error ~N/pi times larger near X = 1 (at
 * N = 2^16, 2^-13 instead of 2^-19 after four rotations).
 *
 * Transforms per switch at level l with k_d digits present: l+1 inverse NTTs (ModUp),
 * k_d*(l+1+np) - (l+1) forward NTTs (every converted limb once; the digit's own limbs are
 * c's, not converted), and per output np inverse plus l+1 forward (ModDown).
 *
 * At N = 2^16 a limb is 512 KiB and a switch at the top of bench-N16-L33 streams a 126 MiB
 * key, so the switch is bound by memory traffic as much as by arithmetic, and the order of
 * the work is chosen for it:
 *   1. INTT(c) limb by limb (c formed on the fly when it is a product: relinearisation),
 *      then the conversions of every digit, blocked over coefficients, in coefficient
 *      form;
 *   2. the P side, limb by limb: transform the digits' limb, the product with the key,
 *      back to coefficients (hekv_ring_ks_dot_inv); then conv_{P->Q} of both outputs;
 *   3. the Q side, limb by limb: transform the digits' limb and the two conversions, the
 *      product with the key (the own limbs read from c), (acc - conv) * P^-1 and the
 *      terms a caller adds (c0 of a rotation, the tensor of a product), permuted by phi
 *      for a rotation, written once (hekv_ring_ks_dot_moddown).
 * Each limb's transforms share the prime's NTT tables and its data stays in cache between
 * the steps; the lifted digits are never written back in NTT form and the products never
 * stored. Hoisted rotations (hekv__decompose once, then hekv__keyswitch_decomp per
 * rotation) keep the decomposition in NTT form, as before, and run steps 2-3 on it.
 *
 * This file does not check its inputs (the public callers in eval.c / eval_rot.c do) and
 * does not allocate on the switching path: it works in the evaluator's scratch.
 *
 * Note for eval.c (H4): hekv_ckks_eval_new / _clone must call hekv__ks_scratch_new(ev)
 * after allocating dec/acc0/acc1/tmp/bconv_scratch, and hekv_ckks_eval_free must call
 * hekv__ks_scratch_free(ev). (hekv__ks_scratch_new is idempotent; the public rotation
 * calls in eval_rot.c also call it, so a missing call in eval_new costs only the free.)
 * The routines here use ev->dec (hekv__keyswitch / _add only: left in coefficient form
 * there, level -1), ev->acc0/acc1, ev->gal_map and ev->bconv_scratch, never ev->tmp[]. */
#include <stdlib.h>
#include <string.h>

#include "ckks_int.h"

/* ------------------------------------------------------------------ scratch */

hekv_status hekv__ks_scratch_new(hekv_eval *ev) {
    if (ev->gal_map) return HEKV_OK; /* already there (idempotent) */
    ev->gal_map = hekv_alloc_aligned(ev->params->n * sizeof(uint32_t));
    if (!ev->gal_map) return HEKV_ERR_NOMEM;
    ev->gal_map_elt = 0;
    return HEKV_OK;
}

void hekv__ks_scratch_free(hekv_eval *ev) {
    if (!ev) return;
    hekv_free_aligned(ev->gal_map);
    ev->gal_map = NULL;
    ev->gal_map_elt = 0;
}

const uint32_t *hekv__galois_map(hekv_eval *ev, uint64_t galois) {
    if (ev->gal_map_elt != galois) {
        HEKV_CHECK_INTERNAL(ev->gal_map != NULL);
        HEKV_CHECK_INTERNAL(hekv_automorph_map_ntt(ev->gal_map, ev->params->logn, galois) ==
                            HEKV_OK);
        ev->gal_map_elt = galois;
    }
    return ev->gal_map;
}

/* A view of the first `limbs` limbs of p (same block). */
static inline hekv_poly view(const hekv_poly *p, int limbs) {
    hekv_poly v = *p;
    v.limbs = (size_t)limbs;
    return v;
}

/* ------------------------------------------------------------------ keys */

void hekv__swk_free(hekv__swk *k) {
    if (!k) return;
    for (int j = 0; j < k->ndigits; j++) {
        if (k->b) hekv__qp_free(&k->b[j]);
        if (k->a) hekv__qp_free(&k->a[j]);
    }
    free(k->b);
    free(k->a);
    hekv_memzero(k, sizeof *k);
    free(k);
}

hekv_status hekv__swk_expand(const hekv_ckks_params *prm, hekv__swk *k) {
    if (!prm || !k || !k->a || k->ndigits != prm->dnum) return HEKV_ERR_ARG;
    hekv_prng prng;
    hekv_prng_init_seed(&prng, k->seed);
    for (int j = 0; j < k->ndigits; j++) {
        /* Uniform residues are uniform in either form: read them as NTT values. */
        hekv_sample_uniform(prm->rq, &prng, &k->a[j].q);
        hekv_sample_uniform(prm->rp, &prng, &k->a[j].p);
        k->a[j].q.ntt = k->a[j].p.ntt = 1;
    }
    hekv_prng_wipe(&prng);
    return HEKV_OK;
}

/* An empty key of dnum digits at the top level. */
static hekv_status swk_alloc(const hekv_ckks_params *prm, hekv__swk **out) {
    hekv__swk *k = calloc(1, sizeof *k);
    if (!k) return HEKV_ERR_NOMEM;
    k->ndigits = prm->dnum;
    k->b = calloc((size_t)prm->dnum, sizeof *k->b);
    k->a = calloc((size_t)prm->dnum, sizeof *k->a);
    hekv_status s = (k->b && k->a) ? HEKV_OK : HEKV_ERR_NOMEM;
    for (int j = 0; s == HEKV_OK && j < prm->dnum; j++) {
        s = hekv__qp_new(prm, prm->nq - 1, &k->b[j]);
        if (s == HEKV_OK) s = hekv__qp_new(prm, prm->nq - 1, &k->a[j]);
    }
    if (s != HEKV_OK) {
        hekv__swk_free(k);
        return s;
    }
    *out = k;
    return HEKV_OK;
}

hekv_status hekv__swk_gen(const hekv_ckks_params *prm, const hekv_sk *sk,
                          const hekv_poly *s_from_q, const hekv_poly *s_to_q,
                          const hekv_poly *s_to_p, hekv__swk **out, hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv__swk_gen: out is NULL");
    *out = NULL;
    if (!prm || !sk || !s_from_q || sk->params != prm || s_from_q->limbs < (size_t)prm->nq ||
        !s_from_q->ntt || !s_to_q != !s_to_p ||
        (s_to_q && (s_to_q->limbs < (size_t)prm->nq || s_to_p->limbs < (size_t)prm->np ||
                    !s_to_q->ntt || !s_to_p->ntt)))
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "hekv__swk_gen: need the parameters, their secret key, s' in NTT "
                            "form over all %d Q limbs and s_to (if given) over all of Q and P",
                            prm ? prm->nq : 0);
    /* g_j is 0 on P: the P limbs of b_j involve s_to only */
    if (!s_to_q) s_to_q = &sk->sq, s_to_p = &sk->sp;
    const size_t n = prm->n;
    const int nq = prm->nq, alpha = prm->alpha;
    hekv__swk *k = NULL;
    hekv__qp_poly t = {0};
    int64_t *e = calloc(n, sizeof *e);
    uint64_t *g = calloc((size_t)nq, sizeof *g);
    hekv_prng eprng;
    int have_prng = 0;
    const double sigma = prm->lit.sigma > 0 ? prm->lit.sigma : HEKV_GAUSS_SIGMA;
    hekv_status s = (e && g) ? HEKV_OK : HEKV_ERR_NOMEM;
    if (s == HEKV_OK) s = swk_alloc(prm, &k);
    if (s == HEKV_OK) s = hekv__qp_new(prm, nq - 1, &t);
    if (s != HEKV_OK) {
        hekv_err_set(err, s, "hekv__swk_gen: out of memory");
        goto done;
    }
    if ((s = hekv_os_random(k->seed, HEKV_SEED_BYTES, err)) != HEKV_OK) goto done;
    if ((s = hekv_prng_init_os(&eprng, err)) != HEKV_OK) goto done;
    have_prng = 1;
    k->has_seed = 1;
    s = hekv__swk_expand(prm, k);
    HEKV_CHECK_INTERNAL(s == HEKV_OK);
    for (int j = 0; j < k->ndigits; j++) {
        hekv__qp_poly *b = &k->b[j], *a = &k->a[j];
        /* e_j, sampled once, lifted to Q and P */
        hekv_sample_gaussian(&eprng, e, n, sigma, HEKV_GAUSS_TAIL);
        hekv_poly_set_small(prm->rq, &b->q, e);
        hekv_poly_set_small(prm->rp, &b->p, e);
        hekv_ring_ntt_fwd(prm->rq, &b->q);
        hekv_ring_ntt_fwd(prm->rp, &b->p);
        /* b_j = e_j - a_j s_to */
        hekv_ring_mul(prm->rq, &t.q, &a->q, s_to_q);
        hekv_ring_sub(prm->rq, &b->q, &b->q, &t.q);
        hekv_ring_mul(prm->rp, &t.p, &a->p, s_to_p);
        hekv_ring_sub(prm->rp, &b->p, &b->p, &t.p);
        /* + g_j s' on Q: P mod q_i on the digit's primes */
        memset(g, 0, (size_t)nq * sizeof *g);
        for (int i = j * alpha; i < (j + 1) * alpha && i < nq; i++) g[i] = prm->p_mod_q[i];
        hekv_ring_mul_scalar_acc(prm->rq, &b->q, s_from_q, g);
    }
    *out = k;
    k = NULL;
done:
    if (have_prng) hekv_prng_wipe(&eprng);
    if (e) hekv_memzero(e, n * sizeof *e);
    free(e);
    free(g);
    hekv__qp_free(&t);
    hekv__swk_free(k);
    return s;
}

/* ------------------------------------------------------------------ ModUp */

hekv_status hekv__decomp_new(const hekv_ckks_params *prm, hekv__decomp *d) {
    memset(d, 0, sizeof *d);
    d->level = -1;
    d->d = calloc((size_t)prm->dnum, sizeof *d->d);
    if (!d->d) return HEKV_ERR_NOMEM;
    d->ndigits = prm->dnum;
    for (int j = 0; j < prm->dnum; j++) {
        hekv_status s = hekv__qp_new(prm, prm->nq - 1, &d->d[j]);
        if (s != HEKV_OK) {
            hekv__decomp_free(d);
            return s;
        }
    }
    return HEKV_OK;
}

void hekv__decomp_free(hekv__decomp *d) {
    if (!d) return;
    if (d->d)
        for (int j = 0; j < d->ndigits; j++) hekv__qp_free(&d->d[j]);
    free(d->d);
    memset(d, 0, sizeof *d);
    d->level = -1;
}

/* ModUp without the forward transforms: INTT(x) limb by limb into ev->acc0.q, x = c * c2
 * (c2 given) or c, then for each digit j its centred value lifted to
 * Q[0, start), Q[end, level] and P at once, in coefficient form, into d->d[j] (the digit's
 * own limbs [start, end) are not written: they are x's, exact, and in NTT form already). */
static void modup_coef(hekv_eval *ev, hekv__decomp *d, const hekv_poly *c, const hekv_poly *c2,
                       int level) {
    const hekv_ckks_params *prm = ev->params;
    const size_t n = prm->n;
    const int alpha = prm->alpha, ndig = level / alpha + 1;
    uint64_t *scratch = ev->bconv_scratch;
    HEKV_DASSERT(c->ntt && c->limbs >= (size_t)level + 1 && ndig <= d->ndigits);

    hekv_poly coef = view(&ev->acc0.q, level + 1);
    hekv_ring_ntt_inv_from(prm->rq, &coef, c, c2);
    for (int j = 0; j < ndig; j++) {
        const int start = j * alpha;
        const int k = level + 1 - start < alpha ? level + 1 - start : alpha;
        const int end = start + k; /* digit limbs [start, end) */
        const hekv__modup_plan *mp = &prm->modup[j * alpha + k - 1];
        const uint64_t *in = coef.c + (size_t)start * n;
        const hekv_bconv *plan[3];
        uint64_t *dst[3];
        int cnt[3], np_ = 0;
        if (start > 0) plan[np_] = mp->lo, dst[np_] = d->d[j].q.c, cnt[np_++] = start;
        if (end <= level)
            plan[np_] = mp->hi, dst[np_] = d->d[j].q.c + (size_t)end * n,
            cnt[np_++] = level + 1 - end;
        plan[np_] = mp->p, dst[np_] = d->d[j].p.c, cnt[np_++] = prm->np;
        hekv_bconv_apply_multi(plan, dst, cnt, np_, in, scratch, 1);
    }
    d->level = level;
}

void hekv__decompose(hekv_eval *ev, hekv__decomp *d, const hekv_poly *c, int level) {
    const hekv_ckks_params *prm = ev->params;
    const size_t n = prm->n, limb = n * sizeof(uint64_t);
    const int alpha = prm->alpha, ndig = level / alpha + 1;
    modup_coef(ev, d, c, NULL, level);
    for (int j = 0; j < ndig; j++) {
        const int start = j * alpha;
        const int end = level + 1 < start + alpha ? level + 1 : start + alpha;
        hekv_poly q = view(&d->d[j].q, level + 1);
        /* the digit's own limbs are c's: already exact and in NTT form */
        memcpy(q.c + (size_t)start * n, c->c + (size_t)start * n, (size_t)(end - start) * limb);
        if (start > 0) hekv_ring_ntt_fwd_range(prm->rq, &q, 0, (size_t)start);
        if (end <= level) hekv_ring_ntt_fwd_range(prm->rq, &q, (size_t)end, (size_t)level + 1);
        hekv_ring_ntt_fwd(prm->rp, &d->d[j].p);
        d->d[j].q.ntt = 1;
    }
}

/* ------------------------------------------------------------------ product + ModDown */

/* (out0, out1) = phi(ModDown(sum_j x_j (b_j, a_j)) (+ add)), phi given by out_map (NULL: the
 * identity), where x_j is the digit d_j (NTT form, or coefficient form when coef:
 * transformed in place, limb by limb) with its own limbs read from the switched polynomial
 * (own, own2 as in hekv_ring_ks_args) when own is given. Limb by limb on each side: the P
 * side of the product is transformed back at once (ev->acc0.p/acc1.p), converted to Q
 * (into ev->acc0.q/acc1.q), and the Q side subtracts, scales and permutes as it goes. */
static void ks_apply(hekv_eval *ev, hekv_poly *out0, hekv_poly *out1, const hekv__decomp *d,
                     const hekv_poly *own, const hekv_poly *own2, int coef, const hekv__swk *k,
                     const uint32_t *out_map, const hekv_ring_ks_add *add) {
    const hekv_ckks_params *prm = ev->params;
    const int level = d->level, alpha = prm->alpha, ndig = level / alpha + 1;
    HEKV_DASSERT(level >= 0 && ndig <= k->ndigits && ndig <= HEKV_RING_KS_MAX_DIGITS);
    hekv_poly dq[HEKV_RING_KS_MAX_DIGITS];
    hekv_poly *dqp[HEKV_RING_KS_MAX_DIGITS], *dpp[HEKV_RING_KS_MAX_DIGITS];
    const hekv_poly *bq[HEKV_RING_KS_MAX_DIGITS], *bp[HEKV_RING_KS_MAX_DIGITS];
    const hekv_poly *aq[HEKV_RING_KS_MAX_DIGITS], *ap[HEKV_RING_KS_MAX_DIGITS];
    int own_b[HEKV_RING_KS_MAX_DIGITS], own_e[HEKV_RING_KS_MAX_DIGITS];
    for (int j = 0; j < ndig; j++) {
        dq[j] = view(&d->d[j].q, level + 1);
        dqp[j] = &dq[j], dpp[j] = &d->d[j].p;
        bq[j] = &k->b[j].q, bp[j] = &k->b[j].p;
        aq[j] = &k->a[j].q, ap[j] = &k->a[j].p;
        own_b[j] = j * alpha;
        own_e[j] = level + 1 < (j + 1) * alpha ? level + 1 : (j + 1) * alpha;
    }
    /* P side: the product, back to coefficients */
    const hekv_ring_ks_args ksp = {ndig, dpp, coef, NULL, NULL, NULL, NULL, bp, ap};
    hekv_ring_ks_dot_inv(prm->rp, &ev->acc0.p, &ev->acc1.p, &ksp);
    /* conv_{P->Q} of both, centred (ModDown rounds) */
    hekv_poly c0 = view(&ev->acc0.q, level + 1), c1 = view(&ev->acc1.q, level + 1);
    hekv_bconv_apply_centered(prm->moddown, c0.c, ev->acc0.p.c, ev->bconv_scratch, level + 1);
    hekv_bconv_apply_centered(prm->moddown, c1.c, ev->acc1.p.c, ev->bconv_scratch, level + 1);
    /* Q side: the product, minus the conversion, times P^-1 */
    const hekv_ring_ks_args ksq = {ndig, dqp, coef, own, own2, own_b, own_e, bq, aq};
    hekv_poly o0 = view(out0, level + 1), o1 = view(out1, level + 1);
    hekv_ring_ks_dot_moddown(prm->rq, &o0, &o1, &ksq, &c0, &c1, prm->p_inv_mod_q, add, out_map);
    out0->ntt = out1->ntt = 1;
}

void hekv__keyswitch_decomp(hekv_eval *ev, hekv_poly *out0, hekv_poly *out1,
                            const hekv__decomp *d, const hekv__swk *k, uint64_t galois) {
    hekv__keyswitch_decomp_add(ev, out0, out1, d, k, galois, NULL);
}

void hekv__keyswitch_decomp_add(hekv_eval *ev, hekv_poly *out0, hekv_poly *out1,
                                const hekv__decomp *d, const hekv__swk *k, uint64_t galois,
                                const hekv_ring_ks_add *add) {
    const uint32_t *map = galois != 1 ? hekv__galois_map(ev, galois) : NULL;
    ks_apply(ev, out0, out1, d, NULL, NULL, 0, k, map, add);
}

void hekv__keyswitch_add(hekv_eval *ev, hekv_poly *out0, hekv_poly *out1, const hekv_poly *c,
                         const hekv_poly *c2, int level, const hekv__swk *k,
                         const uint32_t *out_map, const hekv_ring_ks_add *add) {
    /* Not hoisted: the digits stay in coefficient form until the fused pass transforms
     * each limb right before its product, and their own limbs are formed from c as they
     * are read. */
    hekv_poly cv = view(c, level + 1), c2v = c2 ? view(c2, level + 1) : cv;
    modup_coef(ev, &ev->dec, &cv, c2 ? &c2v : NULL, level);
    ks_apply(ev, out0, out1, &ev->dec, &cv, c2 ? &c2v : NULL, 1, k, out_map, add);
    ev->dec.level = -1; /* transformed in part, and without its own limbs: no decomposition */
}

void hekv__keyswitch(hekv_eval *ev, hekv_poly *out0, hekv_poly *out1, const hekv_poly *c,
                     int level, const hekv__swk *k) {
    hekv__keyswitch_add(ev, out0, out1, c, NULL, level, k, NULL, NULL);
}
