// SPDX-License-Identifier: MIT
// Latent-ODE baselines (baselines.md §3): ODE-RNN blocks (GRU update formula, Rubanova's Euler rule), ODE-RNN
// forecaster and Latent ODE shapes, gradients to every parameter, prediction at arbitrary query times and batch
// invariance, KL annealing, hyperparameter round trip, option errors.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <string>

#include "latdyn/core/error.hpp"
#include "latdyn/models/ode_baselines.hpp"
#include "latdyn/models/registry.hpp"
#include "model_support.hpp"

using namespace latdyn;
using namespace latdyn::test;

namespace {

json small_codec(const std::string& type) {
  return json{{"type", type}, {"channels", 1}, {"resolution", 32}, {"enc_channels", 4}, {"dec_channels", 4},
              {"token_dim", 16}, {"context_len", 4}, {"max_len", 10}};
}

void expect_gradients_everywhere(models::LatentModel& m, const data::Batch& b) {
  models::StepContext ctx;
  ctx.noise = at::detail::createCPUGenerator(7);
  ctx.epoch = 20;  // KL weight > 0 for the Latent ODE
  m.train();
  models::LossTerms lt = m.loss(b, ctx);
  ASSERT_TRUE(std::isfinite(lt.total.item<double>()));
  lt.total.backward();
  for (const auto& kv : m.named_parameters()) {
    ASSERT_TRUE(kv.value().grad().defined()) << kv.key();
    EXPECT_GT(kv.value().grad().abs().sum().item<double>(), 0.0) << "no gradient reaches " << kv.key();
  }
}

}  // namespace

TEST(OdeRnn, GruUpdateFollowsRubanova) {
  torch::manual_seed(0);
  nn::OdeRnn rnn(nn::OdeRnnOptions(5, 3).units(7));
  at::Tensor h = at::randn({2, 3}), hs = at::rand({2, 3}), x = at::randn({2, 5});
  nn::OdeRnnState s = rnn->update({h, hs}, x);
  at::Tensor cat = at::cat({h, hs, x}, -1);
  at::Tensor u = rnn->gate_u->forward(cat), r = rnn->gate_r->forward(cat);
  at::Tensor n = rnn->new_state->forward(at::cat({h * r, hs * r, x}, -1));
  at::Tensor h_ref = (1 - u) * n.slice(1, 0, 3) + u * h;
  at::Tensor hs_ref = ((1 - u) * n.slice(1, 3).abs() + u * hs).abs();
  EXPECT_TRUE(at::allclose(s.h, h_ref));
  EXPECT_TRUE(at::allclose(s.h_std, hs_ref));
  EXPECT_TRUE((u > 0).all().item<bool>() && (u < 1).all().item<bool>());
}

TEST(OdeRnn, EulerRuleBetweenObservations) {
  torch::manual_seed(1);
  nn::OdeRnn rnn(nn::OdeRnnOptions(4, 3));
  torch::NoGradGuard g;
  at::Tensor h = at::randn({1, 3});
  auto manual = [&](double gap, int64_t steps) {
    at::Tensor z = h;
    for (int64_t i = 0; i < steps; ++i) z = z + (gap / steps) * rnn->f_h->forward(z);
    return z;
  };
  at::Tensor min_step = at::full({1}, 0.01, at::kDouble);
  auto evolve = [&](double gap) {
    return rnn->evolve(h, at::zeros({1}, at::kDouble), at::full({1}, gap, at::kDouble), min_step);
  };
  // gap < min_step: one step; gap = 0.055: floor(5.5) = 5 points -> 4 steps; 0.015: max(2, 1) = 2 points -> 1 step
  EXPECT_TRUE(at::allclose(evolve(0.005), manual(0.005, 1)));
  EXPECT_TRUE(at::allclose(evolve(0.055), manual(0.055, 4)));
  EXPECT_FALSE(at::allclose(evolve(0.055), manual(0.055, 1)));
  EXPECT_TRUE(at::allclose(evolve(0.015), manual(0.015, 1)));
  // backwards in time (the Latent ODE encoder)
  EXPECT_TRUE(at::allclose(evolve(-0.055), manual(-0.055, 4)));
  at::Tensor t = at::tensor({0.0, 0.2, 0.5}, at::kDouble).unsqueeze(0);
  EXPECT_NEAR(nn::rubanova_min_step(t).item<double>(), 0.01, 1e-15);
}

