/* cmd_bench_pack.c: `hekv bench matvec` (the IRP vector-matrix product against the diagonal
 * BSGS baseline on the same matrix and vector) and `hekv bench attention` (K/V append,
 * QK^T and scores x V of the packed cache at a given context length). Every operation is
 * first run once and its decrypted result compared with the same computation in long
 * double; nothing is timed when one is wrong (R20). Rotation and product counts come from
 * the packing layer's counters of that checked run.
 *
 * Not here: the softmax (polynomial layer) and the projections around attention (their
 * cost is bench matvec's). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hekv/ckks_client.h"
#include "hekv/pack.h"

#define PACK_TOL 1e-3 /* a wrong result is O(1); the CKKS error here is ~1e-6 */

typedef struct {
    const char *name;
    long d, d_out, threads, reps, limbs, heads, kv_heads, n;
    int csv;
} pack_opts;

/* A named set cut down to `limbs` ciphertext primes (keys and weights then fit the
 * machine: the packing steps need only a few levels), dnum and special primes shrunk with
 * it: alpha + 1 special primes still cover a digit of alpha primes (q_0 is the largest). */
static int pack_setup(const pack_opts *o, hekv_ckks_params **p, hekv_sk **sk, hekv_evk **evk,
                      hekv_encoder **enc, hekv_err *err) {
    hekv_ckks_params_lit lit;
    if (hekv_ckks_params_lit_named(o->name, &lit, err) != HEKV_OK) return 0;
    if (o->limbs > 0 && o->limbs < lit.nq) {
        lit.nq = (int)o->limbs;
        if (lit.dnum > lit.nq) lit.dnum = lit.nq;
        int alpha = (lit.nq + lit.dnum - 1) / lit.dnum;
        lit.dnum = (lit.nq + alpha - 1) / alpha;
        if (lit.np > alpha + 1) lit.np = alpha + 1;
    }
    const hekv_ckks_opts opts = {.isa = HEKV_ISA_AUTO, .threads = (int)o->threads};
    return hekv_ckks_params_new(&lit, &opts, p, err) == HEKV_OK &&
           hekv_ckks_sk_new(*p, sk, err) == HEKV_OK && hekv_ckks_evk_new(*p, evk, err) == HEKV_OK &&
           hekv_ckks_evk_gen_relin(*evk, *sk, -1, err) == HEKV_OK &&
           hekv_ckks_encoder_new(*p, enc, err) == HEKV_OK;
}

static void rand_fill(uint64_t *st, double *v, size_t n, double lo, double hi) {
    for (size_t i = 0; i < n; i++) {
        *st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
        v[i] = lo + (hi - lo) * (double)(*st >> 11) * 0x1p-53;
    }
}

static int encrypt_slots(hekv_encoder *enc, const hekv_sk *sk, hekv_ct *ct, const double *v,
                         size_t slots, int level, hekv_err *err) {
    const hekv_ckks_params *p = hekv_ckks_encoder_params(enc);
    hekv_pt *pt = NULL;
    int ok = hekv_ckks_pt_new(p, &pt, err) == HEKV_OK &&
             hekv_ckks_encode(enc, pt, v, NULL, slots, level,
                              hekv_ckks_params_default_scale(p), err) == HEKV_OK &&
             hekv_ckks_encrypt_sk(sk, ct, pt, err) == HEKV_OK;
    hekv_ckks_pt_free(pt);
    return ok;
}

static int decrypt_slots(hekv_encoder *enc, const hekv_sk *sk, double *v, const hekv_ct *ct,
                         hekv_err *err) {
    hekv_pt *pt = NULL;
    int ok = hekv_ckks_pt_new(hekv_ckks_encoder_params(enc), &pt, err) == HEKV_OK &&
             hekv_ckks_decrypt(sk, pt, ct, err) == HEKV_OK &&
             hekv_ckks_decode(enc, v, NULL, pt, err) == HEKV_OK;
    hekv_ckks_pt_free(pt);
    return ok;
}

