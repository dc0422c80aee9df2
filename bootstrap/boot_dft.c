/* boot_dft.c: the homomorphic special FFT of CoeffToSlot and SlotToCoeff as products of
 * sparse matrices in generalised-diagonal form (Cheon, Han, Kim, Kim, Song, "Bootstrapping
 * for approximate homomorphic encryption", 2018; Chen, Chillotti, Song, "Improved
 * bootstrapping for approximate homomorphic encryption", 2019: level collapsing), built
 * from the encoder's own FFT so the two agree by construction.
 *
 * The encoder (src/ckks/encoder.c) computes the slots of w (w_k = a_k + i b_k from the
 * coefficients a_k, b_k of m(Y) = sum a_k Y^k + b_k Y^(k+n)) as z = S_n ... S_2 P w, P
 * the bit reversal and S_len its radix-2 stage: for each block of len slots and j < len/2,
 *     a' = a + rho_j b,  b' = a - rho_j b,   rho_j = exp(2 pi i (5^j mod 4 len) / (4 len)),
 * with a at j and b at j + len/2 (generalised diagonals 0, +len/2, -len/2). Hence
 *     CoeffToSlot:  P w = S_2^-1 ... S_n^-1 z   (S^-1: a = (a'+b')/2, b = (a'-b') conj(rho)/2)
 *     SlotToCoeff:  z = S_n ... S_2 (P w)
 * and neither needs the bit reversal: EvalMod works slot by slot, so the coefficients may
 * sit in bit-reversed order between the two. Consecutive stages are merged into one level
 * (a product of r stages has at most 2^(r+1) - 1 diagonals), CoeffToSlot front-loaded and
 * SlotToCoeff back-loaded (the large levels run where the ciphertext has the most limbs
 * in CoeffToSlot, and where it has the fewest in SlotToCoeff). With more levels than stages
 * (few slots on a set laid out for more) the spare levels are constant (one diagonal).
 *
 * Sparse messages (n < N/2) are transformed on m = 2n slots: the n-slot input is a 2n-slot
 * vector of two equal halves, each stage acts on both halves alike, CoeffToSlot's last
 * level also masks the upper half to zero (the repack puts the imaginary parts there) and
 * SlotToCoeff's first level merges u_j = v_j + i v_(j+n), so its output is n-periodic
 * again. Matrices are built in long double complex; only the encoder rounds. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "boot_int.h"

void hekv__diagmat_free(hekv__diagmat *a) {
    if (!a) return;
    for (size_t i = 0; i < a->nd; i++) free(a->d[i]);
    free(a->d);
    free(a->off);
    memset(a, 0, sizeof *a);
}

/* The diagonal of offset off (created zero when absent), or NULL on allocation failure.
 * off in [0, m). */
static long double complex *diag_at(hekv__diagmat *a, long off) {
    for (size_t i = 0; i < a->nd; i++)
        if (a->off[i] == off) return a->d[i];
    long *no = realloc(a->off, (a->nd + 1) * sizeof *no);
    if (!no) return NULL;
    a->off = no;
    long double complex **nd = realloc(a->d, (a->nd + 1) * sizeof *nd);
    if (!nd) return NULL;
    a->d = nd;
    long double complex *v = calloc(a->m, sizeof *v);
    if (!v) return NULL;
    a->off[a->nd] = off;
    a->d[a->nd] = v;
    a->nd++;
    return v;
}

hekv_status hekv__diagmat_identity(size_t m, hekv__diagmat *out) {
    memset(out, 0, sizeof *out);
    out->m = m;
    long double complex *d = diag_at(out, 0);
    if (!d) return HEKV_ERR_NOMEM;
    for (size_t j = 0; j < m; j++) d[j] = 1;
    return HEKV_OK;
}

/* rho_j of stage len, j < len/2, as the encoder's root table has it. */
static long double complex stage_root(size_t len, size_t j) {
    const size_t four = 4 * len;
    size_t e = 1;
    for (size_t t = 0; t < j; t++) e = e * 5 % four;
    const long double a = 2.0L * 3.14159265358979323846264338327950288L * (long double)e /
                          (long double)four;
    return cosl(a) + I * sinl(a);
}

