/* params.c: CKKS parameter sets: the built-in named literals, the 128-bit security bound,
 * and hekv_ckks_params_new, which turns a literal into a checked, immutable set (R13):
 * prime generation, the Q and P rings, the key-switching basis-conversion plans and RNS
 * constants, and the fingerprint that files carry. Also the small sizing helpers every
 * CKKS file shares (ckks_int.h). No key material and no evaluation here. */
#include <malloc.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckks_int.h"
#include "kernels/primes.h"

/* ------------------------------------------------------------------ named sets */

/* A compact description of a named set: q = [q0bits, qbits x (nq-1)], p = [pbits x np];
 * or, when seg[0][0] != 0, q = the segments {count, bits} from q_0 up (nq their sum). */
typedef struct {
    const char *name;
    int logn, nq, q0bits, qbits, np, pbits, dnum, log_scale, insecure;
    short seg[6][2];
} named_set;

/* Why these shapes (log2 QP nominal, bound in brackets):
 *   toy-N12       8 + 2 limbs, dnum 4 (alpha 2: digit <= 90 bits, P 100)     430 [109]
 *   toy-N13      12 + 3 limbs, dnum 4 (alpha 3: digit <= 130 bits, P 150)    640 [218]
 *   toy-N14      16 + 4 limbs, dnum 4 (alpha 4: digit <= 170 bits, P 200)    850 [438]
 *   N15-128      18 + 3 limbs, dnum 6 (alpha 3: digit <= 130 bits, P 150)    880 [881]
 *                (one more level needs alpha 2, i.e. dnum 10: 67% bigger keys, slower
 *                 key switching, for one level; 18 limbs is the balance we keep)
 *   N16-128      36 + 5 limbs, dnum 6 (alpha 6: digit <= 250 bits, P 250)   1700 [1714]
 *   bench-N16-L33 33 + 9 limbs, dnum 3 (alpha 11: digit <= 450 bits, P 450) 1780 (insecure)
 * P's primes are the largest 50-bit ones after q0, and q0 is the largest, so "P >= the
 * largest digit" holds for equal nominal bit counts (40-bit primes sit relatively further
 * below 2^40 than 50-bit ones below 2^50); params_new checks it on the real primes. */
static const named_set named_sets[] = {
    {"toy-N12", 12, 8, 50, 40, 2, 50, 4, 40, 1, {{0, 0}}},
    {"toy-N13", 13, 12, 50, 40, 3, 50, 4, 40, 1, {{0, 0}}},
    {"toy-N14", 14, 16, 50, 40, 4, 50, 4, 40, 1, {{0, 0}}},
    {"N15-128", 15, 18, 50, 40, 3, 50, 6, 40, 0, {{0, 0}}},
    {"N16-128", 16, 36, 50, 40, 5, 50, 6, 40, 0, {{0, 0}}},
    {"bench-N16-L33", 16, 33, 50, 40, 9, 50, 3, 40, 1, {{0, 0}}},
    /* a deep toy for circuits of many levels (the attention softmax) */
    {"toy-N12-L44", 12, 44, 50, 40, 4, 50, 11, 40, 1, {{0, 0}}},
    /* bootstrapping sets (bootstrap/boot_params.c), top down: CoeffToSlot, EvalMod,
     * SlotToCoeff, the user's levels, q_0 */
    {"N16-boot", 16, 0, 0, 0, 9, 50, 4, 40, 0, {{1, 50}, {9, 40}, {3, 45}, {16, 31}, {4, 49}}},
    {"N16-boot-L12", 16, 0, 0, 0, 6, 50, 6, 40, 0, {{1, 50}, {12, 40}, {3, 45}, {16, 31}, {4, 49}}},
    {"toy-boot-N12", 12, 0, 0, 0, 3, 50, 9, 40, 1, {{1, 50}, {4, 40}, {3, 45}, {16, 30}, {3, 49}}},
    {"toy-boot-N12-u1", 12, 0, 0, 0, 3, 50, 6, 40, 1, {{1, 50}, {2, 40}, {3, 45}, {8, 49}, {3, 49}}},
};
#define NAMED_COUNT (sizeof named_sets / sizeof named_sets[0])

