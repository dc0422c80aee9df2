/* cmd_bench_poly.c: `hekv bench poly`: the transformer nonlinearities of nonlin.c under
 * encryption. Each function is designed on its calibrated interval, run once on a full
 * ciphertext whose slots cover the interval and checked against double precision (the
 * error must stay under the bar, 2^-10 x the range of f, and within noise of the plaintext
 * circuit; nothing is timed otherwise), then timed. `--table` prints the error tables of
 * the design search instead. It deliberately holds no approximation logic: everything
 * comes from the library. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hekv/ckks_client.h"
#include "hekv/llama_approx.h"

#define POLY_BAR 0x1p-10 /* |encrypted - f| / range(f): the acceptance bar */
#define POLY_SIM 0x1p-16 /* |encrypted - plaintext circuit| / range(f): CKKS noise */

/* The rows: intervals from the PTB model's calibration (hekv calibrate, union over the
 * layers, widened; see test/ckks/test_nonlin.c for the measured ranges). */
typedef struct {
    const char *name;
    hekv_nonlin_kind kind; /* HEKV_NONLIN_COUNT: softmax */
    double lo, hi;
} poly_row;

static const poly_row rows[] = {
    {"exp", HEKV_NONLIN_EXP, -48, 0},          {"reciprocal", HEKV_NONLIN_RECIP, 1, 128},
    {"invsqrt", HEKV_NONLIN_INVSQRT, 0.0625, 16}, {"silu", HEKV_NONLIN_SILU, -8, 8},
    {"gelu", HEKV_NONLIN_GELU, -8, 8},         {"sign", HEKV_NONLIN_SIGN, -1, 1},
    {"softmax", HEKV_NONLIN_COUNT, -48, 0},
};
#define NROWS (int)(sizeof rows / sizeof rows[0])
#define SIGN_GAP (1.0 / 64)
#define SOFTMAX_N 128     /* tokens per group (the model's seq_len) */
#define SOFTMAX_DELTA 1.0 /* every group's max within 1 of the shift: sums in [e^-1, n] */

static void usage(FILE *f) {
    fprintf(f,
            "usage: hekv bench poly --params NAME [--threads T] [--reps R] [--csv] [--table]\n\n"
            "Designs and times the nonlinearities of the encrypted transformer on intervals\n"
            "from the PTB model's calibration:\n"
            "  exp [-48, 0] (softmax argument s - max s), reciprocal [1, 128] (softmax sum),\n"
            "  invsqrt [1/16, 16] (RMSNorm), silu and gelu [-8, 8], sign [-1, 1] with\n"
            "  |x| >= 1/64, softmax over groups of %d slots (scores in [-48, 0], shift 0,\n"
            "  each group's max within %g of the shift).\n"
            "Each runs on a full ciphertext at the top level; its decrypted result is first\n"
            "checked against double precision (error <= 2^-10 x range of f, and within\n"
            "2^-16 x range of the plaintext circuit). A function deeper than the set's levels\n"
            "is reported and skipped.\n\n"
            "options:\n"
            "  --params NAME  parameter set (hekv params lists them)\n"
            "  --threads T    threads over RNS limbs (default HEKV_THREADS or 1)\n"
            "  --reps R       timed runs per function, 1..100 (default 3)\n"
            "  --csv          CSV: function,interval_lo,interval_hi,degree,depth,ct_mults,\n"
            "                 max_abs_err,median_ms\n"
            "  --table        the error tables of the design search (no encryption):\n"
            "                 function,interval_lo,interval_hi,shape,degree,depth,ct_mults,\n"
            "                 max_abs_err,err_over_range,chosen\n",
            SOFTMAX_N, SOFTMAX_DELTA);
}

/* ---- error tables ------------------------------------------------------------------------ */

typedef struct {
    const poly_row *row;
    char chosen[64];
} table_ctx;

static void print_candidate(const hekv_nonlin *c, const poly_row *r, int chosen) {
    char d[64];
    hekv_ckks_nonlin_describe(c, d, sizeof d);
    printf("%s,%g,%g,%s,%d,%d,%d,%.3e,%.3e,%d\n", r->name, r->lo, r->hi, d,
           hekv_ckks_nonlin_degree(c), hekv_ckks_nonlin_depth(c), hekv_ckks_nonlin_ct_mults(c),
           hekv_ckks_nonlin_max_err(c), hekv_ckks_nonlin_max_err(c) / hekv_ckks_nonlin_range(c),
           chosen);
}

static void table_cb(const hekv_nonlin *c, void *ctx) {
    print_candidate(c, ((table_ctx *)ctx)->row, 0);
}

