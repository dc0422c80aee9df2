/* base.c: status names, error buffers, owned buffers, aligned allocation, secure wiping.
 * No state. */
#define _GNU_SOURCE
#include "base.h"

#include "kernels/cpu.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

const char *hekv_status_str(hekv_status s) {
    switch (s) {
    case HEKV_OK: return "HEKV_OK";
    case HEKV_ERR_ARG: return "HEKV_ERR_ARG";
    case HEKV_ERR_NOMEM: return "HEKV_ERR_NOMEM";
    case HEKV_ERR_PARAMS: return "HEKV_ERR_PARAMS";
    case HEKV_ERR_LEVEL: return "HEKV_ERR_LEVEL";
    case HEKV_ERR_SCALE: return "HEKV_ERR_SCALE";
    case HEKV_ERR_KEY_MISSING: return "HEKV_ERR_KEY_MISSING";
    case HEKV_ERR_FORMAT: return "HEKV_ERR_FORMAT";
    case HEKV_ERR_IO: return "HEKV_ERR_IO";
    case HEKV_ERR_INSECURE: return "HEKV_ERR_INSECURE";
    case HEKV_ERR_UNSUPPORTED: return "HEKV_ERR_UNSUPPORTED";
    }
    return "HEKV_ERR_UNKNOWN";
}

hekv_status hekv_err_set(hekv_err *err, hekv_status status, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->status = status;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return status;
}

void hekv_err_clear(hekv_err *err) {
    if (err) {
        err->status = HEKV_OK;
        err->msg[0] = '\0';
    }
}

void hekv_buf_free(hekv_buf *b) {
    if (!b) return;
    if (b->data) hekv_memzero(b->data, b->len);
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

int hekv_isa_avx512_available(void) { return hekv_cpu_has_avx512_kernels(); }

hekv_status hekv_isa_resolve(hekv_isa request, hekv_isa *out, hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_isa_resolve: out is NULL");
    if (request == HEKV_ISA_AUTO) {
        const char *env = getenv("HEKV_KERNELS");
        if (env && *env && strcmp(env, "auto") != 0) {
            if (strcmp(env, "scalar") == 0)
                request = HEKV_ISA_SCALAR;
            else if (strcmp(env, "avx512") == 0)
                request = HEKV_ISA_AVX512;
            else
                return hekv_err_set(err, HEKV_ERR_ARG,
                                    "HEKV_KERNELS=%s is not a kernel set; use scalar, avx512 "
                                    "or auto",
                                    env);
        }
    }
    switch (request) {
    case HEKV_ISA_AUTO:
        *out = hekv_cpu_has_avx512_kernels() ? HEKV_ISA_AVX512 : HEKV_ISA_SCALAR;
        return HEKV_OK;
    case HEKV_ISA_SCALAR:
        *out = HEKV_ISA_SCALAR;
        return HEKV_OK;
    case HEKV_ISA_AVX512:
        if (!hekv_cpu_has_avx512_kernels())
            return hekv_err_set(err, HEKV_ERR_UNSUPPORTED,
                                "AVX-512 IFMA kernels requested but %s; use scalar or auto",
#ifdef HEKV_NO_AVX512
                                "this build has none (HEKV_NO_AVX512)"
#else
                                "this CPU or OS lacks AVX-512 F/DQ/BW/VL/IFMA"
#endif
            );
        *out = HEKV_ISA_AVX512;
        return HEKV_OK;
    }
    return hekv_err_set(err, HEKV_ERR_ARG, "hekv_isa_resolve: unknown request %d",
                        (int)request);
}

const char *hekv_isa_name(hekv_isa isa) {
    return isa == HEKV_ISA_SCALAR ? "scalar" : isa == HEKV_ISA_AVX512 ? "avx512" : "?";
}

/* Blocks of at least this size (a few RNS limbs at N = 2^16) are placed on 2 MiB
 * boundaries and marked for transparent huge pages: the key-switching passes stream many
 * such blocks at once, and with 4 KiB pages each 4 KiB step of each stream is a TLB miss
 * and a new page for the hardware prefetchers. */
#define HUGE_MIN ((size_t)4 << 20)
#define HUGE_ALIGN ((size_t)2 << 20)

void *hekv_alloc_aligned(size_t size) {
    if (size == 0 || size > SIZE_MAX - HUGE_ALIGN) return NULL;
    if (size >= HUGE_MIN) {
        size = (size + HUGE_ALIGN - 1) & ~(HUGE_ALIGN - 1);
        void *p = aligned_alloc(HUGE_ALIGN, size);
        if (p) (void)madvise(p, size, MADV_HUGEPAGE); /* a hint: failure only costs speed */
        return p;
    }
    return aligned_alloc(64, (size + 63) & ~(size_t)63);
}

void *hekv_calloc_aligned(size_t n, size_t size) {
    if (size != 0 && n > SIZE_MAX / size) return NULL;
    void *p = hekv_alloc_aligned(n * size);
    if (p) memset(p, 0, n * size);
    return p;
}

void hekv_free_aligned(void *p) { free(p); }

void hekv_memzero(void *p, size_t len) {
    if (p && len) explicit_bzero(p, len);
}

int hekv_memcmp_ct(const void *a, const void *b, size_t len) {
    const volatile unsigned char *x = a, *y = b;
    unsigned char d = 0;
    for (size_t i = 0; i < len; i++) d |= (unsigned char)(x[i] ^ y[i]);
    return (int)((1 & ((d - 1) >> 8)) - 1);
}

void hekv__abort(const char *file, int line, const char *what) {
    fprintf(stderr, "hekv: internal invariant broken at %s:%d: %s\n", file, line, what);
    abort();
}
