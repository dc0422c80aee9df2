/* test_cli.c: the hekv command-line tool as a user runs it. Bad input (unknown options,
 * missing or out-of-range values, unknown parameter sets, missing, foreign or truncated
 * files) ends with a message on stderr that starts "hekv: " and a non-zero exit status,
 * never a signal, and so do directories, FIFOs and devices given as files, and output
 * paths that cannot be written (checked before the work); good input exits 0 with the
 * documented output (the FHE simulation's excursion report, distinct seeds). The binary is
 * named by HEKV_CLI (make test sets it to $(BUILD)/hekv); without it the suite is skipped. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MODEL "models/weights/ptb.bin"
#define TOKENIZER "models/weights/ptb.tok"

typedef struct {
    int exited;   /* 1: exited normally (not killed by a signal) */
    int status;   /* its exit status */
    char out[8192];
    char err[4096];
} cli_run;

static void slurp(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    size_t len = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[len] = '\0';
    if (f) fclose(f);
}

/* Runs "$HEKV_CLI ARGS" (ARGS formatted, passed through sh) with stdout and stderr
 * captured (the first few KiB of each). exec makes the wait status the tool's own. */
static cli_run run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static cli_run run(const char *fmt, ...) {
    const char *bin = getenv("HEKV_CLI");
    if (!bin || !*bin) cr_skip_test("HEKV_CLI is not set (make test sets it)");
    char args[2048], outp[] = "/tmp/hekv_cli_outXXXXXX", errp[] = "/tmp/hekv_cli_errXXXXXX";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    int fo = mkstemp(outp), fe = mkstemp(errp);
    cr_assert(fo >= 0 && fe >= 0);
    close(fo), close(fe);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "exec %s %s >%s 2>%s </dev/null", bin, args, outp, errp);
    int ws = system(cmd);
    cli_run r = {0};
    cr_assert(ws != -1, "system() failed for: %s", cmd);
    r.exited = WIFEXITED(ws);
    r.status = r.exited ? WEXITSTATUS(ws) : -WTERMSIG(ws);
    slurp(outp, r.out, sizeof r.out);
    slurp(errp, r.err, sizeof r.err);
    unlink(outp), unlink(errp);
    return r;
}

static int starts_with(const char *s, const char *prefix) {
    return !strncmp(s, prefix, strlen(prefix));
}

/* A rejected invocation: exited (no signal) with `status`, and a "hekv: " message that
 * contains `needle` (NULL: any). */
static void expect_error(const cli_run *r, int status, const char *needle, const char *what) {
    cr_assert(r->exited, "%s: killed by signal %d", what, -r->status);
    cr_expect_eq(r->status, status, "%s: exit %d, want %d (stderr: %s)", what, r->status,
                 status, r->err);
    cr_expect(starts_with(r->err, "hekv: "), "%s: stderr does not start with 'hekv: ': %s",
              what, r->err);
    if (needle)
        cr_expect(strstr(r->err, needle) != NULL, "%s: stderr lacks '%s': %s", what, needle,
                  r->err);
}

static void expect_ok(const cli_run *r, const char *what) {
    cr_assert(r->exited, "%s: killed by signal %d", what, -r->status);
    cr_assert_eq(r->status, 0, "%s: exit %d (stderr: %s)", what, r->status, r->err);
}

/* A scratch file holding the first `len` bytes of src ("" when len is 0). */
static void truncated_copy(const char *src, size_t len, char *path) {
    strcpy(path, "/tmp/hekv_cli_fileXXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *in = fopen(src, "rb");
    cr_assert(in != NULL, "cannot open %s (run the tests from the repository root)", src);
    char buf[4096];
    size_t left = len;
    while (left > 0) {
        size_t got = fread(buf, 1, left < sizeof buf ? left : sizeof buf, in);
        if (got == 0) break;
        cr_assert_eq(write(fd, buf, got), (ssize_t)got);
        left -= got;
    }
    fclose(in);
    close(fd);
}

Test(cli, help_and_version) {
    cli_run r = run("--help");
    expect_ok(&r, "hekv --help");
    cr_expect(strstr(r.out, "usage: hekv") != NULL);
    r = run("--version");
    expect_ok(&r, "hekv --version");
    const char *sub[] = {"run", "calibrate", "eval", "params", "approx", "bench",
                         "bench ntt", "bench ckks", "bench matvec", "bench attention",
                         "bench poly"};
    for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
        r = run("%s --help", sub[i]);
        expect_ok(&r, sub[i]);
        cr_expect(strstr(r.out, "usage: hekv") != NULL, "%s --help: %s", sub[i], r.out);
    }
}

