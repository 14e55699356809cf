#!/usr/bin/env bash
# The Prometheus side of deploy/: both prometheus.yml files load (with their rule files), the
# alert rules check, and every alert passes its firing and silent cases under promtool test rules.
source "$(dirname "$0")/lib.sh"
require_tool promtool

promtool check config "$deploy/prometheus/prometheus.yml"
promtool check config --syntax-only "$deploy/docker/prometheus.yml"
promtool check rules "$deploy/prometheus/rules/"*.yml

# Every alert of the rule files must have a test case that expects it to fire.
cd "$deploy/prometheus/tests"
for alert in $(sed -n 's/^ *- alert: *\([A-Za-z0-9]*\).*/\1/p' ../rules/*.yml); do
    grep -q "alertname: $alert\$" ./*_test.yml || fail "alert $alert has no promtool test case"
    grep -A3 "alertname: $alert\$" ./*_test.yml | grep -q "exp_labels" ||
        fail "alert $alert has no firing case"
    grep -A2 "alertname: $alert\$" ./*_test.yml | grep -q "exp_alerts: \[\]" ||
        fail "alert $alert has no silent case"
done
promtool test rules ./*_test.yml
echo "prometheus rules: ok"