static const char *const named_names[NAMED_COUNT + 1] = {
    "toy-N12", "toy-N13", "toy-N14", "N15-128", "N16-128", "bench-N16-L33", "toy-N12-L44",
    "N16-boot", "N16-boot-L12", "toy-boot-N12", "toy-boot-N12-u1", NULL};

const char *const *hekv_ckks_params_names(void) { return named_names; }

hekv_status hekv_ckks_params_lit_named(const char *name, hekv_ckks_params_lit *lit,
                                       hekv_err *err) {
    if (!name || !lit)
        return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_params_lit_named: NULL argument");
    for (size_t i = 0; i < NAMED_COUNT; i++) {
        const named_set *s = &named_sets[i];
        if (strcmp(s->name, name)) continue;
        memset(lit, 0, sizeof *lit);
        snprintf(lit->name, sizeof lit->name, "%s", s->name);
        lit->logn = s->logn;
        if (s->seg[0][0]) {
            int nq = 0;
            for (int g = 0; g < 6 && s->seg[g][0]; g++)
                for (int j = 0; j < s->seg[g][0]; j++) lit->logq[nq++] = s->seg[g][1];
            lit->nq = nq;
        } else {
            lit->nq = s->nq;
            lit->logq[0] = s->q0bits;
            for (int j = 1; j < s->nq; j++) lit->logq[j] = s->qbits;
        }
        lit->np = s->np;
        for (int j = 0; j < s->np; j++) lit->logp[j] = s->pbits;
        lit->dnum = s->dnum;
        lit->log_scale = s->log_scale;
        lit->secret = HEKV_SECRET_TERNARY;
        lit->hw = 0;
        lit->sigma = HEKV_GAUSS_SIGMA;
        lit->insecure = s->insecure;
        return HEKV_OK;
    }
    char known[256] = "";
    for (size_t i = 0; i < NAMED_COUNT; i++) {
        strncat(known, named_sets[i].name, sizeof known - strlen(known) - 1);
        if (i + 1 < NAMED_COUNT) strncat(known, ", ", sizeof known - strlen(known) - 1);
    }
    return hekv_err_set(err, HEKV_ERR_ARG, "unknown parameter set '%s' (known: %s)", name,
                        known);
}

int hekv_ckks_security_bound(int logn, hekv_secret_dist secret) {
    /* HE standard (Albrecht et al. 2018), 128-bit classical, uniform ternary secret. For
     * 2^16 the published 1747 is extrapolated; the conservative 1714 is used instead. */
    static const int ternary[] = {27, 54, 109, 218, 438, 881, 1714};
    if (secret != HEKV_SECRET_TERNARY || logn < 10 || logn > 16) return 0;
    return ternary[logn - 10];
}

/* ------------------------------------------------------------------ shared internals */

hekv_status hekv__poly_reserve(const hekv_ring *r, hekv_poly *p, size_t limbs) {
    const size_t n = hekv_ring_n(r);
    if (limbs < 1 || limbs > (size_t)hekv_ring_nprimes(r)) return HEKV_ERR_ARG;
    /* The real capacity of a block is what the allocator reports, so a polynomial from
     * hekv_poly_new, from here or shrunk by a lower level can all be grown safely. */
    size_t cap = p->c ? malloc_usable_size(p->c) / (n * sizeof(uint64_t)) : 0;
    if (p->c && p->n == n && cap >= limbs) {
        p->limbs = limbs;
        return HEKV_OK;
    }
    /* Exact size: ciphertexts held at low levels (KV caches) should not pay for the top. */
    uint64_t *c = hekv_calloc_aligned(limbs * n, sizeof(uint64_t));
    if (!c) return HEKV_ERR_NOMEM;
    if (p->c) {
        size_t keep = p->limbs < limbs ? p->limbs : limbs;
        memcpy(c, p->c, keep * n * sizeof(uint64_t));
    }
    int ntt = p->ntt;
    hekv__poly_release(p);
    p->c = c;
    p->limbs = limbs;
    p->n = n;
    p->ntt = ntt;
    return HEKV_OK;
}

