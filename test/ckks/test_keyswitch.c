/* test_keyswitch.c: hybrid key switching at the polynomial level, independent of the
 * encoder: the generated switching keys (b_j + a_j s - g_j s' must be the small error
 * e_j, and a_j must re-expand from the seed), and the switch itself: for random c at every
 * level (including level 0 and levels where the last digit is partial), the output
 * (o0, o1) must satisfy o0 + o1 s = c s' + e with e small, for a key from another secret,
 * the relinearisation key (s' = s^2) and Galois keys (s' = s(X^g), the digits permuted:
 * o0 + o1 s = phi(c) phi(s) + e, and bit-identical to switching phi(c)). The ring
 * operations key switching added are tested in test/ring/test_ring_ks.c. */
#include <math.h>
#include <string.h>

#include "kernels/automorph.h"
#include "src/ckks/ckks_int.h"
#include "test/ckks/ckks_fixture.h"

/* Key-switching noise, a 6-sigma heuristic bound on ||o0 + o1 s - c s'||_inf (Han-Ki 2020,
 * Lemma 3 shape): the ModUp term sum_j D_j e_j / P (D_j < alpha Q_j, e_j of deviation
 * sigma) has deviation <= sqrt(N) sigma alpha sqrt(dnum) max_j Q_j / P; ModDown adds
 * [acc1]_P s / P and the conversion overflow u s (u < np), deviation <= sqrt(N) (np + 1).
 * A wrong switch gives values near Q/2, so the bound separates sharply. */
static double ks_noise_bound_np(const hekv_ckks_params *p, int np, int level) {
    double logp = 0, maxdigit = 0;
    for (int i = 0; i < np; i++) logp += log2((double)hekv_ring_modulus(p->rp, i)->q);
    for (int j = 0; j * p->alpha <= level; j++) {
        double d = 0;
        for (int i = j * p->alpha; i < (j + 1) * p->alpha && i <= level; i++)
            d += log2((double)hekv_ring_modulus(p->rq, i)->q);
        maxdigit = d > maxdigit ? d : maxdigit;
    }
    return 6.0 * sqrt((double)p->n) *
           (HEKV_GAUSS_SIGMA * p->alpha * sqrt((double)p->dnum) * exp2(maxdigit - logp) + np +
            1);
}
static double ks_noise_bound(const hekv_ckks_params *p) {
    return ks_noise_bound_np(p, p->np, p->nq - 1);
}
/* Each coefficient of a key's error e_j is a discrete Gaussian cut at 6 sigma. */
#define KEY_ERR_BOUND 19

/* toy-N12 reshaped to 7 limbs and dnum 3 (alpha 3: digits of 3, 3 and 1 primes), so the
 * top level itself has a partial last digit. */
static hekv_ckks_params *params_partial(void) {
    hekv_ckks_params_lit lit;
    hekv_err err;
    cr_assert_eq(hekv_ckks_params_lit_named("toy-N12", &lit, &err), HEKV_OK, "%s", err.msg);
    snprintf(lit.name, sizeof lit.name, "toy-ks-partial");
    lit.nq = 7;
    lit.dnum = 3;
    lit.np = 3;
    lit.logp[2] = lit.logp[0];
    return params_from_lit(&lit, 0);
}

static hekv_sk *sk_of(const hekv_ckks_params *p) {
    hekv_sk *sk = NULL;
    hekv_err err;
    cr_assert_eq(hekv_ckks_sk_new(p, &sk, &err), HEKV_OK, "%s", err.msg);
    return sk;
}

static hekv_eval *eval_of(const hekv_ckks_params *p, const hekv_evk *evk) {
    hekv_eval *ev = NULL;
    hekv_err err;
    cr_assert_eq(hekv_ckks_eval_new(p, evk, &ev, &err), HEKV_OK, "%s", err.msg);
    return ev;
}

static void random_limbs(const hekv_ring *r, hekv_poly *p, size_t limbs, test_rng *g) {
    for (size_t i = 0; i < limbs; i++)
        test_fill(g, p->c + i * p->n, p->n, hekv_ring_modulus(r, (int)i)->q);
}

static hekv_poly view(const hekv_poly *p, size_t limbs) {
    hekv_poly v = *p;
    v.limbs = limbs;
    return v;
}

