/* ring_int.h: the ring's representation, shared by ring.c and ring_fused.c only. */
#ifndef HEKV_RING_INT_H
#define HEKV_RING_INT_H

#include "src/ring/ring.h"

typedef struct {
    hekv_modulus mod;
    uint64_t psi;
    const hekv_kern_ops *ops;
    void *tab; /* the ops' NTT table */
} prime_plan;

struct hekv_ring {
    int logn;
    size_t n;
    int nprimes;
    int threads;
    int is_view;   /* 1: p is borrowed from another ring */
    prime_plan *p; /* [nprimes] */
};

#define LIMB(p, i) ((p)->c + (size_t)(i) * n)
#define FOR_LIMBS(r, L) \
    _Pragma("omp parallel for num_threads(r->threads) if (r->threads > 1) schedule(static)") \
    for (long i = 0; i < (long)(L); i++)

#endif
