/* test_calib.c: calibration ranges and their "hekv-calib 1" sidecar (round trip, rejection
 * of corrupted files), Chebyshev evaluation and fitting, the "hekv-approx 1" file (round
 * trip, rejection), and FHE simulation with a Chebyshev exp that must track the exact
 * forward closely. */
#include "model_util.h"

#define TOL_CHEB_FIT 1e-13     /* exp on [-1, 1], 20 coefficients */
#define TOL_CHEB_EXP_LOGITS 1e-8 /* stories260K logits with the fitted exp */

static const char *calib_text =
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the "
    "park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\n"
    "Lily's mom said, \"Lily, let's go to the park.\" Lily was sad and didn't know what to do.";

static hekv_llama_calib *calibrate_stories(hekv_llama_model *m, hekv_llama_tokenizer *t,
                                           int threads) {
    hekv_llama_calib *cal;
    hekv_err err = {0};
    cr_assert_eq(hekv_llama_calib_new(hekv_llama_model_config(m), &cal, &err), HEKV_OK);
    hekv_llama_eval_opts o = {0, threads, 0, HEKV_LLAMA_F64, NULL, cal, 0, 0};
    hekv_llama_eval_result r;
    cr_assert_eq(hekv_llama_eval_text(m, t, calib_text, strlen(calib_text), &o, &r, &err),
                 HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_llama_calib_tokens(cal), r.tokens);
    return cal;
}

static void assert_range_eq(const hekv_llama_range *a, const hekv_llama_range *b,
                            const char *what, int l) {
    cr_assert(a->lo == b->lo && a->hi == b->hi, "layer %d %s: [%.17g, %.17g] vs [%.17g, %.17g]",
              l, what, a->lo, a->hi, b->lo, b->hi);
}

