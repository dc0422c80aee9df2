/* cpu.h: which instruction sets this CPU and OS let us use (CPUID plus XGETBV), and the
 * instruction-set request type that callers pass to the dispatcher. */
#ifndef HEKV_KERNELS_CPU_H
#define HEKV_KERNELS_CPU_H

#include "../src/common/base.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    HEKV_CPU_AVX512F = 1 << 0,
    HEKV_CPU_AVX512DQ = 1 << 1,
    HEKV_CPU_AVX512BW = 1 << 2,
    HEKV_CPU_AVX512VL = 1 << 3,
    HEKV_CPU_AVX512IFMA = 1 << 4,
    HEKV_CPU_AVX512VBMI2 = 1 << 5,
};

/** Bit set of HEKV_CPU_* features the CPU has and the OS saves state for (ZMM and opmask
 *  registers enabled in XCR0). Computed once, cached in one atomic int. */
HEKV_API int hekv_cpu_features(void);

/** Kernel instruction-set request. AVX512 means the AVX-512 IFMA kernels (F, DQ, BW, VL,
 *  IFMA), used for every modulus below 2^50; larger moduli use the scalar kernels. */
typedef enum {
    HEKV_ISA_AUTO = 0, /**< best available; HEKV_KERNELS=scalar|avx512 overrides it */
    HEKV_ISA_SCALAR,   /**< portable scalar references only */
    HEKV_ISA_AVX512    /**< AVX-512 IFMA kernels; an error when the CPU lacks them */
} hekv_isa;

/** 1 when this build contains the AVX-512 kernels and this CPU can run them. */
HEKV_API int hekv_cpu_has_avx512_kernels(void);

/** Resolves a request: AUTO consults HEKV_KERNELS ("scalar", "avx512" or "auto"), then the
 *  CPU. Returns HEKV_ERR_UNSUPPORTED when AVX512 is asked for but unavailable (message in
 *  err), HEKV_ERR_ARG for an unknown HEKV_KERNELS value. *out is SCALAR or AVX512. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_isa_resolve(hekv_isa request, hekv_isa *out,
                                                     hekv_err *err);

#ifdef __cplusplus
}
#endif
#endif
