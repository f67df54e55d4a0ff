#!/usr/bin/env python3
#===- bench_gpu.py - Quilt's GPU linears against cuBLAS and Triton --------===#
"""Times Quilt's compiled GPU linears against torch (cuBLAS) and Triton.

Runs on the GPU machine, after bench/gpu/prepare.sh has compiled the cases of
bench/gpu/cases/ into bench/gpu/kernels/CASE/ elsewhere. For each case it
runs the Quilt kernel through quilt-cuda-run (--bench, --json, --output-npy),
times the baselines in this process with CUDA events on the same logical
shape, checks every output against a float64 reference computed from the
launcher's own random inputs (regenerated here with the same splitmix64),
prints a table and writes bench/results/gpu.json. Methodology:
bench/README.md, section "gpu".

torch and triton are imported only when the GPU part runs, so `--help` and
`--self-test` (the numpy parts: generator, rounding, format projections)
work without them.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import functools
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
CASES_DIR = ROOT / "bench" / "gpu" / "cases"
KERNELS_DIR = ROOT / "bench" / "gpu" / "kernels"
LAUNCHER_SRC = ROOT / "tools" / "quilt-cuda-run"
RESULTS = ROOT / "bench" / "results" / "gpu.json"

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
# quilt-cuda-run
#===----------------------------------------------------------------------===#


def build_launcher(tmp: Path) -> tuple[Optional[Path], str]:
    """Compiles quilt-cuda-run into tmp; returns (binary, error)."""
    sources = sorted(LAUNCHER_SRC.glob("*.cpp"))
    if not sources:
        return None, f"no sources in {LAUNCHER_SRC.relative_to(ROOT)}"
    compiler = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++")
    if not compiler:
        return None, "no C++ compiler (c++/g++) on PATH"
    binary = tmp / "quilt-cuda-run"
    cmd = [compiler, "-O2", "-std=c++17", f"-I{ROOT / 'include'}", "-o", str(binary), *map(str, sources), "-ldl"]
    print("building launcher:", " ".join(cmd), file=sys.stderr)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return None, "launcher build failed:\n" + proc.stderr[-4000:]
    return binary, ""


def load_npy_any(path: Path, dtype: str) -> np.ndarray:
    """Loads the launcher's output as f32. numpy has no bf16: a bf16 output
    may come as float32, as raw uint16/int16/V2 bits, or with a descr numpy
    does not know, which is then read as raw 16-bit words."""
    try:
        a = np.load(path, allow_pickle=False)
    except (ValueError, TypeError):
        a = _load_npy_raw16(path)
    if a.dtype.kind == "f":
        return a.astype(np.float32)
    if a.dtype.itemsize == 2 and dtype == "bf16":
        bits = a.view(np.uint16).astype(np.uint32) << np.uint32(16)
        return bits.view(np.float32)
    if a.dtype.itemsize == 2:
        return a.view(np.float16).astype(np.float32)
    raise ValueError(f"unexpected output dtype {a.dtype} in {path}")


def _load_npy_raw16(path: Path) -> np.ndarray:
    """Reads an .npy whose descr numpy rejects (e.g. 'bfloat16') as uint16."""
    raw = path.read_bytes()
    if raw[:6] != b"\x93NUMPY":
        raise ValueError(f"{path} is not an .npy file")
    major = raw[6]
    if major == 1:
        hlen, start = int.from_bytes(raw[8:10], "little"), 10
    else:
        hlen, start = int.from_bytes(raw[8:12], "little"), 12
    header = ast.literal_eval(raw[start:start + hlen].decode("latin1"))
    shape = tuple(header["shape"])
    data = np.frombuffer(raw, dtype="<u2", offset=start + hlen, count=int(np.prod(shape)))
    return data.reshape(shape, order="F" if header.get("fortran_order") else "C")


def parse_launcher_json(stdout: str) -> dict[str, Any]:
    """The one JSON object of --json, tolerating other lines around it."""
    text = stdout.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON object in the launcher's output")


def run_kernels(manifest: Path) -> list[dict[str, Any]]:
    """The manifest's per-call launches with their tiling (`config`) and
    ptxas's figures: what a timing of the kernel set is a sample of."""
    keys = ("kernel", "grid", "block", "shared_bytes", "config", "registers",
            "stack_bytes", "spill_store_bytes")
    try:
        launches = json.loads(manifest.read_text()).get("launches", [])
    except (OSError, ValueError):
        return []
    return [{k: launch[k] for k in keys if k in launch}
            for launch in launches if launch.get("phase") == "run"]


