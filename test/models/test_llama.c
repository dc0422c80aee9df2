/* test_llama.c: the reference forward pass: stories260K reproduces llama2.c's published
 * greedy and seeded samples, float32 agrees with float64, the KV-cache decode equals an
 * independent whole-sequence recomputation, the exact approximation hook is bit-identical,
 * the logits match the PyTorch golden files written by scripts/train_lm.py (which must be
 * there), the golden reader takes buffers, and every sampler seed, 0 included, is a
 * reproducible stream of its own. */
#include <glob.h>

#include "model_util.h"

/* Tolerances (named, R20). */
#define TOL_F32_VS_F64 2e-4   /* logits, stories260K, 64 positions */
#define TOL_RECOMPUTE 1e-10   /* same math in double, different order */
#define TOL_GOLDEN 1e-4       /* the bound against PyTorch float32 */

typedef struct {
    const hekv_llama_tokenizer *tok;
    char buf[8192];
    size_t n;
} text_sink;

static void sink_token(int prev, int token, void *user) {
    text_sink *s = user;
    size_t n;
    const char *p = hekv_llama_tokenizer_decode(s->tok, prev, token, &n);
    if (s->n + n < sizeof s->buf) {
        memcpy(s->buf + s->n, p, n);
        s->n += n;
        s->buf[s->n] = '\0';
    }
}

