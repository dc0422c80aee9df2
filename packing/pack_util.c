/* pack_util.c: the helpers the packing files share (pack_int.h): masks encoded at scale
 * q_level, mask-and-rescale, rotate-and-add and the rotation-key check, all on the public
 * CKKS API and its extension header.
 *
 * Not here: any packing layout; the files that use these helpers own those. */
#include "pack_int.h"

hekv_status hekv__mask_encode(hekv_encoder *enc, hekv_pt *pt, const double *vals, int level,
                              hekv_err *err) {
    const hekv_ckks_params *p = hekv_ckks_encoder_params(enc);
    double scale = (double)hekv_ckks_params_q(p, level);
    return hekv_ckks_encode(enc, pt, vals, NULL, hekv_ckks_params_max_slots(p), level, scale,
                            err);
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

hekv_status hekv__need_rot(hekv_eval *ev, const char *fn, long k, int level) {
    const hekv_ckks_params *p = hekv_ckks_eval_params(ev);
    return hekv_ckks_ext_need_rotation(ev, fn, k, hekv_ckks_params_max_slots(p), level);
}
