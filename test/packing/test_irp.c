/* test_irp.c: the IRP vector-matrix product and its diagonal BSGS baseline against a plain
 * product in long double, at toy parameters (toy-N12: S = 2048; toy-N13: S = 4096):
 * square d = 8 .. 512 (d^2 < S, = S, > S), rectangular tall and wide matrices in both the
 * regular and the small (d_in d_out < S) regime, dimensions padded to powers of two
 * (172 -> 256 as in a SwiGLU hidden layer), explicit and chosen baby/giant splits, output
 * positions (the K/V append fold) with and without the output mask, two chained layers,
 * re-interleaving, the baseline, and error paths. Every run counts rotations and products
 * and holds them against the formulas, computed here independently of irp.c:
 *     regular (d_in d_out >= S): rotations log2 t_in + log2 t_out + M + G - 2, K = d_in d_out/S
 *     small   (d_in d_out <  S): rotations log2 d_in + log2 d_out (pos 0), K = 1
 *                                 log2 d_out + log2 t_out (pos != 0: whole-block fold)
 * and the baby step count M against the cost rule argmin (M-1)*0.6 + (K/M - 1). */
#include "pack_test.h"

/* y = W x over d_in terms with |W|, |x| <= 1: the weights carry 2^-40 relative encoding
 * error, the rotations before the products add key-switching noise (~2^-27 per slot, see
 * test_rotate.c) to every x that meets a weight, and the fold's rotations add it to the
 * partial sums; the sum over d_in terms grows like d_in in the worst case. Observed
 * 2^-27 .. 2^-23 for d_in = 1 .. 512 at toy-N12, 2^-22 at toy-N13. */
#define TOL_IRP(din) ((double)((din) + 256) * 0x1p-29)
/* The masked-out slots after HEKV_PACK_CLEAN: the mask's encoding error times the partial
 * sums (|.| <= d_in) plus rescale noise. */
#define TOL_CLEAN(din) ((double)((din) + 256) * 0x1p-29)

static size_t expect_m(size_t K) {
    size_t best = 1;
    double bc = 1e300;
    for (size_t m = 1; m <= K; m *= 2) {
        double cst = (double)(m - 1) * 0.6 + (double)(K / m - 1);
        if (cst <= bc) bc = cst, best = m;
    }
    return best;
}

static size_t expect_rot(size_t din, size_t dout, size_t S, size_t M, size_t G, size_t pos) {
    if (din * dout >= S) return ilog2(S / din) + ilog2(S / dout) + M + G - 2;
    return pos ? ilog2(dout) + ilog2(S / dout) : ilog2(din) + ilog2(dout);
}

/* y[l] = sum_m W[l][m] x[m] */
static void plain_matvec(double *y, const double *w, const double *x, size_t dout, size_t din) {
    for (size_t l = 0; l < dout; l++) {
        long double s = 0;
        for (size_t m = 0; m < din; m++) s += (long double)w[l * din + m] * x[m];
        y[l] = (double)s;
    }
}

static void gen_irp_keys(ctx *c, const hekv_pack_irp *irp, unsigned flags) {
    size_t n = hekv_pack_irp_rotations(irp, flags, NULL, 0);
    long *r = malloc((n ? n : 1) * sizeof *r);
    cr_assert_eq(hekv_pack_irp_rotations(irp, flags, r, n), n);
    for (size_t i = 0; i < n; i++) {
        cr_assert(r[i] > 0 && (size_t)r[i] < c->slots, "rotation %ld outside [1, S)", r[i]);
        for (size_t j = 0; j < i; j++) cr_assert_neq(r[i], r[j], "rotation %ld twice", r[i]);
    }
    ctx_gen_rotations(c, r, n, 0);
    free(r);
}

/* Builds W (d_out x d_in, uniform in [-1, 1]), applies it to an encryption of x, checks the
 * result, the counts and (clean) the other slots. Returns the max error. */
