#!/usr/bin/python3
"""Train a tiny LLaMA-architecture LM on WikiText-2 or PTB and export it in the
llama2.c "version 0" (legacy) checkpoint format, with a llama2.c tokenizer.bin.

Outputs in --out-dir (NAME = --name, default wt2 / ptb):
  NAME.bin     llama2.c legacy checkpoint (7 x int32 header, then float32 weights;
               vocab_size negative in the header iff the classifier is not tied)
  NAME.tok     llama2.c tokenizer.bin (int32 max_token_length; per token: float32
               score, int32 len, bytes).  ids: 0 <unk>, 1 BOS ("\\n<s>\\n"),
               2 EOS ("\\n</s>\\n"), 3..258 byte tokens "<0x00>".."<0xFF>", then BPE
               pieces with the sentencepiece U+2581 replaced by ' '.
  NAME.model   the sentencepiece model the .tok was exported from
  NAME.golden  "HKGL", int32 version=1, int32 T, int32 V, int32 tokens[T],
               float32 logits[T][V]; logits[t] = PyTorch float32 logits after
               feeding tokens[0..t] from position 0.  tokens = first T=16 tokens
               of the encoded test stream (tokens[0] = BOS = 1).
  NAME.json    hyperparameters, timings, perplexities, baselines.

DATA-FEEDING CONVENTION (the C evaluator `hekv eval` must do exactly this)
  * The file is read as bytes, decoded UTF-8, and split into lines on '\\n'.
    A file ending in '\\n' has as many lines as '\\n' characters (the empty
    string after the final '\\n' is NOT a line).  PTB/WikiText lines start with a
    space; blank WikiText lines are a single space.
  * stream = [BOS=1]; for every line: text = line stripped of leading and
    trailing ASCII whitespace (' ', '\\t', '\\r'); if text is not empty, append
    encode(text) where encode is llama2.c run.c encode(tokenizer, text, bos=0,
    eos=0) (dummy-prefix ' ' token, per-UTF-8-codepoint lookup with byte fallback
    id = byte + 3, then repeated best-score pair merges, leftmost on ties); then
    append the newline token NL = 13 (the byte token "<0x0A>", i.e. what run.c
    encode produces for "\\n").  Blank lines contribute only NL.
  * Evaluation: the stream s[0..N-1] is cut into consecutive windows of
    seq_len tokens: window w feeds s[w*L .. w*L+L-1] at positions 0..L-1 with an
    empty KV cache and scores the next-token predictions s[w*L+1 .. w*L+L]
    (the last window is shorter).  Every token s[1..N-1] is scored exactly once.
    total NLL = sum over those N-1 predictions of -ln softmax(logits)[target].
  * token-level perplexity = exp(NLL / (N-1)).
    word-level perplexity  = exp(NLL / W), W = sum over lines of
    len(line.split()) + number of lines (one "<eos>" per line; the standard
    PTB / WikiText word count: WT2 test 245,569, PTB test 82,430).

MODEL: llama2.c semantics.  RMSNorm x * rsqrt(mean(x^2) + 1e-5) * w; RoPE on
pairs (2i, 2i+1) of every head of q and k, angle pos / 10000^(2i/head_size);
causal softmax attention scaled by 1/sqrt(head_size); GQA kv head = h //
(n_heads / n_kv_heads); SwiGLU w2(silu(w1 x) * w3 x); no biases.

Runs on CPU with ONE torch thread by default (--threads 1).
"""
import argparse
import json
import math
import os
import shutil
import struct
import sys
import time

