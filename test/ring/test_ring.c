/* test_ring.c: the ring layer: construction checks, limb-parallel operations against the
 * per-limb scalar kernels, scalar and AVX-512 rings side by side (R7), the NTT product
 * against a schoolbook negacyclic product, and automorphisms in both forms. */
#include <string.h>

#include "kernels/primes.h"
#include "src/ring/ring.h"
#include "test/util.h"

static hekv_ring *make_ring(int logn, int nprimes, int bits, hekv_isa isa, int threads) {
    uint64_t primes[HEKV_RING_MAX_PRIMES];
    cr_assert_eq(hekv_primes_generate(primes, nprimes, bits, logn, NULL, 0), HEKV_KERN_OK);
    hekv_ring_lit lit = {.logn = logn, .nprimes = nprimes, .primes = primes, .isa = isa,
                         .threads = threads};
    hekv_ring *r = NULL;
    hekv_err err;
    hekv_status s = hekv_ring_new(&lit, &r, &err);
    cr_assert_eq(s, HEKV_OK, "hekv_ring_new: %s", err.msg);
    return r;
}

static void random_poly(const hekv_ring *r, hekv_poly *p, test_rng *g) {
    for (size_t i = 0; i < p->limbs; i++)
        test_fill(g, p->c + i * p->n, p->n, hekv_ring_modulus(r, (int)i)->q);
}

Test(ring, rejects_bad_literals) {
    uint64_t primes[3];
    cr_assert_eq(hekv_primes_generate(primes, 2, 40, 10, NULL, 0), HEKV_KERN_OK);
    hekv_ring *r = (hekv_ring *)1;
    hekv_err err;
    hekv_ring_lit lit = {.logn = 10, .nprimes = 2, .primes = primes};
    lit.logn = 3;
    cr_assert_eq(hekv_ring_new(&lit, &r, &err), HEKV_ERR_PARAMS);
    cr_assert_null(r);
    cr_assert(strstr(err.msg, "degree"), "message: %s", err.msg);
    lit.logn = 10;
    primes[2] = primes[0];
    lit.nprimes = 3;
    cr_assert_eq(hekv_ring_new(&lit, &r, &err), HEKV_ERR_PARAMS);
    cr_assert(strstr(err.msg, "equal"), "message: %s", err.msg);
    primes[2] = primes[0] + 2; /* not 1 mod 2N */
    cr_assert_eq(hekv_ring_new(&lit, &r, &err), HEKV_ERR_PARAMS);
    primes[2] = (1ULL << 40) + 1; /* 1 mod 2N but composite (641 * 6700417 * ...) */
    cr_assert_eq(hekv_ring_new(&lit, &r, &err), HEKV_ERR_PARAMS);
    lit.nprimes = 0;
    cr_assert_eq(hekv_ring_new(&lit, &r, &err), HEKV_ERR_PARAMS);
    cr_assert_eq(hekv_ring_new(NULL, &r, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_ring_new(&lit, NULL, &err), HEKV_ERR_ARG);
}

Test(ring, kernels_env_override) {
    uint64_t primes[1];
    cr_assert_eq(hekv_primes_generate(primes, 1, 45, 10, NULL, 0), HEKV_KERN_OK);
    hekv_ring_lit lit = {.logn = 10, .nprimes = 1, .primes = primes, .isa = HEKV_ISA_AUTO};
    hekv_ring *r = NULL;
    hekv_err err;
    setenv("HEKV_KERNELS", "scalar", 1);
    cr_assert_eq(hekv_ring_new(&lit, &r, &err), HEKV_OK);
    cr_assert_str_eq(hekv_ring_ops(r, 0)->name, "scalar");
    hekv_ring_free(r);
    setenv("HEKV_KERNELS", "bogus", 1);
    cr_assert_eq(hekv_ring_new(&lit, &r, &err), HEKV_ERR_ARG);
    cr_assert(strstr(err.msg, "HEKV_KERNELS"), "message: %s", err.msg);
    unsetenv("HEKV_KERNELS");
    lit.isa = HEKV_ISA_AVX512;
    hekv_status s = hekv_ring_new(&lit, &r, &err);
    if (hekv_cpu_has_avx512_kernels()) {
        cr_assert_eq(s, HEKV_OK);
        cr_assert_str_eq(hekv_ring_ops(r, 0)->name, "avx512");
        hekv_ring_free(r);
    } else {
        cr_assert_eq(s, HEKV_ERR_UNSUPPORTED);
    }
}

/* Schoolbook product in Z_q[X]/(X^n+1), an oracle independent of every NTT. */
static void negacyclic_schoolbook(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n,
                                  const hekv_modulus *m) {
    memset(out, 0, n * sizeof *out);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            uint64_t p = hekv_mod_mul(a[i], b[j], m);
            size_t k = i + j;
            if (k < n)
                out[k] = hekv_mod_add(out[k], p, m->q);
            else
                out[k - n] = hekv_mod_sub(out[k - n], p, m->q);
        }
}

