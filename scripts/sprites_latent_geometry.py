#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Geometry of a DynAE latent on the Brownian sprite movie (datasets.md §9): every lattice position renders the same
# frame, so the encoder defines a map z = g(i, j) on the 32x32 lattice. Prints the local singular values of g per
# unit of `truth/diffusion_normalised` (1, 1 for an isometry) in the interior and in the band next to the walls,
# and the latent move variance per axis (the prior's is 2; the truth's is ~1.9 with the reflecting walls).
#   /usr/bin/python3 scripts/sprites_latent_geometry.py RUN/latent.h5 data/sprites2d_quick.h5 [--band 4]
import argparse

import h5py
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("latent", help="latent.h5 written by `latdyn eval` (dataset 'latent' [1, N, 2])")
ap.add_argument("data", help="the sprites2d dataset (truth/index, truth/diffusion_normalised)")
ap.add_argument("--band", type=int, default=4, help="lattice cells from a wall that count as the edge band")
a = ap.parse_args()

z = h5py.File(a.latent, "r")["latent"][0]                       # [N, 2]
with h5py.File(a.data, "r") as f:
    idx = f["truth/index"][0].astype(int)                       # [N, 2] lattice indices
    y = f["truth/diffusion_normalised"][0]                      # [N, 2]
n = idx.max() + 1
cell = np.median(np.abs(np.diff(y, axis=0))[np.abs(np.diff(idx, axis=0)) == 1])  # normalised units per cell

g = np.full((n, n, 2), np.nan)                                  # mean latent per lattice position
for i in range(n):
    for j in range(n):
        m = (idx[:, 0] == i) & (idx[:, 1] == j)
        if m.any():
            g[i, j] = z[m].mean(0)
jac = np.stack([(g[2:, 1:-1] - g[:-2, 1:-1]) / 2, (g[1:-1, 2:] - g[1:-1, :-2]) / 2], -1)  # [n-2, n-2, 2, 2]
flat = jac.reshape(-1, 2, 2)
ok = np.isfinite(flat).all((1, 2))
sv = np.full((len(flat), 2), np.nan)
sv[ok] = np.linalg.svd(flat[ok], compute_uv=False) / cell      # latent units per normalised unit
sv = sv.reshape(n - 2, n - 2, 2)
inner = np.zeros((n - 2, n - 2), bool)
inner[a.band - 1:n - 1 - a.band, a.band - 1:n - 1 - a.band] = True


def med(mask):
    v = sv[mask]
    v = v[np.isfinite(v).all(1)]
    return np.round(np.median(v, 0), 3).tolist(), len(v)


print(f"normalised units per lattice cell: {cell:.3f}")
print("local singular values of g (isometry: 1, 1), median [larger, smaller]:")
print(f"  interior (>= {a.band} cells from the walls): {med(inner)[0]} over {med(inner)[1]} positions")
print(f"  edge band (< {a.band} cells):               {med(~inner)[0]} over {med(~inner)[1]} positions")
d = np.diff(z, axis=0)
print("latent move variance per axis:", np.round(d.var(0), 3).tolist(), "(prior: 2 per axis)")
print("truth move variance per axis:", np.round(np.diff(y, axis=0).var(0), 3).tolist())
