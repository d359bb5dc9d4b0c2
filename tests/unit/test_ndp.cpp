// SPDX-License-Identifier: MIT
// NDP baseline (baselines.md §5, Norcliffe et al. 2021): loss/predict shapes, gradients to every part, bounded stds,
// closed-form Gaussian KL, permutation invariance of the context aggregation, solver wiring, training, options.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <iostream>
#include <string>

#include "latdyn/core/error.hpp"
#include "latdyn/models/ndp.hpp"
#include "latdyn/models/registry.hpp"
#include "model_support.hpp"

using namespace latdyn;
using namespace latdyn::test;

namespace {

json small_ndp() {
  return json{{"type", "ndp"}, {"channels", 1}, {"resolution", 32}, {"enc_channels", 4}, {"dec_channels", 4},
              {"token_dim", 16}, {"context_len", 4}, {"max_len", 10}, {"d_L", 6}, {"d_D", 3}, {"hidden", 16}};
}

models::Ndp make_ndp(const json& j) { return models::Ndp(models::NdpOptions::from_json(j)); }

}  // namespace

TEST(NdpModel, LossReachesEveryPartAndPredictsQueries) {
  torch::manual_seed(1);  // module init draws from the default generator
  for (const bool uses_d : {false, true}) {
    SCOPED_TRACE(uses_d ? "decoder_uses_D" : "default");
    json o = small_ndp();
    o["decoder_uses_D"] = uses_d;
    if (uses_d) o["context"] = "random";
    auto m = models::create_model(o);
    m->train();
    models::LossTerms lt = m->loss(random_batch(3, 12), step_ctx(7));
    ASSERT_EQ(lt.total.dim(), 0);
    ASSERT_TRUE(std::isfinite(lt.total.item<double>()));
    EXPECT_GT(term(lt, "kl"), 0.0);  // q(z|T) and q(z|C) see different frames
    // total = batch mean of (-log p + KL), the log p summed over the 10 window frames and all pixels
    EXPECT_NEAR(lt.total.item<double>(), term(lt, "nll") + term(lt, "kl"), 1e-4 * std::abs(lt.total.item<double>()));
    lt.total.backward();
    for (const std::string part : {"encoder.", "enc_mlp.", "to_hidden.", "to_mu.", "to_sigma.", "f.", "decoder."}) {
      int64_t n = 0;
      for (const auto& kv : m->named_parameters()) {
        if (kv.key().rfind(part, 0) != 0) continue;
        ++n;
        ASSERT_TRUE(kv.value().grad().defined()) << kv.key();
        EXPECT_GT(kv.value().grad().abs().sum().item<double>(), 0.0) << "no gradient reaches " << kv.key();
      }
      EXPECT_GT(n, 0) << part;
    }
    m->eval();
    torch::NoGradGuard g;
    data::Batch b = random_batch(3, 12, 2);
    at::Tensor last = b.t.select(1, 3).unsqueeze(1);  // irregular queries after each row's context
    at::Tensor q = last + at::tensor({0.05, 0.1, 0.4, 0.45, 1.5}, at::kDouble).unsqueeze(0);
    models::Prediction p = m->predict(b.steps(0, 4), q);
    ASSERT_EQ(p.mean.sizes(), (std::vector<int64_t>{3, 5, 1, 32, 32}));
    ASSERT_EQ(p.latent.sizes(), (std::vector<int64_t>{3, 5, 6}));
    EXPECT_FALSE(p.stddev.defined());
    EXPECT_TRUE((p.mean > 0).all().item<bool>() && (p.mean < 1).all().item<bool>());
    for (int64_t i = 0; i < 3; ++i) {  // each row alone gives the same prediction
      auto one = m->predict(b.rows(i, 1).steps(0, 4), q.narrow(0, i, 1));
      EXPECT_LT((one.mean[0] - p.mean[i]).abs().max().item<double>(), 1e-4) << "row " << i;
    }
    auto m2 = models::create_model(m->hyperparams());
    EXPECT_EQ(m2->hyperparams(), m->hyperparams());
    EXPECT_EQ(m2->parameters().size(), m->parameters().size());
    EXPECT_EQ(m->selection_metric(), "val_nmse");
    EXPECT_EQ(m->context_steps(), 4);
  }
  // predict_samples = N: mean of N decoded means, with their spread
  json o = small_ndp();
  o["predict_samples"] = 3;
  auto m = models::create_model(o);
  m->eval();
  torch::NoGradGuard g;
  data::Batch b = random_batch(2, 12, 3);
  models::Prediction p = m->predict(b.steps(0, 4), b.t.slice(1, 4));
  ASSERT_EQ(p.mean.sizes(), (std::vector<int64_t>{2, 8, 1, 32, 32}));
  ASSERT_TRUE(p.stddev.defined());
  EXPECT_GT(p.stddev.max().item<double>(), 0.0);
}

