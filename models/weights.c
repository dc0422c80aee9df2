/* weights.c: the llama2.c checkpoint format (legacy "version 0" export: 7 int32 header
 * fields, float32 tensors in run.c order) and the HKGL golden-logits format: reading,
 * validating every header field and the exact file size, and pointing the weight views
 * into one aligned arena. Files are read whole by hekv_file_read (a size cap, regular files
 * only) and parsed from memory with the base layer's little-endian reader (hekv_rd), so
 * the _parse entry points take any bytes. It deliberately does not write checkpoints,
 * convert the newer llama2.c exports (version 1/2, "ak42" magic; those are refused with a
 * hint) or run the model (llama_ref.c does). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hekv/llama.h"
#include "src/base/base.h"
#include "src/base/codec.h"

#define LLAMA2C_V1_MAGIC 0x616b3432 /* "ak42": llama2.c's version 1/2 exports */

struct hekv_llama_model {
    hekv_llama_config cfg;
    hekv_llama_weights w; /* views into arena */
    float *arena;         /* every float of the file after the header */
    uint64_t n_floats;
};

static const char *const header_names[7] = {"dim",        "hidden_dim", "n_layers",
                                            "n_heads",    "n_kv_heads", "vocab_size",
                                            "seq_len"};

hekv_status hekv_llama_config_from_header(hekv_llama_config *cfg, const int32_t hdr[7],
                                          hekv_err *err) {
    if (!hdr) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_config_from_header: hdr is NULL");
    if (hdr[0] == LLAMA2C_V1_MAGIC)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "model header starts with the magic \"ak42\": this is a llama2.c "
                            "version 1/2 export; export it with llama2.c's legacy (version 0) "
                            "format instead");
    static const int64_t hi[7] = {HEKV_LLAMA_MAX_DIM,   HEKV_LLAMA_MAX_HIDDEN,
                                  HEKV_LLAMA_MAX_LAYERS, HEKV_LLAMA_MAX_DIM,
                                  HEKV_LLAMA_MAX_DIM,    HEKV_LLAMA_MAX_VOCAB,
                                  HEKV_LLAMA_MAX_SEQ};
    for (int i = 0; i < 7; i++) {
        int64_t v = hdr[i];
        if (i == 5) v = v < 0 ? -v : v; /* the sign of vocab_size only says "shared" */
        if (v < 1 || v > hi[i])
            return hekv_err_set(err, HEKV_ERR_FORMAT,
                                "model header field %s = %d is out of range: expected %s1..%lld "
                                "(not a llama2.c checkpoint, or a corrupted header)",
                                header_names[i], (int)hdr[i], i == 5 ? "+-" : "",
                                (long long)hi[i]);
    }
    int32_t dim = hdr[0], n_heads = hdr[3], n_kv = hdr[4];
    if (n_heads > dim || dim % n_heads != 0)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "model header: dim = %d is not a multiple of n_heads = %d", dim,
                            n_heads);
    if (n_kv > n_heads || n_heads % n_kv != 0)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "model header: n_heads = %d is not a multiple of n_kv_heads = %d",
                            n_heads, n_kv);
    int32_t hs = dim / n_heads;
    if (hs % 2 != 0)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "model header: head_size = dim / n_heads = %d is odd; RoPE rotates "
                            "pairs and needs it even",
                            hs);
    if (cfg) {
        cfg->dim = dim;
        cfg->hidden_dim = hdr[1];
        cfg->n_layers = hdr[2];
        cfg->n_heads = n_heads;
        cfg->n_kv_heads = n_kv;
        cfg->vocab_size = hdr[5] < 0 ? -hdr[5] : hdr[5];
        cfg->seq_len = hdr[6];
        cfg->shared_classifier = hdr[5] > 0;
        cfg->head_size = hs;
        cfg->kv_dim = n_kv * hs;
    }
    return HEKV_OK;
}

