/* serial.c: the bodies of the CKKS objects in the hekv container (src/base/container.h):
 * parameter sets, secret keys, public keys, evaluation-key bundles, ciphertexts and
 * plaintexts. The container (magic, version, type, flags, length, fingerprint, set name,
 * checksum) and the byte codec (src/base/codec.h) are the base layer's; the file calls are
 * hekv_file_write / hekv_file_read. All integers little-endian.
 *
 *   params  u8 logn, nq, np, dnum, log_scale, secret, insecure, 0; u32 hw; u32 0;
 *           f64 sigma; u8 logq[nq]; u8 logp[np]
 *   sk      u32 N, u32 0; N ternary coefficients, 2 bits each (0 -> 0, 1 -> 1, -1 -> 3)
 *   pk      u32 nq, u32 np; b over Q and P; then the 32-byte seed of a (flag bit 0) or a
 *   evk     u8 has_relin, u8 0 x3; u32 ngal; u32 nswk; u32 dnum; u32 nq; u32 np;
 *           u64 galois[ngal] (strictly ascending, odd, < 2N); u32 tag[nswk] (strictly
 *           ascending); then every key, relinearisation first, then the Galois keys, then
 *           the tagged switching keys, each as
 *             u8 flags (bit 0 = seeded), u8 level, u8 special primes, u8 0;
 *             b_j over Q[0..level] and P[0..special) for every digit j <= level / alpha;
 *             then the seed of the a_j (seeded) or every a_j
 *   ct      u32 level, u32 0; f64 scale; u64 slots; c0 over q_0..q_level;
 *           then the seed of c1 (flag bit 0) or c1 over q_0..q_level
 *   pt      u32 level, u32 0; f64 scale; u64 slots; m over q_0..q_level
 *
 * Polynomials are written limb by limb in NTT form, each residue mod a b-bit prime in
 * exactly b bits (hekv_wr_limb). Seed-compressed objects store the 32-byte seed of their
 * uniform polynomial instead of it; the loader re-expands it with the generator's own
 * function (hekv__ct_seed_expand, hekv__pk_seed_expand, hekv__swk_expand). A parameter file
 * holds the literal; the loader rebuilds the set with hekv_ckks_params_new (which applies
 * every security rule to it) and requires the rebuilt fingerprint to equal the stored one.
 *
 * Loaders check, in this order and before allocating anything sized by the file: the
 * container (hekv_cont_open), the fingerprint (HEKV_ERR_PARAMS: another parameter set),
 * then every header field (ranges, enums, scale finite and > 0, slots a power of two
 * <= N/2, sizes against the length) and every residue (< q_i); only then is the object
 * built. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckks_int.h"

#define FLAG_SEEDED 1u

/* ---- polynomials ---------------------------------------------------------------------- */

static size_t ring_bytes(const hekv_ring *r, size_t limbs) {
    size_t b = 0, n = hekv_ring_n(r);
    for (size_t i = 0; i < limbs; i++)
        b += hekv_codec_limb_bytes(n, hekv_ring_modulus(r, (int)i)->bits);
    return b;
}

/* Limbs [0, limbs) of x in ring r. */
static void wr_poly(hekv_wr *w, const hekv_ring *r, const hekv_poly *x, size_t limbs) {
    for (size_t i = 0; i < limbs; i++)
        hekv_wr_limb(w, x->c + i * x->n, x->n, hekv_ring_modulus(r, (int)i)->bits);
}

/* Checks that limbs [0, limbs) of ring rg follow at r and lie below their primes; reads
 * them into x when x is given (NTT form). `what` names the polynomial. */
static hekv_status rd_poly(hekv_rd *r, hekv_obj_type type, const hekv_ring *rg, size_t limbs,
                           hekv_poly *x, const char *what, hekv_err *err) {
    const size_t n = hekv_ring_n(rg);
    for (size_t i = 0; i < limbs; i++) {
        const hekv_modulus *m = hekv_ring_modulus(rg, (int)i);
        if (!hekv_rd_has(r, hekv_codec_limb_bytes(n, m->bits))) {
            char w[96];
            snprintf(w, sizeof w, "%s limb %zu", what, i);
            return hekv_cont_truncated(r, type, w, err);
        }
        size_t bad = hekv_rd_limb(r, x ? x->c + i * n : NULL, n, m->bits, m->q);
        if (bad != n)
            return hekv_err_set(err, HEKV_ERR_FORMAT,
                                "%s file: %s limb %zu coefficient %zu is not below its prime "
                                "%llu (corrupted or forged file)",
                                hekv_obj_type_name(type), what, i, bad, (unsigned long long)m->q);
    }
    if (x) x->ntt = 1;
    return HEKV_OK;
}

static hekv_status rd_seed(hekv_rd *r, hekv_obj_type type, uint8_t *seed, const char *what,
                           hekv_err *err) {
    if (!hekv_rd_has(r, HEKV_SEED_BYTES)) return hekv_cont_truncated(r, type, what, err);
    hekv_rd_bytes(r, seed, HEKV_SEED_BYTES);
    return HEKV_OK;
}

static hekv_status save_args(const void *obj, const void *out, const char *fn, hekv_err *err) {
    if (!obj || !out) return hekv_err_set(err, HEKV_ERR_ARG, "%s: NULL argument", fn);
    return HEKV_OK;
}

