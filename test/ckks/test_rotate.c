/* test_rotate.c: rotations and conjugation of ciphertexts against the plaintext operation on
 * the decoded vector, with explicit error bounds: every rotation of a key set at the top,
 * a middle and the lowest level, sparse slot counts (rotations act mod slots, keys found
 * through k mod slots), conjugation, hoisted rotations bit-identical to plain ones, in-place
 * rotation, rotate_add, inner sum and replicate, and the key-missing and argument
 * errors. */
#include <complex.h>
#include <math.h>
#include <string.h>

#include "src/ckks/ckks_int.h"
#include "test/ckks/ckks_fixture.h"

/* Slot error of a rotated fresh encryption: encryption noise (~6 sigma) plus the
 * key-switching noise (~100-200 per coefficient, see test_keyswitch.c), zero-mean thanks to
 * the centred conversions, times ~sqrt(N) through the embedding, over the scale 2^40:
 * ~2^-27 for N = 2^12..2^13; 2^-24 leaves margin and still catches a biased ModUp/ModDown
 * (whose mean error concentrates on the slots near X = 1: ~2^-22 at toy-N12). */
#define ROT_TOL 0x1p-24
/* inner_sum / replicate: log2(n) rotations and n-fold sums of the noise. */
#define ROTSUM_TOL 0x1p-21

static const long ROTS[] = {1, 2, 5, -1, 0 /* N/4 */, 0 /* slots-1 */, 4, 8, 16, 32, -16, -32};
#define NROTS (sizeof ROTS / sizeof ROTS[0])

/* ROTS with the two entries that depend on the set filled in: N/4 and slots - 1. */
static void rot_list(const ctx *c, long *ks) {
    memcpy(ks, ROTS, sizeof ROTS);
    ks[4] = (long)c->p->n / 4;
    ks[5] = (long)c->slots - 1;
}

/* `name` at full slots (N/2) with the keys of rot_list, and conjugation when conj. */
static ctx ctx_new(const char *name, int conj) {
    ctx c = ctx_new_keys(name, 0, 0, NULL, 0);
    long rots[NROTS];
    rot_list(&c, rots);
    ctx_gen_rotations(&c, rots, NROTS, conj);
    return c;
}

/* z: slots random complex values in the unit box, encrypted at `level`. */
static hekv_ct *encrypt_random(const ctx *c, double complex *z, size_t slots, int level,
                               test_rng *g) {
    double *re = malloc(slots * sizeof *re), *im = malloc(slots * sizeof *im);
    for (size_t i = 0; i < slots; i++) {
        re[i] = test_uniform(g, -1, 1);
        im[i] = test_uniform(g, -1, 1);
        z[i] = re[i] + I * im[i];
    }
    hekv_ct *ct = ct_encrypt_cx(c, re, im, slots, level, c->scale);
    free(re);
    free(im);
    return ct;
}

/* max_i |dec(ct)_i - want_i| */
static double max_err(const ctx *c, const hekv_ct *ct, const double complex *want) {
    const size_t slots = hekv_ckks_ct_slots(ct);
    double *wre = malloc(slots * sizeof *wre), *wim = malloc(slots * sizeof *wim);
    for (size_t i = 0; i < slots; i++) wre[i] = creal(want[i]), wim[i] = cimag(want[i]);
    const double mx = ct_max_err(c, ct, wre, wim);
    free(wre);
    free(wim);
    return mx;
}

/* want[i] = z[(i + k) mod slots] (left rotation by k) */
static void rotate_plain(double complex *want, const double complex *z, size_t slots, long k) {
    long r = k % (long)slots;
    if (r < 0) r += (long)slots;
    for (size_t i = 0; i < slots; i++) want[i] = z[(i + (size_t)r) % slots];
}

