/* test_encoder.c: the CKKS encoder. The canonical embedding against a direct O(n*N)
 * evaluation of the message polynomial at zeta^(5^j) (an oracle that shares nothing with
 * the special FFT), exact CRT decoding against GMP on every limb count, encode/decode
 * precision for real and complex vectors over slot counts, levels and scales, linearity,
 * the NTT product as a ring map, the slot order under X -> X^5 and X -> X^(2N-1) (what
 * rotations rely on), sparse placement, and the error paths. */
#include <gmp.h>
#include <math.h>
#include <string.h>

#include "kernels/automorph.h"
#include "src/ckks/ckks_int.h"
#include "test/ckks/ckks_fixture.h"

/* Named tolerances: a fresh encoding's slot error is the coefficient rounding (<= 1/2
 * each) summed through the embedding, ~sqrt(N)/scale; 2^10/scale leaves a wide margin
 * (2^-30 at scale 2^40, inside the required 2^-25). */
#define ENC_TOL_ROUNDTRIP(scale) (0x1p10 / (scale))
/* Product of two encodings at scale s: error ~ |x| e_y + |y| e_x with e ~ 2^7 / s. */
#define ENC_TOL_PRODUCT(scale) (0x1p12 / (scale))
/* Relative error of one exactly decoded coefficient (long double Horner, then double). */
#define ENC_TOL_CRT_REL 0x1p-50
/* The oracle evaluates in long double; the FFT in double: agreement to this. */
#define ENC_TOL_ORACLE 0x1p-30

static hekv_encoder *encoder_of(const hekv_ckks_params *p) {
    hekv_encoder *enc = NULL;
    hekv_err err;
    cr_assert_eq(hekv_ckks_encoder_new(p, &enc, &err), HEKV_OK, "%s", err.msg);
    return enc;
}

static hekv_pt *pt_new_ok(const hekv_ckks_params *p) {
    hekv_pt *pt = NULL;
    hekv_err err;
    cr_assert_eq(hekv_ckks_pt_new(p, &pt, &err), HEKV_OK, "%s", err.msg);
    return pt;
}

static void encode_ok(hekv_encoder *enc, hekv_pt *pt, const double *re, const double *im,
                      size_t slots, int level, double scale) {
    hekv_err err;
    hekv_status s = hekv_ckks_encode(enc, pt, re, im, slots, level, scale, &err);
    cr_assert_eq(s, HEKV_OK, "encode(slots %zu, level %d, scale 2^%.0f): %s", slots, level,
                 log2(scale), err.msg);
    cr_assert_eq(hekv_ckks_pt_level(pt), level);
    cr_assert_eq(hekv_ckks_pt_slots(pt), slots);
    cr_assert_eq(hekv_ckks_pt_scale(pt), scale);
    cr_assert(pt->m.ntt);
}

static void decode_ok(hekv_encoder *enc, double *re, double *im, const hekv_pt *pt) {
    hekv_err err;
    cr_assert_eq(hekv_ckks_decode(enc, re, im, pt, &err), HEKV_OK, "decode: %s", err.msg);
}

/* max |(re, im) - (ere, eim)| over n slots (eim NULL: zero imaginary part expected). */
static double max_err(const double *re, const double *im, const double *ere, const double *eim,
                      size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(re[i] - ere[i]);
        m = d > m ? d : m;
        if (im) {
            d = fabs(im[i] - (eim ? eim[i] : 0.0));
            m = d > m ? d : m;
        }
    }
    return m;
}

/* Centred coefficients of limb 0 of pt (coefficient form), valid while |c| < q_0 / 2. */
static void limb0_centred(const hekv_ckks_params *p, const hekv_pt *pt, int64_t *out) {
    const size_t n = p->n;
    hekv_poly t;
    cr_assert_eq(hekv_poly_new(p->rq, 1, &t), HEKV_OK);
    hekv_poly_copy(p->rq, &t, &pt->m);
    if (t.ntt) hekv_ring_ntt_inv(p->rq, &t);
    uint64_t q = hekv_ring_modulus(p->rq, 0)->q;
    for (size_t i = 0; i < n; i++) out[i] = t.c[i] > q / 2 ? -(int64_t)(q - t.c[i]) : (int64_t)t.c[i];
    hekv_poly_free(&t);
}