DATASETS = {
    "wikitext2": ("wikitext-2", "train.txt", "valid.txt", "test.txt", "wt2"),
    "ptb": ("ptb", "ptb.train.txt", "ptb.valid.txt", "ptb.test.txt", "ptb"),
}
NL_TOKEN = 13  # byte token <0x0A>
BOS, EOS = 1, 2
GOLDEN_T = 16


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", choices=sorted(DATASETS), default="ptb")
    ap.add_argument("--data-dir", default="/work/shared/data")
    ap.add_argument("--out-dir", default="models/weights")
    ap.add_argument("--name", default=None, help="output basename (default wt2/ptb)")
    ap.add_argument("--vocab", type=int, default=2048)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=384)
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--untied", action="store_true", help="separate classifier weight")
    ap.add_argument("--steps", type=int, default=0, help="training steps (0: use --minutes)")
    ap.add_argument("--minutes", type=float, default=2.0,
                    help="if --steps is 0: steps = minutes / (time per step measured on 5 steps)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--eval-windows", type=int, default=40, help="valid windows in periodic evals")
    ap.add_argument("--eval-stride", type=int, default=None,
                    help="also report sliding-window perplexities with this stride "
                         "(default seq_len/2; hekv eval --lines --stride S)")
    ap.add_argument("--verify", action="store_true",
                    help="re-read NAME.bin/.tok/.golden with an independent numpy reader and check")
    ap.add_argument("--verify-only", action="store_true", help="only run --verify on existing outputs")
    ap.add_argument("--init", default=None, metavar="BIN",
                    help="continue training from this llama2.c checkpoint (one written by this "
                         "script: its .tok/.model/.vocab/.json beside it; the architecture flags "
                         "must match) instead of a random initialisation; the tokenizer is reused")
    ap.add_argument("--eval-only", action="store_true",
                    help="no training: load NAME.bin, evaluate it (valid and test, non-overlapping "
                         "and sliding windows) and update the JSON's eval entries")
    ap.add_argument("--golden-only", action="store_true",
                    help="no training: load NAME.bin into the PyTorch model and rewrite NAME.golden "
                         "(and the JSON's golden entry); the architecture flags must match the .bin")
    return ap.parse_args()


args = parse_args()
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = str(args.threads)

import numpy as np  # noqa: E402

# --------------------------------------------------------------------------
# data and word counts


def read_lines(path):
    with open(path, "rb") as f:
        data = f.read().decode("utf-8")
    lines = data.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def count_words(lines):
    return sum(len(l.split()) for l in lines) + len(lines)


# --------------------------------------------------------------------------
# tokenizer: sentencepiece BPE training and llama2.c export / encode


def train_tokenizer(train_lines, vocab, prefix, threads):
    import sentencepiece as spm
    tmp = prefix + ".sptrain.txt"
    with open(tmp, "w", encoding="utf-8") as f:
        for l in train_lines:
            t = l.strip()
            if t:
                f.write(t + "\n")
    spm.SentencePieceTrainer.train(
        input=tmp, model_prefix=prefix, model_type="bpe", vocab_size=vocab,
        self_test_sample_size=0, input_format="text", character_coverage=1.0,
        num_threads=threads, split_digits=True, allow_whitespace_only_pieces=False,
        byte_fallback=True, unk_surface=r" \342\201\207 ", normalization_rule_name="identity",
        remove_extra_whitespaces=False, max_sentence_length=1 << 20,
        bos_id=1, eos_id=2, unk_id=0, pad_id=-1)
    os.remove(tmp)
    return spm.SentencePieceProcessor(model_file=prefix + ".model")


def export_tokenizer(sp, path):
    """Exactly like llama2.c tokenizer.py export()."""
    tokens, scores = [], []
    for i in range(sp.get_piece_size()):
        t = sp.id_to_piece(i)
        s = sp.get_score(i)
        if i == sp.bos_id():
            t = "\n<s>\n"
        elif i == sp.eos_id():
            t = "\n</s>\n"
        t = t.replace("\u2581", " ")
        tokens.append(t.encode("utf-8"))
        scores.append(s)
    max_len = max(len(t) for t in tokens)
    with open(path, "wb") as f:
        f.write(struct.pack("I", max_len))
        for b, s in zip(tokens, scores):
            f.write(struct.pack("fI", s, len(b)))
            f.write(b)
    return tokens, scores


def read_tokenizer(path, vocab_size):
    with open(path, "rb") as f:
        max_len = struct.unpack("i", f.read(4))[0]
        toks, scores = [], []
        for _ in range(vocab_size):
            s, n = struct.unpack("fi", f.read(8))
            toks.append(f.read(n))
            scores.append(s)
        assert f.read() == b""
    return max_len, toks, scores


