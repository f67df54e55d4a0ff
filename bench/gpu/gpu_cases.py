#===- gpu_cases.py - The GPU bench's cases, inputs and result rows -------===#
"""The GPU bench's cases (bench/gpu/cases/linear_<format>_MxKxN.mlir), the
launcher's random inputs regenerated bit for bit, what each weight format
computes (the reference projections) and the result rows. numpy only."""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from pathlib import Path
from typing import Any, Optional

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
CASES_DIR = ROOT / "bench" / "gpu" / "cases"

FAIL_REL_ERR = 1e-2  # bf16/f16 output rounding alone is ~4e-3.

#===----------------------------------------------------------------------===#
# Inputs: the launcher's splitmix64 generator (lib/Runtime/HostArray.cpp)
#===----------------------------------------------------------------------===#

_GOLDEN = 0x9E3779B97F4A7C15
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB
_MASK64 = (1 << 64) - 1


def splitmix64_float_scalar(seed: int, j: int) -> float:
    """Element j of a random f32 array started at `seed`, one at a time."""
    z = (seed + (j + 1) * _GOLDEN) & _MASK64
    z = ((z ^ (z >> 30)) * _MIX1) & _MASK64
    z = ((z ^ (z >> 27)) * _MIX2) & _MASK64
    z ^= z >> 31
    # (z >> 40) < 2^24, so this is the exact f32 value of the C++ code.
    return float(z >> 40) * 2.0**-24 * 2.0 - 1.0


def splitmix64_floats(seed: int, count: int, chunk: int = 1 << 23) -> np.ndarray:
    """The first `count` floats of the generator started at `seed` (f32).

    uint64 arrays wrap on overflow, which is the arithmetic the generator
    wants; every constant is an np.uint64 so that numpy 1.x does not promote
    to float64. Chunked to bound the temporaries (45M elements for the int4
    weight would otherwise need several GB)."""
    out = np.empty(count, dtype=np.float32)
    u64 = np.uint64
    for start in range(0, count, chunk):
        stop = min(count, start + chunk)
        j = np.arange(start + 1, stop + 1, dtype=np.uint64)
        with np.errstate(over="ignore"):
            z = j * u64(_GOLDEN) + u64(seed & _MASK64)
            z = (z ^ (z >> u64(30))) * u64(_MIX1)
            z = (z ^ (z >> u64(27))) * u64(_MIX2)
            z ^= z >> u64(31)
        bits = (z >> u64(40)).astype(np.float32)
        out[start:stop] = bits * np.float32(2.0**-24) * np.float32(2.0) - np.float32(1.0)
    return out


@functools.lru_cache(maxsize=8)
def random_f32(seed: int, rows: int, cols: int) -> np.ndarray:
    """A rows x cols f32 array as the launcher fills an argument (read-only;
    cached because the int4 cases share their 4096 x 11008 weight)."""
    a = splitmix64_floats(seed, rows * cols).reshape(rows, cols)
    a.setflags(write=False)
    return a