/* Number of floats after the header (bounded by the header limits: well below 2^62). */
static uint64_t payload_floats(const hekv_llama_config *c) {
    uint64_t C = (uint64_t)c->dim, H = (uint64_t)c->hidden_dim, L = (uint64_t)c->n_layers;
    uint64_t V = (uint64_t)c->vocab_size, T = (uint64_t)c->seq_len;
    uint64_t KVD = (uint64_t)c->kv_dim, HS = (uint64_t)c->head_size;
    uint64_t n = V * C;          /* token_embedding */
    n += L * C;                  /* rms_att */
    n += 2 * L * C * C;          /* wq, wo */
    n += 2 * L * KVD * C;        /* wk, wv */
    n += L * C;                  /* rms_ffn */
    n += 3 * L * H * C;          /* w1, w2, w3 */
    n += C;                      /* rms_final */
    n += T * HS;                 /* freq_cis_real + freq_cis_imag, (HS/2) each */
    if (!c->shared_classifier) n += V * C; /* wcls */
    return n;
}

uint64_t hekv_llama_config_file_size(const hekv_llama_config *cfg) {
    return cfg ? 7 * 4 + 4 * payload_floats(cfg) : 0;
}

/* Points the views into the arena, in file order, and returns the floats consumed. */
static uint64_t point_weights(hekv_llama_weights *w, float *p, const hekv_llama_config *c) {
    const size_t C = (size_t)c->dim, H = (size_t)c->hidden_dim, L = (size_t)c->n_layers;
    const size_t V = (size_t)c->vocab_size, T = (size_t)c->seq_len;
    const size_t KVD = (size_t)c->kv_dim, HS = (size_t)c->head_size;
    float *const start = p;
    w->token_embedding = p; p += V * C;
    w->rms_att = p;         p += L * C;
    w->wq = p;              p += L * C * C;
    w->wk = p;              p += L * KVD * C;
    w->wv = p;              p += L * KVD * C;
    w->wo = p;              p += L * C * C;
    w->rms_ffn = p;         p += L * C;
    w->w1 = p;              p += L * H * C;
    w->w2 = p;              p += L * C * H;
    w->w3 = p;              p += L * H * C;
    w->rms_final = p;       p += C;
    p += T * (HS / 2);      /* freq_cis_real, unused */
    p += T * (HS / 2);      /* freq_cis_imag, unused */
    if (c->shared_classifier) {
        w->wcls = w->token_embedding;
    } else {
        w->wcls = p;        p += V * C;
    }
    return (uint64_t)(p - start);
}

/* Name of the tensor that float index i of the payload belongs to (for error messages). */
static const char *tensor_at(const hekv_llama_model *m, uint64_t i) {
    const float *p = m->arena + i;
    const hekv_llama_weights *w = &m->w;
    if (!m->cfg.shared_classifier && p >= w->wcls) return "wcls";
    if (p >= w->rms_final + m->cfg.dim) return "freq_cis";
    if (p >= w->rms_final) return "rms_final";
    if (p >= w->w3) return "w3";
    if (p >= w->w2) return "w2";
    if (p >= w->w1) return "w1";
    if (p >= w->rms_ffn) return "rms_ffn";
    if (p >= w->wo) return "wo";
    if (p >= w->wv) return "wv";
    if (p >= w->wk) return "wk";
    if (p >= w->wq) return "wq";
    if (p >= w->rms_att) return "rms_att";
    return "token_embedding";
}

/* Prefixes err's message with "what" (a path, or "model: " style label) after a failure. */
static hekv_status prefixed(hekv_err *err, hekv_status st, const char *what) {
    if (st != HEKV_OK && err) {
        char tmp[HEKV_ERR_MSG_LEN];
        snprintf(tmp, sizeof tmp, "%s", err->msg);
        hekv_err_set(err, st, "%s: %s", what, tmp);
    }
    return st;
}

