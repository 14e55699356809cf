#!/usr/bin/env bash
# deploy/alertmanager/alertmanager.yml: valid for amtool, and routes critical alerts to the
# pager and the ticket webhook, everything else to tickets only.
source "$(dirname "$0")/lib.sh"
require_tool amtool

config="$deploy/alertmanager/alertmanager.yml"
amtool check-config "$config"
route() {
    amtool config routes test --config.file="$config" --verify.receivers="$1" "${@:2}" \
        2>/dev/null || fail "labels ${*:2} do not route to $1"
}
route rms-pager,rms-tickets severity=critical alertname=RMSEngineDown job=rms
route rms-tickets severity=warning alertname=RMSDsoRising job=rms currency=USD
route rms-tickets severity=info alertname=Whatever
echo "alertmanager config: ok"
