// SPDX-License-Identifier: MIT
// PDE benchmark systems (datasets.md §5–§7): λ–ω limit cycle, linear mode rates and spiral far field; Navier–Stokes
// viscous decay of a single mode, divergence-free velocity, GRF spectrum and resolution consistency; lattice
// Boltzmann equilibrium, conservation, wall and inlet rules and the Re 100 Strouhal number; generator determinism,
// normalisation records and option errors.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <complex>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "latdyn/core/error.hpp"
#include "latdyn/core/log.hpp"
#include "latdyn/sim/lambda_omega.hpp"
#include "latdyn/sim/lbm_cylinder.hpp"
#include "latdyn/sim/navier_stokes.hpp"
#include "support.hpp"

using namespace latdyn;

namespace {

constexpr double kPi = 3.14159265358979323846;

/// Runs `make` and expects a ConfigError whose text contains every fragment.
template <typename F>
void expect_config_error(F&& make, const std::vector<std::string>& fragments) {
  try {
    make();
    ADD_FAILURE() << "no ConfigError; expected one mentioning " << fragments.front();
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    for (const auto& f : fragments) EXPECT_NE(what.find(f), std::string::npos) << "'" << f << "' not in: " << what;
    EXPECT_FALSE(e.hint().empty()) << what;
  }
}

bool same(const at::Tensor& a, const at::Tensor& b) { return a.sizes() == b.sizes() && at::equal(a, b); }

void expect_same_dataset(const data::Dataset& a, const data::Dataset& b) {
  EXPECT_TRUE(same(a.y, b.y));
  EXPECT_TRUE(same(a.t, b.t));
  EXPECT_TRUE(same(a.split, b.split));
  ASSERT_EQ(a.truth.size(), b.truth.size());
  ASSERT_EQ(a.params.size(), b.params.size());
  for (const auto& [k, v] : a.truth) EXPECT_TRUE(same(v, b.truth.at(k))) << "truth/" << k;
  for (const auto& [k, v] : a.params) EXPECT_TRUE(same(v, b.params.at(k))) << "params/" << k;
  EXPECT_EQ(a.header.options, b.header.options);
}

}  // namespace

// ------------------------------------------------------------------------------------------------ λ–ω (§5)

TEST(LambdaOmegaPhysics, HomogeneousLimitCycleRotatesAtBeta) {
  // r = 1 everywhere: u_t = β v, v_t = −β u, so (u, v) = (cos βt, −sin βt) and the period is 2π/β (§5.1).
  const int64_t n = 8;
  for (double beta : {1.0, 1.7}) {
    sim::LambdaOmegaSolver s(n, 0.5, beta, 0.1, 0.1);
    std::vector<double> u(n * n, 1.0), v(n * n, 0.0);
    const double t = 2.0 * kPi / beta * 0.8;
    s.advance(u.data(), v.data(), t, 0.01);
    for (int64_t p = 0; p < n * n; ++p) {
      EXPECT_NEAR(u[p], std::cos(beta * t), 1e-8) << "beta " << beta;
      EXPECT_NEAR(v[p], -std::sin(beta * t), 1e-8) << "beta " << beta;
      EXPECT_NEAR(u[p] * u[p] + v[p] * v[p], 1.0, 2e-8);  // RK4 error of the attracting circle
    }
  }
}

TEST(LambdaOmegaPhysics, LinearisedFourierModeFollowsDiscreteRate) {
  // Near u = v = 0 the reaction is the identity (r² = O(ε²)): a mode ε cos(2πk x/L) grows like exp((1 + d λ) t),
  // λ = −(4/dx²) sin²(πk/n) the 5-point Laplacian's eigenvalue; u along x with d1, v along y with d2.
  const int64_t n = 32, k = 3;
  const double domain = 20.0, dx = domain / n, eps = 1e-7, d1 = 2.0, d2 = 0.2, t = 1.0;
  sim::LambdaOmegaSolver s(n, dx, 1.0, d1, d2);
  std::vector<double> u(n * n), v(n * n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      u[i * n + j] = eps * std::cos(2.0 * kPi * k * j / n);
      v[i * n + j] = eps * std::sin(2.0 * kPi * k * i / n);
    }
  const auto u0 = u, v0 = v;
  s.advance(u.data(), v.data(), t, 0.01);
  const double lam = -4.0 / (dx * dx) * std::pow(std::sin(kPi * k / n), 2);
  const double gu = std::exp((1.0 + d1 * lam) * t), gv = std::exp((1.0 + d2 * lam) * t);
  ASSERT_LT(1.0 + d1 * lam, 0.0);  // the u mode decays, the v mode grows: both rates are exercised
  ASSERT_GT(1.0 + d2 * lam, 0.0);
  for (int64_t p = 0; p < n * n; ++p) {
    EXPECT_NEAR(u[p], gu * u0[p], 1e-6 * eps);
    EXPECT_NEAR(v[p], gv * v0[p], 1e-6 * eps);
  }
}

