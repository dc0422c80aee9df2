/* test_params.c: CKKS parameter sets: every named set builds, the secure ones without the
 * insecure flag; the security bound refuses what exceeds it; the primes are distinct,
 * = 1 mod 2N, of the requested size and below 2^50; P covers every key-switching digit;
 * the RNS constants and plans are right; fingerprints separate sets; malformed literals
 * are refused with a message; and the sizing helpers shared by the CKKS files. */
#include <math.h>
#include <string.h>

#include "kernels/primes.h"
#include "src/ckks/ckks_int.h"
#include "test/ckks/ckks_fixture.h"

/* One thread: the checks below read the set, not the evaluator. */
static hekv_ckks_params *build_named(const char *name) { return params_named_threads(name, 1); }

static void check_primes(const hekv_ckks_params *p, const hekv_ckks_params_lit *lit) {
    const uint64_t m2n = 2 * (uint64_t)hekv_ckks_params_n(p);
    const int nq = hekv_ckks_params_max_level(p) + 1, np = hekv_ckks_params_np(p);
    uint64_t all[HEKV_CKKS_MAX_Q + HEKV_CKKS_MAX_P];
    int k = 0;
    for (int i = 0; i < nq + np; i++) {
        uint64_t q = i < nq ? hekv_ckks_params_q(p, i) : hekv_ckks_params_p(p, i - nq);
        int bits = i < nq ? lit->logq[i] : lit->logp[i - nq];
        cr_assert(hekv_is_prime(q), "%s: %llu not prime", lit->name, (unsigned long long)q);
        cr_assert_eq(q % m2n, 1, "%s: prime %d not 1 mod 2N", lit->name, i);
        cr_assert_lt(q, 1ULL << HEKV_CKKS_MAX_PRIME_BITS);
        cr_assert(q >> (bits - 1) == 1, "%s: prime %d has not %d bits", lit->name, i, bits);
        for (int j = 0; j < k; j++)
            cr_assert_neq(all[j], q, "%s: prime %d repeats", lit->name, i);
        all[k++] = q;
    }
    cr_assert_eq(hekv_ckks_params_q(p, nq), 0);
    cr_assert_eq(hekv_ckks_params_p(p, -1), 0);
}

Test(ckks_params, every_named_set_builds) {
    for (const char *const *nm = hekv_ckks_params_names(); *nm; nm++) {
        /* The large sets cost ~0.1 s each to build: fine even in the fast suite. */
        hekv_ckks_params_lit lit;
        hekv_err err;
        cr_assert_eq(hekv_ckks_params_lit_named(*nm, &lit, &err), HEKV_OK);
        hekv_ckks_params *p = build_named(*nm);
        cr_assert_str_eq(hekv_ckks_params_name(p), *nm);
        cr_assert_eq(hekv_ckks_params_logn(p), lit.logn);
        cr_assert_eq(hekv_ckks_params_n(p), (size_t)1 << lit.logn);
        cr_assert_eq(hekv_ckks_params_max_slots(p), (size_t)1 << (lit.logn - 1));
        cr_assert_eq(hekv_ckks_params_max_level(p), lit.nq - 1);
        cr_assert_eq(hekv_ckks_params_np(p), lit.np);
        cr_assert_eq(hekv_ckks_params_dnum(p), lit.dnum);
        cr_assert_eq(hekv_ckks_params_threads(p), 1);
        cr_assert_eq(hekv_ckks_params_default_scale(p), ldexp(1.0, lit.log_scale));
        check_primes(p, &lit);
        /* log2(QP) of the real primes, and P >= every digit. */
        double lq = 0, lp = 0, maxd = 0;
        const int alpha = (lit.nq + lit.dnum - 1) / lit.dnum;
        for (int i = 0; i < lit.nq; i++) lq += log2((double)hekv_ckks_params_q(p, i));
        for (int i = 0; i < lit.np; i++) lp += log2((double)hekv_ckks_params_p(p, i));
        for (int j = 0; j < lit.dnum; j++) {
            double d = 0;
            for (int i = j * alpha; i < (j + 1) * alpha && i < lit.nq; i++)
                d += log2((double)hekv_ckks_params_q(p, i));
            maxd = fmax(maxd, d);
        }
        cr_assert_geq(lp, maxd, "%s: P %.3f bits < digit %.3f bits", *nm, lp, maxd);
        cr_assert_lt(fabs(hekv_ckks_params_log_qp(p) - (lq + lp)), 1e-9);
        const int bound = hekv_ckks_security_bound(lit.logn, lit.secret);
        cr_assert_eq(hekv_ckks_params_secure(p), lq + lp <= bound, "%s", *nm);
        const int toy = !strncmp(*nm, "toy-", 4) || !strncmp(*nm, "bench-", 6);
        cr_assert_eq(lit.insecure, toy, "%s: insecure flag %d", *nm, lit.insecure);
        if (!toy) cr_assert(hekv_ckks_params_secure(p), "%s must be secure", *nm);
        cr_assert_eq(hekv_ckks_params_swk_bytes(p),
                     (size_t)lit.dnum * 2 * (lit.nq + lit.np) * hekv_ckks_params_n(p) * 8);
        hekv_ckks_params_free(p);
    }
}

