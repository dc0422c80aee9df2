/* eval_rot.c: slot rotations and conjugation of ciphertexts, hoisted rotations and the
 * rotate-and-add helpers (rotate_add, inner sum, replicate: the sum is added by the
 * rotation's last pass).
 *
 * A left rotation by k is the automorphism phi_g: X -> X^g, g = 5^k mod 2N. The Galois key
 * of g switches from s to phi^-1(s) (keys.c), so c1 is switched as it is and phi acts on
 * the result:
 *     (ks0, ks1) = KeySwitch(c1),  ks0 + ks1 phi^-1(s) = c1 s + e,
 *     out = (phi(c0 + ks0), phi(ks1)),  out0 + out1 s = phi(c0 + c1 s) + phi(e).
 * phi is a permutation in NTT form that the key switch's last pass applies block by block
 * as it writes (hekv_ring_ks_dot_moddown), so a rotation reads c0 and c1 in order and
 * never gathers from memory, and hoisted rotations share one decomposition of c1 as it is
 * (hekv__keyswitch_decomp with galois = g): a single rotation and a hoisted one compute
 * the same thing and are bit-identical. With sparse packing (slots < N/2) rotations act
 * modulo `slots`, so a missing key for k is looked up again as k mod slots and
 * k mod slots - slots.
 *
 * This file does not encode or relinearise; it checks its arguments and leaves the
 * arithmetic to keyswitch.c and the ring layer. Scratch: ev->dec and ev->tmp[0..1] (copies
 * of c0, c1 for an in-place rotation). */
#include <string.h>

#include "ckks_int.h"

static hekv_status check_in(hekv_eval *ev, const char *fn, const hekv_ct *a) {
    return hekv__check_ct(ev, fn, "the input", a);
}

/* The Galois element and key of a left rotation by k of a ciphertext with `slots` slots;
 * *g = 1 and *key = NULL when the rotation is the identity. */
hekv_status hekv__rot_key(hekv_eval *ev, const char *fn, size_t slots, int level, long k,
                          uint64_t *g, const hekv_swk **key) {
    const hekv_ckks_params *prm = ev->params;
    long r = k % (long)slots;
    if (r < 0) r += (long)slots;
    *g = 1;
    *key = NULL;
    if (r == 0) return HEKV_OK;
    const long cand[3] = {k, r, r - (long)slots};
    if (!ev->evk)
        return hekv_err_set(&ev->err, HEKV_ERR_KEY_MISSING,
                            "%s: the evaluator has no evaluation keys; a rotation by %ld needs "
                            "a Galois key: generate it with hekv_ckks_evk_gen_rotations and "
                            "pass the key set to hekv_ckks_eval_new",
                            fn, k);
    /* sparse packing: rotations by k, k mod slots and k mod slots - slots agree */
    for (int c = 0; c < (slots < prm->n / 2 ? 3 : 1); c++) {
        uint64_t e = hekv_ckks_galois_rot(prm, cand[c]);
        const hekv_swk *sw = hekv__evk_find(ev->evk, e);
        if (sw && sw->level < level)
            return hekv_err_set(&ev->err, HEKV_ERR_KEY_MISSING,
                                "%s: the Galois key of a left rotation by %ld reaches level %d, "
                                "the ciphertext is at level %d: generate the key up to that "
                                "level (hekv_ckks_evk_gen_rotations)",
                                fn, k, sw->level, level);
        if (sw) {
            *g = e;
            *key = sw;
            return HEKV_OK;
        }
    }
    return hekv_err_set(&ev->err, HEKV_ERR_KEY_MISSING,
                        "%s: no Galois key for a left rotation by %ld (Galois element %llu); "
                        "generate it with hekv_ckks_evk_gen_rotations",
                        fn, k, (unsigned long long)hekv_ckks_galois_rot(prm, k));
}

static hekv_status conj_key(hekv_eval *ev, const char *fn, int level, uint64_t *g,
                            const hekv_swk **key) {
    *g = hekv_ckks_galois_conj(ev->params);
    *key = ev->evk ? hekv__evk_find(ev->evk, *g) : NULL;
    if (!*key)
        return hekv_err_set(&ev->err, HEKV_ERR_KEY_MISSING,
                            "%s: no Galois key for conjugation (element %llu); generate it "
                            "with hekv_ckks_evk_gen_rotations(..., conj = 1)",
                            fn, (unsigned long long)*g);
    if ((*key)->level < level)
        return hekv_err_set(&ev->err, HEKV_ERR_KEY_MISSING,
                            "%s: the conjugation key reaches level %d, the ciphertext is at "
                            "level %d", fn, (*key)->level, level);
    return HEKV_OK;
}

