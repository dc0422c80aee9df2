/* corpus_gen.c: writes the seed corpus of the fuzz targets (make fuzz-run), one folder per
 * target, named as the target without its "fuzz_load_" prefix:
 *
 *   params     the toy-N12 parameter set the CKKS targets load with
 *   keys       small keys of toy-N12 (the keys target must run fast): the secret key, the
 *              seeded public key, and evaluation-key sets at level 0: empty, the
 *              relinearisation key, one seeded Galois key, one tagged switching key of one
 *              special prime (seeded and in full), and all three together
 *   ct         ciphertexts seeded and in full at levels 0 and 1, plaintexts
 *   kv         K/V caches: empty (two shapes, one with a store level) and holding one
 *              token at level 0 (head dimension 1, and grouped-query with 2 V diagonals)
 *   model      tiny llama2.c checkpoints built in memory (shared and separate classifier,
 *              grouped-query attention)
 *   tokenizer  tiny llama2.c tokenizers built in memory (with and without the 256 byte
 *              tokens), each behind the int32 vocabulary size the target reads first
 *   calib      calibrations of the tiny models by the library (hekv_llama_calib_save after
 *              a few forward positions), and one rewritten with CRLF, tabs, comment lines
 *              and its entries in another order
 *   approx     approximation files by the library (hekv_llama_chebset_save): the designs
 *              on a calibration's intervals, a small hand-made set and that set rewritten
 *              with CRLF, tabs and comments after the fields, and a one-coefficient file
 *   golden     golden-logits files of a tiny model
 *   lambada    LAMBADA lines: plain text and JSON (escapes, surrogate pairs, other members)
 *
 * usage: corpus_gen DIR. Harness code: exits on error. */
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>

#include "hekv/llama.h"
#include "hekv/llama_approx.h"
#include "hekv/pack.h"

#include "fuzz.h"
/* the one harness file that reaches inside: it writes keys in full as well as seeded */
#include "src/ckks/ckks_int.h"

