// SPDX-License-Identifier: MIT
// The one seam between models and the trainer (design.md §2.3): loss for training, predict for inference.
#pragma once
#include <torch/nn/module.h>

#include <string>
#include <utility>
#include <vector>

#include "latdyn/core/config_reader.hpp"
#include "latdyn/data/batch.hpp"

namespace latdyn::models {

/// What a model may know about the training position. `noise` is the step's generator for model noise.
struct StepContext {
  int64_t step = 0;
  int64_t epoch = 0;
  at::Generator noise;
  bool training = true;
};

/// Scalar loss terms: `total` is backpropagated; `terms` are logged as loss_<name>.
struct LossTerms {
  at::Tensor total;
  std::vector<std::pair<std::string, at::Tensor>> terms;
};

/// mean: [B, Q, ...] predicted observations; stddev: same or undefined; latent: [B, Q, Z] or undefined.
struct Prediction {
  at::Tensor mean, stddev, latent;
};

/// Base of every latent dynamics model. Public methods check preconditions, then call the private virtuals.
class LatentModel : public torch::nn::Module {
 public:
  LossTerms loss(const data::Batch& batch, const StepContext& ctx);
  /// context: the first K steps of each trajectory; query_times: [B, Q] absolute float64 times.
  Prediction predict(const data::Batch& context, const at::Tensor& query_times);
  /// Resolved options including "type"; registry.create(hyperparams()) rebuilds an identical skeleton.
  virtual json hyperparams() const = 0;
  /// Context steps the model conditions on.
  virtual int64_t context_steps() const = 0;

 private:
  virtual LossTerms loss_impl(const data::Batch& batch, const StepContext& ctx) = 0;
  virtual Prediction predict_impl(const data::Batch& context, const at::Tensor& query_times) = 0;
};

/// Optional ability: a horizon curriculum driven by the epoch (LaDID, ladid.md §5). The trainer uses it to reset
/// "best" tracking per phase and to know the final phase.
class Curriculum {
 public:
  virtual ~Curriculum() = default;
  virtual int64_t phase_of_epoch(int64_t epoch) const = 0;
  virtual int64_t n_phases() const = 0;
  /// First epoch of the last phase.
  virtual int64_t final_phase_start() const = 0;
  /// Cost of one training step in `epoch` relative to other epochs (any unit); the progress line's ETA uses it.
  virtual double relative_step_cost(int64_t epoch) const { (void)epoch; return 1.0; }
};

}  // namespace latdyn::models
