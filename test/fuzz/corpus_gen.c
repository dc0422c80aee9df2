/* corpus_gen.c: writes the seed corpus of the fuzz targets (make fuzz-run): valid files of
 * every object type for toy-N12, the set the targets load with, into DIR/params, DIR/keys
 * (sk, pk seeded and full, evk: empty, relinearisation only, one seeded and one full
 * Galois key) and DIR/ct (ciphertexts seeded and full at levels 0 and 1, plaintexts).
 * usage: corpus_gen DIR. Harness code: exits on error. */
#include <stdio.h>
#include <sys/stat.h>

#include "fuzz.h"

static void die(const char *what, const hekv_err *err) {
    fprintf(stderr, "corpus_gen: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

static void put(const char *dir, const char *sub, const char *name, uint8_t *buf, size_t len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    hekv_err err;
    if (hekv_file_write(path, buf, len, 0, &err) != HEKV_OK) die(path, &err);
    free(buf);
}

#define CHECK(call, what) \
    do { if ((call) != HEKV_OK) die(what, &err); } while (0)

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: corpus_gen DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    mkdir(dir, 0755);
    hekv_ckks_params *p = fuzz_params();
    hekv_err err;
    uint8_t *b;
    size_t n;
    CHECK(hekv_ckks_params_save(p, &b, &n, &err), "params");
    put(dir, "params", "toy-N12.params", b, n);

    hekv_sk *sk;
    hekv_pk *pk;
    CHECK(hekv_ckks_sk_new(p, &sk, &err), "sk");
    CHECK(hekv_ckks_pk_new(p, sk, &pk, &err), "pk");
    CHECK(hekv_ckks_sk_save(sk, &b, &n, &err), "sk save");
    put(dir, "keys", "toy.sk", b, n);
    CHECK(hekv_ckks_pk_save(pk, &b, &n, &err), "pk save");
    put(dir, "keys", "seeded.pk", b, n);
    pk->has_seed = 0;
    CHECK(hekv_ckks_pk_save(pk, &b, &n, &err), "pk save");
    put(dir, "keys", "full.pk", b, n);

    hekv_evk *e0, *e1, *e2;
    CHECK(hekv_ckks_evk_new(p, &e0, &err), "evk");
    CHECK(hekv_ckks_evk_save(e0, &b, &n, &err), "evk save");
    put(dir, "keys", "empty.evk", b, n);
    CHECK(hekv_ckks_evk_new(p, &e1, &err), "evk");
    CHECK(hekv_ckks_evk_gen_relin(e1, sk, &err), "relin");
    CHECK(hekv_ckks_evk_save(e1, &b, &n, &err), "evk save");
    put(dir, "keys", "relin.evk", b, n);
    CHECK(hekv_ckks_evk_new(p, &e2, &err), "evk");
    long rots[] = {1, 5};
    CHECK(hekv_ckks_evk_gen_rotations(e2, sk, rots, 2, 0, &err), "rotations");
    e2->galk[1]->has_seed = 0;
    CHECK(hekv_ckks_evk_save(e2, &b, &n, &err), "evk save");
    put(dir, "keys", "rot.evk", b, n);

    hekv_encoder *enc;
    hekv_pt *pt;
    hekv_ct *ct;
    CHECK(hekv_ckks_encoder_new(p, &enc, &err), "encoder");
    CHECK(hekv_pt_new(p, &pt, &err), "pt");
    CHECK(hekv_ct_new(p, &ct, &err), "ct");
    double v[8] = {0.5, -1, 0.25, 3, 0, 1e-3, -0.75, 2};
    for (int level = 0; level < 2; level++) {
        char name[64];
        CHECK(hekv_ckks_encode(enc, pt, v, NULL, 8, level, hekv_ckks_params_default_scale(p),
                               &err), "encode");
        CHECK(hekv_ckks_pt_save(p, pt, &b, &n, &err), "pt save");
        snprintf(name, sizeof name, "l%d.pt", level);
        put(dir, "ct", name, b, n);
        CHECK(hekv_ckks_encrypt_sk(sk, ct, pt, &err), "encrypt");
        CHECK(hekv_ckks_ct_save(p, ct, &b, &n, &err), "ct save");
        snprintf(name, sizeof name, "l%d-seeded.ct", level);
        put(dir, "ct", name, b, n);
        CHECK(hekv_ckks_encrypt_pk(pk, ct, pt, &err), "encrypt");
        CHECK(hekv_ckks_ct_save(p, ct, &b, &n, &err), "ct save");
        snprintf(name, sizeof name, "l%d-full.ct", level);
        put(dir, "ct", name, b, n);
    }
    hekv_ct_free(ct);
    hekv_pt_free(pt);
    hekv_ckks_encoder_free(enc);
    hekv_ckks_evk_free(e0);
    hekv_ckks_evk_free(e1);
    hekv_ckks_evk_free(e2);
    hekv_ckks_pk_free(pk);
    hekv_ckks_sk_free(sk);
    hekv_ckks_params_free(p);
    return 0;
}
