/* cmd_bench_ckks.c: `hekv bench ckks`: the CKKS operations of a parameter set at its top
 * level, on the public API only. Every operation is first run once and checked against
 * the same computation on doubles; then all are timed round robin. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hekv/ckks.h"
#include "hekv/ckks_client.h"

#define CKKS_HOIST_K 8   /* rotate_hoisted_extra: (hoisted K - hoisted 1) / (K - 1) */
#define CKKS_TOL 1e-4    /* largest |decoded - expected| the correctness check accepts; the
                            expected error at scale 2^40 is ~1e-8, a wrong result is O(1) */

enum {
    C_ENCODE, C_ENCRYPT, C_DECRYPT, C_DECODE, C_ADD, C_MULT_RELIN, C_RESCALE, C_ROTATE,
    C_HOIST_EXTRA, C_KEYSWITCH, C_COUNT
};
static const char *ckks_op_names[C_COUNT] = {"encode", "encrypt", "decrypt", "decode", "add",
                                             "mult_relin", "rescale", "rotate",
                                             "rotate_hoisted_extra", "keyswitch"};

static void bench_ckks_usage(FILE *f) {
    fprintf(f,
            "usage: hekv bench ckks --params NAME [--threads T] [--reps R] [--ops LIST]\n"
            "                       [--csv]\n\n"
            "Times the CKKS operations at the top level of a parameter set (all limbs, full\n"
            "slots), each on one ciphertext:\n"
            "  encode, encrypt (public key), decrypt (to a plaintext, no decode), decode\n"
            "  (of that plaintext), add,\n"
            "  mult_relin (product + relinearisation, no rescale), rescale, rotate (by 1),\n"
            "  rotate_hoisted_extra ((%d hoisted rotations - 1 hoisted rotation) / %d, i.e.\n"
            "                       the cost of each rotation after the shared decomposition;\n"
            "                       the median from the medians of the two sets of calls,\n"
            "                       min and max the range the samples allow, nan where the\n"
            "                       difference is below the spread),\n"
            "  keyswitch (hekv_ckks_eval_keyswitch with a top-level switching key: ModUp,\n"
            "            key product, ModDown of c1, c0 added by the last pass).\n"
            "Every operation is first checked: its result is decrypted and compared with the\n"
            "same computation on doubles (max error %g); nothing is timed if one is wrong.\n\n"
            "options:\n"
            "  --params NAME  parameter set (hekv params lists them; toy-* and bench-* are\n"
            "                 insecure and only for tests and benchmarks)\n"
            "  --threads T    threads over RNS limbs (default HEKV_THREADS or 1)\n"
            "  --reps R       timed calls per operation, 1..1000 (default 5), in rounds\n"
            "                 that time every operation once (a slow spell of a shared\n"
            "                 host then reaches every operation alike)\n"
            "  --ops LIST     time only these operations (comma-separated names from the\n"
            "                 list above; all are still checked)\n"
            "  --csv          CSV: op,params,limbs,threads,median_ms,min_ms,max_ms\n",
            CKKS_HOIST_K, CKKS_HOIST_K - 1, CKKS_TOL);
}

typedef struct {
    hekv_ckks_params *p;
    hekv_sk *sk;
    hekv_pk *pk;
    hekv_evk *evk;
    const hekv_swk *swk;                  /* keyswitch: s -> s at the top level (in evk) */
    hekv_encoder *enc;
    hekv_eval *ev;
    hekv_pt *pt, *dpt;
    hekv_ct *a, *b, *out, *mul, *res, *ks, *rot[CKKS_HOIST_K];
    double *xr, *xi, *yr, *yi, *zr, *zi;  /* [slots] inputs and a decoded result */
    double check_err[C_COUNT];            /* max error of each op's correctness check */
    size_t slots;
    int top;
} ckks_bench;

/* The tag of the keyswitch row's switching key inside the bench's key set. */
#define CKKS_BENCH_SWK_TAG 0x62656e63u

