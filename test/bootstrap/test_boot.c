/* test_boot.c: bootstrapping. The FFT plans against the encoder's slot formula, the EvalMod
 * chain against the exact sine, and the whole pipeline at the toy sets against plain
 * double arithmetic: precision as -log2 of the max and mean error (real and imaginary
 * parts apart), the per-stage key-switch counts against the plan's formula, levels,
 * scales, keys (exactly the requested ones; a missing one named). */
#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bootstrap/boot_int.h"
#include "hekv/ckks_client.h"
#include "test/ckks/ckks_fixture.h"

#define PI_L 3.14159265358979323846264338327950288L

static size_t bitrev(size_t x, int bits) {
    size_t r = 0;
    for (int i = 0; i < bits; i++) r |= ((x >> i) & 1) << (bits - 1 - i);
    return r;
}

/* z_j = sum_k w_k xi^(k 5^j), xi = exp(2 pi i / 4n): the encoder's slots of w. */
static void slots_of(const long double complex *w, size_t n, long double complex *z) {
    for (size_t j = 0; j < n; j++) {
        size_t e = 1;
        for (size_t t = 0; t < j; t++) e = e * 5 % (4 * n);
        long double complex acc = 0;
        for (size_t k = 0; k < n; k++) {
            long double a = 2 * PI_L * (long double)((k * e) % (4 * n)) / (long double)(4 * n);
            acc += w[k] * (cosl(a) + I * sinl(a));
        }
        z[j] = acc;
    }
}

static void check_plans(size_t n, int full, int ncts, int nstc) {
    const size_t m = full ? n : 2 * n;
    int bits = 0;
    while (((size_t)1 << bits) < n) bits++;
    test_rng g = test_rng_new(n + (size_t)full);
    long double complex *w = malloc(n * sizeof *w), *z = malloc(m * sizeof *z),
                        *y = malloc(m * sizeof *y), *v = malloc(m * sizeof *v);
    for (size_t k = 0; k < n; k++) w[k] = test_uniform(&g, -1, 1) + I * test_uniform(&g, -1, 1);
    slots_of(w, n, z);
    for (size_t j = n; j < m; j++) z[j] = z[j - n];
    hekv__dft_plan cts, stc;
    cr_assert_eq(hekv__dft_cts(m, n, ncts, 1, &cts), HEKV_OK);
    cr_assert_eq(hekv__dft_stc(m, n, nstc, 1, &stc), HEKV_OK);
    cr_assert_eq(cts.nlev, ncts);
    /* CoeffToSlot: z -> w in bit-reversed order (upper half zero when sparse) */
    memcpy(v, z, m * sizeof *v);
    for (int l = 0; l < ncts; l++) {
        hekv__diagmat_apply(&cts.mat[l], v, y);
        memcpy(v, y, m * sizeof *v);
        /* a merged level of r stages has at most 2^(r+1) - 1 diagonals */
        cr_assert_leq(cts.mat[l].nd, ((size_t)2 << cts.stages[l]) - 1);
    }
    long double e = 0;
    for (size_t j = 0; j < m; j++) {
        long double complex want = j < n ? w[bitrev(j, bits)] : 0;
        e = fmaxl(e, cabsl(v[j] - want));
    }
    cr_assert(e < 1e-12L, "n %zu m %zu: CoeffToSlot error %Lg", n, m, e);
    /* SlotToCoeff: the real split's layout back to z (n-periodic) */
    if (!full)
        for (size_t j = 0; j < n; j++) v[j + n] = cimagl(v[j]), v[j] = creall(v[j]);
    for (int l = 0; l < nstc; l++) {
        hekv__diagmat_apply(&stc.mat[l], v, y);
        memcpy(v, y, m * sizeof *v);
    }
    e = 0;
    for (size_t j = 0; j < m; j++) e = fmaxl(e, cabsl(v[j] - z[j % n]));
    cr_assert(e < 1e-12L, "n %zu m %zu: SlotToCoeff error %Lg", n, m, e);
    hekv__dft_plan_free(&cts);
    hekv__dft_plan_free(&stc);
    free(w), free(z), free(y), free(v);
}

Test(boot_dft, plans_invert_the_encoder_fft) {
    check_plans(16, 1, 2, 2);
    check_plans(64, 1, 3, 2);
    check_plans(256, 1, 4, 3);
    check_plans(8, 0, 1, 1);
    check_plans(32, 0, 2, 2);
    check_plans(2, 0, 1, 1);
    check_plans(2, 1, 1, 1);
}

/* ------------------------------------------------------------------ the pipeline */

typedef struct {
    ctx c;
    hekv_boot *b;
    hekv_ckks_keyreq *req;
} bctx;

