/* test_weights.c: the llama2.c checkpoint reader: stories260K's header and sizes, and every
 * malformed file (truncated, extra bytes, negative, zero or oversized fields, indivisible
 * heads, a v1 "ak42" export, NaN weights) is refused with HEKV_ERR_FORMAT and a message,
 * never a crash. */
#include "model_util.h"

Test(models, stories260k_header_and_layout) {
    hekv_llama_model *m = tm_load_stories();
    const hekv_llama_config *c = hekv_llama_model_config(m);
    cr_assert_eq(c->dim, 64);
    cr_assert_eq(c->hidden_dim, 172);
    cr_assert_eq(c->n_layers, 5);
    cr_assert_eq(c->n_heads, 8);
    cr_assert_eq(c->n_kv_heads, 4);
    cr_assert_eq(c->vocab_size, 512);
    cr_assert_eq(c->seq_len, 512);
    cr_assert_eq(c->shared_classifier, 1);
    cr_assert_eq(c->head_size, 8);
    cr_assert_eq(c->kv_dim, 32);
    cr_assert_eq(hekv_llama_config_file_size(c), 1056540u);
    const hekv_llama_weights *w = hekv_llama_model_weights(m);
    cr_assert_eq(w->wcls, w->token_embedding);
    /* layout: wk is [L][KVD][C] (GQA), so wo starts 2*L*KVD*C floats after wq ends */
    cr_assert_eq(w->wv - w->wk, 5 * 32 * 64);
    cr_assert_eq(w->wo - w->wq, 5 * 64 * 64 + 2 * 5 * 32 * 64);
    cr_assert_eq(w->rms_final - w->w3, 5 * 172 * 64);
    hekv_llama_model_free(m);
}

static void expect_model_error(const char *path, const void *data, size_t n, hekv_status want,
                               const char *needle) {
    tm_write(path, data, n);
    hekv_llama_model *m = (hekv_llama_model *)1;
    hekv_err err = {0};
    hekv_status s = hekv_llama_model_load(path, &m, &err);
    cr_assert_eq(s, want, "%s: got %s (%s)", needle, hekv_status_str(s), err.msg);
    cr_assert_null(m);
    cr_assert(strstr(err.msg, needle) != NULL, "message '%s' lacks '%s'", err.msg, needle);
}

