/* serial.c: the hekv file format: one versioned binary layout for parameter sets, secret
 * keys, public keys, evaluation keys, ciphertexts and plaintexts, plus atomic file I/O.
 *
 * Every object is one buffer, all integers little-endian:
 *
 *   offset  size  field
 *        0     4  magic "HEKV"
 *        4     2  format version (HEKV_FORMAT_VERSION)
 *        6     1  object type (hekv_obj_type)
 *        7     1  flags: bit 0 = seed-compressed (pk, ct); every other bit must be 0
 *        8     8  total length in bytes, checksum included
 *       16    16  fingerprint of the parameter set (hekv_ckks_params_fingerprint)
 *       32    32  name of the parameter set, NUL padded (for messages only)
 *       64     -  object header (below), then the payload
 *   len-32    32  checksum: BLAKE2b-256 (crypto_generichash) of bytes [0, len-32)
 *
 * Object headers and payloads:
 *   params  u8 logn, nq, np, dnum, log_scale, secret, insecure, 0; u32 hw; u32 0;
 *           u64 sigma (IEEE-754 bits); u8 logq[nq]; u8 logp[np]
 *   sk      u32 N, u32 0; N ternary coefficients, 2 bits each (0 -> 0, 1 -> 1, -1 -> 3)
 *   pk      u32 nq, u32 np; b over Q and P; then the 32-byte seed of a (flag bit 0) or a
 *   evk     u8 has_relin, u8 0 x3; u32 ngal; u32 dnum; u32 nq; u32 np; u32 0;
 *           u64 galois[ngal] (strictly ascending, odd, < 2N); u8 keyflags[has_relin + ngal]
 *           (bit 0 = seeded); then each key, relinearisation first: b_j over Q and P for
 *           every digit j, then the seed of the a_j (seeded) or a_j over Q and P for every j
 *   ct      u32 level, u32 0; u64 scale (IEEE-754 bits); u64 slots; c0 over q_0..q_level;
 *           then the seed of c1 (flag bit 0) or c1 over q_0..q_level
 *   pt      u32 level, u32 0; u64 scale; u64 slots; m over q_0..q_level
 *
 * Polynomials are written limb by limb in NTT form. Each residue mod a prime of b bits
 * takes exactly b bits (the residues of one limb form an LSB-first bit stream of N*b bits,
 * a whole number of 64-bit words since N >= 1024), so a 50-bit prime costs 50 bits per
 * coefficient instead of 64. Seed-compressed objects store the 32-byte seed of their uniform
 * polynomial instead of the polynomial; the loader re-expands it exactly as the generator
 * did (seed_expand_ct / seed_expand_pk below mirror encrypt.c and keys.c; switching keys
 * use keyswitch.c's own hekv__swk_expand). A parameter file holds the literal; the loader
 * rebuilds the set with hekv_ckks_params_new and requires the rebuilt fingerprint to equal
 * the stored one.
 *
 * Loaders check, in this order and before allocating anything sized by the file: length of
 * the fixed header, magic, version, object type, total length against the buffer, checksum,
 * flags, fingerprint (HEKV_ERR_PARAMS: another parameter set), then every header field
 * (ranges, enums, scale finite and > 0, slots a power of two <= N/2, sizes against the
 * length) and every residue (< q_i); only then is the object built. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckks_int.h"

#define HDR_BYTES 64
#define SUM_BYTES 32
#define FLAG_SEEDED 1u

#define PARAMS_HDR 24
#define SK_HDR 8
#define PK_HDR 8
#define EVK_HDR 24
#define CT_HDR 24

/* ---- little-endian helpers ---------------------------------------------------------- */

