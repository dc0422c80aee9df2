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
 * The special primes of a switch are those of the key's basis (hekv__ksb): the set's own
 * for relinearisation and Galois keys (hoisted decompositions are shared between those),
 * or a prefix of them for a switching key made smaller (hekv_ckks_swk_new).
 *
 * The routines here use ev->dec (hekv__keyswitch / _add only: left in coefficient form
 * there, level -1), ev->acc0/acc1, ev->gal_map and ev->bconv_scratch, never ev->tmp[] or
 * the evaluator's pool of ciphertexts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ckks_int.h"

/* ------------------------------------------------------------------ bases */

void hekv__ksb_release(hekv__ksb *b) {
    if (!b) return;
    if (b->modup) {
        for (int i = 0; i < b->nplans; i++) {
            hekv_bconv_free(b->modup[i].lo);
            hekv_bconv_free(b->modup[i].hi);
            hekv_bconv_free(b->modup[i].p);
        }
    }
    free(b->modup);
    hekv_bconv_free(b->moddown);
    free(b->p_mod_q);
    free(b->p_inv_mod_q);
    memset(b, 0, sizeof *b);
}

hekv_status hekv__ksb_init(const hekv_ckks_params *p, int np, int level, hekv__ksb *b,
                           hekv_err *err) {
    memset(b, 0, sizeof *b);
    const int nq = p->nq, alpha = p->alpha;
    if (np < 1 || np > p->np || level < 0 || level >= nq)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "key-switching basis: %d special primes (1..%d) at level %d (0..%d)",
                            np, p->np, level, nq - 1);
    b->np = np;
    b->level = level;
    b->nplans = p->dnum * alpha;
    b->modup = calloc((size_t)b->nplans, sizeof *b->modup);
    b->p_mod_q = calloc((size_t)nq, sizeof(uint64_t));
    b->p_inv_mod_q = calloc((size_t)nq, sizeof(uint64_t));
    if (!b->modup || !b->p_mod_q || !b->p_inv_mod_q) {
        hekv__ksb_release(b);
        return hekv_err_set(err, HEKV_ERR_NOMEM, "key-switching basis: out of memory");
    }
    hekv_status s = HEKV_OK;
    /* digit j at level l holds k = min(alpha, l + 1 - j*alpha) limbs: the plans of every
     * (j, k) a switch at a level <= `level` meets */
    for (int j = 0; j * alpha <= level && s == HEKV_OK; j++) {
        const int start = j * alpha;
        for (int k = 1; k <= alpha && start + k <= nq && start + k - 1 <= level && s == HEKV_OK;
             k++) {
            hekv__modup_plan *mp = &b->modup[j * alpha + k - 1];
            if (start > 0) s = hekv_bconv_new(p->rq, start, k, p->rq, 0, start, &mp->lo, err);
            if (s == HEKV_OK && start + k < nq)
                s = hekv_bconv_new(p->rq, start, k, p->rq, start + k, nq - start - k, &mp->hi,
                                   err);
            if (s == HEKV_OK) s = hekv_bconv_new(p->rq, start, k, p->rp, 0, np, &mp->p, err);
        }
    }
    if (s == HEKV_OK) s = hekv_bconv_new(p->rp, 0, np, p->rq, 0, nq, &b->moddown, err);
    if (s != HEKV_OK) {
        hekv__ksb_release(b);
        return s;
    }
    for (int i = 0; i < nq; i++) {
        const hekv_modulus *m = hekv_ring_modulus(p->rq, i);
        uint64_t prod = 1;
        for (int t = 0; t < np; t++)
            prod = hekv_mod_mul(prod, hekv_ring_modulus(p->rp, t)->q % m->q, m);
        b->p_mod_q[i] = prod;
        b->p_inv_mod_q[i] = hekv_mod_inv_prime(prod, m);
    }
    for (int t = 0; t < np; t++) b->log_p += log2((double)hekv_ring_modulus(p->rp, t)->q);
    return HEKV_OK;
}