def run_quilt(case: Case, launcher: Optional[Path], launcher_error: str,
              kernels: Path, opts: argparse.Namespace, tmp: Path,
              variant: str = "") -> tuple[Row, Optional[np.ndarray]]:
    """Runs the case's Quilt kernel (or its `variant` from
    bench/gpu/variants.txt, compiled into kernels/CASE@VARIANT/); returns its
    row and output (f32)."""
    row = Row(case.name, case.quilt_impl + (f"@{variant}" if variant else ""))
    manifest = kernels / (f"{case.name}@{variant}" if variant else case.name) / f"{case.name}.json"
    if not manifest.is_file():
        row.status, row.note = "not compiled", f"no {manifest.relative_to(ROOT) if manifest.is_relative_to(ROOT) else manifest}"
        return row, None
    row.extra["kernels"] = run_kernels(manifest)
    if launcher is None:
        row.status, row.note = "failed", launcher_error.splitlines()[0] if launcher_error else "no launcher"
        return row, None
    out_npy = tmp / f"{case.name}.out.npy"
    runs, warmup = (opts.launcher_runs_quick, 5) if opts.quick else (opts.launcher_runs, 20)
    cmd = [str(launcher), str(manifest), "--seed", str(opts.seed), "--bench", str(runs),
           "--warmup", str(warmup), "--json", "--output-npy", str(out_npy)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=opts.launcher_timeout)
    except subprocess.TimeoutExpired:
        row.status, row.note = "failed", f"launcher timed out after {opts.launcher_timeout} s"
        return row, None
    if proc.returncode != 0:
        print(f"--- {case.name}: quilt-cuda-run exited {proc.returncode}; stderr:\n"
              f"{proc.stderr.rstrip()}\n---", file=sys.stderr)
        tail = proc.stderr.strip().splitlines()
        row.status, row.note = "failed", f"launcher rc {proc.returncode}: {tail[-1] if tail else ''}"
        return row, None
    try:
        result = parse_launcher_json(proc.stdout)
        row.median_ms = float(result["median_ms"])
        row.min_ms = float(result.get("min_ms", row.median_ms))
        row.max_ms = float(result.get("max_ms", row.median_ms))
        row.samples = int(result.get("runs", runs))
        row.extra["launcher"] = result
        output = load_npy_any(out_npy, case.dtype)
    except (ValueError, KeyError, TypeError, OSError) as err:
        row.status, row.note = "failed", f"bad launcher output: {err}"
        print(f"--- {case.name}: launcher stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}---", file=sys.stderr)
        return row, None
    if output.shape != (case.m, case.n):
        row.status, row.note = "failed", f"output shape {output.shape}, want {(case.m, case.n)}"
        return row, None
    return row, output


#===----------------------------------------------------------------------===#
# Timing in this process
#===----------------------------------------------------------------------===#


@dataclasses.dataclass
class Timing:
    median_ms: float
    min_ms: float
    max_ms: float
    samples: int
    sets: int


def rotation_sets(operand_bytes: float, l2_bytes: int) -> int:
    """Copies of the operands to rotate between so that consecutive calls do
    not find the previous call's x and W in L2: enough for the copies to
    span 3x the L2, at most 8 (1 when one copy alone is that large)."""
    if operand_bytes <= 0:
        return 1
    return int(max(1, min(8, math.ceil(3 * l2_bytes / operand_bytes))))


def time_cuda(fns: list[Callable[[], Any]], warmup_ms: float, rep_ms: float,
              max_samples: int = 200) -> Timing:
    """Median per-call time of `fns` (one per input set, called in turn).

    Warm-up rounds (compilation, autotuning, cuBLAS heuristics, clocks) run
    until `warmup_ms` has passed. Each sample then times a batch of calls
    between two CUDA events; a spin kernel queued before the start event
    keeps the GPU busy while Python enqueues the batch, so CPU launch
    overhead does not show up as idle GPU time."""
    import torch

    sync = torch.cuda.synchronize
    start_t = time.perf_counter()
    rounds = 0
    while rounds < 2 or (time.perf_counter() - start_t) * 1e3 < warmup_ms:
        for fn in fns:
            fn()
        sync()
        rounds += 1

    est_calls = max(10, len(fns))
    e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    e0.record()
    for i in range(est_calls):
        fns[i % len(fns)]()
    e1.record()
    sync()
    per_call = max(e0.elapsed_time(e1) / est_calls, 1e-3)

    batch = int(min(100, max(1, round(1.0 / per_call))))  # ~1 ms per sample
    samples = int(min(max_samples, max(10, round(rep_ms / (batch * per_call)))))
    spin = getattr(torch.cuda, "_sleep", None)
    # ~40 us of CPU enqueue per call at ~1.5 GHz, capped at ~50 ms.
    spin_cycles = int(min(7.5e7, batch * 6e4))
    events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
              for _ in range(samples)]
    call = 0
    for begin, end in events:
        if spin is not None:
            spin(spin_cycles)
        begin.record()
        for _ in range(batch):
            fns[call % len(fns)]()
            call += 1
        end.record()
    sync()
    times = sorted(b.elapsed_time(e) / batch for b, e in events)
    return Timing(float(np.median(times)), times[0], times[-1], samples, len(fns))


