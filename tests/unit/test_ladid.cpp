// SPDX-License-Identifier: MIT
// LaDID acceptance tests of ladid.md §12: parameter counts, time encoding, attention window, rpe, curriculum, shapes.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "latdyn/core/error.hpp"
#include "latdyn/models/ladid.hpp"
#include "latdyn/models/registry.hpp"
#include "latdyn/nn/time_attention.hpp"
#include "latdyn/nn/time_encoding.hpp"

using namespace latdyn;

namespace {
models::LadidOptions resolved(int64_t channels, int64_t res) {
  models::LadidOptions o;
  o.channels = channels, o.resolution = res, o.time_span = 3.54, o.loss_scale = 25.0;
  return o;
}
int64_t n_params(torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}
int64_t n_params_prefix(torch::nn::Module& m, const std::string& prefix) {
  int64_t n = 0;
  for (const auto& kv : m.named_parameters())
    if (kv.key().rfind(prefix, 0) == 0) n += kv.value().numel();
  return n;
}
}  // namespace

TEST(Ladid, ParameterCountsMatchSpec) {
  // ladid.md §3.7: 733,522 / 857,170 / 1,351,762 at 32 / 64 / 128 with C = 1; C = 3: 735,126 / 858,774 / 1,353,366
  const std::vector<std::tuple<int64_t, int64_t, int64_t>> cases = {
      {1, 32, 733522}, {1, 64, 857170}, {1, 128, 1351762}, {3, 32, 735126}, {3, 64, 858774}, {3, 128, 1353366}};
  for (auto [c, res, total] : cases) {
    models::Ladid m(resolved(c, res));
    EXPECT_EQ(n_params(m), total) << "C=" << c << " res=" << res;
  }
  models::Ladid m(resolved(1, 32));
  EXPECT_EQ(n_params_prefix(m, "encoder."), 57648);
  EXPECT_EQ(n_params_prefix(m, "transformer."), 495232);
  EXPECT_EQ(n_params_prefix(m, "head_"), 8256);
  EXPECT_EQ(n_params_prefix(m, "dynamics."), 90656);
  EXPECT_EQ(n_params_prefix(m, "decoder."), 20050);
  EXPECT_EQ(n_params_prefix(m, "static_cnn."), 61680);
  auto pde = resolved(1, 64);  // preset pde64: d = 64, c_e = c_d = 16 -> 3,397,794
  pde.latent_dim = 64, pde.enc_channels = 16, pde.dec_channels = 16;
  models::Ladid big(pde);
  EXPECT_EQ(n_params(big), 3397794);
}

TEST(Ladid, MultiHeadKeepsParameterCount) {
  auto o = resolved(1, 32);
  o.attn_heads = 4;
  models::Ladid m(o);
  EXPECT_EQ(n_params(m), 733522);
}

TEST(Ladid, TimeEncoding) {
  at::Tensor w = nn::time_frequencies(3.54);
  EXPECT_NEAR(w[0].item<double>(), M_PI / 3.54, 1e-12);
  EXPECT_NEAR(w[15].item<double>(), 256 * M_PI / 3.54, 1e-9);
  at::Tensor g0 = nn::encode_time(torch::zeros({1}, torch::kDouble), w);
  ASSERT_EQ(g0.sizes(), (std::vector<int64_t>{1, 32}));
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(g0[0][2 * i].item<float>(), 0.0f);
    EXPECT_EQ(g0[0][2 * i + 1].item<float>(), 1.0f);
  }
  at::Tensor g = nn::encode_time(torch::full({1}, 0.7, torch::kDouble), w);
  EXPECT_NEAR(g[0][2].item<float>(), std::sin(0.7 * w[1].item<double>()), 1e-6);
  EXPECT_NEAR(g[0][3].item<float>(), std::cos(0.7 * w[1].item<double>()), 1e-6);
}

