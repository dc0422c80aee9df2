/* encoder.c: the CKKS encoder: the canonical embedding computed by the "special FFT" over
 * the roots zeta^(5^j) (HEAAN, Cheon-Kim-Kim-Song 2017; Lattigo's ckks/encoder.go), the
 * scaling and rounding to integer coefficients, their RNS lift and NTT, and the exact
 * decoder (inverse NTT, Garner CRT reconstruction centred mod Q_level, inverse FFT).
 *
 * Slot ordering. With n slots, gap = N/(2n) and Y = X^gap, the message polynomial is
 * m(X) = sum_{k<n} a_k Y^k + b_k Y^(k+n), w_k = a_k + i*b_k, and slot j holds
 *     z_j = m(zeta^(5^j)) = sum_{k<n} w_k * xi^(k * 5^j),   xi = exp(2*pi*i / (4n)),
 * because zeta^gap = xi and Y^n evaluates to i at xi^(5^j) (5^j = 1 mod 4). Hence the
 * automorphism X -> X^5 rotates the slots left by one (mod n) and X -> X^(2N-1)
 * conjugates them; the rotation code relies on exactly this ordering.
 *
 * The FFT runs in double; its root tables are computed in long double once, for N/2
 * slots, stage by stage (stage `len` needs len/2 roots that do not depend on the slot
 * count), so every smaller slot count reuses a prefix of the same table. The decoder's
 * CRT digits are exact 64-bit words and only the final Horner sum is long double.
 *
 * Not here: encryption, evaluation, thread safety (one encoder per thread: it owns its
 * scratch buffers), and any parallelism (the NTTs it calls parallelise over limbs). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/modarith.h"
#include "ckks_int.h"

/* Coefficients per Garner block: [limbs][ENC_BLOCK] words stay in L1 for 64 limbs. */
#define ENC_BLOCK 64
/* The decoder's fast path: Garner on the first limbs up to this many bits, then a check
 * of the result against the other limbs (see hekv_ckks_decode). */
#define ENC_FAST_BITS 100
/* ... and at most this many limbs, so the check's sum of k products (each < qmax * q_i,
 * qmax < 2^61) stays below q_i * 2^64 for one Barrett reduction. */
#define ENC_FAST_MAX_LIMBS 8
/* Rounded coefficients must satisfy |x| < 2^62 (they are lifted from signed 64-bit). */
#define ENC_MAX_COEFF 0x1p62

typedef struct {
    double re, im;
} enc_cplx;

struct hekv_encoder {
    const hekv_ckks_params *params;
    const hekv_ring *rq;
    size_t n;             /* ring degree N */
    int nq;
    enc_cplx *roots;      /* [N/2 - 1] stage-major: stage len (2..N/2) at [len/2 - 1, len - 1):
                             root j = exp(2 pi i (5^j mod 4 len) / (4 len)), j < len/2 */
    enc_cplx *buf;        /* [N/2] FFT scratch (holds the message: wiped after use) */
    int64_t *coef;        /* [N] rounded coefficients (wiped after use) */
    hekv_poly tmp;        /* nq limbs: decode's inverse-NTT copy (wiped after use) */
    uint64_t *blk;        /* [nq][ENC_BLOCK] Garner digits of one block (wiped) */
    uint64_t *ginv;       /* [nq][nq] q_j^-1 mod q_i at [i*nq + j], j < i */
    uint64_t *ginv_sh;    /* [nq][nq] Shoup quotients of ginv */
    uint64_t *goff;       /* [nq] a multiple of q_i >= max_j q_j (so t + goff - v_j > 0) */
    uint64_t *radix;      /* [nq][nq] (q_0 ... q_{j-1}) mod q_i at [i*nq + j], j <= i */
    uint64_t *half;       /* [2][nq] scratch: mixed-radix digits of (Q_low - 1) / 2 and of
                             (Q_level - 1) / 2 */
    uint64_t *q;          /* [nq] the primes q_i */
};