/* The oracle: slot j of coefficients c (at scale) is m(zeta^(5^j)), zeta = exp(i pi / N),
 * evaluated directly in long double. */
static void embed_direct(const int64_t *c, size_t n, size_t slots, double scale, double *re,
                         double *im) {
    const size_t m2 = 2 * n;
    long double *cs = malloc(m2 * sizeof *cs), *sn = malloc(m2 * sizeof *sn);
    cr_assert(cs && sn);
    for (size_t k = 0; k < m2; k++) {
        long double a = 3.141592653589793238462643383279502884L * (long double)k / (long double)n;
        cs[k] = cosl(a);
        sn[k] = sinl(a);
    }
    uint64_t e = 1; /* 5^j mod 2N */
    for (size_t j = 0; j < slots; j++) {
        long double sr = 0, si = 0;
        for (size_t i = 0; i < n; i++) {
            if (!c[i]) continue;
            size_t idx = (size_t)((e * i) % m2);
            sr += (long double)c[i] * cs[idx];
            si += (long double)c[i] * sn[idx];
        }
        re[j] = (double)(sr / scale);
        im[j] = (double)(si / scale);
        e = e * 5 % m2;
    }
    free(cs);
    free(sn);
}

/* ------------------------------------------------------------------ canonical embedding */

/* Encoding agrees with the direct evaluation of the encoded polynomial; sparse encodings
 * occupy only the coefficients at multiples of N/(2 slots). */
Test(ckks_encoder, embedding_matches_direct_evaluation) {
    hekv_ckks_params *p = params_named("toy-N12");
    hekv_encoder *enc = encoder_of(p);
    hekv_pt *pt = pt_new_ok(p);
    test_rng g = test_rng_new(1);
    const size_t n = p->n;
    const size_t slot_counts[] = {1, 2, 16, n / 4, n / 2};
    double *re = malloc(n / 2 * sizeof *re), *im = malloc(n / 2 * sizeof *im);
    double *ore = malloc(n / 2 * sizeof *ore), *oim = malloc(n / 2 * sizeof *oim);
    int64_t *c = malloc(n * sizeof *c);
    const double scale = 0x1p35;
    for (size_t t = 0; t < sizeof slot_counts / sizeof slot_counts[0]; t++) {
        size_t slots = slot_counts[t], gap = n / (2 * slots);
        fill(&g, re, slots, -1, 1);
        fill(&g, im, slots, -1, 1);
        encode_ok(enc, pt, re, im, slots, 0, scale);
        limb0_centred(p, pt, c);
        for (size_t i = 0; i < n; i++)
            if (i % gap) cr_assert_eq(c[i], 0, "slots %zu: coefficient %zu not on the gap %zu",
                                      slots, i, gap);
        embed_direct(c, n, slots, scale, ore, oim);
        double e = max_err(ore, oim, re, im, slots);
        cr_assert(e < ENC_TOL_ROUNDTRIP(scale), "slots %zu: oracle error 2^%.1f", slots, log2(e));
    }
    free(re), free(im), free(ore), free(oim), free(c);
    hekv_ckks_pt_free(pt);
    hekv_ckks_encoder_free(enc);
    hekv_ckks_params_free(p);
}

/* Decoding a plaintext made of arbitrary small integer coefficients (on the gap) agrees
 * with the direct evaluation: pins the decoder's FFT without using the encoder. */