static hekv_status begin(hekv_wr *w, size_t body, hekv_obj_type type, unsigned flags,
                         const hekv_ckks_params *p, hekv_err *err) {
    return hekv_cont_begin(w, body, type, flags, p->fingerprint, p->lit.name, err);
}

static hekv_status open_obj(hekv_rd *r, const hekv_ckks_params *p, const uint8_t *data,
                            size_t len, hekv_obj_type type, unsigned flags,
                            hekv_file_info *info, hekv_err *err) {
    if (!data) return hekv_err_set(err, HEKV_ERR_ARG, "loading a %s: no data", hekv_obj_type_name(type));
    return hekv_cont_open(r, data, len, type, flags, p ? p->fingerprint : NULL,
                          p ? p->lit.name : NULL, info, err);
}

/* ---- parameters ------------------------------------------------------------------------ */

#define PARAMS_HDR 24

hekv_status hekv_ckks_params_save(const hekv_ckks_params *p, hekv_buf *out, hekv_err *err) {
    hekv_status s = save_args(p, out, "hekv_ckks_params_save", err);
    if (s != HEKV_OK) return s;
    const hekv_ckks_params_lit *l = &p->lit;
    hekv_wr w;
    if ((s = begin(&w, PARAMS_HDR + (size_t)l->nq + (size_t)l->np, HEKV_OBJ_PARAMS, 0, p,
                   err)) != HEKV_OK)
        return s;
    hekv_wr_u8(&w, (uint64_t)l->logn);
    hekv_wr_u8(&w, (uint64_t)l->nq);
    hekv_wr_u8(&w, (uint64_t)l->np);
    hekv_wr_u8(&w, (uint64_t)l->dnum);
    hekv_wr_u8(&w, (uint64_t)l->log_scale);
    hekv_wr_u8(&w, (uint64_t)l->secret);
    hekv_wr_u8(&w, (uint64_t)(l->insecure != 0));
    hekv_wr_u8(&w, 0);
    hekv_wr_u32(&w, (uint64_t)(uint32_t)l->hw);
    hekv_wr_u32(&w, 0);
    hekv_wr_f64(&w, l->sigma);
    for (int i = 0; i < l->nq; i++) hekv_wr_u8(&w, (uint64_t)l->logq[i]);
    for (int i = 0; i < l->np; i++) hekv_wr_u8(&w, (uint64_t)l->logp[i]);
    hekv_cont_finish(&w, out);
    return HEKV_OK;
}

hekv_status hekv_ckks_params_load(const uint8_t *data, size_t len, const hekv_ckks_opts *opts,
                                  hekv_ckks_params **out, hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_params_load: out is NULL");
    *out = NULL;
    hekv_rd r;
    hekv_file_info info;
    hekv_status s = open_obj(&r, NULL, data, len, HEKV_OBJ_PARAMS, 0, &info, err);
    if (s != HEKV_OK) return s;
    if (!hekv_rd_has(&r, PARAMS_HDR)) return hekv_cont_truncated(&r, HEKV_OBJ_PARAMS, "its header", err);
    hekv_ckks_params_lit lit;
    memset(&lit, 0, sizeof lit);
    /* The name: non-empty, then NUL padding only (it is hashed into the fingerprint). */
    size_t nl = strnlen((const char *)data + 32, 32);
    int padbad = nl == 0 || nl == 32;
    for (size_t i = nl; i < 32; i++) padbad |= data[32 + i] != 0;
    if (padbad)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "parameter file: set name is empty or not NUL-padded");
    memcpy(lit.name, data + 32, nl);
    lit.logn = (int)hekv_rd_u8(&r);
    lit.nq = (int)hekv_rd_u8(&r);
    lit.np = (int)hekv_rd_u8(&r);
    lit.dnum = (int)hekv_rd_u8(&r);
    lit.log_scale = (int)hekv_rd_u8(&r);
    const unsigned secret = (unsigned)hekv_rd_u8(&r);
    const unsigned insecure = (unsigned)hekv_rd_u8(&r);
    const unsigned pad0 = (unsigned)hekv_rd_u8(&r);
    const uint32_t hw = (uint32_t)hekv_rd_u32(&r);
    const uint32_t pad1 = (uint32_t)hekv_rd_u32(&r);
    const double sigma = hekv_rd_f64(&r);
    if (lit.logn < 10 || lit.logn > 17)
        return hekv_err_set(err, HEKV_ERR_FORMAT, "parameter file: logn %d outside 10..17",
                            lit.logn);
    if (lit.nq < 1 || lit.nq > HEKV_CKKS_MAX_Q)
        return hekv_err_set(err, HEKV_ERR_FORMAT, "parameter file: %d ciphertext primes "
                            "(want 1..%d)", lit.nq, HEKV_CKKS_MAX_Q);
    if (lit.np < 1 || lit.np > HEKV_CKKS_MAX_P)
        return hekv_err_set(err, HEKV_ERR_FORMAT, "parameter file: %d special primes "
                            "(want 1..%d)", lit.np, HEKV_CKKS_MAX_P);
    if (lit.dnum < 1 || lit.dnum > lit.nq)
        return hekv_err_set(err, HEKV_ERR_FORMAT, "parameter file: dnum %d outside 1..%d",
                            lit.dnum, lit.nq);
    if (secret != HEKV_SECRET_TERNARY && secret != HEKV_SECRET_SPARSE)
        return hekv_err_set(err, HEKV_ERR_FORMAT, "parameter file: unknown secret "
                            "distribution %u", secret);
    if (insecure > 1 || pad0 || pad1)
        return hekv_err_set(err, HEKV_ERR_FORMAT, "parameter file: malformed flag or "
                            "reserved field (insecure %u, reserved %u %u)", insecure, pad0,
                            (unsigned)pad1);
    if (hw > ((uint32_t)1 << lit.logn))
        return hekv_err_set(err, HEKV_ERR_FORMAT, "parameter file: Hamming weight %u exceeds "
                            "N = %u", (unsigned)hw, 1u << lit.logn);
    if (!isfinite(sigma) || !(sigma > 0) || sigma > 64)
        return hekv_err_set(err, HEKV_ERR_FORMAT, "parameter file: sigma %g outside (0, 64]",
                            sigma);
    if (lit.log_scale < 1 || lit.log_scale > 60)
        return hekv_err_set(err, HEKV_ERR_FORMAT, "parameter file: log_scale %d outside 1..60",
                            lit.log_scale);
    if (!hekv_rd_has(&r, (size_t)lit.nq + (size_t)lit.np))
        return hekv_cont_truncated(&r, HEKV_OBJ_PARAMS, "its prime sizes", err);
    for (int i = 0; i < lit.nq + lit.np; i++) {
        int b = (int)hekv_rd_u8(&r);
        if (b < 2 || b > HEKV_CKKS_MAX_PRIME_BITS)
            return hekv_err_set(err, HEKV_ERR_FORMAT, "parameter file: %s prime %d has %d bits "
                                "(want 2..%d)", i < lit.nq ? "ciphertext" : "special",
                                i < lit.nq ? i : i - lit.nq, b, HEKV_CKKS_MAX_PRIME_BITS);
        if (i < lit.nq)
            lit.logq[i] = b;
        else
            lit.logp[i - lit.nq] = b;
    }
    if ((s = hekv_cont_close(&r, HEKV_OBJ_PARAMS, err)) != HEKV_OK) return s;
    lit.secret = (hekv_secret_dist)secret;
    lit.hw = (int)hw;
    lit.sigma = sigma;
    lit.insecure = (int)insecure;
    /* the same rules as a literal built in code: an insecure flag only for toy/bench
     * names, the standard sigma, the 128-bit bound */
    hekv_ckks_params *p = NULL;
    if ((s = hekv_ckks_params_new(&lit, opts, &p, err)) != HEKV_OK) return s;
    if (memcmp(info.fingerprint, p->fingerprint, HEKV_FINGERPRINT_BYTES)) {
        hekv_ckks_params_free(p);
        return hekv_err_set(err, HEKV_ERR_PARAMS,
                            "parameter file for set '%s': the set rebuilt from its fields has a "
                            "different fingerprint (a forged field, or a file from another "
                            "hekv version); re-create it with this version",
                            lit.name);
    }
    *out = p;
    return HEKV_OK;
}

