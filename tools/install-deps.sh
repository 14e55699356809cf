#!/usr/bin/env bash
# Installs every Debian 12 package RMS builds, tests and benchmarks with.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl python3
  libboost-dev libboost-system-dev librocksdb-dev prometheus-cpp-dev
  libspdlog-dev libfmt-dev libsimdjson-dev libcli11-dev libtomlplusplus-dev
  libgtest-dev libgmock-dev libbenchmark-dev clang-format
  # TLS (engine/tls, tools/client) and the test certificates made at run time.
  libssl-dev openssl
  # Kafka scale-out (engine/kafka_*, issue #9): the client and its mock cluster for the tests.
  librdkafka-dev
  # Operations checks (deploy/, tests/ops): promtool, prometheus, amtool, systemd-analyze.
  prometheus prometheus-alertmanager systemd
)
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq

# Debian's prometheus and alertmanager packages start their services on install (on :9090 and
# :9093); the tests run their own servers on free loopback ports and want none of that. A
# policy-rc.d that exits 101 forbids service starts for the install; ours is removed after it.
# One already there (Docker images ship one) is left alone.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# tools/install-deps.sh: no service starts while it installs.\nexit 101\n' |
    $sudo tee "$policy" >/dev/null
  $sudo chmod 755 "$policy"
  trap '$sudo rm -f "$policy"' EXIT
fi
# --no-upgrade: packages already installed are left as they are.
$sudo apt-get install -y -qq --no-install-recommends --no-upgrade "${packages[@]}"
