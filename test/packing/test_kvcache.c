/* test_kvcache.c: the packed K/V cache at toy-N12 (S = 2048) against plaintext attention:
 * appends of keys and values given with junk outside their slots (the masks must remove
 * it), the decrypted cache against the layout re-derived here from its definition, QK^T
 * for a new query over the whole cache against q . k per head, scores x V against
 * sum_tau p(h, tau) v_tau per head (with random "probabilities": the softmax comes from
 * the polynomial layer), several head counts with n_kv_heads = n_heads and < n_heads
 * (GQA, gamma = 2 and 4), contexts that cross the B = S/Hk-token block boundary (import of
 * a prefix, then appends across it), the K projection folded straight into the append
 * position by IRP, serialization (round trip, truncation, corruption, other parameters),
 * and the counts of every step against
 *     append K: 0 rotations, 1 mask;  append V: 0 rotations, d_h masks;
 *     QK^T:  log2 t + gamma log2 gamma [gamma > 1] + n_c gamma log2 d_h rotations,
 *            n_c gamma products (n_c = ceil(n / t_kv): 1/t products per token);
 *     scores x V: n_b gamma (d_h - 1) + gamma log2 gamma + log2 t rotations,
 *            n_b gamma d_h products, gamma relinearisations (n_b = ceil(n / B)),
 *            gamma sub-block masks when gamma > 1. */
#include "pack_test.h"

/* q . k over d_h terms with |q|, |k| <= 1: product noise plus log2 d_h fold rotations
 * plus the masks; observed about 2^-24 .. 2^-22. */
#define TOL_QK(dh) ((double)((dh) + 64) * 0x1p-27)
/* scores x V: n terms per output with p in [0, 1/n] and |v| <= 1; observed ~2^-25 */
#define TOL_AV 0x1p-21
/* the cache contents after masked appends (junk 3.0 removed by the mask): ~2^-24 */
#define TOL_CACHE 0x1p-21

typedef struct {
    size_t d, H, Hk, dh, dkv, g, t, tkv, B, S;
} shp;

static shp shape_of(size_t S, size_t d, size_t H, size_t Hk) {
    shp s = {d, H, Hk, d / H, Hk * (d / H), H / Hk, S / d, 0, S / Hk, S};
    s.tkv = S / s.dkv;
    return s;
}

static size_t cdiv(size_t a, size_t b) { return (a + b - 1) / b; }

/* The layouts, from their definitions in pack.h. */
static void expect_k(const shp *s, const double *K, size_t n, size_t c, double *v) {
    memset(v, 0, s->S * sizeof *v);
    for (size_t r = 0; r < s->tkv && c * s->tkv + r < n; r++)
        for (size_t g = 0; g < s->dkv; g++) v[g * s->tkv + r] = K[(c * s->tkv + r) * s->dkv + g];
}

static void expect_v(const shp *s, const double *V, size_t n, size_t b, size_t j, double *v) {
    memset(v, 0, s->S * sizeof *v);
    for (size_t l = 0; l < s->dh; l++)
        for (size_t h = 0; h < s->Hk; h++)
            for (size_t r = 0; r < s->tkv; r++) {
                size_t qr = (j + l) % s->dh, tau = b * s->B + qr * s->tkv + r;
                if (tau < n) v[(l * s->Hk + h) * s->tkv + r] = V[tau * s->dkv + l * s->Hk + h];
            }
}

/* max error of every cache ciphertext against the layout */
static double check_cache(ctx *c, const hekv_pack_kv *kv, const shp *s, const double *K,
                          const double *V, size_t n) {
    double *v = malloc(s->S * sizeof *v), *w = malloc(s->S * sizeof *w), *lib = malloc(s->S * sizeof *lib);
    double m = 0;
    for (size_t i = 0; i < cdiv(n, s->tkv); i++) {
        expect_k(s, K, n, i, w);
        cr_assert_eq(hekv_pack_kv_k_slots(kv, K, n, i, lib), HEKV_OK);
        cr_assert_eq(memcmp(w, lib, s->S * sizeof *w), 0, "k_slots differs from the layout");
        ct_decrypt(c, v, NULL, kv->k[i]);
        for (size_t j = 0; j < s->S; j++) m = fmax(m, fabs(v[j] - w[j]));
    }
    for (size_t b = 0; b < cdiv(n, s->B); b++)
        for (size_t j = 0; j < s->dh; j++) {
            expect_v(s, V, n, b, j, w);
            cr_assert_eq(hekv_pack_kv_v_slots(kv, V, n, b, j, lib), HEKV_OK);
            cr_assert_eq(memcmp(w, lib, s->S * sizeof *w), 0, "v_slots differs from the layout");
            ct_decrypt(c, v, NULL, kv->v[b * s->dh + j]);
            for (size_t x = 0; x < s->S; x++) m = fmax(m, fabs(v[x] - w[x]));
        }
    free(v), free(w), free(lib);
    return m;
}

