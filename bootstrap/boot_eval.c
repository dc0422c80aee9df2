/* boot_eval.c: the bootstrapping plan (levels, constants, encoded transforms, the EvalMod
 * design), the keys it needs, and the chain of the steps (boot_modraise.c, boot_c2s.c,
 * boot_evalmod.c, boot_s2c.c) with per-stage counts and times.
 *
 * Levels, top down: CoeffToSlot at top .. top - cts + 1 (plaintexts at scale q_level, so
 * the label s0 stays), EvalMod from l_em = top - cts down by evalmod_unit primes a level,
 * SlotToCoeff from l_stc, the output at l_out = l_stc - stc. s0 is the product of the
 * EvalMod unit's primes at l_em: the ciphertext's label through CoeffToSlot and EvalMod. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "boot_int.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void hekv_boot_free(hekv_boot *b) {
    if (!b) return;
    for (int g = 0; g < HEKV__BOOT_MAX_LEVELS; g++) {
        hekv_ckks_lintrans_free(b->cts[g]);
        hekv_ckks_lintrans_free(b->stc[g]);
        hekv_ckks_lintrans_free(b->stc_half[g]);
    }
    hekv_ckks_cheby_free(b->cos);
    hekv_ckks_pt_free(b->pt_i);
    hekv_ckks_pt_free(b->pt_mi);
    hekv_ckks_pt_free(b->pt_i_in);
    hekv_ckks_pt_free(b->pt_mi_in);
    hekv_ckks_encoder_free(b->enc);
    free(b);
}

static hekv_status check_lit(const hekv_ckks_params *p, const hekv_boot_lit *l, hekv_err *err) {
    static const char fn[] = "hekv_boot_new";
    const int logn = hekv_ckks_params_logn(p);
    if (l->log_slots < 1 || l->log_slots > logn - 1)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: log_slots %d outside [1, %d]", fn,
                            l->log_slots, logn - 1);
    if (l->cts_levels < 1 || l->cts_levels > HEKV__BOOT_MAX_LEVELS || l->stc_levels < 1 ||
        l->stc_levels > HEKV__BOOT_MAX_LEVELS)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: CoeffToSlot / SlotToCoeff levels %d / %d outside [1, %d]", fn,
                            l->cts_levels, l->stc_levels, HEKV__BOOT_MAX_LEVELS);
    if (l->evalmod_unit < 1 || l->evalmod_unit > 2)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: evalmod_unit %d is not 1 or 2", fn,
                            l->evalmod_unit);
    if (l->log_ratio < 5 || l->log_ratio > 20)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: log_ratio %d outside [5, 20]", fn,
                            l->log_ratio);
    if (l->ephemeral_hw < 1 || l->ephemeral_hw > 64)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: ephemeral weight %d outside [1, 64]", fn,
                            l->ephemeral_hw);
    if (l->double_angles < 0 || l->double_angles > 6)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: %d double angles outside [0, 6]", fn,
                            l->double_angles);
    const double kmin = (l->ephemeral_hw + 1) / 2.0;
    if (l->k != 0 && !(l->k > kmin && l->k < 1024))
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: K = %g must exceed (h + 1) / 2 = %g, the bound on the "
                            "ModRaise overflow", fn, l->k, kmin);
    if (l->cos_degree < 0 || l->cos_degree > 1023 || l->log_cos_tol < 0 || l->log_cos_tol > 60)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: cosine degree or tolerance out of range",
                            fn);
    if (hekv_ckks_params_np(p) < 1)
        return hekv_err_set(err, HEKV_ERR_PARAMS, "%s: the set has no special prime", fn);
    return HEKV_OK;
}

/* Encodes one plan level as a linear transform at `level` with diagonals at `scale`. */
static hekv_status encode_level(hekv_boot *b, const hekv__diagmat *a, int level, double scale,
                                hekv_lintrans **out, hekv_err *err) {
    const size_t m = b->m, nd = a->nd;
    double *re = malloc(nd * m * sizeof *re), *im = malloc(nd * m * sizeof *im);
    const double **pr = malloc(nd * sizeof *pr), **pi = malloc(nd * sizeof *pi);
    hekv_status s = HEKV_OK;
    if (!re || !im || !pr || !pi) s = hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_boot_new: out of memory");
    for (size_t i = 0; s == HEKV_OK && i < nd; i++) {
        for (size_t j = 0; j < m; j++) {
            re[i * m + j] = (double)creall(a->d[i][j]);
            im[i * m + j] = (double)cimagl(a->d[i][j]);
        }
        pr[i] = re + i * m, pi[i] = im + i * m;
    }
    const hekv_lintrans_opts o = {0, b->lit.double_hoist ? HEKV_LT_HOIST_DOUBLE
                                                         : HEKV_LT_HOIST_SINGLE};
    if (s == HEKV_OK)
        s = hekv_ckks_lintrans_new_opts(b->enc, a->off, (const double *const *)pr,
                                        (const double *const *)pi, nd, m, level, scale, &o, out,
                                        err);
    free(re), free(im), free(pr), free(pi);
    return s;
}