Test(cli, unknown_command_and_options) {
    cli_run r = run("frobnicate");
    expect_error(&r, 2, "frobnicate", "unknown command");
    r = run("bench frobnicate");
    expect_error(&r, 2, "frobnicate", "unknown bench family");
    const char *sub[] = {"run", "calibrate", "eval", "params", "approx",
                         "bench ntt", "bench ckks", "bench matvec", "bench attention",
                         "bench poly"};
    for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
        r = run("%s --no-such-option", sub[i]);
        expect_error(&r, 2, "--no-such-option", sub[i]);
    }
}

Test(cli, missing_and_bad_values) {
    cli_run r = run("bench ckks --params");
    expect_error(&r, 2, "--params", "--params without a value");
    r = run("bench ckks --params toy-N12 --threads 0");
    expect_error(&r, 2, "--threads", "--threads 0");
    r = run("bench ckks --params toy-N12 --reps many");
    expect_error(&r, 2, "--reps", "--reps many");
    r = run("bench ckks --params toy-N12 --ops add,frobnicate");
    expect_error(&r, 2, "frobnicate", "--ops with an unknown operation");
    r = run("bench ckks");
    expect_error(&r, 2, "--params", "bench ckks without --params");
    r = run("bench ntt --logn 40");
    expect_error(&r, 2, "--logn", "--logn 40");
    r = run("eval --model " MODEL);
    expect_error(&r, 2, "--data", "eval without --data / --lambada");
    r = run("run --model " MODEL " -t -1");
    expect_error(&r, 2, NULL, "negative temperature");
    r = run("run --model " MODEL " --precision f16");
    expect_error(&r, 2, "f16", "unknown precision");
    r = run("calibrate --data README.md");
    expect_error(&r, 2, "--model", "calibrate without --model");
}

Test(cli, parameter_sets) {
    cli_run r = run("params --csv");
    expect_ok(&r, "params --csv");
    cr_expect(starts_with(r.out, "name,n,slots,limbs,special_limbs,dnum,log2_qp,bound,verdict,"
                                 "swk_bytes\n"), "header: %s", r.out);
    cr_expect(strstr(r.out, "\nN16-128,65536,32768,") != NULL, "%s", r.out);
    r = run("bench ckks --params no-such-set");
    expect_error(&r, 1, "no-such-set", "unknown parameter set");
    r = run("bench matvec --params toy-N12 --d 100000");
    cr_assert(r.exited);
    cr_expect_neq(r.status, 0, "matvec with d beyond the slots");
    cr_expect(starts_with(r.err, "hekv: "), "%s", r.err);
    r = run("bench attention --params toy-N12 --d 64 --heads 3 --kv-heads 3 --n 4");
    cr_assert(r.exited);
    cr_expect_neq(r.status, 0, "attention with 3 heads");
    cr_expect(starts_with(r.err, "hekv: "), "%s", r.err);
}

Test(cli, bench_ckks_csv) {
    cli_run r = run("bench ckks --params toy-N12 --reps 1 --ops add,rescale --csv");
    expect_ok(&r, "bench ckks toy-N12");
    cr_expect(starts_with(r.out, "op,params,limbs,threads,median_ms,min_ms,max_ms\nadd,toy-N12,"),
              "%s", r.out);
    cr_expect(strstr(r.out, "\nrescale,toy-N12,") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "mult_relin") == NULL, "--ops left mult_relin in: %s", r.out);
}