/* The options of bench attention (attention = 1) or bench matvec (0) into o, which holds
 * the defaults; --params and --d are required by both. Returns HEKV_CLI_CONTINUE or the
 * exit status. */
static int pack_parse(const char *cmd, int argc, char **argv, pack_opts *o, int attention,
                      void (*usage)(FILE *)) {
    const hekv_cli_opt opts[] = {
        HEKV_CLI_OPT_INT("--heads", &o->heads, 1, 1L << 20), /* attention only */
        HEKV_CLI_OPT_INT("--kv-heads", &o->kv_heads, 1, 1L << 20),
        HEKV_CLI_OPT_INT("--n", &o->n, 1, 1L << 24),
        HEKV_CLI_OPT_STR("--params", &o->name), /* both */
        HEKV_CLI_OPT_INT("--d", &o->d, 1, 1L << 20),
        HEKV_CLI_OPT_INT("--threads", &o->threads, 1, 256),
        HEKV_CLI_OPT_INT("--reps", &o->reps, 1, 1000),
        HEKV_CLI_OPT_INT("--limbs", &o->limbs, 2, 64),
        HEKV_CLI_OPT_FLAG("--csv", &o->csv),
        HEKV_CLI_OPT_INT("--d-out", &o->d_out, 1, 1L << 20), /* matvec only */
    };
    enum { ATTENTION_ONLY = 3, MATVEC_ONLY = 1 }; /* the first and the last rows */
    const size_t n = sizeof opts / sizeof opts[0];
    int parsed = attention
                     ? hekv_cli_opts_parse(cmd, argc, argv, opts, n - MATVEC_ONLY, usage)
                     : hekv_cli_opts_parse(cmd, argc, argv, opts + ATTENTION_ONLY,
                                           n - ATTENTION_ONLY, usage);
    if (parsed != HEKV_CLI_CONTINUE) return parsed;
    if (!o->name || !o->d) {
        hekv_cli_error("%s: --params NAME and --d D are required", cmd);
        usage(stderr);
        return 2;
    }
    return HEKV_CLI_CONTINUE;
}

static double median_ms(double *ms, int reps) {
    double med, mn, mx;
    hekv_cli_stats(ms, reps, &med, &mn, &mx);
    return med;
}

/* ---- hekv bench matvec --------------------------------------------------------------- */

static void matvec_usage(FILE *f) {
    fprintf(f,
            "usage: hekv bench matvec --params NAME --d D [--d-out D2] [--threads T] [--reps R]\n"
            "                         [--limbs L] [--csv]\n\n"
            "y = W x for one encrypted vector, W a random D2 x D matrix (D2 = D unless given):\n"
            "  irp   interleaved replicated packing (x at stride S/D, y at stride S/D2)\n"
            "  bsgs  the diagonal method with baby-step giant-step over max(D, D2) slots\n"
            "Each is checked against long double before it is timed (max error %g).\n\n"
            "options:\n"
            "  --params NAME  parameter set (hekv params lists them)\n"
            "  --limbs L      keep the first L ciphertext primes of the set (default 3; the\n"
            "                 product needs one level, and fewer limbs keep the %s\n"
            "                 baseline's weights and the rotation keys in memory)\n"
            "  --threads T    threads over RNS limbs (default HEKV_THREADS or 1)\n"
            "  --reps R       timed runs per method (default 3)\n"
            "  --csv          CSV: method,d_in,d_out,slots,rotations,pt_mults,median_ms,"
            "max_abs_err\n",
            PACK_TOL, "D-plaintext");
}

