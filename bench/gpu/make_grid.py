#!/usr/bin/env python3
# ===- bench/gpu/make_grid.py - The tiling grid timed for the cost model ---=== #
#
# Writes bench/gpu/grid.txt: every tiling of the GPU bench cases that the
# kernels accept and whose stages fit in shared memory, in the format of
# variants.txt ("CASE_REGEX TAG PIPELINE_OPTIONS..."). prepare.sh --variants
# bench/gpu/grid.txt --out bench/gpu/kernels-grid compiles it; on the GPU
# machine, bench_gpu.py --kernels bench/gpu/kernels-grid --impls '^quilt'
# times and checks each, and records its tiling (the manifest's `config`)
# in the row: the timings the cost model learns the GPU from, and the best
# tiling of each case beside the one `auto` picks.
#
# Warps are left to `auto` (the register model picks the fewest it predicts
# not to spill), so the grid spans what the compiler can choose between.
#
# ===----------------------------------------------------------------------=== #
import argparse
import itertools
import sys
from pathlib import Path

SMEM_BYTES = 227 * 1024


def dense(elem_bytes: int, block_ks: list[int], stages: list[int],
          rows: list[int], cols: list[int]) -> list[tuple[str, str]]:
    """mma.sync tilings: (tag, options) with the stages in shared memory."""
    out = []
    for bm, bn, bk, s in itertools.product(rows, cols, block_ks, stages):
        # At most 8 warps: 256x256 would hold 256 sums per thread and spill.
        if s * (bm + bn) * bk * elem_bytes > SMEM_BYTES or bm * bn > 256 * 128:
            continue
        out.append((f"s{bm}x{bn}x{bk}s{s}", f"tiles={bm}x{bn}x{bk} stages={s}"))
    return out


def wgmma() -> list[tuple[str, str]]:
    """wgmma tilings: 64-deep 16-bit slices, one warpgroup per 64 rows,
    stages filled by cp.async or by TMA (tag suffix "t"), freed by a CTA
    barrier or (TMA, suffix "tm") by per-stage mbarriers, the loads issued
    by a producer warpgroup (suffix "tp")."""
    loads = [("", "", 0), ("t", " tma=1", 1),
             ("tm", " tma=1 tma-release=mbarrier", 2),
             ("tp", " tma=1 tma-release=mbarrier tma-producer=warpgroup", 2)]
    out = []
    for bm, bn, s, f, (tag, options, barriers) in itertools.product(
            [64, 128, 256], [64, 128, 256], [2, 3, 4, 5], [0, 1], loads):
        # 64 * bm / 2 threads (128 more with a producer), N / 2 sums each:
        # ptxas needs 32 more registers.
        threads = 2 * bm + (128 if tag == "tp" else 0)
        cap = min(255, 65536 // threads // 8 * 8)
        # TMA adds 8-byte mbarriers per stage.
        smem = s * (bm + bn) * 128 + 8 * s * barriers
        if smem > SMEM_BYTES or s < 2 + f or bn // 2 + 32 > cap:
            continue
        out.append((f"wg{bm}x{bn}s{s}f{f}{tag}",
                    f"mma=wgmma tiles={bm}x{bn}x64 stages={s} wgmma-in-flight={f}"
                    + options))
    return out


def int4(k: int) -> list[tuple[str, str]]:
    """int4 splits: tiles per warp x warps side by side x warps splitting K
    x K blocks ahead."""
    out = []
    for tiles, split, ahead in itertools.product([1, 2, 4], [4, 8, 16], [2, 4, 8]):
        if (k // 64) % split or (k // 64 // split * 64) % 128:
            continue
        out.append((f"i4t{tiles}k{split}a{ahead}",
                    f"tiles=16x{16 * tiles}x64 warps=1x{split} stages={ahead}"))
    # Warps side by side in N, sharing x through L1: 4 or 6 tiles per CTA
    # (6 covers N = 11008 with one CTA per SM of an H100). Two tiles per
    # warp: 3 x 4 warps only (16 rows spill at 2 warps along K, whose 32
    # unrolled blocks ptxas schedules into 255 registers, and at 3 x 8).
    for (tiles, side), split, ahead in itertools.product([(1, 4), (1, 6), (2, 3)], [2, 4, 8], [4, 8]):
        if tiles > 1 and split != 4:
            continue
        if side * split > 32 or (k // 64) % split or (k // 64 // split * 64) % 128:
            continue
        out.append((f"i4t{tiles}w{side}k{split}a{ahead}",
                    f"tiles=16x{16 * tiles * side}x64 warps={side}x{split} stages={ahead}"))
    # int4-load=bulk (sm_90, tag suffix "b"): the weights through a
    # shared-memory ring per warp, as deep as fits; the CTA needs rings of
    # at least 2 stages of 2 KB per tile and warp, beside the K split's
    # sums (512 bytes per tile, warp and 8 rows; 16 rows at most).
    for (tiles, side), split in itertools.product([(1, 1), (2, 1), (1, 4), (1, 6), (2, 3)], [2, 4, 8]):
        warps = side * split
        if warps > 32 or (k // 64) % split or (k // 64 // split * 64) % 128:
            continue
        if warps * tiles * (2 * 2048 + (2 * 512 if split > 1 else 0)) > SMEM_BYTES:
            continue
        out.append((f"i4t{tiles}w{side}k{split}b",
                    f"int4-load=bulk tiles=16x{16 * tiles * side}x64 warps={side}x{split}"))
    return out


def grid() -> list[tuple[str, list[tuple[str, str]]]]:
    """(case regex, variants) for each family of bench cases."""
    return [
        (r"^linear_bf16_4096x4096x4096$",
         dense(2, [32, 64], [3, 4, 5], [64, 128, 256], [64, 128, 256]) + wgmma()),
        (r"^linear_2of4_f16_4096x4096x4096$",
         dense(2, [64], [3, 4], [64, 128, 256], [128, 256])),
        (r"^linear_int4g128_f16_[0-9]+x4096x11008$", int4(4096)),
        (r"^linear_w8a8_f16_4096x4096x4096$",
         dense(1, [64, 128], [3, 4], [128, 256], [128, 256])),
        (r"^linear_w8a8_f16_16x4096x11008$",
         dense(1, [64, 128], [3, 4], [16], [64, 128, 256])),
    ]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("-o", type=Path, default=Path(__file__).with_name("grid.txt"),
                   help="grid file to write (default: bench/gpu/grid.txt)")
    opts = p.parse_args()
    lines = ["# Generated by bench/gpu/make_grid.py; do not edit.",
             "# CASE_REGEX TAG PIPELINE_OPTIONS... (as variants.txt)"]
    count = 0
    for regex, variants in grid():
        for tag, options in variants:
            lines.append(f"{regex} {tag} {options}")
            count += 1
    opts.o.write_text("\n".join(lines) + "\n")
    print(f"make_grid.py: {count} variants -> {opts.o}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