static void die(const char *what, const hekv_err *err) {
    fprintf(stderr, "corpus_gen: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

typedef struct {
    uint8_t *b;
    size_t n, cap;
} bytes_out;

static void out_add(bytes_out *x, const void *p, size_t n) {
    if (x->n + n > x->cap) {
        x->cap = 2 * (x->n + n) + 64;
        if (!(x->b = realloc(x->b, x->cap))) {
            fprintf(stderr, "corpus_gen: out of memory\n");
            exit(1);
        }
    }
    memcpy(x->b + x->n, p, n);
    x->n += n;
}

static const char *path_of(const char *dir, const char *sub, const char *name) {
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    return path;
}

static void put_bytes(const char *dir, const char *sub, const char *name, const void *data,
                      size_t len) {
    const char *path = path_of(dir, sub, name);
    hekv_err err;
    if (hekv_file_write(path, data, len, 0, &err) != HEKV_OK) die(path, &err);
}

static void put(const char *dir, const char *sub, const char *name, hekv_buf *b) {
    put_bytes(dir, sub, name, b->data, b->len);
    hekv_buf_free(b);
}

/* A variant of the text file dir/sub/from as dir/sub/to, the grammar's freedoms exercised:
 * CRLF line ends, tabs for spaces, a comment line between lines (or, with `trailing`, a
 * comment after each line, which "hekv-approx 1" allows), and with `keep` >= 1 the lines
 * after the first `keep` in reverse order, "end" staying last (a calibration's entries
 * may come in any order after its model line). */
static void put_text_variant(const char *dir, const char *sub, const char *from,
                             const char *to, int trailing, size_t keep) {
    hekv_buf in = {0};
    hekv_err err;
    if (hekv_file_read(path_of(dir, sub, from), 0, &in, &err) != HEKV_OK) die(from, &err);
    const char *lines[4096];
    size_t lens[4096], nl = 0;
    for (size_t at = 0; at < in.len && nl < 4096;) {
        const char *p = (const char *)in.data + at, *e = memchr(p, '\n', in.len - at);
        const size_t l = e ? (size_t)(e - p) : in.len - at;
        lines[nl] = p, lens[nl++] = l;
        at += l + 1;
    }
    bytes_out o = {0};
    for (size_t k = 0; k < nl; k++) {
        const size_t i = !keep || k < keep || k + 1 == nl ? k : nl - 1 - (k - keep + 1);
        for (size_t c = 0; c < lens[i]; c++) {
            const char ch = lines[i][c] == ' ' && k ? '\t' : lines[i][c];
            out_add(&o, &ch, 1);
        }
        if (k && k + 1 < nl) {
            if (trailing)
                out_add(&o, "  # note", 8);
            else
                out_add(&o, "\r\n# note", 8);
        }
        out_add(&o, "\r\n", 2);
    }
    put_bytes(dir, sub, to, o.b, o.n);
    free(o.b);
    hekv_buf_free(&in);
}

#define CHECK(call, what) \
    do { if ((call) != HEKV_OK) die(what, &err); } while (0)

/* ---- CKKS objects ---------------------------------------------------------------------- */

static void gen_keys(const char *dir, const hekv_ckks_params *p, const hekv_sk *sk) {
    hekv_err err;
    hekv_buf b = {0};
    hekv_pk *pk;
    CHECK(hekv_ckks_pk_new(p, sk, &pk, &err), "pk");
    CHECK(hekv_ckks_sk_save(sk, &b, &err), "sk save");
    put(dir, "keys", "toy.sk", &b);
    CHECK(hekv_ckks_pk_save(pk, &b, &err), "pk save");
    put(dir, "keys", "seeded.pk", &b);
    hekv_ckks_pk_free(pk);

    hekv_sk *sparse;
    CHECK(hekv_ckks_sk_new_sparse(p, 32, &sparse, &err), "sparse sk");
    const long rot1[] = {1};
    for (int which = 0; which < 6; which++) {
        static const char *names[] = {"empty.evk",  "relin0.evk",    "rot1-l0.evk",
                                      "swk-sp1.evk", "swk-sp1-full.evk", "all-l0.evk"};
        hekv_evk *e;
        CHECK(hekv_ckks_evk_new(p, &e, &err), "evk");
        if (which == 1 || which == 5) CHECK(hekv_ckks_evk_gen_relin(e, sk, 0, &err), "relin");
        if (which == 2 || which == 5)
            CHECK(hekv_ckks_evk_gen_rotations(e, sk, rot1, 1, 0, 0, &err), "rotation");
        if (which == 3 || which == 4 || which == 5) {
            hekv_swk *k;
            CHECK(hekv_ckks_swk_new(sk, sparse, 0, 1, &k, &err), "switching key");
            if (which == 4) k->has_seed = 0;
            CHECK(hekv_ckks_evk_add_swk(e, 0x454e4331u, k, &err), "add switching key");
        }
        CHECK(hekv_ckks_evk_save(e, &b, &err), "evk save");
        put(dir, "keys", names[which], &b);
        hekv_ckks_evk_free(e);
    }
    hekv_ckks_sk_free(sparse);
}

static void gen_ct(const char *dir, const hekv_ckks_params *p, const hekv_sk *sk) {
    hekv_err err;
    hekv_buf b = {0};
    hekv_pk *pk;
    hekv_encoder *enc;
    hekv_pt *pt;
    hekv_ct *ct;
    CHECK(hekv_ckks_pk_new(p, sk, &pk, &err), "pk");
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
    hekv_ckks_pk_free(pk);
}

/* A cache of shape (d, H, Hk) holding `tokens` (0 or 1) token at level 0: fresh encryptions
 * of the slot vectors hekv_pack_kv_k_slots / _v_slots give, imported (seeded, except the
 * first K ciphertext when `full_k`, encrypted with the public key). */
static void gen_kv_one(const char *dir, const char *name, const hekv_ckks_params *p,
                       const hekv_sk *sk, size_t d, size_t H, size_t Hk, int store,
                       int tokens, int full_k) {
    hekv_err err;
    hekv_buf b = {0};
    hekv_pack_kv *kv;
    CHECK(hekv_pack_kv_new(p, d, H, Hk, store, &kv, &err), "kv cache");
    if (tokens) {
        hekv_pack_kv_info in;
        hekv_pack_kv_get_info(kv, &in);
        hekv_encoder *enc;
        hekv_eval *ev;
        hekv_pk *pk;
        CHECK(hekv_ckks_encoder_new(p, &enc, &err), "encoder");
        CHECK(hekv_ckks_eval_new(p, NULL, &ev, &err), "evaluator");
        CHECK(hekv_ckks_pk_new(p, sk, &pk, &err), "pk");
        const size_t S = in.slots, nk = 1, nv = in.d_head;
        double *keys = calloc(in.d_kv, sizeof *keys), *vals = calloc(in.d_kv, sizeof *vals);
        double *slots = malloc(S * sizeof *slots);
        hekv_ct *cts[1 + 64];
        for (size_t g = 0; g < in.d_kv; g++) keys[g] = 0.125 * (double)(g + 1), vals[g] = -0.5;
        for (size_t i = 0; i < nk + nv; i++) {
            if (i < nk) {
                if (hekv_pack_kv_k_slots(kv, keys, 1, i, slots) != HEKV_OK) die("k slots", NULL);
            } else if (hekv_pack_kv_v_slots(kv, vals, 1, 0, i - nk, slots) != HEKV_OK) {
                die("v slots", NULL);
            }
            hekv_pt *pt;
            CHECK(hekv_ckks_pt_new(p, &pt, &err), "pt");
            CHECK(hekv_ckks_ct_new(p, &cts[i], &err), "ct");
            CHECK(hekv_ckks_encode(enc, pt, slots, NULL, S, 0, hekv_ckks_params_default_scale(p),
                                   &err), "encode");
            if (i == 0 && full_k)
                CHECK(hekv_ckks_encrypt_pk(pk, cts[i], pt, &err), "encrypt");
            else
                CHECK(hekv_ckks_encrypt_sk(sk, cts[i], pt, &err), "encrypt");
            hekv_ckks_pt_free(pt);
        }
        if (hekv_pack_kv_import(ev, kv, 1, (const hekv_ct *const *)cts, 1,
                                (const hekv_ct *const *)cts + nk) != HEKV_OK)
            die("kv import", NULL);
        for (size_t i = 0; i < nk + nv; i++) hekv_ckks_ct_free(cts[i]);
        free(keys), free(vals), free(slots);
        hekv_ckks_pk_free(pk);
        hekv_ckks_eval_free(ev);
        hekv_ckks_encoder_free(enc);
    }
    CHECK(hekv_pack_kv_save(kv, &b, &err), "kv save");
    put(dir, "kv", name, &b);
    hekv_pack_kv_free(kv);
}

static void gen_kv(const char *dir, const hekv_ckks_params *p, const hekv_sk *sk) {
    gen_kv_one(dir, "empty-d64.kv", p, sk, 64, 4, 2, -1, 0, 0);
    gen_kv_one(dir, "empty-store0.kv", p, sk, 8, 2, 2, 0, 0, 0);
    gen_kv_one(dir, "t1-d2.kv", p, sk, 2, 2, 1, -1, 1, 1);
    gen_kv_one(dir, "t1-gqa.kv", p, sk, 8, 4, 2, 1, 1, 0);
}

/* ---- models ----------------------------------------------------------------------------- */

static uint64_t rng_state = 0x243F6A8885A308D3ULL;
static double rnd(void) { /* xorshift64*, uniform in [-1, 1) */
    rng_state ^= rng_state >> 12, rng_state ^= rng_state << 25, rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ULL) >> 11) / 4503599627370496.0 - 1.0;
}

