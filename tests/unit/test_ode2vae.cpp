// SPDX-License-Identifier: MIT
// ODE2VAE baseline (baselines.md §4): shapes, gradients to f_W, both encoders and the decoder; the VJP trace against a
// brute-force Jacobian; the ODE-propagated density against the closed form for a linear field; the ELBO terms;
// training reduces the loss; prediction batch invariance; option errors; parameter count.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <string>

#include "latdyn/core/error.hpp"
#include "latdyn/models/ode2vae.hpp"
#include "latdyn/models/registry.hpp"
#include "model_support.hpp"

using namespace latdyn;
using namespace latdyn::test;

namespace {

json small_ode2vae() {
  return json{{"type", "ode2vae"}, {"channels", 1}, {"resolution", 32}, {"enc_channels", 4}, {"dec_channels", 4},
              {"token_dim", 16}, {"context_len", 4}, {"max_len", 10}, {"q", 3}, {"units", 12}};
}

// Sets f_W(v, s) = A v exactly with ReLUs: h1 = [relu(v); relu(-v)], h2 = h1, out = [A, -A] h2 (needs units >= 2q).
void set_linear_field(models::Ode2vae& m, const at::Tensor& a) {
  torch::NoGradGuard g;
  const int64_t q = a.size(0);
  for (auto& p : m.f_w->parameters()) p.zero_();
  auto l1 = m.f_w->ptr<torch::nn::LinearImpl>(0), l2 = m.f_w->ptr<torch::nn::LinearImpl>(2),
       l3 = m.f_w->ptr<torch::nn::LinearImpl>(4);
  at::Tensor eye = at::eye(q, a.options());
  l1->weight.slice(0, 0, q).slice(1, 0, q).copy_(eye);
  l1->weight.slice(0, q, 2 * q).slice(1, 0, q).copy_(-eye);
  l2->weight.slice(0, 0, 2 * q).slice(1, 0, 2 * q).copy_(at::eye(2 * q, a.options()));
  l3->weight.slice(1, 0, q).copy_(a);
  l3->weight.slice(1, q, 2 * q).copy_(-a);
}

}  // namespace

TEST(Ode2vae, LossAndPredictShapesAndGradientsReachEveryPart) {
  for (bool bayesian : {false, true}) {
    SCOPED_TRACE(bayesian ? "bayesian" : "deterministic");
    json o = small_ode2vae();
    o["bayesian"] = bayesian;
    auto m = models::create_model(o);
    auto* net = dynamic_cast<models::Ode2vae*>(m.get());
    ASSERT_NE(net, nullptr);
    models::StepContext ctx;
    ctx.noise = at::detail::createCPUGenerator(7);
    m->train();
    data::Batch b = random_batch(3, 8);
    models::LossTerms lt = m->loss(b, ctx);
    ASSERT_EQ(lt.total.dim(), 0);
    ASSERT_TRUE(std::isfinite(lt.total.item<double>()));
    for (const auto& [name, v] : lt.terms) EXPECT_TRUE(std::isfinite(v.item<double>())) << name;
    EXPECT_TRUE(std::isfinite(term(lt, "inst_enc")));
    if (bayesian) EXPECT_GT(term(lt, "kl_w"), 0.0);
    lt.total.backward();
    for (const auto& kv : m->named_parameters()) {
      ASSERT_TRUE(kv.value().grad().defined()) << kv.key();
      EXPECT_GT(kv.value().grad().abs().sum().item<double>(), 0.0) << "no gradient reaches " << kv.key();
    }
    // the named parts of the spec are all present
    for (const std::string prefix : {"f_w.", "encoder.", "encoder_v.", "decoder.", "head_s.", "head_v."}) {
      bool found = false;
      for (const auto& kv : m->named_parameters()) found = found || kv.key().rfind(prefix, 0) == 0;
      EXPECT_TRUE(found) << prefix;
    }
    EXPECT_EQ(net->encoder_v->options.in_channels(), 3);  // C·m = 1·3 stacked frames

    m->eval();
    torch::NoGradGuard g;
    data::Batch c = random_batch(3, 12, 2);
    at::Tensor last = c.t.select(1, 3).unsqueeze(1);
    at::Tensor q = last + at::tensor({0.05, 0.1, 0.4, 0.45, 1.5}, at::kDouble).unsqueeze(0);
    models::Prediction p = m->predict(c.steps(0, 4), q);
    ASSERT_EQ(p.mean.sizes(), (std::vector<int64_t>{3, 5, 1, 32, 32}));
    ASSERT_EQ(p.latent.sizes(), (std::vector<int64_t>{3, 5, 6}));
    EXPECT_TRUE((p.mean > 0).all().item<bool>() && (p.mean < 1).all().item<bool>());
    for (int64_t i = 0; i < 3; ++i) {
      auto one = m->predict(c.rows(i, 1).steps(0, 4), q.narrow(0, i, 1));
      EXPECT_LT((one.mean[0] - p.mean[i]).abs().max().item<double>(), 2e-3) << "row " << i;
    }
    // the loss also works without grad mode (the trainer's validation loss)
    models::LossTerms val = m->loss(b, ctx);
    EXPECT_TRUE(std::isfinite(val.total.item<double>()));
    EXPECT_FALSE(val.total.requires_grad());
    auto m2 = models::create_model(m->hyperparams());
    EXPECT_EQ(m2->hyperparams(), m->hyperparams());
    EXPECT_EQ(m2->parameters().size(), m->parameters().size());
    EXPECT_EQ(m->selection_metric(), "val_nmse");
  }
}

