#!/usr/bin/env bash
# The README's test command: installs the dependencies, builds, and runs every test.
# In CI (CI=true) it also runs bench/run-all's quick mode first: its figures are printed and kept
# in the build dir (never over bench/RESULTS.md); only a broken run fails, never a slow one.
# With CI=true, or RMS_HARDENING=1, it then runs the sanitizer builds and a short fuzz run
# (docs/testing.md); RMS_HARDENING=0 skips them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RMS_BUILD_DIR:-$root/build}
"$root/tools/install-deps.sh"
"$root/tools/build.sh"

# Each step's wall time is printed, so the CI budget can be read off the log.
step() {
  local name=$1 start=$SECONDS
  shift
  echo "== $name"
  "$@"
  echo "== $name took $((SECONDS - start)) s"
}

if [ "${CI:-}" = true ]; then
  mkdir -p "$build/bench-results"
  step "bench/run-all --quick" \
    "$root/bench/run-all" --quick --build-dir "$build" --out "$build/bench-results/RESULTS.md"
  sed -n '/^### Side by side/,/^### Micro-benchmarks/p' "$build/bench-results/RESULTS.md"
fi
(cd "$build" && step "ctest" ctest --output-on-failure --timeout 600 -j 2)

hardening=${RMS_HARDENING:-}
if [ -z "$hardening" ] && [ "${CI:-}" = true ]; then
  hardening=1
fi
if [ "$hardening" = 1 ]; then
  step "ASan + UBSan: the whole suite" "$root/tools/sanitize.sh" asan
  step "TSan: the concurrency tests" "$root/tools/sanitize.sh" tsan
  step "fuzzing, ${RMS_FUZZ_SECONDS:-45} s a target" "$root/tools/fuzz.sh" "${RMS_FUZZ_SECONDS:-45}"
fi
