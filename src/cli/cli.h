/* cli.h: the hekv command-line tool's subcommands and their small shared helpers. The CLI
 * is the only code in hekv that prints to the terminal or exits. Each subcommand lives in
 * its own cmd_*.c file, is registered in the table in hekv.c and describes its options in a
 * table read by hekv_cli_opts_parse (opts.c). */
#ifndef HEKV_CLI_H
#define HEKV_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/** A subcommand: argv[0] is the subcommand name; returns the process exit status. */
typedef int (*hekv_cli_fn)(int argc, char **argv);

int hekv_cli_bench(int argc, char **argv); /* bench.c: the dispatcher */
int hekv_cli_bench_ntt(int argc, char **argv);  /* cmd_bench_ntt.c: hekv bench ntt */
int hekv_cli_bench_ckks(int argc, char **argv); /* cmd_bench_ckks.c: hekv bench ckks */
/* cmd_bench_pack.c: hekv bench matvec / attention (packing layer) */
int hekv_cli_bench_matvec(int argc, char **argv);
int hekv_cli_bench_attention(int argc, char **argv);
int hekv_cli_bench_poly(int argc, char **argv); /* cmd_bench_poly.c: hekv bench poly */
int hekv_cli_bench_boot(int argc, char **argv); /* cmd_bench_boot.c: hekv bench boot */
int hekv_cli_model(int argc, char **argv); /* run, calibrate, eval (cmd_model.c) */
int hekv_cli_params(int argc, char **argv); /* cmd_params.c */
int hekv_cli_approx(int argc, char **argv); /* cmd_approx.c: hekv approx */

/* ---- options (opts.c) ---------------------------------------------------------------- */

/** What an option takes and where its value goes. */
typedef enum {
    HEKV_CLI_FLAG,   /* no value: sets an int to 1 */
    HEKV_CLI_STR,    /* a string: the argv element itself */
    HEKV_CLI_INT,    /* a decimal long in [lo, hi] */
    HEKV_CLI_DOUBLE, /* a finite double in [dlo, dhi] */
} hekv_cli_opt_kind;

/** One option of a subcommand. Build it with HEKV_CLI_OPT_*, whose dst the compiler checks
 *  against the kind. The destination keeps its default when the option is not given; a
 *  repeated option keeps its last value. */
typedef struct {
    const char *name; /* as typed: "--threads", "-n" */
    hekv_cli_opt_kind kind;
    union {
        int *flag;
        const char **str;
        long *integer;
        double *real;
    } dst; /* the member named by kind */
    long lo, hi;      /* HEKV_CLI_INT: accepted range */
    double dlo, dhi;  /* HEKV_CLI_DOUBLE: accepted range */
} hekv_cli_opt;

#define HEKV_CLI_OPT_FLAG(name, p) {(name), HEKV_CLI_FLAG, {.flag = (p)}, 0, 0, 0, 0}
#define HEKV_CLI_OPT_STR(name, p) {(name), HEKV_CLI_STR, {.str = (p)}, 0, 0, 0, 0}
#define HEKV_CLI_OPT_INT(name, p, lo, hi) \
    {(name), HEKV_CLI_INT, {.integer = (p)}, (lo), (hi), 0, 0}
#define HEKV_CLI_OPT_DOUBLE(name, p, lo, hi) \
    {(name), HEKV_CLI_DOUBLE, {.real = (p)}, 0, 0, (lo), (hi)}

/** hekv_cli_opts_parse's result when the subcommand should go on. */
#define HEKV_CLI_CONTINUE (-1)

/** Parses argv[1..argc) against opts[0..nopts) in order. Every argument must be an option
 *  of the table, and an option with a value takes the next argument whatever it is.
 *  `--help` or `-h` prints usage to stdout and returns 0. An unknown option ("CMD: unknown
 *  option 'X' (try hekv CMD --help)"), a missing value ("--x needs a value") or a value
 *  that is not a number in the option's range is reported with hekv_cli_error and returns
 *  2. Otherwise returns HEKV_CLI_CONTINUE; the other results are the exit status.
 *  @param[in] cmd   the subcommand as typed after hekv, e.g. "bench ntt" */
int hekv_cli_opts_parse(const char *cmd, int argc, char **argv, const hekv_cli_opt *opts,
                        size_t nopts, void (*usage)(FILE *));

/* ---- shared helpers --------------------------------------------------------------------- */

/** The thread count from --threads (if given, > 0) or HEKV_THREADS, else 1. */
int hekv_cli_threads(long from_flag);
/** buf = path with the extension `from` (e.g. ".bin") replaced by `to` (appended when path
 *  does not end in `from`): the default output file beside an input. Returns buf. */
const char *hekv_cli_swap_ext(const char *path, const char *from, const char *to, char *buf,
                              size_t n);
/** Monotonic clock in microseconds. */
double hekv_cli_now_us(void);
/** Sorts samples[0..n) and returns their median, minimum and maximum (n >= 1). */
void hekv_cli_stats(double *samples, int n, double *median, double *min, double *max);
/** The exit status of a command that returned rc, after checking that stdout was written
 *  completely (flushed, no error): a failed write of the report is a failure (status 1 when
 *  rc was 0), with a message. main() applies it to every command. */
int hekv_cli_finish_stdout(int rc);
/** Prints "hekv: <msg>" to stderr. */
void hekv_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
