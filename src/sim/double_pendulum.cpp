// SPDX-License-Identifier: MIT
// Double pendulum video generator (datasets.md §2): float64 RK4 with h = 1e-4, energy-drift check per trajectory,
// two-bar coverage rendering, per-trajectory seeds base_seed + r (§0.2).
#include "latdyn/sim/double_pendulum.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "latdyn/core/error.hpp"
#include "latdyn/core/rng.hpp"
#include "latdyn/sim/render_bar.hpp"
#include "latdyn/sim/time_grid.hpp"

namespace latdyn::sim {

DoublePendulumOptions DoublePendulumOptions::from_json(const json& j) {
  ConfigReader r(j, "simulator options (double_pendulum)");
  r.accept("type");
  DoublePendulumOptions o;
  o.profile = r.get<std::string>("profile", o.profile);
  check_profile(r, "double_pendulum", o.profile, {"default", "quick"});
  if (o.profile == "quick") {
    // datasets.md §0.2: 10 % of the trajectories split 80/10/10, the same recipe, the smallest resolution.
    o.n_trajectories = 50, o.n_train = 40, o.n_val = 5, o.resolution = 32;
  }
  o.n_trajectories = r.get("n_trajectories", o.n_trajectories);
  o.n_train = r.get("n_train", o.n_train);
  o.n_val = r.get("n_val", o.n_val);
  o.frames = r.get("frames", o.frames);
  o.dt = r.get("dt", o.dt);
  o.resolution = r.get("resolution", o.resolution);
  o.m1 = r.get("m1", o.m1);
  o.m2 = r.get("m2", o.m2);
  o.l1 = r.get("l1", o.l1);
  o.l2 = r.get("l2", o.l2);
  o.g = r.get("g", o.g);
  o.theta_min = r.get("theta_min", o.theta_min);
  o.theta_max = r.get("theta_max", o.theta_max);
  o.omega_min = r.get("omega_min", o.omega_min);
  o.omega_max = r.get("omega_max", o.omega_max);
  o.irregular = r.get("irregular", o.irregular);
  o.max_substep = r.get("max_substep", o.max_substep);
  o.bar2_intensity = r.get("bar2_intensity", o.bar2_intensity);
  o.seed = r.get("seed", o.seed);
  r.accept("max_energy_drift");  // derived output written into the file header; accepted back so it parses again
  r.finish();
  if (o.resolution < 16 || o.resolution % 16 != 0)
    r.throw_error("resolution " + concat(o.resolution) + " is not supported for double_pendulum",
                  "use 32, 64 (default) or 128 (divisible by 16)");
  check_split(r, o.n_trajectories, o.n_train, o.n_val);
  if (o.frames < 2 || o.dt <= 0 || o.max_substep <= 0)
    r.throw_error(concat("bad time grid: frames ", o.frames, ", dt ", o.dt, ", max_substep ", o.max_substep),
                  "need frames >= 2, dt > 0 and max_substep > 0 (the recipe: 60, 0.05, 1e-4)");
  if (o.m1 <= 0 || o.m2 <= 0 || o.l1 <= 0 || o.l2 <= 0 || o.g <= 0)
    r.throw_error(concat("m1, m2, l1, l2, g must be positive (got ", o.m1, ", ", o.m2, ", ", o.l1, ", ", o.l2, ", ",
                         o.g, ")"),
                  "the recipe uses m1 = m2 = l1 = l2 = 1, g = 9.81 (datasets.md §2.1)");
  if (o.theta_min > o.theta_max || o.omega_min > o.omega_max)
    r.throw_error(concat("empty initial-condition range: theta [", o.theta_min, ", ", o.theta_max, "], omega [",
                         o.omega_min, ", ", o.omega_max, "]"),
                  "need theta_min <= theta_max and omega_min <= omega_max");
  if (!(o.bar2_intensity >= 0.0 && o.bar2_intensity <= 1.0))
    r.throw_error(concat("bar2_intensity ", o.bar2_intensity, " is outside [0, 1]"),
                  "pixel values must stay in [0, 1]; 1.0 (default) draws both bars alike");
  return o;
}

json DoublePendulumOptions::to_json() const {
  return {{"type", "double_pendulum"}, {"profile", profile}, {"n_trajectories", n_trajectories},
          {"n_train", n_train}, {"n_val", n_val}, {"frames", frames}, {"dt", dt}, {"resolution", resolution},
          {"m1", m1}, {"m2", m2}, {"l1", l1}, {"l2", l2}, {"g", g}, {"theta_min", theta_min},
          {"theta_max", theta_max}, {"omega_min", omega_min}, {"omega_max", omega_max}, {"irregular", irregular},
          {"max_substep", max_substep}, {"bar2_intensity", bar2_intensity}, {"seed", seed}};
}

void double_pendulum_accel(double th1, double th2, double om1, double om2, double m1, double m2, double l1, double l2,
                           double g, double& acc1, double& acc2) {
  // datasets.md §2.1: delta = theta1 - theta2, den = 2 m1 + m2 - m2 cos 2 delta.
  const double d = th1 - th2, sd = std::sin(d), cd = std::cos(d);
  const double den = 2.0 * m1 + m2 - m2 * std::cos(2.0 * d);
  acc1 = (-g * (2.0 * m1 + m2) * std::sin(th1) - m2 * g * std::sin(th1 - 2.0 * th2) -
          2.0 * sd * m2 * (om2 * om2 * l2 + om1 * om1 * l1 * cd)) /
         (l1 * den);
  acc2 = (2.0 * sd * (om1 * om1 * l1 * (m1 + m2) + g * (m1 + m2) * std::cos(th1) + om2 * om2 * l2 * m2 * cd)) /
         (l2 * den);
}

double double_pendulum_energy(double th1, double th2, double om1, double om2, double m1, double m2, double l1,
                              double l2, double g) {
  // datasets.md §2.1: E = ½ m1 l1² ω1² + ½ m2 (l1² ω1² + l2² ω2² + 2 l1 l2 ω1 ω2 cos δ)
  //                      − (m1 + m2) g l1 cos θ1 − m2 g l2 cos θ2
  return 0.5 * m1 * l1 * l1 * om1 * om1 +
         0.5 * m2 * (l1 * l1 * om1 * om1 + l2 * l2 * om2 * om2 + 2.0 * l1 * l2 * om1 * om2 * std::cos(th1 - th2)) -
         (m1 + m2) * g * l1 * std::cos(th1) - m2 * g * l2 * std::cos(th2);
}

DoublePendulumPath integrate_double_pendulum(double th1, double th2, double om1, double om2,
                                             const std::vector<double>& times, double m1, double m2, double l1,
                                             double l2, double g, double max_substep) {
  // State s = (theta1, theta2, omega1, omega2); ds/dt = (omega1, omega2, acc1, acc2).
  auto f = [&](const double* s, double* ds) {
    ds[0] = s[2], ds[1] = s[3];
    double_pendulum_accel(s[0], s[1], s[2], s[3], m1, m2, l1, l2, g, ds[2], ds[3]);
  };
  DoublePendulumPath p;
  double s[4] = {th1, th2, om1, om2}, k1[4], k2[4], k3[4], k4[4], tmp[4];
  double t = times.empty() ? 0.0 : times[0];
  for (double t_out : times) {
    const double span = t_out - t;
    const int64_t n = span > 0 ? static_cast<int64_t>(std::ceil(span / max_substep - 1e-9)) : 0;
    const double h = n > 0 ? span / static_cast<double>(n) : 0.0;
    for (int64_t step = 0; step < n; ++step) {  // classical RK4 (§2.1)
      f(s, k1);
      for (int q = 0; q < 4; ++q) tmp[q] = s[q] + 0.5 * h * k1[q];
      f(tmp, k2);
      for (int q = 0; q < 4; ++q) tmp[q] = s[q] + 0.5 * h * k2[q];
      f(tmp, k3);
      for (int q = 0; q < 4; ++q) tmp[q] = s[q] + h * k3[q];
      f(tmp, k4);
      for (int q = 0; q < 4; ++q) s[q] += h / 6.0 * (k1[q] + 2.0 * k2[q] + 2.0 * k3[q] + k4[q]);
    }
    t = t_out;
    p.theta1.push_back(s[0]);
    p.theta2.push_back(s[1]);
    p.omega1.push_back(s[2]);
    p.omega2.push_back(s[3]);
  }
  return p;
}

void render_double_pendulum(double theta1, double theta2, int64_t res, int64_t bar_length, int64_t bar_width,
                            float bar2_intensity, float* out) {
  // datasets.md §2.2: bar 1 from the centre pivot to p1 = pivot + L1 u(theta1), bar 2 from p1 to p1 + L2 u(theta2),
  // u(theta) = (sin theta, cos theta) as in §1.3; pixel = max of the two coverages, bar 2 scaled by bar2_intensity.
  const double px = res / 2.0, py = res / 2.0, len = static_cast<double>(bar_length);
  const double wid = static_cast<double>(bar_width);
  const double jx = px + len * std::sin(theta1), jy = py + len * std::cos(theta1);
  render_bar(px, py, theta1, len, wid, res, out);
  draw_bar_max(jx, jy, theta2, len, wid, res, bar2_intensity, out);
}

data::Dataset DoublePendulum::generate() const {
  const int64_t n = o_.n_trajectories, m = o_.frames, res = o_.resolution, npix = res * res;
  const int64_t bar_length = static_cast<int64_t>(std::floor(0.22 * static_cast<double>(res)));  // L1 = L2 (§2.2)
  const int64_t bar_width = static_cast<int64_t>(std::floor(0.08 * static_cast<double>(res)));
  const double t_end = o_.dt * static_cast<double>(m - 1);
  const double drift_bound = 1e-6 * (o_.m1 + o_.m2) * o_.g * o_.l1;  // §2.1 check
  data::Dataset ds;
  ds.y = at::zeros({n, m, 1, res, res}, at::kFloat);  // [R, M, 1, W, W]
  ds.t = at::zeros({n, m}, at::kDouble);              // [R, M]
  at::Tensor th1 = at::zeros({n, m}, at::kDouble), th2 = at::zeros({n, m}, at::kDouble),
             om1 = at::zeros({n, m}, at::kDouble), om2 = at::zeros({n, m}, at::kDouble),
             energy = at::zeros({n, m}, at::kDouble);  // truth, [R, M] each
  at::Tensor th1_0 = at::zeros({n}, at::kDouble), th2_0 = at::zeros({n}, at::kDouble),
             om1_0 = at::zeros({n}, at::kDouble), om2_0 = at::zeros({n}, at::kDouble);  // params, [R] each
  std::vector<double> drift(static_cast<size_t>(n), 0.0);  // |E(T) - E(0)| per trajectory
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      std::mt19937_64 rng(o_.seed + static_cast<uint64_t>(r));  // datasets.md §0.2: seed base_seed + r
      std::vector<double> times =
          o_.irregular ? irregular_grid(m, t_end, 100 * m, 0.25 * t_end / static_cast<double>(m - 1), rng)
                       : regular_grid(m, o_.dt);
      const double a1 = o_.theta_min + (o_.theta_max - o_.theta_min) * unit_double(rng());
      const double a2 = o_.theta_min + (o_.theta_max - o_.theta_min) * unit_double(rng());
      const double w1 = o_.omega_min + (o_.omega_max - o_.omega_min) * unit_double(rng());
      const double w2 = o_.omega_min + (o_.omega_max - o_.omega_min) * unit_double(rng());
      const DoublePendulumPath p =
          integrate_double_pendulum(a1, a2, w1, w2, times, o_.m1, o_.m2, o_.l1, o_.l2, o_.g, o_.max_substep);
      th1_0.data_ptr<double>()[r] = a1, th2_0.data_ptr<double>()[r] = a2;
      om1_0.data_ptr<double>()[r] = w1, om2_0.data_ptr<double>()[r] = w2;
      float* frames = ds.y.data_ptr<float>() + r * m * npix;
      for (int64_t k = 0; k < m; ++k) {
        const int64_t rk = r * m + k;
        ds.t.data_ptr<double>()[rk] = times[k];
        th1.data_ptr<double>()[rk] = p.theta1[k];
        th2.data_ptr<double>()[rk] = p.theta2[k];
        om1.data_ptr<double>()[rk] = p.omega1[k];
        om2.data_ptr<double>()[rk] = p.omega2[k];
        energy.data_ptr<double>()[rk] = double_pendulum_energy(p.theta1[k], p.theta2[k], p.omega1[k], p.omega2[k],
                                                               o_.m1, o_.m2, o_.l1, o_.l2, o_.g);
        render_double_pendulum(p.theta1[k], p.theta2[k], res, bar_length, bar_width,
                               static_cast<float>(o_.bar2_intensity), frames + k * npix);
      }
      const double* e = energy.data_ptr<double>() + r * m;
      drift[static_cast<size_t>(r)] = std::abs(e[m - 1] - e[0]);
    }
  });
  // §2.1 check, after the parallel region so the first failing trajectory is named whatever the thread count.
  for (int64_t r = 0; r < n; ++r)
    if (!(drift[static_cast<size_t>(r)] < drift_bound))
      throw NumericalError(
          concat("double_pendulum: energy drift |E(T) - E(0)| = ", drift[static_cast<size_t>(r)], " in trajectory ", r,
                 " (seed ", o_.seed + static_cast<uint64_t>(r), ") exceeds 1e-6 (m1 + m2) g l1 = ", drift_bound),
          concat("reduce max_substep (now ", o_.max_substep, "; the recipe uses 1e-4) or the initial-condition ranges"));
  ds.split = at::full({n}, 2, at::kByte);
  ds.split.slice(0, 0, o_.n_train).fill_(0);
  ds.split.slice(0, o_.n_train, o_.n_train + o_.n_val).fill_(1);
  ds.truth["theta1"] = th1;
  ds.truth["theta2"] = th2;
  ds.truth["omega1"] = om1;
  ds.truth["omega2"] = om2;
  ds.truth["energy"] = energy;
  ds.params["theta1_0"] = th1_0;
  ds.params["theta2_0"] = th2_0;
  ds.params["omega1_0"] = om1_0;
  ds.params["omega2_0"] = om2_0;
  for (auto kv : {std::make_pair("m1", o_.m1), std::make_pair("m2", o_.m2), std::make_pair("l1", o_.l1),
                  std::make_pair("l2", o_.l2), std::make_pair("g", o_.g)})
    ds.params[kv.first] = at::full({n}, kv.second, at::kDouble);
  ds.header = generated_header("double_pendulum", options(), o_.seed);
  ds.header.options["max_energy_drift"] = *std::max_element(drift.begin(), drift.end());
  return ds;
}

}  // namespace latdyn::sim