TEST(NdpModel, PosteriorAndDecoderStdsAreBounded) {
  torch::manual_seed(2);  // module init draws from the default generator
  models::Ndp m = make_ndp(small_ndp());
  m.eval();
  torch::NoGradGuard g;
  data::Batch b = random_batch(2, 5);
  at::Tensor tau = b.t - b.t.select(1, 0).unsqueeze(1);
  // Saturate the sigma head both ways: σ = 0.1 + 0.9 sigmoid(·) stays in [0.1, 1]
  for (const double scale : {1.0, 1e4, -1e4}) {
    m.to_sigma->weight.normal_(0.0, 1.0).abs_().mul_(scale);  // h >= 0 (ReLU): the pre-activation has scale's sign
    m.to_sigma->bias.fill_(scale);
    models::DiagGaussian q = m.posterior(b.x, tau);
    ASSERT_EQ(q.mean.sizes(), (std::vector<int64_t>{2, 9}));
    EXPECT_GE(q.std.min().item<double>(), 0.1 - 1e-7) << scale;
    EXPECT_LE(q.std.max().item<double>(), 1.0 + 1e-7) << scale;
    if (scale > 1) EXPECT_NEAR(q.std.min().item<double>(), 1.0, 1e-6);
    if (scale < 0) EXPECT_NEAR(q.std.max().item<double>(), 0.1, 1e-6);
  }
  // Decoder: mean channel = the FrameDecoder's (sigmoid of decoder->forward), std = 0.1 + 0.9 softplus >= 0.1
  at::Tensor L = at::randn({2, 5, 6}), D = at::randn({2, 3});
  auto [mean, std] = m.decode_gaussian(L, tau, D);
  ASSERT_EQ(mean.sizes(), (std::vector<int64_t>{2, 5, 1, 32, 32}));
  ASSERT_EQ(std.sizes(), mean.sizes());
  at::Tensor in = at::cat({L, tau.to(at::kFloat).unsqueeze(-1)}, -1);
  EXPECT_LT((mean - m.decode(in)).abs().max().item<double>(), 1e-7);
  EXPECT_GE(std.min().item<double>(), 0.1);
  at::Tensor bias = m.decoder->out->bias;  // [2C]: channel 1 is the std pre-activation
  bias[1].fill_(-100.0);
  EXPECT_NEAR(m.decode_gaussian(L, tau, D).second.min().item<double>(), 0.1, 1e-6);
  EXPECT_GE(m.decode_gaussian(L, tau, D).second.min().item<double>(), 0.1);
  bias[1].fill_(20.0);
  EXPECT_GT(m.decode_gaussian(L, tau, D).second.min().item<double>(), 10.0);  // unbounded above
  EXPECT_LT((m.decode_gaussian(L, tau, D).first - mean).abs().max().item<double>(), 1e-7);  // mean unaffected
}

TEST(NdpKl, ClosedFormMatchesReferenceAndMonteCarlo) {
  at::Generator gen = at::detail::createCPUGenerator(11);
  auto opts = at::TensorOptions().dtype(at::kDouble);
  models::DiagGaussian q{at::randn({2, 3}, gen, opts), 0.1 + 0.9 * at::rand({2, 3}, gen, opts)};
  models::DiagGaussian p{at::randn({2, 3}, gen, opts), 0.1 + 0.9 * at::rand({2, 3}, gen, opts)};
  at::Tensor kl = models::diag_gaussian_kl(q, p);  // [2, 3]
  ASSERT_EQ(kl.sizes(), q.mean.sizes());
  ASSERT_EQ(kl.scalar_type(), at::kDouble);
  // torch.distributions.kl_divergence(Normal, Normal): var_ratio = (σq/σp)², t1 = ((μq-μp)/σp)²,
  // 0.5 (var_ratio + t1 - 1 - log var_ratio)
  at::Tensor vr = (q.std / p.std).pow(2), t1 = ((q.mean - p.mean) / p.std).pow(2);
  EXPECT_LT((kl - 0.5 * (vr + t1 - 1 - at::log(vr))).abs().max().item<double>(), 1e-12);
  // Monte Carlo: E_q[log q(x) - log p(x)] with 400k samples per element
  const int64_t n = 400000;
  at::Tensor x = q.mean.unsqueeze(0) + q.std.unsqueeze(0) * at::randn({n, 2, 3}, gen, opts);
  auto log_n = [](const at::Tensor& v, const at::Tensor& mu, const at::Tensor& s) {
    return -0.5 * ((v - mu) / s).pow(2) - at::log(s) - 0.5 * std::log(2 * M_PI);
  };
  at::Tensor diff = log_n(x, q.mean, q.std) - log_n(x, p.mean, p.std);  // [n, 2, 3]
  at::Tensor mc = diff.mean(0), se = diff.std(0) / std::sqrt(static_cast<double>(n));
  EXPECT_TRUE(((mc - kl).abs() < 4 * se + 1e-9).all().item<bool>()) << "mc " << mc << "\nclosed " << kl << "\nse " << se;
  // zero exactly when the posteriors coincide, positive otherwise
  EXPECT_EQ(models::diag_gaussian_kl(q, q).abs().max().item<double>(), 0.0);
  EXPECT_TRUE((kl > 0).all().item<bool>());
}