TEST(LambdaOmegaPhysics, SpiralFarFieldAndPhasePeriod) {
  // §5.3 check on one trajectory of the recipe: far from the core r² ≈ 1, and the phase of u + iv at a fixed far
  // point rotates with a period within 20 % of 2π/β.
  auto ds = sim::LambdaOmega(sim::LambdaOmegaOptions::from_json(
                                 {{"n_trajectories", 1}, {"n_train", 1}, {"n_val", 0}, {"store_full_fields", true}}))
                .generate();
  const at::Tensor full = ds.truth.at("uv_full");  // [1, 50, 2, 128, 128]
  ASSERT_EQ(full.sizes(), (at::IntArrayRef{1, 50, 2, 128, 128}));
  const double xc = ds.params.at("x_c").item<double>(), yc = ds.params.at("y_c").item<double>();
  // A point 5 units from the core (the periodic images of the spiral meet near 10 units, where a second, topologically
  // required defect sits).
  auto index = [](double c) { return (static_cast<int64_t>(std::lround((c + 10.0) / 0.15625)) + 128) % 128; };
  const int64_t jx = index(xc + 5.0), iy = index(yc);
  std::vector<double> phase;
  for (int64_t k = 0; k < 50; ++k) {
    const double u = full[0][k][0][iy][jx].item<double>(), v = full[0][k][1][iy][jx].item<double>();
    EXPECT_NEAR(u * u + v * v, 1.0, 0.15) << "frame " << k;
    double ph = std::atan2(v, u);
    if (!phase.empty())
      while (ph - phase.back() > kPi) ph -= 2 * kPi;
    if (!phase.empty())
      while (ph - phase.back() < -kPi) ph += 2 * kPi;
    phase.push_back(ph);
  }
  const double omega = std::abs(phase.back() - phase.front()) / (49 * 0.2);
  EXPECT_NEAR(2 * kPi / omega, 2 * kPi, 0.2 * 2 * kPi) << "rotation rate " << omega;
}

TEST(LambdaOmegaGenerator, DeterministicBlockAverageAndFixedMap) {
  const json opts = {{"n_trajectories", 3}, {"n_train", 1}, {"n_val", 1}, {"frames", 4}, {"grid", 32},
                     {"resolution", 16}, {"channels", 2}, {"store_full_fields", true}, {"t_burn_min", 0.1},
                     {"t_burn_max", 0.2}};
  auto make = [&](json extra) {
    json j = opts;
    if (!extra.is_null()) j.update(extra);
    return sim::LambdaOmega(sim::LambdaOmegaOptions::from_json(j)).generate();
  };
  auto a = make({}), b = make({});
  expect_same_dataset(a, b);
  EXPECT_FALSE(same(a.y, make({{"seed", 7}}).y));
  ASSERT_EQ(a.y.sizes(), (at::IntArrayRef{3, 4, 2, 16, 16}));
  EXPECT_EQ(a.split[0].item<int>(), 0);
  EXPECT_EQ(a.split[1].item<int>(), 1);
  EXPECT_EQ(a.split[2].item<int>(), 2);
  EXPECT_NEAR(a.t[0][3].item<double>(), 0.6, 1e-12);
  // y = clip((block average + 1)/2): row 0 is the top (largest y), so image row a holds sim rows 30-2a, 31-2a.
  const at::Tensor full = a.truth.at("uv_full").to(at::kDouble);  // [3, 4, 2, 32, 32]
  for (int64_t c = 0; c < 2; ++c)
    for (int64_t ai : {0, 5, 15})
      for (int64_t bj : {0, 7, 15}) {
        const int64_t i0 = 30 - 2 * ai;
        const double avg = full[2][3][c].slice(0, i0, i0 + 2).slice(1, 2 * bj, 2 * bj + 2).mean().item<double>();
        EXPECT_NEAR(a.y[2][3][c][ai][bj].item<double>(), std::clamp((avg + 1.0) / 2.0, 0.0, 1.0), 1e-6);
      }
  const json norm = a.header.options.at("normalization");
  EXPECT_EQ(norm.at("type"), "fixed");
  EXPECT_GE(norm.at("clipped_fraction").at("train").get<double>(), 0.0);
  EXPECT_GE(a.y.min().item<float>(), 0.0f);
  EXPECT_LE(a.y.max().item<float>(), 1.0f);
  EXPECT_NO_THROW(a.validate("lambda_omega"));
  EXPECT_NO_THROW(sim::simulators().create(a.header.options));  // the header (with normalization) parses back
  // Irregular option: M times from the dt/4 grid, first 0 and last T.
  auto irr = make({{"irregular", true}, {"frames", 6}, {"store_full_fields", false}});
  for (int64_t r = 0; r < 3; ++r) {
    EXPECT_DOUBLE_EQ(irr.t[r][0].item<double>(), 0.0);
    EXPECT_NEAR(irr.t[r][5].item<double>(), 1.0, 1e-12);
    for (int64_t k = 0; k < 6; ++k) {
      const double q = irr.t[r][k].item<double>() / 0.05;
      EXPECT_NEAR(q, std::round(q), 1e-9);
    }
  }
  // The irregular frames are frames of the same (regular) trajectory: frame at t = 0 matches.
  auto reg = make({{"frames", 6}, {"store_full_fields", false}});
  EXPECT_TRUE(at::equal(irr.y.select(1, 0), reg.y.select(1, 0)));
}