class Llama2cEncoder:
    """Port of llama2.c run.c encode() (bos=0, eos=0).  The exact O(n^2)
    algorithm is in encode_naive(); encode() splits the text before every ' '
    and encodes the chunks independently (cached), which is provably identical
    when no vocabulary string contains ' ' after its first byte (asserted): no
    merge can then cross a chunk boundary, and merges in different chunks commute.
    """

    def __init__(self, toks, scores):
        self.toks = toks
        self.scores = [float(np.float32(s)) for s in scores]
        self.lookup = {}
        for i, t in enumerate(toks):
            assert t not in self.lookup, "duplicate vocab string %r" % t
            self.lookup[t] = i
        for t in toks:
            assert b" " not in t[1:], "vocab string with inner space %r" % t
        self.cache = {}

    def _codepoints(self, b):
        # run.c: a codepoint is a lead byte plus following continuation bytes (max 4)
        out, i, n = [], 0, len(b)
        while i < n:
            j = i + 1
            while j < n and (b[j] & 0xC0) == 0x80 and j - i < 4:
                j += 1
            out.append(b[i:j])
            i = j
        return out

    def _merge(self, ids):
        toks, lookup, scores = self.toks, self.lookup, self.scores
        while True:
            best_score, best_id, best_idx = -1e10, -1, -1
            for i in range(len(ids) - 1):
                tid = lookup.get(toks[ids[i]] + toks[ids[i + 1]], -1)
                if tid != -1 and scores[tid] > best_score:
                    best_score, best_id, best_idx = scores[tid], tid, i
            if best_idx == -1:
                return ids
            ids[best_idx] = best_id
            del ids[best_idx + 1]

    def _initial(self, b):
        ids = []
        for cp in self._codepoints(b):
            tid = self.lookup.get(cp, -1)
            if tid != -1:
                ids.append(tid)
            else:
                ids.extend(c + 3 for c in cp)
        return ids

    def encode_naive(self, text):
        b = text.encode("utf-8")
        ids = []
        if b:
            ids.append(self.lookup[b" "])
        ids += self._initial(b)
        return self._merge(ids)

    def encode(self, text):
        b = text.encode("utf-8")
        if not b:
            return []
        b = b" " + b
        out = []
        start = 0
        n = len(b)
        while start < n:
            end = b.find(b" ", start + 1)
            if end == -1:
                end = n
            chunk = b[start:end]
            r = self.cache.get(chunk)
            if r is None:
                r = self._merge(self._initial(chunk))
                self.cache[chunk] = r
            out.extend(r)
            start = end
        return out


def encode_lines(enc, lines):
    stream = [BOS]
    for l in lines:
        t = l.strip(" \t\r")
        if t:
            stream.extend(enc.encode(t))
        stream.append(NL_TOKEN)
    return stream


# --------------------------------------------------------------------------
# n-gram baselines (word level, one <eos> per line, continuous stream)


def word_stream(lines):
    out = []
    for l in lines:
        out.extend(l.split())
        out.append("<eos>")
    return out


def ngram_baselines(train_w, valid_w, test_w):
    from collections import Counter
    uni = Counter(train_w)
    V = len(uni) + 1  # + unseen-word class
    N = len(train_w)
    big = Counter(zip(train_w[:-1], train_w[1:]))
    ctx = Counter(train_w[:-1])

    def p_uni(w):  # add-1 unigram (test words are in the training vocab for PTB/WT2)
        return (uni.get(w, 0) + 1.0) / (N + V)

    def ppl(words, logp):
        nll = -sum(logp(words[i - 1] if i else "<eos>", words[i]) for i in range(len(words)))
        return math.exp(nll / len(words))

    res = {}
    res["unigram_add1"] = {s: ppl(w, lambda v, x: math.log(p_uni(x)))
                           for s, w in (("valid", valid_w), ("test", test_w))}

    def addk(k):
        return lambda v, x: math.log((big.get((v, x), 0) + k) / (ctx.get(v, 0) + k * V))
    best_k = min((0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0), key=lambda k: ppl(valid_w, addk(k)))
    res["bigram_addk"] = {"k": best_k, "valid": ppl(valid_w, addk(best_k)),
                          "test": ppl(test_w, addk(best_k))}

    # interpolated Kneser-Ney bigram, d = 0.75, continuation unigram interpolated with uniform
    d = 0.75
    foll = Counter(v for (v, x) in big)        # N1+(v .)
    cont = Counter(x for (v, x) in big)        # N1+(. x)
    nbig = len(big)

    def p_cont(x):
        return max(cont.get(x, 0) - d, 0) / nbig + d * len(cont) / nbig / V

    def kn(v, x):
        c = ctx.get(v, 0)
        if c == 0:
            return math.log(p_cont(x))
        return math.log(max(big.get((v, x), 0) - d, 0) / c + d * foll[v] / c * p_cont(x))
    res["bigram_kneser_ney"] = {"d": d, "valid": ppl(valid_w, kn), "test": ppl(test_w, kn)}
    return res


# --------------------------------------------------------------------------
# independent numpy reader / forward for --verify


