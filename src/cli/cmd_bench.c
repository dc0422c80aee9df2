/* cmd_bench.c: `hekv bench <family>`: microbenchmarks. Every variant is first checked
 * against the scalar reference on the same inputs (R20), then each variant is timed
 * directly; rows are medians of many calls. This file holds the bench dispatcher, the
 * timing helper, the kernel family (`hekv bench ntt`) and the CKKS operations
 * (`hekv bench ckks`), which are checked against plain double arithmetic first. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../kernels/primes.h"
#include "../ckks/ckks_int.h" /* keyswitch has no public entry point: bench it directly */
#include "../ring/ring.h"
#include "cli.h"

double hekv_cli_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec * 1e-3;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void hekv_cli_stats(double *samples, int n, double *median, double *min, double *max) {
    qsort(samples, (size_t)n, sizeof *samples, cmp_double);
    *min = samples[0];
    *max = samples[n - 1];
    *median = n % 2 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
}

/* ---- hekv bench ntt ------------------------------------------------------------------ */

static void bench_ntt_usage(FILE *f) {
    fprintf(f,
            "usage: hekv bench ntt [--logn L] [--bits B] [--threads T] [--reps R] [--csv]\n\n"
            "Times the kernels one RNS limb at a time, for the scalar reference and the\n"
            "AVX-512 IFMA variant (when the CPU has it and B <= 50):\n"
            "  ntt_fwd, ntt_inv   forward / inverse negacyclic NTT\n"
            "  mul, fma           element-wise a*b and out += a*b mod q\n"
            "  bconv              fast basis conversion from 4 limbs to one limb\n"
            "With --threads T the workload is T limbs (bconv: 4 limbs to T limbs), spread over\n"
            "T OpenMP threads, so perfect scaling keeps the time per call constant.\n"
            "Each variant is checked against the scalar reference before it is timed.\n\n"
            "options:\n"
            "  --logn L     ring degree 2^L, 10..17 (default 16)\n"
            "  --bits B     prime size in bits, 20..61 (default 50)\n"
            "  --threads T  threads (default HEKV_THREADS or 1)\n"
            "  --reps R     timed calls per kernel, 5..100000 (default: about 0.3 s each)\n"
            "  --csv        CSV: kernel,variant,logn,bits,threads,median_us,min_us,max_us\n");
}

typedef struct {
    hekv_ring *ring;  /* T limbs */
    hekv_ring *src;   /* 4 limbs, bconv source */
    hekv_bconv *bc;
    hekv_poly a, b, c, s;
    uint64_t *bc_out, *bc_scratch;
} kern_bench;

static void kern_bench_free(kern_bench *k) {
    hekv_poly_free(&k->a), hekv_poly_free(&k->b), hekv_poly_free(&k->c), hekv_poly_free(&k->s);
    hekv_free_aligned(k->bc_out), hekv_free_aligned(k->bc_scratch);
    hekv_bconv_free(k->bc);
    hekv_ring_free(k->src), hekv_ring_free(k->ring);
}

static int kern_bench_new(kern_bench *k, hekv_isa isa, int logn, int threads,
                          const uint64_t *primes) {
    memset(k, 0, sizeof *k);
    hekv_err err;
    hekv_ring_lit lit = {logn, threads, primes, isa, threads};
    hekv_ring_lit slit = {logn, 4, primes + threads, isa, threads};
    if (hekv_ring_new(&lit, &k->ring, &err) || hekv_ring_new(&slit, &k->src, &err) ||
        hekv_bconv_new(k->src, 0, 4, k->ring, 0, threads, &k->bc, &err)) {
        hekv_cli_error("%s", err.msg);
        kern_bench_free(k);
        return 0;
    }
    size_t n = (size_t)1 << logn;
    if (hekv_poly_new(k->ring, threads, &k->a) || hekv_poly_new(k->ring, threads, &k->b) ||
        hekv_poly_new(k->ring, threads, &k->c) || hekv_poly_new(k->src, 4, &k->s) ||
        !(k->bc_out = hekv_alloc_aligned((size_t)threads * n * 8)) ||
        !(k->bc_scratch = hekv_alloc_aligned(hekv_bconv_scratch_words(k->bc) * 8))) {
        hekv_cli_error("bench: out of memory");
        kern_bench_free(k);
        return 0;
    }
    /* Deterministic inputs, the same for every variant. */
    uint64_t x = 0x1234567;
    for (int i = 0; i < threads; i++) {
        uint64_t q = hekv_ring_modulus(k->ring, i)->q;
        for (size_t j = 0; j < n; j++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            k->a.c[i * n + j] = (x >> 11) % q;
            k->b.c[i * n + j] = (x >> 7) % q;
        }
    }
    for (int i = 0; i < 4; i++) {
        uint64_t q = hekv_ring_modulus(k->src, i)->q;
        for (size_t j = 0; j < n; j++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            k->s.c[i * n + j] = (x >> 9) % q;
        }
    }
    return 1;
}

