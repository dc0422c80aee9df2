/* keyreq.c: key requests, the list of evaluation keys a computation needs (hekv/ckks.h),
 * and their generation by the client (hekv/ckks_client.h). A server-side planner
 * (bootstrapping, the packed model) asks for each key at the highest level it uses it at;
 * the request merges repeated asks (the highest level wins), so the client generates every
 * key once and no larger than needed, and the server can check a loaded key set against
 * it before any work. */
#include <stdlib.h>
#include <string.h>

#include "ckks_int.h"

typedef struct {
    uint64_t galois;
    int level;
} req_gal;

struct hekv_ckks_keyreq {
    const hekv_ckks_params *params;
    int relin_level; /* -1: not asked */
    req_gal *gal;    /* sorted by element */
    size_t ngal, cap;
    int enc_hw;      /* 0: no encapsulation pair */
    int enc_level;   /* the level of the key back from the ephemeral secret */
    uint32_t enc_to, enc_from;
};

hekv_status hekv_ckks_keyreq_new(const hekv_ckks_params *p, hekv_ckks_keyreq **out,
                                 hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_keyreq_new: out is NULL");
    *out = NULL;
    if (!p) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_keyreq_new: params are NULL");
    hekv_ckks_keyreq *r = calloc(1, sizeof *r);
    if (!r) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ckks_keyreq_new: out of memory");
    r->params = p;
    r->relin_level = -1;
    *out = r;
    return HEKV_OK;
}

void hekv_ckks_keyreq_free(hekv_ckks_keyreq *r) {
    if (!r) return;
    free(r->gal);
    free(r);
}

static hekv_status check_level(const hekv_ckks_keyreq *r, const char *fn, int level,
                               hekv_err *err) {
    if (!r) return hekv_err_set(err, HEKV_ERR_ARG, "%s: request is NULL", fn);
    if (level < 0 || level >= r->params->nq)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: level %d outside [0, %d]", fn, level,
                            r->params->nq - 1);
    return HEKV_OK;
}

hekv_status hekv_ckks_keyreq_relin(hekv_ckks_keyreq *r, int level, hekv_err *err) {
    hekv_status s = check_level(r, "hekv_ckks_keyreq_relin", level, err);
    if (s == HEKV_OK && level > r->relin_level) r->relin_level = level;
    return s;
}

hekv_status hekv_ckks_keyreq_galois(hekv_ckks_keyreq *r, uint64_t galois, int level,
                                    hekv_err *err) {
    static const char fn[] = "hekv_ckks_keyreq_galois";
    hekv_status s = check_level(r, fn, level, err);
    if (s != HEKV_OK) return s;
    const uint64_t m = 2 * (uint64_t)r->params->n;
    if (!(galois & 1) || galois >= m || galois == 1)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: Galois element %llu is not odd, above 1 and below 2N = %llu",
                            fn, (unsigned long long)galois, (unsigned long long)m);
    size_t lo = 0, hi = r->ngal;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->gal[mid].galois < galois) lo = mid + 1;
        else hi = mid;
    }
    if (lo < r->ngal && r->gal[lo].galois == galois) {
        if (level > r->gal[lo].level) r->gal[lo].level = level;
        return HEKV_OK;
    }
    if (r->ngal == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 16;
        req_gal *g = realloc(r->gal, cap * sizeof *g);
        if (!g) return hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
        r->gal = g, r->cap = cap;
    }
    memmove(r->gal + lo + 1, r->gal + lo, (r->ngal - lo) * sizeof *r->gal);
    r->gal[lo] = (req_gal){galois, level};
    r->ngal++;
    return HEKV_OK;
}

hekv_status hekv_ckks_keyreq_rotation(hekv_ckks_keyreq *r, long k, size_t slots, int level,
                                      hekv_err *err) {
    static const char fn[] = "hekv_ckks_keyreq_rotation";
    if (!r) return hekv_err_set(err, HEKV_ERR_ARG, "%s: request is NULL", fn);
    if (slots < 1 || slots > r->params->n / 2 || (slots & (slots - 1)))
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: %zu slots is not a power of two in "
                            "[1, N/2]", fn, slots);
    if (k % (long)slots == 0) return check_level(r, fn, level, err);
    return hekv_ckks_keyreq_galois(r, hekv_ckks_galois_rot(r->params, k), level, err);
}

