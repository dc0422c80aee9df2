/* llama_ref.c: the plaintext reference forward pass of a llama2.c model (RMSNorm, RoPE,
 * grouped-query attention with a KV cache, SwiGLU MLP), one function per layer in llm.c's
 * manner, in float64 (activations in double, float32 weights; what the encrypted engine is
 * compared against) and in float32 (run.c's arithmetic, operation for operation). Each
 * nonlinearity goes through an optional hekv_llama_approx hook (FHE simulation), told the
 * layer it is in (L for the final RMSNorm), and the float64 path can record the inputs of
 * every nonlinearity into a calibration.
 *
 * It deliberately does not batch positions (one token per call, like the encrypted decode
 * step), thread, or read files (weights.c), and it has no knowledge of ciphertexts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hekv/llama.h"
#include "src/base/base.h"

/* ---------------------------------------------------------------------------------------
 * Exact nonlinearities. The NULL-hook path uses the very same expressions, so a hook made
 * of these gives bit-identical results.
 * ------------------------------------------------------------------------------------- */

static double exact_exp(double x, int layer, void *ctx) {
    (void)layer, (void)ctx;
    return exp(x);
}
static double exact_recip(double x, int layer, void *ctx) {
    (void)layer, (void)ctx;
    return 1.0 / x;
}
static double exact_invsqrt(double x, int layer, void *ctx) {
    (void)layer, (void)ctx;
    return 1.0 / sqrt(x);
}
static double exact_silu(double x, int layer, void *ctx) {
    (void)layer, (void)ctx;
    return x / (1.0 + exp(-x));
}

static const hekv_llama_approx exact_hook = {exact_exp, exact_recip, exact_invsqrt,
                                             exact_silu, NULL, NULL};

const hekv_llama_approx *hekv_llama_approx_exact(void) { return &exact_hook; }

static inline double ap_exp(const hekv_llama_approx *ap, int l, double x) {
    return ap && ap->exp ? ap->exp(x, l, ap->ctx) : exp(x);
}
static inline double ap_recip(const hekv_llama_approx *ap, int l, double x) {
    return ap && ap->recip ? ap->recip(x, l, ap->ctx) : 1.0 / x;
}
static inline double ap_invsqrt(const hekv_llama_approx *ap, int l, double x) {
    return ap && ap->invsqrt ? ap->invsqrt(x, l, ap->ctx) : 1.0 / sqrt(x);
}
static inline double ap_silu(const hekv_llama_approx *ap, int l, double x) {
    return ap && ap->silu ? ap->silu(x, l, ap->ctx) : x / (1.0 + exp(-x));
}

static inline void range_add(hekv_llama_range *r, double v) {
    if (v < r->lo) r->lo = v;
    if (v > r->hi) r->hi = v;
}

/* ---------------------------------------------------------------------------------------
 * float64 layers
 * ------------------------------------------------------------------------------------- */

void hekv_llama_rmsnorm_fwd(double *out, const double *in, const float *w, int C,
                            const hekv_llama_approx *ap, int layer, hekv_llama_range *ms_rec) {
    double ss = 0.0;
    for (int i = 0; i < C; i++) ss += in[i] * in[i];
    double ms = ss / C;
    if (ms_rec) range_add(ms_rec, ms);
    double inv = ap_invsqrt(ap, layer, ms + HEKV_LLAMA_RMS_EPS);
    for (int i = 0; i < C; i++) out[i] = (double)w[i] * (inv * in[i]);
}

void hekv_llama_matmul_fwd(double *out, const double *in, const float *w, int C_in,
                           int C_out) {
    for (int o = 0; o < C_out; o++) {
        const float *row = w + (size_t)o * C_in;
        double acc = 0.0;
        for (int i = 0; i < C_in; i++) acc += (double)row[i] * in[i];
        out[o] = acc;
    }
}

void hekv_llama_rope_fwd(double *vec, int n, int head_size, int pos) {
    for (int i = 0; i < n; i += 2) {
        int hd = i % head_size;
        double freq = 1.0 / pow(HEKV_LLAMA_ROPE_THETA, (double)hd / head_size);
        double ang = pos * freq;
        double c = cos(ang), s = sin(ang);
        double v0 = vec[i], v1 = vec[i + 1];
        vec[i] = v0 * c - v1 * s;
        vec[i + 1] = v0 * s + v1 * c;
    }
}

