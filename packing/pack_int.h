/* pack_int.h: the inside of the packing layer: the K/V cache struct (kvcache.c, attention.c
 * and kvcache_serial.c share it), its masks, and the small helpers every packing file uses
 * (counters, masks at scale q_level, mask-and-rescale, rotate-and-add). Everything sits on
 * the public CKKS API and its extension header (src/ckks/ckks_ext.h); nothing here reaches
 * into a CKKS struct. Never installed. */
#ifndef HEKV_PACK_INT_H
#define HEKV_PACK_INT_H

#include "hekv/pack.h"
#include "src/ckks/ckks_ext.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HEKV__ST(st, field, k) \
    do { if (st) (st)->field += (uint64_t)(k); } while (0)

/* log2 of a power of two */
static inline int hekv__log2(size_t x) {
    int l = 0;
    while (((size_t)1 << l) < x) l++;
    return l;
}

static inline int hekv__is_pow2(size_t x) { return x && !(x & (x - 1)); }

/* pack_util.c ----------------------------------------------------------------------- */

/* Encodes the 0/1 (or any real) slot vector vals[S] into pt at `level` with scale
 * q_level, so that a product with it followed by a rescale keeps the ciphertext's scale. */
hekv_status hekv__mask_encode(hekv_encoder *enc, hekv_pt *pt, const double *vals, int level,
                              hekv_err *err);
/* out = rescale(in (.) mask): level - 1, scale of in (mask at scale q_level of in). */
hekv_status hekv__mask_mul(hekv_eval *ev, hekv_ct *out, const hekv_ct *in, const hekv_pt *mask,
                           hekv_pack_stats *st);
/* c += Rot(c, k) (1 rotation, the sum fused into it: hekv_ckks_eval_rotate_add). */
hekv_status hekv__rot_add(hekv_eval *ev, hekv_ct *c, long k, hekv_pack_stats *st);
/* The Galois key check of a left rotation by k of full-slot ciphertexts at `level`. */
hekv_status hekv__need_rot(hekv_eval *ev, const char *fn, long k, int level);

/* kvcache.c ------------------------------------------------------------------------- */

enum { KV_MASK_K, KV_MASK_V, KV_MASK_BLOCK, KV_MASK_Q, KV_MASK_OUT, KV_MASK_KINDS };

struct hekv_pack_kv {
    const hekv_ckks_params *params;
    size_t S, d, H, Hk, dh, dkv, gamma, t, tkv, B; /* see hekv_pack_kv in pack.h */
    int store_level;
    size_t nk_tok, nv_tok;     /* tokens appended */
    size_t nk, capk;           /* K ciphertexts held / allocated */
    hekv_ct **k;               /* [capk] */
    size_t nv, capv;           /* V ciphertexts held (a multiple of dh) / allocated */
    hekv_ct **v;               /* [capv] block-major: block b diagonal j at b*dh + j */
    int k_level, v_level;      /* -1 while empty */
    double k_scale, v_scale;
    /* masks (not serialized) */
    hekv_encoder *enc;
    hekv_pt *base[KV_MASK_KINDS][HEKV_CKKS_MAX_Q]; /* base masks per kind and level (lazy) */
    hekv_pt *mask;             /* a rotated mask */
};

/* The mask of `kind` at `level` moved right by `shift` slots (1 at s + shift where the base
 * has 1 at s), encoded once per kind and level; the returned pointer is the cached base
 * (shift 0) or kv->mask, valid until the next call. */
hekv_status hekv__kv_mask(hekv_pack_kv *kv, hekv_eval *ev, int kind, int level, size_t shift,
                          const hekv_pt **out);
/* The checks of an operand of the cache's steps: non-empty, of the cache's set, over all
 * slots, at `need` levels at least. */
hekv_status hekv__kv_check_in(hekv_eval *ev, const hekv_pack_kv *kv, const char *fn,
                              const hekv_ct *c, const char *what, int need);

static inline size_t hekv__ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

#ifdef __cplusplus
}
#endif
#endif