void hekv__poly_release(hekv_poly *p) {
    if (!p) return;
    if (p->c) hekv_memzero(p->c, malloc_usable_size(p->c));
    hekv_free_aligned(p->c);
    memset(p, 0, sizeof *p);
}

hekv_status hekv__qp_new(const hekv_ckks_params *prm, int level, int np, hekv__qp_poly *out) {
    memset(out, 0, sizeof *out);
    if (np <= 0) np = prm->np;
    if (level < 0 || level >= prm->nq || np > prm->np) return HEKV_ERR_ARG;
    hekv_status s = hekv_poly_new(prm->rq, (size_t)level + 1, &out->q);
    if (s == HEKV_OK) s = hekv_poly_new(prm->rp, (size_t)np, &out->p);
    if (s != HEKV_OK) hekv__qp_free(out);
    return s;
}

void hekv__qp_free(hekv__qp_poly *x) {
    if (!x) return;
    hekv__poly_release(&x->q);
    hekv__poly_release(&x->p);
}

double hekv__log2_q(const hekv_ckks_params *p, int level) {
    double s = 0;
    for (int i = 0; i <= level; i++) s += log2((double)hekv_ring_modulus(p->rq, i)->q);
    return s;
}

int hekv_ckks_scale_eq(double a, double b) { return hekv__scale_eq(a, b); }

int hekv__scale_eq(double a, double b) {
    double m = fmax(fabs(a), fabs(b));
    return fabs(a - b) <= HEKV_CKKS_SCALE_RTOL * m;
}

hekv_status hekv__ct_resize(hekv_ct *ct, int level) {
    const hekv_ckks_params *prm = ct->params;
    if (level < 0 || level >= prm->nq) return HEKV_ERR_LEVEL;
    for (int i = 0; i < 2; i++) {
        hekv_status s = hekv__poly_reserve(prm->rq, &ct->c[i], (size_t)level + 1);
        if (s != HEKV_OK) return s;
        ct->c[i].ntt = 1;
    }
    ct->level = level;
    return HEKV_OK;
}

hekv_status hekv__pt_resize(hekv_pt *pt, int level) {
    const hekv_ckks_params *prm = pt->params;
    if (level < 0 || level >= prm->nq) return HEKV_ERR_LEVEL;
    hekv_status s = hekv__poly_reserve(prm->rq, &pt->m, (size_t)level + 1);
    if (s != HEKV_OK) return s;
    pt->m.ntt = 1;
    pt->level = level;
    return HEKV_OK;
}

/* ------------------------------------------------------------------ construction */

static int threads_default(int t) {
    if (t > 0) return t;
    const char *e = getenv("HEKV_THREADS");
    if (e && *e) {
        long v = strtol(e, NULL, 10);
        if (v > 0 && v <= 1024) return (int)v;
    }
    return 1;
}

/* Generates count primes of `bits` bits for the indices of bits[] equal to b, excluding
 * everything in chosen[0..*nchosen), appending them to chosen and writing each into
 * out[index]. Processes bit sizes in order of first appearance, so q0 gets the largest
 * prime of its size and the scaling primes descend. */
static hekv_status gen_group(const int *bitsv, int count, uint64_t *out, int logn,
                             uint64_t *chosen, int *nchosen, hekv_err *err) {
    for (int i = 0; i < count; i++) {
        if (out[i]) continue;
        int b = bitsv[i], c = 0;
        for (int j = i; j < count; j++) c += bitsv[j] == b;
        uint64_t tmp[HEKV_CKKS_MAX_Q];
        int s = hekv_primes_generate(tmp, c, b, logn, chosen, *nchosen);
        if (s != HEKV_KERN_OK)
            return hekv_err_set(err, HEKV_ERR_PARAMS,
                                "cannot find %d distinct %d-bit primes = 1 mod 2^%d", c, b,
                                logn + 1);
        for (int j = i, t = 0; j < count; j++)
            if (bitsv[j] == b) out[j] = tmp[t++];
        for (int t = 0; t < c; t++) chosen[(*nchosen)++] = tmp[t];
    }
    return HEKV_OK;
}