static void ckks_bench_free(ckks_bench *c) {
    for (int i = 0; i < CKKS_HOIST_K; i++) hekv_ckks_ct_free(c->rot[i]);
    hekv_ckks_ct_free(c->a), hekv_ckks_ct_free(c->b), hekv_ckks_ct_free(c->out);
    hekv_ckks_ct_free(c->mul), hekv_ckks_ct_free(c->res), hekv_ckks_ct_free(c->ks);
    hekv_ckks_pt_free(c->pt), hekv_ckks_pt_free(c->dpt);
    hekv_ckks_eval_free(c->ev);
    hekv_ckks_encoder_free(c->enc);
    hekv_ckks_evk_free(c->evk);
    hekv_ckks_pk_free(c->pk);
    hekv_ckks_sk_free(c->sk);
    hekv_ckks_params_free(c->p);
    free(c->xr), free(c->xi), free(c->yr), free(c->yi), free(c->zr), free(c->zi);
}

/* Builds the set, keys (relinearisation, rotations 1..K, a switching key) and two
 * encrypted inputs. */
static int ckks_bench_new(ckks_bench *c, const char *name, int threads, hekv_err *err) {
    memset(c, 0, sizeof *c);
    hekv_ckks_params_lit lit;
    if (hekv_ckks_params_lit_named(name, &lit, err) != HEKV_OK) return 0;
    const hekv_ckks_opts opts = {.isa = HEKV_ISA_AUTO, .threads = threads};
    if (hekv_ckks_params_new(&lit, &opts, &c->p, err) != HEKV_OK) return 0;
    c->top = hekv_ckks_params_max_level(c->p);
    c->slots = hekv_ckks_params_max_slots(c->p);
    long rots[CKKS_HOIST_K];
    for (int i = 0; i < CKKS_HOIST_K; i++) rots[i] = i + 1;
    hekv_swk *swk = NULL;
    if (hekv_ckks_sk_new(c->p, &c->sk, err) || hekv_ckks_pk_new(c->p, c->sk, &c->pk, err) ||
        hekv_ckks_evk_new(c->p, &c->evk, err) ||
        hekv_ckks_evk_gen_relin(c->evk, c->sk, -1, err) ||
        hekv_ckks_evk_gen_rotations(c->evk, c->sk, rots, CKKS_HOIST_K, 0, -1, err) ||
        hekv_ckks_swk_new(c->sk, c->sk, -1, 0, &swk, err) ||
        hekv_ckks_evk_add_swk(c->evk, CKKS_BENCH_SWK_TAG, swk, err) ||
        hekv_ckks_encoder_new(c->p, &c->enc, err) ||
        hekv_ckks_eval_new(c->p, c->evk, &c->ev, err) || hekv_ckks_pt_new(c->p, &c->pt, err) ||
        hekv_ckks_pt_new(c->p, &c->dpt, err) || hekv_ckks_ct_new(c->p, &c->a, err) ||
        hekv_ckks_ct_new(c->p, &c->b, err) || hekv_ckks_ct_new(c->p, &c->out, err) ||
        hekv_ckks_ct_new(c->p, &c->mul, err) || hekv_ckks_ct_new(c->p, &c->res, err) ||
        hekv_ckks_ct_new(c->p, &c->ks, err))
        return 0;
    c->swk = hekv_ckks_evk_swk(c->evk, CKKS_BENCH_SWK_TAG);
    for (int i = 0; i < CKKS_HOIST_K; i++)
        if (hekv_ckks_ct_new(c->p, &c->rot[i], err)) return 0;
    double **v[] = {&c->xr, &c->xi, &c->yr, &c->yi, &c->zr, &c->zi};
    for (int i = 0; i < 6; i++)
        if (!(*v[i] = malloc(c->slots * sizeof(double)))) {
            hekv_err_set(err, HEKV_ERR_NOMEM, "bench ckks: out of memory");
            return 0;
        }
    uint64_t x = 0x5eed;
    for (size_t i = 0; i < c->slots; i++)
        for (int k = 0; k < 4; k++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            (*v[k])[i] = (double)(x >> 11) * 0x1p-52 - 1.0; /* [-1, 1) */
        }
    double scale = hekv_ckks_params_default_scale(c->p);
    if (hekv_ckks_encode(c->enc, c->pt, c->yr, c->yi, c->slots, c->top, scale, err) ||
        hekv_ckks_encrypt_pk(c->pk, c->b, c->pt, err) ||
        hekv_ckks_encode(c->enc, c->pt, c->xr, c->xi, c->slots, c->top, scale, err) ||
        hekv_ckks_encrypt_pk(c->pk, c->a, c->pt, err))
        return 0;
    return 1;
}

