/* polyeval.c: homomorphic evaluation of a Chebyshev series p(x) = sum_k c_k T_k(u) on a
 * ciphertext, by the baby-step giant-step (Paterson-Stockmeyer) method in the Chebyshev
 * basis with scale-invariant constants (Bossuat, Mouchet, Troncoso-Pastoriza, Hubaux,
 * "Efficient bootstrapping for approximate homomorphic encryption with non-sparse keys",
 * Eurocrypt 2021, Alg. 2; Lattigo's polynomial evaluator follows the same plan).
 * It deliberately does not design polynomials (approx.c) or know any function (nonlin.c).
 *
 * The circuit, for degree d, m = bitlen(d) and a baby bound B = 2^l:
 *   1. T_1 = u = (2x - a - b)/(b - a): one integer product, one constant, one rescale (a
 *      level), skipped when [a, b] = [-1, 1]. T_1 then sits at level L0 with scale q_L0.
 *   2. The powers the plan needs, each at the lowest possible depth:
 *        T_2k = 2 T_k^2 - 1,   T_i = 2 T_a T_b - T_{a-b}  (a the largest power of two < i),
 *      so T_i sits at level L0 - ceil(log2 i). The subtracted term is brought to the
 *      product's scale by an integer factor of about 2^40 before the one rescale, so
 *      every power has an exact scale label and costs one relinearised product.
 *   3. The recursion  p = q T_n + r  (n the largest power of two <= deg p, Chebyshev
 *      division: q_0 = c_n, q_k = 2 c_{n+k}, r = sum_{i<n} c_i T_i - sum_k c_{n+k} T_{n-k}),
 *      down to leaves sum_i c_i T_i of degree < B. A node asked to land at level t with
 *      scale S returns its value before the last rescale (level t+1, scale S q_{t+1});
 *      its q-part is asked for scale S q_{t+1} / scale(T_n) one level up, so after
 *      "rescale, times T_n" both parts meet at exactly S q_{t+1}. Leaf constants are
 *      integers round(c_i S q_{t+1} / scale(T_i)) ~ 2^40 c_i. Every branch therefore
 *      lands at the requested scale whatever the primes are (the scale-invariant trick).
 *      A leaf is used only when all its powers sit at level >= t+1; otherwise the node
 *      splits further (on the critical, leading branch this happens down to degree 1),
 *      which is what keeps the depth at the optimum  m = ceil(log2(d + 1)).
 *   4. One final rescale: the result is at level L0 - m with scale `target`.
 * Levels consumed: m, plus 1 for the linear map. Relinearised products: the powers plus
 * one per split whose quotient is not a constant; the baby bound is chosen per polynomial
 * to minimise that count (about 2 sqrt(d) + log2 d). Zero coefficients are skipped, so an
 * odd series never builds an even power other than the powers of two. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ckks_ext.h"
#include "poly_int.h"

/* ------------------------------------------------------------------ small helpers */


/* x mod q for an integral finite double (fmod is exact). */
static uint64_t residue(double x, uint64_t q) {
    double r = fmod(x, (double)q);
    if (r < 0) r += (double)q;
    uint64_t u = (uint64_t)r;
    return u >= q ? u - q : u;
}

static int clog2(int i) { /* ceil(log2 i), i >= 1 */
    int k = 0;
    while ((1 << k) < i) k++;
    return k;
}

static int bitlen(int d) { /* bits of d >= 0: ceil(log2(d + 1)) */
    int k = 0;
    while (k < 31 && (d >> k)) k++;
    return k;
}

static int eff_deg(const double *c, int d) {
    while (d > 0 && c[d] == 0.0) d--;
    return d;
}

double hekv__q(const hekv_eval *ev, int level) {
    return (double)hekv_ring_modulus(ev->rq, level)->q;
}