static void rotations_at(ctx *c, size_t slots, int level, uint64_t salt, const long *ks,
                         size_t nk) {
    test_rng g = test_rng_new(salt);
    double complex *z = malloc(slots * sizeof *z), *want = malloc(slots * sizeof *want);
    hekv_ct *a = encrypt_random(c, z, slots, level, &g);
    hekv_ct *r = ct_new(c);
    double base = max_err(c, a, z), worst = 0;
    for (size_t t = 0; t < nk; t++) {
        hekv_status s = hekv_ckks_eval_rotate(c->ev, r, a, ks[t]);
        cr_assert_eq(s, HEKV_OK, "rotate %ld: %s", ks[t], hekv_ckks_eval_last_error(c->ev));
        cr_assert_eq(hekv_ckks_ct_level(r), level);
        cr_assert_eq(hekv_ckks_ct_scale(r), hekv_ckks_ct_scale(a));
        cr_assert_eq(hekv_ckks_ct_slots(r), slots);
        rotate_plain(want, z, slots, ks[t]);
        double e = max_err(c, r, want);
        cr_assert_leq(e, ROT_TOL, "slots %zu level %d rotate %ld: error %g > %g", slots, level,
                      ks[t], e, ROT_TOL);
        if (e > worst) worst = e;
    }
    cr_log_info("%s slots %zu level %d: fresh error %.3g, after rotation max %.3g",
                c->p->lit.name, slots, level, base, worst);
    hekv_ckks_ct_free(a);
    hekv_ckks_ct_free(r);
    free(z);
    free(want);
}

Test(ckks_rotate, every_key_full_slots_all_levels) {
    ctx c = ctx_new("toy-N12", 0);
    long ks[NROTS];
    rot_list(&c, ks);
    const int top = hekv_ckks_params_max_level(c.p);
    rotations_at(&c, c.slots, top, 10, ks, NROTS);
    rotations_at(&c, c.slots, top / 2, 11, ks, NROTS);
    rotations_at(&c, c.slots, 0, 12, ks, NROTS);
    ctx_free(&c);
}

Test(ckks_rotate, toy_n13_partial_digits) {
    ctx c = ctx_new("toy-N13", 0);
    const long ks[] = {1, -1, 5, (long)c.slots - 1};
    /* alpha 3: level 10 has digits of 3, 3, 3, 2 primes; level 4 of 3, 2 */
    rotations_at(&c, c.slots, 10, 13, ks, 4);
    rotations_at(&c, c.slots, 4, 14, ks, 4);
    ctx_free(&c);
}

/* Sparse packing: rotations act mod slots; keys for k are found as k mod slots or
 * k mod slots - slots, and multiples of slots are copies. */
Test(ckks_rotate, sparse_slots) {
    ctx c = ctx_new("toy-N12", 0);
    const long ks[] = {1, 2, 5, -1, 63, 65, -63, 64, 1024, 16, -16, 48};
    rotations_at(&c, 64, hekv_ckks_params_max_level(c.p), 15, ks, sizeof ks / sizeof ks[0]);
    const long k8[] = {1, 2, 5, -1, 7, 9};
    rotations_at(&c, 8, 3, 16, k8, sizeof k8 / sizeof k8[0]);
    const long k1[] = {1, -1, 5};
    rotations_at(&c, 1, 2, 17, k1, 3); /* one slot: every rotation is the identity */
    ctx_free(&c);
}

Test(ckks_rotate, conjugate) {
    ctx c = ctx_new("toy-N12", 1);
    const size_t sizes[2] = {c.slots, 16};
    for (int t = 0; t < 2; t++) {
        const size_t slots = sizes[t];
        for (int level = hekv_ckks_params_max_level(c.p); level >= 0; level -= 7) {
            test_rng g = test_rng_new(20 + (uint64_t)level + 100 * (uint64_t)t);
            double complex *z = malloc(slots * sizeof *z), *want = malloc(slots * sizeof *want);
            hekv_ct *a = encrypt_random(&c, z, slots, level, &g);
            hekv_ct *r = ct_new(&c);
            cr_assert_eq(hekv_ckks_eval_conjugate(c.ev, r, a), HEKV_OK, "%s",
                         hekv_ckks_eval_last_error(c.ev));
            for (size_t i = 0; i < slots; i++) want[i] = conj(z[i]);
            double e = max_err(&c, r, want);
            cr_assert_leq(e, ROT_TOL, "slots %zu level %d conjugate: error %g", slots, level, e);
            /* in place */
            cr_assert_eq(hekv_ckks_eval_conjugate(c.ev, a, a), HEKV_OK);
            cr_assert_eq(memcmp(a->c[0].c, r->c[0].c, (size_t)(level + 1) * c.p->n * 8), 0);
            cr_assert_eq(memcmp(a->c[1].c, r->c[1].c, (size_t)(level + 1) * c.p->n * 8), 0);
            hekv_ckks_ct_free(a);
            hekv_ckks_ct_free(r);
            free(z);
            free(want);
        }
    }
    ctx_free(&c);
}

