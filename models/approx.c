/* approx.c: the FHE simulation's Chebyshev series of the four nonlinearities (exp, 1/x,
 * 1/sqrt(x), SiLU): a set of at most one hekv_cheby per hekv_nonlin_kind, read from and
 * written to the "hekv-approx 1" text file, and the simulation hook (hekv_llama_sim) that
 * plugs a set into the reference forward, evaluates each series as the encrypted circuit
 * will (no clamping unless asked for) and counts, per function and layer, the inputs that
 * fell outside the series' interval. It deliberately does not design the series
 * (approx_gen.c takes them from the CKKS designs, nonlin_design.c searches those) and does
 * not know about ciphertexts: the encrypted engine evaluates the same series
 * homomorphically (hekv_ckks_eval_poly).
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
 * (1..8192, HEKV_CHEBY_MAX_COEFFS) and N coefficients; every number is a finite C strtod
 * value. Each function appears at most once; a function that is absent stays exact. "end"
 * closes the file.
 *
 * Meaning: f(x) ~= sum_{k<N} c_k T_k(u), u = (2x - LO - HI) / (HI - LO), with c_0 at full
 * weight (numpy.polynomial.chebyshev's convention: numpy's Chebyshev.fit(...,
 * domain=[LO, HI]).coef are the c_k; hekv_cheby's). Outside [LO, HI] the series is
 * evaluated as it stands, as an encrypted polynomial is: it grows like T_{N-1}(u), so an
 * interval that does not cover the inputs (hekv-calib) shows up as a diverging simulation
 * and in the simulation's excursion counts. The arguments are: exp, s - max(s) in the
 * softmax; recip, the softmax sum; invsqrt, mean(x^2) + 1e-5 in RMSNorm; silu, the SwiGLU
 * gate input. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hekv/llama_approx.h"
#include "src/base/base.h"

#define APPROX_HEADER "hekv-approx 1"

_Static_assert(HEKV_NONLIN_EXP == 0 && HEKV_NONLIN_RECIP == 1 && HEKV_NONLIN_INVSQRT == 2 &&
                   HEKV_NONLIN_SILU == 3 && HEKV_LLAMA_NONLIN_COUNT == 4,
               "the model's functions are the first four hekv_nonlin_kind values");

/* The file's token of each model function (indexed by kind). */
static const char *const fn_token[HEKV_LLAMA_NONLIN_COUNT] = {"exp", "recip", "invsqrt",
                                                              "silu"};

static int model_kind(hekv_nonlin_kind k) { return (int)k >= 0 && k < HEKV_LLAMA_NONLIN_COUNT; }

/* ---------------------------------------------------------------------------------------
 * Sets of series
 * ------------------------------------------------------------------------------------- */

struct hekv_llama_chebset {
    hekv_cheby *fn[HEKV_LLAMA_NONLIN_COUNT]; /* NULL: exact */
};

hekv_status hekv_llama_chebset_new(hekv_llama_chebset **out, hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_chebset_new: out is NULL");
    *out = calloc(1, sizeof **out);
    if (!*out) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_chebset_new: out of memory");
    return HEKV_OK;
}

void hekv_llama_chebset_free(hekv_llama_chebset *s) {
    if (!s) return;
    for (int k = 0; k < HEKV_LLAMA_NONLIN_COUNT; k++) hekv_ckks_cheby_free(s->fn[k]);
    free(s);
}

/* Installs p (owned from now on) as kind's series. */
static void chebset_put(hekv_llama_chebset *s, int kind, hekv_cheby *p) {
    hekv_ckks_cheby_free(s->fn[kind]);
    s->fn[kind] = p;
}

hekv_status hekv_llama_chebset_set(hekv_llama_chebset *s, hekv_nonlin_kind kind,
                                   const hekv_cheby *p, hekv_err *err) {
    if (!s || !p) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_chebset_set: NULL");
    if (!model_kind(kind))
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "hekv_llama_chebset_set: the model has no %s (only exp, recip, "
                            "invsqrt and silu are approximated)",
                            hekv_ckks_nonlin_name(kind) ? hekv_ckks_nonlin_name(kind)
                                                        : "such function");
    hekv_cheby *copy = NULL;
    hekv_status st = hekv_ckks_cheby_new(hekv_ckks_cheby_coeffs(p), hekv_ckks_cheby_degree(p) + 1,
                                         hekv_ckks_cheby_lo(p), hekv_ckks_cheby_hi(p), &copy,
                                         err);
    if (st != HEKV_OK) return st;
    chebset_put(s, (int)kind, copy);
    return HEKV_OK;
}