/* A checkpoint with header hdr (vocab_size < 0: separate classifier), matrices in +-0.3
 * and norm weights near 1; malloc'd, *n bytes. */
static uint8_t *synth_model(const int32_t hdr[7], size_t *n) {
    hekv_llama_config c;
    hekv_err err;
    CHECK(hekv_llama_config_from_header(&c, hdr, &err), "model header");
    *n = (size_t)hekv_llama_config_file_size(&c);
    uint8_t *b = malloc(*n);
    if (!b) die("out of memory", NULL);
    memcpy(b, hdr, 28);
    const size_t nf = (*n - 28) / 4, C = (size_t)c.dim, L = (size_t)c.n_layers;
    const size_t V = (size_t)c.vocab_size, KVD = (size_t)c.kv_dim, H = (size_t)c.hidden_dim;
    float *w = malloc(nf * sizeof *w);
    for (size_t i = 0; i < nf; i++) w[i] = (float)(0.3 * rnd());
    const size_t att = V * C, ffn = att + L * C + 2 * L * C * C + 2 * L * KVD * C;
    const size_t fin = ffn + L * C + 3 * L * H * C;
    for (size_t i = 0; i < L * C; i++) w[att + i] += 1.0f, w[ffn + i] += 1.0f;
    for (size_t i = 0; i < C; i++) w[fin + i] += 1.0f;
    memcpy(b + 28, w, nf * 4);
    free(w);
    return b;
}

