// SPDX-License-Identifier: MIT
// The one training loop (design.md §2.4): batch -> model.loss -> backward -> clip -> lr(step) -> optimizer step
// (AdamW or Adamax) -> callbacks,
// validation, NaN guard, JSONL log, progress line, atomic checkpoints and bit-exact resume.
#pragma once
#include <torch/optim/optimizer.h>

#include <memory>
#include <string>
#include <vector>

#include "latdyn/data/dataset.hpp"
#include "latdyn/models/latent_model.hpp"
#include "latdyn/train/callback.hpp"
#include "latdyn/train/schedule.hpp"

namespace latdyn::train {

struct TrainerOptions {
  uint64_t seed = 0;
  int64_t epochs = 100;
  int64_t max_steps = 0;  ///< stop after this many steps (0: run all epochs); the schedule still plans for all epochs
  int64_t batch_size = 16, val_batch_size = 2;
  std::string optimizer = "adamw";  ///< adamw | adamax (baselines.md §3.4)
  /// weight_decay: decoupled for adamw; an L2 term added to the gradient for adamax (whose default is 0).
  double lr = 3e-4, weight_decay = 0.01, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  ScheduleOptions schedule;
  double grad_clip = 0.0;  ///< max global gradient norm; 0 = off
  int64_t log_every = 10;
  int64_t val_every_epochs = 1;
  /// Validate every N gradient steps instead of every val_every_epochs epochs (0: off). For sets with few steps per
  /// epoch, e.g. 20 training windows at batch 16 validate after every step on an epoch cadence.
  int64_t val_every_steps = 0;
  /// Metric that picks the "best" checkpoint: val_loss, a validation metric (val_nmse, val_nmse_first10) or auto
  /// (the model's own rule: val_loss for LaDID and DynAE, val_nmse for the latent-ODE baselines, baselines.md §1).
  std::string select_by = "auto";
  /// Stop when the selection metric has not improved for this many epochs (in the final curriculum phase); 0 = off.
  /// baselines.md §1 "converged" budget: 20.
  int64_t patience_epochs = 0;
  /// Wall-clock training budget in seconds (summed over resumed sessions); validates and stops when reached. 0 = off.
  double max_seconds = 0.0;
  int64_t ckpt_every_steps = 0;  ///< also checkpoint every N steps (0: only at validations and the end)
  int64_t keep_last = 3;
  int64_t threads = 0;           ///< 0: hardware concurrency
  std::string device = "cpu";
  bool progress = true;

  static TrainerOptions from_json(const json& j);
  json to_json() const;
};

/// Outcome of a training run.
struct TrainResult {
  std::string status;  ///< completed | stopped | diverged
  int64_t steps = 0;
  double final_loss = 0, best_val_loss = 0, train_seconds = 0;  ///< best_val_loss: best value of the selection metric
};

/// Trains `model` on `train` (validating on `val`) into run_dir. When `resume` the newest complete checkpoint is loaded
/// first. The run directory must already hold config.json (written by the caller).
class Trainer final {
 public:
  Trainer(TrainerOptions o, std::shared_ptr<models::LatentModel> model, data::Dataset train, data::Dataset val,
          std::string run_dir);
  void add_callback(std::shared_ptr<Callback> cb) { callbacks_.push_back(std::move(cb)); }
  TrainResult fit(bool resume);
  int64_t steps_per_epoch() const;
  int64_t total_steps() const;

 private:
  double validate(int64_t epoch);
  TrainerOptions o_;
  std::shared_ptr<models::LatentModel> model_;
  data::Dataset train_, val_;
  std::string run_dir_;
  std::vector<std::shared_ptr<Callback>> callbacks_;
};

/// The optimizer of trainer.optimizer (type, lr, betas, eps, weight_decay), one parameter group per entry of `groups`.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainerOptions& o,
                                                        const std::vector<std::vector<at::Tensor>>& groups);
/// Sets the intra-op thread count (0: hardware concurrency) and returns it.
int64_t configure_threads(int64_t threads);
/// Seeds the default CPU generator (used by LibTorch's weight initialisers) from derive_seed(seed, "init").
void seed_init_generator(uint64_t seed);

}  // namespace latdyn::train