Test(ckks_params, named_shapes) {
    hekv_ckks_params_lit lit;
    hekv_err err;
    cr_assert_eq(hekv_ckks_params_lit_named("toy-N12", &lit, &err), HEKV_OK);
    cr_assert_eq(lit.logn, 12);
    cr_assert_eq(lit.nq, 8);
    cr_assert_eq(lit.logq[0], 50);
    for (int i = 1; i < 8; i++) cr_assert_eq(lit.logq[i], 40);
    cr_assert_eq(lit.np, 2);
    cr_assert_eq(lit.dnum, 4);
    cr_assert_eq(lit.log_scale, 40);
    cr_assert_eq(lit.secret, HEKV_SECRET_TERNARY);
    cr_assert_eq(lit.sigma, HEKV_GAUSS_SIGMA);
    cr_assert_eq(hekv_ckks_params_lit_named("bench-N16-L33", &lit, &err), HEKV_OK);
    cr_assert_eq(lit.nq, 33);
    cr_assert_eq((lit.nq + lit.dnum - 1) / lit.dnum, 11);
    cr_assert_eq(hekv_ckks_params_lit_named("N16-128", &lit, &err), HEKV_OK);
    cr_assert_eq(lit.insecure, 0);
    cr_assert_eq(hekv_ckks_params_lit_named("nope", &lit, &err), HEKV_ERR_ARG);
    cr_assert(strstr(err.msg, "nope") && strstr(err.msg, "toy-N12"), "message: %s", err.msg);
}

Test(ckks_params, security_bound_table) {
    const int want[] = {27, 54, 109, 218, 438, 881, 1714};
    for (int l = 10; l <= 16; l++)
        cr_assert_eq(hekv_ckks_security_bound(l, HEKV_SECRET_TERNARY), want[l - 10]);
    cr_assert_eq(hekv_ckks_security_bound(9, HEKV_SECRET_TERNARY), 0);
    cr_assert_eq(hekv_ckks_security_bound(17, HEKV_SECRET_TERNARY), 0);
    cr_assert_eq(hekv_ckks_security_bound(15, HEKV_SECRET_SPARSE), 0);
}