static size_t bconv_words(const hekv_bconv *bc, size_t cur) {
    if (!bc) return cur;
    size_t w = hekv_bconv_scratch_words(bc);
    return w > cur ? w : cur;
}

size_t hekv__ksb_scratch_words(const hekv__ksb *b) {
    size_t words = bconv_words(b->moddown, 1);
    for (int i = 0; i < b->nplans; i++) {
        words = bconv_words(b->modup[i].lo, words);
        words = bconv_words(b->modup[i].hi, words);
        words = bconv_words(b->modup[i].p, words);
    }
    return words;
}

const uint32_t *hekv__galois_map(hekv_eval *ev, uint64_t galois) {
    if (ev->gal_map_elt != galois) {
        HEKV_CHECK_INTERNAL(ev->gal_map != NULL);
        HEKV_CHECK_INTERNAL(hekv_automorph_map_ntt(ev->gal_map, ev->params->logn, galois) ==
                            HEKV_KERN_OK);
        ev->gal_map_elt = galois;
    }
    return ev->gal_map;
}

/* ------------------------------------------------------------------ keys */

void hekv_ckks_swk_free(hekv_swk *k) {
    if (!k) return;
    for (int j = 0; j < k->ndigits; j++) {
        if (k->b) hekv__qp_free(&k->b[j]);
        if (k->a) hekv__qp_free(&k->a[j]);
    }
    free(k->b);
    free(k->a);
    if (k->own_ksb) {
        hekv__ksb_release(k->own_ksb);
        free(k->own_ksb);
    }
    hekv_memzero(k, sizeof *k);
    free(k);
}

int hekv_ckks_swk_max_level(const hekv_swk *k) { return k ? k->level : -1; }
int hekv_ckks_swk_special(const hekv_swk *k) { return k ? k->ksb->np : 0; }
size_t hekv_ckks_swk_bytes(const hekv_swk *k) {
    if (!k) return 0;
    return (size_t)k->ndigits * 2 * (size_t)(k->level + 1 + k->ksb->np) * k->params->n *
           sizeof(uint64_t);
}

void hekv__swk_expand(hekv_swk *k) {
    const hekv_ckks_params *prm = k->params;
    hekv_prng prng;
    hekv_prng_init_seed(&prng, k->seed);
    for (int j = 0; j < k->ndigits; j++) {
        /* Uniform residues are uniform in either form: read them as NTT values. */
        hekv_sample_uniform(prm->rq, &prng, &k->a[j].q);
        hekv_sample_uniform(prm->rp, &prng, &k->a[j].p);
        k->a[j].q.ntt = k->a[j].p.ntt = 1;
    }
    hekv_prng_wipe(&prng);
}

hekv_status hekv__swk_alloc(const hekv_ckks_params *prm, int level, const hekv__ksb *ksb,
                            hekv_swk **out) {
    *out = NULL;
    if (!ksb) ksb = &prm->ksb;
    if (level < 0 || level > ksb->level) return HEKV_ERR_ARG;
    hekv_swk *k = calloc(1, sizeof *k);
    if (!k) return HEKV_ERR_NOMEM;
    k->params = prm;
    k->level = level;
    k->ksb = ksb;
    k->ndigits = level / prm->alpha + 1;
    k->b = calloc((size_t)k->ndigits, sizeof *k->b);
    k->a = calloc((size_t)k->ndigits, sizeof *k->a);
    hekv_status s = (k->b && k->a) ? HEKV_OK : HEKV_ERR_NOMEM;
    for (int j = 0; s == HEKV_OK && j < k->ndigits; j++) {
        s = hekv__qp_new(prm, level, ksb->np, &k->b[j]);
        if (s == HEKV_OK) s = hekv__qp_new(prm, level, ksb->np, &k->a[j]);
    }
    if (s != HEKV_OK) {
        hekv_ckks_swk_free(k);
        return s;
    }
    *out = k;
    return HEKV_OK;
}