static hekv_status check_lit(const hekv_ckks_params_lit *lit, hekv_err *err) {
    if (memchr(lit->name, 0, sizeof lit->name) == NULL)
        return hekv_err_set(err, HEKV_ERR_ARG, "parameter set name is not NUL-terminated");
    const char *nm = lit->name;
    if (lit->logn < 10 || lit->logn > 17)
        return hekv_err_set(err, HEKV_ERR_PARAMS,
                            "parameters '%s': logn %d outside 10..17", nm, lit->logn);
    if (lit->nq < 1 || lit->nq > HEKV_CKKS_MAX_Q)
        return hekv_err_set(err, HEKV_ERR_PARAMS, "parameters '%s': nq %d outside 1..%d", nm,
                            lit->nq, HEKV_CKKS_MAX_Q);
    if (lit->np < 1 || lit->np > HEKV_CKKS_MAX_P)
        return hekv_err_set(err, HEKV_ERR_PARAMS,
                            "parameters '%s': np %d outside 1..%d (key switching needs at "
                            "least one special prime)", nm, lit->np, HEKV_CKKS_MAX_P);
    const int minbits = lit->logn + 2;
    for (int i = 0; i < lit->nq + lit->np; i++) {
        int b = i < lit->nq ? lit->logq[i] : lit->logp[i - lit->nq];
        if (b < minbits || b > HEKV_CKKS_MAX_PRIME_BITS)
            return hekv_err_set(err, HEKV_ERR_PARAMS,
                                "parameters '%s': %s[%d] = %d bits, want %d..%d", nm,
                                i < lit->nq ? "logq" : "logp",
                                i < lit->nq ? i : i - lit->nq, b, minbits,
                                HEKV_CKKS_MAX_PRIME_BITS);
    }
    if (lit->dnum < 1 || lit->dnum > lit->nq)
        return hekv_err_set(err, HEKV_ERR_PARAMS, "parameters '%s': dnum %d outside 1..nq=%d",
                            nm, lit->dnum, lit->nq);
    int alpha = (lit->nq + lit->dnum - 1) / lit->dnum;
    if ((lit->dnum - 1) * alpha >= lit->nq)
        return hekv_err_set(err, HEKV_ERR_PARAMS,
                            "parameters '%s': dnum %d leaves an empty digit for nq %d "
                            "(alpha %d); use dnum = ceil(nq / alpha)", nm, lit->dnum, lit->nq,
                            alpha);
    if (lit->log_scale < 1 || lit->log_scale > 60)
        return hekv_err_set(err, HEKV_ERR_PARAMS, "parameters '%s': log_scale %d outside 1..60",
                            nm, lit->log_scale);
    if (lit->secret != HEKV_SECRET_TERNARY && lit->secret != HEKV_SECRET_SPARSE)
        return hekv_err_set(err, HEKV_ERR_PARAMS, "parameters '%s': unknown secret "
                            "distribution %d", nm, (int)lit->secret);
    if (lit->secret == HEKV_SECRET_TERNARY && lit->hw != 0)
        return hekv_err_set(err, HEKV_ERR_PARAMS,
                            "parameters '%s': a uniform ternary secret has no Hamming weight "
                            "(hw %d; 0 expected)", nm, lit->hw);
    if (lit->secret == HEKV_SECRET_SPARSE && (lit->hw < 1 || lit->hw > (1 << lit->logn)))
        return hekv_err_set(err, HEKV_ERR_PARAMS,
                            "parameters '%s': sparse secret needs 1 <= hw <= N, got %d", nm,
                            lit->hw);
    if (!(lit->sigma > 0 && lit->sigma <= 64))
        return hekv_err_set(err, HEKV_ERR_PARAMS, "parameters '%s': sigma %g outside (0, 64]",
                            nm, lit->sigma);
    if (lit->insecure != 0 && lit->insecure != 1)
        return hekv_err_set(err, HEKV_ERR_PARAMS, "parameters '%s': insecure flag %d (0 or 1)",
                            nm, lit->insecure);
    if (lit->insecure && !hekv_ckks_params_name_is_insecure(nm))
        return hekv_err_set(err, HEKV_ERR_INSECURE,
                            "parameters '%s': the insecure flag is honoured only for sets "
                            "named toy-* or bench-* (an explicit request for a weak set); a "
                            "production name must pass the 128-bit checks", nm);
    return HEKV_OK;
}

