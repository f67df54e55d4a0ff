#!/usr/bin/env python3
#===- sim_variants.py - Run the GPU bench's tilings on the PTX simulator --===#
"""Checks, without a GPU, that every tiling a variants file lists computes
the right result: each (case, variant) pair is compiled for a small shape
of the case's format (ragged against the largest tiles, K deep enough for
several slices) with the variant's pipeline options, run on quilt-ptx-sim
and compared with the reference pipeline. It prints one line per kernel
and a summary; exit status 1 when any kernel fails.

    bench/gpu/sim_variants.py                    # bench/gpu/variants.txt
    bench/gpu/sim_variants.py bench/gpu/grid.txt --jobs 2
    bench/gpu/sim_variants.py --profile        # + instructions, conflicts, sectors
"""

from __future__ import annotations

import argparse
import concurrent.futures
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "build" / "bin"
CASES = ROOT / "bench" / "gpu" / "cases"


def small_shape(m: int, k: int, n: int) -> tuple[int, int, int]:
    """GEMM-sized cases shrink to 272 x 256 x 288 (two ragged 256-wide
    tiles each way, four or more K slices); decode cases keep their M,
    with K = 2048 (16 warps splitting K each hold a 128-wide group) and
    N = 512."""
    if m > 64:
        return 272, 256, 288
    return m, (2048 if n > 8192 else 256), (512 if n > 8192 else 288)


def small_case(case: Path, out: Path) -> tuple[str, Path]:
    """The case's entry at a small shape: (entry name, .mlir path)."""
    text = case.read_text()
    m, k, n = (int(x) for x in re.search(r"_(\d+)x(\d+)x(\d+)$", case.stem).groups())
    sm, sk, sn = small_shape(m, k, n)
    weight = re.search(r"^!w = !quilt\.packed<\d+x\d+, (.*)>$", text, re.M).group(1)
    act = " act <i8, channel>" if "act <i8" in text else ""
    xtype = re.search(r"%x: tensor<\d+x\d+x(\w+)>", text).group(1)
    name = "small"
    path = out / f"{case.stem}.mlir"
    path.write_text(
        f"!w = !quilt.packed<{sk}x{sn}, {weight}>\n"
        f"func.func @{name}(%x: tensor<{sm}x{sk}x{xtype}>, %w: !w) -> tensor<{sm}x{sn}x{xtype}> {{\n"
        f"  %y = quilt.linear %x, %w{act} : tensor<{sm}x{sk}x{xtype}>, !w -> tensor<{sm}x{sn}x{xtype}>\n"
        f"  return %y : tensor<{sm}x{sn}x{xtype}>\n}}\n")
    return name, path


def run(cmd: list[str], timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def profile_summary(stdout: str) -> str:
    """The last kernel's (the product's) line of `quilt-ptx-sim --profile`."""
    block = stdout.rsplit("profile of ", 1)[-1]
    found = [re.search(r, block) for r in (r"(\d+) warp instructions per CTA",
                                           r"\(([+\d.]+%) from bank conflicts\)",
                                           r"\(([\d.]+%) of the sector bytes used\)",
                                           r"traffic: (\d+) bytes loaded from L2",
                                           r"(\d+) distinct bytes read")]
    if not all(found):
        return ""
    instructions, conflicts, used, l2, distinct = (m.group(1) for m in found)
    return (f"; {instructions} warp instructions per CTA, shared {conflicts}, global sectors {used} used, "
            f"L2 loads {int(l2) / max(int(distinct), 1):.2f}x the bytes read")


def check(case: Path, tag: str, options: str, work: Path, profile: bool = False) -> tuple[str, str]:
    small = work / case.stem
    mlir = small / f"{case.stem}.mlir"
    out = work / f"{case.stem}@{tag}"
    built = run([str(BIN / "quilt-opt"), str(mlir),
                 f"--quilt-nvptx-pipeline=chip=sm_90a output-dir={out} {options}", "-o", "/dev/null"])
    if built.returncode:
        return "compile-error", built.stderr.strip().splitlines()[0] if built.stderr else ""
    sim = run([sys.executable, str(BIN / "quilt-ptx-sim"), str(out / "small.json"), "--seed", "5",
               "--expect", str(small / "ref" / "result0.npy"), "--tolerance", "0.01"]
              + (["--profile"] if profile else []))
    last = (sim.stdout.strip().splitlines() or [""])[-1]
    if sim.returncode:
        return "FAIL", (sim.stderr.strip().splitlines() or [last])[-1]
    return "ok", last.replace("check vs reference: ", "") + (profile_summary(sim.stdout) if profile else "")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("variants", nargs="?", type=Path, default=ROOT / "bench" / "gpu" / "variants.txt")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--filter", default="", help="only variants whose tag matches this regex")
    p.add_argument("--profile", action="store_true",
                   help="add the product kernel's warp instructions per CTA, shared-memory bank "
                        "conflicts and global sector use (quilt-ptx-sim --profile)")
    opts = p.parse_args(argv)
    lines = [l.split(None, 2) for l in opts.variants.read_text().splitlines()
             if l.strip() and not l.startswith("#")]
    work = Path(tempfile.mkdtemp(prefix="quilt-sim-variants-"))
    jobs = []
    for regex, tag, options in ((l[0], l[1], l[2] if len(l) > 2 else "") for l in lines):
        if not re.search(opts.filter, tag):
            continue
        for case in sorted(CASES.glob("*.mlir")):
            if re.search(regex, case.stem):
                jobs.append((case, tag, options))
    for case in sorted({c for c, _, _ in jobs}):
        (work / case.stem).mkdir()
        entry, mlir = small_case(case, work / case.stem)
        ref = run([str(BIN / "quilt-run"), str(mlir), "--entry", entry, "--pipeline", "reference",
                   "--seed", "5", "--output-npy", str(work / case.stem / "ref")])
        if ref.returncode:
            print(f"{case.stem}: reference failed: {ref.stderr.strip()}", file=sys.stderr)
            return 1
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(opts.jobs) as pool:
        results = pool.map(lambda j: (j, check(*j, work, opts.profile)), jobs)
        for (case, tag, options), (status, detail) in results:
            failed += status != "ok"
            print(f"{status:13} {case.stem}@{tag}: {detail}", flush=True)
    print(f"{len(jobs) - failed} of {len(jobs)} kernels match the reference on the simulator ({work})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