TEST(Ladid, TemporalWindowWeights) {
  // ladid.md §12.4: regular grid dt = 0.06, delta_r = 0.45 -> row i weights 1/|{j : |i-j| 0.06 < 0.45}|
  const int64_t m = 20;
  at::Tensor t = (torch::arange(m, torch::kDouble) * 0.06).unsqueeze(0);
  auto g = nn::TimeGrid::build(t, 0.45, 1e15, 0.01);
  at::Tensor a = torch::softmax(g.temporal, -1)[0];
  for (int64_t i = 0; i < m; ++i) {
    int64_t count = 0;
    for (int64_t j = 0; j < m; ++j) count += std::abs(i - j) * 0.06 < 0.45 ? 1 : 0;
    for (int64_t j = 0; j < m; ++j) {
      const double expect = std::abs(i - j) * 0.06 < 0.45 ? 1.0 / count : 0.0;
      EXPECT_NEAR(a[i][j].item<float>(), expect, 1e-6) << i << "," << j;
    }
  }
  // per-sample irregular grids give per-sample windows
  at::Tensor t2 = torch::stack({torch::arange(m, torch::kDouble) * 0.06, torch::arange(m, torch::kDouble) * 0.3});
  auto g2 = nn::TimeGrid::build(t2, 0.45, 1e15, 0.01);
  at::Tensor a2 = torch::softmax(g2.temporal, -1);
  EXPECT_NEAR(a2[1][5][4].item<float>(), 1.0 / 3.0, 1e-6);  // neighbours at 0.3 < 0.45, next at 0.6 excluded
  EXPECT_EQ(a2[1][5][3].item<float>(), 0.0f);
  EXPECT_NEAR(a2[0][5][4].item<float>(), 1.0 / 13.0, 1e-6);
  // rpe: clamp((t_j - t_i)/delta_r, -1, 1), antisymmetric
  at::Tensor c = g2.clamped;
  EXPECT_NEAR(c[0][2][3].item<float>(), 0.06f / 0.45f, 1e-6);
  EXPECT_NEAR(c[0][3][2].item<float>(), -0.06f / 0.45f, 1e-6);
  EXPECT_EQ(c[1][0][5].item<float>(), 1.0f);
  EXPECT_TRUE(torch::allclose(c, -c.transpose(1, 2)));
}

TEST(Ladid, RpeShortcutEqualsMaterialisedTensor) {
  // sum_j A_ij r_ij with r_ij = w_r * c_ij computed via the [S, M, M, E] tensor as in the reference
  torch::manual_seed(0);
  nn::TemporalTransformerOptions o;
  o.d_model(16).layers(2).d_ff(32);
  nn::TimeAttentionBlock blk(o, false);
  at::Tensor x = torch::randn({3, 7, 16});
  at::Tensor t = torch::cumsum(torch::rand({3, 7}, torch::kDouble) * 0.2 + 0.01, 1);
  auto g = nn::TimeGrid::build(t, 0.45, 1e15, 0.01);
  at::Tensor w = torch::randn({16});
  at::Tensor got = blk->forward(x, g, w);
  at::Tensor a = torch::softmax(torch::matmul(blk->wq(x), blk->wk(x).transpose(1, 2)) / 4.0, -1);
  at::Tensor r = g.clamped.unsqueeze(-1) * w.view({1, 1, 1, 16});  // [S, M, M, E]
  at::Tensor attn = blk->wout(torch::matmul(a, blk->wv(x)) + (a.unsqueeze(-1) * r).sum(2));
  at::Tensor y = blk->ln1(x + attn);
  at::Tensor expect = blk->ln2(y + blk->ff2(torch::relu(blk->ff1(y))));
  EXPECT_TRUE(torch::allclose(got, expect, 1e-5, 1e-5)) << (got - expect).abs().max();
}

TEST(Ladid, CurriculumTableMatchesSpec) {
  models::LadidOptions o = resolved(1, 32);
  auto ph = models::curriculum_phases(o);
  // ladid.md §5: q, L, n, scored = n*q
  const std::vector<std::array<int64_t, 4>> expect = {{1, 60, 50, 50}, {2, 60, 25, 50}, {4, 58, 12, 48}, {8, 58, 6, 48},
                                                      {16, 58, 3, 48}, {32, 42, 1, 32}, {50, 60, 1, 50}};
  ASSERT_EQ(ph.size(), expect.size());
  for (size_t i = 0; i < ph.size(); ++i) {
    EXPECT_EQ(ph[i].q, expect[i][0]) << i;
    EXPECT_EQ(ph[i].length, expect[i][1]) << i;
    EXPECT_EQ(ph[i].blocks, expect[i][2]) << i;
    EXPECT_EQ(ph[i].blocks * ph[i].q, expect[i][3]) << i;
    EXPECT_EQ(ph[i].first_epoch, static_cast<int64_t>(10 * i));
  }
  o.max_len = 50;  // PDE sets: q = 1, 2, 4, 8, 16, 32, 40
  auto pde = models::curriculum_phases(o);
  std::vector<int64_t> qs;
  for (auto& p : pde) qs.push_back(p.q);
  EXPECT_EQ(qs, (std::vector<int64_t>{1, 2, 4, 8, 16, 32, 40}));
  o.max_len = 60, o.overlap = 1;  // overlap schedule 1, 1, 2, 4, 8, 16, 0
  std::vector<int64_t> os;
  for (auto& p : models::curriculum_phases(o)) os.push_back(p.overlap);
  EXPECT_EQ(os, (std::vector<int64_t>{1, 1, 2, 4, 8, 16, 0}));
  o.phase_epochs = {1, 2};
  EXPECT_THROW(models::curriculum_phases(o), ConfigError);
}

