/* ring_fused.c: the fused limb passes of ring_fused.h: each limb's steps run while its
 * data is in cache, block by block. OpenMP as in ring.c (R16). */
#include "src/ring/ring_fused.h"

#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "src/ring/ring_int.h"

/* Coefficients per block of the fused passes: a few 4 KiB blocks (outputs, the
 * formed digits) stay in L1 while the operand blocks stream past. */
#define FUSED_BLOCK 512

/* Digits per dot2 kernel call; more digits are summed group by group. */
#define DOT_GROUP 8

/* A block of zeros: the missing factor of a two-term inner product. */
static const uint64_t zero_block[FUSED_BLOCK] __attribute__((aligned(64)));

/* Per-thread block buffers of the key-switching passes (stack, about 40 KiB). */
typedef struct {
    uint64_t t[DOT_GROUP][FUSED_BLOCK] __attribute__((aligned(64))); /* formed digits */
    uint64_t s0[FUSED_BLOCK] __attribute__((aligned(64)));
    uint64_t s1[FUSED_BLOCK] __attribute__((aligned(64)));
    uint32_t local[FUSED_BLOCK]; /* an output block's automorphism map, block-relative */
} ks_blocks;

/* Limb i of each digit x_j as ks_dot_block reads it: xl[j], times xl2[j] when that is
 * not NULL. */
typedef struct {
    const uint64_t *xl[HEKV_RING_KS_MAX_DIGITS];
    const uint64_t *xl2[HEKV_RING_KS_MAX_DIGITS];
} ks_limb;

/* o0/o1[0, bs) = sum_j x_j[x + .] * (b_j, a_j) on limb i. */
static void ks_dot_block(const hekv_kern_ops *ops, const hekv_modulus *m, const ks_limb *xs,
                         const hekv_poly *const *b, const hekv_poly *const *a, int k, size_t i,
                         size_t x, size_t bs, size_t n, uint64_t *o0, uint64_t *o1,
                         ks_blocks *w) {
    const uint64_t *xp[DOT_GROUP], *bp[DOT_GROUP], *ap[DOT_GROUP];
    for (int j0 = 0; j0 < k; j0 += DOT_GROUP) {
        const int g = k - j0 < DOT_GROUP ? k - j0 : DOT_GROUP;
        for (int jj = 0; jj < g; jj++) {
            const int j = j0 + jj;
            if (xs->xl2[j]) {
                ops->mul(w->t[jj], xs->xl[j] + x, xs->xl2[j] + x, bs, m);
                xp[jj] = w->t[jj];
            } else {
                xp[jj] = xs->xl[j] + x;
            }
            bp[jj] = LIMB(b[j], i) + x;
            ap[jj] = LIMB(a[j], i) + x;
        }
        if (j0 == 0) {
            ops->dot2(o0, o1, xp, bp, ap, (size_t)g, bs, m);
        } else {
            ops->dot2(w->s0, w->s1, xp, bp, ap, (size_t)g, bs, m);
            ops->add(o0, o0, w->s0, bs, m);
            ops->add(o1, o1, w->s1, bs, m);
        }
    }
}

/* Limb i of every x_j: the own limb of c, or the digit's limb (transformed in place first
 * when it holds coefficients). */
static void ks_limbs(const hekv_ring *r, const hekv_ring_ks_args *ks, size_t i, ks_limb *xs) {
    const size_t n = r->n;
    for (int j = 0; j < ks->k; j++) {
        if (ks->own && (int)i >= ks->own_begin[j] && (int)i < ks->own_end[j]) {
            xs->xl[j] = LIMB(ks->own, i);
            xs->xl2[j] = ks->own2 ? LIMB(ks->own2, i) : NULL;
        } else {
            uint64_t *dl = LIMB(ks->d[j], i);
            if (ks->coef) r->p[i].ops->ntt_fwd(r->p[i].tab, dl, 1, 1);
            xs->xl[j] = dl;
            xs->xl2[j] = NULL;
        }
    }
}