/* (r0, r1) = phi_g(c0, c1) switched back to s, given dec = the decomposition of c1; c0 is
 * added by the key switch's last pass, before phi. r0/r1 must not alias c0. */
static void rot_from_decomp(hekv_eval *ev, hekv_poly *r0, hekv_poly *r1, const hekv_poly *c0,
                            const hekv__decomp *dec, const hekv_swk *key, uint64_t g) {
    const hekv_ring_ks_add add = {c0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0};
    hekv__keyswitch_decomp_add(ev, r0, r1, dec, key, g, &add);
}

/* (r0, r1) = phi_g(c0, c1) switched back to s (+ (f0, f1) when f0 is given), one rotation
 * (not hoisted: hekv__keyswitch_add, c0 and f added by the last pass). Bit-identical to
 * rot_from_decomp on the decomposition of c1. r0/r1 may alias c0/c1: the permuted writes
 * would overwrite blocks not read yet, so the last pass then copies each limb of c0 and
 * c1 into ev->limb_scratch before it writes that limb (c1 is otherwise read whole by
 * ModUp, before anything is written); and f0/f1 (read block by block before they are
 * written). */
static void rot_single(hekv_eval *ev, hekv_poly *r0, hekv_poly *r1, const hekv_poly *c0,
                       const hekv_poly *c1, const hekv_poly *f0, const hekv_poly *f1,
                       int level, const hekv_swk *key, uint64_t g) {
    const uint32_t *map = hekv__galois_map(ev, g);
    const int alias = r0->c == c0->c || r1->c == c1->c || r0->c == c1->c || r1->c == c0->c;
    const hekv_ring_ks_add add = {c0,   NULL, NULL, NULL, NULL, f0, f1,
                                  alias ? ev->limb_scratch : NULL, ev->limb_scratch_limbs};
    hekv__keyswitch_add(ev, r0, r1, c1, NULL, level, key, map, &add);
}

static void set_meta(hekv_ct *out, const hekv_ct *a) {
    out->level = a->level;
    out->scale = a->scale;
    out->slots = a->slots;
    out->has_seed = 0;
    out->c[0].ntt = out->c[1].ntt = 1;
}

/* out = phi_g(a) (g = 1: a copy). */
static hekv_status galois_apply(hekv_eval *ev, const char *fn, hekv_ct *out, const hekv_ct *a,
                                uint64_t g, const hekv_swk *key) {
    if (g == 1) return out == a ? HEKV_OK : hekv_ckks_ct_copy(out, a, &ev->err);
    const int level = a->level;
    if (out != a && hekv__ct_resize(out, level) != HEKV_OK)
        return hekv_err_set(&ev->err, HEKV_ERR_NOMEM, "%s: out of memory sizing the output",
                            fn);
    rot_single(ev, &out->c[0], &out->c[1], &a->c[0], &a->c[1], NULL, NULL, level, key, g);
    set_meta(out, a);
    return HEKV_OK;
}

hekv_status hekv_ckks_eval_rotate(hekv_eval *ev, hekv_ct *out, const hekv_ct *a, long k) {
    static const char fn[] = "hekv_ckks_eval_rotate";
    if (!ev) return HEKV_ERR_ARG;
    hekv_status s;
    if ((s = check_in(ev, fn, a)) != HEKV_OK || (s = hekv__check_out(ev, fn, out)) != HEKV_OK)
        return s;
    uint64_t g;
    const hekv_swk *key;
    if ((s = hekv__rot_key(ev, fn, a->slots, a->level, k, &g, &key)) != HEKV_OK) return s;
    return galois_apply(ev, fn, out, a, g, key);
}

