/* fuzz_load_tokenizer.c: libFuzzer target of hekv_llama_tokenizer_parse, llama2.c's
 * tokenizer.bin (models/tokenizer.c). The input is the vocabulary size the caller passes
 * (int32, little-endian: the model's V) followed by the tokenizer file. A parsed tokenizer
 * must report its size and pieces, and encode and decode without error beyond the
 * documented refusals: its first pieces, a fixed text, bytes the vocabulary may not cover,
 * and the tail of the input itself; every id it emits must lie in [0, V) and decode, and EOS
 * must come last. See fuzz.h. */
#include "hekv/llama.h"

#include "fuzz.h"

static void encode(const hekv_llama_tokenizer *t, const char *text, size_t len, int bos,
                   int eos) {
    const int V = hekv_llama_tokenizer_vocab_size(t);
    const size_t cap = len + 3;
    int *ids = malloc(cap * sizeof *ids);
    if (!ids) abort();
    size_t n = 0;
    hekv_err err = {0};
    hekv_status st = hekv_llama_tokenizer_encode(t, ids, cap, &n, text, len, bos, eos, &err);
    if (st != HEKV_OK) {
        /* only a byte the vocabulary cannot represent (or no dummy-prefix piece) */
        if (st != HEKV_ERR_ARG || !err.msg[0] || n) fuzz_fail("encode failed", &err);
        free(ids);
        return;
    }
    if (n > cap || n < (size_t)(bos != 0) + (size_t)(eos != 0) + (len > 0)) abort();
    /* EOS is appended after the merges; BOS takes part in them, as in run.c (a piece
     * "<s>" + " " in the vocabulary absorbs the dummy prefix), so ids[0] may differ */
    if (eos && ids[n - 1] != HEKV_LLAMA_TOKEN_EOS) abort();
    int prev = bos ? HEKV_LLAMA_TOKEN_BOS : 0;
    for (size_t i = 0; i < n - (eos ? 1 : 0); i++) {
        if (ids[i] < 0 || ids[i] >= V) abort();
        size_t dl = 0;
        const char *s = hekv_llama_tokenizer_decode(t, prev, ids[i], &dl);
        if (!s || dl > HEKV_LLAMA_MAX_TOKEN_LEN) abort();
        if (dl != 1 && strlen(s) != dl) abort(); /* one raw byte may be NUL */
        prev = ids[i];
    }
    free(ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    if (n < 4) return 0;
    int32_t vocab;
    memcpy(&vocab, d, 4);
    hekv_err err = {0};
    hekv_llama_tokenizer *t = NULL;
    hekv_status st = hekv_llama_tokenizer_parse(d + 4, n - 4, vocab, &t, &err);
    FUZZ_FAILED_CLEANLY(st, err, t);
    FUZZ_AGAIN_WITHOUT_ERR(st, hekv_llama_tokenizer,
                           hekv_llama_tokenizer_parse(d + 4, n - 4, vocab, &again, NULL));
    if (st != HEKV_OK) return 0;
    if (hekv_llama_tokenizer_vocab_size(t) != vocab) abort();
    int32_t mtl;
    memcpy(&mtl, d + 4, 4);
    for (int id = 0; id < vocab && id < 1024; id++) {
        const char *p = hekv_llama_tokenizer_piece(t, id);
        if (!p || strlen(p) > (size_t)mtl) abort();
        size_t dl = 0;
        const char *s = hekv_llama_tokenizer_decode(t, HEKV_LLAMA_TOKEN_BOS, id, &dl);
        if (!s || dl > (size_t)mtl) abort();
    }
    if (*hekv_llama_tokenizer_piece(t, -1) || *hekv_llama_tokenizer_piece(t, vocab) ||
        *hekv_llama_tokenizer_decode(t, 0, vocab, NULL))
        abort();
    /* each of the first pieces as a text of its own (a vocabulary encodes its pieces) */
    for (int id = 0; id < vocab && id < 8; id++) {
        const char *p = hekv_llama_tokenizer_piece(t, id);
        encode(t, p, strlen(p), 1, 0);
    }
    static const char fixed[] = "Once upon a time, the little cat saw the sun.";
    static const char bytes[] = "caf\xc3\xa9 \xe2\x82\xac\x80 \xf0\x9f\x98\x80\x00\x01\x7f\xff\n";
    encode(t, fixed, sizeof fixed - 1, 1, 0);
    encode(t, bytes, sizeof bytes - 1, 0, 1);
    encode(t, "", 0, 1, 1);
    const size_t tail = n - 4 < 64 ? n - 4 : 64;
    encode(t, (const char *)d + n - tail, tail, 1, 1);
    hekv_llama_tokenizer_free(t);
    return 0;
}