def np_read_model(path):
    with open(path, "rb") as f:
        hdr = struct.unpack("7i", f.read(28))
        data = np.frombuffer(f.read(), dtype="<f4")
    dim, hidden, L, H, KV, vocab, seq = hdr
    shared = vocab > 0
    vocab = abs(vocab)
    hs = dim // H
    kvd = KV * hs
    off = 0

    def take(*shape):
        nonlocal off
        n = int(np.prod(shape))
        a = data[off:off + n].reshape(shape)
        off += n
        return a
    w = {}
    w["emb"] = take(vocab, dim)
    w["att_norm"] = take(L, dim)
    w["wq"] = take(L, dim, dim)
    w["wk"] = take(L, kvd, dim)
    w["wv"] = take(L, kvd, dim)
    w["wo"] = take(L, dim, dim)
    w["ffn_norm"] = take(L, dim)
    w["w1"] = take(L, hidden, dim)
    w["w2"] = take(L, dim, hidden)
    w["w3"] = take(L, hidden, dim)
    w["norm"] = take(dim)
    take(seq, hs // 2)
    take(seq, hs // 2)
    w["cls"] = w["emb"] if shared else take(vocab, dim)
    assert off == len(data), (off, len(data))
    cfg = dict(dim=dim, hidden=hidden, layers=L, heads=H, kv_heads=KV, vocab=vocab, seq=seq)
    return cfg, w


def np_forward(cfg, w, tokens):
    """run.c-style token-by-token forward with a KV cache, in float64."""
    dim, L, H, KV = cfg["dim"], cfg["layers"], cfg["heads"], cfg["kv_heads"]
    hs = dim // H
    kvmul = H // KV
    W = {k: v.astype(np.float64) for k, v in w.items()}
    kc = np.zeros((L, len(tokens), KV, hs))
    vc = np.zeros((L, len(tokens), KV, hs))
    out = []

    def rms(x, g):
        return g * (x / np.sqrt(np.mean(x * x) + 1e-5))

    def rope(v, pos):
        v = v.copy()
        for i in range(0, v.shape[0], 2):
            f = 1.0 / 10000.0 ** ((i % hs) / hs)
            c, s = math.cos(pos * f), math.sin(pos * f)
            a, b = v[i], v[i + 1]
            v[i], v[i + 1] = a * c - b * s, a * s + b * c
        return v
    for pos, tok in enumerate(tokens):
        x = W["emb"][tok].copy()
        for l in range(L):
            xb = rms(x, W["att_norm"][l])
            q = rope(W["wq"][l] @ xb, pos).reshape(H, hs)
            kc[l, pos] = rope(W["wk"][l] @ xb, pos).reshape(KV, hs)
            vc[l, pos] = (W["wv"][l] @ xb).reshape(KV, hs)
            att_out = np.zeros((H, hs))
            for h in range(H):
                kh = h // kvmul
                sc = kc[l, :pos + 1, kh] @ q[h] / math.sqrt(hs)
                sc = np.exp(sc - sc.max())
                sc /= sc.sum()
                att_out[h] = sc @ vc[l, :pos + 1, kh]
            x = x + W["wo"][l] @ att_out.reshape(-1)
            xb = rms(x, W["ffn_norm"][l])
            h1 = W["w1"][l] @ xb
            h3 = W["w3"][l] @ xb
            x = x + W["w2"][l] @ (h1 / (1 + np.exp(-h1)) * h3)
        x = rms(x, W["norm"])
        out.append(W["cls"] @ x)
    return np.array(out)


def write_golden(model, gt, prefix):
    """PyTorch float32 logits of the first tokens of the test stream, dropout off."""
    import torch
    model.eval()
    with torch.no_grad():
        glog = model(torch.tensor([gt], dtype=torch.long))[0].float().numpy()
    with open(prefix + ".golden", "wb") as f:
        f.write(b"HKGL")
        f.write(struct.pack("3i", 1, len(gt), glog.shape[1]))
        f.write(np.array(gt, dtype="<i4").tobytes())
        f.write(glog.astype("<f4").tobytes())


def read_golden(path):
    with open(path, "rb") as f:
        assert f.read(4) == b"HKGL"
        ver, T, V = struct.unpack("3i", f.read(12))
        assert ver == 1
        toks = np.frombuffer(f.read(4 * T), dtype="<i4")
        logits = np.frombuffer(f.read(4 * T * V), dtype="<f4").reshape(T, V)
        assert f.read() == b""
    return toks, logits


def verify(out_dir, name, test_path):
    cfg, w = np_read_model(os.path.join(out_dir, name + ".bin"))
    toks, glog = read_golden(os.path.join(out_dir, name + ".golden"))
    _, vt, vs = read_tokenizer(os.path.join(out_dir, name + ".tok"), cfg["vocab"])
    enc = Llama2cEncoder(vt, vs)
    lines = read_lines(test_path)
    stream = [BOS]
    for l in lines:  # naive (unchunked) run.c algorithm this time
        t = l.strip(" \t\r")
        if t:
            stream.extend(enc.encode_naive(t))
        stream.append(NL_TOKEN)
        if len(stream) >= len(toks):
            break
    tok_ok = list(stream[:len(toks)]) == list(toks)
    logits = np_forward(cfg, w, [int(t) for t in toks])
    diff = float(np.abs(logits - glog.astype(np.float64)).max())
    print("verify: config %s" % cfg)
    print("verify: golden tokens re-encoded with naive run.c encode from .tok: %s" % ("OK" if tok_ok else "MISMATCH"))
    print("verify: max |numpy(.bin) - golden| = %.3g (%s)" % (diff, "OK" if diff < 1e-4 else "FAIL"))
    # chunked vs naive encode on a sample of test lines
    mism = sum(enc.encode(l.strip(" \t\r")) != enc.encode_naive(l.strip(" \t\r")) for l in lines[:60])
    print("verify: chunked vs naive encode mismatches on 60 test lines: %d" % mism)
    return tok_ok and diff < 1e-4 and mism == 0


# --------------------------------------------------------------------------


def main():
    ds_dir, ftr, fva, fte, default_name = DATASETS[args.data]
    name = args.name or default_name
    droot = os.path.join(args.data_dir, ds_dir)
    paths = {s: os.path.join(droot, f) for s, f in (("train", ftr), ("valid", fva), ("test", fte))}
    os.makedirs(args.out_dir, exist_ok=True)
    prefix = os.path.join(args.out_dir, name)
    if args.verify_only:
        sys.exit(0 if verify(args.out_dir, name, paths["test"]) else 1)

    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    t_start = time.time()

    lines = {s: read_lines(p) for s, p in paths.items()}
    words = {s: count_words(l) for s, l in lines.items()}
    print("lines %s words %s" % ({s: len(l) for s, l in lines.items()}, words), flush=True)

    # ---- tokenizer
    init_prefix = os.path.splitext(args.init)[0] if args.init else None
    if init_prefix and os.path.abspath(init_prefix) != os.path.abspath(prefix):
        for ext in (".tok", ".model", ".vocab"):  # the checkpoint's tokenizer, beside the output
            shutil.copyfile(init_prefix + ext, prefix + ext)
    if args.golden_only or args.eval_only or init_prefix:  # keep the existing tokenizer: the .bin was trained with it
        _, vt, vs = read_tokenizer(prefix + ".tok", args.vocab)
        sp = None
    else:
        sp = train_tokenizer(lines["train"], args.vocab, prefix, 1)
        vt, vs = export_tokenizer(sp, prefix + ".tok")
    assert vt[3] == b"<0x00>" and vt[NL_TOKEN] == b"<0x0A>" and vt[258] == b"<0xFF>"
    enc = Llama2cEncoder(vt, vs)
    streams = {s: encode_lines(enc, l) for s, l in lines.items()}
    ntok = {s: len(v) for s, v in streams.items()}
    n0 = sum(st.count(0) for st in streams.values())
    if sp is None:
        same = -1
    else:  # agreement with sentencepiece's own encoder (informative)
        same = sum(enc.encode(l.strip()) == sp.encode(l.strip()) for l in lines["valid"][:500])
    print("tokenizer: vocab %d, tokens %s, <unk>-id tokens %d, run.c==sp.encode on %d/500 valid lines (%.1fs)"
          % (args.vocab, ntok, n0, same, time.time() - t_start), flush=True)

    # ---- baselines
    tb = time.time()
    ws = {s: word_stream(l) for s, l in lines.items()}
    for s in ws:
        assert len(ws[s]) == words[s]
    baselines = ngram_baselines(ws["train"], ws["valid"], ws["test"])
    print("baselines (word ppl): %s (%.1fs)" % (json.dumps(baselines), time.time() - tb), flush=True)

    # ---- model
    class RMSNorm(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(d))

        def forward(self, x):
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * self.weight

    H, KV, D, L = args.heads, args.kv_heads, args.dim, args.seq_len
    hs = D // H
    assert D % H == 0 and H % KV == 0 and hs % 2 == 0

    # RoPE tables (computed in float64, stored float32): angle = pos / 10000^(2i/hs)
    inv = 1.0 / (10000.0 ** (torch.arange(0, hs, 2, dtype=torch.float64) / hs))
    ang = torch.outer(torch.arange(L, dtype=torch.float64), inv)
    fcos, fsin = torch.cos(ang).float(), torch.sin(ang).float()

    def apply_rope(x, T):  # x [B, T, h, hs]
        xr, xi = x[..., 0::2], x[..., 1::2]
        c = fcos[:T].view(1, T, 1, hs // 2)
        s = fsin[:T].view(1, T, 1, hs // 2)
        return torch.stack((xr * c - xi * s, xr * s + xi * c), dim=-1).flatten(3)

    mask = torch.full((L, L), float("-inf")).triu(1)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.attention_norm = RMSNorm(D)
            self.wq = nn.Linear(D, H * hs, bias=False)
            self.wk = nn.Linear(D, KV * hs, bias=False)
            self.wv = nn.Linear(D, KV * hs, bias=False)
            self.wo = nn.Linear(H * hs, D, bias=False)
            self.ffn_norm = RMSNorm(D)
            self.w1 = nn.Linear(D, args.hidden, bias=False)
            self.w2 = nn.Linear(args.hidden, D, bias=False)
            self.w3 = nn.Linear(D, args.hidden, bias=False)
            self.drop = nn.Dropout(args.dropout)

        def forward(self, x):
            B, T, _ = x.shape
            h = self.attention_norm(x)
            q = apply_rope(self.wq(h).view(B, T, H, hs), T)
            k = apply_rope(self.wk(h).view(B, T, KV, hs), T)
            v = self.wv(h).view(B, T, KV, hs)
            if KV != H:
                k = k.repeat_interleave(H // KV, dim=2)
                v = v.repeat_interleave(H // KV, dim=2)
            q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) / math.sqrt(hs) + mask[:T, :T]
            att = self.drop(F.softmax(att, dim=-1))
            y = (att @ v).transpose(1, 2).reshape(B, T, H * hs)
            x = x + self.drop(self.wo(y))
            h = self.ffn_norm(x)
            return x + self.drop(self.w2(F.silu(self.w1(h)) * self.w3(h)))

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok_embeddings = nn.Embedding(args.vocab, D)
            self.layers = nn.ModuleList([Block() for _ in range(args.layers)])
            self.norm = RMSNorm(D)
            self.output = nn.Linear(D, args.vocab, bias=False)
            if not args.untied:
                self.output.weight = self.tok_embeddings.weight
            self.drop = nn.Dropout(args.dropout)
            for n_, p in self.named_parameters():
                if p.dim() == 2:
                    std = 0.02 / math.sqrt(2 * args.layers) if n_.endswith(("wo.weight", "w2.weight")) else 0.02
                    nn.init.normal_(p, 0.0, std)

        def forward(self, idx):
            x = self.drop(self.tok_embeddings(idx))
            for layer in self.layers:
                x = layer(x)
            return self.output(self.norm(x))

    model = Model()
    def load_bin(path):  # the weights of a llama2.c checkpoint into model
        cfg, w = np_read_model(path)
        want = dict(dim=D, hidden=args.hidden, layers=args.layers, heads=H, kv_heads=KV,
                    vocab=args.vocab, seq=L)
        if cfg != want:
            sys.exit("%s has %s but the flags say %s" % (path, cfg, want))
        sd = model.state_dict()
        t = lambda a: torch.from_numpy(np.array(a, dtype=np.float32))
        sd["tok_embeddings.weight"].copy_(t(w["emb"]))
        for l in range(args.layers):
            for key, wk in (("attention_norm.weight", "att_norm"), ("wq.weight", "wq"),
                            ("wk.weight", "wk"), ("wv.weight", "wv"), ("wo.weight", "wo"),
                            ("ffn_norm.weight", "ffn_norm"), ("w1.weight", "w1"),
                            ("w2.weight", "w2"), ("w3.weight", "w3")):
                sd["layers.%d.%s" % (l, key)].copy_(t(w[wk][l]))
        sd["norm.weight"].copy_(t(w["norm"]))
        if args.untied:
            sd["output.weight"].copy_(t(w["cls"]))

    prior = None  # the training behind --init, from its JSON
    if init_prefix:
        load_bin(args.init)
        if os.path.exists(init_prefix + ".json"):
            pm = json.load(open(init_prefix + ".json"))
            prior = {"from": args.init, "steps": pm.get("total_steps", pm.get("steps")),
                     "tokens_seen": pm.get("total_tokens_seen", pm.get("tokens_seen")),
                     "train_minutes": pm.get("total_train_minutes", pm.get("train_minutes")),
                     "hyperparameters": pm.get("hyperparameters"), "init": pm.get("init")}
        else:
            prior = {"from": args.init}
        print("init: weights from %s (%s steps before)" % (args.init, prior.get("steps")), flush=True)
    @torch.no_grad()
    def evaluate(stream, max_windows=None, bs=16, stride=None):
        """Total NLL and count of every stream token after the first. Window c scores the
        predictions of tokens cS+1 .. cS+S from a fresh start at max(0, cS + S - L): S = L
        (default) gives non-overlapping windows, S < L sliding ones (hekv eval --stride)."""
        model.eval()
        S = stride or L
        s = torch.tensor(stream, dtype=torch.long)
        N = len(s)
        starts = list(range(0, N - 1, S))
        if max_windows:
            starts = starts[:max_windows]
        nll, cnt = 0.0, 0

        def window(c0):  # (input, targets, scored count)
            b = max(0, c0 + S - L)
            e = min(c0 + S, N - 1)
            return s[b:e], s[b + 1:e + 1], e - c0

        full = [c0 for c0 in starts if c0 + S - L >= 0 and c0 + S <= N - 1]
        for i in range(0, len(full), bs):
            xs, ys = zip(*[window(c0)[:2] for c0 in full[i:i + bs]])
            x, y = torch.stack(xs), torch.stack(ys)
            lp = F.cross_entropy(model(x)[:, L - S:].reshape(-1, args.vocab),
                                 y[:, L - S:].reshape(-1), reduction="sum")
            nll += lp.item()
            cnt += y[:, L - S:].numel()
        fullset = set(full)
        for c0 in starts:
            if c0 not in fullset:  # the first windows (shorter context) and the last one
                x, y, k = window(c0)
                lg = model(x.unsqueeze(0))[0, -k:]
                nll += F.cross_entropy(lg, y[-k:], reduction="sum").item()
                cnt += k
        model.train()
        return nll, cnt

    def final_eval():
        """Valid and test perplexities, non-overlapping and sliding windows."""
        res, res_sliding = {}, {}
        eval_stride = args.eval_stride or L // 2
        for s in ("valid", "test"):
            for S, out in ((L, res), (eval_stride, res_sliding)):
                nll, cnt = evaluate(streams[s], stride=S)
                assert cnt == len(streams[s]) - 1
                out[s] = {"tokens": cnt, "words": words[s], "nll": nll,
                          "token_ppl": math.exp(nll / cnt), "word_ppl": math.exp(nll / words[s]),
                          "bits_per_token": nll / cnt / math.log(2), "stride": S}
                print("%s (stride %d): token ppl %.3f  word ppl %.3f  (%d tokens, %d words)"
                      % (s, S, out[s]["token_ppl"], out[s]["word_ppl"], cnt, words[s]), flush=True)
        return res, res_sliding

    if args.eval_only:
        load_bin(prefix + ".bin")
        model.eval()
        res, res_sliding = final_eval()
        meta_path = prefix + ".json"
        meta = json.load(open(meta_path)) if os.path.exists(meta_path) else {}
        meta["eval"], meta["eval_sliding"] = res, res_sliding
        with open(meta_path, "w") as f:
            json.dump(meta, f, indent=1)
        print("updated the evaluation in %s" % meta_path)
        return
    if args.golden_only:
        load_bin(prefix + ".bin")
        write_golden(model, streams["test"][:GOLDEN_T], prefix)
        meta_path = prefix + ".json"
        if os.path.exists(meta_path):
            meta = json.load(open(meta_path))
            meta["golden"] = {"T": GOLDEN_T, "tokens": streams["test"][:GOLDEN_T]}
            with open(meta_path, "w") as f:
                json.dump(meta, f, indent=1)
        print("wrote %s.golden from %s.bin" % (prefix, prefix))
        if args.verify:
            sys.exit(0 if verify(args.out_dir, name, paths["test"]) else 1)
        return
    nparams = sum(p.numel() for p in model.parameters())
    print("model: %d params (%.2f MiB float32)" % (nparams, nparams * 4 / 2**20), flush=True)

    train = torch.tensor(streams["train"], dtype=torch.long)
    gen = torch.Generator().manual_seed(args.seed)

    def get_batch():
        ix = torch.randint(len(train) - L - 1, (args.batch,), generator=gen)
        x = torch.stack([train[i:i + L] for i in ix])
        y = torch.stack([train[i + 1:i + L + 1] for i in ix])
        return x, y

    decay = [p for n_, p in model.named_parameters() if p.dim() == 2]
    nodecay = [p for n_, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd},
                             {"params": nodecay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)

    def step_fn():
        x, y = get_batch()
        loss = F.cross_entropy(model(x).view(-1, args.vocab), y.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    steps = args.steps
    model.train()
    t_train = time.time()
    it = 0
    if steps <= 0:  # calibrate on 5 steps (warmup lr)
        for g in opt.param_groups:
            g["lr"] = args.lr / args.warmup
        for _ in range(5):
            step_fn()
            it += 1
        per = (time.time() - t_train) / 5
        steps = max(10, int(args.minutes * 60 / per))
        print("calibration: %.3fs/step -> %d steps" % (per, steps), flush=True)
    tok_per_step = args.batch * L
    while it < steps:
        if it < args.warmup:
            lr = args.lr * (it + 1) / args.warmup
        else:
            pr = (it - args.warmup) / max(1, steps - args.warmup)
            lr = args.lr * (args.min_lr_frac + (1 - args.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * pr)))
        for g in opt.param_groups:
            g["lr"] = lr
        loss = step_fn()
        it += 1
        if it % 20 == 0 or it == steps:
            el = time.time() - t_train
            print("step %d/%d loss %.4f lr %.2e %.1f tok/s elapsed %.1f min, eta %.1f min"
                  % (it, steps, loss, lr, it * tok_per_step / el, el / 60, el / it * (steps - it) / 60), flush=True)
        if args.eval_every and (it % args.eval_every == 0 or it == steps):
            nll, cnt = evaluate(streams["valid"], args.eval_windows)
            print("  valid(first %d windows) token ppl %.3f" % (args.eval_windows, math.exp(nll / cnt)), flush=True)
    train_time = time.time() - t_train

    # ---- final evaluation
    model.eval()
    res, res_sliding = final_eval()

    # ---- export (legacy llama2.c version 0)
    sd = {k: v.detach().float().contiguous() for k, v in model.state_dict().items()}

    def ser(f, t):
        f.write(t.numpy().astype("<f4").tobytes())
    vhdr = args.vocab if not args.untied else -args.vocab
    with open(prefix + ".bin", "wb") as f:
        f.write(struct.pack("7i", D, args.hidden, args.layers, H, KV, vhdr, L))
        ser(f, sd["tok_embeddings.weight"])
        for key in ("attention_norm.weight", "wq.weight", "wk.weight", "wv.weight", "wo.weight",
                    "ffn_norm.weight", "w1.weight", "w2.weight", "w3.weight"):
            for l in range(args.layers):
                ser(f, sd["layers.%d.%s" % (l, key)])
        ser(f, sd["norm.weight"])
        ser(f, fcos[:L])
        ser(f, fsin[:L])
        if args.untied:
            ser(f, sd["output.weight"])

    # ---- golden logits
    gt = streams["test"][:GOLDEN_T]
    write_golden(model, gt, prefix)

    meta = {
        "name": name, "data": args.data, "files": {s: p for s, p in paths.items()},
        "hyperparameters": {k: v for k, v in vars(args).items() if k not in ("verify", "verify_only")},
        "steps": steps, "tokens_seen": steps * tok_per_step,
        "init": prior,
        "total_steps": steps + ((prior or {}).get("steps") or 0),
        "total_tokens_seen": steps * tok_per_step + ((prior or {}).get("tokens_seen") or 0),
        "total_train_minutes": train_time / 60 + ((prior or {}).get("train_minutes") or 0),
        "params": nparams, "bin_bytes": os.path.getsize(prefix + ".bin"),
        "llama2c_header": {"dim": D, "hidden_dim": args.hidden, "n_layers": args.layers, "n_heads": H,
                           "n_kv_heads": KV, "vocab_size": vhdr, "max_seq_len": L},
        "tokenizer": {"type": "sentencepiece BPE, byte_fallback", "vocab_size": args.vocab,
                      "bos": BOS, "eos": EOS, "newline_token": NL_TOKEN,
                      "encoded_tokens": ntok, "tokens_per_word": {s: ntok[s] / words[s] for s in ntok}},
        "convention": "stream = [BOS] + for each line (file split on '\\n', no final empty line): "
                      "run.c encode(line.strip(), bos=0, eos=0) if non-empty, then token 13 (<0x0A>); "
                      "eval windows of seq_len from a fresh cache, every token after BOS scored once; "
                      "word ppl = exp(NLL / (whitespace words + lines))",
        "train_seconds": train_time, "train_minutes": train_time / 60,
        "total_seconds": time.time() - t_start,
        "torch": torch.__version__, "threads": args.threads,
        "eval": res, "eval_sliding": res_sliding, "baselines_word_ppl": baselines,
        "golden": {"T": len(gt), "tokens": gt},
    }
    with open(prefix + ".json", "w") as f:
        json.dump(meta, f, indent=1)
    print("wrote %s.{bin,tok,model,golden,json} (total %.1f min)" % (prefix, (time.time() - t_start) / 60), flush=True)
    if args.verify:
        ok = verify(args.out_dir, name, paths["test"])
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
