/* sampler.c: choosing the next token (greedy argmax, temperature, top-p) with llama2.c
 * run.c's seeded xorshift generator and float32 arithmetic, so a seed gives run.c's sample
 * (seed 0, which would leave xorshift stuck at 0, starts at HEKV_LLAMA_SEED_ZERO instead: a
 * stream of its own, not seed 1's),
 * and the generation loop (prompt, then sample until BOS/EOS, a token budget or the end of
 * the context). It deliberately does not print (a callback receives each token), and has
 * no beam search, repetition penalty or cryptographic randomness (sampling is not secret). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hekv/llama.h"
#include "src/base/base.h"

typedef struct {
    float prob;
    int index;
} prob_index;

struct hekv_llama_sampler {
    int vocab_size;
    float temperature;
    float topp;
    uint64_t rng;     /* xorshift64* state, never 0 */
    float *probs;     /* [V] */
    prob_index *pidx; /* [V] */
};

hekv_status hekv_llama_sampler_new(int vocab_size, double temperature, double topp,
                                   uint64_t seed, hekv_llama_sampler **out, hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_sampler_new: out is NULL");
    *out = NULL;
    if (vocab_size < 1 || vocab_size > HEKV_LLAMA_MAX_VOCAB)
        return hekv_err_set(err, HEKV_ERR_ARG, "sampler: vocab_size %d is not in [1, %d]",
                            vocab_size, HEKV_LLAMA_MAX_VOCAB);
    if (!isfinite(temperature) || temperature < 0.0)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "sampler: temperature %g must be finite and >= 0 (0 = greedy)",
                            temperature);
    if (!isfinite(topp))
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "sampler: top-p %g must be finite (values outside (0, 1) turn "
                            "nucleus sampling off)",
                            topp);
    hekv_llama_sampler *s = calloc(1, sizeof *s);
    if (!s || !(s->probs = malloc((size_t)vocab_size * sizeof *s->probs)) ||
        !(s->pidx = malloc((size_t)vocab_size * sizeof *s->pidx))) {
        if (s) free(s->probs);
        free(s);
        return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_sampler_new: out of memory");
    }
    s->vocab_size = vocab_size;
    s->temperature = (float)temperature;
    s->topp = (float)topp;
    s->rng = seed ? seed : HEKV_LLAMA_SEED_ZERO; /* not 1: seed 0 is a stream of its own */
    *out = s;
    return HEKV_OK;
}

void hekv_llama_sampler_free(hekv_llama_sampler *s) {
    if (!s) return;
    free(s->probs);
    free(s->pidx);
    free(s);
}

/* run.c's random_u32 / random_f32. */
static uint32_t random_u32(uint64_t *state) {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return (uint32_t)((*state * 0x2545F4914F6CDD1DULL) >> 32);
}

static float random_f32(uint64_t *state) { return (random_u32(state) >> 8) / 16777216.0f; }

int hekv_llama_argmax(const double *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

static void softmax_f32(float *x, int n) {
    float max_val = x[0];
    for (int i = 1; i < n; i++)
        if (x[i] > max_val) max_val = x[i];
    float sum = 0.0f;
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - max_val);
        sum += x[i];
    }
    for (int i = 0; i < n; i++) x[i] /= sum;
}

static int sample_mult(const float *p, int n, float coin) {
    float cdf = 0.0f;
    for (int i = 0; i < n; i++) {
        cdf += p[i];
        if (coin < cdf) return i;
    }
    return n - 1; /* rounding */
}

static int cmp_prob_desc(const void *a, const void *b) {
    const prob_index *x = a, *y = b;
    if (x->prob > y->prob) return -1;
    if (x->prob < y->prob) return 1;
    return 0;
}

/* Nucleus sampling: the smallest set of most likely tokens whose mass exceeds topp. Tokens
 * below (1 - topp) / (n - 1) cannot be in it and are dropped before sorting (run.c). */
