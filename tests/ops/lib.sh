# Helpers for the ops checks (sourced). ctest passes RMS_SOURCE_DIR, RMS_RMSD and RMS_RMSCTL.
# A missing tool skips the check (exit 77, which ctest reports as skipped) except under CI=true,
# where it fails, so that CI cannot pass by checking nothing.
set -euo pipefail

: "${RMS_SOURCE_DIR:?RMS_SOURCE_DIR must name the repository}"
deploy="$RMS_SOURCE_DIR/deploy"

ops_tmp=$(mktemp -d "${TMPDIR:-/tmp}/rms-ops-XXXXXX")
ops_pids=()

# Scratch processes still running at the end are killed outright: their data is thrown away, and
# a graceful stop is checked where it matters (stop_rmsd).
ops_cleanup() {
    local pid
    for pid in "${ops_pids[@]+"${ops_pids[@]}"}"; do
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ "${RMS_KEEP_TEMP:-}" = 1 ]; then
        echo "kept $ops_tmp" >&2
    else
        rm -rf "$ops_tmp"
    fi
}
trap ops_cleanup EXIT

# require_tool NAME...: skips (or fails under CI) unless every tool is on PATH.
require_tool() {
    local tool
    for tool in "$@"; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            if [ "${CI:-}" = true ] || [ "${CI:-}" = 1 ]; then
                echo "FAIL: $tool is not installed (tools/install-deps.sh installs it)" >&2
                exit 1
            fi
            echo "SKIP: $tool is not installed (tools/install-deps.sh installs it)" >&2
            exit 77
        fi
    done
}

# forget_pid PID: a process that was waited for, so that cleanup does not signal a reused pid.
forget_pid() {
    local kept=() pid
    for pid in "${ops_pids[@]+"${ops_pids[@]}"}"; do
        [ "$pid" = "$1" ] || kept+=("$pid")
    done
    ops_pids=("${kept[@]+"${kept[@]}"}")
}

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# start_rmsd NAME [ARGS...]: starts rmsd on 127.0.0.1 with kernel-chosen ports and its own data
# dir under the temp dir; sets rmsd_pid, rmsd_ingest and rmsd_http (host:port).
start_rmsd() {
    local name=$1
    shift
    local dir="$ops_tmp/$name"
    mkdir -p "$dir"
    "$RMS_RMSD" --data-dir "$dir/data" --listen 127.0.0.1:0 --http 127.0.0.1:0 "$@" \
        >"$dir/stdout.log" 2>"$dir/stderr.log" &
    rmsd_pid=$!
    ops_pids+=("$rmsd_pid")
    local line="" tries=0
    # The ready line is rmsd's first line on stdout; it comes within a second or so.
    until line=$(head -n 1 "$dir/stdout.log" 2>/dev/null) && [[ "$line" == "rmsd ready "* ]]; do
        if ! kill -0 "$rmsd_pid" 2>/dev/null || [ $((tries += 1)) -gt 300 ]; then
            cat "$dir/stderr.log" >&2
            fail "rmsd did not start: '$line'"
        fi
        sleep 0.1
    done
    rmsd_ingest=$(sed -n 's/.* ingest=\([^ ]*\).*/\1/p' <<<"$line")
    rmsd_http=$(sed -n 's/.* http=\([^ ]*\).*/\1/p' <<<"$line")
}

# stop_rmsd: SIGTERM, and the exit code must be 0.
stop_rmsd() {
    kill -TERM "$rmsd_pid"
    local rc=0
    wait "$rmsd_pid" || rc=$?
    forget_pid "$rmsd_pid"
    [ "$rc" -eq 0 ] || fail "rmsd exited $rc after SIGTERM"
}

# replay_ibm: replays the IBM sample into the running rmsd.
replay_ibm() {
    "$RMS_RMSCTL" replay --format ibm "$RMS_SOURCE_DIR/data/ibm-accounts-receivable.csv" \
        --to "$rmsd_ingest" >"$ops_tmp/replay.txt" ||
        fail "replay failed: $(cat "$ops_tmp/replay.txt")"
}