Test(ckks_encoder, decode_matches_direct_evaluation) {
    hekv_ckks_params *p = params_named("toy-N12");
    hekv_encoder *enc = encoder_of(p);
    hekv_pt *pt = pt_new_ok(p);
    test_rng g = test_rng_new(2);
    const size_t n = p->n;
    const int level = 2;
    const double scale = 0x1p20;
    double *re = malloc(n / 2 * sizeof *re), *im = malloc(n / 2 * sizeof *im);
    double *ore = malloc(n / 2 * sizeof *ore), *oim = malloc(n / 2 * sizeof *oim);
    int64_t *c = malloc(n * sizeof *c);
    const size_t slot_counts[] = {1, 4, n / 2};
    for (size_t t = 0; t < 3; t++) {
        size_t slots = slot_counts[t], gap = n / (2 * slots);
        cr_assert_eq(hekv__pt_resize(pt, level), HEKV_OK);
        for (size_t i = 0; i < n; i++)
            c[i] = i % gap ? 0 : (int64_t)test_below(&g, 1u << 21) - (1 << 20);
        for (int l = 0; l <= level; l++) {
            uint64_t q = hekv_ring_modulus(p->rq, l)->q;
            for (size_t i = 0; i < n; i++)
                pt->m.c[(size_t)l * n + i] = c[i] < 0 ? q - (uint64_t)(-c[i]) : (uint64_t)c[i];
        }
        pt->m.ntt = 0;
        hekv_ring_ntt_fwd(p->rq, &pt->m);
        pt->m.ntt = 1;
        pt->scale = scale;
        pt->slots = slots;
        decode_ok(enc, re, im, pt);
        embed_direct(c, n, slots, scale, ore, oim);
        double e = max_err(re, im, ore, oim, slots);
        cr_assert(e < ENC_TOL_ORACLE, "slots %zu: decode vs oracle 2^%.1f", slots, log2(e));
    }
    free(re), free(im), free(ore), free(oim), free(c);
    hekv_ckks_pt_free(pt);
    hekv_ckks_encoder_free(enc);
    hekv_ckks_params_free(p);
}

/* ------------------------------------------------------------------ exact CRT decoding */

/* With one slot, slot 0 = (c_0 + i c_{N/2}) / scale exactly (no FFT arithmetic), so the
 * decoded values are the centred CRT values. GMP draws x in [-(Q-1)/2, (Q-1)/2] (plus the
 * extremes and (Q+1)/2, which must come back negative) for every level 0..top. */
