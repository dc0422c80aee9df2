/* test_lintrans.c: BSGS linear transforms. Encrypted y = M x against a plain dense
 * matrix-vector product (random 16x16 and 64x64 matrices in sparse slots, a complex one,
 * and a subset of diagonals), the rotation count and list against the BSGS formula
 * (distinct non-zero baby offsets + distinct non-zero giant steps) for automatic and given
 * baby steps, levels, sizes, and the error paths. Parameters: toy-N12 (N = 2^12). */
#include <math.h>
#include <string.h>

#include "src/ckks/ckks_int.h"
#include "test/ckks/ckks_fixture.h"

/* y = M x with |M_ij|, |x_j| <= 1 over d terms: each product carries ~2^-31 of error
 * (encoding of the diagonal, encryption noise, rescale), summed over d diagonals; plus the
 * key-switching noise of the rotations (small after ModDown). Observed ~2^-28 at d = 64. */
#define TOL_LT(d) ((double)(d) * 0x1p-28)

static ctx ctx_new(void) { return ctx_new_keys("toy-N12", 0, 0, NULL, 0); }

/* The BSGS rotation count computed here independently: distinct non-zero k mod n1 plus
 * distinct non-zero k div n1. */
static size_t formula(const long *off, size_t nd, long n1) {
    size_t nb = 0, ng = 0;
    for (long b = 1; b < n1; b++)
        for (size_t i = 0; i < nd; i++)
            if (off[i] % n1 == b) {
                nb++;
                break;
            }
    long maxg = 0;
    for (size_t i = 0; i < nd; i++)
        if (off[i] / n1 > maxg) maxg = off[i] / n1;
    for (long g = 1; g <= maxg; g++)
        for (size_t i = 0; i < nd; i++)
            if (off[i] / n1 == g) {
                ng++;
                break;
            }
    return nb + ng;
}

/* Builds the transform of the d x d matrix (mre, mim) restricted to the diagonals in off
 * (generalised diagonal k: diag_k[i] = M[i][(i + k) mod d]), generates its rotation keys,
 * evaluates it on an encryption of x at level `level`, rescales and compares with the
 * plain product. Returns the transform's rotation count. */