/* ------------------------------------------------------------------ special FFT */

/* In-place bit-reversal permutation of v[0..n), n = 2^logn. */
static void bitrev_permute(enc_cplx *v, size_t n) {
    for (size_t i = 1, j = 0; i < n; i++) {
        size_t bit = n >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j ^= bit;
        if (i < j) {
            enc_cplx t = v[i];
            v[i] = v[j];
            v[j] = t;
        }
    }
}

/* Coefficients -> slots: v_j <- sum_k v_k xi^(k 5^j) (HEAAN fftSpecial), n a power of
 * two <= N/2. */
static void fft_special(const enc_cplx *roots, enc_cplx *v, size_t n) {
    bitrev_permute(v, n);
    for (size_t len = 2; len <= n; len <<= 1) {
        const size_t h = len >> 1;
        const enc_cplx *w = roots + h - 1;
        for (size_t i = 0; i < n; i += len) {
            enc_cplx *a = v + i, *b = v + i + h;
            for (size_t j = 0; j < h; j++) {
                double tr = b[j].re * w[j].re - b[j].im * w[j].im;
                double ti = b[j].re * w[j].im + b[j].im * w[j].re;
                double ur = a[j].re, ui = a[j].im;
                a[j].re = ur + tr;
                a[j].im = ui + ti;
                b[j].re = ur - tr;
                b[j].im = ui - ti;
            }
        }
    }
}

/* Slots -> coefficients: the exact inverse of fft_special (HEAAN fftSpecialInv),
 * including the 1/n. */
static void fft_special_inv(const enc_cplx *roots, enc_cplx *v, size_t n) {
    for (size_t len = n; len >= 2; len >>= 1) {
        const size_t h = len >> 1;
        const enc_cplx *w = roots + h - 1;
        for (size_t i = 0; i < n; i += len) {
            enc_cplx *a = v + i, *b = v + i + h;
            for (size_t j = 0; j < h; j++) {
                double dr = a[j].re - b[j].re, di = a[j].im - b[j].im;
                a[j].re += b[j].re;
                a[j].im += b[j].im;
                /* (a - b) * conj(w) */
                b[j].re = dr * w[j].re + di * w[j].im;
                b[j].im = di * w[j].re - dr * w[j].im;
            }
        }
    }
    bitrev_permute(v, n);
    const double inv = 1.0 / (double)n;
    for (size_t i = 0; i < n; i++) {
        v[i].re *= inv;
        v[i].im *= inv;
    }
}

/* ------------------------------------------------------------------ construction */

void hekv_ckks_encoder_free(hekv_encoder *enc) {
    if (!enc) return;
    if (enc->buf) hekv_memzero(enc->buf, enc->n / 2 * sizeof *enc->buf);
    if (enc->coef) hekv_memzero(enc->coef, enc->n * sizeof *enc->coef);
    if (enc->blk) hekv_memzero(enc->blk, (size_t)enc->nq * ENC_BLOCK * sizeof *enc->blk);
    hekv_poly_free(&enc->tmp);
    hekv_free_aligned(enc->roots);
    hekv_free_aligned(enc->buf);
    hekv_free_aligned(enc->coef);
    hekv_free_aligned(enc->blk);
    hekv_free_aligned(enc->ginv);
    hekv_free_aligned(enc->ginv_sh);
    hekv_free_aligned(enc->goff);
    hekv_free_aligned(enc->half);
    hekv_free_aligned(enc->radix);
    hekv_free_aligned(enc->q);
    free(enc);
}

/* Stage tables of the special FFT for up to nh = N/2 slots (see the roots field). */
static void roots_init(enc_cplx *roots, size_t nh) {
    const long double two_pi = 6.283185307179586476925286766559005768L;
    for (size_t len = 2; len <= nh; len <<= 1) {
        const size_t h = len >> 1, m = len << 2; /* roots of unity of order 4 len */
        enc_cplx *w = roots + h - 1;
        size_t g = 1; /* 5^j mod 4 len */
        for (size_t j = 0; j < h; j++) {
            long double a = two_pi * (long double)g / (long double)m;
            w[j].re = (double)cosl(a);
            w[j].im = (double)sinl(a);
            g = (g * 5) & (m - 1);
        }
    }
}