void hekv_ring_ks_dot_inv(const hekv_ring *r, hekv_poly *out0, hekv_poly *out1,
                          const hekv_ring_ks_args *ks) {
    const size_t n = r->n, bs = n < FUSED_BLOCK ? n : FUSED_BLOCK;
    HEKV_DASSERT(ks->k >= 1 && ks->k <= HEKV_RING_KS_MAX_DIGITS);
    FOR_LIMBS(r, out0->limbs) {
        const hekv_kern_ops *ops = r->p[i].ops;
        ks_blocks w;
        ks_limb xs;
        ks_limbs(r, ks, (size_t)i, &xs);
        for (size_t x = 0; x < n; x += bs)
            ks_dot_block(ops, &r->p[i].mod, &xs, ks->b, ks->a, ks->k, (size_t)i, x, bs, n,
                         LIMB(out0, i) + x, LIMB(out1, i) + x, &w);
        ops->ntt_inv(r->p[i].tab, LIMB(out0, i), 1, 1);
        ops->ntt_inv(r->p[i].tab, LIMB(out1, i), 1, 1);
    }
    out0->ntt = out1->ntt = 0;
}

void hekv_ring_ks_dot(const hekv_ring *r, hekv_poly *out0, hekv_poly *out1,
                      const hekv_ring_ks_args *ks) {
    const size_t n = r->n, bs = n < FUSED_BLOCK ? n : FUSED_BLOCK;
    HEKV_DASSERT(ks->k >= 1 && ks->k <= HEKV_RING_KS_MAX_DIGITS);
    FOR_LIMBS(r, out0->limbs) {
        const hekv_kern_ops *ops = r->p[i].ops;
        ks_blocks w;
        ks_limb xs;
        ks_limbs(r, ks, (size_t)i, &xs);
        for (size_t x = 0; x < n; x += bs)
            ks_dot_block(ops, &r->p[i].mod, &xs, ks->b, ks->a, ks->k, (size_t)i, x, bs, n,
                         LIMB(out0, i) + x, LIMB(out1, i) + x, &w);
    }
    out0->ntt = out1->ntt = 1;
}