static void assert_same_ct(const ctx *c, const hekv_ct *x, const hekv_ct *y, const char *what) {
    cr_assert_eq(x->level, y->level, "%s: level", what);
    cr_assert_eq(x->scale, y->scale, "%s: scale", what);
    cr_assert_eq(x->slots, y->slots, "%s: slots", what);
    const size_t w = (size_t)(x->level + 1) * c->p->n * sizeof(uint64_t);
    cr_assert_eq(memcmp(x->c[0].c, y->c[0].c, w), 0, "%s: c0 differs", what);
    cr_assert_eq(memcmp(x->c[1].c, y->c[1].c, w), 0, "%s: c1 differs", what);
}

/* Hoisted rotations apply phi to the same decomposition the plain rotation makes: the
 * results are bit-identical, and identical to an in-place rotation. */
Test(ckks_rotate, hoisted_equals_unhoisted_bit_exact) {
    ctx c = ctx_new("toy-N12", 0);
    const long ks[] = {1, 0, 5, -1, 2, (long)c.slots - 1, 32};
    enum { NK = sizeof ks / sizeof ks[0] };
    test_rng g = test_rng_new(30);
    double complex *z = malloc(c.slots * sizeof *z), *want = malloc(c.slots * sizeof *want);
    for (int level = hekv_ckks_params_max_level(c.p); level >= 0; level -= 3) {
        hekv_ct *a = encrypt_random(&c, z, c.slots, level, &g);
        hekv_ct *outs[NK], *one = ct_new(&c);
        for (int i = 0; i < NK; i++) outs[i] = ct_new(&c);
        cr_assert_eq(hekv_ckks_eval_rotate_hoisted(c.ev, outs, a, ks, NK), HEKV_OK, "%s",
                     hekv_ckks_eval_last_error(c.ev));
        for (int i = 0; i < NK; i++) {
            char what[64];
            snprintf(what, sizeof what, "level %d rotation %ld", level, ks[i]);
            cr_assert_eq(hekv_ckks_eval_rotate(c.ev, one, a, ks[i]), HEKV_OK);
            assert_same_ct(&c, outs[i], one, what);
            rotate_plain(want, z, c.slots, ks[i]);
            double e = max_err(&c, outs[i], want);
            cr_assert_leq(e, ROT_TOL, "%s: error %g", what, e);
        }
        /* in place equals out of place */
        cr_assert_eq(hekv_ckks_eval_rotate(c.ev, one, a, 5), HEKV_OK);
        cr_assert_eq(hekv_ckks_eval_rotate(c.ev, a, a, 5), HEKV_OK);
        assert_same_ct(&c, a, one, "in place");
        for (int i = 0; i < NK; i++) hekv_ckks_ct_free(outs[i]);
        hekv_ckks_ct_free(one);
        hekv_ckks_ct_free(a);
    }
    free(z);
    free(want);
    ctx_free(&c);
}

Test(ckks_rotate, inner_sum_and_replicate) {
    ctx c = ctx_new("toy-N12", 0);
    struct { int replicate; size_t slots; long stride; size_t n; } cases[] = {
        {0, 0, 1, 8},   /* sum of 8 neighbours: keys 1, 2, 4 */
        {0, 0, 16, 4},  /* keys 16, 32 */
        {1, 0, 16, 4},  /* keys -16, -32 */
        {0, 64, 1, 64}, /* the full sum of a sparse 64-slot vector */
        {1, 64, 16, 4}, /* replicate a 16-slot block 4 times */
        {0, 0, 5, 1},   /* n = 1: a copy */
    };
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        const size_t slots = cases[t].slots ? cases[t].slots : c.slots;
        const long stride = cases[t].stride;
        const size_t n = cases[t].n;
        test_rng g = test_rng_new(40 + t);
        double complex *z = malloc(slots * sizeof *z), *want = calloc(slots, sizeof *want);
        double complex *rz = malloc(slots * sizeof *rz);
        hekv_ct *a = encrypt_random(&c, z, slots, 3, &g);
        hekv_ct *r = ct_new(&c);
        for (size_t j = 0; j < n; j++) {
            long k = (cases[t].replicate ? -1 : 1) * (long)j * stride;
            rotate_plain(rz, z, slots, k);
            for (size_t i = 0; i < slots; i++) want[i] += rz[i];
        }
        hekv_status s = cases[t].replicate ? hekv_ckks_eval_replicate(c.ev, r, a, stride, n)
                                           : hekv_ckks_eval_inner_sum(c.ev, r, a, stride, n);
        cr_assert_eq(s, HEKV_OK, "case %zu: %s", t, hekv_ckks_eval_last_error(c.ev));
        double e = max_err(&c, r, want);
        cr_assert_leq(e, ROTSUM_TOL, "case %zu (%s stride %ld n %zu slots %zu): error %g", t,
                      cases[t].replicate ? "replicate" : "inner_sum", stride, n, slots, e);
        /* in place gives the same ciphertext */
        s = cases[t].replicate ? hekv_ckks_eval_replicate(c.ev, a, a, stride, n)
                               : hekv_ckks_eval_inner_sum(c.ev, a, a, stride, n);
        cr_assert_eq(s, HEKV_OK);
        assert_same_ct(&c, a, r, "rotate-and-add in place");
        hekv_ckks_ct_free(a);
        hekv_ckks_ct_free(r);
        free(z);
        free(want);
        free(rz);
    }
    ctx_free(&c);
}

