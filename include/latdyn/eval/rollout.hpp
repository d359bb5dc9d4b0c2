// SPDX-License-Identifier: MIT
// Test protocol (ladid.md §8): K context frames in, the next H frames predicted at their recorded times, and the two
// reference predictors (copy the last context frame; the mean training frame).
#pragma once
#include "latdyn/data/dataset.hpp"
#include "latdyn/models/latent_model.hpp"

namespace latdyn::eval {

/// y_pred, y_true: [R, H, ...]; t: [R, H] query times.
struct Rollout { at::Tensor y_pred, y_true, t; };

/// Predicts frames [K, K+H) of every trajectory of `ds` from its first K frames, in minibatches, in eval mode.
Rollout rollout(models::LatentModel& model, const data::Dataset& ds, int64_t context, int64_t horizon,
                int64_t batch_size = 16);
/// Copy-last-context-frame predictor: [R, H, ...].
at::Tensor predict_copy_last(const data::Dataset& ds, int64_t context, int64_t horizon);
/// Mean-training-frame predictor (one frame, the average of all frames of the training split): [R, H, ...].
at::Tensor predict_mean_frame(const data::Dataset& train, const data::Dataset& ds, int64_t context, int64_t horizon);

}  // namespace latdyn::eval
