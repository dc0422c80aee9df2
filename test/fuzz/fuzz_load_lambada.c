/* fuzz_load_lambada.c: libFuzzer target of the LAMBADA reader: hekv_llama_lambada_parse_line
 * (models/lambada.c) on every line of the input, as hekv_llama_eval_lambada_text splits a
 * file, and the JSON-lines decoder hekv_llama_json_text (models/jsonl.c) on each line too.
 * Each gets a scratch buffer of exactly the documented size (len bytes), so a decoder that
 * writes past it is an ASan report. A passage must be a non-empty context without
 * surrounding whitespace and a non-empty last word without any, both inside the line or the
 * scratch; a decoded "text" fits the line; the plain-text and JSON readings of a line
 * agree. See fuzz.h. */
#include <ctype.h>

#include "hekv/llama.h"
#include "models/jsonl.h"

#include "fuzz.h"

static int inside(const char *p, size_t n, const char *base, size_t len) {
    return p >= base && n <= len && (size_t)(p - base) <= len - n;
}

static int has_space(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (isspace((unsigned char)p[i])) return 1;
    return 0;
}

static void one_line(const char *line, size_t len, int line_no) {
    char *scratch = malloc(len ? len : 1);
    char *json = malloc(len ? len : 1);
    if (!scratch || !json) abort();
    hekv_err err = {0};
    hekv_llama_lambada_line pl;
    hekv_status st = hekv_llama_lambada_parse_line(line, len, line_no, scratch, &pl, &err);
    if (st != HEKV_OK && (st != HEKV_ERR_FORMAT || !err.msg[0])) abort();
    if (st == HEKV_OK) {
        if (pl.kind == HEKV_LLAMA_LAMBADA_PASSAGE) {
            if (!pl.context_len || !pl.target_len) abort();
            if (!(inside(pl.context, pl.context_len, line, len) ||
                  inside(pl.context, pl.context_len, scratch, len)) ||
                !(inside(pl.target, pl.target_len, line, len) ||
                  inside(pl.target, pl.target_len, scratch, len)))
                abort();
            if (isspace((unsigned char)pl.context[0]) ||
                isspace((unsigned char)pl.context[pl.context_len - 1]) ||
                has_space(pl.target, pl.target_len))
                abort();
        } else if (pl.kind == HEKV_LLAMA_LAMBADA_BLANK) {
            if (pl.context || pl.target || pl.context_len || pl.target_len) abort();
        } else if (pl.kind != HEKV_LLAMA_LAMBADA_SKIP) {
            abort();
        }
    }
    err.msg[0] = 0;
    size_t out_len = 0;
    hekv_status js = hekv_llama_json_text(line, len, line_no, json, &out_len, &err);
    if (js == HEKV_OK) {
        if (out_len > len) abort();
    } else if (js != HEKV_ERR_FORMAT || !err.msg[0]) {
        abort();
    }
    /* a line whose first non-blank byte is '{' is read as JSON by both */
    size_t lead = 0;
    while (lead < len && isspace((unsigned char)line[lead])) lead++;
    if (lead < len && line[lead] == '{') {
        if ((st == HEKV_OK) != (js == HEKV_OK)) abort();
        if (js == HEKV_OK && pl.kind == HEKV_LLAMA_LAMBADA_PASSAGE &&
            (!inside(pl.target, pl.target_len, scratch, out_len) ||
             memcmp(pl.target, json + (pl.target - scratch), pl.target_len)))
            abort();
    }
    free(scratch);
    free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    const char *text = (const char *)d;
    int line_no = 0;
    for (size_t at = 0; at < n || (n == 0 && line_no == 0);) {
        const char *ln = text + at;
        const char *nl = n ? memchr(ln, '\n', n - at) : NULL;
        const size_t ll = nl ? (size_t)(nl - ln) : n - at;
        one_line(ln, ll, ++line_no);
        at += ll + (nl ? 1 : 0);
        if (n == 0) break;
    }
    return 0;
}