/* One call of op (hoisted rotations: `nrot` of them). Outputs never alias inputs, so every
 * call sees the same inputs. */
static hekv_status ckks_run(ckks_bench *c, int op, int nrot, hekv_err *err) {
    double scale = hekv_ckks_params_default_scale(c->p);
    switch (op) {
    case C_ENCODE:
        return hekv_ckks_encode(c->enc, c->pt, c->xr, c->xi, c->slots, c->top, scale, err);
    case C_ENCRYPT: return hekv_ckks_encrypt_pk(c->pk, c->out, c->pt, err);
    case C_DECRYPT: return hekv_ckks_decrypt(c->sk, c->dpt, c->a, err);
    case C_DECODE: return hekv_ckks_decode(c->enc, c->zr, c->zi, c->dpt, err);
    case C_ADD: return hekv_ckks_eval_add(c->ev, c->out, c->a, c->b);
    case C_MULT_RELIN: return hekv_ckks_eval_mul(c->ev, c->mul, c->a, c->b);
    case C_RESCALE: return hekv_ckks_eval_rescale(c->ev, c->res, c->mul);
    case C_ROTATE: return hekv_ckks_eval_rotate(c->ev, c->out, c->a, 1);
    case C_HOIST_EXTRA: {
        long ks[CKKS_HOIST_K];
        for (int i = 0; i < CKKS_HOIST_K; i++) ks[i] = i + 1;
        return hekv_ckks_eval_rotate_hoisted(c->ev, c->rot, c->a, ks, (size_t)nrot);
    }
    case C_KEYSWITCH: return hekv_ckks_eval_keyswitch(c->ev, c->ks, c->a, c->swk);
    }
    return HEKV_ERR_ARG;
}

/* Decrypts and decodes ct into zr/zi; the largest error against (er[i + k], ei[i + k])
 * (indices mod slots; er*fr - ei*fi etc. when f is given: the product x*y). */
static int ckks_check(ckks_bench *c, const hekv_ct *ct, long k, int product, double *maxerr,
                      hekv_err *err) {
    if (hekv_ckks_decrypt(c->sk, c->dpt, ct, err) ||
        hekv_ckks_decode(c->enc, c->zr, c->zi, c->dpt, err))
        return 0;
    double m = 0;
    for (size_t i = 0; i < c->slots; i++) {
        size_t j = (i + (size_t)k) % c->slots;
        double er = c->xr[j], ei = c->xi[j];
        if (product == 1) {
            er = c->xr[j] * c->yr[j] - c->xi[j] * c->yi[j];
            ei = c->xr[j] * c->yi[j] + c->xi[j] * c->yr[j];
        } else if (product == 2) {
            er = c->xr[j] + c->yr[j];
            ei = c->xi[j] + c->yi[j];
        }
        double d = fmax(fabs(c->zr[i] - er), fabs(c->zi[i] - ei));
        if (!(d <= m)) m = d; /* NaN propagates */
    }
    *maxerr = m;
    return 1;
}

