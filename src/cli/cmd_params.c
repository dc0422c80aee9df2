/* cmd_params.c: `hekv params`: lists the built-in CKKS parameter sets with their shape,
 * log2(QP) against the 128-bit bound, the verdict and the size of one switching key. Each
 * set is generated (primes, rings, plans) so the figures are those of the real primes. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "hekv/ckks.h"

static void params_usage(FILE *f) {
    fprintf(f,
            "usage: hekv params [--csv]\n\n"
            "Lists every built-in CKKS parameter set: ring degree N, slots (N/2), ciphertext\n"
            "limbs (levels + 1), special (key-switching) limbs, dnum (key-switching digits),\n"
            "log2(QP) of the generated primes, the HE-standard 128-bit bound on log2(QP) for\n"
            "N with a ternary secret, the verdict, and the size of one switching key\n"
            "(relinearisation or one rotation, uncompressed).\n"
            "Sets above the bound are usable only as named (toy-*: tests, bench-*: timing).\n\n"
            "options:\n"
            "  --csv   CSV: name,n,slots,limbs,special_limbs,dnum,log2_qp,bound,verdict,"
            "swk_bytes\n");
}

static const char *verdict(const char *name, int secure) {
    if (secure) return "secure";
    if (!strncmp(name, "toy-", 4)) return "INSECURE (toy)";
    if (!strncmp(name, "bench-", 6)) return "INSECURE (bench only)";
    return "INSECURE";
}

int hekv_cli_params(int argc, char **argv) {
    int csv = 0;
    const hekv_cli_opt opts[] = {HEKV_CLI_OPT_FLAG("--csv", &csv)};
    int parsed = hekv_cli_opts_parse("params", argc, argv, opts, sizeof opts / sizeof opts[0],
                                     params_usage);
    if (parsed != HEKV_CLI_CONTINUE) return parsed;
    if (csv)
        printf("name,n,slots,limbs,special_limbs,dnum,log2_qp,bound,verdict,swk_bytes\n");
    else
        printf("%-14s %6s %6s %6s %8s %5s %8s %6s  %-22s %s\n", "set", "N", "slots", "limbs",
               "special", "dnum", "log2QP", "bound", "verdict", "switching key");
    for (const char *const *nm = hekv_ckks_params_names(); *nm; nm++) {
        hekv_ckks_params_lit lit;
        hekv_ckks_params *p = NULL;
        hekv_err err;
        if (hekv_ckks_params_lit_named(*nm, &lit, &err) != HEKV_OK) {
            hekv_cli_error("%s", err.msg);
            return 1;
        }
        const hekv_ckks_opts one = {.isa = HEKV_ISA_AUTO, .threads = 1};
        if (hekv_ckks_params_new(&lit, &one, &p, &err) != HEKV_OK) {
            hekv_cli_error("%s: %s", *nm, err.msg);
            return 1;
        }
        const int bound = hekv_ckks_security_bound(lit.logn, lit.secret);
        const char *v = verdict(*nm, hekv_ckks_params_secure(p));
        const size_t swk = hekv_ckks_params_swk_bytes(p);
        if (csv)
            printf("%s,%zu,%zu,%d,%d,%d,%.2f,%d,%s,%zu\n", *nm, hekv_ckks_params_n(p),
                   hekv_ckks_params_max_slots(p), hekv_ckks_params_max_level(p) + 1,
                   hekv_ckks_params_np(p), hekv_ckks_params_dnum(p),
                   hekv_ckks_params_log_qp(p), bound, v, swk);
        else
            printf("%-14s %6zu %6zu %6d %8d %5d %8.2f %6d  %-22s %.1f MiB\n", *nm,
                   hekv_ckks_params_n(p), hekv_ckks_params_max_slots(p),
                   hekv_ckks_params_max_level(p) + 1, hekv_ckks_params_np(p),
                   hekv_ckks_params_dnum(p), hekv_ckks_params_log_qp(p), bound, v,
                   (double)swk / (1024.0 * 1024.0));
        hekv_ckks_params_free(p);
    }
    return 0;
}
