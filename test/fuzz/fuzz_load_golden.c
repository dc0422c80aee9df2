/* fuzz_load_golden.c: libFuzzer target of hekv_llama_golden_parse, the "HKGL" golden-logits
 * file of scripts/train_lm.py (models/weights.c). A parsed file must have T and V that
 * imply exactly the input's size, token ids in [0, V) and exactly the file's tokens and
 * logits. See fuzz.h. */
#include "hekv/llama.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    hekv_err err = {0};
    hekv_llama_golden *g = NULL;
    hekv_status st = hekv_llama_golden_parse(d, n, &g, &err);
    FUZZ_FAILED_CLEANLY(st, err, g);
    FUZZ_AGAIN_WITHOUT_ERR(st, hekv_llama_golden, hekv_llama_golden_parse(d, n, &again, NULL));
    if (st != HEKV_OK) return 0;
    const size_t T = (size_t)g->n_tokens, V = (size_t)g->vocab;
    if (!T || !V || 16 + 4 * T + 4 * T * V != n || !g->tokens || !g->logits) abort();
    if (memcmp(g->tokens, d + 16, 4 * T) || memcmp(g->logits, d + 16 + 4 * T, 4 * T * V))
        abort();
    for (size_t t = 0; t < T; t++)
        if (g->tokens[t] < 0 || (size_t)g->tokens[t] >= V) abort();
    hekv_llama_golden_free(g);
    return 0;
}
