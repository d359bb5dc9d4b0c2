// SPDX-License-Identifier: MIT
// Adamax (baselines.md §3.4): parity with torch.optim.Adamax (reference numbers from tests/reference/adamax_reference.py),
// a hand-computed update with weight decay, bit-exact save/load through checkpoints and through a trainer resume,
// trainer.optimizer.type validation, the exponential lr schedule, and the ODE baselines' settings in the compare config.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <type_traits>

#include "latdyn/core/error.hpp"
#include "latdyn/core/fs_util.hpp"
#include "latdyn/train/adamax.hpp"
#include "latdyn/train/checkpoint.hpp"
#include "latdyn/train/schedule.hpp"
#include "latdyn/train/trainer.hpp"
#include "support.hpp"

#include "adamax_reference.inc"

using namespace latdyn;
namespace fs = std::filesystem;

namespace {

// Must stay identical to make_problem() / loss_of() in tests/reference/adamax_reference.py.
struct Problem : torch::nn::Module {
  at::Tensor x, y, w, b, unused;
  Problem() {
    const auto d = at::TensorOptions().dtype(at::kDouble);
    x = (at::arange(20, d) * 0.7 + 0.3).sin().reshape({5, 4});
    y = (at::arange(15, d) * 0.4).cos().reshape({5, 3});
    w = register_parameter("w", (0.3 * (at::arange(12, d) * 1.3 + 0.1).sin()).reshape({3, 4}));
    b = register_parameter("b", 0.1 * (at::arange(3, d) * 2.1).cos());
    unused = register_parameter("unused", at::tensor({0.5, -0.25}, d));
  }
  at::Tensor loss() const { return (at::tanh(x.matmul(w.t()) + b) - y).pow(2).mean(); }
  at::Tensor flat() const { return at::cat({w.detach().reshape(-1), b.detach(), unused.detach()}); }
};

// One step: zero_grad, backward, step.
void step(torch::optim::Optimizer& opt, Problem& p) {
  opt.zero_grad();
  p.loss().backward();
  opt.step();
}

// LibTorch keys the optimizer state by the TensorImpl: its address as a string up to 1.13, the pointer later.
template <class Map>
typename Map::key_type key_for(const at::Tensor& p) {
  if constexpr (std::is_same_v<typename Map::key_type, std::string>) {
    std::ostringstream os;
    os << p.unsafeGetTensorImpl();
    return os.str();
  } else {
    return p.unsafeGetTensorImpl();
  }
}

// The Adamax state of parameter `p`.
const train::AdamaxParamState& state_of(const torch::optim::Optimizer& opt, const at::Tensor& p) {
  using Map = std::remove_cv_t<std::remove_reference_t<decltype(opt.state())>>;
  auto it = opt.state().find(key_for<Map>(p));
  if (it == opt.state().end()) throw std::runtime_error("no optimizer state for this parameter");
  return static_cast<const train::AdamaxParamState&>(*it->second);
}

void expect_row(const at::Tensor& got, const double* want, int64_t n, double tol, const std::string& what) {
  ASSERT_EQ(got.numel(), n) << what;
  auto acc = got.contiguous().to(at::kDouble);
  const double* g = acc.data_ptr<double>();
  for (int64_t i = 0; i < n; ++i) ASSERT_NEAR(g[i], want[i], tol) << what << " element " << i;
}

// float64 on both sides with the same kernels: agreement is at rounding level; 1e-10 leaves room for other BLAS.
constexpr double kParityTol = 1e-10;

}  // namespace

TEST(Adamax, MatchesTorchAdamaxOneGroup) {
  Problem p;
  train::Adamax opt(p.parameters(), train::AdamaxOptions(0.02));
  for (int k = 0; k < adamax_ref::kSteps; ++k) {
    step(opt, p);
    expect_row(p.flat(), adamax_ref::kAParams[k], 17, kParityTol, "params after step " + std::to_string(k + 1));
  }
  const auto& sw = state_of(opt, p.w);
  const auto& sb = state_of(opt, p.b);
  EXPECT_EQ(sw.step(), adamax_ref::kAStateStep);
  expect_row(at::cat({sw.exp_avg().reshape(-1), sb.exp_avg()}), adamax_ref::kAExpAvg, 15, kParityTol, "exp_avg");
  expect_row(at::cat({sw.exp_inf().reshape(-1), sb.exp_inf()}), adamax_ref::kAExpInf, 15, kParityTol, "exp_inf");
  // a parameter without gradient is neither moved nor given a state (as in PyTorch)
  EXPECT_EQ(opt.state().size(), 2u);
  // the reference itself moved: a no-op optimizer could not pass
  EXPECT_GT(std::abs(adamax_ref::kAParams[adamax_ref::kSteps - 1][0] - 0.3 * std::sin(0.1)), 0.1);
}

