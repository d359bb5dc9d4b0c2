// SPDX-License-Identifier: MIT
// Learning-rate schedules: pure functions of the step plus a small serialisable state (ReduceLROnPlateau, which
// LibTorch 1.13 lacks; semantics of torch.optim.lr_scheduler.ReduceLROnPlateau, mode min, relative threshold).
#pragma once
#include <string>

#include "latdyn/core/config_reader.hpp"

namespace latdyn::train {

struct ScheduleOptions {
  std::string type = "plateau";  ///< constant | plateau | linear_decay | cosine | exponential
  int64_t warmup_steps = 0;      ///< linear warm-up from 0 (all types)
  // plateau (ladid.md §6): stepped once per validation with the validation loss
  double factor = 0.2, threshold = 1e-4, min_lr = 1e-8;
  int64_t patience = 15, cooldown = 0;
  // linear_decay: constant until decay_start (an epoch, or "final_phase" of a curriculum), then linear to lr_final
  std::string decay_start = "final_phase";
  double lr_final = 0.0;
  // exponential (baselines.md §3.4): lr * max(gamma^step, min_lr_factor), i.e. x gamma every step down to a floor
  double gamma = 0.999, min_lr_factor = 0.1;
  static ScheduleOptions from_json(const json& j);
  json to_json() const;
};

/// Serialisable learning-rate schedule. lr(step) is called before every optimizer step.
class Schedule final {
 public:
  /// total_steps: steps of the whole planned run; decay_start_step resolved by the trainer.
  Schedule(ScheduleOptions o, double base_lr, int64_t total_steps, int64_t decay_start_step);
  double lr(int64_t step) const;
  /// Plateau bookkeeping with a new validation loss; returns true when the lr was reduced.
  bool on_validation(double val_loss);
  json state() const;
  void load_state(const json& s);
  const ScheduleOptions& options() const { return o_; }

 private:
  ScheduleOptions o_;
  double base_lr_;
  int64_t total_steps_, decay_start_step_;
  double plateau_lr_, best_;
  int64_t bad_epochs_ = 0, cooldown_left_ = 0;
};

}  // namespace latdyn::train