const hekv_cheby *hekv_llama_chebset_get(const hekv_llama_chebset *s, hekv_nonlin_kind kind) {
    return s && model_kind(kind) ? s->fn[kind] : NULL;
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
        while (f < HEKV_LLAMA_NONLIN_COUNT && strcmp(r.field, fn_token[f])) f++;
        if (f == HEKV_LLAMA_NONLIN_COUNT) {
            st = hekv_err_set(err, HEKV_ERR_FORMAT,
                              "approximation file line %d: '%s' is not a function name (exp, "
                              "recip, invsqrt, silu) or 'end'",
                              r.field_line, r.field);
            goto fail;
        }
        if (s->fn[f]) {
            st = hekv_err_set(err, HEKV_ERR_FORMAT,
                              "approximation file line %d: a second entry for %s", r.field_line,
                              fn_token[f]);
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
                                  r.line, fn_token[f], what[i],
                                  r.p >= r.end ? " (the file ends early: truncated?)" : "");
                goto fail;
            }
        }
        if (!(lo < hi)) {
            st = hekv_err_set(err, HEKV_ERR_FORMAT,
                              "approximation file line %d: %s interval [%g, %g] needs LO < HI",
                              r.field_line, fn_token[f], lo, hi);
            goto fail;
        }
        if (nd != floor(nd) || nd < 1 || nd > HEKV_CHEBY_MAX_COEFFS) {
            st = hekv_err_set(err, HEKV_ERR_FORMAT,
                              "approximation file line %d: %s coefficient count %g is not an "
                              "integer in 1..%d",
                              r.field_line, fn_token[f], nd, HEKV_CHEBY_MAX_COEFFS);
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
                                  r.line, fn_token[f], i, n,
                                  got == 0 ? "is missing: the file ends early (truncated?)"
                                           : "is not a finite number");
                goto fail;
            }
        }
        hekv_cheby *p = NULL;
        if ((st = hekv_ckks_cheby_new(coef, n, lo, hi, &p, err)) != HEKV_OK) goto fail;
        chebset_put(s, f, p);
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
    hekv_buf b = {0};
    hekv_status st = hekv_file_read(path, HEKV_LLAMA_TEXT_MAX_BYTES, &b, err);
    if (st != HEKV_OK) {
        if (err) {
            char tmp[HEKV_ERR_MSG_LEN];
            snprintf(tmp, sizeof tmp, "%s", err->msg);
            hekv_err_set(err, st, "approximation file: %s", tmp);
        }
        return st;
    }
    st = hekv_llama_chebset_parse((const char *)b.data, b.len, out, err);
    hekv_buf_free(&b);
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
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_chebset_save: out of memory");
    fprintf(f, APPROX_HEADER "\n");
    fprintf(f, "# f(x) ~ sum_k c_k T_k((2x - LO - HI) / (HI - LO)); not clamped: outside\n"
               "# [LO, HI] the series grows as the encrypted circuit does\n");
    fprintf(f, "# function LO HI N c_0 .. c_{N-1}   (format: models/approx.c)\n");
    for (int k = 0; k < HEKV_LLAMA_NONLIN_COUNT; k++) {
        const hekv_cheby *p = s->fn[k];
        if (!p) continue;
        const int n = hekv_ckks_cheby_degree(p) + 1;
        const double *c = hekv_ckks_cheby_coeffs(p);
        fprintf(f, "%s %.17g %.17g %d", fn_token[k], hekv_ckks_cheby_lo(p),
                hekv_ckks_cheby_hi(p), n);
        for (int i = 0; i < n; i++) fprintf(f, "%s%.17g", i % 4 == 0 ? "\n  " : " ", c[i]);
        fprintf(f, "\n");
    }
    fprintf(f, "end\n");
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || !text) {
        free(text);
        return hekv_err_set(err, HEKV_ERR_NOMEM,
                            "hekv_llama_chebset_save: out of memory formatting %s", path);
    }
    hekv_status st = hekv_file_write(path, (const uint8_t *)text, len, 0, err);
    free(text);
    return st;
}