static void put_le(uint8_t *p, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
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

static uint64_t dbl_bits(double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

static double bits_dbl(uint64_t u) {
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static const char *obj_noun(int type) {
    switch (type) {
    case HEKV_OBJ_PARAMS: return "parameter";
    case HEKV_OBJ_SK: return "secret key";
    case HEKV_OBJ_PK: return "public key";
    case HEKV_OBJ_EVK: return "evaluation key";
    case HEKV_OBJ_CT: return "ciphertext";
    case HEKV_OBJ_PT: return "plaintext";
    default: return "unknown";
    }
}

static const char *obj_fn(int type) {
    switch (type) {
    case HEKV_OBJ_PARAMS: return "hekv_ckks_params_load";
    case HEKV_OBJ_SK: return "hekv_ckks_sk_load";
    case HEKV_OBJ_PK: return "hekv_ckks_pk_load";
    case HEKV_OBJ_EVK: return "hekv_ckks_evk_load";
    case HEKV_OBJ_CT: return "hekv_ckks_ct_load";
    case HEKV_OBJ_PT: return "hekv_ckks_pt_load";
    default: return "?";
    }
}

/* ---- packed residues ------------------------------------------------------------------ */

/* Bytes of one limb of N residues of `bits` bits (N >= 1024, so whole 64-bit words). */
static size_t limb_bytes(size_t n, int bits) { return n * (size_t)bits / 8; }

/* Writes x[0..n) (each < 2^bits) as an LSB-first bit stream of n*bits bits. */
static void pack_limb(uint8_t *out, const uint64_t *x, size_t n, int bits) {
    hekv_u128 acc = 0;
    int nb = 0;
    for (size_t i = 0; i < n; i++) {
        HEKV_DASSERT(x[i] >> bits == 0);
        acc |= (hekv_u128)x[i] << nb;
        nb += bits;
        if (nb >= 64) {
            store64(out, (uint64_t)acc);
            out += 8;
            acc >>= 64;
            nb -= 64;
        }
    }
    HEKV_DASSERT(nb == 0);
}

/* Reads n residues of `bits` bits into x (x may be NULL: check only). Returns the index of
 * the first residue >= q, or n when all are below q. */
static size_t unpack_limb(uint64_t *x, const uint8_t *in, size_t n, int bits, uint64_t q) {
    hekv_u128 acc = 0;
    int nb = 0;
    const uint64_t mask = (bits == 64) ? ~0ULL : ((1ULL << bits) - 1);
    uint64_t bad = 0;
    size_t first = n;
    for (size_t i = 0; i < n; i++) {
        if (nb < bits) {
            acc |= (hekv_u128)load64(in) << nb;
            in += 8;
            nb += 64;
        }
        uint64_t v = (uint64_t)acc & mask;
        acc >>= bits;
        nb -= bits;
        if (x) x[i] = v;
        bad |= (v >= q);
        if (bad && first == n) first = i;
    }
    return first;
}

/* ---- writer --------------------------------------------------------------------------- */

typedef struct {
    uint8_t *buf;
    size_t len, off;
} wr;

static void wr_u(wr *w, uint64_t v, int bytes) {
    put_le(w->buf + w->off, v, bytes);
    w->off += (size_t)bytes;
}

static void wr_bytes(wr *w, const void *p, size_t n) {
    memcpy(w->buf + w->off, p, n);
    w->off += n;
}

/* Limbs [0, limbs) of x in ring r, packed. */
static void wr_poly(wr *w, const hekv_ring *r, const hekv_poly *x, size_t limbs) {
    for (size_t i = 0; i < limbs; i++) {
        int bits = hekv_ring_modulus(r, (int)i)->bits;
        pack_limb(w->buf + w->off, x->c + i * x->n, x->n, bits);
        w->off += limb_bytes(x->n, bits);
    }
}

static size_t ring_bytes(const hekv_ring *r, size_t limbs) {
    size_t b = 0, n = hekv_ring_n(r);
    for (size_t i = 0; i < limbs; i++) b += limb_bytes(n, hekv_ring_modulus(r, (int)i)->bits);
    return b;
}

/* Allocates the buffer of an object of total length `len` and writes the common header. */
static hekv_status wr_begin(wr *w, size_t len, int type, unsigned flags,
                            const hekv_ckks_params *p, hekv_err *err) {
    w->buf = malloc(len);
    w->len = len;
    w->off = 0;
    if (!w->buf)
        return hekv_err_set(err, HEKV_ERR_NOMEM, "saving a %s: out of memory (%zu bytes)",
                            obj_noun(type), len);
    memcpy(w->buf, "HEKV", 4);
    w->off = 4;
    wr_u(w, HEKV_FORMAT_VERSION, 2);
    wr_u(w, (uint64_t)type, 1);
    wr_u(w, flags, 1);
    wr_u(w, len, 8);
    wr_bytes(w, hekv_ckks_params_fingerprint(p), HEKV_FINGERPRINT_BYTES);
    char name[32] = {0};
    size_t nl = strnlen(p->lit.name, sizeof name - 1);
    memcpy(name, p->lit.name, nl);
    wr_bytes(w, name, sizeof name);
    return HEKV_OK;
}

/* Appends the checksum; the buffer must then be exactly full. */
static void wr_end(wr *w, uint8_t **buf, size_t *len) {
    HEKV_CHECK_INTERNAL(w->off + SUM_BYTES == w->len);
    crypto_generichash(w->buf + w->off, SUM_BYTES, w->buf, w->off, NULL, 0);
    w->off += SUM_BYTES;
    *buf = w->buf;
    *len = w->len;
}

static hekv_status save_args(const void *obj, const char *what, uint8_t **buf, size_t *len,
                             hekv_err *err) {
    if (sodium_init() < 0)
        return hekv_err_set(err, HEKV_ERR_UNSUPPORTED, "%s: libsodium failed to initialise",
                            what);
    if (!obj || !buf || !len)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: NULL argument", what);
    *buf = NULL;
    *len = 0;
    return HEKV_OK;
}

/* ---- reader: the common header -------------------------------------------------------- */

typedef struct {
    const uint8_t *buf;
    size_t len;     /* total, checksum included */
    size_t off;     /* read position */
    size_t end;     /* len - SUM_BYTES: end of the checksummed content */
    int type;
    unsigned flags;
    char name[33];  /* printable copy of the set name */
} rd;

static uint64_t rd_u(rd *r, int bytes) {
    uint64_t v = get_le(r->buf + r->off, bytes);
    r->off += (size_t)bytes;
    return v;
}

/* 1 when n more content bytes remain before the checksum. */
static int rd_has(const rd *r, size_t n) { return r->end >= r->off && r->end - r->off >= n; }

static hekv_status load_args(const void *a, const void *b, const void *c, int type,
                             hekv_err *err) {
    if (sodium_init() < 0)
        return hekv_err_set(err, HEKV_ERR_UNSUPPORTED, "%s: libsodium failed to initialise",
                            obj_fn(type));
    if (!a || !b || !c) return hekv_err_set(err, HEKV_ERR_ARG, "%s: NULL argument", obj_fn(type));
    return HEKV_OK;
}

/* Magic and version: enough to know the type. */
static hekv_status rd_magic(const uint8_t *buf, size_t len, const char *noun, hekv_err *err) {
    if (len < HDR_BYTES + SUM_BYTES)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "%s file truncated: %zu bytes, shorter than the %d-byte header and "
                            "checksum of every hekv file",
                            noun, len, HDR_BYTES + SUM_BYTES);
    if (memcmp(buf, "HEKV", 4))
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "not an hekv file: magic bytes %02x %02x %02x %02x, expected 'HEKV'",
                            buf[0], buf[1], buf[2], buf[3]);
    unsigned ver = (unsigned)get_le(buf + 4, 2);
    if (ver != HEKV_FORMAT_VERSION)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "%s file has format version %u; this build of hekv reads version %d "
                            "(re-create the file with this version)",
                            noun, ver, HEKV_FORMAT_VERSION);
    return HEKV_OK;
}

/* Checks the common header of a buffer that must hold an object of `type` made for p
 * (p NULL for a parameter file, whose fingerprint is checked after rebuilding the set). */
static hekv_status rd_begin(rd *r, const uint8_t *buf, size_t len, int type,
                            const hekv_ckks_params *p, unsigned allowed_flags, hekv_err *err) {
    const char *noun = obj_noun(type);
    hekv_status s = rd_magic(buf, len, noun, err);
    if (s != HEKV_OK) return s;
    memset(r, 0, sizeof *r);
    r->buf = buf;
    r->len = len;
    r->type = buf[6];
    if (r->type != type) {
        if (r->type >= HEKV_OBJ_PARAMS && r->type <= HEKV_OBJ_PT)
            return hekv_err_set(err, HEKV_ERR_FORMAT,
                                "file holds a %s, not a %s: load it with %s", obj_noun(r->type),
                                noun, obj_fn(r->type));
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "file has unknown object type %d (expected %d, a %s)", r->type, type,
                            noun);
    }
    uint64_t total = get_le(buf + 8, 8);
    if (total != len) {
        if (total > len)
            return hekv_err_set(err, HEKV_ERR_FORMAT,
                                "%s file truncated: %zu bytes, header says %llu", noun, len,
                                (unsigned long long)total);
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "%s file has %zu bytes but its header says %llu (trailing data or a "
                            "corrupted length field)",
                            noun, len, (unsigned long long)total);
    }
    uint8_t sum[SUM_BYTES];
    crypto_generichash(sum, SUM_BYTES, buf, len - SUM_BYTES, NULL, 0);
    if (hekv_memcmp_ct(sum, buf + len - SUM_BYTES, SUM_BYTES))
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "%s file corrupted: checksum mismatch (the %zu bytes were modified "
                            "after writing; use an intact copy)",
                            noun, len);
    r->flags = buf[7];
    if (r->flags & ~allowed_flags)
        return hekv_err_set(err, HEKV_ERR_FORMAT, "%s file has unknown flags 0x%02x", noun,
                            r->flags);
    for (int i = 0; i < 32; i++) {
        char c = (char)buf[32 + i];
        if (!c) break;
        r->name[i] = (c >= 0x20 && c < 0x7f) ? c : '?';
    }
    if (p && memcmp(buf + 16, hekv_ckks_params_fingerprint(p), HEKV_FINGERPRINT_BYTES)) {
        if (!strcmp(r->name, p->lit.name))
            return hekv_err_set(err, HEKV_ERR_PARAMS,
                                "%s file was made for a different build of parameter set '%s' "
                                "(fingerprints differ: other primes, format or options); load "
                                "it with the parameters it was made with",
                                noun, r->name);
        return hekv_err_set(err, HEKV_ERR_PARAMS,
                            "%s file was made for parameter set '%s', not '%s'; load it with the "
                            "same set",
                            noun, r->name, p->lit.name);
    }
    r->off = HDR_BYTES;
    r->end = len - SUM_BYTES;
    return HEKV_OK;
}