def round_bf16(a: np.ndarray) -> np.ndarray:
    """Rounds f32 values to bf16, nearest even, returned as f32 (finite
    inputs; the bench's values are in [-1, 1) and products of them)."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)
    with np.errstate(over="ignore"):
        r = (u + np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))) & np.uint32(0xFFFF0000)
    return r.view(np.float32)


def round_f16(a: np.ndarray) -> np.ndarray:
    """Rounds f32 values to f16, nearest even, returned as f32."""
    return np.asarray(a, dtype=np.float32).astype(np.float16).astype(np.float32)


def round_to(a: np.ndarray, dtype: str) -> np.ndarray:
    return round_bf16(a) if dtype == "bf16" else round_f16(a)


#===----------------------------------------------------------------------===#
# Weight formats, mirroring lib/Conversion/QuiltToLinalg/ReferenceKernels.mlir
#===----------------------------------------------------------------------===#


def prune_nm(w: np.ndarray, n: int, m: int) -> np.ndarray:
    """quilt_ref_prune_nm: in each group of m consecutive rows (along K) of
    each column keep the n entries of largest |w|, ties to the lower row."""
    k, cols = w.shape
    w3 = np.asarray(w, dtype=np.float32).reshape(k // m, m, cols)
    a = np.abs(w3)
    keep = np.empty(w3.shape, dtype=bool)
    for s in range(m):
        rank = np.zeros((k // m, cols), dtype=np.int32)
        for t in range(m):
            beats = a[:, t, :] > a[:, s, :]
            if t < s:
                beats |= a[:, t, :] == a[:, s, :]
            rank += beats
        keep[:, s, :] = rank < n
    return np.where(keep, w3, np.float32(0)).reshape(k, cols)


def fake_quant_int_symmetric(w: np.ndarray, group: int, bits: int) -> np.ndarray:
    """quilt_ref_fake_quant_int_symmetric with one scale per `group` rows
    (along K) per column, f32 arithmetic in the reference's order:
    scale = absmax / qmax, q = clamp(roundeven(w / scale), -qmax-1, qmax),
    deq = q * scale, and 0 where the scale is 0."""
    k, cols = w.shape
    w3 = np.asarray(w, dtype=np.float32).reshape(k // group, group, cols)
    qmax = np.float32(2 ** (bits - 1) - 1)
    qmin = np.float32(-qmax - np.float32(1))
    absmax = np.maximum(np.abs(w3).max(axis=1, keepdims=True), np.float32(0))
    scale = absmax / qmax
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.minimum(np.maximum(np.round(w3 / scale), qmin), qmax)  # np.round: half to even
        deq = q * scale
    deq = np.where(scale == np.float32(0), np.float32(0), deq)
    return deq.astype(np.float32).reshape(k, cols)


#===----------------------------------------------------------------------===#
# Cases
#===----------------------------------------------------------------------===#

_CASE_RE = re.compile(r"^linear_(bf16|f16|2of4_f16|int4g128_f16|w8a8_f16)_(\d+)x(\d+)x(\d+)$")


@dataclasses.dataclass(frozen=True)
class Case:
    """One bench case: y[M, N] = x[M, K] . W[K, N] with W in `fmt`."""

    name: str
    m: int
    k: int
    n: int
    dtype: str  # "bf16" or "f16": activations and output
    fmt: str  # "dense", "2of4", "int4g128" or "w8a8"

    @property
    def quilt_impl(self) -> str:
        return {"dense": f"quilt-{self.dtype}", "2of4": "quilt-2of4-f16",
                "int4g128": "quilt-int4-g128", "w8a8": "quilt-w8a8"}[self.fmt]

    @property
    def torch_impl(self) -> str:
        return f"torch-{self.dtype}"

    @property
    def flops(self) -> float:
        return 2.0 * self.m * self.n * self.k


def parse_case(name: str) -> Optional[Case]:
    """Case parameters from a case id such as linear_2of4_f16_4096x4096x4096."""
    match = _CASE_RE.match(name)
    if not match:
        return None
    kind, m, k, n = match.group(1), *map(int, match.group(2, 3, 4))
    dtype = "bf16" if kind == "bf16" else "f16"
    fmt = {"bf16": "dense", "f16": "dense", "2of4_f16": "2of4",
           "int4g128_f16": "int4g128", "w8a8_f16": "w8a8"}[kind]
    return Case(name, m, k, n, dtype, fmt)


def discover_cases(pattern: Optional[str]) -> tuple[list[Case], list[str]]:
    """The cases of bench/gpu/cases/ (dense, 2:4, int4, w8a8; then by M) and the
    file names that do not follow the naming scheme."""
    cases, unknown = [], []
    for path in sorted(CASES_DIR.glob("*.mlir")):
        if pattern and not re.search(pattern, path.stem):
            continue
        case = parse_case(path.stem)
        (cases.append(case) if case else unknown.append(path.stem))
    order = {"dense": 0, "2of4": 1, "int4g128": 2, "w8a8": 3}
    cases.sort(key=lambda c: (order[c.fmt], c.dtype, c.m, c.k, c.n))
    return cases, unknown


def weight_bytes(case: Case, fmt: str) -> float:
    """Bytes of W as an impl stores it: 2 per dense 16-bit value; 2:4 keeps
    half the values plus 2 bits of index per kept value (the cuSPARSELt /
    sm_80+ metadata); int4 g128 is 4 bits per value plus one f16 scale per
    group of 128; w8a8 is a byte per value plus one f32 scale per column."""
    kn = case.k * case.n
    if fmt == "w8a8":
        return kn + 4.0 * case.n
    if fmt == "2of4":
        return kn / 2 * 2 + kn / 2 * 2 / 8
    if fmt == "int4g128":
        return kn / 2 + (case.k / 128) * case.n * 2
    return 2.0 * kn


def traffic_bytes(case: Case, fmt: str) -> float:
    """x + W in `fmt` + y: the minimum an impl must move through memory."""
    return 2.0 * case.m * case.k + weight_bytes(case, fmt) + 2.0 * case.m * case.n


def case_inputs(case: Case, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """x rounded to the case's dtype (as f32) and W as the raw f32 the
    launcher passes for the packed argument: arguments 0 and 1."""
    x = round_to(random_f32(seed + 0, case.m, case.k), case.dtype)
    w = random_f32(seed + 1, case.k, case.n)
    return x, w


def project_weight(case: Case, w: np.ndarray, fmt: str) -> np.ndarray:
    """The f32 matrix `w` decodes to after packing in `fmt`: the reference's
    order is sparsity, then precision."""
    if fmt == "2of4":
        return round_f16(prune_nm(w, 2, 4))
    if fmt == "int4g128":
        return fake_quant_int_symmetric(w, 128, 4)
    if fmt == "w8a8":
        return fake_quant_int_symmetric(w, case.k, 8)
    return round_to(w, case.dtype)


def project_input(case: Case, x: np.ndarray, fmt: str) -> np.ndarray:
    """The f32 matrix x is rounded to before the product: w8a8 quantizes it
    per row (`act <i8, channel>`: the reference rounds x^T as a weight)."""
    if fmt == "w8a8":
        return np.ascontiguousarray(fake_quant_int_symmetric(np.ascontiguousarray(x.T), case.k, 8).T)
    return x


#===----------------------------------------------------------------------===#
# Results
#===----------------------------------------------------------------------===#


@dataclasses.dataclass
class Row:
    """One line of the table and one record of gpu.json."""

    case: str
    impl: str
    status: str = "ok"  # ok | not compiled | failed | unavailable
    median_ms: Optional[float] = None
    min_ms: Optional[float] = None
    max_ms: Optional[float] = None
    samples: Optional[int] = None
    tflops: Optional[float] = None
    gbps: Optional[float] = None
    ratio_vs_torch: Optional[float] = None
    max_rel_err: Optional[float] = None
    check: str = "-"
    note: str = ""
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


def finish_row(row: Row, case: Case, fmt: str) -> Row:
    """Fills the throughput columns from the median."""
    if row.median_ms:
        seconds = row.median_ms * 1e-3
        row.tflops = case.flops / seconds / 1e12
        row.gbps = traffic_bytes(case, fmt) / seconds / 1e9
    return row


def rel_err(y: Any, ref: Any) -> float:
    """max |y - ref| / max |ref| (torch tensors, computed in float64)."""
    import torch

    y64 = y.to(torch.float64)
    denom = ref.abs().max().item()
    diff = (y64 - ref).abs().max().item()
    if not math.isfinite(diff):
        return float("inf")
    return diff / denom if denom > 0 else diff


def set_check(row: Row, err: float) -> None:
    row.max_rel_err = err
    row.check = "ok" if err <= FAIL_REL_ERR else "FAIL"


#===----------------------------------------------------------------------===#
# Where a wrong output is wrong: a layout bug (swizzle, fragment map, edge
# tile) leaves a periodic or banded pattern that names its cause
#===----------------------------------------------------------------------===#


def _ranges(indices: np.ndarray, limit: int = 6) -> str:
    """Sorted indices as "a-b, c, ..." (at most `limit` runs)."""
    runs, start = [], None
    for i, v in enumerate(indices.tolist()):
        if start is None:
            start = prev = v
        elif v != prev + 1:
            runs.append((start, prev))
            start = v
        prev = v
    if start is not None:
        runs.append((start, prev))
    text = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs[:limit])
    return text + (", ..." if len(runs) > limit else "")


def _axis_pattern(wrong_at: np.ndarray, name: str) -> str:
    """How the indices along one axis that hold a wrong element lie: all,
    a residue class modulo the smallest power-of-two period that explains
    them, or ranges."""
    n = len(wrong_at)
    if wrong_at.all():
        return f"{name}: all"
    p = 2
    while p <= min(256, n // 2):
        if n % p == 0:
            blocks = wrong_at.reshape(-1, p)
            if (blocks == blocks[0]).all():
                return f"{name}: i % {p} in {_ranges(np.flatnonzero(blocks[0]))}"
        p *= 2
    return f"{name}: {_ranges(np.flatnonzero(wrong_at))}"


def mismatch_pattern(wrong: np.ndarray) -> str:
    """A one-line summary of a 2-D mask of wrong output elements: how many,
    the first, and the rows and columns that hold them."""
    count = int(wrong.sum())
    if not count:
        return ""
    r, c = np.argwhere(wrong)[0]
    return (f"wrong {count} of {wrong.size} ({100 * count / wrong.size:.3g}%), "
            f"first [{r}, {c}]; {_axis_pattern(wrong.any(axis=1), 'rows')}; "
            f"{_axis_pattern(wrong.any(axis=0), 'cols')}")


def wrong_mask(y: Any, ref: Any) -> np.ndarray:
    """Elements off by more than FAIL_REL_ERR x max |ref|, or NaN (torch
    tensors; the mask comes back as numpy)."""
    import torch

    y64 = y.to(torch.float64)
    tol = FAIL_REL_ERR * ref.abs().max().item()
    return (~((y64 - ref).abs() <= tol)).cpu().numpy()
