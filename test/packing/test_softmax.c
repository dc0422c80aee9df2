/* test_softmax.c: the encrypted attention softmax (packing/softmax.c) at the deep toy set
 * against its plaintext simulation (hekv_llama_nsoftmax_apply on every head's row: the
 * same circuits) and the exact softmax: one block with grouped-query attention (gamma =
 * 2), and a context across the block boundary (two blocks); levels and rotations against
 * the reports; the slots of tokens not in the cache come out 0. */
#include "hekv/llama_approx.h"
#include "pack_test.h"

/* Encrypted against simulated probabilities: CKKS noise through ~30 levels of products
 * (observed ~2^-20 .. 2^-17). */
#define TOL_SIM 0x1p-12

typedef struct {
    size_t d, H, Hk, dh, dkv, g, t, tkv, B, S;
} shp;

static shp shape_of(size_t S, size_t d, size_t H, size_t Hk) {
    shp s = {d, H, Hk, d / H, Hk * (d / H), H / Hk, S / d, 0, S / Hk, S};
    s.tkv = S / s.dkv;
    return s;
}

/* A hand calibration of a model of this attention shape: scores of every head in
 * [-8, 3], row sums of exp(s) in [0.1, 1e3]. */
static hekv_llama_calib *calib_of(const shp *s, int n_max) {
    const hekv_llama_config cfg = {.dim = (int32_t)s->d, .hidden_dim = (int32_t)s->d,
                                   .n_layers = 1, .n_heads = (int32_t)s->H,
                                   .n_kv_heads = (int32_t)s->Hk, .vocab_size = 32,
                                   .seq_len = n_max, .shared_classifier = 1,
                                   .head_size = (int32_t)s->dh, .kv_dim = (int32_t)s->dkv};
    hekv_llama_calib *c = NULL;
    hekv_err err;
    cr_assert_eq(hekv_llama_calib_new(&cfg, &c, &err), HEKV_OK, "%s", err.msg);
    hekv_llama_layer_calib *lc = hekv_llama_calib_layer(c, 0);
    for (size_t h = 0; h < s->H; h++) lc->attn_score[h] = (hekv_llama_range){-8, 3};
    lc->softmax_sum_unshifted = (hekv_llama_range){0.1, 1e3};
    return c;
}

