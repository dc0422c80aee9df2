/* test_norm_rope.c: RMSNorm (packing/rmsnorm.c), RoPE (packing/rope.c) and the SwiGLU gate
 * (packing/swiglu.c) on the packed
 * layouts at toy-N12 against the plaintext reference (models/llama_ref.c): RoPE for the
 * queries (offset 0) and for keys in their layout at an append offset, with junk in the
 * other slots (the output must be clean), at two positions; RMSNorm with a designed
 * 1/sqrt against x / sqrt(mean(x^2) + eps), its empty slots, level and counts. */
#include "hekv/llama.h"
#include "hekv/llama_approx.h"
#include "pack_test.h"

#define TOL_ROPE 0x1p-22 /* |x| <= 1: one level of plaintext products and two rotations */
#define TOL_NORM 2e-4    /* the 1/sqrt design's 2^-12 relative error, times |x| <= 2 */

static void rope_case(ctx *c, size_t heads, size_t dh, size_t off, long pos, uint64_t salt) {
    const size_t d = heads * dh, S = c->slots, t = S / d;
    test_rng g = test_rng_new(salt);
    double *model = malloc(d * sizeof *model), *packed = malloc(d * sizeof *packed),
           *v = malloc(S * sizeof *v);
    for (size_t i = 0; i < d; i++) model[i] = test_uniform(&g, -1, 1);
    for (size_t gi = 0; gi < d; gi++) packed[gi] = model[hekv_pack_head_feature(heads, dh, gi)];
    hekv_ct *x = ct_encrypt_vec(c, packed, d, d, off, 3.0, c->top), *o = ct_new(c);
    hekv_pack_stats st = {0};
    OK(c->ev, hekv_pack_rope(c->ev, c->enc, o, x, heads, dh, off, pos, 10000.0, &st));
    cr_assert_eq(hekv_ckks_ct_level(o), c->top - 1);
    cr_assert(st.rotations == 2 && st.pt_mults == 3);
    hekv_llama_rope_fwd(model, (int)d, (int)dh, (int)pos);
    ct_decrypt(c, v, NULL, o);
    double err = 0, junk = 0;
    for (size_t gi = 0; gi < d; gi++)
        err = fmax(err, fabs(v[gi * t + off] - model[hekv_pack_head_feature(heads, dh, gi)]));
    for (size_t x2 = 0; x2 < S; x2++)
        if (x2 % t != off) junk = fmax(junk, fabs(v[x2]));
    cr_log_info("rope %zu x %zu off %zu pos %ld: error 2^%.2f, other slots 2^%.2f", heads, dh,
                off, pos, log2(err), log2(junk));
    cr_assert(err <= TOL_ROPE && junk <= TOL_ROPE, "error 2^%.2f, junk 2^%.2f", log2(err),
              log2(junk));
    free(model), free(packed), free(v);
    hekv_ckks_ct_free(x), hekv_ckks_ct_free(o);
}

Test(packing_rope, queries_and_keys) {
    ctx c = ctx_new_keys("toy-N12", 0, 1, NULL, 0);
    /* queries: 4 heads x 16 (t = 32); keys: 2 K/V heads x 16 in their layout (t_kv = 64) */
    const long rots[] = {4 * 32, -4 * 32, 2 * 64, -2 * 64};
    ctx_gen_rotations(&c, rots, 4, 0);
    rope_case(&c, 4, 16, 0, 7, 1);
    rope_case(&c, 4, 16, 0, 300, 2);
    rope_case(&c, 2, 16, 5, 41, 3);
    hekv_ct *x = ct_new(&c), *o = ct_new(&c);
    cr_assert_eq(hekv_pack_rope(c.ev, c.enc, o, o, 4, 16, 0, 1, 10000, NULL), HEKV_ERR_ARG);
    cr_assert_eq(hekv_pack_rope(c.ev, c.enc, o, x, 3, 16, 0, 1, 10000, NULL), HEKV_ERR_ARG);
    hekv_ckks_ct_free(x), hekv_ckks_ct_free(o);
    ctx_free(&c);
}

