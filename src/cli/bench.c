/* bench.c: `hekv bench <family>`: the dispatcher of the microbenchmarks and the timing
 * helpers they share. Every family checks each variant or operation against a reference
 * before it times anything (R20); the families live in cmd_bench_*.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

double hekv_cli_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec * 1e-3;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void hekv_cli_stats(double *samples, int n, double *median, double *min, double *max) {
    qsort(samples, (size_t)n, sizeof *samples, cmp_double);
    *min = samples[0];
    *max = samples[n - 1];
    *median = n % 2 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
}

/* ---- dispatcher ----------------------------------------------------------------------- */

static const struct {
    const char *name;
    hekv_cli_fn fn;
    const char *summary;
} families[] = {
    {"ntt", hekv_cli_bench_ntt, "NTT, element-wise and basis-conversion kernels, scalar vs AVX-512"},
    {"ckks", hekv_cli_bench_ckks, "CKKS operations of a parameter set (encode ... key switching)"},
    {"matvec", hekv_cli_bench_matvec, "IRP vector-matrix product against the diagonal BSGS"},
    {"attention", hekv_cli_bench_attention, "packed K/V cache: append, QK^T, scores x V"},
    {"poly", hekv_cli_bench_poly, "nonlinearities: exp, 1/x, 1/sqrt, SiLU, GELU, sign, softmax"},
    {"boot", hekv_cli_bench_boot, "bootstrapping: precision, key switches, keys, time"},
};

static void bench_usage(FILE *f) {
    fprintf(f, "usage: hekv bench <family> [options]   (hekv bench <family> --help)\n\n"
               "families:\n");
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        fprintf(f, "  %-10s %s\n", families[i].name, families[i].summary);
}

int hekv_cli_bench(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        bench_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        if (!strcmp(argv[1], families[i].name)) return families[i].fn(argc - 1, argv + 1);
    hekv_cli_error("bench: unknown family '%s'", argv[1]);
    bench_usage(stderr);
    return 2;
}
