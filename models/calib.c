/* calib.c: calibration ranges, i.e. the intervals the inputs of each nonlinearity spanned
 * while the float64 reference ran over real text, and their "hekv-calib 1" text sidecar
 * (writer and validating parser). The encrypted engine sizes its polynomial intervals from
 * these. Files go through hekv_file_read (regular files, a size cap) and hekv_file_write
 * (atomic). It deliberately does not run the model (eval.c drives the reference with a
 * calib attached) and does not pad or widen ranges: margins are the consumer's decision.
 *
 * File format, version 1 (line oriented, UTF-8/ASCII, '#' starts a comment line, blank
 * lines ignored, fields separated by spaces or tabs, numbers in C strtod syntax; the writer
 * prints %.17g so values round-trip exactly):
 *
 *   hekv-calib 1
 *   model dim C hidden_dim H n_layers L n_heads NH n_kv_heads NKV vocab_size V seq_len T
 *   tokens N                                  forward positions recorded
 *   layer l rmsnorm_att LO HI                 mean(x^2) at the attention RMSNorm
 *   layer l attn_score h LO HI                q.k/sqrt(HS) of query head h (NH lines)
 *   layer l softmax_exp_shifted LO HI         s - max(s), the exp argument (HI = 0)
 *   layer l softmax_exp_unshifted LO HI       s itself, over all heads
 *   layer l softmax_sum_shifted LO HI         sum exp(s - max(s)), the 1/x argument
 *   layer l softmax_sum_unshifted LO HI       sum exp(s)
 *   layer l rmsnorm_ffn LO HI                 mean(x^2) at the MLP RMSNorm
 *   layer l silu LO HI                        the SiLU argument (w1 x)_i
 *   final rmsnorm_final LO HI                 mean(x^2) at the final RMSNorm
 *   final logits LO HI
 *   end
 *
 * The first line must be exactly the header; "model" comes before any "layer" line; every
 * entry for l in [0, L) (and h in [0, NH)) appears exactly once, in any order; "end" is
 * last. Values are finite with LO <= HI, mean squares >= 0 and sums > 0. Note that
 * RMSNorm's 1/sqrt argument is mean(x^2) + 1e-5 (HEKV_LLAMA_RMS_EPS). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hekv/llama.h"
#include "src/base/base.h"

#define CALIB_HEADER "hekv-calib 1"

struct hekv_llama_calib {
    hekv_llama_config cfg;
    int64_t tokens;
    hekv_llama_layer_calib *layers; /* [L] */
    hekv_llama_range *scores;       /* [L][NH], behind layers[l].attn_score */
    hekv_llama_final_calib fin;
};

static const hekv_llama_range EMPTY = {INFINITY, -INFINITY};

/* Per-layer scalar entries, in the order the writer prints them around attn_score. */
typedef struct {
    const char *name;
    size_t off;
    int kind; /* 0 free, 1 mean square (>= 0), 2 sum (> 0) */
} entry_desc;

static const entry_desc layer_entries[] = {
    {"rmsnorm_att", offsetof(hekv_llama_layer_calib, rmsnorm_att), 1},
    {"softmax_exp_shifted", offsetof(hekv_llama_layer_calib, softmax_exp_shifted), 0},
    {"softmax_exp_unshifted", offsetof(hekv_llama_layer_calib, softmax_exp_unshifted), 0},
    {"softmax_sum_shifted", offsetof(hekv_llama_layer_calib, softmax_sum_shifted), 2},
    {"softmax_sum_unshifted", offsetof(hekv_llama_layer_calib, softmax_sum_unshifted), 2},
    {"rmsnorm_ffn", offsetof(hekv_llama_layer_calib, rmsnorm_ffn), 1},
    {"silu", offsetof(hekv_llama_layer_calib, silu), 0},
};
#define N_LAYER_ENTRIES (int)(sizeof layer_entries / sizeof layer_entries[0])

static const entry_desc final_entries[] = {
    {"rmsnorm_final", offsetof(hekv_llama_final_calib, rmsnorm_final), 1},
    {"logits", offsetof(hekv_llama_final_calib, logits), 0},
};
#define N_FINAL_ENTRIES (int)(sizeof final_entries / sizeof final_entries[0])

static hekv_llama_range *layer_range(hekv_llama_layer_calib *lc, int e) {
    return (hekv_llama_range *)((char *)lc + layer_entries[e].off);
}
static hekv_llama_range *final_range(hekv_llama_final_calib *fc, int e) {
    return (hekv_llama_range *)((char *)fc + final_entries[e].off);
}