/* Appends tokens [from, to) of K, V (encrypted at level `lvl` with junk 3.0 elsewhere). */
static void append_range(ctx *c, hekv_pack_kv *kv, const shp *s, const double *K,
                         const double *V, size_t from, size_t to, int lvl) {
    for (size_t tau = from; tau < to; tau++) {
        hekv_pack_stats st = {0};
        size_t pos = hekv_pack_kv_next_pos_k(kv);
        cr_assert_eq(pos, tau % s->tkv);
        cr_assert_eq(hekv_pack_kv_next_pos_v(kv), pos);
        hekv_ct *k = ct_encrypt_vec(c, K + tau * s->dkv, s->dkv, s->dkv, pos, 3.0, lvl);
        hekv_ct *v = ct_encrypt_vec(c, V + tau * s->dkv, s->dkv, s->dkv, pos, -3.0, lvl);
        const int kl = hekv_pack_kv_entry_level(kv, 0, lvl), vl = hekv_pack_kv_entry_level(kv, 1, lvl);
        cr_assert_eq(hekv_pack_kv_append_k(c->ev, kv, k, &st), HEKV_OK, "%s",
                     hekv_ckks_eval_last_error(c->ev));
        cr_assert_eq(hekv_ckks_ct_level(kv->k[kv->nk - 1]), kl);
        cr_assert_eq(st.rotations, 0);
        cr_assert_eq(st.mask_mults, 1);
        cr_assert_eq(hekv_pack_kv_append_v(c->ev, kv, v, &st), HEKV_OK, "%s",
                     hekv_ckks_eval_last_error(c->ev));
        cr_assert_eq(hekv_ckks_ct_level(kv->v[kv->nv - 1]), vl);
        cr_assert_eq(st.rotations, 0);
        cr_assert_eq(st.mask_mults, 1 + s->dh);
        cr_assert_eq(st.rescales, 1 + s->dh);
        cr_assert_eq(st.ct_mults + st.pt_mults, 0);
        hekv_ckks_ct_free(k), hekv_ckks_ct_free(v);
    }
}

static void gen_kv_keys(ctx *c, const hekv_pack_kv *kv) {
    size_t n = hekv_pack_kv_rotations(kv, NULL, 0);
    long *r = malloc(n * sizeof *r);
    cr_assert_eq(hekv_pack_kv_rotations(kv, r, n), n);
    ctx_gen_rotations(c, r, n, 0);
    free(r);
}

/* QK^T against q . k per head; returns the max error. */
static double run_qkt(ctx *c, hekv_pack_kv *kv, const shp *s, const double *K, size_t n,
                      int qlevel, test_rng *g) {
    double *q = rand_vec(g, s->d, -1, 1), *v = malloc(s->S * sizeof *v);
    hekv_ct *qc = ct_encrypt_vec(c, q, s->d, s->d, 0, 0.0, qlevel);
    const size_t nb = cdiv(n, s->B), nc = cdiv(n, s->tkv), ns = s->g * nb;
    cr_assert_eq(hekv_pack_kv_score_count(kv), ns);
    hekv_ct **sc = malloc(ns * sizeof *sc);
    for (size_t i = 0; i < ns; i++) sc[i] = ct_new(c);
    hekv_pack_stats st = {0};
    cr_assert_eq(hekv_pack_kv_qkt(c->ev, kv, sc, ns, qc, &st), HEKV_OK, "%s",
                 hekv_ckks_eval_last_error(c->ev));
    for (size_t i = 0; i < ns; i++)
        cr_assert_eq(hekv_ckks_ct_level(sc[i]), hekv_pack_kv_qkt_out_level(kv, qlevel));
    const size_t lg = s->g > 1 ? s->g * ilog2(s->g) : 0;
    cr_assert_eq(st.rotations, ilog2(s->t) + lg + nc * s->g * ilog2(s->dh),
                 "qkt rotations %llu", (unsigned long long)st.rotations);
    cr_assert_eq(st.ct_mults, nc * s->g);
    cr_assert_eq(st.relins, nc * s->g);
    cr_assert_eq(st.mask_mults, (s->g > 1 ? s->g : 0) + nc * s->g);
    cr_assert_eq(st.rescales, (s->g > 1 ? s->g : 0) + nc * s->g + ns);
    double m = 0;
    for (size_t e = 0; e < s->g; e++)
        for (size_t b = 0; b < nb; b++) {
            ct_decrypt(c, v, NULL, sc[e * nb + b]);
            for (size_t cc = 0; cc < s->dh; cc++)
                for (size_t h = 0; h < s->Hk; h++)
                    for (size_t u = 0; u < s->tkv; u++) {
                        size_t tau = b * s->B + cc * s->tkv + u, head = h * s->g + e;
                        long double want = 0;
                        if (tau < n)
                            for (size_t l = 0; l < s->dh; l++)
                                want += (long double)q[l * s->H + head] *
                                        K[tau * s->dkv + l * s->Hk + h];
                        m = fmax(m, fabs(v[(cc * s->Hk + h) * s->tkv + u] - (double)want));
                    }
        }
    for (size_t i = 0; i < ns; i++) hekv_ckks_ct_free(sc[i]);
    free(sc), free(q), free(v);
    hekv_ckks_ct_free(qc);
    return m;
}

