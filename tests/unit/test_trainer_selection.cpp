// SPDX-License-Identifier: MIT
// Trainer model selection and early stopping (baselines.md §1 "converged" budget) with a fake model whose
// validation loss rises every epoch: best checkpoint at epoch 0, stop after patience_epochs, state in status.json.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <vector>

#include "latdyn/core/error.hpp"
#include "latdyn/core/fs_util.hpp"
#include "latdyn/train/checkpoint.hpp"
#include "latdyn/train/trainer.hpp"
#include "support.hpp"

using namespace latdyn;
namespace fs = std::filesystem;

namespace {
class RisingValidation final : public models::LatentModel {
 public:
  explicit RisingValidation(std::string metric) : metric_(std::move(metric)) { w_ = register_parameter("w", at::ones({1})); }
  json hyperparams() const override { return {{"type", "fake"}}; }
  int64_t context_steps() const override { return 1; }
  std::string selection_metric() const override { return metric_; }

 private:
  models::LossTerms loss_impl(const data::Batch&, const models::StepContext& ctx) override {
    models::LossTerms lt;
    lt.total = (w_ * w_).sum() + (ctx.training ? 0.0 : static_cast<double>(ctx.epoch));
    return lt;
  }
  models::Prediction predict_impl(const data::Batch& c, const at::Tensor& q) override {
    return {at::zeros({c.size(), q.size(1), 2}), at::Tensor(), at::Tensor()};
  }
  std::string metric_;
  at::Tensor w_;
};

data::Dataset tiny_vectors(int64_t n) {
  data::Dataset ds;
  ds.y = at::rand({n, 4, 2});
  ds.t = at::arange(4, at::kDouble).unsqueeze(0).repeat({n, 1});
  ds.split = at::zeros({n}, at::kByte);
  return ds;
}

// 6 training vectors at batch 2: 3 steps per epoch.
train::TrainResult fit_options(const std::string& dir, const std::string& metric, train::TrainerOptions o) {
  fs::create_directories(dir);
  write_text_atomic(dir + "/config.json", "{}");
  o.batch_size = 2, o.val_batch_size = 1, o.progress = false, o.threads = 1, o.lr = 1e-2, o.schedule.type = "constant";
  train::Trainer t(o, std::make_shared<RisingValidation>(metric), tiny_vectors(6), tiny_vectors(2), dir);
  return t.fit(false);
}

train::TrainResult fit(const std::string& dir, const std::string& metric, const std::string& select_by, int64_t patience) {
  train::TrainerOptions o;
  o.epochs = 10, o.patience_epochs = patience, o.select_by = select_by;
  return fit_options(dir, metric, o);
}

// Steps at which the run wrote a validation line.
std::vector<int64_t> validated_steps(const std::string& dir) {
  std::vector<int64_t> out;
  for (const json& j : test::log_lines(dir, "val_loss")) out.push_back(j.at("step").get<int64_t>());
  return out;
}
}  // namespace

TEST(TrainerSelection, ValidationCadence) {
  train::TrainerOptions o;
  o.epochs = 3;
  o.val_every_steps = 4;  // steps 4 and 8, and the last step (9)
  std::string dir = test::temp_dir("trainer_val_steps") + "/run";
  fit_options(dir, "val_loss", o);
  EXPECT_EQ(validated_steps(dir), (std::vector<int64_t>{4, 8, 9}));
  o = train::TrainerOptions{};
  // epoch 1 ends at step 6; max_steps ends inside epoch 2 and does not validate there (resume replays the log)
  o.epochs = 4, o.val_every_epochs = 2, o.max_steps = 8;
  dir = test::temp_dir("trainer_val_epochs") + "/run";
  fit_options(dir, "val_loss", o);
  EXPECT_EQ(validated_steps(dir), (std::vector<int64_t>{6}));
  EXPECT_TRUE(fs::exists(dir + "/ckpt/best/DONE"));
  try {
    train::TrainerOptions::from_json(json{{"val_every_steps", -1}});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("val_every_steps must be >= 0"), std::string::npos) << e.what();
  }
}

TEST(TrainerSelection, EarlyStopAfterPatienceEpochs) {
  const std::string dir = test::temp_dir("trainer_patience") + "/run";
  train::TrainResult r = fit(dir, "val_loss", "auto", 2);
  EXPECT_EQ(r.steps, 3 * 3);  // epochs 0, 1, 2 of 3 steps; epoch 2 is 2 epochs after the best (epoch 0)
  json st = json::parse(read_text(dir + "/status.json"));
  EXPECT_TRUE(st["early_stopped"].get<bool>());
  EXPECT_EQ(st["best_epoch"], 0);
  EXPECT_EQ(st["select_by"], "val_loss");
  EXPECT_TRUE(fs::exists(dir + "/ckpt/best/DONE"));
  // without patience the run goes the full 10 epochs
  train::TrainResult full = fit(test::temp_dir("trainer_no_patience") + "/run", "val_loss", "auto", 0);
  EXPECT_EQ(full.steps, 30);
}

TEST(TrainerSelection, MissingSelectionMetric) {
  // auto: the model asks for val_nmse but no metrics callback produces it -> warn, select by val_loss
  {
    test::AllowWarnings allow;
    const std::string dir = test::temp_dir("trainer_auto_fallback") + "/run";
    fit(dir, "val_nmse", "auto", 0);
    EXPECT_TRUE(fs::exists(dir + "/ckpt/best/DONE"));
  }
  // explicit: a clear configuration error
  try {
    fit(test::temp_dir("trainer_explicit") + "/run", "val_loss", "val_nmse", 0);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("select_by"), std::string::npos) << e.what();
  }
}

// load_checkpoint must refuse a checkpoint whose tensors have other shapes (InputArchive would silently reshape them).
TEST(Checkpoint, RefusesTensorsOfAnotherShape) {
  const std::string dir = test::temp_dir("ckpt_shape") + "/step_00000001";
  torch::nn::Linear written(torch::nn::LinearOptions(3, 4));
  train::save_checkpoint(dir, *written, nullptr, json::object());
  torch::nn::Linear same(torch::nn::LinearOptions(3, 4));
  EXPECT_NO_THROW(train::load_checkpoint(dir, *same, nullptr));
  EXPECT_TRUE(at::equal(same->weight, written->weight));
  torch::nn::Linear wider(torch::nn::LinearOptions(3, 5));
  try {
    train::load_checkpoint(dir, *wider, nullptr);
    FAIL() << "a [4, 3] weight was loaded into a [5, 3] parameter";
  } catch (const CheckpointError& e) {
    EXPECT_NE(e.message().find("does not fit this model: 'weight' is [5, 3] here but [4, 3]"), std::string::npos) << e.message();
  }
}
