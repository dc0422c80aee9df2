/* fuzz_load_ct.c: libFuzzer target of hekv_ckks_ct_load, hekv_ckks_pt_load and
 * hekv_file_peek (toy-N12). A loaded object must report a level, scale and slot count
 * the loader allows and save back to the input. See fuzz.h. */
#include <math.h>

#include "fuzz.h"

static void check_shape(const hekv_ckks_params *p, int level, double scale, size_t slots) {
    if (level < 0 || level > hekv_ckks_params_max_level(p) || !isfinite(scale) ||
        !(scale > 0) || !slots || slots > hekv_ckks_params_max_slots(p) ||
        (slots & (slots - 1)))
        abort();
}

static void load_ct(const uint8_t *d, size_t n) {
    const hekv_ckks_params *p = fuzz_params();
    hekv_err err = {0};
    hekv_ct *ct = NULL;
    hekv_status st = hekv_ckks_ct_load(p, d, n, &ct, &err);
    FUZZ_FAILED_CLEANLY(st, err, ct); /* every failure carries a message and leaves nothing */
    FUZZ_AGAIN_WITHOUT_ERR(st, hekv_ct, hekv_ckks_ct_load(p, d, n, &again, NULL));
    if (st != HEKV_OK) return;
    check_shape(p, hekv_ckks_ct_level(ct), hekv_ckks_ct_scale(ct), hekv_ckks_ct_slots(ct));
    if (hekv_ckks_ct_params(ct) != p) abort();
    hekv_buf out = {0};
    if (hekv_ckks_ct_save(ct, &out, &err) != HEKV_OK) abort();
    fuzz_check_resave(d, n, &out, 1);
    hekv_ckks_ct_free(ct);
}

static void load_pt(const uint8_t *d, size_t n) {
    const hekv_ckks_params *p = fuzz_params();
    hekv_err err = {0};
    hekv_pt *pt = NULL;
    hekv_status st = hekv_ckks_pt_load(p, d, n, &pt, &err);
    FUZZ_FAILED_CLEANLY(st, err, pt);
    FUZZ_AGAIN_WITHOUT_ERR(st, hekv_pt, hekv_ckks_pt_load(p, d, n, &again, NULL));
    if (st != HEKV_OK) return;
    check_shape(p, hekv_ckks_pt_level(pt), hekv_ckks_pt_scale(pt), hekv_ckks_pt_slots(pt));
    if (hekv_ckks_pt_params(pt) != p) abort();
    hekv_buf out = {0};
    if (hekv_ckks_pt_save(pt, &out, &err) != HEKV_OK) abort();
    fuzz_check_resave(d, n, &out, 1);
    hekv_ckks_pt_free(pt);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    hekv_file_info info;
    hekv_err err = {0};
    if (hekv_file_peek(d, n, &info, &err) == HEKV_OK) {
        if (info.length != n || info.set_name[32]) abort();
    } else if (!err.msg[0]) {
        abort();
    }
    fuzz_both(d, n, load_ct);
    fuzz_both(d, n, load_pt);
    return 0;
}