/* ±i in every one of `slots` slots at scale 1: the monomial ±X^(N/2), exactly. */
static hekv_status encode_i(hekv_boot *b, double sign, size_t slots, hekv_pt **out,
                            hekv_err *err) {
    double *re = calloc(slots, sizeof *re), *im = malloc(slots * sizeof *im);
    hekv_status s = re && im ? HEKV_OK : HEKV_ERR_NOMEM;
    for (size_t j = 0; s == HEKV_OK && j < slots; j++) im[j] = sign;
    if (s == HEKV_OK) s = hekv_ckks_pt_new(b->p, out, err);
    if (s == HEKV_OK) s = hekv_ckks_encode(b->enc, *out, re, im, slots, b->top, 1.0, err);
    else hekv_err_set(err, s, "hekv_boot_new: out of memory");
    free(re), free(im);
    return s;
}

hekv_status hekv_boot_new(const hekv_ckks_params *p, const hekv_boot_lit *lit, hekv_boot **out,
                          hekv_err *err) {
    static const char fn[] = "hekv_boot_new";
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (!p || !lit) return hekv_err_set(err, HEKV_ERR_ARG, "%s: NULL argument", fn);
    hekv_status s = check_lit(p, lit, err);
    if (s != HEKV_OK) return s;
    hekv_boot *b = calloc(1, sizeof *b);
    if (!b) return hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    b->p = p;
    b->lit = *lit;
    b->n = (size_t)1 << lit->log_slots;
    b->full = b->n == hekv_ckks_params_max_slots(p);
    b->m = b->full ? b->n : 2 * b->n;
    b->top = hekv_ckks_params_max_level(p);
    b->k = lit->k != 0 ? lit->k : (lit->ephemeral_hw + 1) / 2.0 + 0.25;
    b->kp = b->k + 0.25;
    b->ncts = lit->cts_levels;
    b->nstc = lit->stc_levels;
    const int u = lit->evalmod_unit;
    if ((s = hekv__boot_evalmod_design(b, err))) goto fail;
    b->l_em = b->top - b->ncts;
    b->l_stc = b->l_em - u * hekv__boot_evalmod_depth(b);
    b->l_out = b->l_stc - b->nstc;
    if (b->l_out < 0) {
        s = hekv_err_set(err, HEKV_ERR_PARAMS,
                         "%s: %s has %d levels above q_0; the plan needs %d (CoeffToSlot %d, "
                         "EvalMod %d x %d primes, SlotToCoeff %d)", fn, hekv_ckks_params_name(p),
                         b->top, b->top - b->l_out, b->ncts, hekv__boot_evalmod_depth(b), u,
                         b->nstc);
        goto fail;
    }
    b->s0 = 1;
    for (int i = 0; i < u; i++) b->s0 *= (double)hekv_ckks_params_q(p, b->l_em - i);
    if (!(b->s0 < 0x1p63 && b->s0 > 0x1p35)) {
        s = hekv_err_set(err, HEKV_ERR_PARAMS,
                         "%s: the EvalMod unit at level %d (%d prime(s)) gives a scale of "
                         "2^%.1f, outside [2^35, 2^63]: the set's prime layout does not fit "
                         "the literal's levels", fn, b->l_em, u, log2(b->s0));
        goto fail;
    }
    if ((s = hekv_ckks_encoder_new(p, &b->enc, err))) goto fail;

    /* CoeffToSlot: x (.) s0 / (q_0 K') for the series' variable, / 2 for the split, / g
     * (the trace's factor) */
    const double q0 = (double)hekv_ckks_params_q(p, 0);
    const double g = (double)hekv_ckks_params_max_slots(p) / (double)b->n;
    hekv__dft_plan plan;
    if ((s = hekv__dft_cts(b->m, b->n, b->ncts, b->s0 / (2.0 * q0 * b->kp * g), &plan))) {
        hekv_err_set(err, s, "%s: building the CoeffToSlot matrices failed", fn);
        goto fail;
    }
    for (int l = 0; l < b->ncts && s == HEKV_OK; l++) {
        const int level = b->top - l;
        s = encode_level(b, &plan.mat[l], level, (double)hekv_ckks_params_q(p, level),
                         &b->cts[l], err);
    }
    hekv__dft_plan_free(&plan);
    if (s != HEKV_OK) goto fail;

    /* SlotToCoeff: y = m / q_0 back to the message: x 2^log_ratio; the label falls from s0
     * to the default scale by the same factor at every level */
    const double rho = pow(hekv_ckks_params_default_scale(p) / b->s0, 1.0 / b->nstc);
    for (int half = 0; half < 2 && s == HEKV_OK; half++) {
        if ((s = hekv__dft_stc(b->m, b->n, b->nstc, ldexp(half ? 0.5 : 1.0, lit->log_ratio),
                               &plan))) {
            hekv_err_set(err, s, "%s: building the SlotToCoeff matrices failed", fn);
            goto fail;
        }
        for (int l = 0; l < (half ? 1 : b->nstc) && s == HEKV_OK; l++) {
            const int level = b->l_stc - l;
            b->stc_scale[l] = (double)hekv_ckks_params_q(p, level) * rho;
            if (b->stc_scale[l] < 0x1p32) {
                s = hekv_err_set(err, HEKV_ERR_PARAMS,
                                 "%s: SlotToCoeff's level %d (prime of %.1f bits) would encode "
                                 "its plaintexts at scale 2^%.1f, below 2^32: the set's prime "
                                 "layout does not fit the literal's levels", fn, level,
                                 log2((double)hekv_ckks_params_q(p, level)),
                                 log2(b->stc_scale[l]));
                break;
            }
            s = encode_level(b, &plan.mat[l], level, b->stc_scale[l],
                             half ? &b->stc_half[l] : &b->stc[l], err);
        }
        hekv__dft_plan_free(&plan);
    }
    if (s != HEKV_OK) goto fail;
    if ((s = encode_i(b, 1, b->m, &b->pt_i, err)) || (s = encode_i(b, -1, b->m, &b->pt_mi, err)) ||
        (s = encode_i(b, 1, b->n, &b->pt_i_in, err)) ||
        (s = encode_i(b, -1, b->n, &b->pt_mi_in, err)))
        goto fail;
    *out = b;
    return HEKV_OK;
fail:
    hekv_boot_free(b);
    return s;
}

