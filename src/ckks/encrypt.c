/* encrypt.c: plaintext and ciphertext objects, secret- and public-key encryption, and
 * decryption. Everything is in NTT form over q_0..q_level; a ciphertext takes the level,
 * scale and slot count of the plaintext it encrypts. Encoding lives in encoder.c and
 * homomorphic operations in eval.c; this file does neither. */
#include <stdlib.h>
#include <string.h>

#include "ckks_int.h"

/* ------------------------------------------------------------------ plaintexts */

hekv_status hekv_ckks_pt_new(const hekv_ckks_params *p, hekv_pt **out, hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_pt_new: out is NULL");
    *out = NULL;
    if (!p) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_pt_new: params is NULL");
    hekv_pt *pt = calloc(1, sizeof *pt);
    if (!pt) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ckks_pt_new: out of memory");
    pt->params = p;
    pt->level = -1;
    *out = pt;
    return HEKV_OK;
}

void hekv_ckks_pt_free(hekv_pt *pt) {
    if (!pt) return;
    hekv__poly_release(&pt->m);
    hekv_memzero(pt, sizeof *pt);
    free(pt);
}

int hekv_ckks_pt_level(const hekv_pt *pt) { return pt ? pt->level : -1; }
double hekv_ckks_pt_scale(const hekv_pt *pt) { return pt ? pt->scale : 0; }
size_t hekv_ckks_pt_slots(const hekv_pt *pt) { return pt ? pt->slots : 0; }

/* ------------------------------------------------------------------ ciphertexts */

hekv_status hekv_ckks_ct_new(const hekv_ckks_params *p, hekv_ct **out, hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_ct_new: out is NULL");
    *out = NULL;
    if (!p) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_ct_new: params is NULL");
    hekv_ct *ct = calloc(1, sizeof *ct);
    if (!ct) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ckks_ct_new: out of memory");
    ct->params = p;
    ct->level = -1;
    *out = ct;
    return HEKV_OK;
}

void hekv_ckks_ct_free(hekv_ct *ct) {
    if (!ct) return;
    hekv__poly_release(&ct->c[0]);
    hekv__poly_release(&ct->c[1]);
    free(ct);
}

int hekv_ckks_ct_level(const hekv_ct *ct) { return ct ? ct->level : -1; }
const hekv_ckks_params *hekv_ckks_ct_params(const hekv_ct *ct) { return ct ? ct->params : NULL; }
const hekv_ckks_params *hekv_ckks_pt_params(const hekv_pt *pt) { return pt ? pt->params : NULL; }
double hekv_ckks_ct_scale(const hekv_ct *ct) { return ct ? ct->scale : 0; }
size_t hekv_ckks_ct_slots(const hekv_ct *ct) { return ct ? ct->slots : 0; }

hekv_status hekv_ckks_ct_copy(hekv_ct *dst, const hekv_ct *src, hekv_err *err) {
    if (!dst || !src) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_ct_copy: NULL argument");
    if (dst->params != src->params)
        return hekv_err_set(err, HEKV_ERR_PARAMS,
                            "hekv_ckks_ct_copy: the ciphertexts belong to different parameters");
    if (dst == src) return HEKV_OK;
    if (src->level < 0) {
        dst->level = -1;
        dst->scale = 0;
        dst->slots = 0;
        dst->has_seed = 0;
        return HEKV_OK;
    }
    if (hekv__ct_resize(dst, src->level) != HEKV_OK)
        return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ckks_ct_copy: out of memory");
    const hekv_ring *rq = src->params->rq;
    for (int i = 0; i < 2; i++) hekv_poly_copy(rq, &dst->c[i], &src->c[i]);
    dst->scale = src->scale;
    dst->slots = src->slots;
    dst->has_seed = src->has_seed;
    memcpy(dst->seed, src->seed, HEKV_SEED_BYTES);
    return HEKV_OK;
}

