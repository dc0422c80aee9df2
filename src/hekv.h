/* hekv.h: the umbrella header for library users: everything public in one include.
 * With pkg-config (`pkg-config --cflags --libs hekv`) it is `#include <src/hekv.h>`.
 * Layers below it: common (status, errors), ring, CKKS (params, keys, encoder, evaluator,
 * polynomials, serialization), packing (Cachemir layouts, IRP products, K/V cache) and
 * models (llama2.c format, reference engine). Internal headers (*_int.h) are not part of
 * the API. */
#ifndef HEKV_H
#define HEKV_H

#include "common/base.h"
#include "ring/ring.h"
#include "ring/sample.h"
#include "ckks/ckks.h"
#include "../packing/pack.h"
#include "../models/llama.h"

#endif
