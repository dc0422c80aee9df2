/* softmax_ns.c: a softmax without a plaintext max, as the encrypted attention must compute
 * it, designed per layer from a calibration and simulated exactly as its circuit runs
 * (every polynomial through hekv_ckks_nonlin_eval_plain, no clamping).
 *
 * Normalize-and-square (Cho, Hanrot, Kim, Park, Stehle, "Fast and accurate homomorphic
 * softmax evaluation", CCS 2024): with B_h an upper bound on head h's scores and
 * u = (s - B_h) / 2^k <= 0,
 *     sigma_0 = e(u) / sum e(u),   sigma_i = sigma_(i-1)^2 / sum sigma_(i-1)^2  (i = 1..k)
 * gives sigma_k = exp(s - B) / sum exp(s - B) = softmax(s) whatever B is: the max never
 * appears. Each normalization's sum lives in a bounded range (sum e(u) in
 * [e^((max s - B)/2^k), n]; n sum sigma^2 in [c^2, n c^2] when sigma sums to c), so its
 * reciprocal is a polynomial circuit over a ratio of about n instead of the 10^7..10^13
 * that a constant shift needs. And a normalization that is off by a factor (1 + d) scales
 * the whole row by it, which the next squaring and normalization cancel exactly: only the
 * last reciprocal must be accurate, the k before it only keep the sums in range (crude
 * designs, relative error crude_tol). The 1/n and n factors are public constants.
 *
 * Depth of a layer: d_exp + k (squarings) + (k + 1) (normalizing products) + k d_crude +
 * d_final. */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hekv/llama_approx.h"

enum { NS_EXP = 0, NS_CRUDE, NS_FINAL, NS_STAGES };

struct hekv_llama_nsoftmax {
    int n_layers, n_heads, steps, n_max;
    double *shift;        /* [L][NH] B per head */
    hekv_nonlin **exp;    /* [L] e^u on [u_lo, margin] */
    hekv_nonlin **crude;  /* [L] 1/t, relative crude_tol (on the bounds' interval) */
    hekv_nonlin **final;  /* [L] 1/t, relative final_tol */
    hekv_nonlin **rstep;  /* [L][k + 1] with sums recorded on text: normalization i's own
                             reciprocal on the recorded range of its sum (else NULL) */
    const hekv_nonlin **plan_recip; /* [L][k + 1]: the reciprocal each normalization uses */
    _Atomic int64_t *outside; /* [L][NS_STAGES] inputs outside the designed intervals */
};

void hekv_llama_nsoftmax_free(hekv_llama_nsoftmax *s) {
    if (!s) return;
    for (int l = 0; l < s->n_layers; l++) {
        if (s->exp) hekv_ckks_nonlin_free(s->exp[l]);
        if (s->crude) hekv_ckks_nonlin_free(s->crude[l]);
        if (s->final) hekv_ckks_nonlin_free(s->final[l]);
    }
    if (s->rstep)
        for (int i = 0; i < s->n_layers * (s->steps + 1); i++) hekv_ckks_nonlin_free(s->rstep[i]);
    free(s->rstep);
    free((void *)s->plan_recip);
    free(s->exp), free(s->crude), free(s->final), free(s->shift), free((void *)s->outside);
    free(s);
}

/* The table of the reciprocal each normalization uses (hekv_llama_nsoftmax_plan). */
static hekv_status build_plan(hekv_llama_nsoftmax *s) {
    const int k = s->steps;
    s->plan_recip = calloc((size_t)s->n_layers * (size_t)(k + 1), sizeof *s->plan_recip);
    if (!s->plan_recip) return HEKV_ERR_NOMEM;
    for (int l = 0; l < s->n_layers; l++)
        for (int i = 0; i <= k; i++)
            s->plan_recip[l * (k + 1) + i] =
                s->rstep ? s->rstep[l * (k + 1) + i] : i == k ? s->final[l] : s->crude[l];
    return HEKV_OK;
}

