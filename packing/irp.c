/* irp.c: the interleaved replicated packing (IRP) vector-matrix product of Cachemir
 * (arXiv 2602.11470; research/papers.md 3.1), y = W x for one encrypted vector, square and
 * rectangular, with the weights encoded once as generalised-diagonal plaintexts.
 *
 * Layout: x (d_in, padded) at slots i*t_in, y (d_out) at slots l*t_out, t = S/d.
 * Derivation (S slots, Rot(v, r)[s] = v[s + r], K = d_in*d_out/S >= 1, M*G = K):
 *
 *   1. Preprocess. c += Rot(c, r*(T - 1)) for r = 1, 2, .., t_in/2, T = max(t_in, t_out),
 *      rho = T/t_in. Rot(c, r(T-1)) moves the value of row i + r*rho, offset u - r, to row
 *      i offset u; by induction slot i*t_in + u then holds x[(i + rho*u) mod d_in] for every
 *      u < t_in (offsets >= 2r are still empty when step r runs, so nothing collides).
 *   2. Baby steps c_j = Rot(c, j*t_in*t_out), j < M: the x index advances by j*t_out.
 *   3. A_g = sum_j c_j (.) P_{g,j};  4. A = sum_g Rot(A_g, g*M*t_in*t_out).
 *   5. Fold: A += Rot(A, r) for r = 1 .. t_out/2, so slot l*t_out = sum_{w<t_out}
 *      A[l*t_out + w]; then one rescale (after the fold, so that the fold's key-switching
 *      noise is divided by q_l too).
 *   Slot s = l*t_out + w of the folded block reads, through the giant and baby shifts,
 *   the preprocessed slot p = s + J*t_in*t_out (J = j + g*M < K). With the weight
 *   P_{g,j}[s + g*M*t_in*t_out] = W[l][m(p)], m(p) the x index at p, every output sums
 *   W[l][m] x[m] over some set of m; that set is all of [0, d_in) exactly once:
 *     tall or square (rho = 1): l = i0*a + b (a = t_in/t_out), p = (i0 + J t_out) t_in +
 *       b t_out + w, so m = i0 + (J + b) t_out + w: K*t_out = d_in consecutive values;
 *     wide (rho = t_out/t_in): w = a t_in + u0, p = (l rho + a + J t_out) t_in + u0, so
 *       m = l rho + a + rho u0 + J t_out: a + rho u0 covers [0, t_out), J the rest.
 *   Rotations log2 t_in + (M - 1) + (G - 1) + log2 t_out; products K; depth 1.
 *
 *   When d_in*d_out < S (K < 1) one product is enough and only d_in slots per output are
 *   needed: square/tall: preprocess r(t_in - 1) for r < d_in (slot i t_in + w holds
 *   x[i + w], w < d_in), replicate to the d_out/d_in sub-blocks with Rot(c, -r t_out),
 *   fold r = 1 .. d_in/2; wide (a = d_in/d_out): preprocess r(t_out - 1) for r < d_out
 *   (x[i + a u]), fold r = 1 .. d_out/2 and r*t_in for r = 1 .. a/2. Rotations
 *   log2 d_in + log2 d_out.
 *
 * The code does not hard-wire these index formulas into the weights: it simulates steps
 * 1-2 on slot indices (which x index each slot holds), reads every weight off the
 * simulation, and checks at build time that each output row sees each input exactly once,
 * so a wrong plan fails loudly instead of computing a wrong product.
 *
 * Output position: folding with Rot(A, -r) instead of Rot(A, r) for the bits r of pos
 * puts the block sum at slot l*t_out + pos (slot s + pos then sums A[l t_out + (w XOR
 * pos)], the same block), which is how the K/V cache append gets its token offset without
 * a rotation. With the small-case fold any pos != 0 folds the whole block instead.
 *
 * Not here: masks other than the optional output mask, multi-vector (matrix-matrix)
 * products, bootstrapping. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pack_int.h"

#define IRP_MAX_STEPS 64
/* Most baby steps of one product (each one scratch ciphertext of the evaluator's pool):
 * choose_m keeps M near sqrt(K / HEKV_PACK_HOIST_COST), so 64 covers K up to ~2^12. */