Test(models, calib_roundtrip) {
    hekv_llama_model *m = tm_load_stories();
    hekv_llama_tokenizer *t = tm_load_tok512();
    hekv_llama_calib *cal = calibrate_stories(m, t, 1);
    const hekv_llama_config *c = hekv_llama_model_config(m);
    /* plausibility of what was recorded */
    for (int l = 0; l < c->n_layers; l++) {
        hekv_llama_layer_calib *lc = hekv_llama_calib_layer(cal, l);
        cr_assert(lc->rmsnorm_att.lo > 0 && lc->rmsnorm_att.lo <= lc->rmsnorm_att.hi);
        cr_assert_eq(lc->softmax_exp_shifted.hi, 0.0, "the max-subtracted exp argument peaks at 0");
        cr_assert(lc->softmax_exp_shifted.lo < 0);
        cr_assert(lc->softmax_sum_shifted.lo >= 1.0, "sum exp(s - max) >= 1");
        cr_assert(lc->softmax_sum_shifted.hi <= 512.0);
        cr_assert(lc->silu.lo < 0 && lc->silu.hi > 0);
        for (int h = 0; h < c->n_heads; h++) {
            cr_assert(lc->attn_score[h].lo >= lc->softmax_exp_unshifted.lo);
            cr_assert(lc->attn_score[h].hi <= lc->softmax_exp_unshifted.hi);
        }
    }
    cr_assert_null(hekv_llama_calib_layer(cal, c->n_layers));
    /* threads do not change the result */
    hekv_llama_calib *cal2 = calibrate_stories(m, t, 2);
    /* save, load, compare exactly */
    char dir[64], path[128];
    tm_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.calib", dir);
    hekv_err err = {0};
    cr_assert_eq(hekv_llama_calib_save(cal, path, &err), HEKV_OK, "%s", err.msg);
    hekv_llama_calib *back;
    cr_assert_eq(hekv_llama_calib_load(path, c, &back, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_llama_calib_tokens(back), hekv_llama_calib_tokens(cal));
    for (int l = 0; l < c->n_layers; l++) {
        hekv_llama_layer_calib *a = hekv_llama_calib_layer(cal, l);
        hekv_llama_layer_calib *b = hekv_llama_calib_layer(back, l);
        hekv_llama_layer_calib *d = hekv_llama_calib_layer(cal2, l);
        const hekv_llama_range *ra[] = {&a->rmsnorm_att, &a->rmsnorm_ffn, &a->softmax_exp_shifted,
                                        &a->softmax_exp_unshifted, &a->softmax_sum_shifted,
                                        &a->softmax_sum_unshifted, &a->silu};
        const hekv_llama_range *rb[] = {&b->rmsnorm_att, &b->rmsnorm_ffn, &b->softmax_exp_shifted,
                                        &b->softmax_exp_unshifted, &b->softmax_sum_shifted,
                                        &b->softmax_sum_unshifted, &b->silu};
        const hekv_llama_range *rd[] = {&d->rmsnorm_att, &d->rmsnorm_ffn, &d->softmax_exp_shifted,
                                        &d->softmax_exp_unshifted, &d->softmax_sum_shifted,
                                        &d->softmax_sum_unshifted, &d->silu};
        for (int e = 0; e < 7; e++) {
            assert_range_eq(ra[e], rb[e], "entry", l);
            assert_range_eq(ra[e], rd[e], "entry (2 threads)", l);
        }
        for (int h = 0; h < c->n_heads; h++)
            assert_range_eq(&a->attn_score[h], &b->attn_score[h], "score", l);
    }
    assert_range_eq(&hekv_llama_calib_final(cal)->logits, &hekv_llama_calib_final(back)->logits,
                    "logits", -1);
    assert_range_eq(&hekv_llama_calib_final(cal)->rmsnorm_final,
                    &hekv_llama_calib_final(back)->rmsnorm_final, "rmsnorm_final", -1);
    /* an empty calibration cannot be saved */
    hekv_llama_calib *empty;
    cr_assert_eq(hekv_llama_calib_new(c, &empty, &err), HEKV_OK);
    cr_assert_eq(hekv_llama_calib_save(empty, path, &err), HEKV_ERR_ARG);
    cr_assert(strstr(err.msg, "no data") != NULL, "%s", err.msg);
    /* float32 states cannot record */
    hekv_llama_state *st;
    cr_assert_eq(hekv_llama_state_new(m, HEKV_LLAMA_F32, &st, &err), HEKV_OK);
    cr_assert_eq(hekv_llama_state_set_calib(st, empty, &err), HEKV_ERR_ARG);
    hekv_llama_state_free(st);
    hekv_llama_calib_free(empty);
    hekv_llama_calib_free(back);
    hekv_llama_calib_free(cal2);
    hekv_llama_calib_free(cal);
    hekv_llama_tokenizer_free(t);
    hekv_llama_model_free(m);
    tm_rmtree(dir);
}

/* Replaces the first occurrence of from in s by to (s has room). */
static void replace1(char *s, const char *from, const char *to) {
    char *p = strstr(s, from);
    cr_assert_not_null(p, "'%s' not in the calibration text", from);
    size_t fl = strlen(from), tl = strlen(to);
    memmove(p + tl, p + fl, strlen(p + fl) + 1);
    memcpy(p, to, tl);
}

/* Replaces the whole line that starts with prefix by line (no newline in either). */
static void replace_line(char *s, const char *prefix, const char *line) {
    char *p = strstr(s, prefix);
    cr_assert_not_null(p, "'%s' not in the calibration text", prefix);
    char *e = strchr(p, '\n');
    memmove(p + strlen(line), e, strlen(e) + 1);
    memcpy(p, line, strlen(line));
}

static void expect_calib_error(const char *text, const hekv_llama_config *expect,
                               const char *needle) {
    hekv_llama_calib *c = (hekv_llama_calib *)1;
    hekv_err err = {0};
    hekv_status s = hekv_llama_calib_parse(text, strlen(text), expect, &c, &err);
    cr_assert_eq(s, HEKV_ERR_FORMAT, "expected a format error for '%s', got %s", needle,
                 hekv_status_str(s));
    cr_assert_null(c);
    cr_assert(strstr(err.msg, needle) != NULL, "message '%s' lacks '%s'", err.msg, needle);
}

Test(models, calib_corrupted_files_are_rejected) {
    char dir[64], path[128];
    tm_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/x.calib", dir);
    /* A small model's calibration, from a synthetic checkpoint and random tokens. */
    const int32_t hdr[7] = {8, 12, 2, 2, 1, 16, 8};
    hekv_llama_model *m = tm_synth_load(dir, hdr, 12);
    const hekv_llama_config *cfg = hekv_llama_model_config(m);
    hekv_llama_calib *cal;
    hekv_llama_state *st;
    hekv_err err = {0};
    cr_assert_eq(hekv_llama_calib_new(cfg, &cal, &err), HEKV_OK);
    cr_assert_eq(hekv_llama_state_new(m, HEKV_LLAMA_F64, &st, &err), HEKV_OK);
    cr_assert_eq(hekv_llama_state_set_calib(st, cal, &err), HEKV_OK);
    for (int p = 0; p < 8; p++)
        cr_assert_eq(hekv_llama_forward(st, (p * 5) % 16, p, NULL, &err), HEKV_OK);
    cr_assert_eq(hekv_llama_calib_save(cal, path, &err), HEKV_OK, "%s", err.msg);
    size_t n;
    char *good = (char *)tm_read(path, &n);
    hekv_llama_calib *back;
    cr_assert_eq(hekv_llama_calib_parse(good, n, cfg, &back, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_llama_calib_tokens(back), 8);
    hekv_llama_calib_free(back);
    cr_assert(strncmp(good, "hekv-calib 1\n", 13) == 0);

    char *t = malloc(n + 256);
#define VARIANT(stmt, needle)          \
    do {                               \
        memcpy(t, good, n + 1);        \
        stmt;                          \
        expect_calib_error(t, cfg, needle); \
    } while (0)
    VARIANT(t[n - 4] = 0, "no 'end'");                         /* truncated: "end\n" gone */
    VARIANT(strchr(t + n / 2, '\n')[1] = 0, "no 'end'");        /* cut at a line end */
    VARIANT(t[n / 2] = 0, "calibration line");                 /* cut inside a line */
    VARIANT(t[0] = 0, "empty");
    VARIANT(replace1(t, "hekv-calib 1", "hekv-calib 2"), "version 1");
    VARIANT(replace1(t, "hekv-calib 1", "hello"), "not the header");
    VARIANT(replace1(t, "layer 1 silu", "layer 1 rmsnorm_att"), "appears twice");
    VARIANT(replace1(t, "layer 0 attn_score 1", "layer 0 attn_score 0"), "appears twice");
    VARIANT(replace1(t, "layer 1 silu", "layer 9 silu"), "layer <0..1>");
    VARIANT(replace1(t, "layer 1 silu", "layer 1 sulu"), "unknown layer entry");
    VARIANT(replace1(t, "layer 0 attn_score 1", "layer 0 attn_score 2"), "head 0..1");
    VARIANT(replace1(t, "final logits", "final lagits"), "final rmsnorm_final|logits");
    VARIANT(replace1(t, "tokens 8", "tokens -8"), "tokens");
    VARIANT(replace1(t, "tokens 8", "bogus 8"), "unknown keyword");
    VARIANT(replace1(t, "dim 8", "dim -8"), "dim");
    VARIANT(replace1(t, "n_heads 2", "n_heads 3"), "multiple of n_heads");
    VARIANT(replace_line(t, "layer 0 silu ", "layer 0 silu nan 1"), "finite");
    VARIANT(replace_line(t, "layer 0 silu ", "layer 0 silu 1e300 0"), "min");
    VARIANT(replace_line(t, "layer 0 silu ", "layer 0 silu 0 1 2"), "expected 5 fields");
    VARIANT(replace_line(t, "layer 1 rmsnorm_att ", "layer 1 rmsnorm_att -1 5"), "mean square");
    VARIANT(replace_line(t, "layer 1 softmax_sum_shifted ", "layer 1 softmax_sum_shifted 0 5"),
            "sum of exps");
    VARIANT(replace1(t, "layer 1 silu", "# layer 1 silu"), "lacks 'layer 1 silu'");
    VARIANT(replace1(t, "layer 0 attn_score 1", "#"), "lacks 'layer 0 attn_score 1'");
    VARIANT(replace1(t, "final logits", "#"), "lacks 'final logits'");
    VARIANT(replace1(t, "tokens 8", "#"), "no 'tokens'");
    VARIANT(replace1(t, "end\n", "end\nlayer 0 silu 0 1\n"), "after 'end'");
    VARIANT(replace1(t, "model dim", "layer 0 silu 0 1\nmodel dim"), "before the 'model'");
#undef VARIANT
    /* another model's calibration */
    hekv_llama_config other = *cfg;
    other.seq_len = 16;
    expect_calib_error(good, &other, "different model");
    /* comments, blank lines and CRLF are fine */
    memcpy(t, good, n + 1);
    replace1(t, "tokens 8\n", "tokens 8\r\n\n# a comment\n   \n");
    cr_assert_eq(hekv_llama_calib_parse(t, strlen(t), cfg, &back, &err), HEKV_OK, "%s", err.msg);
    hekv_llama_calib_free(back);
    /* binary garbage and a missing file */
    expect_calib_error("hekv-calib 1\n\0\0", cfg, "no 'model'"); /* (strlen stops at the NUL) */
    cr_assert_eq(hekv_llama_calib_parse("hekv-calib 1\n\0x", 15, cfg, &back, &err),
                 HEKV_ERR_FORMAT);
    cr_assert_eq(hekv_llama_calib_load("/nonexistent.calib", cfg, &back, &err), HEKV_ERR_IO);
    free(t), free(good);
    hekv_llama_state_free(st);
    hekv_llama_calib_free(cal);
    hekv_llama_model_free(m);
    tm_rmtree(dir);
}

/* ---- Chebyshev ---------------------------------------------------------------------- */

static double f_exp(double x, void *c) { (void)c; return exp(x); }

Test(models, cheb_eval_and_fit) {
    /* T_2 on [2, 6]: u = (2x - 8) / 4, T_2 = 2u^2 - 1 */
    const double c2[3] = {0, 0, 1};
    for (double x = 2; x <= 6; x += 0.25) {
        double u = (2 * x - 8) / 4;
        cr_assert_float_eq(hekv_llama_cheb_eval(c2, 3, 2, 6, x), 2 * u * u - 1, 1e-15);
    }
    /* clamping: outside the interval the series holds its end values */
    cr_assert_float_eq(hekv_llama_cheb_eval(c2, 3, 2, 6, 100.0), 1.0, 1e-15);
    cr_assert_float_eq(hekv_llama_cheb_eval(c2, 3, 2, 6, -100.0), 1.0, 1e-15);
    const double c1[2] = {0.5, 2};
    cr_assert_float_eq(hekv_llama_cheb_eval(c1, 2, -1, 1, 7.0), 2.5, 1e-15);
    cr_assert_float_eq(hekv_llama_cheb_eval(c1, 2, -1, 1, -7.0), -1.5, 1e-15);
    cr_assert(isnan(hekv_llama_cheb_eval(c1, 2, -1, 1, NAN)));
    /* interpolation of exp converges to machine precision */
    double c[20];
    cr_assert_eq(hekv_llama_cheb_fit(c, 20, -1, 1, f_exp, NULL, NULL), HEKV_OK);
    double worst = 0;
    for (int i = 0; i <= 1000; i++) {
        double x = -1 + 2.0 * i / 1000;
        double e = fabs(hekv_llama_cheb_eval(c, 20, -1, 1, x) - exp(x));
        if (e > worst) worst = e;
    }
    cr_log_info("cheb exp on [-1,1], 20 terms: max error %.3g", worst);
    cr_assert(worst <= TOL_CHEB_FIT, "fit error %.3g", worst);
    cr_assert_eq(hekv_llama_cheb_fit(c, 0, -1, 1, f_exp, NULL, NULL), HEKV_ERR_ARG);
    cr_assert_eq(hekv_llama_cheb_fit(c, 4, 1, 1, f_exp, NULL, NULL), HEKV_ERR_ARG);
    for (int f = 0; f < HEKV_LLAMA_FN_COUNT; f++)
        cr_assert_not_null(hekv_llama_fn_name((hekv_llama_fn)f));
    cr_assert_float_eq(hekv_llama_fn_exact(HEKV_LLAMA_FN_INVSQRT, 4.0), 0.5, 0);
}

static void expect_approx_error(const char *text, const char *needle) {
    hekv_llama_chebset *s = (hekv_llama_chebset *)1;
    hekv_err err = {0};
    cr_assert_eq(hekv_llama_chebset_parse(text, strlen(text), &s, &err), HEKV_ERR_FORMAT,
                 "expected a format error: %s", needle);
    cr_assert_null(s);
    cr_assert(strstr(err.msg, needle) != NULL, "message '%s' lacks '%s'", err.msg, needle);
}

Test(models, approx_file_roundtrip_and_errors) {
    const char *ok = "hekv-approx 1\n# comment\nexp -8 0 3 1.5 0.25 # trailing comment\n"
                     "  -0.125\nsilu -4 4 2\n 0 2\nend\n";
    hekv_llama_chebset *s;
    hekv_err err = {0};
    cr_assert_eq(hekv_llama_chebset_parse(ok, strlen(ok), &s, &err), HEKV_OK, "%s", err.msg);
    double lo, hi;
    const double *c;
    int n;
    cr_assert(hekv_llama_chebset_get(s, HEKV_LLAMA_FN_EXP, &lo, &hi, &c, &n));
    cr_assert(lo == -8 && hi == 0 && n == 3 && c[0] == 1.5 && c[1] == 0.25 && c[2] == -0.125);
    cr_assert(!hekv_llama_chebset_get(s, HEKV_LLAMA_FN_RECIP, NULL, NULL, NULL, NULL));
    hekv_llama_approx hook;
    hekv_llama_chebset_hook(s, &hook);
    cr_assert_not_null(hook.exp);
    cr_assert_null(hook.recip, "absent functions stay exact (NULL)");
    cr_assert_null(hook.invsqrt);
    cr_assert_not_null(hook.silu);
    cr_assert_float_eq(hook.silu(1.0, hook.ctx), 0.5, 1e-15); /* 0 + 2 T_1(1/4) */
    /* save / load round trip */
    char dir[64], path[128];
    tm_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/a.approx", dir);
    cr_assert_eq(hekv_llama_chebset_save(s, path, &err), HEKV_OK, "%s", err.msg);
    hekv_llama_chebset *b;
    cr_assert_eq(hekv_llama_chebset_load(path, &b, &err), HEKV_OK, "%s", err.msg);
    const double *cb;
    cr_assert(hekv_llama_chebset_get(b, HEKV_LLAMA_FN_SILU, &lo, &hi, &cb, &n));
    cr_assert(lo == -4 && hi == 4 && n == 2 && cb[1] == 2);
    hekv_llama_chebset_free(b);
    hekv_llama_chebset_free(s);

    expect_approx_error("", "not the header");
    expect_approx_error("hekv-approx 2\nend\n", "version 1");
    expect_approx_error("hekv-approx 1\nexp -1 1 3 1 2\n", "ends early");
    expect_approx_error("hekv-approx 1\nexp -1 1 3 1 2 3\n", "no 'end'");
    expect_approx_error("hekv-approx 1\nexp 1 -1 1 1\nend\n", "LO < HI");
    expect_approx_error("hekv-approx 1\nexp -1 1 0\nend\n", "count");
    expect_approx_error("hekv-approx 1\nexp -1 1 2.5 1 1\nend\n", "count");
    expect_approx_error("hekv-approx 1\nexp -1 1 99999 1\nend\n", "count");
    expect_approx_error("hekv-approx 1\nexp -1 1 2 1 nan\nend\n", "not a finite");
    expect_approx_error("hekv-approx 1\nexp -1 inf 2 1 1\nend\n", "HI");
    expect_approx_error("hekv-approx 1\ncos -1 1 1 1\nend\n", "not a function name");
    expect_approx_error("hekv-approx 1\nexp -1 1 1 1\nexp -1 1 1 1\nend\n", "second entry");
    expect_approx_error("hekv-approx 1\nend\nexp -1 1 1 1\n", "after 'end'");
    cr_assert_eq(hekv_llama_chebset_load("/nonexistent.approx", &s, &err), HEKV_ERR_IO);
    tm_rmtree(dir);
}

/* FHE simulation: exp replaced by a Chebyshev series read from a file. */
Test(models, approx_cheb_exp_file_tracks_exact) {
    hekv_llama_model *m = tm_load_stories();
    const int n = 32, V = 512;
    int toks[32];
    test_rng r = test_rng_new(51);
    for (int i = 0; i < n; i++) toks[i] = (int)test_below(&r, V);
    /* softmax's exp sees s - max(s) <= 0. hekv calibrate finds stories260K going down to
     * about -270, but below -40 the clamped series gives ~exp(-40) = 4e-18, which is as
     * good as the true value next to the max's weight of 1. */
    const double lo = -40, hi = 0;
    double c[80];
    hekv_err err = {0};
    cr_assert_eq(hekv_llama_cheb_fit(c, 80, lo, hi, f_exp, NULL, &err), HEKV_OK);
    /* Write the file by hand (the documented format), load it through the public path. */
    char dir[64], path[128];
    tm_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/exp.approx", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "hekv-approx 1\n# exp on [%g, %g], 80 Chebyshev coefficients\nexp %g %g 80\n", lo,
            hi, lo, hi);
    for (int k = 0; k < 80; k++) fprintf(f, "%.17g%s", c[k], k % 5 == 4 ? "\n" : " ");
    fprintf(f, "end\n");
    fclose(f);
    hekv_llama_chebset *s;
    cr_assert_eq(hekv_llama_chebset_load(path, &s, &err), HEKV_OK, "%s", err.msg);
    hekv_llama_approx hook;
    hekv_llama_chebset_hook(s, &hook);

    double *exact = malloc((size_t)n * V * sizeof *exact);
    double *appr = malloc((size_t)n * V * sizeof *appr);
    const hekv_llama_approx *hooks[2] = {NULL, &hook};
    double *outs[2] = {exact, appr};
    for (int h = 0; h < 2; h++) {
        hekv_llama_state *st;
        cr_assert_eq(hekv_llama_state_new(m, HEKV_LLAMA_F64, &st, &err), HEKV_OK);
        for (int t = 0; t < n; t++) {
            cr_assert_eq(hekv_llama_forward(st, toks[t], t, hooks[h], &err), HEKV_OK);
            memcpy(outs[h] + (size_t)t * V, hekv_llama_state_logits(st), V * sizeof(double));
        }
        hekv_llama_state_free(st);
    }
    double d = tm_max_abs_diff(exact, appr, (size_t)n * V);
    cr_log_info("Chebyshev exp (80 terms on [-40, 0]) vs exact: logits max|diff| %.3g (log2 %.1f)",
                d, log2(d));
    cr_assert(d <= TOL_CHEB_EXP_LOGITS, "max|diff| %.3g > %.0e", d, TOL_CHEB_EXP_LOGITS);
    cr_assert(d > 0, "the hook was not used");

    /* A crude 4-term exp visibly changes the logits: the hook is really in the loop. */
    double c4[4];
    cr_assert_eq(hekv_llama_cheb_fit(c4, 4, lo, hi, f_exp, NULL, &err), HEKV_OK);
    cr_assert_eq(hekv_llama_chebset_set(s, HEKV_LLAMA_FN_EXP, lo, hi, c4, 4, &err), HEKV_OK);
    hekv_llama_state *st;
    cr_assert_eq(hekv_llama_state_new(m, HEKV_LLAMA_F64, &st, &err), HEKV_OK);
    for (int t = 0; t < n; t++)
        cr_assert_eq(hekv_llama_forward(st, toks[t], t, &hook, &err), HEKV_OK);
    double d4 = tm_max_abs_diff(exact + (size_t)(n - 1) * V, hekv_llama_state_logits(st), V);
    cr_assert(d4 > 1e-3, "a 4-term exp should be far off, got %.3g", d4);
    hekv_llama_state_free(st);
    free(exact), free(appr);
    hekv_llama_chebset_free(s);
    hekv_llama_model_free(m);
    tm_rmtree(dir);
}
