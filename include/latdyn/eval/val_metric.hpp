// SPDX-License-Identifier: MIT
// MetricsCallback: test-protocol nMSE on the validation split at every validation, logged next to val_loss
// (the learning curve: nMSE against training time).
#pragma once
#include "latdyn/data/dataset.hpp"
#include "latdyn/train/callback.hpp"

namespace latdyn::eval {

class MetricsCallback final : public train::Callback {
 public:
  MetricsCallback(data::Dataset val, int64_t context, int64_t horizon) : val_(std::move(val)), context_(context), horizon_(horizon) {}
  void on_validation(models::LatentModel& model, train::EpochInfo& info) override;

 private:
  data::Dataset val_;
  int64_t context_, horizon_;
};

}  // namespace latdyn::eval
