// SPDX-License-Identifier: MIT
// DynAE acceptance tests of dynae.md §17.1-17.6: parameter counts, SW estimator, regular-space clustering (chunked
// reference scan == sequential scan), the worked resampling example, the prior NLL, optimizer groups and schedule.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <tuple>

#include "latdyn/core/error.hpp"
#include "latdyn/core/fs_util.hpp"
#include "latdyn/core/rng.hpp"
#include "latdyn/models/ae_baselines.hpp"
#include "latdyn/models/dynae.hpp"
#include "latdyn/models/latent_binning.hpp"
#include "latdyn/models/registry.hpp"
#include "latdyn/nn/ae_nets.hpp"
#include "latdyn/train/trainer.hpp"
#include "support.hpp"

using namespace latdyn;
namespace fs = std::filesystem;

namespace {
int64_t n_params(torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}
models::DynaeOptions vector_options(int64_t dim = 2) {
  models::DynaeOptions o;
  o.ae.frame_shape = {dim};
  return o;
}
// A one-trajectory vector dataset: a 2-D random walk with unit-variance steps, observed through (x, y + x^2 / 10).
data::Dataset walk_dataset(int64_t steps, uint64_t seed) {
  at::Generator g = make_generator(seed, "test_walk");
  at::Tensor xy = at::randn({steps, 2}, g, at::TensorOptions().dtype(at::kDouble)).cumsum(0) * 0.3;
  at::Tensor obs = at::stack({xy.select(1, 0), xy.select(1, 1) + xy.select(1, 0).pow(2) / 10}, 1);
  data::Dataset ds;
  ds.y = obs.to(at::kFloat).unsqueeze(0);
  ds.t = at::arange(steps, at::kDouble).unsqueeze(0) * 0.01;
  ds.split = at::zeros({1}, at::kByte);
  ds.truth["xy"] = xy.to(at::kFloat).unsqueeze(0);
  return ds;
}
// The reference's chunked scan (dynae.md §6.1): chunks of 128 candidates; inside a chunk the first point farther
// than d_min from every centre becomes a centre and the scan restarts after it.
at::Tensor chunked_centres(const at::Tensor& z, const at::Tensor& perm, double dmin) {
  at::Tensor zp = z.index_select(0, perm).to(at::kDouble);
  std::vector<at::Tensor> centres = {zp[0]};
  int64_t i = 1;
  while (i < zp.size(0)) {
    at::Tensor chunk = zp.slice(0, i, std::min(zp.size(0), i + 128));
    at::Tensor d = at::cdist(chunk, at::stack(centres)).amin(1);
    at::Tensor far = at::nonzero(d > dmin).flatten();
    if (far.numel() == 0) {
      i += chunk.size(0);
      continue;
    }
    const int64_t j = far[0].item<int64_t>();
    centres.push_back(chunk[j]);
    i += j + 1;
  }
  return at::stack(centres);
}
}  // namespace