TEST(LambdaOmegaGenerator, BadOptionsNameTheOption) {
  using O = sim::LambdaOmegaOptions;
  expect_config_error([] { O::from_json({{"resolution", 48}}); }, {"resolution"});
  expect_config_error([] { O::from_json({{"arms", 3}}); }, {"arms"});
  expect_config_error([] { O::from_json({{"betta", 1.0}}); }, {"betta", "did you mean 'beta'"});
  expect_config_error([] { O::from_json({{"profile", "quik"}}); }, {"quik", "did you mean 'quick'"});
  expect_config_error([] { O::from_json({{"dt_sim", 0.5}}); }, {"dt_sim", "reduce dt_sim"});
  const auto q = O::from_json({{"profile", "quick"}});
  EXPECT_EQ(q.n_trajectories, 50);
  EXPECT_EQ(q.resolution, 32);
  EXPECT_EQ(O::from_json(q.to_json()).to_json(), q.to_json());
}

// ------------------------------------------------------------------------------------------------ Navier–Stokes (§6)

TEST(NavierStokesPhysics, SingleModeDecaysAtViscousRate) {
  // One Fourier mode has u·∇w ≡ 0, so without forcing w(t) = exp(−4π²ν|k|² t) w(0) exactly (integrating factor).
  const int64_t n = 32;
  const double nu = 0.01, dt = 2.5e-3;
  sim::NavierStokesSolver s(n, nu, dt, 0.0);
  const std::vector<std::array<int, 2>> modes = {{2, 3}, {-1, 4}, {5, 0}};
  at::Tensor w = at::empty({3, n, n}, at::kDouble);
  for (int64_t b = 0; b < 3; ++b)
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j)
        w[b][i][j] = std::cos(2 * kPi * (modes[b][0] * j + modes[b][1] * i) / n + 0.3);
  at::Tensor wh = s.to_spectral(w);
  at::Tensor f;
  s.rhs(wh, f);
  EXPECT_LT(f.abs().max().item<double>(), 1e-9 * wh.abs().max().item<double>());  // nonlinear term vanishes
  const int steps = 200;
  for (int k = 0; k < steps; ++k) s.step(wh);
  const at::Tensor w1 = s.to_physical(wh);
  for (int64_t b = 0; b < 3; ++b) {
    const double k2 = modes[b][0] * modes[b][0] + modes[b][1] * modes[b][1];
    const double decay = std::exp(-4 * kPi * kPi * nu * k2 * steps * dt);
    ASSERT_LT(decay, 0.95);
    EXPECT_LT((w1[b] - decay * w[b]).abs().max().item<double>(), 1e-12) << "mode " << b;
  }
}

TEST(NavierStokesPhysics, VelocityIsDivergenceFreeAndItsCurlIsTheVorticity) {
  const int64_t n = 32;
  sim::NavierStokesSolver s(n, 1e-3, 2.5e-3, 0.1);
  at::Tensor w = sim::gaussian_random_field(n, 2.5, 7.0, 11).unsqueeze(0);
  EXPECT_LT(std::abs(w.mean().item<double>()), 1e-12);  // the k = 0 mode is zero
  at::Tensor wh = s.to_spectral(w);
  for (int k = 0; k < 20; ++k) s.step(wh);  // a state shaped by the dynamics
  // Without its Nyquist row and column (whose derivatives a real field cannot carry), ŵ is reproduced exactly.
  at::Tensor wn = wh.clone();
  wn.select(1, n / 2).zero_();
  wn.select(2, n / 2).zero_();
  auto [u, v] = s.velocity(wn);
  // Spectral derivatives of the physical fields, Nyquist wavenumbers dropped (a real field has no derivative there).
  at::Tensor kx = at::arange(n / 2 + 1, at::kDouble).mul(2 * kPi);
  at::Tensor ky = at::fft_fftfreq(n, 1.0 / n, at::kDouble).mul(2 * kPi);
  kx[n / 2] = 0, ky[n / 2] = 0;
  const auto ikx = at::complex(at::zeros_like(kx), kx).view({1, 1, n / 2 + 1});
  const auto iky = at::complex(at::zeros_like(ky), ky).view({1, n, 1});
  auto deriv = [&](const at::Tensor& f, const at::Tensor& ik) {
    return at::fft_irfft2(at::fft_rfft2(f) * ik, at::IntArrayRef{n, n});
  };
  const at::Tensor div = deriv(u, ikx) + deriv(v, iky);
  const double umax = at::maximum(u.abs().max(), v.abs().max()).item<double>();
  ASSERT_GT(umax, 1e-3);
  EXPECT_LT(div.abs().max().item<double>(), 1e-12 * umax * n);
  // ∂_x v − ∂_y u = w (u = (∂_y ψ, −∂_x ψ), −Δψ = w).
  const at::Tensor curl = deriv(v, ikx) - deriv(u, iky), wphys = s.to_physical(wn);
  EXPECT_LT((curl - wphys).abs().max().item<double>(), 1e-10 * wphys.abs().max().item<double>());
  EXPECT_LT(std::abs(s.to_physical(wh).mean().item<double>()), 1e-12);  // the mean vorticity stays 0
}