/* The shifts, e^u and (recips) the reciprocals on the calibration's bounds. */
static hekv_status design_core(hekv_llama_calib *cal, const hekv_llama_nsoftmax_opts *opts,
                               int recips, hekv_llama_nsoftmax **out, hekv_err *err) {
    static const char fn[] = "hekv_llama_nsoftmax_design";
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (!cal) return hekv_err_set(err, HEKV_ERR_ARG, "%s: no calibration", fn);
    const hekv_llama_nsoftmax_opts dflt = {0};
    if (!opts) opts = &dflt;
    const hekv_llama_config *cfg = hekv_llama_calib_config(cal);
    const int k = opts->steps ? opts->steps : 3;
    const double margin = opts->margin > 0 ? opts->margin : 0.5;
    const double rho = opts->crude_tol > 0 ? opts->crude_tol : 0.3;
    const double tol_f = opts->final_tol > 0 ? opts->final_tol : 1e-3;
    const double tol_e = opts->exp_tol > 0 ? opts->exp_tol : 0x1p-20;
    const int n_max = opts->n_max > 0 ? opts->n_max : cfg->seq_len;
    if (k < 0 || k > 12 || rho >= 0.9 || n_max < 1)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: steps %d (0..12), crude tolerance %g "
                            "(< 0.9) or rows of %d positions out of range", fn, k, rho, n_max);
    const int L = cfg->n_layers, NH = cfg->n_heads;
    hekv_llama_nsoftmax *s = calloc(1, sizeof *s);
    if (!s) return hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    s->n_layers = L, s->n_heads = NH, s->steps = k, s->n_max = n_max;
    s->shift = calloc((size_t)L * NH, sizeof *s->shift);
    s->exp = calloc((size_t)L, sizeof *s->exp);
    s->crude = calloc((size_t)L, sizeof *s->crude);
    s->final = calloc((size_t)L, sizeof *s->final);
    s->outside = calloc((size_t)L * NS_STAGES, sizeof *s->outside);
    hekv_status st = HEKV_OK;
    if (!s->shift || !s->exp || !s->crude || !s->final || !s->outside)
        st = hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    const double two_k = ldexp(1, k);
    for (int l = 0; l < L && st == HEKV_OK; l++) {
        hekv_llama_layer_calib *lc = hekv_llama_calib_layer(cal, l);
        double ulo = 0, bmax = -INFINITY;
        for (int h = 0; h < NH; h++) {
            const hekv_llama_range r = lc->attn_score[h];
            if (!(r.lo <= r.hi)) {
                st = hekv_err_set(err, HEKV_ERR_ARG,
                                  "%s: the calibration has no scores for layer %d head %d", fn,
                                  l, h);
                break;
            }
            const double w = r.hi - r.lo > 1 ? r.hi - r.lo : 1;
            /* B a little above the calibrated max: scores beyond it give u > 0, which
             * e^u's interval covers up to u = margin */
            s->shift[(size_t)l * NH + h] = r.hi + fmax(1.0, margin * fabs(r.hi));
            bmax = fmax(bmax, s->shift[(size_t)l * NH + h]);
            ulo = fmin(ulo, (r.lo - margin * w - s->shift[(size_t)l * NH + h]) / two_k);
        }
        if (st != HEKV_OK) break;
        /* the first sum's least value: the row's max score is at least its log-sum-exp
         * minus log n, which is at least log(min sum exp(s)) - log n */
        const hekv_llama_range su = lc->softmax_sum_unshifted;
        const double lse_min = su.lo > 0 ? log(su.lo) : -1e3;
        const double s0_lo =
            exp((lse_min - log((double)n_max) - bmax) / two_k) / (1 + margin);
        (void)0;
        const double t_lo = fmin(k ? s0_lo : 1.0, (1 - rho) * (1 - rho) / (1 + margin));
        const double t_hi = (double)n_max * (1 + rho) * (1 + rho) * (1 + margin);
        hekv_nonlin_opts oe = {0}, oc = {0}, of = {0};
        oe.tol = tol_e;
        oc.tol = rho, oc.relative = 1;
        of.tol = tol_f, of.relative = 1;
        /* k = 0: the final reciprocal normalizes sum e itself */
        const double f_lo = k ? (1 - rho) * (1 - rho) / (1 + margin) : s0_lo;
        st = hekv_llama_nonlin_design(HEKV_NONLIN_EXP, ulo * (1 + margin), margin, &oe,
                                      &s->exp[l], err);
        if (st == HEKV_OK && k > 0 && recips)
            st = hekv_llama_nonlin_design(HEKV_NONLIN_RECIP, t_lo, t_hi, &oc, &s->crude[l], err);
        if (st == HEKV_OK && recips)
            st = hekv_llama_nonlin_design(HEKV_NONLIN_RECIP, f_lo, t_hi, &of, &s->final[l],
                                          err);
    }
    if (st == HEKV_OK && recips && build_plan(s) != HEKV_OK)
        st = hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    if (st != HEKV_OK) {
        hekv_llama_nsoftmax_free(s);
        return st;
    }
    *out = s;
    return HEKV_OK;
}

