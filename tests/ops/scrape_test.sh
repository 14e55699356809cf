#!/usr/bin/env bash
# Checks on a real scrape of rmsd after an IBM replay: `promtool check metrics` finds nothing but
# the allow-listed findings (metrics_allowlist.txt), and the dashboards pass lint_dashboards.py
# against the metrics that scrape exposes, and their queries parse (promtool check rules).
source "$(dirname "$0")/lib.sh"
require_tool promtool curl python3

start_rmsd scrape
replay_ibm
curl -fsS "http://$rmsd_http/metrics" >"$ops_tmp/scrape.txt"

rc=0
promtool check metrics <"$ops_tmp/scrape.txt" >"$ops_tmp/findings.txt" 2>&1 || rc=$?
# rc 3 means lint findings; anything else besides 0 is a failure to parse.
[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || { cat "$ops_tmp/findings.txt" >&2; fail "promtool rc $rc"; }
unexpected=$(grep -vxF -f <(grep -v '^#' "$(dirname "$0")/metrics_allowlist.txt") \
    "$ops_tmp/findings.txt" || true)
[ -z "$unexpected" ] || fail "promtool check metrics: $unexpected"
echo "promtool check metrics: $(wc -l <"$ops_tmp/findings.txt") finding(s), all allow-listed"

python3 "$deploy/grafana/lint_dashboards.py" --metrics "$ops_tmp/scrape.txt" \
    --emit-rules "$ops_tmp/dashboard_queries.yml" "$deploy/grafana/dashboards/"*.json
promtool check rules "$ops_tmp/dashboard_queries.yml"
echo "scrape checks: ok"