hekv_status hekv_ckks_encoder_new(const hekv_ckks_params *p, hekv_encoder **out,
                                  hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_encoder_new: out is NULL");
    *out = NULL;
    if (!p || !p->rq)
        return hekv_err_set(err, HEKV_ERR_ARG, "hekv_ckks_encoder_new: no parameters");
    hekv_encoder *enc = calloc(1, sizeof *enc);
    if (!enc) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ckks_encoder_new: out of memory");
    enc->params = p;
    enc->rq = p->rq;
    enc->n = hekv_ring_n(p->rq);
    enc->nq = hekv_ring_nprimes(p->rq);
    const size_t n = enc->n, nh = n / 2, nq = (size_t)enc->nq;
    enc->roots = hekv_calloc_aligned(nh, sizeof *enc->roots);
    enc->buf = hekv_calloc_aligned(nh, sizeof *enc->buf);
    enc->coef = hekv_calloc_aligned(n, sizeof *enc->coef);
    enc->blk = hekv_calloc_aligned(nq * ENC_BLOCK, sizeof *enc->blk);
    enc->ginv = hekv_calloc_aligned(nq * nq, sizeof *enc->ginv);
    enc->ginv_sh = hekv_calloc_aligned(nq * nq, sizeof *enc->ginv_sh);
    enc->goff = hekv_calloc_aligned(nq, sizeof *enc->goff);
    enc->half = hekv_calloc_aligned(2 * nq, sizeof *enc->half);
    enc->radix = hekv_calloc_aligned(nq * nq, sizeof *enc->radix);
    enc->q = hekv_calloc_aligned(nq, sizeof *enc->q);
    if (!enc->q || !enc->radix || !enc->roots || !enc->buf || !enc->coef || !enc->blk || !enc->ginv || !enc->ginv_sh ||
        !enc->goff || !enc->half || hekv_poly_new(p->rq, nq, &enc->tmp) != HEKV_OK) {
        hekv_ckks_encoder_free(enc);
        return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_ckks_encoder_new: out of memory");
    }
    roots_init(enc->roots, nh);

    /* Garner constants: q_j^-1 mod q_i (j < i) with Shoup quotients, and per limb an
     * offset goff_i = q_i * ceil(qmax / q_i) that keeps t + goff_i - v_j positive for
     * any digit v_j < q_j <= qmax. */
    uint64_t qmax = 0;
    for (int i = 0; i < enc->nq; i++) {
        enc->q[i] = hekv_ring_modulus(p->rq, i)->q;
        qmax = enc->q[i] > qmax ? enc->q[i] : qmax;
    }
    for (int i = 0; i < enc->nq; i++) {
        const hekv_modulus *mi = hekv_ring_modulus(p->rq, i);
        enc->goff[i] = mi->q * ((qmax + mi->q - 1) / mi->q);
        uint64_t prod = 1 % mi->q; /* q_0 ... q_{j-1} mod q_i */
        for (int j = 0; j <= i; j++) {
            size_t at = (size_t)i * nq + (size_t)j;
            enc->radix[at] = prod;
            if (j == i) break;
            uint64_t qj = enc->q[j] % mi->q;
            uint64_t inv = hekv_mod_inv_prime(qj, mi);
            enc->ginv[at] = inv;
            enc->ginv_sh[at] = hekv_mod_shoup(inv, mi->q);
            prod = hekv_mod_mul(prod, qj, mi);
        }
    }
    *out = enc;
    return HEKV_OK;
}

const hekv_ckks_params *hekv_ckks_encoder_params(const hekv_encoder *enc) {
    return enc ? enc->params : NULL;
}

