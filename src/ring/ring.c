/* ring.c: ring construction (per-prime plans), polynomials, and the limb-parallel
 * operations. The only OpenMP in the library's lower layers is here and in ring_fused.c
 * (R16): one limb per iteration, every check done before the parallel region (R11). */
#include "src/ring/ring.h"

#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "kernels/primes.h"
#include "src/ring/ring_int.h"

hekv_status hekv_ring_view_new(const hekv_ring *base, int threads, hekv_ring **out) {
    if (!out) return HEKV_ERR_ARG;
    *out = NULL;
    if (!base) return HEKV_ERR_ARG;
    hekv_ring *r = malloc(sizeof *r);
    if (!r) return HEKV_ERR_NOMEM;
    *r = *base;
    r->is_view = 1;
    r->threads = threads > 0 ? threads : 1;
    *out = r;
    return HEKV_OK;
}

void hekv_ring_free(hekv_ring *r) {
    if (!r) return;
    if (r->p && !r->is_view)
        for (int i = 0; i < r->nprimes; i++)
            if (r->p[i].tab) r->p[i].ops->ntt_tab_free(r->p[i].tab);
    if (!r->is_view) free(r->p);
    free(r);
}

hekv_status hekv_ring_new(const hekv_ring_lit *lit, hekv_ring **out, hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ring_new: out is NULL");
    *out = NULL;
    if (!lit || !lit->primes)
        return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ring_new: no literal or no primes");
    if (lit->logn < HEKV_NTT_MIN_LOGN || lit->logn > HEKV_NTT_MAX_LOGN)
        return hekv_err_set(err, HEKV_ERR_PARAMS, "ring degree 2^%d outside 2^%d..2^%d",
                            lit->logn, HEKV_NTT_MIN_LOGN, HEKV_NTT_MAX_LOGN);
    if (lit->nprimes < 1 || lit->nprimes > HEKV_RING_MAX_PRIMES)
        return hekv_err_set(err, HEKV_ERR_PARAMS, "%d primes; a ring takes 1..%d",
                            lit->nprimes, HEKV_RING_MAX_PRIMES);
    hekv_isa isa;
    hekv_status s = hekv_isa_resolve(lit->isa, &isa, err);
    if (s != HEKV_OK) return s;
    const hekv_kern_isa kisa = isa == HEKV_ISA_AVX512 ? HEKV_KERN_AVX512 : HEKV_KERN_SCALAR;
    const uint64_t m2n = 2ULL << lit->logn;
    for (int i = 0; i < lit->nprimes; i++) {
        uint64_t q = lit->primes[i];
        if (q >= (1ULL << HEKV_MODULUS_MAX_BITS) || q % m2n != 1 || !hekv_is_prime(q))
            return hekv_err_set(err, HEKV_ERR_PARAMS,
                                "prime %d (%llu) is not a prime = 1 mod 2N below 2^%d", i,
                                (unsigned long long)q, HEKV_MODULUS_MAX_BITS);
        for (int j = 0; j < i; j++)
            if (lit->primes[j] == q)
                return hekv_err_set(err, HEKV_ERR_PARAMS, "primes %d and %d are equal", j, i);
    }
    hekv_ring *r = calloc(1, sizeof *r);
    if (!r || !(r->p = calloc((size_t)lit->nprimes, sizeof *r->p))) {
        free(r);
        return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ring_new: out of memory");
    }
    r->logn = lit->logn;
    r->n = (size_t)1 << lit->logn;
    r->nprimes = lit->nprimes;
    r->threads = lit->threads > 0 ? lit->threads : 1;
    for (int i = 0; i < lit->nprimes; i++) {
        prime_plan *pp = &r->p[i];
        uint64_t q = lit->primes[i];
        if (hekv_modulus_init(&pp->mod, q) != HEKV_KERN_OK ||
            hekv_primitive_root_2n(q, lit->logn, &pp->psi) != HEKV_KERN_OK) {
            hekv_ring_free(r);
            return hekv_err_set(err, HEKV_ERR_PARAMS, "no primitive 2N-th root mod %llu",
                                (unsigned long long)q);
        }
        pp->ops = hekv_kern_select(kisa, q, r->n);
        pp->tab = pp->ops->ntt_tab_new(q, lit->logn, pp->psi);
        if (!pp->tab) {
            hekv_ring_free(r);
            return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ring_new: NTT tables: out of memory");
        }
    }
    *out = r;
    return HEKV_OK;
}

size_t hekv_ring_n(const hekv_ring *r) { return r->n; }
int hekv_ring_logn(const hekv_ring *r) { return r->logn; }
int hekv_ring_nprimes(const hekv_ring *r) { return r->nprimes; }
int hekv_ring_threads(const hekv_ring *r) { return r->threads; }
const hekv_modulus *hekv_ring_modulus(const hekv_ring *r, int i) { return &r->p[i].mod; }
const hekv_kern_ops *hekv_ring_ops(const hekv_ring *r, int i) { return r->p[i].ops; }
uint64_t hekv_ring_psi(const hekv_ring *r, int i) { return r->p[i].psi; }

hekv_status hekv_poly_new(const hekv_ring *r, size_t limbs, hekv_poly *out) {
    if (!out) return HEKV_ERR_ARG;
    memset(out, 0, sizeof *out);
    if (!r || limbs < 1 || limbs > (size_t)r->nprimes) return HEKV_ERR_ARG;
    out->c = hekv_calloc_aligned(limbs * r->n, sizeof(uint64_t));
    if (!out->c) return HEKV_ERR_NOMEM;
    out->limbs = limbs;
    out->n = r->n;
    return HEKV_OK;
}

