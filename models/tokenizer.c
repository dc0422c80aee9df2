/* tokenizer.c: llama2.c's tokenizer.bin format and its BPE encoder/decoder, producing the
 * same ids as llama2.c run.c's encode() (dummy-prefix space, UTF-8 code points, byte
 * fallback <0xXX> at ids 3 + byte, best-score merges with leftmost ties) and the same text as
 * its decode(). The merge loop uses a heap over adjacent pairs instead of run.c's quadratic
 * rescans, which picks the same pair at every step, so long evaluation texts encode fast.
 *
 * It deliberately does not implement sentencepiece's normalisation, unigram models or the
 * newer llama2.c/llama3 tiktoken formats. Duplicate pieces resolve to the lowest id. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hekv/llama.h"
#include "src/base/base.h"
#include "src/base/codec.h"

/* run.c starts its best score at -1e10: pairs scoring no better are never merged. */
#define MERGE_SCORE_FLOOR -1e10

struct hekv_llama_tokenizer {
    int vocab_size;
    int max_token_length;
    char **pieces;      /* [V] NUL-terminated, into text */
    int *lens;          /* [V] */
    float *scores;      /* [V] */
    int *byte_of;       /* [V] raw byte of a "<0xXX>" piece, else -1 */
    char *text;         /* all pieces, each followed by NUL */
    int *table;         /* open-addressing hash: piece -> lowest id, -1 empty */
    size_t table_mask;
    unsigned char byte_pieces[512]; /* byte b as the string {b, 0} at 2*b */
};

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* id of the piece equal to s[0..n), or -1. */
static int lookup(const hekv_llama_tokenizer *t, const char *s, size_t n) {
    size_t i = (size_t)hash_bytes(s, n) & t->table_mask;
    for (;;) {
        int id = t->table[i];
        if (id < 0) return -1;
        if ((size_t)t->lens[id] == n && memcmp(t->pieces[id], s, n) == 0) return id;
        i = (i + 1) & t->table_mask;
    }
}

