/* test_approx_gen.c: the FHE-simulation file written from the CKKS designs
 * (models/approx_gen.c). The series of a design reproduces its plaintext circuit (Remez
 * stages, squarings, Newton steps composed) to double rounding; it survives the
 * "hekv-approx 1" text round trip; as the set's hekv_cheby it evaluates under
 * encryption to the same values as the design's own encrypted circuit (CKKS noise apart);
 * and the intervals are taken from a calibration as documented. toy-N12 for the encrypted
 * part. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hekv/ckks_client.h"
#include "hekv/llama_approx.h"
#include "test/util.h"

#define TOL_SERIES 1e-12 /* |series - circuit| / range: double rounding [~1e-15] */
#define TOL_ENC 0x1p-18  /* |encrypted series - encrypted circuit| / range [2^-27] */

static hekv_nonlin *design(hekv_nonlin_kind k, double lo, double hi, int max_degree) {
    hekv_nonlin *nl = NULL;
    hekv_err err;
    hekv_nonlin_opts o = {0};
    o.max_degree = max_degree;
    cr_assert_eq(hekv_llama_nonlin_design(k, lo, hi, &o, &nl, &err), HEKV_OK, "%s", err.msg);
    return nl;
}

Test(models_approx_gen, series_is_the_circuit) {
    /* composite shapes included: squarings (exp capped at degree 7), Newton steps */
    struct {
        hekv_nonlin_kind k;
        double lo, hi;
        int cap;
    } c[] = {{HEKV_NONLIN_EXP, -48, 0, 7},
             {HEKV_NONLIN_RECIP, 1, 128, 15},
             {HEKV_NONLIN_INVSQRT, 0.0625, 16, 15},
             {HEKV_NONLIN_SILU, -8, 8, 0}};
    hekv_llama_chebset *s = NULL;
    hekv_err err;
    cr_assert_eq(hekv_llama_chebset_new(&s, &err), HEKV_OK);
    hekv_nonlin *nl[4];
    for (int i = 0; i < 4; i++) {
        nl[i] = design(c[i].k, c[i].lo, c[i].hi, c[i].cap);
        cr_assert_eq(hekv_llama_chebset_set_nonlin(s, nl[i], &err), HEKV_OK, "%s", err.msg);
        const hekv_cheby *p = hekv_llama_chebset_get(s, c[i].k);
        cr_assert_not_null(p);
        const double lo = hekv_ckks_cheby_lo(p), hi = hekv_ckks_cheby_hi(p);
        cr_assert_eq(lo, c[i].lo);
        cr_assert_eq(hi, c[i].hi);
        cr_assert_leq(hekv_ckks_cheby_degree(p), hekv_ckks_nonlin_degree(nl[i]));
        double m = 0;
        for (int k = 0; k <= 1000; k++) {
            double x = lo + (hi - lo) * k / 1000.0;
            m = fmax(m, fabs(hekv_ckks_cheby_eval(p, x) - hekv_ckks_nonlin_eval_plain(nl[i], x)));
        }
        cr_log_info("%s: degree %d, series vs circuit %g x range", hekv_ckks_nonlin_name(c[i].k),
                    hekv_ckks_cheby_degree(p), m / hekv_ckks_nonlin_range(nl[i]));
        cr_assert(m <= TOL_SERIES * hekv_ckks_nonlin_range(nl[i]), "%s: %g",
                  hekv_ckks_nonlin_name(c[i].k), m);
    }
    /* squarings and Newton steps were really composed */
    cr_assert_gt(hekv_ckks_nonlin_squarings(nl[0]), 0);
    cr_assert_gt(hekv_ckks_nonlin_newton(nl[1]), 0);
    /* the text round trip keeps every bit (%.17g) */
    char path[] = "/tmp/hekv_approx_gen_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    cr_assert_eq(hekv_llama_chebset_save(s, path, &err), HEKV_OK, "%s", err.msg);
    hekv_llama_chebset *back = NULL;
    cr_assert_eq(hekv_llama_chebset_load(path, &back, &err), HEKV_OK, "%s", err.msg);
    remove(path);
    for (int i = 0; i < 4; i++) {
        const hekv_cheby *a = hekv_llama_chebset_get(s, c[i].k);
        const hekv_cheby *b = hekv_llama_chebset_get(back, c[i].k);
        cr_assert_not_null(b);
        cr_assert_eq(hekv_ckks_cheby_degree(a), hekv_ckks_cheby_degree(b));
        cr_assert_eq(memcmp(hekv_ckks_cheby_coeffs(a), hekv_ckks_cheby_coeffs(b),
                            (size_t)(hekv_ckks_cheby_degree(a) + 1) * sizeof(double)),
                     0);
    }
    /* a design of a kind the model does not use is refused */
    hekv_nonlin *g = design(HEKV_NONLIN_GELU, -4, 4, 0);
    cr_assert_eq(hekv_llama_chebset_set_nonlin(s, g, &err), HEKV_ERR_ARG);
    hekv_ckks_nonlin_free(g);
    for (int i = 0; i < 4; i++) hekv_ckks_nonlin_free(nl[i]);
    hekv_llama_chebset_free(s);
    hekv_llama_chebset_free(back);
}