TEST(NavierStokesPhysics, GaussianRandomFieldSpectrum) {
  // E|ŵ_k|² = n⁴ · 2σ² λ_k^{−α} (rfft2 is unnormalised): check the shell averages and the log-log slope −α.
  const int64_t n = 32, samples = 64;
  const double alpha = 2.5, tau = 7.0, sigma = std::pow(tau, alpha - 1.0);
  std::vector<double> power(n / 2, 0.0), expect(n / 2, 0.0), count(n / 2, 0.0);
  for (int64_t s = 0; s < samples; ++s) {
    const at::Tensor wh = at::fft_rfft2(sim::gaussian_random_field(n, alpha, tau, 100 + s));
    const auto acc = wh.abs().pow(2);
    for (int64_t a = 0; a < n; ++a) {
      const int64_t ky = a < n / 2 ? a : a - n;
      for (int64_t kx = 1; kx < n / 2; ++kx) {  // kx >= 1: each ±k pair once; Nyquist excluded
        if (a == n / 2) continue;
        const double kk = std::sqrt(static_cast<double>(kx * kx + ky * ky));
        const int64_t shell = static_cast<int64_t>(std::lround(kk));
        if (shell < 1 || shell >= n / 2) continue;
        const double lam = 4 * kPi * kPi * (kx * kx + ky * ky) + tau * tau;
        power[shell] += acc[a][kx].item<double>();
        expect[shell] += std::pow(static_cast<double>(n), 4) * 2 * sigma * sigma * std::pow(lam, -alpha);
        count[shell] += 1;
      }
    }
  }
  double sx = 0, sy = 0, sxx = 0, sxy = 0, m = 0;
  for (int64_t sh = 2; sh < n / 2; ++sh) {
    EXPECT_NEAR(power[sh] / expect[sh], 1.0, 0.15) << "shell " << sh;
    const double x = std::log(4 * kPi * kPi * sh * sh + tau * tau), y = std::log(power[sh] / count[sh]);
    sx += x, sy += y, sxx += x * x, sxy += x * y, m += 1;
  }
  const double slope = (m * sxy - sx * sy) / (m * sxx - sx * sx);
  EXPECT_NEAR(slope, -alpha, 0.1);
  // Ring-ordered draws: the low modes of a 64-grid field equal those of the 32-grid field with the same seed.
  const at::Tensor c32 = at::fft_rfft2(sim::gaussian_random_field(32, alpha, tau, 5)) / (32.0 * 32.0);
  const at::Tensor c64 = at::fft_rfft2(sim::gaussian_random_field(64, alpha, tau, 5)) / (64.0 * 64.0);
  const at::Tensor low32 = c32.slice(0, 0, 15).slice(1, 0, 15), low64 = c64.slice(0, 0, 15).slice(1, 0, 15);
  EXPECT_LT((low32 - low64).abs().max().item<double>(), 1e-12);
}

TEST(NavierStokesPhysics, ResolutionsAgreeAndMeanStaysZero) {
  // §6 check in small: the same seed on a 32 and a 64 grid (same physics, forcing on) agrees at t = 1 to < 5 %.
  const double nu = 1e-3, dt = 2.5e-3;
  sim::NavierStokesSolver s32(32, nu, dt, 0.1), s64(64, nu, dt, 0.1);
  at::Tensor a = s32.to_spectral(sim::gaussian_random_field(32, 2.5, 7.0, 3).unsqueeze(0));
  at::Tensor b = s64.to_spectral(sim::gaussian_random_field(64, 2.5, 7.0, 3).unsqueeze(0));
  for (int k = 0; k < 400; ++k) s32.step(a), s64.step(b);
  const at::Tensor wa = s32.to_physical(a), wb = s64.to_physical(b).slice(1, 0, 64, 2).slice(2, 0, 64, 2);
  const double rel = (wa - wb).norm().item<double>() / wb.norm().item<double>();
  EXPECT_LT(rel, 0.05);
  EXPECT_LT(std::abs(wb.mean().item<double>()), 1e-12);
}

