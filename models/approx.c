/* approx.c: Chebyshev-series approximations of the four nonlinearities (exp, 1/x, 1/sqrt(x),
 * SiLU) for FHE simulation: evaluation (Clenshaw, with clamping to the interval), fitting by
 * interpolation at Chebyshev points, a set of series read from and written to the
 * "hekv-approx 1" text file, and the hook that plugs a set into the reference forward.
 * It deliberately does not design the approximations (minimax degrees, intervals from a
 * calibration, composite polynomials come from another issue) and does not know about
 * ciphertexts: the encrypted engine evaluates the same series homomorphically.
 *
 * File format, version 1:
 *
 *   hekv-approx 1
 *   # comment (from '#' to the end of the line, anywhere)
 *   exp  LO HI N  c_0 c_1 ... c_{N-1}
 *   recip LO HI N c_0 ... c_{N-1}
 *   end
 *
 * The first line is exactly "hekv-approx 1". After it the file is a stream of fields
 * separated by any whitespace, newlines included, so coefficients may wrap over lines. Each
 * entry is a function name (exp, recip, invsqrt, silu), the interval LO < HI, the count N
 * (1..8192) and N coefficients; every number is a finite C strtod value. Each function
 * appears at most once; a function that is absent stays exact. "end" closes the file.
 *
 * Meaning: f(x) ~= sum_{k<N} c_k T_k(u), u = (2x - LO - HI) / (HI - LO), with c_0 at full
 * weight (numpy.polynomial.chebyshev's convention: numpy's Chebyshev.fit(...,
 * domain=[LO, HI]).coef are the c_k). The argument is first clamped to [LO, HI], so outside
 * the interval the series holds its end value: an encrypted polynomial cannot clamp, so the
 * interval must cover the calibrated range (hekv-calib) and clamping only keeps a bad
 * simulation bounded. The arguments are: exp, s - max(s) in the softmax; recip, the softmax
 * sum; invsqrt, mean(x^2) + 1e-5 in RMSNorm; silu, the SwiGLU gate input. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hekv/llama.h"
#include "src/base/base.h"

#define APPROX_HEADER "hekv-approx 1"

static const char *const fn_names[HEKV_LLAMA_FN_COUNT] = {"exp", "recip", "invsqrt", "silu"};

const char *hekv_llama_fn_name(hekv_llama_fn f) {
    return (int)f >= 0 && f < HEKV_LLAMA_FN_COUNT ? fn_names[f] : NULL;
}

double hekv_llama_fn_exact(hekv_llama_fn f, double x) {
    switch (f) {
    case HEKV_LLAMA_FN_EXP: return exp(x);
    case HEKV_LLAMA_FN_RECIP: return 1.0 / x;
    case HEKV_LLAMA_FN_INVSQRT: return 1.0 / sqrt(x);
    case HEKV_LLAMA_FN_SILU: return x / (1.0 + exp(-x));
    default: return NAN;
    }
}

double hekv_llama_cheb_eval(const double *c, int n, double lo, double hi, double x) {
    if (n <= 0) return 0.0;
    if (x < lo) x = lo;
    if (x > hi) x = hi;
    double u = (2.0 * x - lo - hi) / (hi - lo);
    double b1 = 0.0, b2 = 0.0;
    for (int k = n - 1; k >= 1; k--) {
        double b0 = 2.0 * u * b1 - b2 + c[k];
        b2 = b1;
        b1 = b0;
    }
    return c[0] + u * b1 - b2;
}

hekv_status hekv_llama_cheb_fit(double *c, int n, double lo, double hi,
                                double (*f)(double x, void *ctx), void *ctx, hekv_err *err) {
    if (!c || !f) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_cheb_fit: NULL argument");
    if (n < 1 || n > HEKV_LLAMA_CHEB_MAX_COEFFS || !isfinite(lo) || !isfinite(hi) || !(lo < hi))
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "hekv_llama_cheb_fit: need 1 <= n <= %d and finite lo < hi (got n "
                            "%d, [%g, %g])",
                            HEKV_LLAMA_CHEB_MAX_COEFFS, n, lo, hi);
    const double pi = 3.14159265358979323846;
    double *vals = malloc((size_t)n * sizeof *vals);
    if (!vals) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_cheb_fit: out of memory");
    /* f at the Chebyshev points of the first kind, x_j = mid + half cos(pi (j + 1/2) / n) */
    for (int j = 0; j < n; j++) {
        double th = pi * (j + 0.5) / n;
        vals[j] = f(0.5 * (hi + lo) + 0.5 * (hi - lo) * cos(th), ctx);
    }
    /* discrete cosine transform: c_k = (2 - [k = 0]) / n * sum_j f(x_j) cos(k th_j) */
    for (int k = 0; k < n; k++) {
        double s = 0.0;
        for (int j = 0; j < n; j++) s += vals[j] * cos(pi * k * (j + 0.5) / n);
        c[k] = (k == 0 ? 1.0 : 2.0) * s / n;
    }
    free(vals);
    return HEKV_OK;
}

