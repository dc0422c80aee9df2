/* test_softmax.c: the softmax without a plaintext max (models/softmax_ns.c) and the
 * comparison of a hooked model with the exact one (models/compare.c): the design on a
 * calibration against the exact softmax on random rows of every length, the excursion
 * count when a row leaves the calibrated range, the reference forward's softmax hook
 * (an exact one gives bit-identical logits), and, with stories260K present, the design
 * on text and its agreement with the exact model. */
#include <math.h>

#include "hekv/llama_approx.h"
#include "model_util.h"

/* A synthetic model's calibration, filled by hand: scores of every head in [-20, 8], sums
 * of exp(s) in [1e-3, 1e5]. */
static hekv_llama_calib *hand_calib(const hekv_llama_config *cfg) {
    hekv_llama_calib *c = NULL;
    hekv_err err;
    cr_assert_eq(hekv_llama_calib_new(cfg, &c, &err), HEKV_OK, "%s", err.msg);
    for (int l = 0; l < cfg->n_layers; l++) {
        hekv_llama_layer_calib *lc = hekv_llama_calib_layer(c, l);
        for (int h = 0; h < cfg->n_heads; h++) lc->attn_score[h] = (hekv_llama_range){-20, 8};
        lc->softmax_sum_unshifted = (hekv_llama_range){1e-3, 1e5};
    }
    return c;
}

static void exact_softmax(double *a, int n) {
    double mx = a[0], z = 0;
    for (int t = 1; t < n; t++) mx = fmax(mx, a[t]);
    for (int t = 0; t < n; t++) z += (a[t] = exp(a[t] - mx));
    for (int t = 0; t < n; t++) a[t] /= z;
}

Test(models_softmax, design_against_the_exact_softmax) {
    const hekv_llama_config cfg = {.dim = 32, .hidden_dim = 64, .n_layers = 2, .n_heads = 4,
                                   .n_kv_heads = 2, .vocab_size = 64, .seq_len = 64,
                                   .head_size = 8, .kv_dim = 16, .shared_classifier = 1};
    hekv_llama_calib *cal = hand_calib(&cfg);
    hekv_llama_nsoftmax *sm = NULL;
    hekv_err err;
    const hekv_llama_nsoftmax_opts o = {4, 0, 0, 1e-4, 0, 0};
    cr_assert_eq(hekv_llama_nsoftmax_design(cal, &o, &sm, &err), HEKV_OK, "%s", err.msg);
    const int d = hekv_llama_nsoftmax_depth(sm, 0);
    char desc[512];
    hekv_llama_nsoftmax_describe(sm, 0, desc, sizeof desc);
    cr_log_info("depth %d: %s", d, desc);
    cr_assert(d > 4 + 5 && d < 120, "depth %d", d);
    test_rng g = test_rng_new(61);
    double a[64], b[64], worst = 0;
    const int lens[] = {1, 2, 7, 33, 64};
    for (int li = 0; li < 5; li++)
        for (int rep = 0; rep < 20; rep++) {
            const int n = lens[li];
            /* rows with a max anywhere in [-8, 8] and a spread of up to 25 below it */
            const double top = test_uniform(&g, -8, 8);
            for (int t = 0; t < n; t++) a[t] = b[t] = top - test_uniform(&g, 0, 25);
            a[0] = b[0] = top;
            hekv_llama_nsoftmax_apply(sm, a, n, rep % 2, rep % 4);
            exact_softmax(b, n);
            for (int t = 0; t < n; t++) worst = fmax(worst, fabs(a[t] - b[t]));
        }
    cr_log_info("max |p - p_exact| = %.3g", worst);
    /* the last reciprocal's 1e-4 plus the polynomials' errors (each crude step's 30% is a
     * per-row factor the next step cancels) */
    cr_assert(worst < 2e-3, "max |p - p_exact| = %.3g", worst);
    cr_assert_eq(hekv_llama_nsoftmax_outside(sm, 0) + hekv_llama_nsoftmax_outside(sm, 1), 0);
    /* a row far beyond the calibration is computed as the circuit would and counted */
    for (int t = 0; t < 8; t++) a[t] = 60.0 * t;
    hekv_llama_nsoftmax_apply(sm, a, 8, 1, 0);
    cr_assert_gt(hekv_llama_nsoftmax_outside(sm, 1), 0);
    /* bad options, a calibration without scores */
    hekv_llama_nsoftmax *bad = NULL;
    const hekv_llama_nsoftmax_opts huge = {13, 0, 0, 0, 0, 0};
    cr_assert_eq(hekv_llama_nsoftmax_design(cal, &huge, &bad, &err), HEKV_ERR_ARG);
    hekv_llama_calib *empty = NULL;
    cr_assert_eq(hekv_llama_calib_new(&cfg, &empty, &err), HEKV_OK);
    cr_assert_eq(hekv_llama_nsoftmax_design(empty, &o, &bad, &err), HEKV_ERR_ARG);
    cr_assert_null(bad);
    hekv_llama_calib_free(empty);
    hekv_llama_nsoftmax_free(sm);
    hekv_llama_calib_free(cal);
}

static void exact_hook_softmax(double *a, int n, int layer, int head, void *ctx) {
    (void)layer, (void)head;
    int *calls = ctx;
    (*calls)++;
    exact_softmax(a, n);
}

/* The forward's softmax hook: an exact softmax in it gives the exact logits (float64 to
 * the last bit: the same expressions), and it is called once per head and position. */
