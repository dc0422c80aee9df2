/* test_eval.c: evaluation: perplexity is finite and equals exp(cross-entropy), the window
 * scheme scores every token exactly once (checked against a hand-run of the forward), word
 * and line counts follow the documented rules, threads do not change the result, and
 * LAMBADA reads plain and JSON-lines files. */
#include "model_util.h"

static const char *story =
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the "
    "park.\nOne day, she saw a big, red ball.\n";

/* A synthetic model with a context of 8 and tok512's vocabulary, in a new scratch dir. */
static hekv_llama_model *synth_ctx8(char *dir, size_t n, uint64_t salt) {
    tm_tmpdir(dir, n);
    const int32_t hdr[7] = {16, 24, 2, 4, 2, 512, 8};
    return tm_synth_load(dir, hdr, salt);
}

Test(models, eval_short_text_perplexity) {
    hekv_llama_model *m = tm_load_stories();
    hekv_llama_tokenizer *t = tm_load_tok512();
    hekv_err err = {0};
    hekv_llama_eval_opts o = {0, 1, 0, HEKV_LLAMA_F64, NULL, NULL, 0, 0};
    hekv_llama_eval_result r;
    cr_assert_eq(hekv_llama_eval_text(m, t, story, strlen(story), &o, &r, &err), HEKV_OK, "%s",
                 err.msg);
    int ids[256];
    size_t n;
    cr_assert_eq(hekv_llama_tokenizer_encode(t, ids, 256, &n, story, strlen(story), 0, 0, NULL),
                 HEKV_OK);
    cr_assert_eq(r.tokens, (int64_t)n);
    cr_assert_eq(r.windows, 1);
    cr_assert_eq(r.bytes, (int64_t)strlen(story));
    cr_assert_eq(r.words, 27, "words %lld", (long long)r.words);
    cr_assert_eq(r.lines, 2);
    cr_assert(isfinite(r.nll) && r.nll > 0);
    cr_assert_float_eq(r.ce, r.nll / r.tokens, 1e-12);
    cr_assert_float_eq(r.ppl_token, exp(r.ce), 1e-12 * r.ppl_token);
    cr_assert_float_eq(r.ppl_word, exp(r.nll / 27), 1e-12 * r.ppl_word);
    cr_log_info("stories260K on its own greedy text: CE %.4f nats/token, ppl %.3f", r.ce,
                r.ppl_token);
    /* the model wrote this text greedily: it finds it very likely */
    cr_assert(r.ppl_token < 3.0, "token perplexity %.3f", r.ppl_token);
    /* --line-eos adds one word per line */
    o.line_eos = 1;
    hekv_llama_eval_result r2;
    cr_assert_eq(hekv_llama_eval_text(m, t, story, strlen(story), &o, &r2, &err), HEKV_OK);
    cr_assert_eq(r2.words, 29);
    cr_assert(r2.nll == r.nll);
    /* float32 agrees closely */
    o.line_eos = 0;
    o.precision = HEKV_LLAMA_F32;
    cr_assert_eq(hekv_llama_eval_text(m, t, story, strlen(story), &o, &r2, &err), HEKV_OK);
    cr_assert_float_eq(r2.ce, r.ce, 1e-4);
    /* max_tokens: a prefix, with the words of the covered text ("Once upon a" = 3 tokens
     * after the dummy prefix merges: " Once", " upon", " a") */
    o.precision = HEKV_LLAMA_F64;
    o.max_tokens = 3;
    cr_assert_eq(hekv_llama_eval_text(m, t, story, strlen(story), &o, &r2, &err), HEKV_OK);
    cr_assert_eq(r2.tokens, 3);
    cr_assert_eq(r2.bytes, 11);
    cr_assert_eq(r2.words, 3);
    cr_assert_eq(r2.lines, 1);
    /* bad calls */
    cr_assert_eq(hekv_llama_eval_text(m, t, story, 0, &o, &r2, &err), HEKV_ERR_ARG);
    hekv_llama_calib *cal;
    cr_assert_eq(hekv_llama_calib_new(hekv_llama_model_config(m), &cal, &err), HEKV_OK);
    o.calib = cal;
    o.precision = HEKV_LLAMA_F32;
    cr_assert_eq(hekv_llama_eval_text(m, t, story, strlen(story), &o, &r2, &err), HEKV_ERR_ARG);
    hekv_llama_calib_free(cal);
    hekv_llama_tokenizer_free(t);
    hekv_llama_model_free(m);
}