/* The content must end exactly at the checksum. */
static hekv_status rd_finish_check(const rd *r, hekv_err *err) {
    if (r->off != r->end)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "%s file size mismatch: the header fields describe %zu bytes of "
                            "content, the file has %zu",
                            obj_noun(r->type), r->off, r->end);
    return HEKV_OK;
}

/* Checks that limbs [0, limbs) of ring rg are present at r->off and below their primes;
 * advances r->off. `what` names the polynomial for messages. */
static hekv_status rd_check_poly(rd *r, const hekv_ring *rg, size_t limbs, const char *what,
                                 hekv_err *err) {
    size_t n = hekv_ring_n(rg);
    for (size_t i = 0; i < limbs; i++) {
        const hekv_modulus *m = hekv_ring_modulus(rg, (int)i);
        size_t lb = limb_bytes(n, m->bits);
        if (!rd_has(r, lb))
            return hekv_err_set(err, HEKV_ERR_FORMAT,
                                "%s file truncated inside %s limb %zu: %zu bytes, header fields "
                                "need at least %zu",
                                obj_noun(r->type), what, i, r->len,
                                r->off + lb + SUM_BYTES);
        size_t bad = unpack_limb(NULL, r->buf + r->off, n, m->bits, m->q);
        if (bad != n)
            return hekv_err_set(err, HEKV_ERR_FORMAT,
                                "%s file: %s limb %zu coefficient %zu is not below its prime "
                                "%llu (corrupted or forged file)",
                                obj_noun(r->type), what, i, bad, (unsigned long long)m->q);
        r->off += lb;
    }
    return HEKV_OK;
}

/* Reads limbs [0, x->limbs) already validated by rd_check_poly; sets NTT form. */
static void rd_poly(rd *r, const hekv_ring *rg, hekv_poly *x) {
    for (size_t i = 0; i < x->limbs; i++) {
        const hekv_modulus *m = hekv_ring_modulus(rg, (int)i);
        unpack_limb(x->c + i * x->n, r->buf + r->off, x->n, m->bits, m->q);
        r->off += limb_bytes(x->n, m->bits);
    }
    x->ntt = 1;
}

static hekv_status rd_check_seed(rd *r, const char *what, hekv_err *err) {
    if (!rd_has(r, HEKV_SEED_BYTES))
        return hekv_err_set(err, HEKV_ERR_FORMAT, "%s file truncated inside the seed of %s",
                            obj_noun(r->type), what);
    r->off += HEKV_SEED_BYTES;
    return HEKV_OK;
}

/* ---- seed expansion (must match the generators) -------------------------------------- */

/* encrypt.c: c1 of a fresh sk encryption at `level` is hekv_sample_uniform over limbs
 * 0..level from the seed, taken as NTT values. */
static void seed_expand_ct(const hekv_ckks_params *prm, const uint8_t *seed, hekv_poly *c1) {
    hekv_prng g;
    hekv_prng_init_seed(&g, seed);
    hekv_sample_uniform(prm->rq, &g, c1);
    c1->ntt = 1;
    hekv_prng_wipe(&g);
}

/* keys.c (hekv_ckks_pk_new): a is uniform over all Q limbs, then over P, from one stream.
 * Switching keys re-expand with keyswitch.c's own hekv__swk_expand. */
static void seed_expand_pk(const hekv_ckks_params *prm, const uint8_t *seed, hekv__qp_poly *a) {
    hekv_prng g;
    hekv_prng_init_seed(&g, seed);
    hekv_sample_uniform(prm->rq, &g, &a->q);
    hekv_sample_uniform(prm->rp, &g, &a->p);
    a->q.ntt = a->p.ntt = 1;
    hekv_prng_wipe(&g);
}

/* ---- parameters ------------------------------------------------------------------------ */

hekv_status hekv_ckks_params_save(const hekv_ckks_params *p, uint8_t **buf, size_t *len,
                                  hekv_err *err) {
    hekv_status s = save_args(p, "hekv_ckks_params_save", buf, len, err);
    if (s != HEKV_OK) return s;
    const hekv_ckks_params_lit *l = &p->lit;
    size_t total = HDR_BYTES + PARAMS_HDR + (size_t)l->nq + (size_t)l->np + SUM_BYTES;
    wr w;
    if ((s = wr_begin(&w, total, HEKV_OBJ_PARAMS, 0, p, err)) != HEKV_OK) return s;
    wr_u(&w, (uint64_t)l->logn, 1);
    wr_u(&w, (uint64_t)l->nq, 1);
    wr_u(&w, (uint64_t)l->np, 1);
    wr_u(&w, (uint64_t)l->dnum, 1);
    wr_u(&w, (uint64_t)l->log_scale, 1);
    wr_u(&w, (uint64_t)l->secret, 1);
    wr_u(&w, (uint64_t)(l->insecure != 0), 1);
    wr_u(&w, 0, 1);
    wr_u(&w, (uint64_t)(uint32_t)l->hw, 4);
    wr_u(&w, 0, 4);
    wr_u(&w, dbl_bits(l->sigma), 8);
    for (int i = 0; i < l->nq; i++) wr_u(&w, (uint64_t)l->logq[i], 1);
    for (int i = 0; i < l->np; i++) wr_u(&w, (uint64_t)l->logp[i], 1);
    wr_end(&w, buf, len);
    return HEKV_OK;
}

