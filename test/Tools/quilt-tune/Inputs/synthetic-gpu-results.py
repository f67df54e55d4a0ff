#!/usr/bin/env python3
# ===- synthetic-gpu-results.py - A tiling grid with made-up timings ---=== #
#
# Test fixture for quilt-tune train-timing, which needs GPU timings this
# machine cannot make. It compiles real kernels (quilt-opt's NVPTX
# pipeline, wgmma at sm_90a) of each case over a grid of tilings, then
# writes them as `bench/run gpu` would (rows with the manifest's launches
# in extra.kernels) but with a SYNTHETIC time per kernel set:
#
#     us = K / 64 * (1 + 0.5 |log2(blockN / 128)| + 0.25 |stages - 3|)
#
# so the fastest tiling of every case is 64x128, 3 stages. The law reads
# only the tiling, and the cases differ only in K (same CTAs and waves):
# a model trained on some cases should rank the tilings of another
# exactly. Nothing here is a measurement.
#
# ===----------------------------------------------------------------------=== #
import argparse
import json
import math
import subprocess
import sys
from pathlib import Path


def manifest_launches(manifest: Path) -> list[dict]:
    keys = ("kernel", "grid", "block", "shared_bytes", "config", "registers",
            "flops", "bytes", "predicted_registers", "predicted_us")
    launches = json.loads(manifest.read_text())["launches"]
    return [{k: l[k] for k in keys if k in l} for l in launches if l.get("phase") == "run"]


def synthetic_us(config: dict) -> float:
    k = config["problem"][2]
    block_n, stages = config["block"][1], config["stages"]
    return k / 64 * (1 + 0.5 * abs(math.log2(block_n / 128)) + 0.25 * abs(stages - 3))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quilt-opt", required=True)
    p.add_argument("--work", type=Path, required=True, help="kernels go here")
    p.add_argument("-o", type=Path, required=True)
    p.add_argument("--block-n", default="64,128,256", help="tile widths of the grid")
    p.add_argument("cases", nargs="+", type=Path, help="MLIR files, one entry each")
    opts = p.parse_args()
    rows = []
    for case in opts.cases:
        name = case.stem
        variants = [("", "")] + [(f"@n{n}s{s}", f" tiles=64x{n}x64 stages={s}")
                                 for n in map(int, opts.block_n.split(","))
                                 for s in (2, 3, 4, 5)]
        for tag, options in variants:
            out = opts.work / (name + tag)
            subprocess.run([opts.quilt_opt, str(case), "-o", "/dev/null",
                            f"--quilt-nvptx-pipeline=chip=sm_90a mma=wgmma "
                            f"timing-model=none output-dir={out}{options}"],
                           check=True)
            kernels = manifest_launches(out / f"{name}.json")
            gemm = next(k for k in kernels if "config" in k)
            config = gemm["config"]
            # What the model sees of a candidate's launch is the launch.
            if config["ctas"] != math.prod(gemm["grid"]) or config["shared_bytes"] != gemm["shared_bytes"]:
                sys.exit(f"{out}: config's ctas / shared_bytes differ from the launch's")
            rows.append({"case": name, "impl": "quilt-bf16" + tag, "status": "ok",
                         "check": "ok", "median_ms": synthetic_us(config) / 1e3,
                         "extra": {"kernels": kernels}})
    # A baseline row and a failed one, which train-timing leaves out.
    rows.append({"case": rows[0]["case"], "impl": "torch-bf16", "status": "ok",
                 "check": "ok", "median_ms": 1.0, "extra": {}})
    rows.append(dict(rows[1], impl="quilt-bf16@broken", check="failed"))
    opts.o.write_text(json.dumps({"device": "Synthetic GPU (test fixture)",
                                  "sm": "sm_90", "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