namespace {
models::LadidOptions small_opts() {
  models::LadidOptions o = resolved(1, 32);
  o.latent_dim = 8, o.token_mult = 2, o.enc_channels = 4, o.dec_channels = 4, o.tf_layers = 2, o.dyn_width_mult = 2;
  o.context_len = 4, o.max_len = 20;
  return o;
}
data::Batch random_batch(int64_t b, int64_t steps) {
  data::Batch batch;
  batch.x = torch::rand({b, steps, 1, 32, 32});
  batch.t = torch::cumsum(torch::rand({b, steps}, torch::kDouble) * 0.05 + 0.03, 1);
  batch.mask = torch::ones({b, steps});
  batch.index = torch::arange(b);
  return batch;
}
}  // namespace

TEST(Ladid, LossRunsInEveryPhaseWithAndWithoutOverlap) {
  for (int64_t overlap : {0, 1}) {
    auto o = small_opts();
    o.overlap = overlap;
    models::Ladid m(o);
    data::Batch b = random_batch(3, 20);
    for (int64_t p = 0; p < m.n_phases(); ++p) {
      models::StepContext ctx{0, m.phases()[p].first_epoch, at::detail::createCPUGenerator(1), true};
      auto terms = m.loss(b, ctx);
      EXPECT_TRUE(std::isfinite(terms.total.item<double>())) << "phase " << p << " overlap " << overlap;
      std::map<std::string, double> named;
      for (auto& kv : terms.terms) named[kv.first] = kv.second.item<double>();
      EXPECT_EQ(named.at("q"), static_cast<double>(m.phases()[p].q));
      EXPECT_EQ(named.count("ov") > 0, m.phases()[p].overlap > 0 && m.phases()[p].blocks > 1) << "phase " << p;
      terms.total.backward();
    }
  }
}

TEST(Ladid, OptionModesAndValidation) {
  for (std::string std_mode : {"exp", "softplus"}) {
    auto o = small_opts();
    o.posterior_std = std_mode, o.psi_prior_mode = "kl";
    models::Ladid m(o);
    auto terms = m.loss(random_batch(2, 20), models::StepContext{0, 100, at::detail::createCPUGenerator(1), true});
    EXPECT_TRUE(std::isfinite(terms.total.item<double>()));
  }
  auto o = small_opts();
  o.variational = false;
  models::Ladid m(o);
  auto terms = m.loss(random_batch(2, 20), models::StepContext{0, 100, at::detail::createCPUGenerator(1), true});
  for (auto& kv : terms.terms) EXPECT_NE(kv.first, "psi");
  EXPECT_THROW(models::LadidOptions::from_json(json{{"psi_prior_mode", "kl"}}), ConfigError);
  EXPECT_THROW(models::LadidOptions::from_json(json{{"attn_type", "dq"}}), ConfigError);
  EXPECT_THROW(models::LadidOptions::from_json(json{{"resolution", 40}}), ConfigError);
  // psi_prior = false cannot take effect without L_lat (§4.2): an error that names the way to drop both terms
  try {
    models::LadidOptions::from_json(json{{"full_traj_term", false}, {"psi_prior", false}});
    ADD_FAILURE() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("smoothness_scaling"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(models::LadidOptions::from_json(json{{"full_traj_term", false}, {"psi_prior", false}, {"variational", false}}));
  EXPECT_NO_THROW(models::LadidOptions::from_json(json{{"psi_prior", false}}));
}

TEST(Ladid, HyperparamsRoundTripRebuildsIdenticalSkeleton) {
  auto o = small_opts();
  o.out_bias = "-2.5";
  auto m = models::create_model(o.to_json());
  json h = m->hyperparams();
  auto m2 = models::create_model(h);
  EXPECT_EQ(m2->hyperparams(), h);
  EXPECT_EQ(n_params(*m2), n_params(*m));
  auto* l = dynamic_cast<models::Ladid*>(m2.get());
  ASSERT_NE(l, nullptr);
  EXPECT_FLOAT_EQ(l->decoder->out->bias[0].item<float>(), -2.5f);
}

TEST(Ladid, PredictsAnyQueryTimesAndIsBatchInvariant) {
  models::Ladid m(small_opts());
  m.eval();
  torch::NoGradGuard g;
  data::Batch b = random_batch(3, 20);
  at::Tensor q = torch::stack({torch::linspace(0.0, 3.0, 7, torch::kDouble), torch::linspace(0.1, 1.0, 7, torch::kDouble),
                               torch::linspace(0.05, 0.5, 7, torch::kDouble)});
  auto p = m.predict(b.steps(0, 4), q);
  ASSERT_EQ(p.mean.sizes(), (std::vector<int64_t>{3, 7, 1, 32, 32}));
  EXPECT_TRUE((p.mean > 0).all().item<bool>() && (p.mean < 1).all().item<bool>());
  for (int64_t i = 0; i < 3; ++i) {
    auto one = m.predict(b.rows(i, 1).steps(0, 4), q.narrow(0, i, 1));
    EXPECT_TRUE(torch::allclose(one.mean[0], p.mean[i], 1e-5, 1e-6)) << "row " << i;
  }
}