def apply_timing(row: Row, timing: Timing) -> None:
    row.median_ms, row.min_ms, row.max_ms = timing.median_ms, timing.min_ms, timing.max_ms
    row.samples = timing.samples
    row.extra["input_sets"] = timing.sets


#===----------------------------------------------------------------------===#
# Baselines
#===----------------------------------------------------------------------===#


class Operands:
    """x and W of a case on the GPU in the case's dtype, in `sets` copies:
    x as M x K, W as K x N (`w_kn`) and as the N x K nn.Linear weight
    (`w_nk`), all contiguous. Set 0 holds the launcher's exact inputs."""

    def __init__(self, x: np.ndarray, w: np.ndarray, dtype: Any, sets: int):
        x0 = to_gpu(x).to(dtype)
        w0 = to_gpu(w).to(dtype)
        self.x = [x0] + [x0.clone() for _ in range(sets - 1)]
        self.w_kn = [w0] + [w0.clone() for _ in range(sets - 1)]
        wt = w0.t().contiguous()
        self.w_nk = [wt] + [wt.clone() for _ in range(sets - 1)]


def to_gpu(a: np.ndarray) -> Any:
    """A numpy array on the GPU (copied first when read-only, like the cached
    random inputs, which torch.from_numpy would warn about)."""
    import torch

    return torch.from_numpy(np.require(a, requirements=["C", "W"])).cuda()


def torch_dtype(name: str) -> Any:
    import torch

    return torch.bfloat16 if name == "bf16" else torch.float16


def time_torch_dense(case: Case, x: np.ndarray, w: np.ndarray, ref: Any,
                     ctx: "GpuContext") -> Row:
    """cuBLAS through torch, timed as F.linear(x, W[N,K]) (nn.Linear's
    layout) and torch.matmul(x, W[K,N]); the faster one is the row."""
    import torch
    import torch.nn.functional as F

    row = Row(case.name, case.torch_impl)
    sets = rotation_sets(2.0 * (case.m * case.k + case.k * case.n), ctx.l2_bytes)
    ops = Operands(x, w, torch_dtype(case.dtype), sets)
    variants = {
        "F.linear(x, W[N,K])": [functools.partial(F.linear, ops.x[i], ops.w_nk[i]) for i in range(sets)],
        "torch.matmul(x, W[K,N])": [functools.partial(torch.matmul, ops.x[i], ops.w_kn[i]) for i in range(sets)],
    }
    timings = {name: time_cuda(fns, ctx.warmup_ms, ctx.rep_ms) for name, fns in variants.items()}
    best = min(timings, key=lambda name: timings[name].median_ms)
    apply_timing(row, timings[best])
    row.note = best
    row.extra["variants_median_ms"] = {name: t.median_ms for name, t in timings.items()}
    set_check(row, rel_err(variants[best][0](), ref))
    return row


def time_triton_dense(case: Case, x: np.ndarray, w: np.ndarray, ref: Any,
                      ctx: "GpuContext") -> Row:
    """The Triton tutorial matmul (autotuned for Hopper) on x[M,K] . W[K,N]."""
    import torch

    row = Row(case.name, f"triton-{case.dtype}")
    matmul = ctx.triton_matmul()
    sets = rotation_sets(2.0 * (case.m * case.k + case.k * case.n), ctx.l2_bytes)
    ops = Operands(x, w, torch_dtype(case.dtype), sets)
    outs = [torch.empty((case.m, case.n), device="cuda", dtype=torch_dtype(case.dtype))
            for _ in range(sets)]
    fns = [functools.partial(matmul, ops.x[i], ops.w_kn[i], outs[i]) for i in range(sets)]
    apply_timing(row, time_cuda(fns, ctx.warmup_ms, ctx.rep_ms))
    fns[0]()
    set_check(row, rel_err(outs[0], ref))
    config = getattr(ctx.triton_kernel, "best_config", None)
    row.note = f"best config: {config}" if config else ""
    return row


