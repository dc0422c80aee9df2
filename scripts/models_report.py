#!/usr/bin/python3
"""Writes results/models.md: for each trained model in models/weights (NAME.json from
scripts/train_lm.py), the PyTorch perplexities and n-gram baselines the training script
recorded, beside what the C reference engine (`build/hekv eval --lines`) measures on the
same test file, plus LAMBADA last-word accuracy and the golden-logit check.

usage: scripts/models_report.py [--hekv build/hekv] [--threads 2] [--lambada-max 0]
"""
import argparse
import datetime
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd):
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout


def shown(cmd):
    """The command as a reader on a checkout would type it (build/hekv, ../shared/...)."""
    shared = os.path.realpath(os.path.join(ROOT, "..", "shared"))
    return " ".join(["build/hekv" if i == 0 else a.replace(shared, "../shared")
                     for i, a in enumerate(cmd)])


def field(out, name):
    m = re.search(r"^%s:\s+([-0-9.e+]+)" % re.escape(name), out, re.M)
    return float(m.group(1)) if m else float("nan")


# train_lm.py's defaults: a reproduce command names only the flags that differ from them
TRAIN_DEFAULTS = {"vocab": 2048, "dim": 128, "layers": 4, "heads": 4, "kv_heads": 2, "hidden": 384,
                  "seq_len": 128, "batch": 32, "lr": 3e-3, "min_lr_frac": 0.1, "warmup": 100,
                  "wd": 0.1, "dropout": 0.0, "seed": 1337, "untied": False}


def stages(meta):
    """The training stages behind a model, oldest first: (hyperparameters, steps, minutes, init)."""
    out, prior = [], meta.get("init")
    while prior and prior.get("hyperparameters"):
        out.append((prior["hyperparameters"], prior["hyperparameters"]["steps"], None,
                    prior["hyperparameters"].get("init")))
        prior = prior.get("init")
    out.reverse()
    hp = meta["hyperparameters"]
    out.append((hp, meta["steps"], meta["train_minutes"], hp.get("init")))
    return out


