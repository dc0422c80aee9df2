/* container.c: the "HEKV" container (container.h): header, checksum and their checks, and
 * hekv_file_peek. Nothing here knows what a body holds. */
#include "container.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

const char *hekv_obj_type_name(int type) {
    switch (type) {
    case HEKV_OBJ_PARAMS: return "parameter";
    case HEKV_OBJ_SK: return "secret key";
    case HEKV_OBJ_PK: return "public key";
    case HEKV_OBJ_EVK: return "evaluation key";
    case HEKV_OBJ_CT: return "ciphertext";
    case HEKV_OBJ_PT: return "plaintext";
    case HEKV_OBJ_KVCACHE: return "K/V cache";
    default: return "unknown object";
    }
}

int hekv_obj_type_secret(int type) { return type == HEKV_OBJ_SK; }

static int type_known(int t) { return t >= HEKV_OBJ_PARAMS && t <= HEKV_OBJ_KVCACHE; }

hekv_status hekv_cont_begin(hekv_wr *w, size_t body, hekv_obj_type type, unsigned flags,
                            const uint8_t *fingerprint, const char *set_name, hekv_err *err) {
    if (sodium_init() < 0)
        return hekv_err_set(err, HEKV_ERR_UNSUPPORTED, "libsodium failed to initialise");
    if (body > SIZE_MAX - HEKV_CONT_HDR - HEKV_CONT_SUM)
        return hekv_err_set(err, HEKV_ERR_NOMEM, "saving a %s: %zu bytes is too large",
                            hekv_obj_type_name(type), body);
    const size_t len = HEKV_CONT_HDR + body + HEKV_CONT_SUM;
    uint8_t *buf = malloc(len);
    if (!buf)
        return hekv_err_set(err, HEKV_ERR_NOMEM, "saving a %s: out of memory (%zu bytes)",
                            hekv_obj_type_name(type), len);
    hekv_wr_init(w, buf, len);
    hekv_wr_bytes(w, "HEKV", 4);
    hekv_wr_u16(w, HEKV_FORMAT_VERSION);
    hekv_wr_u8(w, (uint64_t)type);
    hekv_wr_u8(w, flags);
    hekv_wr_u64(w, len);
    uint8_t fp[HEKV_FINGERPRINT_BYTES] = {0};
    if (fingerprint) memcpy(fp, fingerprint, sizeof fp);
    hekv_wr_bytes(w, fp, sizeof fp);
    char name[32] = {0};
    if (set_name) memcpy(name, set_name, strnlen(set_name, sizeof name - 1));
    hekv_wr_bytes(w, name, sizeof name);
    return HEKV_OK;
}

void hekv_cont_finish(hekv_wr *w, hekv_buf *out) {
    HEKV_CHECK_INTERNAL(w->off + HEKV_CONT_SUM == w->len);
    crypto_generichash(w->buf + w->off, HEKV_CONT_SUM, w->buf, w->off, NULL, 0);
    w->off += HEKV_CONT_SUM;
    out->data = w->buf;
    out->len = w->len;
    w->buf = NULL;
}

void hekv_cont_abort(hekv_wr *w) {
    if (w->buf) hekv_memzero(w->buf, w->len);
    free(w->buf);
    w->buf = NULL;
}

