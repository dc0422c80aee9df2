/* boot_modraise.c: the steps before CoeffToSlot.
 *   ScaleDown: to level 0 with q_0 / scale = 2^log_ratio exactly (one integer product
 *     and one rescale: hekv_ckks_ext_adjust_scale); a level-0 input is taken as it is.
 *   Sparse-secret encapsulation (Bossuat, Troncoso-Pastoriza, Hubaux, ePrint 2022/024):
 *     key switch at level 0 to the ephemeral secret s' of weight h with a key in q_0 p_0;
 *   ModRaise: c_0, c_1 centred mod q_0 and lifted to the top level, so that c_0 + c_1 s'
 *     = m + q_0 I over the integers with |I| <= (h + 1) / 2: every coefficient of
 *     c_0 + c_1 s' is at most (1 + h) q_0 / 2 in absolute value, deterministically, so
 *     EvalMod's interval [-K, K] with K > (h + 1) / 2 never fails (probability 0, not a
 *     tail bound);
 *   the switch back from s' to the main secret at the top level (the ciphertext now
 *     encrypts t = m + q_0 I under s; the key switch adds noise far below q_0);
 *   the trace (n < N/2): t projected onto Z[X^(N/2n)] times g = N/2n, by log2 g
 *     rotate-and-adds by n, 2n, ..., N/4 slots (the Galois group of the subring's
 *     extension); CoeffToSlot divides by g. */
#include <math.h>

#include "boot_int.h"

hekv_status hekv__boot_modraise(const hekv_boot *b, hekv_eval *ev, hekv_ct *out,
                                const hekv_ct *in, double *delta, hekv_boot_stats *st) {
    static const char fn[] = "hekv_boot_eval";
    (void)st;
    const hekv_evk *evk = hekv_ckks_eval_evk(ev);
    const hekv_swk *to = evk ? hekv_ckks_evk_swk(evk, HEKV_BOOT_TAG_TO_EPHEMERAL) : NULL;
    const hekv_swk *from = evk ? hekv_ckks_evk_swk(evk, HEKV_BOOT_TAG_FROM_EPHEMERAL) : NULL;
    if (!to || !from || hekv_ckks_swk_max_level(from) < b->top)
        return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_KEY_MISSING,
                            "%s: the sparse-secret encapsulation keys (tags %#x and %#x, the "
                            "second up to level %d) are not in the evaluator's key set: "
                            "generate the keys of hekv_boot_keyreq", fn,
                            HEKV_BOOT_TAG_TO_EPHEMERAL, HEKV_BOOT_TAG_FROM_EPHEMERAL, b->top);
    const double q0 = (double)hekv_ckks_params_q(b->p, 0);
    hekv_status s;
    if (hekv_ckks_ct_level(in) >= 1) {
        s = hekv_ckks_ext_adjust_scale(ev, out, in, 0, ldexp(q0, -b->lit.log_ratio));
    } else {
        if (q0 / hekv_ckks_ct_scale(in) < 32)
            return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_SCALE,
                                "%s: a level-0 input needs q_0 / scale >= 2^5 (it has 2^%.2f): "
                                "bootstrap it one level higher", fn,
                                log2(q0 / hekv_ckks_ct_scale(in)));
        s = out == in ? HEKV_OK : hekv_ckks_ct_copy(out, in, hekv_ckks_ext_err(ev));
    }
    if (s != HEKV_OK) return s;
    *delta = hekv_ckks_ct_scale(out);
    if ((s = hekv_ckks_eval_keyswitch(ev, out, out, to)) ||
        (s = hekv_ckks_ext_mod_raise(ev, out, out, b->top)) ||
        (s = hekv_ckks_eval_keyswitch(ev, out, out, from)) ||
        (s = hekv_ckks_ext_set_scale(ev, out, b->s0)) ||
        (s = hekv_ckks_ext_set_slots(ev, out, hekv_ckks_params_max_slots(b->p))))
        return s;
    return HEKV_OK;
}

hekv_status hekv__boot_trace(const hekv_boot *b, hekv_eval *ev, hekv_ct *ct) {
    const size_t half = hekv_ckks_params_max_slots(b->p);
    hekv_status s = HEKV_OK;
    for (size_t k = b->n; k < half && s == HEKV_OK; k <<= 1)
        s = hekv_ckks_eval_rotate_add(ev, ct, ct, ct, (long)k);
    if (s == HEKV_OK) s = hekv_ckks_ext_set_slots(ev, ct, b->m);
    return s;
}
