#===- gpu_self_test.py - bench_gpu.py's checks that need no GPU ----------===#
"""`bench_gpu.py --self-test`: the numpy parts (generator, rounding, format
projections, launcher output decoding, result summaries) against scalar
definitions and hand-made examples. Needs neither torch nor a GPU."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from bench_gpu import best_variants, load_npy_any, parse_launcher_json, run_kernels
from gpu_baselines import quantize_symmetric_int8, rotation_sets
from gpu_cases import (Case, Row, discover_cases, fake_quant_int_symmetric, mismatch_pattern, parse_case,
                       project_input, prune_nm, random_f32, round_bf16, round_f16,
                       splitmix64_float_scalar, splitmix64_floats, weight_bytes)

#===----------------------------------------------------------------------===#
# Self-test of the numpy parts (runs without torch or a GPU)
#===----------------------------------------------------------------------===#


def self_test() -> int:
    """Checks the vectorized generator, the rounding and the format
    projections against scalar definitions and hand-made examples."""
    failures = []

    def expect(cond: bool, what: str) -> None:
        if not cond:
            failures.append(what)

    for seed in (0, 1, 2, 12345, (1 << 64) - 3):
        got = splitmix64_floats(seed, 1000, chunk=300)
        want = np.array([splitmix64_float_scalar(seed, j) for j in range(1000)], dtype=np.float64)
        expect(got.dtype == np.float32 and np.array_equal(got.astype(np.float64), want),
               f"splitmix64_floats(seed={seed}) differs from the scalar definition")
        expect(bool(np.all((got >= -1) & (got < 1))), f"values outside [-1, 1) for seed {seed}")
    big = random_f32(1, 3, 5)
    expect(np.array_equal(big.ravel(), splitmix64_floats(1, 15)), "random_f32 is not row-major")

    # bf16: 1 + 2^-8 is a tie between 1 and 1 + 2^-7 (even: 1); 1 + 3*2^-8 rounds up.
    vals = np.array([1 + 2**-8, 1 + 3 * 2**-8, -(1 + 2**-8 + 2**-20), 0.5, -0.0], dtype=np.float32)
    expect(np.array_equal(round_bf16(vals), np.array([1, 1 + 2**-6, -(1 + 2**-7), 0.5, -0.0], dtype=np.float32)),
           "round_bf16 is not round-half-to-even")
    expect(np.array_equal(round_f16(np.array([1 + 2**-11], np.float32)), np.array([1], np.float32)),
           "round_f16 is not round-half-to-even")

    # 2:4 along K (rows), ties to the lower index.
    w = np.array([[1, -4, 0], [-3, 4, 0], [3, 1, 0], [2, 4, 0],
                  [0, 1, 5], [0, -1, 5], [0, 1, 5], [7, 1, 5]], dtype=np.float32)
    want = np.array([[0, -4, 0], [-3, 4, 0], [3, 0, 0], [0, 0, 0],
                     [0, 1, 5], [0, -1, 5], [0, 0, 0], [7, 0, 0]], dtype=np.float32)
    expect(np.array_equal(prune_nm(w, 2, 4), want), "prune_nm disagrees with the hand example")
    rnd = random_f32(7, 64, 9)
    kept = (prune_nm(rnd, 2, 4).reshape(16, 4, 9) != 0).sum(axis=1)
    expect(bool(np.all(kept == 2)), "prune_nm does not keep exactly 2 of 4")

    # int4 symmetric, one group of 4 rows: absmax 7 -> scale 1; 2.5 -> 2 (even),
    # 3.5 -> 4; -7 stays (clamp at -8 not reached); an all-zero column is 0.
    w = np.array([[7, 0], [2.5, 0], [3.5, 0], [-7, 0]], dtype=np.float32)
    expect(np.array_equal(fake_quant_int_symmetric(w, 4, 4),
                          np.array([[7, 0], [2, 0], [4, 0], [-7, 0]], dtype=np.float32)),
           "fake_quant_int_symmetric disagrees with the hand example")
    w = np.array([[1.0], [-0.3], [0.05], [0.2]], dtype=np.float32)
    scale = np.float32(1.0) / np.float32(7)
    want = (np.round(w / scale).clip(-8, 7) * scale).astype(np.float32)
    expect(np.array_equal(fake_quant_int_symmetric(w, 4, 4), want), "int4 scale formula")
    w = random_f32(3, 256, 6)
    deq = fake_quant_int_symmetric(w, 128, 4)
    expect(bool(np.all(np.abs(deq - w) <= np.abs(w).reshape(2, 128, 6).max(axis=1).repeat(128, axis=0) / 14 + 1e-7)),
           "int4 error above half a step")

    # int8 per row of x: scale = absmax / 127 per row; -1.27 -> -127, 0.005 -> 0
    # (0.5 rounds to even), an all-zero row stays 0.
    x8 = np.array([[1.27, -1.27, 0.005, 0.015], [0, 0, 0, 0]], dtype=np.float32)
    case8 = parse_case("linear_w8a8_f16_2x4x8")
    got = project_input(case8, x8, "w8a8")
    s8 = np.float32(1.27) / np.float32(127)
    want = (np.round(x8[0] / s8).clip(-128, 127) * s8).astype(np.float32)
    expect(np.array_equal(got, np.stack([want, np.zeros(4, np.float32)])), "w8a8 x projection")
    q, sc = quantize_symmetric_int8(x8, axis=1)
    expect(np.array_equal(q[0], np.array([127, -127, 0, 2], np.int8))
           and np.array_equal(q.astype(np.float32) * sc, got), "quantize_symmetric_int8")
    expect(case8.quilt_impl == "quilt-w8a8" and weight_bytes(case8, "w8a8") == 4 * 8 + 4 * 8,
           "w8a8 case")

    # Case naming and byte counts.
    case = parse_case("linear_int4g128_f16_16x4096x11008")
    expect(case == Case("linear_int4g128_f16_16x4096x11008", 16, 4096, 11008, "f16", "int4g128"),
           "parse_case(int4)")
    expect(parse_case("linear_2of4_f16_4096x4096x4096").quilt_impl == "quilt-2of4-f16", "parse_case(2of4)")
    expect(parse_case("linear_bf16_4096x4096x4096").torch_impl == "torch-bf16", "parse_case(bf16)")
    expect(weight_bytes(case, "int4g128") == 4096 * 11008 / 2 + 32 * 11008 * 2, "int4 bytes")
    cases, unknown = discover_cases(None)
    expect(len(cases) >= 9 and not unknown, f"bench/gpu/cases: {len(cases)} cases, unknown {unknown}")
    expect(rotation_sets(90e6, 50 << 20) == 2 and rotation_sets(64 << 20, 50 << 20) == 3
           and rotation_sets(1e6, 50 << 20) == 8, "rotation_sets")

    # Launcher output decoding: bf16 as raw uint16 bits and f16.
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "y.npy"
        np.save(path, (round_bf16(np.array([1.5, -2.25], np.float32)).view(np.uint32) >> 16).astype(np.uint16))
        expect(np.array_equal(load_npy_any(path, "bf16"), np.array([1.5, -2.25], np.float32)), "bf16 npy")
        np.save(path, np.array([[0.5, -3]], np.float16))
        expect(np.array_equal(load_npy_any(path, "f16"), np.array([[0.5, -3]], np.float32)), "f16 npy")
        raw = path.read_bytes().replace(b"'<f2'", b"'bf16'")
        path.write_bytes(raw)
        expect(load_npy_any(path, "f16").shape == (1, 2), "npy with an unknown descr")
    expect(parse_launcher_json('note\n{"median_ms": 1.5}\n')["median_ms"] == 1.5, "launcher JSON")

    # A timing row records the manifest's per-call kernels and tilings.
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.json"
        path.write_text(json.dumps({"launches": [
            {"kernel": "pack", "phase": "setup", "grid": [1, 1, 1]},
            {"kernel": "gemm", "phase": "run", "grid": [8, 1, 1], "registers": 198,
             "config": {"family": "wgmma", "block": [128, 256, 64]}, "flops": 1,
             "args": ["arg0"]}]}))
        kernels = run_kernels(path)
        expect(len(kernels) == 1 and kernels[0]["kernel"] == "gemm" and kernels[0]["flops"] == 1
               and "args" not in kernels[0] and kernels[0]["config"]["family"] == "wgmma",
               "run kernels of a manifest")
        expect(run_kernels(Path(tmp) / "missing.json") == [], "run kernels of no manifest")
    rows = [Row("c", "quilt-bf16", median_ms=2.0), Row("c", "quilt-bf16@a", median_ms=1.0),
            Row("c", "quilt-bf16@b", median_ms=0.5, check="FAIL"), Row("c", "torch-bf16", median_ms=0.1),
            Row("d", "quilt-f16", median_ms=1.0)]
    expect(best_variants(rows) == [("c", "quilt-bf16@a", 2.0)], "fastest checked variant")

    # Where a wrong output is wrong: a periodic row pattern (a fragment
    # map), a band of columns (an edge tile), nothing.
    wrong = np.zeros((256, 512), bool)
    wrong[np.arange(256) % 128 // 8 == 1] = True
    expect(mismatch_pattern(wrong) == "wrong 8192 of 131072 (6.25%), first [8, 0]; "
           "rows: i % 128 in 8-15; cols: all", "periodic mismatch pattern")
    wrong = np.zeros((256, 512), bool)
    wrong[3, 500:] = wrong[7, 500:] = True
    expect(mismatch_pattern(wrong) == "wrong 24 of 131072 (0.0183%), first [3, 500]; "
           "rows: 3, 7; cols: 500-511", "banded mismatch pattern")
    expect(mismatch_pattern(np.zeros((4, 5), bool)) == "", "no mismatch")

    for f in failures:
        print("FAIL:", f)
    print(f"self-test: {'FAILED' if failures else 'ok'} ({len(failures)} failures)")
    return 1 if failures else 0
