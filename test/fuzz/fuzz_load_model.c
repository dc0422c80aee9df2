/* fuzz_load_model.c: libFuzzer target of hekv_llama_model_parse, the llama2.c checkpoint
 * (models/weights.c). A parsed model must have a config that passes the header check and
 * implies exactly the input's size, finite weights behind views that lie inside one
 * arena in file order, and it must run: two forward positions in float64 and one in
 * float32 (the reference reads every weight of a layer; ASan sees any view or cache
 * offset that leaves its buffer). The forward is skipped when the state the header asks for
 * (the KV cache is L * T * KVD per cache) would exceed a few MB: the size check makes the
 * weights as large as the input, the cache is not. See fuzz.h. */
#include <math.h>

#include "hekv/llama.h"

#include "fuzz.h"

#define STATE_CAP_BYTES ((uint64_t)8 << 20)

static void check_weights(const hekv_llama_model *m, const uint8_t *d, size_t n) {
    const hekv_llama_config *c = hekv_llama_model_config(m);
    const hekv_llama_weights *w = hekv_llama_model_weights(m);
    const size_t C = (size_t)c->dim, H = (size_t)c->hidden_dim, L = (size_t)c->n_layers;
    const size_t V = (size_t)c->vocab_size, KVD = (size_t)c->kv_dim;
    /* file order, no overlap; the last tensor ends where the payload ends */
    const float *seq[] = {w->token_embedding, w->rms_att, w->wq, w->wk, w->wv,
                          w->wo,              w->rms_ffn, w->w1, w->w2, w->w3, w->rms_final};
    const size_t len[] = {V * C, L * C, L * C * C, L * KVD * C, L * KVD * C, L * C * C,
                          L * C, L * H * C, L * C * H, L * H * C, C};
    for (size_t i = 0; i + 1 < sizeof seq / sizeof *seq; i++)
        if (seq[i] + len[i] != seq[i + 1]) abort();
    const size_t payload = (n - 28) / 4;
    const float *end = w->token_embedding + payload;
    if (c->shared_classifier ? w->wcls != w->token_embedding : w->wcls + V * C != end) abort();
    /* every weight is the file's float, finite */
    for (size_t i = 0; i < payload; i++) {
        float f;
        memcpy(&f, d + 28 + 4 * i, 4);
        if (!isfinite(w->token_embedding[i]) || memcmp(&f, &w->token_embedding[i], 4)) abort();
    }
}

static void run(const hekv_llama_model *m, hekv_llama_precision prec, int steps) {
    const hekv_llama_config *c = hekv_llama_model_config(m);
    hekv_err err = {0};
    hekv_llama_state *st = NULL;
    if (hekv_llama_state_new(m, prec, &st, &err) != HEKV_OK) fuzz_fail("state_new", &err);
    if (memcmp(hekv_llama_state_config(st), c, sizeof *c)) abort();
    for (int pos = 0; pos < steps && pos < c->seq_len; pos++) {
        const int token = pos ? c->vocab_size - 1 : 0;
        if (hekv_llama_forward(st, token, pos, NULL, &err) != HEKV_OK) fuzz_fail("forward", &err);
        const double *logits = hekv_llama_state_logits(st);
        const int best = hekv_llama_argmax(logits, c->vocab_size);
        if (best < 0 || best >= c->vocab_size) abort();
    }
    /* out of range: refused */
    if (hekv_llama_forward(st, c->vocab_size, 0, NULL, &err) != HEKV_ERR_ARG ||
        hekv_llama_forward(st, 0, c->seq_len, NULL, &err) != HEKV_ERR_ARG)
        abort();
    hekv_llama_state_free(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    hekv_err err = {0};
    hekv_llama_model *m = NULL;
    hekv_status st = hekv_llama_model_parse(d, n, &m, &err);
    FUZZ_FAILED_CLEANLY(st, err, m);
    FUZZ_AGAIN_WITHOUT_ERR(st, hekv_llama_model, hekv_llama_model_parse(d, n, &again, NULL));
    if (st != HEKV_OK) return 0;
    const hekv_llama_config *c = hekv_llama_model_config(m);
    int32_t hdr[7];
    memcpy(hdr, d, sizeof hdr);
    hekv_llama_config again;
    if (hekv_llama_config_from_header(&again, hdr, &err) != HEKV_OK ||
        memcmp(&again, c, sizeof again) || hekv_llama_config_file_size(c) != n)
        abort();
    check_weights(m, d, n);
    const uint64_t T = (uint64_t)c->seq_len, L = (uint64_t)c->n_layers;
    const uint64_t state = 8 * (2 * L * T * (uint64_t)c->kv_dim + (uint64_t)c->n_heads * T +
                                5 * (uint64_t)c->dim + 2 * (uint64_t)c->hidden_dim +
                                (uint64_t)c->vocab_size);
    if (state <= STATE_CAP_BYTES) {
        run(m, HEKV_LLAMA_F64, 2);
        run(m, HEKV_LLAMA_F32, 1);
    }
    hekv_llama_model_free(m);
    return 0;
}
