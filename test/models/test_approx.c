/* test_approx.c: the FHE simulation's series set and hook (models/approx.c): the
 * "hekv-approx 1" file (round trip, atomic save, rejection of malformed files and of paths
 * that are not files), the hook evaluating each series as the circuit does (no clamping,
 * unless asked for), its per-function, per-layer count of the inputs outside the designed
 * intervals, the layer every hook call is told by the reference forward, and a simulation
 * with a Chebyshev exp that tracks the exact forward when clamped and reports where it
 * leaves its interval. */
#include <sys/stat.h>

#include "hekv/llama_approx.h"
#include "model_util.h"

#define TOL_CHEB_EXP_LOGITS 1e-8 /* stories260K logits with an 80-term exp, clamped */

static long double f_expl(long double x, void *c) {
    (void)c;
    return expl(x);
}

/* A series of n coefficients on [lo, hi]. */
static hekv_cheby *series(const double *c, int n, double lo, double hi) {
    hekv_cheby *p = NULL;
    hekv_err err = {0};
    cr_assert_eq(hekv_ckks_cheby_new(c, n, lo, hi, &p, &err), HEKV_OK, "%s", err.msg);
    return p;
}

static void expect_approx_error(const char *text, const char *needle) {
    hekv_llama_chebset *s = (hekv_llama_chebset *)1;
    hekv_err err = {0};
    cr_assert_eq(hekv_llama_chebset_parse(text, strlen(text), &s, &err), HEKV_ERR_FORMAT,
                 "expected a format error: %s", needle);
    cr_assert_null(s);
    cr_assert(strstr(err.msg, needle) != NULL, "message '%s' lacks '%s'", err.msg, needle);
}