static int parse_byte_piece(const char *p, int len) {
    if (len != 6 || memcmp(p, "<0x", 3) != 0 || p[5] != '>') return -1;
    int v = 0;
    for (int i = 3; i < 5; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0'
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
              : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

void hekv_llama_tokenizer_free(hekv_llama_tokenizer *t) {
    if (!t) return;
    free(t->pieces);
    free(t->lens);
    free(t->scores);
    free(t->byte_of);
    free(t->text);
    free(t->table);
    free(t);
}

hekv_status hekv_llama_tokenizer_parse(const uint8_t *data, size_t size, int vocab_size,
                                       hekv_llama_tokenizer **out, hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_tokenizer_parse: out is NULL");
    *out = NULL;
    if (!data && size)
        return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_tokenizer_parse: NULL data");
    /* at least <unk>, <s>, </s>: the encoder emits BOS (1) and EOS (2) and merges BOS with
     * the pieces after it, reading its piece (a smaller vocabulary read past its tables) */
    if (vocab_size < HEKV_LLAMA_TOKEN_EOS + 1 || vocab_size > HEKV_LLAMA_MAX_VOCAB)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "hekv_llama_tokenizer_parse: vocab_size %d is not in [%d, %d] (a "
                            "llama2.c vocabulary starts with <unk>, <s>, </s>)",
                            vocab_size, HEKV_LLAMA_TOKEN_EOS + 1, HEKV_LLAMA_MAX_VOCAB);
    if (size < 4)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "tokenizer is %zu bytes, shorter than its 4-byte header "
                            "(truncated or not a llama2.c tokenizer)",
                            size);
    hekv_rd r;
    hekv_rd_init(&r, data, size);
    const int32_t mtl = hekv_rd_i32(&r);
    if (mtl < 1 || mtl > HEKV_LLAMA_MAX_TOKEN_LEN)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "tokenizer: max_token_length = %d is not in [1, %d] (not a "
                            "llama2.c tokenizer, or a corrupted header)",
                            (int)mtl, HEKV_LLAMA_MAX_TOKEN_LEN);
    hekv_status st = HEKV_OK;
    const size_t V = (size_t)vocab_size;
    hekv_llama_tokenizer *t = calloc(1, sizeof *t);
    if (!t || !(t->pieces = calloc(V, sizeof *t->pieces)) ||
        !(t->lens = calloc(V, sizeof *t->lens)) || !(t->scores = calloc(V, sizeof *t->scores)) ||
        !(t->byte_of = calloc(V, sizeof *t->byte_of)) || !(t->text = malloc(size + V))) {
        st = hekv_err_set(err, HEKV_ERR_NOMEM, "out of memory reading a tokenizer");
        goto done;
    }
    t->vocab_size = vocab_size;
    t->max_token_length = mtl;
    /* Pass over the entries: scores, lengths, bytes, with the exact-size rule. */
    size_t toff = 0;
    for (size_t i = 0; i < V; i++) {
        if (!hekv_rd_has(&r, 8)) {
            st = hekv_err_set(err, HEKV_ERR_FORMAT,
                              "tokenizer ends at byte %zu inside the header of token %zu of "
                              "%zu: truncated, or made for a smaller vocabulary than the "
                              "model's vocab_size %zu",
                              size, i, V, V);
            goto done;
        }
        const float score = hekv_rd_f32(&r);
        const int32_t len = hekv_rd_i32(&r);
        if (!isfinite(score)) {
            st = hekv_err_set(err, HEKV_ERR_FORMAT,
                              "tokenizer: token %zu has a non-finite score (corrupted file)", i);
            goto done;
        }
        if (len < 0 || len > mtl) {
            st = hekv_err_set(err, HEKV_ERR_FORMAT,
                              "tokenizer: token %zu has length %d, outside [0, "
                              "max_token_length = %d] (corrupted file)",
                              i, (int)len, (int)mtl);
            goto done;
        }
        const size_t at = r.off;
        const uint8_t *piece = hekv_rd_skip(&r, (size_t)len);
        if (!piece) {
            st = hekv_err_set(err, HEKV_ERR_FORMAT,
                              "tokenizer is truncated: token %zu of %zu needs %d bytes at "
                              "offset %zu but the file is %zu bytes",
                              i, V, (int)len, at, size);
            goto done;
        }
        if (memchr(piece, 0, (size_t)len)) {
            st = hekv_err_set(err, HEKV_ERR_FORMAT,
                              "tokenizer: token %zu contains a NUL byte (corrupted file)", i);
            goto done;
        }
        memcpy(t->text + toff, piece, (size_t)len);
        t->text[toff + (size_t)len] = '\0';
        t->pieces[i] = t->text + toff; /* text is not reallocated: pointers stay valid */
        t->lens[i] = len;
        t->scores[i] = score;
        t->byte_of[i] = parse_byte_piece(t->pieces[i], len);
        toff += (size_t)len + 1;
    }
    if (r.off != size) {
        st = hekv_err_set(err, HEKV_ERR_FORMAT,
                          "tokenizer has %zu bytes after its %zu tokens: it has more tokens "
                          "than the model's vocab_size (wrong tokenizer for this model?) or "
                          "trailing garbage",
                          size - r.off, V);
        goto done;
    }
    size_t cap = 16;
    while (cap < 2 * V) cap <<= 1;
    if (!(t->table = malloc(cap * sizeof *t->table))) {
        st = hekv_err_set(err, HEKV_ERR_NOMEM, "out of memory reading a tokenizer");
        goto done;
    }
    t->table_mask = cap - 1;
    for (size_t i = 0; i < cap; i++) t->table[i] = -1;
    for (size_t id = 0; id < V; id++) {
        size_t h = (size_t)hash_bytes(t->pieces[id], (size_t)t->lens[id]) & t->table_mask;
        int dup = 0;
        while (t->table[h] >= 0) {
            int o = t->table[h];
            if (t->lens[o] == t->lens[id] &&
                !memcmp(t->pieces[o], t->pieces[id], (size_t)t->lens[id])) {
                dup = 1; /* keep the lowest id */
                break;
            }
            h = (h + 1) & t->table_mask;
        }
        if (!dup) t->table[h] = (int)id;
    }
    for (int b = 0; b < 256; b++) {
        t->byte_pieces[2 * b] = (unsigned char)b;
        t->byte_pieces[2 * b + 1] = 0;
    }
done:
    if (st != HEKV_OK) {
        hekv_llama_tokenizer_free(t);
        return st;
    }
    *out = t;
    return HEKV_OK;
}

