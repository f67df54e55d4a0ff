#!/usr/bin/env bash
#===- scripts/demo.sh - Build Quilt and run the bundled example -----------===#
#
# README command one. Without arguments: per-layer format selection end to
# end on the bundled networks (see below). With FILE.mlir (e.g.
# examples/mlp-block.mlir): shows its quilt IR, its reference meaning (the
# IR after convert-quilt-to-linalg, user functions only), the result of
# executing it through quilt-reference-pipeline and mlir-runner, and its
# @forward* entries compiled by quilt-cpu-pipeline (quilt-run: checked
# against the reference, timed).
#
#===----------------------------------------------------------------------===#
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${QUILT_BUILD_DIR:-$root/build}"

# Without a file: format selection end to end (bench/e2e.py --demo) on the
# trained digits MLP and the d=4096 LLM MLP block: per-layer choices,
# predicted vs measured time, accuracy, speed-ups over dense f32 and
# OpenBLAS at several error budgets.
if [ $# -eq 0 ]; then
  "$root/scripts/build.sh" quilt-opt quilt-run >/dev/null
  exec /usr/bin/python3 "$root/bench/e2e.py" --demo
fi
example="$1"
llvm=/usr/lib/llvm-22

"$root/scripts/build.sh" quilt-opt quilt-run >/dev/null
opt="$build/bin/quilt-opt"
out="$build/examples"
mkdir -p "$out"
name="$(basename "$example" .mlir)"

banner() { printf '\n==== %s ====\n' "$*"; }

banner "Input: $example"
sed -n '/^\/\//p;/^$/q' "$example"
# The quilt IR: everything before the harness (@random, @max_abs, @main).
awk '/^\/\/ Deterministic|^func.func @random|^func.func @main/ {exit} !/^\/\// {print}' \
  "$example" | sed '/./,$!d'
echo "  ... plus the harness that builds inputs and prints results (@main)"

banner "Reference meaning (convert-quilt-to-linalg; quilt_ref_* kernels elided)"
"$opt" "$example" --convert-quilt-to-linalg --canonicalize --cse \
  >"$out/$name.linalg.mlir"
awk '/^  func.func private @quilt_ref_/ {skip=1; n++; next}
     skip && /^  }$/ {skip=0; next}
     !skip' "$out/$name.linalg.mlir" | sed -n '/func.func @forward/,/^  }$/p'
echo "  ... plus $(grep -c '^  func.func private @quilt_ref_' "$out/$name.linalg.mlir") reference kernels"

banner "Lowered with quilt-reference-pipeline"
"$opt" "$example" --quilt-reference-pipeline >"$out/$name.llvm.mlir"
echo "$out/$name.llvm.mlir: $(wc -l <"$out/$name.llvm.mlir") lines of LLVM dialect"

banner "Executed (mlir-runner)"
"$llvm/bin/mlir-runner" "$out/$name.llvm.mlir" -e main -entry-point-result=void \
  -shared-libs="$llvm/lib/libmlir_runner_utils.so,$llvm/lib/libmlir_c_runner_utils.so" |
  awk -v labels="$(sed -n 's|^ *// LABEL: ||p' "$example" | paste -sd';')" '
    BEGIN { n = split(labels, label, ";") }
    /^Unranked Memref/ { i++; if (i <= n) print label[i] ":"; next }
    { print }'

# The x86 backend on the same entries: seeded random inputs, results checked
# against the reference pipeline, median time over 20 calls.
entries=$(sed -n 's/^func.func @\(forward[a-z_0-9]*\)(.*/\1/p' "$example")
if [ -n "$entries" ]; then
  banner "Compiled with quilt-cpu-pipeline (quilt-run --check --bench 20)"
  for entry in $entries; do
    echo "@$entry:"
    "$build/bin/quilt-run" "$example" --entry "$entry" --pipeline cpu \
      --check --bench 20 --warmup 3 | sed -n 's/^/  /;/time:\|check vs/p'
  done
fi