static void crt_exact_for(const char *name, int salt) {
    hekv_ckks_params *p = params_named(name);
    hekv_encoder *enc = encoder_of(p);
    hekv_pt *pt = pt_new_ok(p);
    const size_t n = p->n;
    gmp_randstate_t rs;
    gmp_randinit_default(rs);
    gmp_randseed_ui(rs, (unsigned long)(test_seed() + (uint64_t)salt));
    mpz_t Q, h, x, y, r;
    mpz_inits(Q, h, x, y, r, NULL);
    for (int level = 0; level < p->nq; level++) {
        mpz_set_ui(Q, 1);
        for (int i = 0; i <= level; i++) mpz_mul_ui(Q, Q, hekv_ring_modulus(p->rq, i)->q);
        mpz_sub_ui(h, Q, 1);
        mpz_fdiv_q_2exp(h, h, 1); /* (Q - 1) / 2 */
        /* a scale near Q / 2^12 keeps the decoded values O(2^11) */
        double scale = ldexp(1.0, (int)mpz_sizeinbase(Q, 2) - 12);
        for (int trial = 0; trial < 28; trial++) {
            /* x -> coefficient 0, y -> coefficient N/2 */
            for (int which = 0; which < 2; which++) {
                mpz_ptr v = which ? y : x;
                switch ((trial + which) % 7) {
                case 0: mpz_set(v, h); break;                /* largest positive */
                case 1: mpz_neg(v, h); break;                /* most negative */
                case 2: mpz_add_ui(v, h, 1); break;          /* (Q+1)/2 = -(Q-1)/2 mod Q */
                case 3: mpz_set_si(v, -7); break;
                case 4: /* +-(2^e + small): magnitudes around every prefix Q_low */
                    mpz_set_ui(v, 1);
                    mpz_mul_2exp(v, v, (mp_bitcnt_t)gmp_urandomm_ui(rs, mpz_sizeinbase(h, 2)));
                    mpz_add_ui(v, v, gmp_urandomm_ui(rs, 1000));
                    if (mpz_cmp(v, h) > 0) mpz_set(v, h);
                    if (gmp_urandomm_ui(rs, 2)) mpz_neg(v, v);
                    break;
                default:
                    mpz_urandomm(v, rs, Q);
                    mpz_sub(v, v, h);
                }
            }
            cr_assert_eq(hekv__pt_resize(pt, level), HEKV_OK);
            memset(pt->m.c, 0, (size_t)(level + 1) * n * sizeof(uint64_t));
            for (int i = 0; i <= level; i++) {
                uint64_t q = hekv_ring_modulus(p->rq, i)->q;
                pt->m.c[(size_t)i * n] = mpz_fdiv_ui(x, q);
                pt->m.c[(size_t)i * n + n / 2] = mpz_fdiv_ui(y, q);
            }
            pt->m.ntt = 0;
            hekv_ring_ntt_fwd(p->rq, &pt->m);
            pt->m.ntt = 1;
            pt->scale = scale;
            pt->slots = 1;
            double re, im;
            decode_ok(enc, &re, &im, pt);
            for (int which = 0; which < 2; which++) {
                mpz_ptr v = which ? y : x;
                mpz_set(r, v);
                if (mpz_cmp(r, h) > 0) mpz_sub(r, r, Q); /* the centred representative */
                long e2;
                double mant = mpz_get_d_2exp(&e2, r);
                double want = ldexp(mant, (int)e2) / scale, got = which ? im : re;
                cr_assert(fabs(got - want) <= ENC_TOL_CRT_REL * fabs(want) + 0x1p-60,
                          "%s level %d trial %d: decoded %.17g, want %.17g", name, level, trial,
                          got, want);
            }
        }
    }
    mpz_clears(Q, h, x, y, r, NULL);
    gmp_randclear(rs);
    hekv_ckks_pt_free(pt);
    hekv_ckks_encoder_free(enc);
    hekv_ckks_params_free(p);
}

Test(ckks_encoder, crt_decode_exact_every_level) {
    crt_exact_for("toy-N12", 3);
    crt_exact_for("toy-N13", 4);
}

/* ------------------------------------------------------------------ round trips */

Test(ckks_encoder, roundtrip_precision) {
    hekv_ckks_params *p = params_named("toy-N13");
    hekv_encoder *enc = encoder_of(p);
    hekv_pt *pt = pt_new_ok(p);
    test_rng g = test_rng_new(5);
    const size_t n = p->n;
    const int top = p->nq - 1;
    const size_t slot_counts[] = {1, 2, 16, n / 4, n / 2};
    const int levels[] = {0, 1, top / 2, top};
    const int log_scales[] = {30, 40, 45};
    double *re = malloc(n / 2 * sizeof *re), *im = malloc(n / 2 * sizeof *im);
    double *dre = malloc(n / 2 * sizeof *dre), *dim = malloc(n / 2 * sizeof *dim);
    double worst40 = 0;
    for (size_t a = 0; a < sizeof slot_counts / sizeof slot_counts[0]; a++)
        for (size_t b = 0; b < sizeof levels / sizeof levels[0]; b++)
            for (size_t c = 0; c < sizeof log_scales / sizeof log_scales[0]; c++)
                for (int complex_in = 0; complex_in < 2; complex_in++) {
                    size_t slots = slot_counts[a];
                    int level = levels[b];
                    double scale = ldexp(1.0, log_scales[c]);
                    fill(&g, re, slots, -1, 1);
                    fill(&g, im, slots, -1, 1);
                    const double *in_im = complex_in ? im : NULL;
                    encode_ok(enc, pt, re, in_im, slots, level, scale);
                    decode_ok(enc, dre, dim, pt);
                    double e = max_err(dre, dim, re, in_im, slots);
                    cr_assert(e < ENC_TOL_ROUNDTRIP(scale),
                              "slots %zu level %d scale 2^%d %s: error 2^%.1f", slots, level,
                              log_scales[c], complex_in ? "complex" : "real", log2(e));
                    if (log_scales[c] == 40 && e > worst40) worst40 = e;
                    /* re-only decode gives the same real parts */
                    double *dre2 = malloc(slots * sizeof *dre2);
                    decode_ok(enc, dre2, NULL, pt);
                    cr_assert_eq(memcmp(dre2, dre, slots * sizeof *dre2), 0);
                    free(dre2);
                }
    cr_assert(worst40 < 0x1p-25, "worst error at scale 2^40: 2^%.1f", log2(worst40));
    cr_log_info("encoder round trip, worst error at scale 2^40: 2^%.1f", log2(worst40));
    free(re), free(im), free(dre), free(dim);
    hekv_ckks_pt_free(pt);
    hekv_ckks_encoder_free(enc);
    hekv_ckks_params_free(p);
}