#define IRP_MAX_BABY 64

struct hekv_pack_irp {
    const hekv_ckks_params *params;
    size_t S, din, dout, din_real, dout_real, tin, tout;
    size_t K, M, G;
    long bu, gu;                   /* baby and giant rotation units */
    int npre, nfold, nfull;
    long pre[IRP_MAX_STEPS];       /* preprocess: c += Rot(c, pre[i]) */
    long fold[IRP_MAX_STEPS];      /* fold at pos 0: A += Rot(A, fold[i]) */
    long full[IRP_MAX_STEPS];      /* fold of a whole t_out block: 1, 2, .., t_out/2 */
    int level;
    hekv_pt **w;                   /* [G][M] weight plaintexts P_{g,j} at w[g*M + j] */
    hekv_pt *mask;                 /* 1 at slots l*t_out, level - 1, scale q_(level-1) */
};

/* ------------------------------------------------------------------ planning */

static void plan(hekv_pack_irp *r) {
    const size_t S = r->S, din = r->din, dout = r->dout, tin = r->tin, tout = r->tout;
    r->npre = r->nfold = r->nfull = 0;
    for (size_t f = 1; f < tout; f <<= 1) r->full[r->nfull++] = (long)f;
    if (din * dout >= S) {
        const size_t T = tin > tout ? tin : tout;
        for (size_t x = 1; x < tin; x <<= 1) r->pre[r->npre++] = (long)(x * (T - 1));
        for (size_t f = 1; f < tout; f <<= 1) r->fold[r->nfold++] = (long)f;
        r->K = din * dout / S;
        r->bu = (long)((tin * tout) % S);
    } else if (dout >= din) {
        for (size_t x = 1; x < din; x <<= 1) r->pre[r->npre++] = (long)(x * (tin - 1));
        for (size_t x = 1; x < dout / din; x <<= 1) r->pre[r->npre++] = -(long)(x * tout);
        for (size_t f = 1; f < din; f <<= 1) r->fold[r->nfold++] = (long)f;
        r->K = 1;
        r->bu = 0;
    } else {
        for (size_t x = 1; x < dout; x <<= 1) r->pre[r->npre++] = (long)(x * (tout - 1));
        for (size_t f = 1; f < dout; f <<= 1) r->fold[r->nfold++] = (long)f;
        for (size_t x = 1; x < din / dout; x <<= 1) r->fold[r->nfold++] = (long)(x * tin);
        r->K = 1;
        r->bu = 0;
    }
}

/* The baby-step count M | K of least cost (M-1)*HEKV_PACK_HOIST_COST + (G-1); ties go to
 * the larger M (hoisted rotations also save the ModUp work the cost model leaves out). */
static size_t choose_m(size_t K) {
    size_t best = 1;
    double bc = HUGE_VAL;
    for (size_t m = 1; m <= K && m <= IRP_MAX_BABY; m <<= 1) {
        double c = (double)(m - 1) * HEKV_PACK_HOIST_COST + (double)(K / m - 1);
        if (c <= bc) bc = c, best = m;
    }
    return best;
}

/* Which x index each slot of the preprocessed ciphertext holds (-1: none). Returns 0 when
 * two values would meet in one slot (a broken plan). */