void hekv_llama_attention_fwd(double *out, double *att, const double *q,
                              const double *kcache, const double *vcache, int n_pos,
                              int n_heads, int n_kv_heads, int head_size,
                              const hekv_llama_approx *ap, int layer,
                              hekv_llama_layer_calib *rec) {
    const int KVD = n_kv_heads * head_size;
    const int kv_mul = n_heads / n_kv_heads;
    const double scale = 1.0 / sqrt((double)head_size);
    for (int h = 0; h < n_heads; h++) {
        const double *qh = q + h * head_size;
        const int kvo = (h / kv_mul) * head_size;
        double *a = att + (size_t)h * n_pos;
        /* scores s_t = q . k_t / sqrt(HS) */
        double mx = -INFINITY;
        for (int t = 0; t < n_pos; t++) {
            const double *kt = kcache + (size_t)t * KVD + kvo;
            double s = 0.0;
            for (int i = 0; i < head_size; i++) s += qh[i] * kt[i];
            s *= scale;
            a[t] = s;
            if (s > mx) mx = s;
        }
        if (rec) {
            double sum_unshifted = 0.0;
            for (int t = 0; t < n_pos; t++) {
                range_add(&rec->attn_score[h], a[t]);
                range_add(&rec->softmax_exp_unshifted, a[t]);
                range_add(&rec->softmax_exp_shifted, a[t] - mx);
                sum_unshifted += exp(a[t]);
            }
            range_add(&rec->softmax_sum_unshifted, sum_unshifted);
        }
        /* softmax: exp(s - max) * (1 / sum), or the hook's whole softmax */
        double sum = 0.0, r = 1.0;
        if (ap && ap->softmax) {
            ap->softmax(a, n_pos, layer, h, ap->ctx);
        } else {
            for (int t = 0; t < n_pos; t++) {
                a[t] = ap_exp(ap, layer, a[t] - mx);
                sum += a[t];
            }
            if (rec) range_add(&rec->softmax_sum_shifted, sum);
            r = ap_recip(ap, layer, sum);
        }
        /* weighted sum of the values */
        double *oh = out + h * head_size;
        for (int i = 0; i < head_size; i++) oh[i] = 0.0;
        for (int t = 0; t < n_pos; t++) {
            const double *vt = vcache + (size_t)t * KVD + kvo;
            double p = a[t] * r;
            for (int i = 0; i < head_size; i++) oh[i] += p * vt[i];
        }
    }
}

void hekv_llama_swiglu_fwd(double *out, const double *h1, const double *h3, int H,
                           const hekv_llama_approx *ap, int layer, hekv_llama_range *silu_rec) {
    for (int i = 0; i < H; i++) {
        double z = h1[i];
        if (silu_rec) range_add(silu_rec, z);
        out[i] = ap_silu(ap, layer, z) * h3[i];
    }
}

void hekv_llama_residual_fwd(double *out, const double *a, const double *b, int C) {
    for (int i = 0; i < C; i++) out[i] = a[i] + b[i];
}

/* ---------------------------------------------------------------------------------------
 * float32 layers: run.c's expressions. With a hook, the nonlinearity goes through double.
 * ------------------------------------------------------------------------------------- */

void hekv_llama_rmsnorm_fwd_f32(float *out, const float *in, const float *w, int C,
                                const hekv_llama_approx *ap, int layer) {
    float ss = 0.0f;
    for (int j = 0; j < C; j++) ss += in[j] * in[j];
    ss /= C;
    ss += 1e-5f;
    if (ap && ap->invsqrt)
        ss = (float)ap->invsqrt((double)ss, layer, ap->ctx);
    else
        ss = 1.0f / sqrtf(ss);
    for (int j = 0; j < C; j++) out[j] = w[j] * (ss * in[j]);
}

void hekv_llama_matmul_fwd_f32(float *out, const float *in, const float *w, int C_in,
                               int C_out) {
    for (int o = 0; o < C_out; o++) {
        const float *row = w + (size_t)o * C_in;
        float val = 0.0f;
        for (int j = 0; j < C_in; j++) val += row[j] * in[j];
        out[o] = val;
    }
}

