#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Per-frame reading of a `latdyn compare` directory (docs/results.md, PDE section): for every model, the nMSE curve
# over the predicted frames (mean over test trajectories, then over seeds) against the two sanity predictors stored
# beside it (copy the last context frame; the mean training frame), the frames where the model is worse than
# copy-last, and how sharp its predictions are: the spatial std of each predicted frame divided by that of the true
# frame (1 = as much structure as the data, < 1 = blurred towards a flat field), averaged over frames.
#   /usr/bin/python3 scripts/compare_curves.py runs/pde_quick_lambda_omega [--frames 1,2,5,10,20,40]
import argparse
import glob
import os

import h5py
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("compare_dir", help="the --out directory of `latdyn compare` (MODEL/seed_S/eval_predictions.h5)")
ap.add_argument("--frames", default="1,2,5,10,20,40", help="predicted frames (1-based) to list")
a = ap.parse_args()
frames = [int(k) for k in a.frames.split(",")]

models = sorted(d for d in os.listdir(a.compare_dir) if glob.glob(os.path.join(a.compare_dir, d, "seed_*", "eval_predictions.h5")))
if not models:
    raise SystemExit(f"{a.compare_dir}: no MODEL/seed_*/eval_predictions.h5 (run `latdyn compare` first)")

header = "| predictor | " + " | ".join(f"+{k}" for k in frames) + " | mean | frames worse than copy-last | sharpness |"
print(header)
print("|" + "---|" * (len(frames) + 4))
sanity = None
for m in models:
    curves, sharp = [], []
    for path in sorted(glob.glob(os.path.join(a.compare_dir, m, "seed_*", "eval_predictions.h5"))):
        with h5py.File(path, "r") as f:
            curves.append(f["nmse"][:].mean(0))                             # [H]
            yp, yt = f["y_pred"][:], f["y_true"][:]                        # [R, H, C, Hh, W]
            if sanity is None:
                sanity = {"copy_last_context_frame": f["nmse_copy_last"][:].mean(0),
                          "mean_training_frame": f["nmse_mean_frame"][:].mean(0)}
        axes = (2, 3, 4)
        sharp.append(float((yp.std(axis=axes) / np.maximum(yt.std(axis=axes), 1e-12)).mean()))
    c = np.mean(curves, 0)
    if max(frames) > len(c):
        raise SystemExit(f"--frames asks for +{max(frames)} but the horizon is {len(c)}")
    worse = np.nonzero(c > sanity["copy_last_context_frame"])[0] + 1
    worse_txt = "none" if len(worse) == 0 else f"{len(worse)} (+{worse[0]}…+{worse[-1]})"
    print(f"| {m} ({len(curves)} seeds) | " + " | ".join(f"{c[k - 1]:.4g}" for k in frames) +
          f" | {c.mean():.4g} | {worse_txt} | {np.mean(sharp):.3f} ± {np.std(sharp):.3f} |")
for name, c in sanity.items():
    print(f"| {name} | " + " | ".join(f"{c[k - 1]:.4g}" for k in frames) + f" | {c.mean():.4g} | | |")