/* scores x V with random probabilities p[h][tau] in [0, 1]/n, encrypted in the score
 * layout at `slevel`; returns the max error of the output features. */
static double run_attn(ctx *c, hekv_pack_kv *kv, const shp *s, const double *V, size_t n,
                       int slevel, unsigned flags, test_rng *g) {
    const size_t nb = cdiv(n, s->B), ns = s->g * nb;
    double *P = rand_vec(g, s->H * n, 0, 1.0 / (double)n), *v = calloc(s->S, sizeof *v);
    hekv_ct **sc = malloc(ns * sizeof *sc);
    for (size_t e = 0; e < s->g; e++)
        for (size_t b = 0; b < nb; b++) {
            memset(v, 0, s->S * sizeof *v);
            for (size_t cc = 0; cc < s->dh; cc++)
                for (size_t h = 0; h < s->Hk; h++)
                    for (size_t u = 0; u < s->tkv; u++) {
                        size_t tau = b * s->B + cc * s->tkv + u;
                        if (tau < n) v[(cc * s->Hk + h) * s->tkv + u] = P[(h * s->g + e) * n + tau];
                    }
            sc[e * nb + b] = ct_encrypt(c, v, slevel);
        }
    hekv_ct *o = ct_new(c);
    hekv_pack_stats st = {0};
    cr_assert_eq(hekv_pack_kv_attn_v(c->ev, kv, o, (const hekv_ct *const *)sc, ns, flags, &st),
                 HEKV_OK, "%s", hekv_ckks_eval_last_error(c->ev));
    const int clean = (flags & HEKV_PACK_CLEAN) != 0;
    const size_t lg = s->g > 1 ? s->g * ilog2(s->g) : 0;
    cr_assert_eq(st.rotations, nb * s->g * (s->dh - 1) + lg + ilog2(s->t),
                 "attn_v rotations %llu", (unsigned long long)st.rotations);
    cr_assert_eq(st.hoisted, nb * s->g * (s->dh - 1));
    cr_assert_eq(st.ct_mults, nb * s->g * s->dh);
    cr_assert_eq(st.relins, s->g);
    const size_t gm = s->g > 1;
    cr_assert_eq(st.rescales, s->g + gm + (size_t)clean);
    cr_assert_eq(st.mask_mults, (gm ? s->g : 0) + (size_t)clean);
    int lv = slevel < kv->v_level ? slevel : kv->v_level;
    cr_assert_eq(hekv_ckks_ct_level(o), lv - 1 - (int)gm - clean);
    cr_assert_eq(hekv_ckks_ct_level(o), hekv_pack_kv_attn_v_out_level(kv, slevel, flags));
    ct_decrypt(c, v, NULL, o);
    double m = 0, junk = 0;
    for (size_t l = 0; l < s->dh; l++)
        for (size_t h = 0; h < s->H; h++) {
            long double want = 0;
            for (size_t tau = 0; tau < n; tau++)
                want += (long double)P[h * n + tau] * V[tau * s->dkv + l * s->Hk + h / s->g];
            m = fmax(m, fabs(v[(l * s->H + h) * s->t] - (double)want));
        }
    if (clean)
        for (size_t x = 0; x < s->S; x++)
            if (x % s->t) junk = fmax(junk, fabs(v[x]));
    cr_assert(junk <= TOL_AV, "masked slots hold 2^%.2f", log2(junk));
    for (size_t i = 0; i < ns; i++) hekv_ckks_ct_free(sc[i]);
    free(sc), free(P), free(v);
    hekv_ckks_ct_free(o);
    return m;
}