hekv_status hekv_ckks_keyreq_encapsulation(hekv_ckks_keyreq *r, int hw, uint32_t tag_to,
                                           uint32_t tag_from, int from_level, hekv_err *err) {
    static const char fn[] = "hekv_ckks_keyreq_encapsulation";
    hekv_status s = check_level(r, fn, from_level, err);
    if (s != HEKV_OK) return s;
    if (hw < 1 || (size_t)hw > r->params->n)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: weight %d outside [1, N]", fn, hw);
    if (tag_to == tag_from)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: the two keys need distinct tags", fn);
    if (r->enc_hw && (r->enc_hw != hw || r->enc_to != tag_to || r->enc_from != tag_from))
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: a different encapsulation pair was asked for already", fn);
    r->enc_hw = hw, r->enc_to = tag_to, r->enc_from = tag_from;
    if (from_level > r->enc_level) r->enc_level = from_level;
    return HEKV_OK;
}

hekv_status hekv_ckks_keyreq_merge(hekv_ckks_keyreq *dst, const hekv_ckks_keyreq *src,
                                   hekv_err *err) {
    static const char fn[] = "hekv_ckks_keyreq_merge";
    if (!dst || !src) return hekv_err_set(err, HEKV_ERR_ARG, "%s: NULL request", fn);
    if (dst->params != src->params)
        return hekv_err_set(err, HEKV_ERR_PARAMS, "%s: requests of two parameter sets", fn);
    hekv_status s = HEKV_OK;
    if (src->relin_level >= 0) s = hekv_ckks_keyreq_relin(dst, src->relin_level, err);
    for (size_t i = 0; i < src->ngal && s == HEKV_OK; i++)
        s = hekv_ckks_keyreq_galois(dst, src->gal[i].galois, src->gal[i].level, err);
    if (s == HEKV_OK && src->enc_hw)
        s = hekv_ckks_keyreq_encapsulation(dst, src->enc_hw, src->enc_to, src->enc_from,
                                           src->enc_level, err);
    return s;
}

int hekv_ckks_keyreq_relin_level(const hekv_ckks_keyreq *r) { return r ? r->relin_level : -1; }
size_t hekv_ckks_keyreq_galois_count(const hekv_ckks_keyreq *r) { return r ? r->ngal : 0; }
uint64_t hekv_ckks_keyreq_galois_elt(const hekv_ckks_keyreq *r, size_t i) {
    return r && i < r->ngal ? r->gal[i].galois : 0;
}
int hekv_ckks_keyreq_galois_level(const hekv_ckks_keyreq *r, size_t i) {
    return r && i < r->ngal ? r->gal[i].level : -1;
}
int hekv_ckks_keyreq_encaps_hw(const hekv_ckks_keyreq *r) { return r ? r->enc_hw : 0; }

/* Bytes of a switching key over levels 0..level with np special primes, in memory. */
static size_t key_bytes(const hekv_ckks_params *p, int level, int np) {
    return (size_t)(level / p->alpha + 1) * 2 * (size_t)(level + 1 + np) * p->n *
           sizeof(uint64_t);
}

size_t hekv_ckks_keyreq_bytes(const hekv_ckks_keyreq *r) {
    if (!r) return 0;
    const hekv_ckks_params *p = r->params;
    size_t b = r->relin_level >= 0 ? key_bytes(p, r->relin_level, p->np) : 0;
    for (size_t i = 0; i < r->ngal; i++) b += key_bytes(p, r->gal[i].level, p->np);
    if (r->enc_hw) b += key_bytes(p, 0, 1) + key_bytes(p, r->enc_level, p->np);
    return b;
}