/* max |e| over the coefficients of e (coefficient form, `limbs` limbs of r), reading each
 * coefficient as the centred residue mod r's prime 0 and requiring every other limb to
 * agree with it (true exactly when the integer is that small); INFINITY otherwise. */
static double small_norm(const hekv_ring *r, const hekv_poly *e, size_t limbs) {
    const size_t n = e->n;
    double mx = 0;
    const uint64_t q0 = hekv_ring_modulus(r, 0)->q;
    for (size_t x = 0; x < n; x++) {
        uint64_t v = e->c[x];
        int64_t c = v > q0 / 2 ? -(int64_t)(q0 - v) : (int64_t)v;
        for (size_t i = 1; i < limbs; i++) {
            uint64_t qi = hekv_ring_modulus(r, (int)i)->q;
            uint64_t want = c < 0 ? qi - (uint64_t)(-c) % qi : (uint64_t)c % qi;
            if (want == qi) want = 0;
            if (e->c[i * n + x] != want) return INFINITY;
        }
        double a = fabs((double)c);
        if (a > mx) mx = a;
    }
    return mx;
}

/* ||o0 + o1 s - target||_inf over Q limbs 0..l, all inputs in NTT form. */
static double switch_noise(const hekv_ckks_params *p, const hekv_poly *o0, const hekv_poly *o1,
                           const hekv_poly *s, const hekv_poly *target, int l) {
    hekv_poly e;
    cr_assert_eq(hekv_poly_new(p->rq, (size_t)l + 1, &e), HEKV_OK);
    hekv_poly a0 = view(o0, (size_t)l + 1);
    hekv_ring_mul(p->rq, &e, o1, s);
    hekv_ring_add(p->rq, &e, &e, &a0);
    hekv_ring_sub(p->rq, &e, &e, target);
    e.ntt = 1;
    hekv_ring_ntt_inv(p->rq, &e);
    double nrm = small_norm(p->rq, &e, (size_t)l + 1);
    hekv_poly_free(&e);
    return nrm;
}

/* b_j + a_j s - g_j s' = e_j, small and identical on Q and P (one sample lifted). */
static void check_key(const hekv_ckks_params *p, const hekv_sk *sk, const hekv_swk *k,
                      const hekv_poly *sq_from) {
    const int L = k->level, np = k->ksb->np;
    hekv_poly eq, ep;
    cr_assert_eq(hekv_poly_new(p->rq, (size_t)L + 1, &eq), HEKV_OK);
    cr_assert_eq(hekv_poly_new(p->rp, (size_t)np, &ep), HEKV_OK);
    uint64_t gj[HEKV_CKKS_MAX_Q];
    cr_assert_eq(k->ndigits, L / p->alpha + 1);
    const hekv_poly sq = view(&sk->sq, (size_t)L + 1), sp = view(&sk->sp, (size_t)np);
    const hekv_poly sf = view(sq_from, (size_t)L + 1);
    for (int j = 0; j < k->ndigits; j++) {
        hekv_ring_mul(p->rq, &eq, &k->a[j].q, &sq);
        hekv_ring_add(p->rq, &eq, &eq, &k->b[j].q);
        for (int i = 0; i <= L; i++)
            gj[i] = i / p->alpha == j
                        ? hekv_mod_neg(k->ksb->p_mod_q[i], hekv_ring_modulus(p->rq, i)->q)
                        : 0;
        hekv_ring_mul_scalar_acc(p->rq, &eq, &sf, gj);
        hekv_ring_mul(p->rp, &ep, &k->a[j].p, &sp);
        hekv_ring_add(p->rp, &ep, &ep, &k->b[j].p);
        eq.ntt = ep.ntt = 1;
        hekv_ring_ntt_inv(p->rq, &eq);
        hekv_ring_ntt_inv(p->rp, &ep);
        double nq_ = small_norm(p->rq, &eq, (size_t)L + 1);
        double np_ = small_norm(p->rp, &ep, (size_t)np);
        cr_assert_leq(nq_, KEY_ERR_BOUND, "digit %d: ||e_j|| on Q = %g", j, nq_);
        cr_assert_leq(np_, KEY_ERR_BOUND, "digit %d: ||e_j|| on P = %g", j, np_);
        /* the same e_j on both: compare the centred residues mod q_0 and p_0 */
        const uint64_t q0 = hekv_ring_modulus(p->rq, 0)->q, p0 = hekv_ring_modulus(p->rp, 0)->q;
        for (size_t x = 0; x < p->n; x++) {
            int64_t a = eq.c[x] > q0 / 2 ? -(int64_t)(q0 - eq.c[x]) : (int64_t)eq.c[x];
            int64_t b = ep.c[x] > p0 / 2 ? -(int64_t)(p0 - ep.c[x]) : (int64_t)ep.c[x];
            cr_assert_eq(a, b, "digit %d coefficient %zu: e on Q %lld, on P %lld", j, x,
                         (long long)a, (long long)b);
        }
    }
    hekv_poly_free(&eq);
    hekv_poly_free(&ep);
}

