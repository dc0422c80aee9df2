/* test_calib.c: calibration ranges and their "hekv-calib 1" sidecar (round trip, atomic
 * save, rejection of corrupted files and of paths that are not regular files). The
 * "hekv-approx 1" file and the simulation hook are test_approx.c. */
#include <sys/stat.h>

#include "model_util.h"

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
    /* a short file declaring a huge model is refused before the allocation it would need */
    expect_calib_error("hekv-calib 1\nmodel dim 8192 hidden_dim 8 n_layers 1024 n_heads 4096 "
                       "n_kv_heads 1 vocab_size 3 seq_len 1\n", NULL, "more than");
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

/* A calibration of a small config with every range filled in (no model needed). */
static hekv_llama_calib *filled_calib(const hekv_llama_config *cfg) {
    hekv_llama_calib *c = NULL;
    cr_assert_eq(hekv_llama_calib_new(cfg, &c, NULL), HEKV_OK);
    for (int l = 0; l < cfg->n_layers; l++) {
        hekv_llama_layer_calib *lc = hekv_llama_calib_layer(c, l);
        lc->rmsnorm_att = lc->rmsnorm_ffn = (hekv_llama_range){0.5, 2 + l};
        lc->softmax_exp_shifted = (hekv_llama_range){-9, 0};
        lc->softmax_exp_unshifted = (hekv_llama_range){-3, 6};
        lc->softmax_sum_shifted = lc->softmax_sum_unshifted = (hekv_llama_range){1, 7};
        lc->silu = (hekv_llama_range){-4, 3};
        for (int h = 0; h < cfg->n_heads; h++) lc->attn_score[h] = (hekv_llama_range){-3, 6};
    }
    hekv_llama_calib_final(c)->rmsnorm_final = (hekv_llama_range){0.25, 4};
    hekv_llama_calib_final(c)->logits = (hekv_llama_range){-12, 15};
    hekv_llama_calib_add_tokens(c, 5);
    return c;
}

/* The sidecar is written by hekv_file_write: a new file renamed over the old one, never the
 * old file truncated in place (a second link to the old file keeps its bytes, which
 * fopen("w") would have overwritten). Loading reads regular files only: a directory or a
 * FIFO is an I/O error with a message, at once (a FIFO must not block the reader). */
Test(models, calib_save_is_atomic_and_load_refuses_non_files, .timeout = 20) {
    hekv_llama_config cfg = {0};
    cfg.dim = 8, cfg.hidden_dim = 16, cfg.n_layers = 2, cfg.n_heads = 2, cfg.n_kv_heads = 1;
    cfg.vocab_size = 32, cfg.seq_len = 8, cfg.head_size = 4, cfg.kv_dim = 4;
    hekv_llama_calib *c = filled_calib(&cfg);
    char dir[64], path[128], link_path[128], fifo[128];
    tm_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.calib", dir);
    snprintf(link_path, sizeof link_path, "%s/old.calib", dir);
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    tm_write(path, "old contents\n", 13);
    cr_assert_eq(link(path, link_path), 0);
    hekv_err err = {0};
    cr_assert_eq(hekv_llama_calib_save(c, path, &err), HEKV_OK, "%s", err.msg);
    size_t n;
    unsigned char *old = tm_read(link_path, &n);
    cr_assert(n == 13 && !memcmp(old, "old contents\n", 13),
              "the old file was overwritten in place, not replaced");
    free(old);
    hekv_llama_calib *back = NULL;
    cr_assert_eq(hekv_llama_calib_load(path, &cfg, &back, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_llama_calib_tokens(back), 5);
    hekv_llama_calib_free(back);
    /* not regular files */
    cr_assert_eq(hekv_llama_calib_load(dir, &cfg, &back, &err), HEKV_ERR_IO);
    cr_assert(strstr(err.msg, "directory") != NULL, "%s", err.msg);
    cr_assert_null(back);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    cr_assert_eq(hekv_llama_calib_load(fifo, &cfg, &back, &err), HEKV_ERR_IO);
    cr_assert(strstr(err.msg, "FIFO") != NULL, "%s", err.msg);
    cr_assert_eq(hekv_llama_calib_load("/dev/zero", &cfg, &back, &err), HEKV_ERR_IO);
    cr_assert(strstr(err.msg, "device") != NULL, "%s", err.msg);
    /* saving onto a directory fails and leaves it alone */
    cr_assert_eq(hekv_llama_calib_save(c, dir, &err), HEKV_ERR_IO);
    struct stat sb;
    cr_assert(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode));
    hekv_llama_calib_free(c);
    tm_rmtree(dir);
}
