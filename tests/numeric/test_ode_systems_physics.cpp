// SPDX-License-Identifier: MIT
// Physics of the LaDID benchmark generators beyond the pendulum (datasets.md §2–§4): double pendulum (energy, normal
// modes, RK4 accuracy, two-bar rendering), bouncing balls (elastic collisions, walls, soft-disc rendering, grids) and
// the 2-D wave equation (exact modal solution, energy, wave speed, reflecting walls, normalisation); for every
// generator its profiles, seeds, determinism and option errors.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <tuple>
#include <utility>

#include "latdyn/core/error.hpp"
#include "latdyn/sim/bouncing_balls.hpp"
#include "latdyn/sim/double_pendulum.hpp"
#include "latdyn/sim/render_bar.hpp"
#include "latdyn/sim/time_grid.hpp"
#include "latdyn/sim/wave.hpp"

using namespace latdyn;

namespace {

data::Dataset make(const json& opts) { return sim::simulators().create(opts)->generate(); }

/// Message of the ConfigError thrown by creating a simulator with `opts` ("" when none is thrown).
std::string config_error(const json& opts) {
  try {
    sim::simulators().create(opts);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

/// Generates `opts` with 1 and with 2 threads; both must agree bit for bit (seeds base_seed + r, datasets.md §0.2).
std::pair<data::Dataset, data::Dataset> generate_with_1_and_2_threads(const json& opts) {
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  data::Dataset a = make(opts);
  at::set_num_threads(2);
  data::Dataset b = make(opts);
  at::set_num_threads(threads);
  return {std::move(a), std::move(b)};
}

void expect_same_dataset(const data::Dataset& a, const data::Dataset& b) {
  EXPECT_TRUE(torch::equal(a.y, b.y));
  EXPECT_TRUE(torch::equal(a.t, b.t));
  EXPECT_TRUE(torch::equal(a.split, b.split));
  ASSERT_EQ(a.truth.size(), b.truth.size());
  for (const auto& [name, v] : a.truth) EXPECT_TRUE(torch::equal(v, b.truth.at(name))) << "truth/" << name;
  ASSERT_EQ(a.params.size(), b.params.size());
  for (const auto& [name, v] : a.params) EXPECT_TRUE(torch::equal(v, b.params.at(name))) << "params/" << name;
  EXPECT_EQ(a.header.options, b.header.options);
}

constexpr double kPi = 3.14159265358979323846;

}  // namespace

// ------------------------------------------------------------------------------------- double pendulum (§2)

TEST(DoublePendulumPhysics, EnergyConservedForEqualAndUnequalPendulums) {
  // A wrong term in either equation of motion (§2.1) breaks conservation of the §2.1 energy at O(1).
  auto times = sim::regular_grid(60, 0.05);
  struct Case { double m1, m2, l1, l2; };
  for (Case p : {Case{1, 1, 1, 1}, Case{2.0, 0.5, 1.2, 0.7}, Case{0.6, 1.7, 0.8, 1.3}}) {
    std::mt19937_64 rng(7);
    for (int r = 0; r < 3; ++r) {
      const double a1 = -1.5 + 3.0 * (rng() % 1000) / 1000.0, a2 = -1.5 + 3.0 * (rng() % 1000) / 1000.0;
      const double w1 = -1.0 + 2.0 * (rng() % 1000) / 1000.0, w2 = -1.0 + 2.0 * (rng() % 1000) / 1000.0;
      auto path = sim::integrate_double_pendulum(a1, a2, w1, w2, times, p.m1, p.m2, p.l1, p.l2, 9.81, 1e-4);
      const double e0 = sim::double_pendulum_energy(a1, a2, w1, w2, p.m1, p.m2, p.l1, p.l2, 9.81);
      double moved = 0.0;
      for (size_t k = 0; k < times.size(); ++k) {
        const double e = sim::double_pendulum_energy(path.theta1[k], path.theta2[k], path.omega1[k], path.omega2[k],
                                                     p.m1, p.m2, p.l1, p.l2, 9.81);
        EXPECT_NEAR(e, e0, 1e-9) << "m1 " << p.m1 << " frame " << k;
        moved = std::max(moved, std::abs(path.theta2[k] - a2));
      }
      EXPECT_GT(moved, 0.1);  // the motion is not trivial
    }
  }
}

TEST(DoublePendulumPhysics, SmallAngleNormalModes) {
  // Linearised, m1 = m2, l1 = l2 = l: modes theta2 = ±sqrt(2) theta1 with w² = (g/l)(2 ∓ sqrt(2)).
  const double g = 9.81, amp = 1e-3;
  for (int sign : {+1, -1}) {
    const double w0 = std::sqrt(g * (2.0 - sign * std::sqrt(2.0))), period = 2 * kPi / w0;
    auto times = sim::regular_grid(3001, 0.75 * period / 3000);
    auto p = sim::integrate_double_pendulum(amp, sign * std::sqrt(2.0) * amp, 0.0, 0.0, times, 1, 1, 1, 1, g, 1e-4);
    double t_half = -1;  // omega1 crosses from - to + at theta1's minimum, half a period in
    for (size_t k = 1; k < times.size() && t_half < 0; ++k)
      if (p.omega1[k - 1] < 0 && p.omega1[k] >= 0)
        t_half = times[k - 1] + (times[k] - times[k - 1]) * (-p.omega1[k - 1] / (p.omega1[k] - p.omega1[k - 1]));
    ASSERT_GT(t_half, 0) << "mode " << sign;
    EXPECT_NEAR(2 * t_half / period, 1.0, 1e-4) << "mode " << sign;
    for (size_t k = 0; k < times.size(); k += 100)  // the shape of the mode is kept
      EXPECT_NEAR(p.theta2[k], sign * std::sqrt(2.0) * p.theta1[k], 1e-8) << "mode " << sign << " t " << times[k];
  }
}

TEST(DoublePendulumPhysics, Rk4StepIsConverged) {
  // h = 1e-4 (§2.1) against h = 2.5e-5 over the 2.95 s horizon, for the recipe's initial-condition ranges.
  auto times = sim::regular_grid(60, 0.05);
  std::mt19937_64 rng(5);
  for (int r = 0; r < 4; ++r) {
    const double a1 = -1.57 + 3.14 * (rng() % 1000) / 1000.0, a2 = -1.57 + 3.14 * (rng() % 1000) / 1000.0;
    const double w1 = -1.0 + 2.0 * (rng() % 1000) / 1000.0, w2 = -1.0 + 2.0 * (rng() % 1000) / 1000.0;
    auto a = sim::integrate_double_pendulum(a1, a2, w1, w2, times, 1, 1, 1, 1, 9.81, 1e-4);
    auto b = sim::integrate_double_pendulum(a1, a2, w1, w2, times, 1, 1, 1, 1, 9.81, 2.5e-5);
    for (size_t k = 0; k < times.size(); ++k) {
      EXPECT_LT(std::abs(a.theta1[k] - b.theta1[k]), 1e-10);
      EXPECT_LT(std::abs(a.theta2[k] - b.theta2[k]), 1e-10);
    }
  }
}

TEST(DoublePendulumRendering, TwoBarsFromTheCentre) {
  const int64_t res = 64, len = 14, wid = 5;  // §2.2 at 64: L = floor(0.22 W) = 14, width floor(0.08 W) = 5
  std::vector<float> img(res * res);
  auto px = [&](int64_t row, int64_t col) { return img[row * res + col]; };
  sim::render_double_pendulum(0.0, 0.0, res, len, wid, 1.0f, img.data());  // both hang down from (32, 32)
  EXPECT_FLOAT_EQ(px(32 + 7, 32), 1.0f);        // bar 1
  EXPECT_FLOAT_EQ(px(32 + 21, 32), 1.0f);       // bar 2
  EXPECT_FLOAT_EQ(px(32 + 29, 32), 0.0f);       // below the tip at 32 + 28
  EXPECT_FLOAT_EQ(px(28, 32), 0.0f);            // above the pivot
  double mass = 0;
  for (float v : img) mass += v;
  EXPECT_NEAR(mass, 2.0 * len * wid, 2.0);      // coverage integrates to the two bars' area
  sim::render_double_pendulum(0.0, 0.0, res, len, wid, 0.5f, img.data());  // bar2_intensity shades only bar 2
  EXPECT_FLOAT_EQ(px(32 + 7, 32), 1.0f);
  EXPECT_FLOAT_EQ(px(32 + 21, 32), 0.5f);
  // theta1 = pi/2: bar 1 points to +x, joint at (46, 32); bar 2 hangs down from the joint.
  sim::render_double_pendulum(kPi / 2, 0.0, res, len, wid, 1.0f, img.data());
  EXPECT_FLOAT_EQ(px(32, 39), 1.0f);
  EXPECT_FLOAT_EQ(px(40, 46), 1.0f);
  EXPECT_FLOAT_EQ(px(40, 18), 0.0f);
  EXPECT_FLOAT_EQ(px(32, 25), 0.0f);
  for (float v : img) EXPECT_TRUE(v >= 0.0f && v <= 1.0f);
  // The shared bar helper draws the single pendulum's bar: max with what is already there.
  std::vector<float> one(res * res), both(res * res, 0.0f);
  sim::render_bar(32.0, 32.0, 0.3, 14, 5, res, one.data());
  sim::draw_bar_max(32.0, 32.0, 0.3, 14, 5, res, 1.0f, both.data());
  EXPECT_EQ(one, both);
}

TEST(DoublePendulumDataset, ProfilesTruthSeedsAndDeterminism) {
  auto ds = make({{"type", "double_pendulum"}, {"profile", "quick"}, {"n_trajectories", 10}, {"n_train", 8},
                  {"n_val", 1}});
  ds.validate("double_pendulum quick");
  EXPECT_EQ(ds.y.sizes(), (std::vector<int64_t>{10, 60, 1, 32, 32}));  // quick: the smallest resolution (§0.2)
  EXPECT_EQ(ds.indices(data::Split::kTrain).size(0), 8);
  EXPECT_NEAR(ds.t[4][59].item<double>(), 2.95, 1e-12);                // dt 0.05, M 60
  for (const char* name : {"theta1", "theta2", "omega1", "omega2", "energy"})
    EXPECT_EQ(ds.truth.at(name).sizes(), (std::vector<int64_t>{10, 60})) << name;
  for (const char* name : {"theta1_0", "theta2_0", "omega1_0", "omega2_0", "m1", "m2", "l1", "l2", "g"})
    EXPECT_EQ(ds.params.at(name).sizes(), (std::vector<int64_t>{10})) << name;
  // Initial conditions in their ranges; the stored energy drifts less than the §2.1 bound 1e-6 (m1 + m2) g l1.
  EXPECT_LE(ds.params.at("theta1_0").abs().max().item<double>(), kPi / 2);
  EXPECT_LE(ds.params.at("omega2_0").abs().max().item<double>(), 1.0);
  EXPECT_TRUE(torch::equal(ds.truth.at("theta1").select(1, 0), ds.params.at("theta1_0")));
  at::Tensor e = ds.truth.at("energy");
  EXPECT_LT((e - e.select(1, 0).unsqueeze(1)).abs().max().item<double>(), 1e-6 * 2 * 9.81);
  // Frames are the renderings of the stored angles.
  std::vector<float> img(32 * 32);
  sim::render_double_pendulum(ds.truth.at("theta1")[3][17].item<double>(), ds.truth.at("theta2")[3][17].item<double>(),
                              32, 7, 2, 1.0f, img.data());
  EXPECT_TRUE(torch::equal(ds.y[3][17][0], torch::from_blob(img.data(), {32, 32}, torch::kFloat)));
  auto def = sim::DoublePendulumOptions::from_json({{"type", "double_pendulum"}});
  EXPECT_EQ(def.resolution, 64);
  EXPECT_EQ(def.n_trajectories, 500);
  // Determinism: any thread count gives the same bytes; trajectory r depends only on seed + r.
  json opts = {{"type", "double_pendulum"}, {"n_trajectories", 6}, {"n_train", 4}, {"n_val", 1}, {"frames", 12},
               {"resolution", 32}, {"irregular", true}};
  auto [a, b] = generate_with_1_and_2_threads(opts);
  expect_same_dataset(a, b);
  EXPECT_FALSE(torch::equal(a.t[0], a.t[1]));  // per-trajectory irregular grids
  EXPECT_NEAR(a.t[2][11].item<double>(), 0.55, 1e-12);
  opts["seed"] = 1546;
  auto c = make(opts);
  EXPECT_FALSE(torch::equal(a.y, c.y));
  EXPECT_TRUE(torch::equal(a.y[1], c.y[0]));
  EXPECT_TRUE(torch::equal(a.truth.at("theta2")[1], c.truth.at("theta2")[0]));
  // The header (with the derived max_energy_drift) parses back to the same options.
  EXPECT_NO_THROW(sim::simulators().create(a.header.options));
}

TEST(DoublePendulumDataset, BadOptionsAndEnergyCheck) {
  std::string msg = config_error({{"type", "double_pendulum"}, {"profile", "quik"}});
  EXPECT_TRUE(contains(msg, "unknown profile 'quik'") && contains(msg, "did you mean 'quick'")) << msg;
  msg = config_error({{"type", "double_pendulum"}, {"resolution", 40}});
  EXPECT_TRUE(contains(msg, "resolution 40") && contains(msg, "hint:")) << msg;
  msg = config_error({{"type", "double_pendulum"}, {"bar2_intensity", 1.5}});
  EXPECT_TRUE(contains(msg, "bar2_intensity")) << msg;
  msg = config_error({{"type", "double_pendulum"}, {"l3", 1.0}});
  EXPECT_TRUE(contains(msg, "l3")) << msg;
  msg = config_error({{"type", "double_pendulum"}, {"m2", 0.0}});
  EXPECT_TRUE(contains(msg, "m1, m2, l1, l2, g must be positive")) << msg;
  // A coarse step violates the §2.1 drift bound; the error names the trajectory and the fix.
  try {
    make({{"type", "double_pendulum"}, {"n_trajectories", 4}, {"n_train", 2}, {"n_val", 1}, {"resolution", 16},
          {"max_substep", 0.05}});
    ADD_FAILURE() << "a 0.05 s RK4 step should fail the energy-drift check";
  } catch (const NumericalError& e) {
    const std::string what = e.what();
    EXPECT_TRUE(contains(what, "energy drift") && contains(what, "in trajectory ") && contains(what, "max_substep"))
        << what;
  }
}

// --------------------------------------------------------------------------------------- bouncing balls (§3)

TEST(BouncingBallsPhysics, KineticEnergyConservedThroughWallAndBallCollisions) {
  const std::vector<double> masses(3, 1.0);
  int64_t ball_hits = 0, wall_hits = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    std::mt19937_64 rng(seed);
    std::vector<double> x, v;
    sim::balls_initial_state(rng, 3, 1.2, x, v);
    double e0 = 0;
    for (double c : v) e0 += c * c;
    EXPECT_NEAR(e0, 0.25, 1e-15);  // v <- 0.5 v / ||v||_F (§3.1)
    for (int step = 0; step < 500; ++step) {
      const std::vector<double> before = v;
      sim::balls_step(x, v, masses, 1.2, 0.1);
      double e = 0;
      for (double c : v) e += c * c;
      ASSERT_NEAR(e, e0, 1e-12) << "seed " << seed << " step " << step;
      for (int q = 0; q < 6; ++q)
        if (v[q] == -before[q] && v[q] != 0 && (x[q] < 1.2 || x[q] > 8.8)) ++wall_hits;
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < i; ++j)
          if (std::hypot(x[2 * i] - x[2 * j], x[2 * i + 1] - x[2 * j + 1]) < 2.4) ++ball_hits;
    }
  }
  EXPECT_GT(wall_hits, 20);  // the loop exercised both rules
  EXPECT_GT(ball_hits, 20);
}

