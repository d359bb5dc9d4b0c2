// SPDX-License-Identifier: MIT
// Double pendulum video (datasets.md §2): point masses m1, m2 on massless rods l1, l2, integrated with float64 RK4
// (h = 1e-4) and rendered as two anti-aliased bars from the image centre.
#pragma once
#include <string>
#include <vector>

#include "latdyn/sim/simulator.hpp"

namespace latdyn::sim {

/// Options of the double pendulum generator; defaults are the `default` profile of datasets.md §2.
struct DoublePendulumOptions {
  std::string profile = "default";  ///< default | quick (50 trajectories 40/5/5, resolution 32; datasets.md §0.2)
  int64_t n_trajectories = 500, n_train = 400, n_val = 50;
  int64_t frames = 60;
  double dt = 0.05;                 ///< frame spacing; T = dt (frames - 1) = 2.95
  int64_t resolution = 64;          ///< W; 32, 64 (default), 128 (any multiple of 16 >= 16 works)
  double m1 = 1.0, m2 = 1.0, l1 = 1.0, l2 = 1.0, g = 9.81;
  double theta_min = -3.14159265358979323846 / 2, theta_max = 3.14159265358979323846 / 2;  ///< theta1, theta2 ~ U
  double omega_min = -1.0, omega_max = 1.0;                                                ///< omega1, omega2 ~ U
  bool irregular = false;           ///< datasets.md §0.3 / §1.2: fine grid 100 M points, min_dist 0.25 T/(M-1)
  double max_substep = 1e-4;        ///< RK4 substep bound h (§2.1: h = 1e-4)
  double bar2_intensity = 1.0;      ///< shade of the second bar, in [0, 1] (§2.2)
  uint64_t seed = 1545;

  static DoublePendulumOptions from_json(const json& j);
  json to_json() const;
};

/// State (theta1, theta2, omega1, omega2) at the requested times.
struct DoublePendulumPath { std::vector<double> theta1, theta2, omega1, omega2; };

/// Angular accelerations of datasets.md §2.1 at state (th1, th2, om1, om2).
void double_pendulum_accel(double th1, double th2, double om1, double om2, double m1, double m2, double l1, double l2,
                           double g, double& acc1, double& acc2);
/// Total energy E of datasets.md §2.1 (kinetic minus the pivot-referenced potential).
double double_pendulum_energy(double th1, double th2, double om1, double om2, double m1, double m2, double l1,
                              double l2, double g);
/// Classical RK4 in float64 from times[0]: ceil(span / h) equal substeps (h <= max_substep) to every output time.
DoublePendulumPath integrate_double_pendulum(double th1, double th2, double om1, double om2,
                                             const std::vector<double>& times, double m1, double m2, double l1,
                                             double l2, double g, double max_substep);
/// Frame at angles (theta1, theta2) (datasets.md §2.2): bar 1 from the centre pivot (W/2, W/2) to
/// p1 = pivot + bar_length u(theta1), bar 2 from p1 with length bar_length; pixel = max(coverage1,
/// bar2_intensity * coverage2). out: [res * res], overwritten.
void render_double_pendulum(double theta1, double theta2, int64_t res, int64_t bar_length, int64_t bar_width,
                            float bar2_intensity, float* out);

/// Dataset: y [R, M, 1, W, W]; t [R, M]; truth/{theta1, theta2, omega1, omega2, energy} [R, M] float64 (angles
/// unwrapped); params/{theta1_0, theta2_0, omega1_0, omega2_0, m1, m2, l1, l2, g} [R] float64.
/// Throws NumericalError naming the trajectory when |E(T) - E(0)| >= 1e-6 (m1 + m2) g l1 (§2.1 check).
class DoublePendulum final : public Simulator {
 public:
  explicit DoublePendulum(DoublePendulumOptions o) : o_(std::move(o)) {}
  json options() const override { return o_.to_json(); }
  data::Dataset generate() const override;

 private:
  DoublePendulumOptions o_;
};

}  // namespace latdyn::sim