TEST(NavierStokesGenerator, DeterministicBatchIndependentAndNormalised) {
  const json opts = {{"n_trajectories", 4}, {"n_train", 2}, {"n_val", 1}, {"frames", 2}, {"grid", 16},
                     {"resolution", 16}, {"dt", 0.05}, {"dt_sim", 0.0125}, {"batch_size", 3}};
  auto make = [&](json extra) {
    json j = opts;
    if (!extra.is_null()) j.update(extra);
    return sim::NavierStokes(sim::NavierStokesOptions::from_json(j)).generate();
  };
  auto a = make({}), b = make({{"batch_size", 1}});
  b.header.options["batch_size"] = 3;  // the only difference allowed
  expect_same_dataset(a, b);
  EXPECT_FALSE(same(a.y, make({{"seed", 9}}).y));
  ASSERT_EQ(a.y.sizes(), (at::IntArrayRef{4, 2, 1, 16, 16}));
  EXPECT_NEAR(a.t[3][0].item<double>(), 0.05, 1e-12);
  EXPECT_NEAR(a.t[3][1].item<double>(), 0.10, 1e-12);
  EXPECT_EQ(a.params.at("grf_seed")[2].item<int64_t>(), 1547);
  // params/w0 is the GRF of seed base + r, sampled with row 0 at the top.
  const at::Tensor g = sim::gaussian_random_field(16, 2.5, 7.0, 1545 + 2);
  EXPECT_NEAR(a.params.at("w0")[2][0][5].item<double>(), g[15][5].item<double>(), 1e-6);
  EXPECT_NEAR(a.params.at("w0")[2][15][3].item<double>(), g[0][3].item<double>(), 1e-6);
  const json norm = a.header.options.at("normalization");
  const double w_max = norm.at("scale")[0].get<double>();
  EXPECT_GT(w_max, 0.0);
  // w_max is the 99.9th percentile (linear interpolation) of the 1024 training values |w|: rank 1021.98 of 0..1023,
  // so exactly the one or two values above it are clipped to 0 or 1.
  const at::Tensor train_y = a.y.slice(0, 0, 2);
  const int64_t clipped = ((train_y == 0) | (train_y == 1)).sum().item<int64_t>();
  EXPECT_GE(clipped, 1);
  EXPECT_LE(clipped, 2);
  EXPECT_DOUBLE_EQ(norm.at("clipped_fraction").at("train").get<double>(), clipped / 1024.0);
  const at::Tensor e = a.truth.at("energy"), z = a.truth.at("enstrophy");
  EXPECT_EQ(e.sizes(), (at::IntArrayRef{4, 2}));
  EXPECT_GT(z.min().item<double>(), 0.0);
  EXPECT_NO_THROW(a.validate("navier_stokes"));
  EXPECT_NO_THROW(sim::simulators().create(a.header.options));
  // A fixed scale replaces the percentile.
  EXPECT_DOUBLE_EQ(make({{"w_max", 40.0}}).header.options.at("normalization").at("scale")[0].get<double>(), 40.0);
}

TEST(NavierStokesGenerator, CflViolationAbortsWithHint) {
  try {
    sim::NavierStokes(sim::NavierStokesOptions::from_json({{"n_trajectories", 1}, {"n_train", 1}, {"n_val", 0},
                                                           {"frames", 2}, {"grid", 32}, {"resolution", 32},
                                                           {"dt", 0.5}, {"dt_sim", 0.5}}))
        .generate();
    ADD_FAILURE() << "no NumericalError for CFL > 0.5";
  } catch (const NumericalError& e) {
    EXPECT_NE(std::string(e.what()).find("CFL"), std::string::npos) << e.what();
    EXPECT_NE(e.hint().find("reduce dt_sim"), std::string::npos) << e.what();
  }
}

TEST(NavierStokesGenerator, BadOptionsNameTheOption) {
  using O = sim::NavierStokesOptions;
  expect_config_error([] { O::from_json({{"resolution", 128}, {"grid", 64}}); }, {"resolution 128", "grid 64"});
  expect_config_error([] { O::from_json({{"dt", 1.0}, {"dt_sim", 0.3}}); }, {"dt_sim", "whole number"});
  expect_config_error([] { O::from_json({{"viscosity", 1e-4}}); }, {"viscosity"});
  expect_config_error([] { O::from_json({{"profile", "quik"}}); }, {"did you mean 'quick'"});
  expect_config_error([] { O::from_json({{"batch_size", 0}}); }, {"batch_size"});
  const auto q = O::from_json({{"profile", "quick"}});
  EXPECT_EQ(q.grid, 64);
  EXPECT_EQ(q.n_trajectories, 50);
  EXPECT_EQ(O::from_json(q.to_json()).to_json(), q.to_json());
}

