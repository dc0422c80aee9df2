/* keys.c: key generation: the secret key (sampled once, lifted to Q and P in NTT form),
 * the public key (b = -a s + e, a expanded from a 32-byte seed), switching keys between two
 * secrets, and the evaluation-key bundle with its relinearisation, Galois and tagged
 * switching keys. The switching keys themselves are built by hekv__swk_gen (keyswitch.c);
 * this file only decides which keys each one switches between and at which levels: the
 * relinearisation key from s^2 to s, the Galois key of g from s to phi_g^-1(s) =
 * s(X^(g^-1 mod 2N)) (the rotation switches c1 and applies phi_g to the result:
 * eval_rot.c), a tagged key from one secret to another (bootstrapping's sparse-secret
 * encapsulation). No encryption and no evaluation here. */
#include <stdlib.h>
#include <string.h>

#include "ckks_int.h"
#include "kernels/automorph.h"

/* ------------------------------------------------------------------ secret key */

void hekv_ckks_sk_free(hekv_sk *sk) {
    if (!sk) return;
    if (sk->coeffs) hekv_memzero(sk->coeffs, sk->params->n * sizeof *sk->coeffs);
    free(sk->coeffs);
    hekv__poly_release(&sk->sq);
    hekv__poly_release(&sk->sp);
    hekv_memzero(sk, sizeof *sk);
    free(sk);
}

int hekv_ckks_sk_hamming_weight(const hekv_sk *sk) { return sk ? sk->hw : 0; }

hekv_status hekv__sk_from_coeffs(const hekv_ckks_params *p, const int64_t *coeffs,
                                 hekv_sk **out, hekv_err *err) {
    *out = NULL;
    hekv_sk *sk = calloc(1, sizeof *sk);
    if (!sk) return hekv_err_set(err, HEKV_ERR_NOMEM, "secret key: out of memory");
    sk->params = p;
    sk->coeffs = calloc(p->n, sizeof *sk->coeffs);
    if (!sk->coeffs || hekv_poly_new(p->rq, (size_t)p->nq, &sk->sq) != HEKV_OK ||
        hekv_poly_new(p->rp, (size_t)p->np, &sk->sp) != HEKV_OK) {
        hekv_ckks_sk_free(sk);
        return hekv_err_set(err, HEKV_ERR_NOMEM, "secret key: out of memory");
    }
    /* the weight without branching on the (secret) values */
    int hw = 0;
    for (size_t i = 0; i < p->n; i++) {
        sk->coeffs[i] = coeffs[i];
        hw += (int)((uint64_t)(coeffs[i] | -coeffs[i]) >> 63);
    }
    sk->hw = hw;
    hekv_poly_set_small(p->rq, &sk->sq, sk->coeffs);
    hekv_poly_set_small(p->rp, &sk->sp, sk->coeffs);
    hekv_ring_ntt_fwd(p->rq, &sk->sq);
    hekv_ring_ntt_fwd(p->rp, &sk->sp);
    sk->sq.ntt = sk->sp.ntt = 1;
    *out = sk;
    return HEKV_OK;
}

/* A secret key with hw non-zero coefficients (hw = 0: uniform ternary). */
static hekv_status sk_sample(const hekv_ckks_params *p, int hw, hekv_sk **out, hekv_err *err) {
    int64_t *c = calloc(p->n, sizeof *c);
    if (!c) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ckks_sk_new: out of memory");
    hekv_prng prng;
    hekv_status s = hekv_prng_init_os(&prng, err);
    if (s == HEKV_OK) {
        if (hw > 0)
            hekv_sample_sparse_ternary(&prng, c, p->n, (size_t)hw);
        else
            hekv_sample_ternary(&prng, c, p->n);
        hekv_prng_wipe(&prng);
        s = hekv__sk_from_coeffs(p, c, out, err);
    }
    hekv_memzero(c, p->n * sizeof *c);
    free(c);
    return s;
}

hekv_status hekv_ckks_sk_new(const hekv_ckks_params *p, hekv_sk **out, hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_sk_new: out is NULL");
    *out = NULL;
    if (!p) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_sk_new: params is NULL");
    return sk_sample(p, p->lit.secret == HEKV_SECRET_SPARSE ? p->lit.hw : 0, out, err);
}

hekv_status hekv_ckks_sk_new_sparse(const hekv_ckks_params *p, int hw, hekv_sk **out,
                                    hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_sk_new_sparse: out is NULL");
    *out = NULL;
    if (!p) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_sk_new_sparse: params is NULL");
    if (hw < 1 || (size_t)hw > p->n)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "hekv_ckks_sk_new_sparse: Hamming weight %d outside [1, N = %zu]", hw,
                            p->n);
    return sk_sample(p, hw, out, err);
}