TEST(OdeBaselines, LossReachesEveryParameterAndPredictsQueries) {
  for (const std::string type : {"ode_rnn", "latent_ode"}) {
    SCOPED_TRACE(type);
    json o = small_codec(type);
    if (type == "latent_ode") o["latent_dim"] = 6, o["rec_hidden"] = 8, o["n_samples"] = 2;
    else o["hidden"] = 8, o["context_loss"] = true;
    auto m = models::create_model(o);
    expect_gradients_everywhere(*m, random_batch(3, 12));
    m->eval();
    torch::NoGradGuard g;
    data::Batch b = random_batch(3, 12, 2);
    // query times after each row's context, irregular
    at::Tensor last = b.t.select(1, 3).unsqueeze(1);
    at::Tensor q = last + at::tensor({0.05, 0.1, 0.4, 0.45, 1.5}, at::kDouble).unsqueeze(0);
    models::Prediction p = m->predict(b.steps(0, 4), q);
    ASSERT_EQ(p.mean.sizes(), (std::vector<int64_t>{3, 5, 1, 32, 32}));
    EXPECT_TRUE((p.mean > 0).all().item<bool>() && (p.mean < 1).all().item<bool>());
    for (int64_t i = 0; i < 3; ++i) {
      auto one = m->predict(b.rows(i, 1).steps(0, 4), q.narrow(0, i, 1));
      EXPECT_LT((one.mean[0] - p.mean[i]).abs().max().item<double>(), 2e-3) << "row " << i;
    }
    // hyperparameters rebuild an identical skeleton
    auto m2 = models::create_model(m->hyperparams());
    EXPECT_EQ(m2->hyperparams(), m->hyperparams());
    EXPECT_EQ(m2->parameters().size(), m->parameters().size());
    EXPECT_EQ(m->selection_metric(), "val_nmse");
  }
}

TEST(OdeBaselines, LatentOdeKlAnnealingAndLossTerms) {
  json o = small_codec("latent_ode");
  o["latent_dim"] = 4, o["rec_hidden"] = 6;
  models::LatentOde m(models::LatentOdeOptions::from_json(o));
  EXPECT_EQ(m.kl_weight(0), 0.0);
  EXPECT_EQ(m.kl_weight(9), 0.0);
  EXPECT_EQ(m.kl_weight(10), 0.0);
  EXPECT_NEAR(m.kl_weight(11), 0.01, 1e-12);
  EXPECT_NEAR(m.kl_weight(30), 1.0 - std::pow(0.99, 20), 1e-12);
  // loss = -logsumexp_s(l_s - kappa KL): with one sample it is -(l - kappa KL) = nll + kappa KL
  o["n_samples"] = 1;
  models::LatentOde one(models::LatentOdeOptions::from_json(o));
  models::StepContext ctx;
  ctx.noise = at::detail::createCPUGenerator(3);
  ctx.epoch = 30;
  auto lt = one.loss(random_batch(2, 10), ctx);
  double nll = 0, kl = 0;
  for (const auto& [name, v] : lt.terms) {
    if (name == "nll") nll = v.item<double>();
    if (name == "kl") kl = v.item<double>();
  }
  EXPECT_GT(kl, 0.0);
  EXPECT_NEAR(lt.total.item<double>(), nll + one.kl_weight(30) * kl, 1e-3 * std::abs(nll));
}

TEST(OdeBaselines, OptionErrors) {
  expect_config_error(with_option(small_codec("latent_ode"), "solver", "dopri"), "did you mean 'dopri5'");
  expect_config_error(with_option(small_codec("ode_rnn"), "max_len", 4), "max_len");
  expect_config_error(with_option(small_codec("ode_rnn"), "hiden", 3), "hidden");
}