hekv_status hekv_ckks_keyreq_check(const hekv_ckks_keyreq *r, const hekv_evk *evk,
                                   hekv_err *err) {
    static const char fn[] = "hekv_ckks_keyreq_check";
    if (!r || !evk) return hekv_err_set(err, HEKV_ERR_ARG, "%s: NULL argument", fn);
    if (hekv_ckks_evk_params(evk) != r->params)
        return hekv_err_set(err, HEKV_ERR_PARAMS, "%s: the key set belongs to another set", fn);
    if (r->relin_level >= 0 && hekv_ckks_evk_relin_level(evk) < r->relin_level)
        return hekv_err_set(err, HEKV_ERR_KEY_MISSING,
                            "%s: the relinearisation key is needed up to level %d (the set "
                            "has it up to %d)", fn, r->relin_level,
                            hekv_ckks_evk_relin_level(evk));
    for (size_t i = 0; i < r->ngal; i++) {
        const int have = hekv_ckks_evk_galois_level(evk, r->gal[i].galois);
        if (have < r->gal[i].level)
            return hekv_err_set(err, HEKV_ERR_KEY_MISSING,
                                "%s: the Galois key of element %llu is needed up to level %d "
                                "(%s)", fn, (unsigned long long)r->gal[i].galois,
                                r->gal[i].level, have < 0 ? "missing" : "the set's is lower");
    }
    if (r->enc_hw) {
        const hekv_swk *to = hekv_ckks_evk_swk(evk, r->enc_to);
        const hekv_swk *from = hekv_ckks_evk_swk(evk, r->enc_from);
        if (!to || !from || hekv_ckks_swk_max_level(from) < r->enc_level)
            return hekv_err_set(err, HEKV_ERR_KEY_MISSING,
                                "%s: the sparse-secret encapsulation keys (tags %#x, %#x) are "
                                "missing or too low", fn, r->enc_to, r->enc_from);
    }
    return HEKV_OK;
}

/* ------------------------------------------------------------------ client side */

hekv_status hekv_ckks_evk_gen_request(hekv_evk *evk, const hekv_sk *sk,
                                      const hekv_ckks_keyreq *r, hekv_err *err) {
    static const char fn[] = "hekv_ckks_evk_gen_request";
    if (!evk || !sk || !r) return hekv_err_set(err, HEKV_ERR_ARG, "%s: NULL argument", fn);
    if (hekv_ckks_evk_params(evk) != r->params || sk->params != r->params)
        return hekv_err_set(err, HEKV_ERR_PARAMS,
                            "%s: key set, secret key and request must share one set", fn);
    hekv_status s = HEKV_OK;
    if (r->relin_level >= 0) s = hekv_ckks_evk_gen_relin(evk, sk, r->relin_level, err);
    for (size_t i = 0; i < r->ngal && s == HEKV_OK; i++)
        s = hekv_ckks_evk_gen_galois(evk, sk, &r->gal[i].galois, 1, r->gal[i].level, err);
    if (s != HEKV_OK || !r->enc_hw) return s;
    /* a fresh ephemeral sparse secret, met only by the two keys, wiped at once */
    hekv_sk *eph = NULL;
    hekv_swk *to = NULL, *from = NULL;
    s = hekv_ckks_sk_new_sparse(r->params, r->enc_hw, &eph, err);
    if (s == HEKV_OK) s = hekv_ckks_swk_new(sk, eph, 0, 1, &to, err);
    if (s == HEKV_OK) s = hekv_ckks_swk_new(eph, sk, r->enc_level, 0, &from, err);
    hekv_ckks_sk_free(eph);
    if (s == HEKV_OK) {
        s = hekv_ckks_evk_add_swk(evk, r->enc_to, to, err);
        to = NULL;
    }
    if (s == HEKV_OK) {
        s = hekv_ckks_evk_add_swk(evk, r->enc_from, from, err);
        from = NULL;
    }
    hekv_ckks_swk_free(to);
    hekv_ckks_swk_free(from);
    return s;
}