void hekv_poly_free(hekv_poly *p) {
    if (!p) return;
    if (p->c) hekv_memzero(p->c, p->limbs * p->n * sizeof(uint64_t));
    hekv_free_aligned(p->c);
    memset(p, 0, sizeof *p);
}

void hekv_poly_copy(const hekv_ring *r, hekv_poly *dst, const hekv_poly *src) {
    size_t l = dst->limbs < src->limbs ? dst->limbs : src->limbs;
    if (dst->c != src->c) memcpy(dst->c, src->c, l * r->n * sizeof(uint64_t));
    dst->ntt = src->ntt;
}

void hekv_poly_zero(const hekv_ring *r, hekv_poly *p) {
    memset(p->c, 0, p->limbs * r->n * sizeof(uint64_t));
}

void hekv_ring_ntt_fwd(const hekv_ring *r, hekv_poly *p) {
    const size_t n = r->n;
    FOR_LIMBS(r, p->limbs) r->p[i].ops->ntt_fwd(r->p[i].tab, LIMB(p, i), 1, 1);
    p->ntt = 1;
}

void hekv_ring_ntt_inv(const hekv_ring *r, hekv_poly *p) {
    const size_t n = r->n;
    FOR_LIMBS(r, p->limbs) r->p[i].ops->ntt_inv(r->p[i].tab, LIMB(p, i), 1, 1);
    p->ntt = 0;
}

void hekv_ring_ntt_fwd_range(const hekv_ring *r, hekv_poly *p, size_t begin, size_t end) {
    const size_t n = r->n;
    FOR_LIMBS(r, end - begin) {
        size_t l = begin + (size_t)i;
        r->p[l].ops->ntt_fwd(r->p[l].tab, LIMB(p, l), 1, 1);
    }
}

void hekv_ring_ntt_inv_range(const hekv_ring *r, hekv_poly *p, size_t begin, size_t end) {
    const size_t n = r->n;
    FOR_LIMBS(r, end - begin) {
        size_t l = begin + (size_t)i;
        r->p[l].ops->ntt_inv(r->p[l].tab, LIMB(p, l), 1, 1);
    }
}

void hekv_ring_add(const hekv_ring *r, hekv_poly *out, const hekv_poly *a, const hekv_poly *b) {
    const size_t n = r->n;
    FOR_LIMBS(r, out->limbs) r->p[i].ops->add(LIMB(out, i), LIMB(a, i), LIMB(b, i), n, &r->p[i].mod);
    out->ntt = a->ntt;
}

void hekv_ring_sub(const hekv_ring *r, hekv_poly *out, const hekv_poly *a, const hekv_poly *b) {
    const size_t n = r->n;
    FOR_LIMBS(r, out->limbs) r->p[i].ops->sub(LIMB(out, i), LIMB(a, i), LIMB(b, i), n, &r->p[i].mod);
    out->ntt = a->ntt;
}

void hekv_ring_neg(const hekv_ring *r, hekv_poly *out, const hekv_poly *a) {
    const size_t n = r->n;
    FOR_LIMBS(r, out->limbs) r->p[i].ops->neg(LIMB(out, i), LIMB(a, i), n, &r->p[i].mod);
    out->ntt = a->ntt;
}

void hekv_ring_mul(const hekv_ring *r, hekv_poly *out, const hekv_poly *a, const hekv_poly *b) {
    const size_t n = r->n;
    FOR_LIMBS(r, out->limbs) r->p[i].ops->mul(LIMB(out, i), LIMB(a, i), LIMB(b, i), n, &r->p[i].mod);
    out->ntt = a->ntt;
}

void hekv_ring_mul_acc(const hekv_ring *r, hekv_poly *out, const hekv_poly *a,
                       const hekv_poly *b) {
    const size_t n = r->n;
    FOR_LIMBS(r, out->limbs) r->p[i].ops->fma(LIMB(out, i), LIMB(a, i), LIMB(b, i), n, &r->p[i].mod);
}

void hekv_ring_mul_scalar(const hekv_ring *r, hekv_poly *out, const hekv_poly *a,
                          const uint64_t *s) {
    const size_t n = r->n;
    FOR_LIMBS(r, out->limbs) r->p[i].ops->mul_scalar(LIMB(out, i), LIMB(a, i), s[i], n, &r->p[i].mod);
    out->ntt = a->ntt;
}

void hekv_ring_mul_scalar_acc(const hekv_ring *r, hekv_poly *out, const hekv_poly *a,
                              const uint64_t *s) {
    const size_t n = r->n;
    FOR_LIMBS(r, out->limbs) r->p[i].ops->fma_scalar(LIMB(out, i), LIMB(a, i), s[i], n, &r->p[i].mod);
}

void hekv_ring_automorph(const hekv_ring *r, hekv_poly *out, const hekv_poly *a,
                         const uint32_t *map) {
    const size_t n = r->n;
    FOR_LIMBS(r, out->limbs) r->p[i].ops->automorph(LIMB(out, i), LIMB(a, i), map, n, r->p[i].mod.q);
    out->ntt = a->ntt;
}


void hekv_ring_sub_mul_scalar(const hekv_ring *r, hekv_poly *out, const hekv_poly *a,
                              const hekv_poly *b, const uint64_t *s) {
    const size_t n = r->n;
    FOR_LIMBS(r, out->limbs) {
        const hekv_kern_ops *ops = r->p[i].ops;
        const hekv_modulus *m = &r->p[i].mod;
        ops->sub_mul_scalar(LIMB(out, i), LIMB(a, i), LIMB(b, i), s[i], n, m);
    }
    out->ntt = a->ntt;
}
