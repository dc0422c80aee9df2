/* swiglu.c: the MLP's gate, SiLU(W1 x) (.) (W3 x), on the IRP output layout. Both inputs
 * must be clean (zero outside the hidden vector's slots: the products' HEKV_PACK_CLEAN, or a
 * mask): SiLU(0) = 0, so the empty slots stay 0 and W2's product sees a clean input. The
 * SiLU design is per layer, on the calibrated range of W1 x. Depth: the design's + 1 (the
 * product; W3 x is dropped to meet SiLU's output). */
#include "pack_int.h"

int hekv_pack_swiglu_depth(const hekv_nonlin *silu) {
    return silu ? hekv_ckks_nonlin_depth(silu) + 1 : -1;
}

hekv_status hekv_pack_swiglu(hekv_eval *ev, hekv_ct *out, const hekv_ct *h1, const hekv_ct *h3,
                             const hekv_nonlin *silu, hekv_pack_stats *st) {
    static const char fn[] = "hekv_pack_swiglu";
    if (!ev) return HEKV_ERR_ARG;
    hekv_err *err = hekv_ckks_ext_err(ev);
    if (!out || !h1 || !h3 || !silu || out == h3)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: NULL argument, or out aliases W3 x", fn);
    const int need = hekv_pack_swiglu_depth(silu);
    if (hekv_ckks_ct_level(h1) < need || hekv_ckks_ct_level(h3) < 1)
        return hekv_err_set(err, HEKV_ERR_LEVEL, "%s: W1 x at level %d, W3 x at %d: the gate "
                            "needs %d and 1", fn, hekv_ckks_ct_level(h1),
                            hekv_ckks_ct_level(h3), need);
    hekv_status s = hekv_ckks_ext_need_relin(ev, fn, hekv_ckks_ct_level(h1));
    const int lg = hekv_ckks_ct_level(h1) - hekv_ckks_nonlin_depth(silu);
    const int lp = lg < hekv_ckks_ct_level(h3) ? lg : hekv_ckks_ct_level(h3);
    /* the gate at the scale of the prime the product's rescale drops: out keeps h3's */
    if (!s)
        s = hekv_ckks_eval_nonlin(ev, out, h1, silu,
                                  (double)hekv_ckks_params_q(hekv_ckks_eval_params(ev), lp));
    if (!s) s = hekv_ckks_eval_mul(ev, out, out, h3);
    if (!s) s = hekv_ckks_eval_rescale(ev, out, out);
    if (!s) {
        HEKV__ST(st, ct_mults, 1);
        HEKV__ST(st, relins, 1);
        HEKV__ST(st, rescales, 1);
    }
    return s;
}