static void generate_text(hekv_llama_model *m, hekv_llama_tokenizer *tok,
                          hekv_llama_precision prec, const char *prompt, double temp,
                          double topp, uint64_t seed, int max_new, text_sink *out,
                          size_t *n_tokens) {
    hekv_err err = {0};
    hekv_llama_state *st;
    hekv_llama_sampler *smp;
    cr_assert_eq(hekv_llama_state_new(m, prec, &st, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_llama_sampler_new(512, temp, topp, seed, &smp, &err), HEKV_OK);
    int toks[512];
    size_t n = 0, np = 0;
    memset(out, 0, sizeof *out);
    out->tok = tok;
    hekv_llama_gen_opts go = {prompt, max_new, NULL, sink_token, out};
    cr_assert_eq(hekv_llama_generate(st, tok, smp, toks, 512, &n, &np, &go, &err), HEKV_OK, "%s",
                 err.msg);
    *n_tokens = n;
    hekv_llama_sampler_free(smp);
    hekv_llama_state_free(st);
}

Test(models, stories260k_greedy_matches_llama2c) {
    hekv_llama_model *m = tm_load_stories();
    hekv_llama_tokenizer *tok = tm_load_tok512();
    const hekv_llama_precision precs[2] = {HEKV_LLAMA_F64, HEKV_LLAMA_F32};
    for (int i = 0; i < 2; i++) {
        text_sink out;
        size_t n;
        generate_text(m, tok, precs[i], "Once upon a time", 0.0, 0.9, 1, 40, &out, &n);
        cr_assert_eq(n, 5 + 40, "BOS + 4 prompt tokens + 40 generated, got %zu", n);
        cr_assert(strncmp(out.buf, TM_STORIES_GREEDY, strlen(TM_STORIES_GREEDY)) == 0,
                  "%s greedy text differs:\n got: %s\nwant: %s", i ? "f32" : "f64", out.buf,
                  TM_STORIES_GREEDY);
    }
    hekv_llama_tokenizer_free(tok);
    hekv_llama_model_free(m);
}

Test(models, stories260k_seeded_sample_matches_llama2c) {
    hekv_llama_model *m = tm_load_stories();
    hekv_llama_tokenizer *tok = tm_load_tok512();
    text_sink out;
    size_t n;
    /* run.c's sampler in float32: the published -t 1.0 -p 0.9 -s 133742 sample. */
    generate_text(m, tok, HEKV_LLAMA_F32, "", 1.0, 0.9, 133742, 80, &out, &n);
    cr_assert(strncmp(out.buf, TM_STORIES_SEEDED, strlen(TM_STORIES_SEEDED)) == 0,
              "seeded sample differs:\n got: %s\nwant: %s", out.buf, TM_STORIES_SEEDED);
    /* Same seed, same text: the sampler is deterministic. */
    text_sink again;
    generate_text(m, tok, HEKV_LLAMA_F32, "", 1.0, 0.9, 133742, 80, &again, &n);
    cr_assert_str_eq(out.buf, again.buf);
    hekv_llama_tokenizer_free(tok);
    hekv_llama_model_free(m);
}

/* Runs tokens through a fresh state, writing logits [n][V]. */
static void run_logits(const hekv_llama_model *m, hekv_llama_precision prec, const int *toks,
                       int n, const hekv_llama_approx *ap, double *logits) {
    hekv_err err = {0};
    hekv_llama_state *st;
    const int V = hekv_llama_model_config(m)->vocab_size;
    cr_assert_eq(hekv_llama_state_new(m, prec, &st, &err), HEKV_OK, "%s", err.msg);
    for (int t = 0; t < n; t++) {
        cr_assert_eq(hekv_llama_forward(st, toks[t], t, ap, &err), HEKV_OK, "%s", err.msg);
        memcpy(logits + (size_t)t * V, hekv_llama_state_logits(st), (size_t)V * sizeof(double));
    }
    hekv_llama_state_free(st);
}

Test(models, f32_agrees_with_f64) {
    hekv_llama_model *m = tm_load_stories();
    const int n = 64, V = 512;
    int toks[64];
    test_rng r = test_rng_new(11);
    toks[0] = HEKV_LLAMA_TOKEN_BOS;
    for (int i = 1; i < n; i++) toks[i] = 3 + (int)test_below(&r, V - 3);
    double *a = malloc((size_t)n * V * sizeof *a), *b = malloc((size_t)n * V * sizeof *b);
    run_logits(m, HEKV_LLAMA_F64, toks, n, NULL, a);
    run_logits(m, HEKV_LLAMA_F32, toks, n, NULL, b);
    double d = tm_max_abs_diff(a, b, (size_t)n * V);
    cr_log_info("f32 vs f64 logits: max|diff| = %.3g (log2 %.1f)", d, log2(d));
    cr_assert(d <= TOL_F32_VS_F64, "f32 vs f64 max|diff| %.3g > %.3g", d, TOL_F32_VS_F64);
    cr_assert(d > 0, "f32 and f64 are bit-identical: the f64 path is not computing in double");
    free(a);
    free(b);
    hekv_llama_model_free(m);
}

/* An independent forward: the whole sequence at once, no KV cache, K and V recomputed for
 * every prefix, written plainly from the llama2.c model.py definition (double). */
static void recompute_logits(const hekv_llama_model *m, const int *toks, int n,
                             double *logits /* [V] after toks[0..n) */) {
    const hekv_llama_config *c = hekv_llama_model_config(m);
    const hekv_llama_weights *w = hekv_llama_model_weights(m);
    const int C = c->dim, H = c->hidden_dim, NH = c->n_heads, NKV = c->n_kv_heads;
    const int HS = c->head_size, KVD = c->kv_dim, V = c->vocab_size;
    double *x = calloc((size_t)n * C, sizeof *x), *xn = calloc((size_t)n * C, sizeof *xn);
    double *q = calloc((size_t)n * C, sizeof *q), *k = calloc((size_t)n * KVD, sizeof *k);
    double *v = calloc((size_t)n * KVD, sizeof *v), *o = calloc((size_t)n * C, sizeof *o);
    double *h1 = calloc((size_t)H, sizeof *h1), *h3 = calloc((size_t)H, sizeof *h3);
    double *att = calloc((size_t)n, sizeof *att);
    for (int t = 0; t < n; t++)
        for (int i = 0; i < C; i++) x[t * C + i] = w->token_embedding[(size_t)toks[t] * C + i];
    for (int l = 0; l < c->n_layers; l++) {
        for (int t = 0; t < n; t++) { /* rmsnorm, projections, rope for all positions */
            double ss = 0;
            for (int i = 0; i < C; i++) ss += x[t * C + i] * x[t * C + i];
            double inv = 1.0 / sqrt(ss / C + 1e-5);
            for (int i = 0; i < C; i++)
                xn[t * C + i] = x[t * C + i] * inv * w->rms_att[(size_t)l * C + i];
            for (int r = 0; r < C; r++) {
                double sq = 0;
                for (int i = 0; i < C; i++)
                    sq += w->wq[((size_t)l * C + r) * C + i] * xn[t * C + i];
                q[t * C + r] = sq;
            }
            for (int r = 0; r < KVD; r++) {
                double sk = 0, sv = 0;
                for (int i = 0; i < C; i++) {
                    sk += w->wk[((size_t)l * KVD + r) * C + i] * xn[t * C + i];
                    sv += w->wv[((size_t)l * KVD + r) * C + i] * xn[t * C + i];
                }
                k[t * KVD + r] = sk;
                v[t * KVD + r] = sv;
            }
            for (int hh = 0; hh < NH; hh++)
                for (int j = 0; j < HS / 2; j++) { /* complex rotation per pair */
                    double th = t * pow(10000.0, -2.0 * j / HS);
                    double cr = cos(th), si = sin(th);
                    double *qp = q + t * C + hh * HS + 2 * j;
                    double a0 = qp[0], a1 = qp[1];
                    qp[0] = a0 * cr - a1 * si;
                    qp[1] = a0 * si + a1 * cr;
                    if (hh < NKV) {
                        double *kp = k + t * KVD + hh * HS + 2 * j;
                        double b0 = kp[0], b1 = kp[1];
                        kp[0] = b0 * cr - b1 * si;
                        kp[1] = b0 * si + b1 * cr;
                    }
                }
        }
        for (int t = 0; t < n; t++) { /* causal attention */
            for (int hh = 0; hh < NH; hh++) {
                int g = hh / (NH / NKV);
                double mx = -INFINITY, sum = 0;
                for (int s = 0; s <= t; s++) {
                    double d = 0;
                    for (int i = 0; i < HS; i++)
                        d += q[t * C + hh * HS + i] * k[s * KVD + g * HS + i];
                    att[s] = d / sqrt((double)HS);
                    if (att[s] > mx) mx = att[s];
                }
                for (int s = 0; s <= t; s++) sum += (att[s] = exp(att[s] - mx));
                for (int i = 0; i < HS; i++) {
                    double acc = 0;
                    for (int s = 0; s <= t; s++) acc += att[s] / sum * v[s * KVD + g * HS + i];
                    o[t * C + hh * HS + i] = acc;
                }
            }
        }
        for (int t = 0; t < n; t++) { /* wo + residual, then the MLP */
            for (int r = 0; r < C; r++) {
                double s = 0;
                for (int i = 0; i < C; i++) s += w->wo[((size_t)l * C + r) * C + i] * o[t * C + i];
                xn[t * C + r] = s;
            }
            for (int i = 0; i < C; i++) x[t * C + i] += xn[t * C + i];
            double ss = 0;
            for (int i = 0; i < C; i++) ss += x[t * C + i] * x[t * C + i];
            double inv = 1.0 / sqrt(ss / C + 1e-5);
            for (int i = 0; i < C; i++)
                xn[t * C + i] = x[t * C + i] * inv * w->rms_ffn[(size_t)l * C + i];
            for (int r = 0; r < H; r++) {
                double a = 0, b = 0;
                for (int i = 0; i < C; i++) {
                    a += w->w1[((size_t)l * H + r) * C + i] * xn[t * C + i];
                    b += w->w3[((size_t)l * H + r) * C + i] * xn[t * C + i];
                }
                h1[r] = a / (1 + exp(-a)) * b;
            }
            for (int r = 0; r < C; r++) {
                double s = 0;
                for (int i = 0; i < H; i++) s += w->w2[((size_t)l * C + r) * H + i] * h1[i];
                x[t * C + r] += s;
            }
        }
    }
    const double *xl = x + (size_t)(n - 1) * C;
    double ss = 0;
    for (int i = 0; i < C; i++) ss += xl[i] * xl[i];
    double inv = 1.0 / sqrt(ss / C + 1e-5);
    for (int r = 0; r < V; r++) {
        double s = 0;
        for (int i = 0; i < C; i++)
            s += w->wcls[(size_t)r * C + i] * (xl[i] * inv * w->rms_final[i]);
        logits[r] = s;
    }
    free(x), free(xn), free(q), free(k), free(v), free(o), free(h1), free(h3), free(att);
}

static void check_kv_vs_recompute(const hekv_llama_model *m, int n, uint64_t salt) {
    const int V = hekv_llama_model_config(m)->vocab_size;
    int *toks = calloc((size_t)n, sizeof *toks);
    test_rng r = test_rng_new(salt);
    for (int i = 0; i < n; i++) toks[i] = (int)test_below(&r, (uint64_t)V);
    double *inc = malloc((size_t)n * V * sizeof *inc), *ref = malloc((size_t)V * sizeof *ref);
    run_logits(m, HEKV_LLAMA_F64, toks, n, NULL, inc);
    double worst = 0;
    for (int t = 0; t < n; t += (t < 8 ? 1 : 7)) {
        recompute_logits(m, toks, t + 1, ref);
        double d = tm_max_abs_diff(inc + (size_t)t * V, ref, (size_t)V);
        if (d > worst) worst = d;
        cr_assert(d <= TOL_RECOMPUTE, "position %d: KV-cache vs recompute max|diff| %.3g", t, d);
    }
    cr_log_info("KV cache vs recompute: max|diff| = %.3g", worst);
    /* Rewinding: re-running position 3 with another token equals a fresh run of that prefix. */
    hekv_err err = {0};
    hekv_llama_state *st;
    cr_assert_eq(hekv_llama_state_new(m, HEKV_LLAMA_F64, &st, &err), HEKV_OK);
    for (int t = 0; t < 6; t++)
        cr_assert_eq(hekv_llama_forward(st, toks[t], t, NULL, &err), HEKV_OK);
    toks[3] = (toks[3] + 1) % V;
    cr_assert_eq(hekv_llama_forward(st, toks[3], 3, NULL, &err), HEKV_OK);
    recompute_logits(m, toks, 4, ref);
    cr_assert(tm_max_abs_diff(hekv_llama_state_logits(st), ref, (size_t)V) <= TOL_RECOMPUTE);
    /* Skipping ahead is refused. */
    cr_assert_eq(hekv_llama_forward(st, toks[0], 5, NULL, &err), HEKV_ERR_ARG);
    cr_assert(strstr(err.msg, "skips ahead") != NULL, "%s", err.msg);
    cr_assert_eq(hekv_llama_forward(st, V, 4, NULL, &err), HEKV_ERR_ARG);
    hekv_llama_state_free(st);
    free(toks), free(inc), free(ref);
}

Test(models, kv_cache_equals_recompute_synthetic) {
    char dir[64];
    tm_tmpdir(dir, sizeof dir);
    /* GQA (4 heads on 2 KV heads), unshared classifier. */
    const int32_t hdr[7] = {16, 24, 3, 4, 2, -37, 24};
    hekv_llama_model *m = tm_synth_load(dir, hdr, 5);
    cr_assert_eq(hekv_llama_model_config(m)->shared_classifier, 0);
    cr_assert(hekv_llama_model_weights(m)->wcls != hekv_llama_model_weights(m)->token_embedding);
    check_kv_vs_recompute(m, 24, 6);
    hekv_llama_model_free(m);
    tm_rmtree(dir);
}

Test(models, kv_cache_equals_recompute_stories260k) {
    hekv_llama_model *m = tm_load_stories();
    check_kv_vs_recompute(m, 40, 7);
    hekv_llama_model_free(m);
}

static double my_exp(double x, int l, void *c) {
    (void)l, (void)c;
    return exp(x);
}
static double my_recip(double x, int l, void *c) {
    (void)l, (void)c;
    return 1.0 / x;
}
static double my_invsqrt(double x, int l, void *c) {
    (void)l, (void)c;
    return 1.0 / sqrt(x);
}
static double my_silu(double x, int l, void *c) {
    (void)l, (void)c;
    return x / (1.0 + exp(-x));
}

Test(models, approx_hook_exact_is_bit_identical) {
    hekv_llama_model *m = tm_load_stories();
    const int n = 24, V = 512;
    int toks[24];
    test_rng r = test_rng_new(21);
    for (int i = 0; i < n; i++) toks[i] = (int)test_below(&r, V);
    const hekv_llama_approx mine = {my_exp, my_recip, my_invsqrt, my_silu, NULL, NULL};
    const hekv_llama_approx only_exp = {my_exp, NULL, NULL, NULL, NULL, NULL};
    double *a = malloc((size_t)n * V * sizeof *a), *b = malloc((size_t)n * V * sizeof *b);
    const hekv_llama_precision precs[2] = {HEKV_LLAMA_F64, HEKV_LLAMA_F32};
    for (int p = 0; p < 2; p++) {
        run_logits(m, precs[p], toks, n, NULL, a);
        if (p == 0) { /* (f32's exact path divides like run.c, its hook multiplies) */
            run_logits(m, precs[p], toks, n, &mine, b);
            cr_assert(memcmp(a, b, (size_t)n * V * sizeof *a) == 0, "own exact hook differs");
            run_logits(m, precs[p], toks, n, hekv_llama_approx_exact(), b);
            cr_assert(memcmp(a, b, (size_t)n * V * sizeof *a) == 0, "library exact hook differs");
        } else {
            run_logits(m, precs[p], toks, n, &mine, b);
            double d = tm_max_abs_diff(a, b, (size_t)n * V);
            cr_assert(d <= 1e-4, "f32 exact hook vs run.c path: %.3g", d);
        }
        run_logits(m, precs[p], toks, n, &only_exp, b);
        cr_assert(tm_max_abs_diff(a, b, (size_t)n * V) <= (p ? 1e-4 : 0.0),
                  "a partial hook (exp only) changes the logits");
    }
    free(a), free(b);
    hekv_llama_model_free(m);
}

/* Every models/weights/NAME.golden against models/weights/NAME.bin. The files are
 * committed: when none is found (the tests run from elsewhere than the repository root, or
 * the files went missing) the test fails rather than passing unchecked. */
Test(models, golden_logits_match_pytorch, .timeout = 60) {
    glob_t g;
    int rc = glob("models/weights/*.golden", 0, NULL, &g);
    if (rc != 0 || g.gl_pathc == 0) {
        if (rc == 0) globfree(&g);
        cr_assert_fail("no models/weights/*.golden files: they are committed (written by "
                       "scripts/train_lm.py); run the tests from the repository root");
    }
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *gp = g.gl_pathv[i];
        char mp[4096];
        snprintf(mp, sizeof mp, "%.*s.bin", (int)(strlen(gp) - strlen(".golden")), gp);
        hekv_err err = {0};
        hekv_llama_golden *gold;
        hekv_llama_model *m;
        cr_assert_eq(hekv_llama_golden_load(gp, &gold, &err), HEKV_OK, "%s", err.msg);
        cr_assert_eq(hekv_llama_model_load(mp, &m, &err), HEKV_OK, "%s: %s", mp, err.msg);
        const hekv_llama_config *c = hekv_llama_model_config(m);
        cr_assert_eq(gold->vocab, c->vocab_size, "%s: V %d vs model %d", gp, gold->vocab,
                     c->vocab_size);
        cr_assert(gold->n_tokens <= c->seq_len, "%s: T %d > seq_len %d", gp, gold->n_tokens,
                  c->seq_len);
        const int T = gold->n_tokens, V = gold->vocab;
        double *ref = malloc((size_t)T * V * sizeof *ref);
        double *out = malloc((size_t)T * V * sizeof *out);
        for (size_t j = 0; j < (size_t)T * V; j++) ref[j] = gold->logits[j];
        double d[2];
        const hekv_llama_precision precs[2] = {HEKV_LLAMA_F64, HEKV_LLAMA_F32};
        for (int p = 0; p < 2; p++) {
            run_logits(m, precs[p], gold->tokens, T, NULL, out);
            d[p] = tm_max_abs_diff(out, ref, (size_t)T * V);
        }
        cr_log_info("%s: T %d V %d, max|C - PyTorch| f64 %.3g, f32 %.3g", gp, T, V, d[0], d[1]);
        cr_assert(d[0] <= TOL_GOLDEN || d[1] <= TOL_GOLDEN,
                  "%s: max|logits - golden| f64 %.3g, f32 %.3g > %.0e", gp, d[0], d[1],
                  TOL_GOLDEN);
        free(ref), free(out);
        hekv_llama_model_free(m);
        hekv_llama_golden_free(gold);
    }
    globfree(&g);
}