/* ------------------------------------------------------------------ encode */

static int is_pow2(size_t x) { return x && !(x & (x - 1)); }

static hekv_status check_slots(const hekv_encoder *enc, size_t slots, const char *fn,
                               hekv_err *err) {
    if (!is_pow2(slots) || slots > enc->n / 2)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: %zu slots; the slot count must be a power of two in [1, %zu] "
                            "(N/2 for N = %zu)",
                            fn, slots, enc->n / 2, enc->n);
    return HEKV_OK;
}

/* The rounded coefficients of (re, im) at `scale` into enc->coef[0, 2 slots) (slot count
 * checked by the caller): coefficient k * gap of m(X) is coef[k] (Re part, k < slots) or
 * coef[k] of the Im part (k >= slots). Wipes what it used on failure. */
static hekv_status encode_coeffs(hekv_encoder *enc, const double *re, const double *im,
                                 size_t slots, double scale, const char *fn, hekv_err *err) {
    if (!isfinite(scale) || !(scale > 0))
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: scale %g must be finite and positive (e.g. 2^40)", fn, scale);
    for (size_t i = 0; i < slots; i++)
        if (!isfinite(re[i]) || (im && !isfinite(im[i])))
            return hekv_err_set(err, HEKV_ERR_ARG, "%s: slot %zu is not finite (%g%+gi)", fn, i,
                                re[i], im ? im[i] : 0.0);

    /* slots -> coefficients of m'(Y), Y = X^gap */
    const size_t n = enc->n, gap = n / (2 * slots);
    enc_cplx *v = enc->buf;
    for (size_t i = 0; i < slots; i++) {
        v[i].re = re[i];
        v[i].im = im ? im[i] : 0.0;
    }
    fft_special_inv(enc->roots, v, slots);

    /* Scale and round: coefficient k*gap is Re v_k, coefficient (k + slots)*gap is Im v_k.
     * The product is formed in long double so that scales above 2^53 keep every bit. */
    int64_t *x = enc->coef;
    const long double ls = scale;
    for (size_t k = 0; k < 2 * slots; k++) {
        double u = k < slots ? v[k].re : v[k - slots].im;
        long double y = ls * (long double)u;
        if (!(fabsl(y) < (long double)ENC_MAX_COEFF)) {
            double mag = fabs(u), lim = ENC_MAX_COEFF / (mag > 0 ? mag : 1);
            hekv_memzero(v, slots * sizeof *v);
            hekv_memzero(x, k * sizeof *x);
            return hekv_err_set(err, HEKV_ERR_SCALE,
                                "%s: coefficient %zu is %.3g * scale 2^%.2f, beyond 2^62; use "
                                "a scale below 2^%.2f or smaller values",
                                fn, k * gap, u, log2(scale), log2(lim));
        }
        x[k] = llrintl(y);
    }
    hekv_memzero(v, slots * sizeof *v);
    return HEKV_OK;
}

/* Lifts enc->coef[0, 2 slots) into the first `limbs` limbs of m over ring r (x mod q_i,
 * negative x as q_i - (|x| mod q_i), selected without a data-dependent branch: plaintexts
 * may be secret) and transforms them. */
static void lift_coeffs(const hekv_encoder *enc, const hekv_ring *r, hekv_poly *m,
                        size_t limbs, size_t slots) {
    const size_t n = enc->n, gap = n / (2 * slots);
    const int64_t *x = enc->coef;
    hekv_poly v = *m;
    v.limbs = limbs;
    for (size_t i = 0; i < limbs; i++) {
        const hekv_modulus *mod = hekv_ring_modulus(r, (int)i);
        uint64_t *dst = v.c + i * n;
        if (gap > 1) memset(dst, 0, n * sizeof *dst);
        for (size_t k = 0; k < 2 * slots; k++) {
            uint64_t neg = (uint64_t)(x[k] >> 63); /* all ones when negative */
            uint64_t mag = ((uint64_t)x[k] ^ neg) - neg;
            uint64_t rr = hekv_mod_reduce128(mag, mod);
            uint64_t rn = hekv_mod_neg(rr, mod->q);
            dst[k * gap] = (rr & ~neg) | (rn & neg);
        }
    }
    v.ntt = 0;
    hekv_ring_ntt_fwd(r, &v);
    m->ntt = 1;
}

