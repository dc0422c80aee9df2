/* cmd_model.c: the plaintext model subcommands `hekv run` (generate text), `hekv calibrate`
 * (record the ranges the encrypted engine's approximations must cover) and `hekv eval`
 * (perplexity, LAMBADA), on llama2.c checkpoints through the reference engine in models/.
 * It deliberately does no modelling itself: it parses options, calls the library, prints. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hekv/llama_approx.h"
#include "cli.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- option values with a syntax of their own ------------------------------------------ */

static int parse_u64(const char *opt, const char *val, unsigned long long *out) {
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(val, &end, 10);
    if (!*val || *end || errno || val[0] == '-') {
        hekv_cli_error("%s: '%s' is not a non-negative integer", opt, val);
        return 0;
    }
    *out = v;
    return 1;
}

static int parse_precision(const char *val, hekv_llama_precision *out) {
    if (!strcmp(val, "f64")) { *out = HEKV_LLAMA_F64; return 1; }
    if (!strcmp(val, "f32")) { *out = HEKV_LLAMA_F32; return 1; }
    hekv_cli_error("--precision: '%s' is neither f64 nor f32", val);
    return 0;
}

static int file_exists(const char *p) { return access(p, R_OK) == 0; }

/* The tokenizer when --tokenizer is not given: in the model's folder, STEM.tok (what
 * scripts/train_lm.py writes), STEM.tok.bin, tokenizer.bin, then tok<V>.bin. Writes into
 * buf; returns NULL when none exists. */
static const char *default_tokenizer(const char *model, int vocab, char *buf, size_t n) {
    const char *slash = strrchr(model, '/');
    int dir_len = slash ? (int)(slash - model + 1) : 0;
    const char *base = model + dir_len;
    int stem_len = (int)strlen(base);
    if (stem_len > 4 && !strcmp(base + stem_len - 4, ".bin")) stem_len -= 4;
    snprintf(buf, n, "%.*s%.*s.tok", dir_len, model, stem_len, base);
    if (file_exists(buf)) return buf;
    snprintf(buf, n, "%.*s%.*s.tok.bin", dir_len, model, stem_len, base);
    if (file_exists(buf)) return buf;
    snprintf(buf, n, "%.*stokenizer.bin", dir_len, model);
    if (file_exists(buf)) return buf;
    snprintf(buf, n, "%.*stok%d.bin", dir_len, model, vocab);
    if (file_exists(buf)) return buf;
    return NULL;
}

/* Reads a text file (--data) whole: a regular file of at most HEKV_LLAMA_TEXT_MAX_BYTES. */
static int read_text(const char *path, hekv_buf *out) {
    hekv_err err;
    if (hekv_file_read(path, HEKV_LLAMA_TEXT_MAX_BYTES, out, &err) != HEKV_OK) {
        hekv_cli_error("data: %s", err.msg);
        return 0;
    }
    return 1;
}

/* Model, tokenizer and optional approximation (with its simulation hook), loaded together. */
typedef struct {
    hekv_llama_model *model;
    hekv_llama_tokenizer *tok;
    hekv_llama_chebset *cheb;
    hekv_llama_sim *sim;
    const hekv_llama_approx *approx; /* the simulation's hook or NULL */
    int clamp;
    char tok_path[4096];
} loaded;

static void unload(loaded *L) {
    hekv_llama_sim_free(L->sim);
    hekv_llama_chebset_free(L->cheb);
    hekv_llama_tokenizer_free(L->tok);
    hekv_llama_model_free(L->model);
}

static int load_all(loaded *L, const char *model, const char *tok, const char *approx,
                    int clamp, int need_tok) {
    hekv_err err;
    memset(L, 0, sizeof *L);
    if (hekv_llama_model_load(model, &L->model, &err) != HEKV_OK) {
        hekv_cli_error("%s", err.msg);
        return 0;
    }
    const hekv_llama_config *c = hekv_llama_model_config(L->model);
    if (!tok) tok = default_tokenizer(model, c->vocab_size, L->tok_path, sizeof L->tok_path);
    else snprintf(L->tok_path, sizeof L->tok_path, "%s", tok);
    if (!tok && need_tok) {
        hekv_cli_error("no tokenizer found beside %s (tried STEM.tok, STEM.tok.bin, "
                       "tokenizer.bin, tok%d.bin): pass --tokenizer FILE",
                       model, c->vocab_size);
        unload(L);
        return 0;
    }
    if (tok && hekv_llama_tokenizer_load(tok, c->vocab_size, &L->tok, &err) != HEKV_OK) {
        hekv_cli_error("%s", err.msg);
        unload(L);
        return 0;
    }
    if (approx) {
        if (hekv_llama_chebset_load(approx, &L->cheb, &err) != HEKV_OK ||
            hekv_llama_sim_new(L->cheb, c->n_layers, clamp ? HEKV_LLAMA_SIM_CLAMP : 0, &L->sim,
                               &err) != HEKV_OK) {
            hekv_cli_error("%s", err.msg);
            unload(L);
            return 0;
        }
        L->approx = hekv_llama_sim_hook(L->sim);
        L->clamp = clamp;
    }
    return 1;
}