/* rotate_add = rotate (at the common level) then add, bit for bit: levels equal and
 * different, out distinct or aliasing acc, a or both, acc == a, and k = 0 (a plain add);
 * and its argument errors. */
Test(ckks_rotate, rotate_add_equals_rotate_then_add) {
    ctx c = ctx_new("toy-N12", 0);
    test_rng g = test_rng_new(35);
    double complex *z = malloc(c.slots * sizeof *z);
    const int lv[3][2] = {{3, 3}, {2, 4}, {4, 2}}; /* levels of acc, a */
    const long ks[] = {1, -1, 0, (long)c.slots - 1};
    for (int t = 0; t < 3; t++)
        for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++)
            for (int mode = 0; mode < 5; mode++) {
                /* mode 0: out distinct; 1: out = acc; 2: out = a; 3: acc = a; 4: all one */
                const int same = mode >= 3;
                hekv_ct *acc = encrypt_random(&c, z, c.slots, lv[t][0], &g);
                hekv_ct *a = same ? acc : encrypt_random(&c, z, c.slots, lv[t][1], &g);
                hekv_ct *want = ct_new(&c), *rot = ct_new(&c), *low = ct_new(&c);
                const int l = hekv_ckks_ct_level(acc) < hekv_ckks_ct_level(a) ? hekv_ckks_ct_level(acc)
                                                                   : hekv_ckks_ct_level(a);
                cr_assert_eq(hekv_ckks_eval_drop_to(c.ev, low, a, l), HEKV_OK);
                cr_assert_eq(hekv_ckks_eval_rotate(c.ev, rot, low, ks[ki]), HEKV_OK);
                cr_assert_eq(hekv_ckks_eval_add(c.ev, want, acc, rot), HEKV_OK);
                hekv_ct *out = mode == 1 || mode == 4 ? acc : mode == 2 ? a : ct_new(&c);
                hekv_status s = hekv_ckks_eval_rotate_add(c.ev, out, acc, a, ks[ki]);
                cr_assert_eq(s, HEKV_OK, "%s", hekv_ckks_eval_last_error(c.ev));
                char what[80];
                snprintf(what, sizeof what, "levels %d/%d k %ld mode %d", lv[t][0], lv[t][1],
                         ks[ki], mode);
                assert_same_ct(&c, out, want, what);
                if (out != acc && out != a) hekv_ckks_ct_free(out);
                if (!same) hekv_ckks_ct_free(a);
                hekv_ckks_ct_free(acc);
                hekv_ckks_ct_free(want), hekv_ckks_ct_free(rot), hekv_ckks_ct_free(low);
            }
    /* errors: a missing key, scales or slot counts that differ */
    hekv_ct *a = encrypt_random(&c, z, c.slots, 2, &g), *r = ct_new(&c);
    double *zr = calloc(c.slots, sizeof *zr);
    hekv_ct *b = ct_encrypt_cx(&c, zr, NULL, c.slots, 2, c.scale * 2);
    hekv_ct *sp = encrypt_random(&c, z, 64, 2, &g);
    cr_assert_eq(hekv_ckks_eval_rotate_add(c.ev, r, a, a, 3), HEKV_ERR_KEY_MISSING);
    cr_assert_eq(hekv_ckks_eval_rotate_add(c.ev, r, b, a, 1), HEKV_ERR_SCALE);
    cr_assert_eq(hekv_ckks_eval_rotate_add(c.ev, r, sp, a, 1), HEKV_ERR_ARG);
    cr_assert_not_null(strstr(hekv_ckks_eval_last_error(c.ev), "slot counts differ"));
    hekv_ckks_ct_free(a), hekv_ckks_ct_free(b), hekv_ckks_ct_free(sp), hekv_ckks_ct_free(r);
    free(zr);
    free(z);
    ctx_free(&c);
}