/* ------------------------------------------------------------------ queries */

const char *hekv_boot_lit_name(const hekv_boot *b) { return b ? b->lit.name : ""; }
size_t hekv_boot_slots(const hekv_boot *b) { return b ? b->n : 0; }
int hekv_boot_level_out(const hekv_boot *b) { return b ? b->l_out : -1; }
int hekv_boot_levels_cts(const hekv_boot *b) { return b ? b->ncts : 0; }
int hekv_boot_levels_evalmod(const hekv_boot *b) {
    return b ? b->l_em - b->l_stc : 0;
}
int hekv_boot_levels_stc(const hekv_boot *b) { return b ? b->nstc : 0; }
int hekv_boot_cos_degree(const hekv_boot *b) { return b ? hekv_ckks_cheby_degree(b->cos) : 0; }
double hekv_boot_k(const hekv_boot *b) { return b ? b->k : 0; }
double hekv_boot_cos_error(const hekv_boot *b) { return b ? b->cos_err : 0; }

size_t hekv_boot_bytes(const hekv_boot *b) {
    if (!b) return 0;
    size_t s = 0;
    for (int g = 0; g < HEKV__BOOT_MAX_LEVELS; g++)
        s += hekv_ckks_lintrans_bytes(b->cts[g]) + hekv_ckks_lintrans_bytes(b->stc[g]) +
             hekv_ckks_lintrans_bytes(b->stc_half[g]);
    return s;
}

