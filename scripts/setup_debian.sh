#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs every Debian package latdyn needs (idempotent): one `apt-get update`, then `apt-get install -y`.
set -euo pipefail
pkgs=(build-essential cmake ninja-build pkg-config
      libtorch-dev libopenblas0-openmp
      nlohmann-json3-dev libcli11-dev libhdf5-dev libgtest-dev libcairo2-dev
      python3-torch python3-numpy python3-h5py python-mdtraj-doc)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#pkgs[@]} packages already installed"; exit 0
fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