TEST(Adamax, MatchesTorchAdamaxGroupsWeightDecayAndExponentialSchedule) {
  Problem p;
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<at::Tensor>{p.w, p.unused},
                      std::make_unique<train::AdamaxOptions>(
                          train::AdamaxOptions(0.01).betas({0.8, 0.99}).eps(1e-6).weight_decay(0.1)));
  groups.emplace_back(std::vector<at::Tensor>{p.b});  // takes the defaults below
  train::Adamax opt(std::move(groups), train::AdamaxOptions(0.05));
  // The trainer's schedule with base lr 1 gives the multiplier max(0.8^k, 0.1) (floor from step 11 on).
  train::ScheduleOptions so;
  so.type = "exponential", so.gamma = 0.8, so.min_lr_factor = 0.1;
  train::Schedule sched(so, 1.0, 1000, 0);
  const double base[2] = {0.01, 0.05};
  for (int k = 0; k < adamax_ref::kSteps; ++k) {
    for (size_t g = 0; g < 2; ++g) opt.param_groups()[g].options().set_lr(base[g] * sched.lr(k));
    step(opt, p);
    expect_row(p.flat(), adamax_ref::kBParams[k], 17, kParityTol, "params after step " + std::to_string(k + 1));
  }
  const auto& sw = state_of(opt, p.w);
  const auto& sb = state_of(opt, p.b);
  EXPECT_EQ(sw.step(), adamax_ref::kBStateStep);
  expect_row(at::cat({sw.exp_avg().reshape(-1), sb.exp_avg()}), adamax_ref::kBExpAvg, 15, kParityTol, "exp_avg");
  expect_row(at::cat({sw.exp_inf().reshape(-1), sb.exp_inf()}), adamax_ref::kBExpInf, 15, kParityTol, "exp_inf");
}

TEST(Adamax, TwoStepsByHandWithWeightDecay) {
  // loss = 3 p, so grad = 3; weight decay 0.5 adds 0.5 p to it (L2, not decoupled)
  const double lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.5;
  at::Tensor w = at::full({1}, 2.0, at::kDouble).requires_grad_();
  train::Adamax opt(std::vector<at::Tensor>{w}, train::AdamaxOptions(lr).betas({b1, b2}).eps(eps).weight_decay(wd));
  double p = 2.0, m = 0, u = 0;
  for (int t = 1; t <= 2; ++t) {
    opt.zero_grad();
    (3.0 * w).sum().backward();
    opt.step();
    const double g = 3.0 + wd * p;
    m = b1 * m + (1 - b1) * g;
    u = std::max(b2 * u, std::abs(g) + eps);
    p -= lr / (1 - std::pow(b1, t)) * m / u;
    EXPECT_NEAR(w.item<double>(), p, 1e-14) << "step " << t;
  }
  EXPECT_NEAR(p, 2.0 - 0.1 - 0.1, 1e-3);  // roughly lr per step while the gradient keeps its sign
}

TEST(Adamax, RejectsInvalidOptions) {
  at::Tensor w = at::zeros({1}).requires_grad_();
  EXPECT_THROW(train::Adamax(std::vector<at::Tensor>{w}, train::AdamaxOptions(-1.0)), c10::Error);
  EXPECT_THROW(train::Adamax(std::vector<at::Tensor>{w}, train::AdamaxOptions(1e-3).betas({0.9, 1.0})), c10::Error);
  EXPECT_THROW(train::Adamax(std::vector<at::Tensor>{w}, train::AdamaxOptions(1e-3).weight_decay(-0.1)), c10::Error);
}

