// SPDX-License-Identifier: MIT
// Reaction–diffusion λ–ω system with spiral waves (datasets.md §5): 5-point periodic Laplacian, classical RK4,
// per-trajectory spiral initial condition and burn-in, block-averaged observation with the fixed map (u + 1)/2.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "latdyn/sim/simulator.hpp"

namespace latdyn::sim {

/// Options of the lambda_omega generator; defaults are the `default` profile of datasets.md §5.
struct LambdaOmegaOptions {
  std::string profile = "default";  ///< default | quick (50 trajectories, 40/5/5, 32x32 output)
  int64_t n_trajectories = 500, n_train = 400, n_val = 50;
  int64_t frames = 50;              ///< M (§5.3)
  double dt = 0.2;                  ///< frame interval Δt (§5.3)
  int64_t resolution = 64;          ///< output side H: 32, 64 or 128, dividing `grid` (block averaging)
  int64_t grid = 128;               ///< simulation grid side (§5.1)
  double domain = 20.0;             ///< side of the periodic domain [-domain/2, domain/2)^2 (§5.1)
  double beta = 1.0, d1 = 0.1, d2 = 0.1;
  double dt_sim = 0.01;             ///< RK4 step bound (§5.1)
  int64_t arms = 1;                 ///< spiral arm number m: 1 or 2 (§5.2)
  double centre_range = 3.0;        ///< (x_c, y_c) ~ U(-centre_range, centre_range)^2 (§5.2)
  double t_burn_min = 2.0, t_burn_max = 4.0;  ///< burn-in t_burn ~ U(min, max) (§5.2)
  int64_t channels = 1;             ///< 1: u; 2: (u, v) (§5.3)
  bool irregular = false;           ///< record at dt/4 and subsample with datasets.md §0.3
  bool store_full_fields = false;   ///< truth/uv_full [N, M, 2, grid, grid] float32
  uint64_t seed = 1545;

  static LambdaOmegaOptions from_json(const json& j);
  json to_json() const;
};

/// The λ–ω right-hand side and RK4 stepper on an n x n periodic grid with spacing dx (datasets.md §5.1):
///   u_t = (1 − r²) u + β r² v + d1 Δu,   v_t = −β r² u + (1 − r²) v + d2 Δv,   r² = u² + v²,
/// Δ the 5-point Laplacian. Fields are row-major [n * n], row index = y index, column index = x index.
class LambdaOmegaSolver {
 public:
  LambdaOmegaSolver(int64_t n, double dx, double beta, double d1, double d2);
  int64_t n() const { return n_; }
  /// du, dv [n * n] = right-hand side at (u, v).
  void rhs(const double* u, const double* v, double* du, double* dv) const;
  /// One classical RK4 step of size h, in place.
  void step(double* u, double* v, double h);
  /// Advances by `span` >= 0 with ceil(span / max_h) equal RK4 steps (exactly to the end time).
  void advance(double* u, double* v, double span, double max_h);

 private:
  int64_t n_;
  double inv_dx2_, beta_, d1_, d2_;
  std::vector<double> ku_, kv_, au_, av_, tu_, tv_;  // workspace: stage slope, accumulator, stage input
};

/// The spiral initial condition of §5.2 on the grid x_j = -domain/2 + j dx (columns), y_i = -domain/2 + i dx (rows):
/// with (rho, theta) the polar coordinates of the minimum-image displacement from (xc, yc),
/// u0 = tanh(rho cos(s m theta + phi - rho)), v0 = tanh(rho sin(s m theta + phi - rho)). u, v: [n * n].
void lambda_omega_spiral(int64_t n, double domain, double xc, double yc, double phi, int chirality, int64_t arms,
                         double* u, double* v);

/// Generator (datasets.md §5): trajectory r draws (optional irregular grid), x_c, y_c, phi, chirality, t_burn from
/// std::mt19937_64(seed + r); burns in, then records M frames Δt apart (stored times start at 0).
/// y [N, M, C, H, H] = clip((u + 1)/2, 0, 1) of the block average of u (C = 1) or (u, v) (C = 2); image row 0 is the
/// top (largest y). params/{x_c, y_c, phi, chirality, arms, t_burn} [N] float64; truth/uv_full optional.
/// The header option "normalization" records the fixed map and the clipped fraction of every split (§0.5).
class LambdaOmega final : public Simulator {
 public:
  explicit LambdaOmega(LambdaOmegaOptions o) : o_(std::move(o)) {}
  json options() const override { return o_.to_json(); }
  data::Dataset generate() const override;

 private:
  LambdaOmegaOptions o_;
};

}  // namespace latdyn::sim
