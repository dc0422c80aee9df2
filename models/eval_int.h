/* eval_int.h (internal to models/): what the evaluation drivers share, perplexity
 * (eval.c) and LAMBADA (lambada.c): argument checks, the thread count and the per-thread
 * forward states, made before any parallel region (STYLE R11). */
#ifndef HEKV_MODELS_EVAL_INT_H
#define HEKV_MODELS_EVAL_INT_H

#include "hekv/llama.h"

/* The checks every driver makes: model, tokenizer and options present, the tokenizer's
 * vocabulary the model's, a calibration only with the float64 forward. who names the
 * caller in messages. */
HEKV_MUST_CHECK hekv_status hekv__eval_check(const hekv_llama_model *m,
                                             const hekv_llama_tokenizer *tok,
                                             const hekv_llama_eval_opts *o, const char *who,
                                             hekv_err *err);
/* Threads for `jobs` independent jobs: want (<= 0: 1), at most 256 and at most jobs. */
int hekv__eval_threads(int want, int64_t jobs);
/* nt states of o's precision in st[0..nt) and, when o->calib is set, one calibration each
 * in cal[0..nt) attached to them; all or nothing (the caller frees with
 * hekv__eval_workers_free whatever was made). */
HEKV_MUST_CHECK hekv_status hekv__eval_workers_new(const hekv_llama_model *m,
                                                   const hekv_llama_eval_opts *o, int nt,
                                                   hekv_llama_state **st,
                                                   hekv_llama_calib **cal, hekv_err *err);
/* Frees nt states and calibrations (either array may be NULL) and the arrays. */
void hekv__eval_workers_free(int nt, hekv_llama_state **st, hekv_llama_calib **cal);

#endif