static double run_irp(ctx *c, size_t dout, size_t din, size_t baby, size_t pos, unsigned flags,
                      uint64_t salt) {
    test_rng g = test_rng_new(salt);
    double *w = rand_vec(&g, dout * din, -1, 1), *x = rand_vec(&g, din, -1, 1);
    double *y = malloc(dout * sizeof *y), *v = malloc(c->slots * sizeof *v);
    plain_matvec(y, w, x, dout, din);
    hekv_pack_irp *irp = NULL;
    hekv_err err;
    cr_assert_eq(hekv_pack_irp_new(c->enc, w, dout, din, c->top, baby, &irp, &err), HEKV_OK,
                 "%s", err.msg);
    hekv_pack_irp_info in;
    hekv_pack_irp_get_info(irp, &in);
    const size_t Din = pow2_up(din), Dout = pow2_up(dout), S = c->slots;
    cr_assert_eq(in.d_in, Din);
    cr_assert_eq(in.d_out, Dout);
    cr_assert_eq(in.t_in, S / Din);
    cr_assert_eq(in.t_out, S / Dout);
    const size_t K = Din * Dout >= S ? Din * Dout / S : 1;
    cr_assert_eq(in.k, K, "K = %zu, expected %zu", in.k, K);
    cr_assert_eq(in.m * in.g, K);
    cr_assert_eq(in.m, baby ? baby : expect_m(K), "baby steps %zu", in.m);
    cr_assert_eq(in.rotations, expect_rot(Din, Dout, S, in.m, in.g, 0));
    const size_t n = hekv_ckks_params_n(c->p);
    cr_assert_eq(in.bytes, (K * (size_t)(c->top + 1) + (size_t)c->top) * n * 8);
    gen_irp_keys(c, irp, pos ? HEKV_PACK_ANY_POS : 0);

    hekv_ct *a = ct_encrypt_vec(c, x, din, Din, 0, 0.0, c->top), *o = ct_new(c);
    hekv_pack_stats st = {0};
    hekv_status s = hekv_pack_irp_apply(c->ev, o, a, irp, pos, flags, &st);
    cr_assert_eq(s, HEKV_OK, "apply: %s", hekv_ckks_eval_last_error(c->ev));
    const int clean = (flags & HEKV_PACK_CLEAN) != 0;
    cr_assert_eq(hekv_ckks_ct_level(o), c->top - 1 - clean);
    cr_assert_eq(hekv_ckks_ct_level(o), hekv_pack_irp_out_level(irp, c->top, flags));
    cr_assert(hekv_ckks_scale_eq(hekv_ckks_ct_scale(o), c->scale), "the scale changed");
    cr_assert_eq(st.rotations, expect_rot(Din, Dout, S, in.m, in.g, pos),
                 "%zu x %zu pos %zu: %llu rotations, formula %zu", dout, din, pos,
                 (unsigned long long)st.rotations, expect_rot(Din, Dout, S, in.m, in.g, pos));
    cr_assert_eq(st.hoisted, in.m - 1);
    cr_assert_eq(st.pt_mults, K);
    cr_assert_eq(st.mask_mults, (uint64_t)clean);
    cr_assert_eq(st.rescales, 1u + clean);
    cr_assert_eq(st.ct_mults, 0);

    ct_decrypt(c, v, NULL, o);
    double err_max = 0, junk = 0;
    for (size_t l = 0; l < dout; l++)
        err_max = fmax(err_max, fabs(v[l * in.t_out + pos] - y[l]));
    for (size_t l = dout; l < Dout; l++) /* padded outputs are zero */
        err_max = fmax(err_max, fabs(v[l * in.t_out + pos]));
    if (clean)
        for (size_t sl = 0; sl < S; sl++)
            if (sl % in.t_out != pos) junk = fmax(junk, fabs(v[sl]));
    cr_log_info("irp %zux%zu (M %zu, G %zu, pos %zu%s): %llu rotations, %llu products, max "
                "error 2^%.2f (bound 2^%.2f)%s", dout, din, in.m, in.g, pos,
                clean ? ", clean" : "", (unsigned long long)st.rotations,
                (unsigned long long)st.pt_mults, log2(err_max), log2(TOL_IRP(din)),
                clean ? "" : "");
    cr_assert(err_max <= TOL_IRP(din), "%zu x %zu: error 2^%.2f > 2^%.2f", dout, din,
              log2(err_max), log2(TOL_IRP(din)));
    if (clean)
        cr_assert(junk <= TOL_CLEAN(din), "masked slots hold 2^%.2f", log2(junk));
    hekv_ckks_ct_free(a);
    hekv_ckks_ct_free(o);
    hekv_pack_irp_free(irp);
    free(w), free(x), free(y), free(v);
    return err_max;
}