int hekv_ckks_params_name_is_insecure(const char *name) {
    return name && (!strncmp(name, "toy-", 4) || !strncmp(name, "bench-", 6));
}

static void le64(uint8_t b[8], uint64_t v) {
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
}

static void fingerprint(hekv_ckks_params *p, const uint64_t *q, const uint64_t *pp) {
    crypto_generichash_state st;
    uint8_t b[8];
    crypto_generichash_init(&st, NULL, 0, HEKV_FINGERPRINT_BYTES);
    static const char tag[] = "hekv-ckks-params";
    crypto_generichash_update(&st, (const uint8_t *)tag, sizeof tag);
    crypto_generichash_update(&st, (const uint8_t *)p->lit.name, sizeof p->lit.name);
    /* every field that makes two sets compute differently or differ in security: N, the
     * primes (below), dnum, the secret distribution and weight, sigma, the insecure flag,
     * the default scale and the format version */
    uint64_t sigma_bits;
    memcpy(&sigma_bits, &p->lit.sigma, 8);
    const uint64_t hdr[] = {HEKV_FORMAT_VERSION,      (uint64_t)p->logn,
                            (uint64_t)p->nq,          (uint64_t)p->np,
                            (uint64_t)p->dnum,        (uint64_t)p->lit.secret,
                            (uint64_t)p->lit.hw,      sigma_bits,
                            (uint64_t)p->lit.insecure, (uint64_t)p->lit.log_scale};
    for (size_t i = 0; i < sizeof hdr / sizeof hdr[0]; i++) {
        le64(b, hdr[i]);
        crypto_generichash_update(&st, b, 8);
    }
    for (int i = 0; i < p->nq; i++) {
        le64(b, q[i]);
        crypto_generichash_update(&st, b, 8);
    }
    for (int i = 0; i < p->np; i++) {
        le64(b, pp[i]);
        crypto_generichash_update(&st, b, 8);
    }
    crypto_generichash_final(&st, p->fingerprint, HEKV_FINGERPRINT_BYTES);
}

static hekv_status build_plans(hekv_ckks_params *p, hekv_err *err) {
    const int nq = p->nq;
    p->qinv_mod_q = calloc((size_t)nq * nq, sizeof(uint64_t));
    if (!p->qinv_mod_q)
        return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ckks_params_new: out of memory");
    for (int i = 0; i < nq; i++) {
        const hekv_modulus *m = hekv_ring_modulus(p->rq, i);
        for (int j = 0; j < nq; j++)
            if (j != i)
                p->qinv_mod_q[(size_t)j * nq + i] =
                    hekv_mod_inv_prime(hekv_ring_modulus(p->rq, j)->q % m->q, m);
    }
    return hekv__ksb_init(p, p->np, nq - 1, &p->ksb, err);
}

