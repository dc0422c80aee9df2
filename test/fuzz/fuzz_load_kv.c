/* fuzz_load_kv.c: libFuzzer target of hekv_pack_kv_load, the packed encrypted K/V cache of
 * one attention layer (packing/kvcache_serial.c), toy-N12. A cache file is a container whose
 * body holds the shape, the token counts and each ciphertext as a container of its own, so
 * the resealed copy reseals every inner ciphertext too (where the table of lengths lets the
 * harness find it), and the fuzzer reaches the ciphertext checks behind both checksums. A
 * loaded cache must describe a consistent shape (hekv_pack_kv_get_info) and save back to
 * the input, up to the informative set names and therefore the checksums. See fuzz.h. */
#include "hekv/pack.h"

#include "fuzz.h"

#define KV_BODY_HDR 64 /* d, heads, kv heads, K and V tokens, store level, pad, counts */

static uint64_t rd64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Calls fn on every inner ciphertext container [off, off + len) the table of b[0..n)
 * describes, as far as it stays inside the buffer. */
static void for_each_inner(uint8_t *b, size_t n, void (*fn)(uint8_t *, size_t, void *),
                           void *ctx) {
    const size_t end = n - FUZZ_SUM;
    size_t at = FUZZ_HDR + KV_BODY_HDR;
    while (at + 8 <= end) {
        const uint64_t cl = rd64(b + at);
        at += 8;
        if (cl > end - at) return;
        if (cl >= FUZZ_HDR + FUZZ_SUM) fn(b + at, (size_t)cl, ctx);
        at += (size_t)cl;
    }
}

static void seal_inner(uint8_t *c, size_t len, void *ctx) {
    (void)ctx;
    fuzz_seal(c, len);
}

static uint8_t *reseal_kv(const uint8_t *d, size_t n) {
    if (n < FUZZ_HDR + KV_BODY_HDR + FUZZ_SUM) return fuzz_reseal(d, n);
    uint8_t *b = malloc(n);
    if (!b) abort();
    memcpy(b, d, n);
    for_each_inner(b, n, seal_inner, NULL);
    fuzz_seal(b, n);
    return b;
}

/* The set name and checksum of an inner ciphertext are taken from the saved copy. */
typedef struct {
    const uint8_t *saved;
    uint8_t *cmp;
} name_ctx;

static void take_name(uint8_t *c, size_t len, void *ctx) {
    name_ctx *x = ctx;
    const size_t off = (size_t)(c - x->cmp);
    memcpy(c + 32, x->saved + off + 32, 32);
    memcpy(c + len - FUZZ_SUM, x->saved + off + len - FUZZ_SUM, FUZZ_SUM);
}

static void check_info(const hekv_ckks_params *p, const hekv_pack_kv *kv) {
    hekv_pack_kv_info in;
    hekv_pack_kv_get_info(kv, &in);
    if (in.slots != hekv_ckks_params_max_slots(p) || !in.n_heads || !in.n_kv_heads ||
        in.n_heads * in.d_head != in.d || in.n_kv_heads * in.d_head != in.d_kv ||
        in.n_heads != in.group * in.n_kv_heads || in.t * in.d != in.slots ||
        in.t_kv * in.d_kv != in.slots || in.block_tokens * in.n_kv_heads != in.slots)
        abort();
    /* one key and one value per step; the ciphertexts the token counts need */
    if (in.k_tokens != in.v_tokens || in.k_cts != (in.k_tokens + in.t_kv - 1) / in.t_kv ||
        in.blocks != (in.v_tokens + in.block_tokens - 1) / in.block_tokens ||
        in.v_cts != in.blocks * in.d_head)
        abort();
    if ((in.k_cts == 0) != (in.k_level < 0) || (in.v_cts == 0) != (in.v_level < 0)) abort();
    if (in.k_level > hekv_ckks_params_max_level(p) || in.v_level > hekv_ckks_params_max_level(p))
        abort();
    for (size_t c = 0; c < in.k_cts; c++) {
        const hekv_ct *k = hekv_pack_kv_k_ct(kv, c);
        if (!k || hekv_ckks_ct_level(k) != in.k_level || hekv_ckks_ct_slots(k) != in.slots)
            abort();
    }
    for (size_t b = 0; b < in.blocks; b++)
        for (size_t j = 0; j < in.d_head; j++) {
            const hekv_ct *v = hekv_pack_kv_v_ct(kv, b, j);
            if (!v || hekv_ckks_ct_level(v) != in.v_level || hekv_ckks_ct_slots(v) != in.slots)
                abort();
        }
    if (hekv_pack_kv_k_ct(kv, in.k_cts) || hekv_pack_kv_v_ct(kv, in.blocks, 0)) abort();
    if (in.k_tokens &&
        (hekv_pack_kv_next_pos_k(kv) != in.k_tokens % in.t_kv ||
         hekv_pack_kv_next_pos_v(kv) != in.v_tokens % in.t_kv ||
         hekv_pack_kv_score_count(kv) !=
             in.group * ((in.k_tokens + in.block_tokens - 1) / in.block_tokens)))
        abort();
}

static void load_kv(const uint8_t *d, size_t n) {
    const hekv_ckks_params *p = fuzz_params();
    hekv_err err = {0};
    hekv_pack_kv *kv = NULL;
    hekv_status st = hekv_pack_kv_load(p, d, n, &kv, &err);
    FUZZ_FAILED_CLEANLY(st, err, kv);
    FUZZ_AGAIN_WITHOUT_ERR(st, hekv_pack_kv, hekv_pack_kv_load(p, d, n, &again, NULL));
    if (st != HEKV_OK) return;
    check_info(p, kv);
    hekv_buf out = {0};
    if (hekv_pack_kv_save(kv, &out, &err) != HEKV_OK) abort();
    if (out.len != n) abort();
    uint8_t *cmp = malloc(n);
    if (!cmp) abort();
    memcpy(cmp, d, n);
    name_ctx x = {out.data, cmp};
    for_each_inner(cmp, n, take_name, &x);
    /* equal but for the outer set name and checksum */
    if (memcmp(cmp, out.data, 32) || memcmp(cmp + 64, out.data + 64, n - FUZZ_SUM - 64)) abort();
    free(cmp);
    hekv_buf_free(&out);
    hekv_pack_kv_free(kv);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    load_kv(d, n);
    uint8_t *b = reseal_kv(d, n);
    if (b) {
        if (memcmp(b, d, n)) load_kv(b, n);
        free(b);
    }
    return 0;
}
