#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for N seconds.
#
#   tools/fuzz.sh [SECONDS] [TARGET...]     default 60 s, every target
#
# RMS_FUZZ_JOBS targets run at once (default 2). Each starts from its committed seeds in
# tests/fuzz/corpus/<target>/ plus what earlier runs found (kept in the build dir, never written
# back to the tree). Exits 1 when any target crashed, leaked, timed out or broke a property; the
# input is then in $RMS_FUZZ_BUILD_DIR/artifacts/<target>/: fix the bug, copy the input to
# tests/fuzz/regressions/<target>/ and the corpus replay test keeps it a test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# The same build as tools/sanitize.sh asan: one compile of the sources serves both.
build=${RMS_FUZZ_BUILD_DIR:-${RMS_ASAN_BUILD_DIR:-$root/build-asan}}
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(event money date config rules)
fi
jobs=${RMS_FUZZ_JOBS:-2}
# Under CI every run starts from the same seed, so CI's verdict on a change does not depend on
# where a random walk happened to go; by hand each run explores anew unless RMS_FUZZ_SEED is set.
seed=${RMS_FUZZ_SEED:-}
if [ -z "$seed" ] && [ "${CI:-}" = "true" ]; then
  seed=1
fi
seed_flag=()
if [ -n "$seed" ]; then
  seed_flag=(-seed="$seed")
fi

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
# The same configuration as tools/sanitize.sh's configure_asan, so neither rebuilds the other's.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DRMS_FUZZ=ON \
  -DRMS_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" "${launcher[@]}" >/dev/null
cmake --build "$build" -j "$(nproc)" --target rms_fuzzers

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

run_one() {
  local target=$1
  local corpus=$build/corpus/$target artifacts=$build/artifacts/$target/
  local dict=() max_len=4096
  mkdir -p "$corpus" "$artifacts"
  case $target in
    event) dict=(-dict="$root/tests/fuzz/dict/event.dict") ;;
    config | rules) dict=(-dict="$root/tests/fuzz/dict/toml.dict") ;;
    money | date) max_len=64 ;;
  esac
  # New inputs go to the first folder; the committed seeds are only read.
  "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=$max_len -print_final_stats=1 -artifact_prefix="$artifacts" "${dict[@]}" \
    "${seed_flag[@]}" \
    "$corpus" "$root/tests/fuzz/corpus/$target" >"$build/fuzz-$target.log" 2>&1
}

declare -A names=()
failed=()
running=0
# Waits for any one target to end and reports it.
wait_one() {
  local pid rc=0
  wait -n -p pid || rc=$?
  local target=${names[$pid]}
  running=$((running - 1))
  if [ "$rc" -eq 0 ]; then
    local execs
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$build/fuzz-$target.log" |
      grep -o '[0-9]*$' || echo "?")
    echo "fuzz $target: ${seconds} s, $execs runs, no crash"
  else
    echo "fuzz $target: FAILED (exit $rc), see $build/fuzz-$target.log"
    grep -E 'ERROR|property failed|runtime error|Test unit written' "$build/fuzz-$target.log" |
      head -5 || true
    failed+=("$target")
  fi
}
for target in "${targets[@]}"; do
  if [ ! -x "$build/tests/fuzz/fuzz_$target" ]; then
    echo "no fuzz target '$target'" >&2
    exit 2
  fi
  if [ "$running" -ge "$jobs" ]; then
    wait_one
  fi
  run_one "$target" &
  names[$!]=$target
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  wait_one
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing failed: ${failed[*]}" >&2
  exit 1
fi
