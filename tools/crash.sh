#!/usr/bin/env bash
# Long crash-trial runs (docs/testing.md): the crash test with more trials than CI's 20.
#
#   tools/crash.sh [--trials N] [--seed S]      default 200 trials, a random first seed
#
# Uses the build in $RMS_BUILD_DIR (default build/); build it first with tools/build.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RMS_BUILD_DIR:-$root/build}
trials=200
seed=""
while [ $# -gt 0 ]; do
  case $1 in
    --trials) trials=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    *) echo "usage: $0 [--trials N] [--seed S]" >&2; exit 2 ;;
  esac
done
export RMS_CRASH_TRIALS=$trials
if [ -n "$seed" ]; then
  export RMS_CRASH_SEED=$seed
fi
exec "$build/tests/rms_integration_tests" --gtest_filter='CrashTest.*'