void hekv_llama_rope_fwd_f32(float *vec, int n, int head_size, int pos) {
    for (int i = 0; i < n; i += 2) {
        int head_dim = i % head_size;
        float freq = 1.0f / powf(10000.0f, head_dim / (float)head_size);
        float val = pos * freq;
        float fcr = cosf(val);
        float fci = sinf(val);
        float v0 = vec[i];
        float v1 = vec[i + 1];
        vec[i] = v0 * fcr - v1 * fci;
        vec[i + 1] = v0 * fci + v1 * fcr;
    }
}

void hekv_llama_attention_fwd_f32(float *out, float *att, const float *q, const float *kcache,
                                  const float *vcache, int n_pos, int n_heads, int n_kv_heads,
                                  int head_size, const hekv_llama_approx *ap, int layer) {
    const int KVD = n_kv_heads * head_size;
    const int kv_mul = n_heads / n_kv_heads;
    for (int h = 0; h < n_heads; h++) {
        const float *qh = q + h * head_size;
        const int kvo = (h / kv_mul) * head_size;
        float *a = att + (size_t)h * n_pos;
        for (int t = 0; t < n_pos; t++) {
            const float *k = kcache + (size_t)t * KVD + kvo;
            float score = 0.0f;
            for (int i = 0; i < head_size; i++) score += qh[i] * k[i];
            score /= sqrtf(head_size);
            a[t] = score;
        }
        if (ap && ap->softmax) { /* the hook's whole softmax, in double */
            double *d = malloc((size_t)n_pos * sizeof *d);
            if (d) {
                for (int t = 0; t < n_pos; t++) d[t] = a[t];
                ap->softmax(d, n_pos, layer, h, ap->ctx);
                for (int t = 0; t < n_pos; t++) a[t] = (float)d[t];
                free(d);
                goto weighted;
            }
        }
        /* softmax as run.c: max, exp(x - max), x /= sum */
        float max_val = a[0];
        for (int t = 1; t < n_pos; t++)
            if (a[t] > max_val) max_val = a[t];
        float sum = 0.0f;
        for (int t = 0; t < n_pos; t++) {
            if (ap && ap->exp)
                a[t] = (float)ap->exp((double)(a[t] - max_val), layer, ap->ctx);
            else
                a[t] = expf(a[t] - max_val);
            sum += a[t];
        }
        if (ap && ap->recip) {
            float r = (float)ap->recip((double)sum, layer, ap->ctx);
            for (int t = 0; t < n_pos; t++) a[t] *= r;
        } else {
            for (int t = 0; t < n_pos; t++) a[t] /= sum;
        }
    weighted:;
        float *oh = out + h * head_size;
        memset(oh, 0, (size_t)head_size * sizeof *oh);
        for (int t = 0; t < n_pos; t++) {
            const float *v = vcache + (size_t)t * KVD + kvo;
            float p = a[t];
            for (int i = 0; i < head_size; i++) oh[i] += p * v[i];
        }
    }
}

void hekv_llama_swiglu_fwd_f32(float *out, const float *h1, const float *h3, int H,
                               const hekv_llama_approx *ap, int layer) {
    for (int i = 0; i < H; i++) {
        float val = h1[i];
        if (ap && ap->silu)
            val = (float)ap->silu((double)val, layer, ap->ctx);
        else
            val *= (1.0f / (1.0f + expf(-val)));
        out[i] = val * h3[i];
    }
}

void hekv_llama_residual_fwd_f32(float *out, const float *a, const float *b, int C) {
    for (int i = 0; i < C; i++) out[i] = a[i] + b[i];
}

/* ---------------------------------------------------------------------------------------
 * State: activations, KV cache and logits of one sequence, in one arena whose element type
 * is the state's precision.
 * ------------------------------------------------------------------------------------- */

struct hekv_llama_state {
    const hekv_llama_model *m;
    hekv_llama_config cfg;
    hekv_llama_precision prec;
    int n_cached;             /* positions 0..n_cached-1 hold valid K and V */
    hekv_llama_calib *calib;  /* NULL or recording (float64 only) */
    void *arena;              /* one block, elements of double (F64) or float (F32) */
    /* Views into arena (element type by prec): */
    void *x;      /* [C] residual stream */
    void *xb;     /* [C] normed input / attention output */
    void *xb2;    /* [C] */
    void *hb;     /* [H] */
    void *hb2;    /* [H] */
    void *q;      /* [C] */
    void *k;      /* [KVD] */
    void *v;      /* [KVD] */
    void *att;    /* [NH][T] */
    void *kcache; /* [L][T][KVD] */
    void *vcache; /* [L][T][KVD] */
    void *logits_raw; /* [V] */
    double *logits;   /* [V]: == logits_raw for F64, widened copy for F32 */
};