hekv_status hekv_ckks_params_load(const uint8_t *buf, size_t len,
                                  const hekv_ckks_params_lit *opts, hekv_ckks_params **out,
                                  hekv_err *err) {
    hekv_status s = load_args(buf, out, buf, HEKV_OBJ_PARAMS, err);
    if (s != HEKV_OK) return s;
    *out = NULL;
    rd r;
    if ((s = rd_begin(&r, buf, len, HEKV_OBJ_PARAMS, NULL, 0, err)) != HEKV_OK) return s;
    if (!rd_has(&r, PARAMS_HDR))
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "parameter file truncated: %zu bytes, too short for its header", len);
    hekv_ckks_params_lit lit;
    memset(&lit, 0, sizeof lit);
    /* The name: non-empty, then NUL padding only (it is hashed into the fingerprint). */
    size_t nl = strnlen((const char *)buf + 32, 32);
    int padbad = nl == 0 || nl == 32;
    for (size_t i = nl; i < 32; i++) padbad |= buf[32 + i] != 0;
    if (padbad)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "parameter file: set name is empty or not NUL-padded");
    memcpy(lit.name, buf + 32, nl);
    lit.logn = (int)rd_u(&r, 1);
    lit.nq = (int)rd_u(&r, 1);
    lit.np = (int)rd_u(&r, 1);
    lit.dnum = (int)rd_u(&r, 1);
    lit.log_scale = (int)rd_u(&r, 1);
    unsigned secret = (unsigned)rd_u(&r, 1);
    unsigned insecure = (unsigned)rd_u(&r, 1);
    unsigned pad0 = (unsigned)rd_u(&r, 1);
    uint32_t hw = (uint32_t)rd_u(&r, 4);
    uint32_t pad1 = (uint32_t)rd_u(&r, 4);
    double sigma = bits_dbl(rd_u(&r, 8));
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
    if (!rd_has(&r, (size_t)lit.nq + (size_t)lit.np))
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "parameter file truncated: %zu bytes, its %d + %d prime sizes need "
                            "%zu", len, lit.nq, lit.np,
                            r.off + (size_t)lit.nq + (size_t)lit.np + SUM_BYTES);
    for (int i = 0; i < lit.nq + lit.np; i++) {
        int b = (int)rd_u(&r, 1);
        if (b < 2 || b > HEKV_CKKS_MAX_PRIME_BITS)
            return hekv_err_set(err, HEKV_ERR_FORMAT, "parameter file: %s prime %d has %d bits "
                                "(want 2..%d)", i < lit.nq ? "ciphertext" : "special",
                                i < lit.nq ? i : i - lit.nq, b, HEKV_CKKS_MAX_PRIME_BITS);
        if (i < lit.nq)
            lit.logq[i] = b;
        else
            lit.logp[i - lit.nq] = b;
    }
    if ((s = rd_finish_check(&r, err)) != HEKV_OK) return s;
    lit.secret = (hekv_secret_dist)secret;
    lit.hw = (int)hw;
    lit.sigma = sigma;
    lit.insecure = (int)insecure;
    lit.isa = opts ? opts->isa : HEKV_ISA_AUTO;
    lit.threads = opts ? opts->threads : 0;
    hekv_ckks_params *p = NULL;
    if ((s = hekv_ckks_params_new(&lit, &p, err)) != HEKV_OK) return s;
    if (memcmp(buf + 16, hekv_ckks_params_fingerprint(p), HEKV_FINGERPRINT_BYTES)) {
        hekv_ckks_params_free(p);
        return hekv_err_set(err, HEKV_ERR_PARAMS,
                            "parameter file for set '%s': the set rebuilt from its fields has a "
                            "different fingerprint (file from another hekv version?); "
                            "re-create it with this version",
                            lit.name);
    }
    *out = p;
    return HEKV_OK;
}

/* ---- secret key ----------------------------------------------------------------------- */

hekv_status hekv_ckks_sk_save(const hekv_sk *sk, uint8_t **buf, size_t *len, hekv_err *err) {
    hekv_status s = save_args(sk, "hekv_ckks_sk_save", buf, len, err);
    if (s != HEKV_OK) return s;
    const hekv_ckks_params *p = sk->params;
    size_t n = p->n;
    size_t total = HDR_BYTES + SK_HDR + n / 4 + SUM_BYTES;
    wr w;
    if ((s = wr_begin(&w, total, HEKV_OBJ_SK, 0, p, err)) != HEKV_OK) return s;
    wr_u(&w, n, 4);
    wr_u(&w, 0, 4);
    /* 2-bit codes c & 3 (0, 1, 3 for -1), branch-free; a non-ternary coefficient is a
     * broken key, checked without branching on the values. */
    uint64_t bad = 0;
    for (size_t i = 0; i < n; i += 4) {
        uint8_t byte = 0;
        for (size_t k = 0; k < 4; k++) {
            uint64_t c = (uint64_t)sk->coeffs[i + k], u = c + 1; /* valid: u in {0,1,2} */
            bad |= (u & ~(uint64_t)3) | ((u >> 1) & u & 1);
            byte |= (uint8_t)((c & 3) << (2 * k));
        }
        w.buf[w.off++] = byte;
    }
    if (bad) {
        hekv_memzero(w.buf, total);
        free(w.buf);
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "hekv_ckks_sk_save: the secret key has coefficients outside "
                            "{-1, 0, 1}; only ternary keys can be saved");
    }
    wr_end(&w, buf, len);
    return HEKV_OK;
}

hekv_status hekv_ckks_sk_load(const hekv_ckks_params *p, const uint8_t *buf, size_t len,
                              hekv_sk **out, hekv_err *err) {
    hekv_status s = load_args(p, buf, out, HEKV_OBJ_SK, err);
    if (s != HEKV_OK) return s;
    *out = NULL;
    rd r;
    if ((s = rd_begin(&r, buf, len, HEKV_OBJ_SK, p, 0, err)) != HEKV_OK) return s;
    if (!rd_has(&r, SK_HDR))
        return hekv_err_set(err, HEKV_ERR_FORMAT, "secret key file truncated: %zu bytes", len);
    uint64_t n = rd_u(&r, 4), pad = rd_u(&r, 4);
    if (n != p->n || pad)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "secret key file: ring degree %llu (reserved %llu), the set has %zu",
                            (unsigned long long)n, (unsigned long long)pad, p->n);
    if (!rd_has(&r, n / 4))
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "secret key file truncated: %zu bytes, header says %zu", len,
                            r.off + (size_t)n / 4 + SUM_BYTES);
    const uint8_t *code = buf + r.off;
    r.off += n / 4;
    if ((s = rd_finish_check(&r, err)) != HEKV_OK) return s;
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
    hw = 0;
    hekv_sk *sk = calloc(1, sizeof *sk);
    if (!sk) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ckks_sk_load: out of memory");
    sk->params = p;
    sk->coeffs = calloc(n, sizeof *sk->coeffs); /* as keys.c: hekv_ckks_sk_free frees it */
    if (!sk->coeffs || hekv_poly_new(p->rq, (size_t)p->nq, &sk->sq) != HEKV_OK ||
        hekv_poly_new(p->rp, (size_t)p->np, &sk->sp) != HEKV_OK) {
        hekv_ckks_sk_free(sk);
        return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ckks_sk_load: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        unsigned c = (code[i / 4] >> (2 * (i % 4))) & 3;
        sk->coeffs[i] = (int64_t)(c & 1) - 2 * (int64_t)((c >> 1) & 1);
    }
    hekv_poly_set_small(p->rq, &sk->sq, sk->coeffs);
    hekv_ring_ntt_fwd(p->rq, &sk->sq);
    hekv_poly_set_small(p->rp, &sk->sp, sk->coeffs);
    hekv_ring_ntt_fwd(p->rp, &sk->sp);
    sk->sq.ntt = sk->sp.ntt = 1;
    *out = sk;
    return HEKV_OK;
}