static int simulate(const hekv_pack_irp *r, int32_t *cont, int32_t *tmp) {
    const size_t S = r->S;
    for (size_t s = 0; s < S; s++) cont[s] = -1;
    for (size_t i = 0; i < r->din; i++) cont[i * r->tin] = (int32_t)i;
    for (int k = 0; k < r->npre; k++) {
        const size_t sh = (size_t)(((r->pre[k] % (long)S) + (long)S) % (long)S);
        for (size_t s = 0; s < S; s++) {
            int32_t a = cont[s], b = cont[(s + sh) % S];
            if (a >= 0 && b >= 0) return 0;
            tmp[s] = a >= 0 ? a : b;
        }
        memcpy(cont, tmp, S * sizeof *cont);
    }
    return 1;
}

/* ------------------------------------------------------------------ construction */

void hekv_pack_irp_free(hekv_pack_irp *irp) {
    if (!irp) return;
    if (irp->w)
        for (size_t i = 0; i < irp->K; i++) hekv_ckks_pt_free(irp->w[i]);
    free(irp->w);
    hekv_ckks_pt_free(irp->mask);
    free(irp);
}

hekv_status hekv_pack_irp_new(hekv_encoder *enc, const double *w, size_t d_out, size_t d_in,
                              int level, size_t baby, hekv_pack_irp **out, hekv_err *err) {
    static const char fn[] = "hekv_pack_irp_new";
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (!enc || !w) return hekv_err_set(err, HEKV_ERR_ARG, "%s: encoder or weights NULL", fn);
    const hekv_ckks_params *p = hekv_ckks_encoder_params(enc);
    const size_t S = hekv_ckks_params_max_slots(p);
    const size_t din = hekv_pack_pow2(d_in), dout = hekv_pack_pow2(d_out);
    if (!din || !dout || din > S || dout > S)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: d_in = %zu and d_out = %zu must lie in [1, S = %zu] after "
                            "padding to powers of two", fn, d_in, d_out, S);
    if (level < 1 || level > hekv_ckks_params_max_level(p))
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: level %d outside [1, %d] (the product "
                            "needs one level)", fn, level, hekv_ckks_params_max_level(p));

    hekv_pack_irp *r = calloc(1, sizeof *r);
    if (!r) return hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
    r->params = p;
    r->S = S, r->din = din, r->dout = dout, r->din_real = d_in, r->dout_real = d_out;
    r->tin = S / din, r->tout = S / dout;
    r->level = level;
    plan(r);
    if (baby) {
        if (!hekv__is_pow2(baby) || r->K % baby || baby > IRP_MAX_BABY) {
            size_t K = r->K;
            free(r);
            return hekv_err_set(err, HEKV_ERR_ARG,
                                "%s: %zu baby steps must be a power of two dividing K = %zu, "
                                "at most %d (0 chooses)", fn, baby, K, IRP_MAX_BABY);
        }
        r->M = baby;
    } else {
        r->M = choose_m(r->K);
    }
    r->G = r->K / r->M;
    r->gu = (long)(((size_t)r->bu * r->M) % S);

    hekv_status s = HEKV_OK;
    int32_t *cont = malloc(S * sizeof *cont), *tmp = malloc(S * sizeof *tmp);
    double *vals = malloc(S * sizeof *vals);
    size_t *F = malloc(r->tout * sizeof *F);
    const size_t nbits = din * dout;
    const int verify = nbits <= ((size_t)1 << 28);
    uint8_t *seen = verify ? calloc((nbits + 7) / 8, 1) : NULL;
    r->w = calloc(r->K, sizeof *r->w);
    if (!cont || !tmp || !vals || !F || (verify && !seen) || !r->w) {
        s = hekv_err_set(err, HEKV_ERR_NOMEM, "%s: out of memory", fn);
        goto done;
    }
    HEKV_CHECK_INTERNAL(simulate(r, cont, tmp));
    /* the fold set: subset sums of the fold steps (distinct offsets inside a block) */
    size_t nF = 1;
    F[0] = 0;
    for (int k = 0; k < r->nfold; k++) {
        for (size_t i = 0; i < nF; i++) F[nF + i] = F[i] + (size_t)r->fold[k];
        nF *= 2;
    }
    HEKV_CHECK_INTERNAL(nF * r->K == din);
    for (size_t gi = 0; gi < r->G && s == HEKV_OK; gi++)
        for (size_t j = 0; j < r->M && s == HEKV_OK; j++) {
            memset(vals, 0, S * sizeof *vals);
            const size_t gsh = (gi * (size_t)r->gu) % S, bsh = (j * (size_t)r->bu) % S;
            for (size_t l = 0; l < dout; l++)
                for (size_t f = 0; f < nF; f++) {
                    HEKV_CHECK_INTERNAL(F[f] < r->tout);
                    const size_t sg = (l * r->tout + F[f] + gsh) % S;
                    const int32_t m = cont[(sg + bsh) % S];
                    HEKV_CHECK_INTERNAL(m >= 0);
                    if (verify) {
                        size_t bit = l * din + (size_t)m;
                        HEKV_CHECK_INTERNAL(!(seen[bit / 8] >> (bit % 8) & 1));
                        seen[bit / 8] |= (uint8_t)(1u << (bit % 8));
                    }
                    if (l < d_out && (size_t)m < d_in) vals[sg] = w[l * d_in + (size_t)m];
                }
            s = hekv_ckks_pt_new(p, &r->w[gi * r->M + j], err);
            if (s == HEKV_OK)
                s = hekv__mask_encode(enc, r->w[gi * r->M + j], vals, level, err);
        }
    if (s != HEKV_OK) goto done;
    /* (seen is complete here: din*dout distinct marks were set, one per (l, m)) */
    memset(vals, 0, S * sizeof *vals);
    for (size_t l = 0; l < dout; l++) vals[l * r->tout] = 1.0;
    s = hekv_ckks_pt_new(p, &r->mask, err);
    if (s == HEKV_OK) s = hekv__mask_encode(enc, r->mask, vals, level - 1, err);