hekv_status hekv__ct_mul_round(hekv_eval *ev, hekv_ct *out, const hekv_ct *in, int level,
                               double k, int acc) {
    const hekv_ring *rq = ev->rq;
    const double kr = round(k);
    uint64_t res[HEKV_CKKS_MAX_Q];
    for (int i = 0; i <= level; i++) res[i] = residue(kr, hekv_ring_modulus(rq, i)->q);
    if (!acc) {
        const double scale = in->scale * kr;
        const size_t slots = in->slots;
        hekv_status s = hekv__ct_resize(out, level);
        if (s != HEKV_OK)
            return hekv_err_set(&ev->err, s, "polynomial evaluation: out of memory");
        for (int j = 0; j < 2; j++) {
            hekv_poly o = hekv__lv(&out->c[j], level), x = hekv__lv(&in->c[j], level);
            hekv_ring_mul_scalar(rq, &o, &x, res);
        }
        out->level = level;
        out->scale = scale;
        out->slots = slots;
        out->has_seed = 0;
        memset(out->seed, 0, sizeof out->seed);
    } else {
        for (int j = 0; j < 2; j++) {
            hekv_poly o = hekv__lv(&out->c[j], level), x = hekv__lv(&in->c[j], level);
            hekv_ring_mul_scalar_acc(rq, &o, &x, res);
        }
    }
    return HEKV_OK;
}

hekv_status hekv__ct_prep(hekv_eval *ev, hekv_ct *out, const hekv_ct *in, int level,
                          double scale) {
    const double k = scale * hekv__q(ev, level + 1) / in->scale;
    hekv_status s = hekv__ct_mul_round(ev, out, in, level + 1, k, 0);
    if (s == HEKV_OK) s = hekv_ckks_eval_rescale(ev, out, out);
    return s;
}

/* Scratch ciphertexts of the evaluation come from the evaluator's pool, a stack: the
 * recursion below releases every temporary in the reverse order of its allocation. */
static hekv_ct *ct_alloc(hekv_eval *ev, hekv_status *s) {
    hekv_ct *ct = NULL;
    if (*s != HEKV_OK) return NULL;
    *s = hekv_ckks_ext_scratch_get(ev, &ct);
    return ct;
}

static void ct_release(hekv_eval *ev, hekv_ct *ct) { hekv_ckks_ext_scratch_put(ev, ct); }

/* ------------------------------------------------------------------ the plan */

/* One evaluation: the baby bound, the powers used and (when executing) their
 * ciphertexts. dry = 1 only plans: marks need[] and counts splits. */
typedef struct {
    hekv_eval *ev;
    int dry;
    int L0;               /* level (unit) of T_1 */
    int B;                /* baby bound 2^l */
    int deg;
    unsigned char *need;  /* [deg + 1] */
    hekv_ct **T;          /* [deg + 1], executing only */
    int splits;
    int infeasible;
    hekv_status st;
    int r;                /* primes per level unit (1: every level one prime) */
    int p0;               /* the prime level of unit 0 (the result's) */
} pe;

/* The prime level of unit t, the product of the r primes a rescale from unit t drops,
 * and that rescale. */
static int plev(const pe *E, int t) { return E->p0 + t * E->r; }

static double qunit(const pe *E, int t) {
    double q = 1;
    for (int i = 0; i < E->r; i++) q *= hekv__q(E->ev, plev(E, t) - i);
    return q;
}

static hekv_status rescale_unit(hekv_eval *ev, hekv_ct *ct, int r) {
    hekv_status s = HEKV_OK;
    for (int i = 0; i < r && s == HEKV_OK; i++) s = hekv_ckks_eval_rescale(ev, ct, ct);
    return s;
}

/* Evaluates (or plans) c[0..d] to land at level t with scale S. On return *ct is the
 * value before the last rescale (level t+1, scale S q_{t+1}), or NULL when the node is
 * the constant *cst. When planning, *is_ct says which it would be. */
