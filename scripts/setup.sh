#!/usr/bin/env bash
#===- scripts/setup.sh - Install Quilt's build dependencies ---------------===#
#
# Installs every Debian 12 package Quilt needs, only when missing, so the
# README commands work on a fresh machine. Safe to run repeatedly.
#
#===----------------------------------------------------------------------===#
set -euo pipefail

PACKAGES=(
  # Toolchain: Debian's LLVM/MLIR 22, built with clang-22 and linked with lld.
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  clang-22 lld-22 libomp-22-dev
  cmake ninja-build ccache python3
  # Baselines of bench/ (OpenBLAS sgemm, oneDNN bf16/int8) and .npy tooling.
  libopenblas-dev libdnnl-dev python3-numpy
  # The digits example (examples/digits): the dataset ships with scikit-learn.
  python3-sklearn
  # The learned cost model (XGBoost C API) and quilt-tune eval --plot.
  libxgboost-dev python3-matplotlib
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "quilt setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