TEST(BouncingBallsPhysics, BallsStayInTheBox) {
  // A ball can overshoot a wall only during the Euler step that reaches it: by at most dt |v| (§3.1).
  int64_t checked = 0;
  for (uint64_t seed = 100; seed < 160; ++seed) {
    std::mt19937_64 rng(seed);
    std::vector<double> x, v;
    sim::balls_initial_state(rng, 3, 1.2, x, v);
    for (int i = 0; i < 3; ++i) {  // the start touches neither a wall nor another ball
      for (int a = 0; a < 2; ++a) EXPECT_TRUE(x[2 * i + a] >= 1.2 && x[2 * i + a] <= 8.8);
      for (int j = 0; j < i; ++j) EXPECT_GE(std::hypot(x[2 * i] - x[2 * j], x[2 * i + 1] - x[2 * j + 1]), 2.4);
    }
    for (int step = 0; step < 500; ++step) {
      const std::vector<double> v_before = v;
      sim::balls_step(x, v, std::vector<double>(3, 1.0), 1.2, 0.1);
      for (int i = 0; i < 3; ++i) {
        const double overshoot = 0.1 * std::hypot(v_before[2 * i], v_before[2 * i + 1]) + 1e-12;
        for (int a = 0; a < 2; ++a) {
          EXPECT_GE(x[2 * i + a] - 1.2, -overshoot) << "seed " << seed << " step " << step;
          EXPECT_LE(x[2 * i + a] + 1.2, 10.0 + overshoot) << "seed " << seed << " step " << step;
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 60 * 500 * 6);
}

TEST(BouncingBallsPhysics, HeadOnAndObliqueCollisions) {
  // Head-on, equal masses: after the move (3.05 and 5.42, distance 2.37 < 2r) the velocities are exchanged.
  std::vector<double> x = {3.0, 5.0, 5.45, 5.0}, v = {0.5, 0.0, -0.3, 0.0};
  sim::balls_step(x, v, {1.0, 1.0}, 1.2, 0.1);
  EXPECT_NEAR(v[0], -0.3, 1e-15);
  EXPECT_NEAR(v[2], 0.5, 1e-15);
  EXPECT_EQ(v[1], 0.0);
  EXPECT_EQ(v[3], 0.0);
  // Oblique: only the components along w = (x_1 - x_0)/|.| are exchanged, the tangential ones stay.
  x = {4.0, 4.0, 4.0 + 1.6, 4.0 + 1.6}, v = {0.2, 0.1, -0.1, 0.05};  // distance 2.26 before the move
  const std::vector<double> x0 = x, v0 = v;
  sim::balls_step(x, v, {1.0, 1.0}, 1.2, 0.1);
  const double dx = x[2] - x[0], dy = x[3] - x[1], d = std::hypot(dx, dy), wx = dx / d, wy = dy / d;
  auto along = [&](const std::vector<double>& u, int b) { return wx * u[2 * b] + wy * u[2 * b + 1]; };
  auto across = [&](const std::vector<double>& u, int b) { return -wy * u[2 * b] + wx * u[2 * b + 1]; };
  EXPECT_NEAR(along(v, 0), along(v0, 1), 1e-15);
  EXPECT_NEAR(along(v, 1), along(v0, 0), 1e-15);
  EXPECT_NEAR(across(v, 0), across(v0, 0), 1e-15);
  EXPECT_NEAR(across(v, 1), across(v0, 1), 1e-15);
  // Unequal masses: the §3.1 rule conserves momentum and kinetic energy.
  x = {3.0, 5.0, 5.4, 5.2}, v = {0.4, 0.1, -0.2, 0.05};  // distance 2.348 after the move
  const std::vector<double> m = {2.0, 0.5};
  auto momentum = [&](int a) { return m[0] * v[a] + m[1] * v[2 + a]; };
  auto kinetic = [&] { return m[0] * (v[0] * v[0] + v[1] * v[1]) + m[1] * (v[2] * v[2] + v[3] * v[3]); };
  const double px0 = momentum(0), py0 = momentum(1), k0 = kinetic();
  const std::vector<double> vb = v;
  sim::balls_step(x, v, m, 1.2, 0.1);
  EXPECT_NE(v, vb);  // they did collide
  EXPECT_NEAR(momentum(0), px0, 1e-15);
  EXPECT_NEAR(momentum(1), py0, 1e-15);
  EXPECT_NEAR(kinetic(), k0, 1e-15);
  // Walls: v = |v| below 0, -|v| above 10, per axis.
  x = {1.21, 8.78}, v = {-0.3, 0.4};  // after the move 1.18 - r < 0 and 8.82 + r > 10
  sim::balls_step(x, v, {1.0}, 1.2, 0.1);
  EXPECT_EQ(v[0], 0.3);
  EXPECT_EQ(v[1], -0.4);
}

TEST(BouncingBallsRendering, SoftDiscsAtPixelCentres) {
  const int64_t res = 32;
  const double cell = 10.0 / res;
  std::vector<float> img(res * res);
  const double one[2] = {(5 + 0.5) * cell, (20 + 0.5) * cell};  // centre of column 5, row 20
  sim::render_balls(one, 1, 1.2, res, img.data());
  EXPECT_EQ(img[20 * res + 5], 1.0f);                // exp(0) = 1
  EXPECT_LT(img[5 * res + 20], 1e-30f);              // coordinate 0 is the column, 1 the row
  EXPECT_LT(img[20 * res + 6], 1.0f);
  EXPECT_GT(img[20 * res + 6], 0.99f);               // flat top: exp(-(d²/r²)^4), d = 0.3125
  const double d = 4.0 * cell;                       // column 9, on the flank: the value of the §3.2 formula
  EXPECT_FLOAT_EQ(img[20 * res + 9], static_cast<float>(std::exp(-std::pow((d * d) / (1.2 * 1.2), 4))));
  EXPECT_TRUE(img[20 * res + 9] > 0.2f && img[20 * res + 9] < 0.3f);
  EXPECT_EQ(img[0], 0.0f);
  const double two[4] = {one[0], one[1], one[0] + 0.4, one[1]};  // overlapping balls are clipped at 1
  sim::render_balls(two, 2, 1.2, res, img.data());
  for (float v : img) EXPECT_TRUE(v >= 0.0f && v <= 1.0f);
  EXPECT_EQ(img[20 * res + 6], 1.0f);
}

TEST(BouncingBallsDataset, ProfilesGridsTruthAndDeterminism) {
  auto ds = make({{"type", "bouncing_balls"}, {"profile", "quick"}, {"n_trajectories", 20}, {"n_train", 16},
                  {"n_val", 2}});
  ds.validate("bouncing_balls quick");
  EXPECT_EQ(ds.y.sizes(), (std::vector<int64_t>{20, 60, 1, 32, 32}));
  EXPECT_NEAR(ds.t[0][1].item<double>(), 0.4, 1e-12);  // every 4th fine point of dt 0.1
  EXPECT_NEAR(ds.t[7][59].item<double>(), 23.6, 1e-12);
  EXPECT_EQ(ds.truth.at("positions").sizes(), (std::vector<int64_t>{20, 60, 3, 2}));
  EXPECT_EQ(ds.truth.at("velocities").sizes(), (std::vector<int64_t>{20, 60, 3, 2}));
  EXPECT_EQ(ds.params.at("masses").sizes(), (std::vector<int64_t>{20, 3}));
  EXPECT_EQ(ds.params.at("radius")[0].item<double>(), 1.2);
  EXPECT_EQ(ds.params.at("size")[0].item<double>(), 10.0);
  // Trajectory 3 regenerated alone from seed 1545 + 3 (§0.2): same start, fine steps, frames.
  std::mt19937_64 rng(1545 + 3);
  std::vector<double> x, v;
  sim::balls_initial_state(rng, 3, 1.2, x, v);
  const std::vector<double> masses(3, 1.0);
  std::vector<float> img(32 * 32);
  for (int k = 0; k < 60; ++k) {
    if (k > 0)
      for (int s = 0; s < 4; ++s) sim::balls_step(x, v, masses, 1.2, 0.1);
    at::Tensor pos = ds.truth.at("positions")[3][k].contiguous(), vel = ds.truth.at("velocities")[3][k].contiguous();
    ASSERT_EQ(std::vector<double>(pos.data_ptr<double>(), pos.data_ptr<double>() + 6), x) << "frame " << k;
    ASSERT_EQ(std::vector<double>(vel.data_ptr<double>(), vel.data_ptr<double>() + 6), v) << "frame " << k;
    sim::render_balls(x.data(), 3, 1.2, 32, img.data());
    ASSERT_TRUE(torch::equal(ds.y[3][k][0], torch::from_blob(img.data(), {32, 32}, torch::kFloat))) << "frame " << k;
  }
  // msvi profile: 12,000 (10,000 / 1,000 / 1,000), 51 irregular frames of the 201 fine points of T = 20.
  auto msvi = sim::BouncingBallsOptions::from_json({{"type", "bouncing_balls"}, {"profile", "msvi"}});
  EXPECT_EQ(msvi.n_trajectories, 12000);
  EXPECT_EQ(msvi.n_train, 10000);
  EXPECT_EQ(msvi.n_val, 1000);
  EXPECT_TRUE(msvi.irregular);
  json opts = {{"type", "bouncing_balls"}, {"profile", "msvi"}, {"n_trajectories", 6}, {"n_train", 4}, {"n_val", 1}};
  auto [a, b] = generate_with_1_and_2_threads(opts);
  expect_same_dataset(a, b);
  EXPECT_EQ(a.y.size(1), 51);
  for (int64_t r = 0; r < 6; ++r) {
    EXPECT_EQ(a.t[r][0].item<double>(), 0.0);
    EXPECT_NEAR(a.t[r][50].item<double>(), 20.0, 1e-12);
    for (int64_t k = 0; k < 51; ++k) {
      const double fine = a.t[r][k].item<double>() / 0.1;
      EXPECT_NEAR(fine, std::round(fine), 1e-9);  // on the fine grid
      if (k > 0) EXPECT_GE(a.t[r][k].item<double>() - a.t[r][k - 1].item<double>(), 0.1 - 1e-9);  // min_dist 0.1
    }
  }
  EXPECT_FALSE(torch::equal(a.t[0], a.t[1]));
  opts["irregular"] = false;  // MSVI's regular variant: every 4th fine point
  auto reg = make(opts);
  EXPECT_NEAR(reg.t[2][50].item<double>(), 20.0, 1e-12);
  EXPECT_NEAR(reg.t[2][13].item<double>(), 5.2, 1e-12);
  opts["irregular"] = true;
  opts["seed"] = 1546;
  auto c = make(opts);
  EXPECT_FALSE(torch::equal(a.y, c.y));
  EXPECT_TRUE(torch::equal(a.y[1], c.y[0]));
  EXPECT_TRUE(torch::equal(a.t[1], c.t[0]));
}

TEST(BouncingBallsDataset, BadOptions) {
  std::string msg = config_error({{"type", "bouncing_balls"}, {"profile", "msvii"}});
  EXPECT_TRUE(contains(msg, "unknown profile 'msvii'") && contains(msg, "did you mean 'msvi'")) << msg;
  msg = config_error({{"type", "bouncing_balls"}, {"resolution", 30}});
  EXPECT_TRUE(contains(msg, "resolution 30") && contains(msg, "hint:")) << msg;
  msg = config_error({{"type", "bouncing_balls"}, {"radius", 3.0}});
  EXPECT_TRUE(contains(msg, "radius 3") && contains(msg, "hint:")) << msg;
  msg = config_error({{"type", "bouncing_balls"}, {"n_ball", 2}});
  EXPECT_TRUE(contains(msg, "n_ball") && contains(msg, "n_balls")) << msg;  // did-you-mean on unknown keys
  std::mt19937_64 rng(1);
  std::vector<double> x, v;  // 30 balls of radius 1.9 cannot be placed: DataError with a hint
  EXPECT_THROW(sim::balls_initial_state(rng, 30, 1.9, x, v), DataError);
}

// ------------------------------------------------------------------------------------------ 2-D wave (§4)

TEST(WavePhysics, ModalSolutionReproducesTheInitialField) {
  for (int64_t h : {32, 64}) {
    const std::vector<double> s = sim::wave_sine_matrix(h);
    std::vector<double> ss(h * h);  // discrete orthogonality S S = ((H+1)/2) I
    std::vector<double> eye(h * h, 0.0);
    for (int64_t i = 0; i < h; ++i) eye[i * h + i] = 1.0;
    sim::wave_sandwich(s, eye.data(), h, ss.data());
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < h; ++j) ASSERT_NEAR(ss[i * h + j], i == j ? (h + 1) / 2.0 : 0.0, 1e-10);
    const std::vector<sim::WaveBump> bumps = {{0.35, 0.6, 0.05, 0.8}, {0.62, 0.41, 0.07, -0.6}};
    const std::vector<double> u0 = sim::wave_initial_field(bumps, h);
    const sim::WaveModes md = sim::wave_modes(s, u0.data(), h, 1.0);
    std::vector<double> u(h * h);
    sim::wave_field(md, s, 0.0, u.data());
    double err = 0;
    for (int64_t p = 0; p < h * h; ++p) err = std::max(err, std::abs(u[p] - u0[p]));
    EXPECT_LT(err, 1e-6) << "H " << h;  // §4.2 check: U(0) reproduces U0 at the grid points
    // Grid point (row i, column j) sits at (x, y) = ((j+1)/(H+1), (i+1)/(H+1)).
    const int64_t i = h / 2 + 5, j = h / 3;
    const double x = (j + 1.0) / (h + 1), y = (i + 1.0) / (h + 1);
    double want = 0;
    for (const auto& b : bumps)
      want += b.amplitude * std::exp(-((x - b.cx) * (x - b.cx) + (y - b.cy) * (y - b.cy)) / (2 * b.sigma * b.sigma));
    EXPECT_NEAR(u0[i * h + j], want, 1e-15);
    EXPECT_GT(std::abs(want), 1e-3);
  }
}

TEST(WavePhysics, ModalEnergyConstantAndFieldProjectsBackOntoTheModes) {
  const int64_t h = 32;
  const std::vector<double> s = sim::wave_sine_matrix(h);
  const std::vector<double> u0 = sim::wave_initial_field({{0.45, 0.52, 0.05, 0.9}, {0.3, 0.66, 0.04, -0.7}}, h);
  const sim::WaveModes md = sim::wave_modes(s, u0.data(), h, 1.3);
  double e_ref = 0;  // Σ Ω² A² (§4.2)
  for (size_t p = 0; p < md.a.size(); ++p) e_ref += md.omega[p] * md.omega[p] * md.a[p] * md.a[p];
  std::vector<double> u(h * h);
  for (double t : {0.0, 0.13, 0.5, 1.18, 3.7}) {
    EXPECT_NEAR(sim::wave_modal_energy(md, t), e_ref, 1e-12 * e_ref) << "t " << t;
    // The synthesised field's own modal coefficients are A cos(Ω t).
    sim::wave_field(md, s, t, u.data());
    const sim::WaveModes back = sim::wave_modes(s, u.data(), h, 1.3);
    double err = 0, scale = 0;
    for (size_t p = 0; p < md.a.size(); ++p) {
      err = std::max(err, std::abs(back.a[p] - md.a[p] * std::cos(md.omega[p] * t)));
      scale = std::max(scale, std::abs(md.a[p]));
    }
    EXPECT_LT(err, 1e-12 * scale) << "t " << t;
  }
}

TEST(WavePhysics, SingleModeOscillatesWithFrequencyCPiSqrt2) {
  const int64_t h = 32;
  const std::vector<double> s = sim::wave_sine_matrix(h);
  std::vector<double> u0(h * h);
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < h; ++j) u0[i * h + j] = std::sin(kPi * (i + 1.0) / (h + 1)) * std::sin(kPi * (j + 1.0) / (h + 1));
  for (double c : {1.0, 1.5}) {
    const sim::WaveModes md = sim::wave_modes(s, u0.data(), h, c);
    EXPECT_NEAR(md.a[0], 1.0, 1e-12);  // only mode (1, 1)
    double others = 0;
    for (size_t p = 1; p < md.a.size(); ++p) others = std::max(others, std::abs(md.a[p]));
    EXPECT_LT(others, 1e-12);
    std::vector<double> u(h * h);
    for (double t : {0.1, 0.37, 0.7, 1.18}) {
      sim::wave_field(md, s, t, u.data());
      const double factor = std::cos(c * kPi * std::sqrt(2.0) * t);
      double err = 0;
      for (int64_t p = 0; p < h * h; ++p) err = std::max(err, std::abs(u[p] - factor * u0[p]));
      EXPECT_LT(err, 1e-12) << "c " << c << " t " << t;
    }
  }
}

TEST(WavePhysics, ReflectingWallsSymmetryAndFiniteSpeed) {
  const int64_t h = 64;
  const std::vector<double> s = sim::wave_sine_matrix(h);
  // A centred round bump keeps the square's 8 symmetries, before and after reflecting off the walls (t ≈ 0.4).
  const sim::WaveModes md = sim::wave_modes(s, sim::wave_initial_field({{0.5, 0.5, 0.05, 1.0}}, h).data(), h, 1.0);
  std::vector<double> u(h * h);
  for (double t : {0.2, 0.55, 1.0}) {
    sim::wave_field(md, s, t, u.data());
    double peak = 0, asym = 0;
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < h; ++j) {
        const double v = u[i * h + j];
        peak = std::max(peak, std::abs(v));
        asym = std::max({asym, std::abs(v - u[(h - 1 - i) * h + j]), std::abs(v - u[i * h + (h - 1 - j)]),
                         std::abs(v - u[j * h + i])});
      }
    EXPECT_GT(peak, 0.01);
    EXPECT_LT(asym, 1e-12 * peak) << "t " << t;
  }
  // u = 0 on the walls (Dirichlet): the modal series Σ a sin(mπx) sin(nπy) vanishes at x = 0 and x = 1 while the
  // wave is at the wall; next to the wall it does not.
  auto series = [&](double t, double x, double y) {
    double v = 0;
    for (int64_t n = 0; n < h; ++n)
      for (int64_t m = 0; m < h; ++m)
        v += md.a[n * h + m] * std::cos(md.omega[n * h + m] * t) * std::sin((m + 1) * kPi * x) * std::sin((n + 1) * kPi * y);
    return v;
  };
  const double t_wall = 0.45;  // front of the bump (radius ~ 4 sigma) has reached the walls
  double wall = 0, inside = 0;
  for (double y : {0.3, 0.5, 0.6}) {
    wall = std::max({wall, std::abs(series(t_wall, 0.0, y)), std::abs(series(t_wall, 1.0, y)),
                     std::abs(series(t_wall, y, 0.0))});
    inside = std::max(inside, std::abs(series(t_wall, 0.05, y)));
  }
  EXPECT_LT(wall, 1e-12);
  EXPECT_GT(inside, 1e-3);
  // Finite speed c = 1: the field 0.35 from a narrow bump is still ~0 at t = 0.1 but is reached by t = 0.35.
  const sim::WaveModes nb = sim::wave_modes(s, sim::wave_initial_field({{0.3, 0.5, 0.03, 1.0}}, h).data(), h, 1.0);
  auto at_probe = [&](double t) {  // grid column nearest x = 0.65 on the row nearest y = 0.5
    sim::wave_field(nb, s, t, u.data());
    const int64_t i = std::lround(0.5 * (h + 1)) - 1, j = std::lround(0.65 * (h + 1)) - 1;
    return std::abs(u[i * h + j]);
  };
  EXPECT_LT(at_probe(0.1), 1e-3);
  EXPECT_GT(at_probe(0.35), 2e-2);
}