/* The rotations of a transform level into r at `level`. */
static hekv_status lt_keys(const hekv_boot *b, const hekv_lintrans *lt, int level,
                           hekv_ckks_keyreq *r, hekv_err *err) {
    const size_t n = hekv_ckks_lintrans_rotations(lt, NULL, 0);
    long *rots = malloc((n ? n : 1) * sizeof *rots);
    if (!rots) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_boot_keyreq: out of memory");
    hekv_ckks_lintrans_rotations(lt, rots, n);
    hekv_status s = HEKV_OK;
    for (size_t i = 0; i < n && s == HEKV_OK; i++)
        s = hekv_ckks_keyreq_rotation(r, rots[i], b->m, level, err);
    free(rots);
    return s;
}

hekv_status hekv_boot_keyreq(const hekv_boot *b, hekv_ckks_keyreq *r, hekv_err *err) {
    if (!b || !r) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_boot_keyreq: NULL argument");
    const size_t half = hekv_ckks_params_max_slots(b->p);
    hekv_status s = hekv_ckks_keyreq_encapsulation(r, b->lit.ephemeral_hw,
                                                   HEKV_BOOT_TAG_TO_EPHEMERAL,
                                                   HEKV_BOOT_TAG_FROM_EPHEMERAL, b->top, err);
    for (size_t k = b->n; k < half && s == HEKV_OK; k <<= 1)
        s = hekv_ckks_keyreq_rotation(r, (long)k, half, b->top, err);
    for (int g = 0; g < b->ncts && s == HEKV_OK; g++) s = lt_keys(b, b->cts[g], b->top - g, r, err);
    if (s == HEKV_OK)
        s = hekv_ckks_keyreq_galois(r, hekv_ckks_galois_conj(b->p), b->l_em, err);
    if (s == HEKV_OK && !b->full) s = hekv_ckks_keyreq_rotation(r, -(long)b->n, b->m, b->l_em, err);
    if (s == HEKV_OK) s = hekv_ckks_keyreq_relin(r, b->l_em, err);
    for (int g = 0; g < b->nstc && s == HEKV_OK; g++) s = lt_keys(b, b->stc[g], b->l_stc - g, r, err);
    if (s == HEKV_OK) s = lt_keys(b, b->stc_half[0], b->l_stc, r, err);
    return s;
}