hekv_status hekv__swk_gen(hekv_swk *k, const hekv_poly *s_from_q, const hekv_poly *s_to_q,
                          const hekv_poly *s_to_p, hekv_err *err) {
    const hekv_ckks_params *prm = k->params;
    const hekv__ksb *ksb = k->ksb;
    HEKV_CHECK_INTERNAL(s_from_q && s_to_q && s_to_p && s_from_q->ntt && s_to_q->ntt &&
                        s_to_p->ntt && s_from_q->limbs >= (size_t)k->level + 1 &&
                        s_to_q->limbs >= (size_t)k->level + 1 &&
                        s_to_p->limbs >= (size_t)ksb->np);
    const size_t n = prm->n;
    const int alpha = prm->alpha, L = k->level;
    hekv__qp_poly t = {0};
    int64_t *e = calloc(n, sizeof *e);
    uint64_t *g = calloc((size_t)prm->nq, sizeof *g);
    hekv_prng eprng;
    int have_prng = 0;
    hekv_status s = (e && g) ? HEKV_OK : HEKV_ERR_NOMEM;
    if (s == HEKV_OK) s = hekv__qp_new(prm, L, ksb->np, &t);
    if (s != HEKV_OK) {
        hekv_err_set(err, s, "generating a switching key: out of memory");
        goto done;
    }
    if ((s = hekv_os_random(k->seed, HEKV_SEED_BYTES, err)) != HEKV_OK) goto done;
    if ((s = hekv_prng_init_os(&eprng, err)) != HEKV_OK) goto done;
    have_prng = 1;
    k->has_seed = 1;
    hekv__swk_expand(k);
    /* views of the secrets at the key's limbs */
    const hekv_poly sfq = hekv__view(s_from_q, L + 1), stq = hekv__view(s_to_q, L + 1);
    const hekv_poly stp = hekv__view(s_to_p, ksb->np);
    for (int j = 0; j < k->ndigits; j++) {
        hekv__qp_poly *b = &k->b[j], *a = &k->a[j];
        /* e_j, sampled once, lifted to Q and P' */
        hekv_sample_gaussian(&eprng, e, n, prm->lit.sigma, HEKV_GAUSS_TAIL);
        hekv_poly_set_small(prm->rq, &b->q, e);
        hekv_poly_set_small(prm->rp, &b->p, e);
        hekv_ring_ntt_fwd(prm->rq, &b->q);
        hekv_ring_ntt_fwd(prm->rp, &b->p);
        /* b_j = e_j - a_j s_to */
        hekv_ring_mul(prm->rq, &t.q, &a->q, &stq);
        hekv_ring_sub(prm->rq, &b->q, &b->q, &t.q);
        hekv_ring_mul(prm->rp, &t.p, &a->p, &stp);
        hekv_ring_sub(prm->rp, &b->p, &b->p, &t.p);
        /* + g_j s' on Q: P' mod q_i on the digit's primes */
        memset(g, 0, (size_t)prm->nq * sizeof *g);
        for (int i = j * alpha; i < (j + 1) * alpha && i <= L; i++) g[i] = ksb->p_mod_q[i];
        hekv_ring_mul_scalar_acc(prm->rq, &b->q, &sfq, g);
    }
    s = HEKV_OK;
done:
    if (have_prng) hekv_prng_wipe(&eprng);
    if (e) hekv_memzero(e, n * sizeof *e);
    free(e);
    free(g);
    hekv__qp_free(&t);
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
        hekv_status s = hekv__qp_new(prm, prm->nq - 1, prm->np, &d->d[j]);
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
static void modup_coef(hekv_eval *ev, hekv__decomp *d, const hekv__ksb *ksb, const hekv_poly *c,
                       const hekv_poly *c2, int level) {
    const hekv_ckks_params *prm = ev->params;
    const size_t n = prm->n;
    const int alpha = prm->alpha, ndig = level / alpha + 1;
    uint64_t *scratch = ev->bconv_scratch;
    HEKV_DASSERT(c->ntt && c->limbs >= (size_t)level + 1 && ndig <= d->ndigits);

    hekv_poly coef = hekv__lv(&ev->acc0.q, level);
    hekv_ring_ntt_inv_from(ev->rq, &coef, c, c2);
    for (int j = 0; j < ndig; j++) {
        const int start = j * alpha;
        const int k = level + 1 - start < alpha ? level + 1 - start : alpha;
        const int end = start + k; /* digit limbs [start, end) */
        const hekv__modup_plan *mp = &ksb->modup[j * alpha + k - 1];
        const uint64_t *in = coef.c + (size_t)start * n;
        const hekv_bconv *plan[3];
        uint64_t *dst[3];
        int cnt[3], np_ = 0;
        if (start > 0) plan[np_] = mp->lo, dst[np_] = d->d[j].q.c, cnt[np_++] = start;
        if (end <= level)
            plan[np_] = mp->hi, dst[np_] = d->d[j].q.c + (size_t)end * n,
            cnt[np_++] = level + 1 - end;
        plan[np_] = mp->p, dst[np_] = d->d[j].p.c, cnt[np_++] = ksb->np;
        hekv_bconv_apply_multi(plan, dst, cnt, np_, in, scratch, 1, ev->threads);
    }
    d->level = level;
    ev->counts.modups++;
}

void hekv__decompose(hekv_eval *ev, hekv__decomp *d, const hekv_poly *c, int level) {
    const hekv_ckks_params *prm = ev->params;
    const size_t n = prm->n, limb = n * sizeof(uint64_t);
    const int alpha = prm->alpha, ndig = level / alpha + 1;
    modup_coef(ev, d, &prm->ksb, c, NULL, level);
    for (int j = 0; j < ndig; j++) {
        const int start = j * alpha;
        const int end = level + 1 < start + alpha ? level + 1 : start + alpha;
        hekv_poly q = hekv__lv(&d->d[j].q, level);
        /* the digit's own limbs are c's: already exact and in NTT form */
        memcpy(q.c + (size_t)start * n, c->c + (size_t)start * n, (size_t)(end - start) * limb);
        if (start > 0) hekv_ring_ntt_fwd_range(ev->rq, &q, 0, (size_t)start);
        if (end <= level) hekv_ring_ntt_fwd_range(ev->rq, &q, (size_t)end, (size_t)level + 1);
        hekv_ring_ntt_fwd(ev->rp, &d->d[j].p);
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
                     const hekv_poly *own, const hekv_poly *own2, int coef, const hekv_swk *k,
                     const uint32_t *out_map, const hekv_ring_ks_add *add) {
    const hekv_ckks_params *prm = ev->params;
    const hekv__ksb *ksb = k->ksb;
    const int level = d->level, alpha = prm->alpha, ndig = level / alpha + 1, np = ksb->np;
    HEKV_DASSERT(level >= 0 && level <= k->level && ndig <= k->ndigits &&
                 ndig <= HEKV_RING_KS_MAX_DIGITS);
    hekv_poly dq[HEKV_RING_KS_MAX_DIGITS], dp[HEKV_RING_KS_MAX_DIGITS];
    hekv_poly *dqp[HEKV_RING_KS_MAX_DIGITS], *dpp[HEKV_RING_KS_MAX_DIGITS];
    const hekv_poly *bq[HEKV_RING_KS_MAX_DIGITS], *bp[HEKV_RING_KS_MAX_DIGITS];
    const hekv_poly *aq[HEKV_RING_KS_MAX_DIGITS], *ap[HEKV_RING_KS_MAX_DIGITS];
    int own_b[HEKV_RING_KS_MAX_DIGITS], own_e[HEKV_RING_KS_MAX_DIGITS];
    for (int j = 0; j < ndig; j++) {
        dq[j] = hekv__lv(&d->d[j].q, level);
        dp[j] = hekv__view(&d->d[j].p, np);
        dqp[j] = &dq[j], dpp[j] = &dp[j];
        bq[j] = &k->b[j].q, bp[j] = &k->b[j].p;
        aq[j] = &k->a[j].q, ap[j] = &k->a[j].p;
        own_b[j] = j * alpha;
        own_e[j] = level + 1 < (j + 1) * alpha ? level + 1 : (j + 1) * alpha;
    }
    /* P side: the product, back to coefficients */
    hekv_poly p0 = hekv__view(&ev->acc0.p, np), p1 = hekv__view(&ev->acc1.p, np);
    const hekv_ring_ks_args ksp = {ndig, dpp, coef, NULL, NULL, NULL, NULL, bp, ap};
    hekv_ring_ks_dot_inv(ev->rp, &p0, &p1, &ksp);
    /* conv_{P->Q} of both, centred (ModDown rounds) */
    hekv_poly c0 = hekv__lv(&ev->acc0.q, level), c1 = hekv__lv(&ev->acc1.q, level);
    const hekv_bconv *md[2] = {ksb->moddown, ksb->moddown};
    const int cnt = level + 1;
    hekv_bconv_apply_multi(md, &c0.c, &cnt, 1, p0.c, ev->bconv_scratch, 1, ev->threads);
    hekv_bconv_apply_multi(md + 1, &c1.c, &cnt, 1, p1.c, ev->bconv_scratch, 1, ev->threads);
    /* Q side: the product, minus the conversion, times P'^-1 */
    const hekv_ring_ks_args ksq = {ndig, dqp, coef, own, own2, own_b, own_e, bq, aq};
    hekv_poly o0 = hekv__lv(out0, level), o1 = hekv__lv(out1, level);
    hekv_ring_ks_dot_moddown(ev->rq, &o0, &o1, &ksq, &c0, &c1, ksb->p_inv_mod_q, add, out_map);
    out0->ntt = out1->ntt = 1;
    ev->counts.keyswitches++;
    ev->counts.moddowns++;
}

void hekv__keyswitch_decomp(hekv_eval *ev, hekv_poly *out0, hekv_poly *out1,
                            const hekv__decomp *d, const hekv_swk *k, uint64_t galois) {
    hekv__keyswitch_decomp_add(ev, out0, out1, d, k, galois, NULL);
}

void hekv__keyswitch_decomp_add(hekv_eval *ev, hekv_poly *out0, hekv_poly *out1,
                                const hekv__decomp *d, const hekv_swk *k, uint64_t galois,
                                const hekv_ring_ks_add *add) {
    HEKV_DASSERT(k->ksb == &ev->params->ksb);
    const uint32_t *map = galois != 1 ? hekv__galois_map(ev, galois) : NULL;
    ks_apply(ev, out0, out1, d, NULL, NULL, 0, k, map, add);
}

void hekv__keyswitch_add(hekv_eval *ev, hekv_poly *out0, hekv_poly *out1, const hekv_poly *c,
                         const hekv_poly *c2, int level, const hekv_swk *k,
                         const uint32_t *out_map, const hekv_ring_ks_add *add) {
    /* Not hoisted: the digits stay in coefficient form until the fused pass transforms
     * each limb right before its product, and their own limbs are formed from c as they
     * are read. */
    hekv_poly cv = hekv__lv(c, level), c2v = c2 ? hekv__lv(c2, level) : cv;
    modup_coef(ev, &ev->dec, k->ksb, &cv, c2 ? &c2v : NULL, level);
    ks_apply(ev, out0, out1, &ev->dec, &cv, c2 ? &c2v : NULL, 1, k, out_map, add);
    ev->dec.level = -1; /* transformed in part, and without its own limbs: no decomposition */
}

void hekv__keyswitch(hekv_eval *ev, hekv_poly *out0, hekv_poly *out1, const hekv_poly *c,
                     int level, const hekv_swk *k) {
    hekv__keyswitch_add(ev, out0, out1, c, NULL, level, k, NULL, NULL);
}

/* ------------------------------------------------------------------ double hoisting */

void hekv__ks_product(hekv_eval *ev, hekv__qp_poly *out0, hekv__qp_poly *out1,
                      const hekv__decomp *d, const hekv_swk *k) {
    const hekv_ckks_params *prm = ev->params;
    const hekv__ksb *ksb = k->ksb;
    const int level = d->level, alpha = prm->alpha, ndig = level / alpha + 1, np = ksb->np;
    HEKV_DASSERT(level >= 0 && level <= k->level && ndig <= k->ndigits && k->ksb == &prm->ksb);
    hekv_poly dq[HEKV_RING_KS_MAX_DIGITS], dp[HEKV_RING_KS_MAX_DIGITS];
    hekv_poly *dqp[HEKV_RING_KS_MAX_DIGITS], *dpp[HEKV_RING_KS_MAX_DIGITS];
    const hekv_poly *bq[HEKV_RING_KS_MAX_DIGITS], *bp[HEKV_RING_KS_MAX_DIGITS];
    const hekv_poly *aq[HEKV_RING_KS_MAX_DIGITS], *ap[HEKV_RING_KS_MAX_DIGITS];
    for (int j = 0; j < ndig; j++) {
        dq[j] = hekv__lv(&d->d[j].q, level);
        dp[j] = hekv__view(&d->d[j].p, np);
        dqp[j] = &dq[j], dpp[j] = &dp[j];
        bq[j] = &k->b[j].q, bp[j] = &k->b[j].p;
        aq[j] = &k->a[j].q, ap[j] = &k->a[j].p;
    }
    const hekv_ring_ks_args ksq = {ndig, dqp, 0, NULL, NULL, NULL, NULL, bq, aq};
    const hekv_ring_ks_args ksp = {ndig, dpp, 0, NULL, NULL, NULL, NULL, bp, ap};
    hekv_poly o0 = hekv__lv(&out0->q, level), o1 = hekv__lv(&out1->q, level);
    hekv_poly p0 = hekv__view(&out0->p, np), p1 = hekv__view(&out1->p, np);
    hekv_ring_ks_dot(ev->rq, &o0, &o1, &ksq);
    hekv_ring_ks_dot(ev->rp, &p0, &p1, &ksp);
    out0->q.ntt = out1->q.ntt = out0->p.ntt = out1->p.ntt = 1;
    ev->counts.keyswitches++;
}

void hekv__moddown(hekv_eval *ev, hekv_poly *out, const hekv__qp_poly *in, int level) {
    const hekv__ksb *ksb = &ev->params->ksb;
    hekv_poly p = hekv__view(&ev->acc0.p, ksb->np), pin = hekv__view(&in->p, ksb->np);
    hekv_ring_ntt_inv_from(ev->rp, &p, &pin, NULL);
    hekv_poly conv = hekv__lv(&ev->acc0.q, level);
    const int cnt = level + 1;
    hekv_bconv_apply_multi((const hekv_bconv *const *)&ksb->moddown, &conv.c, &cnt, 1, p.c,
                           ev->bconv_scratch, 1, ev->threads);
    conv.ntt = 0;
    hekv_ring_ntt_fwd(ev->rq, &conv);
    hekv_poly iq = hekv__lv(&in->q, level), o = hekv__lv(out, level);
    hekv_ring_sub_mul_scalar(ev->rq, &o, &iq, &conv, ksb->p_inv_mod_q);
    out->ntt = 1;
    ev->counts.moddowns++;
}
