#!/usr/bin/python3
#===- examples/digits/train.py - Train the digits MLP (numpy only) -------===#
#
# Trains a 64-1024-1024-10 ReLU MLP on the handwritten digits that Debian's
# python3-sklearn ships (sklearn.datasets.load_digits: 1797 8x8 images, 10
# classes) and writes its weights and the test set as .npy files next to this
# script. Deterministic: fixed seeds, float64 training, float32 export.
#
#   fc{1,2,3}_w.npy  K x N weights (quilt.linear's x[M,K] * W[K,N])
#   fc{1,2,3}_b.npy  N biases
#   test_x.npy       540 x 64 test images, pixels / 16
#   test_y.npy       540 labels (int32)
#   calib_x.npy      540 x 64 training images (the batch of @forward): the
#                    calibration input of quilt-select-formats
#
#===----------------------------------------------------------------------===#
import os
import sys

import numpy as np
from sklearn.datasets import load_digits

HIDDEN = 1024
TEST = 540
CALIB = 540
EPOCHS = 40
BATCH = 64


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(
        os.path.abspath(__file__))
    digits = load_digits()
    x = digits.data.astype(np.float64) / 16.0
    y = digits.target.astype(np.int64)
    order = np.random.RandomState(0).permutation(len(x))
    test, train = order[:TEST], order[TEST:]

    rng = np.random.RandomState(1)
    sizes = [64, HIDDEN, HIDDEN, 10]
    params = []
    for k, n in zip(sizes[:-1], sizes[1:]):
        params.append([rng.randn(k, n) * np.sqrt(2.0 / k), np.zeros(n)])
    # Adam.
    moments = [[(np.zeros_like(p), np.zeros_like(p)) for p in layer]
               for layer in params]
    lr, b1, b2, eps, step = 1e-3, 0.9, 0.999, 1e-8, 0

    for epoch in range(EPOCHS):
        perm = train[rng.permutation(len(train))]
        for s in range(0, len(perm), BATCH):
            idx = perm[s:s + BATCH]
            acts = [x[idx]]
            for i, (w, b) in enumerate(params):
                z = acts[-1] @ w + b
                acts.append(np.maximum(z, 0) if i < len(params) - 1 else z)
            logits = acts[-1]
            p = np.exp(logits - logits.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            grad = p
            grad[np.arange(len(idx)), y[idx]] -= 1
            grad /= len(idx)
            step += 1
            for i in reversed(range(len(params))):
                w, b = params[i]
                gw = acts[i].T @ grad + 1e-4 * w
                gb = grad.sum(0)
                if i > 0:
                    grad = (grad @ w.T) * (acts[i] > 0)
                for j, g in enumerate((gw, gb)):
                    m, v = moments[i][j]
                    m[:] = b1 * m + (1 - b1) * g
                    v[:] = b2 * v + (1 - b2) * g * g
                    mh = m / (1 - b1**step)
                    vh = v / (1 - b2**step)
                    params[i][j] -= lr * mh / (np.sqrt(vh) + eps)

    h = x[test]
    for i, (w, b) in enumerate(params):
        h = h @ w + b
        if i < len(params) - 1:
            h = np.maximum(h, 0)
    accuracy = (h.argmax(1) == y[test]).mean()
    print(f"test accuracy (float64): {accuracy * 100:.2f}%")

    for i, (w, b) in enumerate(params):
        np.save(os.path.join(out, f"fc{i + 1}_w.npy"), w.astype(np.float32))
        np.save(os.path.join(out, f"fc{i + 1}_b.npy"), b.astype(np.float32))
    np.save(os.path.join(out, "test_x.npy"), x[test].astype(np.float32))
    np.save(os.path.join(out, "test_y.npy"), y[test].astype(np.int32))
    np.save(os.path.join(out, "calib_x.npy"),
            x[train[:CALIB]].astype(np.float32))


if __name__ == "__main__":
    main()