// ------------------------------------------------------------------------------------------------ cylinder LBM (§7)

TEST(LbmPhysics, EquilibriumIsAFixedPointOfCollision) {
  const double tau = 0.519, op = 1 / tau, om = 1 / (0.5 + 0.25 / (tau - 0.5));
  for (auto [rho, ux, uy] : {std::array<double, 3>{1.0, 0.04, 0.0}, {0.97, -0.03, 0.05}, {1.2, 0.1, -0.08}}) {
    double feq[9], out[9], j[3] = {0, 0, 0};
    sim::lbm_equilibrium(rho, ux, uy, feq);
    for (int i = 0; i < 9; ++i) j[0] += feq[i], j[1] += sim::kD2Q9Cx[i] * feq[i], j[2] += sim::kD2Q9Cy[i] * feq[i];
    EXPECT_NEAR(j[0], rho, 1e-15);
    EXPECT_NEAR(j[1], rho * ux, 1e-15);
    EXPECT_NEAR(j[2], rho * uy, 1e-15);
    sim::lbm_collide(feq, out, op, om);
    for (int i = 0; i < 9; ++i) EXPECT_NEAR(out[i], feq[i], 1e-15) << "direction " << i;
    // A non-equilibrium state: collision keeps ρ and ρu and relaxes towards f^eq.
    double f[9], g[9], k[3] = {0, 0, 0};
    for (int i = 0; i < 9; ++i) f[i] = feq[i] * (1.0 + 0.05 * std::sin(3.0 * i + 1.0));
    double m0 = 0, mx = 0, my = 0;
    for (int i = 0; i < 9; ++i) m0 += f[i], mx += sim::kD2Q9Cx[i] * f[i], my += sim::kD2Q9Cy[i] * f[i];
    sim::lbm_collide(f, g, op, om);
    for (int i = 0; i < 9; ++i) k[0] += g[i], k[1] += sim::kD2Q9Cx[i] * g[i], k[2] += sim::kD2Q9Cy[i] * g[i];
    EXPECT_NEAR(k[0], m0, 1e-14);
    EXPECT_NEAR(k[1], mx, 1e-14);
    EXPECT_NEAR(k[2], my, 1e-14);
  }
}

TEST(LbmPhysics, MassAndMomentumConservedInClosedBoxes) {
  const int64_t nx = 48, ny = 24;
  auto run = [&](bool periodic_y, bool cylinder, auto tag) -> std::array<double, 3> {
    using T = decltype(tag);
    sim::LbmGeometry geo;
    geo.nx = nx, geo.ny = ny, geo.channel = false, geo.periodic_y = periodic_y;
    geo.solid = cylinder ? sim::cylinder_mask(nx, ny, 16, 12, 4) : std::vector<uint8_t>(nx * ny, 0);
    sim::LbmLattice<T> lat(geo, 1 / 0.52, 1 / (0.5 + 0.25 / 0.02), 0.04);
    std::vector<double> rho(nx * ny), ux(nx * ny), uy(nx * ny);
    for (int64_t y = 0; y < ny; ++y)
      for (int64_t x = 0; x < nx; ++x) {
        rho[y * nx + x] = 1.0 + 0.01 * std::sin(2 * kPi * x / nx);
        ux[y * nx + x] = 0.04 + 0.01 * std::cos(2 * kPi * y / ny);
        uy[y * nx + x] = 0.02 * std::sin(2 * kPi * (x + y) / nx);
      }
    lat.init(rho, ux, uy);
    const double m0 = lat.total_mass();
    std::vector<double> r, a, b;
    lat.moments(r, a, b);
    double px0 = 0;
    for (int64_t p = 0; p < nx * ny; ++p) px0 += r[p] * a[p];
    for (int s = 0; s < 300; ++s)
      if (!lat.step(0.15)) {
        ADD_FAILURE() << "unstable at step " << s;
        break;
      }
    lat.moments(r, a, b);
    double px = 0;
    for (int64_t p = 0; p < nx * ny; ++p) px += r[p] * a[p];
    return std::array<double, 3>{m0, lat.total_mass(), std::abs(px - px0)};
  };
  for (bool py : {false, true}) {
    const auto d = run(py, true, double());
    EXPECT_NEAR(d[1] / d[0], 1.0, 1e-13) << "double, periodic_y " << py;
    const auto f = run(py, true, float());
    EXPECT_NEAR(f[1] / f[0], 1.0, 1e-6) << "float, periodic_y " << py;  // measured 1-2e-7: float round-off
  }
  // Fully periodic, no obstacle: the total x-momentum is conserved too (streaming is a permutation).
  EXPECT_LT(run(true, false, double())[2], 1e-11);
}