hekv_status hekv_llama_state_new(const hekv_llama_model *m, hekv_llama_precision prec,
                                 hekv_llama_state **out, hekv_err *err) {
    if (!out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_state_new: out is NULL");
    *out = NULL;
    if (!m) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_state_new: model is NULL");
    if (prec != HEKV_LLAMA_F64 && prec != HEKV_LLAMA_F32)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "hekv_llama_state_new: precision %d is neither HEKV_LLAMA_F64 nor "
                            "HEKV_LLAMA_F32",
                            (int)prec);
    const hekv_llama_config *c = hekv_llama_model_config(m);
    const size_t C = (size_t)c->dim, H = (size_t)c->hidden_dim, L = (size_t)c->n_layers;
    const size_t NH = (size_t)c->n_heads, T = (size_t)c->seq_len, V = (size_t)c->vocab_size;
    const size_t KVD = (size_t)c->kv_dim;
    const size_t es = prec == HEKV_LLAMA_F64 ? sizeof(double) : sizeof(float);
    /* Each view is rounded up to 8 elements so every one stays 32-byte aligned. */
#define R8(n) (((n) + 7) & ~(size_t)7)
    const size_t sizes[12] = {R8(C), R8(C), R8(C), R8(H), R8(H), R8(C), R8(KVD), R8(KVD),
                              R8(NH * T), R8(L * T * KVD), R8(L * T * KVD), R8(V)};
#undef R8
    size_t total = 0;
    for (int i = 0; i < 12; i++) total += sizes[i];
    hekv_llama_state *st = calloc(1, sizeof *st);
    if (!st) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_state_new: out of memory");
    st->arena = hekv_calloc_aligned(total, es);
    if (!st->arena) {
        free(st);
        return hekv_err_set(err, HEKV_ERR_NOMEM,
                            "hekv_llama_state_new: cannot allocate %zu bytes for activations "
                            "and the KV cache (L*T*KVD = %zu elements per cache)",
                            total * es, L * T * KVD);
    }
    char *p = st->arena;
    void **views[12] = {&st->x, &st->xb, &st->xb2, &st->hb, &st->hb2, &st->q,
                        &st->k, &st->v, &st->att, &st->kcache, &st->vcache, &st->logits_raw};
    for (int i = 0; i < 12; i++) {
        *views[i] = p;
        p += sizes[i] * es;
    }
    if (prec == HEKV_LLAMA_F64) {
        st->logits = st->logits_raw;
    } else if (!(st->logits = calloc(V, sizeof(double)))) {
        hekv_free_aligned(st->arena);
        free(st);
        return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_llama_state_new: out of memory");
    }
    st->m = m;
    st->cfg = *c;
    st->prec = prec;
    *out = st;
    return HEKV_OK;
}

void hekv_llama_state_free(hekv_llama_state *st) {
    if (!st) return;
    if (st->logits != st->logits_raw) free(st->logits);
    hekv_free_aligned(st->arena);
    free(st);
}

void hekv_llama_state_reset(hekv_llama_state *st) {
    if (st) st->n_cached = 0;
}

hekv_status hekv_llama_state_set_calib(hekv_llama_state *st, hekv_llama_calib *calib,
                                       hekv_err *err) {
    if (!st) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_state_set_calib: state is NULL");
    if (calib) {
        if (st->prec != HEKV_LLAMA_F64)
            return hekv_err_set(err, HEKV_ERR_ARG,
                                "calibration records float64 forwards only; create the state "
                                "with HEKV_LLAMA_F64");
        const hekv_llama_config *cc = hekv_llama_calib_config(calib);
        if (cc->dim != st->cfg.dim || cc->n_layers != st->cfg.n_layers ||
            cc->n_heads != st->cfg.n_heads)
            return hekv_err_set(err, HEKV_ERR_ARG,
                                "calibration is for dim %d, %d layers, %d heads but the model "
                                "has dim %d, %d layers, %d heads",
                                cc->dim, cc->n_layers, cc->n_heads, st->cfg.dim,
                                st->cfg.n_layers, st->cfg.n_heads);
    }
    st->calib = calib;
    return HEKV_OK;
}

