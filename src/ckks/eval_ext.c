/* eval_ext.c: the extension API of ckks_ext.h (the evaluator's error buffer and scratch
 * pool, the plaintext inner product, the degree-2 accumulator, scale adjustment, ModRaise,
 * key checks) and the plaintext rotation of hekv/ckks.h. These are the pieces the layers
 * above used to write themselves on the ring layer; each exists here once. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ckks_ext.h"
#include "ckks_int.h"
#include "kernels/automorph.h"
#include "poly_int.h"

hekv_err *hekv_ckks_ext_err(hekv_eval *ev) { return ev ? &ev->err : NULL; }

/* ------------------------------------------------------------------ scratch */

hekv_status hekv_ckks_ext_scratch_get(hekv_eval *ev, hekv_ct **out) {
    if (!ev || !out) return HEKV_ERR_ARG;
    *out = hekv__pool_get(ev);
    if (!*out)
        return hekv_err_set(&ev->err, HEKV_ERR_NOMEM,
                            "out of memory for a scratch ciphertext (%d lent)", ev->lent);
    return HEKV_OK;
}

void hekv_ckks_ext_scratch_put(hekv_eval *ev, hekv_ct *ct) {
    if (ev && ct) hekv__pool_put(ev, ct);
}

hekv_status hekv_ckks_ext_scratch_pt_get(hekv_eval *ev, hekv_pt **out) {
    if (!ev || !out) return HEKV_ERR_ARG;
    *out = hekv__ptpool_get(ev);
    if (!*out)
        return hekv_err_set(&ev->err, HEKV_ERR_NOMEM,
                            "out of memory for a scratch plaintext (%d lent)", ev->ptlent);
    return HEKV_OK;
}

void hekv_ckks_ext_scratch_pt_put(hekv_eval *ev, hekv_pt *pt) {
    if (ev && pt) hekv__ptpool_put(ev, pt);
}

/* ------------------------------------------------------------------ inner product */