hekv_status hekv_ckks_params_new(const hekv_ckks_params_lit *lit, const hekv_ckks_opts *opts,
                                 hekv_ckks_params **out, hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_params_new: out is NULL");
    *out = NULL;
    if (!lit) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_params_new: lit is NULL");
    hekv_status s = check_lit(lit, err);
    if (s != HEKV_OK) return s;

    /* Primes: Q first (q0 the largest of its size, then the scaling primes descending),
     * then P, all distinct. */
    uint64_t q[HEKV_CKKS_MAX_Q] = {0}, pp[HEKV_CKKS_MAX_P] = {0};
    uint64_t chosen[HEKV_CKKS_MAX_Q + HEKV_CKKS_MAX_P];
    int nchosen = 0;
    if ((s = gen_group(lit->logq, lit->nq, q, lit->logn, chosen, &nchosen, err)) != HEKV_OK ||
        (s = gen_group(lit->logp, lit->np, pp, lit->logn, chosen, &nchosen, err)) != HEKV_OK)
        return s;

    /* Hybrid key switching needs P >= every digit's product (else the key-switching noise
     * is multiplied rather than divided by the digit). */
    const int alpha = (lit->nq + lit->dnum - 1) / lit->dnum;
    double logp = 0, logq = 0, maxdigit = 0;
    for (int i = 0; i < lit->np; i++) logp += log2((double)pp[i]);
    for (int j = 0; j < lit->dnum; j++) {
        double d = 0;
        for (int i = j * alpha; i < (j + 1) * alpha && i < lit->nq; i++) d += log2((double)q[i]);
        if (d > maxdigit) maxdigit = d;
    }
    for (int i = 0; i < lit->nq; i++) logq += log2((double)q[i]);
    if (logp < maxdigit)
        return hekv_err_set(err, HEKV_ERR_PARAMS,
                            "parameters '%s': log2(P) = %.2f is below the largest key-switching "
                            "digit (%.2f bits, alpha = %d primes); add special primes or raise "
                            "dnum", lit->name, logp, maxdigit, alpha);
    const int bound = hekv_ckks_security_bound(lit->logn, lit->secret);
    const double log_qp = logq + logp;
    /* The HE standard's tables assume an error of standard deviation 8/sqrt(2 pi) ~ 3.19;
     * a wider error only makes the lattice problem harder, a narrower one weakens it (at
     * sigma -> 0 a ciphertext gives the secret by linear algebra), so a secure set needs
     * sigma >= HEKV_GAUSS_SIGMA. */
    const int sigma_ok = lit->sigma >= HEKV_GAUSS_SIGMA;
    const int secure = bound > 0 && log_qp <= (double)bound && sigma_ok;
    if (!sigma_ok && !lit->insecure)
        return hekv_err_set(err, HEKV_ERR_INSECURE,
                            "parameters '%s': error width sigma = %g is below the standard "
                            "%.2f the 128-bit bound assumes (a narrower error weakens, at 0 "
                            "removes, the security)",
                            lit->name, lit->sigma, HEKV_GAUSS_SIGMA);
    if (!secure && !lit->insecure) {
        if (bound > 0)
            return hekv_err_set(err, HEKV_ERR_INSECURE,
                                "parameters '%s': log2(QP) = %.1f exceeds the 128-bit bound %d "
                                "for N = 2^%d; remove levels or special primes, or set insecure "
                                "(--insecure) for tests and benchmarks only",
                                lit->name, log_qp, bound, lit->logn);
        return hekv_err_set(err, HEKV_ERR_INSECURE,
                            "parameters '%s': no known 128-bit bound for N = 2^%d with a %s "
                            "secret; set insecure (--insecure) for tests and benchmarks only",
                            lit->name, lit->logn,
                            lit->secret == HEKV_SECRET_SPARSE ? "sparse" : "ternary");
    }

    hekv_ckks_params *p = calloc(1, sizeof *p);
    if (!p) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ckks_params_new: out of memory");
    p->lit = *lit;
    /* bytes after the name's NUL are not part of it: zero them so the fingerprint (which
     * hashes the whole field) and a saved literal depend on the name alone */
    {
        size_t nl = strnlen(p->lit.name, sizeof p->lit.name);
        memset(p->lit.name + nl, 0, sizeof p->lit.name - nl);
    }
    if (opts) p->opts = *opts;
    p->opts.threads = threads_default(p->opts.threads);
    if (p->opts.isa != HEKV_ISA_AUTO && p->opts.isa != HEKV_ISA_SCALAR &&
        p->opts.isa != HEKV_ISA_AVX512) {
        hekv_ckks_params_free(p);
        return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_params_new: unknown kernel set %d",
                            (int)p->opts.isa);
    }
    p->logn = lit->logn;
    p->n = (size_t)1 << lit->logn;
    p->nq = lit->nq, p->np = lit->np, p->dnum = lit->dnum, p->alpha = alpha;
    p->scale = ldexp(1.0, lit->log_scale);
    p->log_qp = log_qp;
    p->secure = secure;
    p->bound = bound;

    hekv_ring_lit rl = {.logn = lit->logn, .nprimes = lit->nq, .primes = q,
                        .isa = p->opts.isa, .threads = p->opts.threads};
    if ((s = hekv_ring_new(&rl, &p->rq, err)) != HEKV_OK) goto fail;
    rl.nprimes = lit->np, rl.primes = pp;
    if ((s = hekv_ring_new(&rl, &p->rp, err)) != HEKV_OK) goto fail;
    if ((s = build_plans(p, err)) != HEKV_OK) goto fail;
    fingerprint(p, q, pp);
    *out = p;
    return HEKV_OK;