TEST(WaveDataset, NormalisationFromTheTrainingSplitTruthAndSeeds) {
  json opts = {{"type", "wave2d"}, {"profile", "quick"}, {"n_trajectories", 10}, {"n_train", 6}, {"n_val", 2},
               {"frames", 12}};
  auto ds = make(opts);
  ds.validate("wave2d quick");
  EXPECT_EQ(ds.y.sizes(), (std::vector<int64_t>{10, 12, 1, 32, 32}));
  EXPECT_NEAR(ds.t[5][11].item<double>(), 0.22, 1e-12);
  const double u_max = ds.header.options.at("u_max").get<double>();
  ASSERT_GT(u_max, 0.1);
  EXPECT_EQ(ds.header.options.at("normalisation").get<std::string>(), "clip(0.5 + u/(2 u_max), 0, 1)");
  // With a fixed u_max large enough never to clip, y is affine in u: recover u, check u_max is the 99.9th
  // percentile of |u| over the training trajectories only, and the stored clipped fractions.
  json wide = opts;
  wide["u_max"] = 8.0;
  auto lin = make(wide);
  EXPECT_EQ(lin.header.options.at("clipped_fraction").at("train").get<double>(), 0.0);
  at::Tensor u = (lin.y.to(at::kDouble) - 0.5) * 16.0;
  std::vector<double> train_abs;
  at::Tensor ta = u.slice(0, 0, 6).abs().flatten().contiguous();
  train_abs.assign(ta.data_ptr<double>(), ta.data_ptr<double>() + ta.numel());
  std::sort(train_abs.begin(), train_abs.end());
  const double pos = 0.999 * (train_abs.size() - 1);
  const size_t lo = static_cast<size_t>(pos);
  const double want = train_abs[lo] + (train_abs[lo + 1] - train_abs[lo]) * (pos - lo);
  EXPECT_NEAR(u_max, want, 1e-5 * want);
  for (auto [name, from, to] : {std::make_tuple("train", 0, 6), std::make_tuple("val", 6, 8), std::make_tuple("test", 8, 10)}) {
    const double frac = (u.slice(0, from, to).abs() > u_max).to(at::kDouble).mean().item<double>();
    EXPECT_NEAR(ds.header.options.at("clipped_fraction").at(name).get<double>(), frac, 2e-4) << name;
  }
  EXPECT_NEAR(ds.header.options.at("clipped_fraction").at("train").get<double>(), 1e-3, 3e-4);
  // Re-creating from the header fixes u_max and reproduces the observations exactly.
  EXPECT_TRUE(torch::equal(make(ds.header.options).y, ds.y));
  // Params (padded to 3 bumps) rebuild U0: frame 0 and the modal energy follow from them.
  const int64_t nb = ds.params.at("n_bumps")[4].item<int64_t>();
  ASSERT_TRUE(nb >= 1 && nb <= 3);
  std::vector<sim::WaveBump> bumps;
  for (int64_t q = 0; q < 3; ++q) {
    const double a = ds.params.at("amplitudes")[4][q].item<double>();
    if (q >= nb) {
      EXPECT_EQ(a, 0.0);  // padding
      continue;
    }
    EXPECT_TRUE(std::abs(a) >= 0.5 && std::abs(a) <= 1.0);
    bumps.push_back({ds.params.at("centres")[4][q][0].item<double>(), ds.params.at("centres")[4][q][1].item<double>(),
                     ds.params.at("widths")[4][q].item<double>(), a});
  }
  const std::vector<double> s = sim::wave_sine_matrix(32), u0 = sim::wave_initial_field(bumps, 32);
  const sim::WaveModes md = sim::wave_modes(s, u0.data(), 32, ds.params.at("c")[4].item<double>());
  at::Tensor y0 = ds.y[4][0][0].to(at::kDouble).flatten().contiguous();
  for (int64_t p = 0; p < 32 * 32; ++p)
    ASSERT_NEAR(y0.data_ptr<double>()[p], std::clamp(0.5 + u0[p] / (2 * u_max), 0.0, 1.0), 1e-6);
  at::Tensor e = ds.truth.at("modal_energy")[4];
  EXPECT_NEAR(e[0].item<double>(), sim::wave_modal_energy(md, 0.0), 1e-12 * e[0].item<double>());
  EXPECT_LT((e - e[0]).abs().max().item<double>(), 1e-12 * e[0].item<double>());
  // Determinism and per-trajectory seeds (y depends on u_max, so compare the physics).
  json small = {{"type", "wave2d"}, {"n_trajectories", 4}, {"n_train", 2}, {"n_val", 1}, {"frames", 5},
                {"resolution", 32}, {"irregular", true}, {"c_range", {0.5, 2.0}}};
  auto [a, b] = generate_with_1_and_2_threads(small);
  expect_same_dataset(a, b);
  EXPECT_FALSE(torch::equal(a.t[0], a.t[1]));
  EXPECT_NEAR(a.t[3][4].item<double>(), 0.08, 1e-12);
  EXPECT_TRUE(a.params.at("c").min().item<double>() >= 0.5 && a.params.at("c").max().item<double>() <= 2.0);
  EXPECT_NE(a.params.at("c")[0].item<double>(), a.params.at("c")[1].item<double>());
  small["seed"] = 1546;
  auto c = make(small);
  EXPECT_TRUE(torch::equal(a.truth.at("modal_energy")[1], c.truth.at("modal_energy")[0]));
  EXPECT_TRUE(torch::equal(a.params.at("centres")[1], c.params.at("centres")[0]));
  EXPECT_FALSE(torch::equal(a.params.at("centres")[0], c.params.at("centres")[0]));
}

