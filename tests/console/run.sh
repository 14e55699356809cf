#!/usr/bin/env bash
# The console's end-to-end test (ctest: console_e2e). Starts two real rmsd on loopback ports the
# kernel picks, each with its RocksDB in a temp dir: one open, one with authentication on
# ([[producers]] and [[http_users]], secrets made up for this run). Replays the IBM sample up to
# 2013-06-30 into both (when invoices are still open, so the worklist has customers), installs
# playwright-core with npm ci when node_modules is missing or stale, and runs console.test.mjs in
# Debian's headless Chromium. Screenshots and both rmsd logs go to the artefacts folder.
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
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      wait "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$work"
}
trap cleanup EXIT

# start_rmsd NAME ARGS...: starts rmsd with its data and log under $work/NAME and sets
# NAME_ingest and NAME_http to its addresses; its pid goes to $pids.
start_rmsd() {
  local name=$1
  shift
  "$rmsd" --data-dir "$work/$name" --listen 127.0.0.1:0 --http 127.0.0.1:0 "$@" \
    >"$work/$name.ready" 2>"$work/$name.log" &
  pids+=($!)
  for _ in $(seq 1 100); do
    grep -q '^rmsd ready' "$work/$name.ready" 2>/dev/null && break
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$work/$name.log"; exit 1; }
    sleep 0.1
  done
  grep -q '^rmsd ready' "$work/$name.ready" ||
    { echo "rmsd ($name) did not start"; cat "$work/$name.log"; exit 1; }
  printf -v "${name}_ingest" '%s' \
    "$(sed -n 's/^rmsd ready ingest=\([^ ]*\) http=.*/\1/p' "$work/$name.ready")"
  printf -v "${name}_http" '%s' \
    "$(sed -n 's/^rmsd ready .* http=\([^ ]*\)$/\1/p' "$work/$name.ready")"
}

secret() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
digest() { printf '%s\n' "$1" | "$rmsctl" hash-token; }

start_rmsd open --grafana-url "$grafana_url"
"$rmsctl" replay --format ibm "$root/data/ibm-accounts-receivable.csv" --to "$open_ingest" \
  --until "$until_day" | tail -n 1

# With authentication: the replay is producer "default" (its events carry no source); collector
# anna writes from the console as producer "console"; viewer only reads.
replay_token=$(secret)
anna_password=$(secret)
viewer_password=$(secret)
cat >"$work/auth.toml" <<TOML
[[producers]]
name = "default"
token_sha256 = "$(digest "$replay_token")"

[[producers]]
name = "console"
token_sha256 = "$(digest "$(secret)")"
event_types = ["contact.logged", "promise.made", "promise.cancelled", "dispute.opened",
               "dispute.resolved"]

[[http_users]]
name = "anna"
password_sha256 = "$(digest "$anna_password")"
producer = "console"

[[http_users]]
name = "viewer"
password_sha256 = "$(digest "$viewer_password")"
TOML
start_rmsd auth --config "$work/auth.toml"
printf '%s\n' "$replay_token" >"$work/replay.token"
"$rmsctl" replay --format ibm "$root/data/ibm-accounts-receivable.csv" --to "$auth_ingest" \
  --until "$until_day" --token-file "$work/replay.token" | tail -n 1

mkdir -p "$artifacts"
artifacts=$(cd "$artifacts" && pwd)
rm -f "$artifacts"/*.png "$artifacts"/*.log  # only this run's
status=0
(cd "$here" && RMS_HTTP=$open_http RMS_ARTIFACTS=$artifacts RMS_CHROMIUM=$chromium \
  RMS_GRAFANA_URL=$grafana_url RMS_AUTH_HTTP=$auth_http RMS_ANNA_PASSWORD=$anna_password \
  RMS_VIEWER_PASSWORD=$viewer_password \
  node --test --test-reporter=spec console.test.mjs) || status=$?
cp "$work/open.log" "$artifacts/rmsd.log"
cp "$work/auth.log" "$artifacts/rmsd-auth.log"
# The console sent these on every request (the password in its basic-auth header): neither may
# reach the log.
for leaked in "$anna_password" "$(printf 'anna:%s' "$anna_password" | base64 -w0)"; do
  if grep -qF "$leaked" "$work/auth.log"; then
    echo "console_e2e: FAILED: a password of the signed-in user is in the rmsd log"
    status=1
  fi
done
echo "console_e2e: screenshots and the rmsd logs are in $artifacts"
exit "$status"
