#!/usr/bin/env bash
# The README's main job: installs, builds, starts rmsd on its embedded RocksDB under var/rms,
# replays the IBM accounts-receivable sample, prints the KPI table and leaves rmsd running.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RMS_BUILD_DIR:-$root/build}
data_dir=${RMS_DATA_DIR:-$root/var/rms}
listen=${RMS_LISTEN:-127.0.0.1:7400}
http=${RMS_HTTP:-127.0.0.1:8080}

"$root/tools/install-deps.sh"
"$root/tools/build.sh"

# Stop the rmsd this script started before, if it still runs (and the pid is still an rmsd).
if [ -f "$data_dir.pid" ]; then
  old=$(cat "$data_dir.pid")
  if kill -0 "$old" 2>/dev/null && grep -q rmsd "/proc/$old/cmdline" 2>/dev/null; then
    echo "stopping the rmsd started before (pid $old)"
    kill -TERM "$old"
    while kill -0 "$old" 2>/dev/null; do sleep 0.1; done
  fi
fi
mkdir -p "$data_dir"
ready="$data_dir.ready"
rm -f "$ready"
nohup "$build/engine/rmsd" --data-dir "$data_dir" --listen "$listen" --http "$http" \
  >"$ready" 2>"$data_dir.log" &
echo $! >"$data_dir.pid"
for _ in $(seq 1 100); do
  grep -q '^rmsd ready' "$ready" 2>/dev/null && break
  kill -0 "$(cat "$data_dir.pid")" 2>/dev/null || { cat "$data_dir.log"; exit 1; }
  sleep 0.1
done
grep -q '^rmsd ready' "$ready" || { echo "rmsd did not start"; cat "$data_dir.log"; exit 1; }

# Resending is safe: events already applied answer "duplicate".
# RMS_REPLAY_UNTIL=YYYY-MM-DD replays only the events up to that day (invoices still open).
"$build/tools/rmsctl" replay --format ibm "$root/data/ibm-accounts-receivable.csv" --to "$listen" \
  ${RMS_REPLAY_UNTIL:+--until "$RMS_REPLAY_UNTIL"}
"$build/tools/rmsctl" kpis --http "$http"
echo
echo "rmsd is running (pid $(cat "$data_dir.pid")): ingest $listen, query API and metrics http://$http"
echo "  console: http://$http/console/"
echo "  logs: $data_dir.log   stop: kill \$(cat $data_dir.pid)"