/* ------------------------------------------------------------------ encryption */

void hekv__ct_seed_expand(const hekv_ckks_params *p, const uint8_t *seed, hekv_poly *c1) {
    /* c1 = a, uniform in NTT form from the seed (limbs 0..level of one stream) */
    hekv_prng prng;
    hekv_prng_init_seed(&prng, seed);
    hekv_sample_uniform(p->rq, &prng, c1);
    c1->ntt = 1;
    hekv_prng_wipe(&prng);
}

static hekv_status check_pt(const hekv_ckks_params *p, const hekv_pt *pt, const char *fn,
                            hekv_err *err) {
    if (pt->params != p)
        return hekv_err_set(err, HEKV_ERR_PARAMS,
                            "%s: the plaintext belongs to other parameters than the key", fn);
    if (pt->level < 0 || pt->level >= p->nq || !pt->m.ntt)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: the plaintext is empty or not encoded (level %d); encode it "
                            "first", fn, pt->level);
    return HEKV_OK;
}

/* e (Gaussian, coefficient form) into poly tmp (limbs set by the caller), then NTT form. */
static void gaussian_ntt(const hekv_ckks_params *p, hekv_prng *prng, int64_t *e,
                         hekv_poly *tmp) {
    hekv_sample_gaussian(prng, e, p->n, p->lit.sigma, HEKV_GAUSS_TAIL);
    hekv_poly_set_small(p->rq, tmp, e);
    hekv_ring_ntt_fwd(p->rq, tmp);
    tmp->ntt = 1;
}

hekv_status hekv_ckks_encrypt_sk(const hekv_sk *sk, hekv_ct *ct, const hekv_pt *pt,
                                 hekv_err *err) {
    static const char fn[] = "hekv_ckks_encrypt_sk";
    if (!sk || !ct || !pt) return hekv_err_set(err, HEKV_ERR_ARG, "%s: NULL argument", fn);
    const hekv_ckks_params *p = sk->params;
    hekv_status s = check_pt(p, pt, fn, err);
    if (s != HEKV_OK) return s;
    if (ct->params != p)
        return hekv_err_set(err, HEKV_ERR_PARAMS,
                            "%s: the ciphertext belongs to other parameters than the key", fn);
    const int level = pt->level;
    int64_t *e = malloc(p->n * sizeof *e);
    hekv_poly tmp = {0};
    if (!e || hekv_poly_new(p->rq, (size_t)level + 1, &tmp) != HEKV_OK ||
        hekv__ct_resize(ct, level) != HEKV_OK) {
        s = hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
        goto done;
    }
    uint8_t seed[HEKV_SEED_BYTES];
    hekv_prng prng;
    if ((s = hekv_os_random(seed, sizeof seed, err)) != HEKV_OK) goto done;
    hekv__ct_seed_expand(p, seed, &ct->c[1]);
    if ((s = hekv_prng_init_os(&prng, err)) != HEKV_OK) goto done;
    gaussian_ntt(p, &prng, e, &tmp);
    hekv_prng_wipe(&prng);
    /* c0 = -a s + e + m */
    hekv_ring_mul(p->rq, &ct->c[0], &ct->c[1], &sk->sq);
    hekv_ring_sub(p->rq, &ct->c[0], &tmp, &ct->c[0]);
    hekv_ring_add(p->rq, &ct->c[0], &ct->c[0], &pt->m);
    ct->c[0].ntt = 1;
    ct->scale = pt->scale;
    ct->slots = pt->slots;
    ct->has_seed = 1;
    memcpy(ct->seed, seed, HEKV_SEED_BYTES);
    s = HEKV_OK;
done:
    if (e) hekv_memzero(e, p->n * sizeof *e);
    free(e);
    hekv_poly_free(&tmp);
    return s;
}