hekv_status hekv_llama_nsoftmax_design(hekv_llama_calib *cal,
                                       const hekv_llama_nsoftmax_opts *opts,
                                       hekv_llama_nsoftmax **out, hekv_err *err) {
    return design_core(cal, opts, 1, out, err);
}

static double eval_counted(const hekv_llama_nsoftmax *s, int layer, int stage,
                           const hekv_nonlin *nl, double x) {
    if (x < hekv_ckks_nonlin_lo(nl) || x > hekv_ckks_nonlin_hi(nl) || isnan(x))
        atomic_fetch_add_explicit(&s->outside[(size_t)layer * NS_STAGES + stage], 1,
                                  memory_order_relaxed);
    return hekv_ckks_nonlin_eval_plain(nl, x);
}

void hekv_llama_nsoftmax_apply(const hekv_llama_nsoftmax *s, double *a, int n, int layer,
                               int head) {
    if (!s || !a || n < 1 || layer < 0 || layer >= s->n_layers || head < 0 ||
        head >= s->n_heads)
        return;
    const double b = s->shift[(size_t)layer * s->n_heads + head];
    const double two_k = ldexp(1, s->steps), dn = (double)n;
    double sum = 0;
    for (int t = 0; t < n; t++) {
        a[t] = eval_counted(s, layer, NS_EXP, s->exp[layer], (a[t] - b) / two_k);
        sum += a[t];
    }
    for (int i = 0; i <= s->steps; i++) {
        if (i > 0) {
            sum = 0;
            for (int t = 0; t < n; t++) {
                a[t] *= a[t];
                sum += a[t];
            }
            sum *= dn; /* n sum sigma^2 in [c^2, n c^2] */
        }
        const int last = i == s->steps;
        const hekv_nonlin *nl = s->rstep ? s->rstep[layer * (s->steps + 1) + i]
                                : last   ? s->final[layer]
                                         : s->crude[layer];
        const double r =
            eval_counted(s, layer, last ? NS_FINAL : NS_CRUDE, nl, sum) * (i > 0 ? dn : 1.0);
        for (int t = 0; t < n; t++) a[t] *= r;
    }
}

static void hook_softmax(double *a, int n, int layer, int head, void *ctx) {
    hekv_llama_nsoftmax_apply(ctx, a, n, layer, head);
}

void hekv_llama_nsoftmax_hook(const hekv_llama_nsoftmax *s, hekv_llama_approx *hook) {
    memset(hook, 0, sizeof *hook);
    hook->softmax = hook_softmax;
    hook->ctx = (void *)s;
}

