/* cmd_bench_boot.c: `hekv bench boot`: one bootstrapping set, its keys generated exactly
 * as its key request lists them, its precision checked on fresh ciphertexts, then the
 * bootstrapping timed. Public API only (hekv/boot.h, hekv/ckks.h, hekv/ckks_client.h for
 * the client's part: keys, encryption, decryption). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"
#include "hekv/boot.h"
#include "hekv/ckks.h"
#include "hekv/ckks_client.h"

#define BOOT_CHECKS 2 /* ciphertexts whose precision is checked before timing */

static void bench_boot_usage(FILE *f) {
    fprintf(f,
            "usage: hekv bench boot --params NAME [--slots S] [--threads T] [--reps R] [--csv]\n"
            "                       [--double-hoist]\n"
            "\n"
            "Bootstraps ciphertexts of uniform [-1, 1] complex slots with the bootstrapping set\n"
            "NAME (boot-N16: N = 2^16, 128-bit, full slots; boot-N16-s10, boot-N16-s7; toy-boot-*\n"
            "for quick runs). The keys are generated exactly as the plan's key request lists\n"
            "them (each rotation key up to the highest level it is used at). The precision\n"
            "(-log2 of the mean and of the max |error|, the worse of the real and imaginary\n"
            "parts) is measured on %d fresh ciphertexts against the input, then R\n"
            "bootstrappings of ciphertexts at level 1 are timed.\n\n"
            "options:\n"
            "  --params NAME  bootstrapping set (toy-* ones are insecure, for tests)\n"
            "  --slots S      message slots, a power of two (default: the set's)\n"
            "  --threads T    threads over RNS limbs (default HEKV_THREADS or 1)\n"
            "  --reps R       timed bootstrappings, 1..100 (default 3)\n"
            "  --double-hoist the transforms with double instead of single hoisting (A/B)\n"
            "  --csv          CSV: params,slots,threads,levels_in,levels_out,keyswitches,\n"
            "                 keys_mib,precision_bits_mean,precision_bits_max,median_s,\n"
            "                 min_s,max_s\n"
            "Without --csv the report adds the stages (key switches and seconds), the plan's\n"
            "memory and the peak resident memory.\n",
            BOOT_CHECKS);
}

typedef struct {
    hekv_ckks_params *p;
    hekv_sk *sk;
    hekv_evk *evk;
    hekv_encoder *enc;
    hekv_eval *ev;
    hekv_boot *b;
    hekv_ckks_keyreq *req;
    hekv_ct *in, *out;
    hekv_pt *pt;
    double *re, *im, *dr, *di;
    size_t n;
} boot_bench;

static void boot_bench_free(boot_bench *c) {
    hekv_ckks_ct_free(c->in);
    hekv_ckks_ct_free(c->out);
    hekv_ckks_pt_free(c->pt);
    hekv_ckks_keyreq_free(c->req);
    hekv_boot_free(c->b);
    hekv_ckks_eval_free(c->ev);
    hekv_ckks_encoder_free(c->enc);
    hekv_ckks_evk_free(c->evk);
    hekv_ckks_sk_free(c->sk);
    hekv_ckks_params_free(c->p);
    free(c->re), free(c->im), free(c->dr), free(c->di);
    memset(c, 0, sizeof *c);
}

static hekv_status boot_bench_new(boot_bench *c, const hekv_boot_lit *bl, int threads,
                                  hekv_err *err) {
    memset(c, 0, sizeof *c);
    hekv_ckks_params_lit lit;
    const hekv_ckks_opts opts = {.threads = threads};
    hekv_status s = hekv_ckks_params_lit_named(bl->params, &lit, err);
    if (!s) s = hekv_ckks_params_new(&lit, &opts, &c->p, err);
    if (!s) s = hekv_boot_new(c->p, bl, &c->b, err);
    if (!s) s = hekv_ckks_sk_new(c->p, &c->sk, err);
    if (!s) s = hekv_ckks_evk_new(c->p, &c->evk, err);
    if (!s) s = hekv_ckks_keyreq_new(c->p, &c->req, err);
    if (!s) s = hekv_boot_keyreq(c->b, c->req, err);
    if (!s) s = hekv_ckks_evk_gen_request(c->evk, c->sk, c->req, err);
    if (!s) s = hekv_ckks_encoder_new(c->p, &c->enc, err);
    if (!s) s = hekv_ckks_eval_new(c->p, c->evk, &c->ev, err);
    if (!s) s = hekv_ckks_ct_new(c->p, &c->in, err);
    if (!s) s = hekv_ckks_ct_new(c->p, &c->out, err);
    if (!s) s = hekv_ckks_pt_new(c->p, &c->pt, err);
    if (s) return s;
    c->n = hekv_boot_slots(c->b);
    c->re = malloc(c->n * sizeof *c->re), c->im = malloc(c->n * sizeof *c->im);
    c->dr = malloc(c->n * sizeof *c->dr), c->di = malloc(c->n * sizeof *c->di);
    if (!c->re || !c->im || !c->dr || !c->di)
        return hekv_err_set(err, HEKV_ERR_NOMEM, "bench boot: out of memory");
    return HEKV_OK;
}