/* ---------------------------------------------------------------------------------------
 * The simulation hook
 * ------------------------------------------------------------------------------------- */

/* What one function saw at one layer outside its interval. Only inputs outside touch it
 * (rare in a sound design), so relaxed atomics cost nothing on the common path. */
typedef struct {
    _Atomic int64_t below, above, nan;
    _Atomic double min_x, max_x; /* start at lo and hi */
} sim_slot;

struct hekv_llama_sim {
    const hekv_llama_chebset *set;
    int n_layers; /* rows: n_layers + 1 (the last: the final RMSNorm) */
    unsigned flags;
    double lo[HEKV_LLAMA_NONLIN_COUNT], hi[HEKV_LLAMA_NONLIN_COUNT];
    sim_slot *slots; /* [HEKV_LLAMA_NONLIN_COUNT][n_layers + 1] */
    hekv_llama_approx hook;
};

static sim_slot *slot_of(const hekv_llama_sim *sim, int kind, int layer) {
    if (layer < 0 || layer > sim->n_layers) layer = sim->n_layers;
    return &sim->slots[(size_t)kind * (size_t)(sim->n_layers + 1) + (size_t)layer];
}

static void record(const hekv_llama_sim *sim, int kind, int layer, double x) {
    sim_slot *s = slot_of(sim, kind, layer);
    if (isnan(x)) {
        atomic_fetch_add_explicit(&s->nan, 1, memory_order_relaxed);
    } else if (x < sim->lo[kind]) {
        atomic_fetch_add_explicit(&s->below, 1, memory_order_relaxed);
        double cur = atomic_load_explicit(&s->min_x, memory_order_relaxed);
        while (x < cur && !atomic_compare_exchange_weak_explicit(&s->min_x, &cur, x,
                                                                 memory_order_relaxed,
                                                                 memory_order_relaxed)) {
        }
    } else {
        atomic_fetch_add_explicit(&s->above, 1, memory_order_relaxed);
        double cur = atomic_load_explicit(&s->max_x, memory_order_relaxed);
        while (x > cur && !atomic_compare_exchange_weak_explicit(&s->max_x, &cur, x,
                                                                 memory_order_relaxed,
                                                                 memory_order_relaxed)) {
        }
    }
}

/* The series of kind at x, as the circuit computes it (or at x clamped, when asked). */
static double sim_eval(const hekv_llama_sim *sim, int kind, double x, int layer) {
    const double lo = sim->lo[kind], hi = sim->hi[kind];
    if (!(x >= lo && x <= hi)) {
        record(sim, kind, layer, x);
        if (sim->flags & HEKV_LLAMA_SIM_CLAMP) x = x < lo ? lo : x > hi ? hi : x; /* NaN stays */
    }
    return hekv_ckks_cheby_eval(sim->set->fn[kind], x);
}

static double sim_exp(double x, int layer, void *ctx) {
    return sim_eval(ctx, HEKV_NONLIN_EXP, x, layer);
}
static double sim_recip(double x, int layer, void *ctx) {
    return sim_eval(ctx, HEKV_NONLIN_RECIP, x, layer);
}
static double sim_invsqrt(double x, int layer, void *ctx) {
    return sim_eval(ctx, HEKV_NONLIN_INVSQRT, x, layer);
}
static double sim_silu(double x, int layer, void *ctx) {
    return sim_eval(ctx, HEKV_NONLIN_SILU, x, layer);
}

void hekv_llama_sim_reset(hekv_llama_sim *sim) {
    if (!sim) return;
    for (int k = 0; k < HEKV_LLAMA_NONLIN_COUNT; k++)
        for (int l = 0; l <= sim->n_layers; l++) {
            sim_slot *s = slot_of(sim, k, l);
            atomic_store_explicit(&s->below, 0, memory_order_relaxed);
            atomic_store_explicit(&s->above, 0, memory_order_relaxed);
            atomic_store_explicit(&s->nan, 0, memory_order_relaxed);
            atomic_store_explicit(&s->min_x, sim->lo[k], memory_order_relaxed);
            atomic_store_explicit(&s->max_x, sim->hi[k], memory_order_relaxed);
        }
}