hekv_status hekv_ckks_encrypt_pk(const hekv_pk *pk, hekv_ct *ct, const hekv_pt *pt,
                                 hekv_err *err) {
    static const char fn[] = "hekv_ckks_encrypt_pk";
    if (!pk || !ct || !pt) return hekv_err_set(err, HEKV_ERR_ARG, "%s: NULL argument", fn);
    const hekv_ckks_params *p = pk->params;
    hekv_status s = check_pt(p, pt, fn, err);
    if (s != HEKV_OK) return s;
    if (ct->params != p)
        return hekv_err_set(err, HEKV_ERR_PARAMS,
                            "%s: the ciphertext belongs to other parameters than the key", fn);
    const int level = pt->level;
    const int threads = hekv_ring_threads(p->rq);
    const size_t scratch_limbs = 2 * (size_t)(threads > 0 ? threads : 1);
    int64_t *buf = malloc(3 * p->n * sizeof *buf); /* v, e0, e1 */
    uint64_t *scratch = hekv_alloc_aligned(scratch_limbs * p->n * sizeof(uint64_t));
    if (!buf || !scratch || hekv__ct_resize(ct, level) != HEKV_OK) {
        s = hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
        goto done;
    }
    hekv_prng prng;
    if ((s = hekv_prng_init_os(&prng, err)) != HEKV_OK) goto done;
    /* v ternary; c0 = v b + e0 + m; c1 = v a + e1 (NTT form), in one limb-fused pass */
    int64_t *v = buf, *e[2] = {buf + p->n, buf + 2 * p->n};
    hekv_sample_ternary(&prng, v, p->n);
    hekv_sample_gaussian(&prng, e[0], p->n, p->lit.sigma, HEKV_GAUSS_TAIL);
    hekv_sample_gaussian(&prng, e[1], p->n, p->lit.sigma, HEKV_GAUSS_TAIL);
    hekv_prng_wipe(&prng);
    {
        hekv_poly c0 = ct->c[0], c1 = ct->c[1], m = pt->m, b = pk->b.q, a = pk->a.q;
        c0.limbs = c1.limbs = m.limbs = b.limbs = a.limbs = (size_t)level + 1;
        hekv_poly *outs[2] = {&c0, &c1};
        const hekv_poly *keys[2] = {&b, &a};
        const int64_t *errs[2] = {e[0], e[1]};
        hekv_ring_small_mul_add_ntt(p->rq, outs, v, keys, errs, &m, 2, scratch, scratch_limbs);
    }
    ct->c[0].ntt = ct->c[1].ntt = 1;
    ct->scale = pt->scale;
    ct->slots = pt->slots;
    ct->has_seed = 0;
    s = HEKV_OK;
done:
    if (buf) hekv_memzero(buf, 3 * p->n * sizeof *buf);
    free(buf);
    hekv_free_aligned(scratch);
    return s;
}

hekv_status hekv_ckks_decrypt(const hekv_sk *sk, hekv_pt *pt, const hekv_ct *ct,
                              hekv_err *err) {
    static const char fn[] = "hekv_ckks_decrypt";
    if (!sk || !ct || !pt) return hekv_err_set(err, HEKV_ERR_ARG, "%s: NULL argument", fn);
    const hekv_ckks_params *p = sk->params;
    if (ct->params != p || pt->params != p)
        return hekv_err_set(err, HEKV_ERR_PARAMS,
                            "%s: the ciphertext or plaintext belongs to other parameters than "
                            "the key", fn);
    if (ct->level < 0 || ct->level >= p->nq)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: the ciphertext is empty", fn);
    if (hekv__pt_resize(pt, ct->level) != HEKV_OK)
        return hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    /* m = c0 + c1 s */
    hekv_ring_mul(p->rq, &pt->m, &ct->c[1], &sk->sq);
    hekv_ring_add(p->rq, &pt->m, &pt->m, &ct->c[0]);
    pt->m.ntt = 1;
    pt->scale = ct->scale;
    pt->slots = ct->slots;
    return HEKV_OK;
}