Test(packing_rmsnorm, against_the_reference) {
    ctx c = ctx_new_keys("toy-N14", 0, 1, NULL, 0);
    const size_t d = 64, S = c.slots, t = S / d;
    long rots[8];
    size_t nr = 0;
    for (size_t j = 1; j < d; j <<= 1) rots[nr++] = (long)(j * t);
    ctx_gen_rotations(&c, rots, nr, 0);
    hekv_nonlin *inv = NULL;
    hekv_err err;
    const hekv_nonlin_opts o = {0x1p-12, 0, 0, 0, 1, 0};
    cr_assert_eq(hekv_llama_nonlin_design(HEKV_NONLIN_INVSQRT, 0.05, 10, &o, &inv, &err), HEKV_OK,
                 "%s", err.msg);
    test_rng g = test_rng_new(9);
    double x[64], want[64], *v = malloc(S * sizeof *v);
    const double eps = 1e-5, amp[] = {0.5, 1.0, 2.0};
    for (int k = 0; k < 3; k++) {
        double ms = 0;
        for (size_t i = 0; i < d; i++) x[i] = amp[k] * test_uniform(&g, -1, 1), ms += x[i] * x[i];
        ms = ms / (double)d + eps;
        for (size_t i = 0; i < d; i++) want[i] = x[i] / sqrt(ms);
        hekv_ct *a = ct_encrypt_vec(&c, x, d, d, 0, 0.0, c.top), *out = ct_new(&c);
        hekv_pack_stats st = {0};
        OK(c.ev, hekv_pack_rmsnorm(c.ev, c.enc, out, a, d, eps, inv, &st));
        cr_assert_eq(hekv_ckks_ct_level(out), c.top - hekv_pack_rmsnorm_depth(inv));
        cr_assert(hekv_ckks_scale_eq(hekv_ckks_ct_scale(out), hekv_ckks_ct_scale(a)));
        cr_assert_eq(st.rotations, 6);
        ct_decrypt(&c, v, NULL, out);
        double e = 0, junk = 0;
        for (size_t i = 0; i < d; i++) e = fmax(e, fabs(v[i * t] - want[i]));
        for (size_t s2 = 0; s2 < S; s2++)
            if (s2 % t) junk = fmax(junk, fabs(v[s2]));
        cr_log_info("rmsnorm mean(x^2) %.3f: error %.3g, empty slots %.3g", ms, e, junk);
        cr_assert(e <= TOL_NORM && junk <= 1e-6, "error %.3g, junk %.3g", e, junk);
        hekv_ckks_ct_free(a), hekv_ckks_ct_free(out);
    }
    hekv_ct *low = ct_encrypt_vec(&c, x, d, d, 0, 0.0, 2), *out = ct_new(&c);
    cr_assert_eq(hekv_pack_rmsnorm(c.ev, c.enc, out, low, d, eps, inv, NULL), HEKV_ERR_LEVEL);
    cr_assert_eq(hekv_pack_rmsnorm(c.ev, c.enc, out, low, 48, eps, inv, NULL), HEKV_ERR_ARG);
    hekv_ckks_ct_free(low), hekv_ckks_ct_free(out);
    free(v);
    hekv_ckks_nonlin_free(inv);
    ctx_free(&c);
}

/* SwiGLU's gate against x / (1 + e^-x) * y on clean hidden vectors (empty slots stay 0). */
Test(packing_swiglu, against_the_reference) {
    ctx c = ctx_new_keys("toy-N14", 0, 1, NULL, 0);
    const size_t hd = 256, S = c.slots, t = S / hd;
    hekv_nonlin *silu = NULL;
    hekv_err err;
    const hekv_nonlin_opts o = {0x1p-14, 0, 0, 0, 0, 0};
    cr_assert_eq(hekv_llama_nonlin_design(HEKV_NONLIN_SILU, -8, 8, &o, &silu, &err), HEKV_OK,
                 "%s", err.msg);
    test_rng g = test_rng_new(13);
    double a[256], b[256], *v = malloc(S * sizeof *v);
    for (size_t i = 0; i < hd; i++) a[i] = test_uniform(&g, -7, 7), b[i] = test_uniform(&g, -1, 1);
    hekv_ct *h1 = ct_encrypt_vec(&c, a, hd, hd, 0, 0.0, c.top);
    hekv_ct *h3 = ct_encrypt_vec(&c, b, hd, hd, 0, 0.0, c.top - 2), *o2 = ct_new(&c);
    OK(c.ev, hekv_pack_swiglu(c.ev, o2, h1, h3, silu, NULL));
    const int lg = c.top - hekv_ckks_nonlin_depth(silu), lp = lg < c.top - 2 ? lg : c.top - 2;
    cr_assert_eq(hekv_ckks_ct_level(o2), lp - 1);
    cr_assert(hekv_ckks_scale_eq(hekv_ckks_ct_scale(o2), hekv_ckks_ct_scale(h3)));
    ct_decrypt(&c, v, NULL, o2);
    double e = 0, junk = 0;
    for (size_t i = 0; i < hd; i++) e = fmax(e, fabs(v[i * t] - a[i] / (1 + exp(-a[i])) * b[i]));
    for (size_t s2 = 0; s2 < S; s2++)
        if (s2 % t) junk = fmax(junk, fabs(v[s2]));
    cr_log_info("swiglu: error %.3g, empty slots %.3g (SiLU depth %d)", e, junk,
                hekv_ckks_nonlin_depth(silu));
    cr_assert(e <= 1e-3 && junk <= 1e-6, "error %.3g, junk %.3g", e, junk);
    cr_assert_eq(hekv_pack_swiglu(c.ev, h3, h1, h3, silu, NULL), HEKV_ERR_ARG);
    hekv_ckks_ct_free(h1), hekv_ckks_ct_free(h3), hekv_ckks_ct_free(o2);
    hekv_ckks_nonlin_free(silu);
    free(v);
    ctx_free(&c);
}