def time_torch_2of4(case: Case, x: np.ndarray, w_pruned: np.ndarray, ref: Any,
                    ctx: "GpuContext") -> Row:
    """torch's semi-structured (2:4) sparse weight: F.linear(x, W_sparse)
    with the pruned N x K weight compressed by to_sparse_semi_structured."""
    import torch
    import torch.nn.functional as F
    from torch.sparse import to_sparse_semi_structured

    row = Row(case.name, "torch-2of4-f16")
    sets = rotation_sets(2.0 * case.m * case.k + weight_bytes(case, "2of4"), ctx.l2_bytes)
    ops = Operands(x, w_pruned, torch.float16, sets)
    with warnings.catch_warnings():  # "prototype stage", once per process
        warnings.simplefilter("ignore", UserWarning)
        sparse = [to_sparse_semi_structured(ops.w_nk[i]) for i in range(sets)]
    del ops.w_kn, ops.w_nk
    fns = [functools.partial(F.linear, ops.x[i], sparse[i]) for i in range(sets)]
    apply_timing(row, time_cuda(fns, ctx.warmup_ms, ctx.rep_ms))
    row.note = type(sparse[0]).__name__
    set_check(row, rel_err(fns[0](), ref))
    return row


def quantize_symmetric_int8(a: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """int8 codes and f32 scales of `a` with one scale per slice along
    `axis` (the values fake_quant_int_symmetric decodes to: codes * scale)."""
    a = np.asarray(a, dtype=np.float32)
    scale = np.abs(a).max(axis=axis, keepdims=True) / np.float32(127)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.clip(np.round(a / scale), -128, 127)
    q = np.where(scale == np.float32(0), np.float32(0), q)
    return q.astype(np.int8), scale.astype(np.float32)


def time_torch_int8(case: Case, x: np.ndarray, w: np.ndarray, ref: Any,
                    ctx: "GpuContext") -> Row:
    """cuBLASLt's int8 GEMM through torch._int_mm on x and W already
    quantized (per row, per column): the product alone, an upper bound for
    a W8A8 linear, since it leaves out quantizing x and scaling the sums
    (both inside quilt-w8a8's time). Checked after scaling the i32 sums."""
    import torch

    row = Row(case.name, "torch-int8-mm")
    qx, sx = quantize_symmetric_int8(x, axis=1)
    qw, sw = quantize_symmetric_int8(w, axis=0)
    sets = rotation_sets(float(case.m * case.k + case.k * case.n), ctx.l2_bytes)
    a = [to_gpu(qx) for _ in range(sets)]
    # W as N x K, passed transposed: the column-major operand cuBLASLt wants.
    b = [to_gpu(np.ascontiguousarray(qw.T)).t() for _ in range(sets)]
    fns = [functools.partial(torch._int_mm, a[i], b[i]) for i in range(sets)]
    apply_timing(row, time_cuda(fns, ctx.warmup_ms, ctx.rep_ms))
    y = fns[0]().to(torch.float64) * to_gpu(sx).to(torch.float64) * to_gpu(sw).to(torch.float64)
    set_check(row, rel_err(y, ref))
    row.note = "int8 GEMM only: no quantize of x, no dequantize"
    return row


#===----------------------------------------------------------------------===#
# Triton kernel (the matmul tutorial), built only when first used
#===----------------------------------------------------------------------===#


def _build_triton_matmul() -> tuple[Callable[..., None], Any]:
    import triton
    import triton.language as tl

    def config(bm: int, bn: int, bk: int, stages: int, warps: int) -> Any:
        return triton.Config({"BLOCK_M": bm, "BLOCK_N": bn, "BLOCK_K": bk, "GROUP_M": 8},
                             num_stages=stages, num_warps=warps)

    # Large tiles for the 4096^3 GEMMs (H100: 228 KB shared memory per SM,
    # 128x256x64 bf16 in 3 stages takes 144 KB); BLOCK_M = 16/32 tiles with
    # deep K for the decode shapes, where W streams and x is a few rows.
    large = [config(128, 256, 64, 3, 8), config(256, 128, 64, 3, 8),
             config(128, 128, 64, 4, 8), config(128, 128, 64, 4, 4),
             config(128, 64, 64, 4, 4), config(64, 128, 64, 4, 4)]
    small = [config(16, 64, 256, 4, 4), config(16, 128, 128, 4, 4),
             config(16, 256, 64, 4, 4), config(32, 128, 128, 4, 4)]

    def prune(configs: list[Any], named_args: dict[str, Any], **kwargs: Any) -> list[Any]:
        # Autotuning every config on every shape would take minutes.
        m = named_args["M"]
        keep = [c for c in configs if (c.kwargs["BLOCK_M"] <= 32) == (m <= 64)]
        return keep or configs

    @triton.autotune(configs=large + small, key=["M", "N", "K"],
                     prune_configs_by={"early_config_prune": prune})
    @triton.jit
    def matmul_kernel(a_ptr, b_ptr, c_ptr, M, N, K,
                      stride_am, stride_ak, stride_bk, stride_bn, stride_cm, stride_cn,
                      BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                      BLOCK_K: tl.constexpr, GROUP_M: tl.constexpr):
        pid = tl.program_id(axis=0)
        num_pid_m = tl.cdiv(M, BLOCK_M)
        num_pid_n = tl.cdiv(N, BLOCK_N)
        num_pid_in_group = GROUP_M * num_pid_n
        group_id = pid // num_pid_in_group
        first_pid_m = group_id * GROUP_M
        group_size_m = min(num_pid_m - first_pid_m, GROUP_M)
        pid_m = first_pid_m + ((pid % num_pid_in_group) % group_size_m)
        pid_n = (pid % num_pid_in_group) // group_size_m
        offs_am = (pid_m * BLOCK_M + tl.arange(0, BLOCK_M)) % M
        offs_bn = (pid_n * BLOCK_N + tl.arange(0, BLOCK_N)) % N
        offs_k = tl.arange(0, BLOCK_K)
        a_ptrs = a_ptr + (offs_am[:, None] * stride_am + offs_k[None, :] * stride_ak)
        b_ptrs = b_ptr + (offs_k[:, None] * stride_bk + offs_bn[None, :] * stride_bn)
        acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
        for k in range(0, tl.cdiv(K, BLOCK_K)):
            a = tl.load(a_ptrs, mask=offs_k[None, :] < K - k * BLOCK_K, other=0.0)
            b = tl.load(b_ptrs, mask=offs_k[:, None] < K - k * BLOCK_K, other=0.0)
            acc = tl.dot(a, b, acc)
            a_ptrs += BLOCK_K * stride_ak
            b_ptrs += BLOCK_K * stride_bk
        c = acc.to(c_ptr.dtype.element_ty)
        offs_cm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        offs_cn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
        c_ptrs = c_ptr + stride_cm * offs_cm[:, None] + stride_cn * offs_cn[None, :]
        tl.store(c_ptrs, c, mask=(offs_cm[:, None] < M) & (offs_cn[None, :] < N))

    def matmul(a: Any, b: Any, c: Any) -> None:
        m, k = a.shape
        n = b.shape[1]

        def grid(meta: dict[str, Any]) -> tuple[int]:
            return (triton.cdiv(m, meta["BLOCK_M"]) * triton.cdiv(n, meta["BLOCK_N"]),)

        matmul_kernel[grid](a, b, c, m, n, k, a.stride(0), a.stride(1),
                            b.stride(0), b.stride(1), c.stride(0), c.stride(1))

    return matmul, matmul_kernel


#===----------------------------------------------------------------------===#
# Driver
#===----------------------------------------------------------------------===#


class GpuContext:
    """Device facts and lazily built tools shared by the cases."""

    def __init__(self, opts: argparse.Namespace):
        import torch

        props = torch.cuda.get_device_properties(0)
        self.name = torch.cuda.get_device_name(0)
        self.capability = torch.cuda.get_device_capability(0)
        self.l2_bytes = int(getattr(props, "L2_cache_size", 50 << 20) or (50 << 20))
        clock_khz = getattr(props, "memory_clock_rate", 0) or 0
        bus_bits = getattr(props, "memory_bus_width", 0) or 0
        # HBM transfers twice per clock.
        self.peak_gbps = 2 * clock_khz * 1e3 * bus_bits / 8 / 1e9 if clock_khz and bus_bits else None
        self.warmup_ms = 50.0 if opts.quick else 300.0
        self.rep_ms = 200.0 if opts.quick else 1500.0
        self._triton: Optional[tuple[Callable[..., None], Any]] = None

    def triton_matmul(self) -> Callable[..., None]:
        if self._triton is None:
            self._triton = _build_triton_matmul()
        return self._triton[0]

    @property
    def triton_kernel(self) -> Any:
        return self._triton[1] if self._triton else None


def guarded(case: Case, impl: str, fn: Callable[[], Row]) -> Row:
    """Runs one impl; an exception becomes a failed row, not a crash."""
    import torch

    try:
        return fn()
    except Exception as err:  # noqa: BLE001 -- one impl must not stop the run
        msg = f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}"
        print(f"--- {case.name} / {impl} failed: {msg}", file=sys.stderr)
        return Row(case.name, impl, status="failed", note=msg[:300])
    finally:
        torch.cuda.synchronize()
        torch.cuda.empty_cache()


