/* model_util.h: helpers shared by the models test suites: loading stories260K from the
 * shared data folder (skipping, never passing, when it is absent), temporary folders under
 * /tmp, and a synthetic llama2.c checkpoint builder for format tests. Test-only code. */
#ifndef HEKV_TEST_MODEL_UTIL_H
#define HEKV_TEST_MODEL_UTIL_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hekv/llama.h"
#include "test/util.h"

/* Relative to the repository root (tests run from there; CI has shared/ beside the clone). */
#define TM_STORIES_DIR "../shared/data/models/stories260K/"
#define TM_STORIES_BIN TM_STORIES_DIR "stories260K.bin"
#define TM_STORIES_TOK TM_STORIES_DIR "tok512.bin"

/* The greedy continuation published in llama2.c doc/stories260K.md (first sentences). */
#define TM_STORIES_GREEDY                                                                     \
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the " \
    "park. One day, she saw a big, red ball."
/* Its seeded sample (-t 1.0 -p 0.9 -s 133742, empty prompt), first sentences. */
#define TM_STORIES_SEEDED                                                                     \
    "Once upon a time, there was a little boy named Timmy. Timmy loved to play with his toys " \
    "and eat sandwiches. One day, Timmy's mom told him it was time to rest for a while."

static inline hekv_llama_model *tm_load_stories(void) {
    if (access(TM_STORIES_BIN, R_OK) != 0 || access(TM_STORIES_TOK, R_OK) != 0)
        cr_skip_test("stories260K is not at %s (run the tests from the repository root with "
                     "shared/ beside it)",
                     TM_STORIES_DIR);
    hekv_llama_model *m = NULL;
    hekv_err err = {0};
    hekv_status s = hekv_llama_model_load(TM_STORIES_BIN, &m, &err);
    cr_assert_eq(s, HEKV_OK, "loading stories260K: %s", err.msg);
    return m;
}

static inline hekv_llama_tokenizer *tm_load_tok512(void) {
    hekv_llama_tokenizer *t = NULL;
    hekv_err err = {0};
    if (access(TM_STORIES_TOK, R_OK) != 0)
        cr_skip_test("tokenizer %s is absent", TM_STORIES_TOK);
    hekv_status s = hekv_llama_tokenizer_load(TM_STORIES_TOK, 512, &t, &err);
    cr_assert_eq(s, HEKV_OK, "loading tok512: %s", err.msg);
    return t;
}

/* A fresh folder under /tmp for this test; tm_rmtree removes it at the end of a passing
 * test (a failing one leaves it for inspection). */
static inline const char *tm_tmpdir(char *buf, size_t n) {
    snprintf(buf, n, "/tmp/hekv_models_XXXXXX");
    cr_assert_not_null(mkdtemp(buf), "mkdtemp failed");
    return buf;
}

/* Removes a flat folder made by tm_tmpdir (the tests write no subfolders). */
static inline void tm_rmtree(const char *dir) {
    if (strncmp(dir, "/tmp/hekv_models_", 17) != 0) return;
    DIR *d = opendir(dir);
    if (!d) return;
    char p[1024];
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        remove(p);
    }
    closedir(d);
    rmdir(dir);
}

static inline void tm_write(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot create %s", path);
    cr_assert_eq(fwrite(data, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

static inline unsigned char *tm_read(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len + 1);
    cr_assert_eq(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    b[len] = 0;
    *n = (size_t)len;
    return b;
}

/* A checkpoint with header hdr (as stored: vocab_size may be negative) and random weights
 * (norm weights near 1, matrices in +-0.3). Returns malloc'd bytes and their count. */
static inline unsigned char *tm_synth_model(const int32_t hdr[7], uint64_t salt, size_t *n) {
    hekv_llama_config c;
    cr_assert_eq(hekv_llama_config_from_header(&c, hdr, NULL), HEKV_OK);
    size_t size = (size_t)hekv_llama_config_file_size(&c);
    unsigned char *b = malloc(size);
    cr_assert_not_null(b);
    memcpy(b, hdr, 28);
    float *w = (float *)(b + 28);
    size_t nf = (size_t)(size - 28) / 4;
    test_rng r = test_rng_new(salt);
    for (size_t i = 0; i < nf; i++) w[i] = (float)test_uniform(&r, -0.3, 0.3);
    /* Norm weights near 1: rms_att and rms_ffn and rms_final (positions from the layout). */
    size_t C = (size_t)c.dim, L = (size_t)c.n_layers, V = (size_t)c.vocab_size;
    size_t KVD = (size_t)c.kv_dim, H = (size_t)c.hidden_dim;
    size_t off_att = V * C, off_ffn = off_att + L * C + 2 * L * C * C + 2 * L * KVD * C;
    size_t off_fin = off_ffn + L * C + 3 * L * H * C;
    for (size_t i = 0; i < L * C; i++) {
        w[off_att + i] = 1.0f + w[off_att + i];
        w[off_ffn + i] = 1.0f + w[off_ffn + i];
    }
    for (size_t i = 0; i < C; i++) w[off_fin + i] = 1.0f + w[off_fin + i];
    *n = size;
    return b;
}

/* A small synthetic model written to dir/name and loaded. */
static inline hekv_llama_model *tm_synth_load(const char *dir, const int32_t hdr[7],
                                              uint64_t salt) {
    char path[512];
    snprintf(path, sizeof path, "%s/synth.bin", dir);
    size_t n;
    unsigned char *b = tm_synth_model(hdr, salt, &n);
    tm_write(path, b, n);
    free(b);
    hekv_llama_model *m = NULL;
    hekv_err err = {0};
    cr_assert_eq(hekv_llama_model_load(path, &m, &err), HEKV_OK, "%s", err.msg);
    return m;
}

/* -log softmax(logits)[target] in double: the hand-runs' reference for eval's scores. */
static inline double tm_nll(const double *logits, int V, int target) {
    double mx = logits[0], z = 0.0;
    for (int v = 1; v < V; v++) mx = logits[v] > mx ? logits[v] : mx;
    for (int v = 0; v < V; v++) z += exp(logits[v] - mx);
    return mx + log(z) - logits[target];
}

static inline double tm_max_abs_diff(const double *a, const double *b, size_t n) {
    double d = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(a[i] - b[i]);
        if (e > d || isnan(e)) d = isnan(e) ? INFINITY : e;
    }
    return d;
}

#endif