int hekv_cli_bench_matvec(int argc, char **argv) {
    pack_opts o = {0};
    o.reps = 3, o.limbs = 3;
    int parsed = pack_parse("bench matvec", argc, argv, &o, 0, matvec_usage);
    if (parsed != HEKV_CLI_CONTINUE) return parsed;
    if (!o.d_out) o.d_out = o.d;
    o.threads = hekv_cli_threads(o.threads);
    hekv_ckks_params *p = NULL;
    hekv_sk *sk = NULL;
    hekv_evk *evk = NULL;
    hekv_encoder *enc = NULL;
    hekv_eval *ev = NULL;
    hekv_pack_irp *irp = NULL;
    hekv_pack_bsgs *bs = NULL;
    hekv_ct *xi = NULL, *xb = NULL, *out = NULL;
    double *w = NULL, *x = NULL, *y = NULL, *v = NULL, *ms = NULL;
    long *rots = NULL;
    hekv_err err = {0};
    int rc = 1;
    const double t0 = hekv_cli_now_us();
    if (!pack_setup(&o, &p, &sk, &evk, &enc, &err)) goto fail;
    const size_t S = hekv_ckks_params_max_slots(p), din = (size_t)o.d, dout = (size_t)o.d_out;
    const int level = hekv_ckks_params_max_level(p);
    if (hekv_pack_pow2(din) > S || hekv_pack_pow2(dout) > S || level < 1) {
        hekv_cli_error("bench matvec: d = %zu, d_out = %zu need at most S = %zu slots and the "
                       "set at least 2 limbs", din, dout, S);
        goto out;
    }
    w = malloc(din * dout * sizeof *w), x = malloc(din * sizeof *x), y = malloc(dout * sizeof *y);
    v = malloc(S * sizeof *v), ms = malloc((size_t)o.reps * sizeof *ms);
    if (!w || !x || !y || !v || !ms) goto nomem;
    uint64_t rs = 0x1a2b3c;
    rand_fill(&rs, w, din * dout, -1, 1);
    for (size_t i = 0; i < din * dout; i++) w[i] /= sqrt((double)din);
    rand_fill(&rs, x, din, -1, 1);
    for (size_t l = 0; l < dout; l++) {
        long double s = 0;
        for (size_t m = 0; m < din; m++) s += (long double)w[l * din + m] * x[m];
        y[l] = (double)s;
    }
    if (hekv_pack_irp_new(enc, w, dout, din, level, 0, &irp, &err) ||
        hekv_pack_bsgs_new(enc, w, dout, din, level, &bs, &err))
        goto fail;
    const size_t nri = hekv_pack_irp_rotations(irp, 0, NULL, 0);
    const size_t nrb = hekv_pack_bsgs_rotations(bs, NULL, 0);
    if (!(rots = malloc((nri + nrb) * sizeof *rots))) goto nomem;
    hekv_pack_irp_rotations(irp, 0, rots, nri);
    hekv_pack_bsgs_rotations(bs, rots + nri, nrb);
    if (hekv_ckks_evk_gen_rotations(evk, sk, rots, nri + nrb, 0, -1, &err) ||
        hekv_ckks_eval_new(p, evk, &ev, &err) || hekv_ckks_ct_new(p, &xi, &err) ||
        hekv_ckks_ct_new(p, &xb, &err) || hekv_ckks_ct_new(p, &out, &err))
        goto fail;
    /* x interleaved for IRP, x in D slots (zero-padded) for the baseline */
    const size_t Din = hekv_pack_pow2(din), D = hekv_pack_bsgs_slots(bs);
    memset(v, 0, S * sizeof *v);
    for (size_t i = 0; i < din; i++) v[i * (S / Din)] = x[i];
    if (!encrypt_slots(enc, sk, xi, v, S, level, &err)) goto fail;
    memset(v, 0, S * sizeof *v);
    memcpy(v, x, din * sizeof *x);
    if (!encrypt_slots(enc, sk, xb, v, D, level, &err)) goto fail;
    const double setup_s = (hekv_cli_now_us() - t0) * 1e-6;

    hekv_pack_irp_info ii;
    hekv_pack_irp_get_info(irp, &ii);
    if (o.csv) {
        printf("method,d_in,d_out,slots,rotations,pt_mults,median_ms,max_abs_err\n");
    } else {
        printf("# %s cut to %d limbs: N = 2^%d, S = %zu, kernels %s, %ld thread%s; setup %.1f s\n"
               "# irp: t_in %zu, t_out %zu, K = %zu = %zu baby x %zu giant, weights %.1f MiB; "
               "bsgs: %zu slots, weights %.1f MiB\n",
               o.name, level + 1, hekv_ckks_params_logn(p), S, hekv_ckks_params_kernels(p),
               o.threads, o.threads > 1 ? "s" : "", setup_s, ii.t_in, ii.t_out, ii.k, ii.m, ii.g,
               (double)ii.bytes / (1 << 20), D, (double)hekv_pack_bsgs_bytes(bs) / (1 << 20));
        printf("%-7s %6s %6s %6s %9s %8s %10s %11s\n", "method", "d_in", "d_out", "slots",
               "rotations", "pt_mults", "median_ms", "max_abs_err");
    }
    fflush(stdout);
    for (int method = 0; method < 2; method++) {
        hekv_pack_stats st = {0};
        hekv_status s = method == 0 ? hekv_pack_irp_apply(ev, out, xi, irp, 0, 0, &st)
                                    : hekv_pack_bsgs_apply(ev, out, xb, bs, &st);
        if (s) {
            hekv_cli_error("bench matvec: %s failed: %s", method ? "bsgs" : "irp",
                           hekv_ckks_eval_last_error(ev));
            goto out;
        }
        if (!decrypt_slots(enc, sk, v, out, &err)) goto fail;
        double e = 0;
        const size_t stride = method == 0 ? ii.t_out : 1;
        for (size_t l = 0; l < dout; l++) {
            double dl = fabs(v[l * stride] - y[l]);
            if (!(dl <= e)) e = dl;
        }
        if (!(e <= PACK_TOL)) {
            hekv_cli_error("bench matvec: %s gives a wrong result (max error %.3g > %g); not "
                           "timing it", method ? "bsgs" : "irp", e, PACK_TOL);
            goto out;
        }
        for (int r = 0; r < (int)o.reps; r++) {
            double ts = hekv_cli_now_us();
            s = method == 0 ? hekv_pack_irp_apply(ev, out, xi, irp, 0, 0, NULL)
                            : hekv_pack_bsgs_apply(ev, out, xb, bs, NULL);
            ms[r] = (hekv_cli_now_us() - ts) * 1e-3;
            if (s) {
                hekv_cli_error("bench matvec: %s", hekv_ckks_eval_last_error(ev));
                goto out;
            }
        }
        const char *fmt = o.csv ? "%s,%zu,%zu,%zu,%llu,%llu,%.3f,%.3e\n"
                                : "%-7s %6zu %6zu %6zu %9llu %8llu %10.3f %11.3e\n";
        printf(fmt, method ? "bsgs" : "irp", din, dout, method ? D : S,
               (unsigned long long)st.rotations, (unsigned long long)st.pt_mults,
               median_ms(ms, (int)o.reps), e);
        fflush(stdout);
    }
    rc = 0;
    goto out;
nomem:
    hekv_err_set(&err, HEKV_ERR_NOMEM, "out of memory");
fail:
    hekv_cli_error("bench matvec: %s", err.msg[0] ? err.msg : "setup failed");
out:
    free(w), free(x), free(y), free(v), free(ms), free(rots);
    hekv_ckks_ct_free(xi), hekv_ckks_ct_free(xb), hekv_ckks_ct_free(out);
    hekv_pack_irp_free(irp);
    hekv_pack_bsgs_free(bs);
    hekv_ckks_eval_free(ev);
    hekv_ckks_encoder_free(enc);
    hekv_ckks_evk_free(evk);
    hekv_ckks_sk_free(sk);
    hekv_ckks_params_free(p);
    return rc;
}