int hekv_llama_nsoftmax_depth(const hekv_llama_nsoftmax *s, int layer) {
    if (!s || layer < 0 || layer >= s->n_layers) return -1;
    const int k = s->steps;
    int d = hekv_ckks_nonlin_depth(s->exp[layer]) + k + (k + 1);
    if (s->rstep) {
        for (int i = 0; i <= k; i++)
            d += hekv_ckks_nonlin_depth(s->rstep[layer * (k + 1) + i]);
        return d;
    }
    return d + (k ? k * hekv_ckks_nonlin_depth(s->crude[layer]) : 0) +
           hekv_ckks_nonlin_depth(s->final[layer]);
}

int64_t hekv_llama_nsoftmax_outside(const hekv_llama_nsoftmax *s, int layer) {
    if (!s || layer < 0 || layer >= s->n_layers) return 0;
    int64_t n = 0;
    for (int i = 0; i < NS_STAGES; i++)
        n += atomic_load_explicit(&s->outside[(size_t)layer * NS_STAGES + i],
                                  memory_order_relaxed);
    return n;
}

void hekv_llama_nsoftmax_describe(const hekv_llama_nsoftmax *s, int layer, char *buf,
                                  size_t len) {
    if (!buf || !len) return;
    buf[0] = 0;
    if (!s || layer < 0 || layer >= s->n_layers) return;
    size_t at = 0;
#define PUT(...) (at += (size_t)snprintf(buf + at, at < len ? len - at : 0, __VA_ARGS__))
    char d[96];
    hekv_ckks_nonlin_describe(s->exp[layer], d, sizeof d);
    PUT("k %d: exp [%.3g, %.3g] %s (depth %d)", s->steps, hekv_ckks_nonlin_lo(s->exp[layer]),
        hekv_ckks_nonlin_hi(s->exp[layer]), d, hekv_ckks_nonlin_depth(s->exp[layer]));
    for (int i = 0; i <= s->steps; i++) {
        const hekv_nonlin *nl = s->rstep ? s->rstep[layer * (s->steps + 1) + i]
                                : i == s->steps ? s->final[layer] : s->crude[layer];
        hekv_ckks_nonlin_describe(nl, d, sizeof d);
        PUT("; 1/t%d [%.3g, %.3g] %s (depth %d)", i, hekv_ckks_nonlin_lo(nl),
            hekv_ckks_nonlin_hi(nl), d, hekv_ckks_nonlin_depth(nl));
    }
#undef PUT
}

/* ------------------------------------------------------------------ sums recorded on text */

typedef struct {
    const hekv_llama_nsoftmax *s;
    double *lo, *hi; /* [L][k + 1]: the range of normalization i's sum */
} ns_rec;

/* The exact softmax (max subtracted, in plaintext) of the row, recording the sums the
 * circuit's normalizations would see with exact reciprocals: sum e^((s - B)/2^k) and
 * n sum softmax(s 2^i / 2^k)^2 (i = 1..k). Not thread-safe: one text at a time. */
static void rec_softmax(double *a, int n, int layer, int head, void *ctx) {
    ns_rec *r = ctx;
    const hekv_llama_nsoftmax *s = r->s;
    const int k = s->steps;
    const double b = s->shift[(size_t)layer * s->n_heads + head], two_k = ldexp(1, k);
    double mx = a[0];
    for (int t = 1; t < n; t++) mx = fmax(mx, a[t]);
    for (int i = 0; i <= k; i++) {
        const double f = ldexp(1, i) / two_k; /* temperature of step i */
        double z = 0, q = 0;
        for (int t = 0; t < n; t++) z += exp((a[t] - mx) * f);
        for (int t = 0; t < n; t++) {
            const double p = exp((a[t] - mx) * f) / z;
            q += p * p;
        }
        const double v = i == 0 ? z * exp((mx - b) / two_k) : (double)n * q;
        double *lo = &r->lo[layer * (k + 1) + i], *hi = &r->hi[layer * (k + 1) + i];
        if (v < *lo) *lo = v;
        if (v > *hi) *hi = v;
    }
    double z = 0;
    for (int t = 0; t < n; t++) z += (a[t] = exp(a[t] - mx));
    for (int t = 0; t < n; t++) a[t] /= z;
}

