/* ckks_int.h: the inside of the CKKS layer: struct layouts of the opaque handles of
 * hekv/ckks.h and hekv/ckks_client.h, and the routines the src/ckks files share (key
 * switching, checks, sizing, the scratch pool). Included only by src/ckks and its tests;
 * the layers above use the public headers and the extension header ckks_ext.h
 * (scripts/check_layers.sh enforces it). Never installed. */
#ifndef HEKV_CKKS_INT_H
#define HEKV_CKKS_INT_H

#include "hekv/ckks.h"
#include "hekv/ckks_client.h"
#include "src/base/base.h"
#include "src/base/container.h"
#include "src/ring/ring_fused.h"
#include "src/ring/ring.h"
#include "src/ring/sample.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Key-switching basis-conversion plans of one digit j with k source limbs
 * [j*alpha, j*alpha + k): to the Q limbs below the digit, to the Q limbs above it (used
 * as a prefix up to the ciphertext's level) and to the special primes of the basis. NULL
 * where a range is empty. */
typedef struct hekv__modup_plan {
    hekv_bconv *lo; /* Q[0, j*alpha) */
    hekv_bconv *hi; /* Q[j*alpha + k, nq) (apply_prefix to level) */
    hekv_bconv *p;  /* P[0, np) of the basis */
} hekv__modup_plan;

/* A key-switching basis: the special primes P' = p_0 .. p_{np-1} (a prefix of the set's)
 * and everything ModUp and ModDown need for digits up to `level`. The set owns the one of
 * all its special primes and every level; a switching key with fewer special primes owns
 * its own (hekv_ckks_swk_new). Immutable once built. */
typedef struct hekv__ksb {
    int np;                  /* special primes used */
    int level;               /* highest Q level the plans serve */
    int nplans;              /* dnum * alpha */
    hekv__modup_plan *modup; /* [dnum][alpha]: digit j with k = idx+1 limbs (NULL above level) */
    hekv_bconv *moddown;     /* P'[0, np) -> Q[0, level] (apply_prefix) */
    uint64_t *p_mod_q;       /* [nq] P' mod q_i */
    uint64_t *p_inv_mod_q;   /* [nq] P'^-1 mod q_i */
    double log_p;            /* log2 P' */
} hekv__ksb;

struct hekv_ckks_params {
    hekv_ckks_params_lit lit;      /* the literal it was built from */
    hekv_ckks_opts opts;           /* run-time options, resolved */
    hekv_ring *rq;                 /* q_0..q_{nq-1} */
    hekv_ring *rp;                 /* p_0..p_{np-1} */
    int logn;
    size_t n;
    int nq, np, dnum, alpha;       /* alpha = ceil(nq / dnum) primes per digit */
    double scale;                  /* default scale 2^log_scale */
    double log_qp;
    int secure;                    /* every security check of hekv_ckks_params_secure */
    int bound;                     /* hekv_ckks_security_bound(logn, secret) */
    uint8_t fingerprint[HEKV_FINGERPRINT_BYTES];
    hekv__ksb ksb;                 /* all special primes, every level */
    uint64_t *qinv_mod_q;          /* [nq][nq] row j, column i: qinv_mod_q[j*nq + i] =
                                      q_j^-1 mod q_i (i != j; 0 on the diagonal), so row l
                                      is the per-limb scalar vector of a rescale by q_l */
};

/* A polynomial over Q limbs 0..level and some P limbs: the extended basis of key switching. */
typedef struct hekv__qp_poly {
    hekv_poly q; /* limbs 0..level of rq */
    hekv_poly p; /* the first np limbs of rp */
} hekv__qp_poly;

struct hekv_sk {
    const hekv_ckks_params *params;
    int hw;           /* non-zero coefficients */
    int64_t *coeffs;  /* [N] ternary coefficients (secret) */
    hekv_poly sq;     /* s over all Q limbs, NTT form */
    hekv_poly sp;     /* s over all P limbs, NTT form */
};

/* Ciphertexts and public keys keep the 32-byte seed of their uniform part while it is
 * unmodified, so they can be stored seed-compressed. */
struct hekv_pk {
    const hekv_ckks_params *params;
    hekv__qp_poly b, a;  /* NTT form, top level; b = -a s + e */
    int has_seed;
    uint8_t seed[HEKV_SEED_BYTES];
};

/* A switching key from s' to s over levels 0..level: for each digit j <= level / alpha,
 * (b_j, a_j) over Q[0..level] and P' with b_j = -a_j s + e_j + g_j s', g_j = P' on the
 * primes of digit j and 0 on the others (and on P'). NTT form. */
struct hekv_swk {
    const hekv_ckks_params *params;
    int level;              /* highest level it switches at */
    int ndigits;            /* level / alpha + 1 */
    const hekv__ksb *ksb;   /* &params->ksb, or own_ksb */
    hekv__ksb *own_ksb;     /* fewer special primes than the set: owned */
    hekv__qp_poly *b, *a;   /* [ndigits] */
    int has_seed;
    uint8_t seed[HEKV_SEED_BYTES]; /* a_j expands from seed, digit j in order */
};

typedef struct hekv__tagged_swk {
    uint32_t tag;
    hekv_swk *k;
} hekv__tagged_swk;

struct hekv_evk {
    const hekv_ckks_params *params;
    hekv_swk *relin;         /* NULL until generated */
    size_t ngal, capgal;
    uint64_t *gal;           /* [ngal] Galois elements, ascending */
    hekv_swk **galk;         /* [ngal] matching keys */
    size_t nswk, capswk;
    hekv__tagged_swk *swk;   /* [nswk] tagged switching keys, ascending tags */
};

struct hekv_pt {
    const hekv_ckks_params *params;
    hekv_poly m;     /* NTT form over Q limbs 0..level (allocated limbs may exceed) */
    int level;       /* -1 when empty */
    double scale;
    size_t slots;
};

struct hekv_ct {
    const hekv_ckks_params *params;
    hekv_poly c[2];  /* NTT form over Q limbs 0..level (allocated limbs may exceed) */
    int level;       /* -1 when empty */
    double scale;
    size_t slots;
    int has_seed;    /* c[1] is still the expansion of seed (fresh sk encryption) */
    uint8_t seed[HEKV_SEED_BYTES];
};

/* The hoisted decomposition of one polynomial c at level l: per digit j < ndigits the
 * digit lifted to Q[0..l] and P, NTT form (ModUp), in the set's full basis. */
typedef struct hekv__decomp {
    int level, ndigits;
    hekv__qp_poly *d; /* [ndigits allocated for the top level] */
} hekv__decomp;

/* Scratch ciphertexts an evaluator lends to its own calls and to the layers above
 * (ckks_ext.h): allocated at the top level once, kept for the evaluator's life. */
#define HEKV__POOL_MAX 256
#define HEKV__PT_POOL_MAX 16

struct hekv_eval {
    const hekv_ckks_params *params;
    const hekv_evk *evk;
    hekv_err err;
    hekv_ring *rq, *rp;        /* views of the set's rings with this evaluator's threads */
    int threads;
    hekv__decomp dec;          /* scratch decomposition (top level size) */
    hekv__qp_poly acc0, acc1;  /* key-switch accumulators */
    hekv_poly tmp[4];          /* Q-basis scratch, all nq limbs */
    uint64_t *bconv_scratch;   /* max scratch words of every plan */
    uint64_t *limb_scratch;    /* [limb_scratch_limbs][N]: rescale's and in-place
                                * rotations' per-thread limbs */
    size_t limb_scratch_limbs; /* 2 + 2 * threads */
    hekv_encoder *enc;         /* for constants and masks (lazy) */
    uint32_t *gal_map;         /* [N] NTT-form index map of gal_map_elt */
    uint64_t gal_map_elt;      /* Galois element cached in gal_map; 0 = none */
    uint32_t *pt_map;          /* [N] scratch map of plaintext rotations */
    hekv_poly mac[3];          /* the degree-2 accumulator (ckks_ext.h), nq limbs (lazy) */
    int mac_level, mac_terms;  /* -1 when none is begun */
    double mac_scale;
    size_t mac_slots;
    /* the pool: npool ciphertexts allocated, the first `lent` of them handed out (a stack:
     * returned in the reverse order) */
    hekv_ct *pool[HEKV__POOL_MAX];
    int npool, lent;
    hekv_pt *ptpool[HEKV__PT_POOL_MAX];
    int nptpool, ptlent;
    hekv_ckks_eval_counts counts;
    hekv__qp_poly *qps;        /* hekv__qp_scratch */
    size_t nqps;
};

/* ---- shared internals (implemented in the file named) ---- */

/* params.c: ensures p holds at least `limbs` limbs of ring r and sets p->limbs = limbs.
 * p is empty (zeroed struct) or owns a block from hekv_poly_new / this function; the block's
 * real capacity is read from the allocator, so shrinking keeps it and growing within it is
 * free; otherwise a block of exactly `limbs` limbs replaces it (old limbs copied, old block
 * wiped). @return HEKV_ERR_ARG (limbs outside 1..nprimes), HEKV_ERR_NOMEM */
hekv_status hekv__poly_reserve(const hekv_ring *r, hekv_poly *p, size_t limbs);
/* Wipes p's whole block (its full capacity, not only p->limbs limbs) and frees it; use it
 * instead of hekv_poly_free on anything sized by hekv__poly_reserve. */
void hekv__poly_release(hekv_poly *p);
/* Q limbs 0..level and the first np P limbs (np <= 0: all). */
hekv_status hekv__qp_new(const hekv_ckks_params *prm, int level, int np, hekv__qp_poly *out);
void hekv__qp_free(hekv__qp_poly *x);
/* 1 when scales a and b agree to HEKV_CKKS_SCALE_RTOL */
int hekv__scale_eq(double a, double b);
/* ciphertext/plaintext sizing: ct holds levels 0..level, 2 polys, NTT form */
hekv_status hekv__ct_resize(hekv_ct *ct, int level);
hekv_status hekv__pt_resize(hekv_pt *pt, int level);
/* log2 of Q_level = q_0 ... q_level */
double hekv__log2_q(const hekv_ckks_params *p, int level);
/* Views of p's block with fewer limbs (dropping limbs is free): the first `limbs` limbs
 * (hekv__view), or limbs 0..level (hekv__lv: a polynomial seen at a level). */
static inline hekv_poly hekv__view(const hekv_poly *p, int limbs) {
    hekv_poly v = *p;
    v.limbs = (size_t)limbs;
    return v;
}
static inline hekv_poly hekv__lv(const hekv_poly *p, int level) {
    return hekv__view(p, level + 1);
}

/* eval.c: the operand checks of the evaluator (message set in ev->err): an input
 * ciphertext (non-empty, of the evaluator's set, well formed), a plaintext, an output,
 * slot counts equal (HEKV_ERR_ARG), scales equal to hekv__scale_eq (HEKV_ERR_SCALE), a
 * product scale that fits Q_level (HEKV_ERR_LEVEL), the relinearisation key at a level
 * (HEKV_ERR_KEY_MISSING). `what` names the operand. */
hekv_status hekv__check_ct(hekv_eval *ev, const char *fn, const char *what, const hekv_ct *ct);
hekv_status hekv__check_pt(hekv_eval *ev, const char *fn, const hekv_pt *pt);
hekv_status hekv__check_out(hekv_eval *ev, const char *fn, const hekv_ct *out);
hekv_status hekv__check_slots(hekv_eval *ev, const char *fn, size_t a, size_t b,
                              const char *what);
hekv_status hekv__check_scales(hekv_eval *ev, const char *fn, double a, double b,
                               const char *what);
hekv_status hekv__check_product_scale(hekv_eval *ev, const char *fn, double scale, int level);
hekv_status hekv__check_relin(hekv_eval *ev, const char *fn, int level);
/* eval.c: out's metadata after an operation (NTT form; seed kept only when seed_src). */
void hekv__ct_finish(hekv_ct *out, int level, double scale, size_t slots,
                     const uint8_t *seed_src);
/* eval.c: the scratch pool (ckks_ext.h documents the public side). */
hekv_ct *hekv__pool_get(hekv_eval *ev);
void hekv__pool_put(hekv_eval *ev, hekv_ct *ct);
hekv_pt *hekv__ptpool_get(hekv_eval *ev);
void hekv__ptpool_put(hekv_eval *ev, hekv_pt *pt);

/* keyswitch.c. Scratch use (so callers can tell what they may pass in): decompose writes
 * only d and ev->acc0 (as its coefficient-form copy of c); keyswitch_decomp uses
 * ev->acc0/acc1, ev->gal_map and ev->bconv_scratch; hekv__keyswitch also
 * ev->dec. None of them touches ev->tmp[] or the pool. Inputs and outputs must not alias
 * this scratch. */
/* Builds the basis of the first np special primes for levels 0..level (into *b). */
hekv_status hekv__ksb_init(const hekv_ckks_params *prm, int np, int level, hekv__ksb *b,
                           hekv_err *err);
void hekv__ksb_release(hekv__ksb *b);
/* Scratch words the basis's plans need. */
size_t hekv__ksb_scratch_words(const hekv__ksb *b);
/* The NTT-form index map of X -> X^galois, cached in ev (recomputed when galois changes). */
const uint32_t *hekv__galois_map(hekv_eval *ev, uint64_t galois);
/* encoder.c: the residues over P (p's first p->limbs special primes, NTT form) of the
 * encoding hekv_ckks_encode gives (re, im) at `scale`: the extension of a plaintext to
 * the key-switching basis, for products in double hoisting. */
hekv_status hekv__encode_p(hekv_encoder *enc, hekv_poly *p, const double *re, const double *im,
                           size_t slots, double scale, hekv_err *err);
/* keyswitch.c, double hoisting: the key product of decomposition d with k kept in the
 * extended basis (out0, out1 over Q[0..d->level] and P, NTT form: P times the switched
 * value, no ModDown; k must use the set's special primes); and a ModDown of one such
 * polynomial to Q[0..level] (out distinct from in). Both count in ev->counts. */
void hekv__ks_product(hekv_eval *ev, hekv__qp_poly *out0, hekv__qp_poly *out1,
                      const hekv__decomp *d, const hekv_swk *k);
void hekv__moddown(hekv_eval *ev, hekv_poly *out, const hekv__qp_poly *in, int level);
/* eval_rot.c: the Galois element and key of a left rotation by k of a ciphertext of
 * `slots` slots at `level` (*g = 1, *key = NULL for the identity); HEKV_ERR_KEY_MISSING
 * with a message naming fn, the rotation and the level. */
hekv_status hekv__rot_key(hekv_eval *ev, const char *fn, size_t slots, int level, long k,
                          uint64_t *g, const hekv_swk **key);
/* eval.c: `count` polynomials over Q (all limbs) and P (all special primes) owned by the
 * evaluator (grown as needed, kept), for one call's exclusive use. NULL on failure. */
hekv__qp_poly *hekv__qp_scratch(hekv_eval *ev, size_t count);
/* An empty key of set prm over levels 0..level in basis ksb (the set's when NULL). */
hekv_status hekv__swk_alloc(const hekv_ckks_params *prm, int level, const hekv__ksb *ksb,
                            hekv_swk **out);
/* Re-expands the a_j of k from k->seed (digit j in order: its Q limbs, then its P limbs),
 * NTT form: what a seed-compressed key file loads back. */
void hekv__swk_expand(hekv_swk *k);
/* Fills the allocated key k (its level and basis set) as a switching key from s' (s_from_q:
 * NTT form over all Q limbs) to s_to (NTT form over all of Q and P). */
hekv_status hekv__swk_gen(hekv_swk *k, const hekv_poly *s_from_q, const hekv_poly *s_to_q,
                          const hekv_poly *s_to_p, hekv_err *err);
hekv_status hekv__decomp_new(const hekv_ckks_params *prm, hekv__decomp *d);
void hekv__decomp_free(hekv__decomp *d);
/* ModUp of c (NTT form, limbs 0..level) into d, in the set's full basis. */
void hekv__decompose(hekv_eval *ev, hekv__decomp *d, const hekv_poly *c, int level);
/* (out0, out1) = phi(ModDown(sum_j d_j * (b_j, a_j))) where phi is the automorphism of
 * galois (1 = identity; otherwise k switches from s to phi^-1(s), a Galois key of keys.c,
 * and o0 + o1 s = phi(c s) + e); outputs in NTT form over Q limbs 0..d->level. k must use
 * the set's full basis (the one d was made in). */
void hekv__keyswitch_decomp(hekv_eval *ev, hekv_poly *out0, hekv_poly *out1,
                            const hekv__decomp *d, const hekv_swk *k, uint64_t galois);
/* As hekv__keyswitch_decomp, plus the terms of add (ring.h: hekv_ring_ks_add) added to the
 * outputs before phi, in the same pass. NULL add: none. With galois != 1 the outputs alias
 * nothing. */
void hekv__keyswitch_decomp_add(hekv_eval *ev, hekv_poly *out0, hekv_poly *out1,
                                const hekv__decomp *d, const hekv_swk *k, uint64_t galois,
                                const hekv_ring_ks_add *add);
/* convenience: decompose + keyswitch of one polynomial (not hoisted: the decomposition is
 * left in ev->dec in coefficient form, not usable by hekv__keyswitch_decomp) */
void hekv__keyswitch(hekv_eval *ev, hekv_poly *out0, hekv_poly *out1, const hekv_poly *c,
                     int level, const hekv_swk *k);
/* hekv__keyswitch of x = c * c2 (c2 given) or x = c, formed as it is read (never stored),
 * plus the terms of add in the same pass, the result permuted by out_map when given (an
 * NTT-form automorphism map; as hekv__keyswitch_decomp_add with its galois). Without
 * out_map, outputs may alias the add terms as hekv_ring_ks_dot_moddown allows, never c or
 * c2; with it, nothing. Any basis (k's own). */
void hekv__keyswitch_add(hekv_eval *ev, hekv_poly *out0, hekv_poly *out1, const hekv_poly *c,
                         const hekv_poly *c2, int level, const hekv_swk *k,
                         const uint32_t *out_map, const hekv_ring_ks_add *add);

/* keys.c */
/* The Galois key of galois (NULL when none). */
const hekv_swk *hekv__evk_find(const hekv_evk *evk, uint64_t galois);
/* A secret key of p from ternary coefficients (copied), lifted to Q and P in NTT form. */
hekv_status hekv__sk_from_coeffs(const hekv_ckks_params *p, const int64_t *coeffs,
                                 hekv_sk **out, hekv_err *err);
/* The uniform part a of a public key from its seed (Q limbs, then P limbs, one stream). */
void hekv__pk_seed_expand(const hekv_ckks_params *p, const uint8_t *seed, hekv__qp_poly *a);

/* encrypt.c: c1 of a fresh secret-key encryption at c1->limbs - 1: uniform over limbs
 * 0..level from the seed, read as NTT values. */
void hekv__ct_seed_expand(const hekv_ckks_params *p, const uint8_t *seed, hekv_poly *c1);

#ifdef __cplusplus
}
#endif
#endif