/* ------------------------------------------------------------------ public key */

void hekv_ckks_pk_free(hekv_pk *pk) {
    if (!pk) return;
    hekv__qp_free(&pk->b);
    hekv__qp_free(&pk->a);
    free(pk);
}

void hekv__pk_seed_expand(const hekv_ckks_params *p, const uint8_t *seed, hekv__qp_poly *a) {
    /* Q limbs then P limbs of one seeded stream, uniform directly in NTT form */
    hekv_prng prng;
    hekv_prng_init_seed(&prng, seed);
    hekv_sample_uniform(p->rq, &prng, &a->q);
    hekv_sample_uniform(p->rp, &prng, &a->p);
    a->q.ntt = a->p.ntt = 1;
    hekv_prng_wipe(&prng);
}

/* b = -a*s + e over r (NTT form), e given in coefficient form in *e (consumed: turned into
 * NTT form). a, s and e hold at least b->limbs limbs. */
static void rlwe_b(const hekv_ring *r, hekv_poly *b, const hekv_poly *a, const hekv_poly *s,
                   hekv_poly *e) {
    hekv_ring_ntt_fwd(r, e);
    e->ntt = 1;
    hekv_ring_mul(r, b, a, s);
    hekv_ring_sub(r, b, e, b);
    b->ntt = 1;
}

hekv_status hekv_ckks_pk_new(const hekv_ckks_params *p, const hekv_sk *sk, hekv_pk **out,
                             hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_pk_new: out is NULL");
    *out = NULL;
    if (!p || !sk) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_pk_new: NULL argument");
    if (sk->params != p)
        return hekv_err_set(err, HEKV_ERR_PARAMS,
                            "hekv_ckks_pk_new: the secret key belongs to other parameters");
    hekv_pk *pk = calloc(1, sizeof *pk);
    int64_t *e = calloc(p->n, sizeof *e);
    hekv_poly eq = {0}, ep = {0};
    hekv_status s = HEKV_ERR_NOMEM;
    if (!pk || !e) goto nomem;
    pk->params = p;
    if (hekv__qp_new(p, p->nq - 1, p->np, &pk->b) != HEKV_OK ||
        hekv__qp_new(p, p->nq - 1, p->np, &pk->a) != HEKV_OK ||
        hekv_poly_new(p->rq, (size_t)p->nq, &eq) != HEKV_OK ||
        hekv_poly_new(p->rp, (size_t)p->np, &ep) != HEKV_OK)
        goto nomem;
    if ((s = hekv_os_random(pk->seed, HEKV_SEED_BYTES, err)) != HEKV_OK) goto fail;
    pk->has_seed = 1;
    hekv__pk_seed_expand(p, pk->seed, &pk->a);
    /* e: one Gaussian sample lifted to Q and P. */
    hekv_prng prng;
    if ((s = hekv_prng_init_os(&prng, err)) != HEKV_OK) goto fail;
    hekv_sample_gaussian(&prng, e, p->n, p->lit.sigma, HEKV_GAUSS_TAIL);
    hekv_prng_wipe(&prng);
    hekv_poly_set_small(p->rq, &eq, e);
    hekv_poly_set_small(p->rp, &ep, e);
    rlwe_b(p->rq, &pk->b.q, &pk->a.q, &sk->sq, &eq);
    rlwe_b(p->rp, &pk->b.p, &pk->a.p, &sk->sp, &ep);
    hekv_memzero(e, p->n * sizeof *e);
    free(e);
    hekv_poly_free(&eq);
    hekv_poly_free(&ep);
    *out = pk;
    return HEKV_OK;
nomem:
    s = hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ckks_pk_new: out of memory");
fail:
    if (e) hekv_memzero(e, p->n * sizeof *e);
    free(e);
    hekv_poly_free(&eq);
    hekv_poly_free(&ep);
    hekv_ckks_pk_free(pk);
    return s;
}

/* ------------------------------------------------------------------ switching keys */

/* The level a generator makes a key for: max_level < 0 means the top. */
static int key_level(const hekv_ckks_params *p, int max_level) {
    return max_level < 0 || max_level >= p->nq ? p->nq - 1 : max_level;
}