def train_cmd(hp, steps, init):
    cmd = "/usr/bin/python3 scripts/train_lm.py --data %s" % hp["data"]
    if init:
        # each stage continues the previous one, which the training script exported to
        # models/weights (the recorded path may be a scratch copy of that file)
        cmd += " --init models/weights/%s" % os.path.basename(init)
    cmd += " --steps %d" % steps
    for k, d in TRAIN_DEFAULTS.items():
        v = hp.get(k, d)
        if v != d:
            flag = "--" + k.replace("_", "-")
            cmd += " " + flag if isinstance(v, bool) else " %s %g" % (flag, v)
    return cmd + " --verify"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hekv", default="build/hekv")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lambada-max", type=int, default=0, help="LAMBADA passages (0 = all)")
    ap.add_argument("--out", default="results/models.md")
    ap.add_argument("--only", default=None,
                    help="comma-separated models to (re)evaluate; the others' rows come from "
                         "the JSON beside --out, as a previous run left them")
    args = ap.parse_args()
    cache_path = os.path.join(ROOT, os.path.splitext(args.out)[0] + ".json")
    cached = {}
    if args.only and os.path.exists(cache_path):
        cached = {r["name"]: r for r in json.load(open(cache_path))["rows"]}

    commit = run(["git", "rev-parse", "--short", "HEAD"]).strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    rows, cmds = [], []
    for name in ("ptb", "wt2"):
        meta_path = os.path.join(ROOT, "models/weights", name + ".json")
        if not os.path.exists(meta_path):
            continue
        if args.only and name not in args.only.split(","):
            if name in cached:
                rows.append(cached[name])
                cmds.extend(cached[name]["eval_cmds"])
            continue
        meta = json.load(open(meta_path))
        model = "models/weights/%s.bin" % name
        first_cmd = len(cmds)
        tok = "models/weights/%s.tok" % name
        test = meta["files"]["test"]
        cmd = [args.hekv, "eval", "--model", model, "--tokenizer", tok, "--data", test, "--lines",
               "--precision", "f32", "--threads", str(args.threads)]
        cmds.append(shown(cmd))
        out = run(cmd)
        sl = meta.get("eval_sliding", {}).get("test")
        c_sliding = float("nan")
        if sl:  # the sliding-window figure, recomputed by the C engine
            scmd = cmd + ["--stride", str(sl["stride"])]
            cmds.append(shown(scmd))
            c_sliding = field(run(scmd), "word perplexity")
        lam = float("nan")
        lam_path = os.path.join(os.path.dirname(os.path.dirname(test)), "lambada", "lambada_test_plain_text.txt")
        if os.path.exists(lam_path):
            lcmd = [args.hekv, "eval", "--model", model, "--tokenizer", tok, "--lambada", lam_path,
                    "--precision", "f32", "--threads", str(args.threads)]
            if args.lambada_max:
                lcmd += ["--max-examples", str(args.lambada_max)]
            cmds.append(shown(lcmd))
            lo = run(lcmd)
            m = re.search(r"= ([0-9.]+)% last-word accuracy", lo)
            lam = float(m.group(1)) if m else float("nan")
        hp = meta["hyperparameters"]
        b = meta["baselines_word_ppl"]
        rows.append({
            "name": name, "data": meta["data"],
            "arch": "dim %d, %d layers, %d heads (%d KV), hidden %d, vocab %d BPE, ctx %d"
                    % (hp["dim"], hp["layers"], hp["heads"], hp["kv_heads"], hp["hidden"], hp["vocab"], hp["seq_len"]),
            "params": meta["params"],
            "steps": "+".join(str(st[1]) for st in stages(meta)),
            "minutes": meta.get("total_train_minutes", meta["train_minutes"]),
            "torch_test_word": meta["eval"]["test"]["word_ppl"],
            "torch_valid_word": meta["eval"]["valid"]["word_ppl"],
            "torch_test_token": meta["eval"]["test"]["token_ppl"],
            "c_test_word": field(out, "word perplexity"), "c_test_token": field(out, "token perplexity"),
            "stride": sl["stride"] if sl else None,
            "torch_sliding": sl["word_ppl"] if sl else float("nan"), "c_sliding": c_sliding,
            "uni": b["unigram_add1"]["test"], "bi": b["bigram_addk"]["test"], "kn": b["bigram_kneser_ney"]["test"],
            "lambada": lam,
            "cmd": " && ".join(train_cmd(h, n, i) for h, n, _, i in stages(meta)),
            "eval_cmds": cmds[first_cmd:], "commit": commit,
        })

    with open(cache_path, "w") as f:
        json.dump({"rows": rows}, f, indent=1)

    # hand-written notes at the end of the previous report (from a line "Notes ..." on) stay
    out_path, notes = os.path.join(ROOT, args.out), ""
    if os.path.exists(out_path):
        old = open(out_path).read()
        m = re.search(r"^Notes\b", old, re.M)
        notes = old[m.start():] if m else ""
    with open(out_path, "w") as f:
        f.write("# Models: perplexity of our trained models and baselines\n\n")
        f.write("Generated by `scripts/models_report.py` at commit %s on %s (%s). Word-level\n"
                "perplexity = exp(total NLL / (whitespace words + lines)), the PTB / WikiText\n"
                "convention (PTB test 82,430 words, WikiText-2 test 245,569), so the BPE models\n"
                "compare with word-level baselines. The stream convention is in\n"
                "`scripts/train_lm.py` (`hekv eval --lines` implements it): windows of the\n"
                "model's context that do not overlap, each from a fresh cache, so a window's\n"
                "first tokens see little context. The sliding columns score the same tokens\n"
                "with windows every S tokens (`hekv eval --lines --stride S`, S = half the\n"
                "context): every prediction has at least S tokens of context, as the n-gram\n"
                "baselines always have their n-1 words; it is the usual way to report a\n"
                "fixed-context model's perplexity.\n\n"
                % (commit, datetime.datetime.utcnow().strftime("%Y-%m-%d"), cpu))
        f.write("| model | data | params | steps (min, 1 thread) | test word ppl (PyTorch) | test word ppl (hekv C, f32) | sliding S: test word ppl (PyTorch / hekv C) | valid word ppl | test token ppl | unigram add-1 | bigram add-k | bigram Kneser-Ney | LAMBADA acc. |\n")
        f.write("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
        for r in rows:
            sliding = ("S = %d: %.1f / %.1f" % (r["stride"], r["torch_sliding"], r["c_sliding"])
                       if r["stride"] else "-")
            f.write("| %s | %s | %d | %s (%.0f) | %.1f | %.1f | %s | %.1f | %.2f | %.1f | %.1f | %.1f | %.2f%% |\n"
                    % (r["name"], r["data"], r["params"], r["steps"], r["minutes"], r["torch_test_word"],
                       r["c_test_word"], sliding, r["torch_valid_word"], r["torch_test_token"], r["uni"],
                       r["bi"], r["kn"], r["lambada"]))
        f.write("\nArchitectures:\n\n")
        for r in rows:
            f.write("- `%s`: %s. Reproduce: `%s`\n" % (r["name"], r["arch"], r["cmd"]))
        f.write("\nEvaluation commands:\n\n")
        for c in cmds:
            f.write("    %s\n" % c)
        if notes:
            f.write("\n" + notes)
    print("wrote " + args.out)


if __name__ == "__main__":
    main()
