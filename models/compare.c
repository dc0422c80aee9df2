/* compare.c: a model run with an approximation hook against the exact model, teacher-forced
 * on a text: how often the argmax agrees and what the hook costs in perplexity. The text is
 * encoded once (dummy prefix, no BOS) and cut into windows of T tokens; each window runs
 * from fresh caches (BOS at position 0, as hekv_llama_eval_text's plain mode), the exact
 * and the hooked model side by side, and every window token is predicted once. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hekv/llama_approx.h"

static double nll_of(const double *logits, int v, int target) {
    double mx = logits[0];
    for (int i = 1; i < v; i++) mx = fmax(mx, logits[i]);
    double s = 0;
    for (int i = 0; i < v; i++) s += exp(logits[i] - mx);
    return log(s) + mx - logits[target];
}

hekv_status hekv_llama_compare(const hekv_llama_model *m, const hekv_llama_tokenizer *tok,
                               const char *text, size_t len, int64_t max_tokens,
                               const hekv_llama_approx *hook, hekv_llama_compare_result *res,
                               hekv_err *err) {
    static const char fn[] = "hekv_llama_compare";
    if (!m || !tok || !text || !hook || !res)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: NULL argument", fn);
    memset(res, 0, sizeof *res);
    const hekv_llama_config *cfg = hekv_llama_model_config(m);
    const int T = cfg->seq_len, V = cfg->vocab_size;
    int *ids = malloc((len + 3) * sizeof *ids);
    size_t n = 0;
    hekv_llama_state *ref = NULL, *ap = NULL;
    hekv_status s = ids ? HEKV_OK : hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    if (!s) s = hekv_llama_tokenizer_encode(tok, ids, len + 3, &n, text, len, 0, 0, err);
    if (!s && max_tokens > 0 && (int64_t)n > max_tokens) n = (size_t)max_tokens;
    if (!s) s = hekv_llama_state_new(m, HEKV_LLAMA_F64, &ref, err);
    if (!s) s = hekv_llama_state_new(m, HEKV_LLAMA_F64, &ap, err);
    for (size_t w0 = 0; !s && w0 < n; w0 += (size_t)T) {
        const size_t wn = n - w0 < (size_t)T ? n - w0 : (size_t)T;
        hekv_llama_state_reset(ref);
        hekv_llama_state_reset(ap);
        for (size_t p = 0; p < wn && !s; p++) {
            const int in = p == 0 ? HEKV_LLAMA_TOKEN_BOS : ids[w0 + p - 1];
            s = hekv_llama_forward(ref, in, (int)p, NULL, err);
            if (!s) s = hekv_llama_forward(ap, in, (int)p, hook, err);
            if (s) break;
            const double *lr = hekv_llama_state_logits(ref), *la = hekv_llama_state_logits(ap);
            const int target = ids[w0 + p];
            res->tokens++;
            res->agree += hekv_llama_argmax(lr, V) == hekv_llama_argmax(la, V);
            res->nll_ref += nll_of(lr, V, target);
            res->nll_hook += nll_of(la, V, target);
            for (int i = 0; i < V; i++) {
                const double e = fabs(la[i] - lr[i]);
                if (!(e <= res->max_logit_err)) res->max_logit_err = e;
            }
        }
    }
    if (!s && res->tokens) {
        res->ppl_ref = exp(res->nll_ref / (double)res->tokens);
        res->ppl_hook = exp(res->nll_hook / (double)res->tokens);
    }
    hekv_llama_state_free(ref);
    hekv_llama_state_free(ap);
    free(ids);
    return s;
}
