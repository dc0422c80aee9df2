/* eval.c: cross-entropy and token/word perplexity of a text over the reference forward,
 * and, with a calibration attached, the calibration run itself. Both conventions (the
 * plain one, and the line stream of scripts/train_lm.py with optional sliding windows)
 * become one token stream scored by one window loop; the words, lines and bytes the
 * perplexity is normalised by are counted over the text the scored tokens cover. Windows
 * run in parallel (OpenMP, one state each; every allocation and check happens before the
 * parallel region). LAMBADA is lambada.c.
 *
 * By default the windows do not overlap: each starts from a fresh KV cache, so the first
 * tokens of a window see little context and the perplexity is higher than with full
 * context. The line-stream mode also slides windows (opts->stride): each prediction then
 * has at least T - stride tokens of context, at about T / stride times the cost. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "eval_int.h"
#include "src/base/base.h"

/* -log softmax(logits)[target], in double. */
static double token_nll(const double *logits, int V, int target) {
    double mx = logits[0];
    for (int i = 1; i < V; i++)
        if (logits[i] > mx) mx = logits[i];
    double s = 0.0;
    for (int i = 0; i < V; i++) s += exp(logits[i] - mx);
    return mx + log(s) - logits[target];
}

int hekv__eval_threads(int want, int64_t jobs) {
    int t = want > 0 ? want : 1;
    if (t > 256) t = 256;
    if ((int64_t)t > jobs) t = (int)(jobs > 0 ? jobs : 1);
    return t;
}

hekv_status hekv__eval_workers_new(const hekv_llama_model *m, const hekv_llama_eval_opts *o,
                                   int nt, hekv_llama_state **st, hekv_llama_calib **cal,
                                   hekv_err *err) {
    hekv_status s = HEKV_OK;
    for (int i = 0; i < nt; i++) {
        if ((s = hekv_llama_state_new(m, o->precision, &st[i], err)) != HEKV_OK) return s;
        if (o->calib) {
            if ((s = hekv_llama_calib_new(hekv_llama_model_config(m), &cal[i], err)) != HEKV_OK)
                return s;
            if ((s = hekv_llama_state_set_calib(st[i], cal[i], err)) != HEKV_OK) return s;
        }
    }
    return s;
}

void hekv__eval_workers_free(int nt, hekv_llama_state **st, hekv_llama_calib **cal) {
    for (int i = 0; i < nt; i++) {
        if (st) hekv_llama_state_free(st[i]);
        if (cal) hekv_llama_calib_free(cal[i]);
    }
    free(st);
    free(cal);
}

hekv_status hekv__eval_check(const hekv_llama_model *m, const hekv_llama_tokenizer *tok,
                             const hekv_llama_eval_opts *o, const char *who, hekv_err *err) {
    if (!m || !tok || !o) return hekv_err_set(err, HEKV_ERR_ARG, "%s: NULL argument", who);
    if (hekv_llama_tokenizer_vocab_size(tok) != hekv_llama_model_config(m)->vocab_size)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: the tokenizer has %d tokens but the model's vocab_size is %d",
                            who, hekv_llama_tokenizer_vocab_size(tok),
                            hekv_llama_model_config(m)->vocab_size);
    if (o->calib && o->precision != HEKV_LLAMA_F64)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: calibration needs the float64 forward (precision f64)", who);
    return HEKV_OK;
}

/* ---------------------------------------------------------------------------------------
 * Streams: the tokens to score and the text they cover
 * ------------------------------------------------------------------------------------- */

/* A stream s[0..n): s[0] is BOS, and s[1..n) are the n - 1 tokens to predict; bytes,
 * lines and words describe text[0..bytes), the text those predictions cover. */
typedef struct {
    int *s;
    size_t n;
    int restart_bos; /* 1: every window feeds BOS first (the plain convention) */
    int64_t bytes, lines, words;
} stream;

static int is_ws(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int64_t count_words(const char *text, int64_t n) {
    int64_t words = 0;
    int in_word = 0;
    for (int64_t i = 0; i < n; i++) {
        int ws = is_ws((unsigned char)text[i]);
        if (!ws && !in_word) words++;
        in_word = !ws;
    }
    return words;
}

/* Bytes that tokens t[0..n) of one encoding (a dummy-prefix space first) stand for. */
static size_t encoded_bytes(const hekv_llama_tokenizer *tok, const int *t, size_t n) {
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        size_t bl;
        hekv_llama_tokenizer_decode(tok, -1, t[i], &bl);
        bytes += bl;
    }
    return bytes > 0 ? bytes - 1 : 0;
}