done:
    if (vals) hekv_memzero(vals, S * sizeof *vals);
    free(vals);
    free(cont);
    free(tmp);
    free(F);
    free(seen);
    if (s != HEKV_OK) {
        hekv_pack_irp_free(r);
        return s;
    }
    *out = r;
    return HEKV_OK;
}

hekv_status hekv_pack_reinterleave_new(hekv_encoder *enc, size_t d_from, size_t d_to, int level,
                                       hekv_pack_irp **out, hekv_err *err) {
    if (out) *out = NULL;
    if (!d_from || !d_to || d_from > ((size_t)1 << 20) || d_to > ((size_t)1 << 20))
        return hekv_err_set(err, HEKV_ERR_ARG, "hekv_pack_reinterleave_new: sizes %zu, %zu",
                            d_from, d_to);
    double *w = calloc(d_from * d_to, sizeof *w);
    if (!w) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_pack_reinterleave_new: out of memory");
    for (size_t i = 0; i < d_from && i < d_to; i++) w[i * d_from + i] = 1.0;
    hekv_status s = hekv_pack_irp_new(enc, w, d_to, d_from, level, 0, out, err);
    free(w);
    return s;
}

void hekv_pack_irp_get_info(const hekv_pack_irp *irp, hekv_pack_irp_info *info) {
    memset(info, 0, sizeof *info);
    if (!irp) return;
    info->d_in = irp->din, info->d_out = irp->dout;
    info->d_in_real = irp->din_real, info->d_out_real = irp->dout_real;
    info->slots = irp->S, info->t_in = irp->tin, info->t_out = irp->tout;
    info->k = irp->K, info->m = irp->M, info->g = irp->G;
    info->rotations = (size_t)irp->npre + (irp->M - 1) + (irp->G - 1) + (size_t)irp->nfold;
    const size_t n = hekv_ckks_params_n(irp->params);
    info->bytes = (irp->K * ((size_t)irp->level + 1) + (size_t)irp->level) * n * 8;
    info->level = irp->level;
}

