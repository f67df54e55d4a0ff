#!/usr/bin/env bash
#===- scripts/test.sh - Build Quilt and run every test --------------------===#
#
# README command two. Exits non-zero when any test fails.
#
#===----------------------------------------------------------------------===#
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh"
"$root/scripts/build.sh" quilt-doc check-quilt