/* ---- secret key ----------------------------------------------------------------------- */

#define SK_HDR 8

hekv_status hekv_ckks_sk_save(const hekv_sk *sk, hekv_buf *out, hekv_err *err) {
    hekv_status s = save_args(sk, out, "hekv_ckks_sk_save", err);
    if (s != HEKV_OK) return s;
    const hekv_ckks_params *p = sk->params;
    const size_t n = p->n;
    /* 2-bit codes c & 3 (0, 1, 3 for -1), branch-free; a non-ternary coefficient is a
     * broken key, checked without branching on the values. */
    uint64_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t u = (uint64_t)sk->coeffs[i] + 1; /* valid: u in {0,1,2} */
        bad |= (u & ~(uint64_t)3) | ((u >> 1) & u & 1);
    }
    if (bad)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "hekv_ckks_sk_save: the secret key has coefficients outside "
                            "{-1, 0, 1}; only ternary keys can be saved");
    hekv_wr w;
    if ((s = begin(&w, SK_HDR + n / 4, HEKV_OBJ_SK, 0, p, err)) != HEKV_OK) return s;
    hekv_wr_u32(&w, n);
    hekv_wr_u32(&w, 0);
    for (size_t i = 0; i < n; i += 4) {
        uint8_t byte = 0;
        for (size_t k = 0; k < 4; k++) byte |= (uint8_t)(((uint64_t)sk->coeffs[i + k] & 3) << (2 * k));
        hekv_wr_u8(&w, byte);
    }
    hekv_cont_finish(&w, out);
    return HEKV_OK;
}