/* The simulation's excursion table: per function and layer, the inputs that fell outside
 * the series' interval (where the encrypted circuit diverges). */
static void print_excursions(FILE *f, const loaded *L) {
    if (!L->sim) return;
    const int64_t total = hekv_llama_sim_outside(L->sim);
    if (total == 0) {
        fprintf(f, "approx:            every input stayed inside its designed interval\n");
        return;
    }
    fprintf(f,
            "approx:            %lld inputs outside the designed intervals, where the encrypted "
            "circuits diverge (%s):\n",
            (long long)total,
            L->clamp ? "held at the interval ends here: --approx-clamp"
                     : "evaluated there as the circuits would be");
    fprintf(f, "  %-10s %5s %27s %9s %9s %5s %12s %12s %10s\n", "function", "layer",
            "interval", "below", "above", "nan", "min input", "max input", "worst |u|");
    const int NL = hekv_llama_sim_layers(L->sim);
    for (int k = 0; k < HEKV_LLAMA_NONLIN_COUNT; k++) {
        const hekv_cheby *p = hekv_llama_chebset_get(L->cheb, (hekv_nonlin_kind)k);
        for (int l = 0; l <= NL; l++) {
            hekv_llama_excursion e;
            if (!hekv_llama_sim_excursion(L->sim, (hekv_nonlin_kind)k, l, &e)) continue;
            char layer[16], iv[64];
            if (l < NL) snprintf(layer, sizeof layer, "%d", l);
            else snprintf(layer, sizeof layer, "final");
            snprintf(iv, sizeof iv, "[%.6g, %.6g]", hekv_ckks_cheby_lo(p), hekv_ckks_cheby_hi(p));
            fprintf(f, "  %-10s %5s %27s %9lld %9lld %5lld %12.6g %12.6g %10.6g\n",
                    hekv_ckks_nonlin_name((hekv_nonlin_kind)k), layer, iv, (long long)e.below,
                    (long long)e.above, (long long)e.nan, e.min_x, e.max_x, e.worst_u);
        }
    }
    fprintf(f, "  (|u| = |2x - lo - hi| / (hi - lo), 1 at the ends: a degree-d series grows like "
               "(|u| + sqrt(u^2 - 1))^d beyond them)\n");
}

/* ---- hekv run ----------------------------------------------------------------------------- */

static void run_usage(FILE *f) {
    fprintf(f,
            "usage: hekv run --model FILE [--tokenizer FILE] [--prompt TEXT] [-n N] [-t TEMP]\n"
            "                [-p TOPP] [--seed S] [--precision f64|f32] [--approx FILE\n"
            "                [--approx-clamp]]\n\n"
            "Generates text with the plaintext reference engine from a llama2.c checkpoint,\n"
            "like llama2.c's run: BOS + prompt, then sampled tokens until BOS/EOS, N new tokens\n"
            "or the end of the context. Prints the prompt and its continuation to stdout and\n"
            "the speed to stderr.\n\n"
            "options:\n"
            "  --model FILE       llama2.c checkpoint (legacy version-0 export)\n"
            "  --tokenizer FILE   llama2.c tokenizer.bin (default: the first of STEM.tok,\n"
            "                     STEM.tok.bin, tokenizer.bin, tok<V>.bin beside the model)\n"
            "  --prompt TEXT      prompt (default: empty, start from BOS)\n"
            "  -n N               most new tokens, 0..1000000 (default 256)\n"
            "  -t TEMP            temperature >= 0; 0 = greedy argmax (default 1.0)\n"
            "  -p TOPP            top-p in (0,1) for nucleus sampling, else off (default 0.9)\n"
            "  --seed S           sampling seed, 0..2^64-1 (default: the time; printed to\n"
            "                     stderr); the same seed gives the same text, and every seed\n"
            "                     its own stream (0 starts the generator at a fixed non-zero\n"
            "                     state, not at seed 1's)\n"
            "  --precision P      f64 (default: double activations, float32 weights) or f32\n"
            "                     (float32 throughout, llama2.c run.c's arithmetic)\n"
            "  --approx FILE      FHE simulation: evaluate exp / 1/x / 1/sqrt / SiLU with the\n"
            "                     Chebyshev series of a \"hekv-approx 1\" file as the encrypted\n"
            "                     circuits will (no clamping: outside its interval a series\n"
            "                     diverges); prints to stderr, per function and layer, the\n"
            "                     inputs that fell outside and the worst excursion\n"
            "  --approx-clamp     with --approx: hold inputs at the interval ends instead (a\n"
            "                     bounded simulation; not what the circuits compute)\n"
            "  --help             this text\n");
}

