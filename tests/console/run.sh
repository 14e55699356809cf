#!/usr/bin/env bash
# The console's end-to-end test (ctest: console_e2e). Starts a real rmsd on loopback ports the
# kernel picks, with its RocksDB in a temp dir, replays the IBM sample up to 2013-06-30 (when
# invoices are still open, so the worklist has customers), installs playwright-core with npm ci
# when node_modules is missing or stale, and runs console.test.mjs in Debian's headless Chromium.
# Screenshots go to the artefacts folder.
#
#   run.sh RMSD RMSCTL ARTIFACTS_DIR
#
# Exits 77 (ctest: skipped) when chromium, node or npm is missing, except under CI=true, where
# that is a failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rmsd=$1
rmsctl=$2
artifacts=$3
chromium=${RMS_CHROMIUM:-/usr/bin/chromium}
until_day=2013-06-30
grafana_url=http://127.0.0.1:3000/d/rms-overview

missing=()
[ -x "$chromium" ] || missing+=("chromium ($chromium)")
command -v node >/dev/null || missing+=(node)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "console_e2e: missing ${missing[*]}; tools/install-deps.sh installs them"
  if [ "${CI:-}" = "true" ]; then
    echo "console_e2e: FAILED: CI must run the browser test"
    exit 1
  fi
  echo "console_e2e: SKIPPED"
  exit 77
fi

# npm ci again only when the lock file changed since the last install.
if [ ! -f "$here/node_modules/.package-lock.json" ] ||
  [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  start=$(date +%s)
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
  echo "console_e2e: npm ci took $(($(date +%s) - start)) s"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/rms-console-XXXXXX")
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

"$rmsd" --data-dir "$work/data" --listen 127.0.0.1:0 --http 127.0.0.1:0 \
  --grafana-url "$grafana_url" >"$work/ready" 2>"$work/rmsd.log" &
pid=$!
for _ in $(seq 1 100); do
  grep -q '^rmsd ready' "$work/ready" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/rmsd.log"; exit 1; }
  sleep 0.1
done
grep -q '^rmsd ready' "$work/ready" || { echo "rmsd did not start"; cat "$work/rmsd.log"; exit 1; }
ingest=$(sed -n 's/^rmsd ready ingest=\([^ ]*\) http=.*/\1/p' "$work/ready")
http=$(sed -n 's/^rmsd ready .* http=\([^ ]*\)$/\1/p' "$work/ready")

"$rmsctl" replay --format ibm "$root/data/ibm-accounts-receivable.csv" --to "$ingest" \
  --until "$until_day" | tail -n 1

mkdir -p "$artifacts"
artifacts=$(cd "$artifacts" && pwd)
status=0
(cd "$here" && RMS_HTTP=$http RMS_ARTIFACTS=$artifacts RMS_CHROMIUM=$chromium \
  RMS_GRAFANA_URL=$grafana_url node --test --test-reporter=spec console.test.mjs) || status=$?
cp "$work/rmsd.log" "$artifacts/rmsd.log"
echo "console_e2e: screenshots and the rmsd log are in $artifacts"
exit "$status"