static void run(size_t d, size_t H, size_t Hk, size_t n, int steps, uint64_t salt) {
    ctx c = ctx_new_keys("toy-N12-L44", 0, 1, NULL, 0);
    shp s = shape_of(c.slots, d, H, Hk);
    test_rng g = test_rng_new(salt);
    hekv_err err;
    hekv_pack_kv *kv = NULL;
    cr_assert_eq(hekv_pack_kv_new(c.p, d, H, Hk, -1, &kv, &err), HEKV_OK, "%s", err.msg);
    /* the cache's token count is what the softmax reads: append n (zero) keys */
    double *zero = calloc(s.dkv, sizeof *zero);
    for (size_t tau = 0; tau < n; tau++) {
        hekv_ct *k = ct_encrypt_vec(&c, zero, s.dkv, s.dkv, hekv_pack_kv_next_pos_k(kv), 0.0, 2);
        OK(c.ev, hekv_pack_kv_append_k(c.ev, kv, k, NULL));
        hekv_ckks_ct_free(k);
    }
    free(zero);
    /* the design and its keys */
    hekv_llama_calib *cal = calib_of(&s, (int)n);
    const hekv_llama_nsoftmax_opts o = {steps, 0.2, 0.5, 1e-2, 0, (int)n};
    hekv_llama_nsoftmax *sm = NULL;
    cr_assert_eq(hekv_llama_nsoftmax_design(cal, &o, &sm, &err), HEKV_OK, "%s", err.msg);
    char desc[512];
    hekv_llama_nsoftmax_describe(sm, 0, desc, sizeof desc);
    cr_log_info("%s", desc);
    hekv_pack_softmax plan;
    cr_assert_eq(hekv_llama_nsoftmax_plan(sm, 0, &plan, &err), HEKV_OK);
    const int depth = hekv_pack_kv_softmax_depth(kv, &plan);
    long rots[64];
    const size_t nr = hekv_pack_kv_softmax_rotations(kv, rots, 64);
    ctx_gen_rotations(&c, rots, nr, 0);
    /* scores in the layout of hekv_pack_kv_qkt: head h = h' gamma + e, token tau = b B +
     * cc t_kv + u at slot (cc Hk + h') t_kv + u of S[e][b] */
    const size_t nb = (n + s.B - 1) / s.B, ns = s.g * nb;
    cr_assert_eq(hekv_pack_kv_score_count(kv), ns);
    double *sc = malloc(s.H * n * sizeof *sc), *v = malloc(s.S * sizeof *v);
    for (size_t h = 0; h < s.H; h++) {
        const double top = test_uniform(&g, -1, 3);
        for (size_t tau = 0; tau < n; tau++) sc[h * n + tau] = top - test_uniform(&g, 0, 7);
    }
    hekv_ct **S = malloc(ns * sizeof *S);
    for (size_t e = 0; e < s.g; e++)
        for (size_t b = 0; b < nb; b++) {
            memset(v, 0, s.S * sizeof *v);
            for (size_t cc = 0; cc < s.dh; cc++)
                for (size_t h = 0; h < s.Hk; h++)
                    for (size_t u = 0; u < s.tkv; u++) {
                        const size_t tau = b * s.B + cc * s.tkv + u;
                        if (tau < n) v[(cc * s.Hk + h) * s.tkv + u] = sc[(h * s.g + e) * n + tau];
                    }
            S[e * nb + b] = ct_encrypt(&c, v, c.top);
        }
    hekv_pack_stats st = {0};
    OK(c.ev, hekv_pack_kv_softmax(c.ev, kv, S, ns, &plan, &st));
    cr_assert_eq(hekv_ckks_ct_level(S[0]), hekv_pack_kv_softmax_out_level(kv, &plan, c.top));
    cr_assert_eq(hekv_ckks_ct_level(S[0]), c.top - depth);
    const size_t per_norm = (size_t)hekv__log2(s.dh) + 2 * (size_t)hekv__log2(s.tkv);
    cr_assert_eq(st.rotations, s.g * (size_t)(steps + 1) * per_norm);
    /* the simulation of every head's row, and the exact softmax */
    double *sim = malloc(s.H * n * sizeof *sim), worst_sim = 0, worst_exact = 0, junk = 0;
    for (size_t h = 0; h < s.H; h++) {
        double *row = sim + h * n, mx = -INFINITY, z = 0;
        memcpy(row, sc + h * n, n * sizeof *row);
        hekv_llama_nsoftmax_apply(sm, row, (int)n, 0, (int)h);
        for (size_t tau = 0; tau < n; tau++) mx = fmax(mx, sc[h * n + tau]);
        for (size_t tau = 0; tau < n; tau++) z += exp(sc[h * n + tau] - mx);
        for (size_t tau = 0; tau < n; tau++)
            worst_exact = fmax(worst_exact, fabs(row[tau] - exp(sc[h * n + tau] - mx) / z));
    }
    for (size_t e = 0; e < s.g; e++)
        for (size_t b = 0; b < nb; b++) {
            ct_decrypt(&c, v, NULL, S[e * nb + b]);
            for (size_t cc = 0; cc < s.dh; cc++)
                for (size_t h = 0; h < s.Hk; h++)
                    for (size_t u = 0; u < s.tkv; u++) {
                        const size_t tau = b * s.B + cc * s.tkv + u;
                        const double got = v[(cc * s.Hk + h) * s.tkv + u];
                        if (tau < n)
                            worst_sim = fmax(worst_sim, fabs(got - sim[(h * s.g + e) * n + tau]));
                        else
                            junk = fmax(junk, fabs(got));
                    }
        }
    cr_log_info("softmax d=%zu H=%zu Hk=%zu n=%zu k=%d: depth %d, %llu rotations; encrypted vs "
                "simulated 2^%.2f, simulated vs exact 2^%.2f, empty slots 2^%.2f", d, H, Hk, n,
                steps, depth, (unsigned long long)st.rotations, log2(worst_sim),
                log2(worst_exact), log2(junk));
    cr_assert(worst_sim <= TOL_SIM, "encrypted vs simulated 2^%.2f", log2(worst_sim));
    cr_assert(worst_exact <= 2e-2, "simulated vs exact %.3g", worst_exact);
    cr_assert(junk <= TOL_SIM, "empty slots hold 2^%.2f", log2(junk));
    /* too few levels, the wrong count */
    hekv_ct *low = ct_encrypt(&c, v, depth - 1);
    hekv_ct *lows[8];
    for (size_t i = 0; i < ns; i++) lows[i] = low;
    cr_assert_eq(hekv_pack_kv_softmax(c.ev, kv, lows, ns, &plan, NULL), HEKV_ERR_LEVEL);
    cr_assert_eq(hekv_pack_kv_softmax(c.ev, kv, S, ns + 1, &plan, NULL), HEKV_ERR_ARG);
    cr_assert_eq(hekv_pack_kv_softmax_out_level(kv, &plan, depth - 1), -1);
    hekv_ckks_ct_free(low);
    for (size_t i = 0; i < ns; i++) hekv_ckks_ct_free(S[i]);
    free(S), free(sc), free(v), free(sim);
    hekv_llama_nsoftmax_free(sm);
    hekv_llama_calib_free(cal);
    hekv_pack_kv_free(kv);
    ctx_free(&c);
}

Test(packing_softmax, one_block_gqa, .timeout = 600) { run(64, 4, 2, 40, 1, 71); }
Test(packing_softmax, across_blocks, .timeout = 600) { run(128, 16, 8, 300, 2, 72); }
