#!/usr/bin/python3
"""Compact PyTorch comparator for the latdyn LaDID training-step benchmark.

A faithful re-implementation of LaDID's default config as written in
shared/spec/ladid.md (section numbers below refer to it), in the reference
modes: frame tokens, posterior_std = reference, psi_prior_mode = sample_nll,
full_traj_term on, overlap o = 0, static skip on, attn_type = dp, 1 head.

Runs with Debian's /usr/bin/python3 (python3-torch 1.13), CPU only.

  --q N          curriculum query length (default 50 -> one block of 60 frames)
  --batch/--res  batch size (16) and image side (32)
  --threads N    torch.set_num_threads (default 2)
  --warmup/--repeats   untimed and timed training steps (3 / 15)
  --json         one JSON object instead of a human line
  --count-only   print the parameter counts at 32/64/128 and exit
  --sanity       loss of step 1 and step 30 on one fixed batch
"""
import argparse
import json
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# ---- defaults (spec "Notation", §3, §4.2) ----------------------------------
D, M_H, C_E, C_D, L_TF, M_F = 32, 4, 8, 8, 4, 8
D_MODEL = M_H * D                      # 128
K_IN, L0, DT = 10, 60, 0.06            # context frames, max length, time step
DELTA_R, P_EXP, EPS_T = 0.45, 1e15, 0.01   # §3.2 temporal window
T_SPAN = DT * (L0 - 1)                 # 3.54, §3.4
SIGMA_Y, N_TRAIN = 1e-3, 400           # §3.6, §4.2
EXPECTED = {32: 733_522, 64: 857_170, 128: 1_351_762}   # §3.7, C = 1
LOG_2PI = math.log(2 * math.pi)


def log_normal(x, m, s, log_s=None):
    """log N(x; m, s) = -1/2((x-m)/s)^2 - ln s - 1/2 ln 2pi, written out (§4.2)."""
    if log_s is None:
        log_s = torch.log(s) if torch.is_tensor(s) else math.log(s)
    return -0.5 * ((x - m) / s) ** 2 - log_s - 0.5 * LOG_2PI


def conv_blocks(c_in, c_e):
    """Four Conv -> ReLU -> BN blocks of the per-frame encoder (§3.1 rows 1-4)."""
    spec = [(c_in, c_e, 5, 2), (c_e, 2 * c_e, 5, 2), (2 * c_e, 4 * c_e, 5, 2), (4 * c_e, 8 * c_e, 2, 0)]
    layers = []
    for ci, co, k, p in spec:
        layers += [nn.Conv2d(ci, co, k, stride=2, padding=p), nn.ReLU(), nn.BatchNorm2d(co)]
    return nn.Sequential(*layers)


class Attention(nn.Module):
    """§3.2: layer 0 temporal window (no Q/K), layers >= 1 single-head dot product.
    Both add the rpe term sum_j A_ij r_ij before W_out."""

    def __init__(self, temporal):
        super().__init__()
        self.temporal = temporal
        if not temporal:
            self.wq = nn.Linear(D_MODEL, D_MODEL, bias=False)
            self.wk = nn.Linear(D_MODEL, D_MODEL, bias=False)
        self.wv = nn.Linear(D_MODEL, D_MODEL, bias=False)
        self.wo = nn.Linear(D_MODEL, D_MODEL, bias=False)

    def forward(self, x, T, R):
        if self.temporal:
            logits = T
        else:
            logits = self.wq(x) @ self.wk(x).transpose(1, 2) / math.sqrt(D_MODEL)
        A = torch.softmax(logits, dim=-1)                         # (S', M, M)
        out = A @ self.wv(x) + (A.unsqueeze(-1) * R).sum(dim=2)   # rpe term, §3.2
        return self.wo(out)


class Block(nn.Module):
    """Post-LN encoder block, d_ff = 2 d_model, no dropout (§3.2)."""

    def __init__(self, temporal):
        super().__init__()
        self.attn = Attention(temporal)
        self.ln1, self.ln2 = nn.LayerNorm(D_MODEL), nn.LayerNorm(D_MODEL)
        self.ff = nn.Sequential(nn.Linear(D_MODEL, 2 * D_MODEL), nn.ReLU(), nn.Linear(2 * D_MODEL, D_MODEL))

    def forward(self, x, T, R):
        x = self.ln1(x + self.attn(x, T, R))
        return self.ln2(x + self.ff(x))