/* Appends k (mod S) to list unless it is 0 or already there. */
static void add_rot(long *list, size_t *n, long k, long S) {
    k = ((k % S) + S) % S;
    if (!k) return;
    for (size_t i = 0; i < *n; i++)
        if (list[i] == k) return;
    list[(*n)++] = k;
}

size_t hekv_pack_irp_rotations(const hekv_pack_irp *irp, unsigned flags, long *rots,
                               size_t cap) {
    if (!irp) return 0;
    const size_t most = (size_t)irp->npre + irp->M + irp->G + (size_t)irp->nfold +
                        2 * (size_t)irp->nfull;
    long *list = malloc(most * sizeof *list);
    if (!list) return 0;
    size_t n = 0;
    const long S = (long)irp->S;
    for (int i = 0; i < irp->npre; i++) add_rot(list, &n, irp->pre[i], S);
    for (size_t j = 1; j < irp->M; j++) add_rot(list, &n, (long)j * irp->bu, S);
    for (size_t g = 1; g < irp->G; g++) add_rot(list, &n, (long)g * irp->gu, S);
    for (int i = 0; i < irp->nfold; i++) add_rot(list, &n, irp->fold[i], S);
    if (flags & HEKV_PACK_ANY_POS)
        for (int i = 0; i < irp->nfull; i++) {
            add_rot(list, &n, irp->full[i], S);
            add_rot(list, &n, -irp->full[i], S);
        }
    if (rots)
        for (size_t i = 0; i < n && i < cap; i++) rots[i] = list[i];
    free(list);
    return n;
}

/* ------------------------------------------------------------------ evaluation */

int hekv_pack_irp_out_level(const hekv_pack_irp *irp, int in_level, unsigned flags) {
    if (!irp || in_level < 0) return -1;
    const int l = in_level < irp->level ? in_level : irp->level;
    const int out = l - 1 - ((flags & HEKV_PACK_CLEAN) != 0);
    return out >= 0 ? out : -1;
}