/* ---- hekv bench attention ------------------------------------------------------------ */

static void attention_usage(FILE *f) {
    fprintf(f,
            "usage: hekv bench attention --params NAME --d D --heads H --kv-heads HK --n N\n"
            "                            [--threads T] [--reps R] [--limbs L] [--csv]\n\n"
            "One decoding step of the packed encrypted K/V cache at context length N (the\n"
            "first N-1 tokens imported, random keys, values, query and scores):\n"
            "  k_append  append one key (mask, no rotation)\n"
            "  v_append  append one value (d_h masks, no rotation)\n"
            "  qkt       scores of the query against all N cached keys\n"
            "  attn_v    scores x V for all N cached values (softmax not included)\n"
            "Each is checked against long double before it is timed (max error %g).\n\n"
            "options:\n"
            "  --limbs L      keep the first L ciphertext primes (default 5: the cache is stored\n"
            "                 at level L-2, QK^T takes two levels below it)\n"
            "  --threads T, --reps R (default 3), --csv: op,n,rotations,ct_mults,median_ms,"
            "max_abs_err\n",
            PACK_TOL);
}

typedef struct {
    hekv_ckks_params *p;
    hekv_sk *sk;
    hekv_evk *evk;
    hekv_encoder *enc;
    hekv_eval *ev;
    hekv_pack_kv *kv, *kv2;
    hekv_pack_kv_info in;
    double *K, *V, *q, *P, *v, *w, *ms;
    hekv_ct **sc, *qc, *tok, *out;
    size_t ns;
} att_bench;