Test(models_softmax, forward_hook_and_compare) {
    char dir[256];
    tm_tmpdir(dir, sizeof dir);
    const int32_t hdr[7] = {16, 24, 2, 4, 2, 37, 8};
    hekv_llama_model *m = tm_synth_load(dir, hdr, 5);
    hekv_llama_state *a = NULL, *b = NULL;
    hekv_err err;
    cr_assert_eq(hekv_llama_state_new(m, HEKV_LLAMA_F64, &a, &err), HEKV_OK);
    cr_assert_eq(hekv_llama_state_new(m, HEKV_LLAMA_F64, &b, &err), HEKV_OK);
    int calls = 0;
    hekv_llama_approx hook = {0};
    hook.softmax = exact_hook_softmax;
    hook.ctx = &calls;
    for (int p = 0; p < 8; p++) {
        cr_assert_eq(hekv_llama_forward(a, (p * 5) % 37, p, NULL, &err), HEKV_OK);
        cr_assert_eq(hekv_llama_forward(b, (p * 5) % 37, p, &hook, &err), HEKV_OK);
        const double *la = hekv_llama_state_logits(a), *lb = hekv_llama_state_logits(b);
        cr_assert(tm_max_abs_diff(la, lb, 37) < 1e-12, "position %d", p);
    }
    cr_assert_eq(calls, 8 * 2 * 4, "%d calls", calls);
    /* float32 states go through the hook as well */
    hekv_llama_state *f = NULL;
    cr_assert_eq(hekv_llama_state_new(m, HEKV_LLAMA_F32, &f, &err), HEKV_OK);
    calls = 0;
    cr_assert_eq(hekv_llama_forward(f, 3, 0, &hook, &err), HEKV_OK);
    cr_assert_eq(calls, 2 * 4);
    hekv_llama_state_free(f);
    hekv_llama_state_free(a), hekv_llama_state_free(b);
    hekv_llama_model_free(m);
    tm_rmtree(dir);
}

/* With stories260K: the exact hook compares equal; the design on text (k = 4) agrees with
 * the exact model on >= 99% of the predictions of another text, within 0.5% perplexity. */
Test(models_softmax, stories_design_on_text, .timeout = 300) {
    hekv_llama_model *m = tm_load_stories();
    hekv_llama_tokenizer *t = tm_load_tok512();
    static const char cal_text[] =
        "Once upon a time, there was a little girl named Lily. She loved to play outside in "
        "the park. One day, she saw a big, red ball. She wanted to play with it, but it was "
        "too high. Lily asked her mom for help. Her mom said, \"Let's find a stick to get the "
        "ball down.\" They found a long stick and got the ball. Lily was very happy. She "
        "played with the ball all day. The end.";
    static const char test_text[] =
        "Once upon a time, there was a boy named Tom. Tom had a dog named Max. Max liked to run "
        "and jump. One day, Tom and Max went to the park. They played with a ball. Then it "
        "started to rain. Tom and Max ran home. Mom gave them a towel and a warm drink.";
    hekv_err err;
    hekv_llama_compare_result r;
    cr_assert_eq(hekv_llama_compare(m, t, test_text, sizeof test_text - 1, 0,
                                    hekv_llama_approx_exact(), &r, &err), HEKV_OK, "%s", err.msg);
    cr_assert_gt(r.tokens, 30);
    cr_assert_eq(r.agree, r.tokens);
    cr_assert_eq(r.max_logit_err, 0.0);
    cr_assert_eq(r.ppl_ref, r.ppl_hook);
    hekv_llama_calib *cal = NULL;
    hekv_llama_state *st = NULL;
    cr_assert_eq(hekv_llama_calib_new(hekv_llama_model_config(m), &cal, &err), HEKV_OK);
    cr_assert_eq(hekv_llama_state_new(m, HEKV_LLAMA_F64, &st, &err), HEKV_OK);
    cr_assert_eq(hekv_llama_state_set_calib(st, cal, &err), HEKV_OK);
    int ids[512];
    size_t n = 0;
    cr_assert_eq(hekv_llama_tokenizer_encode(t, ids, 512, &n, cal_text, sizeof cal_text - 1, 1,
                                             0, &err), HEKV_OK);
    for (size_t p = 0; p < n; p++) cr_assert_eq(hekv_llama_forward(st, ids[p], (int)p, NULL, &err), HEKV_OK);
    hekv_llama_state_free(st);
    const hekv_llama_nsoftmax_opts o = {4, 1.0, 0, 0, 0, 128};
    hekv_llama_nsoftmax *sm = NULL;
    cr_assert_eq(hekv_llama_nsoftmax_design_text(m, t, cal_text, sizeof cal_text - 1, 0, cal, &o,
                                                 &sm, &err), HEKV_OK, "%s", err.msg);
    hekv_llama_approx hook;
    hekv_llama_nsoftmax_hook(sm, &hook);
    cr_assert_eq(hekv_llama_compare(m, t, test_text, sizeof test_text - 1, 0, &hook, &r, &err),
                 HEKV_OK, "%s", err.msg);
    int64_t outside = 0;
    for (int l = 0; l < hekv_llama_model_config(m)->n_layers; l++)
        outside += hekv_llama_nsoftmax_outside(sm, l);
    cr_log_info("stories260K, k = 4: depth %d, agreement %lld / %lld, perplexity %.4f -> %.4f, "
                "%lld outside", hekv_llama_nsoftmax_depth(sm, 0), (long long)r.agree,
                (long long)r.tokens, r.ppl_ref, r.ppl_hook, (long long)outside);
    cr_assert(r.agree * 100 >= r.tokens * 99, "agreement %lld / %lld", (long long)r.agree,
              (long long)r.tokens);
    cr_assert(fabs(r.ppl_hook / r.ppl_ref - 1) < 0.005);
    hekv_llama_nsoftmax_free(sm);
    hekv_llama_calib_free(cal);
    hekv_llama_tokenizer_free(t);
    hekv_llama_model_free(m);
}
