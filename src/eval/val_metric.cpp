// SPDX-License-Identifier: MIT
// Validation nMSE callback.
#include "latdyn/eval/val_metric.hpp"

#include "latdyn/eval/metrics.hpp"
#include "latdyn/eval/rollout.hpp"

namespace latdyn::eval {

void MetricsCallback::on_validation(models::LatentModel& model, train::EpochInfo& info) {
  Rollout r = rollout(model, val_, context_, horizon_);
  at::Tensor per_frame = nmse_per_frame(r.y_true, r.y_pred);
  info.metrics["val_nmse"] = summarize(per_frame).mean;
  info.metrics["val_nmse_first10"] = summarize(per_frame, 0, 10).mean;
}

}  // namespace latdyn::eval