static void att_free(att_bench *a) {
    if (a->sc)
        for (size_t i = 0; i < a->ns; i++) hekv_ckks_ct_free(a->sc[i]);
    free(a->sc);
    hekv_ckks_ct_free(a->qc), hekv_ckks_ct_free(a->tok), hekv_ckks_ct_free(a->out);
    free(a->K), free(a->V), free(a->q), free(a->P), free(a->v), free(a->w), free(a->ms);
    hekv_pack_kv_free(a->kv);
    hekv_pack_kv_free(a->kv2);
    hekv_ckks_eval_free(a->ev);
    hekv_ckks_encoder_free(a->enc);
    hekv_ckks_evk_free(a->evk);
    hekv_ckks_sk_free(a->sk);
    hekv_ckks_params_free(a->p);
}

/* max |decrypted cache - layout| over the K (which = 0) or V ciphertexts of kv2 */
static int append_err(att_bench *a, int which, size_t n, double *e, hekv_err *err) {
    const hekv_pack_kv *kv = a->kv2;
    hekv_pack_kv_info in;
    hekv_pack_kv_get_info(kv, &in);
    *e = 0;
    size_t cnt = which ? in.v_cts : in.k_cts;
    for (size_t i = 0; i < cnt; i++) {
        const size_t b = i / in.d_head, j = i % in.d_head;
        hekv_status s = which ? hekv_pack_kv_v_slots(kv, a->V, n, b, j, a->w)
                              : hekv_pack_kv_k_slots(kv, a->K, n, i, a->w);
        const hekv_ct *ct = which ? hekv_pack_kv_v_ct(kv, b, j) : hekv_pack_kv_k_ct(kv, i);
        if (s || !decrypt_slots(a->enc, a->sk, a->v, ct, err)) return 0;
        for (size_t j2 = 0; j2 < in.slots; j2++) {
            double d = fabs(a->v[j2] - a->w[j2]);
            if (!(d <= *e)) *e = d;
        }
    }
    return 1;
}

