/* test_tokenizer.c: the llama2.c tokenizer: known ids for tok512 (computed with a
 * transcription of run.c's encode), decode(encode(x)) == x on ASCII, UTF-8 and raw bytes,
 * the heap-based merge loop against run.c's quadratic loop written out here, and the
 * rejection of truncated or corrupted tokenizer files. */
#include "model_util.h"

/* run.c's encode(), transcribed (quadratic rescans, lookup by linear search). The oracle
 * for the heap version in models/tokenizer.c. */
static int naive_lookup(const hekv_llama_tokenizer *t, const char *s, size_t n) {
    int V = hekv_llama_tokenizer_vocab_size(t);
    for (int i = 0; i < V; i++) {
        const char *p = hekv_llama_tokenizer_piece(t, i);
        if (strlen(p) == n && memcmp(p, s, n) == 0) return i;
    }
    return -1;
}

static size_t naive_encode(const hekv_llama_tokenizer *t, const char *text, size_t len,
                           int *out, const float *scores) {
    size_t n = 0;
    out[n++] = 1;
    if (len) out[n++] = naive_lookup(t, " ", 1);
    for (size_t i = 0; i < len;) {
        size_t j = i + 1;
        while (j < len && ((unsigned char)text[j] & 0xC0) == 0x80 && j - i < 4) j++;
        int id = naive_lookup(t, text + i, j - i);
        if (id >= 0) out[n++] = id;
        else
            for (size_t k = i; k < j; k++) out[n++] = (unsigned char)text[k] + 3;
        i = j;
    }
    char buf[64];
    for (;;) {
        float best = -1e10f;
        int bi = -1, bid = -1;
        for (size_t i = 0; i + 1 < n; i++) {
            snprintf(buf, sizeof buf, "%s%s", hekv_llama_tokenizer_piece(t, out[i]),
                     hekv_llama_tokenizer_piece(t, out[i + 1]));
            int id = naive_lookup(t, buf, strlen(buf));
            if (id != -1 && scores[id] > best) {
                best = scores[id];
                bi = (int)i;
                bid = id;
            }
        }
        if (bi < 0) break;
        out[bi] = bid;
        for (size_t i = (size_t)bi + 1; i + 1 < n; i++) out[i] = out[i + 1];
        n--;
    }
    return n;
}

/* tok512's scores, read straight from the file. */
static float *read_scores(void) {
    size_t n;
    unsigned char *b = tm_read(TM_STORIES_TOK, &n);
    float *s = malloc(512 * sizeof *s);
    size_t off = 4;
    for (int i = 0; i < 512; i++) {
        int32_t len;
        memcpy(&s[i], b + off, 4);
        memcpy(&len, b + off + 4, 4);
        off += 8 + (size_t)len;
    }
    free(b);
    return s;
}

static void expect_ids(const hekv_llama_tokenizer *t, const char *text, const int *want,
                       size_t nwant) {
    int got[256];
    size_t n = 0;
    hekv_err err = {0};
    cr_assert_eq(hekv_llama_tokenizer_encode(t, got, 256, &n, text, strlen(text), 1, 0, &err),
                 HEKV_OK, "%s", err.msg);
    cr_assert_eq(n, nwant, "'%s': %zu tokens, want %zu", text, n, nwant);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(got[i], want[i], "'%s': token %zu is %d, want %d", text, i, got[i], want[i]);
}