#define N_MODELS 3
static const int32_t model_hdr[N_MODELS][7] = {
    {8, 16, 2, 2, 2, 32, 8},  /* shared classifier */
    {8, 12, 1, 4, 2, -24, 6}, /* separate classifier, grouped-query attention */
    {4, 4, 1, 2, 1, 8, 4},    /* smallest: head size 2 */
};

static void gen_models(const char *dir) {
    hekv_err err;
    for (int i = 0; i < N_MODELS; i++) {
        size_t n;
        uint8_t *b = synth_model(model_hdr[i], &n);
        char name[64];
        snprintf(name, sizeof name, "tiny%d.bin", i);
        put_bytes(dir, "model", name, b, n);
        hekv_llama_model *m;
        CHECK(hekv_llama_model_parse(b, n, &m, &err), "model parse");
        const hekv_llama_config *c = hekv_llama_model_config(m);
        /* calibration: a few positions through the float64 reference */
        hekv_llama_state *st;
        hekv_llama_calib *cal;
        CHECK(hekv_llama_state_new(m, HEKV_LLAMA_F64, &st, &err), "state");
        CHECK(hekv_llama_calib_new(c, &cal, &err), "calib");
        CHECK(hekv_llama_state_set_calib(st, cal, &err), "set calib");
        const int T = c->seq_len < 5 ? c->seq_len : 5;
        int32_t tokens[8];
        uint8_t *golden = malloc(16 + 4 * (size_t)T + 4 * (size_t)T * (size_t)c->vocab_size);
        for (int pos = 0; pos < T; pos++) {
            tokens[pos] = pos ? (pos * 7 + 3) % c->vocab_size : HEKV_LLAMA_TOKEN_BOS;
            CHECK(hekv_llama_forward(st, tokens[pos], pos, NULL, &err), "forward");
            const double *lg = hekv_llama_state_logits(st);
            for (int v = 0; v < c->vocab_size; v++) {
                float f = (float)lg[v];
                memcpy(golden + 16 + 4 * (size_t)T + 4 * ((size_t)pos * c->vocab_size + v), &f, 4);
            }
        }
        hekv_llama_calib_add_tokens(cal, T);
        snprintf(name, sizeof name, "tiny%d.calib", i);
        CHECK(hekv_llama_calib_save(cal, path_of(dir, "calib", name), &err), "calib save");
        if (i == 0) { /* the designs on its intervals */
            hekv_llama_range r[HEKV_LLAMA_NONLIN_COUNT];
            hekv_llama_chebset *s;
            CHECK(hekv_llama_approx_ranges(cal, 0.1, r, &err), "approx ranges");
            CHECK(hekv_llama_chebset_design(r, NULL, &s, NULL, &err), "approx design");
            CHECK(hekv_llama_chebset_save(s, path_of(dir, "approx", "tiny0.approx"), &err),
                  "approx save");
            hekv_llama_chebset_free(s);
        }
        /* golden logits of those positions */
        const int32_t ghdr[3] = {1, T, c->vocab_size};
        memcpy(golden, "HKGL", 4);
        memcpy(golden + 4, ghdr, 12);
        memcpy(golden + 16, tokens, 4 * (size_t)T);
        snprintf(name, sizeof name, "tiny%d.golden", i);
        put_bytes(dir, "golden", name, golden, 16 + 4 * (size_t)T + 4 * (size_t)T * c->vocab_size);
        free(golden);
        hekv_llama_calib_free(cal);
        hekv_llama_state_free(st);
        hekv_llama_model_free(m);
        free(b);
    }
}

static long double f_exp(long double x, void *ctx) {
    (void)ctx;
    return expl(x);
}
static long double f_silu(long double x, void *ctx) {
    (void)ctx;
    return x / (1 + expl(-x));
}