hekv_status hekv_ckks_ext_inner_pt(hekv_eval *ev, hekv_ct *out, const hekv_ct *const *a,
                                   const hekv_pt *const *pt, size_t n, int level) {
    static const char fn[] = "hekv_ckks_ext_inner_pt";
    if (!ev) return HEKV_ERR_ARG;
    hekv_status s;
    if (!a || !pt || n == 0)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: no operands", fn);
    if ((s = hekv__check_out(ev, fn, out))) return s;
    const double scale = a[0] && pt[0] ? a[0]->scale * pt[0]->scale : 0;
    for (size_t j = 0; j < n; j++) {
        if ((s = hekv__check_ct(ev, fn, "a ciphertext", a[j])) ||
            (s = hekv__check_pt(ev, fn, pt[j])) ||
            (s = hekv__check_slots(ev, fn, a[j]->slots, pt[j]->slots, "plaintext")) ||
            (s = hekv__check_slots(ev, fn, a[0]->slots, a[j]->slots, "ciphertext")) ||
            (s = hekv__check_scales(ev, fn, scale, a[j]->scale * pt[j]->scale, "product")))
            return s;
        if ((const hekv_ct *)out == a[j])
            return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: out aliases operand %zu", fn, j);
        if (level < 0 || level > a[j]->level || level > pt[j]->level)
            return hekv_err_set(&ev->err, HEKV_ERR_LEVEL,
                                "%s: level %d is above operand %zu (levels %d and %d)", fn,
                                level, j, a[j]->level, pt[j]->level);
    }
    if ((s = hekv__check_product_scale(ev, fn, scale, level))) return s;
    if (hekv__ct_resize(out, level) != HEKV_OK)
        return hekv_err_set(&ev->err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    /* one fused pass: per limb and block, out_k = sum_j pt_j (.) a_j[k], up to
     * HEKV_RING_KS_MAX_DIGITS operands at a time (the key-switch dot product's kernel) */
    for (size_t j0 = 0; j0 < n; j0 += HEKV_RING_KS_MAX_DIGITS) {
        const size_t g = n - j0 < HEKV_RING_KS_MAX_DIGITS ? n - j0 : HEKV_RING_KS_MAX_DIGITS;
        hekv_poly m[HEKV_RING_KS_MAX_DIGITS], x0[HEKV_RING_KS_MAX_DIGITS],
            x1[HEKV_RING_KS_MAX_DIGITS];
        hekv_poly *mp[HEKV_RING_KS_MAX_DIGITS];
        const hekv_poly *x0p[HEKV_RING_KS_MAX_DIGITS], *x1p[HEKV_RING_KS_MAX_DIGITS];
        for (size_t j = 0; j < g; j++) {
            m[j] = hekv__lv(&pt[j0 + j]->m, level);
            x0[j] = hekv__lv(&a[j0 + j]->c[0], level);
            x1[j] = hekv__lv(&a[j0 + j]->c[1], level);
            mp[j] = &m[j], x0p[j] = &x0[j], x1p[j] = &x1[j];
        }
        const hekv_ring_ks_args ks = {(int)g, mp, 0, NULL, NULL, NULL, NULL, x0p, x1p};
        hekv_poly o0 = hekv__lv(&out->c[0], level), o1 = hekv__lv(&out->c[1], level);
        if (j0 == 0) {
            hekv_ring_ks_dot(ev->rq, &o0, &o1, &ks);
        } else {
            hekv_poly t0 = hekv__lv(&ev->tmp[0], level), t1 = hekv__lv(&ev->tmp[1], level);
            hekv_ring_ks_dot(ev->rq, &t0, &t1, &ks);
            hekv_ring_add(ev->rq, &o0, &o0, &t0);
            hekv_ring_add(ev->rq, &o1, &o1, &t1);
        }
    }
    hekv__ct_finish(out, level, scale, a[0]->slots, NULL);
    return HEKV_OK;
}

/* ------------------------------------------------------------------ degree-2 accumulator */

hekv_status hekv_ckks_ext_mac_begin(hekv_eval *ev, int level) {
    static const char fn[] = "hekv_ckks_ext_mac_begin";
    if (!ev) return HEKV_ERR_ARG;
    const hekv_ckks_params *p = ev->params;
    if (level < 0 || level >= p->nq)
        return hekv_err_set(&ev->err, HEKV_ERR_LEVEL, "%s: level %d outside [0, %d]", fn, level,
                            p->nq - 1);
    for (int i = 0; i < 3; i++)
        if (!ev->mac[i].c) {
            if (hekv_poly_new(p->rq, (size_t)p->nq, &ev->mac[i]) != HEKV_OK)
                return hekv_err_set(&ev->err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
            ev->mac[i].ntt = 1;
        }
    ev->mac_level = level;
    ev->mac_terms = 0;
    return HEKV_OK;
}

hekv_status hekv_ckks_ext_mac_acc(hekv_eval *ev, const hekv_ct *a, const hekv_ct *b) {
    static const char fn[] = "hekv_ckks_ext_mac_acc";
    if (!ev) return HEKV_ERR_ARG;
    hekv_status s;
    if (ev->mac_level < 0)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: no accumulator begun", fn);
    if ((s = hekv__check_ct(ev, fn, "a", a)) || (s = hekv__check_ct(ev, fn, "b", b)) ||
        (s = hekv__check_slots(ev, fn, a->slots, b->slots, "b")))
        return s;
    const int l = ev->mac_level;
    if (a->level < l || b->level < l)
        return hekv_err_set(&ev->err, HEKV_ERR_LEVEL,
                            "%s: operands at levels %d and %d, the accumulator at %d", fn,
                            a->level, b->level, l);
    if (ev->mac_terms && ((s = hekv__check_scales(ev, fn, ev->mac_scale, a->scale * b->scale,
                                                  "product")) ||
                          (s = hekv__check_slots(ev, fn, ev->mac_slots, a->slots, "product"))))
        return s;
    const hekv_ring *rq = ev->rq;
    hekv_poly a0 = hekv__lv(&a->c[0], l), a1 = hekv__lv(&a->c[1], l);
    hekv_poly b0 = hekv__lv(&b->c[0], l), b1 = hekv__lv(&b->c[1], l);
    hekv_poly d0 = hekv__lv(&ev->mac[0], l), d1 = hekv__lv(&ev->mac[1], l);
    hekv_poly d2 = hekv__lv(&ev->mac[2], l);
    if (!ev->mac_terms) {
        hekv_ring_mul(rq, &d0, &a0, &b0);
        hekv_ring_mul(rq, &d1, &a0, &b1);
        hekv_ring_mul_acc(rq, &d1, &a1, &b0);
        hekv_ring_mul(rq, &d2, &a1, &b1);
        ev->mac_scale = a->scale * b->scale;
        ev->mac_slots = a->slots;
    } else {
        hekv_ring_mul_acc(rq, &d0, &a0, &b0);
        hekv_ring_mul_acc(rq, &d1, &a0, &b1);
        hekv_ring_mul_acc(rq, &d1, &a1, &b0);
        hekv_ring_mul_acc(rq, &d2, &a1, &b1);
    }
    ev->mac_terms++;
    return HEKV_OK;
}

hekv_status hekv_ckks_ext_mac_relin(hekv_eval *ev, hekv_ct *out) {
    static const char fn[] = "hekv_ckks_ext_mac_relin";
    if (!ev) return HEKV_ERR_ARG;
    hekv_status s;
    if (ev->mac_level < 0 || ev->mac_terms == 0)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: the accumulator holds no product", fn);
    const int l = ev->mac_level;
    if ((s = hekv__check_out(ev, fn, out)) || (s = hekv__check_relin(ev, fn, l)) ||
        (s = hekv__check_product_scale(ev, fn, ev->mac_scale, l)))
        return s;
    if (hekv__ct_resize(out, l) != HEKV_OK)
        return hekv_err_set(&ev->err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    /* (d0, d1) + KeySwitch(d2), the sums formed by the switch's last pass */
    hekv_poly d0 = hekv__lv(&ev->mac[0], l), d1 = hekv__lv(&ev->mac[1], l);
    hekv_poly d2 = hekv__lv(&ev->mac[2], l);
    const hekv_ring_ks_add add = {NULL, NULL, NULL, NULL, NULL, &d0, &d1, NULL, 0};
    hekv__keyswitch_add(ev, &out->c[0], &out->c[1], &d2, NULL, l, ev->evk->relin, NULL, &add);
    hekv__ct_finish(out, l, ev->mac_scale, ev->mac_slots, NULL);
    ev->mac_level = -1;
    ev->mac_terms = 0;
    return HEKV_OK;
}

/* ------------------------------------------------------------------ scales, ModRaise */

hekv_status hekv_ckks_ext_adjust_scale(hekv_eval *ev, hekv_ct *out, const hekv_ct *in,
                                       int level, double scale) {
    static const char fn[] = "hekv_ckks_ext_adjust_scale";
    if (!ev) return HEKV_ERR_ARG;
    hekv_status s;
    if ((s = hekv__check_out(ev, fn, out)) || (s = hekv__check_ct(ev, fn, "the input", in)))
        return s;
    if (level < 0 || level >= in->level)
        return hekv_err_set(&ev->err, HEKV_ERR_LEVEL,
                            "%s: target level %d must be below the input's %d", fn, level,
                            in->level);
    const double k = scale * hekv__q(ev, level + 1) / in->scale;
    if (!isfinite(k) || !(scale > 0) || fabs(k) >= 0x1p62)
        return hekv_err_set(&ev->err, HEKV_ERR_SCALE,
                            "%s: moving scale 2^%.2f to 2^%.2f at level %d needs the constant "
                            "%g, outside the 62 bits an integer product takes", fn,
                            log2(in->scale), log2(scale), level, k);
    if ((s = hekv__check_product_scale(ev, fn, in->scale * round(k), level + 1))) return s;
    return hekv__ct_prep(ev, out, in, level, scale);
}

hekv_status hekv_ckks_ext_set_scale(hekv_eval *ev, hekv_ct *ct, double scale) {
    if (!ev) return HEKV_ERR_ARG;
    if (!ct || !isfinite(scale) || !(scale > 0))
        return hekv_err_set(&ev->err, HEKV_ERR_ARG,
                            "hekv_ckks_ext_set_scale: no ciphertext, or scale %g not finite and "
                            "positive", scale);
    ct->scale = scale;
    return HEKV_OK;
}

hekv_status hekv_ckks_ext_set_slots(hekv_eval *ev, hekv_ct *ct, size_t slots) {
    if (!ev) return HEKV_ERR_ARG;
    if (!ct || ct->params != ev->params || slots < 1 || slots > ev->params->n / 2 ||
        (slots & (slots - 1)))
        return hekv_err_set(&ev->err, HEKV_ERR_ARG,
                            "hekv_ckks_ext_set_slots: no ciphertext of the evaluator's set, or "
                            "%zu slots is not a power of two in [1, N/2]", slots);
    ct->slots = slots;
    return HEKV_OK;
}

hekv_status hekv_ckks_ext_mod_raise(hekv_eval *ev, hekv_ct *out, const hekv_ct *in, int level) {
    static const char fn[] = "hekv_ckks_ext_mod_raise";
    if (!ev) return HEKV_ERR_ARG;
    hekv_status s;
    if ((s = hekv__check_out(ev, fn, out)) || (s = hekv__check_ct(ev, fn, "the input", in)))
        return s;
    const hekv_ckks_params *p = ev->params;
    if (in->level != 0 || level < 0 || level >= p->nq)
        return hekv_err_set(&ev->err, HEKV_ERR_LEVEL,
                            "%s: the input must be at level 0 (is %d) and the target in "
                            "[0, %d] (is %d)", fn, in->level, p->nq - 1, level);
    const double scale = in->scale;
    const size_t slots = in->slots, n = p->n;
    /* limb 0 of both components into the evaluator's scratch first (out may be in) */
    hekv_poly t[2] = {hekv__view(&ev->tmp[0], 1), hekv__view(&ev->tmp[1], 1)};
    for (int k = 0; k < 2; k++) {
        memcpy(t[k].c, in->c[k].c, n * sizeof(uint64_t));
        t[k].ntt = 1;
        hekv_ring_ntt_inv(ev->rq, &t[k]);
    }
    if (hekv__ct_resize(out, level) != HEKV_OK)
        return hekv_err_set(&ev->err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    const uint64_t q0 = hekv_ring_modulus(ev->rq, 0)->q, half = q0 >> 1;
    for (int k = 0; k < 2; k++) {
        /* the centred value of each coefficient (v, or v - q0 above q0/2) mod every q_i */
        for (int i = 0; i <= level; i++) {
            const uint64_t qi = hekv_ring_modulus(ev->rq, i)->q, q0i = q0 % qi;
            uint64_t *o = out->c[k].c + (size_t)i * n;
            for (size_t j = 0; j < n; j++) {
                const uint64_t v = t[k].c[j], r = v % qi;
                o[j] = v > half ? hekv_mod_sub(r, q0i, qi) : r;
            }
        }
        hekv_poly o = hekv__lv(&out->c[k], level);
        o.ntt = 0;
        hekv_ring_ntt_fwd(ev->rq, &o);
    }
    hekv__ct_finish(out, level, scale, slots, NULL);
    return HEKV_OK;
}

/* ------------------------------------------------------------------ key checks */

hekv_status hekv_ckks_ext_need_rotation(hekv_eval *ev, const char *fn, long k, size_t slots,
                                        int level) {
    if (!ev) return HEKV_ERR_ARG;
    const hekv_ckks_params *p = ev->params;
    if (slots == 0 || slots > p->n / 2) slots = p->n / 2;
    long r = k % (long)slots;
    if (r < 0) r += (long)slots;
    if (r == 0) return HEKV_OK;
    /* under sparse packing r and r - slots are the same rotation (eval_rot.c takes
     * either key) */
    const long cand[3] = {k, r, r - (long)slots};
    const hekv_swk *low = NULL;
    for (int c = 0; c < (slots < p->n / 2 ? 3 : 1); c++) {
        const hekv_swk *sw = hekv__evk_find(ev->evk, hekv_ckks_galois_rot(p, cand[c]));
        if (sw && sw->level >= level) return HEKV_OK;
        if (sw) low = sw;
    }
    if (low)
        return hekv_err_set(&ev->err, HEKV_ERR_KEY_MISSING,
                            "%s: the Galois key of a left rotation by %ld reaches level %d, "
                            "needed at level %d: generate it up to that level", fn, r,
                            low->level, level);
    return hekv_err_set(&ev->err, HEKV_ERR_KEY_MISSING,
                        "%s: no Galois key for a left rotation by %ld (element %llu): generate "
                        "the keys listed by the object's _rotations function", fn, r,
                        (unsigned long long)hekv_ckks_galois_rot(p, r));
}

hekv_status hekv_ckks_ext_need_relin(hekv_eval *ev, const char *fn, int level) {
    if (!ev) return HEKV_ERR_ARG;
    return hekv__check_relin(ev, fn, level);
}

/* ------------------------------------------------------------------ plaintext rotation */

hekv_status hekv_ckks_eval_rotate_pt(hekv_eval *ev, hekv_pt *out, const hekv_pt *in, long k) {
    static const char fn[] = "hekv_ckks_eval_rotate_pt";
    if (!ev) return HEKV_ERR_ARG;
    hekv_status s;
    if ((s = hekv__check_pt(ev, fn, in))) return s;
    if (!out || out->params != ev->params)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: the output plaintext is NULL or of "
                            "another parameter set", fn);
    if (out == in)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: out must not alias in", fn);
    const hekv_ckks_params *p = ev->params;
    if (hekv_automorph_map_ntt(ev->pt_map, p->logn, hekv_ckks_galois_rot(p, k)) != HEKV_KERN_OK)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: no automorphism for %ld", fn, k);
    if (hekv__pt_resize(out, in->level) != HEKV_OK)
        return hekv_err_set(&ev->err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    hekv_poly o = hekv__lv(&out->m, in->level), x = hekv__lv(&in->m, in->level);
    hekv_ring_automorph(ev->rq, &o, &x, ev->pt_map);
    out->m.ntt = 1;
    out->scale = in->scale;
    out->slots = in->slots;
    return HEKV_OK;
}