typedef struct {
    const hekv_llama_tokenizer *tok;
    long emitted;
} print_ctx;

/* run.c's safe_printf: a lone byte that is neither printable nor whitespace is dropped. */
static void print_token(int prev, int token, void *user) {
    print_ctx *pc = user;
    size_t n;
    const char *piece = hekv_llama_tokenizer_decode(pc->tok, prev, token, &n);
    if (n == 1) {
        unsigned char b = (unsigned char)piece[0];
        if (!(b >= 32 && b < 127) && b != '\n' && b != '\t' && b != '\r' && b != '\v' &&
            b != '\f')
            return;
    }
    fwrite(piece, 1, n, stdout);
    fflush(stdout);
    pc->emitted++;
}

static int cmd_run(int argc, char **argv) {
    const char *model = NULL, *tokp = NULL, *prompt = "", *approx = NULL, *seeds = NULL,
               *precs = "f64";
    long n_new = 256;
    double temp = 1.0, topp = 0.9;
    int clamp = 0;
    const hekv_cli_opt opts[] = {
        HEKV_CLI_OPT_STR("--model", &model),
        HEKV_CLI_OPT_STR("--tokenizer", &tokp),
        HEKV_CLI_OPT_STR("--prompt", &prompt),
        HEKV_CLI_OPT_STR("--approx", &approx),
        HEKV_CLI_OPT_INT("-n", &n_new, 0, 1000000),
        HEKV_CLI_OPT_DOUBLE("-t", &temp, 0, 1e6),
        HEKV_CLI_OPT_DOUBLE("-p", &topp, -1e6, 1e6),
        HEKV_CLI_OPT_STR("--seed", &seeds),
        HEKV_CLI_OPT_STR("--precision", &precs),
        HEKV_CLI_OPT_FLAG("--approx-clamp", &clamp),
    };
    int parsed = hekv_cli_opts_parse("run", argc, argv, opts, sizeof opts / sizeof opts[0],
                                     run_usage);
    if (parsed != HEKV_CLI_CONTINUE) return parsed;
    unsigned long long seed = 0;
    hekv_llama_precision prec;
    if ((seeds && !parse_u64("--seed", seeds, &seed)) || !parse_precision(precs, &prec))
        return 2;
    if (!model) {
        hekv_cli_error("run: --model FILE is required (try hekv run --help)");
        return 2;
    }
    if (clamp && !approx) {
        hekv_cli_error("run: --approx-clamp needs --approx FILE");
        return 2;
    }
    if (!seeds) seed = (unsigned long long)time(NULL);
    loaded L;
    if (!load_all(&L, model, tokp, approx, clamp, 1)) return 1;
    const hekv_llama_config *c = hekv_llama_model_config(L.model);
    hekv_err err;
    hekv_llama_state *st = NULL;
    hekv_llama_sampler *smp = NULL;
    int *toks = malloc((size_t)c->seq_len * sizeof *toks);
    int rc = 1;
    if (!toks) {
        hekv_cli_error("out of memory");
        goto out;
    }
    if (hekv_llama_state_new(L.model, prec, &st, &err) != HEKV_OK ||
        hekv_llama_sampler_new(c->vocab_size, temp, topp, seed, &smp, &err) != HEKV_OK) {
        hekv_cli_error("%s", err.msg);
        goto out;
    }
    if (temp > 0 && !seeds) fprintf(stderr, "seed: %llu\n", seed);
    print_ctx pc = {L.tok, 0};
    hekv_llama_gen_opts go = {prompt, (int)n_new, L.approx, print_token, &pc};
    size_t n = 0, np = 0;
    double t0 = now_s();
    if (hekv_llama_generate(st, L.tok, smp, toks, (size_t)c->seq_len, &n, &np, &go, &err) !=
        HEKV_OK) {
        printf("\n");
        hekv_cli_error("%s", err.msg);
        goto out;
    }
    double dt = now_s() - t0;
    printf("\n");
    fflush(stdout);
    /* Forward passes: every token but the last was fed (a final pass that sampled BOS or
     * EOS is not counted). */
    size_t forwards = n > 1 ? n - 1 : 0;
    fprintf(stderr, "achieved tok/s: %.1f (%zu forward passes in %.3f s, %s%s)\n",
            dt > 0 ? forwards / dt : 0.0, forwards, dt,
            prec == HEKV_LLAMA_F64 ? "f64" : "f32", L.approx ? ", approx" : "");
    print_excursions(stderr, &L);
    rc = 0;
out:
    free(toks);
    hekv_llama_sampler_free(smp);
    hekv_llama_state_free(st);
    unload(&L);
    return rc;
}

/* ---- hekv calibrate ----------------------------------------------------------------------- */