const double *hekv_llama_state_logits(const hekv_llama_state *st) {
    return st ? st->logits : NULL;
}

const hekv_llama_config *hekv_llama_state_config(const hekv_llama_state *st) {
    return st ? &st->cfg : NULL;
}

hekv_llama_precision hekv_llama_state_precision(const hekv_llama_state *st) {
    return st ? st->prec : HEKV_LLAMA_F64;
}

/* One decode step in float64: the layer graph the encrypted engine mirrors. */
static void forward_f64(hekv_llama_state *st, int token, int pos, const hekv_llama_approx *ap) {
    const hekv_llama_config *c = &st->cfg;
    const hekv_llama_weights *w = hekv_llama_model_weights(st->m);
    const int C = c->dim, H = c->hidden_dim, L = c->n_layers, NH = c->n_heads;
    const int NKV = c->n_kv_heads, HS = c->head_size, KVD = c->kv_dim, T = c->seq_len;
    const int V = c->vocab_size;
    double *x = st->x, *xb = st->xb, *xb2 = st->xb2, *hb = st->hb, *hb2 = st->hb2;
    double *q = st->q, *k = st->k, *v = st->v, *att = st->att;
    hekv_llama_calib *cal = st->calib;

    const float *emb = w->token_embedding + (size_t)token * C;
    for (int i = 0; i < C; i++) x[i] = emb[i];

    for (int l = 0; l < L; l++) {
        hekv_llama_layer_calib *rec = cal ? hekv_llama_calib_layer(cal, l) : NULL;
        double *kc = (double *)st->kcache + (size_t)l * T * KVD;
        double *vc = (double *)st->vcache + (size_t)l * T * KVD;

        /* attention block */
        hekv_llama_rmsnorm_fwd(xb, x, w->rms_att + (size_t)l * C, C, ap, l,
                               rec ? &rec->rmsnorm_att : NULL);
        hekv_llama_matmul_fwd(q, xb, w->wq + (size_t)l * C * C, C, C);
        hekv_llama_matmul_fwd(k, xb, w->wk + (size_t)l * KVD * C, C, KVD);
        hekv_llama_matmul_fwd(v, xb, w->wv + (size_t)l * KVD * C, C, KVD);
        hekv_llama_rope_fwd(q, C, HS, pos);
        hekv_llama_rope_fwd(k, KVD, HS, pos);
        memcpy(kc + (size_t)pos * KVD, k, (size_t)KVD * sizeof *k);
        memcpy(vc + (size_t)pos * KVD, v, (size_t)KVD * sizeof *v);
        hekv_llama_attention_fwd(xb, att, q, kc, vc, pos + 1, NH, NKV, HS, ap, l, rec);
        hekv_llama_matmul_fwd(xb2, xb, w->wo + (size_t)l * C * C, C, C);
        hekv_llama_residual_fwd(x, x, xb2, C);

        /* MLP block: w2(silu(w1 x) * w3 x) */
        hekv_llama_rmsnorm_fwd(xb, x, w->rms_ffn + (size_t)l * C, C, ap, l,
                               rec ? &rec->rmsnorm_ffn : NULL);
        hekv_llama_matmul_fwd(hb, xb, w->w1 + (size_t)l * H * C, C, H);
        hekv_llama_matmul_fwd(hb2, xb, w->w3 + (size_t)l * H * C, C, H);
        hekv_llama_swiglu_fwd(hb, hb, hb2, H, ap, l, rec ? &rec->silu : NULL);
        hekv_llama_matmul_fwd(xb, hb, w->w2 + (size_t)l * C * H, H, C);
        hekv_llama_residual_fwd(x, x, xb, C);
    }

    hekv_llama_final_calib *fin = cal ? hekv_llama_calib_final(cal) : NULL;
    hekv_llama_rmsnorm_fwd(x, x, w->rms_final, C, ap, L, fin ? &fin->rmsnorm_final : NULL);
    hekv_llama_matmul_fwd(st->logits, x, w->wcls, C, V);
    if (fin) {
        for (int i = 0; i < V; i++) range_add(&fin->logits, st->logits[i]);
        hekv_llama_calib_add_tokens(cal, 1);
    }
}