/* Appends n tokens, checks the cache, QK^T and scores x V. */
static void run_config(size_t d, size_t H, size_t Hk, size_t n, uint64_t salt) {
    ctx c = ctx_new_keys("toy-N12", 0, 1, NULL, 0);
    test_rng g = test_rng_new(salt);
    shp s = shape_of(c.slots, d, H, Hk);
    hekv_pack_kv *kv = NULL;
    hekv_err err;
    cr_assert_eq(hekv_pack_kv_new(c.p, d, H, Hk, -1, &kv, &err), HEKV_OK, "%s", err.msg);
    hekv_pack_kv_info in;
    hekv_pack_kv_get_info(kv, &in);
    cr_assert_eq(in.d_head, s.dh);
    cr_assert_eq(in.t_kv, s.tkv);
    cr_assert_eq(in.block_tokens, s.B);
    cr_assert_eq(in.group, s.g);
    gen_kv_keys(&c, kv);
    double *K = rand_vec(&g, n * s.dkv, -1, 1), *V = rand_vec(&g, n * s.dkv, -1, 1);
    append_range(&c, kv, &s, K, V, 0, n, c.top);
    hekv_pack_kv_get_info(kv, &in);
    cr_assert_eq(in.k_tokens, n);
    cr_assert_eq(in.k_cts, cdiv(n, s.tkv));
    cr_assert_eq(in.v_cts, cdiv(n, s.B) * s.dh);
    cr_assert_eq(in.k_level, c.top - 1);
    double ec = check_cache(&c, kv, &s, K, V, n);
    double eq = run_qkt(&c, kv, &s, K, n, c.top, &g);
    double ea = run_attn(&c, kv, &s, V, n, c.top - 2, HEKV_PACK_CLEAN, &g);
    cr_log_info("kv d=%zu H=%zu Hk=%zu n=%zu: cache 2^%.2f, qkt 2^%.2f, attn_v 2^%.2f", d, H,
                Hk, n, log2(ec), log2(eq), log2(ea));
    cr_assert(ec <= TOL_CACHE, "cache error 2^%.2f", log2(ec));
    cr_assert(eq <= TOL_QK(s.dh), "qkt error 2^%.2f", log2(eq));
    cr_assert(ea <= TOL_AV, "attn_v error 2^%.2f", log2(ea));
    hekv_pack_kv_free(kv);
    free(K), free(V);
    ctx_free(&c);
}

Test(packing_kv, mha_4_heads) { run_config(64, 4, 4, 40, 11); }
Test(packing_kv, gqa_2_groups) { run_config(64, 4, 2, 70, 12); }
Test(packing_kv, gqa_4_groups) { run_config(64, 8, 2, 130, 13); }
Test(packing_kv, one_kv_head) { run_config(128, 4, 1, 20, 14); }
Test(packing_kv, narrow_model) { run_config(32, 2, 2, 65, 15); }

/* A context across the block boundary: d = 128, H = 16, Hk = 8 (B = 256 tokens): a
 * 250-token prefix imported, then appends to 262 and 2 blocks in QK^T and scores x V. */