hekv_status hekv__encode_p(hekv_encoder *enc, hekv_poly *p, const double *re, const double *im,
                           size_t slots, double scale, hekv_err *err) {
    static const char fn[] = "hekv_ckks_encode";
    hekv_status s = check_slots(enc, slots, fn, err);
    if (s == HEKV_OK) s = encode_coeffs(enc, re, im, slots, scale, fn, err);
    if (s != HEKV_OK) return s;
    lift_coeffs(enc, enc->params->rp, p, p->limbs, slots);
    hekv_memzero(enc->coef, 2 * slots * sizeof *enc->coef);
    return HEKV_OK;
}

hekv_status hekv_ckks_encode(hekv_encoder *enc, hekv_pt *pt, const double *re, const double *im,
                             size_t slots, int level, double scale, hekv_err *err) {
    static const char fn[] = "hekv_ckks_encode";
    if (!enc || !pt || !re)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: encoder, plaintext or values NULL", fn);
    if (pt->params != enc->params)
        return hekv_err_set(err, HEKV_ERR_PARAMS,
                            "%s: the plaintext belongs to other parameters than the encoder; "
                            "create it with hekv_ckks_pt_new on the encoder's parameters",
                            fn);
    hekv_status s = check_slots(enc, slots, fn, err);
    if (s != HEKV_OK) return s;
    if (level < 0 || level >= enc->nq)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: level %d outside [0, %d]", fn, level,
                            enc->nq - 1);
    if ((s = encode_coeffs(enc, re, im, slots, scale, fn, err))) return s;
    int64_t *x = enc->coef;
    s = hekv__pt_resize(pt, level);
    if (s != HEKV_OK) {
        hekv_memzero(x, 2 * slots * sizeof *x);
        return hekv_err_set(err, s, "%s: cannot size the plaintext for level %d: %s", fn,
                            level, hekv_status_str(s));
    }
    lift_coeffs(enc, enc->rq, &pt->m, (size_t)level + 1, slots);
    pt->level = level;
    pt->scale = scale;
    pt->slots = slots;
    hekv_memzero(x, 2 * slots * sizeof *x);
    return HEKV_OK;
}

/* ------------------------------------------------------------------ decode */

/* Garner's mixed-radix conversion, rows from..to of the digit array d (row i at d + i*stride,
 * row i holding residues mod q_i on entry and digit i on exit; rows below `from` already
 * digits), columns [c0, c0 + nb): afterwards x = sum_i d_i * (q_0 ... q_{i-1}) with d_i in
 * [0, q_i). v_i = (...((x_i - v_0) q_0^-1 - v_1) q_1^-1 ...) mod q_i. */
static void garner_rows(const hekv_encoder *enc, uint64_t *d, size_t stride, size_t c0,
                        size_t nb, int from, int to) {
    const size_t nq = (size_t)enc->nq;
    for (int i = from < 1 ? 1 : from; i <= to; i++) {
        const uint64_t q = enc->q[i], off = enc->goff[i];
        uint64_t *vi = d + (size_t)i * stride + c0;
        for (int j = 0; j < i; j++) {
            const uint64_t w = enc->ginv[(size_t)i * nq + (size_t)j];
            const uint64_t wp = enc->ginv_sh[(size_t)i * nq + (size_t)j];
            const uint64_t *vj = d + (size_t)j * stride + c0;
            for (size_t c = 0; c < nb; c++)
                vi[c] = hekv_mod_mul_shoup(vi[c] + off - vj[c], w, wp, q); /* [0, q) */
        }
    }
}