/* Windows: a synthetic model with a context of 8 and tok512's vocabulary, checked against
 * running the forward by hand; 1 and 2 threads give bit-identical totals. */
Test(models, eval_windows_score_each_token_once) {
    hekv_llama_tokenizer *t = tm_load_tok512();
    char dir[64];
    hekv_llama_model *m = synth_ctx8(dir, sizeof dir, 61);
    const int T = 8, V = 512;
    int ids[256];
    size_t n;
    cr_assert_eq(hekv_llama_tokenizer_encode(t, ids, 256, &n, story, strlen(story), 0, 0, NULL),
                 HEKV_OK);
    cr_assert(n > 3 * T, "need several windows, have %zu tokens", n);
    /* by hand: window w predicts ids[w*T .. w*T+T) from BOS + the window's earlier tokens */
    hekv_err err = {0};
    hekv_llama_state *st;
    cr_assert_eq(hekv_llama_state_new(m, HEKV_LLAMA_F64, &st, &err), HEKV_OK);
    double want = 0;
    for (size_t w = 0; w * T < n; w++) {
        hekv_llama_state_reset(st);
        for (int p = 0; p < T && w * T + (size_t)p < n; p++) {
            int in = p == 0 ? 1 : ids[w * T + (size_t)p - 1];
            cr_assert_eq(hekv_llama_forward(st, in, p, NULL, &err), HEKV_OK);
            want += tm_nll(hekv_llama_state_logits(st), V, ids[w * T + (size_t)p]);
        }
    }
    hekv_llama_state_free(st);
    hekv_llama_eval_opts o = {0, 1, 0, HEKV_LLAMA_F64, NULL, NULL, 0, 0};
    hekv_llama_eval_result r1, r2;
    cr_assert_eq(hekv_llama_eval_text(m, t, story, strlen(story), &o, &r1, &err), HEKV_OK, "%s",
                 err.msg);
    o.threads = 2;
    cr_assert_eq(hekv_llama_eval_text(m, t, story, strlen(story), &o, &r2, &err), HEKV_OK);
    cr_assert_eq(r1.tokens, (int64_t)n);
    cr_assert_eq(r1.windows, (int64_t)((n + T - 1) / T));
    cr_assert_float_eq(r1.nll, want, 1e-9 * want);
    cr_assert(r1.nll == r2.nll, "threads changed the total: %.17g vs %.17g", r1.nll, r2.nll);
    hekv_llama_model_free(m);
    hekv_llama_tokenizer_free(t);
    tm_rmtree(dir);
}