static void calibrate_usage(FILE *f) {
    fprintf(f,
            "usage: hekv calibrate --model FILE --data TEXTFILE [--tokenizer FILE]\n"
            "                      [--max-tokens N] [--out FILE] [--threads T] [--quiet]\n\n"
            "Runs the float64 reference over a text (in windows of the model's seq_len, each\n"
            "from a fresh KV cache after BOS, as hekv eval) and records, per layer, the input\n"
            "range of every nonlinearity the encrypted engine approximates: RMSNorm mean(x^2),\n"
            "attention scores q.k/sqrt(hs) per head, the softmax exp argument with and without\n"
            "the max subtracted, the softmax sums, the SiLU input, and the final norm and\n"
            "logits. Writes them as a \"hekv-calib 1\" text file (format in models/calib.c)\n"
            "and prints a summary.\n\n"
            "options:\n"
            "  --model FILE       llama2.c checkpoint\n"
            "  --data TEXTFILE    calibration text (UTF-8)\n"
            "  --tokenizer FILE   tokenizer (default: the first of STEM.tok, STEM.tok.bin,\n"
            "                     tokenizer.bin, tok<V>.bin beside the model)\n"
            "  --max-tokens N     use the first N tokens of the text (default 16384; 0 = all)\n"
            "  --out FILE         output (default: the model path with .bin replaced by .calib)\n"
            "  --threads T        windows in parallel (default HEKV_THREADS or 1)\n"
            "  --quiet            no summary\n"
            "  --help             this text\n");
}

static void print_range(const char *what, const hekv_llama_range *r) {
    printf("  %-24s [%12.6g, %12.6g]\n", what, r->lo, r->hi);
}

static int cmd_calibrate(int argc, char **argv) {
    const char *model = NULL, *tokp = NULL, *data = NULL, *outp = NULL;
    long max_tokens = 16384, threads = 0;
    int quiet = 0;
    const hekv_cli_opt opts[] = {
        HEKV_CLI_OPT_STR("--model", &model),
        HEKV_CLI_OPT_STR("--tokenizer", &tokp),
        HEKV_CLI_OPT_STR("--data", &data),
        HEKV_CLI_OPT_STR("--out", &outp),
        HEKV_CLI_OPT_INT("--max-tokens", &max_tokens, 0, 1L << 40),
        HEKV_CLI_OPT_INT("--threads", &threads, 1, 256),
        HEKV_CLI_OPT_FLAG("--quiet", &quiet),
    };
    int parsed = hekv_cli_opts_parse("calibrate", argc, argv, opts,
                                     sizeof opts / sizeof opts[0], calibrate_usage);
    if (parsed != HEKV_CLI_CONTINUE) return parsed;
    if (!model || !data) {
        hekv_cli_error("calibrate: --model FILE and --data TEXTFILE are required (try hekv "
                       "calibrate --help)");
        return 2;
    }
    char defout[4096];
    if (!outp) outp = hekv_cli_swap_ext(model, ".bin", ".calib", defout, sizeof defout);
    hekv_err err;
    /* the output is checked before the minutes of work, not after */
    if (hekv_file_check_writable(outp, &err) != HEKV_OK) {
        hekv_cli_error("calibrate: %s%s", err.msg, defout == outp ? " (the default --out: "
                       "the model path with .bin replaced by .calib; pass --out FILE)" : "");
        return 1;
    }
    loaded L;
    if (!load_all(&L, model, tokp, NULL, 0, 1)) return 1;
    hekv_buf text = {0};
    int rc = 1;
    hekv_llama_calib *cal = NULL;
    if (!read_text(data, &text)) goto out;
    if (hekv_llama_calib_new(hekv_llama_model_config(L.model), &cal, &err) != HEKV_OK) {
        hekv_cli_error("%s", err.msg);
        goto out;
    }
    hekv_llama_eval_opts eo = {max_tokens, hekv_cli_threads(threads), 0, HEKV_LLAMA_F64, NULL,
                               cal, 0, 0};
    hekv_llama_eval_result res;
    double t0 = now_s();
    if (hekv_llama_eval_text(L.model, L.tok, (const char *)text.data, text.len, &eo, &res,
                             &err) != HEKV_OK ||
        hekv_llama_calib_save(cal, outp, &err) != HEKV_OK) {
        hekv_cli_error("%s", err.msg);
        goto out;
    }
    double dt = now_s() - t0;
    if (!quiet) {
        const hekv_llama_config *c = hekv_llama_model_config(L.model);
        printf("calibrated %s on %s: %lld tokens (%lld windows) in %.2f s, cross-entropy %.4f "
               "nats/token\n",
               model, data, (long long)res.tokens, (long long)res.windows, dt, res.ce);
        for (int l = 0; l < c->n_layers; l++) {
            hekv_llama_layer_calib *lc = hekv_llama_calib_layer(cal, l);
            hekv_llama_range sc = lc->attn_score[0];
            for (int h = 1; h < c->n_heads; h++) {
                if (lc->attn_score[h].lo < sc.lo) sc.lo = lc->attn_score[h].lo;
                if (lc->attn_score[h].hi > sc.hi) sc.hi = lc->attn_score[h].hi;
            }
            printf("layer %d\n", l);
            print_range("rmsnorm_att mean(x^2)", &lc->rmsnorm_att);
            print_range("attn_score (all heads)", &sc);
            print_range("softmax_exp_shifted", &lc->softmax_exp_shifted);
            print_range("softmax_sum_shifted", &lc->softmax_sum_shifted);
            print_range("softmax_sum_unshifted", &lc->softmax_sum_unshifted);
            print_range("rmsnorm_ffn mean(x^2)", &lc->rmsnorm_ffn);
            print_range("silu input", &lc->silu);
        }
        hekv_llama_final_calib *fc = hekv_llama_calib_final(cal);
        printf("final\n");
        print_range("rmsnorm_final mean(x^2)", &fc->rmsnorm_final);
        print_range("logits", &fc->logits);
        printf("wrote %s\n", outp);
    }
    rc = 0;
out:
    hekv_buf_free(&text);
    hekv_llama_calib_free(cal);
    unload(&L);
    return rc;
}