hekv_status hekv_ckks_eval_rotate_add(hekv_eval *ev, hekv_ct *out, const hekv_ct *acc,
                                      const hekv_ct *a, long k) {
    static const char fn[] = "hekv_ckks_eval_rotate_add";
    if (!ev) return HEKV_ERR_ARG;
    hekv_status s;
    if ((s = check_in(ev, fn, a)) != HEKV_OK || (s = check_in(ev, fn, acc)) != HEKV_OK ||
        (s = hekv__check_out(ev, fn, out)) != HEKV_OK ||
        (s = hekv__check_slots(ev, fn, acc->slots, a->slots, "rotated operand")) != HEKV_OK ||
        (s = hekv__check_scales(ev, fn, acc->scale, a->scale, "rotated operand")) != HEKV_OK)
        return s;
    uint64_t g;
    const hekv_swk *key;
    if ((s = hekv__rot_key(ev, fn, a->slots, a->level, k, &g, &key)) != HEKV_OK) return s;
    if (g == 1) return hekv_ckks_eval_add(ev, out, acc, a);
    const int level = acc->level < a->level ? acc->level : a->level;
    const double scale = acc->scale;
    const size_t slots = acc->slots;
    if (out != acc && out != a && hekv__ct_resize(out, level) != HEKV_OK)
        return hekv_err_set(&ev->err, HEKV_ERR_NOMEM, "%s: out of memory sizing the output",
                            fn);
    /* views at the common level: the rotation of a at that level, acc added as it is
     * written (out may alias either: rot_single copies a when it must) */
    hekv_poly o0 = hekv__view(&out->c[0], level + 1), o1 = hekv__view(&out->c[1], level + 1);
    hekv_poly f0 = hekv__view(&acc->c[0], level + 1), f1 = hekv__view(&acc->c[1], level + 1);
    rot_single(ev, &o0, &o1, &a->c[0], &a->c[1], &f0, &f1, level, key, g);
    out->level = level;
    out->scale = scale;
    out->slots = slots;
    out->has_seed = 0;
    out->c[0].ntt = out->c[1].ntt = 1;
    return HEKV_OK;
}

hekv_status hekv_ckks_eval_conjugate(hekv_eval *ev, hekv_ct *out, const hekv_ct *a) {
    static const char fn[] = "hekv_ckks_eval_conjugate";
    if (!ev) return HEKV_ERR_ARG;
    hekv_status s;
    if ((s = check_in(ev, fn, a)) != HEKV_OK || (s = hekv__check_out(ev, fn, out)) != HEKV_OK)
        return s;
    uint64_t g;
    const hekv_swk *key;
    if ((s = conj_key(ev, fn, a->level, &g, &key)) != HEKV_OK) return s;
    return galois_apply(ev, fn, out, a, g, key);
}

hekv_status hekv_ckks_eval_keyswitch(hekv_eval *ev, hekv_ct *out, const hekv_ct *a,
                                     const hekv_swk *k) {
    static const char fn[] = "hekv_ckks_eval_keyswitch";
    if (!ev) return HEKV_ERR_ARG;
    hekv_status s;
    if ((s = check_in(ev, fn, a)) != HEKV_OK || (s = hekv__check_out(ev, fn, out)) != HEKV_OK)
        return s;
    if (!k) return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: the switching key is NULL", fn);
    if (k->params != ev->params)
        return hekv_err_set(&ev->err, HEKV_ERR_PARAMS,
                            "%s: the switching key belongs to another parameter set", fn);
    const int level = a->level;
    if (level > k->level)
        return hekv_err_set(&ev->err, HEKV_ERR_LEVEL,
                            "%s: the ciphertext is at level %d, the switching key reaches "
                            "level %d: drop the ciphertext first (hekv_ckks_eval_drop_to)",
                            fn, level, k->level);
    if (out != a && hekv__ct_resize(out, level) != HEKV_OK)
        return hekv_err_set(&ev->err, HEKV_ERR_NOMEM, "%s: out of memory sizing the output",
                            fn);
    /* (c0 + ks0, ks1) with KeySwitch(c1) = (ks0, ks1): c1 is read whole by ModUp and c0
     * block by block before each block of out is written, so out may be a */
    hekv_poly c0 = hekv__lv(&a->c[0], level), c1 = hekv__lv(&a->c[1], level);
    const hekv_ring_ks_add add = {&c0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0};
    hekv__keyswitch_add(ev, &out->c[0], &out->c[1], &c1, NULL, level, k, NULL, &add);
    set_meta(out, a);
    out->level = level;
    return HEKV_OK;
}

