// SPDX-License-Identifier: MIT
// The one seam between models and the trainer (design.md §2.3): loss for training, predict for inference.
#pragma once
#include <torch/nn/module.h>

#include <string>
#include <utility>
#include <vector>

#include "latdyn/core/config_reader.hpp"
#include "latdyn/data/batch.hpp"
#include "latdyn/data/dataset.hpp"

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
  /// Validation quantity that selects the best checkpoint under trainer.select_by = "auto".
  virtual std::string selection_metric() const { return "val_loss"; }

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

/// Optional ability: the model draws its own training minibatches (DynAE's per-epoch latent binning, dynae.md §6;
/// pair-based autoencoders). Step numbers keep a fixed stride per epoch (steps_per_epoch), so step <-> (epoch,
/// position) stays a pure function; an epoch whose plan is shorter ends early (the step counter jumps to the next
/// epoch). Whatever the sampler decides at an epoch start must live in module buffers, so that a checkpoint taken
/// mid-epoch restores it.
class EpochSampler {
 public:
  virtual ~EpochSampler() = default;
  /// Builds the sample tables from the training and validation splits. Called once, before any checkpoint is loaded.
  virtual void bind_data(const data::Dataset& train, const data::Dataset& val, int64_t batch_size, uint64_t seed) = 0;
  virtual int64_t steps_per_epoch() const = 0;
  /// Called before the first step of every epoch (also when a run resumes exactly at an epoch start).
  virtual void begin_epoch(int64_t epoch) = 0;
  /// Minibatches planned for the current epoch (<= steps_per_epoch()); the trainer ends the epoch after them.
  virtual int64_t active_steps() const { return steps_per_epoch(); }
  virtual data::Batch train_batch(int64_t epoch, int64_t position) = 0;
  /// The minibatches the validation loss is averaged over.
  virtual std::vector<data::Batch> validation_batches() = 0;
};

/// One optimizer parameter group (its own lr and moments).
struct ParamGroup {
  std::string name;
  std::vector<at::Tensor> params;
};
/// Optional ability: parameters in groups with their own learning rate and moment resets (DynAE: the autoencoder
/// with a warm-up lr and moments reset after epoch 0, the prior networks with their own lr; dynae.md §8).
/// The trainer backpropagates the one `total` loss; a model whose groups have separate losses keeps them
/// gradient-disjoint (each loss only reaches its own group), which makes this equal to separate optimizers.
class OptimizerGroups {
 public:
  virtual ~OptimizerGroups() = default;
  virtual std::vector<ParamGroup> param_groups() = 0;
  /// Learning rate of `group` in `epoch`, given the trainer's scheduled lr.
  virtual double group_lr(size_t group, int64_t epoch, double scheduled_lr) const = 0;
  /// True when the optimizer moments of `group` are cleared before the first step of `epoch`.
  virtual bool reset_moments_at(size_t group, int64_t epoch) const = 0;
};

/// Optional ability: a deterministic map from frames to latent coordinates (posterior mean for stochastic encoders).
class LatentEncoder {
 public:
  virtual ~LatentEncoder() = default;
  /// frames: [M, C, H, W] or [M, D] -> [M, latent_dim].
  virtual at::Tensor encode(const at::Tensor& frames) = 0;
  /// latent: [M, latent_dim] -> reconstructed frames [M, ...].
  virtual at::Tensor decode(const at::Tensor& latent) = 0;
  virtual int64_t latent_dim() const = 0;
};

}  // namespace latdyn::models
