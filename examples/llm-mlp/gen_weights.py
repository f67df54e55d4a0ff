#!/usr/bin/python3
#===- examples/llm-mlp/gen_weights.py - Synthetic LLM MLP weights --------===#
#
# Writes the weights of a Llama-shaped MLP block (d = 4096, hidden 11008) as
# .npy files into the directory given (default: this one): gate.npy and
# up.npy (4096 x 11008), down.npy (11008 x 4096), norm.npy (4096), and x.npy
# (16 x 4096 activations, the calibration and timing input). Entries are
# normal with std 0.02 except realistic outlier channels: 1% of the input
# channels of every weight (rows of W) are 12x larger, as LLM weights and
# activations have (LLM.int8(), SmoothQuant), which is what makes per-column
# int8 scales lose accuracy and group scales keep it. Deterministic (seed 0).
#
#===----------------------------------------------------------------------===#
import os
import sys

import numpy as np

D, HIDDEN, TOKENS = 4096, 11008, 16


def weight(rng, k, n):
    w = rng.standard_normal((k, n), dtype=np.float32) * np.float32(0.02)
    outliers = rng.choice(k, k // 100, replace=False)
    w[outliers] *= np.float32(12)
    return w


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(
        os.path.abspath(__file__))
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(0)
    np.save(os.path.join(out, "gate.npy"), weight(rng, D, HIDDEN))
    np.save(os.path.join(out, "up.npy"), weight(rng, D, HIDDEN))
    np.save(os.path.join(out, "down.npy"), weight(rng, HIDDEN, D))
    np.save(os.path.join(out, "norm.npy"),
            (1 + 0.1 * rng.standard_normal(D)).astype(np.float32))
    x = rng.standard_normal((TOKENS, D), dtype=np.float32)
    x[:, rng.choice(D, 8, replace=False)] *= np.float32(20)
    np.save(os.path.join(out, "x.npy"), x)


if __name__ == "__main__":
    main()