void hekv_boot_expected(const hekv_boot *b, hekv_boot_stats *st) {
    if (!st) return;
    memset(st, 0, sizeof *st);
    if (!b) return;
    st->keyswitches[HEKV_BOOT_STAGE_MODRAISE] = 2;
    for (size_t k = b->n; k < hekv_ckks_params_max_slots(b->p); k <<= 1)
        st->keyswitches[HEKV_BOOT_STAGE_TRACE]++;
    uint64_t c = 1 + !b->full; /* the conjugation, the repack */
    for (int g = 0; g < b->ncts; g++) c += hekv_ckks_lintrans_rotations(b->cts[g], NULL, 0);
    st->keyswitches[HEKV_BOOT_STAGE_CTS] = c;
    st->keyswitches[HEKV_BOOT_STAGE_EVALMOD] =
        (uint64_t)(1 + b->full) *
        (uint64_t)(hekv_ckks_cheby_ct_mults(b->cos) + b->lit.double_angles);
    c = 0;
    for (int g = 0; g < b->nstc; g++) c += hekv_ckks_lintrans_rotations(b->stc[g], NULL, 0);
    st->keyswitches[HEKV_BOOT_STAGE_STC] = c;
    for (int i = 0; i < HEKV_BOOT_STAGES; i++) st->moddowns[i] = st->keyswitches[i];
    if (b->lit.double_hoist) /* double hoisting: giants + 2 ModDowns per transform level */
        for (int t = 0; t < 2; t++) {
            hekv_lintrans *const *lv = t ? b->stc : b->cts;
            const int n = t ? b->nstc : b->ncts;
            uint64_t md = 0;
            for (int g = 0; g < n; g++) {
                size_t giants;
                hekv_ckks_lintrans_counts(lv[g], NULL, &giants);
                md += giants + 2;
            }
            hekv_boot_stage stage = t ? HEKV_BOOT_STAGE_STC : HEKV_BOOT_STAGE_CTS;
            st->moddowns[stage] = md + (t ? 0 : 1 + !b->full); /* + conjugation, repack */
        }
}

/* ------------------------------------------------------------------ evaluation */

typedef struct {
    hekv_boot_stats *st;
    hekv_eval *ev;
    hekv_ckks_eval_counts c;
    double t;
} stage_clock;

static void clock_start(stage_clock *k, hekv_eval *ev, hekv_boot_stats *st) {
    k->st = st, k->ev = ev;
    hekv_ckks_eval_get_counts(ev, &k->c);
    k->t = now_s();
    if (st) memset(st, 0, sizeof *st);
}

static void clock_mark(stage_clock *k, hekv_boot_stage stage) {
    hekv_ckks_eval_counts c;
    hekv_ckks_eval_get_counts(k->ev, &c);
    const double t = now_s();
    if (k->st) {
        k->st->keyswitches[stage] += c.keyswitches - k->c.keyswitches;
        k->st->moddowns[stage] += c.moddowns - k->c.moddowns;
        k->st->seconds[stage] += t - k->t;
    }
    k->c = c, k->t = t;
}

static hekv_status check_in(const hekv_boot *b, hekv_eval *ev, const char *fn,
                            const hekv_ct *out, const hekv_ct *in) {
    if (!b || !out || !in)
        return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_ARG, "%s: NULL argument", fn);
    if (hekv_ckks_eval_params(ev) != b->p || hekv_ckks_ct_params(in) != b->p ||
        hekv_ckks_ct_params(out) != b->p)
        return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_PARAMS,
                            "%s: evaluator, ciphertexts and plan must share one parameter set",
                            fn);
    if (hekv_ckks_ct_level(in) < 0)
        return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_ARG, "%s: the input is empty", fn);
    if (hekv_ckks_ct_slots(in) != b->n)
        return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_ARG,
                            "%s: the input has %zu slots, the plan %zu", fn,
                            hekv_ckks_ct_slots(in), b->n);
    return HEKV_OK;
}

