/* matvec.c: the baseline that IRP is measured against: the diagonal (Halevi-Shoup)
 * matrix-vector product with baby-step giant-step, on the same matrix and vector. W is
 * padded to a D x D square (D = the larger dimension, padded to a power of two), its
 * generalised diagonals diag_k[i] = W[i][(i + k) mod D] become a hekv_ckks_lintrans over
 * D slots (sparse packing: x replicated S/D times), and the product is rescaled. D
 * products and about 2 sqrt(D) rotations; the lintrans chooses the baby step.
 *
 * Not here: the hybrid rectangular variants (d_in/d_out diagonals plus a fold); the
 * baseline is the plain square method the Cachemir comparison table uses. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pack_int.h"

struct hekv_pack_bsgs {
    const hekv_ckks_params *params;
    size_t D, din, dout, ndiag;
    hekv_lintrans *lt;
};

void hekv_pack_bsgs_free(hekv_pack_bsgs *b) {
    if (!b) return;
    hekv_ckks_lintrans_free(b->lt);
    free(b);
}

hekv_status hekv_pack_bsgs_new(hekv_encoder *enc, const double *w, size_t d_out, size_t d_in,
                               int level, hekv_pack_bsgs **out, hekv_err *err) {
    static const char fn[] = "hekv_pack_bsgs_new";
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (!enc || !w) return hekv_err_set(err, HEKV_ERR_ARG, "%s: encoder or weights NULL", fn);
    const hekv_ckks_params *p = hekv_ckks_encoder_params(enc);
    const size_t S = hekv_ckks_params_max_slots(p);
    const size_t D = hekv_pack_pow2(d_in > d_out ? d_in : d_out);
    if (!D || D > S || !d_in || !d_out)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: sizes %zu x %zu do not fit S = %zu", fn,
                            d_out, d_in, S);
    if (level < 1 || level > hekv_ckks_params_max_level(p))
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: level %d outside [1, %d]", fn, level,
                            hekv_ckks_params_max_level(p));
    hekv_pack_bsgs *b = calloc(1, sizeof *b);
    long *off = malloc(D * sizeof *off);
    double **diags = calloc(D, sizeof *diags);
    hekv_status s = HEKV_OK;
    if (!b || !off || !diags) {
        s = hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
        goto done;
    }
    b->params = p, b->D = D, b->din = d_in, b->dout = d_out;
    size_t nd = 0;
    for (size_t k = 0; k < D; k++) {
        double *dg = calloc(D, sizeof *dg);
        if (!dg) {
            s = hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
            goto done;
        }
        int any = 0;
        for (size_t i = 0; i < d_out; i++) {
            size_t j = (i + k) % D;
            if (j < d_in) {
                dg[i] = w[i * d_in + j];
                any |= dg[i] != 0.0;
            }
        }
        if (!any) {
            free(dg);
            continue;
        }
        off[nd] = (long)k;
        diags[nd++] = dg;
    }
    if (nd == 0) { /* the zero matrix: one zero diagonal keeps the transform well formed */
        diags[0] = calloc(D, sizeof **diags);
        off[0] = 0;
        nd = diags[0] ? 1 : 0;
        if (!nd) {
            s = hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
            goto done;
        }
    }
    b->ndiag = nd;
    s = hekv_ckks_lintrans_new(enc, off, (const double *const *)diags, NULL, nd, D, level,
                               (double)hekv_ckks_params_q(p, level), 0, &b->lt, err);
done:
    if (diags)
        for (size_t k = 0; k < D; k++) free(diags[k]);
    free(diags);
    free(off);
    if (s != HEKV_OK) {
        hekv_pack_bsgs_free(b);
        return s;
    }
    *out = b;
    return HEKV_OK;
}

size_t hekv_pack_bsgs_slots(const hekv_pack_bsgs *b) { return b ? b->D : 0; }

size_t hekv_pack_bsgs_rotations(const hekv_pack_bsgs *b, long *rots, size_t cap) {
    return b ? hekv_ckks_lintrans_rotations(b->lt, rots, cap) : 0;
}

size_t hekv_pack_bsgs_products(const hekv_pack_bsgs *b) { return b ? b->ndiag : 0; }

size_t hekv_pack_bsgs_bytes(const hekv_pack_bsgs *b) {
    return b ? hekv_ckks_lintrans_bytes(b->lt) : 0;
}

hekv_status hekv_pack_bsgs_apply(hekv_eval *ev, hekv_ct *out, const hekv_ct *in,
                                 const hekv_pack_bsgs *b, hekv_pack_stats *st) {
    if (!ev) return HEKV_ERR_ARG;
    if (!b)
        return hekv_err_set(hekv_ckks_ext_err(ev), HEKV_ERR_ARG, "hekv_pack_bsgs_apply: product is NULL");
    hekv_status s = hekv_ckks_eval_lintrans(ev, out, in, b->lt);
    if (s == HEKV_OK) s = hekv_ckks_eval_rescale(ev, out, out);
    if (s == HEKV_OK) {
        HEKV__ST(st, rotations, hekv_ckks_lintrans_rotations(b->lt, NULL, 0));
        HEKV__ST(st, pt_mults, b->ndiag);
        HEKV__ST(st, rescales, 1);
    }
    return s;
}
