// SPDX-License-Identifier: MIT
// Three-well overdamped Langevin system of DynAE (datasets.md §8): the official warped trajectory, or a regeneration
// with the fitted surrogate potential U = 3.76 r^2 - 14.1 sum_i exp(-|x - c_i|^2 / (2 * 0.678^2)) (§8.2).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "latdyn/sim/simulator.hpp"

namespace latdyn::sim {

/// Options of the three-well generator; defaults are the `default` profile of datasets.md §8.
struct ThreeWellOptions {
  std::string profile = "default";  ///< default | quick (20,000 frames)
  std::string source = "official";  ///< official (DynAE's .npy files) | surrogate (Euler–Maruyama, §8.2)
  /// Folder with three_state_traj_data200k.npy and three_state_transformed_traj_data200k.npy. A relative path is
  /// looked up from the working directory first, then from the repository root this library was built from.
  std::string data_dir = "../shared/data/three_well";
  int64_t frames = 199999;   ///< official: the first `frames` rows (file has 199,999); surrogate: 200,000 by default
  double dt = 0.01;          ///< frame interval; t_k = k dt
  int64_t save_every = 10;   ///< surrogate: Euler–Maruyama steps per frame, h = dt / save_every = 1e-3
  int64_t burn_in = 1000;    ///< surrogate: frames discarded after the start
  double diffusion = 1.0;    ///< D (k_B T = 1)
  double x0 = 0.0, y0 = 1.5; ///< surrogate start
  uint64_t seed = 1545;      ///< trajectory r uses base seed + r (only r = 0 here)

  /// DynAE's expected latent scale 1/sqrt(D dt) (= 10), derived; accepted on input only if it agrees.
  double latent_scale() const;
  static ThreeWellOptions from_json(const json& j);
  json to_json() const;
};

/// Surrogate potential U(x, y) of datasets.md §8.2 (k_B T units).
double three_well_potential(double x, double y);
/// Its gradient (dU/dx, dU/dy).
std::array<double, 2> three_well_gradient(double x, double y);
/// Sector label: 0 top (centre 90°), 1 left (210°), 2 right (330°); boundaries at 30°, 150°, 270°.
int64_t three_well_sector(double x, double y);

/// A surrogate path: xy [frames * 2] row-major float64, frame k at time k dt after the burn-in.
struct ThreeWellPath { std::vector<double> xy; };
/// Euler–Maruyama dX = -D grad U dt + sqrt(2D) dW with h = dt/save_every from (x0, y0); burn_in frames are dropped.
/// Draws from a 64-bit Mersenne Twister seeded with derive_seed(seed, "three_well").
ThreeWellPath simulate_three_well(const ThreeWellOptions& o, uint64_t seed);

/// DynAE three-well data: N = 1 trajectory (train); y [1, T, 2] = (x, y + x^2) float32 (not normalised);
/// truth/xy [1, T, 2], truth/well [1, T] int64, truth/U [1, T] (surrogate only).
class ThreeWell final : public Simulator {
 public:
  explicit ThreeWell(ThreeWellOptions o) : o_(std::move(o)) {}
  json options() const override { return o_.to_json(); }
  data::Dataset generate() const override;

 private:
  ThreeWellOptions o_;
};

}  // namespace latdyn::sim
