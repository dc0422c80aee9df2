/* fuzz_load_params.c: libFuzzer target of hekv_ckks_params_load. Resealed inputs that ask
 * for a ring above N = 2^13 are not loaded: building such a set is correct but takes
 * seconds and hundreds of MB, which would stall the fuzzer without reaching new parsing
 * code (the field checks before the build run for every input). A loaded set must be
 * secure or carry a toy/bench name, and save back to the input. See fuzz.h. */
#include "fuzz.h"

static void load_params(const uint8_t *d, size_t n) {
    if (n > FUZZ_HDR && d[FUZZ_HDR] > 13) return;
    hekv_err err = {0};
    hekv_ckks_params *p = NULL;
    hekv_status st = hekv_ckks_params_load(d, n, NULL, &p, &err);
    FUZZ_FAILED_CLEANLY(st, err, p);
    FUZZ_AGAIN_WITHOUT_ERR(st, hekv_ckks_params, hekv_ckks_params_load(d, n, NULL, &again, NULL));
    if (st != HEKV_OK) return;
    /* a set the file marks insecure loads only under a toy/bench name */
    if (!hekv_ckks_params_secure(p) &&
        !hekv_ckks_params_name_is_insecure(hekv_ckks_params_name(p)))
        abort();
    if (hekv_ckks_params_max_slots(p) * 2 != hekv_ckks_params_n(p)) abort();
    hekv_buf out = {0};
    if (hekv_ckks_params_save(p, &out, &err) != HEKV_OK) abort();
    fuzz_check_resave(d, n, &out, 0);
    hekv_ckks_params_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    (void)fuzz_params();
    fuzz_both(d, n, load_params);
    return 0;
}