hekv_status hekv_ckks_swk_new(const hekv_sk *from, const hekv_sk *to, int max_level,
                              int special, hekv_swk **out, hekv_err *err) {
    static const char fn[] = "hekv_ckks_swk_new";
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (!from || !to) return hekv_err_set(err, HEKV_ERR_ARG, "%s: NULL secret key", fn);
    const hekv_ckks_params *p = from->params;
    if (to->params != p)
        return hekv_err_set(err, HEKV_ERR_PARAMS,
                            "%s: the two secret keys belong to different parameter sets", fn);
    if (max_level >= p->nq)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: level %d above the top level %d", fn,
                            max_level, p->nq - 1);
    if (special > p->np)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: %d special primes, the set has %d", fn,
                            special, p->np);
    const int level = key_level(p, max_level);
    const int np = special <= 0 ? p->np : special;
    hekv__ksb *own = NULL;
    hekv_status s;
    if (np < p->np) {
        own = calloc(1, sizeof *own);
        if (!own) return hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
        if ((s = hekv__ksb_init(p, np, level, own, err)) != HEKV_OK) {
            free(own);
            return s;
        }
    }
    hekv_swk *k = NULL;
    if ((s = hekv__swk_alloc(p, level, own, &k)) != HEKV_OK) {
        if (own) hekv__ksb_release(own);
        free(own);
        return hekv_err_set(err, s, "%s: out of memory", fn);
    }
    k->own_ksb = own;
    if ((s = hekv__swk_gen(k, &from->sq, &to->sq, &to->sp, err)) != HEKV_OK) {
        hekv_ckks_swk_free(k);
        return s;
    }
    *out = k;
    return HEKV_OK;
}

/* ------------------------------------------------------------------ evaluation keys */

hekv_status hekv_ckks_evk_new(const hekv_ckks_params *p, hekv_evk **out, hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_evk_new: out is NULL");
    *out = NULL;
    if (!p) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_evk_new: params is NULL");
    hekv_evk *evk = calloc(1, sizeof *evk);
    if (!evk) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ckks_evk_new: out of memory");
    evk->params = p;
    *out = evk;
    return HEKV_OK;
}

void hekv_ckks_evk_free(hekv_evk *evk) {
    if (!evk) return;
    hekv_ckks_swk_free(evk->relin);
    for (size_t i = 0; i < evk->ngal; i++) hekv_ckks_swk_free(evk->galk[i]);
    for (size_t i = 0; i < evk->nswk; i++) hekv_ckks_swk_free(evk->swk[i].k);
    free(evk->gal);
    free(evk->galk);
    free(evk->swk);
    free(evk);
}

static hekv_status check_evk_sk(const hekv_evk *evk, const hekv_sk *sk, int max_level,
                                const char *fn, hekv_err *err) {
    if (!evk || !sk) return hekv_err_set(err, HEKV_ERR_ARG, "%s: NULL argument", fn);
    if (evk->params != sk->params)
        return hekv_err_set(err, HEKV_ERR_PARAMS,
                            "%s: the key set and the secret key belong to different parameters",
                            fn);
    if (max_level >= evk->params->nq)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: level %d above the top level %d", fn,
                            max_level, evk->params->nq - 1);
    return HEKV_OK;
}

hekv_status hekv_ckks_evk_gen_relin(hekv_evk *evk, const hekv_sk *sk, int max_level,
                                    hekv_err *err) {
    static const char fn[] = "hekv_ckks_evk_gen_relin";
    hekv_status s = check_evk_sk(evk, sk, max_level, fn, err);
    if (s != HEKV_OK) return s;
    const hekv_ckks_params *p = evk->params;
    const int level = key_level(p, max_level);
    if (evk->relin && evk->relin->level >= level) return HEKV_OK;
    hekv_poly s2q = {0};
    hekv_swk *k = NULL;
    if (hekv_poly_new(p->rq, (size_t)p->nq, &s2q) != HEKV_OK ||
        hekv__swk_alloc(p, level, NULL, &k) != HEKV_OK) {
        hekv_poly_free(&s2q);
        return hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    }
    hekv_ring_mul(p->rq, &s2q, &sk->sq, &sk->sq); /* s^2, NTT form */
    s2q.ntt = 1;
    s = hekv__swk_gen(k, &s2q, &sk->sq, &sk->sp, err);
    hekv_poly_free(&s2q); /* wipes */
    if (s != HEKV_OK) {
        hekv_ckks_swk_free(k);
        return s;
    }
    hekv_ckks_swk_free(evk->relin);
    evk->relin = k;
    return HEKV_OK;
}