Test(models, approx_file_roundtrip_and_errors) {
    const char *ok = "hekv-approx 1\n# comment\nexp -8 0 3 1.5 0.25 # trailing comment\n"
                     "  -0.125\nsilu -4 4 2\n 0 2\nend\n";
    hekv_llama_chebset *s;
    hekv_err err = {0};
    cr_assert_eq(hekv_llama_chebset_parse(ok, strlen(ok), &s, &err), HEKV_OK, "%s", err.msg);
    const hekv_cheby *e = hekv_llama_chebset_get(s, HEKV_NONLIN_EXP);
    cr_assert_not_null(e);
    const double *c = hekv_ckks_cheby_coeffs(e);
    cr_assert(hekv_ckks_cheby_lo(e) == -8 && hekv_ckks_cheby_hi(e) == 0 &&
              hekv_ckks_cheby_degree(e) == 2 && c[0] == 1.5 && c[1] == 0.25 && c[2] == -0.125);
    cr_assert_null(hekv_llama_chebset_get(s, HEKV_NONLIN_RECIP));
    cr_assert_null(hekv_llama_chebset_get(s, HEKV_NONLIN_GELU), "the model has no GELU");
    hekv_llama_sim *sim = NULL;
    cr_assert_eq(hekv_llama_sim_new(s, 3, 0, &sim, &err), HEKV_OK, "%s", err.msg);
    const hekv_llama_approx *hook = hekv_llama_sim_hook(sim);
    cr_assert_not_null(hook->exp);
    cr_assert_null(hook->recip, "absent functions stay exact (NULL)");
    cr_assert_null(hook->invsqrt);
    cr_assert_not_null(hook->silu);
    cr_assert_float_eq(hook->silu(1.0, 0, hook->ctx), 0.5, 1e-15); /* 0 + 2 T_1(1/4) */
    hekv_llama_sim_free(sim);
    /* save / load round trip; the save replaces the file, never truncates it in place */
    char dir[64], path[128], old_link[128];
    tm_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/a.approx", dir);
    snprintf(old_link, sizeof old_link, "%s/old.approx", dir);
    tm_write(path, "old\n", 4);
    cr_assert_eq(link(path, old_link), 0);
    cr_assert_eq(hekv_llama_chebset_save(s, path, &err), HEKV_OK, "%s", err.msg);
    size_t n;
    unsigned char *old = tm_read(old_link, &n);
    cr_assert(n == 4 && !memcmp(old, "old\n", 4), "the old file was overwritten in place");
    free(old);
    hekv_llama_chebset *b;
    cr_assert_eq(hekv_llama_chebset_load(path, &b, &err), HEKV_OK, "%s", err.msg);
    const hekv_cheby *sb = hekv_llama_chebset_get(b, HEKV_NONLIN_SILU);
    cr_assert_not_null(sb);
    cr_assert(hekv_ckks_cheby_lo(sb) == -4 && hekv_ckks_cheby_hi(sb) == 4 &&
              hekv_ckks_cheby_degree(sb) == 1 && hekv_ckks_cheby_coeffs(sb)[1] == 2);
    cr_assert_eq(memcmp(hekv_ckks_cheby_coeffs(hekv_llama_chebset_get(b, HEKV_NONLIN_EXP)), c,
                        3 * sizeof *c), 0);
    hekv_llama_chebset_free(b);
    /* set copies; kinds the model does not have are refused */
    const double c2[2] = {1, 1};
    hekv_cheby *p = series(c2, 2, 0, 1);
    cr_assert_eq(hekv_llama_chebset_set(s, HEKV_NONLIN_RECIP, p, &err), HEKV_OK);
    cr_assert_eq(hekv_llama_chebset_set(s, HEKV_NONLIN_SIGN, p, &err), HEKV_ERR_ARG);
    cr_assert(strstr(err.msg, "sign") != NULL, "%s", err.msg);
    hekv_ckks_cheby_free(p);
    cr_assert_eq(hekv_ckks_cheby_degree(hekv_llama_chebset_get(s, HEKV_NONLIN_RECIP)), 1);
    hekv_llama_chebset_free(s);

    expect_approx_error("", "not the header");
    expect_approx_error("hekv-approx 2\nend\n", "version 1");
    expect_approx_error("hekv-approx 1\nexp -1 1 3 1 2\n", "ends early");
    expect_approx_error("hekv-approx 1\nexp -1 1 3 1 2 3\n", "no 'end'");
    expect_approx_error("hekv-approx 1\nexp 1 -1 1 1\nend\n", "LO < HI");
    expect_approx_error("hekv-approx 1\nexp -1 1 0\nend\n", "count");
    expect_approx_error("hekv-approx 1\nexp -1 1 2.5 1 1\nend\n", "count");
    expect_approx_error("hekv-approx 1\nexp -1 1 99999 1\nend\n", "count");
    expect_approx_error("hekv-approx 1\nexp -1 1 2 1 nan\nend\n", "not a finite");
    expect_approx_error("hekv-approx 1\nexp -1 inf 2 1 1\nend\n", "HI");
    expect_approx_error("hekv-approx 1\ncos -1 1 1 1\nend\n", "not a function name");
    expect_approx_error("hekv-approx 1\ngelu -1 1 1 1\nend\n", "not a function name");
    expect_approx_error("hekv-approx 1\nexp -1 1 1 1\nexp -1 1 1 1\nend\n", "second entry");
    expect_approx_error("hekv-approx 1\nend\nexp -1 1 1 1\n", "after 'end'");
    /* paths that are not approximation files */
    cr_assert_eq(hekv_llama_chebset_load("/nonexistent.approx", &s, &err), HEKV_ERR_IO);
    cr_assert_eq(hekv_llama_chebset_load(dir, &s, &err), HEKV_ERR_IO);
    cr_assert(strstr(err.msg, "directory") != NULL, "%s", err.msg);
    cr_assert_eq(hekv_llama_chebset_load("/dev/zero", &s, &err), HEKV_ERR_IO);
    cr_assert_null(s);
    tm_rmtree(dir);
}

/* The hook evaluates a series as the encrypted circuit does: outside the interval the
 * polynomial is not held at its end value (issue #13: a reciprocal designed on [1, 69.7]
 * is wildly wrong at 89.5, and the simulation must show it). Clamping is an option; both
 * count the inputs outside, per function and layer, with the worst excursion. */