/* ---------------------------------------------------------------------------------------
 * Sets of series
 * ------------------------------------------------------------------------------------- */

typedef struct {
    int n;     /* 0: absent (exact) */
    double lo, hi;
    double *c; /* [n] */
} cheb_series;

struct hekv_llama_chebset {
    cheb_series fn[HEKV_LLAMA_FN_COUNT];
};

hekv_status hekv_llama_chebset_new(hekv_llama_chebset **out, hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_chebset_new: out is NULL");
    *out = calloc(1, sizeof **out);
    if (!*out) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_chebset_new: out of memory");
    return HEKV_OK;
}

void hekv_llama_chebset_free(hekv_llama_chebset *s) {
    if (!s) return;
    for (int f = 0; f < HEKV_LLAMA_FN_COUNT; f++) free(s->fn[f].c);
    free(s);
}

hekv_status hekv_llama_chebset_set(hekv_llama_chebset *s, hekv_llama_fn f, double lo,
                                   double hi, const double *c, int n, hekv_err *err) {
    if (!s || !c) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_chebset_set: NULL");
    if ((int)f < 0 || f >= HEKV_LLAMA_FN_COUNT)
        return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_chebset_set: function %d unknown",
                            (int)f);
    if (!isfinite(lo) || !isfinite(hi) || !(lo < hi))
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "approximation of %s: interval [%g, %g] must be finite with lo < hi",
                            fn_names[f], lo, hi);
    if (n < 1 || n > HEKV_LLAMA_CHEB_MAX_COEFFS)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "approximation of %s: %d coefficients, expected 1..%d", fn_names[f],
                            n, HEKV_LLAMA_CHEB_MAX_COEFFS);
    for (int k = 0; k < n; k++)
        if (!isfinite(c[k]))
            return hekv_err_set(err, HEKV_ERR_ARG,
                                "approximation of %s: coefficient %d is not finite", fn_names[f],
                                k);
    double *copy = malloc((size_t)n * sizeof *copy);
    if (!copy) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_chebset_set: out of memory");
    memcpy(copy, c, (size_t)n * sizeof *copy);
    free(s->fn[f].c);
    s->fn[f] = (cheb_series){n, lo, hi, copy};
    return HEKV_OK;
}

int hekv_llama_chebset_get(const hekv_llama_chebset *s, hekv_llama_fn f, double *lo,
                           double *hi, const double **c, int *n) {
    if (!s || (int)f < 0 || f >= HEKV_LLAMA_FN_COUNT || s->fn[f].n == 0) return 0;
    if (lo) *lo = s->fn[f].lo;
    if (hi) *hi = s->fn[f].hi;
    if (c) *c = s->fn[f].c;
    if (n) *n = s->fn[f].n;
    return 1;
}

static double hook_eval(const hekv_llama_chebset *s, hekv_llama_fn f, double x) {
    const cheb_series *p = &s->fn[f];
    return hekv_llama_cheb_eval(p->c, p->n, p->lo, p->hi, x);
}
static double hook_exp(double x, void *ctx) { return hook_eval(ctx, HEKV_LLAMA_FN_EXP, x); }
static double hook_recip(double x, void *ctx) { return hook_eval(ctx, HEKV_LLAMA_FN_RECIP, x); }
static double hook_invsqrt(double x, void *ctx) {
    return hook_eval(ctx, HEKV_LLAMA_FN_INVSQRT, x);
}
static double hook_silu(double x, void *ctx) { return hook_eval(ctx, HEKV_LLAMA_FN_SILU, x); }

void hekv_llama_chebset_hook(const hekv_llama_chebset *s, hekv_llama_approx *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    if (!s) return;
    out->exp = s->fn[HEKV_LLAMA_FN_EXP].n ? hook_exp : NULL;
    out->recip = s->fn[HEKV_LLAMA_FN_RECIP].n ? hook_recip : NULL;
    out->invsqrt = s->fn[HEKV_LLAMA_FN_INVSQRT].n ? hook_invsqrt : NULL;
    out->silu = s->fn[HEKV_LLAMA_FN_SILU].n ? hook_silu : NULL;
    out->ctx = (void *)s;
}