/* Runs every operation once and compares its decrypted result with plain arithmetic. */
static int ckks_verify(ckks_bench *c, hekv_err *err) {
    for (int op = 0; op < C_COUNT; op++) {
        hekv_status s = ckks_run(c, op, CKKS_HOIST_K, err);
        if (s != HEKV_OK) {
            hekv_cli_error("bench ckks: %s failed: %s", ckks_op_names[op],
                           op <= C_DECODE ? err->msg : hekv_ckks_eval_last_error(c->ev));
            return 0;
        }
        double e = 0, worst = 0;
        int ok = 1;
        switch (op) {
        case C_ENCODE: /* decode the encoding directly */
            ok = !hekv_ckks_decode(c->enc, c->zr, c->zi, c->pt, err);
            for (size_t i = 0; ok && i < c->slots; i++) {
                double d = fmax(fabs(c->zr[i] - c->xr[i]), fabs(c->zi[i] - c->xi[i]));
                if (!(d <= worst)) worst = d;
            }
            break;
        case C_ENCRYPT: ok = ckks_check(c, c->out, 0, 0, &worst, err); break;
        case C_DECRYPT:
        case C_DECODE: /* the decode call's output (decrypt: decoded here) */
            if (op == C_DECRYPT) ok = !hekv_ckks_decode(c->enc, c->zr, c->zi, c->dpt, err);
            for (size_t i = 0; ok && i < c->slots; i++) {
                double d = fmax(fabs(c->zr[i] - c->xr[i]), fabs(c->zi[i] - c->xi[i]));
                if (!(d <= worst)) worst = d;
            }
            break;
        case C_ADD: ok = ckks_check(c, c->out, 0, 2, &worst, err); break;
        case C_MULT_RELIN: ok = ckks_check(c, c->mul, 0, 1, &worst, err); break;
        case C_RESCALE: ok = ckks_check(c, c->res, 0, 1, &worst, err); break;
        case C_ROTATE: ok = ckks_check(c, c->out, 1, 0, &worst, err); break;
        case C_HOIST_EXTRA:
            for (int i = 0; ok && i < CKKS_HOIST_K; i++) {
                ok = ckks_check(c, c->rot[i], i + 1, 0, &e, err);
                if (!(e <= worst)) worst = e;
            }
            break;
        case C_KEYSWITCH: ok = ckks_check(c, c->ks, 0, 0, &worst, err); break;
        }
        if (!ok) {
            hekv_cli_error("bench ckks: checking %s failed: %s", ckks_op_names[op], err->msg);
            return 0;
        }
        c->check_err[op] = worst;
        if (!(worst <= CKKS_TOL)) {
            hekv_cli_error("bench ckks: %s gives a wrong result (max error %.3g > %g against "
                           "plain arithmetic); not timing it",
                           ckks_op_names[op], worst, CKKS_TOL);
            return 0;
        }
    }
    return 1;
}

/* One timed call of op into *ms (milliseconds). rotate_hoisted_extra also times one hoisted
 * rotation into *base_ms (back to back with the K of them); its figures are derived from
 * the two sets of samples after sorting each (hoist_extra_stats). */
static int ckks_sample(ckks_bench *c, int op, double *ms, double *base_ms, hekv_err *err) {
    if (op == C_HOIST_EXTRA) {
        double t0 = hekv_cli_now_us();
        if (ckks_run(c, op, 1, err)) return 0;
        *base_ms = (hekv_cli_now_us() - t0) * 1e-3;
    }
    double t0 = hekv_cli_now_us();
    if (ckks_run(c, op, CKKS_HOIST_K, err)) return 0;
    *ms = (hekv_cli_now_us() - t0) * 1e-3;
    return 1;
}

/* The cost of each hoisted rotation after the first, (t_K - t_1) / (K - 1), from the
 * K-rotation samples and the 1-rotation samples taken separately: the median from the two
 * medians, and as min and max the range the two sets allow, (min_K - max_1) / (K - 1) and
 * (max_K - min_1) / (K - 1), which always holds the median (subtracting paired samples let
 * one slow 1-rotation call make a figure negative or put the median above the maximum). A
 * figure that is not positive is below what the timer resolves here: NAN (printed "nan"),
 * with a note on stderr. */