/* One decode step in float32, as run.c's forward(). */
static void forward_f32(hekv_llama_state *st, int token, int pos, const hekv_llama_approx *ap) {
    const hekv_llama_config *c = &st->cfg;
    const hekv_llama_weights *w = hekv_llama_model_weights(st->m);
    const int C = c->dim, H = c->hidden_dim, L = c->n_layers, NH = c->n_heads;
    const int NKV = c->n_kv_heads, HS = c->head_size, KVD = c->kv_dim, T = c->seq_len;
    const int V = c->vocab_size;
    float *x = st->x, *xb = st->xb, *xb2 = st->xb2, *hb = st->hb, *hb2 = st->hb2;
    float *q = st->q, *k = st->k, *v = st->v, *att = st->att, *logits = st->logits_raw;

    memcpy(x, w->token_embedding + (size_t)token * C, (size_t)C * sizeof *x);

    for (int l = 0; l < L; l++) {
        float *kc = (float *)st->kcache + (size_t)l * T * KVD;
        float *vc = (float *)st->vcache + (size_t)l * T * KVD;

        hekv_llama_rmsnorm_fwd_f32(xb, x, w->rms_att + (size_t)l * C, C, ap, l);
        hekv_llama_matmul_fwd_f32(q, xb, w->wq + (size_t)l * C * C, C, C);
        hekv_llama_matmul_fwd_f32(k, xb, w->wk + (size_t)l * KVD * C, C, KVD);
        hekv_llama_matmul_fwd_f32(v, xb, w->wv + (size_t)l * KVD * C, C, KVD);
        hekv_llama_rope_fwd_f32(q, C, HS, pos);
        hekv_llama_rope_fwd_f32(k, KVD, HS, pos);
        memcpy(kc + (size_t)pos * KVD, k, (size_t)KVD * sizeof *k);
        memcpy(vc + (size_t)pos * KVD, v, (size_t)KVD * sizeof *v);
        hekv_llama_attention_fwd_f32(xb, att, q, kc, vc, pos + 1, NH, NKV, HS, ap, l);
        hekv_llama_matmul_fwd_f32(xb2, xb, w->wo + (size_t)l * C * C, C, C);
        hekv_llama_residual_fwd_f32(x, x, xb2, C);

        hekv_llama_rmsnorm_fwd_f32(xb, x, w->rms_ffn + (size_t)l * C, C, ap, l);
        hekv_llama_matmul_fwd_f32(hb, xb, w->w1 + (size_t)l * H * C, C, H);
        hekv_llama_matmul_fwd_f32(hb2, xb, w->w3 + (size_t)l * H * C, C, H);
        hekv_llama_swiglu_fwd_f32(hb, hb, hb2, H, ap, l);
        hekv_llama_matmul_fwd_f32(xb, hb, w->w2 + (size_t)l * C * H, H, C);
        hekv_llama_residual_fwd_f32(x, x, xb, C);
    }

    hekv_llama_rmsnorm_fwd_f32(x, x, w->rms_final, C, ap, L);
    hekv_llama_matmul_fwd_f32(logits, x, w->wcls, C, V);
    for (int i = 0; i < V; i++) st->logits[i] = logits[i];
}

hekv_status hekv_llama_forward(hekv_llama_state *st, int token, int pos,
                               const hekv_llama_approx *ap, hekv_err *err) {
    if (!st) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_forward: state is NULL");
    if (token < 0 || token >= st->cfg.vocab_size)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "hekv_llama_forward: token %d is not in [0, %d) (vocab_size)", token,
                            st->cfg.vocab_size);
    if (pos < 0 || pos >= st->cfg.seq_len)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "hekv_llama_forward: position %d is not in [0, %d) (seq_len): the "
                            "context is full; start a new sequence",
                            pos, st->cfg.seq_len);
    if (pos > st->n_cached)
        return hekv_err_set(err, HEKV_ERR_ARG,
                            "hekv_llama_forward: position %d skips ahead: only positions "
                            "0..%d are in the KV cache",
                            pos, st->n_cached - 1);
    if (st->prec == HEKV_LLAMA_F64)
        forward_f64(st, token, pos, ap);
    else
        forward_f32(st, token, pos, ap);
    st->n_cached = pos + 1;
    return HEKV_OK;
}