hekv_status hekv_llama_tokenizer_load(const char *path, int vocab_size,
                                      hekv_llama_tokenizer **out, hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_tokenizer_load: out is NULL");
    *out = NULL;
    if (!path) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_tokenizer_load: path is NULL");
    if (vocab_size < HEKV_LLAMA_TOKEN_EOS + 1 || vocab_size > HEKV_LLAMA_MAX_VOCAB)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "hekv_llama_tokenizer_load: vocab_size %d is not in [%d, %d]",
                            vocab_size, HEKV_LLAMA_TOKEN_EOS + 1, HEKV_LLAMA_MAX_VOCAB);
    hekv_buf b = {0};
    hekv_status st = hekv_file_read(path, HEKV_LLAMA_TOKENIZER_MAX_BYTES, &b, err);
    const int read = st == HEKV_OK;
    if (read) {
        st = hekv_llama_tokenizer_parse(b.data, b.len, vocab_size, out, err);
        hekv_buf_free(&b);
    }
    if (st != HEKV_OK && err) {
        /* hekv_file_read's message names the path, a parse message the file kind */
        char tmp[HEKV_ERR_MSG_LEN];
        snprintf(tmp, sizeof tmp, "%s", err->msg);
        hekv_err_set(err, st, "%s: %s", read ? path : "tokenizer", tmp);
    }
    return st;
}

int hekv_llama_tokenizer_vocab_size(const hekv_llama_tokenizer *t) {
    return t ? t->vocab_size : 0;
}

const char *hekv_llama_tokenizer_piece(const hekv_llama_tokenizer *t, int id) {
    if (!t || id < 0 || id >= t->vocab_size) return "";
    return t->pieces[id];
}

const char *hekv_llama_tokenizer_decode(const hekv_llama_tokenizer *t, int prev, int token,
                                        size_t *len_out) {
    if (len_out) *len_out = 0;
    if (!t || token < 0 || token >= t->vocab_size) return "";
    if (t->byte_of[token] >= 0) {
        if (len_out) *len_out = 1;
        return (const char *)t->byte_pieces + 2 * t->byte_of[token];
    }
    const char *p = t->pieces[token];
    size_t n = (size_t)t->lens[token];
    /* After BOS, sentencepiece's decoder drops the leading space (run.c PR #89). */
    if (prev == HEKV_LLAMA_TOKEN_BOS && p[0] == ' ') {
        p++;
        n--;
    }
    if (len_out) *len_out = n;
    return p;
}

/* ---------------------------------------------------------------------------------------
 * Encoding
 * ------------------------------------------------------------------------------------- */

typedef struct {
    float score;
    int i, j;     /* left and right position in the linked list */
    int lt, rt;   /* their tokens when the pair was pushed (staleness check) */
    int id;       /* merged token */
} merge_cand;

/* a pops before b: higher score, then leftmost (run.c's scan order). */
static inline int cand_before(const merge_cand *a, const merge_cand *b) {
    return a->score > b->score || (a->score == b->score && a->i < b->i);
}

typedef struct {
    merge_cand *v;
    size_t n, cap;
} cand_heap;

static int heap_push(cand_heap *h, merge_cand c) {
    if (h->n == h->cap) {
        size_t nc = h->cap ? 2 * h->cap : 256;
        merge_cand *nv = realloc(h->v, nc * sizeof *nv);
        if (!nv) return 0;
        h->v = nv;
        h->cap = nc;
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!cand_before(&c, &h->v[p])) break;
        h->v[i] = h->v[p];
        i = p;
    }
    h->v[i] = c;
    return 1;
}

static merge_cand heap_pop(cand_heap *h) {
    merge_cand top = h->v[0], last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, b = i;
        const merge_cand *best = &last;
        if (l < h->n && cand_before(&h->v[l], best)) { b = l; best = &h->v[l]; }
        if (r < h->n && cand_before(&h->v[r], best)) { b = r; }
        if (b == i) break;
        h->v[i] = h->v[b];
        i = b;
    }
    if (h->n) h->v[i] = last;
    return top;
}

/* Pushes the merge of positions i, j if it exists in the vocab. 0 on allocation failure. */
static int push_pair(const hekv_llama_tokenizer *t, cand_heap *h, char *buf, const int *tok,
                     int i, int j) {
    int a = tok[i], b = tok[j];
    size_t la = (size_t)t->lens[a], lb = (size_t)t->lens[b];
    memcpy(buf, t->pieces[a], la);
    memcpy(buf + la, t->pieces[b], lb);
    int id = lookup(t, buf, la + lb);
    if (id < 0 || !((double)t->scores[id] > MERGE_SCORE_FLOOR)) return 1;
    merge_cand c = {t->scores[id], i, j, a, b, id};
    return heap_push(h, c);
}

