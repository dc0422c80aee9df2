/* cmd_approx.c: `hekv approx`: from a calibration sidecar ("hekv-calib 1"), designs the
 * model's four nonlinearities with the CKKS layer's designer and writes the FHE-simulation
 * file ("hekv-approx 1") whose series are exactly the polynomials the encrypted engine
 * evaluates, so that `hekv eval --approx FILE` measures the model under the encrypted
 * circuits' approximation error. It deliberately only parses options and prints. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hekv/llama_approx.h"
#include "cli.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: hekv approx --calib FILE [--out FILE] [--margin M] [--tol T]\n"
            "                   [--max-depth D] [--quiet]\n\n"
            "Designs exp, 1/x, 1/sqrt(x) and SiLU on the calibrated ranges (union over the\n"
            "layers, widened by the margin) and writes their Chebyshev series as a\n"
            "\"hekv-approx 1\" file for hekv eval/run --approx. Each series is the exact\n"
            "polynomial of the encrypted circuit (Remez stages, squarings, Newton steps), so\n"
            "the simulation agrees with encrypted evaluation up to CKKS noise. Prints each\n"
            "design: interval, shape, degree, depth (levels), ciphertext products and the\n"
            "plaintext circuit's max error.\n\n"
            "options:\n"
            "  --calib FILE     calibration sidecar (hekv calibrate)\n"
            "  --out FILE       output (default: the calibration path with .calib replaced\n"
            "                   by .approx)\n"
            "  --margin M       widening of each range, 0..10 (default 0.1)\n"
            "  --tol T          error target relative to each function's range (default\n"
            "                   2^-12)\n"
            "  --max-depth D    refuse designs deeper than D levels (default: no limit)\n"
            "  --quiet          no table\n");
}

int hekv_cli_approx(int argc, char **argv) {
    const char *calp = NULL, *outp = NULL;
    double margin = 0.1, tol = 0x1p-12;
    long max_depth = 0;
    int quiet = 0;
    const hekv_cli_opt opts[] = {
        HEKV_CLI_OPT_STR("--calib", &calp),
        HEKV_CLI_OPT_STR("--out", &outp),
        HEKV_CLI_OPT_DOUBLE("--margin", &margin, 0, 10),
        HEKV_CLI_OPT_DOUBLE("--tol", &tol, 1e-15, 0.5),
        HEKV_CLI_OPT_INT("--max-depth", &max_depth, 1, 100),
        HEKV_CLI_OPT_FLAG("--quiet", &quiet),
    };
    int parsed = hekv_cli_opts_parse("approx", argc, argv, opts, sizeof opts / sizeof opts[0],
                                     usage);
    if (parsed != HEKV_CLI_CONTINUE) return parsed;
    if (!calp) {
        hekv_cli_error("approx: --calib FILE is required (write one with hekv calibrate)");
        return 2;
    }
    char defout[4096];
    if (!outp) outp = hekv_cli_swap_ext(calp, ".calib", ".approx", defout, sizeof defout);
    hekv_err err;
    /* the output is checked before the designs are searched, not after */
    if (hekv_file_check_writable(outp, &err) != HEKV_OK) {
        hekv_cli_error("approx: %s%s", err.msg, defout == outp ? " (the default --out: the "
                       "calibration path with .calib replaced by .approx; pass --out FILE)" : "");
        return 1;
    }
    hekv_llama_calib *cal = NULL;
    hekv_llama_chebset *set = NULL;
    hekv_nonlin *nl[HEKV_LLAMA_NONLIN_COUNT] = {0};
    hekv_llama_range r[HEKV_LLAMA_NONLIN_COUNT];
    hekv_nonlin_opts o = {0};
    o.tol = tol;
    o.max_depth = (int)max_depth;
    int rc = 1;
    double t0 = hekv_cli_now_us();
    if (hekv_llama_calib_load(calp, NULL, &cal, &err) != HEKV_OK ||
        hekv_llama_approx_ranges(cal, margin, r, &err) != HEKV_OK ||
        hekv_llama_chebset_design(r, &o, &set, nl, &err) != HEKV_OK ||
        hekv_llama_chebset_save(set, outp, &err) != HEKV_OK) {
        hekv_cli_error("approx: %s", err.msg);
        goto out;
    }
    if (!quiet) {
        printf("designed from %s (margin %g, tol %g x range) in %.2f s\n", calp, margin, tol,
               (hekv_cli_now_us() - t0) * 1e-6);
        printf("%-10s %12s %12s %-18s %7s %6s %9s %12s %10s\n", "function", "lo", "hi", "design",
               "degree", "depth", "ct_mults", "max_abs_err", "err/range");
        for (int f = 0; f < HEKV_LLAMA_NONLIN_COUNT; f++) {
            char d[64];
            hekv_ckks_nonlin_describe(nl[f], d, sizeof d);
            printf("%-10s %12.6g %12.6g %-18s %7d %6d %9d %12.3e %10.2f\n",
                   hekv_ckks_nonlin_name((hekv_nonlin_kind)f), r[f].lo, r[f].hi, d,
                   hekv_ckks_nonlin_degree(nl[f]), hekv_ckks_nonlin_depth(nl[f]),
                   hekv_ckks_nonlin_ct_mults(nl[f]), hekv_ckks_nonlin_max_err(nl[f]),
                   log2(hekv_ckks_nonlin_max_err(nl[f]) / hekv_ckks_nonlin_range(nl[f])));
        }
        printf("wrote %s\n", outp);
    }
    rc = 0;
out:
    for (int f = 0; f < HEKV_LLAMA_NONLIN_COUNT; f++) hekv_ckks_nonlin_free(nl[f]);
    hekv_llama_chebset_free(set);
    hekv_llama_calib_free(cal);
    return rc;
}
