#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Markdown table of representation runs (dynae.md §13.4): mean ± std over seeds per (model, beta), from each run's
metrics.json and status.json. Usage: dynae_table.py RUNS_DIR > table.md"""
import json, math, os, re, sys

def stats(v):
    v = [x for x in v if x is not None and math.isfinite(x)]
    if not v:
        return float("nan"), float("nan"), 0
    m = sum(v) / len(v)
    s = math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else 0.0
    return m, s, len(v)

def metric(block, name):
    for e in block["metrics"]:
        if e["name"] == name:
            return e["value"]
    return None

root = sys.argv[1]
groups = {}
for d in sorted(os.listdir(root)):
    m = re.match(r"(.+)_b([^_]+)_s(\d+)$", d)
    p = os.path.join(root, d)
    if not m or not os.path.exists(os.path.join(p, "metrics.json")):
        continue
    met = json.load(open(os.path.join(p, "metrics.json")))["metrics"]
    st = json.load(open(os.path.join(p, "status.json")))
    al = met["alignment"]["all_frames"]
    r2 = metric(al["similarity"], "r2_sim")
    row = {
        "r2_min_sim": metric(al["similarity"], "r2_min_sim"),
        "r2_x": r2[0], "r2_y": r2[1],
        "mse_sim": metric(al["similarity"], "mse_sim"),
        "mse_orth": metric(al["orthogonal"], "mse_orth"),
        "nerr": metric(al["similarity"], "normalised_error_sim"),
        "scale": metric(al["similarity"], "scale_sim"),
        "nll": met["heldout_losses"].get("loss_nll"),
        "rec": met["heldout_losses"].get("loss_rec"),
        "time": st.get("train_seconds"),
    }
    groups.setdefault((m.group(1), m.group(2)), []).append(row)

def fmt(key, rows, digits=4):
    m, s, n = stats([r[key] for r in rows])
    if n == 0:
        return "–"
    return f"{m:.{digits}f} ± {s:.{digits}f}"

best = {}
for (model, beta), rows in groups.items():
    m = stats([r["r2_min_sim"] for r in rows])[0]
    if model not in best or m > best[model][1]:
        best[model] = (beta, m)
print("| model | β | seeds | min R² (sim.) | R² x | R² y | MSE_sim | MSE_orth (truth ×10) | normalised error | scale s | held-out NLL | train time (s) |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
order = {"dynae": 0, "beta_vae": 1, "swae": 2, "sde_vae": 3}
for (model, beta), rows in sorted(groups.items(), key=lambda kv: (order.get(kv[0][0], 9), float(kv[0][1]))):
    mark = " **(best β)**" if model != "dynae" and best[model][0] == beta else ""
    print(f"| {model}{mark} | {beta} | {len(rows)} | {fmt('r2_min_sim', rows)} | {fmt('r2_x', rows)} | {fmt('r2_y', rows)} | "
          f"{fmt('mse_sim', rows)} | {fmt('mse_orth', rows, 3)} | {fmt('nerr', rows)} | {fmt('scale', rows, 4)} | "
          f"{fmt('nll', rows, 3) if model == 'dynae' else '–'} | {fmt('time', rows, 0)} |")
