/* kvcache_serial.c: the file format of a K/V cache, so that a server can keep a session's
 * encrypted cache on disk between decoding steps. The ciphertexts are stored in the CKKS
 * format (hekv_ckks_ct_save: each with its own magic, version, fingerprint and checksum)
 * inside one container, all integers little-endian:
 *
 *   offset  size  field
 *        0     4  magic "HKVC"
 *        4     2  format version (KV_FORMAT_VERSION)
 *        6     2  0
 *        8     8  total length in bytes, checksum included
 *       16    16  fingerprint of the parameter set (hekv_ckks_params_fingerprint)
 *       32     8  d            40  8  heads        48  8  kv heads
 *       56     8  K tokens     64  8  V tokens     72  4  store level + 1 (0: none)
 *       76     4  0            80  8  K ciphertexts 88  8  V ciphertexts
 *       96     -  each K then each V ciphertext: u64 length, then its CKKS buffer
 *   len-32    32  checksum: BLAKE2b-256 (crypto_generichash) of bytes [0, len-32)
 *
 * The loader checks, before building anything: the fixed header's length, magic, version,
 * total length, checksum, fingerprint (HEKV_ERR_PARAMS), the shape (the rules of
 * hekv_pack_kv_new) and the ciphertext counts against the token counts; then every
 * ciphertext through hekv_ckks_ct_load, and that each cache has one level and scale.
 *
 * Not here: compression beyond the CKKS format's bit-packing, partial (append-only) saves. */
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "pack_int.h"

#define KV_FORMAT_VERSION 1
#define KV_HDR 96
#define KV_SUM 32

static void put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint64_t get64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

hekv_status hekv_pack_kv_save(const hekv_pack_kv *kv, uint8_t **buf, size_t *len,
                              hekv_err *err) {
    static const char fn[] = "hekv_pack_kv_save";
    if (!kv || !buf || !len) return hekv_err_set(err, HEKV_ERR_ARG, "%s: NULL argument", fn);
    *buf = NULL;
    *len = 0;
    const size_t n = kv->nk + kv->nv;
    uint8_t **parts = calloc(n ? n : 1, sizeof *parts);
    size_t *plen = calloc(n ? n : 1, sizeof *plen);
    hekv_status s = HEKV_OK;
    if (!parts || !plen) {
        s = hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
        goto done;
    }
    size_t total = KV_HDR + KV_SUM;
    for (size_t i = 0; i < n && !s; i++) {
        const hekv_ct *c = i < kv->nk ? kv->k[i] : kv->v[i - kv->nk];
        s = hekv_ckks_ct_save(kv->params, c, &parts[i], &plen[i], err);
        total += 8 + plen[i];
    }
    if (s) goto done;
    uint8_t *b = malloc(total);
    if (!b) {
        s = hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory (%zu bytes)", fn, total);
        goto done;
    }
    memset(b, 0, KV_HDR);
    memcpy(b, "HKVC", 4);
    b[4] = KV_FORMAT_VERSION & 0xff, b[5] = KV_FORMAT_VERSION >> 8;
    put64(b + 8, total);
    memcpy(b + 16, hekv_ckks_params_fingerprint(kv->params), 16);
    put64(b + 32, kv->d), put64(b + 40, kv->H), put64(b + 48, kv->Hk);
    put64(b + 56, kv->nk_tok), put64(b + 64, kv->nv_tok);
    uint32_t sl = (uint32_t)(kv->store_level + 1);
    for (int i = 0; i < 4; i++) b[72 + i] = (uint8_t)(sl >> (8 * i));
    put64(b + 80, kv->nk), put64(b + 88, kv->nv);
    size_t off = KV_HDR;
    for (size_t i = 0; i < n; i++) {
        put64(b + off, plen[i]);
        memcpy(b + off + 8, parts[i], plen[i]);
        off += 8 + plen[i];
    }
    crypto_generichash(b + off, KV_SUM, b, off, NULL, 0);
    *buf = b;
    *len = total;
done:
    if (parts)
        for (size_t i = 0; i < n; i++) free(parts[i]);
    free(parts);
    free(plen);
    return s;
}

static hekv_status bad(hekv_err *err, const char *what) {
    return hekv_err_set(err, HEKV_ERR_FORMAT,
                        "hekv_pack_kv_load: %s (HINT: the file is truncated, corrupted or not "
                        "a K/V cache saved by hekv_pack_kv_save)", what);
}

