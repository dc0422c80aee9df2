/* fuzz.h: shared harness of the libFuzzer targets of the file loaders (make fuzz). Each
 * target feeds its input to the loaders twice: as given (almost always stopped by the
 * checksum) and "resealed", with the length field and the BLAKE2b checksum recomputed, so
 * the fuzzer reaches the field validation behind the checksum as a forger would. A load
 * that succeeds must save back to the same bytes (the format is canonical); anything else
 * that goes wrong is a crash for libFuzzer to report. Harness code, not part of the
 * library: static state is fine here. */
#ifndef HEKV_FUZZ_H
#define HEKV_FUZZ_H

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hekv/ckks.h"
#include "hekv/ckks_client.h"

#define FUZZ_HDR 64
#define FUZZ_SUM 32

/* The fixed parameter set every loader is called with: toy-N12, built once. */
static hekv_ckks_params *fuzz_params(void) {
    static hekv_ckks_params *p;
    if (!p) {
        hekv_ckks_params_lit lit;
        hekv_err err;
        if (hekv_ckks_params_lit_named("toy-N12", &lit, &err) != HEKV_OK) abort();
        const hekv_ckks_opts one = {.threads = 1};
        if (hekv_ckks_params_new(&lit, &one, &p, &err) != HEKV_OK) abort();
        if (sodium_init() < 0) abort();
    }
    return p;
}

/* A copy of d with a consistent length field and checksum (NULL when too short). */
static uint8_t *fuzz_reseal(const uint8_t *d, size_t n) {
    if (n < FUZZ_HDR + FUZZ_SUM) return NULL;
    uint8_t *b = malloc(n);
    if (!b) abort();
    memcpy(b, d, n);
    for (int i = 0; i < 8; i++) b[8 + i] = (uint8_t)((uint64_t)n >> (8 * i));
    crypto_generichash(b + n - FUZZ_SUM, FUZZ_SUM, b, n - FUZZ_SUM, NULL, 0);
    return b;
}

/* Aborts unless a successful load saved back to the input: equal except the set-name field
 * (informative only, `skip_name`) and therefore the checksum. Frees out. */
static void fuzz_check_resave(const uint8_t *in, size_t n, hekv_buf *saved, int skip_name) {
    uint8_t *out = saved->data;
    size_t m = saved->len;
    if (m != n) abort();
    size_t cmp_end = n - FUZZ_SUM;
    if (skip_name) {
        if (memcmp(in, out, 32) || memcmp(in + 64, out + 64, cmp_end - 64)) abort();
    } else if (memcmp(in, out, cmp_end)) {
        abort();
    }
    hekv_buf_free(saved);
}

/* Runs one loader on the input as given and resealed. */
static void fuzz_both(const uint8_t *d, size_t n, void (*load)(const uint8_t *, size_t)) {
    load(d, n);
    uint8_t *b = fuzz_reseal(d, n);
    if (b) {
        load(b, n);
        free(b);
    }
}

#endif