enum { K_NTT_FWD, K_NTT_INV, K_MUL, K_FMA, K_BCONV, K_COUNT };
static const char *kern_names[K_COUNT] = {"ntt_fwd", "ntt_inv", "mul", "fma", "bconv"};

static void kern_run(kern_bench *k, int which) {
    switch (which) {
    case K_NTT_FWD: hekv_ring_ntt_fwd(k->ring, &k->c); break;
    case K_NTT_INV: hekv_ring_ntt_inv(k->ring, &k->c); break;
    case K_MUL: hekv_ring_mul(k->ring, &k->c, &k->a, &k->b); break;
    case K_FMA: hekv_ring_mul_acc(k->ring, &k->c, &k->a, &k->b); break;
    case K_BCONV: hekv_bconv_apply(k->bc, k->bc_out, k->s.c, k->bc_scratch); break;
    }
}

/* Result of one call of `which` on fresh inputs, for the check against the reference. */
static const uint64_t *kern_result(kern_bench *k, int which) {
    hekv_poly_copy(k->ring, &k->c, &k->b);
    kern_run(k, which);
    return which == K_BCONV ? k->bc_out : k->c.c;
}

static int bench_ntt(int argc, char **argv) {
    long logn = 16, bits = 50, threads = 0, reps = 0;
    int csv = 0;
    const hekv_cli_opt opts[] = {
        HEKV_CLI_OPT_FLAG("--csv", &csv),
        HEKV_CLI_OPT_INT("--logn", &logn, 10, 17),
        HEKV_CLI_OPT_INT("--bits", &bits, 20, 61),
        HEKV_CLI_OPT_INT("--threads", &threads, 1, 256),
        HEKV_CLI_OPT_INT("--reps", &reps, 5, 100000),
    };
    int parsed = hekv_cli_opts_parse("bench ntt", argc, argv, opts,
                                     sizeof opts / sizeof opts[0], bench_ntt_usage);
    if (parsed != HEKV_CLI_CONTINUE) return parsed;
    int T = hekv_cli_threads(threads);
    if (bits < logn + 2) {
        hekv_cli_error("bench ntt: --bits %ld too small for N = 2^%ld", bits, logn);
        return 2;
    }
    uint64_t primes[256 + 4];
    if (hekv_primes_generate(primes, T + 4, (int)bits, (int)logn, NULL, 0) != HEKV_OK) {
        hekv_cli_error("bench ntt: not enough %ld-bit primes = 1 mod 2^%ld", bits, logn + 1);
        return 2;
    }
    kern_bench kb[2];
    int nvar = 0;
    if (!kern_bench_new(&kb[nvar++], HEKV_ISA_SCALAR, (int)logn, T, primes)) return 1;
    if (hekv_cpu_has_avx512_kernels() && bits <= HEKV_IFMA_MAX_BITS) {
        if (!kern_bench_new(&kb[nvar++], HEKV_ISA_AVX512, (int)logn, T, primes)) {
            kern_bench_free(&kb[0]);
            return 1;
        }
    } else {
        fprintf(stderr, "hekv: bench ntt: no AVX-512 IFMA variant for this CPU/build/%ld-bit "
                        "prime; timing the scalar reference only\n", bits);
    }
    size_t n = (size_t)1 << logn;
    /* Check every variant against the scalar reference first. */
    for (int v = 1; v < nvar; v++)
        for (int w = 0; w < K_COUNT; w++) {
            size_t words = (size_t)T * n;
            uint64_t *ref = malloc(words * 8);
            memcpy(ref, kern_result(&kb[0], w), words * 8);
            int same = !memcmp(ref, kern_result(&kb[v], w), words * 8);
            free(ref);
            if (!same) {
                hekv_cli_error("bench ntt: %s %s disagrees with the scalar reference; not "
                               "timing a wrong kernel", kern_names[w],
                               hekv_ring_ops(kb[v].ring, 0)->name);
                for (int u = 0; u < nvar; u++) kern_bench_free(&kb[u]);
                return 1;
            }
        }
    if (csv)
        printf("kernel,variant,logn,bits,threads,median_us,min_us,max_us\n");
    else
        printf("%-8s %-7s %4s %4s %7s %12s %12s %12s\n", "kernel", "variant", "logn", "bits",
               "threads", "median_us", "min_us", "max_us");
    for (int w = 0; w < K_COUNT; w++)
        for (int v = 0; v < nvar; v++) {
            kern_bench *k = &kb[v];
            hekv_poly_copy(k->ring, &k->c, &k->b);
            /* Warm up, and size the repetitions to about 0.3 s unless given. */
            double t0 = hekv_cli_now_us();
            int warm = 0;
            do {
                kern_run(k, w);
                warm++;
            } while (hekv_cli_now_us() - t0 < 50000 && warm < 1000);
            double per = (hekv_cli_now_us() - t0) / warm;
            int r = reps ? (int)reps : (int)(300000 / (per > 1 ? per : 1));
            if (r < 5) r = 5;
            if (r > 20000) r = 20000;
            double *s = malloc(sizeof(double) * (size_t)r);
            for (int i = 0; i < r; i++) {
                double a = hekv_cli_now_us();
                kern_run(k, w);
                s[i] = hekv_cli_now_us() - a;
            }
            double med, mn, mx;
            hekv_cli_stats(s, r, &med, &mn, &mx);
            free(s);
            const char *vn = hekv_ring_ops(k->ring, 0)->name;
            if (csv)
                printf("%s,%s,%ld,%ld,%d,%.3f,%.3f,%.3f\n", kern_names[w], vn, logn, bits, T, med,
                       mn, mx);
            else
                printf("%-8s %-7s %4ld %4ld %7d %12.3f %12.3f %12.3f\n", kern_names[w], vn, logn,
                       bits, T, med, mn, mx);
            fflush(stdout);
        }
    for (int v = 0; v < nvar; v++) kern_bench_free(&kb[v]);
    return 0;
}