static bctx bctx_new_hoist(const char *boot_name, int double_hoist) {
    bctx x = {0};
    hekv_boot_lit bl;
    hekv_err err;
    cr_assert_eq(hekv_boot_lit_named(boot_name, &bl, &err), HEKV_OK, "%s", err.msg);
    bl.double_hoist = double_hoist;
    x.c = ctx_new_keys(bl.params, 0, 0, NULL, 0);
    cr_assert_eq(hekv_boot_new(x.c.p, &bl, &x.b, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_keyreq_new(x.c.p, &x.req, &err), HEKV_OK);
    cr_assert_eq(hekv_boot_keyreq(x.b, x.req, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_evk_gen_request(x.c.evk, x.c.sk, x.req, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_keyreq_check(x.req, x.c.evk, &err), HEKV_OK, "%s", err.msg);
    x.c.slots = hekv_boot_slots(x.b);
    return x;
}

static bctx bctx_new(const char *boot_name) { return bctx_new_hoist(boot_name, 0); }

static void bctx_free(bctx *x) {
    hekv_ckks_keyreq_free(x->req);
    hekv_boot_free(x->b);
    ctx_free(&x->c);
}

/* -log2 of the max and mean |error| of re and im parts apart */
typedef struct {
    double max_re, max_im, mean_re, mean_im;
} prec;

static prec precision(const ctx *c, const hekv_ct *ct, const double *re, const double *im) {
    const size_t n = hekv_ckks_ct_slots(ct);
    double *dr = malloc(n * sizeof *dr), *di = malloc(n * sizeof *di);
    ct_decrypt(c, dr, di, ct);
    double mr = 0, mi = 0, sr = 0, si = 0;
    for (size_t j = 0; j < n; j++) {
        double er = fabs(dr[j] - re[j]), ei = fabs(di[j] - (im ? im[j] : 0));
        mr = fmax(mr, er), mi = fmax(mi, ei), sr += er, si += ei;
    }
    free(dr), free(di);
    return (prec){-log2(mr), -log2(mi), -log2(sr / (double)n), -log2(si / (double)n)};
}

/* Bounds (-log2 of |error|), each a few bits under what the toy sets measure (seed-
 * independent: the noise is fresh every run). toy-boot-N12 (EvalMod at a ~2^60 scale
 * from two 30-bit primes a level): 24.3 max / 26.6 mean at 2^11 slots, 19.9 / 21.3 at
 * 2^5; toy-boot-N12-u1 (one 49-bit prime a level): 15.3 / 17.6. */
#define PREC_FULL_MAX 22.0
#define PREC_FULL_MEAN 24.5
#define PREC_S7_MAX 19.0
#define PREC_S7_MEAN 21.0
#define PREC_S5_MAX 17.5
#define PREC_S5_MEAN 19.0
#define PREC_U1_MAX 13.5
#define PREC_U1_MEAN 15.5

static void check_out(const bctx *x, const hekv_ct *o) {
    cr_assert_eq(hekv_ckks_ct_level(o), hekv_boot_level_out(x->b));
    cr_assert_eq(hekv_ckks_ct_scale(o), hekv_ckks_params_default_scale(x->c.p),
                 "scale 2^%.9f", log2(hekv_ckks_ct_scale(o)));
    cr_assert_eq(hekv_ckks_ct_slots(o), hekv_boot_slots(x->b));
}

/* `count` fresh ciphertexts of uniform [-1, 1] complex slots at the top user level:
 * the worst precision over them, and the counts of the first against the plan. */
static prec run_uniform(bctx *x, int count, uint64_t seed) {
    test_rng g = test_rng_new(seed);
    const size_t n = x->c.slots;
    double *re = malloc(n * sizeof *re), *im = malloc(n * sizeof *im);
    hekv_ct *o = ct_new(&x->c);
    prec worst = {99, 99, 99, 99};
    for (int t = 0; t < count; t++) {
        hekv_ct *ct = ct_random(&x->c, &g, re, im, hekv_boot_level_out(x->b));
        hekv_boot_stats st, want;
        OK(x->c.ev, hekv_boot_eval(x->b, x->c.ev, o, ct, &st));
        check_out(x, o);
        if (t == 0) {
            hekv_boot_expected(x->b, &want);
            for (int i = 0; i < HEKV_BOOT_STAGES; i++) {
                cr_assert_eq(st.keyswitches[i], want.keyswitches[i],
                             "stage %d: %llu key switches, the plan says %llu", i,
                             (unsigned long long)st.keyswitches[i],
                             (unsigned long long)want.keyswitches[i]);
                cr_assert_eq(st.moddowns[i], want.moddowns[i]);
            }
        }
        prec p = precision(&x->c, o, re, im);
        worst.max_re = fmin(worst.max_re, p.max_re), worst.max_im = fmin(worst.max_im, p.max_im);
        worst.mean_re = fmin(worst.mean_re, p.mean_re);
        worst.mean_im = fmin(worst.mean_im, p.mean_im);
        hekv_ckks_ct_free(ct);
    }
    cr_log_info("%s: %d ciphertexts: precision max %.2f / %.2f, mean %.2f / %.2f bits (re / im)",
                hekv_boot_lit_name(x->b), count, worst.max_re, worst.max_im, worst.mean_re,
                worst.mean_im);
    free(re), free(im);
    hekv_ckks_ct_free(o);
    return worst;
}

static void assert_prec(prec p, double mx, double mean) {
    cr_assert(p.max_re >= mx && p.max_im >= mx, "max precision %.2f / %.2f below %.1f",
              p.max_re, p.max_im, mx);
    cr_assert(p.mean_re >= mean && p.mean_im >= mean, "mean precision %.2f / %.2f below %.1f",
              p.mean_re, p.mean_im, mean);
}

Test(boot, full_slots_precision_counts_levels, .timeout = 600) {
    bctx x = bctx_new("toy-boot-N12");
    assert_prec(run_uniform(&x, 10, 1), PREC_FULL_MAX, PREC_FULL_MEAN);
    bctx_free(&x);
}

Test(boot, sparse_slots_precision_counts_levels, .timeout = 600) {
    bctx x = bctx_new("toy-boot-N12-s7");
    assert_prec(run_uniform(&x, 10, 2), PREC_S7_MAX, PREC_S7_MEAN);
    bctx_free(&x);
    x = bctx_new("toy-boot-N12-s5");
    assert_prec(run_uniform(&x, 10, 3), PREC_S5_MAX, PREC_S5_MEAN);
    bctx_free(&x);
}

/* The transforms with double hoisting: the same precision, ModDowns per level = giants + 2
 * (run_uniform checks the counts against hekv_boot_expected). */
Test(boot, double_hoisted_transforms, .timeout = 600) {
    bctx x = bctx_new_hoist("toy-boot-N12", 1);
    assert_prec(run_uniform(&x, 3, 5), PREC_FULL_MAX, PREC_FULL_MEAN);
    bctx_free(&x);
    x = bctx_new_hoist("toy-boot-N12-s5", 1);
    assert_prec(run_uniform(&x, 3, 6), PREC_S5_MAX, PREC_S5_MEAN);
    bctx_free(&x);
}

/* Every sparse slot count 2^1 .. 2^(logN - 2) on the one toy set (its three CoeffToSlot and
 * SlotToCoeff levels constant where there are fewer stages), one ciphertext each. */
Test(boot, every_slot_count, .timeout = 600) {
    hekv_boot_lit bl;
    hekv_err err;
    cr_assert_eq(hekv_boot_lit_named("toy-boot-N12-s5", &bl, &err), HEKV_OK);
    hekv_ckks_params *p = params_named("toy-boot-N12");
    hekv_sk *sk = NULL;
    cr_assert_eq(hekv_ckks_sk_new(p, &sk, &err), HEKV_OK);
    hekv_encoder *enc = NULL;
    cr_assert_eq(hekv_ckks_encoder_new(p, &enc, &err), HEKV_OK);
    for (int k = 1; k <= hekv_ckks_params_logn(p) - 2; k++) {
        bl.log_slots = k;
        hekv_boot *b = NULL;
        cr_assert_eq(hekv_boot_new(p, &bl, &b, &err), HEKV_OK, "2^%d slots: %s", k, err.msg);
        hekv_ckks_keyreq *r = NULL;
        hekv_evk *evk = NULL;
        hekv_eval *ev = NULL;
        cr_assert_eq(hekv_ckks_keyreq_new(p, &r, &err), HEKV_OK);
        cr_assert_eq(hekv_boot_keyreq(b, r, &err), HEKV_OK);
        cr_assert_eq(hekv_ckks_evk_new(p, &evk, &err), HEKV_OK);
        cr_assert_eq(hekv_ckks_evk_gen_request(evk, sk, r, &err), HEKV_OK, "%s", err.msg);
        cr_assert_eq(hekv_ckks_eval_new(p, evk, &ev, &err), HEKV_OK);
        const size_t n = (size_t)1 << k;
        double re[1024], im[1024], dr[1024], di[1024];
        test_rng g = test_rng_new(200 + (uint64_t)k);
        fill(&g, re, n, -1, 1), fill(&g, im, n, -1, 1);
        hekv_pt *pt = NULL;
        hekv_ct *ct = NULL, *o = NULL;
        cr_assert_eq(hekv_ckks_pt_new(p, &pt, &err), HEKV_OK);
        cr_assert_eq(hekv_ckks_encode(enc, pt, re, im, n, hekv_boot_level_out(b),
                                      hekv_ckks_params_default_scale(p), &err), HEKV_OK);
        cr_assert_eq(hekv_ckks_ct_new(p, &ct, &err), HEKV_OK);
        cr_assert_eq(hekv_ckks_ct_new(p, &o, &err), HEKV_OK);
        cr_assert_eq(hekv_ckks_encrypt_sk(sk, ct, pt, &err), HEKV_OK);
        cr_assert_eq(hekv_boot_eval(b, ev, o, ct, NULL), HEKV_OK, "2^%d slots: %s", k,
                     hekv_ckks_eval_last_error(ev));
        cr_assert_eq(hekv_ckks_ct_slots(o), n);
        cr_assert_eq(hekv_ckks_decrypt(sk, pt, o, &err), HEKV_OK);
        cr_assert_eq(hekv_ckks_decode(enc, dr, di, pt, &err), HEKV_OK);
        double mx = 0;
        for (size_t j = 0; j < n; j++) mx = fmax(mx, fmax(fabs(dr[j] - re[j]), fabs(di[j] - im[j])));
        cr_log_info("2^%d slots: max error 2^%.2f", k, log2(mx));
        /* fewer slots, larger coefficients: the sine's cubic term grows (~1 bit per halving) */
        cr_assert(mx < 0x1p-15, "2^%d slots: max error 2^%.2f", k, log2(mx));
        hekv_ckks_pt_free(pt), hekv_ckks_ct_free(ct), hekv_ckks_ct_free(o);
        hekv_ckks_eval_free(ev), hekv_ckks_evk_free(evk), hekv_ckks_keyreq_free(r);
        hekv_boot_free(b);
    }
    hekv_ckks_encoder_free(enc);
    hekv_ckks_sk_free(sk);
    hekv_ckks_params_free(p);
}

Test(boot, one_prime_evalmod_levels, .timeout = 600) {
    bctx x = bctx_new("toy-boot-N12-u1");
    cr_assert_eq(hekv_boot_levels_evalmod(x.b), 8);
    assert_prec(run_uniform(&x, 3, 4), PREC_U1_MAX, PREC_U1_MEAN);
    bctx_free(&x);
}

/* Structured inputs: their coefficients are as large as their slots (a constant vector's
 * only coefficient is its value), so x = t/q_0 sits up to 2^-9 from an integer and the
 * sine's cubic term, (2 pi)^2 e^3 / 6 at e = 2^-9, costs bits: measured ~14 bits for
 * constants against ~24 for uniform slots (the arcsine option would recover them). */
#define PREC_CONST 12.0
#define PREC_SPIKE 20.0
#define PREC_REAL 22.0

Test(boot, adversarial_inputs, .timeout = 600) {
    bctx x = bctx_new("toy-boot-N12");
    const size_t n = x.c.slots;
    double *re = calloc(n, sizeof *re), *im = calloc(n, sizeof *im);
    hekv_ct *o = ct_new(&x.c);
    test_rng g = test_rng_new(9);
    for (int kind = 0; kind < 5; kind++) {
        const char *what[] = {"constant +1", "constant -1", "one non-zero slot",
                              "real-only uniform", "all slots +-1"};
        for (size_t j = 0; j < n; j++) {
            re[j] = kind == 0 ? 1 : kind == 1 ? -1 : kind == 2 ? (j == 17) : kind == 3
                    ? test_uniform(&g, -1, 1) : (test_below(&g, 2) ? 1 : -1);
            im[j] = 0;
        }
        hekv_ct *ct = ct_encrypt_cx(&x.c, re, im, n, hekv_boot_level_out(x.b), x.c.scale);
        OK(x.c.ev, hekv_boot_eval(x.b, x.c.ev, o, ct, NULL));
        check_out(&x, o);
        prec p = precision(&x.c, o, re, im);
        cr_log_info("%s: precision max %.2f / %.2f, mean %.2f / %.2f", what[kind], p.max_re,
                    p.max_im, p.mean_re, p.mean_im);
        const double bound = kind <= 1 ? PREC_CONST : kind == 2 ? PREC_SPIKE : PREC_REAL;
        cr_assert(p.max_re >= bound && p.max_im >= bound, "%s: %.2f / %.2f below %.1f",
                  what[kind], p.max_re, p.max_im, bound);
        hekv_ckks_ct_free(ct);
    }
    free(re), free(im);
    hekv_ckks_ct_free(o);
    bctx_free(&x);
}

/* Each stage against the exact computation, with the secret key: after ModRaise and
 * CoeffToSlot the slots hold t/(q_0 K') with t = m + q_0 I, so K' x slot is within 2^-8 of
 * an integer I and |I| <= (h + 1) / 2 = 16; EvalMod turns that into its fractional part
 * (the chain in long double, to CKKS noise); SlotToCoeff returns the message. */
static void stages(const char *name) {
    bctx x = bctx_new(name);
    const hekv_boot *b = x.b;
    const size_t n = x.c.slots, m = b->m;
    test_rng g = test_rng_new(11);
    double *re = malloc(m * sizeof *re), *im = malloc(m * sizeof *im);
    hekv_ct *ct = ct_random(&x.c, &g, re, im, hekv_boot_level_out(b));
    hekv_ct *t = ct_new(&x.c), *p[2] = {ct_new(&x.c), ct_new(&x.c)}, *o = ct_new(&x.c);
    double delta = 0;
    OK(x.c.ev, hekv__boot_modraise(b, x.c.ev, t, ct, &delta, NULL));
    cr_assert_eq(hekv_ckks_ct_level(t), b->top);
    cr_assert(fabs(delta / ldexp((double)hekv_ckks_params_q(x.c.p, 0), -9) - 1) < 0x1p-38);
    if (!b->full) OK(x.c.ev, hekv__boot_trace(b, x.c.ev, t));
    OK(x.c.ev, hekv__boot_c2s(b, x.c.ev, p, t));
    const int parts = 1 + b->full;
    double *frac[2] = {malloc(m * sizeof(double)), malloc(m * sizeof(double))};
    double worst_frac = 0, worst_i = 0;
    for (int k = 0; k < parts; k++) {
        cr_assert_eq(hekv_ckks_ct_level(p[k]), b->l_em);
        cr_assert_eq(hekv_ckks_ct_slots(p[k]), m);
        ct_decrypt(&x.c, re, im, p[k]);
        for (size_t j = 0; j < m; j++) {
            const double v = re[j] * b->kp, r = round(v);
            worst_frac = fmax(worst_frac, fabs(v - r));
            worst_i = fmax(worst_i, fabs(r));
            frac[k][j] = (double)hekv__boot_evalmod_plain(b, v);
            cr_assert(fabs(im[j]) < 0x1p-20, "CoeffToSlot's part %d is not real", k);
        }
    }
    cr_log_info("%s: after CoeffToSlot, max |I| = %.0f (K = %.2f), max |x - I| = 2^%.2f", name,
                worst_i, b->k, log2(worst_frac));
    cr_assert_leq(worst_i, (x.b->lit.ephemeral_hw + 1) / 2);
    cr_assert(worst_frac < 0x1p-8, "x - I up to 2^%.2f", log2(worst_frac));
    double worst_em = 0;
    for (int k = 0; k < parts; k++) {
        OK(x.c.ev, hekv__boot_evalmod(b, x.c.ev, p[k]));
        cr_assert_eq(hekv_ckks_ct_level(p[k]), b->l_stc);
        ct_decrypt(&x.c, re, im, p[k]);
        for (size_t j = 0; j < m; j++) worst_em = fmax(worst_em, fabs(re[j] - frac[k][j]));
    }
    /* EvalMod's output m/q_0 is ~2^-17 in size; its noise ~2^-45 */
    cr_log_info("%s: EvalMod against its plain chain: 2^%.2f", name, log2(worst_em));
    cr_assert(worst_em < 0x1p-38, "EvalMod error 2^%.2f", log2(worst_em));
    OK(x.c.ev, hekv__boot_s2c(b, x.c.ev, o, (const hekv_ct *const *)p, delta, 0));
    check_out(&x, o);
    free(frac[0]), free(frac[1]);
    free(re), free(im);
    hekv_ckks_ct_free(ct), hekv_ckks_ct_free(t), hekv_ckks_ct_free(o);
    hekv_ckks_ct_free(p[0]), hekv_ckks_ct_free(p[1]);
    (void)n;
    bctx_free(&x);
}

Test(boot, stages_against_the_exact_computation, .timeout = 600) {
    stages("toy-boot-N12");
    stages("toy-boot-N12-s5");
}

/* The EvalMod design: the whole chain within 2^-40 of (1/2 pi) sin(2 pi x) on [-K, K],
 * and x mod 1 to the sine's own deviation near every integer. */
Test(boot, evalmod_design) {
    bctx x = bctx_new("toy-boot-N12-s5");
    cr_assert_leq(hekv_boot_cos_error(x.b), 0x1p-40);
    cr_assert_eq(hekv_boot_levels_evalmod(x.b),
                 2 * (hekv_ckks_cheby_depth(x.b->cos) + x.b->lit.double_angles));
    long double worst = 0;
    for (int k = -16; k <= 16; k++)
        for (int t = -8; t <= 8; t++) {
            const long double e = t * 0x1p-12L, y = hekv__boot_evalmod_plain(x.b, k + e);
            /* sin(2 pi e) / 2 pi = e - (2 pi)^2 e^3 / 6 + ... */
            const long double dev = 4 * PI_L * PI_L * fabsl(e * e * e) / 6;
            worst = fmaxl(worst, fabsl(y - e) - dev);
        }
    cr_assert(worst < 0x1p-40L, "x mod 1 off by 2^%.2f beyond the sine's deviation",
              (double)log2l(worst));
    bctx_free(&x);
}

/* 50 rounds of bootstrap -> square -> rescale -> bootstrap on unit-modulus slots (squaring
 * keeps |z| = 1): each round's own error (against the decryption of its input) stays at
 * the first round's, and every output has the same level and the same scale, exactly. */
Test(boot, stability_50_rounds, .timeout = 900) {
    bctx x = bctx_new("toy-boot-N12-s5");
    const size_t n = x.c.slots;
    test_rng g = test_rng_new(13);
    double *re = malloc(n * sizeof *re), *im = malloc(n * sizeof *im);
    for (size_t j = 0; j < n; j++) {
        const double a = test_uniform(&g, -M_PI, M_PI);
        re[j] = cos(a), im[j] = sin(a);
    }
    hekv_ct *ct = ct_encrypt_cx(&x.c, re, im, n, hekv_boot_level_out(x.b), x.c.scale);
    double first = 0, worst = 99, best = 0;
    for (int r = 0; r < 50; r++) {
        ct_decrypt(&x.c, re, im, ct); /* this round's input, as the reference */
        OK(x.c.ev, hekv_boot_eval(x.b, x.c.ev, ct, ct, NULL));
        check_out(&x, ct);
        prec p = precision(&x.c, ct, re, im);
        const double b = fmin(p.max_re, p.max_im);
        if (r == 0) first = b;
        worst = fmin(worst, b), best = fmax(best, b);
        OK(x.c.ev, hekv_ckks_eval_square(x.c.ev, ct, ct));
        OK(x.c.ev, hekv_ckks_eval_rescale(x.c.ev, ct, ct));
    }
    cr_log_info("50 rounds: per-round max-error precision %.2f (first) / %.2f .. %.2f bits",
                first, worst, best);
    cr_assert(worst >= PREC_S5_MAX - 1.0, "a round fell to %.2f bits", worst);
    free(re), free(im);
    hekv_ckks_ct_free(ct);
    bctx_free(&x);
}

/* The keys: the request lists exactly what runs (bctx_new's key set holds nothing else);
 * they survive a file round trip; the set's keys without one rotation, or without the
 * encapsulation pair, give HEKV_ERR_KEY_MISSING naming it; the request's size is what
 * the keys hold. */
Test(boot, keys_round_trip_and_missing, .timeout = 600) {
    bctx x = bctx_new("toy-boot-N12-s5");
    hekv_err err;
    cr_assert_eq(hekv_ckks_keyreq_bytes(x.req), hekv_ckks_evk_bytes(x.c.evk));
    cr_assert_eq(hekv_ckks_evk_has_relin(x.c.evk), 1);
    cr_assert_eq(hekv_ckks_evk_relin_level(x.c.evk), x.b->l_em);
    hekv_buf buf = {0};
    cr_assert_eq(hekv_ckks_evk_save(x.c.evk, &buf, &err), HEKV_OK, "%s", err.msg);
    hekv_evk *back = NULL;
    cr_assert_eq(hekv_ckks_evk_load(x.c.p, buf.data, buf.len, &back, &err), HEKV_OK, "%s",
                 err.msg);
    hekv_buf_free(&buf);
    cr_assert_eq(hekv_ckks_keyreq_check(x.req, back, &err), HEKV_OK, "%s", err.msg);
    hekv_eval *ev = NULL;
    cr_assert_eq(hekv_ckks_eval_new(x.c.p, back, &ev, &err), HEKV_OK);
    test_rng g = test_rng_new(17);
    const size_t n = x.c.slots;
    double *re = malloc(n * sizeof *re), *im = malloc(n * sizeof *im);
    hekv_ct *ct = ct_random(&x.c, &g, re, im, hekv_boot_level_out(x.b)), *o = ct_new(&x.c);
    OK(ev, hekv_boot_eval(x.b, ev, o, ct, NULL));
    assert_prec(precision(&x.c, o, re, im), PREC_S5_MAX, PREC_S5_MEAN);
    hekv_ckks_eval_free(ev);
    hekv_ckks_evk_free(back);
    /* without the Galois key of one CoeffToSlot rotation */
    hekv_evk *part = NULL;
    cr_assert_eq(hekv_ckks_evk_new(x.c.p, &part, &err), HEKV_OK);
    hekv_ckks_keyreq *r2 = NULL;
    cr_assert_eq(hekv_ckks_keyreq_new(x.c.p, &r2, &err), HEKV_OK);
    long rots[64];
    const size_t nr = hekv_ckks_lintrans_rotations(x.b->cts[0], rots, 64);
    cr_assert_gt(nr, 0);
    const uint64_t dropped = hekv_ckks_galois_rot(x.c.p, rots[0]);
    cr_assert_eq(hekv_ckks_keyreq_relin(r2, hekv_ckks_keyreq_relin_level(x.req), &err), HEKV_OK);
    for (size_t i = 0; i < hekv_ckks_keyreq_galois_count(x.req); i++)
        if (hekv_ckks_keyreq_galois_elt(x.req, i) != dropped)
            cr_assert_eq(hekv_ckks_keyreq_galois(r2, hekv_ckks_keyreq_galois_elt(x.req, i),
                                                 hekv_ckks_keyreq_galois_level(x.req, i), &err),
                         HEKV_OK);
    cr_assert_eq(hekv_ckks_evk_gen_request(part, x.c.sk, r2, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_keyreq_check(x.req, part, &err), HEKV_ERR_KEY_MISSING);
    cr_log_info("check: %s", err.msg);
    cr_assert_eq(hekv_ckks_eval_new(x.c.p, part, &ev, &err), HEKV_OK);
    cr_assert_eq(hekv_boot_eval(x.b, ev, o, ct, NULL), HEKV_ERR_KEY_MISSING);
    cr_log_info("boot: %s", hekv_ckks_eval_last_error(ev));
    cr_assert(strstr(hekv_ckks_eval_last_error(ev), "encapsulation"),
              "%s", hekv_ckks_eval_last_error(ev));
    hekv_ckks_eval_free(ev);
    /* now with the encapsulation pair but still without that rotation */
    cr_assert_eq(hekv_ckks_keyreq_encapsulation(r2, 32, HEKV_BOOT_TAG_TO_EPHEMERAL,
                                                HEKV_BOOT_TAG_FROM_EPHEMERAL, x.b->top, &err),
                 HEKV_OK);
    cr_assert_eq(hekv_ckks_evk_gen_request(part, x.c.sk, r2, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_eval_new(x.c.p, part, &ev, &err), HEKV_OK);
    cr_assert_eq(hekv_boot_eval(x.b, ev, o, ct, NULL), HEKV_ERR_KEY_MISSING);
    cr_log_info("boot: %s", hekv_ckks_eval_last_error(ev));
    cr_assert(strstr(hekv_ckks_eval_last_error(ev), "rotation"), "%s",
              hekv_ckks_eval_last_error(ev));
    hekv_ckks_eval_free(ev);
    hekv_ckks_evk_free(part);
    hekv_ckks_keyreq_free(r2);
    free(re), free(im);
    hekv_ckks_ct_free(ct), hekv_ckks_ct_free(o);
    bctx_free(&x);
}

/* Two real vectors in one bootstrapping (x + i y, split after). */
Test(boot, two_real_vectors, .timeout = 600) {
    bctx x = bctx_new("toy-boot-N12");
    const size_t n = x.c.slots;
    test_rng g = test_rng_new(19);
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    fill(&g, a, n, -1, 1), fill(&g, b, n, -1, 1);
    const int l = hekv_boot_level_out(x.b);
    hekv_ct *ca = ct_encrypt_cx(&x.c, a, NULL, n, l, x.c.scale);
    hekv_ct *cb = ct_encrypt_cx(&x.c, b, NULL, n, l, x.c.scale);
    hekv_ct *oa = ct_new(&x.c), *ob = ct_new(&x.c);
    OK(x.c.ev, hekv_boot_eval_real2(x.b, x.c.ev, oa, ob, ca, cb, NULL));
    check_out(&x, oa), check_out(&x, ob);
    prec pa = precision(&x.c, oa, a, NULL), pb = precision(&x.c, ob, b, NULL);
    cr_log_info("real2: x %.2f / %.2f, y %.2f / %.2f (max, re / im)", pa.max_re, pa.max_im,
                pb.max_re, pb.max_im);
    assert_prec(pa, PREC_FULL_MAX, PREC_FULL_MEAN);
    assert_prec(pb, PREC_FULL_MAX, PREC_FULL_MEAN);
    cr_assert_eq(hekv_boot_eval_real2(x.b, x.c.ev, oa, oa, ca, cb, NULL), HEKV_ERR_ARG);
    free(a), free(b);
    hekv_ckks_ct_free(ca), hekv_ckks_ct_free(cb), hekv_ckks_ct_free(oa), hekv_ckks_ct_free(ob);
    bctx_free(&x);
}

/* Inputs at every level: level 0 at ScaleDown's scale (used as it is), level 0 at another
 * scale (the output's label carries the ratio), level 0 too close to q_0 (refused), and
 * the top user level; bad arguments. */
Test(boot, input_levels_and_bad_arguments, .timeout = 600) {
    bctx x = bctx_new("toy-boot-N12-s5");
    const size_t n = x.c.slots;
    test_rng g = test_rng_new(23);
    double *re = malloc(n * sizeof *re), *im = malloc(n * sizeof *im);
    fill(&g, re, n, -1, 1), fill(&g, im, n, -1, 1);
    const double q0 = (double)hekv_ckks_params_q(x.c.p, 0);
    hekv_ct *o = ct_new(&x.c);
    const double scales[] = {ldexp(q0, -9), ldexp(q0, -11), ldexp(q0, -4)};
    for (int k = 0; k < 3; k++) {
        hekv_ct *ct = ct_encrypt_cx(&x.c, re, im, n, 0, scales[k]);
        hekv_status s = hekv_boot_eval(x.b, x.c.ev, o, ct, NULL);
        if (k == 2) {
            cr_assert_eq(s, HEKV_ERR_SCALE, "%s", hekv_ckks_eval_last_error(x.c.ev));
        } else {
            cr_assert_eq(s, HEKV_OK, "%s", hekv_ckks_eval_last_error(x.c.ev));
            cr_assert_eq(hekv_ckks_ct_level(o), hekv_boot_level_out(x.b));
            const double want = x.c.scale * scales[k] / ldexp(q0, -9);
            cr_assert(fabs(hekv_ckks_ct_scale(o) / want - 1) < 0x1p-40, "scale 2^%.6f",
                      log2(hekv_ckks_ct_scale(o)));
            prec p = precision(&x.c, o, re, im);
            cr_assert(p.max_re >= PREC_S5_MAX - 2 && p.max_im >= PREC_S5_MAX - 2,
                      "level-0 input at scale 2^%.1f: %.2f / %.2f", log2(scales[k]), p.max_re,
                      p.max_im);
        }
        hekv_ckks_ct_free(ct);
    }
    /* the wrong slot count, an empty input, NULL */
    hekv_ct *wrong = ct_encrypt_cx(&x.c, re, im, n / 2, 1, x.c.scale), *empty = ct_new(&x.c);
    cr_assert_eq(hekv_boot_eval(x.b, x.c.ev, o, wrong, NULL), HEKV_ERR_ARG);
    cr_assert(strstr(hekv_ckks_eval_last_error(x.c.ev), "slots"));
    cr_assert_eq(hekv_boot_eval(x.b, x.c.ev, o, empty, NULL), HEKV_ERR_ARG);
    cr_assert_eq(hekv_boot_eval(NULL, x.c.ev, o, wrong, NULL), HEKV_ERR_ARG);
    cr_assert_eq(hekv_boot_eval(x.b, NULL, o, wrong, NULL), HEKV_ERR_ARG);
    /* another parameter set */
    ctx other = ctx_new_keys("toy-N12", 32, 0, NULL, 0);
    hekv_ct *oc = ct_encrypt_cx(&other, re, im, n, 1, other.scale);
    cr_assert_eq(hekv_boot_eval(x.b, x.c.ev, o, oc, NULL), HEKV_ERR_PARAMS);
    /* plans that do not fit */
    hekv_boot_lit bl;
    hekv_err err;
    hekv_boot *bad = NULL;
    cr_assert_eq(hekv_boot_lit_named("toy-boot-N12", &bl, &err), HEKV_OK);
    cr_assert_eq(hekv_boot_new(other.p, &bl, &bad, &err), HEKV_ERR_PARAMS);
    cr_log_info("%s", err.msg);
    bl.log_slots = 12;
    cr_assert_eq(hekv_boot_new(x.c.p, &bl, &bad, &err), HEKV_ERR_ARG);
    bl.log_slots = 11, bl.cts_levels = 17;
    cr_assert_eq(hekv_boot_new(x.c.p, &bl, &bad, &err), HEKV_ERR_ARG);
    bl.cts_levels = 3;
    bl.log_slots = 11, bl.k = 10;
    cr_assert_eq(hekv_boot_new(x.c.p, &bl, &bad, &err), HEKV_ERR_ARG);
    cr_assert(strstr(err.msg, "(h + 1) / 2"), "%s", err.msg);
    cr_assert_null(bad);
    cr_assert_eq(hekv_boot_lit_named("boot-nonexistent", &bl, &err), HEKV_ERR_ARG);
    hekv_ckks_ct_free(oc);
    ctx_free(&other);
    free(re), free(im);
    hekv_ckks_ct_free(wrong), hekv_ckks_ct_free(empty), hekv_ckks_ct_free(o);
    bctx_free(&x);
}

/* ------------------------------------------------------------------ N = 2^16 (test-full) */

/* The 128-bit sets: full slots, 2^10 and 2^7 (one after another: each holds up to ~11 GiB
 * of keys and plaintexts), 10 fresh ciphertexts at full slots and 3 at the others; the
 * bounds sit ~0.5 bit under the measurements (max / mean, worse of re and im: full 21.45 /
 * 24.19, 2^10 23.76 / 25.74, 2^7 21.40 / 22.99). */
Test(boot, n16_precision, .timeout = 3600) {
    if (!test_full()) cr_skip_test("HEKV_TEST_FULL=1 bootstraps at N = 2^16");
    static const struct {
        const char *name;
        int count;
        double mx, mean;
    } sets[] = {{"boot-N16", 10, 20.9, 23.6}, {"boot-N16-s10", 3, 23.2, 25.2},
                {"boot-N16-s7", 3, 20.9, 22.5}};
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        bctx x = bctx_new(sets[i].name);
        cr_assert(hekv_ckks_params_secure(x.c.p));
        prec p = run_uniform(&x, sets[i].count, 100 + i);
        assert_prec(p, sets[i].mx, sets[i].mean);
        bctx_free(&x);
    }
}