TEST(LbmPhysics, FreeSlipWallsKeepUniformFlowAndInletImposesVelocity) {
  const int64_t nx = 40, ny = 16;
  sim::LbmGeometry geo;
  geo.nx = nx, geo.ny = ny, geo.channel = false, geo.periodic_y = false;
  geo.solid.assign(nx * ny, 0);
  // Uniform flow along free-slip walls is steady (no wall shear); no-slip walls would slow the rows next to them.
  sim::LbmLattice<double> box(geo, 1 / 0.52, 1 / 0.52, 0.04);
  std::vector<double> rho(nx * ny, 1.0), ux(nx * ny, 0.04), uy(nx * ny, 0.0), r, a, b;
  box.init(rho, ux, uy);
  for (int s = 0; s < 200; ++s) ASSERT_TRUE(box.step(0.15));
  box.moments(r, a, b);
  for (int64_t p = 0; p < nx * ny; ++p) {
    EXPECT_NEAR(a[p], 0.04, 1e-14);
    EXPECT_NEAR(b[p], 0.0, 1e-14);
  }
  // Channel from rest: the Zou–He inlet column carries exactly u = (U, 0) (§7.2 step 3).
  geo.channel = true;
  sim::LbmLattice<double> ch(geo, 1 / 0.52, 1 / (0.5 + 0.25 / 0.02), 0.04);
  std::fill(ux.begin(), ux.end(), 0.0);
  ch.init(rho, ux, uy);
  for (int s = 0; s < 100; ++s) ASSERT_TRUE(ch.step(0.15));
  ch.moments(r, a, b);
  for (int64_t y = 0; y < ny; ++y) {
    EXPECT_NEAR(a[y * nx], 0.04, 1e-13);
    EXPECT_NEAR(b[y * nx], 0.0, 1e-13);
  }
  EXPECT_GT(a[(ny / 2) * nx + nx / 2], 0.0);  // the inflow has entered the channel
}

TEST(LbmCylinder, StrouhalNumberAtRe100) {
  // A reduced run with the recipe's blockage D/ny = 0.22 and Mach number: r = 8 on 168 x 72, U = 0.04, 60 units of
  // burn-in and 40 recorded (§7.4 check; the recipe lattice gives St 0.215 in the same solver).
  const auto t0 = std::chrono::steady_clock::now();
  auto o = sim::CylinderLbmOptions::from_json({{"nx", 168}, {"ny", 72}, {"radius", 8.0}, {"re", 100.0},
                                               {"burn_in", 60.0}, {"recorded_frames", 80}, {"frames", 50},
                                               {"windows_per_run", 1}, {"resolution", 32}});
  const auto run = sim::simulate_cylinder_run(o, 0);  // checks on: a non-stationary probe would throw
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double lo = 1e9, hi = -1e9;
  for (double p : run.probe) lo = std::min(lo, p), hi = std::max(hi, p);
  EXPECT_GT(hi - lo, 0.2) << "the wake does not shed";
  EXPECT_NEAR(run.strouhal, 0.2, 0.03);
  EXPECT_LE(run.burn_amplitude_change, 0.05);
  // The lift oscillates at the shedding frequency.
  EXPECT_NEAR(sim::dominant_frequency(run.cl, o.dt, 0.05), run.strouhal, 0.02);
  std::cout << "[ info     ] Re 100 reduced run: St " << run.strouhal << ", probe amplitude " << 0.5 * (hi - lo)
            << ", " << secs << " s\n";
}

TEST(LbmCylinder, ChecksFailLoudlyOrWarn) {
  // Two units of burn-in: the wake has not started shedding, so the §7.4 checks fail.
  const json opts = {{"nx", 96}, {"ny", 32}, {"radius", 4.0}, {"burn_in", 2.0}, {"recorded_frames", 12},
                     {"frames", 4}, {"windows_per_run", 1}, {"resolution", 16}};
  try {
    sim::simulate_cylinder_run(sim::CylinderLbmOptions::from_json(opts), 0);
    ADD_FAILURE() << "no NumericalError from the checks";
  } catch (const NumericalError& e) {
    EXPECT_NE(e.hint().find("checks=false"), std::string::npos) << e.what();
  }
  std::vector<std::string> warnings;
  auto previous = log::set_sink([&](log::Level level, const std::string& msg) {
    if (level == log::Level::kWarn) warnings.push_back(msg);
  });
  json lax = opts;
  lax["checks"] = false;
  EXPECT_NO_THROW(sim::simulate_cylinder_run(sim::CylinderLbmOptions::from_json(lax), 0));
  log::set_sink(previous);
  EXPECT_FALSE(warnings.empty());
}