/* The plain convention: BOS, then the encoding of the whole text (dummy prefix, no BOS),
 * cut after max_tokens tokens (> 0). Lines: each '\n' of the covered text, plus a last
 * line without one. */
static hekv_status plain_stream(const hekv_llama_tokenizer *tok, const char *text, size_t len,
                                int64_t max_tokens, stream *out, hekv_err *err) {
    int *s = malloc((len + 4) * sizeof *s);
    if (!s) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_eval_text: out of memory");
    s[0] = HEKV_LLAMA_TOKEN_BOS;
    size_t n = 0;
    hekv_status st = hekv_llama_tokenizer_encode(tok, s + 1, len + 3, &n, text, len, 0, 0, err);
    if (st != HEKV_OK) {
        free(s);
        return st;
    }
    if (max_tokens > 0 && (uint64_t)max_tokens < n) n = (size_t)max_tokens;
    size_t bytes = encoded_bytes(tok, s + 1, n);
    if (bytes > len) bytes = len;
    int64_t lines = 0;
    for (size_t i = 0; i < bytes; i++) lines += text[i] == '\n';
    if (bytes > 0 && text[bytes - 1] != '\n') lines++;
    *out = (stream){s, n + 1, 1, (int64_t)bytes, lines, count_words(text, (int64_t)bytes)};
    return HEKV_OK;
}

/* The line stream (see hekv_llama_eval_text in llama.h): BOS, then per line its stripped
 * encoding and <0x0A>, cut after max_tokens predicted tokens (> 0). The covered text ends
 * after the last scored line's '\n', or, when the cut falls inside a line, after the bytes
 * of that line's scored tokens; every line with a scored token counts. */
static hekv_status line_stream(const hekv_llama_tokenizer *tok, const char *text, size_t len,
                               int64_t max_tokens, stream *out, hekv_err *err) {
    int nl = -1;
    for (int id = 0; id < hekv_llama_tokenizer_vocab_size(tok); id++)
        if (!strcmp(hekv_llama_tokenizer_piece(tok, id), "<0x0A>")) {
            nl = id;
            break;
        }
    if (nl < 0)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "hekv_llama_eval_text: per-line mode needs the byte token <0x0A> "
                            "in the vocabulary; this tokenizer has none");
    /* every line adds at most (its length + 3) + 1 tokens */
    int *s = malloc((len + 4 * (len + 1) + 2) * sizeof *s);
    if (!s) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_eval_text: out of memory");
    const size_t keep =
        max_tokens > 0 && (uint64_t)max_tokens < SIZE_MAX - 1 ? (size_t)max_tokens + 1 : SIZE_MAX;
    size_t k = 0, pos = 0, covered = 0;
    int64_t lines = 0;
    s[k++] = HEKV_LLAMA_TOKEN_BOS;
    while (pos < len && k < keep) {
        size_t end = pos;
        while (end < len && text[end] != '\n') end++;
        size_t a = pos, b = end;
        while (a < b && (text[a] == ' ' || text[a] == '\t' || text[a] == '\r')) a++;
        while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' || text[b - 1] == '\r')) b--;
        const size_t k0 = k;
        if (b > a) {
            size_t got = 0;
            hekv_status st = hekv_llama_tokenizer_encode(tok, s + k, b - a + 3, &got, text + a,
                                                         b - a, 0, 0, err);
            if (st != HEKV_OK) {
                free(s);
                return st;
            }
            k += got;
        }
        s[k++] = nl;
        lines++;
        covered = end + 1 < len ? end + 1 : len;
        if (k > keep) { /* cut inside this line's tokens: the bytes they stand for */
            k = keep;
            size_t in_line = encoded_bytes(tok, s + k0, k - k0);
            covered = a + (in_line < b - a ? in_line : b - a);
        }
        pos = end + 1;
    }
    *out = (stream){s, k, 0, (int64_t)covered, lines, count_words(text, (int64_t)covered)};
    return HEKV_OK;
}

/* ---------------------------------------------------------------------------------------
 * Scoring: the one window loop
 * ------------------------------------------------------------------------------------- */

/* Scores s->s[1..n) in windows of S predictions: window w predicts stream tokens
 * wS+1 .. wS+cnt from a fresh cache that starts at stream token b = max(0, wS + S - T)
 * (the first skip = wS - b predictions only give context), feeding BOS first instead of
 * s[b] when restart_bos. Fills res->nll (summed in window order: independent of the
 * thread count), tokens and windows. */