fail:
    hekv_ckks_params_free(p);
    return s;
}

void hekv_ckks_params_free(hekv_ckks_params *p) {
    if (!p) return;
    hekv__ksb_release(&p->ksb);
    free(p->qinv_mod_q);
    hekv_ring_free(p->rq);
    hekv_ring_free(p->rp);
    free(p);
}

/* ------------------------------------------------------------------ accessors */

const char *hekv_ckks_params_name(const hekv_ckks_params *p) { return p->lit.name; }
int hekv_ckks_params_logn(const hekv_ckks_params *p) { return p->logn; }
size_t hekv_ckks_params_n(const hekv_ckks_params *p) { return p->n; }
size_t hekv_ckks_params_max_slots(const hekv_ckks_params *p) { return p->n / 2; }
int hekv_ckks_params_max_level(const hekv_ckks_params *p) { return p->nq - 1; }
int hekv_ckks_params_np(const hekv_ckks_params *p) { return p->np; }
int hekv_ckks_params_dnum(const hekv_ckks_params *p) { return p->dnum; }
double hekv_ckks_params_default_scale(const hekv_ckks_params *p) { return p->scale; }
uint64_t hekv_ckks_params_q(const hekv_ckks_params *p, int i) {
    return i >= 0 && i < p->nq ? hekv_ring_modulus(p->rq, i)->q : 0;
}
uint64_t hekv_ckks_params_p(const hekv_ckks_params *p, int i) {
    return i >= 0 && i < p->np ? hekv_ring_modulus(p->rp, i)->q : 0;
}
double hekv_ckks_params_log_qp(const hekv_ckks_params *p) { return p->log_qp; }
int hekv_ckks_params_secure(const hekv_ckks_params *p) { return p->secure; }
size_t hekv_ckks_params_swk_bytes(const hekv_ckks_params *p) {
    return (size_t)p->dnum * 2 * (size_t)(p->nq + p->np) * p->n * sizeof(uint64_t);
}
const uint8_t *hekv_ckks_params_fingerprint(const hekv_ckks_params *p) { return p->fingerprint; }
int hekv_ckks_params_threads(const hekv_ckks_params *p) { return p->opts.threads; }
const char *hekv_ckks_params_kernels(const hekv_ckks_params *p) {
    return hekv_ring_ops(p->rq, 0)->name;
}

uint64_t hekv_ckks_galois_rot(const hekv_ckks_params *p, long k) {
    const uint64_t m = 2 * (uint64_t)p->n, half = p->n / 2;
    long r = k % (long)half;
    uint64_t e = (uint64_t)(r < 0 ? r + (long)half : r);
    uint64_t g = 1, b = 5;
    while (e) {
        if (e & 1) g = g * b % m;
        b = b * b % m;
        e >>= 1;
    }
    return g;
}

uint64_t hekv_ckks_galois_conj(const hekv_ckks_params *p) { return 2 * (uint64_t)p->n - 1; }