void hekv_ring_ks_dot_moddown(const hekv_ring *r, hekv_poly *out0, hekv_poly *out1,
                              const hekv_ring_ks_args *ks, hekv_poly *conv0, hekv_poly *conv1,
                              const uint64_t *s, const hekv_ring_ks_add *add,
                              const uint32_t *out_map) {
    const size_t n = r->n, bs = n < FUSED_BLOCK ? n : FUSED_BLOCK;
    HEKV_DASSERT(ks->k >= 1 && ks->k <= HEKV_RING_KS_MAX_DIGITS);
    const hekv_poly *e0 = add ? add->e0 : NULL;
    const int tensor = add && add->t0, f = add && add->f0;
    uint64_t *const keep = add ? add->keep : NULL;
    HEKV_DASSERT(!keep || (add->keep_limbs >= 2 && !ks->own2));
    const int threads = keep && (size_t)r->threads > add->keep_limbs / 2
                            ? (int)(add->keep_limbs / 2) : r->threads;
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
    for (long i = 0; i < (long)out0->limbs; i++) {
        const hekv_kern_ops *ops = r->p[i].ops;
        const hekv_modulus *m = &r->p[i].mod;
        ks_blocks w;
        ks_limb xs;
        uint64_t *c0 = LIMB(conv0, i), *c1 = LIMB(conv1, i);
        ops->ntt_fwd(r->p[i].tab, c0, 1, 1);
        ops->ntt_fwd(r->p[i].tab, c1, 1, 1);
        ks_limbs(r, ks, (size_t)i, &xs);
        const uint64_t *e0l = e0 ? LIMB(e0, i) : NULL;
        if (keep) {
            /* this limb's e0 and own limb, read in permuted order, copied before the
             * outputs (which may alias them) are written */
#ifdef _OPENMP
            uint64_t *kp = keep + (size_t)(2 * omp_get_thread_num()) * n;
#else
            uint64_t *kp = keep;
#endif
            if (e0l) memcpy(kp, e0l, n * sizeof *kp), e0l = kp;
            for (int j = 0; j < ks->k; j++)
                if (ks->own && xs.xl[j] == LIMB(ks->own, i)) {
                    memcpy(kp + n, xs.xl[j], n * sizeof *kp);
                    xs.xl[j] = kp + n;
                }
        }
        uint64_t *u0 = w.t[DOT_GROUP - 1], *u1 = w.t[DOT_GROUP - 2]; /* free after the dot */
        for (size_t x = 0; x < n; x += bs) {
            /* the block of y that output block x reads: x itself, or the one aligned block
             * the automorphism maps onto it */
            const size_t y = out_map ? (size_t)(out_map[x] & ~(uint32_t)(bs - 1)) : x;
            ks_dot_block(ops, m, &xs, ks->b, ks->a, ks->k, (size_t)i, y, bs, n, u0, u1, &w);
            /* ModDown: (dot - conv) * P^-1, then the added terms, the permutation and the
             * terms added after it; the last step of each output writes it, the others
             * work in the block buffers */
            uint64_t *o0 = LIMB(out0, i) + x, *o1 = LIMB(out1, i) + x;
            const int post = out_map || f;
            uint64_t *a0 = post ? u0 : o0, *a1 = post ? u1 : o1;
            ops->sub_mul_scalar(e0 || tensor ? u0 : a0, u0, c0 + y, s[i], bs, m);
            ops->sub_mul_scalar(tensor ? u1 : a1, u1, c1 + y, s[i], bs, m);
            if (e0l) ops->add(tensor ? u0 : a0, u0, e0l + y, bs, m);
            if (tensor) {
                /* (t0 u0, t0 u1 + t1 u0) as one lazy two-term inner product */
                const uint64_t *tp[2] = {LIMB(add->t0, i) + y, LIMB(add->t1, i) + y};
                const uint64_t *p0[2] = {LIMB(add->u0, i) + y, zero_block};
                const uint64_t *p1[2] = {LIMB(add->u1, i) + y, LIMB(add->u0, i) + y};
                ops->dot2(w.s0, w.s1, tp, p0, p1, 2, bs, m);
                ops->add(a0, u0, w.s0, bs, m);
                ops->add(a1, u1, w.s1, bs, m);
            }
            if (out_map) {
                for (size_t e = 0; e < bs; e++) {
                    HEKV_DASSERT((out_map[x + e] & ~(uint32_t)(bs - 1)) == y);
                    w.local[e] = out_map[x + e] - (uint32_t)y;
                }
                ops->automorph(f ? w.s0 : o0, u0, w.local, bs, m->q);
                ops->automorph(f ? w.s1 : o1, u1, w.local, bs, m->q);
            }
            if (f) {
                ops->add(o0, out_map ? w.s0 : u0, LIMB(add->f0, i) + x, bs, m);
                ops->add(o1, out_map ? w.s1 : u1, LIMB(add->f1, i) + x, bs, m);
            }
        }
    }
    out0->ntt = out1->ntt = 1;
}

void hekv_ring_ntt_inv_from(const hekv_ring *r, hekv_poly *out, const hekv_poly *a,
                            const hekv_poly *b) {
    const size_t n = r->n;
    FOR_LIMBS(r, out->limbs) {
        const hekv_kern_ops *ops = r->p[i].ops;
        uint64_t *o = LIMB(out, i);
        if (b)
            ops->mul(o, LIMB(a, i), LIMB(b, i), n, &r->p[i].mod);
        else
            memcpy(o, LIMB(a, i), n * sizeof(uint64_t));
        ops->ntt_inv(r->p[i].tab, o, 1, 1);
    }
    out->ntt = 0;
}

