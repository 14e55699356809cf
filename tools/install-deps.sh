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
  # Fuzzing and sanitizers (tools/fuzz.sh, tools/sanitize.sh): clang++ (14) and its runtimes, which
  # hold libFuzzer (libclang_rt.fuzzer) and the ASan, UBSan and TSan libraries.
  clang libclang-rt-14-dev
  # Delivery (issue #5): libcurl for SMTP and webhooks; aiosmtpd is the tests' SMTP server.
  libcurl4-openssl-dev python3-aiosmtpd
  # Kafka scale-out (engine/kafka_*, issue #9): the client and its mock cluster for the tests.
  librdkafka-dev
  # Operations checks (deploy/, tests/ops): promtool, prometheus, amtool, systemd-analyze.
  prometheus prometheus-alertmanager systemd
  # The console's browser test (tests/console): headless Chromium driven by playwright-core.
  chromium
  # The PostgreSQL baseline of bench/run-all (its own cluster in a temp dir, started by the
  # script); without libpq-dev rms-baselines is built without it and the quick mode in CI fails.
  postgresql libpq-dev
)
# Node.js and npm for that test. A node already installed (from NodeSource, say, which bundles
# npm and conflicts with Debian's npm package) is kept.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq

# Debian's prometheus, alertmanager and postgresql packages start their services on install (on
# :9090, :9093 and :5432); the tests and bench/run-all run their own servers on free loopback
# ports and want none of that. A
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
