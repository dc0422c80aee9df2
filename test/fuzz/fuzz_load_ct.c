/* fuzz_load_ct.c: libFuzzer target of hekv_ckks_ct_load, hekv_ckks_pt_load and
 * hekv_ckks_peek_type (toy-N12). See fuzz.h. */
#include "fuzz.h"

static void load_ct(const uint8_t *d, size_t n) {
    const hekv_ckks_params *p = fuzz_params();
    hekv_err err;
    hekv_ct *ct = NULL;
    if (hekv_ct_new(p, &ct, &err) != HEKV_OK) abort();
    if (hekv_ckks_ct_load(p, d, n, ct, &err) == HEKV_OK) {
        uint8_t *out;
        size_t m;
        if (hekv_ckks_ct_save(p, ct, &out, &m, &err) != HEKV_OK) abort();
        fuzz_check_resave(d, n, out, m, 1);
    } else if (!err.msg[0]) {
        abort(); /* every failure carries a message */
    }
    hekv_ct_free(ct);
}

static void load_pt(const uint8_t *d, size_t n) {
    const hekv_ckks_params *p = fuzz_params();
    hekv_err err;
    hekv_pt *pt = NULL;
    if (hekv_pt_new(p, &pt, &err) != HEKV_OK) abort();
    if (hekv_ckks_pt_load(p, d, n, pt, &err) == HEKV_OK) {
        uint8_t *out;
        size_t m;
        if (hekv_ckks_pt_save(p, pt, &out, &m, &err) != HEKV_OK) abort();
        fuzz_check_resave(d, n, out, m, 1);
    } else if (!err.msg[0]) {
        abort();
    }
    hekv_pt_free(pt);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    hekv_obj_type t;
    hekv_err err;
    (void)hekv_ckks_peek_type(d, n, &t, &err);
    fuzz_both(d, n, load_ct);
    fuzz_both(d, n, load_pt);
    return 0;
}