static void node(pe *E, const double *c, int d, int t, double S, hekv_ct **ct, double *cst,
                 int *is_ct) {
    *ct = NULL;
    *cst = 0;
    *is_ct = 0;
    d = eff_deg(c, d);
    if (E->st != HEKV_OK || E->infeasible) return;
    if (d == 0) {
        *cst = c[0];
        return;
    }
    *is_ct = 1;
    const int budget = E->L0 - t;
    hekv_eval *ev = E->ev;
    if (d < E->B && clog2(d) <= budget - 1) {
        /* leaf: sum_i c_i T_i at level t+1, then c_0 */
        if (E->dry) {
            for (int i = 1; i <= d; i++)
                if (c[i] != 0.0) E->need[i] = 1;
            return;
        }
        const double sq = S * qunit(E, t + 1);
        hekv_ct *acc = ct_alloc(ev, &E->st);
        int first = 1;
        for (int i = d; i >= 1 && E->st == HEKV_OK; i--) {
            if (c[i] == 0.0) continue;
            E->st = hekv__ct_mul_round(ev, acc, E->T[i], plev(E, t + 1),
                                       c[i] * sq / E->T[i]->scale, !first);
            first = 0;
        }
        if (E->st == HEKV_OK) {
            acc->scale = sq;
            if (c[0] != 0.0) E->st = hekv_ckks_eval_add_const(ev, acc, acc, c[0], 0.0);
        }
        *ct = acc;
        return;
    }
    /* split p = q T_n + r */
    const int n = 1 << (bitlen(d) - 1);
    if (clog2(n) > budget - 1) {
        E->infeasible = 1;
        return;
    }
    const int dq = d - n;
    double *q = malloc((size_t)(dq + 1) * sizeof *q), *r = malloc((size_t)n * sizeof *r);
    if (!q || !r) {
        free(q);
        free(r);
        E->st = hekv_err_set(&ev->err, HEKV_ERR_NOMEM, "polynomial evaluation: out of memory");
        return;
    }
    q[0] = c[n];
    for (int k = 1; k <= dq; k++) q[k] = 2.0 * c[n + k];
    for (int i = 0; i < n; i++) r[i] = c[i];
    for (int k = 1; k <= dq; k++) r[n - k] -= c[n + k];
    E->need[n] = 1;
    const int qd = eff_deg(q, dq);
    hekv_ct *prod = NULL;
    if (qd >= 1) E->splits++;
    if (!E->dry) {
        const double sq = S * qunit(E, t + 1);
        const hekv_ct *Tn = E->T[n];
        prod = ct_alloc(ev, &E->st);
        if (E->st == HEKV_OK && qd == 0) {
            /* a constant quotient: c_n T_n is one more leaf-like term */
            E->st = hekv__ct_mul_round(ev, prod, Tn, plev(E, t + 1), q[0] * sq / Tn->scale, 0);
            if (E->st == HEKV_OK) prod->scale = sq;
        } else if (E->st == HEKV_OK) {
            hekv_ct *qc;
            double qcst;
            int qis;
            node(E, q, qd, t + 1, sq / Tn->scale, &qc, &qcst, &qis);
            if (E->st == HEKV_OK && !E->infeasible) E->st = rescale_unit(ev, qc, E->r);
            if (E->st == HEKV_OK && !E->infeasible) E->st = hekv_ckks_eval_mul(ev, prod, qc, Tn);
            ct_release(ev, qc);
        }
    } else if (qd >= 1) {
        hekv_ct *qc;
        double qcst;
        int qis;
        node(E, q, qd, t + 1, 0, &qc, &qcst, &qis);
    }
    hekv_ct *rc;
    double rcst;
    int ris;
    node(E, r, n - 1, t, S, &rc, &rcst, &ris);
    if (!E->dry && E->st == HEKV_OK && !E->infeasible) {
        if (rc)
            E->st = hekv_ckks_eval_add(ev, prod, prod, rc);
        else if (rcst != 0.0)
            E->st = hekv_ckks_eval_add_const(ev, prod, prod, rcst, 0.0);
    }
    ct_release(ev, rc);
    free(q);
    free(r);
    *ct = prod;
}

/* Marks what the needed powers are built from (T_2k from T_k; T_i from T_a, T_b, T_{a-b})
 * and returns how many relinearised products building them costs. */
static int close_powers(unsigned char *need, int deg) {
    int count = 0;
    need[1] = 1;
    for (int i = deg; i >= 2; i--) {
        if (!need[i]) continue;
        count++;
        if ((i & (i - 1)) == 0) {
            need[i / 2] = 1;
        } else {
            int a = 1 << (clog2(i) - 1), b = i - a;
            need[a] = need[b] = need[a - b] = 1;
        }
    }
    return count;
}

/* Plans p (coefficients c[0..deg], deg >= 1) for a budget of bitlen(deg) levels below T_1:
 * the baby bound with the fewest relinearised products. need (deg + 1 bytes) receives the
 * powers of the chosen plan. Returns the product count, or -1 on allocation failure. */
