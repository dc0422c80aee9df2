/* opts.c: the one option parser of the hekv subcommands. Each subcommand lists its options
 * in a table of hekv_cli_opt and calls hekv_cli_opts_parse, so --help, unknown options,
 * missing values and out-of-range numbers get the same handling and messages everywhere.
 * It deliberately knows nothing of what an option means: defaults, required options and
 * values with a syntax of their own (--precision, --seed, --ops) stay in the subcommands. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int parse_int(const char *opt, const char *val, long lo, long hi, long *out) {
    char *end = NULL;
    long v = strtol(val, &end, 10); /* an overflow saturates, outside every range we use */
    if (!*val || *end || v < lo || v > hi) {
        hekv_cli_error("%s: '%s' is not an integer in [%ld, %ld]", opt, val, lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

static int parse_double(const char *opt, const char *val, double lo, double hi, double *out) {
    char *end = NULL;
    errno = 0;
    double v = strtod(val, &end);
    if (!*val || *end || errno || !isfinite(v) || !(v >= lo && v <= hi)) {
        hekv_cli_error("%s: '%s' is not a number in [%g, %g]", opt, val, lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

int hekv_cli_opts_parse(const char *cmd, int argc, char **argv, const hekv_cli_opt *opts,
                        size_t nopts, void (*usage)(FILE *)) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        const hekv_cli_opt *o = NULL;
        for (size_t k = 0; k < nopts && !o; k++)
            if (!strcmp(a, opts[k].name)) o = &opts[k];
        if (!o) {
            hekv_cli_error("%s: unknown option '%s' (try hekv %s --help)", cmd, a, cmd);
            return 2;
        }
        if (o->kind == HEKV_CLI_FLAG) {
            *o->dst.flag = 1;
            continue;
        }
        if (i + 1 >= argc) {
            hekv_cli_error("%s needs a value", a);
            return 2;
        }
        const char *v = argv[++i];
        int ok = 1;
        switch (o->kind) {
        case HEKV_CLI_FLAG: break;
        case HEKV_CLI_STR: *o->dst.str = v; break;
        case HEKV_CLI_INT: ok = parse_int(a, v, o->lo, o->hi, o->dst.integer); break;
        case HEKV_CLI_DOUBLE: ok = parse_double(a, v, o->dlo, o->dhi, o->dst.real); break;
        }
        if (!ok) return 2;
    }
    return HEKV_CLI_CONTINUE;
}
