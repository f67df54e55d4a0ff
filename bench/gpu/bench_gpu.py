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
`--self-test` (the numpy parts: generator, rounding, format projections;
gpu_self_test.py) work without them. The cases, inputs and rows are in
gpu_cases.py, the in-process baselines in gpu_baselines.py.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from gpu_baselines import (time_torch_2of4, time_torch_dense, time_torch_int8,
                           time_triton_dense, to_gpu, _build_triton_matmul)
from gpu_cases import (FAIL_REL_ERR, ROOT, Case, Row, case_inputs, discover_cases,
                       finish_row, mismatch_pattern, prune_nm, project_input, project_weight,
                       rel_err, round_to, set_check, wrong_mask)

KERNELS_DIR = ROOT / "bench" / "gpu" / "kernels"
LAUNCHER_SRC = ROOT / "tools" / "quilt-cuda-run"
RESULTS = ROOT / "bench" / "results" / "gpu.json"

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
    keys = ("kernel", "grid", "block", "cluster", "shared_bytes", "config",
            "registers", "stack_bytes", "spill_store_bytes", "flops", "bytes",
            "predicted_registers", "predicted_us")
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
    # The launcher's watchdog names a hung launch; the outer limit catches
    # anything else.
    cmd = [str(launcher), str(manifest), "--seed", str(opts.seed), "--bench", str(runs),
           "--warmup", str(warmup), "--json", "--output-npy", str(out_npy),
           "--timeout", str(opts.launcher_timeout)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              timeout=opts.launcher_timeout + 30)
    except subprocess.TimeoutExpired:
        row.status, row.note = "failed", f"launcher timed out after {opts.launcher_timeout + 30} s"
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
            y = to_gpu(output)
            set_check(row, rel_err(y, reference(case.fmt)))
            if row.check == "FAIL":
                # Where it is wrong names the likely cause (bench/gpu/README.md).
                row.note = mismatch_pattern(wrong_mask(y, reference(case.fmt)))
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
    p.add_argument("--launcher-timeout", type=int, default=60,
                   help="seconds per launcher run (its --timeout: a hung kernel fails its row)")
    p.add_argument("--self-test", action="store_true", help="check the numpy parts and exit (no GPU)")
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    opts = parse_args(argv)
    if opts.self_test:
        from gpu_self_test import self_test
        return self_test()
    opts.kernels = opts.kernels.resolve()
    return run_gpu(opts)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