TEST(Adamax, CheckpointSaveLoadContinuesBitExact) {
  const auto opts = train::AdamaxOptions(0.02).weight_decay(0.01);
  Problem straight;
  train::Adamax opt_s(straight.parameters(), opts);
  for (int k = 0; k < 20; ++k) step(opt_s, straight);

  const std::string dir = test::temp_dir("adamax_ckpt") + "/ckpt/step_00000008";
  {
    Problem first;
    train::Adamax opt_1(first.parameters(), opts);
    for (int k = 0; k < 8; ++k) step(opt_1, first);
    train::save_checkpoint(dir, first, &opt_1, json{{"step", 8}});
  }
  Problem second;
  {
    torch::NoGradGuard ng;
    for (auto& q : second.parameters()) q.fill_(7.0);  // must be overwritten by the load
  }
  train::Adamax opt_2(second.parameters(), opts);
  train::load_checkpoint(dir, second, &opt_2);
  ASSERT_EQ(opt_2.state().size(), 2u);
  EXPECT_EQ(state_of(opt_2, second.w).step(), 8);
  for (int k = 8; k < 20; ++k) step(opt_2, second);
  EXPECT_TRUE(at::equal(straight.flat(), second.flat()));
  EXPECT_TRUE(at::equal(state_of(opt_s, straight.w).exp_inf(), state_of(opt_2, second.w).exp_inf()));
  EXPECT_TRUE(at::equal(state_of(opt_s, straight.b).exp_avg(), state_of(opt_2, second.b).exp_avg()));
  // without the optimizer state the continuation differs (the comparison above can fail)
  Problem fresh;
  {
    torch::NoGradGuard ng;
    train::load_checkpoint(dir, fresh, nullptr);
  }
  train::Adamax opt_f(fresh.parameters(), opts);
  for (int k = 8; k < 20; ++k) step(opt_f, fresh);
  EXPECT_FALSE(at::equal(straight.flat(), fresh.flat()));
}

// ---------------------------------------------------------------- trainer

namespace {
// y[..., 0] regressed on y[..., 1] through two weights; gradients depend on the (shuffled) batch.
class TinyRegression final : public models::LatentModel {
 public:
  TinyRegression() { w_ = register_parameter("w", at::tensor({0.3f, -0.2f})); }
  json hyperparams() const override { return {{"type", "fake"}}; }
  int64_t context_steps() const override { return 1; }

 private:
  models::LossTerms loss_impl(const data::Batch& batch, const models::StepContext&) override {
    at::Tensor in = batch.x.select(-1, 1), target = batch.x.select(-1, 0);
    models::LossTerms lt;
    lt.total = (w_[0] * in + w_[1] - target).pow(2).mean();
    return lt;
  }
  models::Prediction predict_impl(const data::Batch& c, const at::Tensor& q) override {
    return {at::zeros({c.size(), q.size(1), 2}), at::Tensor(), at::Tensor()};
  }
  at::Tensor w_;
};

data::Dataset tiny_vectors(int64_t n, uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  data::Dataset ds;
  ds.y = at::rand({n, 4, 2}, gen);
  ds.t = at::arange(4, at::kDouble).unsqueeze(0).repeat({n, 1});
  ds.split = at::zeros({n}, at::kByte);
  return ds;
}

train::TrainerOptions adamax_trainer(int64_t max_steps) {
  json j = {{"epochs", 4}, {"max_steps", max_steps}, {"batch_size", 2}, {"val_batch_size", 1}, {"progress", false},
            {"threads", 1}, {"optimizer", {{"type", "adamax"}, {"lr", 0.05}}},
            {"schedule", {{"type", "exponential"}, {"gamma", 0.9}, {"min_lr_factor", 0.5}}}};
  return train::TrainerOptions::from_json(j);
}

at::Tensor final_weights(const std::string& run_dir) {
  TinyRegression m;
  train::load_checkpoint(*train::latest_checkpoint(run_dir), m, nullptr);
  return m.named_parameters()["w"].detach().clone();
}

std::string new_run(const std::string& tag) {
  const std::string dir = test::temp_dir(tag) + "/run";
  fs::create_directories(dir);
  write_text_atomic(dir + "/config.json", "{}");
  return dir;
}
}  // namespace

TEST(AdamaxTrainer, ResumeIsBitExactAndTypeIsFixed) {
  const auto train_set = tiny_vectors(8, 1), val_set = tiny_vectors(2, 2);  // 4 steps per epoch, 16 planned
  const std::string straight = new_run("adamax_straight");
  train::Trainer(adamax_trainer(14), std::make_shared<TinyRegression>(), train_set, val_set, straight).fit(false);
  const std::string resumed = new_run("adamax_resumed");
  train::Trainer(adamax_trainer(6), std::make_shared<TinyRegression>(), train_set, val_set, resumed).fit(false);  // mid-epoch
  json st = read_json_file(*train::latest_checkpoint(resumed) + "/state.json");
  EXPECT_EQ(st["optimizer"], "adamax");
  EXPECT_DOUBLE_EQ(st["lr"].get<double>(), 0.05 * std::pow(0.9, 6));
  train::Trainer(adamax_trainer(14), std::make_shared<TinyRegression>(), train_set, val_set, resumed).fit(true);
  EXPECT_TRUE(at::equal(final_weights(straight), final_weights(resumed)));
  EXPECT_FALSE(at::equal(final_weights(straight), at::tensor({0.3f, -0.2f})));
  // the logged lr follows the schedule down to its floor: 0.05 * max(0.9^13, 0.5) at the last step
  const std::vector<json> train_lines = test::log_lines(straight, "loss_total");
  ASSERT_FALSE(train_lines.empty());
  EXPECT_DOUBLE_EQ(train_lines.back()["lr"].get<double>(), 0.025);

  // resuming an Adamax run with AdamW state expectations is refused with a clear message
  train::TrainerOptions adamw = adamax_trainer(16);
  adamw.optimizer = "adamw";
  try {
    train::Trainer(adamw, std::make_shared<TinyRegression>(), train_set, val_set, resumed).fit(true);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("trainer.optimizer.type"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("adamax"), std::string::npos) << e.what();
  }
}

