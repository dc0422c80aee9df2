/* boot_int.h: the representation of a bootstrapping plan, shared by the files of
 * bootstrap/ (and their tests): the level plan, the merged FFT levels of CoeffToSlot and
 * SlotToCoeff, the EvalMod design. Nothing outside bootstrap/ includes it. */
#ifndef HEKV_BOOT_INT_H
#define HEKV_BOOT_INT_H

#include <complex.h>

#include "hekv/boot.h"
#include "src/ckks/ckks_ext.h"

#define HEKV__BOOT_MAX_LEVELS 16 /* most CoeffToSlot / SlotToCoeff levels */

/* ------------------------------------------------------------------ boot_dft.c */

/* A linear map on vectors of m slots in generalised-diagonal form,
 * y = sum_k d_k (.) rot(x, off_k), rot(x, k)_j = x_{(j + k) mod m}: the plaintext algebra
 * the merged FFT levels are built in (long double complex, before encoding). */
typedef struct {
    size_t m;        /* slots */
    size_t nd;       /* diagonals */
    long *off;       /* [nd], distinct, in [0, m) */
    long double complex **d; /* [nd][m] */
} hekv__diagmat;

void hekv__diagmat_free(hekv__diagmat *a);
/* The identity on m slots. */
hekv_status hekv__diagmat_identity(size_t m, hekv__diagmat *out);
/* Radix-2 stage len (2 <= len <= n, n | m) of the encoder's special FFT over n slots,
 * acting on each n-slot block of an m-slot vector (an m-periodic view of an n-periodic
 * one): forward (fft_special's butterflies) or inverse (its exact inverse, 1/2 per stage). */
hekv_status hekv__diagmat_fft_stage(size_t m, size_t n, size_t len, int inverse,
                                    hekv__diagmat *out);
/* out = a * b (b applied first). out may not alias a or b. */
hekv_status hekv__diagmat_mul(const hekv__diagmat *a, const hekv__diagmat *b,
                              hekv__diagmat *out);
/* a = diag(v) * a (v[m]), and a = c * a. */
void hekv__diagmat_lmul_diag(hekv__diagmat *a, const long double complex *v);
void hekv__diagmat_scale(hekv__diagmat *a, long double complex c);
/* Drops diagonals that are zero to within 2^-80 of the largest entry. */
void hekv__diagmat_prune(hekv__diagmat *a);
/* y = a x on m-slot vectors (x, y[m]; y must not alias x): for the tests. */
void hekv__diagmat_apply(const hekv__diagmat *a, const long double complex *x,
                         long double complex *y);

/* The levels of one transform: the merged matrices in the order they are applied. */
typedef struct {
    int nlev;
    hekv__diagmat mat[HEKV__BOOT_MAX_LEVELS];
    int stages[HEKV__BOOT_MAX_LEVELS]; /* radix-2 stages merged into each */
} hekv__dft_plan;

void hekv__dft_plan_free(hekv__dft_plan *p);
/* CoeffToSlot on m slots for n-slot messages (m = n: full, m = 2n: sparse): the inverse
 * stages S_n^-1 ... S_2^-1 (no bit reversal: the slots come out bit-reversed, as
 * SlotToCoeff takes them) merged onto nlev levels front-loaded (levels beyond the stage
 * count are constant), times c; for m = 2n the output is masked to the first n slots
 * (merged into the last level). */
hekv_status hekv__dft_cts(size_t m, size_t n, int nlev, long double complex c,
                          hekv__dft_plan *out);
/* SlotToCoeff: the forward stages S_2 ... S_n on bit-reversed input merged onto nlev
 * levels back-loaded, times c; for m = 2n the first level also merges the repack
 * u_j = v_j + i v_(j + n) (slot j mod n of the output: an n-periodic result). */
hekv_status hekv__dft_stc(size_t m, size_t n, int nlev, long double complex c,
                          hekv__dft_plan *out);

/* ------------------------------------------------------------------ the plan */

struct hekv_boot {
    const hekv_ckks_params *p;
    hekv_boot_lit lit;
    size_t n, m;          /* message slots; transform slots (n at full, 2n sparse) */
    int full;             /* n == N/2 */
    int top;              /* the set's top level */
    int l_em, l_stc, l_out; /* levels where EvalMod and SlotToCoeff start, the output */
    double s0;            /* label of the ciphertext through CoeffToSlot and EvalMod */
    double k;             /* EvalMod interval [-K, K] */
    double kp;            /* K + 1/4: CoeffToSlot leaves x / kp, the series' variable */
    /* CoeffToSlot / SlotToCoeff: one encoded linear transform per level */
    int ncts, nstc;
    hekv_lintrans *cts[HEKV__BOOT_MAX_LEVELS], *stc[HEKV__BOOT_MAX_LEVELS];
    hekv_lintrans *stc_half[HEKV__BOOT_MAX_LEVELS]; /* the real2 variant (x 1/2), or NULL */
    double stc_scale[HEKV__BOOT_MAX_LEVELS];        /* the plaintext scale of each */
    /* EvalMod */
    hekv_cheby *cos;      /* on [-1, 1] */
    double tau0;          /* the series' target label */
    double alpha[8];      /* the double angles' constants alpha_i = alpha_0^(2^i) */
    double cos_err;       /* max |chain - sin(2 pi x)/(2 pi)| on [-K, K] */
    /* constants */
    hekv_pt *pt_i;        /* i in every slot at scale 1 (X^(N/2)), transform slots */
    hekv_pt *pt_mi;       /* -i */
    hekv_pt *pt_i_in, *pt_mi_in; /* the same over the message's n slots */
    hekv_encoder *enc;
};

/* boot_modraise.c: ScaleDown, encapsulation, ModRaise, the switch back; *delta receives
 * the scale the message had at level 0 (what SlotToCoeff divides by). Then (n < N/2) the
 * trace. Output: the raised ciphertext over the transform's m slots, label s0. */
hekv_status hekv__boot_modraise(const hekv_boot *b, hekv_eval *ev, hekv_ct *out,
                                const hekv_ct *in, double *delta, hekv_boot_stats *st);
hekv_status hekv__boot_trace(const hekv_boot *b, hekv_eval *ev, hekv_ct *ct);

/* boot_c2s.c / boot_s2c.c: the transforms (the real split / repack included). parts: 1
 * (sparse: one real ciphertext of 2n slots) or 2 (full: real and imaginary parts). */
hekv_status hekv__boot_c2s(const hekv_boot *b, hekv_eval *ev, hekv_ct *const *parts,
                           const hekv_ct *in);
hekv_status hekv__boot_s2c(const hekv_boot *b, hekv_eval *ev, hekv_ct *out,
                           const hekv_ct *const *parts, double delta, int half);

/* boot_evalmod.c: the design (at plan time) and x mod 1 on one real ciphertext. */
hekv_status hekv__boot_evalmod_design(hekv_boot *b, hekv_err *err);
int hekv__boot_evalmod_depth(const hekv_boot *b); /* in levels of evalmod_unit primes */
hekv_status hekv__boot_evalmod(const hekv_boot *b, hekv_eval *ev, hekv_ct *ct);
/* The chain in long double, as the circuit computes it (for the tests and the design). */
long double hekv__boot_evalmod_plain(const hekv_boot *b, long double x);

#endif