/* The chain on in into out; half: SlotToCoeff's variant with the extra 1/2. */
static hekv_status run(const hekv_boot *b, hekv_eval *ev, hekv_ct *out, const hekv_ct *in,
                       int half, hekv_boot_stats *st) {
    stage_clock k;
    clock_start(&k, ev, st);
    hekv_ct *t = NULL, *p0 = NULL, *p1 = NULL;
    hekv_status s = hekv_ckks_ext_scratch_get(ev, &t);
    if (s == HEKV_OK) s = hekv_ckks_ext_scratch_get(ev, &p0);
    if (s == HEKV_OK) s = hekv_ckks_ext_scratch_get(ev, &p1);
    double delta = 0;
    if (s == HEKV_OK) s = hekv__boot_modraise(b, ev, t, in, &delta, st);
    clock_mark(&k, HEKV_BOOT_STAGE_MODRAISE);
    if (s == HEKV_OK && !b->full) s = hekv__boot_trace(b, ev, t);
    clock_mark(&k, HEKV_BOOT_STAGE_TRACE);
    hekv_ct *parts[2] = {p0, p1};
    if (s == HEKV_OK) s = hekv__boot_c2s(b, ev, parts, t);
    clock_mark(&k, HEKV_BOOT_STAGE_CTS);
    for (int i = 0; i < 1 + b->full && s == HEKV_OK; i++) s = hekv__boot_evalmod(b, ev, parts[i]);
    clock_mark(&k, HEKV_BOOT_STAGE_EVALMOD);
    if (s == HEKV_OK)
        s = hekv__boot_s2c(b, ev, out, (const hekv_ct *const *)parts, delta, half);
    clock_mark(&k, HEKV_BOOT_STAGE_STC);
    hekv_ckks_ext_scratch_put(ev, p1);
    hekv_ckks_ext_scratch_put(ev, p0);
    hekv_ckks_ext_scratch_put(ev, t);
    return s;
}

hekv_status hekv_boot_eval(const hekv_boot *b, hekv_eval *ev, hekv_ct *out, const hekv_ct *in,
                           hekv_boot_stats *st) {
    if (!ev) return HEKV_ERR_ARG;
    hekv_status s = check_in(b, ev, "hekv_boot_eval", out, in);
    return s ? s : run(b, ev, out, in, 0, st);
}

hekv_status hekv_boot_eval_real2(const hekv_boot *b, hekv_eval *ev, hekv_ct *outx,
                                 hekv_ct *outy, const hekv_ct *x, const hekv_ct *y,
                                 hekv_boot_stats *st) {
    static const char fn[] = "hekv_boot_eval_real2";
    if (!ev) return HEKV_ERR_ARG;
    hekv_status s = check_in(b, ev, fn, outx, x);
    if (s == HEKV_OK) s = check_in(b, ev, fn, outy, y);
    if (s != HEKV_OK) return s;
    if (outx == outy)
        return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_ARG, "%s: outx and outy alias", fn);
    hekv_ct *z = NULL, *c = NULL;
    s = hekv_ckks_ext_scratch_get(ev, &z);
    if (s == HEKV_OK) s = hekv_ckks_ext_scratch_get(ev, &c);
    /* z = x + i y; bootstrapped at half (SlotToCoeff's extra 1/2): z/2 */
    if (s == HEKV_OK) s = hekv_ckks_eval_mul_pt(ev, z, y, b->pt_i_in);
    if (s == HEKV_OK) s = hekv_ckks_eval_add(ev, z, z, x);
    if (s == HEKV_OK) s = run(b, ev, z, z, 1, st);
    /* x = z/2 + conj(z/2), y = -i (z/2 - conj(z/2)) */
    if (s == HEKV_OK) s = hekv_ckks_eval_conjugate(ev, c, z);
    if (s == HEKV_OK) s = hekv_ckks_eval_add(ev, outx, z, c);
    if (s == HEKV_OK) s = hekv_ckks_eval_sub(ev, outy, z, c);
    if (s == HEKV_OK) s = hekv_ckks_eval_mul_pt(ev, outy, outy, b->pt_mi_in);
    hekv_ckks_ext_scratch_put(ev, c);
    hekv_ckks_ext_scratch_put(ev, z);
    return s;
}