def run_case(case: Case, ctx: GpuContext, launcher: Optional[Path], launcher_error: str,
             opts: argparse.Namespace, tmp: Path) -> list[Row]:
    """Every impl of one case: Quilt first (so the launcher finds the GPU
    memory free), then the baselines; every output is checked against an
    f64 product of the launcher's inputs."""
    import torch

    impl_re = re.compile(opts.impls) if opts.impls else None
    wanted = lambda impl: impl_re is None or impl_re.search(impl) is not None  # noqa: E731
    x, w = case_inputs(case, opts.seed)
    w_format = project_weight(case, w, case.fmt)
    w_dense = round_to(w, case.dtype) if case.fmt != "dense" else w_format
    x_gpu = to_gpu(x).to(torch.float64)

    @functools.lru_cache(maxsize=2)
    def reference(fmt: str) -> Any:
        weight = w_format if fmt == case.fmt else w_dense
        x_in = to_gpu(project_input(case, x, fmt)).to(torch.float64) if fmt == "w8a8" else x_gpu
        return x_in @ to_gpu(weight).to(torch.float64)

    rows: list[Row] = []
    # The tiling `auto` picks, then the variants prepare.sh compiled.
    variants = [""] + sorted(d.name.split("@", 1)[1] for d in opts.kernels.glob(f"{case.name}@*")
                             if d.is_dir())
    for variant in variants:
        impl = case.quilt_impl + (f"@{variant}" if variant else "")
        if not wanted(impl):
            continue
        row, output = run_quilt(case, launcher, launcher_error, opts.kernels, opts, tmp, variant)
        if output is not None:
            set_check(row, rel_err(to_gpu(output), reference(case.fmt)))
        rows.append(finish_row(row, case, case.fmt))
        torch.cuda.empty_cache()

    # Baselines compute in the dense format on the dense weight, except the
    # 2:4 one (pruned weight); each is checked against its own weight.
    # x and W are converted from the f32 arrays on the GPU with
    # round-to-nearest-even, the same values the launcher builds.
    if wanted(case.torch_impl):
        rows.append(finish_row(guarded(case, case.torch_impl, lambda: time_torch_dense(
            case, x, w, reference("dense"), ctx)), case, "dense"))
    triton_impl = f"triton-{case.dtype}"
    if wanted(triton_impl) and not opts.no_triton:
        rows.append(finish_row(guarded(case, triton_impl, lambda: time_triton_dense(
            case, x, w, reference("dense"), ctx)), case, "dense"))
    if case.fmt == "2of4" and wanted("torch-2of4-f16"):
        w_pruned = prune_nm(w, 2, 4)
        row = guarded(case, "torch-2of4-f16", lambda: time_torch_2of4(
            case, x, w_pruned, reference("2of4"), ctx))
        if row.status == "failed":
            row.status = "unavailable"
        rows.append(finish_row(row, case, "2of4"))
    if case.fmt == "w8a8" and wanted("torch-int8-mm"):
        row = guarded(case, "torch-int8-mm", lambda: time_torch_int8(
            case, x, w, reference("w8a8"), ctx))
        if row.status == "failed":
            row.status = "unavailable"
        rows.append(finish_row(row, case, "w8a8"))
    reference.cache_clear()
    return rows