static int plan(const double *c, int deg, int *best_B, unsigned char *need) {
    const int m = bitlen(deg);
    int best = -1;
    unsigned char *tmp = calloc((size_t)deg + 1, 1);
    if (!tmp) return -1;
    for (int l = 1; l <= m; l++) {
        memset(tmp, 0, (size_t)deg + 1);
        pe E = {NULL, 1, m, 1 << l, deg, tmp, NULL, 0, 0, HEKV_OK, 1, 0};
        hekv_ct *ct;
        double cst;
        int is_ct;
        node(&E, c, deg, 0, 0, &ct, &cst, &is_ct);
        if (E.infeasible) continue;
        int count = E.splits + close_powers(tmp, deg);
        if (best < 0 || count < best) {
            best = count;
            *best_B = 1 << l;
            memcpy(need, tmp, (size_t)deg + 1);
        }
    }
    free(tmp);
    return best;
}

static int is_unit_interval(const hekv_cheby *p) {
    return hekv_ckks_cheby_lo(p) == -1.0 && hekv_ckks_cheby_hi(p) == 1.0;
}

int hekv_ckks_cheby_depth(const hekv_cheby *p) {
    if (!p) return -1;
    return bitlen(hekv_ckks_cheby_degree(p)) + !is_unit_interval(p);
}

int hekv_ckks_cheby_ct_mults(const hekv_cheby *p) {
    if (!p) return -1;
    const int deg = hekv_ckks_cheby_degree(p);
    if (deg < 1) return 0;
    unsigned char *need = calloc((size_t)deg + 1, 1);
    int B = 0, count = need ? plan(hekv_ckks_cheby_coeffs(p), deg, &B, need) : -1;
    free(need);
    return count;
}

/* ------------------------------------------------------------------ evaluation */

hekv_status hekv__eval_poly(hekv_eval *ev, hekv_ct *out, const hekv_ct *in, const hekv_cheby *p,
                            double target, int r, int *mults) {
    const int deg = hekv_ckks_cheby_degree(p);
    const double *c = hekv_ckks_cheby_coeffs(p);
    const int m = bitlen(deg), map = !is_unit_interval(p);
    /* units: the input at unit m + map, T_1 at unit m (L0), the result at unit 0 */
    const int L = m + map, L0 = m;
    pe U = {ev, 0, L0, 0, deg, NULL, NULL, 0, 0, HEKV_OK, r, in->level - L * r};
    hekv_status s = HEKV_OK;
    unsigned char *need = calloc((size_t)deg + 1, 1);
    hekv_ct **T = calloc((size_t)deg + 1, sizeof *T);
    int B = 0, count = need && T ? plan(c, deg, &B, need) : -1;
    if (count < 0) {
        free(need);
        free(T);
        return hekv_err_set(&ev->err, HEKV_ERR_NOMEM, "hekv_ckks_eval_poly: out of memory");
    }
    for (int i = 1; i <= deg && s == HEKV_OK; i++)
        if (need[i]) T[i] = ct_alloc(ev, &s);
    /* 1. T_1 */
    if (s == HEKV_OK) {
        if (map) {
            const double a = hekv_ckks_cheby_lo(p), b = hekv_ckks_cheby_hi(p);
            const double alpha = 2.0 / (b - a), beta = -(a + b) / (b - a);
            const double sigma1 = qunit(&U, L0), sq = sigma1 * qunit(&U, L);
            s = hekv__ct_mul_round(ev, T[1], in, plev(&U, L), alpha * sq / in->scale, 0);
            if (s == HEKV_OK) {
                T[1]->scale = sq;
                if (beta != 0.0) s = hekv_ckks_eval_add_const(ev, T[1], T[1], beta, 0.0);
            }
            if (s == HEKV_OK) s = rescale_unit(ev, T[1], r);
        } else {
            hekv_err e;
            if ((s = hekv_ckks_ct_copy(T[1], in, &e)) != HEKV_OK)
                hekv_err_set(&ev->err, s, "hekv_ckks_eval_poly: %s", e.msg);
        }
    }
    /* 2. powers, in increasing order (each depends on smaller ones only) */
    for (int i = 2; i <= deg && s == HEKV_OK; i++) {
        if (!need[i]) continue;
        if ((i & (i - 1)) == 0) {
            const hekv_ct *h = T[i / 2];
            s = hekv_ckks_eval_square(ev, T[i], h);
            if (s == HEKV_OK) s = hekv_ckks_eval_mul_int(ev, T[i], T[i], 2);
            if (s == HEKV_OK) s = hekv_ckks_eval_add_const(ev, T[i], T[i], -1.0, 0.0);
        } else {
            const int a = 1 << (clog2(i) - 1), b = i - a;
            s = hekv_ckks_eval_mul(ev, T[i], T[a], T[b]);
            if (s == HEKV_OK) s = hekv_ckks_eval_mul_int(ev, T[i], T[i], 2);
            if (s == HEKV_OK)
                s = hekv__ct_mul_round(ev, T[i], T[a - b], T[i]->level,
                                       -T[i]->scale / T[a - b]->scale, 1);
        }
        if (s == HEKV_OK) s = rescale_unit(ev, T[i], r);
    }
    /* 3. the tree, 4. the last rescale */
    hekv_ct *res = NULL;
    if (s == HEKV_OK) {
        pe E = U;
        E.B = B, E.need = need, E.T = T;
        double cst;
        int is_ct;
        node(&E, c, deg, L0 - m, target, &res, &cst, &is_ct);
        s = E.st;
        if (s == HEKV_OK && (E.infeasible || !res))
            s = hekv_err_set(&ev->err, HEKV_ERR_LEVEL,
                             "hekv_ckks_eval_poly: internal plan error (degree %d, baby bound "
                             "%d)", deg, B);
        if (s == HEKV_OK) s = rescale_unit(ev, res, r);
    }
    if (s == HEKV_OK) {
        /* out may alias in, which is no longer read */
        s = hekv_ckks_ct_copy(out, res, &ev->err);
        if (s == HEKV_OK && mults) *mults += count;
    }
    ct_release(ev, res);
    for (int i = deg; i >= 1; i--) ct_release(ev, T[i]);
    free(T);
    free(need);
    return s;
}

