/* cpu.c: CPUID + XGETBV feature probe (cached once) and ISA request resolution. */
#include "cpu.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>

static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static int probe(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1;
    if (!osxsave) return 0;
    /* XCR0 bits 1,2 (SSE, AVX state) and 5,6,7 (opmask, ZMM_Hi256, Hi16_ZMM). */
    if ((xgetbv0() & 0xE6) != 0xE6) return 0;
    if (__get_cpuid_max(0, NULL) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    int f = 0;
    if (b & (1u << 16)) f |= HEKV_CPU_AVX512F;
    if (b & (1u << 17)) f |= HEKV_CPU_AVX512DQ;
    if (b & (1u << 21)) f |= HEKV_CPU_AVX512IFMA;
    if (b & (1u << 30)) f |= HEKV_CPU_AVX512BW;
    if (b & (1u << 31)) f |= HEKV_CPU_AVX512VL;
    if (c & (1u << 6)) f |= HEKV_CPU_AVX512VBMI2;
    return f;
}
#else
static int probe(void) { return 0; }
#endif

static atomic_int g_features = -1; /* the one cached probe result (R6) */

int hekv_cpu_features(void) {
    int f = atomic_load_explicit(&g_features, memory_order_relaxed);
    if (f < 0) {
        f = probe();
        atomic_store_explicit(&g_features, f, memory_order_relaxed);
    }
    return f;
}

int hekv_cpu_has_avx512_kernels(void) {
#ifdef HEKV_NO_AVX512
    return 0;
#else
    const int need = HEKV_CPU_AVX512F | HEKV_CPU_AVX512DQ | HEKV_CPU_AVX512BW |
                     HEKV_CPU_AVX512VL | HEKV_CPU_AVX512IFMA;
    return (hekv_cpu_features() & need) == need;
#endif
}

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