hekv_status hekv_ckks_sk_load(const hekv_ckks_params *p, const uint8_t *data, size_t len,
                              hekv_sk **out, hekv_err *err) {
    if (!out || !p) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_sk_load: NULL argument");
    *out = NULL;
    hekv_rd r;
    hekv_file_info info;
    hekv_status s = open_obj(&r, p, data, len, HEKV_OBJ_SK, 0, &info, err);
    if (s != HEKV_OK) return s;
    if (!hekv_rd_has(&r, SK_HDR)) return hekv_cont_truncated(&r, HEKV_OBJ_SK, "its header", err);
    const uint64_t n = hekv_rd_u32(&r), pad = hekv_rd_u32(&r);
    if (n != p->n || pad)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "secret key file: ring degree %llu (reserved %llu), the set has %zu",
                            (unsigned long long)n, (unsigned long long)pad, p->n);
    const uint8_t *code = hekv_rd_skip(&r, (size_t)n / 4);
    if (!code) return hekv_cont_truncated(&r, HEKV_OBJ_SK, "its coefficients", err);
    if ((s = hekv_cont_close(&r, HEKV_OBJ_SK, err)) != HEKV_OK) return s;
    /* Constant-time scan for the invalid code 2 and the Hamming weight. */
    uint64_t bad = 0, hw = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned c = (code[i / 4] >> (2 * (i % 4))) & 3;
        bad |= (c >> 1) & ~c & 1;
        hw += (c | (c >> 1)) & 1;
    }
    if (bad)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "secret key file: a coefficient code is not ternary (corrupted or "
                            "forged file)");
    if (p->lit.secret == HEKV_SECRET_SPARSE && hw != (uint64_t)p->lit.hw)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "secret key file: Hamming weight %llu, the set's sparse secret has "
                            "%d", (unsigned long long)hw, p->lit.hw);
    int64_t *c = calloc(n, sizeof *c);
    if (!c) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ckks_sk_load: out of memory");
    for (size_t i = 0; i < n; i++) {
        unsigned v = (code[i / 4] >> (2 * (i % 4))) & 3;
        c[i] = (int64_t)(v & 1) - 2 * (int64_t)((v >> 1) & 1);
    }
    s = hekv__sk_from_coeffs(p, c, out, err);
    hekv_memzero(c, n * sizeof *c);
    free(c);
    return s;
}

/* ---- public key ----------------------------------------------------------------------- */

#define PK_HDR 8

hekv_status hekv_ckks_pk_save(const hekv_pk *pk, hekv_buf *out, hekv_err *err) {
    hekv_status s = save_args(pk, out, "hekv_ckks_pk_save", err);
    if (s != HEKV_OK) return s;
    const hekv_ckks_params *p = pk->params;
    const size_t qb = ring_bytes(p->rq, (size_t)p->nq), pb = ring_bytes(p->rp, (size_t)p->np);
    const int seeded = pk->has_seed != 0;
    hekv_wr w;
    if ((s = begin(&w, PK_HDR + qb + pb + (seeded ? HEKV_SEED_BYTES : qb + pb), HEKV_OBJ_PK,
                   seeded ? FLAG_SEEDED : 0, p, err)) != HEKV_OK)
        return s;
    hekv_wr_u32(&w, (uint64_t)p->nq);
    hekv_wr_u32(&w, (uint64_t)p->np);
    wr_poly(&w, p->rq, &pk->b.q, (size_t)p->nq);
    wr_poly(&w, p->rp, &pk->b.p, (size_t)p->np);
    if (seeded) {
        hekv_wr_bytes(&w, pk->seed, HEKV_SEED_BYTES);
    } else {
        wr_poly(&w, p->rq, &pk->a.q, (size_t)p->nq);
        wr_poly(&w, p->rp, &pk->a.p, (size_t)p->np);
    }
    hekv_cont_finish(&w, out);
    return HEKV_OK;
}

/* Checks the nq/np pair of a pk or evk header against the set. */
static hekv_status check_limbs(hekv_obj_type type, uint64_t nq, uint64_t np,
                               const hekv_ckks_params *p, hekv_err *err) {
    if (nq != (uint64_t)p->nq || np != (uint64_t)p->np)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "%s file: %llu + %llu limbs, the set has %d + %d",
                            hekv_obj_type_name(type), (unsigned long long)nq,
                            (unsigned long long)np, p->nq, p->np);
    return HEKV_OK;
}

/* The body of a public key after its header: checked (pk NULL) or read. */
static hekv_status pk_body(hekv_rd *r, const hekv_ckks_params *p, int seeded, hekv_pk *pk,
                           hekv_err *err) {
    const hekv_obj_type T = HEKV_OBJ_PK;
    hekv_status s;
    if ((s = rd_poly(r, T, p->rq, (size_t)p->nq, pk ? &pk->b.q : NULL, "b (Q)", err)) ||
        (s = rd_poly(r, T, p->rp, (size_t)p->np, pk ? &pk->b.p : NULL, "b (P)", err)))
        return s;
    if (seeded) {
        uint8_t seed[HEKV_SEED_BYTES];
        if ((s = rd_seed(r, T, seed, "the seed of a", err))) return s;
        if (pk) {
            memcpy(pk->seed, seed, sizeof seed);
            pk->has_seed = 1;
            hekv__pk_seed_expand(p, pk->seed, &pk->a);
        }
        return HEKV_OK;
    }
    if ((s = rd_poly(r, T, p->rq, (size_t)p->nq, pk ? &pk->a.q : NULL, "a (Q)", err)))
        return s;
    return rd_poly(r, T, p->rp, (size_t)p->np, pk ? &pk->a.p : NULL, "a (P)", err);
}

