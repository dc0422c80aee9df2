/* pack_int.h: the inside of the packing layer: the K/V cache struct (kvcache.c and its
 * serialization share it) and the small helpers every packing file uses: counters,
 * ciphertext views, 0/1 masks at scale q_level, plaintext rotations by automorphism and
 * an unrelinearised tensor accumulator. Never installed. */
#ifndef HEKV_PACK_INT_H
#define HEKV_PACK_INT_H

#include "../src/ckks/ckks_int.h"
#include "pack.h"

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

/* A shallow view of ct at a lower level (limbs dropped for free; no seed). */
static inline hekv_ct hekv__ct_view(const hekv_ct *ct, int level) {
    hekv_ct v = *ct;
    v.level = level;
    v.c[0].limbs = v.c[1].limbs = (size_t)level + 1;
    v.has_seed = 0;
    return v;
}

/* pack_util.c ----------------------------------------------------------------------- */

/* Encodes the 0/1 (or any real) slot vector vals[S] into pt at `level` with scale
 * q_level, so that a product with it followed by a rescale keeps the ciphertext's scale. */
hekv_status hekv__mask_encode(hekv_encoder *enc, hekv_pt *pt, const double *vals, int level,
                              hekv_err *err);
/* out = Rot(in, k) for a plaintext (NTT form): the automorphism of 5^k applied to every
 * limb; map is scratch of N words. out must not alias in. */
hekv_status hekv__pt_rotate(const hekv_ckks_params *p, uint32_t *map, hekv_pt *out,
                            const hekv_pt *in, long k);
/* out = rescale(in (.) mask): level - 1, scale of in (mask at scale q_level of in). */
hekv_status hekv__mask_mul(hekv_eval *ev, hekv_ct *out, const hekv_ct *in, const hekv_pt *mask,
                           hekv_pack_stats *st);
/* c += Rot(c, k) (1 rotation, the sum fused into it: hekv_ckks_eval_rotate_add). */
hekv_status hekv__rot_add(hekv_eval *ev, hekv_ct *c, long k, hekv_pack_stats *st);
/* Galois key check of a left rotation by k (slots S): HEKV_OK or HEKV_ERR_KEY_MISSING with
 * a message in ev naming fn. */
hekv_status hekv__need_rot(hekv_eval *ev, const char *fn, long k);

/* The tensor of ciphertext products accumulated without relinearisation:
 * (d0, d1, d2) += (a0 b0, a0 b1 + a1 b0, a1 b1), then one relinearisation for all. */
typedef struct hekv__tensor {
    hekv_poly d[3]; /* [3][level+1][N] */
    int level;      /* -1 until the first product */
    double scale;
} hekv__tensor;

hekv_status hekv__tensor_init(hekv__tensor *t, const hekv_ckks_params *p, int level);
void hekv__tensor_free(hekv__tensor *t);
/* acc += a (x) b at acc->level (a and b at or above it; their scale product must match
 * the first one's). */
void hekv__tensor_acc(const hekv_ckks_params *p, hekv__tensor *t, const hekv_ct *a,
                      const hekv_ct *b);
/* out = (d0, d1) + KeySwitch_relin(d2): a 2-component ciphertext (needs the relin key). */
hekv_status hekv__tensor_relin(hekv_eval *ev, hekv_ct *out, const hekv__tensor *t, size_t slots);

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
    /* scratch (not serialized) */
    hekv_encoder *enc;
    hekv_pt *base[KV_MASK_KINDS][HEKV_CKKS_MAX_Q]; /* base masks per kind and level (lazy) */
    hekv_pt *mask;             /* a rotated mask */
    uint32_t *map;             /* [N] automorphism map */
    hekv_ct *piece;            /* scratch ciphertext of the appends */
};

#ifdef __cplusplus
}
#endif
#endif
