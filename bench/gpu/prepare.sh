#!/usr/bin/env bash
#===- bench/gpu/prepare.sh - Compile the GPU bench cases to PTX -----------===#
#
# bench/gpu/prepare.sh [--no-build] [--variants FILE] [--out DIR] [CASE_REGEX]
#
# Runs where LLVM/MLIR 22 is installed (not on the GPU machine): builds
# quilt-opt, then compiles every bench/gpu/cases/*.mlir with
# --quilt-nvptx-pipeline into bench/gpu/kernels/CASE/ (kernels.ptx and
# CASE.json, the launcher's manifest), and each variant of
# bench/gpu/variants.txt that matches it into kernels/CASE@TAG/. --variants
# reads another variants file (grid.txt: the tiling grid timed for the cost
# model) and --out writes into another directory. Where ptxas is
# installed, each manifest records its registers and spills (ptxas=auto)
# and they are printed. A case that does not compile is skipped with a
# warning, since the pipeline may not support every weight format yet;
# bench_gpu.py then shows it as "not compiled". Exits 0 unless nothing
# compiled at all.
#
#===----------------------------------------------------------------------===#
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${QUILT_BUILD_DIR:-$root/build}"
chip="${QUILT_GPU_CHIP:-sm_90a}"
cases_dir="$root/bench/gpu/cases"
out_root="$root/bench/gpu/kernels"
variants="$root/bench/gpu/variants.txt"

build_tool=1
filter=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build_tool=0 ;;
    --variants) variants="$(realpath "$2")"; shift ;;
    --out) out_root="$(realpath -m "$2")"; shift ;;
    -h|--help) sed -n '4,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) filter="$1" ;;
  esac
  shift
done
if [ ! -f "$variants" ]; then
  echo "prepare.sh: no variants file $variants" >&2
  exit 1
fi

if [ "$build_tool" = 1 ]; then
  QUILT_BUILD_DIR="$build" "$root/scripts/build.sh" quilt-opt >&2 || {
    echo "prepare.sh: building quilt-opt failed" >&2
    exit 1
  }
fi
opt="$build/bin/quilt-opt"
if [ ! -x "$opt" ]; then
  echo "prepare.sh: $opt not found (drop --no-build or set QUILT_BUILD_DIR)" >&2
  exit 1
fi

# One clear message instead of one per case while the pipeline is missing.
# (The help text is captured first: grep -q closing the pipe early would
# make quilt-opt die of SIGPIPE, which pipefail reports as a failure.)
help_text="$("$opt" --help 2>/dev/null || true)"
if ! grep -q -- '--quilt-nvptx-pipeline' <<<"$help_text"; then
  echo "prepare.sh: $opt has no --quilt-nvptx-pipeline; nothing compiled" >&2
  exit 1
fi

mkdir -p "$out_root"
ok=0
failed=0
# compile NAME SRC DIR [OPTIONS...]: one kernel set; counts it in ok/failed.
compile() {
  local name="$1" src="$2" dir="$3"
  shift 3
  # A stale manifest from an earlier successful compile must not survive a
  # failing one, or bench_gpu.py would time old code.
  rm -rf "$dir"
  mkdir -p "$dir"
  local log
  log="$(mktemp)"
  if "$opt" "$src" --quilt-nvptx-pipeline="chip=$chip output-dir=$dir ptxas=auto $*" \
       -o /dev/null >"$log" 2>&1 && [ -f "$dir/kernels.ptx" ] &&
     [ -f "$dir/$name.json" ]; then
    ok=$((ok + 1))
    echo "compiled ${dir#"$out_root"/}${*:+ ($*)}:"
    for f in "$dir"/*; do
      printf '  %s (%s bytes)\n' "${f#"$root"/}" "$(wc -c <"$f")"
    done
    # The run kernel's registers and spills, when ptxas reported them.
    grep -E '"(registers|spill_store_bytes)"' "$dir/$name.json" | tr -d ' ,' |
      paste -sd' ' | sed 's/^/  ptxas: /'
    grep -h 'warning' "$log" | sed 's/^/  /'
  else
    failed=$((failed + 1))
    echo "warning: skipping ${dir#"$out_root"/}: compile failed or wrote no kernels.ptx/$name.json" >&2
    sed -n '1,15p' "$log" | sed 's/^/    /' >&2
    rm -rf "$dir"
  fi
  rm -f "$log"
}

for src in "$cases_dir"/*.mlir; do
  name="$(basename "$src" .mlir)"
  if [ -n "$filter" ] && ! [[ "$name" =~ $filter ]]; then
    continue
  fi
  compile "$name" "$src" "$out_root/$name"
  rm -rf "$out_root/$name"@*
  while read -r regex tag options; do
    case "$regex" in ''|'#'*) continue ;; esac
    if [[ "$name" =~ $regex ]]; then
      compile "$name" "$src" "$out_root/$name@$tag" $options
    fi
  done <"$variants"
done

echo "prepare.sh: $ok compiled, $failed skipped, into ${out_root#"$root"/}/"
if [ "$ok" = 0 ]; then
  exit 1
fi