/* ---- hekv eval ---------------------------------------------------------------------------- */

static void eval_usage(FILE *f) {
    fprintf(f,
            "usage: hekv eval --model FILE [--tokenizer FILE] [--data FILE] [--max-tokens N]\n"
            "                 [--line-eos] [--lines [--stride S]] [--lambada FILE]\n"
            "                 [--max-examples N] [--precision f64|f32] [--approx FILE\n"
            "                 [--approx-clamp]] [--threads T] [--csv]\n\n"
            "Evaluates the plaintext reference engine.\n\n"
            "With --data: the whole text is tokenized once (dummy-prefix space, no BOS) and cut\n"
            "into consecutive windows of seq_len tokens; each window starts from a fresh KV\n"
            "cache with BOS, so every token is predicted exactly once (no overlap between\n"
            "windows). Reports the tokens scored, words, cross-entropy (nats/token), token\n"
            "perplexity exp(CE) and word perplexity exp(total NLL / words). Words are the\n"
            "whitespace-separated runs of the scored text (with --max-tokens: the text the\n"
            "scored tokens cover, for words, lines and bytes alike); with --line-eos every\n"
            "line also counts one \"<eos>\" word (the WikiText-2 / PTB convention: text lines\n"
            "+ 1 each).\n\n"
            "With --lambada: LAMBADA last-word accuracy; the file has one passage per line,\n"
            "plain text or JSON lines {\"text\": ...}. The target is the last word; the model\n"
            "must produce all its tokens greedily (argmax) after the context.\n\n"
            "options:\n"
            "  --model FILE        llama2.c checkpoint\n"
            "  --tokenizer FILE    tokenizer (default: the first of STEM.tok, STEM.tok.bin,\n"
            "                      tokenizer.bin, tok<V>.bin beside the model)\n"
            "  --data FILE         text for perplexity\n"
            "  --max-tokens N      score only the first N tokens (default 0 = all)\n"
            "  --line-eos          count one <eos> word per line in the word count\n"
            "  --lines             the line-stream convention of scripts/train_lm.py (the\n"
            "                      one its PyTorch perplexities use): BOS, then each line's\n"
            "                      tokens and a newline token; windows continue the stream;\n"
            "                      implies --line-eos\n"
            "  --stride S          with --lines: sliding windows, one every S tokens (1..seq_len;\n"
            "                      default seq_len: no overlap); each window still scores S\n"
            "                      tokens but starts seq_len - S tokens earlier, so every\n"
            "                      prediction has >= seq_len - S tokens of context (the\n"
            "                      sliding-window perplexity; seq_len/S times the work)\n"
            "  --lambada FILE      LAMBADA file (lambada_test_plain_text.txt or .jsonl)\n"
            "  --max-examples N    LAMBADA passages to use (default 0 = all)\n"
            "  --precision P       f64 (default) or f32\n"
            "  --approx FILE       FHE simulation with a \"hekv-approx 1\" Chebyshev file,\n"
            "                      evaluated as the encrypted circuits will be (no clamping);\n"
            "                      the report lists, per function and layer, the inputs\n"
            "                      outside the designed intervals and the worst excursion\n"
            "  --approx-clamp      with --approx: hold inputs at the interval ends instead\n"
            "  --threads T         windows/examples in parallel (default HEKV_THREADS or 1)\n"
            "  --csv               one CSV header and row instead of the readable lines:\n"
            "                      model,data,precision,approx,tokens,words,nll,ce_nats,\n"
            "                      ppl_token,ppl_word,lambada,lambada_examples,lambada_correct,\n"
            "                      lambada_acc,seconds,stride,approx_outside (inputs outside\n"
            "                      the approximation intervals; empty without --approx)\n"
            "  --help              this text\n");
}

