#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# DynAE vs its baselines on the official three-well data (dynae.md §13.4, §17.7): DynAE with its defaults and every
# beta of each baseline's sweep (beta-VAE 0.01/0.1/1/10, SWAE 0.1/1/10/100, SDE-VAE 0.1/1/10), 3 seeds each, the
# same config otherwise (configs/three_well_dynae.json: 50 epochs, batch 256, lr 1e-3). Runs go to
# runs/three_well_table/<model>_b<beta>_s<seed>; the table is written to docs/results_three_well.md.
#   JOBS=2 SEEDS="0 1 2" bash scripts/dynae_three_well_table.sh
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-2}"
SEEDS="${SEEDS:-0 1 2}"
OUT="${OUT:-runs/three_well_table}"
bin=build/bin/latdyn
bash scripts/build.sh latdyn_exe >/dev/null
mkdir -p "$OUT" data
[ -f data/three_well.h5 ] || "$bin" simulate three_well --out data/three_well.h5
jobs_file="$OUT/jobs.txt"
: > "$jobs_file"
add() { for s in $SEEDS; do echo "$1 $2 $s" >> "$jobs_file"; done; }
add dynae 10
for b in 0.01 0.1 1 10; do add beta_vae "$b"; done
for b in 0.1 1 10 100; do add swae "$b"; done
for b in 0.1 1 10; do add sde_vae "$b"; done
run_one() {
  local model=$1 beta=$2 seed=$3 dir="$OUT/${1}_b${2}_s${3}"
  if grep -q '"status": "completed"' "$dir/status.json" 2>/dev/null && [ -f "$dir/metrics.json" ]; then return 0; fi
  rm -rf "$dir"
  build/bin/latdyn train --config configs/three_well_dynae.json --run-dir "$dir" --set model.type="$model" \
    --set model.beta="$beta" --set trainer.seed="$seed" --set trainer.progress=false > "$dir.log" 2>&1
  build/bin/latdyn eval --run-dir "$dir" >> "$dir.log" 2>&1
  echo "done $dir"
}
export -f run_one
export OUT
xargs -P "$JOBS" -L 1 bash -c 'run_one "$@"' _ < "$jobs_file"
/usr/bin/python3 scripts/dynae_table.py "$OUT" > docs/results_three_well.md
cat docs/results_three_well.md