Test(ring, ntt_product_equals_schoolbook) {
    test_rng g = test_rng_new(1);
    for (int isa = HEKV_ISA_SCALAR; isa <= HEKV_ISA_AVX512; isa++) {
        if (isa == HEKV_ISA_AVX512 && !hekv_cpu_has_avx512_kernels()) continue;
        hekv_ring *r = make_ring(8, 4, 50, (hekv_isa)isa, 2);
        hekv_poly a, b, c;
        cr_assert_eq(hekv_poly_new(r, 4, &a), HEKV_OK);
        cr_assert_eq(hekv_poly_new(r, 4, &b), HEKV_OK);
        cr_assert_eq(hekv_poly_new(r, 4, &c), HEKV_OK);
        random_poly(r, &a, &g);
        random_poly(r, &b, &g);
        uint64_t *want = calloc(4 * a.n, 8);
        for (int i = 0; i < 4; i++)
            negacyclic_schoolbook(want + i * a.n, a.c + i * a.n, b.c + i * a.n, a.n,
                                  hekv_ring_modulus(r, i));
        hekv_ring_ntt_fwd(r, &a);
        hekv_ring_ntt_fwd(r, &b);
        cr_assert(a.ntt && b.ntt);
        hekv_ring_mul(r, &c, &a, &b);
        hekv_ring_ntt_inv(r, &c);
        cr_assert_eq(test_first_diff(c.c, want, 4 * a.n), -1, "isa %d", isa);
        free(want);
        hekv_poly_free(&a), hekv_poly_free(&b), hekv_poly_free(&c);
        hekv_ring_free(r);
    }
}

/* Every limb-parallel op of an AVX-512 ring and of a 2-thread ring equals a 1-thread
 * scalar ring bit for bit. */
