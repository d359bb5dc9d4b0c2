// SPDX-License-Identifier: MIT
// Shared by the model unit tests (ODE baselines, ODE2VAE, NDP, MSVI): tiny 32x32 batches, loss-term lookup, the
// option-error check, a short Adam run, and one-thread scoping for solver-heavy tests. Header-only: every user
// already includes <torch/torch.h>, so this adds no translation unit.
#pragma once
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <string>
#include <utility>

#include "latdyn/core/error.hpp"
#include "latdyn/models/registry.hpp"

namespace latdyn::test {

/// Uniform-noise frames [b, t, 1, 32, 32]; row r has dt = 0.1 + 0.02 r and starts at 0.5 r (irregular across rows).
inline data::Batch random_batch(int64_t b, int64_t t, uint64_t seed = 1) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  data::Batch out;
  out.x = at::rand({b, t, 1, 32, 32}, gen);
  at::Tensor rows = at::arange(b, at::kDouble).unsqueeze(1);
  out.t = 0.5 * rows + at::arange(t, at::kDouble).unsqueeze(0) * (0.1 + 0.02 * rows);
  out.mask = at::ones({b, t});
  out.index = at::arange(b);
  return out;
}

/// A bright 6x6 square moving right by one pixel per frame, row i shifted down by 2i (learnable structure);
/// [b, t, 1, 32, 32], dt = 0.1 for every row.
inline data::Batch moving_square_batch(int64_t b, int64_t t) {
  data::Batch out;
  out.x = at::zeros({b, t, 1, 32, 32});
  for (int64_t i = 0; i < b; ++i)
    for (int64_t k = 0; k < t; ++k)
      out.x.index_put_({i, k, 0, torch::indexing::Slice(8 + 2 * i, 14 + 2 * i), torch::indexing::Slice(4 + k, 10 + k)},
                       1.0);
  out.t = at::arange(t, at::kDouble).unsqueeze(0).repeat({b, 1}) * 0.1;
  out.mask = at::ones({b, t});
  out.index = at::arange(b);
  return out;
}

/// A step context whose noise generator is seeded with `seed`.
inline models::StepContext step_ctx(uint64_t seed) {
  models::StepContext ctx;
  ctx.noise = at::detail::createCPUGenerator(seed);
  return ctx;
}

/// The value of the named loss term; a test failure (and NaN) when the model does not report it.
inline double term(const models::LossTerms& lt, const std::string& name) {
  for (const auto& [n, v] : lt.terms)
    if (n == name) return v.item<double>();
  ADD_FAILURE() << "no loss term " << name;
  return NAN;
}

/// The message of the ConfigError that creating a model from `options` raises; a test failure when none is raised.
inline std::string config_error(const json& options) {
  try {
    models::create_model(options);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected ConfigError for " << options.dump();
  return "";
}

/// Expects creating a model from `options` to fail with a ConfigError whose message contains `needle`.
inline void expect_config_error(const json& options, const std::string& needle) {
  const std::string what = config_error(options);
  if (!what.empty()) EXPECT_NE(what.find(needle), std::string::npos) << what;
}

/// `base` with one key replaced.
inline json with_option(json base, const std::string& key, json value) {
  base[key] = std::move(value);
  return base;
}

/// Loss on `b` (noise seed 99, no gradient) before and after `steps` Adam steps at `lr` (noise generator seeded 1).
inline std::pair<double, double> loss_before_after_adam(models::LatentModel& m, const data::Batch& b, double lr,
                                                        int steps) {
  m.train();
  auto eval_loss = [&] {
    torch::NoGradGuard g;
    return m.loss(b, step_ctx(99)).total.item<double>();
  };
  const double before = eval_loss();
  torch::optim::Adam opt(m.parameters(), torch::optim::AdamOptions(lr));
  models::StepContext ctx = step_ctx(1);
  for (int step = 0; step < steps; ++step) {
    opt.zero_grad();
    m.loss(b, ctx).total.backward();
    opt.step();
  }
  return {before, eval_loss()};
}

/// One intra-op thread for solver-heavy tests: an ODE solve is thousands of tiny ops, and on a busy machine the
/// OpenMP team of test_main (2 threads) spends most of its time spinning between them. Restored on scope exit.
struct OneThread {
  int saved = at::get_num_threads();
  OneThread() { at::set_num_threads(1); }
  ~OneThread() { at::set_num_threads(saved); }
};

}  // namespace latdyn::test
