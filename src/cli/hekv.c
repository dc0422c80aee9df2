/* hekv.c: entry point of the hekv command-line tool: dispatches to the subcommands. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hekv/base.h"

static const struct {
    const char *name;
    hekv_cli_fn fn;
    const char *summary;
} commands[] = {
    {"bench", hekv_cli_bench, "microbenchmarks of the HE kernels (hekv bench --help)"},
    {"run", hekv_cli_model, "generate text with the plaintext reference model"},
    {"calibrate", hekv_cli_model, "record the input ranges of every nonlinearity"},
    {"eval", hekv_cli_model, "perplexity and LAMBADA accuracy of a model"},
    {"params", hekv_cli_params, "list the CKKS parameter sets and their security"},
    {"approx", hekv_cli_approx, "design the nonlinearities' polynomials from a calibration"},
    {"softmax", hekv_cli_model, "the softmax without a plaintext max against the exact model"},
};

static void usage(FILE *f) {
    fprintf(f,
            "hekv %s: homomorphic (CKKS) transformer inference with an encrypted KV cache\n\n"
            "usage: hekv <command> [options]\n\n"
            "commands:\n",
            HEKV_VERSION_STRING);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\noptions:\n"
            "  --help      this text\n"
            "  --version   version and the kernel variant this CPU gets\n\n"
            "environment:\n"
            "  HEKV_KERNELS=scalar|avx512|auto   force the kernel set (default auto)\n"
            "  HEKV_THREADS=T                    default thread count (default 1)\n");
}

void hekv_cli_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("hekv: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

const char *hekv_cli_swap_ext(const char *path, const char *from, const char *to, char *buf,
                              size_t n) {
    size_t l = strlen(path), fl = strlen(from);
    int stem = (int)(l > fl && !strcmp(path + l - fl, from) ? l - fl : l);
    snprintf(buf, n, "%.*s%s", stem, path, to);
    return buf;
}

int hekv_cli_threads(long from_flag) {
    if (from_flag > 0) return (int)from_flag;
    const char *env = getenv("HEKV_THREADS");
    if (env && *env) {
        long v = atol(env);
        if (v > 0 && v <= 1024) return (int)v;
        hekv_cli_error("ignoring HEKV_THREADS=%s (want 1..1024)", env);
    }
    return 1;
}

static int version(void) {
    hekv_isa isa;
    hekv_err err;
    if (hekv_isa_resolve(HEKV_ISA_AUTO, &isa, &err) != HEKV_OK) {
        hekv_cli_error("%s", err.msg);
        return 1;
    }
    /* what every prime below 2^50 (every prime of the built-in sets) gets */
    printf("hekv %s\nkernels: %s\n", HEKV_VERSION_STRING, hekv_isa_name(isa));
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    int rc = -1;
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) rc = version();
    for (size_t i = 0; rc < 0 && i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) rc = commands[i].fn(argc - 1, argv + 1);
    if (rc < 0) {
        hekv_cli_error("unknown command '%s' (try hekv --help)", argv[1]);
        return 2;
    }
    return hekv_cli_finish_stdout(rc);
}

int hekv_cli_finish_stdout(int rc) {
    /* what a command printed must have reached its destination (a full disk, a closed
     * pipe): a report that was cut short is a failure, whatever the command computed */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        hekv_cli_error("cannot write the output: %s", strerror(errno ? errno : EIO));
        return rc ? rc : 1;
    }
    return rc;
}
