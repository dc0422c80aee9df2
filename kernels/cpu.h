/* cpu.h: which instruction sets this CPU and OS let us use (CPUID plus XGETBV), and the
 * resolved kernel set the dispatcher takes. */
#ifndef HEKV_KERNELS_CPU_H
#define HEKV_KERNELS_CPU_H

#include "kern_defs.h"

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
int hekv_cpu_features(void);

/** A resolved kernel set: the scalar references, or the AVX-512 IFMA kernels (F, DQ, BW,
 *  VL, IFMA) for every modulus below 2^50 (larger moduli use the scalar ones). What a
 *  caller asks for (auto, an environment variable) is resolved above this layer. */
typedef enum {
    HEKV_KERN_SCALAR = 1, /**< portable scalar references only */
    HEKV_KERN_AVX512 = 2  /**< AVX-512 IFMA kernels where the modulus allows */
} hekv_kern_isa;

/** 1 when this build contains the AVX-512 kernels and this CPU can run them: the CPU has
 *  AVX-512 F, DQ, BW, VL and IFMA and the OS saves the ZMM and opmask state. These are
 *  exactly the -m flags the Makefile gives the *_ifma.c files (STYLE R5). */
int hekv_cpu_has_avx512_kernels(void);

#ifdef __cplusplus
}
#endif
#endif