TEST(Dynae, ParameterCountsMatchSpec) {  // §17.1
  models::Dynae fc(vector_options());
  int64_t enc = 0, dec = 0, force = 0, logdiff = 0;
  for (const auto& kv : fc.named_parameters()) {
    const auto& k = kv.key();
    int64_t n = kv.value().numel();
    if (k.rfind("encoder.", 0) == 0) enc += n;
    if (k.rfind("decoder.", 0) == 0) dec += n;
    if (k.rfind("force.", 0) == 0) force += n;
    if (k.rfind("logdiff.", 0) == 0) logdiff += n;
  }
  EXPECT_EQ(enc, 2274);
  EXPECT_EQ(dec, 2274);
  EXPECT_EQ(force, 1218);
  EXPECT_EQ(logdiff, 1218);
  nn::AeNetSpec img{"conv", {1, 64, 64}, 256, 2, 1};
  auto e = nn::make_encoder(img);
  img.kind = "deconv";
  auto d = nn::make_decoder(img);
  EXPECT_EQ(n_params(*e), 116946);
  EXPECT_EQ(n_params(*d), 379265);
  EXPECT_EQ(e->forward(at::zeros({3, 1, 64, 64})).sizes(), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(d->forward(at::zeros({3, 2})).sizes(), (std::vector<int64_t>{3, 1, 64, 64}));
}

TEST(Dynae, SlicedWassersteinProperties) {  // §17.2
  at::Generator g = make_generator(1, "t");
  at::Tensor x = at::randn({256, 2}, g);
  EXPECT_NEAR(models::sliced_wasserstein(x, x, 50, make_generator(2, "t")).item<double>(), 0.0, 1e-12);
  // Permuting either set leaves the estimate unchanged (same directions: same generator seed).
  at::Tensor y = at::randn({256, 2}, g);
  const double a = models::sliced_wasserstein(x, y, 50, make_generator(3, "t")).item<double>();
  const double b = models::sliced_wasserstein(x.index_select(0, at::randperm(256, g)), y, 50, make_generator(3, "t")).item<double>();
  EXPECT_NEAR(a, b, 1e-6 * std::max(1.0, a));
  // A shift u: estimate = mean_l <theta_l, u>^2, expectation |u|^2 / d.
  at::Tensor u = at::tensor({3.0f, -4.0f});
  double sum = 0;
  for (int r = 0; r < 200; ++r) sum += models::sliced_wasserstein(x + u, x, 50, make_generator(10 + r, "t")).item<double>();
  EXPECT_NEAR(sum / 200, 25.0 / 2, 0.5);
  // Exactly mean_l <theta_l,u>^2 for the directions drawn from the generator.
  at::Generator g1 = make_generator(99, "t"), g2 = make_generator(99, "t");
  at::Tensor theta = at::randn({2, 50}, g1);
  theta = theta / theta.norm(2, 0, true);
  const double expected = (u.matmul(theta)).pow(2).mean().item<double>();
  EXPECT_NEAR(models::sliced_wasserstein(x + u, x, 50, g2).item<double>(), expected, 1e-4);
}

TEST(Dynae, RegularSpaceClusteringMatchesChunkedScan) {  // §17.3
  at::Generator g = make_generator(5, "t");
  at::Tensor z = at::randn({3000, 2}, g, at::TensorOptions().dtype(at::kDouble)) * 10;
  at::Tensor perm = at::randperm(3000, g);
  at::Tensor seq = models::regular_space_centres(z, perm, 4.0, 200);
  at::Tensor ref = chunked_centres(z, perm, 4.0);
  ASSERT_EQ(seq.sizes(), ref.sizes());
  EXPECT_TRUE(at::allclose(seq, ref));
  EXPECT_GT(seq.size(0), 10);
  // Every point is within d_min of some centre; centres are pairwise farther apart than d_min.
  EXPECT_LE(at::cdist(z, seq).amin(1).max().item<double>(), 4.0);
  at::Tensor cc = at::cdist(seq, seq) + at::eye(seq.size(0), at::kDouble) * 1e9;
  EXPECT_GT(cc.min().item<double>(), 4.0);
  try {
    models::regular_space_centres(z, perm, 0.5, 200);
    FAIL() << "expected the too-many-centres error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("Too many bin centres"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("min_dist"), std::string::npos) << e.what();
  }
  // Ties go to the lowest centre index.
  at::Tensor c = at::tensor({0.0, 0.0, 2.0, 0.0}, at::kDouble).view({2, 2});
  EXPECT_EQ(models::assign_to_centres(at::tensor({1.0, 0.0}, at::kDouble).view({1, 2}), c).item<int64_t>(), 0);
}

TEST(Dynae, WellTemperedResamplingWorkedExample) {  // §17.4 / §6.3
  std::vector<int64_t> n = {600, 300, 80, 20};
  std::vector<int64_t> lab;
  for (size_t k = 0; k < n.size(); ++k) lab.insert(lab.end(), static_cast<size_t>(n[k]), static_cast<int64_t>(k));
  at::Tensor labels = at::tensor(lab, at::kLong).index_select(0, at::randperm(1000, make_generator(1, "t")));
  at::Tensor batches = models::well_tempered_batches(labels, n, 100, 2.0, make_generator(2, "t"));
  ASSERT_EQ(batches.sizes(), (std::vector<int64_t>{8, 100}));
  int64_t from0 = 0, from1 = 0;
  for (int64_t r = 0; r < 8; ++r) {
    at::Tensor bl = labels.index_select(0, batches[r]);
    EXPECT_TRUE((bl == bl[0]).all().item<bool>()) << "batch " << r << " mixes bins";
    (bl[0].item<int64_t>() == 0 ? from0 : from1) += 1;
  }
  EXPECT_EQ(from0, 5);  // one chunk of 500
  EXPECT_EQ(from1, 3);  // one chunk of 300
  EXPECT_NO_THROW(models::check_bin_populations(n, 100, 5.0));  // 900 >= 800
  try {
    models::check_bin_populations({150, 90, 90, 90}, 100, 5.0);
    FAIL() << "expected the too-few-samples error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("Too few samples per bin"), std::string::npos) << e.what();
  }
}

TEST(Dynae, PriorNllFormulaAndSpuriousDrift) {  // §17.5
  models::Dynae m(vector_options());
  // s = 0 and f = 0: zero the last layers of both nets.
  {
    torch::NoGradGuard ng;
    for (auto& kv : m.named_parameters())
      if (kv.key().find(".4.") != std::string::npos) kv.value().zero_();
  }
  at::Generator g = make_generator(3, "t");
  at::Tensor z0 = at::randn({64, 2}, g), z1 = at::randn({64, 2}, g);
  EXPECT_NEAR(m.prior_nll(z0, z1).item<double>(), (z1 - z0).pow(2).sum(1).mean().item<double>() / 4, 1e-5);
  // Spurious drift vs finite differences on a fresh (non-zero) net: NLL(z0,z1) with div = M_i ds_i/dz_i.
  models::Dynae m2(vector_options());
  at::Tensor z = at::randn({5, 2}, g, at::TensorOptions().dtype(at::kFloat));
  const double h = 1e-2;
  at::Tensor fd = at::zeros({5, 2});
  {
    torch::NoGradGuard ng;
    for (int i = 0; i < 2; ++i) {
      at::Tensor e = at::zeros({1, 2});
      e[0][i] = h;
      fd.select(1, i).copy_((m2.log_diffusion(z + e).select(1, i).exp() - m2.log_diffusion(z - e).select(1, i).exp()) / (2 * h));
    }
  }
  // NLL with z1 = z0 + M f + div (zero residual): equals mean 0.5 sum s.
  at::Tensor s, f;
  {
    torch::NoGradGuard ng;
    s = m2.log_diffusion(z), f = m2.force(z);
  }
  at::Tensor z1_exact = z + s.exp() * f + fd;
  const double nll = m2.prior_nll(z, z1_exact).item<double>();
  EXPECT_NEAR(nll, (0.5 * s.sum(1)).mean().item<double>(), 1e-4);
}

TEST(Dynae, OptimizerGroupsAndWarmupSchedule) {  // §17.6
  models::Dynae m(vector_options());
  auto groups = m.param_groups();
  ASSERT_EQ(groups.size(), 2u);
  int64_t ae = 0, prior = 0;
  for (auto& p : groups[0].params) ae += p.numel();
  for (auto& p : groups[1].params) prior += p.numel();
  EXPECT_EQ(ae, 2274 * 2);
  EXPECT_EQ(prior, 1218 * 2);
  EXPECT_DOUBLE_EQ(m.group_lr(0, 0, 1e-3), 1e-4);  // warm-up epoch
  EXPECT_DOUBLE_EQ(m.group_lr(0, 1, 1e-3), 1e-3);
  EXPECT_DOUBLE_EQ(m.group_lr(1, 0, 1e-3), 1e-3);  // prior: created once, constant lr
  EXPECT_TRUE(m.reset_moments_at(0, 1));
  EXPECT_FALSE(m.reset_moments_at(0, 2));
  EXPECT_FALSE(m.reset_moments_at(1, 1));
  // The autoencoder loss never reaches f or s, the NLL never reaches E or D (gradient-disjoint groups).
  data::Dataset ds = walk_dataset(2000, 1);
  m.bind_data(ds, ds, 64, 0);
  data::Batch b = m.train_batch(0, 0);
  models::StepContext ctx{0, 0, make_generator(0, "noise"), true};
  auto terms = m.loss(b, ctx);
  m.zero_grad();
  terms.total.backward();
  for (auto& p : groups[0].params) ASSERT_TRUE(p.grad().defined());
  for (auto& p : groups[1].params) ASSERT_TRUE(p.grad().defined());
  // The NLL alone, on latents that carry the encoder's graph, leaves the encoder untouched.
  m.zero_grad();
  auto enc = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(m.named_children()["encoder"]);
  ASSERT_TRUE(enc);
  at::Tensor nll = m.prior_nll(enc->forward(b.x.select(1, 0)), enc->forward(b.x.select(1, 1)));
  nll.backward();
  for (auto& p : groups[0].params) EXPECT_TRUE(!p.grad().defined() || p.grad().abs().sum().item<double>() == 0);
  double prior_grad = 0;
  for (auto& p : groups[1].params) prior_grad += p.grad().defined() ? p.grad().abs().sum().item<double>() : 0;
  EXPECT_GT(prior_grad, 0);
}

TEST(Dynae, BetaScheduleSetsTheWeightAndThePhases) {
  // Without a schedule: beta throughout (beta/100 in the training warm-up), one phase.
  json plain = {{"frame_shape", {2}}, {"beta", 10}};
  models::Dynae ref(models::DynaeOptions::from_json(plain));
  EXPECT_EQ(ref.n_phases(), 1);
  EXPECT_EQ(ref.final_phase_start(), 0);
  EXPECT_FALSE(ref.hyperparams().contains("beta_schedule"));  // resolved options of older runs stay identical
  // beta 10, then 100 from epoch 3, then 30 from epoch 5.
  json cfg = plain;
  cfg["beta_schedule"] = json::array({{{"epoch", 3}, {"beta", 100}}, {{"epoch", 5}, {"beta", 30}}});
  const models::DynaeOptions o = models::DynaeOptions::from_json(cfg);
  EXPECT_EQ(models::DynaeOptions::from_json(o.to_json()).to_json(), o.to_json());
  models::Dynae m(o);
  const std::vector<double> want_beta = {10, 10, 10, 100, 100, 30, 30};
  const std::vector<int64_t> want_phase = {0, 0, 0, 1, 1, 2, 2};
  for (int64_t e = 0; e < 7; ++e) {
    EXPECT_DOUBLE_EQ(o.beta_at(e), want_beta[e]) << "epoch " << e;
    EXPECT_EQ(m.phase_of_epoch(e), want_phase[e]) << "epoch " << e;
  }
  EXPECT_EQ(m.n_phases(), 3);
  EXPECT_EQ(m.final_phase_start(), 5);
  // The loss applies the scheduled weight: logged beta and total = rec + beta * sw + nll.
  data::Dataset ds = walk_dataset(2000, 3);
  m.bind_data(ds, ds, 64, 0);
  data::Batch b = m.train_batch(0, 0);
  for (auto [epoch, training, want] : std::vector<std::tuple<int64_t, bool, double>>{
           {0, true, 0.1}, {0, false, 10}, {3, true, 100}, {4, false, 100}, {6, true, 30}}) {
    models::StepContext ctx{0, epoch, make_generator(0, "noise"), training};
    auto terms = m.loss(b, ctx);
    std::map<std::string, double> t;
    for (auto& [name, v] : terms.terms) t[name] = v.item<double>();
    EXPECT_DOUBLE_EQ(t["beta"], want) << "epoch " << epoch << (training ? " training" : " validation");
    EXPECT_NEAR(terms.total.item<double>(), t["rec"] + want * t["sw"] + t["nll"], 1e-3 * std::abs(terms.total.item<double>()));
  }
  // Bad schedules name the entry and the rule.
  for (json bad : {json::array({{{"epoch", 0}, {"beta", 100}}}),
                   json::array({{{"epoch", 4}, {"beta", 100}}, {{"epoch", 4}, {"beta", 30}}}),
                   json::array({{{"epoch", 4}, {"beta", -1}}}), json::array({{{"epoch", 4}, {"weight", 100}}}),
                   json::array({{{"epoch", 4}, {"beta", 100}, {"bta", 1}}}), json(100)}) {
    json c = plain;
    c["beta_schedule"] = bad;
    try {
      models::DynaeOptions::from_json(c);
      FAIL() << "accepted " << bad.dump();
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("beta_schedule"), std::string::npos) << e.what();
    }
  }
}

