#!/usr/bin/env python3
"""Plots of `quilt-tune eval --plot DIR`: predicted vs measured time and the
decision-regret distribution, from the CSVs eval writes to DIR."""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return {k: [float(r[k]) for r in rows] for k in rows[0]} if rows else {}


def main(out):
    p = read(f"{out}/predictions.csv")
    fig, ax = plt.subplots(figsize=(5, 5))
    for name, color in (("analytical_us", "tab:gray"), ("learned_us", "tab:blue")):
        ax.scatter(p["measured_us"], p[name], s=4, alpha=0.5, color=color,
                   label=name.replace("_us", ""))
    lo = min(min(p["measured_us"]), min(p["learned_us"]))
    hi = max(max(p["measured_us"]), max(p["learned_us"]))
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
    ax.set(xscale="log", yscale="log", xlabel="measured (us)",
           ylabel="predicted (us)", title="held-out shape families")
    ax.legend()
    fig.tight_layout()
    fig.savefig(f"{out}/predicted-vs-measured.png", dpi=120)

    r = read(f"{out}/regret.csv")
    fig, ax = plt.subplots(figsize=(6, 4))
    for name in ("learned", "analytical", "random"):
        v = sorted(r[name])
        ax.plot(v, [(i + 1) / len(v) for i in range(len(v))], label=name)
    ax.set(xscale="log", xlabel="regret (time of picked / best format)",
           ylabel="fraction of decisions", title="decision regret (CDF)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(f"{out}/regret.png", dpi=120)


if __name__ == "__main__":
    main(sys.argv[1])