/* A hand-made set: exp and silu by interpolation at low degree. */
static void gen_approx(const char *dir) {
    hekv_err err;
    hekv_llama_chebset *s;
    hekv_cheby *e, *si;
    CHECK(hekv_llama_chebset_new(&s, &err), "chebset");
    CHECK(hekv_ckks_cheby_interp(f_exp, NULL, -8, 0, 7, &e, &err), "exp series");
    CHECK(hekv_ckks_cheby_interp(f_silu, NULL, -6, 6, 5, &si, &err), "silu series");
    CHECK(hekv_llama_chebset_set(s, HEKV_NONLIN_EXP, e, &err), "set exp");
    CHECK(hekv_llama_chebset_set(s, HEKV_NONLIN_SILU, si, &err), "set silu");
    CHECK(hekv_llama_chebset_save(s, path_of(dir, "approx", "small.approx"), &err), "save");
    hekv_ckks_cheby_free(e);
    hekv_ckks_cheby_free(si);
    hekv_llama_chebset_free(s);
    static const char minimal[] = "hekv-approx 1\n# one constant\nrecip 1 2 1\n  0.75\nend\n";
    put_bytes(dir, "approx", "minimal.approx", minimal, sizeof minimal - 1);
}

/* ---- tokenizers ------------------------------------------------------------------------- */

static void add_piece(bytes_out *x, const char *s, float score, int *count) {
    const int32_t len = (int32_t)strlen(s);
    out_add(x, &score, 4);
    out_add(x, &len, 4);
    out_add(x, s, (size_t)len);
    (*count)++;
}

/* <unk>, <s>, </s>, optionally the 256 byte tokens, then pieces and merges by score. */
static void gen_tokenizer(const char *dir, const char *name, int byte_tokens) {
    static const char *merges[] = {" ", "e", "t", "a", "o", "n", "h", "s", "i", "c", "u",
                                   "p", "m", "l", "w", "O", "T", ",", ".", "\xc3\xa9",
                                   "th", "he", " t", " a", "on", "ce", " the", "Once",
                                   " upon", " time", " cat", "up", "ti", "me", "\n",
                                   "e", /* a duplicate: the lowest id wins */
                                   NULL};
    bytes_out x = {0};
    const int32_t mtl = 16;
    int count = 0;
    out_add(&x, &mtl, 4); /* placeholder for the vocabulary size, replaced below */
    out_add(&x, &mtl, 4);
    add_piece(&x, "<unk>", 0, &count);
    add_piece(&x, "\n<s>\n", 0, &count);
    add_piece(&x, "\n</s>\n", 0, &count);
    if (byte_tokens)
        for (int v = 0; v < 256; v++) {
            char s[8];
            snprintf(s, sizeof s, "<0x%02X>", v);
            add_piece(&x, s, 0, &count);
        }
    for (int i = 0; merges[i]; i++) add_piece(&x, merges[i], -(float)i, &count);
    memcpy(x.b, &count, 4);
    put_bytes(dir, "tokenizer", name, x.b, x.n);
    free(x.b);
}

/* ---- LAMBADA lines ---------------------------------------------------------------------- */

static void gen_lambada(const char *dir) {
    static const char *lines[][2] = {
        {"plain.txt", "the cat sat on the mat and looked at the dog"},
        {"json.jsonl", "{\"text\": \"she opened the door and saw her brother\"}"},
        {"escapes.jsonl",
         "  {\"id\": 17, \"text\": \"a \\\"quoted\\\" word\\\\ tab\\there \\u00e9t\\u00e9 "
         "\\ud83d\\ude00 caf\\u00E9\\/\\b\\f\\n\\r end\", \"x\": [1.5e3, -0.25, true, false, "
         "null, {\"y\": [[]]}]}  "},
        {"members.jsonl",
         "{\"domain\": \"fiction\", \"meta\": {\"n\": -12, \"f\": 3.25E-2, \"l\": []}, "
         "\"text\": \"first\", \"text\": \"the last text member counts here\"}"},
        {"skip.txt", "   lonely   "},
        {"lines.txt", "one two three\n\n  \t\n{\"text\": \"x y\"}\nfour five six\r"},
    };
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
        put_bytes(dir, "lambada", lines[i][0], lines[i][1], strlen(lines[i][1]));
}

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
    CHECK(hekv_ckks_sk_new(p, &sk, &err), "sk");
    gen_keys(dir, p, sk);
    gen_ct(dir, p, sk);
    gen_kv(dir, p, sk);
    hekv_ckks_sk_free(sk);
    gen_models(dir);
    gen_approx(dir);
    put_text_variant(dir, "calib", "tiny1.calib", "tiny1-crlf.calib", 0, 3);
    put_text_variant(dir, "approx", "small.approx", "small-crlf.approx", 1, 0);
    gen_tokenizer(dir, "bytes.tok", 1);
    gen_tokenizer(dir, "chars.tok", 0);
    gen_lambada(dir);
    hekv_ckks_params_free(p);
    return 0;
}
