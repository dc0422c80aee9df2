/* pack_util.c: the helpers the packing files share (pack_int.h): masks encoded at scale
 * q_level, plaintext rotations by automorphism (no key switch: a plaintext is public to the
 * server), mask-and-rescale, rotate-and-add, key checks, and the unrelinearised tensor
 * accumulator that lets a sum of ciphertext products pay for one relinearisation.
 *
 * Not here: any packing layout; the files that use these helpers own those. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/automorph.h"
#include "pack_int.h"

static hekv_poly view(const hekv_poly *p, int level) {
    hekv_poly v = *p;
    v.limbs = (size_t)level + 1;
    return v;
}

hekv_status hekv__mask_encode(hekv_encoder *enc, hekv_pt *pt, const double *vals, int level,
                              hekv_err *err) {
    const hekv_ckks_params *p = hekv_ckks_encoder_params(enc);
    double scale = (double)hekv_ckks_params_q(p, level);
    return hekv_ckks_encode(enc, pt, vals, NULL, hekv_ckks_params_max_slots(p), level, scale,
                            err);
}

hekv_status hekv__pt_rotate(const hekv_ckks_params *p, uint32_t *map, hekv_pt *out,
                            const hekv_pt *in, long k) {
    hekv_status s = hekv_automorph_map_ntt(map, p->logn, hekv_ckks_galois_rot(p, k));
    if (s != HEKV_OK) return s;
    if ((s = hekv__pt_resize(out, in->level)) != HEKV_OK) return s;
    hekv_poly o = view(&out->m, in->level), x = view(&in->m, in->level);
    hekv_ring_automorph(p->rq, &o, &x, map);
    out->m.ntt = 1;
    out->scale = in->scale;
    out->slots = in->slots;
    return HEKV_OK;
}

hekv_status hekv__mask_mul(hekv_eval *ev, hekv_ct *out, const hekv_ct *in, const hekv_pt *mask,
                           hekv_pack_stats *st) {
    hekv_status s = hekv_ckks_eval_mul_pt(ev, out, in, mask);
    if (s == HEKV_OK) s = hekv_ckks_eval_rescale(ev, out, out);
    if (s == HEKV_OK) {
        HEKV__ST(st, mask_mults, 1);
        HEKV__ST(st, rescales, 1);
    }
    return s;
}

hekv_status hekv__rot_add(hekv_eval *ev, hekv_ct *c, long k, hekv_pack_stats *st) {
    hekv_status s = hekv_ckks_eval_rotate_add(ev, c, c, c, k);
    if (s == HEKV_OK) HEKV__ST(st, rotations, 1);
    return s;
}

hekv_status hekv__need_rot(hekv_eval *ev, const char *fn, long k) {
    const hekv_ckks_params *p = ev->params;
    const long S = (long)(p->n / 2);
    long r = ((k % S) + S) % S;
    if (r == 0) return HEKV_OK;
    uint64_t g = hekv_ckks_galois_rot(p, r);
    if (ev->evk && hekv__evk_find(ev->evk, g)) return HEKV_OK;
    return hekv_err_set(&ev->err, HEKV_ERR_KEY_MISSING,
                        "%s: no Galois key for a left rotation by %ld (element %llu): generate "
                        "the keys listed by the object's _rotations function", fn, r,
                        (unsigned long long)g);
}

/* ------------------------------------------------------------------ tensor accumulator */

hekv_status hekv__tensor_init(hekv__tensor *t, const hekv_ckks_params *p, int level) {
    memset(t, 0, sizeof *t);
    t->level = -1;
    for (int i = 0; i < 3; i++)
        if (hekv_poly_new(p->rq, (size_t)level + 1, &t->d[i]) != HEKV_OK) {
            hekv__tensor_free(t);
            return HEKV_ERR_NOMEM;
        }
    return HEKV_OK;
}

void hekv__tensor_free(hekv__tensor *t) {
    for (int i = 0; i < 3; i++) hekv_poly_free(&t->d[i]);
}

void hekv__tensor_acc(const hekv_ckks_params *p, hekv__tensor *t, const hekv_ct *a,
                      const hekv_ct *b) {
    const hekv_ring *rq = p->rq;
    int l = a->level < b->level ? a->level : b->level;
    if (t->level >= 0 && t->level < l) l = t->level;
    hekv_poly a0 = view(&a->c[0], l), a1 = view(&a->c[1], l);
    hekv_poly b0 = view(&b->c[0], l), b1 = view(&b->c[1], l);
    hekv_poly d0 = view(&t->d[0], l), d1 = view(&t->d[1], l), d2 = view(&t->d[2], l);
    if (t->level < 0) {
        hekv_ring_mul(rq, &d0, &a0, &b0);
        hekv_ring_mul(rq, &d1, &a0, &b1);
        hekv_ring_mul_acc(rq, &d1, &a1, &b0);
        hekv_ring_mul(rq, &d2, &a1, &b1);
        t->level = l;
        t->scale = a->scale * b->scale;
    } else {
        hekv_ring_mul_acc(rq, &d0, &a0, &b0);
        hekv_ring_mul_acc(rq, &d1, &a0, &b1);
        hekv_ring_mul_acc(rq, &d1, &a1, &b0);
        hekv_ring_mul_acc(rq, &d2, &a1, &b1);
    }
    for (int i = 0; i < 3; i++) t->d[i].ntt = 1;
}

hekv_status hekv__tensor_relin(hekv_eval *ev, hekv_ct *out, const hekv__tensor *t,
                               size_t slots) {
    static const char fn[] = "hekv_pack (relinearisation)";
    if (!ev->evk || !ev->evk->relin)
        return hekv_err_set(&ev->err, HEKV_ERR_KEY_MISSING,
                            "%s: no relinearisation key: generate it with "
                            "hekv_ckks_evk_gen_relin", fn);
    const int l = t->level;
    double lq = 0;
    for (int i = 0; i <= l; i++) lq += log2((double)hekv_ckks_params_q(ev->params, i));
    if (!(log2(t->scale) < lq))
        return hekv_err_set(&ev->err, HEKV_ERR_LEVEL,
                            "%s: the product scale 2^%.2f would not fit the modulus 2^%.2f "
                            "left at level %d: rescale the operands first", fn,
                            log2(t->scale), lq, l);
    if (hekv__ks_scratch_new(ev) != HEKV_OK || hekv__ct_resize(out, l) != HEKV_OK)
        return hekv_err_set(&ev->err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    const hekv_ring *rq = ev->params->rq;
    hekv_poly r0 = view(&out->c[0], l), r1 = view(&out->c[1], l);
    hekv_poly d2 = view(&t->d[2], l), d0 = view(&t->d[0], l), d1 = view(&t->d[1], l);
    hekv__keyswitch(ev, &r0, &r1, &d2, l, ev->evk->relin);
    r0.ntt = r1.ntt = 1;
    hekv_ring_add(rq, &r0, &r0, &d0);
    hekv_ring_add(rq, &r1, &r1, &d1);
    out->c[0].ntt = out->c[1].ntt = 1;
    out->level = l;
    out->scale = t->scale;
    out->slots = slots;
    out->has_seed = 0;
    memset(out->seed, 0, sizeof out->seed);
    return HEKV_OK;
}