hekv_status hekv_ckks_eval_rotate_hoisted(hekv_eval *ev, hekv_ct *const *outs, const hekv_ct *a,
                                          const long *ks, size_t n) {
    static const char fn[] = "hekv_ckks_eval_rotate_hoisted";
    if (!ev) return HEKV_ERR_ARG;
    hekv_status s;
    if ((s = check_in(ev, fn, a)) != HEKV_OK) return s;
    if (n == 0) return HEKV_OK;
    if (!outs || !ks)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: outs or ks is NULL", fn);
    /* Every check (outputs, keys) before any work. */
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        if ((s = hekv__check_out(ev, fn, outs[i])) != HEKV_OK) return s;
        if (outs[i] == a)
            return hekv_err_set(&ev->err, HEKV_ERR_ARG,
                                "%s: output %zu aliases the input; hoisted rotations need "
                                "outputs distinct from the input",
                                fn, i);
        for (size_t j = 0; j < i; j++)
            if (outs[j] == outs[i])
                return hekv_err_set(&ev->err, HEKV_ERR_ARG,
                                    "%s: outputs %zu and %zu are the same ciphertext", fn, j, i);
        uint64_t g;
        const hekv_swk *key;
        if ((s = hekv__rot_key(ev, fn, a->slots, a->level, ks[i], &g, &key)) != HEKV_OK) return s;
        any |= g != 1;
    }
    for (size_t i = 0; i < n; i++)
        if (hekv__ct_resize(outs[i], a->level) != HEKV_OK)
            return hekv_err_set(&ev->err, HEKV_ERR_NOMEM, "%s: out of memory sizing output %zu",
                                fn, i);
    /* One ModUp of c1 shared by every rotation. */
    if (any) hekv__decompose(ev, &ev->dec, &a->c[1], a->level);
    for (size_t i = 0; i < n; i++) {
        uint64_t g;
        const hekv_swk *key;
        s = hekv__rot_key(ev, fn, a->slots, a->level, ks[i], &g, &key);
        HEKV_CHECK_INTERNAL(s == HEKV_OK);
        if (g == 1) {
            if ((s = hekv_ckks_ct_copy(outs[i], a, &ev->err)) != HEKV_OK) return s;
            continue;
        }
        rot_from_decomp(ev, &outs[i]->c[0], &outs[i]->c[1], &a->c[0], &ev->dec, key, g);
        set_meta(outs[i], a);
    }
    return HEKV_OK;
}

/* out = sum_{j<n} rotate(a, j*stride) by log2(n) rotate-and-add steps (the rotation of
 * step i is stride * 2^i). */
static hekv_status rot_sum(hekv_eval *ev, const char *fn, hekv_ct *out, const hekv_ct *a,
                           long stride, size_t n) {
    if (!ev) return HEKV_ERR_ARG;
    hekv_status s;
    if ((s = check_in(ev, fn, a)) != HEKV_OK || (s = hekv__check_out(ev, fn, out)) != HEKV_OK)
        return s;
    if (n == 0 || (n & (n - 1)) != 0 || n > ev->params->n / 2)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG,
                            "%s: n = %zu must be a power of two in [1, N/2 = %zu]", fn, n,
                            ev->params->n / 2);
    const long half = (long)(ev->params->n / 2);
    const long st = stride % half; /* |st * n| < N^2/4: no overflow */
    int steps = 0;
    while (((size_t)1 << steps) < n) steps++;
    for (int i = 0; i < steps; i++) {
        uint64_t g;
        const hekv_swk *key;
        if ((s = hekv__rot_key(ev, fn, a->slots, a->level, st * (1L << i), &g, &key)) != HEKV_OK) return s;
    }
    if (out != a && (s = hekv_ckks_ct_copy(out, a, &ev->err)) != HEKV_OK) return s;
    const hekv_ring *rq = ev->rq;
    const int level = a->level;
    hekv_poly o0 = hekv__view(&out->c[0], level + 1), o1 = hekv__view(&out->c[1], level + 1);
    for (int i = 0; i < steps; i++) {
        uint64_t g;
        const hekv_swk *key;
        s = hekv__rot_key(ev, fn, a->slots, a->level, st * (1L << i), &g, &key);
        HEKV_CHECK_INTERNAL(s == HEKV_OK);
        if (g == 1) { /* the rotation is the identity on these slots: out += out */
            hekv_ring_add(rq, &o0, &o0, &o0);
            hekv_ring_add(rq, &o1, &o1, &o1);
            continue;
        }
        /* out += rotate(out): the sum is the key switch's last step */
        rot_single(ev, &o0, &o1, &o0, &o1, &o0, &o1, level, key, g);
    }
    set_meta(out, a);
    return HEKV_OK;
}

hekv_status hekv_ckks_eval_inner_sum(hekv_eval *ev, hekv_ct *out, const hekv_ct *a, long stride,
                                     size_t n) {
    return rot_sum(ev, "hekv_ckks_eval_inner_sum", out, a, stride, n);
}

hekv_status hekv_ckks_eval_replicate(hekv_eval *ev, hekv_ct *out, const hekv_ct *a, long stride,
                                     size_t n) {
    if (!ev) return HEKV_ERR_ARG;
    return rot_sum(ev, "hekv_ckks_eval_replicate", out, a, -(stride % (long)(ev->params->n / 2)),
                   n);
}