Test(models_approx_gen, encrypted_series_matches_encrypted_circuit) {
    /* the file's series, read back as a hekv_cheby, evaluated under encryption, against the
     * design's own encrypted circuit: the same function up to CKKS noise */
    hekv_err err;
    hekv_ckks_params_lit lit;
    hekv_ckks_params *p = NULL;
    hekv_sk *sk = NULL;
    hekv_evk *evk = NULL;
    hekv_encoder *enc = NULL;
    hekv_eval *ev = NULL;
    cr_assert_eq(hekv_ckks_params_lit_named("toy-N12", &lit, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_params_new(&lit, NULL, &p, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_sk_new(p, &sk, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_evk_new(p, &evk, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_evk_gen_relin(evk, sk, -1, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_encoder_new(p, &enc, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_eval_new(p, evk, &ev, &err), HEKV_OK);
    const int top = hekv_ckks_params_max_level(p);
    const double scale = hekv_ckks_params_default_scale(p);
    /* a composite: a degree-7 start and a Newton step (degree 15 as one series) */
    hekv_nonlin *nl = NULL;
    hekv_nonlin_opts o = {0};
    o.max_degree = 7;
    o.min_newton = 1;
    o.tol = 0x1p-7; /* one step is enough: depth 4 + 2 fits toy-N12 */
    cr_assert_eq(hekv_llama_nonlin_design(HEKV_NONLIN_RECIP, 1, 16, &o, &nl, &err), HEKV_OK, "%s",
                 err.msg);
    cr_assert_eq(hekv_ckks_nonlin_newton(nl), 1);
    hekv_llama_chebset *s = NULL;
    cr_assert_eq(hekv_llama_chebset_new(&s, &err), HEKV_OK);
    cr_assert_eq(hekv_llama_chebset_set_nonlin(s, nl, &err), HEKV_OK);
    const hekv_cheby *series = hekv_llama_chebset_get(s, HEKV_NONLIN_RECIP);
    cr_assert_not_null(series);
    cr_assert_eq(hekv_ckks_cheby_degree(series), hekv_ckks_nonlin_degree(nl));
    cr_assert_leq(hekv_ckks_cheby_depth(series), top);
    cr_assert_leq(hekv_ckks_nonlin_depth(nl), top);
    double x[32], y1[32], y2[32], im[32];
    for (int i = 0; i < 32; i++) x[i] = 1 + 15.0 * i / 31;
    hekv_pt *pt = NULL;
    hekv_ct *a = NULL, *b = NULL;
    cr_assert_eq(hekv_ckks_pt_new(p, &pt, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_ct_new(p, &a, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_ct_new(p, &b, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_encode(enc, pt, x, NULL, 32, top, scale, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_encrypt_sk(sk, a, pt, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_eval_poly(ev, b, a, series, 0), HEKV_OK, "%s",
                 hekv_ckks_eval_last_error(ev));
    cr_assert_eq(hekv_ckks_eval_nonlin(ev, a, a, nl, 0), HEKV_OK, "%s", hekv_ckks_eval_last_error(ev));
    cr_assert_eq(hekv_ckks_decrypt(sk, pt, a, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_decode(enc, y1, im, pt, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_decrypt(sk, pt, b, &err), HEKV_OK);
    cr_assert_eq(hekv_ckks_decode(enc, y2, im, pt, &err), HEKV_OK);
    double m = 0;
    for (int i = 0; i < 32; i++) m = fmax(m, fabs(y1[i] - y2[i]));
    cr_log_info("1/x (remez7 + Newton): encrypted series vs encrypted circuit 2^%.2f x range",
                log2(m / hekv_ckks_nonlin_range(nl)));
    cr_assert(m <= TOL_ENC * hekv_ckks_nonlin_range(nl));
    hekv_ckks_pt_free(pt);
    hekv_ckks_ct_free(a);
    hekv_ckks_ct_free(b);
    hekv_llama_chebset_free(s);
    hekv_ckks_nonlin_free(nl);
    hekv_ckks_eval_free(ev);
    hekv_ckks_encoder_free(enc);
    hekv_ckks_evk_free(evk);
    hekv_ckks_sk_free(sk);
    hekv_ckks_params_free(p);
}

Test(models_approx_gen, ranges_from_a_calibration) {
    hekv_llama_config cfg = {0};
    cfg.dim = 8, cfg.hidden_dim = 16, cfg.n_layers = 2, cfg.n_heads = 2, cfg.n_kv_heads = 1;
    cfg.vocab_size = 32, cfg.seq_len = 8, cfg.head_size = 4, cfg.kv_dim = 4;
    hekv_llama_calib *cal = NULL;
    hekv_err err;
    cr_assert_eq(hekv_llama_calib_new(&cfg, &cal, &err), HEKV_OK, "%s", err.msg);
    hekv_llama_range r[HEKV_LLAMA_NONLIN_COUNT];
    cr_assert_eq(hekv_llama_approx_ranges(cal, 0.1, r, &err), HEKV_ERR_ARG); /* empty */
    for (int l = 0; l < 2; l++) {
        hekv_llama_layer_calib *lc = hekv_llama_calib_layer(cal, l);
        lc->softmax_exp_shifted = (hekv_llama_range){-10.0 * (l + 1), 0};
        lc->softmax_sum_shifted = (hekv_llama_range){1, 5.0 * (l + 1)};
        lc->rmsnorm_att = (hekv_llama_range){0.5, 2};
        lc->rmsnorm_ffn = (hekv_llama_range){0.25, 3};
        lc->silu = (hekv_llama_range){-3, 1.0 + l};
    }
    hekv_llama_calib_final(cal)->rmsnorm_final = (hekv_llama_range){1, 4};
    cr_assert_eq(hekv_llama_approx_ranges(cal, 0.1, r, &err), HEKV_OK, "%s", err.msg);
    cr_assert_float_eq(r[HEKV_NONLIN_EXP].lo, -22, 1e-12);
    cr_assert_eq(r[HEKV_NONLIN_EXP].hi, 0); /* exact: not widened */
    cr_assert_float_eq(r[HEKV_NONLIN_RECIP].lo, 1 / 1.1, 1e-12);
    cr_assert_float_eq(r[HEKV_NONLIN_RECIP].hi, 11, 1e-12);
    cr_assert_float_eq(r[HEKV_NONLIN_INVSQRT].lo, (0.25 + 1e-5) / 1.1, 1e-12);
    cr_assert_float_eq(r[HEKV_NONLIN_INVSQRT].hi, (4 + 1e-5) * 1.1, 1e-12);
    cr_assert_float_eq(r[HEKV_NONLIN_SILU].lo, -3.5, 1e-12);
    cr_assert_float_eq(r[HEKV_NONLIN_SILU].hi, 2.5, 1e-12);
    cr_assert_eq(hekv_llama_approx_ranges(cal, -1, r, &err), HEKV_ERR_ARG);
    /* and the whole set designs from them */
    hekv_llama_chebset *s = NULL;
    hekv_nonlin *nl[HEKV_LLAMA_NONLIN_COUNT] = {0};
    cr_assert_eq(hekv_llama_chebset_design(r, NULL, &s, nl, &err), HEKV_OK, "%s", err.msg);
    for (int f = 0; f < HEKV_LLAMA_NONLIN_COUNT; f++) {
        cr_assert_not_null(hekv_llama_chebset_get(s, (hekv_nonlin_kind)f));
        cr_assert_eq(hekv_ckks_nonlin_lo(nl[f]), r[f].lo);
        hekv_ckks_nonlin_free(nl[f]);
    }
    hekv_llama_chebset_free(s);
    hekv_llama_calib_free(cal);
}
