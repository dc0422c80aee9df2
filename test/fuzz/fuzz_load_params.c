/* fuzz_load_params.c: libFuzzer target of hekv_ckks_params_load. Resealed inputs that ask
 * for a ring above N = 2^13 are not loaded: building such a set is correct but takes
 * seconds and hundreds of MB, which would stall the fuzzer without reaching new parsing
 * code (the field checks before the build run for every input). See fuzz.h. */
#include "fuzz.h"

static void load_params(const uint8_t *d, size_t n) {
    if (n > FUZZ_HDR && d[FUZZ_HDR] > 13) return;
    hekv_err err;
    hekv_ckks_params *p = NULL;
    if (hekv_ckks_params_load(d, n, NULL, &p, &err) == HEKV_OK) {
        hekv_buf out = {0};
        if (hekv_ckks_params_save(p, &out, &err) != HEKV_OK) abort();
        fuzz_check_resave(d, n, &out, 0);
        hekv_ckks_params_free(p);
    } else if (!err.msg[0] || p) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    (void)fuzz_params();
    fuzz_both(d, n, load_params);
    return 0;
}
