#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The test command: installs what is missing, builds, runs the whole ctest suite (unit, numeric, invariance, cli).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/build.sh
(cd build && ctest --output-on-failure --timeout 1500 "$@")
echo "tests: build + suite took $(( $(date +%s) - start )) s"
