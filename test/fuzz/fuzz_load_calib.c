/* fuzz_load_calib.c: libFuzzer target of hekv_llama_calib_parse, the "hekv-calib 1"
 * calibration sidecar (models/calib.c). A parsed calibration must hold a valid range for
 * every entry, be accepted again when its own model is expected and refused for another,
 * and survive a round trip through the library's writer (hekv_llama_calib_save, then
 * hekv_llama_calib_load) bit for bit. See fuzz.h. */
#include <math.h>

#include "hekv/llama.h"

#include "fuzz.h"

static int range_eq(const hekv_llama_range *a, const hekv_llama_range *b) {
    return !memcmp(&a->lo, &b->lo, sizeof a->lo) && !memcmp(&a->hi, &b->hi, sizeof a->hi);
}

static void check_range(const hekv_llama_range *r) {
    if (!isfinite(r->lo) || !isfinite(r->hi) || r->lo > r->hi) abort();
}

/* Every range of a and b is equal (bitwise) and valid; the configs and counts agree. */
static void check_same(hekv_llama_calib *a, hekv_llama_calib *b) {
    const hekv_llama_config *ca = hekv_llama_calib_config(a), *cb = hekv_llama_calib_config(b);
    if (memcmp(ca, cb, sizeof *ca) || hekv_llama_calib_tokens(a) != hekv_llama_calib_tokens(b))
        abort();
    for (int l = 0; l < ca->n_layers; l++) {
        const hekv_llama_layer_calib *x = hekv_llama_calib_layer(a, l);
        const hekv_llama_layer_calib *y = hekv_llama_calib_layer(b, l);
        if (!x || !y) abort();
        const hekv_llama_range *rx[] = {&x->rmsnorm_att,           &x->rmsnorm_ffn,
                                        &x->softmax_exp_shifted,   &x->softmax_exp_unshifted,
                                        &x->softmax_sum_shifted,   &x->softmax_sum_unshifted,
                                        &x->silu};
        const hekv_llama_range *ry[] = {&y->rmsnorm_att,           &y->rmsnorm_ffn,
                                        &y->softmax_exp_shifted,   &y->softmax_exp_unshifted,
                                        &y->softmax_sum_shifted,   &y->softmax_sum_unshifted,
                                        &y->silu};
        for (size_t e = 0; e < sizeof rx / sizeof *rx; e++) {
            check_range(rx[e]);
            if (!range_eq(rx[e], ry[e])) abort();
        }
        if (x->rmsnorm_att.lo < 0 || x->rmsnorm_ffn.lo < 0 || !(x->softmax_sum_shifted.lo > 0) ||
            !(x->softmax_sum_unshifted.lo > 0))
            abort();
        for (int h = 0; h < ca->n_heads; h++) {
            check_range(&x->attn_score[h]);
            if (!range_eq(&x->attn_score[h], &y->attn_score[h])) abort();
        }
    }
    if (hekv_llama_calib_layer(a, ca->n_layers) || hekv_llama_calib_layer(a, -1)) abort();
    const hekv_llama_final_calib *fa = hekv_llama_calib_final(a), *fb = hekv_llama_calib_final(b);
    check_range(&fa->rmsnorm_final);
    check_range(&fa->logits);
    if (!range_eq(&fa->rmsnorm_final, &fb->rmsnorm_final) || !range_eq(&fa->logits, &fb->logits))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    const char *text = (const char *)d;
    hekv_err err = {0};
    hekv_llama_calib *c = NULL;
    hekv_status st = hekv_llama_calib_parse(text, n, NULL, &c, &err);
    FUZZ_FAILED_CLEANLY(st, err, c);
    FUZZ_AGAIN_WITHOUT_ERR(st, hekv_llama_calib,
                           hekv_llama_calib_parse(text, n, NULL, &again, NULL));
    if (st != HEKV_OK) return 0;
    const hekv_llama_config cfg = *hekv_llama_calib_config(c);
    if (hekv_llama_config_from_header(NULL, (const int32_t[7]){cfg.dim, cfg.hidden_dim,
                                                               cfg.n_layers, cfg.n_heads,
                                                               cfg.n_kv_heads, cfg.vocab_size,
                                                               cfg.seq_len},
                                      &err) != HEKV_OK)
        abort();
    /* accepted for its own model, refused for another */
    hekv_llama_calib *again = NULL;
    if (hekv_llama_calib_parse(text, n, &cfg, &again, &err) != HEKV_OK)
        fuzz_fail("refused for its own model", &err);
    hekv_llama_calib_free(again);
    hekv_llama_config other = cfg;
    other.seq_len = cfg.seq_len == 1 ? 2 : 1;
    again = NULL;
    err.msg[0] = 0;
    st = hekv_llama_calib_parse(text, n, &other, &again, &err);
    if (st != HEKV_ERR_FORMAT || again || !err.msg[0]) abort();
    /* the writer's text parses back to the same ranges */
    const char *path = fuzz_tmp_path("calib");
    if (hekv_llama_calib_save(c, path, &err) != HEKV_OK) fuzz_fail("calib_save", &err);
    hekv_llama_calib *back = NULL;
    if (hekv_llama_calib_load(path, &cfg, &back, &err) != HEKV_OK)
        fuzz_fail("the saved calibration does not load", &err);
    check_same(c, back);
    hekv_llama_calib_free(back);
    hekv_llama_calib_free(c);
    return 0;
}