/* ---- hekv bench ckks ----------------------------------------------------------------- */

#define CKKS_HOIST_K 8   /* rotate_hoisted_extra: (hoisted K - hoisted 1) / (K - 1) */
#define CKKS_TOL 1e-4    /* largest |decoded - expected| the correctness check accepts; the
                            expected error at scale 2^40 is ~1e-8, a wrong result is O(1) */

enum {
    C_ENCODE, C_ENCRYPT, C_DECRYPT, C_ADD, C_MULT_RELIN, C_RESCALE, C_ROTATE, C_HOIST_EXTRA,
    C_KEYSWITCH, C_COUNT
};
static const char *ckks_op_names[C_COUNT] = {"encode", "encrypt", "decrypt", "add",
                                             "mult_relin", "rescale", "rotate",
                                             "rotate_hoisted_extra", "keyswitch"};

static void bench_ckks_usage(FILE *f) {
    fprintf(f,
            "usage: hekv bench ckks --params NAME [--threads T] [--reps R] [--ops LIST]\n"
            "                       [--csv]\n\n"
            "Times the CKKS operations at the top level of a parameter set (all limbs, full\n"
            "slots), each on one ciphertext:\n"
            "  encode, encrypt (public key), decrypt (to a plaintext, no decode), add,\n"
            "  mult_relin (product + relinearisation, no rescale), rescale, rotate (by 1),\n"
            "  rotate_hoisted_extra ((%d hoisted rotations - 1 hoisted rotation) / %d, i.e.\n"
            "                       the cost of each rotation after the shared decomposition),\n"
            "  keyswitch (one polynomial: ModUp, key product, ModDown).\n"
            "Every operation is first checked: its result is decrypted and compared with the\n"
            "same computation on doubles (max error %g); nothing is timed if one is wrong.\n\n"
            "options:\n"
            "  --params NAME  parameter set (hekv params lists them; toy-* and bench-* are\n"
            "                 insecure and only for tests and benchmarks)\n"
            "  --threads T    threads over RNS limbs (default HEKV_THREADS or 1)\n"
            "  --reps R       timed calls per operation, 1..1000 (default 5), in rounds\n"
            "                 that time every operation once (a slow spell of a shared\n"
            "                 host then reaches every operation alike)\n"
            "  --ops LIST     time only these operations (comma-separated names from the\n"
            "                 list above; all are still checked)\n"
            "  --csv          CSV: op,params,limbs,threads,median_ms,min_ms,max_ms\n",
            CKKS_HOIST_K, CKKS_HOIST_K - 1, CKKS_TOL);
}