TEST(Ode2vae, VjpTraceMatchesBruteForceJacobian) {
  models::Ode2vae m(models::Ode2vaeOptions::from_json(small_ode2vae()));
  m.to(at::kDouble);
  const int64_t b = 5, q = 3;
  at::Generator gen = at::detail::createCPUGenerator(11);
  at::Tensor v = at::randn({b, q}, gen, at::kDouble), s = at::randn({b, q}, gen, at::kDouble);
  models::Ode2vaeField f = m.velocity_field(v, s, /*with_trace=*/true);
  ASSERT_EQ(f.trace.sizes(), (std::vector<int64_t>{b}));
  // field value equals the plain forward pass
  EXPECT_TRUE(at::allclose(f.dv, m.f_w->forward(at::cat({v, s}, 1)), 1e-12, 1e-12));
  // full Jacobian by central differences in float64 (f_W is piecewise linear, so this is exact up to rounding)
  torch::NoGradGuard g;
  const double eps = 1e-6;
  at::Tensor jac = at::zeros({b, q, q}, at::kDouble);  // [B, i (output), j (input)]
  for (int64_t j = 0; j < q; ++j) {
    at::Tensor e = at::zeros({1, q}, at::kDouble);
    e[0][j] = eps;
    at::Tensor fp = m.f_w->forward(at::cat({v + e, s}, 1)), fm = m.f_w->forward(at::cat({v - e, s}, 1));
    jac.select(2, j).copy_((fp - fm) / (2 * eps));
  }
  at::Tensor brute = at::diagonal(jac, 0, 1, 2).sum(-1);
  EXPECT_LT((f.trace.detach() - brute).abs().max().item<double>(), 1e-8) << f.trace << brute;
  EXPECT_GT(brute.abs().max().item<double>(), 1e-6);  // a non-trivial trace
}

TEST(Ode2vae, TraceIsDifferentiableInTraining) {
  models::Ode2vae m(models::Ode2vaeOptions::from_json(small_ode2vae()));
  m.to(at::kDouble);
  at::Tensor v = at::randn({4, 3}, at::kDouble), s = at::randn({4, 3}, at::kDouble);
  models::Ode2vaeField f = m.velocity_field(v, s, true);
  ASSERT_TRUE(f.trace.requires_grad());  // create_graph: d tr / d W exists
  f.trace.sum().backward();
  for (int64_t i : {0, 2, 4}) {
    auto l = m.f_w->ptr<torch::nn::LinearImpl>(i);
    ASSERT_TRUE(l->weight.grad().defined());
    EXPECT_GT(l->weight.grad().abs().sum().item<double>(), 0.0) << "layer " << i;
  }
}

