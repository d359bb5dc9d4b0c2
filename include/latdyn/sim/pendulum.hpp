// SPDX-License-Identifier: MIT
// Single pendulum video (datasets.md §1): theta'' = -(g/l) sin theta - (b/m) theta', rendered as an anti-aliased bar.
#pragma once
#include <array>
#include <vector>

#include "latdyn/sim/simulator.hpp"

namespace latdyn::sim {

/// Options of the pendulum generator; defaults are the `default` profile of datasets.md §1.
struct PendulumOptions {
  std::string profile = "default";  ///< default | quick | msvi
  int64_t n_trajectories = 500, n_train = 400, n_val = 50;
  int64_t frames = 60;
  double dt = 0.06;
  int64_t resolution = 32;
  double g = 9.81, l = 1.0, m = 1.0, b = 0.0;
  double theta0_min = 0.0, theta0_max = 2.0 * 3.14159265358979323846;
  double omega0_min = -3.14159265358979323846 / 2, omega0_max = 3.14159265358979323846 / 2;
  bool irregular = false;
  double max_substep = 1e-3;  ///< RK4 substep bound h
  bool quantize_uint8 = false;
  bool render_length_scales_with_l = false;
  double l_max = 2.0;
  uint64_t seed = 1545;

  static PendulumOptions from_json(const json& j);
  json to_json() const;
};

/// One integrated trajectory: angles (unwrapped) and angular velocities at the requested times.
struct PendulumPath { std::vector<double> theta, omega; };

/// Integrates with classical RK4, ceil(dt/h) equal substeps (h <= max_substep) to every output time.
PendulumPath integrate_pendulum(double theta0, double omega0, const std::vector<double>& times, double g, double l,
                                double b_over_m, double max_substep);
/// Coverage rendering (4x4 subsamples) of the bar at angle theta into `out` (res*res, row-major).
void render_pendulum(double theta, int64_t res, int64_t bar_length, int64_t bar_width, float* out);

class Pendulum final : public Simulator {
 public:
  explicit Pendulum(PendulumOptions o) : o_(std::move(o)) {}
  json options() const override { return o_.to_json(); }
  data::Dataset generate() const override;

 private:
  PendulumOptions o_;
};

}  // namespace latdyn::sim
