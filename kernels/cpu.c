/* cpu.c: CPUID + XGETBV feature probe, cached once (R6). */
#include "cpu.h"

#include <stdatomic.h>

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