/* The centred value of the mixed-radix number with digits d[i*stride + c], i <= top, given
 * the digits `half` of h = (q_0 ... q_top - 1) / 2: x when x <= h, else x - q_0...q_top.
 * x > h is a mixed-radix compare from the top digit; then |x - Q| = (Q - 1 - x) + 1, whose
 * digits are q_i - 1 - d_i. Horner from the top in long double. */
static long double centred_value(const hekv_encoder *enc, const uint64_t *d, size_t stride,
                                 size_t c, int top, const uint64_t *half) {
    uint64_t gt = 0, eq = 1;
    for (int i = top; i >= 0; i--) {
        uint64_t di = d[(size_t)i * stride + c], hi = half[i];
        gt |= eq & (di > hi);
        eq &= (di == hi);
    }
    const uint64_t neg = 0 - gt;
    long double acc = 0;
    for (int i = top; i >= 0; i--) {
        uint64_t q = enc->q[i], di = d[(size_t)i * stride + c];
        uint64_t dd = (di & ~neg) | ((q - 1 - di) & neg);
        acc = acc * (long double)q + (long double)dd;
    }
    return gt ? -(acc + 1) : acc;
}

/* Digits of (q_0 ... q_top - 1) / 2 into half[0..top]: its residues are (q_i - 1) / 2
 * (the product is odd). */
static void half_digits(const hekv_encoder *enc, uint64_t *half, int top) {
    for (int i = 0; i <= top; i++) half[i] = (enc->q[i] - 1) / 2;
    garner_rows(enc, half, 1, 0, 1, 1, top);
}

/* Decoding reconstructs each needed coefficient exactly, centred mod Q = q_0 ... q_level.
 * Full Garner costs level^2/2 modular products per coefficient, so it runs in two steps:
 * Garner on the first k limbs (Q_low = q_0 ... q_{k-1} >= 2^ENC_FAST_BITS) gives the
 * centred value y mod Q_low; if y agrees with the residues on every other limb, then
 * y = x mod Q and |y| < Q_low/2 < Q/2, so y is the centred x (CRT uniqueness). Otherwise
 * (|x| >= Q_low/2: garbage, or a scale near Q) the coefficient finishes the full Garner.
 * The choice between the two branches on the coefficient's magnitude class only. */