Test(cli, bad_model_files) {
    cli_run r = run("run --model /nonexistent/model.bin --tokenizer " TOKENIZER);
    expect_error(&r, 1, "/nonexistent/model.bin", "missing model");
    r = run("run --model README.md --tokenizer " TOKENIZER);
    expect_error(&r, 1, "README.md", "a text file as the model");
    char path[64];
    const size_t cuts[] = {0, 20, 28, 4096};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        truncated_copy(MODEL, cuts[i], path);
        r = run("eval --model %s --tokenizer " TOKENIZER " --data README.md", path);
        expect_error(&r, 1, NULL, "truncated model");
        unlink(path);
    }
    truncated_copy(TOKENIZER, 100, path);
    r = run("run --model " MODEL " --tokenizer %s --prompt the -n 3", path);
    expect_error(&r, 1, NULL, "truncated tokenizer");
    unlink(path);
    r = run("eval --model " MODEL " --tokenizer " TOKENIZER " --data /nonexistent.txt");
    expect_error(&r, 1, "/nonexistent.txt", "missing data file");
    r = run("approx --calib README.md");
    expect_error(&r, 1, NULL, "a text file as the calibration");
}

Test(cli, model_pipeline) {
    /* greedy generation, perplexity, calibration and approximation design on the
     * shipped PTB model (small: a few seconds) */
    cli_run r = run("run --model " MODEL " --tokenizer " TOKENIZER
                    " --prompt 'the company said' -n 8 -t 0");
    expect_ok(&r, "run");
    cr_expect(starts_with(r.out, "the company said"), "%s", r.out);
    cli_run r2 = run("run --model " MODEL " --tokenizer " TOKENIZER
                     " --prompt 'the company said' -n 8 -t 0");
    expect_ok(&r2, "run again");
    cr_expect_str_eq(r.out, r2.out, "greedy output differs between runs");
    r = run("eval --model " MODEL " --tokenizer " TOKENIZER
            " --data README.md --max-tokens 300 --csv");
    expect_ok(&r, "eval --csv");
    cr_expect(starts_with(r.out, "model,data,precision,approx,tokens,words,nll,ce_nats,"), "%s",
              r.out);
    char calib[] = "/tmp/hekv_cli_calXXXXXX", approx[] = "/tmp/hekv_cli_apxXXXXXX";
    int f1 = mkstemp(calib), f2 = mkstemp(approx);
    cr_assert(f1 >= 0 && f2 >= 0);
    close(f1), close(f2);
    r = run("calibrate --model " MODEL " --tokenizer " TOKENIZER
            " --data README.md --max-tokens 300 --out %s --quiet", calib);
    expect_ok(&r, "calibrate");
    r = run("approx --calib %s --out %s --quiet", calib, approx);
    expect_ok(&r, "approx");
    r = run("eval --model " MODEL " --tokenizer " TOKENIZER
            " --data README.md --max-tokens 128 --approx %s", approx);
    expect_ok(&r, "eval --approx");
    unlink(calib), unlink(approx);
}

Test(cli, default_output_files_beside_the_input) {
    /* calibrate writes STEM.calib beside STEM.bin, approx STEM.approx beside STEM.calib */
    char dir[] = "/tmp/hekv_cli_dirXXXXXX", bin[128], calib[128], approx[128];
    cr_assert(mkdtemp(dir) != NULL);
    snprintf(bin, sizeof bin, "%s/m.bin", dir);
    snprintf(calib, sizeof calib, "%s/m.calib", dir);
    snprintf(approx, sizeof approx, "%s/m.approx", dir);
    char copy[64];
    truncated_copy(MODEL, (size_t)1 << 30, copy); /* the whole file */
    cr_assert_eq(rename(copy, bin), 0);
    cli_run r = run("calibrate --model %s --tokenizer " TOKENIZER
                    " --data README.md --max-tokens 200 --quiet", bin);
    expect_ok(&r, "calibrate without --out");
    cr_expect_eq(access(calib, R_OK), 0, "no %s", calib);
    r = run("approx --calib %s --quiet", calib);
    expect_ok(&r, "approx without --out");
    cr_expect_eq(access(approx, R_OK), 0, "no %s", approx);
    unlink(bin), unlink(calib), unlink(approx);
    rmdir(dir);
}

/* A scratch directory for one test (removed by rm_scratch). */
static void scratch_dir(char *dir) {
    strcpy(dir, "/tmp/hekv_cli_dirXXXXXX");
    cr_assert(mkdtemp(dir) != NULL);
}