/* ---- public key ----------------------------------------------------------------------- */

hekv_status hekv_ckks_pk_save(const hekv_pk *pk, uint8_t **buf, size_t *len, hekv_err *err) {
    hekv_status s = save_args(pk, "hekv_ckks_pk_save", buf, len, err);
    if (s != HEKV_OK) return s;
    const hekv_ckks_params *p = pk->params;
    size_t qb = ring_bytes(p->rq, (size_t)p->nq), pb = ring_bytes(p->rp, (size_t)p->np);
    int seeded = pk->has_seed != 0;
    size_t total = HDR_BYTES + PK_HDR + qb + pb + (seeded ? HEKV_SEED_BYTES : qb + pb) +
                   SUM_BYTES;
    wr w;
    if ((s = wr_begin(&w, total, HEKV_OBJ_PK, seeded ? FLAG_SEEDED : 0, p, err)) != HEKV_OK)
        return s;
    wr_u(&w, (uint64_t)p->nq, 4);
    wr_u(&w, (uint64_t)p->np, 4);
    wr_poly(&w, p->rq, &pk->b.q, (size_t)p->nq);
    wr_poly(&w, p->rp, &pk->b.p, (size_t)p->np);
    if (seeded) {
        wr_bytes(&w, pk->seed, HEKV_SEED_BYTES);
    } else {
        wr_poly(&w, p->rq, &pk->a.q, (size_t)p->nq);
        wr_poly(&w, p->rp, &pk->a.p, (size_t)p->np);
    }
    wr_end(&w, buf, len);
    return HEKV_OK;
}

/* Checks the nq/np pair of a pk or evk header against the set. */
static hekv_status rd_check_limbs(const rd *r, uint64_t nq, uint64_t np,
                                  const hekv_ckks_params *p, hekv_err *err) {
    if (nq != (uint64_t)p->nq || np != (uint64_t)p->np)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "%s file: %llu + %llu limbs, the set has %d + %d",
                            obj_noun(r->type), (unsigned long long)nq, (unsigned long long)np,
                            p->nq, p->np);
    return HEKV_OK;
}

hekv_status hekv_ckks_pk_load(const hekv_ckks_params *p, const uint8_t *buf, size_t len,
                              hekv_pk **out, hekv_err *err) {
    hekv_status s = load_args(p, buf, out, HEKV_OBJ_PK, err);
    if (s != HEKV_OK) return s;
    *out = NULL;
    rd r;
    if ((s = rd_begin(&r, buf, len, HEKV_OBJ_PK, p, FLAG_SEEDED, err)) != HEKV_OK) return s;
    if (!rd_has(&r, PK_HDR))
        return hekv_err_set(err, HEKV_ERR_FORMAT, "public key file truncated: %zu bytes", len);
    uint64_t nq = rd_u(&r, 4), np = rd_u(&r, 4);
    if ((s = rd_check_limbs(&r, nq, np, p, err)) != HEKV_OK) return s;
    size_t body = r.off;
    int seeded = (r.flags & FLAG_SEEDED) != 0;
    if ((s = rd_check_poly(&r, p->rq, (size_t)p->nq, "b (Q)", err)) != HEKV_OK ||
        (s = rd_check_poly(&r, p->rp, (size_t)p->np, "b (P)", err)) != HEKV_OK)
        return s;
    if (seeded)
        s = rd_check_seed(&r, "a", err);
    else if ((s = rd_check_poly(&r, p->rq, (size_t)p->nq, "a (Q)", err)) == HEKV_OK)
        s = rd_check_poly(&r, p->rp, (size_t)p->np, "a (P)", err);
    if (s != HEKV_OK) return s;
    if ((s = rd_finish_check(&r, err)) != HEKV_OK) return s;

    hekv_pk *pk = calloc(1, sizeof *pk);
    if (!pk) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ckks_pk_load: out of memory");
    pk->params = p;
    if (hekv__qp_new(p, p->nq - 1, &pk->b) != HEKV_OK ||
        hekv__qp_new(p, p->nq - 1, &pk->a) != HEKV_OK) {
        hekv_ckks_pk_free(pk);
        return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ckks_pk_load: out of memory");
    }
    r.off = body;
    rd_poly(&r, p->rq, &pk->b.q);
    rd_poly(&r, p->rp, &pk->b.p);
    if (seeded) {
        memcpy(pk->seed, buf + r.off, HEKV_SEED_BYTES);
        pk->has_seed = 1;
        seed_expand_pk(p, pk->seed, &pk->a);
    } else {
        rd_poly(&r, p->rq, &pk->a.q);
        rd_poly(&r, p->rp, &pk->a.p);
    }
    *out = pk;
    return HEKV_OK;
}

/* ---- evaluation keys ------------------------------------------------------------------ */

static size_t swk_bytes(const hekv_ckks_params *p, const hekv__swk *k) {
    size_t qp = ring_bytes(p->rq, (size_t)p->nq) + ring_bytes(p->rp, (size_t)p->np);
    return (size_t)k->ndigits * qp + (k->has_seed ? HEKV_SEED_BYTES : (size_t)k->ndigits * qp);
}

static void wr_swk(wr *w, const hekv_ckks_params *p, const hekv__swk *k) {
    for (int j = 0; j < k->ndigits; j++) {
        wr_poly(w, p->rq, &k->b[j].q, (size_t)p->nq);
        wr_poly(w, p->rp, &k->b[j].p, (size_t)p->np);
    }
    if (k->has_seed) {
        wr_bytes(w, k->seed, HEKV_SEED_BYTES);
        return;
    }
    for (int j = 0; j < k->ndigits; j++) {
        wr_poly(w, p->rq, &k->a[j].q, (size_t)p->nq);
        wr_poly(w, p->rp, &k->a[j].p, (size_t)p->np);
    }
}