static int sample_topp(const float *p, int n, float topp, prob_index *pidx, float coin) {
    int n0 = 0;
    const float cutoff = n > 1 ? (1.0f - topp) / (n - 1) : 0.0f;
    for (int i = 0; i < n; i++) {
        if (p[i] >= cutoff) {
            pidx[n0].index = i;
            pidx[n0].prob = p[i];
            n0++;
        }
    }
    qsort(pidx, (size_t)n0, sizeof *pidx, cmp_prob_desc);
    float cum = 0.0f;
    int last = n0 - 1;
    for (int i = 0; i < n0; i++) {
        cum += pidx[i].prob;
        if (cum > topp) {
            last = i;
            break;
        }
    }
    float r = coin * cum;
    float cdf = 0.0f;
    for (int i = 0; i <= last; i++) {
        cdf += pidx[i].prob;
        if (r < cdf) return pidx[i].index;
    }
    return pidx[last].index;
}

int hekv_llama_sampler_sample(hekv_llama_sampler *s, const double *logits) {
    const int n = s->vocab_size;
    if (s->temperature == 0.0f) return hekv_llama_argmax(logits, n);
    for (int i = 0; i < n; i++) s->probs[i] = (float)logits[i] / s->temperature;
    softmax_f32(s->probs, n);
    float coin = random_f32(&s->rng);
    if (s->topp <= 0.0f || s->topp >= 1.0f) return sample_mult(s->probs, n, coin);
    return sample_topp(s->probs, n, s->topp, s->pidx, coin);
}

hekv_status hekv_llama_generate(hekv_llama_state *st, const hekv_llama_tokenizer *tok,
                                hekv_llama_sampler *smp, int *tokens, size_t cap,
                                size_t *n_tokens, size_t *n_prompt,
                                const hekv_llama_gen_opts *opts, hekv_err *err) {
    if (n_tokens) *n_tokens = 0;
    if (n_prompt) *n_prompt = 0;
    if (!st || !tok || !smp || !tokens || !n_tokens || !opts)
        return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_generate: NULL argument");
    if (opts->max_new < 0)
        return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_generate: max_new %d < 0",
                            opts->max_new);
    const int T = hekv_llama_state_config(st)->seq_len;
    const char *prompt = opts->prompt ? opts->prompt : "";
    size_t plen = strlen(prompt);
    int *ptoks = malloc((plen + 3) * sizeof *ptoks);
    if (!ptoks) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_generate: out of memory");
    size_t np = 0;
    hekv_status s = hekv_llama_tokenizer_encode(tok, ptoks, plen + 3, &np, prompt, plen, 1, 0,
                                                err);
    if (s != HEKV_OK) {
        free(ptoks);
        return s;
    }
    if (np > cap || np > (size_t)T) {
        free(ptoks);
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "the prompt is %zu tokens (with BOS) but the output holds %zu and "
                            "the model's context (seq_len) %d",
                            np, cap, T);
    }
    memcpy(tokens, ptoks, np * sizeof *tokens);
    free(ptoks);
    hekv_llama_state_reset(st);
    /* Run the prompt; each prompt token after BOS is "emitted" as run.c prints it. */
    size_t n = np;
    int pos = 0;
    for (; pos + 1 < (int)np; pos++) {
        if ((s = hekv_llama_forward(st, tokens[pos], pos, opts->approx, err)) != HEKV_OK)
            return s;
        if (opts->on_token) opts->on_token(tokens[pos], tokens[pos + 1], opts->user);
    }
    /* Sample while the token to feed still has a position (pos < T). */
    for (int gen = 0; gen < opts->max_new && n < cap && pos < T; gen++, pos++) {
        if ((s = hekv_llama_forward(st, tokens[pos], pos, opts->approx, err)) != HEKV_OK)
            return s;
        int next = hekv_llama_sampler_sample(smp, hekv_llama_state_logits(st));
        if (next == HEKV_LLAMA_TOKEN_BOS || next == HEKV_LLAMA_TOKEN_EOS) break;
        tokens[n++] = next;
        if (opts->on_token) opts->on_token(tokens[pos], next, opts->user);
    }
    *n_tokens = n;
    if (n_prompt) *n_prompt = np;
    return HEKV_OK;
}
