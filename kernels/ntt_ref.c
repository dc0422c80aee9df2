/* ntt_ref.c: portable scalar negacyclic NTT, written for clarity first (R4). Harvey's lazy
 * butterflies (arXiv 1205.2926, Alg. 4 forward / Alg. 3-style inverse) with 64-bit Shoup
 * quotients. Forward: Cooley-Tukey, natural in, bit-reversed out. Inverse: Gentleman-Sande,
 * bit-reversed in, natural out, 1/N folded into the last stage. No SIMD. */
#include <stdlib.h>

#include "ntt.h"

typedef struct {
    uint64_t q;
    int logn;
    size_t n;
    uint64_t *w;     /* [n] psi^bitrev(i): forward twiddle of butterfly group i */
    uint64_t *wp;    /* [n] Shoup quotients of w */
    uint64_t *iw;    /* [n] psi^-(bitrev(i)) : inverse twiddle of group i */
    uint64_t *iwp;   /* [n] Shoup quotients of iw */
    uint64_t ninv, ninvp;       /* 1/n and its quotient */
    uint64_t ninv_w1, ninv_w1p; /* iw[1]/n: last inverse stage twiddle times 1/n */
} ntt_tab_ref;

void hekv_ntt_tab_free_ref(void *tab) {
    ntt_tab_ref *t = tab;
    if (!t) return;
    hekv_kern_free(t->w);
    hekv_kern_free(t->wp);
    hekv_kern_free(t->iw);
    hekv_kern_free(t->iwp);
    free(t);
}

void *hekv_ntt_tab_new_ref(uint64_t q, int logn, uint64_t psi) {
    hekv_modulus m;
    if (hekv_modulus_init(&m, q) != HEKV_KERN_OK) return NULL;
    ntt_tab_ref *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    size_t n = (size_t)1 << logn;
    t->q = q, t->logn = logn, t->n = n;
    t->w = hekv_kern_alloc(n * 8);
    t->wp = hekv_kern_alloc(n * 8);
    t->iw = hekv_kern_alloc(n * 8);
    t->iwp = hekv_kern_alloc(n * 8);
    if (!t->w || !t->wp || !t->iw || !t->iwp) {
        hekv_ntt_tab_free_ref(t);
        return NULL;
    }
    uint64_t psi_inv = hekv_mod_inv_prime(psi, &m), p = 1, pi = 1;
    for (size_t i = 0; i < n; i++) {
        uint32_t r = hekv_bitrev((uint32_t)i, logn);
        t->w[r] = p;
        t->iw[r] = pi;
        p = hekv_mod_mul(p, psi, &m);
        pi = hekv_mod_mul(pi, psi_inv, &m);
    }
    for (size_t i = 0; i < n; i++) {
        t->wp[i] = hekv_mod_shoup(t->w[i], q);
        t->iwp[i] = hekv_mod_shoup(t->iw[i], q);
    }
    t->ninv = hekv_mod_inv_prime(n % q, &m);
    t->ninvp = hekv_mod_shoup(t->ninv, q);
    t->ninv_w1 = hekv_mod_mul(t->ninv, t->iw[1], &m);
    t->ninv_w1p = hekv_mod_shoup(t->ninv_w1, q);
    return t;
}

void hekv_ntt_fwd_ref(const void *tab, uint64_t *a, int in_factor, int out_factor) {
    const ntt_tab_ref *t = tab;
    const uint64_t q = t->q, q2 = 2 * q;
    const size_t n = t->n;
    (void)in_factor; /* the butterflies accept [0, 4q) whatever the factor */
    /* Stage with m groups of half-size h: group i uses twiddle w[m + i].
     * Invariant: all values in [0, 4q) between stages. */
    for (size_t m = 1, h = n / 2; m < n; m <<= 1, h >>= 1) {
        for (size_t i = 0; i < m; i++) {
            const uint64_t w = t->w[m + i], wp = t->wp[m + i];
            uint64_t *x = a + 2 * i * h, *y = x + h;
            for (size_t j = 0; j < h; j++) {
                uint64_t X = x[j];
                X = X >= q2 ? X - q2 : X;                           /* [0, 2q) */
                uint64_t T = hekv_mod_mul_shoup_lazy(y[j], w, wp, q); /* [0, 2q) */
                x[j] = X + T;                                       /* [0, 4q) */
                y[j] = X - T + q2;                                  /* [0, 4q) */
            }
        }
    }
    if (out_factor == 1) {
        for (size_t j = 0; j < n; j++) {
            uint64_t v = a[j];
            v = v >= q2 ? v - q2 : v;
            a[j] = v >= q ? v - q : v;
        }
    }
}

void hekv_ntt_inv_ref(const void *tab, uint64_t *a, int in_factor, int out_factor) {
    const ntt_tab_ref *t = tab;
    const uint64_t q = t->q, q2 = 2 * q;
    const size_t n = t->n;
    (void)in_factor; /* inputs in [0, 2q) are what the butterflies keep anyway */
    /* Stages run m = n/2 .. 2 groups (h = 1 .. n/4); invariant: values in [0, 2q). */
    size_t h = 1;
    for (size_t m = n / 2; m > 1; m >>= 1, h <<= 1) {
        for (size_t i = 0; i < m; i++) {
            const uint64_t w = t->iw[m + i], wp = t->iwp[m + i];
            uint64_t *x = a + 2 * i * h, *y = x + h;
            for (size_t j = 0; j < h; j++) {
                uint64_t X = x[j], Y = y[j];
                uint64_t S = X + Y;
                x[j] = S >= q2 ? S - q2 : S;                            /* [0, 2q) */
                y[j] = hekv_mod_mul_shoup_lazy(X - Y + q2, w, wp, q);    /* [0, 2q) */
            }
        }
    }
    /* Last stage (one group, h = n/2) with 1/n folded into both outputs. */
    uint64_t *x = a, *y = a + h;
    for (size_t j = 0; j < h; j++) {
        uint64_t X = x[j], Y = y[j];
        x[j] = hekv_mod_mul_shoup_lazy(X + Y, t->ninv, t->ninvp, q);          /* [0, 2q) */
        y[j] = hekv_mod_mul_shoup_lazy(X - Y + q2, t->ninv_w1, t->ninv_w1p, q); /* [0, 2q) */
    }
    if (out_factor == 1)
        for (size_t j = 0; j < n; j++) a[j] = a[j] >= q ? a[j] - q : a[j];
}
