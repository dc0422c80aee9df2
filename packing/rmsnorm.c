/* rmsnorm.c: RMSNorm's normalization on an interleaved vector: out = x / sqrt(mean(x^2) +
 * eps) (the norm weight is folded into the projections that follow, a diagonal on their
 * input). x is a clean d-vector at stride t = S/d (zero elsewhere):
 *   1. x^2 (one level);
 *   2. the sum over the d features by log2 d rotate-and-adds by multiples of t: exact at
 *      every vector slot (the rotations by j t form the group of the vector's slots), zero
 *      at the others; the 1/d by relabelling the scale (free), + eps;
 *   3. the empty slots get the invsqrt design's midpoint (a plaintext added, free), so the
 *      circuit never sees 0 (its polynomial would diverge there);
 *   4. r = invsqrt(mean + eps) by the design (per layer, on the calibrated range);
 *   5. out = x (.) r (one level; x's zeros clean the empty slots again), r produced at the
 *      scale of the prime that product's rescale drops, so out keeps x's scale.
 * Depth 2 + the design's; log2 d rotations. */
#include <math.h>
#include <stdlib.h>

#include "pack_int.h"

int hekv_pack_rmsnorm_depth(const hekv_nonlin *invsqrt) {
    return invsqrt ? 2 + hekv_ckks_nonlin_depth(invsqrt) : -1;
}

hekv_status hekv_pack_rmsnorm(hekv_eval *ev, hekv_encoder *enc, hekv_ct *out,
                              const hekv_ct *in, size_t d, double eps,
                              const hekv_nonlin *invsqrt, hekv_pack_stats *st) {
    static const char fn[] = "hekv_pack_rmsnorm";
    if (!ev) return HEKV_ERR_ARG;
    hekv_err *err = hekv_ckks_ext_err(ev);
    if (!enc || !out || !in || !invsqrt || out == in)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: NULL argument, or out aliases in", fn);
    const hekv_ckks_params *p = hekv_ckks_eval_params(ev);
    const size_t S = hekv_ckks_params_max_slots(p);
    if (!hekv__is_pow2(d) || d > S || hekv_ckks_ct_slots(in) != S || !(eps >= 0))
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: d %zu (a power of two <= %zu), eps %g, or "
                            "the input is not a full-slot ciphertext", fn, d, S, eps);
    const int level = hekv_ckks_ct_level(in), depth = hekv_pack_rmsnorm_depth(invsqrt);
    if (level < depth)
        return hekv_err_set(err, HEKV_ERR_LEVEL, "%s: the input is at level %d, RMSNorm with "
                            "this design needs %d: bootstrap it first", fn, level, depth);
    const size_t t = S / d;
    hekv_status s = HEKV_OK;
    for (size_t j = 1; j < d && !s; j <<= 1) s = hekv__need_rot(ev, fn, (long)(j * t), level);
    if (!s) s = hekv_ckks_ext_need_relin(ev, fn, level);
    if (s) return s;
    hekv_ct *m = NULL;
    hekv_pt *fill = NULL;
    double *v = malloc(S * sizeof *v);
    if (!v) return hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    if ((s = hekv_ckks_ext_scratch_get(ev, &m)) || (s = hekv_ckks_ext_scratch_pt_get(ev, &fill)))
        goto done;
    /* 1-2. the mean of the squares at every vector slot */
    if ((s = hekv_ckks_eval_square(ev, m, in)) || (s = hekv_ckks_eval_rescale(ev, m, m))) goto done;
    for (size_t j = 1; j < d && !s; j <<= 1) s = hekv__rot_add(ev, m, (long)(j * t), st);
    if (!s) s = hekv_ckks_ext_set_scale(ev, m, hekv_ckks_ct_scale(m) * (double)d);
    if (!s && eps > 0) s = hekv_ckks_eval_add_const(ev, m, m, eps, 0.0);
    /* 3. the empty slots at the design's midpoint */
    const double mid = 0.5 * (hekv_ckks_nonlin_lo(invsqrt) + hekv_ckks_nonlin_hi(invsqrt));
    for (size_t x = 0; x < S; x++) v[x] = x % t ? mid : 0.0;
    if (!s) s = hekv_ckks_encode(enc, fill, v, NULL, S, hekv_ckks_ct_level(m),
                                 hekv_ckks_ct_scale(m), err);
    if (!s) s = hekv_ckks_eval_add_pt(ev, m, m, fill);
    /* 4-5. r at the scale of the prime the product's rescale divides by: out keeps in's
     * scale exactly */
    const int lr = level - 1 - hekv_ckks_nonlin_depth(invsqrt);
    if (!s) s = hekv_ckks_eval_nonlin(ev, m, m, invsqrt, (double)hekv_ckks_params_q(p, lr));
    if (!s) s = hekv_ckks_eval_mul(ev, out, in, m);
    if (!s) s = hekv_ckks_eval_rescale(ev, out, out);
    if (!s) {
        HEKV__ST(st, ct_mults, 2);
        HEKV__ST(st, relins, 2);
        HEKV__ST(st, rescales, 2);
    }
done:
    hekv_ckks_ext_scratch_pt_put(ev, fill);
    hekv_ckks_ext_scratch_put(ev, m);
    free(v);
    return s;
}
