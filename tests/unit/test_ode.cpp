// SPDX-License-Identifier: MIT
// Tests for latdyn/nn/ode.hpp (baselines.md §2): convergence orders of euler (1), rk4 (4) and fixed-step dopri5 (5)
// on z' = -z and the harmonic oscillator; adaptive dopri5 accuracy about tol on [0, 10]; per-trajectory grids by
// rescaling agree with exact solutions for autonomous and time-dependent fields; gradients against central finite
// differences in float64; divergence and bad options give clear errors.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <string>

#include "latdyn/core/error.hpp"
#include "latdyn/nn/ode.hpp"

namespace {

namespace ln = latdyn::nn;
const auto kF64 = at::TensorOptions().dtype(at::kDouble);

// z' = -z
at::Tensor decay(const at::Tensor&, const at::Tensor& z) { return -z; }
// harmonic oscillator, z = (x, v): x' = v, v' = -x
at::Tensor oscillator(const at::Tensor&, const at::Tensor& z) {
  return at::stack({z.select(1, 1), -z.select(1, 0)}, 1);
}

// Max abs error at t = t_end of the oscillator from (1, 0) with n equal steps.
double oscillator_error(const std::string& method, int64_t n, double t_end) {
  ln::OdeOptions o;
  o.method = method;
  o.adaptive = false;
  o.substeps = n;
  at::Tensor z0 = at::tensor({1.0, 0.0}, kF64).unsqueeze(0);
  at::Tensor z = ln::odeint(oscillator, z0, at::tensor({0.0, t_end}, kF64), o).select(1, 1);
  at::Tensor exact = at::tensor({std::cos(t_end), -std::sin(t_end)}, kF64).unsqueeze(0);
  return (z - exact).abs().max().item<double>();
}

double decay_error(const std::string& method, int64_t n) {
  ln::OdeOptions o;
  o.method = method;
  o.adaptive = false;
  o.substeps = n;
  at::Tensor z0 = at::tensor({1.0, -2.0, 0.5}, kF64).unsqueeze(1);  // [3, 1]
  at::Tensor z = ln::odeint(decay, z0, at::tensor({0.0, 2.0}, kF64), o).select(1, 1);
  return (z - z0 * std::exp(-2.0)).abs().max().item<double>();
}

double order(double e_coarse, double e_fine) { return std::log2(e_coarse / e_fine); }

}  // namespace

TEST(OdeSolver, ConvergenceOrders) {
  struct Case { std::string method; double expected; int64_t n; };
  for (const Case& c : {Case{"euler", 1.0, 200}, Case{"rk4", 4.0, 20}, Case{"dopri5", 5.0, 10}}) {
    const double p_decay = order(decay_error(c.method, c.n), decay_error(c.method, 2 * c.n));
    EXPECT_NEAR(p_decay, c.expected, 0.25) << c.method << " on z' = -z";
    const double p_osc = order(oscillator_error(c.method, 2 * c.n, 10.0), oscillator_error(c.method, 4 * c.n, 10.0));
    EXPECT_NEAR(p_osc, c.expected, 0.25) << c.method << " on the harmonic oscillator";
  }
}

TEST(OdeSolver, StepOptionGivesCeilSubsteps) {
  ln::OdeOptions o;
  o.method = "rk4";
  o.step = 0.3;  // intervals of 1.0 -> 4 substeps each, 2 intervals
  ln::OdeStats st;
  ln::odeint(decay, at::ones({1, 1}, kF64), at::tensor({0.0, 1.0, 2.0}, kF64), o, &st);
  EXPECT_EQ(st.accepted, 8);
  EXPECT_EQ(st.evaluations, 32);
}