hekv_status hekv_ckks_evk_save(const hekv_evk *evk, uint8_t **buf, size_t *len,
                               hekv_err *err) {
    hekv_status s = save_args(evk, "hekv_ckks_evk_save", buf, len, err);
    if (s != HEKV_OK) return s;
    const hekv_ckks_params *p = evk->params;
    size_t nkeys = (evk->relin ? 1 : 0) + evk->ngal;
    size_t total = HDR_BYTES + EVK_HDR + 8 * evk->ngal + nkeys + SUM_BYTES;
    if (evk->relin) total += swk_bytes(p, evk->relin);
    for (size_t i = 0; i < evk->ngal; i++) total += swk_bytes(p, evk->galk[i]);
    wr w;
    if ((s = wr_begin(&w, total, HEKV_OBJ_EVK, 0, p, err)) != HEKV_OK) return s;
    wr_u(&w, evk->relin ? 1 : 0, 1);
    wr_u(&w, 0, 3);
    wr_u(&w, evk->ngal, 4);
    wr_u(&w, (uint64_t)p->dnum, 4);
    wr_u(&w, (uint64_t)p->nq, 4);
    wr_u(&w, (uint64_t)p->np, 4);
    wr_u(&w, 0, 4);
    for (size_t i = 0; i < evk->ngal; i++) wr_u(&w, evk->gal[i], 8);
    if (evk->relin) wr_u(&w, evk->relin->has_seed ? FLAG_SEEDED : 0, 1);
    for (size_t i = 0; i < evk->ngal; i++) wr_u(&w, evk->galk[i]->has_seed ? FLAG_SEEDED : 0, 1);
    if (evk->relin) wr_swk(&w, p, evk->relin);
    for (size_t i = 0; i < evk->ngal; i++) wr_swk(&w, p, evk->galk[i]);
    wr_end(&w, buf, len);
    return HEKV_OK;
}

/* Validates one switching key at r->off (advancing); `what` names it for messages. */
static hekv_status rd_check_swk(rd *r, const hekv_ckks_params *p, int seeded, const char *what,
                                hekv_err *err) {
    char name[96];
    hekv_status s;
    for (int j = 0; j < p->dnum; j++) {
        snprintf(name, sizeof name, "%s b_%d (Q)", what, j);
        if ((s = rd_check_poly(r, p->rq, (size_t)p->nq, name, err)) != HEKV_OK) return s;
        snprintf(name, sizeof name, "%s b_%d (P)", what, j);
        if ((s = rd_check_poly(r, p->rp, (size_t)p->np, name, err)) != HEKV_OK) return s;
    }
    if (seeded) return rd_check_seed(r, what, err);
    for (int j = 0; j < p->dnum; j++) {
        snprintf(name, sizeof name, "%s a_%d (Q)", what, j);
        if ((s = rd_check_poly(r, p->rq, (size_t)p->nq, name, err)) != HEKV_OK) return s;
        snprintf(name, sizeof name, "%s a_%d (P)", what, j);
        if ((s = rd_check_poly(r, p->rp, (size_t)p->np, name, err)) != HEKV_OK) return s;
    }
    return HEKV_OK;
}

/* Builds a switching key from validated data at r->off (advancing). */
static hekv_status rd_swk(rd *r, const hekv_ckks_params *p, int seeded, hekv__swk **out) {
    *out = NULL;
    hekv__swk *k = calloc(1, sizeof *k);
    if (!k) return HEKV_ERR_NOMEM;
    k->ndigits = p->dnum;
    k->b = calloc((size_t)p->dnum, sizeof *k->b);
    k->a = calloc((size_t)p->dnum, sizeof *k->a);
    if (!k->b || !k->a) {
        hekv__swk_free(k);
        return HEKV_ERR_NOMEM;
    }
    for (int j = 0; j < p->dnum; j++)
        if (hekv__qp_new(p, p->nq - 1, &k->b[j]) != HEKV_OK ||
            hekv__qp_new(p, p->nq - 1, &k->a[j]) != HEKV_OK) {
            hekv__swk_free(k);
            return HEKV_ERR_NOMEM;
        }
    for (int j = 0; j < p->dnum; j++) {
        rd_poly(r, p->rq, &k->b[j].q);
        rd_poly(r, p->rp, &k->b[j].p);
    }
    if (seeded) {
        memcpy(k->seed, r->buf + r->off, HEKV_SEED_BYTES);
        r->off += HEKV_SEED_BYTES;
        k->has_seed = 1;
        if (hekv__swk_expand(p, k) != HEKV_OK) {
            hekv__swk_free(k);
            return HEKV_ERR_NOMEM; /* cannot happen: k was built for p */
        }
    } else {
        for (int j = 0; j < p->dnum; j++) {
            rd_poly(r, p->rq, &k->a[j].q);
            rd_poly(r, p->rp, &k->a[j].p);
        }
    }
    *out = k;
    return HEKV_OK;
}

hekv_status hekv_ckks_evk_load(const hekv_ckks_params *p, const uint8_t *buf, size_t len,
                               hekv_evk **out, hekv_err *err) {
    hekv_status s = load_args(p, buf, out, HEKV_OBJ_EVK, err);
    if (s != HEKV_OK) return s;
    *out = NULL;
    rd r;
    if ((s = rd_begin(&r, buf, len, HEKV_OBJ_EVK, p, 0, err)) != HEKV_OK) return s;
    if (!rd_has(&r, EVK_HDR))
        return hekv_err_set(err, HEKV_ERR_FORMAT, "evaluation key file truncated: %zu bytes",
                            len);
    uint64_t has_relin = rd_u(&r, 1), pad0 = rd_u(&r, 3), ngal = rd_u(&r, 4);
    uint64_t dnum = rd_u(&r, 4), nq = rd_u(&r, 4), np = rd_u(&r, 4), pad1 = rd_u(&r, 4);
    if (has_relin > 1 || pad0 || pad1)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "evaluation key file: malformed relinearisation flag %llu or "
                            "reserved fields", (unsigned long long)has_relin);
    if (dnum != (uint64_t)p->dnum)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "evaluation key file: dnum %llu, the set has %d",
                            (unsigned long long)dnum, p->dnum);
    if ((s = rd_check_limbs(&r, nq, np, p, err)) != HEKV_OK) return s;
    /* At most N distinct odd elements below 2N. */
    if (ngal > p->n)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "evaluation key file: %llu Galois keys, more than the %zu "
                            "possible elements", (unsigned long long)ngal, p->n);
    size_t nkeys = (size_t)has_relin + (size_t)ngal;
    if (!rd_has(&r, 8 * (size_t)ngal + nkeys))
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "evaluation key file truncated: %zu bytes, its table of %llu Galois "
                            "elements needs %zu", len, (unsigned long long)ngal,
                            r.off + 8 * (size_t)ngal + nkeys + SUM_BYTES);
    size_t gal_off = r.off;
    uint64_t prev = 0;
    for (size_t i = 0; i < ngal; i++) {
        uint64_t g = rd_u(&r, 8);
        if (!(g & 1) || g >= 2 * (uint64_t)p->n || (i && g <= prev))
            return hekv_err_set(err, HEKV_ERR_FORMAT,
                                "evaluation key file: Galois element %zu = %llu is not odd, "
                                "below 2N = %zu and above the previous one", i,
                                (unsigned long long)g, 2 * p->n);
        prev = g;
    }
    size_t flag_off = r.off;
    for (size_t i = 0; i < nkeys; i++)
        if (buf[flag_off + i] & ~FLAG_SEEDED)
            return hekv_err_set(err, HEKV_ERR_FORMAT,
                                "evaluation key file: key %zu has unknown flags 0x%02x", i,
                                buf[flag_off + i]);
    r.off += nkeys;
    size_t body = r.off;
    for (size_t i = 0; i < nkeys; i++) {
        char what[64];
        if (has_relin && i == 0)
            snprintf(what, sizeof what, "relinearisation key");
        else
            snprintf(what, sizeof what, "Galois key %llu",
                     (unsigned long long)get_le(buf + gal_off + 8 * (i - has_relin), 8));
        if ((s = rd_check_swk(&r, p, buf[flag_off + i] & FLAG_SEEDED, what, err)) != HEKV_OK)
            return s;
    }
    if ((s = rd_finish_check(&r, err)) != HEKV_OK) return s;

    hekv_evk *evk = NULL;
    if ((s = hekv_ckks_evk_new(p, &evk, err)) != HEKV_OK) return s;
    if (ngal) {
        evk->gal = malloc((size_t)ngal * sizeof *evk->gal);
        evk->galk = calloc((size_t)ngal, sizeof *evk->galk);
        if (!evk->gal || !evk->galk) goto nomem;
        evk->capgal = (size_t)ngal;
    }
    r.off = body;
    for (size_t i = 0; i < nkeys; i++) {
        hekv__swk *k = NULL;
        if (rd_swk(&r, p, buf[flag_off + i] & FLAG_SEEDED, &k) != HEKV_OK) goto nomem;
        if (has_relin && i == 0) {
            evk->relin = k;
        } else {
            size_t g = i - (size_t)has_relin;
            evk->gal[g] = get_le(buf + gal_off + 8 * g, 8);
            evk->galk[g] = k;
            evk->ngal = g + 1;
        }
    }
    *out = evk;
    return HEKV_OK;