hekv_status hekv_llama_model_parse(const uint8_t *data, size_t len, hekv_llama_model **out,
                                   hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_model_parse: out is NULL");
    *out = NULL;
    if (!data && len) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_model_parse: NULL data");
    if (len < 7 * 4)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "model is %zu bytes, shorter than the 28-byte llama2.c header "
                            "(truncated or not a checkpoint)",
                            len);
    hekv_rd r;
    hekv_rd_init(&r, data, len);
    int32_t hdr[7];
    for (int i = 0; i < 7; i++) hdr[i] = hekv_rd_i32(&r);
    hekv_llama_config cfg;
    hekv_status st = hekv_llama_config_from_header(&cfg, hdr, err);
    if (st != HEKV_OK) return st;
    const uint64_t want = hekv_llama_config_file_size(&cfg);
    if ((uint64_t)len != want) {
        hekv_llama_config other = cfg;
        other.shared_classifier = !cfg.shared_classifier;
        const uint64_t alt = hekv_llama_config_file_size(&other);
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "model is %zu bytes but its header (dim %d, hidden_dim %d, "
                            "n_layers %d, n_heads %d, n_kv_heads %d, vocab_size %d, seq_len "
                            "%d) implies %llu bytes: %s%s",
                            len, cfg.dim, cfg.hidden_dim, cfg.n_layers, cfg.n_heads,
                            cfg.n_kv_heads,
                            cfg.shared_classifier ? cfg.vocab_size : -cfg.vocab_size,
                            cfg.seq_len, (unsigned long long)want,
                            (uint64_t)len < want ? "the file is truncated"
                                                 : "the file has extra bytes",
                            (uint64_t)len == alt ? " (the size fits the other sign of "
                                                   "vocab_size: was the shared-classifier "
                                                   "flag written wrongly?)"
                                                 : "");
    }
    hekv_llama_model *m = calloc(1, sizeof *m);
    if (!m) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_model_parse: out of memory");
    m->cfg = cfg;
    m->n_floats = payload_floats(&cfg);
    if (m->n_floats > SIZE_MAX / 4 ||
        !(m->arena = hekv_alloc_aligned((size_t)m->n_floats * 4))) {
        st = hekv_err_set(err, HEKV_ERR_NOMEM, "cannot allocate %llu bytes for the weights",
                          (unsigned long long)m->n_floats * 4);
        goto fail;
    }
    for (uint64_t i = 0; i < m->n_floats; i++) m->arena[i] = hekv_rd_f32(&r);
    HEKV_CHECK_INTERNAL(!r.short_read && r.off == len); /* the size was checked */
    uint64_t used = point_weights(&m->w, m->arena, &cfg);
    HEKV_CHECK_INTERNAL(used == m->n_floats);
    /* A NaN or infinity is a corrupted file: it would silently poison every logit. */
    for (uint64_t i = 0; i < m->n_floats; i++) {
        if (!isfinite(m->arena[i])) {
            st = hekv_err_set(err, HEKV_ERR_FORMAT,
                              "weight %llu (tensor %s) is %f, not finite: the checkpoint is "
                              "corrupted",
                              (unsigned long long)i, tensor_at(m, i), m->arena[i]);
            goto fail;
        }
    }
    *out = m;
    return HEKV_OK;
fail:
    hekv_llama_model_free(m);
    return st;
}

hekv_status hekv_llama_model_load(const char *path, hekv_llama_model **out, hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_model_load: out is NULL");
    *out = NULL;
    if (!path) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_model_load: path is NULL");
    hekv_buf b = {0};
    hekv_status st = hekv_file_read(path, HEKV_LLAMA_MODEL_MAX_BYTES, &b, err);
    if (st != HEKV_OK) return prefixed(err, st, "model");
    st = hekv_llama_model_parse(b.data, b.len, out, err);
    hekv_buf_free(&b);
    return prefixed(err, st, path);
}

void hekv_llama_model_free(hekv_llama_model *m) {
    if (!m) return;
    hekv_free_aligned(m->arena);
    free(m);
}

const hekv_llama_config *hekv_llama_model_config(const hekv_llama_model *m) {
    return m ? &m->cfg : NULL;
}

const hekv_llama_weights *hekv_llama_model_weights(const hekv_llama_model *m) {
    return m ? &m->w : NULL;
}