Test(packing_kv, cross_block_boundary) {
    ctx c = ctx_new_keys("toy-N12", 0, 1, NULL, 0);
    test_rng g = test_rng_new(21);
    shp s = shape_of(c.slots, 128, 16, 8);
    cr_assert_eq(s.B, 256);
    const size_t n0 = 250, n = 262;
    hekv_pack_kv *kv = NULL;
    hekv_err err;
    cr_assert_eq(hekv_pack_kv_new(c.p, 128, 16, 8, -1, &kv, &err), HEKV_OK, "%s", err.msg);
    gen_kv_keys(&c, kv);
    double *K = rand_vec(&g, n * s.dkv, -1, 1), *V = rand_vec(&g, n * s.dkv, -1, 1);
    /* the client-side import of the prefix, at the level appends produce */
    const size_t nk = cdiv(n0, s.tkv), nv = cdiv(n0, s.B) * s.dh;
    hekv_ct **kc = malloc(nk * sizeof *kc), **vc = malloc(nv * sizeof *vc);
    double *w = malloc(c.slots * sizeof *w);
    for (size_t i = 0; i < nk; i++) {
        cr_assert_eq(hekv_pack_kv_k_slots(kv, K, n0, i, w), HEKV_OK);
        kc[i] = ct_encrypt(&c, w, c.top - 1);
    }
    for (size_t j = 0; j < nv; j++) {
        cr_assert_eq(hekv_pack_kv_v_slots(kv, V, n0, j / s.dh, j % s.dh, w), HEKV_OK);
        vc[j] = ct_encrypt(&c, w, c.top - 1);
    }
    cr_assert_eq(hekv_pack_kv_import(c.ev, kv, n0, (const hekv_ct *const *)kc, n0,
                                     (const hekv_ct *const *)vc), HEKV_OK, "%s",
                 hekv_ckks_eval_last_error(c.ev));
    cr_assert_eq(hekv_pack_kv_import(c.ev, kv, n0, (const hekv_ct *const *)kc, n0,
                                     (const hekv_ct *const *)vc), HEKV_ERR_ARG, "not empty");
    append_range(&c, kv, &s, K, V, n0, n, c.top);
    hekv_pack_kv_info in;
    hekv_pack_kv_get_info(kv, &in);
    cr_assert_eq(in.blocks, 2);
    cr_assert_eq(in.v_cts, 2 * s.dh);
    double ec = check_cache(&c, kv, &s, K, V, n);
    double eq = run_qkt(&c, kv, &s, K, n, c.top, &g);
    double ea = run_attn(&c, kv, &s, V, n, c.top - 2, 0, &g);
    cr_log_info("kv across blocks n=%zu: cache 2^%.2f, qkt 2^%.2f, attn_v 2^%.2f", n, log2(ec),
                log2(eq), log2(ea));
    cr_assert(ec <= TOL_CACHE && eq <= TOL_QK(s.dh) && ea <= TOL_AV);
    for (size_t i = 0; i < nk; i++) hekv_ckks_ct_free(kc[i]);
    for (size_t j = 0; j < nv; j++) hekv_ckks_ct_free(vc[j]);
    free(kc), free(vc), free(w), free(K), free(V);
    hekv_pack_kv_free(kv);
    ctx_free(&c);
}

/* The K projection folded into the append position: k = Wk x by IRP at pos = n mod t_kv,
 * appended with no rotation beyond the projection's own. */
Test(packing_kv, projection_folded_into_append) {
    ctx c = ctx_new_keys("toy-N12", 0, 1, NULL, 0);
    test_rng g = test_rng_new(31);
    const size_t d = 64, H = 4, Hk = 2, n = 5;
    shp s = shape_of(c.slots, d, H, Hk);
    hekv_pack_kv *kv = NULL;
    hekv_pack_irp *wk = NULL;
    hekv_err err;
    cr_assert_eq(hekv_pack_kv_new(c.p, d, H, Hk, c.top - 3, &kv, &err), HEKV_OK, "%s", err.msg);
    double *W = rand_vec(&g, s.dkv * d, -1, 1), *X = rand_vec(&g, n * d, -1, 1);
    double *K = calloc(n * s.dkv, sizeof *K), *V = calloc(n * s.dkv, sizeof *V);
    for (size_t i = 0; i < s.dkv * d; i++) W[i] /= sqrt((double)d);
    cr_assert_eq(hekv_pack_irp_new(c.enc, W, s.dkv, d, c.top, 0, &wk, &err), HEKV_OK, "%s",
                 err.msg);
    size_t nr = hekv_pack_irp_rotations(wk, HEKV_PACK_ANY_POS, NULL, 0);
    long *r = malloc(nr * sizeof *r);
    hekv_pack_irp_rotations(wk, HEKV_PACK_ANY_POS, r, nr);
    ctx_gen_rotations(&c, r, nr, 0);
    hekv_pack_irp_info ii;
    hekv_pack_irp_get_info(wk, &ii);
    for (size_t tau = 0; tau < n; tau++) {
        for (size_t gg = 0; gg < s.dkv; gg++) {
            long double a = 0;
            for (size_t m = 0; m < d; m++) a += (long double)W[gg * d + m] * X[tau * d + m];
            K[tau * s.dkv + gg] = (double)a;
        }
        hekv_ct *x = ct_encrypt_vec(&c, X + tau * d, d, d, 0, 0.0, c.top), *k = ct_new(&c);
        hekv_pack_stats st = {0};
        cr_assert_eq(hekv_pack_irp_apply(c.ev, k, x, wk, hekv_pack_kv_next_pos_k(kv), 0, &st),
                     HEKV_OK, "%s", hekv_ckks_eval_last_error(c.ev));
        cr_assert_eq(st.rotations, ii.rotations, "the position costs no rotation");
        cr_assert_eq(hekv_pack_kv_append_k(c.ev, kv, k, &st), HEKV_OK, "%s",
                     hekv_ckks_eval_last_error(c.ev));
        cr_assert_eq(st.rotations, ii.rotations);
        hekv_ckks_ct_free(x), hekv_ckks_ct_free(k);
    }
    hekv_pack_kv_info in;
    hekv_pack_kv_get_info(kv, &in);
    cr_assert_eq(in.k_level, c.top - 3, "dropped to the store level");
    /* the K cache alone (no V appended) */
    double *v = malloc(c.slots * sizeof *v), *w = malloc(c.slots * sizeof *w), m = 0;
    expect_k(&s, K, n, 0, w);
    ct_decrypt(&c, v, NULL, kv->k[0]);
    for (size_t j = 0; j < c.slots; j++) m = fmax(m, fabs(v[j] - w[j]));
    cr_log_info("K projection folded into the append: cache error 2^%.2f", log2(m));
    cr_assert(m <= 0x1p-20, "error 2^%.2f", log2(m));
    free(v), free(w), free(W), free(X), free(K), free(V), free(r);
    hekv_pack_irp_free(wk);
    hekv_pack_kv_free(kv);
    ctx_free(&c);
}