/* The checks shared by hekv_cont_open and hekv_file_peek. */
static hekv_status check_header(const uint8_t *data, size_t len, const char *noun,
                                hekv_file_info *info, hekv_err *err) {
    if (sodium_init() < 0)
        return hekv_err_set(err, HEKV_ERR_UNSUPPORTED, "libsodium failed to initialise");
    if (len < HEKV_CONT_HDR + HEKV_CONT_SUM)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "%s file truncated: %zu bytes, shorter than the %d-byte header and "
                            "checksum of every hekv file",
                            noun, len, HEKV_CONT_HDR + HEKV_CONT_SUM);
    if (memcmp(data, "HEKV", 4))
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "not an hekv file: magic bytes %02x %02x %02x %02x, expected 'HEKV'",
                            data[0], data[1], data[2], data[3]);
    hekv_rd r;
    hekv_rd_init(&r, data, len);
    r.off = 4;
    const unsigned ver = (unsigned)hekv_rd_u16(&r);
    if (ver != HEKV_FORMAT_VERSION)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "%s file has format version %u; this build of hekv reads version %d "
                            "(re-create the file with this version)",
                            noun, ver, HEKV_FORMAT_VERSION);
    memset(info, 0, sizeof *info);
    info->type = (hekv_obj_type)hekv_rd_u8(&r);
    info->flags = (unsigned)hekv_rd_u8(&r);
    info->length = hekv_rd_u64(&r);
    hekv_rd_bytes(&r, info->fingerprint, sizeof info->fingerprint);
    for (int i = 0; i < 32; i++) {
        char c = (char)data[32 + i];
        if (!c) break;
        info->set_name[i] = (c >= 0x20 && c < 0x7f) ? c : '?';
    }
    if (info->length != len) {
        if (info->length > len)
            return hekv_err_set(err, HEKV_ERR_FORMAT,
                                "%s file truncated: %zu bytes, header says %llu", noun, len,
                                (unsigned long long)info->length);
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "%s file has %zu bytes but its header says %llu (trailing data or a "
                            "corrupted length field)",
                            noun, len, (unsigned long long)info->length);
    }
    uint8_t sum[HEKV_CONT_SUM];
    crypto_generichash(sum, HEKV_CONT_SUM, data, len - HEKV_CONT_SUM, NULL, 0);
    if (hekv_memcmp_ct(sum, data + len - HEKV_CONT_SUM, HEKV_CONT_SUM))
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "%s file corrupted: checksum mismatch (the %zu bytes were modified "
                            "after writing; use an intact copy)",
                            noun, len);
    return HEKV_OK;
}

hekv_status hekv_file_peek(const uint8_t *data, size_t len, hekv_file_info *info,
                           hekv_err *err) {
    if (!data || !info) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_file_peek: NULL argument");
    hekv_status s = check_header(data, len, "hekv", info, err);
    if (s != HEKV_OK) return s;
    if (!type_known(info->type))
        return hekv_err_set(err, HEKV_ERR_FORMAT, "hekv file has unknown object type %d",
                            (int)info->type);
    return HEKV_OK;
}

hekv_status hekv_cont_open(hekv_rd *r, const uint8_t *data, size_t len, hekv_obj_type type,
                           unsigned allowed_flags, const uint8_t *fingerprint,
                           const char *expect_name, hekv_file_info *info, hekv_err *err) {
    const char *noun = hekv_obj_type_name(type);
    if (!r || !data || !info) return hekv_err_set(err, HEKV_ERR_ARG, "loading a %s: NULL argument", noun);
    hekv_status s = check_header(data, len, noun, info, err);
    if (s != HEKV_OK) return s;
    if (info->type != type) {
        if (type_known(info->type))
            return hekv_err_set(err, HEKV_ERR_FORMAT, "file holds a %s, not a %s",
                                hekv_obj_type_name(info->type), noun);
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "file has unknown object type %d (expected %d, a %s)",
                            (int)info->type, (int)type, noun);
    }
    if (info->flags & ~allowed_flags)
        return hekv_err_set(err, HEKV_ERR_FORMAT, "%s file has unknown flags 0x%02x", noun,
                            info->flags);
    if (fingerprint && memcmp(info->fingerprint, fingerprint, HEKV_FINGERPRINT_BYTES)) {
        const char *want = expect_name ? expect_name : "?";
        if (!strcmp(info->set_name, want))
            return hekv_err_set(err, HEKV_ERR_PARAMS,
                                "%s file was made for a different build of parameter set '%s' "
                                "(fingerprints differ: other primes, noise, format or options); "
                                "load it with the parameters it was made with",
                                noun, info->set_name);
        return hekv_err_set(err, HEKV_ERR_PARAMS,
                            "%s file was made for parameter set '%s', not '%s'; load it with the "
                            "same set",
                            noun, info->set_name, want);
    }
    hekv_rd_init(r, data, len - HEKV_CONT_SUM);
    r->off = HEKV_CONT_HDR;
    return HEKV_OK;
}

hekv_status hekv_cont_close(const hekv_rd *r, hekv_obj_type type, hekv_err *err) {
    if (r->short_read || r->off != r->end)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "%s file size mismatch: the header fields describe %zu bytes of "
                            "content, the file has %zu",
                            hekv_obj_type_name(type), r->off, r->end);
    return HEKV_OK;
}

hekv_status hekv_cont_truncated(const hekv_rd *r, hekv_obj_type type, const char *what,
                                hekv_err *err) {
    return hekv_err_set(err, HEKV_ERR_FORMAT,
                        "%s file truncated inside %s: %zu bytes of content, more needed",
                        hekv_obj_type_name(type), what, r->end);
}