typedef struct {
    hekv_ckks_params *p;
    hekv_sk *sk;
    hekv_pk *pk;
    hekv_evk *evk;
    hekv_encoder *enc;
    hekv_eval *ev;
    hekv_pt *pt, *dpt;
    hekv_ct *a, *b, *out, *mul, *res, *rot[CKKS_HOIST_K];
    hekv_poly d0, d1, d2, k0, k1;         /* keyswitch: tensor of a*b and switched d2 */
    double *xr, *xi, *yr, *yi, *zr, *zi;  /* [slots] inputs and a decoded result */
    double check_err[C_COUNT];            /* max error of each op's correctness check */
    size_t slots;
    int top;
} ckks_bench;

static void ckks_bench_free(ckks_bench *c) {
    hekv_poly_free(&c->d0), hekv_poly_free(&c->d1), hekv_poly_free(&c->d2);
    hekv_poly_free(&c->k0), hekv_poly_free(&c->k1);
    for (int i = 0; i < CKKS_HOIST_K; i++) hekv_ct_free(c->rot[i]);
    hekv_ct_free(c->a), hekv_ct_free(c->b), hekv_ct_free(c->out), hekv_ct_free(c->mul);
    hekv_ct_free(c->res);
    hekv_pt_free(c->pt), hekv_pt_free(c->dpt);
    hekv_ckks_eval_free(c->ev);
    hekv_ckks_encoder_free(c->enc);
    hekv_ckks_evk_free(c->evk);
    hekv_ckks_pk_free(c->pk);
    hekv_ckks_sk_free(c->sk);
    hekv_ckks_params_free(c->p);
    free(c->xr), free(c->xi), free(c->yr), free(c->yi), free(c->zr), free(c->zi);
}