hekv_status hekv_ckks_pk_load(const hekv_ckks_params *p, const uint8_t *data, size_t len,
                              hekv_pk **out, hekv_err *err) {
    if (!out || !p) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_pk_load: NULL argument");
    *out = NULL;
    hekv_rd r;
    hekv_file_info info;
    hekv_status s = open_obj(&r, p, data, len, HEKV_OBJ_PK, FLAG_SEEDED, &info, err);
    if (s != HEKV_OK) return s;
    if (!hekv_rd_has(&r, PK_HDR)) return hekv_cont_truncated(&r, HEKV_OBJ_PK, "its header", err);
    const uint64_t nq = hekv_rd_u32(&r), np = hekv_rd_u32(&r);
    if ((s = check_limbs(HEKV_OBJ_PK, nq, np, p, err)) != HEKV_OK) return s;
    const int seeded = (info.flags & FLAG_SEEDED) != 0;
    const hekv_rd body = r;
    if ((s = pk_body(&r, p, seeded, NULL, err)) != HEKV_OK) return s;
    if ((s = hekv_cont_close(&r, HEKV_OBJ_PK, err)) != HEKV_OK) return s;
    hekv_pk *pk = calloc(1, sizeof *pk);
    if (!pk || hekv__qp_new(p, p->nq - 1, p->np, &pk->b) != HEKV_OK ||
        hekv__qp_new(p, p->nq - 1, p->np, &pk->a) != HEKV_OK) {
        hekv_ckks_pk_free(pk);
        return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ckks_pk_load: out of memory");
    }
    pk->params = p;
    r = body;
    s = pk_body(&r, p, seeded, pk, err);
    HEKV_CHECK_INTERNAL(s == HEKV_OK);
    *out = pk;
    return HEKV_OK;
}

/* ---- evaluation keys ------------------------------------------------------------------ */

#define EVK_HDR 24
#define SWK_HDR 4

static size_t swk_body_bytes(const hekv_swk *k) {
    const hekv_ckks_params *p = k->params;
    const size_t qp = ring_bytes(p->rq, (size_t)k->level + 1) + ring_bytes(p->rp, (size_t)k->ksb->np);
    return SWK_HDR + (size_t)k->ndigits * qp +
           (k->has_seed ? HEKV_SEED_BYTES : (size_t)k->ndigits * qp);
}

static void wr_swk(hekv_wr *w, const hekv_swk *k) {
    const hekv_ckks_params *p = k->params;
    const size_t lq = (size_t)k->level + 1, lp = (size_t)k->ksb->np;
    hekv_wr_u8(w, k->has_seed ? FLAG_SEEDED : 0);
    hekv_wr_u8(w, (uint64_t)k->level);
    hekv_wr_u8(w, lp);
    hekv_wr_u8(w, 0);
    for (int j = 0; j < k->ndigits; j++) {
        wr_poly(w, p->rq, &k->b[j].q, lq);
        wr_poly(w, p->rp, &k->b[j].p, lp);
    }
    if (k->has_seed) {
        hekv_wr_bytes(w, k->seed, HEKV_SEED_BYTES);
        return;
    }
    for (int j = 0; j < k->ndigits; j++) {
        wr_poly(w, p->rq, &k->a[j].q, lq);
        wr_poly(w, p->rp, &k->a[j].p, lp);
    }
}

hekv_status hekv_ckks_evk_save(const hekv_evk *evk, hekv_buf *out, hekv_err *err) {
    hekv_status s = save_args(evk, out, "hekv_ckks_evk_save", err);
    if (s != HEKV_OK) return s;
    const hekv_ckks_params *p = evk->params;
    size_t body = EVK_HDR + 8 * evk->ngal + 4 * evk->nswk;
    if (evk->relin) body += swk_body_bytes(evk->relin);
    for (size_t i = 0; i < evk->ngal; i++) body += swk_body_bytes(evk->galk[i]);
    for (size_t i = 0; i < evk->nswk; i++) body += swk_body_bytes(evk->swk[i].k);
    hekv_wr w;
    if ((s = begin(&w, body, HEKV_OBJ_EVK, 0, p, err)) != HEKV_OK) return s;
    hekv_wr_u8(&w, evk->relin ? 1 : 0);
    hekv_wr_uint(&w, 0, 3);
    hekv_wr_u32(&w, evk->ngal);
    hekv_wr_u32(&w, evk->nswk);
    hekv_wr_u32(&w, (uint64_t)p->dnum);
    hekv_wr_u32(&w, (uint64_t)p->nq);
    hekv_wr_u32(&w, (uint64_t)p->np);
    for (size_t i = 0; i < evk->ngal; i++) hekv_wr_u64(&w, evk->gal[i]);
    for (size_t i = 0; i < evk->nswk; i++) hekv_wr_u32(&w, evk->swk[i].tag);
    if (evk->relin) wr_swk(&w, evk->relin);
    for (size_t i = 0; i < evk->ngal; i++) wr_swk(&w, evk->galk[i]);
    for (size_t i = 0; i < evk->nswk; i++) wr_swk(&w, evk->swk[i].k);
    hekv_cont_finish(&w, out);
    return HEKV_OK;
}

/* One switching key at r: checked (out NULL) or built into *out. The basis of a key with
 * fewer special primes than the set is built here (its plans are not stored). */
