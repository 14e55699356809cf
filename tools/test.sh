#!/usr/bin/env bash
# The README's test command: installs the dependencies, builds, and runs every test.
# In CI (CI=true) it also runs bench/run-all's quick mode first: its figures are printed and kept
# in the build dir (never over bench/RESULTS.md); only a broken run fails, never a slow one.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RMS_BUILD_DIR:-$root/build}
"$root/tools/install-deps.sh"
"$root/tools/build.sh"
if [ "${CI:-}" = true ]; then
  mkdir -p "$build/bench-results"
  start=$(date +%s)
  "$root/bench/run-all" --quick --build-dir "$build" --out "$build/bench-results/RESULTS.md"
  echo "bench/run-all --quick took $(( $(date +%s) - start )) s; figures:"
  sed -n '/^### Side by side/,/^### Micro-benchmarks/p' "$build/bench-results/RESULTS.md"
fi
cd "$build"
ctest --output-on-failure --timeout 600 -j 2