static void hoist_extra_stats(double *k_ms, double *one_ms, int reps, double *med, double *mn,
                              double *mx) {
    double km, kn, kx, om, on, ox;
    hekv_cli_stats(k_ms, reps, &km, &kn, &kx);
    hekv_cli_stats(one_ms, reps, &om, &on, &ox);
    const double d = CKKS_HOIST_K - 1;
    *med = (km - om) / d, *mn = (kn - ox) / d, *mx = (kx - on) / d;
    double *v[3] = {med, mn, mx};
    int cut = 0;
    for (int i = 0; i < 3; i++)
        if (!(*v[i] > 0)) *v[i] = NAN, cut = 1;
    if (cut)
        fprintf(stderr, "hekv: bench ckks: rotate_hoisted_extra: the samples do not resolve "
                        "the cost of the extra rotations (the spread of the calls exceeds it); "
                        "those figures are nan: raise --reps or use a larger set\n");
}

/* Parses a comma-separated list of operation names into want[] (1 = time it). */
static int ckks_parse_ops(const char *list, int *want) {
    for (int op = 0; op < C_COUNT; op++) want[op] = 0;
    const char *s = list;
    while (*s) {
        size_t len = strcspn(s, ",");
        int found = 0;
        for (int op = 0; op < C_COUNT; op++)
            if (len == strlen(ckks_op_names[op]) && !strncmp(s, ckks_op_names[op], len))
                want[op] = found = 1;
        if (!found) {
            hekv_cli_error("bench ckks: unknown operation '%.*s' in --ops (known: encode, "
                           "encrypt, decrypt, add, mult_relin, rescale, rotate, "
                           "rotate_hoisted_extra, keyswitch)", (int)len, s);
            return 0;
        }
        s += len;
        if (*s == ',') s++;
    }
    for (int op = 0; op < C_COUNT; op++)
        if (want[op]) return 1;
    hekv_cli_error("bench ckks: --ops names no operation");
    return 0;
}

