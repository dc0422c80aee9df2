/* kvcache_serial.c: the file format of a K/V cache, so that a server can keep a session's
 * encrypted cache on disk between decoding steps: a HEKV_OBJ_KVCACHE container
 * (src/base/container.h) whose body is, little-endian,
 *
 *   u64 d, u64 heads, u64 kv heads, u64 K tokens, u64 V tokens,
 *   u32 store level + 1 (0: none), u32 0, u64 K ciphertexts, u64 V ciphertexts,
 *   then each K, then each V ciphertext: u64 length, then its own CKKS container
 *   (hekv_ckks_ct_save: magic, version, fingerprint, checksum of its own).
 *
 * The loader checks, before building anything: the container (length, checksum, type,
 * fingerprint: HEKV_ERR_PARAMS for another set), the shape (the rules of
 * hekv_pack_kv_new), that the K and V caches hold the same number of tokens (a step
 * appends one key and one value), and the ciphertext counts against the token counts;
 * then every ciphertext through hekv_ckks_ct_load, each over all slots, and that each
 * cache has one level and scale.
 *
 * Not here: compression beyond the CKKS format's bit-packing, partial (append-only) saves. */
#include <stdlib.h>
#include <string.h>

#include "pack_int.h"
#include "src/base/container.h"

#define KV_BODY_HDR 64

hekv_status hekv_pack_kv_save(const hekv_pack_kv *kv, hekv_buf *out, hekv_err *err) {
    static const char fn[] = "hekv_pack_kv_save";
    if (!kv || !out) return hekv_err_set(err, HEKV_ERR_ARG, "%s: NULL argument", fn);
    out->data = NULL;
    out->len = 0;
    const size_t n = kv->nk + kv->nv;
    hekv_buf *parts = calloc(n ? n : 1, sizeof *parts);
    if (!parts) return hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    hekv_status s = HEKV_OK;
    size_t body = KV_BODY_HDR;
    for (size_t i = 0; i < n && !s; i++) {
        const hekv_ct *c = i < kv->nk ? kv->k[i] : kv->v[i - kv->nk];
        s = hekv_ckks_ct_save(c, &parts[i], err);
        body += 8 + parts[i].len;
    }
    hekv_wr w;
    if (!s)
        s = hekv_cont_begin(&w, body, HEKV_OBJ_KVCACHE, 0, hekv_ckks_params_fingerprint(kv->params),
                            hekv_ckks_params_name(kv->params), err);
    if (!s) {
        hekv_wr_u64(&w, kv->d);
        hekv_wr_u64(&w, kv->H);
        hekv_wr_u64(&w, kv->Hk);
        hekv_wr_u64(&w, kv->nk_tok);
        hekv_wr_u64(&w, kv->nv_tok);
        hekv_wr_u32(&w, (uint64_t)(uint32_t)(kv->store_level + 1));
        hekv_wr_u32(&w, 0);
        hekv_wr_u64(&w, kv->nk);
        hekv_wr_u64(&w, kv->nv);
        for (size_t i = 0; i < n; i++) {
            hekv_wr_u64(&w, parts[i].len);
            hekv_wr_bytes(&w, parts[i].data, parts[i].len);
        }
        hekv_cont_finish(&w, out);
    }
    for (size_t i = 0; i < n; i++) hekv_buf_free(&parts[i]);
    free(parts);
    return s;
}

static hekv_status bad(hekv_err *err, const char *what) {
    return hekv_err_set(err, HEKV_ERR_FORMAT,
                        "K/V cache file: %s (the file is corrupted, forged or not a cache saved "
                        "by hekv_pack_kv_save)", what);
}

