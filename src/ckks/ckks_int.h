/* ckks_int.h: the inside of the CKKS layer: struct layouts of the opaque handles in ckks.h
 * and the internal routines the CKKS files share (key switching, scale checks, sizing).
 * Included by the src/ckks sources and by the layers above that need raw polynomials
 * (bootstrap/ for ModRaise); never installed as a public header. */
#ifndef HEKV_CKKS_INT_H
#define HEKV_CKKS_INT_H

#include "ckks.h"
#include "../ring/ring.h"
#include "../ring/sample.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 2: a Galois key of g switches from s to phi_g^-1(s) (version 1: from phi_g(s) to s). */
#define HEKV_FORMAT_VERSION 2
#define HEKV_FINGERPRINT_BYTES 16

/* Key-switching basis-conversion plans of one digit j with k source limbs
 * [j*alpha, j*alpha + k): to the Q limbs below the digit, to the Q limbs above it (used
 * as a prefix up to the ciphertext's level) and to all of P. NULL where a range is empty. */
typedef struct hekv__modup_plan {
    hekv_bconv *lo; /* Q[0, j*alpha) */
    hekv_bconv *hi; /* Q[j*alpha + k, nq) (apply_prefix to level) */
    hekv_bconv *p;  /* P[0, np) */
} hekv__modup_plan;

struct hekv_ckks_params {
    hekv_ckks_params_lit lit;      /* the literal it was built from (threads resolved) */
    hekv_ring *rq;                 /* q_0..q_{nq-1} */
    hekv_ring *rp;                 /* p_0..p_{np-1} */
    int logn;
    size_t n;
    int nq, np, dnum, alpha;       /* alpha = ceil(nq / dnum) primes per digit */
    double scale;                  /* default scale 2^log_scale */
    double log_qp;
    int secure;                    /* log_qp within the bound */
    int bound;                     /* hekv_ckks_security_bound(logn, secret) */
    uint8_t fingerprint[HEKV_FINGERPRINT_BYTES];
    hekv__modup_plan *modup;       /* [dnum][alpha]: digit j with k = idx+1 limbs */
    hekv_bconv *moddown;           /* P[0, np) -> Q[0, nq) (apply_prefix to level) */
    uint64_t *p_mod_q;             /* [nq]  P mod q_i */
    uint64_t *p_inv_mod_q;         /* [nq]  P^-1 mod q_i */
    uint64_t *qinv_mod_q;          /* [nq][nq] row j, column i: qinv_mod_q[j*nq + i] =
                                      q_j^-1 mod q_i (i != j; 0 on the diagonal), so row l
                                      is the per-limb scalar vector of a rescale by q_l */
};

/* A polynomial over Q limbs 0..level and all P limbs: the extended basis of key switching. */
typedef struct hekv__qp_poly {
    hekv_poly q; /* limbs 0..level of rq */
    hekv_poly p; /* all np limbs of rp */
} hekv__qp_poly;

