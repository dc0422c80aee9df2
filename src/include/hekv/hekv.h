/* hekv/hekv.h: the umbrella header for library users: the whole public API in one include
 * (`#include <hekv/hekv.h>`, flags from `pkg-config --cflags --libs hekv`):
 *   hekv/base.h         status codes, errors, buffers, the file calls
 *   hekv/ckks.h         CKKS: parameters, encoder, evaluation, public keys, serialization
 *   hekv/ckks_client.h  the secret key: key generation, encryption, decryption
 *   hekv/pack.h         Cachemir packing: IRP products, the encrypted K/V cache
 *   hekv/llama.h        llama2.c models, tokenizer, the plaintext reference engine
 *   hekv/llama_approx.h the nonlinearity designs behind the FHE simulation
 * Server programs include the headers they need without hekv/ckks_client.h. Nothing below
 * the CKKS layer (rings, kernels) is part of the API. */
#ifndef HEKV_H
#define HEKV_H

#include "hekv/base.h"
#include "hekv/ckks.h"
#include "hekv/ckks_client.h"
#include "hekv/pack.h"
#include "hekv/llama.h"
#include "hekv/llama_approx.h"

#endif