int hekv_cli_bench_ckks(int argc, char **argv) {
    const char *name = NULL, *ops = NULL;
    long threads = 0, reps = 5;
    int csv = 0, want[C_COUNT];
    const hekv_cli_opt opts[] = {
        HEKV_CLI_OPT_FLAG("--csv", &csv),
        HEKV_CLI_OPT_STR("--params", &name),
        HEKV_CLI_OPT_INT("--threads", &threads, 1, 256),
        HEKV_CLI_OPT_INT("--reps", &reps, 1, 1000),
        HEKV_CLI_OPT_STR("--ops", &ops),
    };
    int parsed = hekv_cli_opts_parse("bench ckks", argc, argv, opts,
                                     sizeof opts / sizeof opts[0], bench_ckks_usage);
    if (parsed != HEKV_CLI_CONTINUE) return parsed;
    for (int op = 0; op < C_COUNT; op++) want[op] = 1;
    if (ops && !ckks_parse_ops(ops, want)) return 2;
    if (!name) {
        hekv_cli_error("bench ckks: --params NAME is required (hekv params lists the sets)");
        bench_ckks_usage(stderr);
        return 2;
    }
    int T = hekv_cli_threads(threads);
    ckks_bench c;
    hekv_err err = {0};
    double t0 = hekv_cli_now_us();
    if (!ckks_bench_new(&c, name, T, &err)) {
        hekv_cli_error("bench ckks: %s", err.msg[0] ? err.msg : "setup failed");
        ckks_bench_free(&c);
        return 1;
    }
    double setup_s = (hekv_cli_now_us() - t0) * 1e-6;
    if (!ckks_verify(&c, &err)) {
        ckks_bench_free(&c);
        return 1;
    }
    const int limbs = c.top + 1;
    if (csv) {
        printf("op,params,limbs,threads,median_ms,min_ms,max_ms\n");
    } else {
        printf("# %s: N = 2^%d, %d + %d limbs, dnum %d, %zu slots, kernels %s, %d thread%s; "
               "keys and inputs in %.1f s; all operations checked (max error <= %g)\n",
               name, hekv_ckks_params_logn(c.p), c.top + 1, hekv_ckks_params_np(c.p),
               hekv_ckks_params_dnum(c.p), c.slots, hekv_ckks_params_kernels(c.p), T,
               T > 1 ? "s" : "", setup_s, CKKS_TOL);
        /* Sizes: one top-level switching key in memory and seed-compressed as a file (a
         * key set holding only it), and a top-level ciphertext file. */
        size_t seeded = 0, ctlen = 0;
        hekv_evk *one = NULL;
        hekv_swk *k1 = NULL;
        hekv_buf buf = {0};
        if (!hekv_ckks_evk_new(c.p, &one, &err) && !hekv_ckks_swk_new(c.sk, c.sk, -1, 0, &k1, &err) &&
            !hekv_ckks_evk_add_swk(one, 1, k1, &err) && !hekv_ckks_evk_save(one, &buf, &err))
            seeded = buf.len;
        hekv_buf_free(&buf);
        hekv_ckks_evk_free(one);
        if (!hekv_ckks_ct_save(c.a, &buf, &err)) ctlen = buf.len;
        hekv_buf_free(&buf);
        const double mib = 1.0 / (1 << 20);
        printf("# switching key: %.1f MiB in memory, %.1f MiB as a seed-compressed file; "
               "top-level ciphertext file: %.1f MiB\n",
               (double)hekv_ckks_swk_bytes(c.swk) * mib, (double)seeded * mib,
               (double)ctlen * mib);
        printf("%-22s %-14s %5s %7s %10s %10s %10s %10s\n", "op", "params", "limbs", "threads",
               "median_ms", "min_ms", "max_ms", "check_err");
    }
    fflush(stdout);
    /* Round robin: round r times every operation once, so that a slow spell of the shared
     * host spreads over all operations instead of landing on whichever ran then. */
    double *ms = malloc(sizeof(double) * (size_t)reps * C_COUNT);
    double *base = malloc(sizeof(double) * (size_t)reps);
    int rc = ms && base ? 0 : 1;
    for (int r = 0; r < (int)reps && !rc; r++)
        for (int op = 0; op < C_COUNT && !rc; op++) {
            if (!want[op]) continue;
            if (!ckks_sample(&c, op, &ms[(size_t)op * (size_t)reps + (size_t)r], &base[r],
                             &err)) {
                hekv_cli_error("bench ckks: %s failed: %s", ckks_op_names[op],
                               op <= C_DECODE ? err.msg : hekv_ckks_eval_last_error(c.ev));
                rc = 1;
            }
        }
    for (int op = 0; op < C_COUNT && !rc; op++) {
        if (!want[op]) continue;
        double med, mn, mx;
        if (op == C_HOIST_EXTRA)
            hoist_extra_stats(ms + (size_t)op * (size_t)reps, base, (int)reps, &med, &mn, &mx);
        else
            hekv_cli_stats(ms + (size_t)op * (size_t)reps, (int)reps, &med, &mn, &mx);
        if (csv)
            printf("%s,%s,%d,%d,%.3f,%.3f,%.3f\n", ckks_op_names[op], name, limbs, T, med, mn,
                   mx);
        else
            printf("%-22s %-14s %5d %7d %10.3f %10.3f %10.3f %10.2e\n", ckks_op_names[op], name,
                   limbs, T, med, mn, mx, c.check_err[op]);
        fflush(stdout);
    }
    free(ms);
    free(base);
    ckks_bench_free(&c);
    return rc;
}