/* Builds the set, keys (relinearisation + rotations 1..K) and two encrypted inputs. */
static int ckks_bench_new(ckks_bench *c, const char *name, int threads, hekv_err *err) {
    memset(c, 0, sizeof *c);
    hekv_ckks_params_lit lit;
    if (hekv_ckks_params_lit_named(name, &lit, err) != HEKV_OK) return 0;
    lit.threads = threads;
    if (hekv_ckks_params_new(&lit, &c->p, err) != HEKV_OK) return 0;
    c->top = hekv_ckks_params_max_level(c->p);
    c->slots = hekv_ckks_params_max_slots(c->p);
    long rots[CKKS_HOIST_K];
    for (int i = 0; i < CKKS_HOIST_K; i++) rots[i] = i + 1;
    if (hekv_ckks_sk_new(c->p, &c->sk, err) || hekv_ckks_pk_new(c->p, c->sk, &c->pk, err) ||
        hekv_ckks_evk_new(c->p, &c->evk, err) || hekv_ckks_evk_gen_relin(c->evk, c->sk, err) ||
        hekv_ckks_evk_gen_rotations(c->evk, c->sk, rots, CKKS_HOIST_K, 0, err) ||
        hekv_ckks_encoder_new(c->p, &c->enc, err) ||
        hekv_ckks_eval_new(c->p, c->evk, &c->ev, err) || hekv_pt_new(c->p, &c->pt, err) ||
        hekv_pt_new(c->p, &c->dpt, err) || hekv_ct_new(c->p, &c->a, err) ||
        hekv_ct_new(c->p, &c->b, err) || hekv_ct_new(c->p, &c->out, err) ||
        hekv_ct_new(c->p, &c->mul, err) || hekv_ct_new(c->p, &c->res, err))
        return 0;
    for (int i = 0; i < CKKS_HOIST_K; i++)
        if (hekv_ct_new(c->p, &c->rot[i], err)) return 0;
    size_t nq = (size_t)c->p->nq;
    if (hekv_poly_new(c->p->rq, nq, &c->d0) || hekv_poly_new(c->p->rq, nq, &c->d1) ||
        hekv_poly_new(c->p->rq, nq, &c->d2) || hekv_poly_new(c->p->rq, nq, &c->k0) ||
        hekv_poly_new(c->p->rq, nq, &c->k1)) {
        hekv_err_set(err, HEKV_ERR_NOMEM, "bench ckks: out of memory");
        return 0;
    }
    double **v[] = {&c->xr, &c->xi, &c->yr, &c->yi, &c->zr, &c->zi};
    for (int i = 0; i < 6; i++)
        if (!(*v[i] = malloc(c->slots * sizeof(double)))) {
            hekv_err_set(err, HEKV_ERR_NOMEM, "bench ckks: out of memory");
            return 0;
        }
    uint64_t x = 0x5eed;
    for (size_t i = 0; i < c->slots; i++)
        for (int k = 0; k < 4; k++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            (*v[k])[i] = (double)(x >> 11) * 0x1p-52 - 1.0; /* [-1, 1) */
        }
    double scale = hekv_ckks_params_default_scale(c->p);
    if (hekv_ckks_encode(c->enc, c->pt, c->yr, c->yi, c->slots, c->top, scale, err) ||
        hekv_ckks_encrypt_pk(c->pk, c->b, c->pt, err) ||
        hekv_ckks_encode(c->enc, c->pt, c->xr, c->xi, c->slots, c->top, scale, err) ||
        hekv_ckks_encrypt_pk(c->pk, c->a, c->pt, err))
        return 0;
    /* The tensor (d0, d1, d2) of a*b, whose d2 the keyswitch row switches from s^2 to s. */
    const hekv_ring *rq = c->p->rq;
    hekv_ring_mul(rq, &c->d0, &c->a->c[0], &c->b->c[0]);
    hekv_ring_mul(rq, &c->d1, &c->a->c[0], &c->b->c[1]);
    hekv_ring_mul_acc(rq, &c->d1, &c->a->c[1], &c->b->c[0]);
    hekv_ring_mul(rq, &c->d2, &c->a->c[1], &c->b->c[1]);
    c->k0.ntt = c->k1.ntt = 1;
    return 1;
}

/* One call of op (hoisted rotations: `nrot` of them). Outputs never alias inputs, so every
 * call sees the same inputs. */
static hekv_status ckks_run(ckks_bench *c, int op, int nrot, hekv_err *err) {
    double scale = hekv_ckks_params_default_scale(c->p);
    switch (op) {
    case C_ENCODE:
        return hekv_ckks_encode(c->enc, c->pt, c->xr, c->xi, c->slots, c->top, scale, err);
    case C_ENCRYPT: return hekv_ckks_encrypt_pk(c->pk, c->out, c->pt, err);
    case C_DECRYPT: return hekv_ckks_decrypt(c->sk, c->dpt, c->a, err);
    case C_ADD: return hekv_ckks_eval_add(c->ev, c->out, c->a, c->b);
    case C_MULT_RELIN: return hekv_ckks_eval_mul(c->ev, c->mul, c->a, c->b);
    case C_RESCALE: return hekv_ckks_eval_rescale(c->ev, c->res, c->mul);
    case C_ROTATE: return hekv_ckks_eval_rotate(c->ev, c->out, c->a, 1);
    case C_HOIST_EXTRA: {
        long ks[CKKS_HOIST_K];
        for (int i = 0; i < CKKS_HOIST_K; i++) ks[i] = i + 1;
        return hekv_ckks_eval_rotate_hoisted(c->ev, c->rot, c->a, ks, (size_t)nrot);
    }
    case C_KEYSWITCH:
        hekv__keyswitch(c->ev, &c->k0, &c->k1, &c->d2, c->top, c->evk->relin);
        return HEKV_OK;
    }
    return HEKV_ERR_ARG;
}

/* Decrypts and decodes ct into zr/zi; the largest error against (er[i + k], ei[i + k])
 * (indices mod slots; er*fr - ei*fi etc. when f is given: the product x*y). */