static size_t run_lt_hoist(ctx *c, size_t d, const double *mre, const double *mim,
                           const long *off, size_t nd, long n1, int lt_level, int ct_level,
                           hekv_lt_hoist hoist, test_rng *g) {
    double **dre = malloc(nd * sizeof *dre), **dim = malloc(nd * sizeof *dim);
    for (size_t t = 0; t < nd; t++) {
        dre[t] = calloc(d, sizeof **dre);
        dim[t] = calloc(d, sizeof **dim);
        for (size_t i = 0; i < d; i++) {
            size_t j = (i + (size_t)off[t]) % d;
            dre[t][i] = mre[i * d + j];
            dim[t][i] = mim ? mim[i * d + j] : 0;
        }
    }
    hekv_lintrans *lt = NULL;
    hekv_err err;
    if (hoist == HEKV_LT_HOIST_SINGLE) {
        cr_assert_eq(hekv_ckks_lintrans_new(c->enc, off, (const double *const *)dre,
                                            mim ? (const double *const *)dim : NULL, nd, d,
                                            lt_level, c->scale, n1, &lt, &err),
                     HEKV_OK, "%s", err.msg);
        cr_assert_eq(hekv_ckks_lintrans_bytes(lt), nd * (size_t)(lt_level + 1) * c->p->n * 8);
    } else {
        const hekv_lintrans_opts o = {n1, hoist};
        cr_assert_eq(hekv_ckks_lintrans_new_opts(c->enc, off, (const double *const *)dre,
                                                 mim ? (const double *const *)dim : NULL, nd,
                                                 d, lt_level, c->scale, &o, &lt, &err),
                     HEKV_OK, "%s", err.msg);
        cr_assert_eq(hekv_ckks_lintrans_bytes(lt),
                     nd * (size_t)(lt_level + 1 + hekv_ckks_params_np(c->p)) * c->p->n * 8);
    }

    long rots[4096];
    size_t nr = hekv_ckks_lintrans_rotations(lt, rots, 4096);
    cr_assert_eq(hekv_ckks_lintrans_rotations(lt, NULL, 0), nr);
    for (size_t i = 0; i < nr; i++) cr_assert(rots[i] > 0 && (size_t)rots[i] < d);
    ctx_gen_rotations(c, rots, nr, 0);

    double *x = malloc(d * sizeof *x), *xi = malloc(d * sizeof *xi);
    double *yr = calloc(d, sizeof *yr), *yi = calloc(d, sizeof *yi);
    for (size_t i = 0; i < d; i++) x[i] = test_uniform(g, -1, 1), xi[i] = test_uniform(g, -1, 1);
    /* plain y = M' x over the chosen diagonals only */
    for (size_t t = 0; t < nd; t++)
        for (size_t i = 0; i < d; i++) {
            size_t j = (i + (size_t)off[t]) % d;
            double ar = dre[t][i], ai = dim[t][i];
            yr[i] += ar * x[j] - ai * xi[j];
            yi[i] += ar * xi[j] + ai * x[j];
        }
    hekv_ct *a = ct_encrypt_cx(c, x, xi, d, ct_level, c->scale), *o = ct_new(c);
    hekv_ckks_eval_reset_counts(c->ev);
    hekv_status s = hekv_ckks_eval_lintrans(c->ev, o, a, lt);
    cr_assert_eq(s, HEKV_OK, "lintrans: %s", hekv_ckks_eval_last_error(c->ev));
    hekv_ckks_eval_counts k;
    hekv_ckks_eval_get_counts(c->ev, &k);
    cr_assert_eq(k.keyswitches, nr, "%llu key switches for %zu rotations",
                 (unsigned long long)k.keyswitches, nr);
    if (hoist == HEKV_LT_HOIST_DOUBLE) /* ModUps 1 + giants, ModDowns giants + 2 */
        cr_assert_eq(k.moddowns, k.modups + 1, "ModDowns %llu, ModUps %llu",
                     (unsigned long long)k.moddowns, (unsigned long long)k.modups);
    else
        cr_assert_eq(k.moddowns, nr);
    int l = ct_level < lt_level ? ct_level : lt_level;
    cr_assert_eq(hekv_ckks_ct_level(o), l);
    cr_assert_eq(hekv_ckks_ct_scale(o), c->scale * c->scale);
    cr_assert_eq(hekv_ckks_eval_rescale(c->ev, o, o), HEKV_OK, "%s", hekv_ckks_eval_last_error(c->ev));
    double *rr = malloc(d * sizeof *rr), *ri = malloc(d * sizeof *ri);
    ct_decrypt(c, rr, ri, o);
    double m = 0;
    for (size_t i = 0; i < d; i++) m = fmax(m, hypot(rr[i] - yr[i], ri[i] - yi[i]));
    cr_log_info("lintrans d=%zu ndiag=%zu n1=%ld%s: %zu rotations, max error 2^%.2f (bound "
                "2^%.2f)", d, nd, n1, hoist == HEKV_LT_HOIST_DOUBLE ? " (double hoisting)" : "",
                nr, log2(m), log2(TOL_LT(d)));
    cr_assert(m <= TOL_LT(d), "d=%zu: max error 2^%.2f exceeds 2^%.2f", d, log2(m),
              log2(TOL_LT(d)));

    for (size_t t = 0; t < nd; t++) free(dre[t]), free(dim[t]);
    free(dre), free(dim), free(x), free(xi), free(yr), free(yi), free(rr), free(ri);
    hekv_ckks_ct_free(a);
    hekv_ckks_ct_free(o);
    hekv_ckks_lintrans_free(lt);
    return nr;
}

static size_t run_lt(ctx *c, size_t d, const double *mre, const double *mim, const long *off,
                     size_t nd, long n1, int lt_level, int ct_level, test_rng *g) {
    return run_lt_hoist(c, d, mre, mim, off, nd, n1, lt_level, ct_level, HEKV_LT_HOIST_SINGLE,
                        g);
}

static double *random_matrix(test_rng *g, size_t d) {
    double *m = malloc(d * d * sizeof *m);
    for (size_t i = 0; i < d * d; i++) m[i] = test_uniform(g, -1, 1);
    return m;
}

static long *all_offsets(size_t d) {
    long *o = malloc(d * sizeof *o);
    for (size_t i = 0; i < d; i++) o[i] = (long)i;
    return o;
}

Test(ckks_lintrans, dense_16x16) {
    ctx c = ctx_new();
    test_rng g = test_rng_new(11);
    double *m = random_matrix(&g, 16);
    long *off = all_offsets(16);
    /* automatic n1: 4 is optimal for 16 diagonals, (4 - 1) + (16/4 - 1) = 6 rotations */
    size_t nr = run_lt(&c, 16, m, NULL, off, 16, 0, c.top, c.top, &g);
    cr_assert_eq(nr, 6);
    cr_assert_eq(nr, formula(off, 16, 4));
    free(m);
    free(off);
    ctx_free(&c);
}

Test(ckks_lintrans, dense_64x64) {
    ctx c = ctx_new();
    test_rng g = test_rng_new(12);
    double *m = random_matrix(&g, 64);
    long *off = all_offsets(64);
    size_t nr = run_lt(&c, 64, m, NULL, off, 64, 0, c.top, c.top, &g);
    cr_assert_eq(nr, 14, "automatic n1 = 8: 7 + 7 rotations");
    cr_assert_eq(nr, formula(off, 64, 8));
    /* a given baby step (not a power of two, not dividing d) and a lower level */
    nr = run_lt(&c, 64, m, NULL, off, 64, 5, 3, c.top, &g);
    cr_assert_eq(nr, formula(off, 64, 5));
    cr_assert_eq(nr, 4 + 12);
    free(m);
    free(off);
    ctx_free(&c);
}

