/* fuzz_load_keys.c: libFuzzer target of hekv_ckks_sk_load, hekv_ckks_pk_load and
 * hekv_ckks_evk_load (toy-N12). See fuzz.h. */
#include "fuzz.h"

static void load_sk(const uint8_t *d, size_t n) {
    const hekv_ckks_params *p = fuzz_params();
    hekv_err err;
    hekv_sk *sk = NULL;
    if (hekv_ckks_sk_load(p, d, n, &sk, &err) == HEKV_OK) {
        hekv_buf out = {0};
        if (hekv_ckks_sk_save(sk, &out, &err) != HEKV_OK) abort();
        fuzz_check_resave(d, n, &out, 1);
        hekv_ckks_sk_free(sk);
    } else if (!err.msg[0] || sk) {
        abort();
    }
}

static void load_pk(const uint8_t *d, size_t n) {
    const hekv_ckks_params *p = fuzz_params();
    hekv_err err;
    hekv_pk *pk = NULL;
    if (hekv_ckks_pk_load(p, d, n, &pk, &err) == HEKV_OK) {
        hekv_buf out = {0};
        if (hekv_ckks_pk_save(pk, &out, &err) != HEKV_OK) abort();
        fuzz_check_resave(d, n, &out, 1);
        hekv_ckks_pk_free(pk);
    } else if (!err.msg[0] || pk) {
        abort();
    }
}

static void load_evk(const uint8_t *d, size_t n) {
    const hekv_ckks_params *p = fuzz_params();
    hekv_err err;
    hekv_evk *evk = NULL;
    if (hekv_ckks_evk_load(p, d, n, &evk, &err) == HEKV_OK) {
        hekv_buf out = {0};
        if (hekv_ckks_evk_save(evk, &out, &err) != HEKV_OK) abort();
        fuzz_check_resave(d, n, &out, 1);
        hekv_ckks_evk_free(evk);
    } else if (!err.msg[0] || evk) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    fuzz_both(d, n, load_sk);
    fuzz_both(d, n, load_pk);
    fuzz_both(d, n, load_evk);
    return 0;
}
