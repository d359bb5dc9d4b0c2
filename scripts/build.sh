#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs missing Debian packages, configures and builds latdyn (Release) into build/.
#   bash scripts/build.sh              # everything (library, CLI, tests)
#   bash scripts/build.sh latdyn_exe   # only the named ninja targets
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_debian.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DLATDYN_BUILD_TESTS=ON >/dev/null
ninja -C build "$@"