TEST(LbmCylinder, GeneratorWindowsSplitsShiftAndDeterminism) {
  test::AllowWarnings allow;  // a 2-unit burn-in does not shed: the §7.4 checks warn (checks = false)
  const json opts = {{"nx", 96}, {"ny", 32}, {"radius", 4.0}, {"burn_in", 2.0}, {"recorded_frames", 12},
                     {"frames", 4}, {"windows_per_run", 3}, {"runs", 3}, {"train_runs", 1}, {"val_runs", 1},
                     {"resolution", 16}, {"checks", false}};
  auto make = [&](json extra) {
    json j = opts;
    if (!extra.is_null()) j.update(extra);
    return sim::CylinderLbm(sim::CylinderLbmOptions::from_json(j)).generate();
  };
  auto a = make({}), b = make({});
  expect_same_dataset(a, b);
  ASSERT_EQ(a.y.sizes(), (at::IntArrayRef{9, 4, 1, 16, 16}));
  for (int64_t r = 0; r < 9; ++r) {
    EXPECT_EQ(a.split[r].item<int>(), r / 3) << "split by run";
    EXPECT_EQ(a.params.at("run")[r].item<int64_t>(), r / 3);
    EXPECT_NEAR(a.t[r][3].item<double>(), 1.5, 1e-12);  // relative times 0, 0.5, ...
  }
  for (int64_t run = 0; run < 3; ++run) {  // distinct start steps inside each run, on the frame grid
    std::set<int64_t> starts;
    for (int64_t w = 0; w < 3; ++w) {
      const int64_t s = a.params.at("start_step")[run * 3 + w].item<int64_t>();
      starts.insert(s);
      EXPECT_EQ((s - 2 * 8 * 25) % (8 * 25 / 2), 0);  // burn-in 2 units = 400 steps, frames every 100 steps
    }
    EXPECT_EQ(starts.size(), 3u);
  }
  EXPECT_NEAR(a.params.at("tau")[0].item<double>(), 3 * 0.04 * 8 / 100 + 0.5, 1e-12);
  EXPECT_GE(a.y.min().item<float>(), 0.0f);
  EXPECT_LE(a.y.max().item<float>(), 1.0f);
  const json norm = a.header.options.at("normalization");
  EXPECT_GT(norm.at("scale")[0].get<double>(), 0.0);
  EXPECT_TRUE(a.header.options.at("strouhal").contains("runs"));
  EXPECT_NO_THROW(a.validate("cylinder_lbm"));
  EXPECT_NO_THROW(sim::simulators().create(a.header.options));
  // Shift (§7.4 intervention): y_c moves by 0.25 D, the crop stays, so the images change.
  auto s = make({{"cylinder_shift", {0.0, 0.25}}});
  EXPECT_NEAR(s.params.at("y_c")[0].item<double>(), 16 + 2.0, 1e-12);
  EXPECT_NEAR(s.params.at("x_c")[0].item<double>(), 24.0, 1e-12);
  EXPECT_FALSE(same(a.y, s.y));
  // Velocity channels: C = 2 with one scale per channel.
  auto v = make({{"channels", "velocity"}, {"runs", 1}, {"train_runs", 1}, {"val_runs", 0}});
  EXPECT_EQ(v.y.size(2), 2);
  EXPECT_EQ(v.header.options.at("normalization").at("scale").size(), 2u);
}

TEST(LbmCylinder, BadOptionsNameTheOption) {
  using O = sim::CylinderLbmOptions;
  expect_config_error([] { O::from_json({{"walls", "free-slip"}}); }, {"walls", "did you mean 'free_slip'"});
  expect_config_error([] { O::from_json({{"cylinder_shift", {0.0, 2.0}}}); }, {"cylinder at", "cylinder_shift"});
  expect_config_error([] { O::from_json({{"dt", 0.3333}}); }, {"dt 0.3333", "multiple"});
  expect_config_error([] { O::from_json({{"windows_per_run", 300}}); }, {"300 windows"});
  expect_config_error([] { O::from_json({{"profile", "shiftd"}}); }, {"did you mean 'shifted'"});
  expect_config_error([] { O::from_json({{"precision", "half"}}); }, {"precision"});
  const auto q = O::from_json({{"profile", "quick"}});
  EXPECT_EQ(q.nx, 210);
  EXPECT_EQ(q.runs * q.windows_per_run, 60);
  EXPECT_EQ(q.crop_x0(), 32);
  const auto s = O::from_json({{"profile", "shifted"}});
  EXPECT_DOUBLE_EQ(s.centre_y(), 100.0);
  EXPECT_EQ(s.seed, 1545u + 1000000u);
  EXPECT_NEAR(O::from_json({{"re", 250.0}}).tau(), 0.5192, 1e-12);
  EXPECT_EQ(O::from_json(s.to_json()).to_json(), s.to_json());
}