/* Large scales (above 2^53) keep improving the precision down to double rounding, and
 * values up to ~2^20 at scale 2^40 fit. */
Test(ckks_encoder, roundtrip_large_scale_and_values) {
    hekv_ckks_params *p = params_named("toy-N12");
    hekv_encoder *enc = encoder_of(p);
    hekv_pt *pt = pt_new_ok(p);
    test_rng g = test_rng_new(6);
    const size_t slots = p->n / 2;
    double *re = malloc(slots * sizeof *re), *im = malloc(slots * sizeof *im);
    double *dre = malloc(slots * sizeof *dre), *dim = malloc(slots * sizeof *dim);
    fill(&g, re, slots, -1, 1);
    fill(&g, im, slots, -1, 1);
    encode_ok(enc, pt, re, im, slots, p->nq - 1, 0x1p58);
    decode_ok(enc, dre, dim, pt);
    double e = max_err(dre, dim, re, im, slots);
    cr_assert(e < 0x1p-44, "scale 2^58: error 2^%.1f", log2(e));
    fill(&g, re, slots, -0x1p20, 0x1p20);
    encode_ok(enc, pt, re, NULL, slots, 1, 0x1p40);
    decode_ok(enc, dre, dim, pt);
    e = max_err(dre, dim, re, NULL, slots);
    cr_assert(e < 0x1p-15, "values 2^20 at scale 2^40: error 2^%.1f", log2(e));
    free(re), free(im), free(dre), free(dim);
    hekv_ckks_pt_free(pt);
    hekv_ckks_encoder_free(enc);
    hekv_ckks_params_free(p);
}

/* ------------------------------------------------------------------ ring homomorphism */

