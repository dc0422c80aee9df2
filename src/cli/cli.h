/* cli.h: the hekv command-line tool's subcommands and their small shared helpers. The CLI
 * is the only code in hekv that prints to the terminal or exits. Each subcommand lives in
 * its own cmd_*.c file and is registered in the table in hekv.c. */
#ifndef HEKV_CLI_H
#define HEKV_CLI_H

#include <stdint.h>

/** A subcommand: argv[0] is the subcommand name; returns the process exit status. */
typedef int (*hekv_cli_fn)(int argc, char **argv);

int hekv_cli_bench(int argc, char **argv);
/* cmd_bench_pack.c: hekv bench matvec / attention (packing layer) */
int hekv_cli_bench_matvec(int argc, char **argv);
int hekv_cli_bench_attention(int argc, char **argv);
int hekv_cli_bench_poly(int argc, char **argv); /* cmd_bench_poly.c: hekv bench poly */
int hekv_cli_model(int argc, char **argv); /* run, calibrate, eval (cmd_model.c) */
int hekv_cli_params(int argc, char **argv); /* cmd_params.c */
int hekv_cli_approx(int argc, char **argv); /* cmd_approx.c: hekv approx */

/** Parses a decimal integer option value in [lo, hi]; prints an error naming the option
 *  and returns 0 on failure, 1 on success. */
int hekv_cli_parse_int(const char *opt, const char *val, long lo, long hi, long *out);
/** The thread count from --threads (if given, > 0) or HEKV_THREADS, else 1. */
int hekv_cli_threads(long from_flag);
/** Monotonic clock in microseconds. */
double hekv_cli_now_us(void);
/** Sorts samples[0..n) and returns their median, minimum and maximum (n >= 1). */
void hekv_cli_stats(double *samples, int n, double *median, double *min, double *max);
/** Prints "hekv: <msg>" to stderr. */
void hekv_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