TEST(AdamaxTrainer, OptimizerTypeValidatedWithTypeDependentDefaults) {
  try {
    train::TrainerOptions::from_json(json{{"optimizer", {{"type", "admax"}}}});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("trainer.optimizer.type"), std::string::npos) << msg;
    EXPECT_NE(msg.find("\"adamw\""), std::string::npos) << msg;
    EXPECT_NE(msg.find("\"adamax\""), std::string::npos) << msg;
    EXPECT_NE(e.hint().find("did you mean 'adamax'"), std::string::npos) << e.hint();
  }
  EXPECT_THROW(train::TrainerOptions::from_json(json{{"optimizer", {{"type", 3}}}}), ConfigError);
  EXPECT_THROW(train::TrainerOptions::from_json(json{{"optimizer", {{"type", "adamax"}, {"betas", {0.9, 1.5}}}}}), ConfigError);

  auto def = train::TrainerOptions::from_json(json::object());
  EXPECT_EQ(def.optimizer, "adamw");
  EXPECT_DOUBLE_EQ(def.weight_decay, 0.01);
  auto ax = train::TrainerOptions::from_json(json{{"optimizer", {{"type", "adamax"}}}});
  EXPECT_EQ(ax.optimizer, "adamax");
  EXPECT_DOUBLE_EQ(ax.weight_decay, 0.0);  // torch.optim.Adamax's default, not AdamW's 0.01
  // config.json round trip keeps the type (resume re-reads it)
  json j = ax.to_json();
  EXPECT_EQ(j["optimizer"]["type"], "adamax");
  EXPECT_EQ(train::TrainerOptions::from_json(j).to_json(), j);

  // make_optimizer builds the requested kind, one group per entry
  at::Tensor a = at::zeros({2}).requires_grad_(), b = at::zeros({3}).requires_grad_();
  auto opt = train::make_optimizer(ax, {{a}, {b}});
  EXPECT_NE(dynamic_cast<train::Adamax*>(opt.get()), nullptr);
  EXPECT_EQ(opt->param_groups().size(), 2u);
  EXPECT_DOUBLE_EQ(opt->param_groups()[1].options().get_lr(), ax.lr);
  EXPECT_NE(dynamic_cast<torch::optim::AdamW*>(train::make_optimizer(def, {{a, b}}).get()), nullptr);
}

// ---------------------------------------------------------------- schedule

TEST(ExponentialSchedule, DecaysEveryStepDownToTheFloor) {
  auto o = train::ScheduleOptions::from_json(json{{"type", "exponential"}});
  EXPECT_DOUBLE_EQ(o.gamma, 0.999);
  EXPECT_DOUBLE_EQ(o.min_lr_factor, 0.1);
  train::Schedule s(o, 1e-3, 100, 0);  // total steps do not shorten it
  EXPECT_DOUBLE_EQ(s.lr(0), 1e-3);
  EXPECT_DOUBLE_EQ(s.lr(1), 1e-3 * 0.999);
  EXPECT_NEAR(s.lr(1000), 1e-3 * std::pow(0.999, 1000), 1e-18);
  // 0.999^k drops below 0.1 between k = 2301 and 2302
  EXPECT_GT(s.lr(2301), 1e-4);
  EXPECT_DOUBLE_EQ(s.lr(2302), 1e-4);
  EXPECT_DOUBLE_EQ(s.lr(1000000), 1e-4);
  for (int64_t k = 1; k < 3000; ++k) ASSERT_LE(s.lr(k), s.lr(k - 1));
  EXPECT_FALSE(s.on_validation(1.0));  // validation does not change it
  // warm-up multiplies as for the other types
  auto w = train::ScheduleOptions::from_json(json{{"type", "exponential"}, {"warmup_steps", 4}, {"gamma", 0.5}});
  EXPECT_DOUBLE_EQ(train::Schedule(w, 1.0, 10, 0).lr(1), 0.5 * 0.5);
  EXPECT_DOUBLE_EQ(train::Schedule(w, 1.0, 10, 0).lr(6), 0.1);
  // options round trip and validation
  EXPECT_EQ(train::ScheduleOptions::from_json(o.to_json()).to_json(), o.to_json());
  EXPECT_THROW(train::ScheduleOptions::from_json(json{{"type", "exponential"}, {"gamma", 1.5}}), ConfigError);
  EXPECT_THROW(train::ScheduleOptions::from_json(json{{"type", "exponential"}, {"gamma", 0.0}}), ConfigError);
  EXPECT_THROW(train::ScheduleOptions::from_json(json{{"type", "exponential"}, {"min_lr_factor", -0.1}}), ConfigError);
  try {
    train::ScheduleOptions::from_json(json{{"type", "exponental"}});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(e.hint().find("did you mean 'exponential'"), std::string::npos) << e.hint();
  }
}

