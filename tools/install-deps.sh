#!/usr/bin/env bash
# Installs every Debian 12 package RMS builds, tests and benchmarks with.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl python3
  libboost-dev libboost-system-dev librocksdb-dev prometheus-cpp-dev
  libspdlog-dev libfmt-dev libsimdjson-dev libcli11-dev libtomlplusplus-dev
  libgtest-dev libgmock-dev libbenchmark-dev clang-format
)
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# --no-upgrade: packages already installed are left as they are.
$sudo apt-get install -y -qq --no-install-recommends --no-upgrade "${packages[@]}"
