// SPDX-License-Identifier: MIT
// Pendulum physics (datasets.md §1): energy conservation, small-angle period, integrator accuracy, damping, rendering.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <random>

#include "latdyn/core/error.hpp"
#include "latdyn/sim/pendulum.hpp"
#include "latdyn/sim/time_grid.hpp"

using namespace latdyn;

namespace {
double energy(double th, double om, double g, double l) { return 0.5 * om * om - (g / l) * std::cos(th); }
}  // namespace

TEST(PendulumPhysics, EnergyConservedWithoutDamping) {
  auto times = sim::regular_grid(60, 0.06);
  for (double th0 : {0.3, 2.0, 3.1}) {
    auto p = sim::integrate_pendulum(th0, 1.2, times, 9.81, 1.0, 0.0, 1e-3);
    const double e0 = energy(th0, 1.2, 9.81, 1.0);
    for (size_t k = 0; k < times.size(); ++k)
      EXPECT_NEAR(energy(p.theta[k], p.omega[k], 9.81, 1.0), e0, 1e-8 * std::abs(e0) + 1e-10) << "theta0 " << th0;
  }
}

TEST(PendulumPhysics, EnergyDecreasesWithDamping) {
  auto times = sim::regular_grid(60, 0.06);
  auto p = sim::integrate_pendulum(1.0, 0.0, times, 9.81, 1.0, 0.5, 1e-3);
  for (size_t k = 1; k < times.size(); ++k)
    EXPECT_LE(energy(p.theta[k], p.omega[k], 9.81, 1.0), energy(p.theta[k - 1], p.omega[k - 1], 9.81, 1.0) + 1e-12);
  // damped amplitude decays like exp(-b/(2m) t) for small angles
  auto q = sim::integrate_pendulum(0.01, 0.0, sim::regular_grid(2, 10.0), 9.81, 1.0, 0.5, 1e-3);
  const double env = 0.01 * std::exp(-0.25 * 10.0);
  EXPECT_LE(std::abs(q.theta[1]), 1.05 * env);
}

TEST(PendulumPhysics, SmallAnglePeriod) {
  for (double l : {0.7, 1.0, 1.5}) {
    const double t0 = 2 * M_PI * std::sqrt(l / 9.81);
    auto times = sim::regular_grid(20001, 1e-3 * t0 * 3 / 20);  // three periods, fine output grid
    auto p = sim::integrate_pendulum(1e-3, 0.0, times, 9.81, l, 0.0, 1e-3);
    std::vector<double> up_crossings;  // omega changes sign from - to + : theta at its minimum
    for (size_t k = 1; k < times.size(); ++k)
      if (p.omega[k - 1] < 0 && p.omega[k] >= 0) {
        const double f = -p.omega[k - 1] / (p.omega[k] - p.omega[k - 1]);
        up_crossings.push_back(times[k - 1] + f * (times[k] - times[k - 1]));
      }
    ASSERT_GE(up_crossings.size(), 2u);
    const double period = up_crossings[1] - up_crossings[0];
    EXPECT_NEAR(period / t0, 1.0, 1e-4) << "l = " << l;  // finite-amplitude correction is 6e-8 at 1e-3 rad
  }
}

TEST(PendulumPhysics, Rk4AgreesWithFinerStep) {
  // datasets.md §1.1: against h = 1e-4 the maximum angle error over the horizon is < 1e-6 rad
  auto times = sim::regular_grid(60, 0.06);
  std::mt19937_64 rng(3);
  for (int r = 0; r < 5; ++r) {
    const double th0 = 2 * M_PI * (rng() % 1000) / 1000.0, om0 = -1.5 + 3.0 * (rng() % 1000) / 1000.0;
    auto a = sim::integrate_pendulum(th0, om0, times, 9.81, 1.0, 0.0, 1e-3);
    auto b = sim::integrate_pendulum(th0, om0, times, 9.81, 1.0, 0.0, 1e-4);
    for (size_t k = 0; k < times.size(); ++k) EXPECT_LT(std::abs(a.theta[k] - b.theta[k]), 1e-6);
  }
}

TEST(PendulumRendering, BarGeometry) {
  const int64_t res = 32;
  std::vector<float> img(res * res);
  sim::render_pendulum(0.0, res, 14, 3, img.data());  // hangs straight down from the centre (16, 16)
  double mass = 0;
  for (float v : img) mass += v;
  EXPECT_NEAR(mass, 14.0 * 3.0, 1.5);                // coverage integrates to the bar's area
  EXPECT_FLOAT_EQ(img[24 * res + 16], 1.0f);         // below the pivot: inside
  EXPECT_FLOAT_EQ(img[8 * res + 16], 0.0f);          // above the pivot: outside
  sim::render_pendulum(M_PI / 2, res, 14, 3, img.data());  // positive theta swings the tip to +x
  EXPECT_FLOAT_EQ(img[16 * res + 26], 1.0f);
  EXPECT_FLOAT_EQ(img[16 * res + 6], 0.0f);
  for (float v : img) EXPECT_TRUE(v >= 0.0f && v <= 1.0f);
}

TEST(TimeGrid, IrregularGridRespectsMinimumDistance) {
  std::mt19937_64 rng(11);
  const int64_t m = 60;
  const double t_end = 3.54, min_dist = 0.25 * t_end / (m - 1);
  auto t = sim::irregular_grid(m, t_end, 100 * m, min_dist, rng);
  ASSERT_EQ(static_cast<int64_t>(t.size()), m);
  EXPECT_EQ(t.front(), 0.0);
  EXPECT_EQ(t.back(), t_end);
  for (int64_t k = 1; k < m; ++k) EXPECT_GE(t[k] - t[k - 1], min_dist * (1 - 1e-9));
  EXPECT_THROW(sim::irregular_grid(60, 1.0, 100, 0.5, rng), DataError);
}

TEST(PendulumDataset, ProfilesSplitsAndGroundTruth) {
  auto ds = sim::simulators().create(json{{"type", "pendulum"}, {"profile", "quick"}})->generate();
  EXPECT_EQ(ds.size(), 50);
  EXPECT_EQ(ds.indices(data::Split::kTrain).size(0), 40);
  EXPECT_EQ(ds.indices(data::Split::kVal).size(0), 5);
  EXPECT_EQ(ds.y.sizes(), (std::vector<int64_t>{50, 60, 1, 32, 32}));
  EXPECT_NEAR(ds.t[3][59].item<double>(), 3.54, 1e-12);
  EXPECT_EQ(ds.truth.at("theta").sizes(), (std::vector<int64_t>{50, 60}));
  ds.validate("test");
  auto irr = sim::simulators().create(json{{"type", "pendulum"}, {"profile", "quick"}, {"irregular", true}})->generate();
  EXPECT_FALSE(torch::allclose(irr.t[0], irr.t[1]));  // per-trajectory grids
  auto big = sim::simulators().create(json{{"type", "pendulum"}, {"n_trajectories", 2}, {"n_train", 1}, {"n_val", 0},
                                           {"resolution", 64}, {"frames", 3}})->generate();
  EXPECT_EQ(big.y.size(4), 64);
  EXPECT_THROW(sim::simulators().create(json{{"type", "pendulum"}, {"resolution", 40}}), ConfigError);
  EXPECT_THROW(sim::simulators().create(json{{"type", "pendulum"}, {"profle", "quick"}}), ConfigError);
}