static int cmd_eval(int argc, char **argv) {
    const char *model = NULL, *tokp = NULL, *data = NULL, *lambada = NULL, *approx = NULL,
               *precs = "f64";
    long max_tokens = 0, max_examples = 0, threads = 0, stride = 0;
    int csv = 0, line_eos = 0, per_line = 0, clamp = 0;
    const hekv_cli_opt opts[] = {
        HEKV_CLI_OPT_STR("--model", &model),
        HEKV_CLI_OPT_STR("--tokenizer", &tokp),
        HEKV_CLI_OPT_STR("--data", &data),
        HEKV_CLI_OPT_STR("--lambada", &lambada),
        HEKV_CLI_OPT_STR("--approx", &approx),
        HEKV_CLI_OPT_INT("--max-tokens", &max_tokens, 0, 1L << 40),
        HEKV_CLI_OPT_INT("--max-examples", &max_examples, 0, 1L << 40),
        HEKV_CLI_OPT_INT("--threads", &threads, 1, 256),
        HEKV_CLI_OPT_STR("--precision", &precs),
        HEKV_CLI_OPT_FLAG("--csv", &csv),
        HEKV_CLI_OPT_FLAG("--line-eos", &line_eos),
        HEKV_CLI_OPT_FLAG("--lines", &per_line),
        HEKV_CLI_OPT_INT("--stride", &stride, 1, 1L << 20),
        HEKV_CLI_OPT_FLAG("--approx-clamp", &clamp),
    };
    int parsed = hekv_cli_opts_parse("eval", argc, argv, opts, sizeof opts / sizeof opts[0],
                                     eval_usage);
    if (parsed != HEKV_CLI_CONTINUE) return parsed;
    hekv_llama_precision prec;
    if (!parse_precision(precs, &prec)) return 2;
    if (per_line) line_eos = 1; /* --lines implies --line-eos */
    if (stride && !per_line) {
        hekv_cli_error("eval: --stride needs --lines (try hekv eval --help)");
        return 2;
    }
    if (!model || (!data && !lambada)) {
        hekv_cli_error("eval: --model FILE and at least one of --data FILE / --lambada FILE "
                       "are required (try hekv eval --help)");
        return 2;
    }
    if (clamp && !approx) {
        hekv_cli_error("eval: --approx-clamp needs --approx FILE");
        return 2;
    }
    loaded L;
    if (!load_all(&L, model, tokp, approx, clamp, 1)) return 1;
    hekv_llama_eval_opts eo = {max_tokens, hekv_cli_threads(threads), line_eos, prec, L.approx,
                               NULL, per_line, (int)stride};
    hekv_llama_eval_result r;
    hekv_llama_lambada_result lr;
    memset(&r, 0, sizeof r);
    memset(&lr, 0, sizeof lr);
    hekv_err err;
    int rc = 1;
    hekv_buf text = {0};
    double t0 = now_s();
    const char *pname = prec == HEKV_LLAMA_F64 ? "f64" : "f32";
    if (data) {
        if (!read_text(data, &text)) goto out;
        if (hekv_llama_eval_text(L.model, L.tok, (const char *)text.data, text.len, &eo, &r,
                                 &err) != HEKV_OK) {
            hekv_cli_error("%s", err.msg);
            goto out;
        }
        if (!csv) {
            printf("model:             %s (%s%s)\n", model, pname,
                   approx ? (clamp ? ", approx clamped" : ", approx") : "");
            printf("data:              %s (%lld bytes scored)\n", data, (long long)r.bytes);
            const int T = hekv_llama_model_config(L.model)->seq_len;
            if (stride && stride < T)
                printf("tokens:            %lld (%lld sliding windows of up to %d, stride "
                       "%ld)\n", (long long)r.tokens, (long long)r.windows, T, stride);
            else
                printf("tokens:            %lld (%lld windows of up to %d)\n",
                       (long long)r.tokens, (long long)r.windows, T);
            printf("words:             %lld (%lld lines%s)\n", (long long)r.words,
                   (long long)r.lines, line_eos ? ", one <eos> word each" : "");
            printf("cross-entropy:     %.6f nats/token (%.4f bits/token)\n", r.ce,
                   r.ce / log(2.0));
            printf("token perplexity:  %.4f\n", r.ppl_token);
            printf("word perplexity:   %.4f\n", r.ppl_word);
            fflush(stdout);
        }
    }
    if (lambada) {
        if (hekv_llama_eval_lambada(L.model, L.tok, lambada, max_examples, &eo, &lr, &err) !=
            HEKV_OK) {
            hekv_cli_error("%s", err.msg);
            goto out;
        }
        if (!csv)
            printf("lambada:           %lld / %lld = %.2f%% last-word accuracy (greedy; %lld "
                   "lines skipped)\n",
                   (long long)lr.correct, (long long)lr.examples, 100.0 * lr.accuracy,
                   (long long)lr.skipped);
    }
    double dt = now_s() - t0;
    if (csv) {
        char outside[32] = "";
        if (L.sim)
            snprintf(outside, sizeof outside, "%lld", (long long)hekv_llama_sim_outside(L.sim));
        printf("model,data,precision,approx,tokens,words,nll,ce_nats,ppl_token,ppl_word,lambada,"
               "lambada_examples,lambada_correct,lambada_acc,seconds,stride,approx_outside\n");
        printf("%s,%s,%s,%s,%lld,%lld,%.9g,%.9g,%.9g,%.9g,%s,%lld,%lld,%.6f,%.3f,%ld,%s\n",
               model, data ? data : "", pname, approx ? approx : "", (long long)r.tokens,
               (long long)r.words, r.nll, r.ce, r.ppl_token, r.ppl_word, lambada ? lambada : "",
               (long long)lr.examples, (long long)lr.correct, lr.accuracy, dt,
               stride ? stride : (long)hekv_llama_model_config(L.model)->seq_len, outside);
    } else {
        print_excursions(stdout, &L);
        printf("time:              %.2f s\n", dt);
    }
    rc = 0;
out:
    hekv_buf_free(&text);
    unload(&L);
    return rc;
}

