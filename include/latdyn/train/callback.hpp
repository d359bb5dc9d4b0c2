// SPDX-License-Identifier: MIT
// Trainer callbacks (design.md §2.4): hooks with empty defaults; on_step_end returning true stops training.
#pragma once
#include <map>
#include <string>

#include "latdyn/core/config_reader.hpp"
#include "latdyn/models/latent_model.hpp"

namespace latdyn::train {

struct StepInfo {
  int64_t step = 0, epoch = 0, phase = 0, total_steps = 0;
  double loss = 0, lr = 0, grad_norm = 0, time_s = 0;
  std::map<std::string, double> terms;
};

/// End of a validation epoch; callbacks may add metrics (logged to log.jsonl with the validation loss).
struct EpochInfo {
  int64_t epoch = 0, step = 0, phase = 0;
  double val_loss = 0, time_s = 0;
  json metrics = json::object();
};

class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin(models::LatentModel& /*model*/) {}
  /// Return true to stop training cleanly (status "stopped").
  virtual bool on_step_end(const StepInfo& /*info*/) { return false; }
  virtual void on_validation(models::LatentModel& /*model*/, EpochInfo& /*info*/) {}
  virtual void on_train_end(const std::string& /*status*/) {}
};

}  // namespace latdyn::train