TEST(OdeSolver, AdaptiveDopri5AccurateToAboutTol) {
  at::Tensor times = at::linspace(0.0, 10.0, 11, kF64);
  at::Tensor exact = at::stack({at::cos(times), -at::sin(times)}, 1);  // [11, 2]
  int64_t prev_evals = 0;
  for (double tol : {1e-4, 1e-6, 1e-8}) {
    ln::OdeOptions o;
    o.rtol = o.atol = tol;
    ln::OdeStats st;
    at::Tensor z = ln::odeint(oscillator, at::tensor({1.0, 0.0}, kF64).unsqueeze(0), times, o, &st).squeeze(0);
    const double err = (z - exact).abs().max().item<double>();
    EXPECT_LT(err, 20 * tol) << "tol " << tol;
    EXPECT_GT(st.accepted, 0);
    EXPECT_GT(st.evaluations, prev_evals) << "tighter tolerance must cost more evaluations";
    prev_evals = st.evaluations;
  }
}

TEST(OdeSolver, AdaptiveRejectsAndRecoversOnSharpField) {
  // z' = -50 (z - cos t): a fast transient, then tracking; the controller must reject some first guesses.
  auto field = [](const at::Tensor& t, const at::Tensor& z) { return -50.0 * (z - at::cos(t).unsqueeze(1)); };
  ln::OdeOptions o;
  o.rtol = o.atol = 1e-7;
  ln::OdeStats st;
  at::Tensor z = ln::odeint(field, at::full({1, 1}, 5.0, kF64), at::tensor({0.0, 3.0}, kF64), o, &st);
  // exact: z = A e^{-50t} + (2500 cos t + 50 sin t)/2501, A = 5 - 2500/2501
  const double t = 3.0, a = 5.0 - 2500.0 / 2501.0;
  const double exact = a * std::exp(-150.0) + (2500.0 * std::cos(t) + 50.0 * std::sin(t)) / 2501.0;
  EXPECT_NEAR(z[0][1][0].item<double>(), exact, 1e-6);
  EXPECT_GT(st.accepted, 10);
  EXPECT_GT(st.rejected, 0) << "the initial step should overshoot the transient at least once";
}

TEST(OdeSolver, PerTrajectoryGridsMatchExactSolutions) {
  // Three rows on different, irregular grids; rates differ per row (autonomous), and a time-dependent field.
  at::Tensor times = at::tensor({0.0, 0.1, 0.5, 0.55, 2.0,
                                 1.0, 1.3, 1.9, 2.4, 3.0,
                                 0.0, 0.0, 0.7, 1.7, 1.8}, kF64).view({3, 5});
  at::Tensor rates = at::tensor({1.0, 0.3, 2.0}, kF64).unsqueeze(1);  // [3, 1]
  at::Tensor z0 = at::tensor({1.0, -1.0, 2.0}, kF64).unsqueeze(1);
  auto field = [&](const at::Tensor&, const at::Tensor& z) { return -rates * z; };
  at::Tensor exact = z0 * at::exp(-rates * (times - times.select(1, 0).unsqueeze(1)));  // [3, 5]
  for (const std::string method : {"rk4", "dopri5"}) {
    ln::OdeOptions o;
    o.method = method;
    o.rtol = o.atol = 1e-9;
    o.substeps = 50;
    at::Tensor z = ln::odeint(field, z0, times, o).squeeze(2);
    EXPECT_LT((z - exact).abs().max().item<double>(), 1e-7) << method;
  }
  // z' = cos(t): the field must see each row's own absolute time.
  auto tfield = [](const at::Tensor& t, const at::Tensor& z) { return at::cos(t).unsqueeze(1).expand_as(z); };
  ln::OdeOptions o;
  o.rtol = o.atol = 1e-10;
  at::Tensor z = ln::odeint(tfield, at::zeros({3, 1}, kF64), times, o).squeeze(2);
  at::Tensor exact_t = at::sin(times) - at::sin(times.select(1, 0)).unsqueeze(1);
  EXPECT_LT((z - exact_t).abs().max().item<double>(), 1e-8);
  // A shared [T] grid gives the same as the same grid repeated per row.
  at::Tensor grid = times[0];
  at::Tensor shared = ln::odeint(tfield, at::zeros({3, 1}, kF64), grid, o);
  at::Tensor per_row = ln::odeint(tfield, at::zeros({3, 1}, kF64), grid.unsqueeze(0).expand({3, 5}), o);
  EXPECT_LT((shared - per_row).abs().max().item<double>(), 1e-8);
}

