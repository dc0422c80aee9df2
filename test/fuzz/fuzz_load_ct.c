/* fuzz_load_ct.c: libFuzzer target of hekv_ckks_ct_load, hekv_ckks_pt_load and
 * hekv_file_peek (toy-N12). See fuzz.h. */
#include "fuzz.h"

static void load_ct(const uint8_t *d, size_t n) {
    const hekv_ckks_params *p = fuzz_params();
    hekv_err err;
    hekv_ct *ct = NULL;
    if (hekv_ckks_ct_load(p, d, n, &ct, &err) == HEKV_OK) {
        hekv_buf out = {0};
        if (hekv_ckks_ct_save(ct, &out, &err) != HEKV_OK) abort();
        fuzz_check_resave(d, n, &out, 1);
    } else if (!err.msg[0] || ct) {
        abort(); /* every failure carries a message and leaves nothing */
    }
    hekv_ckks_ct_free(ct);
}

static void load_pt(const uint8_t *d, size_t n) {
    const hekv_ckks_params *p = fuzz_params();
    hekv_err err;
    hekv_pt *pt = NULL;
    if (hekv_ckks_pt_load(p, d, n, &pt, &err) == HEKV_OK) {
        hekv_buf out = {0};
        if (hekv_ckks_pt_save(pt, &out, &err) != HEKV_OK) abort();
        fuzz_check_resave(d, n, &out, 1);
    } else if (!err.msg[0] || pt) {
        abort();
    }
    hekv_ckks_pt_free(pt);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    hekv_file_info info;
    hekv_err err;
    (void)hekv_file_peek(d, n, &info, &err);
    fuzz_both(d, n, load_ct);
    fuzz_both(d, n, load_pt);
    return 0;
}