hekv_status hekv__diagmat_fft_stage(size_t m, size_t n, size_t len, int inverse,
                                    hekv__diagmat *out) {
    memset(out, 0, sizeof *out);
    out->m = m;
    const size_t h = len / 2;
    long double complex *rho = malloc(h * sizeof *rho);
    long double complex *d0 = diag_at(out, 0), *dp = diag_at(out, (long)h),
                        *dm = diag_at(out, (long)((m - h) % m));
    if (!rho || !d0 || !dp || !dm) {
        free(rho);
        hekv__diagmat_free(out);
        return HEKV_ERR_NOMEM;
    }
    for (size_t j = 0; j < h; j++) rho[j] = stage_root(len, j);
    for (size_t x = 0; x < m; x++) {
        const size_t p = (x % n) % len;
        if (p < h) { /* a: a' = a + rho b;  a = (a' + b') / 2 */
            d0[x] += inverse ? 0.5L : 1.0L;
            dp[x] += inverse ? 0.5L : rho[p];
        } else { /* b: b' = a - rho b;  b = (a' - b') conj(rho) / 2 */
            const long double complex r = rho[p - h];
            d0[x] += inverse ? -conjl(r) / 2 : -r;
            dm[x] += inverse ? conjl(r) / 2 : 1.0L;
        }
    }
    free(rho);
    return HEKV_OK;
}

hekv_status hekv__diagmat_mul(const hekv__diagmat *a, const hekv__diagmat *b,
                              hekv__diagmat *out) {
    memset(out, 0, sizeof *out);
    const size_t m = a->m;
    out->m = m;
    for (size_t i = 0; i < a->nd; i++)
        for (size_t k = 0; k < b->nd; k++) {
            const long oa = a->off[i];
            long double complex *c = diag_at(out, (long)(((size_t)oa + (size_t)b->off[k]) % m));
            if (!c) {
                hekv__diagmat_free(out);
                return HEKV_ERR_NOMEM;
            }
            const long double complex *x = a->d[i], *y = b->d[k];
            for (size_t j = 0; j < m; j++) c[j] += x[j] * y[(j + (size_t)oa) % m];
        }
    return HEKV_OK;
}

void hekv__diagmat_lmul_diag(hekv__diagmat *a, const long double complex *v) {
    for (size_t i = 0; i < a->nd; i++)
        for (size_t j = 0; j < a->m; j++) a->d[i][j] *= v[j];
}

void hekv__diagmat_scale(hekv__diagmat *a, long double complex c) {
    for (size_t i = 0; i < a->nd; i++)
        for (size_t j = 0; j < a->m; j++) a->d[i][j] *= c;
}

void hekv__diagmat_prune(hekv__diagmat *a) {
    long double big = 0;
    for (size_t i = 0; i < a->nd; i++)
        for (size_t j = 0; j < a->m; j++) big = fmaxl(big, cabsl(a->d[i][j]));
    size_t w = 0;
    for (size_t i = 0; i < a->nd; i++) {
        long double mx = 0;
        for (size_t j = 0; j < a->m; j++) mx = fmaxl(mx, cabsl(a->d[i][j]));
        if (mx <= big * 0x1p-80L) {
            free(a->d[i]);
            continue;
        }
        a->d[w] = a->d[i], a->off[w] = a->off[i], w++;
    }
    a->nd = w;
}

void hekv__diagmat_apply(const hekv__diagmat *a, const long double complex *x,
                         long double complex *y) {
    for (size_t j = 0; j < a->m; j++) y[j] = 0;
    for (size_t i = 0; i < a->nd; i++)
        for (size_t j = 0; j < a->m; j++) y[j] += a->d[i][j] * x[(j + (size_t)a->off[i]) % a->m];
}

void hekv__dft_plan_free(hekv__dft_plan *p) {
    if (!p) return;
    for (int i = 0; i < p->nlev; i++) hekv__diagmat_free(&p->mat[i]);
    memset(p, 0, sizeof *p);
}

static int ilog2(size_t x) {
    int l = 0;
    while (((size_t)1 << l) < x) l++;
    return l;
}

/* Merges the stages lens[0..ns) (in the order they apply) onto nlev levels with the given
 * group sizes; pre (may be NULL) is applied before the first stage. */