TEST(Ode2vae, LatentDensityOfLinearFieldFollowsTrace) {
  models::Ode2vae m(models::Ode2vaeOptions::from_json(small_ode2vae()));
  m.to(at::kDouble);
  at::Tensor a = at::tensor({-0.3, 0.5, 0.1, 0.2, 0.4, -0.6, 0.0, 0.3, -0.8}, at::kDouble).view({3, 3});
  set_linear_field(m, a);
  const double tr_a = a.trace().item<double>();  // -0.7
  at::Generator gen = at::detail::createCPUGenerator(5);
  at::Tensor v0 = at::randn({2, 3}, gen, at::kDouble), s0 = at::randn({2, 3}, gen, at::kDouble);
  at::Tensor logq0 = at::tensor({-1.5, 2.0}, at::kDouble);
  // per-row irregular grids starting at different times
  at::Tensor times = at::tensor({0.0, 0.1, 0.35, 0.9, 1.7, 0.5, 0.6, 0.7, 1.2, 2.5}, at::kDouble).view({2, 5});
  torch::NoGradGuard g;
  models::Ode2vaePath p = m.flow(v0, s0, logq0, times);
  ASSERT_EQ(p.logq.sizes(), (std::vector<int64_t>{2, 5}));
  at::Tensor expected = logq0.unsqueeze(1) - (times - times.select(1, 0).unsqueeze(1)) * tr_a;
  EXPECT_LT((p.logq - expected).abs().max().item<double>(), 1e-10) << p.logq << expected;
  // v' = A v, s' = v: rk4 with 5 substeps per interval tracks expm(A t) v0
  for (int64_t r = 0; r < 2; ++r)
    for (int64_t k = 0; k < 5; ++k) {
      const double dt = (times[r][k] - times[r][0]).item<double>();
      at::Tensor v_ref = at::matmul(at::linalg_matrix_exp(a * dt), v0[r]);
      EXPECT_LT((p.v[r][k] - v_ref).abs().max().item<double>(), 1e-4) << "row " << r << " step " << k;
    }

  // diagonal A: closed-form positions s(t) = s0 + v0 (e^{a t} - 1) / a
  at::Tensor d = at::tensor({-0.5, 0.3, 0.6}, at::kDouble);
  set_linear_field(m, at::diag(d));
  p = m.flow(v0, s0, logq0, times);
  for (int64_t r = 0; r < 2; ++r) {
    at::Tensor tau = (times[r] - times[r][0]).unsqueeze(1);  // [T, 1]
    at::Tensor s_ref = s0[r].unsqueeze(0) + v0[r].unsqueeze(0) * (at::exp(d.unsqueeze(0) * tau) - 1.0) / d.unsqueeze(0);
    EXPECT_LT((p.s[r] - s_ref).abs().max().item<double>(), 2e-4) << "row " << r;
  }
  EXPECT_LT((p.logq - (logq0.unsqueeze(1) - (times - times.select(1, 0).unsqueeze(1)) * 0.4)).abs().max().item<double>(),
            1e-10);
}