/* ---- dispatch ----------------------------------------------------------------------------- */

static void softmax_usage(FILE *f) {
    fprintf(f,
            "usage: hekv softmax --model FILE --calib FILE --data TEXTFILE [--tokenizer FILE]\n"
            "                    [--calib-data FILE] [--max-tokens N] [--steps LIST] [--crude-tol X]\n"
            "                    [--final-tol X] [--margin X] [--csv]\n\n"
            "The softmax the encrypted attention can compute without a plaintext max\n"
            "(normalize-and-square, models/softmax_ns.c): designed per layer from the\n"
            "calibration for each number of squarings k in LIST, then the model with it\n"
            "against the exact model, teacher-forced on the text (windows of seq_len from\n"
            "fresh caches, as eval): argmax agreement, token perplexity of both, the largest\n"
            "logit error, the levels the softmax costs per layer (max over the layers), and\n"
            "the inputs that left their designed intervals. With --calib-data every\n"
            "normalization gets its own reciprocal on the range its sum took on that text\n"
            "(calibration text: not the one compared on).\n\n"
            "options:\n"
            "  --model FILE      llama2.c checkpoint\n"
            "  --calib FILE      hekv-calib 1 file of the model (hekv calibrate)\n"
            "  --data TEXTFILE   text to compare on\n"
            "  --calib-data FILE text to record the normalizations' sums on (its first\n"
            "                    --max-tokens tokens)\n"
            "  --tokenizer FILE  tokenizer (default as for run)\n"
            "  --max-tokens N    the first N tokens of the text (default 4096; 0 = all)\n"
            "  --steps LIST      comma-separated k, 1..12 (default 2,3,4,5)\n"
            "  --crude-tol X     relative error of the intermediate reciprocals (0.3)\n"
            "  --final-tol X     relative error of the last reciprocal (0.001)\n"
            "  --margin X        widening of every calibrated interval (0.5)\n"
            "  --csv             CSV: k,depth_max,depths,agree,tokens,ppl_exact,ppl,"
            "ppl_change_pct,max_logit_err,outside\n");
}