static hekv_status rd_swk(hekv_rd *r, const hekv_ckks_params *p, const char *what,
                          hekv_swk **out, hekv_err *err) {
    const hekv_obj_type T = HEKV_OBJ_EVK;
    if (!hekv_rd_has(r, SWK_HDR)) return hekv_cont_truncated(r, T, what, err);
    const unsigned flags = (unsigned)hekv_rd_u8(r);
    const int level = (int)hekv_rd_u8(r), np = (int)hekv_rd_u8(r), pad = (int)hekv_rd_u8(r);
    if ((flags & ~FLAG_SEEDED) || pad)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "evaluation key file: %s has unknown flags 0x%02x", what, flags);
    if (level >= p->nq || np < 1 || np > p->np)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "evaluation key file: %s at level %d with %d special primes (the "
                            "set has levels 0..%d and %d special primes)",
                            what, level, np, p->nq - 1, p->np);
    hekv_swk *k = NULL;
    hekv__ksb *own = NULL;
    hekv_status s = HEKV_OK;
    if (out) {
        if (np < p->np) {
            if (!(own = calloc(1, sizeof *own)))
                return hekv_err_set(err, HEKV_ERR_NOMEM, "evaluation key file: out of memory");
            if ((s = hekv__ksb_init(p, np, level, own, err)) != HEKV_OK) {
                free(own);
                return s;
            }
        }
        if (hekv__swk_alloc(p, level, own, &k) != HEKV_OK) {
            if (own) hekv__ksb_release(own);
            free(own);
            return hekv_err_set(err, HEKV_ERR_NOMEM, "evaluation key file: out of memory");
        }
        k->own_ksb = own;
    }
    const int ndig = level / p->alpha + 1;
    char name[96];
    for (int j = 0; j < ndig && !s; j++) {
        snprintf(name, sizeof name, "%s b_%d (Q)", what, j);
        s = rd_poly(r, T, p->rq, (size_t)level + 1, k ? &k->b[j].q : NULL, name, err);
        snprintf(name, sizeof name, "%s b_%d (P)", what, j);
        if (!s) s = rd_poly(r, T, p->rp, (size_t)np, k ? &k->b[j].p : NULL, name, err);
    }
    if (!s && (flags & FLAG_SEEDED)) {
        uint8_t seed[HEKV_SEED_BYTES];
        s = rd_seed(r, T, seed, what, err);
        if (!s && k) {
            memcpy(k->seed, seed, sizeof seed);
            k->has_seed = 1;
            hekv__swk_expand(k);
        }
    } else {
        for (int j = 0; j < ndig && !s; j++) {
            snprintf(name, sizeof name, "%s a_%d (Q)", what, j);
            s = rd_poly(r, T, p->rq, (size_t)level + 1, k ? &k->a[j].q : NULL, name, err);
            snprintf(name, sizeof name, "%s a_%d (P)", what, j);
            if (!s) s = rd_poly(r, T, p->rp, (size_t)np, k ? &k->a[j].p : NULL, name, err);
        }
    }
    if (s) {
        hekv_ckks_swk_free(k);
        return s;
    }
    if (out) *out = k;
    return HEKV_OK;
}

/* The keys of an evaluation-key body from r (after its tables): checked (evk NULL) or
 * read into evk. gal and tags point at the tables in the buffer. */
static hekv_status evk_keys(hekv_rd *r, const hekv_ckks_params *p, int has_relin,
                            size_t ngal, size_t nswk, const uint8_t *gal, const uint8_t *tags,
                            hekv_evk *evk, hekv_err *err) {
    hekv_rd t;
    char what[64];
    hekv_status s = HEKV_OK;
    if (has_relin) {
        if ((s = rd_swk(r, p, "the relinearisation key", evk ? &evk->relin : NULL, err)))
            return s;
    }
    hekv_rd_init(&t, gal, 8 * ngal);
    for (size_t i = 0; i < ngal && !s; i++) {
        const uint64_t g = hekv_rd_u64(&t);
        snprintf(what, sizeof what, "Galois key %llu", (unsigned long long)g);
        s = rd_swk(r, p, what, evk ? &evk->galk[i] : NULL, err);
        if (!s && evk) evk->gal[i] = g, evk->ngal = i + 1;
    }
    hekv_rd_init(&t, tags, 4 * nswk);
    for (size_t i = 0; i < nswk && !s; i++) {
        const uint32_t tag = (uint32_t)hekv_rd_u32(&t);
        snprintf(what, sizeof what, "switching key 0x%08x", (unsigned)tag);
        s = rd_swk(r, p, what, evk ? &evk->swk[i].k : NULL, err);
        if (!s && evk) evk->swk[i].tag = tag, evk->nswk = i + 1;
    }
    return s;
}

