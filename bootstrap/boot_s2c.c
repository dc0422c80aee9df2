/* boot_s2c.c: SlotToCoeff. EvalMod leaves y = m_j / q_0 in the transform's slots (full:
 * real and imaginary parts in two ciphertexts, joined as y_re + i y_im; sparse: one
 * ciphertext whose first level also repacks). The merged forward-FFT levels then give
 * z / (q_0 / delta) times the folded constant q_0 / (q_0 2^-log_ratio) = 2^log_ratio, i.e.
 * the message itself; each level's plaintexts carry a scale below its prime by the same
 * factor, so the label falls from s0 to the set's default scale over the levels. The
 * output keeps the default scale when delta is the planned q_0 2^-log_ratio (any input
 * above level 0: ScaleDown lands within 2^-41 of it); a level-0 input of another scale
 * comes out at default * delta / (q_0 2^-log_ratio), which is what its value then is. */
#include <math.h>

#include "boot_int.h"

hekv_status hekv__boot_s2c(const hekv_boot *b, hekv_eval *ev, hekv_ct *out,
                           const hekv_ct *const *parts, double delta, int half) {
    hekv_ct *t = NULL, *u = NULL;
    hekv_status s = hekv_ckks_ext_scratch_get(ev, &t);
    if (s == HEKV_OK) s = hekv_ckks_ext_scratch_get(ev, &u);
    const hekv_ct *x = parts[0];
    if (s == HEKV_OK && b->full) {
        s = hekv_ckks_eval_mul_pt(ev, u, parts[1], b->pt_i);
        if (s == HEKV_OK) s = hekv_ckks_eval_add(ev, u, u, parts[0]);
        x = u;
    }
    for (int g = 0; g < b->nstc && s == HEKV_OK; g++) {
        hekv_ct *y = x == t ? u : t;
        const hekv_lintrans *lt = g == 0 && half ? b->stc_half[0] : b->stc[g];
        s = hekv_ckks_eval_lintrans(ev, y, x, lt);
        if (s == HEKV_OK) s = hekv_ckks_eval_rescale(ev, y, y);
        x = y;
    }
    if (s == HEKV_OK) s = hekv_ckks_ct_copy(out, x, hekv_ckks_ext_err(ev));
    if (s == HEKV_OK && !b->full) s = hekv_ckks_ext_set_slots(ev, out, b->n);
    if (s == HEKV_OK) {
        const double planned = ldexp((double)hekv_ckks_params_q(b->p, 0), -b->lit.log_ratio);
        const double ratio = delta / planned;
        const double scale = hekv_ckks_params_default_scale(b->p);
        s = hekv_ckks_ext_set_scale(ev, out, fabs(ratio - 1) < 0x1p-38 ? scale : scale * ratio);
    }
    hekv_ckks_ext_scratch_put(ev, u);
    hekv_ckks_ext_scratch_put(ev, t);
    return s;
}