void hekv_ring_div_round_last_ntt(const hekv_ring *r, hekv_poly *const *out,
                                  const hekv_poly *const *in, int count, const uint64_t *qinv,
                                  uint64_t *scratch, size_t scratch_limbs) {
    const size_t n = r->n, l = in[0]->limbs - 1, bs = n < FUSED_BLOCK ? n : FUSED_BLOCK;
    HEKV_DASSERT(l >= 1 && count >= 1 && scratch_limbs >= (size_t)count + 1);
    /* y_c = [x_l + h]_{q_l} in coefficient form for each polynomial, h = floor(q_l / 2) */
    const prime_plan *pl = &r->p[l];
    const uint64_t ql = pl->mod.q, h = ql >> 1;
    uint64_t hb[FUSED_BLOCK] __attribute__((aligned(64)));
    for (size_t x = 0; x < bs; x++) hb[x] = h;
    for (int c = 0; c < count; c++) {
        uint64_t *y = scratch + (size_t)c * n;
        memcpy(y, LIMB(in[c], l), n * sizeof *y);
        pl->ops->ntt_inv(pl->tab, y, 1, 1);
        for (size_t x = 0; x < n; x += bs) pl->ops->add(y + x, y + x, hb, bs, &pl->mod);
    }
    /* reduce's domain is [0, 2^52): past it (a scalar-only q_l) take the scalar one */
    void (*const reduce)(uint64_t *, const uint64_t *, size_t, const hekv_modulus *) =
        pl->mod.bits <= 52 ? NULL : hekv_kern_scalar.reduce;
    const int spare = (int)scratch_limbs - count;
    const int threads = r->threads < spare ? r->threads : spare;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
#ifdef _OPENMP
        uint64_t *z = scratch + (size_t)(count + omp_get_thread_num()) * n;
#else
        uint64_t *z = scratch + (size_t)count * n;
#endif
        uint64_t hib[FUSED_BLOCK] __attribute__((aligned(64)));
#pragma omp for schedule(static)
        for (long i = 0; i < (long)l; i++) {
            const hekv_kern_ops *ops = r->p[i].ops;
            const hekv_modulus *m = &r->p[i].mod;
            const uint64_t hi = h % m->q;
            for (size_t x = 0; x < bs; x++) hib[x] = hi;
            /* the polynomials one after the other on this limb: the prime's NTT table is
             * read from memory once */
            for (int c = 0; c < count; c++) {
                const uint64_t *y = scratch + (size_t)c * n;
                /* t_i = (y mod q_i) - h mod q_i, then NTT form */
                for (size_t x = 0; x < n; x += bs) {
                    (reduce ? reduce : ops->reduce)(z + x, y + x, bs, m);
                    ops->sub(z + x, z + x, hib, bs, m);
                }
                ops->ntt_fwd(r->p[i].tab, z, 1, 1);
                /* out_i = (x_i - t_i) * q_l^-1 */
                uint64_t *o = LIMB(out[c], i);
                const uint64_t *xi = LIMB(in[c], i);
                ops->sub_mul_scalar(o, xi, z, qinv[i], n, m);
            }
        }
    }
    for (int c = 0; c < count; c++) out[c]->ntt = 1;
}

/* coefficients c (|c| < q) into [0, q) */
static void lift_small(uint64_t *out, const int64_t *c, size_t n, uint64_t q) {
    for (size_t j = 0; j < n; j++) {
        uint64_t v = (uint64_t)c[j];
        out[j] = v + (q & (0 - (v >> 63))); /* c + q when c < 0, branch-free */
    }
}

void hekv_ring_small_mul_add_ntt(const hekv_ring *r, hekv_poly *const *out, const int64_t *v,
                                 const hekv_poly *const *a, const int64_t *const *e,
                                 const hekv_poly *m, int count, uint64_t *scratch,
                                 size_t scratch_limbs) {
    const size_t n = r->n, limbs = out[0]->limbs;
    HEKV_DASSERT(count >= 1 && scratch_limbs >= 2);
    const int pairs = (int)(scratch_limbs / 2);
    const int threads = r->threads < pairs ? r->threads : pairs;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
#ifdef _OPENMP
        uint64_t *zv = scratch + (size_t)(2 * omp_get_thread_num()) * n;
#else
        uint64_t *zv = scratch;
#endif
        uint64_t *ze = zv + n;
#pragma omp for schedule(static)
        for (long i = 0; i < (long)limbs; i++) {
            const hekv_kern_ops *ops = r->p[i].ops;
            const hekv_modulus *md = &r->p[i].mod;
            lift_small(zv, v, n, md->q);
            ops->ntt_fwd(r->p[i].tab, zv, 1, 1);
            for (int k = 0; k < count; k++) {
                lift_small(ze, e[k], n, md->q);
                ops->ntt_fwd(r->p[i].tab, ze, 1, 1);
                if (k == 0 && m) ops->add(ze, ze, LIMB(m, i), n, md);
                ops->fma(ze, zv, LIMB(a[k], i), n, md);
                memcpy(LIMB(out[k], i), ze, n * sizeof *ze);
            }
        }
    }
    hekv_memzero(scratch, scratch_limbs * n * sizeof *scratch);
    for (int k = 0; k < count; k++) out[k]->ntt = 1;
}