def fill_ratios(rows: list[Row]) -> None:
    """ratio_vs_torch = the case's torch median / the row's median."""
    base = {r.case: r.median_ms for r in rows
            if r.impl.startswith("torch-") and "2of4" not in r.impl and r.median_ms}
    for r in rows:
        if r.median_ms and r.case in base:
            r.ratio_vs_torch = base[r.case] / r.median_ms


def find(rows: list[Row], case_re: str, impl: str) -> Optional[Row]:
    for r in rows:
        if r.impl == impl and re.search(case_re, r.case) and r.median_ms:
            return r
    return None


def target(name: str, num: Optional[Row], den: Optional[Row], goal: float, what: str) -> dict[str, Any]:
    """A target figure: num.median / den.median (a time ratio, so above 1
    means `den` is faster)."""
    record: dict[str, Any] = {"name": name, "target": goal, "definition": what}
    if num is None or den is None:
        record.update(value=None, met=None, note="missing a row")
        return record
    value = num.median_ms / den.median_ms
    checks_ok = all(r.check in ("ok", "-") for r in (num, den))
    record.update(value=value, met=bool(value >= goal and checks_ok), checks_ok=checks_ok,
                  rows=[f"{num.case}/{num.impl}", f"{den.case}/{den.impl}"])
    return record


