/* fuzz.h: shared harness of the libFuzzer targets of the file loaders (make fuzz). The
 * binary targets (CKKS objects, K/V caches) feed their input to the loaders twice: as given
 * (almost always stopped by the checksum) and "resealed", with the length field and the
 * BLAKE2b checksum recomputed, so the fuzzer reaches the field validation behind the
 * checksum as a forger would. A load that succeeds must save back to the same bytes (the
 * format is canonical); the text and model formats, which have no checksum, are parsed as
 * given and exercised by their own target (round trip through the library's writer,
 * queries, a forward pass). Every failure must carry a message and leave nothing
 * allocated; anything else that goes wrong is an abort() for libFuzzer to report.
 * Harness code, not part of the library: static state is fine here. */
#ifndef HEKV_FUZZ_H
#define HEKV_FUZZ_H

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hekv/ckks.h"
#include "hekv/ckks_client.h"

#define FUZZ_HDR 64
#define FUZZ_SUM 32
#define FUZZ_TYPE_AT 6 /* the container's object-type byte (src/base/container.h) */

/* Aborts unless a failed call (st != HEKV_OK) left a message and no object. */
#define FUZZ_FAILED_CLEANLY(st, err, obj)                              \
    do {                                                               \
        if ((st) != HEKV_OK && (!(err).msg[0] || (obj))) abort();      \
    } while (0)

/* A failed call repeated without an error record (every err argument may be NULL) must
 * fail with the same status and leave nothing: `call` writes its object to `again`. */
#define FUZZ_AGAIN_WITHOUT_ERR(st, type, call)                         \
    do {                                                               \
        if ((st) != HEKV_OK) {                                         \
            type *again = NULL;                                        \
            if ((call) != (st) || again) abort();                      \
        }                                                              \
    } while (0)

/* Reports what broke (with the library's message, if any) and aborts. */
static inline void fuzz_fail(const char *what, const hekv_err *err) {
    fprintf(stderr, "fuzz: %s%s%s\n", what, err && err->msg[0] ? ": " : "",
            err ? err->msg : "");
    abort();
}

/* The fixed parameter set every CKKS loader is called with: toy-N12, built once. */
static inline hekv_ckks_params *fuzz_params(void) {
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

/* Writes a consistent length field and checksum into the container b[0..n) in place. */
static inline void fuzz_seal(uint8_t *b, size_t n) {
    for (int i = 0; i < 8; i++) b[8 + i] = (uint8_t)((uint64_t)n >> (8 * i));
    crypto_generichash(b + n - FUZZ_SUM, FUZZ_SUM, b, n - FUZZ_SUM, NULL, 0);
}

/* A copy of d with a consistent length field and checksum (NULL when too short). */
static inline uint8_t *fuzz_reseal(const uint8_t *d, size_t n) {
    if (n < FUZZ_HDR + FUZZ_SUM) return NULL;
    uint8_t *b = malloc(n);
    if (!b) abort();
    memcpy(b, d, n);
    fuzz_seal(b, n);
    return b;
}

/* Aborts unless a successful load saved back to the input: equal except the set-name field
 * (informative only, `skip_name`) and therefore the checksum. Frees saved. */
static inline void fuzz_check_resave(const uint8_t *in, size_t n, hekv_buf *saved,
                                     int skip_name) {
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

/* Runs one loader on the input as given and resealed (the resealed copy only when it
 * differs: a valid input is loaded once). */
static inline void fuzz_both(const uint8_t *d, size_t n, void (*load)(const uint8_t *, size_t)) {
    load(d, n);
    uint8_t *b = fuzz_reseal(d, n);
    if (b) {
        if (memcmp(b, d, n)) load(b, n);
        free(b);
    }
}

/* A per-process scratch file name for the text formats' round trips through their
 * writers (which take a path): in /dev/shm when it is there (no disk traffic for the
 * writer's fsync), else in the temporary folder; removed at exit. */
static char fuzz_tmp_file[256];
static void fuzz_tmp_remove(void) {
    if (fuzz_tmp_file[0]) unlink(fuzz_tmp_file);
}
static inline const char *fuzz_tmp_path(const char *ext) {
    if (!fuzz_tmp_file[0]) {
        struct stat sb;
        const char *dir = getenv("TMPDIR");
        if (stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) && access("/dev/shm", W_OK) == 0)
            dir = "/dev/shm";
        else if (!dir || !*dir)
            dir = "/tmp";
        snprintf(fuzz_tmp_file, sizeof fuzz_tmp_file, "%s/hekv-fuzz-%ld.%s", dir,
                 (long)getpid(), ext);
        atexit(fuzz_tmp_remove);
    }
    return fuzz_tmp_file;
}

#endif