TEST(Ode2vae, ElboTermsMatchTheirDefinition) {
  // gamma = 0 and deterministic weights: total = nll + kl_z (no instant-encoding term is computed)
  json o = small_ode2vae();
  o["gamma"] = 0.0;
  models::Ode2vae m(models::Ode2vaeOptions::from_json(o));
  models::StepContext ctx;
  ctx.noise = at::detail::createCPUGenerator(3);
  auto lt = m.loss(random_batch(2, 10), ctx);
  EXPECT_NEAR(lt.total.item<double>(), term(lt, "nll") + term(lt, "kl_z"), 1e-4 * std::abs(lt.total.item<double>()));
  for (const auto& [n, v] : lt.terms) EXPECT_NE(n, "inst_enc");
  // bernoulli nll is a sum over frames and pixels: between 0 and -T·HW·log(1e-5)
  EXPECT_GT(term(lt, "nll"), 0.0);
  EXPECT_LT(term(lt, "nll"), 10 * 1024 * -std::log(1e-5));
  // gamma = 1: total = nll + kl_z + inst_enc
  models::Ode2vae m1(models::Ode2vaeOptions::from_json(small_ode2vae()));
  auto l1 = m1.loss(random_batch(2, 10), ctx);
  EXPECT_NEAR(l1.total.item<double>(), term(l1, "nll") + term(l1, "kl_z") + term(l1, "inst_enc"),
              1e-4 * std::abs(l1.total.item<double>()));
  // Bayesian: beta_W = q / #f_W params, and KL_W = sum KL(N(mu, lambda^2) || N(0, 1)) at lambda^2 = 1e-4
  json ob = small_ode2vae();
  ob["bayesian"] = true;
  models::Ode2vae mb(models::Ode2vaeOptions::from_json(ob));
  int64_t n = 0;
  double sq = 0;
  for (const auto& p : mb.f_w->parameters()) n += p.numel(), sq += p.pow(2).sum().item<double>();
  EXPECT_EQ(n, 12 * (3 * 3 + 12 + 2) + 3);
  EXPECT_NEAR(mb.beta_w(), 3.0 / n, 1e-15);
  EXPECT_NEAR(mb.kl_weights().item<double>(), 0.5 * (n * (1e-4 - 1.0 - std::log(1e-4)) + sq), 1e-3);
}

TEST(Ode2vae, TrainingStepsReduceTheLoss) {
  json o = small_ode2vae();
  o["context_len"] = 3, o["max_len"] = 6;
  auto m = models::create_model(o);
  const auto [before, after] = loss_before_after_adam(*m, moving_square_batch(3, 6), 5e-3, 15);
  EXPECT_LT(after, 0.8 * before) << "before " << before << " after " << after;
}

TEST(Ode2vae, DefaultsAndParameterCount) {
  json o = {{"type", "ode2vae"}, {"channels", 1}, {"resolution", 32}};
  models::Ode2vaeOptions opt = models::Ode2vaeOptions::from_json(o);
  EXPECT_EQ(opt.q, 16);
  EXPECT_EQ(opt.units, 100);
  EXPECT_EQ(opt.amort_len, 3);
  EXPECT_EQ(opt.likelihood, "bernoulli");
  EXPECT_EQ(opt.gamma, 1.0);
  EXPECT_FALSE(opt.bayesian);
  EXPECT_EQ(opt.solver.method, "rk4");
  EXPECT_EQ(opt.solver.substeps, 5);
  models::Ode2vae m(opt);
  int64_t n = 0, n_f = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  for (const auto& p : m.f_w->parameters()) n_f += p.numel();
  EXPECT_EQ(n_f, 100 * (3 * 16 + 100 + 2) + 16);  // 2q->H->H->q
  EXPECT_EQ(n, 154922);  // both FrameEncoders, both heads, f_W and the FrameDecoder(q) at 32x32x1 (catches a missing register)
  EXPECT_EQ(models::create_model(o)->parameters().size(), m.parameters().size());
}

TEST(Ode2vae, OptionErrorsNameTheKey) {
  auto with = [](const std::string& key, json v) { return with_option(small_ode2vae(), key, std::move(v)); };
  expect_config_error(with("likelihood", "bernouli"), "bernoulli");
  expect_config_error(with("q", 0), "q must be");
  expect_config_error(with("amort_len", 5), "amort_len");  // > context_len 4
  expect_config_error(with("solver", "rk5"), "rk4");
  expect_config_error(with("gama", 1.0), "gamma");
  expect_config_error(with("obs_std", 0.0), "obs_std");
  expect_config_error(with("bayesian", 1), "bayesian");
}