hekv_status hekv_llama_calib_new(const hekv_llama_config *cfg, hekv_llama_calib **out,
                                 hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_calib_new: out is NULL");
    *out = NULL;
    if (!cfg) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_calib_new: cfg is NULL");
    if (cfg->n_layers < 1 || cfg->n_layers > HEKV_LLAMA_MAX_LAYERS || cfg->n_heads < 1 ||
        cfg->n_heads > HEKV_LLAMA_MAX_DIM)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "hekv_llama_calib_new: n_layers %d / n_heads %d out of range",
                            cfg->n_layers, cfg->n_heads);
    hekv_llama_calib *c = calloc(1, sizeof *c);
    const size_t L = (size_t)cfg->n_layers, NH = (size_t)cfg->n_heads;
    if (!c || !(c->layers = calloc(L, sizeof *c->layers)) ||
        !(c->scores = calloc(L * NH, sizeof *c->scores))) {
        hekv_llama_calib_free(c);
        return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_calib_new: out of memory");
    }
    c->cfg = *cfg;
    for (size_t l = 0; l < L; l++) {
        hekv_llama_layer_calib *lc = &c->layers[l];
        for (int e = 0; e < N_LAYER_ENTRIES; e++) *layer_range(lc, e) = EMPTY;
        lc->attn_score = c->scores + l * NH;
        for (size_t h = 0; h < NH; h++) lc->attn_score[h] = EMPTY;
    }
    for (int e = 0; e < N_FINAL_ENTRIES; e++) *final_range(&c->fin, e) = EMPTY;
    *out = c;
    return HEKV_OK;
}

void hekv_llama_calib_free(hekv_llama_calib *c) {
    if (!c) return;
    free(c->layers);
    free(c->scores);
    free(c);
}

static void widen(hekv_llama_range *d, const hekv_llama_range *s) {
    if (s->lo < d->lo) d->lo = s->lo;
    if (s->hi > d->hi) d->hi = s->hi;
}

static int same_model(const hekv_llama_config *a, const hekv_llama_config *b) {
    return a->dim == b->dim && a->hidden_dim == b->hidden_dim && a->n_layers == b->n_layers &&
           a->n_heads == b->n_heads && a->n_kv_heads == b->n_kv_heads &&
           a->vocab_size == b->vocab_size && a->seq_len == b->seq_len;
}

hekv_status hekv_llama_calib_merge(hekv_llama_calib *dst, const hekv_llama_calib *src,
                                   hekv_err *err) {
    if (!dst || !src) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_calib_merge: NULL");
    if (!same_model(&dst->cfg, &src->cfg))
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "hekv_llama_calib_merge: the calibrations are for different models");
    const int L = dst->cfg.n_layers, NH = dst->cfg.n_heads;
    for (int l = 0; l < L; l++) {
        for (int e = 0; e < N_LAYER_ENTRIES; e++)
            widen(layer_range(&dst->layers[l], e),
                  layer_range((hekv_llama_layer_calib *)&src->layers[l], e));
        for (int h = 0; h < NH; h++)
            widen(&dst->layers[l].attn_score[h], &src->layers[l].attn_score[h]);
    }
    for (int e = 0; e < N_FINAL_ENTRIES; e++)
        widen(final_range(&dst->fin, e), final_range((hekv_llama_final_calib *)&src->fin, e));
    dst->tokens += src->tokens;
    return HEKV_OK;
}

const hekv_llama_config *hekv_llama_calib_config(const hekv_llama_calib *c) {
    return c ? &c->cfg : NULL;
}

hekv_llama_layer_calib *hekv_llama_calib_layer(hekv_llama_calib *c, int l) {
    if (!c || l < 0 || l >= c->cfg.n_layers) return NULL;
    return &c->layers[l];
}

hekv_llama_final_calib *hekv_llama_calib_final(hekv_llama_calib *c) {
    return c ? &c->fin : NULL;
}

int64_t hekv_llama_calib_tokens(const hekv_llama_calib *c) { return c ? c->tokens : 0; }

void hekv_llama_calib_add_tokens(hekv_llama_calib *c, int64_t n) {
    if (c) c->tokens += n;
}

/* ---------------------------------------------------------------------------------------
 * Writer
 * ------------------------------------------------------------------------------------- */