Test(ckks_encoder, linearity) {
    hekv_ckks_params *p = params_named("toy-N12");
    hekv_encoder *enc = encoder_of(p);
    hekv_pt *a = pt_new_ok(p), *b = pt_new_ok(p), *c = pt_new_ok(p);
    test_rng g = test_rng_new(7);
    const size_t n = p->n;
    double *xr = malloc(n / 2 * sizeof(double)), *xi = malloc(n / 2 * sizeof(double));
    double *yr = malloc(n / 2 * sizeof(double)), *yi = malloc(n / 2 * sizeof(double));
    double *sr = malloc(n / 2 * sizeof(double)), *si = malloc(n / 2 * sizeof(double));
    double *dr = malloc(n / 2 * sizeof(double)), *di = malloc(n / 2 * sizeof(double));
    const size_t slot_counts[] = {1, 16, n / 2};
    const double scale = 0x1p40;
    for (size_t t = 0; t < 3; t++) {
        size_t slots = slot_counts[t];
        int level = (int)t + 1;
        fill(&g, xr, slots, -1, 1), fill(&g, xi, slots, -1, 1);
        fill(&g, yr, slots, -1, 1), fill(&g, yi, slots, -1, 1);
        for (size_t i = 0; i < slots; i++) sr[i] = xr[i] + yr[i], si[i] = xi[i] + yi[i];
        encode_ok(enc, a, xr, xi, slots, level, scale);
        encode_ok(enc, b, yr, yi, slots, level, scale);
        encode_ok(enc, c, xr, xi, slots, level, scale); /* sized like a */
        hekv_ring_add(p->rq, &c->m, &a->m, &b->m);
        decode_ok(enc, dr, di, c);
        double e = max_err(dr, di, sr, si, slots);
        cr_assert(e < 2 * ENC_TOL_ROUNDTRIP(scale), "slots %zu: x + y error 2^%.1f", slots,
                  log2(e));
    }
    free(xr), free(xi), free(yr), free(yi), free(sr), free(si), free(dr), free(di);
    hekv_ckks_pt_free(a), hekv_ckks_pt_free(b), hekv_ckks_pt_free(c);
    hekv_ckks_encoder_free(enc);
    hekv_ckks_params_free(p);
}

/* The NTT-form (pointwise) product of two encodings decodes to the slot-wise complex
 * product at scale^2: the embedding is a ring map. */
Test(ckks_encoder, product_is_slotwise) {
    hekv_ckks_params *p = params_named("toy-N12");
    hekv_encoder *enc = encoder_of(p);
    hekv_pt *a = pt_new_ok(p), *b = pt_new_ok(p), *c = pt_new_ok(p);
    test_rng g = test_rng_new(8);
    const size_t n = p->n;
    double *xr = malloc(n / 2 * sizeof(double)), *xi = malloc(n / 2 * sizeof(double));
    double *yr = malloc(n / 2 * sizeof(double)), *yi = malloc(n / 2 * sizeof(double));
    double *pr = malloc(n / 2 * sizeof(double)), *pim = malloc(n / 2 * sizeof(double));
    double *dr = malloc(n / 2 * sizeof(double)), *di = malloc(n / 2 * sizeof(double));
    const size_t slot_counts[] = {1, 2, 16, n / 4, n / 2};
    const double scale = 0x1p30;
    const int level = 2; /* Q ~ 2^130 holds scale^2 * N */
    for (size_t t = 0; t < 5; t++) {
        size_t slots = slot_counts[t];
        fill(&g, xr, slots, -1, 1), fill(&g, xi, slots, -1, 1);
        fill(&g, yr, slots, -1, 1), fill(&g, yi, slots, -1, 1);
        for (size_t i = 0; i < slots; i++) {
            pr[i] = xr[i] * yr[i] - xi[i] * yi[i];
            pim[i] = xr[i] * yi[i] + xi[i] * yr[i];
        }
        encode_ok(enc, a, xr, xi, slots, level, scale);
        encode_ok(enc, b, yr, yi, slots, level, scale);
        encode_ok(enc, c, xr, xi, slots, level, scale);
        hekv_ring_mul(p->rq, &c->m, &a->m, &b->m);
        c->scale = scale * scale;
        decode_ok(enc, dr, di, c);
        double e = max_err(dr, di, pr, pim, slots);
        cr_assert(e < ENC_TOL_PRODUCT(scale), "slots %zu: x * y error 2^%.1f", slots, log2(e));
    }
    free(xr), free(xi), free(yr), free(yi), free(pr), free(pim), free(dr), free(di);
    hekv_ckks_pt_free(a), hekv_ckks_pt_free(b), hekv_ckks_pt_free(c);
    hekv_ckks_encoder_free(enc);
    hekv_ckks_params_free(p);
}

/* ------------------------------------------------------------------ slot order */

/* X -> X^(5^k) (hekv_ckks_galois_rot) on an encoding rotates the slots left by k (mod the
 * slot count, sparse included) and X -> X^(2N-1) conjugates them. */