Test(models, approx_sim_evaluates_like_the_circuit_and_counts_excursions) {
    hekv_err err = {0};
    hekv_nonlin *nl = NULL;
    cr_assert_eq(hekv_llama_nonlin_design(HEKV_NONLIN_RECIP, 1, 69.7, NULL, &nl, &err), HEKV_OK,
                 "%s", err.msg);
    hekv_llama_chebset *s = NULL;
    cr_assert_eq(hekv_llama_chebset_new(&s, &err), HEKV_OK);
    cr_assert_eq(hekv_llama_chebset_set_nonlin(s, nl, &err), HEKV_OK, "%s", err.msg);
    const hekv_cheby *p = hekv_llama_chebset_get(s, HEKV_NONLIN_RECIP);
    cr_assert_not_null(p);
    const int L = 4;
    hekv_llama_sim *sim = NULL, *clamped = NULL;
    cr_assert_eq(hekv_llama_sim_new(s, L, 0, &sim, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_llama_sim_new(s, L, HEKV_LLAMA_SIM_CLAMP, &clamped, &err), HEKV_OK);
    const hekv_llama_approx *h = hekv_llama_sim_hook(sim), *hc = hekv_llama_sim_hook(clamped);
    cr_assert_null(h->exp);
    /* inside: the circuit's value; outside: the series itself, far from 1/x */
    cr_assert_float_eq(h->recip(10.0, 0, h->ctx), hekv_ckks_nonlin_eval_plain(nl, 10.0), 1e-12);
    const double out = h->recip(89.5, 2, h->ctx);
    cr_assert(out == hekv_ckks_cheby_eval(p, 89.5), "%.17g", out);
    cr_log_info("1/x designed on [1, 69.7], at 89.5: the circuit gives %.3g (1/89.5 = %.3g)",
                out, 1 / 89.5);
    cr_assert(fabs(out - 1 / 89.5) > 1.0, "the series at 89.5 was held near 1/x: %g", out);
    /* clamped: the end value */
    cr_assert(hc->recip(89.5, 2, hc->ctx) == hekv_ckks_cheby_eval(p, 69.7));
    cr_assert(hc->recip(0.5, 2, hc->ctx) == hekv_ckks_cheby_eval(p, 1.0));
    /* the counts: layer 2 saw 89.5 above (both sims), 0.5 below (clamped sim) */
    hekv_llama_excursion e;
    cr_assert_eq(hekv_llama_sim_excursion(sim, HEKV_NONLIN_RECIP, 2, &e), 1);
    cr_assert(e.above == 1 && e.below == 0 && e.nan == 0);
    cr_assert(e.max_x == 89.5 && e.min_x == 1.0);
    cr_assert_float_eq(e.worst_u, (2 * 89.5 - 70.7) / 68.7, 1e-12);
    cr_assert_eq(hekv_llama_sim_excursion(sim, HEKV_NONLIN_RECIP, 0, &e), 0, "inside: not counted");
    cr_assert_eq(hekv_llama_sim_excursion(clamped, HEKV_NONLIN_RECIP, 2, &e), 2);
    cr_assert(e.min_x == 0.5 && e.max_x == 89.5);
    cr_assert_float_eq(e.worst_u, (2 * 89.5 - 70.7) / 68.7, 1e-12);
    /* more inputs: the worst one stays, NaN counts apart, the final RMSNorm row is L, a
     * layer out of range lands there too */
    h->recip(75.0, 2, h->ctx);
    h->recip(-3.0, 2, h->ctx);
    cr_assert(isnan(h->recip(NAN, 2, h->ctx)));
    h->recip(100.0, L, h->ctx);
    h->recip(200.0, 99, h->ctx);
    cr_assert_eq(hekv_llama_sim_excursion(sim, HEKV_NONLIN_RECIP, 2, &e), 4);
    cr_assert(e.above == 2 && e.below == 1 && e.nan == 1 && e.max_x == 89.5 && e.min_x == -3);
    cr_assert_float_eq(e.worst_u, (2 * 89.5 - 70.7) / 68.7, 1e-12);
    cr_assert_eq(hekv_llama_sim_excursion(sim, HEKV_NONLIN_RECIP, L, &e), 2);
    cr_assert(e.max_x == 200.0);
    cr_assert_eq(hekv_llama_sim_excursion(sim, HEKV_NONLIN_EXP, 2, &e), 0, "exp has no series");
    cr_assert_eq(hekv_llama_sim_excursion(sim, HEKV_NONLIN_RECIP, L + 1, &e), 0);
    cr_assert_eq(hekv_llama_sim_outside(sim), 6);
    cr_assert_eq(hekv_llama_sim_layers(sim), L);
    hekv_llama_sim_reset(sim);
    cr_assert_eq(hekv_llama_sim_outside(sim), 0);
    /* bad arguments */
    hekv_llama_sim *bad = (hekv_llama_sim *)1;
    cr_assert_eq(hekv_llama_sim_new(s, 0, 0, &bad, &err), HEKV_ERR_ARG);
    cr_assert_null(bad);
    cr_assert_eq(hekv_llama_sim_new(s, 2, 4u, &bad, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_llama_sim_new(NULL, 2, 0, &bad, &err), HEKV_ERR_ARG);
    hekv_llama_sim_free(NULL);
    hekv_llama_sim_free(sim);
    hekv_llama_sim_free(clamped);
    hekv_llama_chebset_free(s);
    hekv_ckks_nonlin_free(nl);
}

/* A hook that records the layer of every call (exact values, so the forward is the exact
 * one): [function][layer] counts. */
typedef struct {
    int L;
    long calls[4][64];
} layer_log;

static double log_exp(double x, int l, void *c) {
    ((layer_log *)c)->calls[0][l]++;
    return exp(x);
}
static double log_recip(double x, int l, void *c) {
    ((layer_log *)c)->calls[1][l]++;
    return 1.0 / x;
}
static double log_invsqrt(double x, int l, void *c) {
    ((layer_log *)c)->calls[2][l]++;
    return 1.0 / sqrt(x);
}
static double log_silu(double x, int l, void *c) {
    ((layer_log *)c)->calls[3][l]++;
    return x / (1.0 + exp(-x));
}

/* The reference forward tells each call its layer: per token at position pos, layer l
 * (< L) calls exp NH (pos + 1) times, recip NH times, invsqrt twice and silu H times;
 * layer L is the final RMSNorm (one invsqrt); both precisions. */
Test(models, forward_passes_the_layer_to_the_hook) {
    char dir[64];
    tm_tmpdir(dir, sizeof dir);
    const int32_t hdr[7] = {16, 24, 3, 4, 2, 37, 8};
    hekv_llama_model *m = tm_synth_load(dir, hdr, 71);
    const int L = 3, NH = 4, H = 24, n = 5;
    const hekv_llama_precision precs[2] = {HEKV_LLAMA_F64, HEKV_LLAMA_F32};
    for (int pi = 0; pi < 2; pi++) {
        layer_log lg;
        memset(&lg, 0, sizeof lg);
        lg.L = L;
        const hekv_llama_approx hook = {log_exp, log_recip, log_invsqrt, log_silu, &lg, NULL};
        hekv_llama_state *st;
        hekv_err err = {0};
        cr_assert_eq(hekv_llama_state_new(m, precs[pi], &st, &err), HEKV_OK);
        for (int pos = 0; pos < n; pos++)
            cr_assert_eq(hekv_llama_forward(st, (pos * 7) % 37, pos, &hook, &err), HEKV_OK);
        hekv_llama_state_free(st);
        const long exps = (long)NH * n * (n + 1) / 2;
        for (int l = 0; l < L; l++) {
            cr_assert_eq(lg.calls[0][l], exps, "exp at layer %d: %ld", l, lg.calls[0][l]);
            cr_assert_eq(lg.calls[1][l], (long)NH * n, "recip at layer %d", l);
            cr_assert_eq(lg.calls[2][l], 2L * n, "invsqrt at layer %d", l);
            cr_assert_eq(lg.calls[3][l], (long)H * n, "silu at layer %d", l);
        }
        cr_assert_eq(lg.calls[2][L], (long)n, "the final RMSNorm is layer L");
        cr_assert(lg.calls[0][L] == 0 && lg.calls[1][L] == 0 && lg.calls[3][L] == 0);
        for (int l = L + 1; l < 64; l++)
            for (int f = 0; f < 4; f++) cr_assert_eq(lg.calls[f][l], 0);
    }
    hekv_llama_model_free(m);
    tm_rmtree(dir);
}

/* FHE simulation of stories260K with exp replaced by an 80-term series on [-40, 0], read
 * from a file written by hand. Softmax's exp sees s - max(s) down to about -270 there:
 * clamped, the series is exp(-40) ~ 4e-18 below -40, as good as the true value next to the
 * max's weight of 1, and the logits track the exact ones; as the circuit computes it, it
 * diverges, and the excursion counts say where. */
Test(models, approx_cheb_exp_file_tracks_exact_when_clamped) {
    hekv_llama_model *m = tm_load_stories();
    const hekv_llama_config *cfg = hekv_llama_model_config(m);
    const int n = 32, V = 512;
    int toks[32];
    test_rng r = test_rng_new(51);
    for (int i = 0; i < n; i++) toks[i] = (int)test_below(&r, V);
    const double lo = -40, hi = 0;
    hekv_err err = {0};
    hekv_cheby *fit = NULL;
    cr_assert_eq(hekv_ckks_cheby_interp(f_expl, NULL, lo, hi, 79, &fit, &err), HEKV_OK);
    const double *c = hekv_ckks_cheby_coeffs(fit);
    const int nc = hekv_ckks_cheby_degree(fit) + 1;
    char dir[64], path[128];
    tm_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/exp.approx", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "hekv-approx 1\n# exp on [%g, %g], %d Chebyshev coefficients\nexp %g %g %d\n", lo,
            hi, nc, lo, hi, nc);
    for (int k = 0; k < nc; k++) fprintf(f, "%.17g%s", c[k], k % 5 == 4 ? "\n" : " ");
    fprintf(f, "\nend\n");
    fclose(f);
    hekv_ckks_cheby_free(fit);
    hekv_llama_chebset *s;
    cr_assert_eq(hekv_llama_chebset_load(path, &s, &err), HEKV_OK, "%s", err.msg);
    hekv_llama_sim *sims[2];
    cr_assert_eq(hekv_llama_sim_new(s, cfg->n_layers, 0, &sims[0], &err), HEKV_OK);
    cr_assert_eq(hekv_llama_sim_new(s, cfg->n_layers, HEKV_LLAMA_SIM_CLAMP, &sims[1], &err),
                 HEKV_OK);

    double *outs[3];
    for (int h = 0; h < 3; h++) {
        outs[h] = malloc((size_t)n * V * sizeof(double));
        hekv_llama_state *st;
        cr_assert_eq(hekv_llama_state_new(m, HEKV_LLAMA_F64, &st, &err), HEKV_OK);
        const hekv_llama_approx *hook = h ? hekv_llama_sim_hook(sims[h - 1]) : NULL;
        for (int t = 0; t < n; t++) {
            cr_assert_eq(hekv_llama_forward(st, toks[t], t, hook, &err), HEKV_OK);
            memcpy(outs[h] + (size_t)t * V, hekv_llama_state_logits(st), V * sizeof(double));
        }
        hekv_llama_state_free(st);
    }
    double d = tm_max_abs_diff(outs[0], outs[2], (size_t)n * V);
    cr_log_info("Chebyshev exp (80 terms on [-40, 0], clamped) vs exact: logits max|diff| %.3g",
                d);
    cr_assert(d <= TOL_CHEB_EXP_LOGITS, "max|diff| %.3g > %.0e", d, TOL_CHEB_EXP_LOGITS);
    cr_assert(d > 0, "the hook was not used");
    const double dd = tm_max_abs_diff(outs[0], outs[1], (size_t)n * V);
    cr_log_info("the same series as the circuit computes it (no clamp): max|diff| %.3g", dd);
    cr_assert(!(dd <= 1e-3), "the unclamped series should diverge below -40: %.3g", dd);
    /* both saw exp arguments below -40; nothing above 0; never at the final norm */
    for (int k = 0; k < 2; k++) {
        int64_t below = 0;
        double worst = 0;
        for (int l = 0; l < cfg->n_layers; l++) {
            hekv_llama_excursion e;
            hekv_llama_sim_excursion(sims[k], HEKV_NONLIN_EXP, l, &e);
            cr_assert_eq(e.above, 0, "s - max(s) > 0 at layer %d", l);
            below += e.below;
            worst = fmax(worst, e.worst_u);
        }
        cr_assert_eq(hekv_llama_sim_excursion(sims[k], HEKV_NONLIN_EXP, cfg->n_layers, NULL), 0);
        cr_log_info("%s: %lld exp inputs below -40, worst |u| %.3g", k ? "clamped" : "circuit",
                    (long long)below, worst);
        cr_assert_gt(below, 0);
        cr_assert_gt(worst, 1.0);
    }
    for (int h = 0; h < 3; h++) free(outs[h]);
    hekv_llama_sim_free(sims[0]);
    hekv_llama_sim_free(sims[1]);
    hekv_llama_chebset_free(s);
    hekv_llama_model_free(m);
    tm_rmtree(dir);
}