hekv_status hekv_llama_sim_new(const hekv_llama_chebset *s, int n_layers, unsigned flags,
                               hekv_llama_sim **out, hekv_err *err) {
    static const char fn[] = "hekv_llama_sim_new";
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (!s) return hekv_err_set(err, HEKV_ERR_ARG, "%s: the set is NULL", fn);
    if (n_layers < 1 || n_layers > HEKV_LLAMA_MAX_LAYERS)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: n_layers %d is not in 1..%d", fn, n_layers,
                            HEKV_LLAMA_MAX_LAYERS);
    if (flags & ~HEKV_LLAMA_SIM_CLAMP)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: unknown flags 0x%x", fn, flags);
    hekv_llama_sim *sim = calloc(1, sizeof *sim);
    if (!sim || !(sim->slots = calloc((size_t)HEKV_LLAMA_NONLIN_COUNT * (size_t)(n_layers + 1),
                                      sizeof *sim->slots))) {
        free(sim);
        return hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    }
    sim->set = s;
    sim->n_layers = n_layers;
    sim->flags = flags;
    for (int k = 0; k < HEKV_LLAMA_NONLIN_COUNT; k++) {
        sim->lo[k] = s->fn[k] ? hekv_ckks_cheby_lo(s->fn[k]) : -INFINITY;
        sim->hi[k] = s->fn[k] ? hekv_ckks_cheby_hi(s->fn[k]) : INFINITY;
    }
    hekv_llama_sim_reset(sim);
    sim->hook.exp = s->fn[HEKV_NONLIN_EXP] ? sim_exp : NULL;
    sim->hook.recip = s->fn[HEKV_NONLIN_RECIP] ? sim_recip : NULL;
    sim->hook.invsqrt = s->fn[HEKV_NONLIN_INVSQRT] ? sim_invsqrt : NULL;
    sim->hook.silu = s->fn[HEKV_NONLIN_SILU] ? sim_silu : NULL;
    sim->hook.ctx = sim;
    *out = sim;
    return HEKV_OK;
}

void hekv_llama_sim_free(hekv_llama_sim *sim) {
    if (!sim) return;
    free(sim->slots);
    free(sim);
}

const hekv_llama_approx *hekv_llama_sim_hook(const hekv_llama_sim *sim) {
    return sim ? &sim->hook : NULL;
}

int hekv_llama_sim_layers(const hekv_llama_sim *sim) { return sim ? sim->n_layers : 0; }

int64_t hekv_llama_sim_excursion(const hekv_llama_sim *sim, hekv_nonlin_kind kind, int layer,
                                 hekv_llama_excursion *out) {
    hekv_llama_excursion e = {0};
    if (sim && model_kind(kind) && sim->set->fn[kind] && layer >= 0 && layer <= sim->n_layers) {
        sim_slot *s = slot_of(sim, (int)kind, layer);
        const double lo = sim->lo[kind], hi = sim->hi[kind];
        e.below = atomic_load_explicit(&s->below, memory_order_relaxed);
        e.above = atomic_load_explicit(&s->above, memory_order_relaxed);
        e.nan = atomic_load_explicit(&s->nan, memory_order_relaxed);
        e.min_x = atomic_load_explicit(&s->min_x, memory_order_relaxed);
        e.max_x = atomic_load_explicit(&s->max_x, memory_order_relaxed);
        if (e.below) e.worst_u = (lo + hi - 2 * e.min_x) / (hi - lo);
        if (e.above) e.worst_u = fmax(e.worst_u, (2 * e.max_x - lo - hi) / (hi - lo));
    }
    if (out) *out = e;
    return e.below + e.above + e.nan;
}

int64_t hekv_llama_sim_outside(const hekv_llama_sim *sim) {
    int64_t n = 0;
    if (!sim) return 0;
    for (int k = 0; k < HEKV_LLAMA_NONLIN_COUNT; k++)
        for (int l = 0; l <= sim->n_layers; l++)
            n += hekv_llama_sim_excursion(sim, (hekv_nonlin_kind)k, l, NULL);
    return n;
}