hekv_status hekv_ckks_decode(hekv_encoder *enc, double *re, double *im, const hekv_pt *pt,
                             hekv_err *err) {
    static const char fn[] = "hekv_ckks_decode";
    if (!enc || !pt || !re)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: encoder, plaintext or output NULL", fn);
    if (pt->params != enc->params)
        return hekv_err_set(err, HEKV_ERR_PARAMS,
                            "%s: the plaintext belongs to other parameters than the encoder",
                            fn);
    if (pt->level < 0 || pt->level >= enc->nq || !pt->m.c ||
        pt->m.limbs < (size_t)pt->level + 1)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: the plaintext is empty or its level %d is outside [0, %d]", fn,
                            pt->level, enc->nq - 1);
    hekv_status s = check_slots(enc, pt->slots, fn, err);
    if (s != HEKV_OK) return s;
    if (!isfinite(pt->scale) || !(pt->scale > 0))
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: plaintext scale %g is not positive", fn,
                            pt->scale);

    const int level = pt->level;
    const size_t n = enc->n, slots = pt->slots, gap = n / (2 * slots), nlimb = (size_t)level + 1;

    /* Coefficient form of limbs 0..level (a copy: the plaintext stays untouched). */
    const uint64_t *src = pt->m.c;
    if (pt->m.ntt) {
        hekv_poly t = enc->tmp;
        t.limbs = nlimb;
        hekv_poly_copy(enc->rq, &t, &pt->m);
        hekv_ring_ntt_inv(enc->rq, &t);
        src = t.c;
    }

    /* k = limbs of the fast path (k = level + 1: plain Garner, nothing left to check). */
    int k = 1;
    for (double bits = log2((double)enc->q[0]);
         k <= level && k < ENC_FAST_MAX_LIMBS && bits < ENC_FAST_BITS; k++)
        bits += log2((double)enc->q[k]);
    uint64_t *half_low = enc->half, *half_full = enc->half + enc->nq;
    half_digits(enc, half_low, k - 1);
    half_digits(enc, half_full, level);

    /* CRT-reconstruct the 2*slots coefficients k*gap, block by block. */
    const size_t nq = (size_t)enc->nq;
    uint64_t *d = enc->blk;
    uint64_t negm[ENC_BLOCK], bad[ENC_BLOCK];
    enc_cplx *v = enc->buf;
    const long double inv_scale = 1.0L / (long double)pt->scale;
    for (size_t k0 = 0; k0 < 2 * slots; k0 += ENC_BLOCK) {
        size_t nb = 2 * slots - k0 < ENC_BLOCK ? 2 * slots - k0 : ENC_BLOCK;
        for (size_t i = 0; i < nlimb; i++) {
            const uint64_t *limb = src + i * n + k0 * gap;
            uint64_t *di = d + i * ENC_BLOCK;
            for (size_t c = 0; c < nb; c++) di[c] = limb[c * gap];
        }
        garner_rows(enc, d, ENC_BLOCK, 0, nb, 1, k - 1);
        /* the sign of y (digits 0..k-1 against (Q_low - 1) / 2) */
        for (size_t c = 0; c < nb; c++) {
            uint64_t gt = 0, eq = 1;
            for (int i = k - 1; i >= 0; i--) {
                uint64_t di = d[(size_t)i * ENC_BLOCK + c], hi = half_low[i];
                gt |= eq & (di > hi);
                eq &= (di == hi);
            }
            negm[c] = 0 - gt;
            bad[c] = 0;
        }
        /* y mod q_i for i >= k: sum_j d_j (q_0 ... q_{j-1}) - [y < 0] Q_low, against x_i */
        for (int i = k; i <= level; i++) {
            const uint64_t q = enc->q[i];
            const hekv_modulus *mod = hekv_ring_modulus(enc->rq, i);
            const uint64_t *rad = enc->radix + (size_t)i * nq;
            const uint64_t *xi = d + (size_t)i * ENC_BLOCK;
            for (size_t c = 0; c < nb; c++) {
                hekv_u128 acc = 0; /* < k * qmax * q_i < q_i * 2^64 */
                for (int j = 0; j < k; j++)
                    acc += (hekv_u128)d[(size_t)j * ENC_BLOCK + c] * rad[j];
                uint64_t y = hekv_mod_reduce128(acc, mod);
                y = hekv_mod_sub(y, rad[k] & negm[c], q); /* rad[k] = Q_low mod q_i */
                bad[c] |= y ^ xi[c];
            }
        }
        for (size_t c = 0; c < nb; c++) {
            long double x;
            if (!bad[c]) {
                x = centred_value(enc, d, ENC_BLOCK, c, k - 1, half_low);
            } else {
                garner_rows(enc, d, ENC_BLOCK, c, 1, k, level);
                x = centred_value(enc, d, ENC_BLOCK, c, level, half_full);
            }
            double val = (double)(x * inv_scale);
            size_t kk = k0 + c;
            if (kk < slots)
                v[kk].re = val;
            else
                v[kk - slots].im = val;
        }
    }
    fft_special(enc->roots, v, slots);
    for (size_t i = 0; i < slots; i++) {
        re[i] = v[i].re;
        if (im) im[i] = v[i].im;
    }

    hekv_memzero(v, slots * sizeof *v);
    hekv_memzero(d, nlimb * ENC_BLOCK * sizeof *d);
    hekv_memzero(negm, sizeof negm);
    if (pt->m.ntt) hekv_memzero(enc->tmp.c, nlimb * n * sizeof *enc->tmp.c);
    return HEKV_OK;
}