Test(ckks_encoder, automorphisms_rotate_and_conjugate) {
    hekv_ckks_params *p = params_named("toy-N12");
    hekv_encoder *enc = encoder_of(p);
    hekv_pt *a = pt_new_ok(p), *b = pt_new_ok(p);
    test_rng g = test_rng_new(9);
    const size_t n = p->n;
    uint32_t *map = malloc(n * sizeof *map);
    double *xr = malloc(n / 2 * sizeof(double)), *xi = malloc(n / 2 * sizeof(double));
    double *er = malloc(n / 2 * sizeof(double)), *ei = malloc(n / 2 * sizeof(double));
    double *dr = malloc(n / 2 * sizeof(double)), *di = malloc(n / 2 * sizeof(double));
    const size_t slot_counts[] = {2, 16, n / 4, n / 2};
    const long ks[] = {1, 2, 5, -1, -3};
    const double scale = 0x1p40;
    const int level = 1;
    for (size_t t = 0; t < 4; t++) {
        size_t slots = slot_counts[t];
        fill(&g, xr, slots, -1, 1), fill(&g, xi, slots, -1, 1);
        encode_ok(enc, a, xr, xi, slots, level, scale);
        encode_ok(enc, b, xr, xi, slots, level, scale);
        for (size_t r = 0; r <= sizeof ks / sizeof ks[0]; r++) {
            int conj = r == sizeof ks / sizeof ks[0];
            long k = conj ? 0 : ks[r];
            uint64_t gal = conj ? hekv_ckks_galois_conj(p) : hekv_ckks_galois_rot(p, k);
            cr_assert_eq(hekv_automorph_map_ntt(map, p->logn, gal), HEKV_KERN_OK);
            hekv_ring_automorph(p->rq, &b->m, &a->m, map);
            decode_ok(enc, dr, di, b);
            for (size_t i = 0; i < slots; i++) {
                size_t src = (size_t)(((long)i + k) % (long)slots + (long)slots) % slots;
                er[i] = xr[conj ? i : src];
                ei[i] = conj ? -xi[i] : xi[src];
            }
            double e = max_err(dr, di, er, ei, slots);
            cr_assert(e < ENC_TOL_ROUNDTRIP(scale), "slots %zu %s %ld: error 2^%.1f", slots,
                      conj ? "conjugate" : "rotate", k, log2(e));
        }
    }
    free(map), free(xr), free(xi), free(er), free(ei), free(dr), free(di);
    hekv_ckks_pt_free(a), hekv_ckks_pt_free(b);
    hekv_ckks_encoder_free(enc);
    hekv_ckks_params_free(p);
}

/* ------------------------------------------------------------------ errors */