Test(ckks_rotate, missing_keys_and_bad_arguments) {
    ctx c = ctx_new("toy-N12", 0); /* no conjugation key */
    test_rng g = test_rng_new(50);
    double complex *z = malloc(c.slots * sizeof *z);
    hekv_ct *a = encrypt_random(&c, z, c.slots, 2, &g);
    hekv_ct *r = ct_new(&c), *r2 = ct_new(&c);
    const char *msg;

    cr_assert_eq(hekv_ckks_eval_rotate(c.ev, r, a, 3), HEKV_ERR_KEY_MISSING);
    msg = hekv_ckks_eval_last_error(c.ev);
    cr_assert(strstr(msg, "rotation by 3") && strstr(msg, "hekv_ckks_evk_gen_rotations"),
              "message: %s", msg);
    cr_assert_eq(hekv_ckks_eval_conjugate(c.ev, r, a), HEKV_ERR_KEY_MISSING);
    msg = hekv_ckks_eval_last_error(c.ev);
    cr_assert(strstr(msg, "conjugation") && strstr(msg, "conj = 1"), "message: %s", msg);
    cr_assert_eq(hekv_ckks_eval_inner_sum(c.ev, r, a, 3, 4), HEKV_ERR_KEY_MISSING);
    msg = hekv_ckks_eval_last_error(c.ev);
    cr_assert(strstr(msg, "rotation by 3"), "message: %s", msg);
    const long ks[3] = {1, 7, 2};
    hekv_ct *outs[3] = {r, r2, ct_new(&c)};
    cr_assert_eq(hekv_ckks_eval_rotate_hoisted(c.ev, outs, a, ks, 3), HEKV_ERR_KEY_MISSING);
    msg = hekv_ckks_eval_last_error(c.ev);
    cr_assert(strstr(msg, "rotation by 7"), "message: %s", msg);

    /* argument errors */
    const long ok[2] = {1, 2};
    hekv_ct *alias[2] = {r, a};
    cr_assert_eq(hekv_ckks_eval_rotate_hoisted(c.ev, alias, a, ok, 2), HEKV_ERR_ARG);
    hekv_ct *twice[2] = {r, r};
    cr_assert_eq(hekv_ckks_eval_rotate_hoisted(c.ev, twice, a, ok, 2), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_eval_inner_sum(c.ev, r, a, 1, 6), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_eval_rotate(c.ev, NULL, a, 1), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_eval_rotate(c.ev, r, NULL, 1), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_eval_rotate(NULL, r, a, 1), HEKV_ERR_ARG);
    hekv_ct *empty = ct_new(&c);
    cr_assert_eq(hekv_ckks_eval_rotate(c.ev, r, empty, 1), HEKV_ERR_ARG);
    /* rotation 0 needs no key, even without any evaluation keys */
    hekv_eval *bare = NULL;
    hekv_err err;
    cr_assert_eq(hekv_ckks_eval_new(c.p, NULL, &bare, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ckks_eval_rotate(bare, r, a, 0), HEKV_OK);
    assert_same_ct(&c, r, a, "rotation 0");
    cr_assert_eq(hekv_ckks_eval_rotate(bare, r, a, 1), HEKV_ERR_KEY_MISSING);
    msg = hekv_ckks_eval_last_error(bare);
    cr_assert(strstr(msg, "no evaluation keys") && strstr(msg, "hekv_ckks_evk_gen_rotations"),
              "message: %s", msg);
    hekv_ckks_eval_free(bare);
    hekv_ckks_ct_free(empty);
    hekv_ckks_ct_free(outs[2]);
    hekv_ckks_ct_free(a);
    hekv_ckks_ct_free(r);
    hekv_ckks_ct_free(r2);
    free(z);
    ctx_free(&c);
}
