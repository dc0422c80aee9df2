/* hekv/boot.h: CKKS bootstrapping (server side): a ciphertext at any level, of any power-
 * of-two slot count, back to a high level with its message kept to a stated precision.
 *
 * The pipeline (bootstrap/, one file per step):
 *   ScaleDown   to level 0 at the exact ratio q_0 / scale = 2^log_ratio (one integer
 *               product and a rescale; a level-0 input is taken as it is);
 *   encapsulation  key switch at level 0 to an ephemeral sparse secret s' of weight h, in
 *               q_0 p_0 only (the key never exists at a larger modulus);
 *   ModRaise    lift to the top level: the plaintext becomes t = m + q_0 I, and with the
 *               ephemeral secret |I| <= (h + 1)/2 for every coefficient, deterministically
 *               (|c_0 + c_1 s'| <= (1 + h) q_0 / 2): the failure probability is 0;
 *               then the switch back to the main secret at the top level;
 *   trace       (n < N/2 slots) the sum over the Galois group of Z[X^(N/2n)]: log2(N/2n)
 *               rotate-and-adds;
 *   CoeffToSlot the homomorphic inverse special FFT with its radix-2 layers merged onto
 *               cts_levels levels (BSGS over generalised diagonals, every constant folded
 *               into the plaintexts), then the split into real parts (a conjugation; for
 *               n <= N/4 the imaginary part is repacked beside the real one so EvalMod
 *               runs once);
 *   EvalMod     x mod 1 as (1/2 pi) sin(2 pi x): a Chebyshev series of a scaled cosine on
 *               [-K, K] and double-angle steps, each level a unit of evalmod_unit primes;
 *   SlotToCoeff the forward FFT on stc_levels levels, landing at the set's default scale.
 * The output is at hekv_boot_level_out with the set's default scale.
 *
 * Conventions as in hekv/ckks.h. Keys: hekv_boot_keyreq lists exactly the keys the plan
 * uses (each Galois key at the highest level it is used at, the relinearisation key, the
 * encapsulation pair), for the client to generate with hekv_ckks_evk_gen_request. */
#ifndef HEKV_BOOT_H
#define HEKV_BOOT_H

#include "hekv/ckks.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Tags of the encapsulation keys in the evaluation-key set. */
#define HEKV_BOOT_TAG_TO_EPHEMERAL 0x42540001u   /**< s -> s', level 0, q_0 p_0 */
#define HEKV_BOOT_TAG_FROM_EPHEMERAL 0x42540002u /**< s' -> s at the top level */

/** A bootstrapping literal (unchecked, STYLE R13). The CKKS set's primes are read top
 *  down: cts_levels CoeffToSlot primes, evalmod_unit * (cosine depth + double_angles)
 *  EvalMod primes, stc_levels SlotToCoeff primes; what is left below is the user's. */
typedef struct hekv_boot_lit {
    char name[32];     /**< the bootstrapping set's name */
    char params[32];   /**< the CKKS set it runs on (hekv_ckks_params_lit_named) */
    int log_slots;     /**< n = 2^log_slots complex slots, 1 .. logN - 1 */
    int cts_levels;    /**< CoeffToSlot levels, 1 .. 16 (levels beyond the log_slots
                            radix-2 stages are constant: a set laid out for many slots
                            serves few) */
    int stc_levels;    /**< SlotToCoeff levels, as cts_levels */
    int evalmod_unit;  /**< primes per EvalMod level (1, or 2: a ~2^60 scale from two
                            ~30-bit primes) */
    int log_ratio;     /**< q_0 / scale at ModRaise = 2^log_ratio (5 .. 20) */
    int ephemeral_hw;  /**< weight h of the ephemeral secret, 1 .. 64 */
    double k;          /**< EvalMod interval [-K, K]; 0: (h + 1) / 2 + 1/4 */
    int double_angles; /**< double-angle steps r, 0 .. 6 */
    int cos_degree;    /**< degree of the cosine series; 0: the least depth that reaches
                            2^-log_cos_tol on [-K, K] (the largest degree of that depth) */
    int double_hoist;  /**< 1: the transforms with double hoisting (HEKV_LT_HOIST_DOUBLE);
                            0: single hoisting, measured faster here (DESIGN.md) */
    int log_cos_tol;   /**< 0: 44 (the double coefficients, amplified 4^r by the double
                            angles, allow little more) */
} hekv_boot_lit;

/** The built-in bootstrapping sets: "boot-N16" (its CKKS set N16-boot, 128-bit), "toy-boot-
 *  N12", "toy-boot-N13-sparse" (insecure toys of the same code paths for the fast tests).
 *  @return HEKV_ERR_ARG for an unknown name */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_boot_lit_named(const char *name, hekv_boot_lit *lit,
                                                        hekv_err *err);