nomem:
    hekv_ckks_evk_free(evk);
    return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ckks_evk_load: out of memory");
}

/* ---- ciphertexts and plaintexts ------------------------------------------------------ */

static hekv_status check_save_obj(const hekv_ckks_params *p, const hekv_ckks_params *own,
                                  int level, double scale, size_t slots, const char *fn,
                                  hekv_err *err) {
    if (own != p)
        return hekv_err_set(err, HEKV_ERR_PARAMS, "%s: the object belongs to set '%s', not "
                            "'%s'", fn, own ? own->lit.name : "?", p->lit.name);
    if (level < 0 || level >= p->nq)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: the object is empty or has level %d",
                            fn, level);
    if (!isfinite(scale) || !(scale > 0) || !slots || slots > p->n / 2 || (slots & (slots - 1)))
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: invalid scale %g or slots %zu", fn, scale,
                            slots);
    return HEKV_OK;
}

hekv_status hekv_ckks_ct_save(const hekv_ckks_params *p, const hekv_ct *ct, uint8_t **buf,
                              size_t *len, hekv_err *err) {
    hekv_status s = save_args(ct, "hekv_ckks_ct_save", buf, len, err);
    if (s != HEKV_OK) return s;
    if (!p) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_ct_save: params is NULL");
    if ((s = check_save_obj(p, ct->params, ct->level, ct->scale, ct->slots,
                            "hekv_ckks_ct_save", err)) != HEKV_OK)
        return s;
    size_t limbs = (size_t)ct->level + 1, pb = ring_bytes(p->rq, limbs);
    int seeded = ct->has_seed != 0;
    size_t total = HDR_BYTES + CT_HDR + pb + (seeded ? HEKV_SEED_BYTES : pb) + SUM_BYTES;
    wr w;
    if ((s = wr_begin(&w, total, HEKV_OBJ_CT, seeded ? FLAG_SEEDED : 0, p, err)) != HEKV_OK)
        return s;
    wr_u(&w, (uint64_t)ct->level, 4);
    wr_u(&w, 0, 4);
    wr_u(&w, dbl_bits(ct->scale), 8);
    wr_u(&w, ct->slots, 8);
    wr_poly(&w, p->rq, &ct->c[0], limbs);
    if (seeded)
        wr_bytes(&w, ct->seed, HEKV_SEED_BYTES);
    else
        wr_poly(&w, p->rq, &ct->c[1], limbs);
    wr_end(&w, buf, len);
    return HEKV_OK;
}

hekv_status hekv_ckks_pt_save(const hekv_ckks_params *p, const hekv_pt *pt, uint8_t **buf,
                              size_t *len, hekv_err *err) {
    hekv_status s = save_args(pt, "hekv_ckks_pt_save", buf, len, err);
    if (s != HEKV_OK) return s;
    if (!p) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_pt_save: params is NULL");
    if ((s = check_save_obj(p, pt->params, pt->level, pt->scale, pt->slots,
                            "hekv_ckks_pt_save", err)) != HEKV_OK)
        return s;
    size_t limbs = (size_t)pt->level + 1;
    size_t total = HDR_BYTES + CT_HDR + ring_bytes(p->rq, limbs) + SUM_BYTES;
    wr w;
    if ((s = wr_begin(&w, total, HEKV_OBJ_PT, 0, p, err)) != HEKV_OK) return s;
    wr_u(&w, (uint64_t)pt->level, 4);
    wr_u(&w, 0, 4);
    wr_u(&w, dbl_bits(pt->scale), 8);
    wr_u(&w, pt->slots, 8);
    wr_poly(&w, p->rq, &pt->m, limbs);
    wr_end(&w, buf, len);
    return HEKV_OK;
}

