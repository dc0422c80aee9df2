/* lambada.c: LAMBADA last-word accuracy over the reference forward: the line reader
 * (plain text or JSON lines, one passage per line, split into context and last word), the
 * encoding of every example before the parallel part, and the greedy teacher-forced match
 * of the target tokens, examples in parallel (one state per thread). It deliberately does
 * not parse JSON itself (jsonl.c) and does not calibrate. */
#include <ctype.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval_int.h"
#include "jsonl.h"
#include "src/base/base.h"

static int is_space(char c) { return isspace((unsigned char)c) != 0; }

hekv_status hekv_llama_lambada_parse_line(const char *line, size_t len, int line_no,
                                          char *scratch, hekv_llama_lambada_line *out,
                                          hekv_err *err) {
    if (!out || (!line && len) || (!scratch && len))
        return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_lambada_parse_line: NULL argument");
    memset(out, 0, sizeof *out);
    size_t lead = 0;
    while (lead < len && is_space(line[lead])) lead++;
    if (lead == len) return HEKV_OK; /* blank */
    const char *passage = line + lead;
    size_t plen = len - lead;
    if (*passage == '{') {
        hekv_status st = hekv_llama_json_text(line, len, line_no, scratch, &plen, err);
        if (st != HEKV_OK) return st;
        passage = scratch;
    }
    /* Split at the last run of whitespace. */
    while (plen && is_space(passage[plen - 1])) plen--;
    size_t ws = plen;
    while (ws && !is_space(passage[ws - 1])) ws--;
    size_t ctx_end = ws;
    while (ctx_end && is_space(passage[ctx_end - 1])) ctx_end--;
    size_t ctx_start = 0;
    while (ctx_start < ctx_end && is_space(passage[ctx_start])) ctx_start++;
    out->kind = HEKV_LLAMA_LAMBADA_SKIP;
    if (ws == 0 || ctx_end <= ctx_start || plen == ws) return HEKV_OK;
    out->kind = HEKV_LLAMA_LAMBADA_PASSAGE;
    out->context = passage + ctx_start;
    out->context_len = ctx_end - ctx_start;
    out->target = passage + ws;
    out->target_len = plen - ws;
    return HEKV_OK;
}

typedef struct {
    size_t off_ctx, n_ctx; /* into the token pool; n_ctx includes BOS */
    size_t off_tgt, n_tgt;
} lambada_ex;

/* Pass 1: every example of text[0..len) encoded into one pool (context with BOS, cut to
 * its last tokens so context and target fit T; then the target). */
static hekv_status encode_examples(const hekv_llama_tokenizer *tok, int T, const char *text,
                                   size_t len, int64_t max_examples, int **pool_out,
                                   lambada_ex **ex_out, size_t *n_out, int64_t *skipped,
                                   hekv_err *err) {
    hekv_status s = HEKV_OK;
    size_t pool_cap = len + 64, pool_n = 0, ex_cap = 1024, n_ex = 0;
    int *pool = malloc(pool_cap * sizeof *pool);
    lambada_ex *ex = malloc(ex_cap * sizeof *ex);
    char *scratch = malloc(len + 1);
    if (!pool || !ex || !scratch) {
        s = hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_eval_lambada: out of memory");
        goto done;
    }
    int line_no = 0;
    for (size_t at = 0; at < len;) {
        const char *ln = text + at;
        const char *nl = memchr(ln, '\n', len - at);
        const size_t ll = nl ? (size_t)(nl - ln) : len - at;
        at += ll + (nl ? 1 : 0);
        line_no++;
        size_t lead = 0;
        while (lead < ll && is_space(ln[lead])) lead++;
        if (lead == ll) continue; /* blank */
        if (max_examples > 0 && (int64_t)n_ex >= max_examples) break; /* read no further */
        hekv_llama_lambada_line pl;
        if ((s = hekv_llama_lambada_parse_line(ln, ll, line_no, scratch, &pl, err)) != HEKV_OK)
            goto done;
        if (pl.kind == HEKV_LLAMA_LAMBADA_SKIP) {
            (*skipped)++;
            continue;
        }
        const size_t need = pl.context_len + pl.target_len + 8;
        if (pool_n + need > pool_cap) {
            size_t nc = 2 * pool_cap + need;
            int *np = realloc(pool, nc * sizeof *np);
            if (!np) {
                s = hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_eval_lambada: out of memory");
                goto done;
            }
            pool = np;
            pool_cap = nc;
        }
        if (n_ex == ex_cap) {
            lambada_ex *ne = realloc(ex, 2 * ex_cap * sizeof *ne);
            if (!ne) {
                s = hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_eval_lambada: out of memory");
                goto done;
            }
            ex = ne;
            ex_cap *= 2;
        }
        lambada_ex *x = &ex[n_ex];
        x->off_ctx = pool_n;
        if ((s = hekv_llama_tokenizer_encode(tok, pool + pool_n, pl.context_len + 3, &x->n_ctx,
                                             pl.context, pl.context_len, 1, 0, err)) != HEKV_OK)
            goto done;
        pool_n += x->n_ctx;
        x->off_tgt = pool_n;
        if ((s = hekv_llama_tokenizer_encode(tok, pool + pool_n, pl.target_len + 3, &x->n_tgt,
                                             pl.target, pl.target_len, 0, 0, err)) != HEKV_OK)
            goto done;
        pool_n += x->n_tgt;
        if (x->n_tgt == 0 || x->n_tgt >= (size_t)T) {
            (*skipped)++; /* a target the context window cannot hold */
            pool_n = x->off_ctx;
            continue;
        }
        /* Fed positions: n_ctx + n_tgt - 1 <= T; keep BOS and the context's tail. */
        const size_t keep = (size_t)T + 1 - x->n_tgt;
        if (x->n_ctx > keep) {
            const size_t drop = x->n_ctx - keep;
            memmove(pool + x->off_ctx + 1, pool + x->off_ctx + 1 + drop,
                    (x->n_ctx - 1 - drop + x->n_tgt) * sizeof *pool);
            x->n_ctx = keep;
            x->off_tgt = x->off_ctx + x->n_ctx;
            pool_n = x->off_tgt + x->n_tgt;
        }
        n_ex++;
    }
done:
    free(scratch);
    if (s != HEKV_OK) {
        free(pool);
        free(ex);
        return s;
    }
    *pool_out = pool;
    *ex_out = ex;
    *n_out = n_ex;
    return HEKV_OK;
}