static int ckks_check(ckks_bench *c, const hekv_ct *ct, long k, int product, double *maxerr,
                      hekv_err *err) {
    if (hekv_ckks_decrypt(c->sk, c->dpt, ct, err) ||
        hekv_ckks_decode(c->enc, c->zr, c->zi, c->dpt, err))
        return 0;
    double m = 0;
    for (size_t i = 0; i < c->slots; i++) {
        size_t j = (i + (size_t)k) % c->slots;
        double er = c->xr[j], ei = c->xi[j];
        if (product == 1) {
            er = c->xr[j] * c->yr[j] - c->xi[j] * c->yi[j];
            ei = c->xr[j] * c->yi[j] + c->xi[j] * c->yr[j];
        } else if (product == 2) {
            er = c->xr[j] + c->yr[j];
            ei = c->xi[j] + c->yi[j];
        }
        double d = fmax(fabs(c->zr[i] - er), fabs(c->zi[i] - ei));
        if (!(d <= m)) m = d; /* NaN propagates */
    }
    *maxerr = m;
    return 1;
}

/* Runs every operation once and compares its decrypted result with plain arithmetic. */
static int ckks_verify(ckks_bench *c, hekv_err *err) {
    for (int op = 0; op < C_COUNT; op++) {
        hekv_status s = ckks_run(c, op, CKKS_HOIST_K, err);
        if (s != HEKV_OK) {
            hekv_cli_error("bench ckks: %s failed: %s", ckks_op_names[op],
                           op <= C_DECRYPT ? err->msg : hekv_eval_last_error(c->ev));
            return 0;
        }
        double e = 0, worst = 0;
        int ok = 1;
        switch (op) {
        case C_ENCODE: /* decode the encoding directly */
            ok = !hekv_ckks_decode(c->enc, c->zr, c->zi, c->pt, err);
            for (size_t i = 0; ok && i < c->slots; i++) {
                double d = fmax(fabs(c->zr[i] - c->xr[i]), fabs(c->zi[i] - c->xi[i]));
                if (!(d <= worst)) worst = d;
            }
            break;
        case C_ENCRYPT: ok = ckks_check(c, c->out, 0, 0, &worst, err); break;
        case C_DECRYPT:
            ok = !hekv_ckks_decode(c->enc, c->zr, c->zi, c->dpt, err);
            for (size_t i = 0; ok && i < c->slots; i++) {
                double d = fmax(fabs(c->zr[i] - c->xr[i]), fabs(c->zi[i] - c->xi[i]));
                if (!(d <= worst)) worst = d;
            }
            break;
        case C_ADD: ok = ckks_check(c, c->out, 0, 2, &worst, err); break;
        case C_MULT_RELIN: ok = ckks_check(c, c->mul, 0, 1, &worst, err); break;
        case C_RESCALE: ok = ckks_check(c, c->res, 0, 1, &worst, err); break;
        case C_ROTATE: ok = ckks_check(c, c->out, 1, 0, &worst, err); break;
        case C_HOIST_EXTRA:
            for (int i = 0; ok && i < CKKS_HOIST_K; i++) {
                ok = ckks_check(c, c->rot[i], i + 1, 0, &e, err);
                if (!(e <= worst)) worst = e;
            }
            break;
        case C_KEYSWITCH: {
            /* (d0 + k0, d1 + k1) is a relinearised a*b: it must decrypt to x*y. */
            if (hekv__ct_resize(c->out, c->top) != HEKV_OK) {
                hekv_err_set(err, HEKV_ERR_NOMEM, "out of memory");
                ok = 0;
                break;
            }
            hekv_ring_add(c->p->rq, &c->out->c[0], &c->d0, &c->k0);
            hekv_ring_add(c->p->rq, &c->out->c[1], &c->d1, &c->k1);
            c->out->scale = c->a->scale * c->b->scale;
            c->out->slots = c->slots;
            c->out->has_seed = 0;
            ok = ckks_check(c, c->out, 0, 1, &worst, err);
            break;
        }
        }
        if (!ok) {
            hekv_cli_error("bench ckks: checking %s failed: %s", ckks_op_names[op], err->msg);
            return 0;
        }
        c->check_err[op] = worst;
        if (!(worst <= CKKS_TOL)) {
            hekv_cli_error("bench ckks: %s gives a wrong result (max error %.3g > %g against "
                           "plain arithmetic); not timing it",
                           ckks_op_names[op], worst, CKKS_TOL);
            return 0;
        }
    }
    return 1;
}