TEST(NdpModel, MeanAggregationIsPermutationInvariant) {
  torch::manual_seed(3);  // module init draws from the default generator
  models::Ndp m = make_ndp(small_ndp());
  m.eval();
  torch::NoGradGuard g;
  data::Batch b = random_batch(2, 6, 5);
  at::Tensor x = b.x, tau = 10.0 * (b.t - b.t.select(1, 0).unsqueeze(1));  // τ up to 6, as on a 60-frame window
  models::DiagGaussian q = m.posterior(x, tau);
  at::Tensor perm = at::tensor({3, 0, 5, 1, 4, 2}, at::kLong);
  models::DiagGaussian qp = m.posterior(x.index_select(1, perm), tau.index_select(1, perm));
  const double perm_diff = std::max((q.mean - qp.mean).abs().max().item<double>(), (q.std - qp.std).abs().max().item<double>());
  EXPECT_LT(perm_diff, 1e-6);
  // ... but each time stays with its frame: pairing frames with other frames' times changes q. (Only the ReLU of the
  // encoder MLP sees the pairing, the first Linear sums to the same value, so the effect is small at init; give τ's
  // input weights unit scale to keep it well above rounding.)
  m.enc_mlp->ptr(0)->as<torch::nn::Linear>()->weight.select(1, 16).normal_();
  q = m.posterior(x, tau);
  models::DiagGaussian qx = m.posterior(x.index_select(1, perm), tau);
  std::cout << "[ndp] permuted pairs " << perm_diff << ", mismatched times " << (q.mean - qx.mean).abs().max().item<double>() << "\n";
  EXPECT_GT((q.mean - qx.mean).abs().max().item<double>(), 1e-5);
  // and the context sets of the model are the same aggregation: q(z|C) is q over the first K frames
  models::DiagGaussian qc = m.posterior_from_tokens(m.tokens(x).slice(1, 0, 4), tau.slice(1, 0, 4));
  models::DiagGaussian qc2 = m.posterior(x.slice(1, 0, 4), tau.slice(1, 0, 4));
  EXPECT_LT((qc.mean - qc2.mean).abs().max().item<double>(), 1e-6);
}

TEST(NdpModel, SolverWiringFollowsTheField) {
  torch::manual_seed(4);  // module init draws from the default generator
  models::Ndp m = make_ndp(small_ndp());
  m.eval();
  torch::NoGradGuard g;
  auto last = m.f->ptr(4)->as<torch::nn::Linear>();
  ASSERT_NE(last, nullptr);
  last->weight.zero_();
  last->bias.zero_();
  at::Tensor z = at::randn({3, 9});
  data::Batch b = random_batch(3, 7);
  at::Tensor tau = b.t - b.t.select(1, 0).unsqueeze(1);  // irregular, per row
  // f ≡ 0: L(τ) = L_0 for every τ
  at::Tensor L = m.latent_path(z, tau);
  ASSERT_EQ(L.sizes(), (std::vector<int64_t>{3, 7, 6}));
  EXPECT_EQ((L - z.slice(1, 0, 6).unsqueeze(1)).abs().max().item<double>(), 0.0);
  // f ≡ c: L(τ) = L_0 + c τ, which checks the time origin and the per-row grids
  last->bias.copy_(at::linspace(-1.0, 1.0, 6));
  L = m.latent_path(z, tau);
  at::Tensor expect = z.slice(1, 0, 6).unsqueeze(1) + tau.to(at::kFloat).unsqueeze(-1) * last->bias.view({1, 1, 6});
  EXPECT_LT((L - expect).abs().max().item<double>(), 1e-5);
  // predict starts from L_0 = mean of q(z|C) at the first context time, whatever the absolute times are
  last->bias.zero_();
  at::Tensor q = b.t.slice(1, 4) + 100.0;
  models::Prediction p = m.predict(b.steps(0, 4), q);
  models::DiagGaussian qc = m.posterior(b.x.slice(1, 0, 4), tau.slice(1, 0, 4));
  EXPECT_LT((p.latent - qc.mean.slice(1, 0, 6).unsqueeze(1)).abs().max().item<double>(), 1e-6);
}