static hekv_status merge(size_t m, size_t n, const size_t *lens, const int *inverse,
                         int nlev, const int *sizes, const hekv__diagmat *pre,
                         hekv__dft_plan *out) {
    memset(out, 0, sizeof *out);
    out->nlev = nlev;
    int at = 0;
    hekv_status s = HEKV_OK;
    for (int g = 0; g < nlev && s == HEKV_OK; g++) {
        hekv__diagmat acc;
        s = hekv__diagmat_identity(m, &acc);
        if (s == HEKV_OK && g == 0 && pre) {
            hekv__diagmat t;
            s = hekv__diagmat_mul(pre, &acc, &t);
            hekv__diagmat_free(&acc);
            if (s == HEKV_OK) acc = t;
        }
        for (int k = 0; k < sizes[g] && s == HEKV_OK; k++, at++) {
            hekv__diagmat st, t;
            s = hekv__diagmat_fft_stage(m, n, lens[at], inverse[at], &st);
            if (s == HEKV_OK) s = hekv__diagmat_mul(&st, &acc, &t);
            hekv__diagmat_free(&st);
            hekv__diagmat_free(&acc);
            if (s == HEKV_OK) acc = t;
        }
        if (s == HEKV_OK) {
            hekv__diagmat_prune(&acc);
            out->mat[g] = acc;
            out->stages[g] = sizes[g];
        }
    }
    if (s != HEKV_OK) hekv__dft_plan_free(out);
    return s;
}

hekv_status hekv__dft_cts(size_t m, size_t n, int nlev, long double complex c,
                          hekv__dft_plan *out) {
    const int ns = ilog2(n);
    if (nlev < 1 || nlev > HEKV__BOOT_MAX_LEVELS) return HEKV_ERR_ARG;
    size_t lens[64];
    int inv[64], sizes[HEKV__BOOT_MAX_LEVELS];
    for (int k = 0; k < ns; k++) lens[k] = n >> k, inv[k] = 1; /* S_n^-1 first */
    for (int g = 0, rem = ns; g < nlev; g++) { /* front-loaded */
        sizes[g] = (rem + (nlev - g) - 1) / (nlev - g);
        rem -= sizes[g];
    }
    hekv_status s = merge(m, n, lens, inv, nlev, sizes, NULL, out);
    if (s != HEKV_OK) return s;
    hekv__diagmat_scale(&out->mat[0], c);
    if (m > n) {
        long double complex *mask = calloc(m, sizeof *mask);
        if (!mask) {
            hekv__dft_plan_free(out);
            return HEKV_ERR_NOMEM;
        }
        for (size_t j = 0; j < n; j++) mask[j] = 1;
        hekv__diagmat_lmul_diag(&out->mat[nlev - 1], mask);
        hekv__diagmat_prune(&out->mat[nlev - 1]);
        free(mask);
    }
    return HEKV_OK;
}

hekv_status hekv__dft_stc(size_t m, size_t n, int nlev, long double complex c,
                          hekv__dft_plan *out) {
    const int ns = ilog2(n);
    if (nlev < 1 || nlev > HEKV__BOOT_MAX_LEVELS) return HEKV_ERR_ARG;
    size_t lens[64];
    int inv[64], sizes[HEKV__BOOT_MAX_LEVELS];
    for (int k = 0; k < ns; k++) lens[k] = (size_t)2 << k, inv[k] = 0; /* S_2 first */
    for (int g = 0, rem = ns; g < nlev; g++) { /* back-loaded */
        sizes[g] = rem / (nlev - g);
        rem -= sizes[g];
    }
    hekv__diagmat pre, *prep = NULL;
    hekv_status s = HEKV_OK;
    if (m > n) { /* u_j = v_(j mod n) + i v_(j mod n + n) */
        memset(&pre, 0, sizeof pre);
        pre.m = m;
        long double complex *d0 = diag_at(&pre, 0), *dn = diag_at(&pre, (long)n);
        if (!d0 || !dn) s = HEKV_ERR_NOMEM;
        for (size_t j = 0; s == HEKV_OK && j < m; j++) {
            d0[j] = j < n ? 1.0L : I;
            dn[j] = j < n ? I : 1.0L;
        }
        prep = &pre;
    }
    if (s == HEKV_OK) s = merge(m, n, lens, inv, nlev, sizes, prep, out);
    if (prep) hekv__diagmat_free(&pre);
    if (s != HEKV_OK) return s;
    hekv__diagmat_scale(&out->mat[0], c);
    return HEKV_OK;
}
