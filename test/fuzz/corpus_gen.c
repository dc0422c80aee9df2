/* corpus_gen.c: writes the seed corpus of the fuzz targets (make fuzz-run): valid files of
 * every object type for toy-N12, the set the targets load with, into DIR/params, DIR/keys
 * (sk, pk seeded and full, evk: empty, relinearisation only, one seeded and one full
 * Galois key) and DIR/ct (ciphertexts seeded and full at levels 0 and 1, plaintexts).
 * usage: corpus_gen DIR. Harness code: exits on error. */
#include <stdio.h>
#include <sys/stat.h>

#include "fuzz.h"
/* the one harness file that reaches inside: it writes keys in full as well as seeded */
#include "src/ckks/ckks_int.h"

static void die(const char *what, const hekv_err *err) {
    fprintf(stderr, "corpus_gen: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

static void put(const char *dir, const char *sub, const char *name, hekv_buf *b) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    hekv_err err;
    if (hekv_file_write(path, b->data, b->len, 0, &err) != HEKV_OK) die(path, &err);
    hekv_buf_free(b);
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
    hekv_buf b = {0};
    CHECK(hekv_ckks_params_save(p, &b, &err), "params");
    put(dir, "params", "toy-N12.params", &b);

    hekv_sk *sk;
    hekv_pk *pk;
    CHECK(hekv_ckks_sk_new(p, &sk, &err), "sk");
    CHECK(hekv_ckks_pk_new(p, sk, &pk, &err), "pk");
    CHECK(hekv_ckks_sk_save(sk, &b, &err), "sk save");
    put(dir, "keys", "toy.sk", &b);
    CHECK(hekv_ckks_pk_save(pk, &b, &err), "pk save");
    put(dir, "keys", "seeded.pk", &b);
    pk->has_seed = 0;
    CHECK(hekv_ckks_pk_save(pk, &b, &err), "pk save");
    put(dir, "keys", "full.pk", &b);

    hekv_evk *e0, *e1, *e2;
    CHECK(hekv_ckks_evk_new(p, &e0, &err), "evk");
    CHECK(hekv_ckks_evk_save(e0, &b, &err), "evk save");
    put(dir, "keys", "empty.evk", &b);
    CHECK(hekv_ckks_evk_new(p, &e1, &err), "evk");
    CHECK(hekv_ckks_evk_gen_relin(e1, sk, -1, &err), "relin");
    CHECK(hekv_ckks_evk_save(e1, &b, &err), "evk save");
    put(dir, "keys", "relin.evk", &b);
    CHECK(hekv_ckks_evk_new(p, &e2, &err), "evk");
    long rots[] = {1, 5};
    CHECK(hekv_ckks_evk_gen_rotations(e2, sk, rots, 2, 0, -1, &err), "rotations");
    e2->galk[1]->has_seed = 0;
    CHECK(hekv_ckks_evk_save(e2, &b, &err), "evk save");
    put(dir, "keys", "rot.evk", &b);

    hekv_encoder *enc;
    hekv_pt *pt;
    hekv_ct *ct;
    CHECK(hekv_ckks_encoder_new(p, &enc, &err), "encoder");
    CHECK(hekv_ckks_pt_new(p, &pt, &err), "pt");
    CHECK(hekv_ckks_ct_new(p, &ct, &err), "ct");
    double v[8] = {0.5, -1, 0.25, 3, 0, 1e-3, -0.75, 2};
    for (int level = 0; level < 2; level++) {
        char name[64];
        CHECK(hekv_ckks_encode(enc, pt, v, NULL, 8, level, hekv_ckks_params_default_scale(p),
                               &err), "encode");
        CHECK(hekv_ckks_pt_save(pt, &b, &err), "pt save");
        snprintf(name, sizeof name, "l%d.pt", level);
        put(dir, "ct", name, &b);
        CHECK(hekv_ckks_encrypt_sk(sk, ct, pt, &err), "encrypt");
        CHECK(hekv_ckks_ct_save(ct, &b, &err), "ct save");
        snprintf(name, sizeof name, "l%d-seeded.ct", level);
        put(dir, "ct", name, &b);
        CHECK(hekv_ckks_encrypt_pk(pk, ct, pt, &err), "encrypt");
        CHECK(hekv_ckks_ct_save(ct, &b, &err), "ct save");
        snprintf(name, sizeof name, "l%d-full.ct", level);
        put(dir, "ct", name, &b);
    }
    hekv_ckks_ct_free(ct);
    hekv_ckks_pt_free(pt);
    hekv_ckks_encoder_free(enc);
    hekv_ckks_evk_free(e0);
    hekv_ckks_evk_free(e1);
    hekv_ckks_evk_free(e2);
    hekv_ckks_pk_free(pk);
    hekv_ckks_sk_free(sk);
    hekv_ckks_params_free(p);
    return 0;
}
