/* fuzz_load_approx.c: libFuzzer target of hekv_llama_chebset_parse, the "hekv-approx 1"
 * Chebyshev-series file of the FHE simulation (models/approx.c). A parsed set must hold
 * series with a finite interval lo < hi, 1..HEKV_CHEBY_MAX_COEFFS finite coefficients and a
 * non-zero last one; the simulation hook built on it must evaluate each series as
 * hekv_ckks_cheby_eval does inside the interval and count one excursion per input outside
 * (clamped or not); and the set must survive a round trip through the library's writer
 * (hekv_llama_chebset_save, then hekv_llama_chebset_load) bit for bit. See fuzz.h. */
#include <math.h>

#include "hekv/llama_approx.h"

#include "fuzz.h"

#define LAYERS 2

static void check_series(const hekv_cheby *p) {
    const int deg = hekv_ckks_cheby_degree(p);
    const double lo = hekv_ckks_cheby_lo(p), hi = hekv_ckks_cheby_hi(p);
    const double *c = hekv_ckks_cheby_coeffs(p);
    if (deg < 0 || deg >= HEKV_CHEBY_MAX_COEFFS || !c || !isfinite(lo) || !isfinite(hi) ||
        !(lo < hi))
        abort();
    for (int i = 0; i <= deg; i++)
        if (!isfinite(c[i])) abort();
    if (deg > 0 && c[deg] == 0) abort(); /* trailing zeros are dropped */
}

typedef double (*hook_fn)(double, int, void *);

static hook_fn fn_of(const hekv_llama_approx *h, int kind) {
    return kind == HEKV_NONLIN_EXP       ? h->exp
           : kind == HEKV_NONLIN_RECIP   ? h->recip
           : kind == HEKV_NONLIN_INVSQRT ? h->invsqrt
                                         : h->silu;
}

static double call(const hekv_llama_approx *h, int kind, double x, int layer) {
    hook_fn f = fn_of(h, kind);
    if (!f) abort();
    return f(x, layer, h->ctx);
}

/* The hook of s (clamped or not) on points inside and outside each interval. */
static void check_sim(const hekv_llama_chebset *s, unsigned flags) {
    hekv_err err = {0};
    hekv_llama_sim *sim = NULL;
    if (hekv_llama_sim_new(s, LAYERS, flags, &sim, &err) != HEKV_OK) fuzz_fail("sim_new", &err);
    const hekv_llama_approx *h = hekv_llama_sim_hook(sim);
    int64_t outside = 0;
    for (int k = 0; k < HEKV_LLAMA_NONLIN_COUNT; k++) {
        const hekv_cheby *p = hekv_llama_chebset_get(s, (hekv_nonlin_kind)k);
        if (!p) {
            if (fn_of(h, k)) abort(); /* exact: no function */
            continue;
        }
        const double lo = hekv_ckks_cheby_lo(p), hi = hekv_ckks_cheby_hi(p);
        const double in[] = {lo, hi, lo + (hi - lo) / 2, lo / 2 + hi / 2};
        for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
            if (!(in[i] >= lo && in[i] <= hi)) continue; /* (hi - lo) may overflow */
            const double a = call(h, k, in[i], (int)i % (LAYERS + 1));
            const double b = hekv_ckks_cheby_eval(p, in[i]);
            if (memcmp(&a, &b, sizeof a) && !(isnan(a) && isnan(b))) abort();
        }
        const double below = lo - fabs(lo) - 1, above = hi + fabs(hi) + 1;
        const double ya = call(h, k, below, 0), yb = call(h, k, above, LAYERS + 5);
        if (flags & HEKV_LLAMA_SIM_CLAMP) {
            const double ea = hekv_ckks_cheby_eval(p, lo), eb = hekv_ckks_cheby_eval(p, hi);
            if ((memcmp(&ya, &ea, sizeof ya) && !(isnan(ya) && isnan(ea))) ||
                (memcmp(&yb, &eb, sizeof yb) && !(isnan(yb) && isnan(eb))))
                abort();
        }
        (void)call(h, k, NAN, 1);
        hekv_llama_excursion e0, e1, eL;
        if (hekv_llama_sim_excursion(sim, (hekv_nonlin_kind)k, 0, &e0) != (below < lo) ||
            hekv_llama_sim_excursion(sim, (hekv_nonlin_kind)k, 1, &e1) != 1 || e1.nan != 1 ||
            hekv_llama_sim_excursion(sim, (hekv_nonlin_kind)k, LAYERS, &eL) != (above > hi))
            abort();
        if ((below < lo && (e0.below != 1 || e0.min_x != below)) ||
            (above > hi && (eL.above != 1 || eL.max_x != above)))
            abort();
        outside += (below < lo) + (above > hi) + 1;
    }
    if (hekv_llama_sim_outside(sim) != outside) abort();
    hekv_llama_sim_reset(sim);
    if (hekv_llama_sim_outside(sim) != 0 || hekv_llama_sim_layers(sim) != LAYERS) abort();
    hekv_llama_sim_free(sim);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    hekv_err err = {0};
    hekv_llama_chebset *s = NULL;
    hekv_status st = hekv_llama_chebset_parse((const char *)d, n, &s, &err);
    FUZZ_FAILED_CLEANLY(st, err, s);
    FUZZ_AGAIN_WITHOUT_ERR(st, hekv_llama_chebset,
                           hekv_llama_chebset_parse((const char *)d, n, &again, NULL));
    if (st != HEKV_OK) return 0;
    for (int k = 0; k < HEKV_LLAMA_NONLIN_COUNT; k++) {
        const hekv_cheby *p = hekv_llama_chebset_get(s, (hekv_nonlin_kind)k);
        if (p) check_series(p);
    }
    if (hekv_llama_chebset_get(s, (hekv_nonlin_kind)HEKV_LLAMA_NONLIN_COUNT) ||
        hekv_llama_chebset_get(s, (hekv_nonlin_kind)-1))
        abort();
    check_sim(s, 0);
    check_sim(s, HEKV_LLAMA_SIM_CLAMP);
    const char *path = fuzz_tmp_path("approx");
    if (hekv_llama_chebset_save(s, path, &err) != HEKV_OK) fuzz_fail("chebset_save", &err);
    hekv_llama_chebset *back = NULL;
    if (hekv_llama_chebset_load(path, &back, &err) != HEKV_OK)
        fuzz_fail("the saved set does not load", &err);
    for (int k = 0; k < HEKV_LLAMA_NONLIN_COUNT; k++) {
        const hekv_cheby *a = hekv_llama_chebset_get(s, (hekv_nonlin_kind)k);
        const hekv_cheby *b = hekv_llama_chebset_get(back, (hekv_nonlin_kind)k);
        if (!a != !b) abort();
        if (!a) continue;
        const double la = hekv_ckks_cheby_lo(a), lb = hekv_ckks_cheby_lo(b);
        const double ha = hekv_ckks_cheby_hi(a), hb = hekv_ckks_cheby_hi(b);
        const int deg = hekv_ckks_cheby_degree(a);
        if (deg != hekv_ckks_cheby_degree(b) || memcmp(&la, &lb, sizeof la) ||
            memcmp(&ha, &hb, sizeof ha) ||
            memcmp(hekv_ckks_cheby_coeffs(a), hekv_ckks_cheby_coeffs(b),
                   ((size_t)deg + 1) * sizeof(double)))
            abort();
    }
    hekv_llama_chebset_free(back);
    hekv_llama_chebset_free(s);
    return 0;
}