static int error_tables(void) {
    printf("function,interval_lo,interval_hi,shape,degree,depth,ct_mults,max_abs_err,"
           "err_over_range,chosen\n");
    for (int i = 0; i < NROWS; i++) {
        const poly_row *r = &rows[i];
        if (r->kind == HEKV_NONLIN_COUNT) continue; /* softmax = exp + reciprocal */
        hekv_nonlin_opts o = {0};
        if (r->kind == HEKV_NONLIN_SIGN) o.gap = SIGN_GAP;
        table_ctx t = {r, ""};
        hekv_nonlin *nl = NULL;
        hekv_err err;
        if (hekv_llama_nonlin_design_table(r->kind, r->lo, r->hi, &o, table_cb, &t, &nl, &err) !=
            HEKV_OK) {
            hekv_cli_error("bench poly: %s", err.msg);
            return 1;
        }
        print_candidate(nl, r, 1);
        hekv_ckks_nonlin_free(nl);
    }
    return 0;
}

/* ---- encrypted runs ---------------------------------------------------------------------- */

typedef struct {
    hekv_ckks_params *p;
    hekv_sk *sk;
    hekv_evk *evk;
    hekv_encoder *enc;
    hekv_eval *ev;
    hekv_pt *pt;
    hekv_ct *in, *out;
    double *x, *y, *yi, *want, *sim; /* [slots] */
    size_t slots;
    int top;
    double scale;
} poly_bench;

static void pb_free(poly_bench *b) {
    hekv_ckks_ct_free(b->in), hekv_ckks_ct_free(b->out);
    hekv_ckks_pt_free(b->pt);
    hekv_ckks_eval_free(b->ev);
    hekv_ckks_encoder_free(b->enc);
    hekv_ckks_evk_free(b->evk);
    hekv_ckks_sk_free(b->sk);
    hekv_ckks_params_free(b->p);
    free(b->x), free(b->y), free(b->yi), free(b->want), free(b->sim);
}

static int pb_new(poly_bench *b, const char *name, int threads, hekv_err *err) {
    memset(b, 0, sizeof *b);
    hekv_ckks_params_lit lit;
    if (hekv_ckks_params_lit_named(name, &lit, err) != HEKV_OK) return 0;
    const hekv_ckks_opts opts = {.isa = HEKV_ISA_AUTO, .threads = threads};
    if (hekv_ckks_params_new(&lit, &opts, &b->p, err) != HEKV_OK) return 0;
    b->top = hekv_ckks_params_max_level(b->p);
    b->slots = hekv_ckks_params_max_slots(b->p);
    b->scale = hekv_ckks_params_default_scale(b->p);
    long rots[32];
    size_t nrot = b->slots >= SOFTMAX_N
                      ? hekv_ckks_softmax_rotations((long)(b->slots / SOFTMAX_N), SOFTMAX_N, rots,
                                                    32)
                      : 0;
    if (hekv_ckks_sk_new(b->p, &b->sk, err) || hekv_ckks_evk_new(b->p, &b->evk, err) ||
        hekv_ckks_evk_gen_relin(b->evk, b->sk, -1, err) ||
        hekv_ckks_evk_gen_rotations(b->evk, b->sk, rots, nrot, 0, -1, err) ||
        hekv_ckks_encoder_new(b->p, &b->enc, err) ||
        hekv_ckks_eval_new(b->p, b->evk, &b->ev, err) || hekv_ckks_pt_new(b->p, &b->pt, err) ||
        hekv_ckks_ct_new(b->p, &b->in, err) || hekv_ckks_ct_new(b->p, &b->out, err))
        return 0;
    double **v[] = {&b->x, &b->y, &b->yi, &b->want, &b->sim};
    for (int i = 0; i < 5; i++)
        if (!(*v[i] = malloc(b->slots * sizeof(double)))) {
            hekv_err_set(err, HEKV_ERR_NOMEM, "bench poly: out of memory");
            return 0;
        }
    return 1;
}

/* Deterministic inputs covering [lo, hi] (half a uniform sweep, half pseudo-random); for
 * sign |x| >= gap; for softmax each group's max within SOFTMAX_DELTA of 0. Fills want
 * (exact) and sim (plaintext circuit, NULL design: softmax from exp and 1/x circuits). */