hekv_status hekv_ckks_evk_load(const hekv_ckks_params *p, const uint8_t *data, size_t len,
                               hekv_evk **out, hekv_err *err) {
    if (!out || !p) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_evk_load: NULL argument");
    *out = NULL;
    const hekv_obj_type T = HEKV_OBJ_EVK;
    hekv_rd r;
    hekv_file_info info;
    hekv_status s = open_obj(&r, p, data, len, T, 0, &info, err);
    if (s != HEKV_OK) return s;
    if (!hekv_rd_has(&r, EVK_HDR)) return hekv_cont_truncated(&r, T, "its header", err);
    const uint64_t has_relin = hekv_rd_u8(&r), pad0 = hekv_rd_uint(&r, 3);
    const uint64_t ngal = hekv_rd_u32(&r), nswk = hekv_rd_u32(&r), dnum = hekv_rd_u32(&r);
    const uint64_t nq = hekv_rd_u32(&r), np = hekv_rd_u32(&r);
    if (has_relin > 1 || pad0)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "evaluation key file: malformed relinearisation flag %llu or "
                            "reserved fields", (unsigned long long)has_relin);
    if (dnum != (uint64_t)p->dnum)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "evaluation key file: dnum %llu, the set has %d",
                            (unsigned long long)dnum, p->dnum);
    if ((s = check_limbs(T, nq, np, p, err)) != HEKV_OK) return s;
    /* At most N distinct odd elements below 2N; tags are 32-bit. Each key needs at least
     * its header, so the counts are bounded by the length before anything is allocated. */
    if (ngal > p->n || nswk > len / SWK_HDR)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "evaluation key file: %llu Galois keys and %llu switching keys do "
                            "not fit (at most %zu Galois keys exist)",
                            (unsigned long long)ngal, (unsigned long long)nswk, p->n);
    const uint8_t *gal = hekv_rd_skip(&r, 8 * (size_t)ngal);
    const uint8_t *tags = gal ? hekv_rd_skip(&r, 4 * (size_t)nswk) : NULL;
    if (!gal || !tags) return hekv_cont_truncated(&r, T, "its key tables", err);
    hekv_rd t;
    hekv_rd_init(&t, gal, 8 * (size_t)ngal);
    for (uint64_t i = 0, prev = 0; i < ngal; i++) {
        uint64_t g = hekv_rd_u64(&t);
        if (!(g & 1) || g >= 2 * (uint64_t)p->n || (i && g <= prev))
            return hekv_err_set(err, HEKV_ERR_FORMAT,
                                "evaluation key file: Galois element %llu = %llu is not odd, "
                                "below 2N = %zu and above the previous one",
                                (unsigned long long)i, (unsigned long long)g, 2 * p->n);
        prev = g;
    }
    hekv_rd_init(&t, tags, 4 * (size_t)nswk);
    for (uint64_t i = 0, prev = 0; i < nswk; i++) {
        uint64_t g = hekv_rd_u32(&t);
        if (i && g <= prev)
            return hekv_err_set(err, HEKV_ERR_FORMAT,
                                "evaluation key file: switching-key tags are not strictly "
                                "ascending (tag %llu)", (unsigned long long)i);
        prev = g;
    }
    const hekv_rd body = r;
    if ((s = evk_keys(&r, p, (int)has_relin, ngal, nswk, gal, tags, NULL, err)) != HEKV_OK)
        return s;
    if ((s = hekv_cont_close(&r, T, err)) != HEKV_OK) return s;

    hekv_evk *evk = NULL;
    if ((s = hekv_ckks_evk_new(p, &evk, err)) != HEKV_OK) return s;
    if (ngal) {
        evk->gal = malloc((size_t)ngal * sizeof *evk->gal);
        evk->galk = calloc((size_t)ngal, sizeof *evk->galk);
        if (!evk->gal || !evk->galk) goto nomem;
        evk->capgal = (size_t)ngal;
    }
    if (nswk) {
        evk->swk = calloc((size_t)nswk, sizeof *evk->swk);
        if (!evk->swk) goto nomem;
        evk->capswk = (size_t)nswk;
    }
    r = body;
    if ((s = evk_keys(&r, p, (int)has_relin, ngal, nswk, gal, tags, evk, err)) != HEKV_OK) {
        hekv_ckks_evk_free(evk);
        return s;
    }
    *out = evk;
    return HEKV_OK;
nomem:
    hekv_ckks_evk_free(evk);
    return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ckks_evk_load: out of memory");
}

/* ---- ciphertexts and plaintexts ------------------------------------------------------ */

#define CT_HDR 24

static hekv_status check_save_obj(const hekv_ckks_params *p, int level, double scale,
                                  size_t slots, const char *fn, hekv_err *err) {
    if (level < 0 || level >= p->nq)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: the object is empty or has level %d",
                            fn, level);
    if (!isfinite(scale) || !(scale > 0) || !slots || slots > p->n / 2 || (slots & (slots - 1)))
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: invalid scale %g or slots %zu", fn, scale,
                            slots);
    return HEKV_OK;
}

static void wr_ct_header(hekv_wr *w, int level, double scale, size_t slots) {
    hekv_wr_u32(w, (uint64_t)level);
    hekv_wr_u32(w, 0);
    hekv_wr_f64(w, scale);
    hekv_wr_u64(w, slots);
}

hekv_status hekv_ckks_ct_save(const hekv_ct *ct, hekv_buf *out, hekv_err *err) {
    static const char fn[] = "hekv_ckks_ct_save";
    hekv_status s = save_args(ct, out, fn, err);
    if (s != HEKV_OK) return s;
    const hekv_ckks_params *p = ct->params;
    if ((s = check_save_obj(p, ct->level, ct->scale, ct->slots, fn, err)) != HEKV_OK) return s;
    const size_t limbs = (size_t)ct->level + 1, pb = ring_bytes(p->rq, limbs);
    const int seeded = ct->has_seed != 0;
    hekv_wr w;
    if ((s = begin(&w, CT_HDR + pb + (seeded ? HEKV_SEED_BYTES : pb), HEKV_OBJ_CT,
                   seeded ? FLAG_SEEDED : 0, p, err)) != HEKV_OK)
        return s;
    wr_ct_header(&w, ct->level, ct->scale, ct->slots);
    wr_poly(&w, p->rq, &ct->c[0], limbs);
    if (seeded)
        hekv_wr_bytes(&w, ct->seed, HEKV_SEED_BYTES);
    else
        wr_poly(&w, p->rq, &ct->c[1], limbs);
    hekv_cont_finish(&w, out);
    return HEKV_OK;
}

hekv_status hekv_ckks_pt_save(const hekv_pt *pt, hekv_buf *out, hekv_err *err) {
    static const char fn[] = "hekv_ckks_pt_save";
    hekv_status s = save_args(pt, out, fn, err);
    if (s != HEKV_OK) return s;
    const hekv_ckks_params *p = pt->params;
    if ((s = check_save_obj(p, pt->level, pt->scale, pt->slots, fn, err)) != HEKV_OK) return s;
    const size_t limbs = (size_t)pt->level + 1;
    hekv_wr w;
    if ((s = begin(&w, CT_HDR + ring_bytes(p->rq, limbs), HEKV_OBJ_PT, 0, p, err)) != HEKV_OK)
        return s;
    wr_ct_header(&w, pt->level, pt->scale, pt->slots);
    wr_poly(&w, p->rq, &pt->m, limbs);
    hekv_cont_finish(&w, out);
    return HEKV_OK;
}