/* The level/scale/slots header shared by ct and pt. */
static hekv_status rd_ct_header(rd *r, const hekv_ckks_params *p, int *level, double *scale,
                                size_t *slots, hekv_err *err) {
    const char *noun = obj_noun(r->type);
    if (!rd_has(r, CT_HDR))
        return hekv_err_set(err, HEKV_ERR_FORMAT, "%s file truncated: %zu bytes", noun, r->len);
    uint64_t lv = rd_u(r, 4), pad = rd_u(r, 4);
    double sc = bits_dbl(rd_u(r, 8));
    uint64_t sl = rd_u(r, 8);
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

hekv_status hekv_ckks_ct_load(const hekv_ckks_params *p, const uint8_t *buf, size_t len,
                              hekv_ct *ct, hekv_err *err) {
    hekv_status s = load_args(p, buf, ct, HEKV_OBJ_CT, err);
    if (s != HEKV_OK) return s;
    if (ct->params != p)
        return hekv_err_set(err, HEKV_ERR_PARAMS, "hekv_ckks_ct_load: the ciphertext object "
                            "belongs to another parameter set than '%s'", p->lit.name);
    rd r;
    if ((s = rd_begin(&r, buf, len, HEKV_OBJ_CT, p, FLAG_SEEDED, err)) != HEKV_OK) return s;
    int level;
    double scale;
    size_t slots;
    if ((s = rd_ct_header(&r, p, &level, &scale, &slots, err)) != HEKV_OK) return s;
    int seeded = (r.flags & FLAG_SEEDED) != 0;
    size_t body = r.off;
    if ((s = rd_check_poly(&r, p->rq, (size_t)level + 1, "c0", err)) != HEKV_OK) return s;
    s = seeded ? rd_check_seed(&r, "c1", err)
               : rd_check_poly(&r, p->rq, (size_t)level + 1, "c1", err);
    if (s != HEKV_OK) return s;
    if ((s = rd_finish_check(&r, err)) != HEKV_OK) return s;
    if (hekv__ct_resize(ct, level) != HEKV_OK)
        return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ckks_ct_load: out of memory");
    r.off = body;
    ct->c[0].limbs = ct->c[1].limbs = (size_t)level + 1;
    rd_poly(&r, p->rq, &ct->c[0]);
    if (seeded) {
        memcpy(ct->seed, buf + r.off, HEKV_SEED_BYTES);
        seed_expand_ct(p, ct->seed, &ct->c[1]);
    } else {
        rd_poly(&r, p->rq, &ct->c[1]);
    }
    ct->has_seed = seeded;
    ct->level = level;
    ct->scale = scale;
    ct->slots = slots;
    return HEKV_OK;
}

hekv_status hekv_ckks_pt_load(const hekv_ckks_params *p, const uint8_t *buf, size_t len,
                              hekv_pt *pt, hekv_err *err) {
    hekv_status s = load_args(p, buf, pt, HEKV_OBJ_PT, err);
    if (s != HEKV_OK) return s;
    if (pt->params != p)
        return hekv_err_set(err, HEKV_ERR_PARAMS, "hekv_ckks_pt_load: the plaintext object "
                            "belongs to another parameter set than '%s'", p->lit.name);
    rd r;
    if ((s = rd_begin(&r, buf, len, HEKV_OBJ_PT, p, 0, err)) != HEKV_OK) return s;
    int level;
    double scale;
    size_t slots;
    if ((s = rd_ct_header(&r, p, &level, &scale, &slots, err)) != HEKV_OK) return s;
    size_t body = r.off;
    if ((s = rd_check_poly(&r, p->rq, (size_t)level + 1, "m", err)) != HEKV_OK) return s;
    if ((s = rd_finish_check(&r, err)) != HEKV_OK) return s;
    if (hekv__pt_resize(pt, level) != HEKV_OK)
        return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ckks_pt_load: out of memory");
    r.off = body;
    pt->m.limbs = (size_t)level + 1;
    rd_poly(&r, p->rq, &pt->m);
    pt->level = level;
    pt->scale = scale;
    pt->slots = slots;
    return HEKV_OK;
}

hekv_status hekv_ckks_peek_type(const uint8_t *buf, size_t len, hekv_obj_type *type,
                                hekv_err *err) {
    if (!buf || !type) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_peek_type: NULL argument");
    hekv_status s = rd_magic(buf, len, "hekv", err);
    if (s != HEKV_OK) return s;
    int t = buf[6];
    if (t < HEKV_OBJ_PARAMS || t > HEKV_OBJ_PT)
        return hekv_err_set(err, HEKV_ERR_FORMAT, "hekv file has unknown object type %d", t);
    *type = (hekv_obj_type)t;
    return HEKV_OK;
}

/* ---- files ---------------------------------------------------------------------------- */

hekv_status hekv_file_write(const char *path, const uint8_t *buf, size_t len, int secret,
                            hekv_err *err) {
    if (!path || (!buf && len))
        return hekv_err_set(err, HEKV_ERR_ARG, "hekv_file_write: NULL argument");
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 16);
    if (!tmp) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_file_write: out of memory");
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".tmp.XXXXXX", 12);
    int fd = mkstemp(tmp); /* created 0600 */
    if (fd < 0) {
        hekv_err_set(err, HEKV_ERR_IO, "cannot create a temporary file next to '%s': %s", path,
                     strerror(errno));
        free(tmp);
        return HEKV_ERR_IO;
    }
    const char *step = "set the mode of";
    if (fchmod(fd, secret ? 0600 : 0644) != 0) goto fail;
    step = "write";
    for (size_t done = 0; done < len;) {
        ssize_t w = write(fd, buf + done, len - done);
        if (w < 0) {
            if (errno == EINTR) continue;
            goto fail;
        }
        done += (size_t)w;
    }
    step = "fsync";
    if (fsync(fd) != 0) goto fail;
    step = "close";
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    step = "rename";
    if (rename(tmp, path) != 0) goto fail;
    /* Make the rename durable: fsync the directory (best effort). */
    {
        char *dir = strdup(path);
        if (dir) {
            char *slash = strrchr(dir, '/');
            const char *d = slash ? (slash == dir ? "/" : (*slash = 0, dir)) : ".";
            int dfd = open(d, O_RDONLY | O_DIRECTORY);
            if (dfd >= 0) {
                (void)fsync(dfd);
                close(dfd);
            }
            free(dir);
        }
    }
    free(tmp);
    return HEKV_OK;
fail: {
    int e = errno;
    if (fd >= 0) close(fd);
    unlink(tmp);
    free(tmp);
    return hekv_err_set(err, HEKV_ERR_IO, "cannot %s '%s': %s", step, path, strerror(e));
}
}

hekv_status hekv_file_read(const char *path, uint8_t **buf, size_t *len, hekv_err *err) {
    if (!path || !buf || !len) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_file_read: NULL argument");
    *buf = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hekv_err_set(err, HEKV_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return hekv_err_set(err, HEKV_ERR_IO, "cannot stat '%s': %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return hekv_err_set(err, HEKV_ERR_IO, "'%s' is not a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    uint8_t *b = malloc(size ? size : 1);
    if (!b) {
        close(fd);
        return hekv_err_set(err, HEKV_ERR_NOMEM, "cannot read '%s': out of memory (%zu bytes)",
                            path, size);
    }
    size_t done = 0;
    while (done < size) {
        ssize_t r = read(fd, b + done, size - done);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            free(b);
            return hekv_err_set(err, HEKV_ERR_IO, "cannot read '%s': %s", path, strerror(e));
        }
        if (r == 0) break; /* file shrank: return what is there, the loader will complain */
        done += (size_t)r;
    }
    close(fd);
    *buf = b;
    *len = done;
    return HEKV_OK;
}