static hekv_status check_range(const hekv_llama_range *r, const char *what, int layer,
                               int head, hekv_err *err) {
    if (r->lo <= r->hi && isfinite(r->lo) && isfinite(r->hi)) return HEKV_OK;
    char where[64] = "final";
    if (layer >= 0 && head >= 0)
        snprintf(where, sizeof where, "layer %d head %d", layer, head);
    else if (layer >= 0)
        snprintf(where, sizeof where, "layer %d", layer);
    if (r->lo > r->hi)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "calibration has no data for %s %s: run at least one token through "
                            "the model before saving",
                            where, what);
    return hekv_err_set(err, HEKV_ERR_ARG,
                        "calibration range of %s %s is [%g, %g], not finite: the model "
                        "overflowed on this text",
                        where, what, r->lo, r->hi);
}

hekv_status hekv_llama_calib_save(const hekv_llama_calib *c, const char *path, hekv_err *err) {
    if (!c || !path) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_calib_save: NULL");
    const int L = c->cfg.n_layers, NH = c->cfg.n_heads;
    hekv_status st;
    for (int l = 0; l < L; l++) {
        for (int e = 0; e < N_LAYER_ENTRIES; e++)
            if ((st = check_range(layer_range((hekv_llama_layer_calib *)&c->layers[l], e),
                                  layer_entries[e].name, l, -1, err)) != HEKV_OK)
                return st;
        for (int h = 0; h < NH; h++)
            if ((st = check_range(&c->layers[l].attn_score[h], "attn_score", l, h, err)) !=
                HEKV_OK)
                return st;
    }
    for (int e = 0; e < N_FINAL_ENTRIES; e++)
        if ((st = check_range(final_range((hekv_llama_final_calib *)&c->fin, e),
                              final_entries[e].name, -1, -1, err)) != HEKV_OK)
            return st;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_calib_save: out of memory");
    const hekv_llama_config *m = &c->cfg;
    fprintf(f, CALIB_HEADER "\n");
    fprintf(f, "# hekv calibration: input ranges of the nonlinearities (format: models/calib.c)\n");
    fprintf(f, "model dim %d hidden_dim %d n_layers %d n_heads %d n_kv_heads %d vocab_size %d "
               "seq_len %d\n",
            m->dim, m->hidden_dim, m->n_layers, m->n_heads, m->n_kv_heads, m->vocab_size,
            m->seq_len);
    fprintf(f, "tokens %lld\n", (long long)c->tokens);
    for (int l = 0; l < L; l++) {
        const hekv_llama_layer_calib *lc = &c->layers[l];
        for (int e = 0; e < N_LAYER_ENTRIES; e++) {
            const hekv_llama_range *r = layer_range((hekv_llama_layer_calib *)lc, e);
            fprintf(f, "layer %d %s %.17g %.17g\n", l, layer_entries[e].name, r->lo, r->hi);
            if (e == 0)
                for (int h = 0; h < NH; h++)
                    fprintf(f, "layer %d attn_score %d %.17g %.17g\n", l, h,
                            lc->attn_score[h].lo, lc->attn_score[h].hi);
        }
    }
    for (int e = 0; e < N_FINAL_ENTRIES; e++) {
        const hekv_llama_range *r = final_range((hekv_llama_final_calib *)&c->fin, e);
        fprintf(f, "final %s %.17g %.17g\n", final_entries[e].name, r->lo, r->hi);
    }
    fprintf(f, "end\n");
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || !text) {
        free(text);
        return hekv_err_set(err, HEKV_ERR_NOMEM,
                            "hekv_llama_calib_save: out of memory formatting %s", path);
    }
    st = hekv_file_write(path, (const uint8_t *)text, len, 0, err);
    free(text);
    return st;
}

/* ---------------------------------------------------------------------------------------
 * Parser
 * ------------------------------------------------------------------------------------- */

#define MAX_FIELDS 16

static int parse_i64(const char *s, long long lo, long long hi, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

static int parse_f64(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v)) return 0;
    *out = v;
    return 1;
}

/* Parses "LO HI" and checks it for an entry of this kind. */
static hekv_status parse_range(char **f, int nf, int at, int kind, hekv_llama_range *r,
                               int line, const char *what, hekv_err *err) {
    if (nf != at + 2)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "calibration line %d (%s): expected %d fields, found %d", line, what,
                            at + 2, nf);
    double lo, hi;
    if (!parse_f64(f[at], &lo) || !parse_f64(f[at + 1], &hi))
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "calibration line %d (%s): '%s %s' are not two finite numbers", line,
                            what, f[at], f[at + 1]);
    if (lo > hi)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "calibration line %d (%s): min %.17g > max %.17g", line, what, lo,
                            hi);
    if ((kind == 1 && lo < 0) || (kind == 2 && lo <= 0))
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "calibration line %d (%s): min %.17g is impossible for a %s", line,
                            what, lo, kind == 1 ? "mean square (>= 0)" : "sum of exps (> 0)");
    r->lo = lo;
    r->hi = hi;
    return HEKV_OK;
}