/* ---------------------------------------------------------------------------------------
 * "hekv-approx 1" reader and writer
 * ------------------------------------------------------------------------------------- */

typedef struct {
    const char *p, *end;
    int line;
    char field[128];
    int field_line;
} field_reader;

/* Next whitespace-separated field outside comments; 0 at the end of the text, -1 when a
 * field is longer than the buffer. */
static int next_field(field_reader *r) {
    for (;;) {
        while (r->p < r->end && isspace((unsigned char)*r->p)) {
            if (*r->p == '\n') r->line++;
            r->p++;
        }
        if (r->p < r->end && *r->p == '#') {
            while (r->p < r->end && *r->p != '\n') r->p++;
            continue;
        }
        break;
    }
    if (r->p >= r->end) return 0;
    size_t n = 0;
    r->field_line = r->line;
    while (r->p < r->end && !isspace((unsigned char)*r->p) && *r->p != '#') {
        if (n + 1 >= sizeof r->field) return -1;
        r->field[n++] = *r->p++;
    }
    r->field[n] = '\0';
    return 1;
}

static int field_number(const field_reader *r, double *v) {
    char *end;
    errno = 0;
    *v = strtod(r->field, &end);
    return end != r->field && *end == '\0' && isfinite(*v);
}

hekv_status hekv_llama_chebset_parse(const char *text, size_t len, hekv_llama_chebset **out,
                                     hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_chebset_parse: out is NULL");
    *out = NULL;
    if (!text && len) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_chebset_parse: NULL");
    size_t hl = strlen(APPROX_HEADER);
    size_t l1 = 0;
    while (l1 < len && text[l1] != '\n') l1++;
    size_t l1t = l1 && text[l1 - 1] == '\r' ? l1 - 1 : l1;
    if (l1t != hl || memcmp(text, APPROX_HEADER, hl) != 0)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            len >= 12 && !memcmp(text, "hekv-approx ", 12)
                                ? "approximation file: line 1 is '%.*s'; this build reads "
                                  "format version 1 ('" APPROX_HEADER "')"
                                : "approximation file: line 1 is '%.*s', not the header '"
                                  APPROX_HEADER "'",
                            (int)(l1t < 40 ? l1t : 40), text ? text : "");
    if (memchr(text, '\0', len))
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "approximation file contains a NUL byte: not a text file");
    hekv_llama_chebset *s;
    hekv_status st = hekv_llama_chebset_new(&s, err);
    if (st != HEKV_OK) return st;
    field_reader r = {text + l1, text + len, 1, {0}, 0};
    double *coef = NULL;
    int got_end = 0, k;
    while ((k = next_field(&r)) != 0) {
        if (k < 0) {
            st = hekv_err_set(err, HEKV_ERR_FORMAT,
                              "approximation file line %d: a field longer than 127 characters",
                              r.line);
            goto fail;
        }
        if (got_end) {
            st = hekv_err_set(err, HEKV_ERR_FORMAT,
                              "approximation file line %d: '%s' after 'end'", r.field_line,
                              r.field);
            goto fail;
        }
        if (!strcmp(r.field, "end")) {
            got_end = 1;
            continue;
        }
        int f = 0;
        while (f < HEKV_LLAMA_FN_COUNT && strcmp(r.field, fn_names[f])) f++;
        if (f == HEKV_LLAMA_FN_COUNT) {
            st = hekv_err_set(err, HEKV_ERR_FORMAT,
                              "approximation file line %d: '%s' is not a function name (exp, "
                              "recip, invsqrt, silu) or 'end'",
                              r.field_line, r.field);
            goto fail;
        }
        if (s->fn[f].n) {
            st = hekv_err_set(err, HEKV_ERR_FORMAT,
                              "approximation file line %d: a second entry for %s", r.field_line,
                              fn_names[f]);
            goto fail;
        }
        double lo, hi, nd;
        const char *what[3] = {"LO", "HI", "N"};
        double *dst[3] = {&lo, &hi, &nd};
        for (int i = 0; i < 3; i++) {
            if (next_field(&r) != 1 || !field_number(&r, dst[i])) {
                st = hekv_err_set(err, HEKV_ERR_FORMAT,
                                  "approximation file line %d: %s entry needs '%s' as a finite "
                                  "number%s",
                                  r.line, fn_names[f], what[i],
                                  r.p >= r.end ? " (the file ends early: truncated?)" : "");
                goto fail;
            }
        }
        if (!(lo < hi)) {
            st = hekv_err_set(err, HEKV_ERR_FORMAT,
                              "approximation file line %d: %s interval [%g, %g] needs LO < HI",
                              r.field_line, fn_names[f], lo, hi);
            goto fail;
        }
        if (nd != floor(nd) || nd < 1 || nd > HEKV_LLAMA_CHEB_MAX_COEFFS) {
            st = hekv_err_set(err, HEKV_ERR_FORMAT,
                              "approximation file line %d: %s coefficient count %g is not an "
                              "integer in 1..%d",
                              r.field_line, fn_names[f], nd, HEKV_LLAMA_CHEB_MAX_COEFFS);
            goto fail;
        }
        int n = (int)nd;
        if (!(coef = malloc((size_t)n * sizeof *coef))) {
            st = hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_chebset_parse: out of memory");
            goto fail;
        }
        for (int i = 0; i < n; i++) {
            int got = next_field(&r);
            if (got != 1 || !field_number(&r, &coef[i])) {
                st = hekv_err_set(err, HEKV_ERR_FORMAT,
                                  "approximation file line %d: %s coefficient %d of %d %s",
                                  r.line, fn_names[f], i, n,
                                  got == 0 ? "is missing: the file ends early (truncated?)"
                                           : "is not a finite number");
                goto fail;
            }
        }
        if ((st = hekv_llama_chebset_set(s, (hekv_llama_fn)f, lo, hi, coef, n, err)) != HEKV_OK)
            goto fail;
        free(coef);
        coef = NULL;
    }
    if (!got_end) {
        st = hekv_err_set(err, HEKV_ERR_FORMAT,
                          "approximation file has no 'end': it is truncated");
        goto fail;
    }
    *out = s;
    return HEKV_OK;
