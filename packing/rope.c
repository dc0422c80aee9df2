/* rope.c: rotary position embedding on the packed, head-interleaved layout (Cachemir
 * section 3.2). A vector of H heads of d_head dimensions sits at stride t = S/(H d_head),
 * feature g = l H + h (dimension l of head h) at slot g t + off. RoPE turns each pair of
 * dimensions (l, l + 1), l even, of a head by pos * theta^(-l/d_head); the pair's slots are
 * H t apart, so
 *     y = x (.) C + Rot(x, H t) (.) S1 + Rot(x, -H t) (.) S2
 * with C = cos at both slots of a pair, S1 = -sin at the first, S2 = +sin at the second,
 * and all three zero outside the vector's slots: the output is clean whatever the input
 * held elsewhere (an IRP product's partial sums), so no separate mask is needed. The same
 * code serves the keys in their own layout (H = n_kv_heads, t = t_kv, off = the append
 * position): the pair distance n_kv_heads t_kv equals H t there too. The angles are public
 * (the position is the step counter). 2 rotations, 3 plaintext products, one level. */
#include <math.h>
#include <stdlib.h>

#include "pack_int.h"

hekv_status hekv_pack_rope(hekv_eval *ev, hekv_encoder *enc, hekv_ct *out, const hekv_ct *in,
                           size_t n_heads, size_t d_head, size_t off, long pos, double theta,
                           hekv_pack_stats *st) {
    static const char fn[] = "hekv_pack_rope";
    if (!ev) return HEKV_ERR_ARG;
    hekv_err *err = hekv_ckks_ext_err(ev);
    if (!enc || !out || !in || out == in)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: encoder or ciphertexts NULL, or out "
                            "aliases in", fn);
    const hekv_ckks_params *p = hekv_ckks_eval_params(ev);
    const size_t S = hekv_ckks_params_max_slots(p), d = n_heads * d_head;
    if (!hekv__is_pow2(n_heads) || !hekv__is_pow2(d_head) || d_head < 2 || d > S ||
        hekv_ckks_ct_slots(in) != S || off >= S / d || pos < 0 || !(theta > 1))
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: heads %zu x %zu (powers of two, d_head >= 2, d <= %zu), offset "
                            "%zu, position %ld or theta %g out of range, or the input is not a "
                            "full-slot ciphertext", fn, n_heads, d_head, S, off, pos, theta);
    const int level = hekv_ckks_ct_level(in);
    if (level < 1)
        return hekv_err_set(err, HEKV_ERR_LEVEL, "%s: the input is at level %d, RoPE needs 1",
                            fn, level);
    const size_t t = S / d;
    const long ht = (long)(n_heads * t);
    hekv_status s;
    if ((s = hekv__need_rot(ev, fn, ht, level)) || (s = hekv__need_rot(ev, fn, -ht, level)))
        return s;
    double *c = calloc(S, sizeof *c), *s1 = calloc(S, sizeof *s1), *s2 = calloc(S, sizeof *s2);
    hekv_pt *pc = NULL, *p1 = NULL, *p2 = NULL;
    hekv_ct *r = NULL;
    s = c && s1 && s2 ? HEKV_OK : hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    for (size_t l = 0; l + 1 < d_head && !s; l += 2) {
        const double ang = (double)pos / pow(theta, (double)l / (double)d_head);
        const double cs = cos(ang), sn = sin(ang);
        for (size_t h = 0; h < n_heads; h++) {
            const size_t a = (l * n_heads + h) * t + off, b = a + (size_t)ht;
            c[a] = c[b] = cs;
            s1[a] = -sn;
            s2[b] = sn;
        }
    }
    if (!s && !(s = hekv_ckks_ext_scratch_pt_get(ev, &pc)) &&
        !(s = hekv_ckks_ext_scratch_pt_get(ev, &p1)) &&
        !(s = hekv_ckks_ext_scratch_pt_get(ev, &p2)) && !(s = hekv_ckks_ext_scratch_get(ev, &r))) {
        if (!(s = hekv__mask_encode(enc, pc, c, level, err)) &&
            !(s = hekv__mask_encode(enc, p1, s1, level, err)) &&
            !(s = hekv__mask_encode(enc, p2, s2, level, err))) {
            /* out = x C + Rot(x, Ht) S1 + Rot(x, -Ht) S2, then one rescale */
            s = hekv_ckks_eval_mul_pt(ev, out, in, pc);
            if (!s) s = hekv_ckks_eval_rotate(ev, r, in, ht);
            if (!s) s = hekv_ckks_eval_mul_pt(ev, r, r, p1);
            if (!s) s = hekv_ckks_eval_add(ev, out, out, r);
            if (!s) s = hekv_ckks_eval_rotate(ev, r, in, -ht);
            if (!s) s = hekv_ckks_eval_mul_pt(ev, r, r, p2);
            if (!s) s = hekv_ckks_eval_add(ev, out, out, r);
            if (!s) s = hekv_ckks_eval_rescale(ev, out, out);
            if (!s) {
                HEKV__ST(st, rotations, 2);
                HEKV__ST(st, pt_mults, 3);
                HEKV__ST(st, rescales, 1);
            }
        }
    }
    hekv_ckks_ext_scratch_put(ev, r);
    hekv_ckks_ext_scratch_pt_put(ev, p2);
    hekv_ckks_ext_scratch_pt_put(ev, p1);
    hekv_ckks_ext_scratch_pt_put(ev, pc);
    free(c), free(s1), free(s2);
    return s;
}