TEST(NdpModel, TrainingStepsReduceTheLoss) {
  torch::manual_seed(5);  // module init draws from the default generator
  json o = small_ndp();
  o["rtol"] = 1e-3, o["atol"] = 1e-3;  // cheaper solves; the tolerance is not what this test is about
  auto m = models::create_model(o);
  m->train();
  // a blob moving to the right: learnable structure
  data::Batch b = random_batch(4, 10, 9);
  at::Tensor grid = at::arange(32, at::kFloat);
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t k = 0; k < 10; ++k) {
      const double cx = 6.0 + 2.0 * k + i, cy = 10.0 + 3.0 * i;
      at::Tensor gx = at::exp(-(grid - cx).pow(2) / 8.0), gy = at::exp(-(grid - cy).pow(2) / 8.0);
      b.x[i][k][0].copy_(gy.unsqueeze(1) * gx.unsqueeze(0));
    }
  auto loss_at = [&](uint64_t seed) { return m->loss(b, step_ctx(seed)).total; };
  const double before = loss_at(100).item<double>();
  torch::optim::Adam opt(m->parameters(), torch::optim::AdamOptions(3e-3));
  for (int step = 0; step < 8; ++step) {
    opt.zero_grad();
    at::Tensor l = loss_at(static_cast<uint64_t>(step));
    ASSERT_TRUE(std::isfinite(l.item<double>())) << step;
    l.backward();
    opt.step();
  }
  const double after = loss_at(100).item<double>();
  std::cout << "[ndp] loss before " << before << ", after " << after << "\n";
  EXPECT_LT(after, before - 0.05 * std::abs(before)) << "before " << before << " after " << after;
}

TEST(NdpOptions, DefaultsAndErrorsNameTheKey) {
  json j = models::NdpOptions::from_json(json{{"type", "ndp"}, {"channels", 1}, {"resolution", 32}}).to_json();
  EXPECT_EQ(j["d_L"], 32);
  EXPECT_EQ(j["d_D"], 16);
  EXPECT_EQ(j["hidden"], 128);
  EXPECT_EQ(j["decoder_uses_D"], false);
  EXPECT_EQ(j["context"], "first");
  EXPECT_EQ(j["predict_samples"], 1);
  EXPECT_EQ(j["solver"], "dopri5");
  EXPECT_EQ(j["rtol"], 1e-5);
  EXPECT_EQ(j["atol"], 1e-5);
  EXPECT_EQ(j["context_len"], 10);
  EXPECT_EQ(j["max_len"], 60);
  EXPECT_EQ(models::NdpOptions::from_json(j).to_json(), j);  // round trip

  json o = small_ndp();
  o["dL"] = 4;
  EXPECT_NE(config_error(o).find("did you mean 'd_L'"), std::string::npos) << config_error(o);
  o = small_ndp(), o["context"] = "randm";
  EXPECT_NE(config_error(o).find("context"), std::string::npos);
  EXPECT_NE(config_error(o).find("random"), std::string::npos) << config_error(o);
  o = small_ndp(), o["d_L"] = 0;
  EXPECT_NE(config_error(o).find("d_L"), std::string::npos) << config_error(o);
  o = small_ndp(), o["predict_samples"] = 0;
  EXPECT_NE(config_error(o).find("predict_samples"), std::string::npos) << config_error(o);
  o = small_ndp(), o["hidden"] = "wide";
  EXPECT_NE(config_error(o).find("hidden"), std::string::npos) << config_error(o);
  o = small_ndp(), o["solver"] = "dopri";
  EXPECT_NE(config_error(o).find("did you mean 'dopri5'"), std::string::npos) << config_error(o);
  o = small_ndp(), o["max_len"] = 4;
  EXPECT_NE(config_error(o).find("max_len"), std::string::npos) << config_error(o);
}

TEST(NdpModel, ParameterCountAt32x32) {
  auto m = models::create_model(json{{"type", "ndp"}, {"channels", 1}, {"resolution", 32}});
  int64_t total = 0, f = 0, heads = 0;
  for (const auto& kv : m->named_parameters()) {
    total += kv.value().numel();
    if (kv.key().rfind("f.", 0) == 0) f += kv.value().numel();
    if (kv.key().rfind("enc_mlp.", 0) == 0 || kv.key().rfind("to_", 0) == 0) heads += kv.value().numel();
  }
  // f: (49·128 + 128) + (128·128 + 128) + (128·32 + 32); encoder MLP + h + μ/σ heads: (129·128 + 128) +
  // (128·128 + 128) + (128·128 + 128) + 2 (128·48 + 48)
  EXPECT_EQ(f, 6400 + 16512 + 4128);
  EXPECT_EQ(heads, 16640 + 16512 + 16512 + 2 * 6192);
  std::cout << "[ndp] parameters at 32x32x1, default options: " << total << "\n";
}