fail:
    free(coef);
    hekv_llama_chebset_free(s);
    return st;
}

hekv_status hekv_llama_chebset_load(const char *path, hekv_llama_chebset **out, hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_chebset_load: out is NULL");
    *out = NULL;
    if (!path) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_chebset_load: path is NULL");
    FILE *f = fopen(path, "rb");
    if (!f)
        return hekv_err_set(err, HEKV_ERR_IO, "cannot open approximation file %s: %s", path,
                            strerror(errno));
    long end;
    if (fseek(f, 0, SEEK_END) != 0 || (end = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return hekv_err_set(err, HEKV_ERR_IO, "cannot determine the size of %s", path);
    }
    if (end > (64L << 20)) {
        fclose(f);
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "approximation file %s is %ld bytes; more than 64 MiB is not a "
                            "plausible hekv-approx file",
                            path, end);
    }
    char *buf = malloc((size_t)end + 1);
    if (!buf) {
        fclose(f);
        return hekv_err_set(err, HEKV_ERR_NOMEM, "out of memory reading %s", path);
    }
    size_t n = fread(buf, 1, (size_t)end, f);
    fclose(f);
    if (n != (size_t)end) {
        free(buf);
        return hekv_err_set(err, HEKV_ERR_IO, "short read of %s", path);
    }
    hekv_status st = hekv_llama_chebset_parse(buf, n, out, err);
    free(buf);
    if (st != HEKV_OK && err) {
        char tmp[HEKV_ERR_MSG_LEN];
        snprintf(tmp, sizeof tmp, "%s", err->msg);
        hekv_err_set(err, st, "%s: %s", path, tmp);
    }
    return st;
}

hekv_status hekv_llama_chebset_save(const hekv_llama_chebset *s, const char *path,
                                    hekv_err *err) {
    if (!s || !path) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_chebset_save: NULL");
    FILE *f = fopen(path, "w");
    if (!f)
        return hekv_err_set(err, HEKV_ERR_IO, "cannot create approximation file %s: %s", path,
                            strerror(errno));
    fprintf(f, APPROX_HEADER "\n");
    fprintf(f, "# f(x) ~ sum_k c_k T_k((2x - LO - HI) / (HI - LO)), x clamped to [LO, HI]\n");
    fprintf(f, "# function LO HI N c_0 .. c_{N-1}   (format: models/approx.c)\n");
    for (int fn = 0; fn < HEKV_LLAMA_FN_COUNT; fn++) {
        const cheb_series *p = &s->fn[fn];
        if (!p->n) continue;
        fprintf(f, "%s %.17g %.17g %d", fn_names[fn], p->lo, p->hi, p->n);
        for (int k = 0; k < p->n; k++) fprintf(f, "%s%.17g", k % 4 == 0 ? "\n  " : " ", p->c[k]);
        fprintf(f, "\n");
    }
    fprintf(f, "end\n");
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return hekv_err_set(err, HEKV_ERR_IO, "error writing approximation file %s", path);
    return HEKV_OK;
}
