/* cmd_bench_ntt.c: `hekv bench ntt`: the kernel families one RNS limb at a time (NTT,
 * element-wise, basis conversion), the scalar reference against the AVX-512 IFMA variant.
 * Each variant is checked against the reference on the same inputs, then timed directly
 * through a ring built for it (R20). It reaches below the CKKS API on purpose: the kernels
 * and the ring are what it measures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kernels/primes.h"
#include "src/ring/ring.h"

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

int hekv_cli_bench_ntt(int argc, char **argv) {
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
    if (hekv_primes_generate(primes, T + 4, (int)bits, (int)logn, NULL, 0) != HEKV_KERN_OK) {
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