/* The golden loader itself, on a file written here from our own float64 logits. */
Test(models, golden_loader_roundtrip_and_errors) {
    char dir[64], path[128];
    tm_tmpdir(dir, sizeof dir);
    const int32_t hdr[7] = {8, 12, 1, 2, 1, 11, 6};
    hekv_llama_model *m = tm_synth_load(dir, hdr, 9);
    const int T = 5, V = 11;
    int32_t toks[5] = {1, 4, 7, 10, 0};
    double lg[5 * 11];
    run_logits(m, HEKV_LLAMA_F64, toks, T, NULL, lg);
    size_t size = 16 + 4 * T + 4 * T * V;
    unsigned char *b = malloc(size);
    int32_t head[3] = {1, T, V};
    memcpy(b, "HKGL", 4);
    memcpy(b + 4, head, 12);
    memcpy(b + 16, toks, 4 * T);
    for (int i = 0; i < T * V; i++) {
        float f = (float)lg[i];
        memcpy(b + 16 + 4 * T + 4 * i, &f, 4);
    }
    snprintf(path, sizeof path, "%s/g.golden", dir);
    tm_write(path, b, size);
    hekv_err err = {0};
    hekv_llama_golden *g;
    cr_assert_eq(hekv_llama_golden_load(path, &g, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(g->n_tokens, T);
    cr_assert_eq(g->vocab, V);
    cr_assert_eq(g->tokens[3], 10);
    cr_assert_float_eq(g->logits[7], (float)lg[7], 0);
    hekv_llama_golden_free(g);
    /* the same bytes from memory; every shorter prefix is a format error, never a crash */
    cr_assert_eq(hekv_llama_golden_parse(b, size, &g, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(g->tokens[3], 10);
    cr_assert_float_eq(g->logits[T * V - 1], (float)lg[T * V - 1], 0);
    hekv_llama_golden_free(g);
    for (size_t cut = 0; cut < size; cut += 7) {
        cr_assert_eq(hekv_llama_golden_parse(b, cut, &g, &err), HEKV_ERR_FORMAT, "cut %zu", cut);
        cr_assert_null(g);
    }
    cr_assert_eq(hekv_llama_golden_parse(NULL, 4, &g, &err), HEKV_ERR_ARG);
    /* a directory is not a golden file */
    cr_assert_eq(hekv_llama_golden_load(dir, &g, &err), HEKV_ERR_IO);
    cr_assert(strstr(err.msg, "directory") != NULL, "%s", err.msg);
    struct { const char *what; size_t off; int32_t val; size_t len; } bad[] = {
        {"magic", 0, 0x4c474b48 ^ 1, size},   /* "HKGL" with one bit flipped */
        {"version", 4, 2, size},
        {"T", 8, -1, size},
        {"size", 12, V + 1, size},
        {"tokens", 16 + 4, V, size},
        {"truncated", 0, 0x4c474b48, size - 3},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned char *c = malloc(size);
        memcpy(c, b, size);
        memcpy(c + bad[i].off, &bad[i].val, 4);
        tm_write(path, c, bad[i].len);
        g = (hekv_llama_golden *)1;
        err.msg[0] = 0;
        cr_assert_eq(hekv_llama_golden_load(path, &g, &err), HEKV_ERR_FORMAT, "%s", bad[i].what);
        cr_assert_null(g);
        cr_assert(strlen(err.msg) > 10, "%s: no message", bad[i].what);
        free(c);
    }
    free(b);
    hekv_llama_model_free(m);
    tm_rmtree(dir);
}

Test(models, sampler_greedy_multinomial_topp) {
    hekv_llama_sampler *s;
    hekv_err err = {0};
    double lg[8] = {0, 1, 5, 2, -1, 5, 0.5, 3};
    /* greedy: the first maximum */
    cr_assert_eq(hekv_llama_sampler_new(8, 0.0, 0.9, 7, &s, &err), HEKV_OK);
    cr_assert_eq(hekv_llama_sampler_sample(s, lg), 2);
    cr_assert_eq(hekv_llama_argmax(lg, 8), 2);
    hekv_llama_sampler_free(s);
    /* multinomial (top-p off): frequencies follow softmax(logits / T) */
    double flat[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int cnt[8] = {0};
    cr_assert_eq(hekv_llama_sampler_new(8, 1.0, 1.0, 7, &s, &err), HEKV_OK);
    for (int i = 0; i < 8000; i++) cnt[hekv_llama_sampler_sample(s, flat)]++;
    for (int i = 0; i < 8; i++) cr_assert(cnt[i] > 850 && cnt[i] < 1150, "token %d: %d", i, cnt[i]);
    hekv_llama_sampler_free(s);
    /* top-p 0.5 on {5, 5, 3, ...}: only the two tokens at 5 carry > 0.5 together */
    memset(cnt, 0, sizeof cnt);
    cr_assert_eq(hekv_llama_sampler_new(8, 1.0, 0.5, 9, &s, &err), HEKV_OK);
    for (int i = 0; i < 2000; i++) cnt[hekv_llama_sampler_sample(s, lg)]++;
    cr_assert_eq(cnt[2] + cnt[5], 2000, "top-p kept a token outside the nucleus");
    cr_assert(cnt[2] > 800 && cnt[5] > 800);
    hekv_llama_sampler_free(s);
    /* bad arguments */
    cr_assert_eq(hekv_llama_sampler_new(8, -1.0, 0.9, 1, &s, &err), HEKV_ERR_ARG);
    cr_assert_null(s);
    cr_assert_eq(hekv_llama_sampler_new(8, NAN, 0.9, 1, &s, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_llama_sampler_new(0, 1.0, 0.9, 1, &s, &err), HEKV_ERR_ARG);
    hekv_llama_sampler_free(NULL);
}

/* Seeds: each one a reproducible stream, and 0 one of its own (it used to be mapped to 1,
 * so --seed 0 and --seed 1 gave the same text). */
Test(models, sampler_seeds_are_distinct_and_reproducible) {
    const double flat[16] = {0};
    int a[4][64];
    const uint64_t seeds[4] = {0, 1, 0, HEKV_LLAMA_SEED_ZERO};
    for (int k = 0; k < 4; k++) {
        hekv_llama_sampler *s;
        cr_assert_eq(hekv_llama_sampler_new(16, 1.0, 1.0, seeds[k], &s, NULL), HEKV_OK);
        for (int i = 0; i < 64; i++) a[k][i] = hekv_llama_sampler_sample(s, flat);
        hekv_llama_sampler_free(s);
    }
    cr_assert(memcmp(a[0], a[1], sizeof a[0]) != 0, "seeds 0 and 1 give the same samples");
    cr_assert(memcmp(a[0], a[2], sizeof a[0]) == 0, "seed 0 is not reproducible");
    cr_assert(memcmp(a[0], a[3], sizeof a[0]) == 0, "seed 0 starts at HEKV_LLAMA_SEED_ZERO");
    /* and on a model, through generation */
    hekv_llama_model *m = tm_load_stories();
    hekv_llama_tokenizer *tok = tm_load_tok512();
    text_sink t0, t1, t0b;
    size_t n;
    generate_text(m, tok, HEKV_LLAMA_F32, "Once", 1.0, 0.9, 0, 40, &t0, &n);
    generate_text(m, tok, HEKV_LLAMA_F32, "Once", 1.0, 0.9, 1, 40, &t1, &n);
    generate_text(m, tok, HEKV_LLAMA_F32, "Once", 1.0, 0.9, 0, 40, &t0b, &n);
    cr_assert_str_neq(t0.buf, t1.buf, "seed 0 and seed 1 generate the same text");
    cr_assert_str_eq(t0.buf, t0b.buf, "seed 0 is not reproducible");
    hekv_llama_tokenizer_free(tok);
    hekv_llama_model_free(m);
}