/* One timed call of op into *ms (milliseconds). rotate_hoisted_extra: (time of K hoisted
 * rotations - time of 1 hoisted rotation, the two calls back to back) / (K - 1). */
static int ckks_sample(ckks_bench *c, int op, double *ms, hekv_err *err) {
    double base = 0;
    if (op == C_HOIST_EXTRA) {
        double t0 = hekv_cli_now_us();
        if (ckks_run(c, op, 1, err)) return 0;
        base = (hekv_cli_now_us() - t0) * 1e-3;
    }
    double t0 = hekv_cli_now_us();
    if (ckks_run(c, op, CKKS_HOIST_K, err)) return 0;
    *ms = (hekv_cli_now_us() - t0) * 1e-3;
    if (op == C_HOIST_EXTRA) *ms = (*ms - base) / (CKKS_HOIST_K - 1);
    return 1;
}

/* Parses a comma-separated list of operation names into want[] (1 = time it). */
static int ckks_parse_ops(const char *list, int *want) {
    for (int op = 0; op < C_COUNT; op++) want[op] = 0;
    const char *s = list;
    while (*s) {
        size_t len = strcspn(s, ",");
        int found = 0;
        for (int op = 0; op < C_COUNT; op++)
            if (len == strlen(ckks_op_names[op]) && !strncmp(s, ckks_op_names[op], len))
                want[op] = found = 1;
        if (!found) {
            hekv_cli_error("bench ckks: unknown operation '%.*s' in --ops (known: encode, "
                           "encrypt, decrypt, add, mult_relin, rescale, rotate, "
                           "rotate_hoisted_extra, keyswitch)", (int)len, s);
            return 0;
        }
        s += len;
        if (*s == ',') s++;
    }
    for (int op = 0; op < C_COUNT; op++)
        if (want[op]) return 1;
    hekv_cli_error("bench ckks: --ops names no operation");
    return 0;
}