static hekv_status score_stream(const hekv_llama_model *m, const hekv_llama_eval_opts *o,
                                const stream *str, int S, hekv_llama_eval_result *res,
                                hekv_err *err) {
    const hekv_llama_config *cfg = hekv_llama_model_config(m);
    const int T = cfg->seq_len, V = cfg->vocab_size;
    const int *s = str->s;
    const int64_t npred = (int64_t)str->n - 1, n_win = (npred + S - 1) / S;
    const int nt = hekv__eval_threads(o->threads, n_win);
    hekv_status st = HEKV_OK;
    double *wnll = calloc((size_t)n_win, sizeof *wnll);
    hekv_status *wst = calloc((size_t)n_win, sizeof *wst);
    hekv_llama_state **sts = calloc((size_t)nt, sizeof *sts);
    hekv_llama_calib **cal = calloc((size_t)nt, sizeof *cal);
    if (!wnll || !wst || !sts || !cal) {
        st = hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_eval_text: out of memory");
        goto done;
    }
    if ((st = hekv__eval_workers_new(m, o, nt, sts, cal, err)) != HEKV_OK) goto done;

#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (int64_t w = 0; w < n_win; w++) {
        hekv_llama_state *sw = sts[omp_get_thread_num()];
        const int64_t first = w * S, b = first + S - T > 0 ? first + S - T : 0;
        const int *wt = s + b;
        const int cnt = (int)(npred - first < S ? npred - first : S);
        const int skip = (int)(first - b), end = skip + cnt;
        double nll = 0.0;
        hekv_status ws = HEKV_OK;
        hekv_llama_state_reset(sw);
        for (int p = 0; p < end && ws == HEKV_OK; p++) {
            const int in = p == 0 && str->restart_bos ? HEKV_LLAMA_TOKEN_BOS : wt[p];
            ws = hekv_llama_forward(sw, in, p, o->approx, NULL);
            if (ws == HEKV_OK && p >= skip)
                nll += token_nll(hekv_llama_state_logits(sw), V, wt[p + 1]);
        }
        wnll[w] = nll;
        wst[w] = ws;
    }
    for (int64_t w = 0; w < n_win; w++) {
        if (wst[w] != HEKV_OK) { /* cannot happen: tokens and positions were checked */
            st = hekv_err_set(err, wst[w], "hekv_llama_eval_text: window %lld failed",
                              (long long)w);
            goto done;
        }
        res->nll += wnll[w];
    }
    if (o->calib)
        for (int i = 0; i < nt; i++)
            if ((st = hekv_llama_calib_merge(o->calib, cal[i], err)) != HEKV_OK) goto done;
    res->tokens = npred;
    res->windows = n_win;
done:
    hekv__eval_workers_free(sts ? nt : 0, sts, cal);
    free(wnll);
    free(wst);
    return st;
}

hekv_status hekv_llama_eval_text(const hekv_llama_model *m, const hekv_llama_tokenizer *tok,
                                 const char *text, size_t len, const hekv_llama_eval_opts *o,
                                 hekv_llama_eval_result *res, hekv_err *err) {
    hekv_status s = hekv__eval_check(m, tok, o, "hekv_llama_eval_text", err);
    if (s != HEKV_OK) return s;
    if (!res || (!text && len))
        return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_eval_text: NULL argument");
    memset(res, 0, sizeof *res);
    if (len == 0)
        return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_eval_text: the text is empty");
    const int T = hekv_llama_model_config(m)->seq_len;
    if (o->stride > 0 && (!o->per_line || o->stride > T))
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "hekv_llama_eval_text: a stride needs the line-stream mode and must "
                            "be at most the context (%d); got %d",
                            T, o->stride);
    stream str;
    s = o->per_line ? line_stream(tok, text, len, o->max_tokens, &str, err)
                    : plain_stream(tok, text, len, o->max_tokens, &str, err);
    if (s != HEKV_OK) return s;
    if (str.n < 2) {
        free(str.s);
        return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_eval_text: the text is empty");
    }
    s = score_stream(m, o, &str, o->per_line && o->stride > 0 ? o->stride : T, res, err);
    free(str.s);
    if (s != HEKV_OK) return s;
    res->bytes = str.bytes;
    res->lines = str.lines;
    res->words = str.words + (o->per_line || o->line_eos ? str.lines : 0);
    res->ce = res->nll / (double)res->tokens;
    res->ppl_token = exp(res->ce);
    res->ppl_word = res->words > 0 ? exp(res->nll / (double)res->words) : NAN;
    return HEKV_OK;
}