int hekv_cli_bench_attention(int argc, char **argv) {
    pack_opts o = {0};
    o.reps = 3, o.limbs = 5;
    int parsed = pack_parse("bench attention", argc, argv, &o, 1, attention_usage);
    if (parsed != HEKV_CLI_CONTINUE) return parsed;
    if (!o.heads || !o.kv_heads || !o.n) {
        hekv_cli_error("bench attention: --heads, --kv-heads and --n are required");
        attention_usage(stderr);
        return 2;
    }
    if (o.limbs < 4) {
        hekv_cli_error("bench attention: --limbs must be at least 4");
        return 2;
    }
    o.threads = hekv_cli_threads(o.threads);
    att_bench a;
    memset(&a, 0, sizeof a);
    hekv_err err = {0};
    int rc = 1;
    const double t0 = hekv_cli_now_us();
    if (!pack_setup(&o, &a.p, &a.sk, &a.evk, &a.enc, &err)) goto fail;
    const int top = hekv_ckks_params_max_level(a.p), lc = top - 1;
    if (hekv_pack_kv_new(a.p, (size_t)o.d, (size_t)o.heads, (size_t)o.kv_heads, -1, &a.kv,
                         &err) ||
        hekv_pack_kv_new(a.p, (size_t)o.d, (size_t)o.heads, (size_t)o.kv_heads, -1, &a.kv2, &err))
        goto fail;
    hekv_pack_kv_get_info(a.kv, &a.in);
    const size_t S = a.in.slots, n = (size_t)o.n, dkv = a.in.d_kv, d = a.in.d, H = a.in.n_heads;
    const size_t Hk = a.in.n_kv_heads, G = a.in.group, dh = a.in.d_head, tkv = a.in.t_kv;
    const size_t B = a.in.block_tokens, nreps = (size_t)o.reps;
    a.K = malloc((n + nreps + 1) * dkv * sizeof *a.K);
    a.V = malloc((n + nreps + 1) * dkv * sizeof *a.V);
    a.q = malloc(d * sizeof *a.q), a.P = malloc(H * n * sizeof *a.P);
    a.v = malloc(S * sizeof *a.v), a.w = malloc(S * sizeof *a.w);
    a.ms = malloc(nreps * sizeof *a.ms);
    if (!a.K || !a.V || !a.q || !a.P || !a.v || !a.w || !a.ms) goto nomem;
    uint64_t rs = 0x5eed;
    rand_fill(&rs, a.K, (n + nreps + 1) * dkv, -1, 1);
    rand_fill(&rs, a.V, (n + nreps + 1) * dkv, -1, 1);
    rand_fill(&rs, a.q, d, -1, 1);
    rand_fill(&rs, a.P, H * n, 0, 1.0 / (double)n);
    {
        size_t nr = hekv_pack_kv_rotations(a.kv, NULL, 0);
        long *r = malloc(nr * sizeof *r);
        if (!r) goto nomem;
        hekv_pack_kv_rotations(a.kv, r, nr);
        hekv_status s = hekv_ckks_evk_gen_rotations(a.evk, a.sk, r, nr, 0, -1, &err);
        free(r);
        if (s || hekv_ckks_eval_new(a.p, a.evk, &a.ev, &err)) goto fail;
    }
    if (hekv_ckks_ct_new(a.p, &a.qc, &err) || hekv_ckks_ct_new(a.p, &a.tok, &err) ||
        hekv_ckks_ct_new(a.p, &a.out, &err))
        goto fail;
    /* the cache of all n tokens, imported at level lc as a client would encrypt it */
    {
        const size_t nk = (n + tkv - 1) / tkv, nv = (n + B - 1) / B * dh;
        hekv_ct **cts = calloc(nk + nv, sizeof *cts);
        int ok = cts != NULL;
        for (size_t i = 0; ok && i < nk + nv; i++) {
            ok = hekv_ckks_ct_new(a.p, &cts[i], &err) == HEKV_OK;
            if (ok)
                ok = (i < nk ? hekv_pack_kv_k_slots(a.kv, a.K, n, i, a.w)
                             : hekv_pack_kv_v_slots(a.kv, a.V, n, (i - nk) / dh, (i - nk) % dh,
                                                    a.w)) == HEKV_OK;
            if (ok) ok = encrypt_slots(a.enc, a.sk, cts[i], a.w, S, lc, &err);
        }
        if (ok && hekv_pack_kv_import(a.ev, a.kv, n, (const hekv_ct *const *)cts, n,
                                      (const hekv_ct *const *)cts + nk)) {
            hekv_err_set(&err, HEKV_ERR_ARG, "%s", hekv_ckks_eval_last_error(a.ev));
            ok = 0;
        }
        for (size_t i = 0; cts && i < nk + nv; i++) hekv_ckks_ct_free(cts[i]);
        free(cts);
        if (!ok) goto fail;
    }
    /* the query (clean, at the top level) and the score ciphertexts */
    memset(a.w, 0, S * sizeof *a.w);
    for (size_t g = 0; g < d; g++) a.w[g * a.in.t] = a.q[g];
    if (!encrypt_slots(a.enc, a.sk, a.qc, a.w, S, top, &err)) goto fail;
    a.ns = hekv_pack_kv_score_count(a.kv);
    if (!(a.sc = calloc(a.ns, sizeof *a.sc))) goto nomem;
    for (size_t i = 0; i < a.ns; i++)
        if (hekv_ckks_ct_new(a.p, &a.sc[i], &err)) goto fail;
    const double setup_s = (hekv_cli_now_us() - t0) * 1e-6;
    if (o.csv) {
        printf("op,n,rotations,ct_mults,median_ms,max_abs_err\n");
    } else {
        printf("# %s cut to %d limbs: N = 2^%d, S = %zu, kernels %s, %ld thread%s; setup %.1f s\n"
               "# d %zu, heads %zu, kv heads %zu (group %zu), d_h %zu, t %zu, t_kv %zu, block %zu "
               "tokens; cache of %zu tokens at level %d: %zu K + %zu V ciphertexts, %.1f MiB\n",
               o.name, top + 1, hekv_ckks_params_logn(a.p), S, hekv_ckks_params_kernels(a.p),
               o.threads, o.threads > 1 ? "s" : "", setup_s, d, H, Hk, G, dh, a.in.t, tkv, B, n,
               lc, a.in.k_cts, a.in.v_cts, (double)a.in.bytes / (1 << 20));
        printf("%-9s %7s %9s %8s %10s %11s\n", "op", "n", "rotations", "ct_mults", "median_ms",
               "max_abs_err");
    }
    fflush(stdout);

    for (int op = 0; op < 4; op++) {
        static const char *names[4] = {"k_append", "v_append", "qkt", "attn_v"};
        hekv_pack_stats st = {0};
        double e = 0;
        hekv_status s = HEKV_OK;
        if (op < 2) {
            /* appends go to a scratch cache (their cost does not depend on n): a first,
             * untimed token starts its ciphertexts, the checked and timed ones add to them */
            hekv_pack_kv *kv2 = a.kv2;
            hekv_pack_kv_info i2;
            hekv_pack_kv_get_info(kv2, &i2);
            const size_t base = op ? i2.v_tokens : i2.k_tokens;
            for (size_t r = 0; r <= nreps && !s; r++) {
                const size_t tau = base + r;
                const double *src = (op ? a.V : a.K) + tau * dkv;
                memset(a.w, 0, S * sizeof *a.w);
                const size_t pos = op ? hekv_pack_kv_next_pos_v(kv2) : hekv_pack_kv_next_pos_k(kv2);
                for (size_t g = 0; g < dkv; g++) a.w[g * tkv + pos] = src[g];
                if (!encrypt_slots(a.enc, a.sk, a.tok, a.w, S, top, &err)) goto fail;
                hekv_pack_stats one = {0};
                double ts = hekv_cli_now_us();
                s = op ? hekv_pack_kv_append_v(a.ev, kv2, a.tok, &one)
                       : hekv_pack_kv_append_k(a.ev, kv2, a.tok, &one);
                if (r) a.ms[r - 1] = (hekv_cli_now_us() - ts) * 1e-3;
                if (r == 1) st = one;
            }
            if (!s && !append_err(&a, op, base + nreps + 1, &e, &err)) goto fail;
        } else if (op == 2) {
            for (size_t r = 0; r <= nreps && !s; r++) {
                hekv_pack_stats one = {0};
                double ts = hekv_cli_now_us();
                s = hekv_pack_kv_qkt(a.ev, a.kv, a.sc, a.ns, a.qc, &one);
                if (r) a.ms[r - 1] = (hekv_cli_now_us() - ts) * 1e-3;
                if (r == 0) st = one;
            }
            const size_t nb = a.ns / G;
            for (size_t i = 0; !s && i < a.ns; i++) {
                const size_t ee = i / nb, b = i % nb;
                if (!decrypt_slots(a.enc, a.sk, a.v, a.sc[i], &err)) goto fail;
                for (size_t c = 0; c < dh; c++)
                    for (size_t h = 0; h < Hk; h++)
                        for (size_t u = 0; u < tkv; u++) {
                            const size_t tau = b * B + c * tkv + u, head = h * G + ee;
                            long double want = 0;
                            if (tau < n)
                                for (size_t l = 0; l < dh; l++)
                                    want += (long double)a.q[l * H + head] *
                                            a.K[tau * dkv + l * Hk + h];
                            double dd = fabs(a.v[(c * Hk + h) * tkv + u] - (double)want);
                            if (!(dd <= e)) e = dd;
                        }
            }
        } else {
            /* random probabilities in the score layout, at the cache's level */
            const size_t nb = a.ns / G;
            for (size_t i = 0; i < a.ns; i++) {
                const size_t ee = i / nb, b = i % nb;
                memset(a.w, 0, S * sizeof *a.w);
                for (size_t c = 0; c < dh; c++)
                    for (size_t h = 0; h < Hk; h++)
                        for (size_t u = 0; u < tkv; u++) {
                            const size_t tau = b * B + c * tkv + u;
                            if (tau < n) a.w[(c * Hk + h) * tkv + u] = a.P[(h * G + ee) * n + tau];
                        }
                if (!encrypt_slots(a.enc, a.sk, a.sc[i], a.w, S, lc, &err)) goto fail;
            }
            for (size_t r = 0; r <= nreps && !s; r++) {
                hekv_pack_stats one = {0};
                double ts = hekv_cli_now_us();
                s = hekv_pack_kv_attn_v(a.ev, a.kv, a.out, (const hekv_ct *const *)a.sc, a.ns, 0,
                                        &one);
                if (r) a.ms[r - 1] = (hekv_cli_now_us() - ts) * 1e-3;
                if (r == 0) st = one;
            }
            if (!s && !decrypt_slots(a.enc, a.sk, a.v, a.out, &err)) goto fail;
            for (size_t l = 0; !s && l < dh; l++)
                for (size_t h = 0; h < H; h++) {
                    long double want = 0;
                    for (size_t tau = 0; tau < n; tau++)
                        want += (long double)a.P[h * n + tau] * a.V[tau * dkv + l * Hk + h / G];
                    double dd = fabs(a.v[(l * H + h) * a.in.t] - (double)want);
                    if (!(dd <= e)) e = dd;
                }
        }
        if (s) {
            hekv_cli_error("bench attention: %s failed: %s", names[op], hekv_ckks_eval_last_error(a.ev));
            goto out;
        }
        if (!(e <= PACK_TOL)) {
            hekv_cli_error("bench attention: %s gives a wrong result (max error %.3g > %g)",
                           names[op], e, PACK_TOL);
            goto out;
        }
        const char *fmt = o.csv ? "%s,%zu,%llu,%llu,%.3f,%.3e\n"
                                : "%-9s %7zu %9llu %8llu %10.3f %11.3e\n";
        printf(fmt, names[op], n, (unsigned long long)st.rotations,
               (unsigned long long)st.ct_mults, median_ms(a.ms, (int)nreps), e);
        fflush(stdout);
    }
    rc = 0;
    goto out;
nomem:
    hekv_err_set(&err, HEKV_ERR_NOMEM, "out of memory");
fail:
    hekv_cli_error("bench attention: %s", err.msg[0] ? err.msg : "setup failed");
out:
    att_free(&a);
    return rc;
}