class LaDID(nn.Module):
    def __init__(self, res=32, C=1):
        super().__init__()
        h = res // 16
        self.h = h
        # §3.1 per-frame CNN encoder -> 128-d token
        self.enc = nn.Sequential(conv_blocks(C, C_E), nn.Flatten(), nn.Linear(8 * C_E * h * h, D_MODEL))
        # §3.2 temporal transformer; one rpe Linear(1 -> 128, no bias) shared by all layers
        self.rpe = nn.Linear(1, D_MODEL, bias=False)
        self.blocks = nn.ModuleList([Block(temporal=(l == 0)) for l in range(L_TF)])
        # §3.3 variational heads
        self.mu_head, self.s_head = nn.Linear(D_MODEL, D), nn.Linear(D_MODEL, D)
        # §3.4 time encoding: 16 log-spaced angular frequencies (float64, no parameters)
        i = torch.arange(16, dtype=torch.float64)
        self.register_buffer("omega", math.pi * 2.0 ** (8 * i / 15) / T_SPAN)
        # §3.5 dynamics network F: 64 -> 256 -> 256 -> 32
        w = M_F * D
        self.F = nn.Sequential(nn.Linear(D + 32, w), nn.ReLU(), nn.Dropout(0.5),
                               nn.Linear(w, w), nn.ReLU(), nn.Dropout(0.5), nn.Linear(w, D))
        # §3.6 decoder and StaticCNN skip path
        self.dec_lin = nn.Linear(D, 8 * C_D * h * h)
        dec, c = [], 8 * C_D
        for co in (4 * C_D, 2 * C_D, C_D, C_D):
            dec += [nn.ConvTranspose2d(c, co, 2, stride=2), nn.ReLU(), nn.BatchNorm2d(co)]
            c = co
        dec.append(nn.Conv2d(C_D, 2 * C, 5, padding=2))
        self.dec = nn.Sequential(*dec)
        self.static = nn.Sequential(conv_blocks(C, C_E), nn.Conv2d(8 * C_E, 8 * C_E, 3, padding=1))

    # ---- §3.1 + §3.2 + §3.3: frames -> (mu, s) per token -------------------
    def embed(self, y, t):
        """y (S', M, C, H, W) float32, t (S', M) float64 -> mu, s (S', M, d)."""
        Sp, M = y.shape[:2]
        x = self.enc(y.reshape(Sp * M, *y.shape[2:])).reshape(Sp, M, D_MODEL)
        # time-grid tensors from this call's own grids, no gradient (§3.2)
        with torch.no_grad():
            dlt = (t.unsqueeze(1) - t.unsqueeze(2)).float()       # Δ_ij = t_j - t_i (sorted grid)
            T = math.log(EPS_T) * (dlt.abs() / DELTA_R) ** P_EXP  # hard window, float32
            clamped = F.hardtanh(dlt / DELTA_R).unsqueeze(-1)     # (S', M, M, 1)
        R = self.rpe(clamped)                                     # (S', M, M, 128), shared
        for blk in self.blocks:
            x = blk(x, T, R)
        return self.mu_head(x), self.s_head(x)

    def gamma(self, tau):
        """§3.4: interleaved [sin w1 tau, cos w1 tau, ...], computed in float64, cast to float32."""
        a = tau.unsqueeze(-1) * self.omega                        # (..., 16) float64
        return torch.stack((a.sin(), a.cos()), dim=-1).flatten(-2).float()

    def decode(self, z, static):
        """§3.6: z (Bn, q, d), static (Bn, 64, h, h) -> mean logits (Bn*q, C, H, W)."""
        Bn, q = z.shape[:2]
        u = self.dec_lin(z).reshape(Bn, q, 8 * C_D, self.h, self.h) + static.unsqueeze(1)
        out = self.dec(u.reshape(Bn * q, 8 * C_D, self.h, self.h))
        return out[:, 0::2]                                       # channel 2ch+0 = mean logits

    # ---- §4: multiple-shooting loss, reference modes ------------------------
    def loss(self, y, t, q, gen, B_cfg):
        B, L = y.shape[:2]
        S = K_IN + q
        n = (L - K_IN) // q
        # §4.2 L_lat: separate full-trajectory pass on the whole truncated trajectory
        mu_full, s_full = self.embed(y, t)
        # §4.1 blocks: unfold(time, S, q); all B*n blocks in one batch
        y_blk = y.unfold(1, S, q).permute(0, 1, 5, 2, 3, 4).reshape(B * n, S, *y.shape[2:])
        t_blk = t.unfold(1, S, q).reshape(B * n, S)
        mu, s = self.embed(y_blk[:, :K_IN], t_blk[:, :K_IN])      # grids per block
        # §3.3 sample per token with raw s (reference std mode), mean over context
        eps = torch.randn(mu.shape, generator=gen)
        psi = (mu + s * eps).mean(dim=1)                          # (Bn, d)
        # §3.4/§3.5 relative time, F at query positions only
        tau = t_blk - t_blk[:, :1]
        g = self.gamma(tau[:, K_IN:])                             # (Bn, q, 32)
        z = self.F(torch.cat((psi.unsqueeze(1).expand(-1, q, -1), g), dim=-1))
        # §3.6 static skip: Δ = mean_{k>=1}(y_k - y_0), once per block
        ctx = y_blk[:, :K_IN]
        delta = (ctx[:, 1:] - ctx[:, :1]).mean(dim=1)
        logits = self.decode(z, self.static(delta))
        y_true = y_blk[:, K_IN:].reshape(B * n * q, *y.shape[2:])
        L_rec = log_normal(y_true, torch.sigmoid(logits), SIGMA_Y).sum()
        # §4.2 L_lat: z scored under N(mu_full, exp(s_full)^2), frames [K_in, L)
        zf = z.reshape(B, n * q, D)
        mf, sf = mu_full[:, K_IN:L], s_full[:, K_IN:L]
        L_lat = log_normal(zf, mf, torch.exp(sf), log_s=sf).sum()
        L_psi = log_normal(psi, 0.0, 1.0).sum()                   # one-sample cross-entropy (§11.2)
        return (N_TRAIN / B_cfg) * (-L_rec + (-L_lat - L_psi))   # λ_s = 1, o = 0


