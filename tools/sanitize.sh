#!/usr/bin/env bash
# Builds and runs the tests under sanitizers.
#
#   tools/sanitize.sh [asan|tsan|all]      default all
#
# asan: the whole test suite (ctest) built with clang, ASan + UBSan, -fno-sanitize-recover=all.
#   It is the same build as tools/fuzz.sh's (RMS_FUZZ=ON adds libFuzzer's coverage hooks, which
#   the tests do not use), so CI compiles the sources once for both.
# tsan: rmsd and the integration tests built with ThreadSanitizer, running the tests that drive
#   the engine's threads (see TSAN_TESTS below).
#
# Every process writes its reports to a file (log_path), the rmsd children of the integration
# tests included, so a report fails the run even where a test only kills its rmsd. Exits 1 when
# a test failed or any report was written.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-all}
asan_build=${RMS_ASAN_BUILD_DIR:-$root/build-asan}
tsan_build=${RMS_TSAN_BUILD_DIR:-$root/build-tsan}

# Tests left out under ASan, each with its reason:
# - none yet.
ASAN_EXCLUDE=${RMS_ASAN_EXCLUDE:-}
# The engine's concurrency is inside rmsd: the ingest thread, the commit thread (group commit),
# the writer thread it hands batches to when it pipelines, the HTTP thread and the outbox's
# delivery threads, plus signal handling (SIGHUP reload, SIGTERM drain) and the restart path.
# These integration tests drive them over TCP: deliveries and re-drives (DeliveryTest,
# RedeliveryTest), TLS handshakes on both ports (SecurityTest), hostile clients at the connection
# limits and timeouts (HostileClientTest). CommittedViewTest (readers
# of a view while the commit thread renders it) and EnginePipelineTest (a group applied while the
# one before is written) are the unit tests with threads of their own; the others are
# single-threaded.
# KafkaClusterTest is left out: rmsd with --kafka, and librdkafka's mock cluster, die of SIGSEGV
# inside the TSan runtime as Debian's uninstrumented librdkafka starts its threads.
TSAN_TESTS='^(IngestTest|CrashTest|RulesReloadTest|PrometheusTest|ServiceTest|DeliveryTest|RedeliveryTest|SecurityTest|HostileClientTest|CommittedViewTest|EnginePipelineTest)\.'

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

# The ASan + UBSan build, shared with tools/fuzz.sh (which has the same function): clang, -O1
# and line tables only, enough for reports with file and line at a fraction of -O2 -g's time.
configure_asan() {
  cmake -S "$root" -B "$1" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DRMS_FUZZ=ON \
    -DRMS_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" "${launcher[@]}" >/dev/null
}

# Empties $1/sanitizer-reports, where every process of the run writes its reports.
fresh_reports() {
  rm -rf "$1/sanitizer-reports"
  mkdir -p "$1/sanitizer-reports"
}

# Fails when any sanitizer report file was written under $1.
check_reports() {
  local dir=$1 name=$2
  local reports
  reports=$(find "$dir" -type f -size +0 2>/dev/null | sort)
  if [ -n "$reports" ]; then
    echo "$name: sanitizer reports:" >&2
    for f in $reports; do
      echo "== $f" >&2
      head -60 "$f" >&2
    done
    return 1
  fi
  echo "$name: no sanitizer reports"
}

run_asan() {
  configure_asan "$asan_build"
  cmake --build "$asan_build" -j "$(nproc)"
  local reports=$asan_build/sanitizer-reports status=0
  fresh_reports "$asan_build"
  (
    cd "$asan_build"
    export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:strict_string_checks=1"
    export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1"
    # Fewer crash trials: each takes about 9 s under ASan, and the plain suite runs 20.
    export RMS_CRASH_TRIALS=${RMS_CRASH_TRIALS:-3}
    ctest --output-on-failure --timeout 900 -j 2 ${ASAN_EXCLUDE:+-E "$ASAN_EXCLUDE"}
  ) || status=1
  check_reports "$reports" "asan" || status=1
  return $status
}

run_tsan() {
  # -O1 and line tables only: enough for reports with file and line, and a fraction of the
  # compile time of -O2 -g over Boost.Beast.
  cmake -S "$root" -B "$tsan_build" -G Ninja -DRMS_TSAN=ON -DRMS_BUILD_BENCH=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
    "${launcher[@]}" >/dev/null
  cmake --build "$tsan_build" -j "$(nproc)" \
    --target rmsd rms_integration_tests rms_unit_tests
  local reports=$tsan_build/sanitizer-reports status=0
  fresh_reports "$tsan_build"
  (
    cd "$tsan_build"
    export TSAN_OPTIONS="log_path=$reports/tsan:halt_on_error=0:second_deadlock_stack=1:suppressions=$root/tools/tsan.supp"
    export RMS_CRASH_TRIALS=${RMS_CRASH_TRIALS:-3}
    ctest --output-on-failure --timeout 900 -j 2 -R "$TSAN_TESTS"
  ) || status=1
  check_reports "$reports" "tsan" || status=1
  return $status
}

status=0
case $mode in
  asan) run_asan || status=1 ;;
  tsan) run_tsan || status=1 ;;
  all)
    run_asan || status=1
    run_tsan || status=1
    ;;
  *)
    echo "usage: $0 [asan|tsan|all]" >&2
    exit 2
    ;;
esac
exit $status