/* Index of the first element >= g in the ascending list. */
static size_t gal_lower_bound(const hekv_evk *evk, uint64_t g) {
    size_t lo = 0, hi = evk->ngal;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (evk->gal[mid] < g) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

const hekv_swk *hekv__evk_find(const hekv_evk *evk, uint64_t galois) {
    if (!evk) return NULL;
    size_t i = gal_lower_bound(evk, galois);
    return i < evk->ngal && evk->gal[i] == galois ? evk->galk[i] : NULL;
}

/* Puts k in the table as the key of g (replacing one of a lower level). */
static hekv_status evk_put(hekv_evk *evk, uint64_t g, hekv_swk *k) {
    size_t i = gal_lower_bound(evk, g);
    if (i < evk->ngal && evk->gal[i] == g) {
        hekv_ckks_swk_free(evk->galk[i]);
        evk->galk[i] = k;
        return HEKV_OK;
    }
    if (evk->ngal == evk->capgal) {
        size_t cap = evk->capgal ? 2 * evk->capgal : 16;
        uint64_t *gal = realloc(evk->gal, cap * sizeof *gal);
        if (!gal) return HEKV_ERR_NOMEM;
        evk->gal = gal;
        hekv_swk **galk = realloc(evk->galk, cap * sizeof *galk);
        if (!galk) return HEKV_ERR_NOMEM;
        evk->galk = galk;
        evk->capgal = cap;
    }
    memmove(evk->gal + i + 1, evk->gal + i, (evk->ngal - i) * sizeof *evk->gal);
    memmove(evk->galk + i + 1, evk->galk + i, (evk->ngal - i) * sizeof *evk->galk);
    evk->gal[i] = g;
    evk->galk[i] = k;
    evk->ngal++;
    return HEKV_OK;
}

hekv_status hekv_ckks_evk_gen_galois(hekv_evk *evk, const hekv_sk *sk, const uint64_t *galois,
                                     size_t n, int max_level, hekv_err *err) {
    static const char fn[] = "hekv_ckks_evk_gen_galois";
    hekv_status s = check_evk_sk(evk, sk, max_level, fn, err);
    if (s != HEKV_OK) return s;
    if (n && !galois) return hekv_err_set(err, HEKV_ERR_ARG, "%s: galois is NULL", fn);
    const hekv_ckks_params *p = evk->params;
    const int level = key_level(p, max_level);
    const uint64_t m = 2 * (uint64_t)p->n;
    for (size_t i = 0; i < n; i++)
        if (!(galois[i] & 1) || galois[i] >= m)
            return hekv_err_set(err, HEKV_ERR_ARG,
                                "%s: Galois element %llu is not odd and below 2N = %llu", fn,
                                (unsigned long long)galois[i], (unsigned long long)m);
    uint32_t *map = malloc(p->n * sizeof *map);
    hekv_poly gq = {0}, gp = {0};
    if (!map || hekv_poly_new(p->rq, (size_t)p->nq, &gq) != HEKV_OK ||
        hekv_poly_new(p->rp, (size_t)p->np, &gp) != HEKV_OK) {
        s = hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t g = galois[i];
        const hekv_swk *have = hekv__evk_find(evk, g);
        if (have && have->level >= level) continue;
        /* phi_g^-1(s) = s(X^h), h = g^-1 mod 2N, in NTT form over Q and P: the key switches
         * from s to it. h by Newton's iteration for the inverse modulo a power of two
         * (each step doubles the correct low bits; g odd is correct to 3 bits). */
        uint64_t h = g;
        for (int it = 0; it < 5; it++) h *= 2 - g * h;
        h &= m - 1;
        if (hekv_automorph_map_ntt(map, p->logn, h) != HEKV_KERN_OK) {
            s = hekv_err_set(err, HEKV_ERR_ARG, "%s: no automorphism map for %llu", fn,
                             (unsigned long long)h);
            goto done;
        }
        hekv_ring_automorph(p->rq, &gq, &sk->sq, map);
        hekv_ring_automorph(p->rp, &gp, &sk->sp, map);
        gq.ntt = gp.ntt = 1;
        hekv_swk *k = NULL;
        if (hekv__swk_alloc(p, level, NULL, &k) != HEKV_OK) {
            s = hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
            goto done;
        }
        if ((s = hekv__swk_gen(k, &sk->sq, &gq, &gp, err)) != HEKV_OK) {
            hekv_ckks_swk_free(k);
            goto done;
        }
        if ((s = evk_put(evk, g, k)) != HEKV_OK) {
            hekv_ckks_swk_free(k);
            s = hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
            goto done;
        }
    }
    s = HEKV_OK;
done:
    free(map);
    hekv_poly_free(&gq); /* wipes s(X^h) */
    hekv_poly_free(&gp);
    return s;
}

hekv_status hekv_ckks_evk_gen_rotations(hekv_evk *evk, const hekv_sk *sk, const long *rots,
                                        size_t n, int conj, int max_level, hekv_err *err) {
    static const char fn[] = "hekv_ckks_evk_gen_rotations";
    hekv_status s = check_evk_sk(evk, sk, max_level, fn, err);
    if (s != HEKV_OK) return s;
    if (n && !rots) return hekv_err_set(err, HEKV_ERR_ARG, "%s: rots is NULL", fn);
    uint64_t *g = malloc((n + 1) * sizeof *g);
    if (!g) return hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t e = hekv_ckks_galois_rot(evk->params, rots[i]);
        if (e != 1) g[m++] = e; /* rotation by 0 (mod N/2) needs no key */
    }
    if (conj) g[m++] = hekv_ckks_galois_conj(evk->params);
    s = hekv_ckks_evk_gen_galois(evk, sk, g, m, max_level, err);
    free(g);
    return s;
}

