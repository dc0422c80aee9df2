/* eval.c: evaluation drivers over the reference forward: cross-entropy and token/word
 * perplexity of a text in windows of the model's context, LAMBADA last-word accuracy
 * (plain-text or JSON-lines files), and, with a calibration attached, the calibration run
 * itself. Independent windows / examples run in parallel (OpenMP, one state each; every
 * allocation and check happens before the parallel region).
 *
 * By default the windows do not overlap: each starts from a fresh KV cache, so the first
 * tokens of a window see little context and the perplexity is higher than with full
 * context. The line-stream mode also slides windows (opts->stride): each prediction then
 * has at least T - stride tokens of context, at about T / stride times the cost. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hekv/llama.h"
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

static int clamp_threads(int want, int64_t jobs) {
    int t = want > 0 ? want : 1;
    if (t > 256) t = 256;
    if ((int64_t)t > jobs) t = (int)(jobs > 0 ? jobs : 1);
    return t;
}

/* States (and calibrations) for nt threads, all or nothing. */
static hekv_status make_workers(const hekv_llama_model *m, const hekv_llama_eval_opts *o,
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

static void free_workers(int nt, hekv_llama_state **st, hekv_llama_calib **cal) {
    for (int i = 0; i < nt; i++) {
        if (st) hekv_llama_state_free(st[i]);
        if (cal) hekv_llama_calib_free(cal[i]);
    }
    free(st);
    free(cal);
}

static hekv_status check_common(const hekv_llama_model *m, const hekv_llama_tokenizer *tok,
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

/* The line-stream convention (see hekv_llama_eval_text in llama.h): builds the stream into
 * *out (malloc'd, *n tokens) and counts lines and whitespace words. */
static hekv_status line_stream(const hekv_llama_tokenizer *tok, const char *text, size_t len,
                               int **out, size_t *n, int64_t *lines, int64_t *words,
                               hekv_err *err) {
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
    size_t k = 0;
    s[k++] = HEKV_LLAMA_TOKEN_BOS;
    *lines = *words = 0;
    size_t pos = 0;
    while (pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n') end++;
        size_t a = pos, b = end;
        while (a < b && (text[a] == ' ' || text[a] == '\t' || text[a] == '\r')) a++;
        while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' || text[b - 1] == '\r')) b--;
        if (b > a) {
            size_t got = 0;
            hekv_status st = hekv_llama_tokenizer_encode(tok, s + k, b - a + 3, &got, text + a,
                                                         b - a, 0, 0, err);
            if (st != HEKV_OK) {
                free(s);
                return st;
            }
            k += got;
            int in_word = 0;
            for (size_t i = a; i < b; i++) {
                int ws = isspace((unsigned char)text[i]) != 0;
                if (!ws && !in_word) (*words)++;
                in_word = !ws;
            }
        }
        s[k++] = nl;
        (*lines)++;
        pos = end + 1;
    }
    *out = s;
    *n = k;
    return HEKV_OK;
}

static hekv_status eval_lines(const hekv_llama_model *m, const hekv_llama_tokenizer *tok,
                              const char *text, size_t len, const hekv_llama_eval_opts *o,
                              hekv_llama_eval_result *res, hekv_err *err) {
    const hekv_llama_config *cfg = hekv_llama_model_config(m);
    const int T = cfg->seq_len, V = cfg->vocab_size;
    int *s = NULL;
    size_t ns = 0;
    int64_t lines = 0, words = 0;
    hekv_status st = line_stream(tok, text, len, &s, &ns, &lines, &words, err);
    if (st != HEKV_OK) return st;
    if (ns < 2) {
        free(s);
        return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_eval_text: the text is empty");
    }
    int64_t npred = (int64_t)ns - 1;
    if (o->max_tokens > 0 && o->max_tokens < npred) npred = o->max_tokens;
    const int S = o->stride > 0 ? o->stride : T; /* checked <= T by the caller */
    const int64_t n_win = (npred + S - 1) / S;
    const int nt = clamp_threads(o->threads, n_win);
    double *wnll = calloc((size_t)n_win, sizeof *wnll);
    hekv_status *wst = calloc((size_t)n_win, sizeof *wst);
    hekv_llama_state **sts = calloc((size_t)nt, sizeof *sts);
    hekv_llama_calib **cal = calloc((size_t)nt, sizeof *cal);
    if (!wnll || !wst || !sts || !cal) {
        st = hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_eval_text: out of memory");
        goto done;
    }
    if ((st = make_workers(m, o, nt, sts, cal, err)) != HEKV_OK) goto done;

#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (int64_t w = 0; w < n_win; w++) {
        /* window w scores the predictions of stream tokens w*S + 1 .. w*S + cnt from a
         * fresh cache at stream token b (T - S tokens earlier, or the stream's start) */
        hekv_llama_state *sw = sts[omp_get_thread_num()];
        const int64_t first = w * S, b = first + S - T > 0 ? first + S - T : 0;
        const int *wt = s + b;
        const int cnt = (int)(npred - first < S ? npred - first : S);
        const int skip = (int)(first - b), end = skip + cnt;
        double nll = 0.0;
        hekv_status ws = HEKV_OK;
        hekv_llama_state_reset(sw);
        for (int p = 0; p < end && ws == HEKV_OK; p++) {
            ws = hekv_llama_forward(sw, wt[p], p, o->approx, NULL);
            if (ws == HEKV_OK && p >= skip)
                nll += token_nll(hekv_llama_state_logits(sw), V, wt[p + 1]);
        }
        wnll[w] = nll;
        wst[w] = ws;
    }
    for (int64_t w = 0; w < n_win; w++) {
        if (wst[w] != HEKV_OK) {
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
    res->bytes = (int64_t)len;
    res->lines = lines;
    res->words = words + lines;
    res->ce = res->nll / (double)npred;
    res->ppl_token = exp(res->ce);
    res->ppl_word = exp(res->nll / (double)res->words);
done:
    free_workers(sts ? nt : 0, sts, cal);
    free(s);
    free(wnll);
    free(wst);
    return st;
}

hekv_status hekv_llama_eval_text(const hekv_llama_model *m, const hekv_llama_tokenizer *tok,
                                 const char *text, size_t len, const hekv_llama_eval_opts *o,
                                 hekv_llama_eval_result *res, hekv_err *err) {
    hekv_status s = check_common(m, tok, o, "hekv_llama_eval_text", err);
    if (s != HEKV_OK) return s;
    if (!res || (!text && len))
        return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_eval_text: NULL argument");
    memset(res, 0, sizeof *res);
    if (len == 0)
        return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_eval_text: the text is empty");
    if (o->stride > 0 && (!o->per_line || o->stride > hekv_llama_model_config(m)->seq_len))
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "hekv_llama_eval_text: a stride needs the line-stream mode and must "
                            "be at most the context (%d); got %d",
                            hekv_llama_model_config(m)->seq_len, o->stride);
    if (o->per_line) return eval_lines(m, tok, text, len, o, res, err);
    const hekv_llama_config *cfg = hekv_llama_model_config(m);
    const int T = cfg->seq_len, V = cfg->vocab_size;

    int *toks = malloc((len + 3) * sizeof *toks);
    if (!toks) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_eval_text: out of memory");
    size_t n_text = 0;
    if ((s = hekv_llama_tokenizer_encode(tok, toks, len + 3, &n_text, text, len, 0, 0, err)) !=
        HEKV_OK) {
        free(toks);
        return s;
    }
    int64_t n = (int64_t)n_text;
    if (o->max_tokens > 0 && o->max_tokens < n) n = o->max_tokens;
    /* Windows of T text tokens: BOS at position 0, then the window's first T-1 tokens at
     * positions 1..T-1; the logits at position p predict the window's token p. */
    const int64_t W = T;
    const int64_t n_win = (n + W - 1) / W;
    const int nt = clamp_threads(o->threads, n_win);
    double *wnll = calloc((size_t)n_win, sizeof *wnll);
    hekv_status *wst = calloc((size_t)n_win, sizeof *wst);
    hekv_llama_state **st = calloc((size_t)nt, sizeof *st);
    hekv_llama_calib **cal = calloc((size_t)nt, sizeof *cal);
    if (!wnll || !wst || !st || !cal) {
        s = hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_eval_text: out of memory");
        goto done;
    }
    if ((s = make_workers(m, o, nt, st, cal, err)) != HEKV_OK) goto done;

#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (int64_t w = 0; w < n_win; w++) {
        hekv_llama_state *sw = st[omp_get_thread_num()];
        const int *wt = toks + w * W;
        const int cnt = (int)(n - w * W < W ? n - w * W : W);
        double nll = 0.0;
        hekv_status ws = HEKV_OK;
        hekv_llama_state_reset(sw);
        for (int p = 0; p < cnt && ws == HEKV_OK; p++) {
            int in = p == 0 ? HEKV_LLAMA_TOKEN_BOS : wt[p - 1];
            ws = hekv_llama_forward(sw, in, p, o->approx, NULL);
            if (ws == HEKV_OK) nll += token_nll(hekv_llama_state_logits(sw), V, wt[p]);
        }
        wnll[w] = nll;
        wst[w] = ws;
    }

    for (int64_t w = 0; w < n_win; w++) {
        if (wst[w] != HEKV_OK) { /* cannot happen: tokens and positions were checked */
            s = hekv_err_set(err, wst[w], "hekv_llama_eval_text: window %lld failed",
                             (long long)w);
            goto done;
        }
        res->nll += wnll[w]; /* summed in window order: independent of the thread count */
    }
    if (o->calib)
        for (int i = 0; i < nt; i++)
            if ((s = hekv_llama_calib_merge(o->calib, cal[i], err)) != HEKV_OK) goto done;

    /* The text these tokens cover: their bytes minus the dummy-prefix space. */
    int64_t bytes = 0;
    for (int64_t i = 0; i < n; i++) {
        size_t bl;
        hekv_llama_tokenizer_decode(tok, -1, toks[i], &bl);
        bytes += (int64_t)bl;
    }
    bytes = bytes > 0 ? bytes - 1 : 0;
    if (bytes > (int64_t)len) bytes = (int64_t)len;
    int64_t words = 0, lines = 0;
    int in_word = 0;
    for (int64_t i = 0; i < bytes; i++) {
        unsigned char c = (unsigned char)text[i];
        int ws = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
        if (!ws && !in_word) words++;
        in_word = !ws;
        if (c == '\n') lines++;
    }
    if (bytes > 0 && text[bytes - 1] != '\n') lines++;
    res->tokens = n;
    res->windows = n_win;
    res->bytes = bytes;
    res->lines = lines;
    res->words = words + (o->line_eos ? lines : 0);
    res->ce = res->nll / (double)n;
    res->ppl_token = exp(res->ce);
    res->ppl_word = res->words > 0 ? exp(res->nll / (double)res->words) : NAN;
done:
    free_workers(st ? nt : 0, st, cal);
    free(toks);
    free(wnll);
    free(wst);
    return s;
}

/* ---------------------------------------------------------------------------------------
 * LAMBADA
 * ------------------------------------------------------------------------------------- */

static void put_utf8(char **o, unsigned cp) {
    unsigned char *p = (unsigned char *)*o;
    if (cp < 0x80) {
        *p++ = (unsigned char)cp;
    } else if (cp < 0x800) {
        *p++ = (unsigned char)(0xC0 | (cp >> 6));
        *p++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *p++ = (unsigned char)(0xE0 | (cp >> 12));
        *p++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        *p++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else {
        *p++ = (unsigned char)(0xF0 | (cp >> 18));
        *p++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        *p++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        *p++ = (unsigned char)(0x80 | (cp & 0x3F));
    }
    *o = (char *)p;
}

static int hex4(const char *p, unsigned *v) {
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return 0;
        *v = *v * 16 + (unsigned)d;
    }
    return 1;
}

/* Parses a JSON string at *p (pointing at '"') within [*p, end); the decoded bytes go to
 * out (may be NULL to skip), which needs room for as many bytes as the source. */
static int json_string(const char **pp, const char *end, char *out, size_t *out_len) {
    const char *p = *pp;
    char *o = out, dummy[4];
    if (p >= end || *p != '"') return 0;
    p++;
    while (p < end && *p != '"') {
        char *w = out ? o : dummy;
        if (*p != '\\') {
            *w++ = *p++;
        } else {
            if (++p >= end) return 0;
            char c = *p++;
            switch (c) {
            case '"': *w++ = '"'; break;
            case '\\': *w++ = '\\'; break;
            case '/': *w++ = '/'; break;
            case 'b': *w++ = '\b'; break;
            case 'f': *w++ = '\f'; break;
            case 'n': *w++ = '\n'; break;
            case 'r': *w++ = '\r'; break;
            case 't': *w++ = '\t'; break;
            case 'u': {
                unsigned cp, lo;
                if (end - p < 4 || !hex4(p, &cp)) return 0;
                p += 4;
                if (cp >= 0xD800 && cp < 0xDC00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
                    hex4(p + 2, &lo) && lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                }
                put_utf8(&w, cp); /* \uXXXX is 6 source bytes: UTF-8 needs at most 4 */
                break;
            }
            default: return 0;
            }
        }
        if (out) o = w;
    }
    if (p >= end) return 0;
    *pp = p + 1;
    if (out_len) *out_len = (size_t)(o - out);
    return 1;
}

static const char *skip_ws(const char *p, const char *end) {
    while (p < end && isspace((unsigned char)*p)) p++;
    return p;
}

/* Skips one JSON value (string, object, array, or a bare literal/number). */
static int json_skip(const char **pp, const char *end) {
    const char *p = *pp;
    if (p < end && *p == '"') {
        if (!json_string(&p, end, NULL, NULL)) return 0;
    } else if (p < end && (*p == '{' || *p == '[')) {
        int depth = 0;
        while (p < end) {
            if (*p == '"') {
                if (!json_string(&p, end, NULL, NULL)) return 0;
                continue;
            }
            if (*p == '{' || *p == '[') depth++;
            if (*p == '}' || *p == ']') depth--;
            p++;
            if (depth == 0) break;
        }
        if (depth != 0) return 0;
    } else {
        while (p < end && *p != ',' && *p != '}' && !isspace((unsigned char)*p)) p++;
    }
    *pp = p;
    return 1;
}

/* The "text" member of a one-line JSON object, decoded into out (room for end - p bytes). */
static int json_text_member(const char *p, const char *end, char *out, size_t *out_len) {
    int found = 0;
    p = skip_ws(p, end);
    if (p >= end || *p++ != '{') return 0;
    for (;;) {
        p = skip_ws(p, end);
        if (p < end && *p == '}') break;
        const char *ks = p;
        if (!json_string(&p, end, NULL, NULL)) return 0;
        int is_text = p - ks == 6 && !memcmp(ks, "\"text\"", 6);
        p = skip_ws(p, end);
        if (p >= end || *p++ != ':') return 0;
        p = skip_ws(p, end);
        if (is_text) {
            if (!json_string(&p, end, out, out_len)) return 0;
            found = 1;
        } else if (!json_skip(&p, end)) {
            return 0;
        }
        p = skip_ws(p, end);
        if (p < end && *p == ',') { p++; continue; }
        if (p < end && *p == '}') break;
        return 0;
    }
    return found;
}

static int is_space(char c) { return isspace((unsigned char)c) != 0; }

typedef struct {
    size_t off_ctx, n_ctx; /* into the token pool; n_ctx includes BOS */
    size_t off_tgt, n_tgt;
} lambada_ex;

hekv_status hekv_llama_eval_lambada(const hekv_llama_model *m, const hekv_llama_tokenizer *tok,
                                    const char *path, int64_t max_examples,
                                    const hekv_llama_eval_opts *o,
                                    hekv_llama_lambada_result *res, hekv_err *err) {
    hekv_status s = check_common(m, tok, o, "hekv_llama_eval_lambada", err);
    if (s != HEKV_OK) return s;
    if (!path || !res)
        return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_eval_lambada: NULL argument");
    memset(res, 0, sizeof *res);
    const hekv_llama_config *cfg = hekv_llama_model_config(m);
    const int T = cfg->seq_len;

    /* Read the file. */
    FILE *f = fopen(path, "rb");
    if (!f) return hekv_err_set(err, HEKV_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    long flen;
    if (fseek(f, 0, SEEK_END) != 0 || (flen = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return hekv_err_set(err, HEKV_ERR_IO, "cannot determine the size of %s", path);
    }
    char *data = malloc((size_t)flen + 1);
    char *scratch = malloc((size_t)flen + 1);
    int *pool = NULL;
    lambada_ex *ex = NULL;
    signed char *ok = NULL;
    hekv_status *exst = NULL;
    hekv_llama_state **st = NULL;
    int nt = 0;
    if (!data || !scratch) {
        fclose(f);
        s = hekv_err_set(err, HEKV_ERR_NOMEM, "out of memory reading %s", path);
        goto done;
    }
    if (fread(data, 1, (size_t)flen, f) != (size_t)flen) {
        fclose(f);
        s = hekv_err_set(err, HEKV_ERR_IO, "short read of %s", path);
        goto done;
    }
    fclose(f);
    data[flen] = '\0';

    /* Pass 1: passages -> tokens (every example is encoded before the parallel part). */
    size_t pool_cap = (size_t)flen + 64, pool_n = 0, ex_cap = 1024, n_ex = 0;
    pool = malloc(pool_cap * sizeof *pool);
    ex = malloc(ex_cap * sizeof *ex);
    if (!pool || !ex) {
        s = hekv_err_set(err, HEKV_ERR_NOMEM, "out of memory reading %s", path);
        goto done;
    }
    int line_no = 0;
    for (char *ln = data; ln < data + flen;) {
        char *nl = memchr(ln, '\n', (size_t)(data + flen - ln));
        char *le = nl ? nl : data + flen;
        char *next = nl ? nl + 1 : data + flen;
        line_no++;
        const char *p = ln, *e = le;
        p = skip_ws(p, e);
        if (p == e) { ln = next; continue; } /* blank line */
        if (max_examples > 0 && (int64_t)n_ex >= max_examples) break;
        size_t plen = 0;
        const char *passage = p;
        if (*p == '{') {
            if (!json_text_member(p, e, scratch, &plen)) {
                s = hekv_err_set(err, HEKV_ERR_FORMAT,
                                 "%s line %d: not a JSON object with a \"text\" string", path,
                                 line_no);
                goto done;
            }
            passage = scratch;
        } else {
            plen = (size_t)(e - p);
        }
        /* Split at the last run of whitespace. */
        while (plen && is_space(passage[plen - 1])) plen--;
        size_t ws = plen;
        while (ws && !is_space(passage[ws - 1])) ws--;
        size_t ctx_end = ws;
        while (ctx_end && is_space(passage[ctx_end - 1])) ctx_end--;
        size_t lead = 0;
        while (lead < ctx_end && is_space(passage[lead])) lead++;
        if (ws == 0 || ctx_end <= lead || plen == ws) {
            res->skipped++;
            ln = next;
            continue;
        }
        const char *ctx = passage + lead, *tgt = passage + ws;
        size_t ctx_len = ctx_end - lead, tgt_len = plen - ws;
        size_t need = ctx_len + tgt_len + 8;
        if (pool_n + need > pool_cap) {
            size_t nc = 2 * pool_cap + need;
            int *np = realloc(pool, nc * sizeof *np);
            if (!np) { s = hekv_err_set(err, HEKV_ERR_NOMEM, "out of memory"); goto done; }
            pool = np;
            pool_cap = nc;
        }
        if (n_ex == ex_cap) {
            lambada_ex *ne = realloc(ex, 2 * ex_cap * sizeof *ne);
            if (!ne) { s = hekv_err_set(err, HEKV_ERR_NOMEM, "out of memory"); goto done; }
            ex = ne;
            ex_cap *= 2;
        }
        lambada_ex *x = &ex[n_ex];
        x->off_ctx = pool_n;
        if ((s = hekv_llama_tokenizer_encode(tok, pool + pool_n, ctx_len + 3, &x->n_ctx, ctx,
                                             ctx_len, 1, 0, err)) != HEKV_OK)
            goto done;
        pool_n += x->n_ctx;
        x->off_tgt = pool_n;
        if ((s = hekv_llama_tokenizer_encode(tok, pool + pool_n, tgt_len + 3, &x->n_tgt, tgt,
                                             tgt_len, 0, 0, err)) != HEKV_OK)
            goto done;
        pool_n += x->n_tgt;
        if (x->n_tgt == 0 || x->n_tgt >= (size_t)T) {
            res->skipped++; /* a target the context window cannot hold */
            pool_n = x->off_ctx;
        } else {
            /* Fed positions: n_ctx + n_tgt - 1 <= T; keep BOS and the context's tail. */
            size_t keep = (size_t)T + 1 - x->n_tgt;
            if (x->n_ctx > keep) {
                size_t drop = x->n_ctx - keep;
                memmove(pool + x->off_ctx + 1, pool + x->off_ctx + 1 + drop,
                        (x->n_ctx - 1 - drop + x->n_tgt) * sizeof *pool);
                x->n_ctx = keep;
                x->off_tgt = x->off_ctx + x->n_ctx;
                pool_n = x->off_tgt + x->n_tgt;
            }
            n_ex++;
        }
        ln = next;
    }
    if (n_ex == 0) {
        s = hekv_err_set(err, HEKV_ERR_ARG,
                         "%s has no passage with a context and a last word (%lld skipped)",
                         path, (long long)res->skipped);
        goto done;
    }

    /* Pass 2: greedy last-word match, examples in parallel. */
    nt = clamp_threads(o->threads, (int64_t)n_ex);
    ok = calloc(n_ex, 1);
    exst = calloc(n_ex, sizeof *exst);
    st = calloc((size_t)nt, sizeof *st);
    hekv_llama_calib **cal = calloc((size_t)nt, sizeof *cal);
    if (!ok || !exst || !st || !cal) {
        free(cal);
        s = hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_eval_lambada: out of memory");
        goto done;
    }
    hekv_llama_eval_opts o2 = *o;
    o2.calib = NULL; /* LAMBADA does not calibrate */
    s = make_workers(m, &o2, nt, st, cal, err);
    free(cal);
    if (s != HEKV_OK) goto done;
    const int V = cfg->vocab_size;

#pragma omp parallel for num_threads(nt) schedule(dynamic, 4)
    for (size_t i = 0; i < n_ex; i++) {
        hekv_llama_state *sw = st[omp_get_thread_num()];
        const int *c = pool + ex[i].off_ctx, *t = pool + ex[i].off_tgt;
        const int nc = (int)ex[i].n_ctx, ntg = (int)ex[i].n_tgt;
        hekv_status es = HEKV_OK;
        int good = 1;
        hekv_llama_state_reset(sw);
        for (int p = 0; p < nc && es == HEKV_OK; p++)
            es = hekv_llama_forward(sw, c[p], p, o->approx, NULL);
        for (int k = 0; k < ntg && es == HEKV_OK && good; k++) {
            if (hekv_llama_argmax(hekv_llama_state_logits(sw), V) != t[k]) good = 0;
            else if (k + 1 < ntg) es = hekv_llama_forward(sw, t[k], nc + k, o->approx, NULL);
        }
        ok[i] = (signed char)good;
        exst[i] = es;
    }

    for (size_t i = 0; i < n_ex; i++) {
        if (exst[i] != HEKV_OK) {
            s = hekv_err_set(err, exst[i], "hekv_llama_eval_lambada: example %zu failed", i);
            goto done;
        }
        res->correct += ok[i];
    }
    res->examples = (int64_t)n_ex;
    res->accuracy = (double)res->correct / (double)res->examples;
done:
    if (st) free_workers(nt, st, NULL);
    free(data);
    free(scratch);
    free(pool);
    free(ex);
    free(ok);
    free(exst);
    return s;
}