// ---------------------------------------------------------------- shipped compare config

TEST(AdamaxCompareConfig, BaselinesTrainWithTheirSpecifiedOptimiser) {
  // merged as `latdyn compare` does: the common trainer section, then the model entry's patch
  json cfg = read_json_file(std::string(LATDYN_SOURCE_DIR) + "/configs/compare_pendulum.json");
  int seen = 0;
  for (const auto& m : cfg.at("models")) {
    json tr = cfg.at("trainer");
    tr.merge_patch(m.value("trainer", json::object()));
    const auto o = train::TrainerOptions::from_json(tr);
    const std::string type = m.at("model").at("type");
    if (type == "ode_rnn" || type == "latent_ode") {  // baselines.md §3.4: Adamax 1e-3, x0.999 per step to lr/10, batch 16
      ++seen;
      EXPECT_EQ(o.optimizer, "adamax") << type;
      EXPECT_DOUBLE_EQ(o.lr, 1e-3) << type;
      EXPECT_DOUBLE_EQ(o.weight_decay, 0.0) << type;
      EXPECT_EQ(o.batch_size, 16) << type;
      EXPECT_EQ(o.schedule.type, "exponential") << type;
      EXPECT_DOUBLE_EQ(o.schedule.gamma, 0.999) << type;
      EXPECT_DOUBLE_EQ(o.schedule.min_lr_factor, 0.1) << type;
      EXPECT_EQ(o.schedule.warmup_steps, 0) << type;
    } else if (type == "ode2vae") {  // §4.4: Adam 8e-4, x0.995 every 200 steps (smooth), no floor
      ++seen;
      EXPECT_EQ(o.optimizer, "adamw");
      EXPECT_DOUBLE_EQ(o.lr, 8e-4);
      EXPECT_DOUBLE_EQ(o.weight_decay, 0.0);
      EXPECT_EQ(o.schedule.type, "exponential");
      EXPECT_NEAR(std::pow(o.schedule.gamma, 200), 0.995, 1e-8);
      EXPECT_DOUBLE_EQ(o.schedule.min_lr_factor, 0.0);
    } else if (type == "ndp") {  // §5.2: Adam 1e-3, batch 16
      ++seen;
      EXPECT_EQ(o.optimizer, "adamw");
      EXPECT_DOUBLE_EQ(o.lr, 1e-3);
      EXPECT_DOUBLE_EQ(o.weight_decay, 0.0);
      EXPECT_EQ(o.schedule.type, "constant");
      EXPECT_EQ(o.batch_size, 16);
    } else if (type == "msvi") {  // §6.5: Adam 3e-4 decayed exponentially to 1e-5 over the 2,500-step budget
      ++seen;
      EXPECT_EQ(o.optimizer, "adamw");
      EXPECT_DOUBLE_EQ(o.lr, 3e-4);
      EXPECT_DOUBLE_EQ(o.weight_decay, 0.0);
      EXPECT_EQ(o.schedule.type, "exponential");
      EXPECT_NEAR(o.lr * std::pow(o.schedule.gamma, cfg.at("budget").at("steps").get<double>()), 1e-5, 1e-12);
      EXPECT_NEAR(o.lr * o.schedule.min_lr_factor, 1e-5, 1e-12);
    } else {
      EXPECT_EQ(o.optimizer, "adamw") << type;
    }
  }
  EXPECT_EQ(seen, 5);
}
