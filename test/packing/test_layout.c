/* test_layout.c: the interleaved layout helpers: encode/decode round trips at every
 * position, fill values outside the vector, the mask that cleans a vector (against slots
 * filled with junk), the head-interleaved feature order and its row/column permutations,
 * and argument errors. Parameters: toy-N12 (S = 2048). */
#include "pack_test.h"

/* A fresh encryption decodes to within ~2^-30; the mask adds its own encoding error times
 * the junk (|junk| <= 3) and a rescale. */
#define TOL_MASK 0x1p-24

Test(packing_layout, encode_decode_positions) {
    ctx c = ctx_new_keys("toy-N12", 0, 1, NULL, 0);
    test_rng g = test_rng_new(1);
    hekv_err err;
    hekv_pt *pt = NULL;
    cr_assert_eq(hekv_ckks_pt_new(c.p, &pt, &err), HEKV_OK);
    const size_t ds[] = {1, 8, 100, 2048};
    for (size_t k = 0; k < 4; k++) {
        const size_t n = ds[k], d = pow2_up(n), t = c.slots / d;
        double *x = rand_vec(&g, n, -1, 1), *y = malloc(n * sizeof *y), *v = malloc(c.slots * sizeof *v);
        const size_t pos = t > 1 ? t - 1 : 0;
        cr_assert_eq(hekv_pack_vec_encode(c.enc, pt, x, n, d, pos, 0.5, c.top, c.scale, &err),
                     HEKV_OK, "%s", err.msg);
        cr_assert_eq(hekv_pack_vec_decode(c.enc, y, n, d, pos, pt, &err), HEKV_OK, "%s", err.msg);
        for (size_t i = 0; i < n; i++) cr_assert(fabs(y[i] - x[i]) < 0x1p-30);
        cr_assert_eq(hekv_ckks_decode(c.enc, v, NULL, pt, &err), HEKV_OK);
        for (size_t s = 0; s < c.slots; s++) {
            double want = s % t == pos ? (s / t < n ? x[s / t] : 0.0) : 0.5;
            cr_assert(fabs(v[s] - want) < 0x1p-30, "slot %zu: %g, want %g", s, v[s], want);
        }
        free(x), free(y), free(v);
    }
    double one = 1, nine[9] = {0};
    cr_assert_eq(hekv_pack_vec_encode(c.enc, pt, nine, 9, 8, 0, 0, c.top, c.scale, &err),
                 HEKV_ERR_ARG, "n > d");
    cr_assert_eq(hekv_pack_vec_encode(c.enc, pt, &one, 1, 12, 0, 0, c.top, c.scale, &err),
                 HEKV_ERR_ARG, "d not a power of two");
    cr_assert_eq(hekv_pack_vec_encode(c.enc, pt, &one, 1, 8, 256, 0, c.top, c.scale, &err),
                 HEKV_ERR_ARG, "pos >= t");
    cr_assert_eq(hekv_pack_vec_encode(c.enc, pt, &one, 1, 4096, 0, 0, c.top, c.scale, &err),
                 HEKV_ERR_ARG, "d > S");
    hekv_ckks_pt_free(pt);
    ctx_free(&c);
}

Test(packing_layout, mask_cleans) {
    ctx c = ctx_new_keys("toy-N12", 0, 1, NULL, 0);
    test_rng g = test_rng_new(2);
    const size_t d = 64, t = c.slots / d, pos = 9;
    double *x = rand_vec(&g, d, -1, 1), *v = malloc(c.slots * sizeof *v);
    hekv_ct *a = ct_encrypt_vec(&c, x, d, d, pos, 3.0, c.top);
    hekv_pack_stats st = {0};
    cr_assert_eq(hekv_pack_mask_apply(c.ev, c.enc, a, a, d, pos, &st), HEKV_OK, "%s",
                 hekv_ckks_eval_last_error(c.ev));
    cr_assert_eq(st.mask_mults, 1);
    cr_assert_eq(st.rescales, 1);
    cr_assert_eq(hekv_ckks_ct_level(a), c.top - 1);
    cr_assert(hekv_ckks_scale_eq(hekv_ckks_ct_scale(a), c.scale));
    ct_decrypt(&c, v, NULL, a);
    double m = 0;
    for (size_t s = 0; s < c.slots; s++) m = fmax(m, fabs(v[s] - (s % t == pos ? x[s / t] : 0.0)));
    cr_log_info("mask: max error 2^%.2f", log2(m));
    cr_assert(m <= TOL_MASK, "mask error 2^%.2f", log2(m));
    hekv_ct *z = ct_new(&c);
    cr_assert_eq(hekv_ckks_eval_drop_to(c.ev, z, a, 0), HEKV_OK);
    cr_assert_eq(hekv_pack_mask_apply(c.ev, c.enc, z, z, d, pos, NULL), HEKV_ERR_LEVEL);
    cr_assert_eq(hekv_pack_mask_apply(c.ev, c.enc, a, a, d, t, NULL), HEKV_ERR_ARG);
    hekv_ckks_ct_free(a), hekv_ckks_ct_free(z);
    free(x), free(v);
    ctx_free(&c);
}

Test(packing_layout, head_order) {
    /* H = 4 heads of 3 dims: packed g = l*H + h carries model feature h*3 + l */
    const size_t H = 4, dh = 3, d = 12;
    int seen[12] = {0};
    for (size_t g = 0; g < d; g++) {
        size_t f = hekv_pack_head_feature(H, dh, g);
        cr_assert_eq(f, (g % H) * dh + g / H);
        seen[f]++;
    }
    for (size_t f = 0; f < d; f++) cr_assert_eq(seen[f], 1, "a permutation");
    double w[12 * 2], r[12 * 2], cc[2 * 12];
    for (size_t i = 0; i < 24; i++) w[i] = (double)i;
    hekv_pack_heads_permute_rows(r, w, H, dh, 2);
    for (size_t g = 0; g < d; g++)
        for (size_t k = 0; k < 2; k++)
            cr_assert_eq(r[g * 2 + k], w[hekv_pack_head_feature(H, dh, g) * 2 + k]);
    hekv_pack_heads_permute_cols(cc, w, 2, H, dh);
    for (size_t row = 0; row < 2; row++)
        for (size_t g = 0; g < d; g++)
            cr_assert_eq(cc[row * d + g], w[row * d + hekv_pack_head_feature(H, dh, g)]);
    cr_assert_eq(hekv_pack_pow2(0), 0);
    cr_assert_eq(hekv_pack_pow2(1), 1);
    cr_assert_eq(hekv_pack_pow2(172), 256);
    cr_assert_eq(hekv_pack_pow2(256), 256);
    cr_assert_eq(hekv_pack_pow2((size_t)-1), 0);
}