Test(ckks_lintrans, complex_matrix) {
    ctx c = ctx_new();
    test_rng g = test_rng_new(13);
    double *mr = random_matrix(&g, 32), *mi = random_matrix(&g, 32);
    long *off = all_offsets(32);
    /* the ciphertext below the transform's level */
    size_t nr = run_lt(&c, 32, mr, mi, off, 32, 0, c.top, 4, &g);
    cr_assert_eq(nr, formula(off, 32, 8) < formula(off, 32, 4) ? formula(off, 32, 8)
                                                                : formula(off, 32, 4));
    free(mr);
    free(mi);
    free(off);
    ctx_free(&c);
}

Test(ckks_lintrans, diagonal_subset) {
    ctx c = ctx_new();
    test_rng g = test_rng_new(14);
    double *m = random_matrix(&g, 64);
    const long off[] = {63, 0, 1, 5, 17, 33, 2}; /* unsorted on purpose */
    const size_t nd = sizeof off / sizeof *off;
    /* given n1 = 8: babies {1, 2, 5, 7} + giants {2, 4, 7} */
    size_t nr = run_lt(&c, 64, m, NULL, off, nd, 8, c.top, c.top, &g);
    cr_assert_eq(nr, formula(off, nd, 8));
    cr_assert_eq(nr, 7);
    /* automatic: never more rotations than any power-of-two baby step */
    nr = run_lt(&c, 64, m, NULL, off, nd, 0, c.top, c.top, &g);
    for (long n1 = 1; n1 <= 64; n1 *= 2) cr_assert_leq(nr, formula(off, nd, n1));
    /* a single diagonal: one rotation, no plaintext sum */
    const long one[] = {9};
    nr = run_lt(&c, 64, m, NULL, one, 1, 0, c.top, c.top, &g);
    cr_assert_eq(nr, 1);
    /* only the main diagonal: a slot-wise product, no rotation at all */
    const long zero[] = {0};
    nr = run_lt(&c, 64, m, NULL, zero, 1, 0, c.top, c.top, &g);
    cr_assert_eq(nr, 0);
    free(m);
    ctx_free(&c);
}

Test(ckks_lintrans, rotation_list) {
    ctx c = ctx_new();
    double d0[16] = {1}, *diags[3] = {d0, d0, d0};
    const long off[] = {3, 12, 13};
    hekv_lintrans *lt = NULL;
    hekv_err err;
    cr_assert_eq(hekv_ckks_lintrans_new(c.enc, off, (const double *const *)diags, NULL, 3, 16,
                                        c.top, c.scale, 4, &lt, &err),
                 HEKV_OK, "%s", err.msg);
    /* k = g*4 + b: 3 = 0*4+3, 12 = 3*4+0, 13 = 3*4+1 -> babies {1, 3}, giant {12} */
    long rots[8];
    cr_assert_eq(hekv_ckks_lintrans_rotations(lt, rots, 8), 3);
    cr_assert_eq(rots[0], 1);
    cr_assert_eq(rots[1], 3);
    cr_assert_eq(rots[2], 12);
    cr_assert_eq(hekv_ckks_lintrans_rotations(lt, rots, 1), 3, "count even when cap is small");
    hekv_ckks_lintrans_free(lt);
    hekv_ckks_lintrans_free(NULL);
    cr_assert_eq(hekv_ckks_lintrans_rotations(NULL, rots, 8), 0);
    ctx_free(&c);
}