hekv_status hekv_pack_kv_load(const hekv_ckks_params *p, const uint8_t *data, size_t len,
                              hekv_pack_kv **out, hekv_err *err) {
    static const char fn[] = "hekv_pack_kv_load";
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (!p || !data) return hekv_err_set(err, HEKV_ERR_ARG, "%s: NULL argument", fn);
    hekv_rd r;
    hekv_file_info info;
    hekv_status s = hekv_cont_open(&r, data, len, HEKV_OBJ_KVCACHE, 0,
                                   hekv_ckks_params_fingerprint(p), hekv_ckks_params_name(p),
                                   &info, err);
    if (s) return s;
    if (!hekv_rd_has(&r, KV_BODY_HDR))
        return hekv_cont_truncated(&r, HEKV_OBJ_KVCACHE, "its header", err);
    const uint64_t d = hekv_rd_u64(&r), H = hekv_rd_u64(&r), Hk = hekv_rd_u64(&r);
    const uint64_t ntk = hekv_rd_u64(&r), ntv = hekv_rd_u64(&r);
    const uint64_t store1 = hekv_rd_u32(&r), pad = hekv_rd_u32(&r);
    const uint64_t nk = hekv_rd_u64(&r), nv = hekv_rd_u64(&r);
    if (pad) return bad(err, "reserved bytes not zero");
    hekv_pack_kv *kv = NULL;
    hekv_err e;
    if (d > ((uint64_t)1 << 30) || H > d || Hk > H || store1 > (uint64_t)HEKV_CKKS_MAX_Q ||
        hekv_pack_kv_new(p, (size_t)d, (size_t)H, (size_t)Hk, (int)store1 - 1, &kv, &e) !=
            HEKV_OK)
        return bad(err, "invalid shape (d, heads, kv heads, store level)");
    if (ntk != ntv) {
        s = hekv_err_set(err, HEKV_ERR_FORMAT,
                         "K/V cache file: the K cache holds %llu tokens and the V cache %llu; "
                         "every step appends one of each (a forged or half-written cache)",
                         (unsigned long long)ntk, (unsigned long long)ntv);
        goto fail;
    }
    if (ntk > ((uint64_t)1 << 40) || nk != (ntk + kv->tkv - 1) / kv->tkv ||
        nv != (ntv + kv->B - 1) / kv->B * kv->dh) {
        s = bad(err, "ciphertext counts do not match the token counts");
        goto fail;
    }
    /* each ciphertext needs at least its 8-byte length and a container */
    if (nk + nv > len / (8 + HEKV_CONT_HDR + HEKV_CONT_SUM)) {
        s = bad(err, "more ciphertexts than the file can hold");
        goto fail;
    }
    if (nk && !(kv->k = calloc((size_t)nk, sizeof *kv->k))) goto nomem;
    if (nv && !(kv->v = calloc((size_t)nv, sizeof *kv->v))) goto nomem;
    kv->capk = (size_t)nk, kv->capv = (size_t)nv;
    for (uint64_t i = 0; i < nk + nv; i++) {
        if (!hekv_rd_has(&r, 8)) {
            s = bad(err, "the ciphertext table runs past the end");
            goto fail;
        }
        const uint64_t cl = hekv_rd_u64(&r);
        const uint8_t *cb = cl <= SIZE_MAX ? hekv_rd_skip(&r, (size_t)cl) : NULL;
        if (!cb) {
            s = bad(err, "a ciphertext runs past the end");
            goto fail;
        }
        hekv_ct **ct = i < nk ? &kv->k[i] : &kv->v[i - nk];
        if ((s = hekv_ckks_ct_load(p, cb, (size_t)cl, ct, err))) goto fail;
        if (i < nk)
            kv->nk = (size_t)i + 1;
        else
            kv->nv = (size_t)(i - nk) + 1;
        if (hekv_ckks_ct_slots(*ct) != kv->S) {
            s = bad(err, "a ciphertext does not use all slots");
            goto fail;
        }
        int *lv = i < nk ? &kv->k_level : &kv->v_level;
        double *sc = i < nk ? &kv->k_scale : &kv->v_scale;
        if (*lv < 0) {
            *lv = hekv_ckks_ct_level(*ct);
            *sc = hekv_ckks_ct_scale(*ct);
        } else if (*lv != hekv_ckks_ct_level(*ct) ||
                   !hekv_ckks_scale_eq(*sc, hekv_ckks_ct_scale(*ct))) {
            s = bad(err, "ciphertexts of one cache at different levels or scales");
            goto fail;
        }
    }
    if ((s = hekv_cont_close(&r, HEKV_OBJ_KVCACHE, err))) goto fail;
    kv->nk_tok = (size_t)ntk, kv->nv_tok = (size_t)ntv;
    *out = kv;
    return HEKV_OK;
nomem:
    s = hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
fail:
    hekv_pack_kv_free(kv);
    return s;
}
