/* layout.c: the interleaved vector layout (a d-vector at slots i*t + pos, t = S/d):
 * encoding and decoding a vector in it, the mask that cleans an IRP output back into it,
 * and the head-interleaved feature order of the attention projections.
 *
 * Not here: any homomorphic movement of data (irp.c re-interleaves between widths with an
 * identity IRP product; kvcache.c owns the cache layouts). */
#include <stdlib.h>
#include <string.h>

#include "pack_int.h"

size_t hekv_pack_pow2(size_t n) {
    if (n == 0) return 0;
    size_t p = 1;
    while (p < n) {
        if (p > ((size_t)-1 >> 1)) return 0;
        p <<= 1;
    }
    return p;
}

static hekv_status check_shape(const hekv_ckks_params *p, const char *fn, size_t n, size_t d,
                               size_t pos, hekv_err *err) {
    const size_t S = hekv_ckks_params_max_slots(p);
    if (!hekv__is_pow2(d) || d > S)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: d = %zu must be a power of two in [1, S = %zu] (pad it with "
                            "hekv_pack_pow2)", fn, d, S);
    if (n > d) return hekv_err_set(err, HEKV_ERR_ARG, "%s: %zu values exceed d = %zu", fn, n, d);
    if (pos >= S / d)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: position %zu outside [0, t = %zu)", fn, pos,
                            S / d);
    return HEKV_OK;
}

hekv_status hekv_pack_vec_encode(hekv_encoder *enc, hekv_pt *pt, const double *x, size_t n,
                                 size_t d, size_t pos, double fill, int level, double scale,
                                 hekv_err *err) {
    static const char fn[] = "hekv_pack_vec_encode";
    if (!enc || !pt || (!x && n))
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: NULL argument", fn);
    const hekv_ckks_params *p = hekv_ckks_encoder_params(enc);
    hekv_status s = check_shape(p, fn, n, d, pos, err);
    if (s != HEKV_OK) return s;
    const size_t S = hekv_ckks_params_max_slots(p), t = S / d;
    double *v = malloc(S * sizeof *v);
    if (!v) return hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    for (size_t j = 0; j < S; j++) v[j] = fill;
    for (size_t i = 0; i < d; i++) v[i * t + pos] = i < n ? x[i] : 0.0;
    s = hekv_ckks_encode(enc, pt, v, NULL, S, level, scale, err);
    hekv_memzero(v, S * sizeof *v);
    free(v);
    return s;
}

hekv_status hekv_pack_vec_decode(hekv_encoder *enc, double *x, size_t n, size_t d, size_t pos,
                                 const hekv_pt *pt, hekv_err *err) {
    static const char fn[] = "hekv_pack_vec_decode";
    if (!enc || !pt || (!x && n))
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: NULL argument", fn);
    const hekv_ckks_params *p = hekv_ckks_encoder_params(enc);
    hekv_status s = check_shape(p, fn, n, d, pos, err);
    if (s != HEKV_OK) return s;
    const size_t S = hekv_ckks_params_max_slots(p), t = S / d;
    if (hekv_ckks_pt_slots(pt) != S)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: the plaintext has %zu slots, not S = %zu",
                            fn, hekv_ckks_pt_slots(pt), S);
    double *v = malloc(S * sizeof *v);
    if (!v) return hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    s = hekv_ckks_decode(enc, v, NULL, pt, err);
    if (s == HEKV_OK)
        for (size_t i = 0; i < n; i++) x[i] = v[i * t + pos];
    hekv_memzero(v, S * sizeof *v);
    free(v);
    return s;
}

hekv_status hekv_pack_mask_apply(hekv_eval *ev, hekv_encoder *enc, hekv_ct *out,
                                 const hekv_ct *in, size_t d, size_t pos, hekv_pack_stats *st) {
    static const char fn[] = "hekv_pack_mask_apply";
    if (!ev) return HEKV_ERR_ARG;
    if (!enc || !out || !in)
        return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_ARG, "%s: NULL argument", fn);
    const hekv_ckks_params *p = hekv_ckks_eval_params(ev);
    hekv_status s = check_shape(p, fn, 0, d, pos, hekv_ckks_ext_err(ev));
    if (s != HEKV_OK) return s;
    if (hekv_ckks_encoder_params(enc) != p || hekv_ckks_ct_params(in) != p)
        return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_PARAMS,
                            "%s: encoder and ciphertext must belong to the evaluator's "
                            "parameter set", fn);
    const int l = hekv_ckks_ct_level(in);
    if (l < 1)
        return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_LEVEL,
                            "%s: the input is at level %d: a mask needs one level", fn, l);
    const size_t S = hekv_ckks_params_max_slots(p), t = S / d;
    double *v = calloc(S, sizeof *v);
    hekv_pt *m = NULL;
    if (!v) return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_NOMEM, "%s: out of memory", fn);
    s = hekv_ckks_ext_scratch_pt_get(ev, &m);
    for (size_t i = 0; i < d; i++) v[i * t + pos] = 1.0;
    if (s == HEKV_OK) s = hekv__mask_encode(enc, m, v, l, hekv_ckks_ext_err(ev));
    if (s == HEKV_OK) s = hekv__mask_mul(ev, out, in, m, st);
    free(v);
    hekv_ckks_ext_scratch_pt_put(ev, m);
    return s;
}

size_t hekv_pack_head_feature(size_t n_heads, size_t d_head, size_t g) {
    (void)d_head;
    const size_t l = g / n_heads, h = g % n_heads;
    return h * d_head + l;
}

void hekv_pack_heads_permute_rows(double *out, const double *w, size_t n_heads, size_t d_head,
                                  size_t cols) {
    for (size_t g = 0; g < n_heads * d_head; g++)
        memcpy(out + g * cols, w + hekv_pack_head_feature(n_heads, d_head, g) * cols,
               cols * sizeof *out);
}

void hekv_pack_heads_permute_cols(double *out, const double *w, size_t rows, size_t n_heads,
                                  size_t d_head) {
    const size_t d = n_heads * d_head;
    for (size_t r = 0; r < rows; r++)
        for (size_t g = 0; g < d; g++)
            out[r * d + g] = w[r * d + hekv_pack_head_feature(n_heads, d_head, g)];
}