hekv_status hekv_llama_calib_parse(const char *text, size_t len,
                                   const hekv_llama_config *expect, hekv_llama_calib **out,
                                   hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_calib_parse: out is NULL");
    *out = NULL;
    if (!text && len) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_calib_parse: NULL");
    if (len && memchr(text, '\0', len))
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "calibration text contains a NUL byte: not a text file");
    char *buf = malloc(len + 1);
    if (!buf) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_calib_parse: out of memory");
    if (len) memcpy(buf, text, len);
    buf[len] = '\0';
    hekv_status st = HEKV_OK;
    hekv_llama_calib *c = NULL;
    unsigned char *seen = NULL; /* [L][N_LAYER_ENTRIES + NH] then [N_FINAL_ENTRIES] */
    size_t per_layer = 0;
    int line = 0, got_header = 0, got_tokens = 0, got_end = 0;
    char *save = NULL;
    for (char *ln = buf; ln; ln = save) {
        char *nl = strchr(ln, '\n');
        save = nl ? nl + 1 : NULL;
        if (nl) *nl = '\0';
        line++;
        size_t ll = strlen(ln);
        if (ll && ln[ll - 1] == '\r') ln[--ll] = '\0';
        if (!nl && ll == 0) break; /* after the final newline */
        if (!got_header) {
            if (strcmp(ln, CALIB_HEADER) != 0) {
                st = hekv_err_set(err, HEKV_ERR_FORMAT,
                                  strncmp(ln, "hekv-calib ", 11) == 0
                                      ? "calibration line 1 is '%.40s': this build reads "
                                        "format version 1 only"
                                      : "calibration line 1 is '%.40s', not the header '"
                                        CALIB_HEADER "' (not a calibration file)",
                                  ln);
                goto done;
            }
            got_header = 1;
            continue;
        }
        char *f[MAX_FIELDS];
        int nf = 0;
        char *sp = NULL;
        for (char *tok = strtok_r(ln, " \t", &sp); tok; tok = strtok_r(NULL, " \t", &sp)) {
            if (nf == MAX_FIELDS) {
                st = hekv_err_set(err, HEKV_ERR_FORMAT, "calibration line %d has too many fields",
                                  line);
                goto done;
            }
            f[nf++] = tok;
        }
        if (nf == 0 || f[0][0] == '#') continue;
        if (got_end) {
            st = hekv_err_set(err, HEKV_ERR_FORMAT,
                              "calibration line %d: '%s' after 'end'", line, f[0]);
            goto done;
        }
        if (!strcmp(f[0], "model")) {
            static const char *keys[7] = {"dim",        "hidden_dim", "n_layers", "n_heads",
                                          "n_kv_heads", "vocab_size", "seq_len"};
            long long v[7];
            if (c) {
                st = hekv_err_set(err, HEKV_ERR_FORMAT,
                                  "calibration line %d: a second 'model' line", line);
                goto done;
            }
            if (nf != 15) {
                st = hekv_err_set(err, HEKV_ERR_FORMAT,
                                  "calibration line %d: 'model' needs 7 key/value pairs (dim "
                                  "hidden_dim n_layers n_heads n_kv_heads vocab_size seq_len)",
                                  line);
                goto done;
            }
            for (int k = 0; k < 7; k++) {
                if (strcmp(f[1 + 2 * k], keys[k]) != 0 ||
                    !parse_i64(f[2 + 2 * k], 1, INT32_MAX, &v[k])) {
                    st = hekv_err_set(err, HEKV_ERR_FORMAT,
                                      "calibration line %d: expected '%s <positive integer>', "
                                      "found '%s %s'",
                                      line, keys[k], f[1 + 2 * k], f[2 + 2 * k]);
                    goto done;
                }
            }
            int32_t hdr[7];
            for (int k = 0; k < 7; k++) hdr[k] = (int32_t)v[k];
            hekv_llama_config cfg;
            if ((st = hekv_llama_config_from_header(&cfg, hdr, err)) != HEKV_OK) {
                char tmp[HEKV_ERR_MSG_LEN] = "";
                if (err) snprintf(tmp, sizeof tmp, "%s", err->msg);
                st = hekv_err_set(err, HEKV_ERR_FORMAT, "calibration line %d: %s", line, tmp);
                goto done;
            }
            if (expect && !same_model(&cfg, expect)) {
                st = hekv_err_set(err, HEKV_ERR_FORMAT,
                                  "calibration is for a different model (dim %d, %d layers, "
                                  "%d heads, vocab %d, seq_len %d) than the one loaded (dim %d, "
                                  "%d layers, %d heads, vocab %d, seq_len %d): recalibrate with "
                                  "hekv calibrate",
                                  cfg.dim, cfg.n_layers, cfg.n_heads, cfg.vocab_size,
                                  cfg.seq_len, expect->dim, expect->n_layers, expect->n_heads,
                                  expect->vocab_size, expect->seq_len);
                goto done;
            }
            per_layer = (size_t)N_LAYER_ENTRIES + (size_t)cfg.n_heads;
            /* every entry is a line of at least 8 bytes: refuse a header whose model needs
             * more entries than the file could hold before allocating for them */
            const size_t need = (size_t)cfg.n_layers * per_layer + N_FINAL_ENTRIES;
            if (need > len / 8) {
                st = hekv_err_set(err, HEKV_ERR_FORMAT,
                                  "calibration line %d: its model needs %zu entries, more than "
                                  "a %zu-byte file can hold (truncated file?)", line, need, len);
                goto done;
            }
            if ((st = hekv_llama_calib_new(&cfg, &c, err)) != HEKV_OK) goto done;
            seen = calloc((size_t)cfg.n_layers * per_layer + N_FINAL_ENTRIES, 1);
            if (!seen) {
                st = hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_calib_parse: out of memory");
                goto done;
            }
            continue;
        }
        if (!strcmp(f[0], "end")) {
            if (nf != 1) {
                st = hekv_err_set(err, HEKV_ERR_FORMAT, "calibration line %d: 'end' takes no "
                                  "fields", line);
                goto done;
            }
            got_end = 1;
            continue;
        }
        if (!c) {
            st = hekv_err_set(err, HEKV_ERR_FORMAT,
                              "calibration line %d: '%s' before the 'model' line", line, f[0]);
            goto done;
        }
        if (!strcmp(f[0], "tokens")) {
            long long v;
            if (got_tokens || nf != 2 || !parse_i64(f[1], 0, INT64_MAX, &v)) {
                st = hekv_err_set(err, HEKV_ERR_FORMAT,
                                  "calibration line %d: expected one 'tokens <count>' line", line);
                goto done;
            }
            c->tokens = v;
            got_tokens = 1;
            continue;
        }
        if (!strcmp(f[0], "layer")) {
            long long l;
            if (nf < 3 || !parse_i64(f[1], 0, c->cfg.n_layers - 1, &l)) {
                st = hekv_err_set(err, HEKV_ERR_FORMAT,
                                  "calibration line %d: expected 'layer <0..%d> <entry> ...'",
                                  line, c->cfg.n_layers - 1);
                goto done;
            }
            hekv_llama_layer_calib *lc = &c->layers[l];
            unsigned char *sl = seen + (size_t)l * per_layer;
            if (!strcmp(f[2], "attn_score")) {
                long long h;
                if (nf < 4 || !parse_i64(f[3], 0, c->cfg.n_heads - 1, &h)) {
                    st = hekv_err_set(err, HEKV_ERR_FORMAT,
                                      "calibration line %d: expected 'layer %lld attn_score "
                                      "<head 0..%d> LO HI'",
                                      line, l, c->cfg.n_heads - 1);
                    goto done;
                }
                if (sl[N_LAYER_ENTRIES + h]++) {
                    st = hekv_err_set(err, HEKV_ERR_FORMAT,
                                      "calibration line %d: layer %lld attn_score %lld appears "
                                      "twice",
                                      line, l, h);
                    goto done;
                }
                if ((st = parse_range(f, nf, 4, 0, &lc->attn_score[h], line, "attn_score",
                                      err)) != HEKV_OK)
                    goto done;
                continue;
            }
            int e = 0;
            while (e < N_LAYER_ENTRIES && strcmp(f[2], layer_entries[e].name)) e++;
            if (e == N_LAYER_ENTRIES) {
                st = hekv_err_set(err, HEKV_ERR_FORMAT,
                                  "calibration line %d: unknown layer entry '%s'", line, f[2]);
                goto done;
            }
            if (sl[e]++) {
                st = hekv_err_set(err, HEKV_ERR_FORMAT,
                                  "calibration line %d: layer %lld %s appears twice", line, l,
                                  f[2]);
                goto done;
            }
            if ((st = parse_range(f, nf, 3, layer_entries[e].kind, layer_range(lc, e), line,
                                  layer_entries[e].name, err)) != HEKV_OK)
                goto done;
            continue;
        }
        if (!strcmp(f[0], "final")) {
            int e = 0;
            while (nf >= 2 && e < N_FINAL_ENTRIES && strcmp(f[1], final_entries[e].name)) e++;
            if (nf < 2 || e == N_FINAL_ENTRIES) {
                st = hekv_err_set(err, HEKV_ERR_FORMAT,
                                  "calibration line %d: expected 'final rmsnorm_final|logits LO "
                                  "HI'",
                                  line);
                goto done;
            }
            unsigned char *sf = seen + (size_t)c->cfg.n_layers * per_layer;
            if (sf[e]++) {
                st = hekv_err_set(err, HEKV_ERR_FORMAT,
                                  "calibration line %d: final %s appears twice", line, f[1]);
                goto done;
            }
            if ((st = parse_range(f, nf, 2, final_entries[e].kind, final_range(&c->fin, e),
                                  line, final_entries[e].name, err)) != HEKV_OK)
                goto done;
            continue;
        }
        st = hekv_err_set(err, HEKV_ERR_FORMAT, "calibration line %d: unknown keyword '%s'",
                          line, f[0]);
        goto done;
    }
    if (!got_header) {
        st = hekv_err_set(err, HEKV_ERR_FORMAT,
                          "calibration file is empty (expected the header '" CALIB_HEADER "')");
        goto done;
    }
    if (!c) {
        st = hekv_err_set(err, HEKV_ERR_FORMAT, "calibration file has no 'model' line");
        goto done;
    }
    if (!got_end) {
        st = hekv_err_set(err, HEKV_ERR_FORMAT,
                          "calibration file has no 'end' line: it is truncated");
        goto done;
    }
    if (!got_tokens) {
        st = hekv_err_set(err, HEKV_ERR_FORMAT, "calibration file has no 'tokens' line");
        goto done;
    }
    for (int l = 0; l < c->cfg.n_layers; l++) {
        const unsigned char *sl = seen + (size_t)l * per_layer;
        for (int e = 0; e < N_LAYER_ENTRIES; e++)
            if (!sl[e]) {
                st = hekv_err_set(err, HEKV_ERR_FORMAT,
                                  "calibration file lacks 'layer %d %s'", l,
                                  layer_entries[e].name);
                goto done;
            }
        for (int h = 0; h < c->cfg.n_heads; h++)
            if (!sl[N_LAYER_ENTRIES + h]) {
                st = hekv_err_set(err, HEKV_ERR_FORMAT,
                                  "calibration file lacks 'layer %d attn_score %d'", l, h);
                goto done;
            }
    }
    for (int e = 0; e < N_FINAL_ENTRIES; e++)
        if (!seen[(size_t)c->cfg.n_layers * per_layer + e]) {
            st = hekv_err_set(err, HEKV_ERR_FORMAT, "calibration file lacks 'final %s'",
                              final_entries[e].name);
            goto done;
        }
done:
    free(buf);
    free(seen);
    if (st != HEKV_OK) {
        hekv_llama_calib_free(c);
        return st;
    }
    *out = c;
    return HEKV_OK;
}

hekv_status hekv_llama_calib_load(const char *path, const hekv_llama_config *expect,
                                  hekv_llama_calib **out, hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_calib_load: out is NULL");
    *out = NULL;
    if (!path) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_calib_load: path is NULL");
    hekv_buf b = {0};
    hekv_status st = hekv_file_read(path, HEKV_LLAMA_TEXT_MAX_BYTES, &b, err);
    if (st != HEKV_OK) {
        if (err) {
            char tmp[HEKV_ERR_MSG_LEN];
            snprintf(tmp, sizeof tmp, "%s", err->msg);
            hekv_err_set(err, st, "calibration file: %s", tmp);
        }
        return st;
    }
    st = hekv_llama_calib_parse((const char *)b.data, b.len, expect, out, err);
    hekv_buf_free(&b);
    if (st != HEKV_OK && err) {
        char tmp[HEKV_ERR_MSG_LEN];
        snprintf(tmp, sizeof tmp, "%s", err->msg);
        hekv_err_set(err, st, "%s: %s", path, tmp);
    }
    return st;
}