/* ---------------------------------------------------------------------------------------
 * Golden logits: "HKGL", int32 version 1, int32 T, int32 V, int32 tokens[T],
 * float32 logits[T][V].
 * ------------------------------------------------------------------------------------- */

#define GOLDEN_MAX_T (1 << 20)
#define GOLDEN_MAX_ELEMS ((uint64_t)1 << 32)

hekv_status hekv_llama_golden_parse(const uint8_t *data, size_t len, hekv_llama_golden **out,
                                    hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_golden_parse: out is NULL");
    *out = NULL;
    if (!data && len) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_golden_parse: NULL data");
    if (len < 16)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "golden file is %zu bytes, shorter than its 16-byte header", len);
    hekv_rd r;
    hekv_rd_init(&r, data, len);
    uint8_t magic[4];
    hekv_rd_bytes(&r, magic, 4);
    if (memcmp(magic, "HKGL", 4) != 0)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "not a golden-logits file: it does not start with the magic "
                            "\"HKGL\" (scripts/train_lm.py writes them)");
    const int32_t ver = hekv_rd_i32(&r), T = hekv_rd_i32(&r), V = hekv_rd_i32(&r);
    if (ver != 1)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "golden file has version %d; this build reads version 1", (int)ver);
    if (T < 1 || T > GOLDEN_MAX_T || V < 1 || V > HEKV_LLAMA_MAX_VOCAB ||
        (uint64_t)T * (uint64_t)V > GOLDEN_MAX_ELEMS)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "golden file: T = %d, V = %d out of range (T in 1..%d, V in 1..%d)",
                            (int)T, (int)V, GOLDEN_MAX_T, HEKV_LLAMA_MAX_VOCAB);
    const uint64_t want = 16 + 4 * (uint64_t)T + 4 * (uint64_t)T * (uint64_t)V;
    if ((uint64_t)len != want)
        return hekv_err_set(err, HEKV_ERR_FORMAT,
                            "golden file is %zu bytes but T = %d, V = %d imply %llu bytes (%s)",
                            len, (int)T, (int)V, (unsigned long long)want,
                            (uint64_t)len < want ? "truncated" : "extra bytes");
    hekv_status st = HEKV_OK;
    hekv_llama_golden *g = calloc(1, sizeof *g);
    if (!g || !(g->tokens = malloc((size_t)T * 4)) ||
        !(g->logits = malloc((size_t)T * (size_t)V * 4))) {
        st = hekv_err_set(err, HEKV_ERR_NOMEM, "out of memory reading a golden file");
        goto fail;
    }
    g->n_tokens = T;
    g->vocab = V;
    for (int32_t t = 0; t < T; t++) {
        g->tokens[t] = hekv_rd_i32(&r);
        if (g->tokens[t] < 0 || g->tokens[t] >= V) {
            st = hekv_err_set(err, HEKV_ERR_FORMAT,
                              "golden file: tokens[%d] = %d is not in [0, %d)", (int)t,
                              (int)g->tokens[t], (int)V);
            goto fail;
        }
    }
    for (size_t i = 0; i < (size_t)T * (size_t)V; i++) g->logits[i] = hekv_rd_f32(&r);
    HEKV_CHECK_INTERNAL(!r.short_read && r.off == len);
    *out = g;
    return HEKV_OK;
fail:
    hekv_llama_golden_free(g);
    return st;
}

hekv_status hekv_llama_golden_load(const char *path, hekv_llama_golden **out, hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_golden_load: out is NULL");
    *out = NULL;
    if (!path) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_golden_load: path is NULL");
    hekv_buf b = {0};
    hekv_status st = hekv_file_read(path, HEKV_LLAMA_GOLDEN_MAX_BYTES, &b, err);
    if (st != HEKV_OK) return prefixed(err, st, "golden file");
    st = hekv_llama_golden_parse(b.data, b.len, out, err);
    hekv_buf_free(&b);
    return prefixed(err, st, path);
}

void hekv_llama_golden_free(hekv_llama_golden *g) {
    if (!g) return;
    free(g->tokens);
    free(g->logits);
    free(g);
}