/* A switching key from `from` to `to` at max_level with `special` special primes. */
static hekv_swk *swk_of(const hekv_sk *from, const hekv_sk *to, int max_level, int special) {
    hekv_swk *k = NULL;
    hekv_err err;
    cr_assert_eq(hekv_ckks_swk_new(from, to, max_level, special, &k, &err), HEKV_OK, "%s",
                 err.msg);
    return k;
}

Test(ckks_keyswitch, key_structure_and_seed_expansion) {
    hekv_ckks_params *p = params_partial();
    hekv_sk *sk = sk_of(p), *sk2 = sk_of(p);
    /* every shape: the top level, a lower level (fewer digits and limbs), one special prime */
    const int shapes[3][2] = {{-1, 0}, {3, 0}, {0, 1}};
    for (int t = 0; t < 3; t++) {
        hekv_swk *k = swk_of(sk2, sk, shapes[t][0], shapes[t][1]);
        cr_assert(k->has_seed);
        cr_assert_eq(k->level, shapes[t][0] < 0 ? p->nq - 1 : shapes[t][0]);
        cr_assert_eq(k->ksb->np, shapes[t][1] ? shapes[t][1] : p->np);
        cr_assert_eq(hekv_ckks_swk_bytes(k), (size_t)k->ndigits * 2 *
                                                 (size_t)(k->level + 1 + k->ksb->np) * p->n * 8);
        check_key(p, sk, k, &sk2->sq);
        /* a_j re-expands from the seed, bit for bit */
        hekv__qp_poly keep;
        cr_assert_eq(hekv__qp_new(p, k->level, k->ksb->np, &keep), HEKV_OK);
        for (int j = 0; j < k->ndigits; j++) {
            hekv_poly_copy(p->rq, &keep.q, &k->a[j].q);
            hekv_poly_copy(p->rp, &keep.p, &k->a[j].p);
            hekv_poly_zero(p->rq, &k->a[j].q);
            hekv_poly_zero(p->rp, &k->a[j].p);
            hekv__swk_expand(k);
            cr_assert_eq(memcmp(keep.q.c, k->a[j].q.c, keep.q.limbs * p->n * 8), 0, "a_%d Q", j);
            cr_assert_eq(memcmp(keep.p.c, k->a[j].p.c, keep.p.limbs * p->n * 8), 0, "a_%d P", j);
        }
        hekv__qp_free(&keep);
        hekv_ckks_swk_free(k);
    }
    hekv_err err;
    hekv_swk *k = NULL;
    cr_assert_eq(hekv_ckks_swk_new(sk2, sk, p->nq, 0, &k, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_swk_new(sk2, sk, 0, p->np + 1, &k, &err), HEKV_ERR_ARG);
    cr_assert_null(k);
    hekv_ckks_sk_free(sk);
    hekv_ckks_sk_free(sk2);
    hekv_ckks_params_free(p);
}

/* A switch from sk2 to sk at every level: noise within the bound. */
static void switch_every_level(hekv_ckks_params *p, uint64_t salt) {
    hekv_sk *sk = sk_of(p), *sk2 = sk_of(p);
    hekv_swk *k = swk_of(sk2, sk, -1, 0);
    hekv_eval *ev = eval_of(p, NULL);
    test_rng g = test_rng_new(salt);
    hekv_poly c, o0, o1, t;
    cr_assert_eq(hekv_poly_new(p->rq, (size_t)p->nq, &c), HEKV_OK);
    cr_assert_eq(hekv_poly_new(p->rq, (size_t)p->nq, &o0), HEKV_OK);
    cr_assert_eq(hekv_poly_new(p->rq, (size_t)p->nq, &o1), HEKV_OK);
    cr_assert_eq(hekv_poly_new(p->rq, (size_t)p->nq, &t), HEKV_OK);
    const double bound = ks_noise_bound(p);
    double worst = 0;
    for (int l = 0; l < p->nq; l++) {
        random_limbs(p->rq, &c, (size_t)l + 1, &g);
        c.ntt = 1;
        hekv__keyswitch(ev, &o0, &o1, &c, l, k);
        cr_assert(o0.ntt && o1.ntt);
        hekv_poly tv = view(&t, (size_t)l + 1);
        hekv_ring_mul(p->rq, &tv, &c, &sk2->sq);
        double e = switch_noise(p, &o0, &o1, &sk->sq, &tv, l);
        cr_assert_leq(e, bound, "%s level %d (%d digits): noise %g > bound %g", p->lit.name, l,
                      l / p->alpha + 1, e, bound);
        if (e > worst) worst = e;
    }
    cr_log_info("%s: key-switch noise max %g (bound %g)", p->lit.name, worst, bound);
    hekv_poly_free(&c);
    hekv_poly_free(&o0);
    hekv_poly_free(&o1);
    hekv_poly_free(&t);
    hekv_ckks_eval_free(ev);
    hekv_ckks_swk_free(k);
    hekv_ckks_sk_free(sk);
    hekv_ckks_sk_free(sk2);
    hekv_ckks_params_free(p);
}

Test(ckks_keyswitch, every_level_toy_n12) { switch_every_level(params_named("toy-N12"), 2); }
Test(ckks_keyswitch, every_level_partial_top_digit) { switch_every_level(params_partial(), 3); }
Test(ckks_keyswitch, every_level_toy_n13) { switch_every_level(params_named("toy-N13"), 4); }

/* The relinearisation key of keys.c: o0 + o1 s = c s^2 + e. */
Test(ckks_keyswitch, relin_key_every_level) {
    hekv_ckks_params *p = params_named("toy-N12");
    hekv_sk *sk = sk_of(p);
    hekv_evk *evk = NULL;
    hekv_err err;
    cr_assert_eq(hekv_ckks_evk_new(p, &evk, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_evk_gen_relin(evk, sk, -1, &err), HEKV_OK, "%s", err.msg);
    hekv_eval *ev = eval_of(p, evk);
    test_rng g = test_rng_new(5);
    hekv_poly c, o0, o1, t;
    cr_assert_eq(hekv_poly_new(p->rq, (size_t)p->nq, &c), HEKV_OK);
    cr_assert_eq(hekv_poly_new(p->rq, (size_t)p->nq, &o0), HEKV_OK);
    cr_assert_eq(hekv_poly_new(p->rq, (size_t)p->nq, &o1), HEKV_OK);
    cr_assert_eq(hekv_poly_new(p->rq, (size_t)p->nq, &t), HEKV_OK);
    for (int l = p->nq - 1; l >= 0; l--) {
        random_limbs(p->rq, &c, (size_t)l + 1, &g);
        c.ntt = 1;
        hekv__keyswitch(ev, &o0, &o1, &c, l, evk->relin);
        hekv_poly tv = view(&t, (size_t)l + 1);
        hekv_ring_mul(p->rq, &tv, &c, &sk->sq);
        hekv_ring_mul(p->rq, &tv, &tv, &sk->sq);
        double e = switch_noise(p, &o0, &o1, &sk->sq, &tv, l);
        cr_assert_leq(e, ks_noise_bound(p), "level %d: noise %g", l, e);
    }
    hekv_poly_free(&c);
    hekv_poly_free(&o0);
    hekv_poly_free(&o1);
    hekv_poly_free(&t);
    hekv_ckks_eval_free(ev);
    hekv_ckks_evk_free(evk);
    hekv_ckks_sk_free(sk);
    hekv_ckks_params_free(p);
}

/* Galois keys (from s to phi^-1(s)) with the automorphism applied to the switch's output:
 * o0 + o1 s = phi(c) phi(s) + e from a decomposition (hoisting); and the switch that is not
 * hoisted (hekv__keyswitch_add with the map) gives exactly the same output. */
Test(ckks_keyswitch, galois_on_digits_every_level) {
    hekv_ckks_params *p = params_partial();
    hekv_sk *sk = sk_of(p);
    hekv_evk *evk = NULL;
    hekv_err err;
    const uint64_t gal[2] = {hekv_ckks_galois_rot(p, 3), hekv_ckks_galois_conj(p)};
    cr_assert_eq(hekv_ckks_evk_new(p, &evk, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_evk_gen_galois(evk, sk, gal, 2, -1, &err), HEKV_OK, "%s", err.msg);
    hekv_eval *ev = eval_of(p, evk);
    test_rng g = test_rng_new(6);
    uint32_t *map = malloc(p->n * sizeof *map);
    hekv_poly c, pc, o0, o1, r0, r1, t, ps;
    cr_assert_eq(hekv_poly_new(p->rq, (size_t)p->nq, &r0), HEKV_OK);
    cr_assert_eq(hekv_poly_new(p->rq, (size_t)p->nq, &r1), HEKV_OK);
    cr_assert_eq(hekv_poly_new(p->rq, (size_t)p->nq, &c), HEKV_OK);
    cr_assert_eq(hekv_poly_new(p->rq, (size_t)p->nq, &pc), HEKV_OK);
    cr_assert_eq(hekv_poly_new(p->rq, (size_t)p->nq, &o0), HEKV_OK);
    cr_assert_eq(hekv_poly_new(p->rq, (size_t)p->nq, &o1), HEKV_OK);
    cr_assert_eq(hekv_poly_new(p->rq, (size_t)p->nq, &t), HEKV_OK);
    cr_assert_eq(hekv_poly_new(p->rq, (size_t)p->nq, &ps), HEKV_OK);
    hekv__decomp dec;
    cr_assert_eq(hekv__decomp_new(p, &dec), HEKV_OK);
    for (int gi = 0; gi < 2; gi++) {
        const hekv_swk *k = hekv__evk_find(evk, gal[gi]);
        cr_assert_not_null(k);
        cr_assert_eq(hekv_automorph_map_ntt(map, p->logn, gal[gi]), HEKV_KERN_OK);
        hekv_ring_automorph(p->rq, &ps, &sk->sq, map);
        for (int l = 0; l < p->nq; l++) {
            random_limbs(p->rq, &c, (size_t)l + 1, &g);
            c.ntt = 1;
            hekv_poly cv = view(&c, (size_t)l + 1), pcv = view(&pc, (size_t)l + 1);
            hekv_ring_automorph(p->rq, &pcv, &cv, map);
            pc.ntt = 1;
            hekv_poly tv = view(&t, (size_t)l + 1);
            hekv_ring_mul(p->rq, &tv, &pcv, &ps);
            hekv__decompose(ev, &dec, &c, l);
            hekv__keyswitch_decomp(ev, &o0, &o1, &dec, k, gal[gi]);
            double e = switch_noise(p, &o0, &o1, &sk->sq, &tv, l);
            cr_assert_leq(e, ks_noise_bound(p), "g %llu level %d: noise %g",
                          (unsigned long long)gal[gi], l, e);
            /* the switch that is not hoisted gives the same bits (hoisted rotations equal
             * plain ones) */
            hekv__keyswitch_add(ev, &r0, &r1, &c, NULL, l, k, map, NULL);
            const size_t w = ((size_t)l + 1) * p->n * sizeof(uint64_t);
            cr_assert_eq(memcmp(o0.c, r0.c, w), 0, "g %llu level %d: not hoisted differs (c0)",
                         (unsigned long long)gal[gi], l);
            cr_assert_eq(memcmp(o1.c, r1.c, w), 0, "g %llu level %d: not hoisted differs (c1)",
                         (unsigned long long)gal[gi], l);
        }
    }
    hekv__decomp_free(&dec);
    hekv_poly_free(&c);
    hekv_poly_free(&pc);
    hekv_poly_free(&r0);
    hekv_poly_free(&r1);
    hekv_poly_free(&o0);
    hekv_poly_free(&o1);
    hekv_poly_free(&t);
    hekv_poly_free(&ps);
    free(map);
    hekv_ckks_eval_free(ev);
    hekv_ckks_evk_free(evk);
    hekv_ckks_sk_free(sk);
    hekv_ckks_params_free(p);
}

/* A decomposition is reusable: switching it twice gives the same output (hoisting relies
 * on keyswitch_decomp leaving d untouched). */
Test(ckks_keyswitch, decomposition_is_reusable) {
    hekv_ckks_params *p = params_named("toy-N12");
    hekv_sk *sk = sk_of(p);
    hekv_evk *evk = NULL;
    hekv_err err;
    cr_assert_eq(hekv_ckks_evk_new(p, &evk, &err), HEKV_OK, "%s", err.msg);
    const long rots[2] = {1, 7};
    cr_assert_eq(hekv_ckks_evk_gen_rotations(evk, sk, rots, 2, 0, -1, &err), HEKV_OK, "%s", err.msg);
    hekv_eval *ev = eval_of(p, evk);
    test_rng g = test_rng_new(7);
    hekv_poly c, a0, a1, b0, b1;
    cr_assert_eq(hekv_poly_new(p->rq, (size_t)p->nq, &c), HEKV_OK);
    cr_assert_eq(hekv_poly_new(p->rq, (size_t)p->nq, &a0), HEKV_OK);
    cr_assert_eq(hekv_poly_new(p->rq, (size_t)p->nq, &a1), HEKV_OK);
    cr_assert_eq(hekv_poly_new(p->rq, (size_t)p->nq, &b0), HEKV_OK);
    cr_assert_eq(hekv_poly_new(p->rq, (size_t)p->nq, &b1), HEKV_OK);
    const int l = 5;
    random_limbs(p->rq, &c, (size_t)l + 1, &g);
    c.ntt = 1;
    uint64_t g1 = hekv_ckks_galois_rot(p, 1), g7 = hekv_ckks_galois_rot(p, 7);
    hekv__decompose(ev, &ev->dec, &c, l);
    hekv__keyswitch_decomp(ev, &a0, &a1, &ev->dec, hekv__evk_find(evk, g1), g1);
    hekv__keyswitch_decomp(ev, &b0, &b1, &ev->dec, hekv__evk_find(evk, g7), g7);
    hekv__keyswitch_decomp(ev, &b0, &b1, &ev->dec, hekv__evk_find(evk, g1), g1);
    const size_t w = ((size_t)l + 1) * p->n * 8;
    cr_assert_eq(memcmp(a0.c, b0.c, w), 0);
    cr_assert_eq(memcmp(a1.c, b1.c, w), 0);
    hekv_poly_free(&c);
    hekv_poly_free(&a0);
    hekv_poly_free(&a1);
    hekv_poly_free(&b0);
    hekv_poly_free(&b1);
    hekv_ckks_eval_free(ev);
    hekv_ckks_evk_free(evk);
    hekv_ckks_sk_free(sk);
    hekv_ckks_params_free(p);
}

/* Keys of a lower level or fewer special primes switch correctly at every level they
 * reach: a key to level 3 (fewer digits, fewer limbs) and a key at level 0 in q_0 p_0 only
 * (the shape of sparse-secret encapsulation), each within its own noise bound. */
Test(ckks_keyswitch, reduced_keys_switch_at_their_levels) {
    hekv_ckks_params *p = params_partial();
    hekv_sk *sk = sk_of(p), *sk2 = sk_of(p);
    hekv_eval *ev = eval_of(p, NULL);
    test_rng g = test_rng_new(9);
    hekv_poly c, o0, o1, t;
    cr_assert_eq(hekv_poly_new(p->rq, (size_t)p->nq, &c), HEKV_OK);
    cr_assert_eq(hekv_poly_new(p->rq, (size_t)p->nq, &o0), HEKV_OK);
    cr_assert_eq(hekv_poly_new(p->rq, (size_t)p->nq, &o1), HEKV_OK);
    cr_assert_eq(hekv_poly_new(p->rq, (size_t)p->nq, &t), HEKV_OK);
    const int shapes[3][2] = {{3, 0}, {0, 1}, {4, 2}};
    for (int sh = 0; sh < 3; sh++) {
        hekv_swk *k = swk_of(sk2, sk, shapes[sh][0], shapes[sh][1]);
        for (int l = 0; l <= k->level; l++) {
            random_limbs(p->rq, &c, (size_t)l + 1, &g);
            c.ntt = 1;
            hekv__keyswitch(ev, &o0, &o1, &c, l, k);
            hekv_poly tv = view(&t, (size_t)l + 1), cv = view(&c, (size_t)l + 1);
            hekv_ring_mul(p->rq, &tv, &cv, &sk2->sq);
            const double e = switch_noise(p, &o0, &o1, &sk->sq, &tv, l);
            const double bound = ks_noise_bound_np(p, k->ksb->np, l);
            cr_assert_leq(e, bound, "key to level %d with %d special: level %d noise %g > %g",
                          k->level, k->ksb->np, l, e, bound);
        }
        hekv_ckks_swk_free(k);
    }
    hekv_poly_free(&c);
    hekv_poly_free(&o0);
    hekv_poly_free(&o1);
    hekv_poly_free(&t);
    hekv_ckks_eval_free(ev);
    hekv_ckks_sk_free(sk);
    hekv_ckks_sk_free(sk2);
    hekv_ckks_params_free(p);
}

/* The public switch between secrets: a ciphertext under sk2 decrypts under sk after
 * hekv_ckks_eval_keyswitch, at every level the key reaches, in place too; above the key's
 * level it is refused. A sparse ephemeral secret and the q_0 p_0 key of encapsulation. */
Test(ckks_keyswitch, public_keyswitch_between_secrets) {
    ctx c = ctx_new_keys("toy-N12", 0, 0, NULL, 0);
    hekv_err err;
    hekv_sk *sparse = NULL;
    cr_assert_eq(hekv_ckks_sk_new_sparse(c.p, 32, &sparse, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_sk_hamming_weight(sparse), 32);
    cr_assert_eq(hekv_ckks_sk_new_sparse(c.p, 0, &sparse, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_sk_new_sparse(c.p, 32, &sparse, &err), HEKV_OK, "%s", err.msg);
    test_rng g = test_rng_new(10);
    double *x = malloc(c.slots * sizeof *x);
    fill(&g, x, c.slots, -1, 1);
    /* to the sparse secret at level 0 in q_0 p_0, and back at the top */
    hekv_swk *down = swk_of(c.sk, sparse, 0, 1), *up = swk_of(sparse, c.sk, -1, 0);
    ctx cs = c;
    cs.sk = sparse;
    for (int l = 0; l <= c.top; l += c.top) {
        hekv_ct *a = ct_encrypt(&c, x, l), *b = ct_new(&c);
        if (l == 0) {
            OK(c.ev, hekv_ckks_eval_keyswitch(c.ev, b, a, down));
            check_ct(&cs, b, x, NULL, 1e-5, "to the sparse secret at level 0");
            OK(c.ev, hekv_ckks_eval_keyswitch(c.ev, b, b, up)); /* in place */
            check_ct(&c, b, x, NULL, 1e-5, "and back");
        } else {
            cr_assert_eq(hekv_ckks_eval_keyswitch(c.ev, b, a, down), HEKV_ERR_LEVEL);
            cr_assert(strstr(hekv_ckks_eval_last_error(c.ev), "level"));
        }
        hekv_ckks_ct_free(a);
        hekv_ckks_ct_free(b);
    }
    /* a tagged key in the bundle is found by its tag and owned by it */
    hekv_evk *evk = NULL;
    cr_assert_eq(hekv_ckks_evk_new(c.p, &evk, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_evk_add_swk(evk, 7, down, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_evk_add_swk(evk, 3, up, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_evk_swk_count(evk), 2);
    cr_assert_eq(hekv_ckks_evk_swk_tag(evk, 0), 3);
    cr_assert_eq(hekv_ckks_evk_swk(evk, 7), down);
    cr_assert_null(hekv_ckks_evk_swk(evk, 5));
    cr_assert_eq(hekv_ckks_evk_bytes(evk), hekv_ckks_swk_bytes(down) + hekv_ckks_swk_bytes(up));
    hekv_ckks_evk_free(evk);
    free(x);
    hekv_ckks_sk_free(sparse);
    ctx_free(&c);
}