hekv_status hekv_pack_irp_apply(hekv_eval *ev, hekv_ct *out, const hekv_ct *in,
                                const hekv_pack_irp *irp, size_t pos, unsigned flags,
                                hekv_pack_stats *st) {
    static const char fn[] = "hekv_pack_irp_apply";
    if (!ev) return HEKV_ERR_ARG;
    hekv_err *err = hekv_ckks_ext_err(ev);
    if (!out || !in || !irp)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: output, input or product NULL", fn);
    const hekv_ckks_params *p = hekv_ckks_eval_params(ev);
    if (hekv_ckks_ct_params(in) != p || hekv_ckks_ct_params(out) != p || irp->params != p)
        return hekv_err_set(err, HEKV_ERR_PARAMS,
                            "%s: ciphertexts and product must belong to the evaluator's "
                            "parameter set", fn);
    if (out == in) return hekv_err_set(err, HEKV_ERR_ARG, "%s: out must not alias the input", fn);
    const int in_level = hekv_ckks_ct_level(in);
    if (in_level < 0 || hekv_ckks_ct_slots(in) != irp->S)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "%s: the input must be a non-empty ciphertext over all %zu slots "
                            "(hekv_pack_vec_encode)", fn, irp->S);
    if (pos >= irp->tout)
        return hekv_err_set(err, HEKV_ERR_ARG, "%s: position %zu outside [0, t_out = %zu)", fn,
                            pos, irp->tout);
    const int l = in_level < irp->level ? in_level : irp->level;
    const int clean = (flags & HEKV_PACK_CLEAN) != 0;
    if (hekv_pack_irp_out_level(irp, in_level, flags) < 0)
        return hekv_err_set(err, HEKV_ERR_LEVEL,
                            "%s: the product needs %d level(s) and the input is at level %d: "
                            "bootstrap it first", fn, 1 + clean, in_level);
    /* every key before any work (all rotations run at level l, before the rescale) */
    const int nf = pos ? irp->nfull : irp->nfold;
    const long *fsteps = pos ? irp->full : irp->fold;
    hekv_status s = HEKV_OK;
    for (int i = 0; i < irp->npre && !s; i++) s = hekv__need_rot(ev, fn, irp->pre[i], l);
    for (size_t j = 1; j < irp->M && !s; j++) s = hekv__need_rot(ev, fn, (long)j * irp->bu, l);
    for (size_t g = 1; g < irp->G && !s; g++) s = hekv__need_rot(ev, fn, (long)g * irp->gu, l);
    for (int i = 0; i < nf && !s; i++)
        s = hekv__need_rot(ev, fn, ((size_t)fsteps[i] & pos) ? -fsteps[i] : fsteps[i], l);
    if (s) return s;

    /* scratch: the M baby-step rotations and the giant-step sum, from the evaluator's pool */
    const size_t M = irp->M;
    hekv_ct *c[IRP_MAX_BABY], *ag = NULL;
    size_t got = 0;
    hekv_pt *mk = NULL;
    for (; got < M && !s; got++) s = hekv_ckks_ext_scratch_get(ev, &c[got]);
    if (s) {
        got--;
        goto done;
    }
    if ((s = hekv_ckks_ext_scratch_get(ev, &ag))) goto done;
    /* 1. preprocess, at level l */
    if ((s = hekv_ckks_eval_drop_to(ev, c[0], in, l))) goto done;
    for (int i = 0; i < irp->npre; i++)
        if ((s = hekv__rot_add(ev, c[0], irp->pre[i], st))) goto done;
    /* 2. baby steps, hoisted */
    if (M > 1) {
        long ks[IRP_MAX_BABY];
        for (size_t j = 1; j < M; j++) ks[j - 1] = (long)j * irp->bu;
        if ((s = hekv_ckks_eval_rotate_hoisted(ev, c + 1, c[0], ks, M - 1))) goto done;
        HEKV__ST(st, rotations, M - 1);
        HEKV__ST(st, hoisted, M - 1);
    }
    /* 3-4. products per giant step, giant rotations, sum at the product scale */
    for (size_t g = 0; g < irp->G; g++) {
        hekv_ct *dst = g ? ag : out;
        if ((s = hekv_ckks_ext_inner_pt(ev, dst, (const hekv_ct *const *)c,
                                        (const hekv_pt *const *)irp->w + g * M, M, l)))
            goto done;
        HEKV__ST(st, pt_mults, M);
        if (g) { /* out += Rot(ag), the sum fused into the rotation */
            if ((s = hekv_ckks_eval_rotate_add(ev, out, out, ag, (long)g * irp->gu))) goto done;
            HEKV__ST(st, rotations, 1);
        }
    }
    /* 5. fold to position pos, then rescale: the fold's key-switching noise is divided by
     * q_l with everything else (folding after the rescale would add it at full size) */
    for (int i = 0; i < nf; i++) {
        long f = ((size_t)fsteps[i] & pos) ? -fsteps[i] : fsteps[i];
        if ((s = hekv__rot_add(ev, out, f, st))) goto done;
    }
    if ((s = hekv_ckks_eval_rescale(ev, out, out))) goto done;
    HEKV__ST(st, rescales, 1);
    if (clean) {
        const hekv_pt *msk = irp->mask;
        if (pos) {
            if ((s = hekv_ckks_ext_scratch_pt_get(ev, &mk)) ||
                (s = hekv_ckks_eval_rotate_pt(ev, mk, irp->mask, -(long)pos)))
                goto done;
            msk = mk;
        }
        if ((s = hekv__mask_mul(ev, out, out, msk, st))) goto done;
    }

done:
    hekv_ckks_ext_scratch_pt_put(ev, mk);
    hekv_ckks_ext_scratch_put(ev, ag);
    while (got > 0) hekv_ckks_ext_scratch_put(ev, c[--got]);
    return s;
}