def n_params(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def make_batch(B, L, res, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.rand(B, L, 1, res, res, generator=g)              # values in [0, 1]
    t = (DT * torch.arange(L, dtype=torch.float64)).expand(B, L).contiguous()
    return y, t


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--q", type=int, default=50)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--res", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--count-only", action="store_true")
    ap.add_argument("--sanity", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    if a.count_only:
        for r, want in EXPECTED.items():
            got = n_params(LaDID(r))
            assert got == want, f"res {r}: {got} != {want}"
            print(f"{r}x{r}: {got:,}")
        return

    assert a.res % 16 == 0 and 1 <= a.q <= L0 - K_IN
    model = LaDID(a.res)
    params = n_params(model)
    if a.res in EXPECTED:   # §3.7 acceptance check
        assert params == EXPECTED[a.res], f"parameter count {params} != {EXPECTED[a.res]}"
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    gen = torch.Generator().manual_seed(a.seed)                  # dedicated ψ-noise generator (§3.3)
    L = K_IN + ((L0 - K_IN) // a.q) * a.q                        # §5 truncation, o = 0
    y, t = make_batch(a.batch, L, a.res, a.seed)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = model.loss(y, t, a.q, gen, a.batch)
        loss.backward()
        opt.step()
        return loss.item()

    if a.sanity:
        losses = [step() for _ in range(30)]
        assert all(math.isfinite(v) for v in losses), "non-finite loss"
        print(f"sanity q={a.q}: loss step 1 = {losses[0]:.6g}, step 30 = {losses[-1]:.6g}, "
              f"{'decreased' if losses[-1] < losses[0] else 'DID NOT DECREASE'}")
        return

    for _ in range(a.warmup):
        step()
    times = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        v = step()
        times.append(time.perf_counter() - t0)
        assert math.isfinite(v), "non-finite loss"
    ts = np.array(times)
    res = {"impl": "python", "torch": torch.__version__, "threads": a.threads, "q": a.q,
           "batch": a.batch, "res": a.res, "params": params, "times_s": times,
           "median_s": float(np.median(ts)), "q1_s": float(np.percentile(ts, 25)),
           "q3_s": float(np.percentile(ts, 75)), "min_s": float(ts.min()), "max_s": float(ts.max())}
    if a.json:
        print(json.dumps(res))
    else:
        n = (L - K_IN) // a.q
        print(f"python ladid step: q={a.q} (L={L}, {n} blocks/traj) batch={a.batch} res={a.res} "
              f"threads={a.threads} params={params:,}: median {res['median_s'] * 1e3:.1f} ms "
              f"[q1 {res['q1_s'] * 1e3:.1f}, q3 {res['q3_s'] * 1e3:.1f}, "
              f"min {res['min_s'] * 1e3:.1f}, max {res['max_s'] * 1e3:.1f}] over {a.repeats} steps")


if __name__ == "__main__":
    main()