Test(ckks_encoder, rejects_bad_arguments) {
    hekv_ckks_params *p = params_named("toy-N12"), *p2 = params_named("toy-N13");
    hekv_encoder *enc = encoder_of(p);
    hekv_pt *pt = pt_new_ok(p), *pt2 = pt_new_ok(p2);
    const size_t n = p->n;
    double *v = calloc(n, sizeof *v), out[4];
    hekv_err err;
    const double scale = 0x1p40;
    hekv_encoder *e2 = (hekv_encoder *)1;
    cr_assert_eq(hekv_ckks_encoder_new(NULL, &e2, &err), HEKV_ERR_ARG);
    cr_assert_null(e2);
    cr_assert_eq(hekv_ckks_encoder_new(p, NULL, &err), HEKV_ERR_ARG);
    hekv_ckks_encoder_free(NULL);
    cr_assert_eq(hekv_ckks_encoder_params(enc), p);
    cr_assert_null(hekv_ckks_encoder_params(NULL));

    /* slot counts: 0, not a power of two, above N/2 */
    const size_t bad_slots[] = {0, 3, 12, n, 2 * n};
    for (size_t i = 0; i < 5; i++) {
        cr_assert_eq(hekv_ckks_encode(enc, pt, v, NULL, bad_slots[i], 0, scale, &err),
                     HEKV_ERR_ARG, "slots %zu accepted", bad_slots[i]);
        cr_assert(strstr(err.msg, "power of two"), "message: %s", err.msg);
    }
    /* levels */
    cr_assert_eq(hekv_ckks_encode(enc, pt, v, NULL, 4, -1, scale, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_encode(enc, pt, v, NULL, 4, p->nq, scale, &err), HEKV_ERR_ARG);
    cr_assert(strstr(err.msg, "level"), "message: %s", err.msg);
    /* scales */
    cr_assert_eq(hekv_ckks_encode(enc, pt, v, NULL, 4, 0, 0.0, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_encode(enc, pt, v, NULL, 4, 0, -scale, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_encode(enc, pt, v, NULL, 4, 0, INFINITY, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_encode(enc, pt, v, NULL, 4, 0, NAN, &err), HEKV_ERR_ARG);
    /* non-finite values */
    v[2] = NAN;
    cr_assert_eq(hekv_ckks_encode(enc, pt, v, NULL, 4, 0, scale, &err), HEKV_ERR_ARG);
    cr_assert(strstr(err.msg, "slot 2"), "message: %s", err.msg);
    v[2] = 0;
    double im[4] = {0, 0, 0, -INFINITY};
    cr_assert_eq(hekv_ckks_encode(enc, pt, v, im, 4, 0, scale, &err), HEKV_ERR_ARG);
    /* huge values: the coefficient would pass 2^62 */
    v[1] = 1e10;
    cr_assert_eq(hekv_ckks_encode(enc, pt, v, NULL, 4, 3, scale, &err), HEKV_ERR_SCALE);
    cr_assert(strstr(err.msg, "scale"), "message: %s", err.msg);
    cr_assert_eq(hekv_ckks_encode(enc, pt, v, NULL, 4, 3, 0x1p70, &err), HEKV_ERR_SCALE);
    cr_assert_eq(pt->level, -1, "a failed encode left the plaintext sized");
    v[1] = 1e6; /* 2^19.9 * 2^40 fits */
    cr_assert_eq(hekv_ckks_encode(enc, pt, v, NULL, 4, 3, scale, &err), HEKV_OK, "%s", err.msg);
    /* NULLs and foreign plaintexts */
    cr_assert_eq(hekv_ckks_encode(NULL, pt, v, NULL, 4, 0, scale, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_encode(enc, NULL, v, NULL, 4, 0, scale, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_encode(enc, pt, NULL, NULL, 4, 0, scale, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_encode(enc, pt2, v, NULL, 4, 0, scale, &err), HEKV_ERR_PARAMS);
    cr_assert_eq(hekv_ckks_decode(enc, out, NULL, pt2, &err), HEKV_ERR_PARAMS);
    cr_assert_eq(hekv_ckks_decode(enc, NULL, NULL, pt, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ckks_decode(NULL, out, NULL, pt, &err), HEKV_ERR_ARG);
    /* decoding an empty plaintext, or one with a corrupted slot count */
    hekv_pt *empty = pt_new_ok(p);
    cr_assert_eq(hekv_ckks_decode(enc, out, NULL, empty, &err), HEKV_ERR_ARG);
    cr_assert(strstr(err.msg, "empty"), "message: %s", err.msg);
    pt->slots = 6;
    cr_assert_eq(hekv_ckks_decode(enc, out, NULL, pt, &err), HEKV_ERR_ARG);
    /* errors without an err buffer */
    cr_assert_eq(hekv_ckks_encode(enc, pt, v, NULL, 3, 0, scale, NULL), HEKV_ERR_ARG);
    hekv_ckks_pt_free(empty);
    free(v);
    hekv_ckks_pt_free(pt), hekv_ckks_pt_free(pt2);
    hekv_ckks_encoder_free(enc);
    hekv_ckks_params_free(p), hekv_ckks_params_free(p2);
}
