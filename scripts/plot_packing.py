#!/usr/bin/env python3
"""plot_packing.py CSV PNG [TITLE]: cost of the packed K/V cache steps against the context
length n, from `hekv bench attention --csv` rows (op,n,rotations,ct_mults,median_ms,
max_abs_err): time on the left, rotation and ciphertext-product counts on the right."""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    src, dst = sys.argv[1], sys.argv[2]
    title = sys.argv[3] if len(sys.argv) > 3 else ""
    rows = {}
    with open(src) as f:
        for r in csv.DictReader(f):
            rows.setdefault(r["op"], []).append(r)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for op, rs in sorted(rows.items()):
        rs.sort(key=lambda r: int(r["n"]))
        n = [int(r["n"]) for r in rs]
        ax1.plot(n, [float(r["median_ms"]) / 1e3 for r in rs], "o-", label=op)
        if op in ("qkt", "attn_v"):
            ax2.plot(n, [int(r["rotations"]) for r in rs], "o-", label=f"{op} rotations")
            ax2.plot(n, [int(r["ct_mults"]) for r in rs], "s--", label=f"{op} ct products")
    ax1.set_xlabel("context length n (tokens)")
    ax1.set_ylabel("seconds per decoding step")
    ax1.set_title("time")
    ax1.grid(alpha=0.3)
    ax1.legend()
    ax2.set_xlabel("context length n (tokens)")
    ax2.set_ylabel("count per decoding step")
    ax2.set_title("rotations and ciphertext products")
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(dst, dpi=120)


if __name__ == "__main__":
    main()