hekv_status hekv_llama_tokenizer_encode(const hekv_llama_tokenizer *t, int *tokens, size_t cap,
                                        size_t *n_tokens, const char *text, size_t len,
                                        int bos, int eos, hekv_err *err) {
    if (n_tokens) *n_tokens = 0;
    if (!t || !tokens || !n_tokens || (!text && len))
        return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_tokenizer_encode: NULL argument");
    if (len > (size_t)INT32_MAX - 8)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "hekv_llama_tokenizer_encode: text of %zu bytes is too long", len);
    hekv_status st = HEKV_OK;
    const size_t nmax = len + 3;
    int *tok = malloc(nmax * sizeof *tok);
    int *next = malloc(nmax * sizeof *next);
    int *prev = malloc(nmax * sizeof *prev);
    char *buf = malloc(2 * (size_t)t->max_token_length + 8);
    cand_heap heap = {0};
    if (!tok || !next || !prev || !buf) {
        st = hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_tokenizer_encode: out of memory");
        goto done;
    }
    /* 1. BOS, dummy prefix, code points or their bytes (run.c's first pass). */
    int n = 0;
    if (bos) tok[n++] = HEKV_LLAMA_TOKEN_BOS;
    if (len > 0) {
        int sp = lookup(t, " ", 1);
        if (sp < 0) sp = ' ' + 3; /* no " " piece: its byte token */
        if (sp >= t->vocab_size) {
            st = hekv_err_set(err, HEKV_ERR_ARG,
                              "tokenizer has neither a \" \" piece nor byte tokens; it cannot "
                              "encode the dummy prefix");
            goto done;
        }
        tok[n++] = sp;
    }
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        /* A code point: a non-continuation byte and up to 3 continuation bytes after it
         * (a stray continuation byte stands alone). */
        size_t start = i, cl = 1;
        i++;
        while (i < len && (s[i] & 0xC0) == 0x80 && cl < 4) {
            i++;
            cl++;
        }
        int id = lookup(t, text + start, cl);
        if (id >= 0) {
            tok[n++] = id;
        } else {
            for (size_t k = start; k < start + cl; k++) {
                int b = (int)s[k] + 3; /* ids 0..2 are <unk>, <s>, </s> */
                if (b >= t->vocab_size) {
                    st = hekv_err_set(err, HEKV_ERR_ARG,
                                      "byte 0x%02X at offset %zu has no piece and the "
                                      "vocabulary (%d tokens) has no byte-fallback tokens",
                                      s[k], k, t->vocab_size);
                    goto done;
                }
                tok[n++] = b;
            }
        }
    }
    /* 2. Merges: always the best-scoring adjacent pair, leftmost on ties. */
    for (int k = 0; k < n; k++) {
        prev[k] = k - 1;
        next[k] = k + 1 < n ? k + 1 : -1;
    }
    for (int k = 0; k + 1 < n; k++) {
        if (!push_pair(t, &heap, buf, tok, k, k + 1)) {
            st = hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_tokenizer_encode: out of memory");
            goto done;
        }
    }
    while (heap.n > 0) {
        merge_cand c = heap_pop(&heap);
        /* A candidate is stale once either side was merged away or changed. Positions that
         * died have next/prev unlinked; tok[] of a live position only grows. */
        if (tok[c.i] != c.lt || tok[c.j] != c.rt || next[c.i] != c.j || prev[c.j] != c.i)
            continue;
        tok[c.i] = c.id;
        int nj = next[c.j];
        next[c.i] = nj;
        if (nj >= 0) prev[nj] = c.i;
        next[c.j] = prev[c.j] = -2; /* dead */
        tok[c.j] = -1;
        if ((prev[c.i] >= 0 && !push_pair(t, &heap, buf, tok, prev[c.i], c.i)) ||
            (nj >= 0 && !push_pair(t, &heap, buf, tok, c.i, nj))) {
            st = hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_tokenizer_encode: out of memory");
            goto done;
        }
    }
    /* 3. Collect and append EOS. */
    size_t m = 0;
    for (int k = n > 0 ? 0 : -1; k >= 0; k = next[k]) m++;
    if (m + (eos ? 1 : 0) > cap) {
        st = hekv_err_set(err, HEKV_ERR_ARG,
                          "hekv_llama_tokenizer_encode: %zu tokens do not fit the capacity %zu "
                          "(len + 3 always suffices)",
                          m + (eos ? 1 : 0), cap);
        goto done;
    }
    m = 0;
    for (int k = n > 0 ? 0 : -1; k >= 0; k = next[k]) tokens[m++] = tok[k];
    if (eos) tokens[m++] = HEKV_LLAMA_TOKEN_EOS;
    *n_tokens = m;
done:
    free(tok);
    free(next);
    free(prev);
    free(buf);
    free(heap.v);
    return st;
}