static void pb_inputs(poly_bench *b, const poly_row *r, const hekv_nonlin *nl,
                      const hekv_softmax *sm) {
    uint64_t s = 0x9e3779b97f4a7c15ULL;
    const size_t n = b->slots;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (double)(s >> 11) * 0x1p-53;
        double t = i < n / 2 ? (double)i / (double)(n / 2 - 1) : u;
        double v = r->lo + (r->hi - r->lo) * t;
        if (r->kind == HEKV_NONLIN_SIGN && fabs(v) < SIGN_GAP) v = v < 0 ? -SIGN_GAP : SIGN_GAP;
        b->x[i] = v;
    }
    if (!sm) {
        for (size_t i = 0; i < n; i++) {
            b->want[i] = hekv_ckks_nonlin_exact(r->kind, b->x[i]);
            b->sim[i] = hekv_ckks_nonlin_eval_plain(nl, b->x[i]);
        }
        return;
    }
    /* softmax groups: slot g + stride j, j < SOFTMAX_N */
    const size_t stride = n / SOFTMAX_N;
    const hekv_nonlin *e = hekv_ckks_softmax_exp(sm), *rc = hekv_ckks_softmax_recip(sm);
    for (size_t g = 0; g < stride; g++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t jm = (size_t)(s >> 33) % SOFTMAX_N;
        b->x[g + stride * jm] = -SOFTMAX_DELTA * (double)(s >> 11 & 0xfffff) * 0x1p-20;
        double se = 0, ss = 0;
        for (size_t j = 0; j < SOFTMAX_N; j++) {
            se += exp(b->x[g + stride * j]);
            ss += hekv_ckks_nonlin_eval_plain(e, b->x[g + stride * j]);
        }
        for (size_t j = 0; j < SOFTMAX_N; j++) {
            const double xv = b->x[g + stride * j];
            b->want[g + stride * j] = exp(xv) / se;
            b->sim[g + stride * j] =
                hekv_ckks_nonlin_eval_plain(e, xv) * hekv_ckks_nonlin_eval_plain(rc, ss);
        }
    }
}

static hekv_status pb_run(poly_bench *b, const hekv_nonlin *nl, const hekv_softmax *sm) {
    hekv_err err;
    hekv_status st = hekv_ckks_ct_copy(b->out, b->in, &err);
    if (st != HEKV_OK) return st;
    if (sm)
        return hekv_ckks_eval_softmax(b->ev, b->out, b->out, sm, (long)(b->slots / SOFTMAX_N),
                                      SOFTMAX_N, 0);
    return hekv_ckks_eval_nonlin(b->ev, b->out, b->out, nl, 0);
}