Test(ckks_lintrans, errors) {
    ctx c = ctx_new();
    double d0[16] = {0.5}, *diags[2] = {d0, d0};
    hekv_lintrans *lt = (hekv_lintrans *)1;
    hekv_err err;
    const long dup[] = {1, 1}, bad[] = {16}, neg[] = {-1}, ok[] = {1};
    const double *const *dd = (const double *const *)diags;
    cr_assert_eq(hekv_ckks_lintrans_new(c.enc, dup, dd, NULL, 2, 16, c.top, c.scale, 0, &lt, &err),
                 HEKV_ERR_ARG);
    cr_assert_null(lt);
    cr_assert(strstr(err.msg, "twice"), "%s", err.msg);
    cr_assert_eq(hekv_ckks_lintrans_new(c.enc, bad, dd, NULL, 1, 16, c.top, c.scale, 0, &lt, &err),
                 HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_lintrans_new(c.enc, neg, dd, NULL, 1, 16, c.top, c.scale, 0, &lt, &err),
                 HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_lintrans_new(c.enc, ok, dd, NULL, 1, 12, c.top, c.scale, 0, &lt, &err),
                 HEKV_ERR_ARG, "slots not a power of two");
    cr_assert_eq(hekv_ckks_lintrans_new(c.enc, ok, dd, NULL, 0, 16, c.top, c.scale, 0, &lt, &err),
                 HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_lintrans_new(c.enc, ok, dd, NULL, 1, 16, c.top + 1, c.scale, 0, &lt,
                                        &err),
                 HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_lintrans_new(NULL, ok, dd, NULL, 1, 16, c.top, c.scale, 0, &lt, &err),
                 HEKV_ERR_ARG);

    cr_assert_eq(hekv_ckks_lintrans_new(c.enc, ok, dd, NULL, 1, 16, c.top, c.scale, 0, &lt, &err),
                 HEKV_OK, "%s", err.msg);
    double x[32] = {0.25};
    hekv_ct *a = ct_encrypt_cx(&c, x, NULL, 16, c.top, c.scale), *o = ct_new(&c);
    /* no Galois key for rotation 1 */
    cr_assert_eq(hekv_ckks_eval_lintrans(c.ev, o, a, lt), HEKV_ERR_KEY_MISSING);
    cr_assert(strstr(hekv_ckks_eval_last_error(c.ev), "rotation by 1"), "%s",
              hekv_ckks_eval_last_error(c.ev));
    long r = 1;
    ctx_gen_rotations(&c, &r, 1, 0);
    /* out aliasing the input */
    cr_assert_eq(hekv_ckks_eval_lintrans(c.ev, a, a, lt), HEKV_ERR_ARG);
    cr_assert(strstr(hekv_ckks_eval_last_error(c.ev), "alias"), "%s", hekv_ckks_eval_last_error(c.ev));
    /* slot mismatch */
    hekv_ct *b = ct_encrypt_cx(&c, x, NULL, 32, c.top, c.scale);
    cr_assert_eq(hekv_ckks_eval_lintrans(c.ev, o, b, lt), HEKV_ERR_ARG);
    /* a level-0 input cannot hold the product scale */
    hekv_ct *z = ct_new(&c);
    cr_assert_eq(hekv_ckks_eval_drop_to(c.ev, z, a, 0), HEKV_OK);
    cr_assert_eq(hekv_ckks_eval_lintrans(c.ev, o, z, lt), HEKV_ERR_LEVEL);
    cr_assert_eq(hekv_ckks_eval_lintrans(c.ev, o, a, lt), HEKV_OK, "%s",
                 hekv_ckks_eval_last_error(c.ev));
    hekv_ckks_ct_free(a);
    hekv_ckks_ct_free(b);
    hekv_ckks_ct_free(z);
    hekv_ckks_ct_free(o);
    hekv_ckks_lintrans_free(lt);
    ctx_free(&c);
}

/* Double hoisting: the same products as single hoisting (to CKKS noise), dense and sparse
 * diagonal sets, complex, every baby step and the cost-chosen one, the input above the
 * transform's level; ModDowns = giants + 2 and key switches = rotations (counted). */
Test(ckks_lintrans, double_hoisting) {
    ctx c = ctx_new();
    test_rng g = test_rng_new(41);
    double *m = random_matrix(&g, 64), *mi = random_matrix(&g, 64);
    long *off = all_offsets(64);
    for (long n1 = 1; n1 <= 64; n1 *= 4)
        run_lt_hoist(&c, 64, m, mi, off, 64, n1, c.top, c.top, HEKV_LT_HOIST_DOUBLE, &g);
    run_lt_hoist(&c, 64, m, NULL, off, 64, 0, c.top - 1, c.top, HEKV_LT_HOIST_DOUBLE, &g);
    const long sparse[] = {0, 1, 3, 8, 9, 31, 40, 63};
    run_lt_hoist(&c, 64, m, mi, sparse, 8, 0, c.top, c.top - 2, HEKV_LT_HOIST_DOUBLE, &g);
    run_lt_hoist(&c, 64, m, mi, sparse, 8, 0, c.top, c.top, HEKV_LT_HOIST_SINGLE, &g);
    const long one[] = {5};
    run_lt_hoist(&c, 64, m, NULL, one, 1, 0, c.top, c.top, HEKV_LT_HOIST_DOUBLE, &g);
    hekv_lintrans *lt = NULL;
    hekv_err err;
    const hekv_lintrans_opts bad = {0, (hekv_lt_hoist)7};
    const double *dr[1] = {m};
    cr_assert_eq(hekv_ckks_lintrans_new_opts(c.enc, one, dr, NULL, 1, 64, c.top, c.scale, &bad,
                                             &lt, &err), HEKV_ERR_ARG);
    cr_assert_null(lt);
    free(m), free(mi), free(off);
    ctx_free(&c);
}