static hekv_status eval_poly_checked(hekv_eval *ev, const char *fn, hekv_ct *out,
                                     const hekv_ct *in, const hekv_cheby *p,
                                     double target_scale, int r) {
    if (!ev) return HEKV_ERR_ARG;
    if (!out || !in || !p)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: NULL argument", fn);
    if (in->params != ev->params || out->params != ev->params)
        return hekv_err_set(&ev->err, HEKV_ERR_PARAMS,
                            "%s: the ciphertexts belong to another parameter set than the "
                            "evaluator", fn);
    if (in->level < 0)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: the input ciphertext is empty", fn);
    if (r < 1 || r > HEKV_CKKS_MAX_Q)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG, "%s: %d primes per level", fn, r);
    const int deg = hekv_ckks_cheby_degree(p);
    if (deg < 1)
        return hekv_err_set(&ev->err, HEKV_ERR_ARG,
                            "%s: the series is a constant (degree 0): nothing to evaluate", fn);
    const int depth = hekv_ckks_cheby_depth(p) * r;
    if (in->level < depth)
        return hekv_err_set(&ev->err, HEKV_ERR_LEVEL,
                            "%s: degree %d on [%g, %g] needs %d levels, the input has %d "
                            "(levels exhausted: bootstrap first, or use a lower degree)",
                            fn, deg, hekv_ckks_cheby_lo(p), hekv_ckks_cheby_hi(p), depth,
                            in->level);
    if (target_scale == 0) target_scale = in->scale;
    if (!isfinite(target_scale) || target_scale <= 1)
        return hekv_err_set(&ev->err, HEKV_ERR_SCALE, "%s: target scale %g is not > 1", fn,
                            target_scale);
    hekv_status s = hekv__check_relin(ev, fn, in->level);
    if (s != HEKV_OK) return s;
    return hekv__eval_poly(ev, out, in, p, target_scale, r, NULL);
}

hekv_status hekv_ckks_eval_poly(hekv_eval *ev, hekv_ct *out, const hekv_ct *in,
                                const hekv_cheby *p, double target_scale) {
    return eval_poly_checked(ev, "hekv_ckks_eval_poly", out, in, p, target_scale, 1);
}

hekv_status hekv_ckks_ext_eval_poly(hekv_eval *ev, hekv_ct *out, const hekv_ct *in,
                                    const hekv_cheby *p, double target_scale, int r) {
    return eval_poly_checked(ev, "hekv_ckks_ext_eval_poly", out, in, p, target_scale, r);
}