/* A fresh encryption of uniform [-1, 1] complex slots at `level` into c->in. */
static hekv_status fresh(boot_bench *c, uint64_t *x, int level, hekv_err *err) {
    for (size_t i = 0; i < c->n; i++) {
        *x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
        c->re[i] = (double)(*x >> 11) * 0x1p-52 - 1.0;
        *x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
        c->im[i] = (double)(*x >> 11) * 0x1p-52 - 1.0;
    }
    hekv_status s = hekv_ckks_encode(c->enc, c->pt, c->re, c->im, c->n, level,
                                     hekv_ckks_params_default_scale(c->p), err);
    if (!s) s = hekv_ckks_encrypt_sk(c->sk, c->in, c->pt, err);
    return s;
}

int hekv_cli_bench_boot(int argc, char **argv) {
    const char *name = NULL;
    long slots = 0, threads = 0, reps = 3;
    int csv = 0, dbl = 0;
    const hekv_cli_opt opts[] = {
        HEKV_CLI_OPT_FLAG("--csv", &csv),
        HEKV_CLI_OPT_FLAG("--double-hoist", &dbl),
        HEKV_CLI_OPT_STR("--params", &name),
        HEKV_CLI_OPT_INT("--slots", &slots, 2, 1L << 20),
        HEKV_CLI_OPT_INT("--threads", &threads, 1, 256),
        HEKV_CLI_OPT_INT("--reps", &reps, 1, 100),
    };
    int parsed = hekv_cli_opts_parse("bench boot", argc, argv, opts, sizeof opts / sizeof opts[0],
                                     bench_boot_usage);
    if (parsed != HEKV_CLI_CONTINUE) return parsed;
    if (!name) {
        hekv_cli_error("bench boot: --params NAME is required (a bootstrapping set: boot-N16, "
                       "boot-N16-s10, boot-N16-s7, toy-boot-N12, ...)");
        bench_boot_usage(stderr);
        return 2;
    }
    hekv_boot_lit bl;
    hekv_err err = {0};
    if (hekv_boot_lit_named(name, &bl, &err)) {
        hekv_cli_error("bench boot: %s", err.msg);
        return 2;
    }
    if (slots) {
        if (slots & (slots - 1)) {
            hekv_cli_error("bench boot: --slots %ld is not a power of two", slots);
            return 2;
        }
        int l = 0;
        while ((1L << l) < slots) l++;
        bl.log_slots = l;
    }
    bl.double_hoist = dbl;
    const int T = hekv_cli_threads(threads);
    boot_bench c;
    const double t0 = hekv_cli_now_us();
    if (boot_bench_new(&c, &bl, T, &err)) {
        hekv_cli_error("bench boot: %s", err.msg[0] ? err.msg : "setup failed");
        boot_bench_free(&c);
        return 1;
    }
    const double setup_s = (hekv_cli_now_us() - t0) * 1e-6;
    /* precision: the worse of re and im, mean and max, over the checked ciphertexts */
    uint64_t seed = 0x5eedb007;
    double worst_max = 0, worst_mean = 0;
    const int lout = hekv_boot_level_out(c.b);
    int rc = 0;
    for (int k = 0; k < BOOT_CHECKS && !rc; k++) {
        if (fresh(&c, &seed, lout, &err)) {
            hekv_cli_error("bench boot: %s", err.msg);
            rc = 1;
            break;
        }
        if (hekv_boot_eval(c.b, c.ev, c.out, c.in, NULL) ||
            hekv_ckks_decrypt(c.sk, c.pt, c.out, &err) ||
            hekv_ckks_decode(c.enc, c.dr, c.di, c.pt, &err)) {
            hekv_cli_error("bench boot: %s", hekv_ckks_eval_last_error(c.ev)[0]
                                                 ? hekv_ckks_eval_last_error(c.ev)
                                                 : err.msg);
            rc = 1;
            break;
        }
        double mr = 0, mi = 0, sr = 0, si = 0;
        for (size_t i = 0; i < c.n; i++) {
            const double er = fabs(c.dr[i] - c.re[i]), ei = fabs(c.di[i] - c.im[i]);
            mr = fmax(mr, er), mi = fmax(mi, ei), sr += er, si += ei;
        }
        worst_max = fmax(worst_max, fmax(mr, mi));
        worst_mean = fmax(worst_mean, fmax(sr, si) / (double)c.n);
    }
    const double pmax = -log2(worst_max), pmean = -log2(worst_mean);
    if (!rc && !(pmax >= 8)) {
        hekv_cli_error("bench boot: the bootstrapped result is wrong (max error 2^%.1f); "
                       "not timing it", -pmax);
        rc = 1;
    }
    double *sec = malloc(sizeof(double) * (size_t)reps);
    hekv_boot_stats st, sum;
    memset(&sum, 0, sizeof sum);
    if (!sec) rc = 1;
    for (int r = 0; r < (int)reps && !rc; r++) {
        if (fresh(&c, &seed, 1, &err)) {
            hekv_cli_error("bench boot: %s", err.msg);
            rc = 1;
            break;
        }
        const double t = hekv_cli_now_us();
        if (hekv_boot_eval(c.b, c.ev, c.out, c.in, &st)) {
            hekv_cli_error("bench boot: %s", hekv_ckks_eval_last_error(c.ev));
            rc = 1;
            break;
        }
        sec[r] = (hekv_cli_now_us() - t) * 1e-6;
        for (int i = 0; i < HEKV_BOOT_STAGES; i++) {
            sum.keyswitches[i] = st.keyswitches[i];
            sum.seconds[i] += st.seconds[i] / (double)reps;
        }
    }
    if (!rc) {
        double med, mn, mx;
        hekv_cli_stats(sec, (int)reps, &med, &mn, &mx);
        uint64_t ks = 0;
        for (int i = 0; i < HEKV_BOOT_STAGES; i++) ks += sum.keyswitches[i];
        const double keys_mib = (double)hekv_ckks_evk_bytes(c.evk) / (1 << 20);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        if (csv) {
            printf("params,slots,threads,levels_in,levels_out,keyswitches,keys_mib,"
                   "precision_bits_mean,precision_bits_max,median_s,min_s,max_s\n");
            printf("%s,%zu,%d,1,%d,%llu,%.1f,%.2f,%.2f,%.3f,%.3f,%.3f\n", name, c.n, T, lout,
                   (unsigned long long)ks, keys_mib, pmean, pmax, med, mn, mx);
            fflush(stdout);
            fprintf(stderr, "bench boot: peak resident memory %.1f MiB\n",
                    (double)ru.ru_maxrss / 1024.0);
        } else {
            static const char *stage[] = {"modraise", "trace", "coeff_to_slot", "evalmod",
                                          "slot_to_coeff"};
            printf("# %s on %s: N = 2^%d, %zu slots, %d + %d limbs, dnum %d, %d thread%s, "
                   "kernels %s; setup (plan, keys) %.1f s\n", name, hekv_ckks_params_name(c.p),
                   hekv_ckks_params_logn(c.p), c.n, hekv_ckks_params_max_level(c.p) + 1,
                   hekv_ckks_params_np(c.p), hekv_ckks_params_dnum(c.p), T, T > 1 ? "s" : "",
                   hekv_ckks_params_kernels(c.p), setup_s);
            printf("# levels: CoeffToSlot %d, EvalMod %d (cosine degree %d, K %.2f, error "
                   "2^%.1f), SlotToCoeff %d; output level %d\n", hekv_boot_levels_cts(c.b),
                   hekv_boot_levels_evalmod(c.b), hekv_boot_cos_degree(c.b), hekv_boot_k(c.b),
                   log2(hekv_boot_cos_error(c.b)), hekv_boot_levels_stc(c.b), lout);
            printf("# keys: %zu Galois + relinearisation + encapsulation pair, %.1f MiB; "
                   "plan plaintexts %.1f MiB; peak resident %.1f MiB\n",
                   hekv_ckks_keyreq_galois_count(c.req), keys_mib,
                   (double)hekv_boot_bytes(c.b) / (1 << 20), (double)ru.ru_maxrss / 1024.0);
            printf("# precision (bits, worse of re/im over %d ciphertexts): mean %.2f, max "
                   "%.2f\n", BOOT_CHECKS, pmean, pmax);
            for (int i = 0; i < HEKV_BOOT_STAGES; i++)
                printf("# stage %-14s %4llu key switches %8.3f s\n", stage[i],
                       (unsigned long long)sum.keyswitches[i], sum.seconds[i]);
            printf("bootstrap %s slots %zu threads %d: median %.3f s (min %.3f, max %.3f, %ld "
                   "runs), %llu key switches\n", name, c.n, T, med, mn, mx, reps,
                   (unsigned long long)ks);
        }
    }
    free(sec);
    boot_bench_free(&c);
    return rc;
}