hekv_status hekv_llama_nsoftmax_design_text(const hekv_llama_model *m,
                                            const hekv_llama_tokenizer *tok, const char *text,
                                            size_t len, int64_t max_tokens,
                                            hekv_llama_calib *cal,
                                            const hekv_llama_nsoftmax_opts *opts,
                                            hekv_llama_nsoftmax **out, hekv_err *err) {
    static const char fn[] = "hekv_llama_nsoftmax_design_text";
    if (!m || !tok || !text) return hekv_err_set(err, HEKV_ERR_ARG, "%s: NULL argument", fn);
    hekv_status st = design_core(cal, opts, 0, out, err);
    if (st != HEKV_OK) return st;
    hekv_llama_nsoftmax *s = *out;
    const int L = s->n_layers, k = s->steps, ns = L * (k + 1);
    const double margin = opts && opts->margin > 0 ? opts->margin : 0.5;
    const double rho = opts && opts->crude_tol > 0 ? opts->crude_tol : 0.3;
    const double tol_f = opts && opts->final_tol > 0 ? opts->final_tol : 1e-3;
    ns_rec r = {s, malloc((size_t)ns * sizeof(double)), malloc((size_t)ns * sizeof(double))};
    s->rstep = calloc((size_t)ns, sizeof *s->rstep);
    if (!r.lo || !r.hi || !s->rstep) st = hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    for (int i = 0; st == HEKV_OK && i < ns; i++) r.lo[i] = INFINITY, r.hi[i] = -INFINITY;
    hekv_llama_approx hook = {0};
    hook.softmax = rec_softmax;
    hook.ctx = &r;
    hekv_llama_compare_result res;
    if (st == HEKV_OK) st = hekv_llama_compare(m, tok, text, len, max_tokens, &hook, &res, err);
    for (int i = 0; st == HEKV_OK && i < ns; i++) {
        const int step = i % (k + 1), last = step == k;
        if (!(r.lo[i] <= r.hi[i])) {
            st = hekv_err_set(err, HEKV_ERR_ARG, "%s: the text recorded no sums", fn);
            break;
        }
        /* crude steps keep a sum within (1 +- rho) of exact: the next sum's range widens by
         * (1 +- rho)^2; every interval also by the margin */
        const double wlo = step == 0 ? 1.0 : (1 - rho) * (1 - rho);
        const double whi = step == 0 ? 1.0 : (1 + rho) * (1 + rho);
        const double lo = r.lo[i] * wlo / (1 + margin), hi = r.hi[i] * whi * (1 + margin);
        hekv_nonlin_opts o = {0};
        o.tol = last ? tol_f : rho, o.relative = 1;
        st = hekv_llama_nonlin_design(HEKV_NONLIN_RECIP, lo, hi, &o, &s->rstep[i], err);
    }
    free(r.lo), free(r.hi);
    if (st == HEKV_OK && build_plan(s) != HEKV_OK)
        st = hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    if (st != HEKV_OK) {
        hekv_llama_nsoftmax_free(s);
        *out = NULL;
    }
    return st;
}

hekv_status hekv_llama_nsoftmax_plan(const hekv_llama_nsoftmax *s, int layer,
                                     hekv_pack_softmax *out, hekv_err *err) {
    if (!s || !out || layer < 0 || layer >= s->n_layers)
        return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_nsoftmax_plan: no design or layer %d "
                            "out of range", layer);
    const int k = s->steps;
    out->steps = k;
    out->shift = s->shift + (size_t)layer * (size_t)s->n_heads;
    out->exp = s->exp[layer];
    out->recip = s->plan_recip + (size_t)layer * (size_t)(k + 1);
    return HEKV_OK;
}