hekv_status hekv_pack_kv_load(const hekv_ckks_params *p, const uint8_t *buf, size_t len,
                              hekv_pack_kv **out, hekv_err *err) {
    static const char fn[] = "hekv_pack_kv_load";
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (!p || !buf) return hekv_err_set(err, HEKV_ERR_ARG, "%s: NULL argument", fn);
    if (len < KV_HDR + KV_SUM) return bad(err, "shorter than the fixed header");
    if (memcmp(buf, "HKVC", 4)) return bad(err, "bad magic (not \"HKVC\")");
    if ((buf[4] | buf[5] << 8) != KV_FORMAT_VERSION)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "%s: format version %d, this build reads %d (HINT: save the cache "
                            "again with this version)", fn, buf[4] | buf[5] << 8,
                            KV_FORMAT_VERSION);
    if (get64(buf + 8) != len) return bad(err, "the stored length differs from the buffer's");
    uint8_t sum[KV_SUM];
    crypto_generichash(sum, KV_SUM, buf, len - KV_SUM, NULL, 0);
    if (sodium_memcmp(sum, buf + len - KV_SUM, KV_SUM)) return bad(err, "checksum mismatch");
    if (memcmp(buf + 16, hekv_ckks_params_fingerprint(p), 16))
        return hekv_err_set(err, HEKV_ERR_PARAMS,
                            "%s: the cache was saved under another parameter set (fingerprint "
                            "mismatch): load it with the session's parameters", fn);
    if (buf[6] || buf[7] || get64(buf + 72) >> 32) return bad(err, "reserved bytes not zero");
    const uint64_t d = get64(buf + 32), H = get64(buf + 40), Hk = get64(buf + 48);
    const uint64_t ntk = get64(buf + 56), ntv = get64(buf + 64);
    const int store = (int)(get64(buf + 72) & 0xffffffffu) - 1;
    const uint64_t nk = get64(buf + 80), nv = get64(buf + 88);
    hekv_pack_kv *kv = NULL;
    hekv_err e;
    if (d > ((uint64_t)1 << 30) || H > d || Hk > H ||
        hekv_pack_kv_new(p, (size_t)d, (size_t)H, (size_t)Hk, store, &kv, &e) != HEKV_OK)
        return bad(err, "invalid shape (d, heads, kv heads, store level)");
    hekv_status s = HEKV_OK;
    if (ntk > ((uint64_t)1 << 40) || ntv > ((uint64_t)1 << 40) ||
        nk != (ntk + kv->tkv - 1) / kv->tkv || nv != (ntv + kv->B - 1) / kv->B * kv->dh) {
        s = bad(err, "ciphertext counts do not match the token counts");
        goto fail;
    }
    hekv_ct **cts = NULL;
    if (nk && !(kv->k = calloc(nk, sizeof *kv->k))) goto nomem;
    if (nv && !(kv->v = calloc(nv, sizeof *kv->v))) goto nomem;
    kv->capk = nk, kv->capv = nv;
    size_t off = KV_HDR;
    const size_t end = len - KV_SUM;
    for (uint64_t i = 0; i < nk + nv; i++) {
        if (end - off < 8) {
            s = bad(err, "ciphertext table runs past the end");
            goto fail;
        }
        const uint64_t cl = get64(buf + off);
        off += 8;
        if (cl > end - off) {
            s = bad(err, "a ciphertext runs past the end");
            goto fail;
        }
        cts = i < nk ? &kv->k[i] : &kv->v[i - nk];
        if (hekv_ct_new(p, cts, err) != HEKV_OK) goto nomem;
        if (i < nk) kv->nk = (size_t)i + 1;
        else kv->nv = (size_t)(i - nk) + 1;
        if ((s = hekv_ckks_ct_load(p, buf + off, (size_t)cl, *cts, err))) goto fail;
        if (hekv_ct_slots(*cts) != kv->S) {
            s = bad(err, "a ciphertext does not use all slots");
            goto fail;
        }
        int *lv = i < nk ? &kv->k_level : &kv->v_level;
        double *sc = i < nk ? &kv->k_scale : &kv->v_scale;
        if (*lv < 0) {
            *lv = hekv_ct_level(*cts);
            *sc = hekv_ct_scale(*cts);
        } else if (*lv != hekv_ct_level(*cts) || !hekv__scale_eq(*sc, hekv_ct_scale(*cts))) {
            s = bad(err, "ciphertexts of one cache at different levels or scales");
            goto fail;
        }
        off += (size_t)cl;
    }
    if (off != end) {
        s = bad(err, "trailing bytes after the ciphertexts");
        goto fail;
    }
    kv->nk_tok = (size_t)ntk, kv->nv_tok = (size_t)ntv;
    *out = kv;
    return HEKV_OK;
nomem:
    s = hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
fail:
    hekv_pack_kv_free(kv);
    return s;
}
