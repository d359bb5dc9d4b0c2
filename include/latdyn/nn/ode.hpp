// SPDX-License-Identifier: MIT
// Batched ODE solvers with autograd through every step (baselines.md §2): euler, rk4 (fixed substeps) and the
// adaptive Dormand–Prince 5(4) pair; shared output grids or per-trajectory grids by MSVI's interval rescaling (§2.3).
#pragma once
#include <ATen/ATen.h>

#include <functional>
#include <string>

namespace latdyn::nn {

/// Vector field f(t, z): t [B] (the time of every row, same dtype as z), z [B, n] -> dz/dt [B, n].
using OdeField = std::function<at::Tensor(const at::Tensor& t, const at::Tensor& z)>;

struct OdeOptions {
  std::string method = "dopri5";  ///< euler | rk4 | dopri5
  double rtol = 1e-3, atol = 1e-4;  ///< dopri5 tolerances (Latent ODE defaults, baselines.md §3.3)
  /// Fixed-step methods (and dopri5 with adaptive = false): `substeps` equal steps per output interval when > 0,
  /// else ceil(Δ/step) steps when step > 0, else one step per interval.
  int64_t substeps = 0;
  double step = 0.0;
  bool adaptive = true;          ///< dopri5 only: false = fixed steps with the 5th-order solution (order tests)
  int64_t max_steps = 10000;     ///< dopri5: attempted steps per output interval before "stiff or diverging"

  /// Validates the method name and the numbers; `where` names the config field in errors.
  void check(const std::string& where) const;
};

/// Counters of the last solve (for tests and benchmarks).
struct OdeStats {
  int64_t accepted = 0, rejected = 0, evaluations = 0;
};

/// Solves z' = f(t, z) from z0 at times[..., 0] and returns the states at every output time.
///   z0: [B, n]; times: [T] shared by the batch (strictly increasing) or [B, T] per trajectory (non-decreasing).
///   returns [B, T, n] with out[:, 0] = z0.
/// Shared grid: one step sequence for the batch, steps clipped to land on every output time, the adaptive
/// controller carries its step size across outputs. Per-trajectory grid: interval i of row b is integrated as
/// dz/ds = Δt_{b,i} f(t_{b,i} + s Δt_{b,i}, z) over s in [0, 1] (§2.3), all rows together, the controller restarted.
/// A [B, T] grid whose rows are identical and strictly increasing is solved as a shared grid.
/// The step-size controller uses detached values: gradients flow through the stages, not through h.
/// Throws latdyn::Error("stiff or diverging dynamics ...") when an interval needs more than max_steps attempts.
at::Tensor odeint(const OdeField& f, const at::Tensor& z0, const at::Tensor& times, const OdeOptions& options,
                  OdeStats* stats = nullptr);

}  // namespace latdyn::nn