Test(ring, ops_match_scalar_ring) {
    if (!hekv_cpu_has_avx512_kernels()) cr_skip_test("no AVX-512 IFMA kernels here");
    const int logn = 12, L = 5;
    hekv_ring *rs = make_ring(logn, L, 49, HEKV_ISA_SCALAR, 1);
    hekv_ring *rv = make_ring(logn, L, 49, HEKV_ISA_AVX512, 2);
    test_rng g = test_rng_new(2);
    hekv_poly a, b, x[2];
    cr_assert_eq(hekv_poly_new(rs, L, &a), HEKV_OK);
    cr_assert_eq(hekv_poly_new(rs, L, &b), HEKV_OK);
    random_poly(rs, &a, &g);
    random_poly(rs, &b, &g);
    uint64_t s[L];
    for (int i = 0; i < L; i++) s[i] = test_below(&g, hekv_ring_modulus(rs, i)->q);
    uint32_t *map = malloc(sizeof(uint32_t) << logn);
    cr_assert_eq(hekv_automorph_map_coeff(map, logn, 5), HEKV_KERN_OK);
    for (int op = 0; op < 9; op++) {
        for (int v = 0; v < 2; v++) {
            const hekv_ring *r = v ? rv : rs;
            cr_assert_eq(hekv_poly_new(r, L, &x[v]), HEKV_OK);
            hekv_poly_copy(r, &x[v], &b);
            switch (op) {
            case 0: hekv_ring_add(r, &x[v], &a, &b); break;
            case 1: hekv_ring_sub(r, &x[v], &a, &b); break;
            case 2: hekv_ring_neg(r, &x[v], &a); break;
            case 3: hekv_ring_mul(r, &x[v], &a, &b); break;
            case 4: hekv_ring_mul_acc(r, &x[v], &a, &b); break;
            case 5: hekv_ring_mul_scalar(r, &x[v], &a, s); break;
            case 6: hekv_ring_mul_scalar_acc(r, &x[v], &a, s); break;
            case 7: hekv_ring_ntt_fwd(r, &x[v]); break;
            case 8: hekv_ring_automorph(r, &x[v], &a, map); break;
            }
        }
        cr_assert_eq(test_first_diff(x[0].c, x[1].c, (size_t)L << logn), -1, "op %d", op);
        hekv_poly_free(&x[0]), hekv_poly_free(&x[1]);
    }
    free(map);
    hekv_poly_free(&a), hekv_poly_free(&b);
    hekv_ring_free(rs), hekv_ring_free(rv);
}

/* a(X^k) computed in NTT form equals the coefficient-form automorphism. */
Test(ring, automorph_forms_agree) {
    const int logn = 10;
    hekv_ring *r = make_ring(logn, 3, 45, HEKV_ISA_AUTO, 1);
    test_rng g = test_rng_new(3);
    hekv_poly a, x, y;
    cr_assert_eq(hekv_poly_new(r, 3, &a), HEKV_OK);
    cr_assert_eq(hekv_poly_new(r, 3, &x), HEKV_OK);
    cr_assert_eq(hekv_poly_new(r, 3, &y), HEKV_OK);
    random_poly(r, &a, &g);
    uint32_t *mc = malloc(sizeof(uint32_t) << logn), *mn = malloc(sizeof(uint32_t) << logn);
    const uint64_t ks[] = {5, 25, 3, (2u << logn) - 1};
    for (unsigned t = 0; t < 4; t++) {
        cr_assert_eq(hekv_automorph_map_coeff(mc, logn, ks[t]), HEKV_KERN_OK);
        cr_assert_eq(hekv_automorph_map_ntt(mn, logn, ks[t]), HEKV_KERN_OK);
        hekv_ring_automorph(r, &x, &a, mc);
        hekv_ring_ntt_fwd(r, &x);
        hekv_poly b;
        cr_assert_eq(hekv_poly_new(r, 3, &b), HEKV_OK);
        hekv_poly_copy(r, &b, &a);
        hekv_ring_ntt_fwd(r, &b);
        hekv_ring_automorph(r, &y, &b, mn);
        cr_assert_eq(test_first_diff(x.c, y.c, (size_t)3 << logn), -1, "k = %llu",
                     (unsigned long long)ks[t]);
        hekv_poly_free(&b);
    }
    free(mc), free(mn);
    hekv_poly_free(&a), hekv_poly_free(&x), hekv_poly_free(&y);
    hekv_ring_free(r);
}

Test(ring, poly_new_rejects_bad_limbs) {
    hekv_ring *r = make_ring(6, 2, 40, HEKV_ISA_SCALAR, 1);
    hekv_poly p;
    cr_assert_eq(hekv_poly_new(r, 0, &p), HEKV_ERR_ARG);
    cr_assert_eq(hekv_poly_new(r, 3, &p), HEKV_ERR_ARG);
    cr_assert_null(p.c);
    hekv_poly_free(&p); /* harmless on a zeroed poly */
    hekv_poly_free(NULL);
    hekv_ring_free(r);
    hekv_ring_free(NULL);
}