hekv_status hekv_llama_eval_lambada_text(const hekv_llama_model *m,
                                         const hekv_llama_tokenizer *tok, const char *text,
                                         size_t len, int64_t max_examples,
                                         const hekv_llama_eval_opts *o,
                                         hekv_llama_lambada_result *res, hekv_err *err) {
    static const char fn[] = "hekv_llama_eval_lambada";
    hekv_status s = hekv__eval_check(m, tok, o, fn, err);
    if (s != HEKV_OK) return s;
    if (!res || (!text && len)) return hekv_err_set(err, HEKV_ERR_ARG, "%s: NULL argument", fn);
    memset(res, 0, sizeof *res);
    const hekv_llama_config *cfg = hekv_llama_model_config(m);
    const int T = cfg->seq_len, V = cfg->vocab_size;
    int *pool = NULL;
    lambada_ex *ex = NULL;
    size_t n_ex = 0;
    if ((s = encode_examples(tok, T, text, len, max_examples, &pool, &ex, &n_ex, &res->skipped,
                             err)) != HEKV_OK)
        return s;
    signed char *ok = NULL;
    hekv_status *exst = NULL;
    hekv_llama_state **st = NULL;
    int nt = 0;
    if (n_ex == 0) {
        s = hekv_err_set(err, HEKV_ERR_ARG,
                         "no passage with a context and a last word (%lld lines skipped)",
                         (long long)res->skipped);
        goto done;
    }

    /* Pass 2: greedy last-word match, examples in parallel. */
    nt = hekv__eval_threads(o->threads, (int64_t)n_ex);
    ok = calloc(n_ex, 1);
    exst = calloc(n_ex, sizeof *exst);
    st = calloc((size_t)nt, sizeof *st);
    if (!ok || !exst || !st) {
        s = hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
        goto done;
    }
    hekv_llama_eval_opts o2 = *o;
    o2.calib = NULL; /* LAMBADA does not calibrate */
    if ((s = hekv__eval_workers_new(m, &o2, nt, st, NULL, err)) != HEKV_OK) goto done;

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
            s = hekv_err_set(err, exst[i], "%s: example %zu failed", fn, i);
            goto done;
        }
        res->correct += ok[i];
    }
    res->examples = (int64_t)n_ex;
    res->accuracy = (double)res->correct / (double)res->examples;
done:
    if (st) hekv__eval_workers_free(nt, st, NULL);
    free(pool);
    free(ex);
    free(ok);
    free(exst);
    return s;
}

hekv_status hekv_llama_eval_lambada(const hekv_llama_model *m, const hekv_llama_tokenizer *tok,
                                    const char *path, int64_t max_examples,
                                    const hekv_llama_eval_opts *o,
                                    hekv_llama_lambada_result *res, hekv_err *err) {
    if (res) memset(res, 0, sizeof *res);
    if (!path) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_eval_lambada: path is NULL");
    hekv_status s = hekv__eval_check(m, tok, o, "hekv_llama_eval_lambada", err);
    if (s != HEKV_OK) return s;
    hekv_buf b = {0};
    s = hekv_file_read(path, HEKV_LLAMA_TEXT_MAX_BYTES, &b, err);
    const int read = s == HEKV_OK;
    if (read) {
        s = hekv_llama_eval_lambada_text(m, tok, (const char *)b.data, b.len, max_examples, o,
                                         res, err);
        hekv_buf_free(&b);
    }
    if (s != HEKV_OK && err) { /* hekv_file_read's message names the path already */
        char tmp[HEKV_ERR_MSG_LEN];
        snprintf(tmp, sizeof tmp, "%s", err->msg);
        hekv_err_set(err, s, "%s: %s", read ? path : "LAMBADA file", tmp);
    }
    return s;
}
