#!/usr/bin/env bash
# The README's test command: installs the dependencies, builds, and runs every test.
# With CI=true, or RMS_HARDENING=1, it then runs the sanitizer builds and a short fuzz run
# (docs/testing.md); RMS_HARDENING=0 skips them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/install-deps.sh"
"$root/tools/build.sh"
cd "${RMS_BUILD_DIR:-$root/build}"
ctest --output-on-failure --timeout 600 -j 2

hardening=${RMS_HARDENING:-}
if [ -z "$hardening" ] && [ "${CI:-}" = true ]; then
  hardening=1
fi
if [ "$hardening" = 1 ]; then
  # Each step's wall time is printed, so the CI budget can be read off the log.
  step() {
    local name=$1 start=$SECONDS
    shift
    echo "== $name"
    "$@"
    echo "== $name took $((SECONDS - start)) s"
  }
  step "ASan + UBSan: the whole suite" "$root/tools/sanitize.sh" asan
  step "TSan: the concurrency tests" "$root/tools/sanitize.sh" tsan
  step "fuzzing, ${RMS_FUZZ_SECONDS:-45} s a target" "$root/tools/fuzz.sh" "${RMS_FUZZ_SECONDS:-45}"
fi
