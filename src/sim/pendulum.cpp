// SPDX-License-Identifier: MIT
// Pendulum video generator (datasets.md §1): RK4 dynamics, coverage rendering, per-trajectory seeds.
#include "latdyn/sim/pendulum.hpp"

#include <ATen/Parallel.h>

#include <cmath>
#include <random>

#include "latdyn/core/error.hpp"
#include "latdyn/core/rng.hpp"
#include "latdyn/core/version.hpp"
#include "latdyn/sim/render_bar.hpp"
#include "latdyn/sim/time_grid.hpp"

namespace latdyn::sim {

PendulumOptions PendulumOptions::from_json(const json& j) {
  ConfigReader r(j, "simulator options (pendulum)");
  r.accept("type");
  PendulumOptions o;
  o.profile = r.get<std::string>("profile", o.profile);
  check_profile(r, "pendulum", o.profile, {"default", "quick", "msvi"});
  if (o.profile == "quick") {
    o.n_trajectories = 50, o.n_train = 40, o.n_val = 5;  // 10 % of 500, split 80/10/10 (datasets.md §0.2)
  } else if (o.profile == "msvi") {
    o.frames = 51;  // T = 3.0 with dt = 0.06
  }
  o.n_trajectories = r.get("n_trajectories", o.n_trajectories);
  o.n_train = r.get("n_train", o.n_train);
  o.n_val = r.get("n_val", o.n_val);
  o.frames = r.get("frames", o.frames);
  o.dt = r.get("dt", o.dt);
  o.resolution = r.get("resolution", o.resolution);
  o.g = r.get("g", o.g);
  o.l = r.get("l", o.l);
  o.m = r.get("m", o.m);
  o.b = r.get("b", o.b);
  o.theta0_min = r.get("theta0_min", o.theta0_min);
  o.theta0_max = r.get("theta0_max", o.theta0_max);
  o.omega0_min = r.get("omega0_min", o.omega0_min);
  o.omega0_max = r.get("omega0_max", o.omega0_max);
  o.irregular = r.get("irregular", o.irregular);
  o.max_substep = r.get("max_substep", o.max_substep);
  o.quantize_uint8 = r.get("quantize_uint8", o.quantize_uint8);
  o.render_length_scales_with_l = r.get("render_length_scales_with_l", o.render_length_scales_with_l);
  o.l_max = r.get("l_max", o.l_max);
  o.seed = r.get("seed", o.seed);
  r.finish();
  if (o.resolution < 16 || o.resolution % 16 != 0)
    r.throw_error("resolution " + concat(o.resolution) + " is not supported", "use 32 (default), 64 or 128 (divisible by 16)");
  check_split(r, o.n_trajectories, o.n_train, o.n_val);
  if (o.frames < 2 || o.dt <= 0 || o.l <= 0 || o.m <= 0 || o.g <= 0 || o.max_substep <= 0)
    r.throw_error("frames >= 2 and positive dt, l, m, g, max_substep are required", "check the simulator options");
  return o;
}

json PendulumOptions::to_json() const {
  return {{"type", "pendulum"}, {"profile", profile}, {"n_trajectories", n_trajectories}, {"n_train", n_train},
          {"n_val", n_val}, {"frames", frames}, {"dt", dt}, {"resolution", resolution}, {"g", g}, {"l", l}, {"m", m},
          {"b", b}, {"theta0_min", theta0_min}, {"theta0_max", theta0_max}, {"omega0_min", omega0_min},
          {"omega0_max", omega0_max}, {"irregular", irregular}, {"max_substep", max_substep},
          {"quantize_uint8", quantize_uint8}, {"render_length_scales_with_l", render_length_scales_with_l},
          {"l_max", l_max}, {"seed", seed}};
}

PendulumPath integrate_pendulum(double theta0, double omega0, const std::vector<double>& times, double g, double l,
                                double b_over_m, double max_substep) {
  auto f = [&](double th, double om, double& dth, double& dom) {
    dth = om;
    dom = -(g / l) * std::sin(th) - b_over_m * om;
  };
  PendulumPath p;
  double th = theta0, om = omega0, t = times.empty() ? 0.0 : times[0];
  for (double t_out : times) {
    const double span = t_out - t;
    const int64_t n = span > 0 ? static_cast<int64_t>(std::ceil(span / max_substep - 1e-9)) : 0;
    const double h = n > 0 ? span / static_cast<double>(n) : 0.0;
    for (int64_t s = 0; s < n; ++s) {  // classical RK4
      double k1t, k1o, k2t, k2o, k3t, k3o, k4t, k4o;
      f(th, om, k1t, k1o);
      f(th + 0.5 * h * k1t, om + 0.5 * h * k1o, k2t, k2o);
      f(th + 0.5 * h * k2t, om + 0.5 * h * k2o, k3t, k3o);
      f(th + h * k3t, om + h * k3o, k4t, k4o);
      th += h / 6.0 * (k1t + 2 * k2t + 2 * k3t + k4t);
      om += h / 6.0 * (k1o + 2 * k2o + 2 * k3o + k4o);
    }
    t = t_out;
    p.theta.push_back(th);
    p.omega.push_back(om);
  }
  return p;
}

void render_pendulum(double theta, int64_t res, int64_t bar_length, int64_t bar_width, float* out) {
  // Bar from the pivot at the image centre (datasets.md §1.3), 4x4 coverage (§0.4).
  render_bar(res / 2.0, res / 2.0, theta, static_cast<double>(bar_length), static_cast<double>(bar_width), res, out);
}

data::Dataset Pendulum::generate() const {
  const int64_t n = o_.n_trajectories, m = o_.frames, res = o_.resolution;
  const double scale = o_.render_length_scales_with_l ? o_.l / o_.l_max : 1.0;
  const int64_t bar_length = static_cast<int64_t>(std::floor(0.45 * res * scale));
  const int64_t bar_width = static_cast<int64_t>(std::floor(0.1 * res));
  data::Dataset ds;
  ds.y = at::zeros({n, m, 1, res, res}, at::kFloat);
  ds.t = at::zeros({n, m}, at::kDouble);
  at::Tensor theta = at::zeros({n, m}, at::kDouble), theta_w = at::zeros({n, m}, at::kDouble),
             omega = at::zeros({n, m}, at::kDouble), theta0 = at::zeros({n}, at::kDouble),
             omega0 = at::zeros({n}, at::kDouble);
  const double t_end = o_.dt * static_cast<double>(m - 1);
  const double two_pi = 2.0 * 3.14159265358979323846;
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      std::mt19937_64 rng(o_.seed + static_cast<uint64_t>(r));  // datasets.md §0.2: seed base_seed + r
      std::vector<double> times =
          o_.irregular ? irregular_grid(m, t_end, 100 * m, 0.25 * t_end / static_cast<double>(m - 1), rng)
                       : regular_grid(m, o_.dt);
      const double th0 = o_.theta0_min + (o_.theta0_max - o_.theta0_min) * unit_double(rng());
      const double om0 = o_.omega0_min + (o_.omega0_max - o_.omega0_min) * unit_double(rng());
      PendulumPath p = integrate_pendulum(th0, om0, times, o_.g, o_.l, o_.b / o_.m, o_.max_substep);
      theta0.data_ptr<double>()[r] = th0;
      omega0.data_ptr<double>()[r] = om0;
      float* frames = ds.y.data_ptr<float>() + r * m * res * res;
      for (int64_t k = 0; k < m; ++k) {
        ds.t.data_ptr<double>()[r * m + k] = times[k];
        theta.data_ptr<double>()[r * m + k] = p.theta[k];
        omega.data_ptr<double>()[r * m + k] = p.omega[k];
        double w = std::fmod(p.theta[k], two_pi);
        theta_w.data_ptr<double>()[r * m + k] = w < 0 ? w + two_pi : w;
        render_pendulum(p.theta[k], res, bar_length, bar_width, frames + k * res * res);
      }
    }
  });
  if (o_.quantize_uint8) ds.y = at::round(ds.y * 255.0) / 255.0;
  ds.split = at::full({n}, 2, at::kByte);
  ds.split.slice(0, 0, o_.n_train).fill_(0);
  ds.split.slice(0, o_.n_train, o_.n_train + o_.n_val).fill_(1);
  ds.truth["theta"] = theta;
  ds.truth["theta_wrapped"] = theta_w;
  ds.truth["omega"] = omega;
  ds.params["theta0"] = theta0;
  ds.params["omega0"] = omega0;
  for (auto kv : {std::make_pair("g", o_.g), std::make_pair("l", o_.l), std::make_pair("m", o_.m), std::make_pair("b", o_.b)})
    ds.params[kv.first] = at::full({n}, kv.second, at::kDouble);
  ds.header = generated_header("pendulum", options(), o_.seed);
  return ds;
}

}  // namespace latdyn::sim