Test(models, eval_lambada_plain_and_jsonl) {
    hekv_llama_model *m = tm_load_stories();
    hekv_llama_tokenizer *t = tm_load_tok512();
    char dir[64], plain[128], jsonl[128];
    tm_tmpdir(dir, sizeof dir);
    snprintf(plain, sizeof plain, "%s/l.txt", dir);
    snprintf(jsonl, sizeof jsonl, "%s/l.jsonl", dir);
    /* The first passage is the model's own greedy text: its last word must be found. */
    const char *plain_text =
        "Once upon a time, there was a little girl named Lily. She loved to play outside in "
        "the park\n"
        "\n"
        "oneword\n"
        "the \"cat\" sat on the mat and looked at the dog\n";
    tm_write(plain, plain_text, strlen(plain_text));
    const char *json_text =
        "{\"text\": \"Once upon a time, there was a little girl named Lily. She loved to play "
        "outside in the park\"}\n"
        "{\"id\": [1, {\"x\": \"}\"}], \"text\": \"the \\\"cat\\\" sat on the mat and looked at "
        "the \\u0064og\"}\n";
    tm_write(jsonl, json_text, strlen(json_text));
    hekv_err err = {0};
    hekv_llama_eval_opts o = {0, 2, 0, HEKV_LLAMA_F64, NULL, NULL, 0, 0};
    hekv_llama_lambada_result a, b;
    cr_assert_eq(hekv_llama_eval_lambada(m, t, plain, 0, &o, &a, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(a.examples, 2);
    cr_assert_eq(a.skipped, 1, "'oneword' has no context");
    cr_assert(a.correct >= 1, "the model's own continuation 'park' was not reproduced");
    cr_assert_eq(hekv_llama_eval_lambada(m, t, jsonl, 0, &o, &b, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(b.examples, 2);
    cr_assert_eq(b.correct, a.correct, "plain and JSON versions of the same passages differ");
    cr_assert_float_eq(b.accuracy, (double)b.correct / 2, 1e-15);
    /* max_examples */
    cr_assert_eq(hekv_llama_eval_lambada(m, t, plain, 1, &o, &a, &err), HEKV_OK);
    cr_assert_eq(a.examples, 1);
    cr_assert_eq(a.correct, 1);
    /* a broken JSON line is a format error naming the line */
    const char *bad = "{\"text\": \"ok then\"}\n{\"text\": \"unterminated}\n";
    tm_write(jsonl, bad, strlen(bad));
    cr_assert_eq(hekv_llama_eval_lambada(m, t, jsonl, 0, &o, &a, &err), HEKV_ERR_FORMAT);
    cr_assert(strstr(err.msg, "line 2") != NULL, "%s", err.msg);
    cr_assert_eq(hekv_llama_eval_lambada(m, t, "/nonexistent.jsonl", 0, &o, &a, &err), HEKV_ERR_IO);
    hekv_llama_tokenizer_free(t);
    hekv_llama_model_free(m);
    tm_rmtree(dir);
}

Test(models, eval_lambada_real_file_subset) {
    const char *path = "../shared/data/lambada/lambada_test.jsonl";
    if (access(path, R_OK) != 0) cr_skip_test("%s is absent", path);
    hekv_llama_model *m = tm_load_stories();
    hekv_llama_tokenizer *t = tm_load_tok512();
    hekv_err err = {0};
    hekv_llama_eval_opts o = {0, 2, 0, HEKV_LLAMA_F64, NULL, NULL, 0, 0};
    hekv_llama_lambada_result r;
    cr_assert_eq(hekv_llama_eval_lambada(m, t, path, 20, &o, &r, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(r.examples, 20);
    cr_assert(r.accuracy >= 0 && r.accuracy <= 1);
    cr_log_info("stories260K LAMBADA (first 20): %lld correct", (long long)r.correct);
    hekv_llama_tokenizer_free(t);
    hekv_llama_model_free(m);
}

/* The line-stream convention of scripts/train_lm.py: BOS, each stripped line's tokens and
 * <0x0A>; windows continue the stream (no BOS restart); words = whitespace words + lines.
 * Checked against a hand-run of the forward over the same stream. */
Test(models, eval_per_line_stream_matches_hand_run) {
    hekv_llama_model *m = tm_load_stories();
    hekv_llama_tokenizer *t = tm_load_tok512();
    hekv_err err = {0};
    const char *text = " Once upon a time \n\n  she saw a ball.\t\nThe end";
    hekv_llama_eval_opts o = {0, 1, 0, HEKV_LLAMA_F64, NULL, NULL, 1, 0};
    hekv_llama_eval_result r;
    cr_assert_eq(hekv_llama_eval_text(m, t, text, strlen(text), &o, &r, &err), HEKV_OK, "%s",
                 err.msg);
    /* the stream by hand */
    const char *lines[] = {"Once upon a time", "", "she saw a ball.", "The end"};
    int s[256], k = 0;
    s[k++] = HEKV_LLAMA_TOKEN_BOS;
    for (int i = 0; i < 4; i++) {
        size_t n = 0;
        if (*lines[i])
            cr_assert_eq(hekv_llama_tokenizer_encode(t, s + k, 64, &n, lines[i], strlen(lines[i]),
                                                     0, 0, NULL),
                         HEKV_OK);
        k += (int)n;
        s[k++] = 13; /* <0x0A> in the llama2.c byte-token layout */
    }
    cr_assert_str_eq(hekv_llama_tokenizer_piece(t, 13), "<0x0A>");
    cr_assert_eq(r.tokens, k - 1);
    cr_assert_eq(r.lines, 4);
    cr_assert_eq(r.words, 4 + 4 + 2 + 4, "words %lld", (long long)r.words);
    hekv_llama_state *st;
    cr_assert_eq(hekv_llama_state_new(m, HEKV_LLAMA_F64, &st, &err), HEKV_OK);
    const int V = hekv_llama_model_config(m)->vocab_size;
    double nll = 0;
    for (int p = 0; p + 1 < k; p++) {
        cr_assert_eq(hekv_llama_forward(st, s[p], p, NULL, NULL), HEKV_OK);
        nll += tm_nll(hekv_llama_state_logits(st), V, s[p + 1]);
    }
    cr_assert_float_eq(r.nll, nll, 1e-9 * nll, "%.12f vs %.12f", r.nll, nll);
    hekv_llama_state_free(st);
    hekv_llama_tokenizer_free(t);
    hekv_llama_model_free(m);
}

/* Sliding windows (stride S < T) in the line-stream mode: window c scores the predictions
 * of stream tokens cS+1 .. cS+S from a fresh cache at max(0, cS + S - T). Checked against
 * an independent hand-run that restarts the cache for every single prediction; stride T
 * is the non-overlapping default; threads do not change the total; bad strides fail. */
Test(models, eval_sliding_windows_match_hand_run) {
    hekv_llama_tokenizer *t = tm_load_tok512();
    char dir[64];
    hekv_llama_model *m = synth_ctx8(dir, sizeof dir, 67);
    const int T = 8, V = 512;
    const char *text = "Once upon a time, there was a little girl named Lily.\n"
                       "She loved to play outside in the park.\nOne day, she saw a ball.\n";
    hekv_err err = {0};
    hekv_llama_eval_opts o = {0, 1, 0, HEKV_LLAMA_F64, NULL, NULL, 1, 0};
    hekv_llama_eval_result r0, r;
    cr_assert_eq(hekv_llama_eval_text(m, t, text, strlen(text), &o, &r0, &err), HEKV_OK, "%s",
                 err.msg);
    /* the stream, as eval builds it (checked by the per-line test above) */
    int s[256], k = 0;
    s[k++] = HEKV_LLAMA_TOKEN_BOS;
    const char *lines[] = {"Once upon a time, there was a little girl named Lily.",
                           "She loved to play outside in the park.", "One day, she saw a ball."};
    for (int i = 0; i < 3; i++) {
        size_t n = 0;
        cr_assert_eq(hekv_llama_tokenizer_encode(t, s + k, 64, &n, lines[i], strlen(lines[i]),
                                                 0, 0, NULL),
                     HEKV_OK);
        k += (int)n;
        s[k++] = 13;
    }
    cr_assert_eq(r0.tokens, k - 1);
    cr_assert(k > 4 * T, "need several windows, have %d tokens", k);
    hekv_llama_state *st;
    cr_assert_eq(hekv_llama_state_new(m, HEKV_LLAMA_F64, &st, &err), HEKV_OK);
    const int strides[] = {1, 3, 5, 8};
    for (size_t si = 0; si < sizeof strides / sizeof strides[0]; si++) {
        const int S = strides[si];
        double want = 0;
        for (int j = 1; j < k; j++) { /* prediction of s[j] */
            const int c = (j - 1) / S, b = c * S + S - T > 0 ? c * S + S - T : 0;
            hekv_llama_state_reset(st);
            for (int p = b; p < j; p++)
                cr_assert_eq(hekv_llama_forward(st, s[p], p - b, NULL, NULL), HEKV_OK);
            want += tm_nll(hekv_llama_state_logits(st), V, s[j]);
        }
        o.stride = S;
        o.threads = 1;
        cr_assert_eq(hekv_llama_eval_text(m, t, text, strlen(text), &o, &r, &err), HEKV_OK, "%s",
                     err.msg);
        cr_assert_eq(r.tokens, k - 1);
        cr_assert_eq(r.windows, (k - 1 + S - 1) / S);
        cr_assert_eq(r.words, r0.words);
        cr_assert_float_eq(r.nll, want, 1e-9 * want, "stride %d: %.12f vs %.12f", S, r.nll,
                           want);
        if (S == T) cr_assert(r.nll == r0.nll, "stride T differs from the default windows");
        hekv_llama_eval_result r2;
        o.threads = 2;
        cr_assert_eq(hekv_llama_eval_text(m, t, text, strlen(text), &o, &r2, &err), HEKV_OK);
        cr_assert(r2.nll == r.nll, "stride %d: threads changed the total", S);
    }
    hekv_llama_state_free(st);
    /* a stride beyond the context, or without the line-stream mode */
    o.threads = 1;
    o.stride = T + 1;
    cr_assert_eq(hekv_llama_eval_text(m, t, text, strlen(text), &o, &r, &err), HEKV_ERR_ARG);
    o.stride = 4;
    o.per_line = 0;
    cr_assert_eq(hekv_llama_eval_text(m, t, text, strlen(text), &o, &r, &err), HEKV_ERR_ARG);
    cr_assert(strstr(err.msg, "stride") != NULL, "%s", err.msg);
    hekv_llama_model_free(m);
    hekv_llama_tokenizer_free(t);
    tm_rmtree(dir);
}

/* --max-tokens with the line stream (and with sliding windows): words, lines and bytes are
 * counted over the text the scored tokens cover, not over the whole file (PTB test with 256
 * tokens used to divide by the file's 82,430 words: word perplexity 1.0105). By hand, on
 *   "Once upon a time\nshe saw a ball.\n\nThe end\n"
 * whose stream is BOS, 4 tokens of line 1 (" Once" " upon" " a" " time"), <0x0A>, the n2
 * tokens of line 2 (the first " she"), <0x0A>, <0x0A> (the empty line 3), line 4, <0x0A>. */
Test(models, eval_max_tokens_counts_the_scored_prefix) {
    hekv_llama_tokenizer *t = tm_load_tok512();
    char dir[64];
    hekv_llama_model *m = synth_ctx8(dir, sizeof dir, 73);
    const int T = 8, V = 512;
    const char *text = "Once upon a time\nshe saw a ball.\n\nThe end\n";
    int e2[32];
    size_t n2;
    cr_assert_eq(hekv_llama_tokenizer_encode(t, e2, 32, &n2, "she saw a ball.", 15, 0, 0, NULL),
                 HEKV_OK);
    cr_assert_str_eq(hekv_llama_tokenizer_piece(t, e2[0]), " she");
    struct {
        int64_t max_tokens, bytes, lines, words;
    } want[] = {
        {5, 17, 1, 4 + 1},                       /* line 1 and its newline */
        {6, 20, 2, 5 + 2},                       /* ... and " she": "...time\nshe" */
        {5 + (int64_t)n2 + 2, 34, 3, 8 + 3},     /* through the empty line 3 */
        {0, (int64_t)strlen(text), 4, 10 + 4},   /* everything */
        {1000, (int64_t)strlen(text), 4, 10 + 4},
    };
    /* the stream by hand, for the NLL check */
    int s[64], k = 0;
    s[k++] = HEKV_LLAMA_TOKEN_BOS;
    const char *lines[] = {"Once upon a time", "she saw a ball.", "", "The end"};
    for (int i = 0; i < 4; i++) {
        size_t n = 0;
        if (*lines[i])
            cr_assert_eq(hekv_llama_tokenizer_encode(t, s + k, 32, &n, lines[i],
                                                     strlen(lines[i]), 0, 0, NULL),
                         HEKV_OK);
        k += (int)n;
        s[k++] = 13;
    }
    hekv_llama_state *st;
    hekv_err err = {0};
    cr_assert_eq(hekv_llama_state_new(m, HEKV_LLAMA_F64, &st, &err), HEKV_OK);
    const int strides[] = {0, 3};
    for (size_t wi = 0; wi < sizeof want / sizeof want[0]; wi++) {
        for (int si = 0; si < 2; si++) {
            hekv_llama_eval_opts o = {want[wi].max_tokens, 1, 0, HEKV_LLAMA_F64, NULL, NULL, 1,
                                      strides[si]};
            hekv_llama_eval_result r;
            cr_assert_eq(hekv_llama_eval_text(m, t, text, strlen(text), &o, &r, &err), HEKV_OK,
                         "%s", err.msg);
            const int64_t npred = want[wi].max_tokens > 0 && want[wi].max_tokens < k - 1
                                      ? want[wi].max_tokens
                                      : k - 1;
            cr_assert_eq(r.tokens, npred);
            cr_assert_eq(r.bytes, want[wi].bytes, "max %lld stride %d: bytes %lld",
                         (long long)want[wi].max_tokens, strides[si], (long long)r.bytes);
            cr_assert_eq(r.lines, want[wi].lines, "max %lld stride %d: lines %lld",
                         (long long)want[wi].max_tokens, strides[si], (long long)r.lines);
            cr_assert_eq(r.words, want[wi].words, "max %lld stride %d: words %lld",
                         (long long)want[wi].max_tokens, strides[si], (long long)r.words);
            cr_assert_float_eq(r.ppl_word, exp(r.nll / (double)want[wi].words),
                               1e-12 * r.ppl_word);
            /* and the NLL is that of the first npred predictions, by hand */
            const int S = strides[si] ? strides[si] : T;
            double nll = 0;
            for (int j = 1; j <= npred; j++) {
                const int c = (j - 1) / S, b = c * S + S - T > 0 ? c * S + S - T : 0;
                hekv_llama_state_reset(st);
                for (int p = b; p < j; p++)
                    cr_assert_eq(hekv_llama_forward(st, s[p], p - b, NULL, NULL), HEKV_OK);
                nll += tm_nll(hekv_llama_state_logits(st), V, s[j]);
            }
            cr_assert_float_eq(r.nll, nll, 1e-9 * nll, "max %lld stride %d: %.12f vs %.12f",
                               (long long)want[wi].max_tokens, strides[si], r.nll, nll);
        }
    }
    hekv_llama_state_free(st);
    hekv_llama_model_free(m);
    hekv_llama_tokenizer_free(t);
    tm_rmtree(dir);
}

/* LAMBADA from memory equals LAMBADA from the file, and the file reader refuses a
 * directory (the text buffer is what a fuzz target feeds). */
Test(models, eval_lambada_text_equals_file) {
    hekv_llama_model *m = tm_load_stories();
    hekv_llama_tokenizer *t = tm_load_tok512();
    const char *text = "Once upon a time, there was a little girl named Lily. She loved to play "
                       "outside in the park\n{\"text\": \"she saw a big red ball\"}\nword\n";
    char dir[64], path[128];
    tm_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/l.txt", dir);
    tm_write(path, text, strlen(text));
    hekv_err err = {0};
    hekv_llama_eval_opts o = {0, 1, 0, HEKV_LLAMA_F64, NULL, NULL, 0, 0};
    hekv_llama_lambada_result a, b;
    cr_assert_eq(hekv_llama_eval_lambada(m, t, path, 0, &o, &a, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_llama_eval_lambada_text(m, t, text, strlen(text), 0, &o, &b, &err),
                 HEKV_OK, "%s", err.msg);
    cr_assert(a.examples == 2 && b.examples == 2 && a.skipped == 1 && b.skipped == 1);
    cr_assert_eq(a.correct, b.correct);
    /* max_examples stops reading: a broken line after the last example is not reached */
    const char *tail = "the cat sat on the mat\n{\"text\": broken\n";
    cr_assert_eq(hekv_llama_eval_lambada_text(m, t, tail, strlen(tail), 1, &o, &b, &err),
                 HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_llama_eval_lambada_text(m, t, tail, strlen(tail), 0, &o, &b, &err),
                 HEKV_ERR_FORMAT);
    cr_assert(strstr(err.msg, "line 2") != NULL, "%s", err.msg);
    cr_assert_eq(hekv_llama_eval_lambada(m, t, dir, 0, &o, &a, &err), HEKV_ERR_IO);
    cr_assert(strstr(err.msg, "directory") != NULL, "%s", err.msg);
    hekv_llama_tokenizer_free(t);
    hekv_llama_model_free(m);
    tm_rmtree(dir);
}
