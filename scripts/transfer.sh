#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Transfer to interventions (ladid.md §9, issue 5): fine-tune vs scratch at 8/16/32/64/100 % of the target training
# set, 3 seeds, for the pendulum with a changed length, the damped pendulum and the shifted cylinder. Sources and
# target sets are simulated / trained when missing; a killed run continues where it stopped when started again.
#   bash scripts/transfer.sh                       # all three interventions, the full protocol
#   bash scripts/transfer.sh pendulum_length       # one of: pendulum_length pendulum_damped cylinder_shift
#   TRANSFER_SET='--set seeds=[0] --set budget.steps=1000' bash scripts/transfer.sh pendulum_length   # reduced
# Results: runs/transfer_<name>/transfer.md, transfer.json and plots/transfer_nmse.png.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/bin/latdyn ] || bash scripts/build.sh latdyn_exe
bin=build/bin/latdyn
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(pendulum_length pendulum_damped cylinder_shift)
# shellcheck disable=SC2206
extra=(${TRANSFER_SET:-})
for name in "${names[@]}"; do
  case "$name" in
    pendulum_length|pendulum_damped)
      "$bin" transfer --config "configs/transfer_$name.json" --out "runs/transfer_$name" "${extra[@]}" ;;
    cylinder_shift)
      # The source set first, so that the target reuses its vorticity scale (one [0, 1] map for both sets).
      [ -f data/cylinder_re100.h5 ] || "$bin" simulate cylinder_lbm --out data/cylinder_re100.h5
      scale=$("$bin" info data/cylinder_re100.h5 --get options.normalization.scale | tr -d '[] ')
      "$bin" transfer --config configs/transfer_cylinder_shift.json --out runs/transfer_cylinder_shift \
        --set "target.simulator.omega_clip=$scale" "${extra[@]}" ;;
    *) echo "unknown intervention '$name' (pendulum_length, pendulum_damped, cylinder_shift)" >&2; exit 2 ;;
  esac
done