Test(models, model_bad_files_are_format_errors) {
    char dir[64], path[128];
    tm_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.bin", dir);
    const int32_t hdr[7] = {16, 24, 2, 4, 2, 20, 8};
    size_t n;
    unsigned char *good = tm_synth_model(hdr, 3, &n);
    unsigned char *c = malloc(n + 16);

    tm_write(path, good, n);
    hekv_llama_model *m = NULL;
    hekv_err err = {0};
    cr_assert_eq(hekv_llama_model_load(path, &m, &err), HEKV_OK, "%s", err.msg);
    hekv_llama_model_free(m);

    /* sizes */
    expect_model_error(path, good, n - 4, HEKV_ERR_FORMAT, "truncated");
    expect_model_error(path, good, n - 1, HEKV_ERR_FORMAT, "truncated");
    expect_model_error(path, good, 100, HEKV_ERR_FORMAT, "truncated");
    expect_model_error(path, good, 27, HEKV_ERR_FORMAT, "shorter than the 28-byte");
    expect_model_error(path, good, 0, HEKV_ERR_FORMAT, "shorter than the 28-byte");
    memcpy(c, good, n);
    memset(c + n, 0, 8);
    expect_model_error(path, c, n + 8, HEKV_ERR_FORMAT, "extra bytes");
    /* a wrongly signed vocab_size: the size fits the other classifier layout */
    memcpy(c, good, n);
    int32_t v = -20;
    memcpy(c + 20, &v, 4);
    expect_model_error(path, c, n, HEKV_ERR_FORMAT, "other sign of vocab_size");

    /* header fields: negative, zero, too large, indivisible */
    struct { int field; int32_t val; const char *needle; } bad[] = {
        {0, -16, "dim = -16"},
        {0, 0, "dim = 0"},
        {1, -1, "hidden_dim = -1"},
        {2, 0, "n_layers = 0"},
        {2, 100000, "n_layers = 100000"},
        {3, -4, "n_heads = -4"},
        {4, 0, "n_kv_heads = 0"},
        {5, 0, "vocab_size = 0"},
        {5, 1 << 30, "vocab_size"},
        {6, -8, "seq_len = -8"},
        {6, 1 << 30, "seq_len"},
        {3, 5, "not a multiple of n_heads"},
        {4, 3, "not a multiple of n_kv_heads"},
        {3, 16, "odd"}, /* head_size 1 */
        {3, 32, "not a multiple of n_heads"}, /* more heads than dim */
        {0, 0x616b3432, "ak42"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memcpy(c, good, n);
        memcpy(c + 4 * bad[i].field, &bad[i].val, 4);
        expect_model_error(path, c, n, HEKV_ERR_FORMAT, bad[i].needle);
    }
    /* corrupted weights: NaN and infinity are named with their tensor */
    memcpy(c, good, n);
    float nanv = NAN, infv = INFINITY;
    memcpy(c + 28 + 4 * (20 * 16 + 2 * 16 + 5), &nanv, 4); /* inside wq */
    expect_model_error(path, c, n, HEKV_ERR_FORMAT, "tensor wq");
    memcpy(c, good, n);
    memcpy(c + n - 4, &infv, 4); /* last float: freq_cis (shared classifier) */
    expect_model_error(path, c, n, HEKV_ERR_FORMAT, "not finite");
    /* missing file, NULL arguments */
    cr_assert_eq(hekv_llama_model_load("/nonexistent/m.bin", &m, &err), HEKV_ERR_IO);
    cr_assert(strstr(err.msg, "/nonexistent/m.bin") != NULL, "%s", err.msg);
    cr_assert_eq(hekv_llama_model_load(NULL, &m, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_llama_model_load(path, NULL, &err), HEKV_ERR_ARG);
    hekv_llama_model_free(NULL); /* no-op */
    free(c), free(good);
    tm_rmtree(dir);
}

Test(models, model_random_corruption_never_crashes) {
    /* Random headers over a small file: always a status, never a crash or a huge read. */
    char dir[64], path[128];
    tm_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.bin", dir);
    const int32_t hdr[7] = {8, 12, 1, 2, 1, 10, 4};
    size_t n;
    unsigned char *good = tm_synth_model(hdr, 4, &n);
    test_rng r = test_rng_new(41);
    for (int trial = 0; trial < 200; trial++) {
        unsigned char *c = malloc(n);
        memcpy(c, good, n);
        int k = 1 + (int)test_below(&r, 4);
        for (int j = 0; j < k; j++) c[test_below(&r, 28)] = (unsigned char)test_below(&r, 256);
        size_t len = test_below(&r, 4) == 0 ? test_below(&r, n + 1) : n;
        tm_write(path, c, len);
        hekv_llama_model *m = NULL;
        hekv_err err = {0};
        hekv_status s = hekv_llama_model_load(path, &m, &err);
        if (s == HEKV_OK) {
            cr_assert_not_null(m);
            hekv_llama_model_free(m);
        } else {
            cr_assert_eq(s, HEKV_ERR_FORMAT, "trial %d: %s (%s)", trial, hekv_status_str(s),
                         err.msg);
            cr_assert_null(m);
            cr_assert(err.msg[0] != 0);
        }
        free(c);
    }
    free(good);
    tm_rmtree(dir);
}

/* The buffer entry point: the same model as from the file; any bytes give a status (never
 * a crash or a huge allocation); paths that are not regular files are I/O errors with a
 * message (a directory used to be "read" as a file of 2^63 bytes, /dev/zero as 0 bytes). */
Test(models, model_parse_from_memory_and_non_files, .timeout = 30) {
    char dir[64], path[128];
    tm_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.bin", dir);
    const int32_t hdr[7] = {8, 12, 2, 2, 1, -10, 4};
    size_t n;
    unsigned char *good = tm_synth_model(hdr, 5, &n);
    tm_write(path, good, n);
    hekv_llama_model *a = NULL, *b = NULL;
    hekv_err err = {0};
    cr_assert_eq(hekv_llama_model_load(path, &a, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_llama_model_parse(good, n, &b, &err), HEKV_OK, "%s", err.msg);
    const hekv_llama_config *ca = hekv_llama_model_config(a), *cb = hekv_llama_model_config(b);
    cr_assert(ca->dim == cb->dim && ca->vocab_size == cb->vocab_size && !cb->shared_classifier);
    cr_assert_eq(memcmp(hekv_llama_model_weights(a)->wcls, hekv_llama_model_weights(b)->wcls,
                        (size_t)cb->vocab_size * (size_t)cb->dim * 4),
                 0);
    cr_assert_eq(memcmp(hekv_llama_model_weights(b)->token_embedding, good + 28, 4 * 8), 0);
    hekv_llama_model_free(a);
    hekv_llama_model_free(b);
    /* prefixes and random bytes */
    for (size_t cut = 0; cut < n; cut += 13) {
        cr_assert_eq(hekv_llama_model_parse(good, cut, &b, &err), HEKV_ERR_FORMAT, "cut %zu", cut);
        cr_assert_null(b);
    }
    test_rng r = test_rng_new(43);
    unsigned char junk[512];
    for (int trial = 0; trial < 200; trial++) {
        size_t len = 28 + test_below(&r, sizeof junk - 28);
        for (size_t i = 0; i < len; i++) junk[i] = (unsigned char)test_below(&r, 256);
        if (trial % 2) memcpy(junk, hdr, 28); /* a plausible header over junk */
        hekv_status s = hekv_llama_model_parse(junk, len, &b, &err);
        cr_assert(s == HEKV_ERR_FORMAT || s == HEKV_OK, "trial %d: %s", trial, hekv_status_str(s));
        hekv_llama_model_free(b);
    }
    cr_assert_eq(hekv_llama_model_parse(NULL, 8, &b, &err), HEKV_ERR_ARG);
    /* not regular files */
    cr_assert_eq(hekv_llama_model_load(dir, &b, &err), HEKV_ERR_IO);
    cr_assert(strstr(err.msg, "directory") != NULL, "%s", err.msg);
    cr_assert_eq(hekv_llama_model_load("/dev/zero", &b, &err), HEKV_ERR_IO);
    cr_assert(strstr(err.msg, "character device") != NULL, "%s", err.msg);
    cr_assert_null(b);
    free(good);
    tm_rmtree(dir);
}