TEST(OdeSolver, GradientsMatchFiniteDifferences) {
  torch::manual_seed(3);
  torch::nn::Sequential mlp(torch::nn::Linear(2, 8), torch::nn::Tanh(), torch::nn::Linear(8, 2));
  mlp->to(at::kDouble);
  auto field = [&](const at::Tensor&, const at::Tensor& z) { return mlp->forward(z); };
  at::Tensor times = at::tensor({0.0, 0.4, 1.3, 2.0}, kF64);
  at::Tensor w = at::linspace(0.5, 1.5, 4 * 2, kF64).view({1, 4, 2});
  for (const std::string method : {"rk4", "dopri5"}) {
    ln::OdeOptions o;
    o.method = method;
    o.substeps = 8;
    o.rtol = o.atol = 1e-11;
    auto loss_of = [&](const at::Tensor& z0) { return (ln::odeint(field, z0, times, o) * w).sum(); };
    at::Tensor z0 = at::tensor({0.3, -0.7}, kF64).unsqueeze(0).requires_grad_(true);
    at::Tensor weight = mlp->parameters()[0];
    auto grads = torch::autograd::grad({loss_of(z0)}, {z0, weight});
    at::NoGradGuard ng;
    const double eps = 1e-6;
    for (int64_t j = 0; j < 2; ++j) {
      at::Tensor zp = z0.detach().clone(), zm = z0.detach().clone();
      zp[0][j] += eps;
      zm[0][j] -= eps;
      const double fd = (loss_of(zp).item<double>() - loss_of(zm).item<double>()) / (2 * eps);
      EXPECT_NEAR(grads[0][0][j].item<double>(), fd, 1e-6 * std::max(1.0, std::abs(fd))) << method << " dz0_" << j;
    }
    for (int64_t k : {0, 5, 11}) {
      at::Tensor flat = weight.view({-1});
      const double old = flat[k].item<double>();
      flat[k] = old + eps;
      const double lp = loss_of(z0.detach()).item<double>();
      flat[k] = old - eps;
      const double lm = loss_of(z0.detach()).item<double>();
      flat[k] = old;
      const double fd = (lp - lm) / (2 * eps);
      EXPECT_NEAR(grads[1].view({-1})[k].item<double>(), fd, 1e-6 * std::max(1.0, std::abs(fd))) << method << " dW_" << k;
    }
  }
}

TEST(OdeSolver, DivergenceIsAClearError) {
  // z' = z^2 from z0 = 1 blows up at t = 1.
  auto field = [](const at::Tensor&, const at::Tensor& z) { return z * z; };
  ln::OdeOptions o;
  o.max_steps = 500;
  try {
    ln::odeint(field, at::ones({1, 1}, kF64), at::tensor({0.0, 2.0}, kF64), o);
    FAIL() << "expected a NumericalError";
  } catch (const latdyn::NumericalError& e) {
    EXPECT_NE(std::string(e.what()).find("stiff or diverging"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("hint:"), std::string::npos);
  }
}

TEST(OdeSolver, BadOptionsAndShapes) {
  ln::OdeOptions o;
  o.method = "dopri";
  try {
    o.check("model.solver");
    FAIL() << "expected a ConfigError";
  } catch (const latdyn::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("model.solver"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("did you mean 'dopri5'"), std::string::npos) << e.what();
  }
  o.method = "rk4";
  o.rtol = 0;
  EXPECT_THROW(o.check("x"), latdyn::ConfigError);
  ln::OdeOptions ok;
  EXPECT_THROW(ln::odeint(decay, at::ones({2, 1}, kF64), at::tensor({0.0, 0.0}, kF64), ok), c10::Error);
  EXPECT_THROW(ln::odeint(decay, at::ones({2}, kF64), at::tensor({0.0, 1.0}, kF64), ok), c10::Error);
  EXPECT_THROW(ln::odeint(decay, at::ones({2, 1}, kF64), at::zeros({3, 2}, kF64), ok), c10::Error);
}