Test(packing_irp, square_sweep_n12) {
    ctx c = ctx_new_keys("toy-N12", 0, 1, NULL, 0);
    /* S = 2048: d = 8, 16, 32 have d^2 < S (one product), 64 .. 512 the regular case */
    for (size_t d = 8; d <= 512; d *= 2) run_irp(&c, d, d, 0, 0, 0, 100 + d);
    ctx_free(&c);
}

Test(packing_irp, square_n13_n14) {
    ctx c = ctx_new_keys("toy-N13", 0, 1, NULL, 0);
    run_irp(&c, 1024, 1024, 0, 0, 0, 201); /* S = 4096: K = 256 */
    run_irp(&c, 64, 64, 0, 0, 0, 202);     /* d^2 = S: K = 1, regular */
    ctx_free(&c);
    if (!test_full()) return;
    c = ctx_new_keys("toy-N14", 0, 1, NULL, 0);
    run_irp(&c, 512, 512, 0, 0, 0, 203);
    ctx_free(&c);
}

Test(packing_irp, rectangular) {
    ctx c = ctx_new_keys("toy-N12", 0, 1, NULL, 0);
    run_irp(&c, 256, 64, 0, 0, 0, 301);   /* tall, regular: K = 8 */
    run_irp(&c, 64, 256, 0, 0, 0, 302);   /* wide, regular */
    run_irp(&c, 512, 32, 0, 0, 0, 303);   /* tall, K = 8, t_in > d_in */
    run_irp(&c, 32, 512, 0, 0, 0, 304);   /* wide, t_out > d_out */
    run_irp(&c, 2048, 16, 0, 0, 0, 305);  /* t_out = 1: no fold */
    run_irp(&c, 16, 2048, 0, 0, 0, 306);  /* t_in = 1: no preprocess */
    run_irp(&c, 64, 16, 0, 0, 0, 307);    /* small tall: 1024 < S */
    run_irp(&c, 16, 64, 0, 0, 0, 308);    /* small wide */
    run_irp(&c, 256, 4, 0, 0, 0, 309);    /* small, d_out/d_in = 64 */
    run_irp(&c, 4, 256, 0, 0, 0, 310);
    run_irp(&c, 1, 8, 0, 0, 0, 311);      /* a dot product */
    run_irp(&c, 8, 1, 0, 0, 0, 312);      /* an outer product column */
    ctx_free(&c);
}

Test(packing_irp, padded_dimensions) {
    ctx c = ctx_new_keys("toy-N12", 0, 1, NULL, 0);
    run_irp(&c, 172, 64, 0, 0, 0, 401);  /* SwiGLU up: 64 -> 172 (padded 256) */
    run_irp(&c, 64, 172, 0, 0, 0, 402);  /* down: 172 -> 64 */
    run_irp(&c, 100, 100, 0, 0, 0, 403); /* square 100 (padded 128) */
    run_irp(&c, 48, 24, 0, 0, 0, 404);   /* small regime after padding: 64 x 32 */
    ctx_free(&c);
}