Test(ckks_params, insecure_refused_unless_flagged) {
    hekv_ckks_params_lit lit;
    hekv_err err;
    hekv_ckks_params *p = (hekv_ckks_params *)1;
    cr_assert_eq(hekv_ckks_params_lit_named("toy-N12", &lit, &err), HEKV_OK);
    lit.insecure = 0;
    cr_assert_eq(hekv_ckks_params_new(&lit, NULL, &p, &err), HEKV_ERR_INSECURE);
    cr_assert_null(p);
    cr_assert(strstr(err.msg, "bound 109") && strstr(err.msg, "insecure"), "message: %s",
              err.msg);
    /* A secure set stays secure; one more 40-bit prime pushes N15-128 over 881. */
    cr_assert_eq(hekv_ckks_params_lit_named("N15-128", &lit, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_params_new(&lit, NULL, &p, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_params_secure(p), 1);
    hekv_ckks_params_free(p);
    lit.logq[lit.nq] = 40;
    lit.nq++;
    lit.dnum = 7; /* alpha 3 still */
    cr_assert_eq(hekv_ckks_params_new(&lit, NULL, &p, &err), HEKV_ERR_INSECURE, "%s", err.msg);
    /* the insecure flag is honoured for toy/bench names only */
    lit.insecure = 1;
    cr_assert_eq(hekv_ckks_params_new(&lit, NULL, &p, &err), HEKV_ERR_INSECURE, "%s", err.msg);
    cr_assert(strstr(err.msg, "toy-"), "message: %s", err.msg);
    strcpy(lit.name, "toy-N15-19");
    cr_assert_eq(hekv_ckks_params_new(&lit, NULL, &p, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_params_secure(p), 0);
    hekv_ckks_params_free(p);
    /* Sparse secrets have no bound here: refused unless insecure. */
    cr_assert_eq(hekv_ckks_params_lit_named("N15-128", &lit, &err), HEKV_OK);
    lit.secret = HEKV_SECRET_SPARSE;
    lit.hw = 192;
    cr_assert_eq(hekv_ckks_params_new(&lit, NULL, &p, &err), HEKV_ERR_INSECURE);
    cr_assert(strstr(err.msg, "sparse"), "message: %s", err.msg);
}

Test(ckks_params, bad_literals_rejected) {
    hekv_ckks_params_lit good, lit;
    hekv_err err;
    hekv_ckks_params *p = NULL;
    cr_assert_eq(hekv_ckks_params_lit_named("toy-N12", &good, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_params_new(NULL, NULL, &p, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_params_new(&good, NULL, NULL, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_params_lit_named(NULL, &lit, &err), HEKV_ERR_ARG);
#define EXPECT_BAD(mutation, status, word)                                               \
    do {                                                                                 \
        lit = good;                                                                      \
        mutation;                                                                        \
        p = (hekv_ckks_params *)1;                                                       \
        cr_assert_eq(hekv_ckks_params_new(&lit, NULL, &p, &err), status, #mutation ": %s",     \
                     err.msg);                                                           \
        cr_assert_null(p);                                                               \
        cr_assert(strstr(err.msg, word), #mutation ": message '%s' lacks '%s'", err.msg, \
                  word);                                                                 \
    } while (0)
    EXPECT_BAD(lit.logn = 9, HEKV_ERR_PARAMS, "logn");
    EXPECT_BAD(lit.logn = 18, HEKV_ERR_PARAMS, "logn");
    EXPECT_BAD(lit.nq = 0, HEKV_ERR_PARAMS, "nq");
    EXPECT_BAD(lit.nq = HEKV_CKKS_MAX_Q + 1, HEKV_ERR_PARAMS, "nq");
    EXPECT_BAD(lit.np = 0, HEKV_ERR_PARAMS, "np");
    EXPECT_BAD(lit.logq[3] = 51, HEKV_ERR_PARAMS, "logq[3]");
    EXPECT_BAD(lit.logq[0] = 13, HEKV_ERR_PARAMS, "logq[0]");
    EXPECT_BAD(lit.logp[1] = 61, HEKV_ERR_PARAMS, "logp[1]");
    EXPECT_BAD(lit.dnum = 0, HEKV_ERR_PARAMS, "dnum");
    EXPECT_BAD(lit.dnum = 9, HEKV_ERR_PARAMS, "dnum");
    EXPECT_BAD((lit.nq = 5, lit.dnum = 4), HEKV_ERR_PARAMS, "empty digit");
    EXPECT_BAD(lit.np = 1, HEKV_ERR_PARAMS, "log2(P)");
    EXPECT_BAD(lit.dnum = 1, HEKV_ERR_PARAMS, "digit");
    EXPECT_BAD(lit.sigma = 0, HEKV_ERR_PARAMS, "sigma");
    EXPECT_BAD(lit.log_scale = 0, HEKV_ERR_PARAMS, "log_scale");
    EXPECT_BAD((lit.secret = HEKV_SECRET_SPARSE, lit.hw = 0), HEKV_ERR_PARAMS, "hw");
    EXPECT_BAD(lit.secret = (hekv_secret_dist)7, HEKV_ERR_PARAMS, "secret");
    EXPECT_BAD(memset(lit.name, 'x', sizeof lit.name), HEKV_ERR_ARG, "NUL");
    /* More 50-bit primes = 1 mod 2^13 than exist in a tiny range: ask for 14-bit ones. */
    EXPECT_BAD((lit.logq[1] = 14, lit.logq[2] = 14, lit.logq[3] = 14), HEKV_ERR_PARAMS,
               "14-bit");
#undef EXPECT_BAD
}

Test(ckks_params, fingerprints_separate_sets) {
    const char *const *names = hekv_ckks_params_names();
    uint8_t fp[8][HEKV_FINGERPRINT_BYTES];
    int k = 0;
    for (; names[k] && k < 3; k++) { /* the toy sets: cheap */
        hekv_ckks_params *p = build_named(names[k]);
        memcpy(fp[k], hekv_ckks_params_fingerprint(p), HEKV_FINGERPRINT_BYTES);
        hekv_ckks_params_free(p);
        for (int j = 0; j < k; j++)
            cr_assert_neq(memcmp(fp[j], fp[k], HEKV_FINGERPRINT_BYTES), 0);
    }
    /* Deterministic, and sensitive to dnum, the secret distribution and the name. */
    hekv_ckks_params *p = build_named("toy-N12");
    cr_assert_eq(memcmp(fp[0], hekv_ckks_params_fingerprint(p), HEKV_FINGERPRINT_BYTES), 0);
    hekv_ckks_params_free(p);
    hekv_ckks_params_lit lit;
    hekv_err err;
    cr_assert_eq(hekv_ckks_params_lit_named("toy-N12", &lit, &err), HEKV_OK);
    lit.dnum = 2;
    lit.np = 4;
    for (int i = 0; i < 4; i++) lit.logp[i] = 50;
    cr_assert_eq(hekv_ckks_params_new(&lit, NULL, &p, &err), HEKV_OK, "%s", err.msg);
    cr_assert_neq(memcmp(fp[0], hekv_ckks_params_fingerprint(p), HEKV_FINGERPRINT_BYTES), 0);
    hekv_ckks_params_free(p);
    cr_assert_eq(hekv_ckks_params_lit_named("toy-N12", &lit, &err), HEKV_OK);
    lit.secret = HEKV_SECRET_SPARSE;
    lit.hw = 64;
    cr_assert_eq(hekv_ckks_params_new(&lit, NULL, &p, &err), HEKV_OK, "%s", err.msg);
    cr_assert_neq(memcmp(fp[0], hekv_ckks_params_fingerprint(p), HEKV_FINGERPRINT_BYTES), 0);
    hekv_ckks_params_free(p);
    cr_assert_eq(hekv_ckks_params_lit_named("toy-N12", &lit, &err), HEKV_OK);
    strcpy(lit.name, "toy-custom");
    cr_assert_eq(hekv_ckks_params_new(&lit, NULL, &p, &err), HEKV_OK, "%s", err.msg);
    cr_assert_neq(memcmp(fp[0], hekv_ckks_params_fingerprint(p), HEKV_FINGERPRINT_BYTES), 0);
    hekv_ckks_params_free(p);
}

Test(ckks_params, rns_constants_and_plans) {
    hekv_ckks_params *p = build_named("toy-N13");
    const int nq = p->nq, np = p->np, alpha = p->alpha;
    cr_assert_eq(alpha, 3);
    const hekv__ksb *b = &p->ksb;
    cr_assert_eq(b->np, np);
    cr_assert_eq(b->level, nq - 1);
    for (int i = 0; i < nq; i++) {
        const hekv_modulus *m = hekv_ring_modulus(p->rq, i);
        uint64_t pm = 1;
        for (int t = 0; t < np; t++) pm = hekv_mod_mul(pm, hekv_ckks_params_p(p, t) % m->q, m);
        cr_assert_eq(b->p_mod_q[i], pm);
        cr_assert_eq(hekv_mod_mul(b->p_mod_q[i], b->p_inv_mod_q[i], m), 1);
        for (int j = 0; j < nq; j++) {
            uint64_t v = p->qinv_mod_q[(size_t)j * nq + i];
            if (j == i) continue;
            cr_assert_eq(hekv_mod_mul(v, hekv_ckks_params_q(p, j) % m->q, m), 1,
                         "q_%d^-1 mod q_%d", j, i);
        }
    }
    for (int j = 0; j < p->dnum; j++)
        for (int k = 1; k <= alpha; k++) {
            const hekv__modup_plan *mp = &b->modup[j * alpha + k - 1];
            cr_assert_eq(mp->lo != NULL, j > 0);
            cr_assert_eq(mp->hi != NULL, j * alpha + k < nq);
            cr_assert_not_null(mp->p);
        }
    cr_assert_not_null(b->moddown);
    /* a basis of fewer special primes for low levels only: plans up to that level */
    hekv__ksb small;
    hekv_err err;
    cr_assert_eq(hekv__ksb_init(p, 1, 2, &small, &err), HEKV_OK, "%s", err.msg);
    cr_assert_not_null(small.modup[0].p);
    cr_assert_null(small.modup[alpha].p); /* digit 1 starts at level 3 */
    cr_assert_eq(hekv_mod_mul(small.p_mod_q[0], small.p_inv_mod_q[0], hekv_ring_modulus(p->rq, 0)),
                 1);
    hekv__ksb_release(&small);
    cr_assert_eq(hekv__ksb_init(p, np + 1, 2, &small, &err), HEKV_ERR_ARG);
    /* Galois elements. */
    const size_t n = p->n;
    cr_assert_eq(hekv_ckks_galois_rot(p, 0), 1);
    cr_assert_eq(hekv_ckks_galois_rot(p, 1), 5);
    cr_assert_eq(hekv_ckks_galois_rot(p, 2), 25);
    cr_assert_eq(hekv_ckks_galois_rot(p, (long)n / 2 + 3), hekv_ckks_galois_rot(p, 3));
    cr_assert_eq(hekv_ckks_galois_rot(p, -1) * 5 % (2 * n), 1);
    cr_assert_eq(hekv_ckks_galois_conj(p), 2 * n - 1);
    hekv_ckks_params_free(p);
}

Test(ckks_params, threads_from_env) {
    hekv_ckks_params_lit lit;
    hekv_err err;
    cr_assert_eq(hekv_ckks_params_lit_named("toy-N12", &lit, &err), HEKV_OK);
    hekv_ckks_params *p = NULL;
    setenv("HEKV_THREADS", "2", 1);
    cr_assert_eq(hekv_ckks_params_new(&lit, NULL, &p, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_params_threads(p), 2);
    cr_assert_eq(hekv_ring_threads(p->rq), 2);
    hekv_ckks_params_free(p);
    /* an explicit option wins over the environment, and is no part of the identity */
    const hekv_ckks_opts three = {.isa = HEKV_ISA_SCALAR, .threads = 3};
    cr_assert_eq(hekv_ckks_params_new(&lit, &three, &p, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_params_threads(p), 3);
    cr_assert_str_eq(hekv_ckks_params_kernels(p), "scalar");
    hekv_ckks_params *q = NULL;
    cr_assert_eq(hekv_ckks_params_new(&lit, NULL, &q, &err), HEKV_OK);
    cr_assert_eq(memcmp(hekv_ckks_params_fingerprint(p), hekv_ckks_params_fingerprint(q),
                        HEKV_FINGERPRINT_BYTES), 0);
    hekv_ckks_params_free(q);
    hekv_ckks_params_free(p);
    unsetenv("HEKV_THREADS");
    cr_assert_eq(hekv_ckks_params_new(&lit, NULL, &p, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_params_threads(p), 1);
    hekv_ckks_params_free(p);
}

Test(ckks_params, shared_sizing_helpers) {
    hekv_ckks_params *p = build_named("toy-N12");
    const size_t n = p->n;
    hekv_poly x = {0};
    cr_assert_eq(hekv__poly_reserve(p->rq, &x, 0), HEKV_ERR_ARG);
    cr_assert_eq(hekv__poly_reserve(p->rq, &x, 9), HEKV_ERR_ARG);
    cr_assert_eq(hekv__poly_reserve(p->rq, &x, 2), HEKV_OK);
    cr_assert_eq(x.limbs, 2);
    for (size_t i = 0; i < 2 * n; i++) x.c[i] = i;
    uint64_t *blk = x.c;
    cr_assert_eq(hekv__poly_reserve(p->rq, &x, 1), HEKV_OK); /* shrink keeps the block */
    cr_assert_eq(x.c, blk);
    cr_assert_eq(hekv__poly_reserve(p->rq, &x, 2), HEKV_OK);
    cr_assert_eq(x.c, blk);
    cr_assert_eq(hekv__poly_reserve(p->rq, &x, 8), HEKV_OK); /* grows, keeps content */
    cr_assert_eq(x.limbs, 8);
    for (size_t i = 0; i < 2 * n; i++) cr_assert_eq(x.c[i], i);
    hekv__poly_release(&x);
    cr_assert_null(x.c);
    hekv__qp_poly qp;
    cr_assert_eq(hekv__qp_new(p, 3, 0, &qp), HEKV_OK);
    cr_assert_eq(qp.q.limbs, 4);
    cr_assert_eq(qp.p.limbs, (size_t)p->np);
    hekv__qp_free(&qp);
    cr_assert_eq(hekv__qp_new(p, 3, 1, &qp), HEKV_OK);
    cr_assert_eq(qp.p.limbs, 1);
    hekv__qp_free(&qp);
    cr_assert_eq(hekv__qp_new(p, 8, 0, &qp), HEKV_ERR_ARG);
    cr_assert(hekv__scale_eq(0x1p40, 0x1p40 * (1 + 0x1p-42)));
    cr_assert(!hekv__scale_eq(0x1p40, 0x1p40 * (1 + 0x1p-38)));
    hekv_ct *ct = NULL;
    hekv_err err;
    cr_assert_eq(hekv_ckks_ct_new(p, &ct, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_ct_level(ct), -1);
    cr_assert_eq(hekv__ct_resize(ct, 8), HEKV_ERR_LEVEL);
    cr_assert_eq(hekv__ct_resize(ct, 5), HEKV_OK);
    cr_assert_eq(hekv_ckks_ct_level(ct), 5);
    cr_assert_eq(ct->c[0].limbs, 6);
    cr_assert_eq(ct->c[1].ntt, 1);
    hekv_ckks_ct_free(ct);
    hekv_pt *pt = NULL;
    cr_assert_eq(hekv_ckks_pt_new(p, &pt, &err), HEKV_OK);
    cr_assert_eq(hekv__pt_resize(pt, 7), HEKV_OK);
    cr_assert_eq(hekv_ckks_pt_level(pt), 7);
    hekv_ckks_pt_free(pt);
    hekv_ckks_params_free(p);
}