static int bench_ckks(int argc, char **argv) {
    const char *name = NULL, *ops = NULL;
    long threads = 0, reps = 5;
    int csv = 0, want[C_COUNT];
    const hekv_cli_opt opts[] = {
        HEKV_CLI_OPT_FLAG("--csv", &csv),
        HEKV_CLI_OPT_STR("--params", &name),
        HEKV_CLI_OPT_INT("--threads", &threads, 1, 256),
        HEKV_CLI_OPT_INT("--reps", &reps, 1, 1000),
        HEKV_CLI_OPT_STR("--ops", &ops),
    };
    int parsed = hekv_cli_opts_parse("bench ckks", argc, argv, opts,
                                     sizeof opts / sizeof opts[0], bench_ckks_usage);
    if (parsed != HEKV_CLI_CONTINUE) return parsed;
    for (int op = 0; op < C_COUNT; op++) want[op] = 1;
    if (ops && !ckks_parse_ops(ops, want)) return 2;
    if (!name) {
        hekv_cli_error("bench ckks: --params NAME is required (hekv params lists the sets)");
        bench_ckks_usage(stderr);
        return 2;
    }
    int T = hekv_cli_threads(threads);
    ckks_bench c;
    hekv_err err = {0};
    double t0 = hekv_cli_now_us();
    if (!ckks_bench_new(&c, name, T, &err)) {
        hekv_cli_error("bench ckks: %s", err.msg[0] ? err.msg : "setup failed");
        ckks_bench_free(&c);
        return 1;
    }
    double setup_s = (hekv_cli_now_us() - t0) * 1e-6;
    if (!ckks_verify(&c, &err)) {
        ckks_bench_free(&c);
        return 1;
    }
    const int limbs = c.top + 1;
    if (csv) {
        printf("op,params,limbs,threads,median_ms,min_ms,max_ms\n");
    } else {
        printf("# %s: N = 2^%d, %d + %d limbs, dnum %d, %zu slots, kernels %s, %d thread%s; "
               "keys and inputs in %.1f s; all operations checked (max error <= %g)\n",
               name, c.p->logn, c.p->nq, c.p->np, c.p->dnum, c.slots,
               hekv_ring_ops(c.p->rq, 0)->name, T, T > 1 ? "s" : "", setup_s, CKKS_TOL);
        /* Sizes of the serialised objects: one switching key (the relinearisation key,
         * seeded as generated and in full) and a top-level ciphertext. */
        hekv_evk one = *c.evk;
        one.ngal = 0;
        size_t seeded = 0, full = 0, ctlen = 0, len;
        uint8_t *buf;
        if (!hekv_ckks_evk_save(&one, &buf, &len, &err)) seeded = len, free(buf);
        c.evk->relin->has_seed = 0;
        if (!hekv_ckks_evk_save(&one, &buf, &len, &err)) full = len, free(buf);
        c.evk->relin->has_seed = 1;
        if (!hekv_ckks_ct_save(c.p, c.a, &buf, &len, &err)) ctlen = len, free(buf);
        const double mib = 1.0 / (1 << 20);
        printf("# switching key: %.1f MiB in memory, %.1f MiB as a file (%.1f MiB "
               "seed-compressed); top-level ciphertext file: %.1f MiB\n",
               (double)hekv_ckks_params_swk_bytes(c.p) * mib, (double)full * mib,
               (double)seeded * mib, (double)ctlen * mib);
        printf("%-22s %-14s %5s %7s %10s %10s %10s %10s\n", "op", "params", "limbs", "threads",
               "median_ms", "min_ms", "max_ms", "check_err");
    }
    fflush(stdout);
    /* Round robin: round r times every operation once, so that a slow spell of the shared
     * host spreads over all operations instead of landing on whichever ran then. */
    double *ms = malloc(sizeof(double) * (size_t)reps * C_COUNT);
    int rc = ms ? 0 : 1;
    for (int r = 0; r < (int)reps && !rc; r++)
        for (int op = 0; op < C_COUNT && !rc; op++) {
            if (!want[op]) continue;
            if (!ckks_sample(&c, op, &ms[(size_t)op * (size_t)reps + (size_t)r], &err)) {
                hekv_cli_error("bench ckks: %s failed: %s", ckks_op_names[op],
                               op <= C_DECRYPT ? err.msg : hekv_eval_last_error(c.ev));
                rc = 1;
            }
        }
    for (int op = 0; op < C_COUNT && !rc; op++) {
        if (!want[op]) continue;
        double med, mn, mx;
        hekv_cli_stats(ms + (size_t)op * (size_t)reps, (int)reps, &med, &mn, &mx);
        if (csv)
            printf("%s,%s,%d,%d,%.3f,%.3f,%.3f\n", ckks_op_names[op], name, limbs, T, med, mn,
                   mx);
        else
            printf("%-22s %-14s %5d %7d %10.3f %10.3f %10.3f %10.2e\n", ckks_op_names[op], name,
                   limbs, T, med, mn, mx, c.check_err[op]);
        fflush(stdout);
    }
    free(ms);
    ckks_bench_free(&c);
    return rc;
}

/* ---- dispatcher ----------------------------------------------------------------------- */

static const struct {
    const char *name;
    hekv_cli_fn fn;
    const char *summary;
} families[] = {
    {"ntt", bench_ntt, "NTT, element-wise and basis-conversion kernels, scalar vs AVX-512"},
    {"ckks", bench_ckks, "CKKS operations of a parameter set (encode ... key switching)"},
    {"matvec", hekv_cli_bench_matvec, "IRP vector-matrix product against the diagonal BSGS"},
    {"attention", hekv_cli_bench_attention, "packed K/V cache: append, QK^T, scores x V"},
    {"poly", hekv_cli_bench_poly, "nonlinearities: exp, 1/x, 1/sqrt, SiLU, GELU, sign, softmax"},
};

static void bench_usage(FILE *f) {
    fprintf(f, "usage: hekv bench <family> [options]   (hekv bench <family> --help)\n\n"
               "families:\n");
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        fprintf(f, "  %-10s %s\n", families[i].name, families[i].summary);
}

int hekv_cli_bench(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        bench_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        if (!strcmp(argv[1], families[i].name)) return families[i].fn(argc - 1, argv + 1);
    hekv_cli_error("bench: unknown family '%s'", argv[1]);
    bench_usage(stderr);
    return 2;
}
