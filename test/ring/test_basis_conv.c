/* test_basis_conv.c: fast basis conversion against an exact CRT computed with GMP. The
 * conversion of x (CRT value in [0, B)) must equal x + u*B mod c_j for one integer
 * 0 <= u < k shared by all target limbs; that is the documented approximation. */
#include <gmp.h>
#include <string.h>

#include "kernels/primes.h"
#include "src/ring/ring.h"
#include "test/util.h"

static void check_conversion(int logn, int k, int l, int bits_from, int bits_to, hekv_isa isa,
                             uint64_t salt) {
    uint64_t pf[64], pt[64];
    cr_assert_eq(hekv_primes_generate(pf, k, bits_from, logn, NULL, 0), HEKV_KERN_OK);
    cr_assert_eq(hekv_primes_generate(pt, l, bits_to, logn, pf, k), HEKV_KERN_OK);
    hekv_ring_lit lf = {.logn = logn, .nprimes = k, .primes = pf, .isa = isa, .threads = 2};
    hekv_ring_lit lt = {.logn = logn, .nprimes = l, .primes = pt, .isa = isa, .threads = 2};
    hekv_ring *rf, *rt;
    hekv_err err;
    cr_assert_eq(hekv_ring_new(&lf, &rf, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(hekv_ring_new(&lt, &rt, &err), HEKV_OK, "%s", err.msg);
    hekv_bconv *bc;
    cr_assert_eq(hekv_bconv_new(rf, 0, k, rt, 0, l, &bc, &err), HEKV_OK, "%s", err.msg);
    size_t n = (size_t)1 << logn;
    uint64_t *in = hekv_alloc_aligned((size_t)k * n * 8);
    uint64_t *out = hekv_alloc_aligned((size_t)l * n * 8);
    uint64_t *scratch = hekv_alloc_aligned(hekv_bconv_scratch_words(bc) * 8);
    test_rng g = test_rng_new(salt);
    for (int i = 0; i < k; i++) test_fill(&g, in + i * n, n, pf[i]);
    in[0] = pf[0] - 1; /* an edge value */
    hekv_bconv_apply(bc, out, in, scratch);

    /* Exact CRT: x = sum_i x_i * (B/b_i) * [(B/b_i)^-1 mod b_i]  mod B. */
    mpz_t B, x, t, bi, hat, inv, d;
    mpz_inits(B, x, t, bi, hat, inv, d, NULL);
    mpz_set_ui(B, 1);
    for (int i = 0; i < k; i++) mpz_mul_ui(B, B, pf[i]);
    for (size_t c = 0; c < n; c++) {
        mpz_set_ui(x, 0);
        for (int i = 0; i < k; i++) {
            mpz_set_ui(bi, pf[i]);
            mpz_divexact(hat, B, bi);
            mpz_invert(inv, hat, bi);
            mpz_mul_ui(t, hat, in[i * n + c]);
            mpz_mul(t, t, inv);
            mpz_add(x, x, t);
        }
        mpz_mod(x, x, B);
        /* Find u from the first target limb, then check it on all of them. */
        int u_found = -1;
        for (int u = 0; u < k && u_found < 0; u++) {
            mpz_set(t, B);
            mpz_mul_ui(t, t, (unsigned long)u);
            mpz_add(t, t, x);
            if (mpz_fdiv_ui(t, pt[0]) == out[c]) u_found = u;
        }
        cr_assert_geq(u_found, 0, "coefficient %zu: no u in [0,%d) explains the output", c, k);
        mpz_set(t, B);
        mpz_mul_ui(t, t, (unsigned long)u_found);
        mpz_add(t, t, x);
        for (int j = 0; j < l; j++)
            cr_assert_eq(mpz_fdiv_ui(t, pt[j]), out[j * n + c], "coef %zu limb %d", c, j);
    }
    mpz_clears(B, x, t, bi, hat, inv, d, NULL);
    hekv_free_aligned(in), hekv_free_aligned(out), hekv_free_aligned(scratch);
    hekv_bconv_free(bc);
    hekv_ring_free(rf), hekv_ring_free(rt);
}

Test(ring, bconv_vs_gmp_crt_scalar) {
    check_conversion(6, 1, 2, 40, 45, HEKV_ISA_SCALAR, 11);
    check_conversion(8, 3, 4, 50, 49, HEKV_ISA_SCALAR, 12);
    check_conversion(8, 6, 2, 60, 61, HEKV_ISA_SCALAR, 13);
    check_conversion(10, 12, 5, 49, 50, HEKV_ISA_SCALAR, 14);
}

Test(ring, bconv_vs_gmp_crt_avx512) {
    if (!hekv_cpu_has_avx512_kernels()) cr_skip_test("no AVX-512 IFMA kernels here");
    check_conversion(6, 1, 2, 40, 45, HEKV_ISA_AVX512, 21);
    check_conversion(8, 3, 4, 50, 49, HEKV_ISA_AVX512, 22);
    check_conversion(10, 12, 5, 49, 50, HEKV_ISA_AVX512, 23);
    check_conversion(10, 33, 3, 45, 50, HEKV_ISA_AVX512, 24);
    /* mixed: 55-bit inputs force the scalar dot product even on an AVX-512 ring */
    check_conversion(8, 4, 3, 55, 48, HEKV_ISA_AVX512, 25);
}

Test(ring, bconv_rejects_bad_ranges) {
    uint64_t p[4];
    cr_assert_eq(hekv_primes_generate(p, 4, 40, 6, NULL, 0), HEKV_KERN_OK);
    hekv_ring_lit lit = {.logn = 6, .nprimes = 4, .primes = p};
    hekv_ring *r;
    hekv_err err;
    cr_assert_eq(hekv_ring_new(&lit, &r, &err), HEKV_OK);
    hekv_bconv *bc = (hekv_bconv *)1;
    cr_assert_eq(hekv_bconv_new(r, 0, 3, r, 2, 3, &bc, &err), HEKV_ERR_ARG);
    cr_assert_null(bc);
    cr_assert_eq(hekv_bconv_new(r, -1, 2, r, 2, 2, &bc, &err), HEKV_ERR_ARG);
    cr_assert_eq(hekv_bconv_new(r, 0, 0, r, 2, 2, &bc, &err), HEKV_ERR_ARG);
    hekv_bconv_free(NULL);
    hekv_ring_free(r);
}
