/* codec.c: the little-endian byte codec and the residue bit-packing (codec.h). */
#include "codec.h"

#include <string.h>

typedef unsigned __int128 u128;

void hekv_wr_init(hekv_wr *w, uint8_t *buf, size_t len) {
    w->buf = buf;
    w->len = len;
    w->off = 0;
}

void hekv_wr_uint(hekv_wr *w, uint64_t v, int bytes) {
    HEKV_CHECK_INTERNAL(bytes >= 1 && bytes <= 8 && w->len - w->off >= (size_t)bytes);
    for (int i = 0; i < bytes; i++) w->buf[w->off + (size_t)i] = (uint8_t)(v >> (8 * i));
    w->off += (size_t)bytes;
}

void hekv_wr_f64(hekv_wr *w, double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    hekv_wr_u64(w, u);
}

void hekv_wr_bytes(hekv_wr *w, const void *p, size_t n) {
    HEKV_CHECK_INTERNAL(w->len - w->off >= n);
    if (n) memcpy(w->buf + w->off, p, n);
    w->off += n;
}

static inline void store64(uint8_t *p, uint64_t v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
}

static inline uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

void hekv_wr_limb(hekv_wr *w, const uint64_t *x, size_t n, int bits) {
    const size_t nbytes = hekv_codec_limb_bytes(n, bits);
    HEKV_CHECK_INTERNAL(bits >= 1 && bits <= 64 && (n * (size_t)bits) % 64 == 0 &&
                        w->len - w->off >= nbytes);
    uint8_t *out = w->buf + w->off;
    u128 acc = 0;
    int nb = 0;
    for (size_t i = 0; i < n; i++) {
        HEKV_DASSERT(bits == 64 || x[i] >> bits == 0);
        acc |= (u128)x[i] << nb;
        nb += bits;
        if (nb >= 64) {
            store64(out, (uint64_t)acc);
            out += 8;
            acc >>= 64;
            nb -= 64;
        }
    }
    w->off += nbytes;
}

void hekv_rd_init(hekv_rd *r, const uint8_t *buf, size_t end) {
    r->buf = buf;
    r->end = end;
    r->off = 0;
    r->short_read = 0;
}

uint64_t hekv_rd_uint(hekv_rd *r, int bytes) {
    if (bytes < 1 || bytes > 8 || !hekv_rd_has(r, (size_t)bytes)) {
        r->short_read = 1;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint64_t)r->buf[r->off + (size_t)i] << (8 * i);
    r->off += (size_t)bytes;
    return v;
}

int32_t hekv_rd_i32(hekv_rd *r) {
    uint32_t u = (uint32_t)hekv_rd_u32(r);
    int32_t v;
    memcpy(&v, &u, 4);
    return v;
}

double hekv_rd_f64(hekv_rd *r) {
    uint64_t u = hekv_rd_u64(r);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

float hekv_rd_f32(hekv_rd *r) {
    uint32_t u = (uint32_t)hekv_rd_u32(r);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

void hekv_rd_bytes(hekv_rd *r, void *p, size_t n) {
    if (!hekv_rd_has(r, n)) {
        r->short_read = 1;
        memset(p, 0, n);
        return;
    }
    memcpy(p, r->buf + r->off, n);
    r->off += n;
}

const uint8_t *hekv_rd_skip(hekv_rd *r, size_t n) {
    if (!hekv_rd_has(r, n)) {
        r->short_read = 1;
        return NULL;
    }
    const uint8_t *p = r->buf + r->off;
    r->off += n;
    return p;
}

size_t hekv_rd_limb(hekv_rd *r, uint64_t *x, size_t n, int bits, uint64_t q) {
    const size_t nbytes = hekv_codec_limb_bytes(n, bits);
    if (bits < 1 || bits > 64 || (n * (size_t)bits) % 64 || !hekv_rd_has(r, nbytes)) {
        r->short_read = 1;
        return 0;
    }
    const uint8_t *in = r->buf + r->off;
    u128 acc = 0;
    int nb = 0;
    const uint64_t mask = bits == 64 ? ~0ULL : ((1ULL << bits) - 1);
    size_t first = n;
    for (size_t i = 0; i < n; i++) {
        if (nb < bits) {
            acc |= (u128)load64(in) << nb;
            in += 8;
            nb += 64;
        }
        uint64_t v = (uint64_t)acc & mask;
        acc >>= bits;
        nb -= bits;
        if (x) x[i] = v;
        if (v >= q && first == n) first = i;
    }
    r->off += nbytes;
    return first;
}
