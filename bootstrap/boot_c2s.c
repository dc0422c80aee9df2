/* boot_c2s.c: CoeffToSlot. The raised ciphertext (label s0, m slots) goes through the
 * merged inverse-FFT levels (boot_dft.c), one plaintext BSGS transform and one rescale
 * per level, leaving w_j = (t_j + i t_(j+n)) / (2 q_0 K g) in bit-reversed order (the
 * constant is folded into the first level's plaintexts: 1/2 for the split below, 1/K for
 * EvalMod's interval, 1/g for the trace's factor). Then the real split, one conjugation:
 *     re = w + conj(w),   im = -i (w - conj(w))     (-i: the monomial -X^(N/2), no level)
 * which are two real ciphertexts for full slots; for n <= N/4 the upper n slots of w are
 * zero (CoeffToSlot's mask), so v = re + rot(im, -n) holds both in one real ciphertext of
 * 2n slots and EvalMod runs once. */
#include "boot_int.h"

hekv_status hekv__boot_c2s(const hekv_boot *b, hekv_eval *ev, hekv_ct *const *parts,
                           const hekv_ct *in) {
    hekv_ct *t = NULL, *u = NULL;
    hekv_status s = hekv_ckks_ext_scratch_get(ev, &t);
    if (s == HEKV_OK) s = hekv_ckks_ext_scratch_get(ev, &u);
    const hekv_ct *x = in;
    hekv_ct *y = t;
    for (int g = 0; g < b->ncts && s == HEKV_OK; g++) {
        s = hekv_ckks_eval_lintrans(ev, y, x, b->cts[g]);
        if (s == HEKV_OK) s = hekv_ckks_eval_rescale(ev, y, y);
        x = y;
        y = y == t ? u : t;
    }
    /* x holds w at level l_em; y is free */
    hekv_ct *re = parts[0], *im = b->full ? parts[1] : y;
    if (s == HEKV_OK) s = hekv_ckks_eval_conjugate(ev, y == im ? re : im, x);
    if (b->full) {
        /* im <- conj(w) above */
        if (s == HEKV_OK) s = hekv_ckks_eval_add(ev, re, x, im);
        if (s == HEKV_OK) s = hekv_ckks_eval_sub(ev, im, x, im);
        if (s == HEKV_OK) s = hekv_ckks_eval_mul_pt(ev, im, im, b->pt_mi);
    } else {
        /* re <- conj(w) above; im is the free scratch */
        if (s == HEKV_OK) s = hekv_ckks_eval_sub(ev, im, x, re);
        if (s == HEKV_OK) s = hekv_ckks_eval_add(ev, re, x, re);
        if (s == HEKV_OK) s = hekv_ckks_eval_mul_pt(ev, im, im, b->pt_mi);
        if (s == HEKV_OK) s = hekv_ckks_eval_rotate_add(ev, re, re, im, -(long)b->n);
    }
    hekv_ckks_ext_scratch_put(ev, u);
    hekv_ckks_ext_scratch_put(ev, t);
    return s;
}