/* The level/scale/slots header shared by ct and pt. */
static hekv_status rd_ct_header(hekv_rd *r, hekv_obj_type type, const hekv_ckks_params *p,
                                int *level, double *scale, size_t *slots, hekv_err *err) {
    const char *noun = hekv_obj_type_name(type);
    if (!hekv_rd_has(r, CT_HDR)) return hekv_cont_truncated(r, type, "its header", err);
    const uint64_t lv = hekv_rd_u32(r), pad = hekv_rd_u32(r);
    const double sc = hekv_rd_f64(r);
    const uint64_t sl = hekv_rd_u64(r);
    if (lv >= (uint64_t)p->nq || pad)
        return hekv_err_set(err, HEKV_ERR_FORMAT, "%s file: level %llu outside 0..%d", noun,
                            (unsigned long long)lv, p->nq - 1);
    if (!isfinite(sc) || !(sc > 0))
        return hekv_err_set(err, HEKV_ERR_FORMAT, "%s file: scale %g is not a finite positive "
                            "number", noun, sc);
    if (!sl || sl > p->n / 2 || (sl & (sl - 1)))
        return hekv_err_set(err, HEKV_ERR_FORMAT, "%s file: %llu slots, want a power of two "
                            "in [1, %zu]", noun, (unsigned long long)sl, p->n / 2);
    *level = (int)lv;
    *scale = sc;
    *slots = (size_t)sl;
    return HEKV_OK;
}

hekv_status hekv_ckks_ct_load(const hekv_ckks_params *p, const uint8_t *data, size_t len,
                              hekv_ct **out, hekv_err *err) {
    if (!out || !p) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_ct_load: NULL argument");
    *out = NULL;
    const hekv_obj_type T = HEKV_OBJ_CT;
    hekv_rd r;
    hekv_file_info info;
    hekv_status s = open_obj(&r, p, data, len, T, FLAG_SEEDED, &info, err);
    if (s != HEKV_OK) return s;
    int level;
    double scale;
    size_t slots;
    if ((s = rd_ct_header(&r, T, p, &level, &scale, &slots, err)) != HEKV_OK) return s;
    const int seeded = (info.flags & FLAG_SEEDED) != 0;
    const size_t limbs = (size_t)level + 1;
    const hekv_rd body = r;
    uint8_t seed[HEKV_SEED_BYTES];
    if ((s = rd_poly(&r, T, p->rq, limbs, NULL, "c0", err)) != HEKV_OK) return s;
    s = seeded ? rd_seed(&r, T, seed, "the seed of c1", err)
               : rd_poly(&r, T, p->rq, limbs, NULL, "c1", err);
    if (s != HEKV_OK) return s;
    if ((s = hekv_cont_close(&r, T, err)) != HEKV_OK) return s;
    hekv_ct *ct = NULL;
    if (hekv_ckks_ct_new(p, &ct, err) != HEKV_OK || hekv__ct_resize(ct, level) != HEKV_OK) {
        hekv_ckks_ct_free(ct);
        return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ckks_ct_load: out of memory");
    }
    r = body;
    (void)rd_poly(&r, T, p->rq, limbs, &ct->c[0], "c0", err);
    if (seeded) {
        memcpy(ct->seed, seed, sizeof seed);
        hekv__ct_seed_expand(p, ct->seed, &ct->c[1]);
    } else {
        (void)rd_poly(&r, T, p->rq, limbs, &ct->c[1], "c1", err);
    }
    ct->has_seed = seeded;
    ct->level = level;
    ct->scale = scale;
    ct->slots = slots;
    *out = ct;
    return HEKV_OK;
}

hekv_status hekv_ckks_pt_load(const hekv_ckks_params *p, const uint8_t *data, size_t len,
                              hekv_pt **out, hekv_err *err) {
    if (!out || !p) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_pt_load: NULL argument");
    *out = NULL;
    const hekv_obj_type T = HEKV_OBJ_PT;
    hekv_rd r;
    hekv_file_info info;
    hekv_status s = open_obj(&r, p, data, len, T, 0, &info, err);
    if (s != HEKV_OK) return s;
    int level;
    double scale;
    size_t slots;
    if ((s = rd_ct_header(&r, T, p, &level, &scale, &slots, err)) != HEKV_OK) return s;
    const hekv_rd body = r;
    if ((s = rd_poly(&r, T, p->rq, (size_t)level + 1, NULL, "m", err)) != HEKV_OK) return s;
    if ((s = hekv_cont_close(&r, T, err)) != HEKV_OK) return s;
    hekv_pt *pt = NULL;
    if (hekv_ckks_pt_new(p, &pt, err) != HEKV_OK || hekv__pt_resize(pt, level) != HEKV_OK) {
        hekv_ckks_pt_free(pt);
        return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ckks_pt_load: out of memory");
    }
    r = body;
    (void)rd_poly(&r, T, p->rq, (size_t)level + 1, &pt->m, "m", err);
    pt->level = level;
    pt->scale = scale;
    pt->slots = slots;
    *out = pt;
    return HEKV_OK;
}