static int cmd_softmax(int argc, char **argv) {
    const char *model = NULL, *tok = NULL, *calib = NULL, *data = NULL, *steps = "2,3,4,5";
    const char *cdata = NULL;
    long max_tokens = 4096;
    double crude = 0.3, final_tol = 1e-3, margin = 0.5;
    int csv = 0;
    const hekv_cli_opt opts[] = {
        HEKV_CLI_OPT_STR("--model", &model),       HEKV_CLI_OPT_STR("--tokenizer", &tok),
        HEKV_CLI_OPT_STR("--calib", &calib),       HEKV_CLI_OPT_STR("--data", &data),
        HEKV_CLI_OPT_STR("--calib-data", &cdata),
        HEKV_CLI_OPT_INT("--max-tokens", &max_tokens, 0, 1L << 40),
        HEKV_CLI_OPT_STR("--steps", &steps),
        HEKV_CLI_OPT_DOUBLE("--crude-tol", &crude, 1e-6, 0.8),
        HEKV_CLI_OPT_DOUBLE("--final-tol", &final_tol, 1e-9, 0.5),
        HEKV_CLI_OPT_DOUBLE("--margin", &margin, 1e-6, 10),
        HEKV_CLI_OPT_FLAG("--csv", &csv),
    };
    int parsed = hekv_cli_opts_parse("softmax", argc, argv, opts, sizeof opts / sizeof opts[0],
                                     softmax_usage);
    if (parsed != HEKV_CLI_CONTINUE) return parsed;
    if (!model || !calib || !data) {
        hekv_cli_error("softmax: --model, --calib and --data are required");
        softmax_usage(stderr);
        return 2;
    }
    int ks[16], nk = 0;
    for (const char *p = steps; *p && nk < 16;) {
        char *end;
        long k = strtol(p, &end, 10);
        if (end == p || k < 1 || k > 12 || (*end && *end != ',')) {
            hekv_cli_error("softmax: --steps '%s' is not a comma-separated list of 1..12",
                           steps);
            return 2;
        }
        ks[nk++] = (int)k;
        p = *end ? end + 1 : end;
    }
    loaded L;
    if (!load_all(&L, model, tok, NULL, 0, 1)) return 1;
    hekv_err err;
    hekv_llama_calib *cal = NULL;
    hekv_buf text = {0};
    int rc = 0;
    if (hekv_llama_calib_load(calib, hekv_llama_model_config(L.model), &cal, &err) != HEKV_OK) {
        hekv_cli_error("%s", err.msg);
        rc = 1;
    }
    if (!rc && !read_text(data, &text)) rc = 1;
    hekv_buf ctext = {0};
    if (!rc && cdata && !read_text(cdata, &ctext)) rc = 1;
    const int nl = hekv_llama_model_config(L.model)->n_layers;
    if (!rc && csv)
        printf("k,depth_max,depths,agree,tokens,ppl_exact,ppl,ppl_change_pct,max_logit_err,"
               "outside\n");
    for (int i = 0; i < nk && !rc; i++) {
        const hekv_llama_nsoftmax_opts o = {ks[i], margin, crude, final_tol, 0, 0};
        hekv_llama_nsoftmax *sm = NULL;
        if ((cdata ? hekv_llama_nsoftmax_design_text(L.model, L.tok, (const char *)ctext.data,
                                                     ctext.len, max_tokens, cal, &o, &sm, &err)
                   : hekv_llama_nsoftmax_design(cal, &o, &sm, &err)) != HEKV_OK) {
            if (err.status != HEKV_ERR_UNSUPPORTED) {
                hekv_cli_error("softmax: k = %d: %s", ks[i], err.msg);
                rc = 1;
                break;
            }
            if (csv) printf("%d,,,,,,,,,\n", ks[i]);
            else printf("k = %d: no design (%s)\n", ks[i], err.msg);
            continue;
        }
        hekv_llama_approx hook;
        hekv_llama_nsoftmax_hook(sm, &hook);
        hekv_llama_compare_result r;
        if (hekv_llama_compare(L.model, L.tok, (const char *)text.data, text.len, max_tokens,
                               &hook, &r, &err) != HEKV_OK) {
            hekv_cli_error("softmax: %s", err.msg);
            hekv_llama_nsoftmax_free(sm);
            rc = 1;
            break;
        }
        int dmax = 0;
        int64_t outside = 0;
        char depths[256] = "";
        for (int l = 0; l < nl; l++) {
            const int d = hekv_llama_nsoftmax_depth(sm, l);
            dmax = d > dmax ? d : dmax;
            outside += hekv_llama_nsoftmax_outside(sm, l);
            snprintf(depths + strlen(depths), sizeof depths - strlen(depths), "%s%d",
                     l ? ";" : "", d);
        }
        const double agree = r.tokens ? 100.0 * (double)r.agree / (double)r.tokens : 0;
        const double dppl = 100.0 * (r.ppl_hook / r.ppl_ref - 1);
        if (csv) {
            printf("%d,%d,%s,%.4f,%lld,%.4f,%.4f,%.4f,%.3g,%lld\n", ks[i], dmax, depths, agree,
                   (long long)r.tokens, r.ppl_ref, r.ppl_hook, dppl, r.max_logit_err,
                   (long long)outside);
        } else {
            printf("k = %d: softmax depth %d (per layer %s), argmax agreement %.2f%% of %lld, "
                   "perplexity %.4f -> %.4f (%+.3f%%), max logit error %.3g, %lld inputs "
                   "outside\n", ks[i], dmax, depths, agree, (long long)r.tokens, r.ppl_ref,
                   r.ppl_hook, dppl, r.max_logit_err, (long long)outside);
            for (int l = 0; l < nl; l++) {
                char d[512];
                hekv_llama_nsoftmax_describe(sm, l, d, sizeof d);
                printf("  layer %d: %s\n", l, d);
            }
        }
        fflush(stdout);
        hekv_llama_nsoftmax_free(sm);
    }
    hekv_buf_free(&text);
    hekv_buf_free(&ctext);
    hekv_llama_calib_free(cal);
    unload(&L);
    return rc;
}

int hekv_cli_model(int argc, char **argv) {
    if (!strcmp(argv[0], "run")) return cmd_run(argc, argv);
    if (!strcmp(argv[0], "calibrate")) return cmd_calibrate(argc, argv);
    if (!strcmp(argv[0], "eval")) return cmd_eval(argc, argv);
    if (!strcmp(argv[0], "softmax")) return cmd_softmax(argc, argv);
    hekv_cli_error("model: unknown subcommand '%s'", argv[0]);
    return 2;
}