static void rm_scratch(const char *dir) {
    char cmd[256];
    if (strncmp(dir, "/tmp/hekv_cli_dir", 17) != 0) return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    cr_assert(f != NULL, "cannot create %s", path);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

/* Directories, FIFOs and devices where a file is expected: a message naming what the path
 * is and exit 1, at once (no read of 2^63 bytes, no "0 bytes" model, no blocking on a
 * FIFO without a writer). */
Test(cli, non_regular_input_files, .timeout = 60) {
    char dir[64], fifo[128];
    scratch_dir(dir);
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    cli_run r = run("run --model /dev/zero --tokenizer " TOKENIZER);
    expect_error(&r, 1, "character device", "--model /dev/zero");
    r = run("run --model %s --tokenizer " TOKENIZER, dir);
    expect_error(&r, 1, "directory", "--model DIR");
    r = run("run --model %s --tokenizer " TOKENIZER, fifo);
    expect_error(&r, 1, "FIFO", "--model FIFO");
    r = run("run --model " MODEL " --tokenizer %s -n 2", dir);
    expect_error(&r, 1, "directory", "--tokenizer DIR");
    r = run("run --model " MODEL " --tokenizer /dev/null -n 2");
    expect_error(&r, 1, "character device", "--tokenizer /dev/null");
    r = run("eval --model " MODEL " --tokenizer " TOKENIZER " --data %s", dir);
    expect_error(&r, 1, "directory", "--data DIR");
    r = run("eval --model " MODEL " --tokenizer " TOKENIZER " --data %s", fifo);
    expect_error(&r, 1, "FIFO", "--data FIFO");
    r = run("calibrate --model " MODEL " --tokenizer " TOKENIZER " --data %s --out %s/x.calib",
            fifo, dir);
    expect_error(&r, 1, "FIFO", "calibrate --data FIFO");
    r = run("eval --model " MODEL " --tokenizer " TOKENIZER " --lambada %s", fifo);
    expect_error(&r, 1, "FIFO", "--lambada FIFO");
    r = run("eval --model " MODEL " --tokenizer " TOKENIZER " --data README.md --approx %s",
            dir);
    expect_error(&r, 1, "directory", "--approx DIR");
    r = run("approx --calib %s", fifo);
    expect_error(&r, 1, "FIFO", "approx --calib FIFO");
    rm_scratch(dir);
}

/* Output paths are checked before the work: calibrate with an unwritable default output
 * (STEM.calib is a directory) or --out in a missing folder, and approx with --out a
 * directory, fail at once with the writability check's message (they used to compute for
 * half a minute first and fail when saving). */
Test(cli, unwritable_outputs_fail_before_the_work, .timeout = 60) {
    char dir[64], bin[128], calib[128], approx[128], copy[64];
    scratch_dir(dir);
    snprintf(bin, sizeof bin, "%s/m.bin", dir);
    snprintf(calib, sizeof calib, "%s/m.calib", dir);
    snprintf(approx, sizeof approx, "%s/m.approx", dir);
    truncated_copy(MODEL, (size_t)1 << 30, copy);
    cr_assert_eq(rename(copy, bin), 0);
    cr_assert_eq(mkdir(calib, 0700), 0); /* the default output is a directory */
    cli_run r = run("calibrate --model %s --tokenizer " TOKENIZER " --data README.md", bin);
    expect_error(&r, 1, "cannot write", "calibrate, default output a directory");
    cr_expect(strstr(r.err, "default --out") != NULL, "%s", r.err);
    cr_expect(strstr(r.out, "calibrated") == NULL, "it calibrated first: %s", r.out);
    r = run("calibrate --model %s --tokenizer " TOKENIZER " --data README.md --out "
            "%s/no/such/dir/x.calib", bin, dir);
    expect_error(&r, 1, "cannot write", "calibrate --out in a missing folder");
    /* approx: a valid calibration, an output that is a directory */
    r = run("calibrate --model %s --tokenizer " TOKENIZER
            " --data README.md --max-tokens 200 --out %s/ok.calib --quiet", bin, dir);
    expect_ok(&r, "calibrate");
    cr_assert_eq(mkdir(approx, 0700), 0);
    r = run("approx --calib %s/ok.calib --out %s", dir, approx);
    expect_error(&r, 1, "cannot write", "approx --out DIR");
    cr_expect(strstr(r.out, "designed") == NULL, "it designed first: %s", r.out);
    rmdir(approx);
    snprintf(approx, sizeof approx, "%s/ok.approx", dir);
    cr_assert_eq(mkdir(approx, 0700), 0); /* the default output of ok.calib */
    r = run("approx --calib %s/ok.calib", dir);
    expect_error(&r, 1, "default --out", "approx, default output a directory");
    rm_scratch(dir);
}

/* --approx evaluates the series as the circuits would and reports, per function and layer,
 * the inputs outside the designed intervals: to stderr for run, in the report for eval
 * (and as a CSV column). A 1/x series on [1, 2] is far too narrow for softmax sums. */
Test(cli, approx_reports_inputs_outside_the_intervals, .timeout = 60) {
    char dir[64], approx[128];
    scratch_dir(dir);
    snprintf(approx, sizeof approx, "%s/narrow.approx", dir);
    write_file(approx, "hekv-approx 1\nrecip 1 2 2 0.75 -0.25\nend\n");
    cli_run r = run("run --model " MODEL " --tokenizer " TOKENIZER
                    " --prompt 'the company said' -n 4 -t 0 --approx %s", approx);
    expect_ok(&r, "run --approx");
    cr_expect(strstr(r.err, "outside the designed intervals") != NULL, "%s", r.err);
    cr_expect(strstr(r.err, "reciprocal") != NULL, "%s", r.err);
    cr_expect(strstr(r.err, "[1, 2]") != NULL, "%s", r.err);
    r = run("eval --model " MODEL " --tokenizer " TOKENIZER
            " --data README.md --max-tokens 64 --approx %s", approx);
    expect_ok(&r, "eval --approx");
    cr_expect(strstr(r.out, "outside the designed intervals") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "as the circuits would") != NULL, "%s", r.out);
    r = run("eval --model " MODEL " --tokenizer " TOKENIZER
            " --data README.md --max-tokens 64 --approx %s --approx-clamp", approx);
    expect_ok(&r, "eval --approx --approx-clamp");
    cr_expect(strstr(r.out, "--approx-clamp") != NULL, "%s", r.out);
    r = run("eval --model " MODEL " --tokenizer " TOKENIZER
            " --data README.md --max-tokens 64 --approx %s --csv", approx);
    expect_ok(&r, "eval --approx --csv");
    cr_expect(strstr(r.out, ",stride,approx_outside\n") != NULL, "%s", r.out);
    r = run("eval --model " MODEL " --tokenizer " TOKENIZER
            " --data README.md --max-tokens 64 --approx-clamp");
    expect_error(&r, 2, "--approx", "--approx-clamp without --approx");
    rm_scratch(dir);
}