TEST(Dynae, BetaScheduleDrivesTheTrainersPhases) {
  // A scheduled run through the Trainer: each beta is a phase in the log, best_phase_P per beta, `best` from the last.
  json cfg = {{"frame_shape", {2}}, {"min_dist", 0.5}, {"beta_schedule", json::array({{{"epoch", 2}, {"beta", 100}}})}};
  auto m = std::make_shared<models::Dynae>(models::DynaeOptions::from_json(cfg));
  const std::string run = test::temp_dir("dynae_beta_schedule") + "/run";
  fs::create_directories(run);
  write_text_atomic(run + "/config.json", "{}");
  json trainer = {{"epochs", 3}, {"batch_size", 64}, {"progress", false}, {"threads", 1}};
  data::Dataset ds = walk_dataset(4000, 4);
  train::Trainer(train::TrainerOptions::from_json(trainer), m, ds, ds, run).fit(false);
  std::map<int64_t, double> beta_of_phase;
  for (const json& line : test::log_lines(run, "loss_total"))
    beta_of_phase[line["phase"].get<int64_t>()] = line["loss_beta"].get<double>();
  EXPECT_DOUBLE_EQ(beta_of_phase.at(0), 10);  // epoch 1 (epoch 0 logs the warm-up's 0.1)
  EXPECT_DOUBLE_EQ(beta_of_phase.at(1), 100);
  std::vector<int64_t> val_phases;
  for (const json& line : test::log_lines(run, "val_loss")) val_phases.push_back(line["phase"].get<int64_t>());
  EXPECT_EQ(val_phases, (std::vector<int64_t>{0, 0, 1}));
  EXPECT_TRUE(fs::exists(run + "/ckpt/best_phase_0/DONE"));
  EXPECT_TRUE(fs::exists(run + "/ckpt/best_phase_1/DONE"));
  EXPECT_EQ(read_json_file(run + "/ckpt/best/state.json")["step"], read_json_file(run + "/ckpt/best_phase_1/state.json")["step"]);
  // A run too short to reach the last beta is refused before any step.
  trainer["epochs"] = 2;
  try {
    train::Trainer(train::TrainerOptions::from_json(trainer), m, ds, ds, run + "_short");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("final curriculum phase"), std::string::npos) << e.what();
  }
}

