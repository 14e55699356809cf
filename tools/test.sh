#!/usr/bin/env bash
# The README's test command: installs the dependencies, builds, and runs every test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/install-deps.sh"
"$root/tools/build.sh"
cd "${RMS_BUILD_DIR:-$root/build}"
ctest --output-on-failure --timeout 600 -j 2
