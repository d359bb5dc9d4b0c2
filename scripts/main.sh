#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main job: installs what is missing, builds, simulates the default pendulum dataset, trains LaDID with the short
# default config, evaluates on the test split and writes metrics and pictures into the run directory.
#   RUN=runs/main CONFIG=configs/pendulum_ladid_quick.json bash scripts/main.sh
# A killed run is resumed from its last checkpoint; a completed one is only re-evaluated (delete it to retrain).
set -euo pipefail
cd "$(dirname "$0")/.."
RUN="${RUN:-runs/main}"
CONFIG="${CONFIG:-configs/pendulum_ladid_quick.json}"
DATA="${DATA:-data/pendulum.h5}"
start=$(date +%s)
bash scripts/build.sh latdyn_exe
bin=build/bin/latdyn
"$bin" info
if [ ! -f "$DATA" ]; then
  mkdir -p "$(dirname "$DATA")"
  "$bin" simulate pendulum --out "$DATA"
fi
if grep -q '"status": "completed"' "$RUN/status.json" 2>/dev/null; then
  echo "main: $RUN is already trained; re-evaluating (delete it to train again)"
elif [ -f "$RUN/config.json" ]; then
  echo "main: resuming $RUN from its last checkpoint"
  "$bin" train --run-dir "$RUN" --resume
else
  "$bin" train --config "$CONFIG" --run-dir "$RUN" --set data.path="$DATA"
fi
"$bin" eval --run-dir "$RUN"
echo
echo "main: done in $(( $(date +%s) - start )) s"
echo "main: metrics  $RUN/metrics.json"
echo "main: pictures $RUN/plots/ (rollout_grid.png, rollout.gif, nmse_per_frame.png, loss.png, learning_curve.png)"