Test(packing_irp, baby_giant_splits) {
    ctx c = ctx_new_keys("toy-N12", 0, 1, NULL, 0);
    /* d = 256: K = 32; the cost rule picks M = 8; every other split gives the same y */
    run_irp(&c, 256, 256, 1, 0, 0, 501);
    run_irp(&c, 256, 256, 32, 0, 0, 502);
    run_irp(&c, 256, 256, 4, 0, 0, 503);
    cr_assert_eq(expect_m(32), 8);
    cr_assert_eq(expect_m(128), 16);
    cr_assert_eq(expect_m(512), 32);
    ctx_free(&c);
}

Test(packing_irp, positions_and_mask) {
    ctx c = ctx_new_keys("toy-N12", 0, 1, NULL, 0);
    run_irp(&c, 64, 64, 0, 13, 0, 601);                 /* t = 32 */
    run_irp(&c, 64, 64, 0, 31, HEKV_PACK_CLEAN, 602);   /* every fold bit negated */
    run_irp(&c, 64, 64, 0, 0, HEKV_PACK_CLEAN, 603);
    run_irp(&c, 256, 64, 0, 5, HEKV_PACK_CLEAN, 604);   /* tall, t_out = 8 */
    run_irp(&c, 16, 16, 0, 77, HEKV_PACK_CLEAN, 605);   /* small regime, t = 128 */
    run_irp(&c, 16, 64, 0, 100, HEKV_PACK_CLEAN, 606);  /* small wide */
    ctx_free(&c);
}