/* --seed 0 is a stream of its own (it used to be seed 1's), and a seed repeats its text. */
Test(cli, run_seeds) {
    const char *args = "run --model " MODEL " --tokenizer " TOKENIZER
                       " --prompt 'the company' -n 24 -t 1 -p 1";
    cli_run a = run("%s --seed 0", args), b = run("%s --seed 1", args),
            c = run("%s --seed 0", args);
    expect_ok(&a, "--seed 0");
    expect_ok(&b, "--seed 1");
    expect_ok(&c, "--seed 0 again");
    cr_expect_str_neq(a.out, b.out, "seeds 0 and 1 give the same text: %s", a.out);
    cr_expect_str_eq(a.out, c.out, "seed 0 is not reproducible");
}

/* eval --lines --max-tokens counts words over the scored prefix only. */
Test(cli, eval_max_tokens_words_of_the_prefix) {
    cli_run r = run("eval --model " MODEL " --tokenizer " TOKENIZER
                    " --data README.md --lines --max-tokens 40 --csv");
    expect_ok(&r, "eval --lines --max-tokens 40");
    const char *row = strchr(r.out, '\n');
    cr_assert(row != NULL, "%s", r.out);
    row++;
    for (int field = 0; field < 4; field++) { /* model, data, precision, approx (empty) */
        row = strchr(row, ',');
        cr_assert(row != NULL, "%s", r.out);
        row++;
    }
    long long tokens = 0, words = 0;
    cr_assert_eq(sscanf(row, "%lld,%lld", &tokens, &words), 2, "%s", r.out);
    cr_expect_eq(tokens, 40);
    /* every word and every line end needs a token of its own (a cut line: one more) */
    cr_expect(words > 0 && words <= 41, "%lld words for 40 tokens (the whole file's?)", words);
}