Test(packing_kv, serialization) {
    ctx c = ctx_new_keys("toy-N12", 0, 1, NULL, 0);
    test_rng g = test_rng_new(41);
    shp s = shape_of(c.slots, 64, 4, 2);
    const size_t n = 70;
    hekv_pack_kv *kv = NULL, *back = NULL;
    hekv_err err;
    cr_assert_eq(hekv_pack_kv_new(c.p, 64, 4, 2, -1, &kv, &err), HEKV_OK, "%s", err.msg);
    double *K = rand_vec(&g, (n + 1) * s.dkv, -1, 1), *V = rand_vec(&g, (n + 1) * s.dkv, -1, 1);
    append_range(&c, kv, &s, K, V, 0, n, c.top - 3);
    hekv_buf saved = {0};
    cr_assert_eq(hekv_pack_kv_save(kv, &saved, &err), HEKV_OK, "%s", err.msg);
    uint8_t *buf = saved.data;
    const size_t len = saved.len;
    cr_assert_eq(hekv_pack_kv_load(c.p, buf, len, &back, &err), HEKV_OK, "%s", err.msg);
    hekv_pack_kv_info a, b;
    hekv_pack_kv_get_info(kv, &a);
    hekv_pack_kv_get_info(back, &b);
    cr_assert_eq(memcmp(&a, &b, sizeof a), 0, "info differs after the round trip");
    cr_log_info("cache of %zu tokens: %zu bytes in memory, %zu bytes saved", n, a.bytes, len);
    for (size_t i = 0; i < a.k_cts; i++) {
        hekv_buf x = {0}, y = {0};
        cr_assert_eq(hekv_ckks_ct_save(hekv_pack_kv_k_ct(kv, i), &x, &err), HEKV_OK);
        cr_assert_eq(hekv_ckks_ct_save(hekv_pack_kv_k_ct(back, i), &y, &err), HEKV_OK);
        cr_assert(x.len == y.len && !memcmp(x.data, y.data, x.len), "K ciphertext %zu differs", i);
        hekv_buf_free(&x), hekv_buf_free(&y);
    }
    /* the loaded cache keeps working: one more token, then it equals the layout */
    append_range(&c, back, &s, K, V, n, n + 1, c.top - 3);
    double ec = check_cache(&c, back, &s, K, V, n + 1);
    cr_assert(ec <= TOL_CACHE, "cache error after reload 2^%.2f", log2(ec));
    /* truncations, bit flips, other parameters */
    hekv_pack_kv *bad = (hekv_pack_kv *)1;
    const size_t cuts[] = {0, 10, 95, 96, 200, len / 2, len - 33, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        cr_assert_eq(hekv_pack_kv_load(c.p, buf, cuts[i], &bad, &err), HEKV_ERR_FORMAT,
                     "truncated to %zu", cuts[i]);
        cr_assert_null(bad);
    }
    const size_t flips[] = {0, 5, 9, 20, 33, 60, 90, 100, len / 3, len - 40, len - 1};
    for (size_t i = 0; i < sizeof flips / sizeof *flips; i++) {
        buf[flips[i]] ^= 0x10;
        hekv_status st = hekv_pack_kv_load(c.p, buf, len, &bad, &err);
        cr_assert(st == HEKV_ERR_FORMAT, "flip at %zu: %s", flips[i], hekv_status_str(st));
        cr_assert(strstr(err.msg, "K/V cache") || strstr(err.msg, "hekv file"), "%s", err.msg);
        buf[flips[i]] ^= 0x10;
    }
    hekv_ckks_params_lit lit;
    hekv_ckks_params *other = NULL;
    cr_assert_eq(hekv_ckks_params_lit_named("toy-N13", &lit, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_params_new(&lit, NULL, &other, &err), HEKV_OK);
    cr_assert_eq(hekv_pack_kv_load(other, buf, len, &bad, &err), HEKV_ERR_PARAMS);
    hekv_ckks_params_free(other);
    hekv_buf_free(&saved);
    hekv_pack_kv_free(kv);
    hekv_pack_kv_free(back);
    free(K), free(V);
    ctx_free(&c);
}

Test(packing_kv, errors) {
    ctx c = ctx_new_keys("toy-N12", 0, 1, NULL, 0);
    hekv_pack_kv *kv = (hekv_pack_kv *)1;
    hekv_err err;
    cr_assert_eq(hekv_pack_kv_new(c.p, 96, 4, 2, -1, &kv, &err), HEKV_ERR_ARG);
    cr_assert_null(kv);
    cr_assert_eq(hekv_pack_kv_new(c.p, 64, 4, 8, -1, &kv, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_pack_kv_new(c.p, 4096, 4, 4, -1, &kv, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_pack_kv_new(c.p, 64, 4, 2, -1, &kv, &err), HEKV_OK, "%s", err.msg);
    double x[32] = {0.5};
    hekv_ct *k0 = ct_encrypt_vec(&c, x, 32, 32, 0, 0.0, c.top);
    hekv_ct *k1 = ct_encrypt_vec(&c, x, 32, 32, 1, 0.0, c.top - 3);
    hekv_ct *s = ct_new(&c);
    cr_assert_eq(hekv_pack_kv_qkt(c.ev, kv, &s, 1, k0, NULL), HEKV_ERR_ARG, "empty cache");
    cr_assert_eq(hekv_pack_kv_append_k(c.ev, kv, k0, NULL), HEKV_OK);
    cr_assert_eq(hekv_pack_kv_append_k(c.ev, kv, k1, NULL), HEKV_ERR_LEVEL, "below the cache");
    cr_assert_eq(hekv_pack_kv_qkt(c.ev, kv, &s, 1, k0, NULL), HEKV_ERR_ARG, "2 scores needed");
    hekv_ct *ss[2] = {s, ct_new(&c)};
    cr_assert_eq(hekv_pack_kv_qkt(c.ev, kv, ss, 2, k0, NULL), HEKV_ERR_KEY_MISSING);
    gen_kv_keys(&c, kv);
    hekv_ct *low = ct_new(&c);
    cr_assert_eq(hekv_ckks_eval_drop_to(c.ev, low, k0, 2), HEKV_OK);
    cr_assert_eq(hekv_pack_kv_qkt(c.ev, kv, ss, 2, low, NULL), HEKV_ERR_LEVEL);
    cr_assert_eq(hekv_pack_kv_qkt(c.ev, kv, ss, 2, k0, NULL), HEKV_OK, "%s",
                 hekv_ckks_eval_last_error(c.ev));
    cr_assert_eq(hekv_pack_kv_attn_v(c.ev, kv, s, (const hekv_ct *const *)ss, 2, 0, NULL),
                 HEKV_ERR_ARG, "empty V cache");
    hekv_ckks_ct_free(k0), hekv_ckks_ct_free(k1), hekv_ckks_ct_free(ss[0]), hekv_ckks_ct_free(ss[1]);
    hekv_ckks_ct_free(low);
    hekv_pack_kv_free(kv);
    hekv_pack_kv_free(NULL);
    ctx_free(&c);
}

/* The levels the cache reports (entry, QK^T and scores x V output levels) against the
 * calls at every input level, GQA (gamma = 2: the query masks take one more level) and a
 * store level: where a report is -1 the call refuses with HEKV_ERR_LEVEL, elsewhere its
 * output lands exactly there. */
Test(packing_kv, reported_levels) {
    ctx c = ctx_new_keys("toy-N12", 0, 1, NULL, 0);
    test_rng g = test_rng_new(51);
    const size_t d = 64, H = 4, Hk = 2;
    shp s = shape_of(c.slots, d, H, Hk);
    hekv_pack_kv *kv = NULL;
    hekv_err err;
    const int store = c.top - 2;
    cr_assert_eq(hekv_pack_kv_new(c.p, d, H, Hk, store, &kv, &err), HEKV_OK, "%s", err.msg);
    gen_kv_keys(&c, kv);
    cr_assert_eq(hekv_pack_kv_qkt_out_level(kv, c.top), -1, "empty K cache");
    cr_assert_eq(hekv_pack_kv_attn_v_out_level(kv, c.top, 0), -1, "empty V cache");
    double *K = rand_vec(&g, 4 * s.dkv, -1, 1);
    /* appends: from the top down; the first fixes the level (the store level), a later
     * one below it is refused */
    for (int l = c.top; l >= 0; l--) {
        for (int v = 0; v < 2; v++) {
            const int want = hekv_pack_kv_entry_level(kv, v, l);
            const int cur = v ? kv->v_level : kv->k_level;
            cr_assert_eq(want, cur >= 0 ? (l - 1 >= cur ? cur : -1)
                                        : (l >= 1 ? (l - 1 < store ? l - 1 : store) : -1));
            const size_t pos = v ? hekv_pack_kv_next_pos_v(kv) : hekv_pack_kv_next_pos_k(kv);
            hekv_ct *x = ct_encrypt_vec(&c, K, s.dkv, s.dkv, pos, 0.0, l);
            hekv_status st = v ? hekv_pack_kv_append_v(c.ev, kv, x, NULL)
                               : hekv_pack_kv_append_k(c.ev, kv, x, NULL);
            if (want < 0) {
                cr_assert_eq(st, HEKV_ERR_LEVEL, "append %c at level %d", v ? 'V' : 'K', l);
            } else {
                cr_assert_eq(st, HEKV_OK, "%s", hekv_ckks_eval_last_error(c.ev));
                cr_assert_eq(v ? kv->v_level : kv->k_level, want);
            }
            hekv_ckks_ct_free(x);
        }
    }
    cr_assert_eq(kv->k_level, store);
    const size_t ns = hekv_pack_kv_score_count(kv);
    hekv_ct **sc = malloc(ns * sizeof *sc);
    for (size_t i = 0; i < ns; i++) sc[i] = ct_new(&c);
    double *q = rand_vec(&g, d, -1, 1);
    for (int l = 0; l <= c.top; l++) {
        const int want = hekv_pack_kv_qkt_out_level(kv, l);
        const int lp = l - 1 < store ? l - 1 : store;
        cr_assert_eq(want, lp >= 2 ? lp - 2 : -1, "query level %d", l);
        hekv_ct *qc = ct_encrypt_vec(&c, q, d, d, 0, 0.0, l);
        hekv_status st = hekv_pack_kv_qkt(c.ev, kv, sc, ns, qc, NULL);
        if (want < 0) {
            cr_assert_eq(st, HEKV_ERR_LEVEL, "query level %d", l);
        } else {
            cr_assert_eq(st, HEKV_OK, "%s", hekv_ckks_eval_last_error(c.ev));
            for (size_t i = 0; i < ns; i++) cr_assert_eq(hekv_ckks_ct_level(sc[i]), want);
        }
        hekv_ckks_ct_free(qc);
    }
    hekv_ct *o = ct_new(&c);
    double *v = calloc(c.slots, sizeof *v);
    for (int clean = 0; clean < 2; clean++)
        for (int l = 0; l <= c.top; l++) {
            const unsigned fl = clean ? HEKV_PACK_CLEAN : 0u;
            const int want = hekv_pack_kv_attn_v_out_level(kv, l, fl);
            const int lp = l < store ? l : store;
            cr_assert_eq(want, lp - 2 - clean >= 0 ? lp - 2 - clean : -1, "scores level %d", l);
            for (size_t i = 0; i < ns; i++) {
                hekv_ckks_ct_free(sc[i]);
                sc[i] = ct_encrypt(&c, v, l);
            }
            hekv_status st =
                hekv_pack_kv_attn_v(c.ev, kv, o, (const hekv_ct *const *)sc, ns, fl, NULL);
            if (want < 0) {
                cr_assert_eq(st, HEKV_ERR_LEVEL, "scores level %d, clean %d", l, clean);
            } else {
                cr_assert_eq(st, HEKV_OK, "%s", hekv_ckks_eval_last_error(c.ev));
                cr_assert_eq(hekv_ckks_ct_level(o), want, "scores level %d, clean %d", l, clean);
            }
        }
    for (size_t i = 0; i < ns; i++) hekv_ckks_ct_free(sc[i]);
    free(sc), free(q), free(v), free(K);
    hekv_ckks_ct_free(o);
    hekv_pack_kv_free(kv);
    ctx_free(&c);
}