/* Two layers: z = W2 (W1 x), the first output masked and fed straight into the second. */
Test(packing_irp, chained_layers) {
    ctx c = ctx_new_keys("toy-N12", 0, 1, NULL, 0);
    test_rng g = test_rng_new(701);
    const size_t d0 = 128, d1 = 256, d2 = 128;
    double *w1 = rand_vec(&g, d1 * d0, -1, 1), *w2 = rand_vec(&g, d2 * d1, -1, 1);
    for (size_t i = 0; i < d1 * d0; i++) w1[i] /= sqrt((double)d0);
    for (size_t i = 0; i < d2 * d1; i++) w2[i] /= sqrt((double)d1);
    double *x = rand_vec(&g, d0, -1, 1), *y = malloc(d1 * sizeof *y), *z = malloc(d2 * sizeof *z);
    plain_matvec(y, w1, x, d1, d0);
    plain_matvec(z, w2, y, d2, d1);
    hekv_pack_irp *a = NULL, *b = NULL;
    hekv_err err;
    cr_assert_eq(hekv_pack_irp_new(c.enc, w1, d1, d0, c.top, 0, &a, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_pack_irp_new(c.enc, w2, d2, d1, c.top - 2, 0, &b, &err), HEKV_OK, "%s",
                 err.msg);
    gen_irp_keys(&c, a, 0);
    gen_irp_keys(&c, b, 0);
    hekv_ct *in = ct_encrypt_vec(&c, x, d0, d0, 0, 0.0, c.top), *mid = ct_new(&c),
            *out = ct_new(&c);
    cr_assert_eq(hekv_pack_irp_apply(c.ev, mid, in, a, 0, HEKV_PACK_CLEAN, NULL), HEKV_OK, "%s",
                 hekv_ckks_eval_last_error(c.ev));
    cr_assert_eq(hekv_pack_irp_apply(c.ev, out, mid, b, 0, 0, NULL), HEKV_OK, "%s",
                 hekv_ckks_eval_last_error(c.ev));
    cr_assert_eq(hekv_ckks_ct_level(out), c.top - 3);
    double *v = malloc(c.slots * sizeof *v), m = 0;
    ct_decrypt(&c, v, NULL, out);
    for (size_t l = 0; l < d2; l++) m = fmax(m, fabs(v[l * (c.slots / d2)] - z[l]));
    cr_log_info("chained 128 -> 256 -> 128: max error 2^%.2f", log2(m));
    cr_assert(m <= TOL_IRP(d1), "chained: error 2^%.2f", log2(m));
    hekv_ckks_ct_free(in), hekv_ckks_ct_free(mid), hekv_ckks_ct_free(out);
    hekv_pack_irp_free(a), hekv_pack_irp_free(b);
    free(w1), free(w2), free(x), free(y), free(z), free(v);
    ctx_free(&c);
}

Test(packing_irp, reinterleave) {
    ctx c = ctx_new_keys("toy-N12", 0, 1, NULL, 0);
    test_rng g = test_rng_new(801);
    const size_t pairs[][2] = {{64, 256}, {256, 64}, {16, 512}, {8, 8}};
    for (size_t k = 0; k < 4; k++) {
        const size_t df = pairs[k][0], dt = pairs[k][1];
        double *x = rand_vec(&g, df, -1, 1), *v = malloc(c.slots * sizeof *v);
        hekv_pack_irp *r = NULL;
        hekv_err err;
        cr_assert_eq(hekv_pack_reinterleave_new(c.enc, df, dt, c.top, &r, &err), HEKV_OK, "%s",
                     err.msg);
        gen_irp_keys(&c, r, 0);
        hekv_ct *a = ct_encrypt_vec(&c, x, df, df, 0, 0.0, c.top), *o = ct_new(&c);
        cr_assert_eq(hekv_pack_irp_apply(c.ev, o, a, r, 0, HEKV_PACK_CLEAN, NULL), HEKV_OK, "%s",
                     hekv_ckks_eval_last_error(c.ev));
        ct_decrypt(&c, v, NULL, o);
        double m = 0;
        for (size_t s = 0; s < c.slots; s++) {
            double want = 0;
            if (s % (c.slots / dt) == 0 && s / (c.slots / dt) < df) want = x[s / (c.slots / dt)];
            m = fmax(m, fabs(v[s] - want));
        }
        cr_assert(m <= TOL_IRP(df), "%zu -> %zu: error 2^%.2f", df, dt, log2(m));
        hekv_ckks_ct_free(a), hekv_ckks_ct_free(o);
        hekv_pack_irp_free(r);
        free(x), free(v);
    }
    ctx_free(&c);
}

/* The baseline on the same matrices: one product per non-zero generalised diagonal of the
 * padded D x D matrix (all D for a dense square one), and the lintrans's BSGS rotations:
 * the least, over power-of-two baby steps n1, of distinct non-zero (k mod n1) plus distinct
 * non-zero (k div n1). */
static size_t bsgs_formula(const int *nz, size_t D) {
    size_t best = (size_t)-1;
    for (size_t n1 = 1; n1 <= D; n1 *= 2) {
        size_t r = 0;
        for (size_t b = 1; b < n1; b++) {
            int any = 0;
            for (size_t k = b; k < D; k += n1) any |= nz[k];
            r += (size_t)any;
        }
        for (size_t g = 1; g * n1 < D; g++) {
            int any = 0;
            for (size_t k = g * n1; k < (g + 1) * n1 && k < D; k++) any |= nz[k];
            r += (size_t)any;
        }
        if (r < best) best = r;
    }
    return best;
}

static void run_bsgs(ctx *c, size_t dout, size_t din, uint64_t salt) {
    test_rng g = test_rng_new(salt);
    double *w = rand_vec(&g, dout * din, -1, 1), *x = rand_vec(&g, din, -1, 1);
    double *y = malloc(dout * sizeof *y);
    plain_matvec(y, w, x, dout, din);
    hekv_pack_bsgs *b = NULL;
    hekv_err err;
    cr_assert_eq(hekv_pack_bsgs_new(c->enc, w, dout, din, c->top, &b, &err), HEKV_OK, "%s",
                 err.msg);
    const size_t D = pow2_up(din > dout ? din : dout);
    cr_assert_eq(hekv_pack_bsgs_slots(b), D);
    int *nz = calloc(D, sizeof *nz);
    size_t nnz = 0;
    for (size_t k = 0; k < D; k++) {
        for (size_t i = 0; i < dout; i++) nz[k] |= (i + k) % D < din;
        nnz += (size_t)nz[k];
    }
    cr_assert_eq(hekv_pack_bsgs_products(b), nnz);
    size_t nr = hekv_pack_bsgs_rotations(b, NULL, 0);
    long *r = malloc(nr * sizeof *r);
    hekv_pack_bsgs_rotations(b, r, nr);
    ctx_gen_rotations(c, r, nr, 0);
    cr_assert_eq(nr, bsgs_formula(nz, D));
    free(nz);
    double *xs = calloc(D, sizeof *xs), *v = malloc(D * sizeof *v);
    memcpy(xs, x, din * sizeof *x);
    hekv_pt *pt = NULL;
    hekv_ct *a = ct_new(c), *o = ct_new(c);
    cr_assert_eq(hekv_ckks_pt_new(c->p, &pt, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_encode(c->enc, pt, xs, NULL, D, c->top, c->scale, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_encrypt_sk(c->sk, a, pt, &err), HEKV_OK);
    hekv_pack_stats st = {0};
    cr_assert_eq(hekv_pack_bsgs_apply(c->ev, o, a, b, &st), HEKV_OK, "%s",
                 hekv_ckks_eval_last_error(c->ev));
    cr_assert_eq(st.rotations, nr);
    cr_assert_eq(st.pt_mults, nnz);
    cr_assert_eq(hekv_ckks_decrypt(c->sk, pt, o, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_decode(c->enc, v, NULL, pt, &err), HEKV_OK);
    double m = 0;
    for (size_t l = 0; l < dout; l++) m = fmax(m, fabs(v[l] - y[l]));
    cr_log_info("bsgs %zux%zu: %zu rotations, %zu products, max error 2^%.2f", dout, din, nr,
                nnz, log2(m));
    cr_assert(m <= TOL_IRP(D), "bsgs %zu x %zu: error 2^%.2f", dout, din, log2(m));
    hekv_ckks_pt_free(pt);
    hekv_ckks_ct_free(a), hekv_ckks_ct_free(o);
    hekv_pack_bsgs_free(b);
    free(w), free(x), free(y), free(xs), free(v), free(r);
}

Test(packing_irp, bsgs_baseline) {
    ctx c = ctx_new_keys("toy-N12", 0, 1, NULL, 0);
    run_bsgs(&c, 64, 64, 901);
    run_bsgs(&c, 256, 256, 902);
    run_bsgs(&c, 256, 64, 903);
    run_bsgs(&c, 64, 172, 904);
    ctx_free(&c);
}

Test(packing_irp, errors) {
    ctx c = ctx_new_keys("toy-N12", 0, 1, NULL, 0);
    double w[64 * 64] = {0.5};
    hekv_pack_irp *irp = (hekv_pack_irp *)1;
    hekv_err err;
    cr_assert_eq(hekv_pack_irp_new(c.enc, w, 64, 4096, c.top, 0, &irp, &err), HEKV_ERR_ARG);
    cr_assert_null(irp);
    cr_assert_eq(hekv_pack_irp_new(c.enc, w, 64, 64, 0, 0, &irp, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_pack_irp_new(c.enc, w, 64, 64, c.top, 3, &irp, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_pack_irp_new(c.enc, w, 64, 64, c.top, 4, &irp, &err), HEKV_ERR_ARG,
                 "K = 2: 4 baby steps do not divide it");
    cr_assert_eq(hekv_pack_irp_new(NULL, w, 64, 64, c.top, 0, &irp, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_pack_irp_new(c.enc, w, 64, 64, c.top, 0, &irp, &err), HEKV_OK, "%s",
                 err.msg);
    double x[64] = {0.25};
    hekv_ct *a = ct_encrypt_vec(&c, x, 64, 64, 0, 0.0, c.top), *o = ct_new(&c);
    /* no keys yet */
    cr_assert_eq(hekv_pack_irp_apply(c.ev, o, a, irp, 0, 0, NULL), HEKV_ERR_KEY_MISSING);
    gen_irp_keys(&c, irp, 0);
    cr_assert_eq(hekv_pack_irp_apply(c.ev, a, a, irp, 0, 0, NULL), HEKV_ERR_ARG, "aliasing");
    cr_assert_eq(hekv_pack_irp_apply(c.ev, o, a, irp, 32, 0, NULL), HEKV_ERR_ARG, "pos >= t");
    cr_assert_eq(hekv_pack_irp_apply(c.ev, o, a, irp, 3, 0, NULL), HEKV_ERR_KEY_MISSING,
                 "negative fold keys missing");
    hekv_ct *z = ct_new(&c);
    cr_assert_eq(hekv_ckks_eval_drop_to(c.ev, z, a, 1), HEKV_OK);
    cr_assert_eq(hekv_pack_irp_apply(c.ev, o, z, irp, 0, HEKV_PACK_CLEAN, NULL), HEKV_ERR_LEVEL);
    cr_assert_eq(hekv_pack_irp_apply(c.ev, o, z, irp, 0, 0, NULL), HEKV_OK, "%s",
                 hekv_ckks_eval_last_error(c.ev));
    cr_assert_eq(hekv_ckks_ct_level(o), 0);
    hekv_pack_irp_free(irp);
    hekv_pack_irp_free(NULL);
    hekv_ckks_ct_free(a), hekv_ckks_ct_free(o), hekv_ckks_ct_free(z);
    ctx_free(&c);
}

/* The output level hekv_pack_irp_out_level reports, against the apply at every input
 * level, with the weights below the top (the product then runs at the lower of the two),
 * clean and not: where it reports -1 the apply refuses with HEKV_ERR_LEVEL, elsewhere the
 * output lands exactly there. */
Test(packing_irp, reported_output_level) {
    ctx c = ctx_new_keys("toy-N12", 0, 1, NULL, 0);
    test_rng g = test_rng_new(41);
    const size_t d = 32;
    double *w = rand_vec(&g, d * d, -1, 1), *x = rand_vec(&g, d, -1, 1);
    hekv_pack_irp *irp = NULL;
    hekv_err err;
    const int wl = c.top - 1;
    cr_assert_eq(hekv_pack_irp_new(c.enc, w, d, d, wl, 0, &irp, &err), HEKV_OK, "%s", err.msg);
    gen_irp_keys(&c, irp, 0);
    hekv_ct *o = ct_new(&c);
    for (int clean = 0; clean < 2; clean++)
        for (int l = 0; l <= c.top; l++) {
            const unsigned fl = clean ? HEKV_PACK_CLEAN : 0u;
            const int want = hekv_pack_irp_out_level(irp, l, fl);
            const int lp = l < wl ? l : wl;
            cr_assert_eq(want, lp - 1 - clean >= 0 ? lp - 1 - clean : -1, "level %d", l);
            hekv_ct *a = ct_encrypt_vec(&c, x, d, d, 0, 0.0, l);
            hekv_status s = hekv_pack_irp_apply(c.ev, o, a, irp, 0, fl, NULL);
            if (want < 0) {
                cr_assert_eq(s, HEKV_ERR_LEVEL, "input level %d, clean %d", l, clean);
            } else {
                cr_assert_eq(s, HEKV_OK, "%s", hekv_ckks_eval_last_error(c.ev));
                cr_assert_eq(hekv_ckks_ct_level(o), want, "input level %d, clean %d", l, clean);
            }
            hekv_ckks_ct_free(a);
        }
    cr_assert_eq(hekv_pack_irp_out_level(NULL, c.top, 0), -1);
    cr_assert_eq(hekv_pack_irp_out_level(irp, -1, 0), -1);
    hekv_ckks_ct_free(o);
    hekv_pack_irp_free(irp);
    free(w), free(x);
    ctx_free(&c);
}