struct hekv_sk {
    const hekv_ckks_params *params;
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

/* A switching key from s' to s: for each digit j, (b_j, a_j) over QP (all Q limbs) with
 * b_j = -a_j s + e_j + g_j s', g_j = P on the primes of digit j and 0 on the others
 * (and on P). NTT form. */
typedef struct hekv__swk {
    int ndigits;            /* dnum */
    hekv__qp_poly *b, *a;   /* [dnum] */
    int has_seed;
    uint8_t seed[HEKV_SEED_BYTES]; /* a_j expands from seed, digit j in order */
} hekv__swk;

struct hekv_evk {
    const hekv_ckks_params *params;
    hekv__swk *relin;        /* NULL until generated */
    size_t ngal, capgal;
    uint64_t *gal;           /* [ngal] Galois elements, ascending */
    hekv__swk **galk;        /* [ngal] matching keys */
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
 * digit lifted to Q[0..l] and P, NTT form (ModUp). */
typedef struct hekv__decomp {
    int level, ndigits;
    hekv__qp_poly *d; /* [ndigits allocated for the top level] */
} hekv__decomp;

struct hekv_eval {
    const hekv_ckks_params *params;
    const hekv_evk *evk;
    hekv_err err;
    hekv__decomp dec;          /* scratch decomposition (top level size) */
    hekv__qp_poly acc0, acc1;  /* key-switch accumulators */
    hekv_poly tmp[4];          /* Q-basis scratch, all nq limbs */
    uint64_t *bconv_scratch;   /* max scratch words of every plan */
    uint64_t *limb_scratch;    /* [limb_scratch_limbs][N]: rescale's and in-place
                                * rotations' per-thread limbs */
    size_t limb_scratch_limbs; /* 2 + 2 * the ring's thread count at creation */
    hekv_encoder *enc;         /* for add_const / lintrans helpers (lazy) */
    /* Key-switching scratch added by keyswitch.c: allocate with hekv__ks_scratch_new in
     * eval_new/clone, release with hekv__ks_scratch_free in eval_free. */
    uint32_t *gal_map;         /* [N] NTT-form index map of gal_map_elt */
    uint64_t gal_map_elt;      /* Galois element cached in gal_map; 0 = none */
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
hekv_status hekv__qp_new(const hekv_ckks_params *prm, int level, hekv__qp_poly *out);
void hekv__qp_free(hekv__qp_poly *x);
/* 1 when scales a and b agree to HEKV_CKKS_SCALE_RTOL */
int hekv__scale_eq(double a, double b);
/* eval.c: the operand checks of the evaluator (message set in ev->err): slot counts equal
 * (HEKV_ERR_ARG), scales equal to hekv__scale_eq (HEKV_ERR_SCALE); `what` names b. */
hekv_status hekv__check_slots(hekv_eval *ev, const char *fn, size_t a, size_t b,
                              const char *what);
hekv_status hekv__check_scales(hekv_eval *ev, const char *fn, double a, double b,
                               const char *what);
/* ciphertext/plaintext sizing: ct holds levels 0..level, 2 polys, NTT form */
hekv_status hekv__ct_resize(hekv_ct *ct, int level);
hekv_status hekv__pt_resize(hekv_pt *pt, int level);

/* keyswitch.c. Scratch use (so callers can tell what they may pass in): decompose writes
 * only d and ev->acc0 (as its coefficient-form copy of c); keyswitch_decomp uses
 * ev->acc0/acc1, ev->gal_map and ev->bconv_scratch; hekv__keyswitch also
 * ev->dec. None of them touches ev->tmp[]. Inputs and outputs must not alias this
 * scratch. */
/* allocates ev->gal_map unless present (idempotent); HEKV_ERR_NOMEM */
hekv_status hekv__ks_scratch_new(hekv_eval *ev);
void hekv__ks_scratch_free(hekv_eval *ev);
/* The NTT-form index map of X -> X^galois, cached in ev (recomputed when galois changes). */
const uint32_t *hekv__galois_map(hekv_eval *ev, uint64_t galois);
/* Re-expands the a_j of k from k->seed (digit j in order: its Q limbs, then its P limbs),
 * NTT form: what a seed-compressed key file loads back. */
hekv_status hekv__swk_expand(const hekv_ckks_params *prm, hekv__swk *k);
/* A switching key from s' (s_from_q: NTT form over all Q limbs) to s_to (s_to_q, s_to_p:
 * NTT form over all of Q and P; both NULL: the secret key's s). */
hekv_status hekv__swk_gen(const hekv_ckks_params *prm, const hekv_sk *sk,
                          const hekv_poly *s_from_q, const hekv_poly *s_to_q,
                          const hekv_poly *s_to_p, hekv__swk **out, hekv_err *err);
void hekv__swk_free(hekv__swk *k);
hekv_status hekv__decomp_new(const hekv_ckks_params *prm, hekv__decomp *d);
void hekv__decomp_free(hekv__decomp *d);
/* ModUp of c (NTT form, limbs 0..level) into d. */
void hekv__decompose(hekv_eval *ev, hekv__decomp *d, const hekv_poly *c, int level);
/* (out0, out1) = phi(ModDown(sum_j d_j * (b_j, a_j))) where phi is the automorphism of
 * galois (1 = identity; otherwise k switches from s to phi^-1(s), a Galois key of keys.c,
 * and o0 + o1 s = phi(c s) + e); outputs in NTT form over Q limbs 0..d->level. */
void hekv__keyswitch_decomp(hekv_eval *ev, hekv_poly *out0, hekv_poly *out1,
                            const hekv__decomp *d, const hekv__swk *k, uint64_t galois);
/* As hekv__keyswitch_decomp, plus the terms of add (ring.h: hekv_ring_ks_add) added to the
 * outputs before phi, in the same pass. NULL add: none. With galois != 1 the outputs alias
 * nothing. */
void hekv__keyswitch_decomp_add(hekv_eval *ev, hekv_poly *out0, hekv_poly *out1,
                                const hekv__decomp *d, const hekv__swk *k, uint64_t galois,
                                const hekv_ring_ks_add *add);
/* convenience: decompose + keyswitch of one polynomial (not hoisted: the decomposition is
 * left in ev->dec in coefficient form, not usable by hekv__keyswitch_decomp) */
void hekv__keyswitch(hekv_eval *ev, hekv_poly *out0, hekv_poly *out1, const hekv_poly *c,
                     int level, const hekv__swk *k);
/* hekv__keyswitch of x = c * c2 (c2 given) or x = c, formed as it is read (never stored),
 * plus the terms of add in the same pass, the result permuted by out_map when given (an
 * NTT-form automorphism map; as hekv__keyswitch_decomp_add with its galois). Without
 * out_map, outputs may alias the add terms as hekv_ring_ks_dot_moddown allows, never c or
 * c2; with it, nothing. */
void hekv__keyswitch_add(hekv_eval *ev, hekv_poly *out0, hekv_poly *out1, const hekv_poly *c,
                         const hekv_poly *c2, int level, const hekv__swk *k,
                         const uint32_t *out_map, const hekv_ring_ks_add *add);
const hekv__swk *hekv__evk_find(const hekv_evk *evk, uint64_t galois);

#ifdef __cplusplus
}
#endif
#endif