Test(models, tokenizer_known_ids) {
    hekv_llama_tokenizer *t = tm_load_tok512();
    /* ids from run.c's algorithm (Python transcription) on tok512.bin */
    const int once[] = {1, 403, 407, 261, 378};
    const int hello[] = {1, 346, 306, 414, 432, 263, 304, 341, 443};
    const int utf8[] = {1, 280, 412, 431, 485, 410, 229, 155, 152, 297, 412, 198, 178, 360};
    const int nl[] = {1, 261, 13, 430};
    expect_ids(t, "Once upon a time", once, 5);
    expect_ids(t, "Hello, world!", hello, 9);
    expect_ids(t, "caf\xc3\xa9 \xe2\x98\x95 na\xc3\xafve", utf8, 14); /* "café ☕ naïve" */
    expect_ids(t, "a\nb", nl, 4);
    /* Empty text: only BOS (no dummy prefix); EOS appended on request. */
    int got[4];
    size_t n;
    cr_assert_eq(hekv_llama_tokenizer_encode(t, got, 4, &n, "", 0, 1, 1, NULL), HEKV_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(got[0], 1);
    cr_assert_eq(got[1], 2);
    /* Too small a buffer is an error, not an overflow. */
    cr_assert_eq(hekv_llama_tokenizer_encode(t, got, 2, &n, "Once upon", 9, 1, 0, NULL),
                 HEKV_ERR_ARG);
    cr_assert_str_eq(hekv_llama_tokenizer_piece(t, 403), " Once");
    cr_assert_str_eq(hekv_llama_tokenizer_piece(t, 13), "<0x0A>");
    hekv_llama_tokenizer_free(t);
}

static void check_roundtrip(const hekv_llama_tokenizer *t, const char *text, size_t len) {
    int *ids = malloc((len + 3) * sizeof *ids);
    size_t n;
    hekv_err err = {0};
    cr_assert_eq(hekv_llama_tokenizer_encode(t, ids, len + 3, &n, text, len, 1, 0, &err),
                 HEKV_OK, "%s", err.msg);
    char *dec = malloc(len + 64);
    size_t dn = 0;
    for (size_t i = 1; i < n; i++) {
        size_t pl;
        const char *p = hekv_llama_tokenizer_decode(t, ids[i - 1], ids[i], &pl);
        cr_assert(dn + pl <= len + 63);
        memcpy(dec + dn, p, pl);
        dn += pl;
    }
    /* decode strips the dummy-prefix space after BOS: the text comes back exactly */
    cr_assert_eq(dn, len, "round trip length %zu vs %zu for '%.*s'", dn, len, (int)len, text);
    cr_assert(memcmp(dec, text, len) == 0, "round trip differs for '%.*s'", (int)len, text);
    free(ids), free(dec);
}

Test(models, tokenizer_roundtrip) {
    hekv_llama_tokenizer *t = tm_load_tok512();
    const char *texts[] = {
        "Once upon a time, there was a little girl named Lily.",
        "  two leading spaces and trailing  ",
        "tabs\tand\nnew\nlines\r\n",
        "caf\xc3\xa9 \xe2\x98\x95 na\xc3\xafve \xf0\x9f\x98\x80 \xe4\xb8\xad\xe6\x96\x87",
        "raw bytes \x01\x02\x7f and invalid UTF-8 \xff\xfe \x80\x80\x80\x80\x80\x80 end",
        "x",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        check_roundtrip(t, texts[i], strlen(texts[i]));
    /* A NUL byte inside the text is a byte like any other (<0x00>, id 3). */
    check_roundtrip(t, "a\0b", 3);
    /* Decoding after BOS drops one leading space; elsewhere it is kept. */
    cr_assert_str_eq(hekv_llama_tokenizer_decode(t, 1, 403, NULL), "Once");
    cr_assert_str_eq(hekv_llama_tokenizer_decode(t, 5, 403, NULL), " Once");
    size_t n;
    cr_assert_str_eq(hekv_llama_tokenizer_decode(t, 5, 13, &n), "\n");
    cr_assert_eq(n, 1);
    cr_assert_str_eq(hekv_llama_tokenizer_decode(t, 5, 512, &n), "");
    cr_assert_eq(n, 0);
    hekv_llama_tokenizer_free(t);
}

Test(models, tokenizer_heap_merges_equal_run_c_loop) {
    hekv_llama_tokenizer *t = tm_load_tok512();
    float *scores = read_scores();
    test_rng r = test_rng_new(31);
    const char *words[] = {"the", " cat", "Lily", " sat", "on", " ", "  ", ",", ".", "\n",
                           "ball", "played", "\xc3\xa9", "\xe2\x98\x95", "\xff", "ing", "a",
                           "Once", "upon", "time", "She", "day", "big", "red"};
    const size_t nw = sizeof words / sizeof words[0];
    char text[600];
    int a[700], b[700];
    for (int trial = 0; trial < 200; trial++) {
        size_t len = 0;
        int k = 1 + (int)test_below(&r, 40);
        for (int j = 0; j < k; j++) {
            const char *w = words[test_below(&r, nw)];
            size_t wl = strlen(w);
            if (len + wl >= sizeof text) break;
            memcpy(text + len, w, wl);
            len += wl;
        }
        size_t na = naive_encode(t, text, len, a, scores), nb;
        cr_assert_eq(hekv_llama_tokenizer_encode(t, b, 700, &nb, text, len, 1, 0, NULL), HEKV_OK);
        cr_assert_eq(na, nb, "trial %d '%.*s': %zu vs %zu tokens", trial, (int)len, text, na, nb);
        for (size_t i = 0; i < na; i++)
            cr_assert_eq(a[i], b[i], "trial %d '%.*s': token %zu %d vs %d", trial, (int)len, text,
                         i, a[i], b[i]);
    }
    free(scores);
    hekv_llama_tokenizer_free(t);
}

/* A well-formed tokenizer of V entries: piece i is "t<i>" (score -i), except id 3.. raw. */
static unsigned char *synth_tok(int V, size_t *n) {
    unsigned char *b = malloc(4 + (size_t)V * 16);
    int32_t mtl = 8;
    memcpy(b, &mtl, 4);
    size_t off = 4;
    for (int i = 0; i < V; i++) {
        char p[16];
        int32_t len = snprintf(p, sizeof p, "t%d", i);
        float s = -(float)i;
        memcpy(b + off, &s, 4);
        memcpy(b + off + 4, &len, 4);
        memcpy(b + off + 8, p, (size_t)len);
        off += 8 + (size_t)len;
    }
    *n = off;
    return b;
}

static void expect_tok_format_error(const char *path, const void *data, size_t n, int V,
                                    const char *needle) {
    tm_write(path, data, n);
    hekv_llama_tokenizer *t = (hekv_llama_tokenizer *)1;
    hekv_err err = {0};
    cr_assert_eq(hekv_llama_tokenizer_load(path, V, &t, &err), HEKV_ERR_FORMAT,
                 "expected a format error (%s)", needle);
    cr_assert_null(t);
    cr_assert(strstr(err.msg, needle) != NULL, "message '%s' lacks '%s'", err.msg, needle);
}

Test(models, tokenizer_bad_files_are_format_errors) {
    char dir[64], path[128];
    tm_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/tok.bin", dir);
    size_t n;
    unsigned char *good = synth_tok(40, &n);
    tm_write(path, good, n);
    hekv_llama_tokenizer *t = NULL;
    hekv_err err = {0};
    cr_assert_eq(hekv_llama_tokenizer_load(path, 40, &t, &err), HEKV_OK, "%s", err.msg);
    cr_assert_str_eq(hekv_llama_tokenizer_piece(t, 17), "t17");
    hekv_llama_tokenizer_free(t);

    unsigned char *c = malloc(n + 8);
    /* truncated inside a token / inside a token header / empty / header only */
    expect_tok_format_error(path, good, n - 1, 40, "truncated");
    expect_tok_format_error(path, good, n - 5, 40, "ends at byte");
    expect_tok_format_error(path, good, 0, 40, "shorter than");
    expect_tok_format_error(path, good, 4, 40, "ends at byte");
    /* wrong vocabulary size either way */
    expect_tok_format_error(path, good, n, 41, "ends at byte");
    expect_tok_format_error(path, good, n, 39, "more tokens than");
    /* trailing garbage */
    memcpy(c, good, n);
    memcpy(c + n, "junk", 4);
    expect_tok_format_error(path, c, n + 4, 40, "after its");
    /* max_token_length 0 and negative */
    int32_t v = 0;
    memcpy(c, good, n);
    memcpy(c, &v, 4);
    expect_tok_format_error(path, c, n, 40, "max_token_length");
    v = -7;
    memcpy(c, &v, 4);
    expect_tok_format_error(path, c, n, 40, "max_token_length");
    /* negative / too long token length (token 0's length field at offset 8) */
    memcpy(c, good, n);
    v = -1;
    memcpy(c + 8, &v, 4);
    expect_tok_format_error(path, c, n, 40, "length -1");
    v = 9;
    memcpy(c + 8, &v, 4);
    expect_tok_format_error(path, c, n, 40, "length 9");
    v = 0x7fffffff;
    memcpy(c + 8, &v, 4);
    expect_tok_format_error(path, c, n, 40, "length");
    /* NaN score, NUL byte inside a piece */
    memcpy(c, good, n);
    float nan_f = NAN;
    memcpy(c + 4, &nan_f, 4);
    expect_tok_format_error(path, c, n, 40, "non-finite score");
    memcpy(c, good, n);
    c[12] = 0;
    expect_tok_format_error(path, c, n, 40, "NUL byte");
    /* A missing file is an I/O error. */
    cr_assert_eq(hekv_llama_tokenizer_load("/nonexistent/tok.bin", 40, &t, &err), HEKV_ERR_IO);
    cr_assert(strstr(err.msg, "/nonexistent/tok.bin") != NULL);
    free(c), free(good);
    tm_rmtree(dir);
}

/* The buffer entry point gives the same tokenizer as the file; paths that are not regular
 * files are I/O errors (a directory used to ask for 2^63 bytes). */
Test(models, tokenizer_parse_from_memory_and_non_files) {
    size_t n;
    unsigned char *good = synth_tok(40, &n);
    hekv_llama_tokenizer *t = NULL;
    hekv_err err = {0};
    cr_assert_eq(hekv_llama_tokenizer_parse(good, n, 40, &t, &err), HEKV_OK, "%s", err.msg);
    cr_assert_str_eq(hekv_llama_tokenizer_piece(t, 39), "t39");
    hekv_llama_tokenizer_free(t);
    for (size_t cut = 0; cut < n; cut++) {
        cr_assert_eq(hekv_llama_tokenizer_parse(good, cut, 40, &t, &err), HEKV_ERR_FORMAT,
                     "cut %zu", cut);
        cr_assert_null(t);
    }
    cr_assert_eq(hekv_llama_tokenizer_parse(good, n, 0, &t, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_llama_tokenizer_parse(NULL, 4, 40, &t, &err), HEKV_ERR_ARG);
    char dir[64];
    tm_tmpdir(dir, sizeof dir);
    cr_assert_eq(hekv_llama_tokenizer_load(dir, 40, &t, &err), HEKV_ERR_IO);
    cr_assert(strstr(err.msg, "directory") != NULL, "%s", err.msg);
    cr_assert_eq(hekv_llama_tokenizer_load("/dev/null", 40, &t, &err), HEKV_ERR_IO);
    cr_assert_null(t);
    free(good);
    tm_rmtree(dir);
}

/* Fuzzing (fuzz_load_tokenizer): a vocabulary of fewer than 3 pieces used to load, and
 * encoding " " with BOS then read the piece table at id 1 (BOS) past its end (ASan:
 * heap-buffer-overflow in push_pair). The encoder emits BOS = 1 and EOS = 2, so a
 * tokenizer needs <unk>, <s>, </s>: smaller vocabularies are refused. */
Test(models, tokenizer_refuses_vocab_without_bos_eos) {
    /* max_token_length 1, then pieces of score 0: " ", "a", "b" */
    unsigned char buf[4 + 3 * 9];
    const int32_t mtl = 1, one = 1;
    const float score = 0;
    memcpy(buf, &mtl, 4);
    for (int i = 0; i < 3; i++) {
        memcpy(buf + 4 + 9 * i, &score, 4);
        memcpy(buf + 8 + 9 * i, &one, 4);
        buf[12 + 9 * i] = (unsigned char)(i ? 'a' + i - 1 : ' ');
    }
    hekv_err err = {0};
    for (int V = 1; V <= 2; V++) {
        hekv_llama_tokenizer *t = (hekv_llama_tokenizer *)1;
        cr_assert_eq(hekv_llama_tokenizer_parse(buf, 4 + 9 * (size_t)V, V, &t, &err),
                     HEKV_ERR_ARG, "vocab_size %d", V);
        cr_assert_null(t);
        cr_assert(strstr(err.msg, "<s>") != NULL, "%s", err.msg);
    }
    hekv_llama_tokenizer *t = NULL;
    cr_assert_eq(hekv_llama_tokenizer_parse(buf, sizeof buf, 3, &t, &err), HEKV_OK, "%s",
                 err.msg);
    int ids[8];
    size_t n = 0;
    cr_assert_eq(hekv_llama_tokenizer_encode(t, ids, sizeof ids / sizeof *ids, &n, "  ", 2, 1, 1,
                                             &err),
                 HEKV_OK, "%s", err.msg);
    cr_assert(n >= 2 && ids[n - 1] == HEKV_LLAMA_TOKEN_EOS, "%zu tokens", n);
    for (size_t i = 0; i + 1 < n; i++) cr_assert(ids[i] >= 0 && ids[i] < 3, "id %d", ids[i]);
    hekv_llama_tokenizer_free(t);
}