TEST(WaveDataset, BadOptions) {
  std::string msg = config_error({{"type", "wave2d"}, {"profile", "quck"}});
  EXPECT_TRUE(contains(msg, "unknown profile 'quck'") && contains(msg, "did you mean 'quick'")) << msg;
  msg = config_error({{"type", "wave2d"}, {"resolution", 40}});
  EXPECT_TRUE(contains(msg, "resolution 40") && contains(msg, "hint:")) << msg;
  msg = config_error({{"type", "wave2d"}, {"c_range", {2.0, 1.0}}});
  EXPECT_TRUE(contains(msg, "'c_range' must be a pair [min, max]")) << msg;
  msg = config_error({{"type", "wave2d"}, {"c_range", 1.0}});
  EXPECT_TRUE(contains(msg, "c_range")) << msg;
  msg = config_error({{"type", "wave2d"}, {"n_train", 0}});
  EXPECT_TRUE(contains(msg, "u_max comes from the training split")) << msg;
  msg = config_error({{"type", "wave2d"}, {"u_max", -1.0}});
  EXPECT_TRUE(contains(msg, "u_max -1 must be positive")) << msg;
  msg = config_error({{"type", "wave2d"}, {"u_max", "auto"}});
  EXPECT_TRUE(contains(msg, "bad value for 'u_max'")) << msg;
}