/* Index of the first tagged key with tag >= t. */
static size_t swk_lower_bound(const hekv_evk *evk, uint32_t t) {
    size_t lo = 0, hi = evk->nswk;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (evk->swk[mid].tag < t) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

hekv_status hekv_ckks_evk_add_swk(hekv_evk *evk, uint32_t tag, hekv_swk *k, hekv_err *err) {
    static const char fn[] = "hekv_ckks_evk_add_swk";
    if (!evk || !k) {
        hekv_ckks_swk_free(k);
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: NULL argument", fn);
    }
    if (k->params != evk->params) {
        hekv_ckks_swk_free(k);
        return hekv_err_set(err, HEKV_ERR_PARAMS,
                            "%s: the switching key belongs to another parameter set", fn);
    }
    size_t i = swk_lower_bound(evk, tag);
    if (i < evk->nswk && evk->swk[i].tag == tag) {
        hekv_ckks_swk_free(evk->swk[i].k);
        evk->swk[i].k = k;
        return HEKV_OK;
    }
    if (evk->nswk == evk->capswk) {
        size_t cap = evk->capswk ? 2 * evk->capswk : 4;
        hekv__tagged_swk *t = realloc(evk->swk, cap * sizeof *t);
        if (!t) {
            hekv_ckks_swk_free(k);
            return hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
        }
        evk->swk = t;
        evk->capswk = cap;
    }
    memmove(evk->swk + i + 1, evk->swk + i, (evk->nswk - i) * sizeof *evk->swk);
    evk->swk[i].tag = tag;
    evk->swk[i].k = k;
    evk->nswk++;
    return HEKV_OK;
}

const hekv_swk *hekv_ckks_evk_swk(const hekv_evk *evk, uint32_t tag) {
    if (!evk) return NULL;
    size_t i = swk_lower_bound(evk, tag);
    return i < evk->nswk && evk->swk[i].tag == tag ? evk->swk[i].k : NULL;
}

const hekv_ckks_params *hekv_ckks_evk_params(const hekv_evk *evk) {
    return evk ? evk->params : NULL;
}

int hekv_ckks_evk_has_relin(const hekv_evk *evk) { return evk && evk->relin != NULL; }
int hekv_ckks_evk_has_galois(const hekv_evk *evk, uint64_t galois) {
    return hekv__evk_find(evk, galois) != NULL;
}
int hekv_ckks_evk_relin_level(const hekv_evk *evk) {
    return evk && evk->relin ? evk->relin->level : -1;
}
int hekv_ckks_evk_galois_level(const hekv_evk *evk, uint64_t galois) {
    const hekv_swk *k = hekv__evk_find(evk, galois);
    return k ? k->level : -1;
}
size_t hekv_ckks_evk_galois_count(const hekv_evk *evk) { return evk ? evk->ngal : 0; }
uint64_t hekv_ckks_evk_galois_elt(const hekv_evk *evk, size_t i) {
    return evk && i < evk->ngal ? evk->gal[i] : 0;
}
size_t hekv_ckks_evk_swk_count(const hekv_evk *evk) { return evk ? evk->nswk : 0; }
uint32_t hekv_ckks_evk_swk_tag(const hekv_evk *evk, size_t i) {
    return evk && i < evk->nswk ? evk->swk[i].tag : 0;
}
size_t hekv_ckks_evk_bytes(const hekv_evk *evk) {
    if (!evk) return 0;
    size_t b = hekv_ckks_swk_bytes(evk->relin);
    for (size_t i = 0; i < evk->ngal; i++) b += hekv_ckks_swk_bytes(evk->galk[i]);
    for (size_t i = 0; i < evk->nswk; i++) b += hekv_ckks_swk_bytes(evk->swk[i].k);
    return b;
}