def compute_targets(rows: list[Row], cases: list[Case]) -> list[dict[str, Any]]:
    targets = [target("quilt-bf16 throughput / torch-bf16 at 4096^3",
                      find(rows, r"^linear_bf16_4096x4096x4096$", "torch-bf16"),
                      find(rows, r"^linear_bf16_4096x4096x4096$", "quilt-bf16"), 0.70,
                      "torch-bf16 median / quilt-bf16 median")]
    for case in cases:
        if case.fmt == "int4g128":
            exact = f"^{re.escape(case.name)}$"
            targets.append(target(f"torch-f16 / quilt-int4-g128 time at M={case.m}",
                                  find(rows, exact, "torch-f16"),
                                  find(rows, exact, "quilt-int4-g128"), 2.5,
                                  "torch-f16 median / quilt-int4-g128 median, same case"))
    targets.append(target("quilt-f16 / quilt-2of4-f16 time at 4096^3",
                          find(rows, r"^linear_f16_4096x4096x4096$", "quilt-f16"),
                          find(rows, r"^linear_2of4_f16_4096x4096x4096$", "quilt-2of4-f16"), 1.2,
                          "quilt-f16 median (dense case) / quilt-2of4-f16 median"))
    return targets


def fmt_num(value: Optional[float], spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_table(rows: list[Row], targets: list[dict[str, Any]]) -> None:
    header = f"{'case':<36} {'impl':<16} {'median ms':>10} {'TFLOP/s':>8} {'GB/s':>8} {'vs torch':>8} {'rel_err':>9} check"
    print(header)
    print("-" * len(header))
    for r in rows:
        if r.status != "ok":
            print(f"{r.case:<36} {r.impl:<16} {r.status}: {r.note}")
            continue
        print(f"{r.case:<36} {r.impl:<16} {fmt_num(r.median_ms, '10.4f')} "
              f"{fmt_num(r.tflops, '8.1f')} {fmt_num(r.gbps, '8.0f')} "
              f"{fmt_num(r.ratio_vs_torch, '8.2f')} {fmt_num(r.max_rel_err, '9.2e')} "
              f"{r.check}{'  ' + r.note if r.note else ''}")
    print()
    print("targets:")
    for t in targets:
        value = "missing" if t["value"] is None else f"{t['value']:.3f}"
        verdict = {True: "met", False: "NOT met", None: "-"}[t["met"]]
        print(f"  {t['name']:<48} {value:>8}  (target >= {t['target']})  {verdict}")
    best = best_variants(rows)
    if best:
        print()
        print("fastest tiling per case (speed-up over `auto`):")
        for case, impl, speedup in best:
            print(f"  {case:<36} {impl:<28} {speedup:6.2f}x")


def best_variants(rows: list[Row]) -> list[tuple[str, str, float]]:
    """(case, fastest checked Quilt impl, its speed-up over the tiling
    `auto` picks) for each case that has variants."""
    best = []
    for case in dict.fromkeys(r.case for r in rows):
        quilt = [r for r in rows if r.case == case and r.impl.startswith("quilt-")
                 and r.status == "ok" and r.check != "FAIL" and r.median_ms]
        auto = [r for r in quilt if "@" not in r.impl]
        if len(quilt) < 2 or not auto:
            continue
        fastest = min(quilt, key=lambda r: r.median_ms)
        best.append((case, fastest.impl, auto[0].median_ms / fastest.median_ms))
    return best


def versions() -> dict[str, Any]:
    """Driver, CUDA, torch and triton versions (best effort)."""
    import torch

    info: dict[str, Any] = {"torch": torch.__version__, "cuda_runtime": torch.version.cuda,
                            "python": sys.version.split()[0], "numpy": np.__version__}
    try:
        import triton

        info["triton"] = triton.__version__
    except ImportError as err:
        info["triton"] = f"unavailable: {err}"
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30)
        info["driver"] = out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None
    except (OSError, subprocess.SubprocessError):
        info["driver"] = None
    return info


def warn_l2_resident(rows: list[Row], ctx: GpuContext) -> None:
    """A weight-streaming row above the HBM peak was served from L2 (the
    launcher does not rotate inputs the way the baselines here do)."""
    if ctx.peak_gbps is None:
        return
    for r in rows:
        if r.gbps and r.gbps > ctx.peak_gbps:
            r.note = (r.note + "; " if r.note else "") + f"above HBM peak {ctx.peak_gbps:.0f} GB/s: L2-resident?"