int hekv_cli_bench_poly(int argc, char **argv) {
    const char *name = NULL;
    long threads = 0, reps = 3;
    int csv = 0, table = 0;
    const hekv_cli_opt opts[] = {
        HEKV_CLI_OPT_FLAG("--csv", &csv),
        HEKV_CLI_OPT_FLAG("--table", &table),
        HEKV_CLI_OPT_STR("--params", &name),
        HEKV_CLI_OPT_INT("--threads", &threads, 1, 256),
        HEKV_CLI_OPT_INT("--reps", &reps, 1, 100),
    };
    int parsed = hekv_cli_opts_parse("bench poly", argc, argv, opts,
                                     sizeof opts / sizeof opts[0], usage);
    if (parsed != HEKV_CLI_CONTINUE) return parsed;
    if (table) return error_tables();
    if (!name) {
        hekv_cli_error("bench poly: --params NAME is required (hekv params lists the sets)");
        usage(stderr);
        return 2;
    }
    const int T = hekv_cli_threads(threads);
    poly_bench b;
    hekv_err err = {0};
    double t0 = hekv_cli_now_us();
    if (!pb_new(&b, name, T, &err)) {
        hekv_cli_error("bench poly: %s", err.msg[0] ? err.msg : "setup failed");
        pb_free(&b);
        return 1;
    }
    const double setup_s = (hekv_cli_now_us() - t0) * 1e-6;
    if (csv)
        printf("function,interval_lo,interval_hi,degree,depth,ct_mults,max_abs_err,median_ms\n");
    else
        printf("# %s: N = 2^%d, %d levels, %zu slots, %d thread%s; keys in %.1f s; bar: error "
               "<= 2^-10 x range of f\n%-10s %8s %8s %-22s %6s %5s %8s %10s %9s %9s %10s\n",
               name, hekv_ckks_params_logn(b.p), b.top, b.slots, T, T > 1 ? "s" : "", setup_s,
               "function", "lo", "hi", "design", "degree", "depth", "ct_mults", "max_abs_err",
               "err/range", "sim/range", "median_ms");
    fflush(stdout);
    double *ms = malloc(sizeof(double) * (size_t)reps);
    int rc = ms ? 0 : 1;
    for (int i = 0; i < NROWS && !rc; i++) {
        const poly_row *r = &rows[i];
        hekv_nonlin *nl = NULL;
        hekv_softmax *sm = NULL;
        hekv_nonlin_opts o = {0};
        if (r->kind == HEKV_NONLIN_SIGN) o.gap = SIGN_GAP;
        hekv_status st =
            r->kind == HEKV_NONLIN_COUNT
                ? hekv_llama_softmax_design(r->lo, r->hi, 0, exp(-SOFTMAX_DELTA), SOFTMAX_N, &o, &sm,
                                        &err)
                : hekv_llama_nonlin_design(r->kind, r->lo, r->hi, &o, &nl, &err);
        if (st != HEKV_OK) {
            hekv_cli_error("bench poly: %s: %s", r->name, err.msg);
            rc = 1;
            break;
        }
        const hekv_nonlin *shown = sm ? hekv_ckks_softmax_exp(sm) : nl;
        const int depth = sm ? hekv_ckks_softmax_depth(sm) : hekv_ckks_nonlin_depth(nl);
        const int mults = sm ? hekv_ckks_softmax_ct_mults(sm) : hekv_ckks_nonlin_ct_mults(nl);
        const int degree = hekv_ckks_nonlin_degree(shown);
        const double range = sm ? 1.0 : hekv_ckks_nonlin_range(nl);
        char desc[96];
        hekv_ckks_nonlin_describe(shown, desc, sizeof desc);
        if (sm) {
            char d2[48];
            hekv_ckks_nonlin_describe(hekv_ckks_softmax_recip(sm), d2, sizeof d2);
            snprintf(desc + strlen(desc), sizeof desc - strlen(desc), ",%s", d2);
        }
        if (depth > b.top || (sm && b.slots < SOFTMAX_N)) {
            hekv_cli_error("bench poly: %s needs %d levels, %s has %d: skipped", r->name, depth,
                           name, b.top);
            hekv_ckks_nonlin_free(nl);
            hekv_ckks_softmax_free(sm);
            continue;
        }
        pb_inputs(&b, r, nl, sm);
        /* check first */
        if ((st = hekv_ckks_encode(b.enc, b.pt, b.x, NULL, b.slots, b.top, b.scale, &err)) ||
            (st = hekv_ckks_encrypt_sk(b.sk, b.in, b.pt, &err)) || (st = pb_run(&b, nl, sm)) ||
            (st = hekv_ckks_decrypt(b.sk, b.pt, b.out, &err)) ||
            (st = hekv_ckks_decode(b.enc, b.y, b.yi, b.pt, &err))) {
            hekv_cli_error("bench poly: %s failed: %s%s", r->name, err.msg,
                           hekv_ckks_eval_last_error(b.ev));
            rc = 1;
        }
        double ef = 0, es = 0;
        for (size_t k = 0; k < b.slots && !rc; k++) {
            ef = fmax(ef, fabs(b.y[k] - b.want[k]));
            es = fmax(es, fabs(b.y[k] - b.sim[k]));
        }
        if (!rc && (hekv_ckks_ct_level(b.out) != b.top - depth || !(ef <= POLY_BAR * range) ||
                    !(es <= POLY_SIM * range))) {
            hekv_cli_error("bench poly: %s check failed: level %d (expected %d), error %g x "
                           "range (bar %g), vs plaintext circuit %g x range (bound %g)",
                           r->name, hekv_ckks_ct_level(b.out), b.top - depth, ef / range, POLY_BAR,
                           es / range, POLY_SIM);
            rc = 1;
        }
        for (int k = 0; k < reps && !rc; k++) {
            double t1 = hekv_cli_now_us();
            if (pb_run(&b, nl, sm) != HEKV_OK) {
                hekv_cli_error("bench poly: %s: %s", r->name, hekv_ckks_eval_last_error(b.ev));
                rc = 1;
            }
            ms[k] = (hekv_cli_now_us() - t1) * 1e-3;
        }
        if (!rc) {
            double med, mn, mx;
            hekv_cli_stats(ms, (int)reps, &med, &mn, &mx);
            if (csv)
                printf("%s,%g,%g,%d,%d,%d,%.3e,%.3f\n", r->name, r->lo, r->hi, degree, depth,
                       mults, ef, med);
            else
                printf("%-10s %8g %8g %-22s %6d %5d %8d %10.3e %9.2f %9.2f %10.3f\n", r->name,
                       r->lo, r->hi, desc, degree, depth, mults, ef, log2(ef / range),
                       log2(es / range), med);
            fflush(stdout);
        }
        hekv_ckks_nonlin_free(nl);
        hekv_ckks_softmax_free(sm);
    }
    free(ms);
    pb_free(&b);
    return rc;
}
