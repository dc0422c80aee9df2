/* fuzz_load_keys.c: libFuzzer target of the key loaders hekv_ckks_sk_load,
 * hekv_ckks_pk_load and hekv_ckks_evk_load (the evaluation-key set: relinearisation,
 * Galois and tagged switching keys), toy-N12. See fuzz.h.
 *
 * Kept cheap so that it runs fast (issue 13: >= 10^5 runs in 120 s): each input goes to the
 * one loader its type byte names (any other type goes to the secret-key loader, which
 * refuses it after the checksum, so the type check is still fuzzed; the other loaders would
 * refuse it at the same check), as given and resealed; the seeds are small low-level keys
 * (corpus_gen.c), and a successful load is saved back once and compared, plus a few
 * queries. */
#include "fuzz.h"

static void load_sk(const uint8_t *d, size_t n) {
    const hekv_ckks_params *p = fuzz_params();
    hekv_err err = {0};
    hekv_sk *sk = NULL;
    hekv_status st = hekv_ckks_sk_load(p, d, n, &sk, &err);
    FUZZ_FAILED_CLEANLY(st, err, sk);
    FUZZ_AGAIN_WITHOUT_ERR(st, hekv_sk, hekv_ckks_sk_load(p, d, n, &again, NULL));
    if (st != HEKV_OK) return;
    const int hw = hekv_ckks_sk_hamming_weight(sk);
    if (hw < 0 || (size_t)hw > hekv_ckks_params_n(p)) abort();
    hekv_buf out = {0};
    if (hekv_ckks_sk_save(sk, &out, &err) != HEKV_OK) abort();
    fuzz_check_resave(d, n, &out, 1);
    hekv_ckks_sk_free(sk);
}

static void load_pk(const uint8_t *d, size_t n) {
    const hekv_ckks_params *p = fuzz_params();
    hekv_err err = {0};
    hekv_pk *pk = NULL;
    hekv_status st = hekv_ckks_pk_load(p, d, n, &pk, &err);
    FUZZ_FAILED_CLEANLY(st, err, pk);
    FUZZ_AGAIN_WITHOUT_ERR(st, hekv_pk, hekv_ckks_pk_load(p, d, n, &again, NULL));
    if (st != HEKV_OK) return;
    hekv_buf out = {0};
    if (hekv_ckks_pk_save(pk, &out, &err) != HEKV_OK) abort();
    fuzz_check_resave(d, n, &out, 1);
    hekv_ckks_pk_free(pk);
}

/* The queries a server makes of a loaded set must agree with each other. */
static void check_evk(const hekv_ckks_params *p, const hekv_evk *evk) {
    if (hekv_ckks_evk_params(evk) != p) abort();
    const int top = hekv_ckks_params_max_level(p);
    const int rl = hekv_ckks_evk_relin_level(evk);
    if (hekv_ckks_evk_has_relin(evk) ? rl < 0 || rl > top : rl != -1) abort();
    const size_t ng = hekv_ckks_evk_galois_count(evk), ns = hekv_ckks_evk_swk_count(evk);
    for (size_t i = 0; i < ng; i++) {
        const uint64_t g = hekv_ckks_evk_galois_elt(evk, i);
        const int gl = hekv_ckks_evk_galois_level(evk, g);
        if (!(g & 1) || g >= 2 * hekv_ckks_params_n(p) || !hekv_ckks_evk_has_galois(evk, g) ||
            gl < 0 || gl > top)
            abort();
    }
    for (size_t i = 0; i < ns; i++) {
        const hekv_swk *k = hekv_ckks_evk_swk(evk, hekv_ckks_evk_swk_tag(evk, i));
        if (!k || hekv_ckks_swk_max_level(k) < 0 || hekv_ckks_swk_max_level(k) > top ||
            hekv_ckks_swk_special(k) < 1 || hekv_ckks_swk_special(k) > hekv_ckks_params_np(p) ||
            hekv_ckks_swk_bytes(k) == 0)
            abort();
    }
    if ((ng || ns || rl >= 0) && hekv_ckks_evk_bytes(evk) == 0) abort();
}

static void load_evk(const uint8_t *d, size_t n) {
    const hekv_ckks_params *p = fuzz_params();
    hekv_err err = {0};
    hekv_evk *evk = NULL;
    hekv_status st = hekv_ckks_evk_load(p, d, n, &evk, &err);
    FUZZ_FAILED_CLEANLY(st, err, evk);
    FUZZ_AGAIN_WITHOUT_ERR(st, hekv_evk, hekv_ckks_evk_load(p, d, n, &again, NULL));
    if (st != HEKV_OK) return;
    check_evk(p, evk);
    hekv_buf out = {0};
    if (hekv_ckks_evk_save(evk, &out, &err) != HEKV_OK) abort();
    fuzz_check_resave(d, n, &out, 1);
    hekv_ckks_evk_free(evk);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    void (*load)(const uint8_t *, size_t) = load_sk;
    if (n > FUZZ_TYPE_AT && d[FUZZ_TYPE_AT] == HEKV_OBJ_PK) load = load_pk;
    if (n > FUZZ_TYPE_AT && d[FUZZ_TYPE_AT] == HEKV_OBJ_EVK) load = load_evk;
    fuzz_both(d, n, load);
    return 0;
}