def run_gpu(opts: argparse.Namespace) -> int:
    try:
        import torch
    except ImportError as err:
        print(f"bench_gpu.py: torch is needed for the GPU run ({err})", file=sys.stderr)
        return 2
    if not torch.cuda.is_available():
        print("bench_gpu.py: no CUDA device visible to torch", file=sys.stderr)
        return 2
    cases, unknown = discover_cases(opts.cases)
    for name in unknown:
        print(f"warning: {name}.mlir does not follow linear_<format>_MxKxN; ignored", file=sys.stderr)
    if not cases:
        print("bench_gpu.py: no cases selected", file=sys.stderr)
        return 2
    ctx = GpuContext(opts)
    print(f"device: {ctx.name} (sm_{ctx.capability[0]}{ctx.capability[1]}), "
          f"L2 {ctx.l2_bytes >> 20} MB, HBM peak {fmt_num(ctx.peak_gbps, '.0f')} GB/s", file=sys.stderr)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="quilt-gpu-bench-") as tmp_name:
        tmp = Path(tmp_name)
        if opts.launcher:
            launcher, launcher_error = Path(opts.launcher), ""
        else:
            launcher, launcher_error = build_launcher(tmp)
        if launcher_error:
            print(f"warning: {launcher_error}", file=sys.stderr)
        for case in cases:
            print(f"running {case.name} ...", file=sys.stderr)
            try:
                rows.extend(run_case(case, ctx, launcher, launcher_error, opts, tmp))
            except Exception as err:  # noqa: BLE001 -- keep the other cases
                print(f"--- {case.name} failed: {type(err).__name__}: {err}", file=sys.stderr)
                rows.append(Row(case.name, "*", status="failed", note=f"{type(err).__name__}: {err}"[:300]))
                torch.cuda.empty_cache()
    fill_ratios(rows)
    warn_l2_resident(rows, ctx)
    targets = compute_targets(rows, cases)
    print_table(rows, targets)
    report = {"device": ctx.name, "sm": f"sm_{ctx.capability[0]}{ctx.capability[1]}",
              "l2_bytes": ctx.l2_bytes, "hbm_peak_gbps": ctx.peak_gbps, **versions(),
              "seed": opts.seed, "quick": opts.quick, "fail_rel_err": FAIL_REL_ERR,
              "rows": [dataclasses.asdict(r) for r in rows], "targets": targets}
    opts.json_out.parent.mkdir(parents=True, exist_ok=True)
    opts.json_out.write_text(json.dumps(report, indent=1, default=str) + "\n")
    print(f"\nwrote {opts.json_out}", file=sys.stderr)
    return 1 if any(r.check == "FAIL" for r in rows) else 0


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
             "config": {"family": "wgmma", "block": [128, 256, 64]}, "flops": 1}]}))
        kernels = run_kernels(path)
        expect(len(kernels) == 1 and kernels[0]["kernel"] == "gemm" and "flops" not in kernels[0]
               and kernels[0]["config"]["family"] == "wgmma", "run kernels of a manifest")
        expect(run_kernels(Path(tmp) / "missing.json") == [], "run kernels of no manifest")
    rows = [Row("c", "quilt-bf16", median_ms=2.0), Row("c", "quilt-bf16@a", median_ms=1.0),
            Row("c", "quilt-bf16@b", median_ms=0.5, check="FAIL"), Row("c", "torch-bf16", median_ms=0.1),
            Row("d", "quilt-f16", median_ms=1.0)]
    expect(best_variants(rows) == [("c", "quilt-bf16@a", 2.0)], "fastest checked variant")

    for f in failures:
        print("FAIL:", f)
    print(f"self-test: {'FAILED' if failures else 'ok'} ({len(failures)} failures)")
    return 1 if failures else 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="bench/run gpu",
        description="Quilt's GPU linears (quilt-cuda-run) against torch/cuBLAS and Triton. "
                    "Compile the cases first with bench/gpu/prepare.sh where LLVM 22 is installed.")
    p.add_argument("--quick", action="store_true", help="short warm-up and timing (smoke run)")
    p.add_argument("--cases", metavar="REGEX", help="only cases whose id matches")
    p.add_argument("--impls", metavar="REGEX", help="only impls whose name matches")
    p.add_argument("--launcher", metavar="PATH", help="a built quilt-cuda-run (default: build it)")
    p.add_argument("--kernels", type=Path, default=KERNELS_DIR, help="prepare.sh's output")
    p.add_argument("--json-out", type=Path, default=RESULTS, help="results file")
    p.add_argument("--seed", type=int, default=1, help="launcher seed (inputs: seed + arg index)")
    p.add_argument("--no-triton", action="store_true", help="skip the Triton baselines")
    p.add_argument("--launcher-runs", type=int, default=200, help="--bench N for the launcher")
    p.add_argument("--launcher-runs-quick", type=int, default=30, help="--bench N with --quick")
    p.add_argument("--launcher-timeout", type=int, default=300, help="seconds per launcher run")
    p.add_argument("--self-test", action="store_true", help="check the numpy parts and exit (no GPU)")
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    opts = parse_args(argv)
    if opts.self_test:
        return self_test()
    opts.kernels = opts.kernels.resolve()
    return run_gpu(opts)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