HEKV_API const char *const *hekv_boot_names(void);

typedef struct hekv_boot hekv_boot;

/** Plans bootstrapping on p (which must be the set lit->params names, or a set of the
 *  same shape): checks the level budget, designs the EvalMod series and encodes the
 *  CoeffToSlot and SlotToCoeff plaintexts (memory: hekv_boot_bytes).
 *  @return HEKV_ERR_ARG (literal), HEKV_ERR_PARAMS (too few levels for the plan, no
 *          special prime for the encapsulation key), HEKV_ERR_NOMEM */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_boot_new(const hekv_ckks_params *p,
                                                  const hekv_boot_lit *lit, hekv_boot **out,
                                                  hekv_err *err);
HEKV_API void hekv_boot_free(hekv_boot *b);

/** Adds every key the plan uses to r (a request of b's parameter set). */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_boot_keyreq(const hekv_boot *b, hekv_ckks_keyreq *r,
                                                     hekv_err *err);

/** The literal's name, and the slot count of the messages it bootstraps. */
HEKV_API const char *hekv_boot_lit_name(const hekv_boot *b);
HEKV_API size_t hekv_boot_slots(const hekv_boot *b);
/** The level of every output (the levels left to the user: 0 .. level_out). */
HEKV_API int hekv_boot_level_out(const hekv_boot *b);
/** Levels the steps consume, top down. */
HEKV_API int hekv_boot_levels_cts(const hekv_boot *b);
HEKV_API int hekv_boot_levels_evalmod(const hekv_boot *b);
HEKV_API int hekv_boot_levels_stc(const hekv_boot *b);
/** Bytes of the encoded CoeffToSlot/SlotToCoeff plaintexts. */
HEKV_API size_t hekv_boot_bytes(const hekv_boot *b);
/** The EvalMod design: the cosine series' degree, K, and its max error on [-K, K]. */
HEKV_API int hekv_boot_cos_degree(const hekv_boot *b);
HEKV_API double hekv_boot_k(const hekv_boot *b);
HEKV_API double hekv_boot_cos_error(const hekv_boot *b);

/** What one bootstrapping did, per stage: key switches and ModDowns (from the evaluator's
 *  counters) and wall time. */
typedef enum {
    HEKV_BOOT_STAGE_MODRAISE = 0, /**< ScaleDown, encapsulation, ModRaise, switch back */
    HEKV_BOOT_STAGE_TRACE,
    HEKV_BOOT_STAGE_CTS,          /**< CoeffToSlot and the real split */
    HEKV_BOOT_STAGE_EVALMOD,
    HEKV_BOOT_STAGE_STC,
    HEKV_BOOT_STAGES
} hekv_boot_stage;

typedef struct hekv_boot_stats {
    uint64_t keyswitches[HEKV_BOOT_STAGES];
    uint64_t moddowns[HEKV_BOOT_STAGES];
    double seconds[HEKV_BOOT_STAGES];
} hekv_boot_stats;

/** The key switches one hekv_boot_eval performs, by the plan's formula (stage by stage:
 *  2 for the encapsulation, log2(N/2n) for the trace, the rotations of each CoeffToSlot
 *  and SlotToCoeff level plus the conjugation and the repack rotation, the
 *  relinearisations of EvalMod). */
HEKV_API void hekv_boot_expected(const hekv_boot *b, hekv_boot_stats *st);

/** out = a fresh encryption of in's message at hekv_boot_level_out and the set's default
 *  scale. in: any level, hekv_boot_slots(b) slots, its message within [-1, 1] (larger
 *  values lose precision as |m| q_0 / scale approaches 1). ev must hold the keys of
 *  hekv_boot_keyreq (a missing one is HEKV_ERR_KEY_MISSING naming it). st (may be NULL)
 *  receives the per-stage counts. out may alias in.
 *  @return HEKV_ERR_ARG (slots, empty), HEKV_ERR_PARAMS, HEKV_ERR_SCALE (a level-0 input
 *          whose q_0 / scale is below 2^5), HEKV_ERR_KEY_MISSING, the evaluator's */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_boot_eval(const hekv_boot *b, hekv_eval *ev,
                                                   hekv_ct *out, const hekv_ct *in,
                                                   hekv_boot_stats *st);

/** Two real vectors in one bootstrapping: x and y (real messages, same level, scale and
 *  slots) are packed as x + i y, bootstrapped once, and split (one conjugation): outx and
 *  outy as hekv_boot_eval's output. */
HEKV_API HEKV_MUST_CHECK hekv_status hekv_boot_eval_real2(const hekv_boot *b, hekv_eval *ev,
                                                         hekv_ct *outx, hekv_ct *outy,
                                                         const hekv_ct *x, const hekv_ct *y,
                                                         hekv_boot_stats *st);

#ifdef __cplusplus
}
#endif
#endif