TEST(Dynae, EpochPlanIsOneBinPerBatch) {
  models::DynaeOptions o = vector_options();
  o.min_dist = 0.5;
  models::Dynae m(o);
  data::Dataset ds = walk_dataset(4000, 2);
  m.bind_data(ds, ds, 64, 0);
  EXPECT_EQ(m.steps_per_epoch(), 3999 * 4 / 5 / 64);  // 3,999 pairs, 80 % train
  m.begin_epoch(1);
  ASSERT_GT(m.centres().size(0), 0);
  // Every batch's first frames map to one centre.
  for (int64_t pos = 0; pos < 5; ++pos) {
    data::Batch b = m.train_batch(1, pos);
    at::Tensor lab = models::assign_to_centres(m.encode(b.x.select(1, 0)), m.centres());
    EXPECT_TRUE((lab == lab[0]).all().item<bool>()) << "position " << pos;
  }
  // d_min too small for the bins: the clear error with a hint.
  o.min_dist = 1e-4;
  models::Dynae tiny(o);
  tiny.bind_data(ds, ds, 64, 0);
  try {
    tiny.begin_epoch(1);
    FAIL() << "expected an error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("min_dist"), std::string::npos) << e.what();
  }
}

TEST(Dynae, BaselinesBuildTrainAndEncode) {
  data::Dataset ds = walk_dataset(1000, 3);
  for (const char* name : {"beta_vae", "swae", "sde_vae", "dynae"}) {
    json cfg = models::resolve_model_options(json{{"type", name}}, ds, 32);
    auto model = models::create_model(cfg);
    auto* sampler = dynamic_cast<models::EpochSampler*>(model.get());
    auto* enc = dynamic_cast<models::LatentEncoder*>(model.get());
    ASSERT_TRUE(sampler && enc) << name;
    sampler->bind_data(ds, ds, 32, 0);
    models::StepContext ctx{0, 0, make_generator(0, "noise"), true};
    auto terms = model->loss(sampler->train_batch(0, 0), ctx);
    EXPECT_TRUE(std::isfinite(terms.total.item<double>())) << name;
    terms.total.backward();
    EXPECT_EQ(enc->encode(ds.y[0].slice(0, 0, 10)).sizes(), (std::vector<int64_t>{10, 2})) << name;
    EXPECT_EQ(model->hyperparams().at("type"), name);
    // Rebuilds from its own hyperparameters.
    auto again = models::create_model(model->hyperparams());
    EXPECT_EQ(n_params(*again), n_params(*model)) << name;
  }
  EXPECT_THROW(models::create_model(json{{"type", "dynae"}, {"frame_shape", {2}}, {"force_param", "grad"}}), ConfigError);
}
