// SPDX-License-Identifier: MIT
// DynAE (Wang, Wang, Evans, Tiwary, JCTC 2024; dynae.md): a deterministic autoencoder whose latent moves match
// overdamped Langevin moves z' = z + f(z) + sqrt(2) xi per frame, through a per-bin sliced-Wasserstein loss on
// well-tempered one-bin minibatches; force f and log-diffusion s are fitted by a Gaussian transition NLL.
#pragma once
#include "latdyn/models/pair_autoencoder.hpp"

namespace latdyn::models {

/// From `epoch` on (>= 1), the sliced-Wasserstein weight is `beta` (docs/config.md, model.beta_schedule).
struct BetaStep {
  int64_t epoch = 1;
  double beta = 10;
};

struct DynaeOptions {
  PairAeOptions ae;
  double beta = 10;
  /// Piecewise-constant beta by epoch, epochs strictly increasing; empty: `beta` throughout (the reference). Each
  /// entry starts a phase of the Curriculum seam, so "best" checkpoints are compared only under one beta.
  std::vector<BetaStep> beta_schedule;
  int64_t projections = 50;
  double min_dist = 5.0;            ///< d_min of regular-space clustering, latent units
  double bias_factor = 2;           ///< gamma of well-tempered resampling
  int64_t max_centres = 200;
  double warmup_lr = 1e-4;          ///< autoencoder lr in epoch 0
  double warmup_beta_factor = 0.01; ///< beta_cur = beta * factor in epoch 0
  double prior_lr = 0;              ///< lr of f and s; 0: the trainer's lr (reference: learning_rate)
  int64_t prior_width = 32;
  std::string force_param = "mlp";  ///< mlp | gradient (f = -grad Phi)
  bool exact_spurious_drift = false;
  std::string regulariser_diffusion = "constant";  ///< constant (M = I) | learned

  static DynaeOptions from_json(const json& j);
  json to_json() const;
  /// Schedule entries at or before `epoch`: 0 before the first switch (Dynae's curriculum phase).
  int64_t phase_at(int64_t epoch) const;
  /// The full beta of `epoch` (before the warm-up factor of epoch 0): `beta`, or the entry of its phase.
  double beta_at(int64_t epoch) const;
};

class Dynae final : public PairAutoencoder, public OptimizerGroups, public Curriculum {
 public:
  explicit Dynae(DynaeOptions o);
  json hyperparams() const override { return opt_.to_json(); }

  // OptimizerGroups: 0 = encoder + decoder, 1 = force + log-diffusion.
  std::vector<ParamGroup> param_groups() override;
  double group_lr(size_t group, int64_t epoch, double scheduled_lr) const override;
  bool reset_moments_at(size_t group, int64_t epoch) const override { return group == 0 && epoch == 1; }

  // Curriculum: phase P runs under the P-th beta of the schedule (one phase without a schedule).
  int64_t phase_of_epoch(int64_t epoch) const override { return opt_.phase_at(epoch); }
  int64_t n_phases() const override { return static_cast<int64_t>(opt_.beta_schedule.size()) + 1; }
  int64_t final_phase_start() const override {
    return opt_.beta_schedule.empty() ? 0 : opt_.beta_schedule.back().epoch;
  }

  /// f(z): [M, d] -> [M, d] (with grad when z requires it).
  at::Tensor force(const at::Tensor& z);
  /// s(z) = log diag M: [M, d].
  at::Tensor log_diffusion(const at::Tensor& z) { return logdiff_->forward(z); }
  /// Prior moves Delta z' from z0 (no grad): lag Euler–Maruyama steps of M f + div M (learned) or f (constant M = I).
  at::Tensor prior_moves(const at::Tensor& z0, at::Generator gen);
  /// Transition NLL of dynae.md §7 (z0, z1 detached inside; create_graph only with exact_spurious_drift).
  at::Tensor prior_nll(const at::Tensor& z0, const at::Tensor& z1);
  /// Bin centres of the most recent binning [K, d] (empty before epoch 1).
  const at::Tensor& centres() const { return centres_; }
  /// Encodes the first frames of `pair_ids`, clusters them (new centres) and resamples them into one-bin batches
  /// (dynae.md §6); the bin populations go to counts_out.
  at::Tensor bin_and_resample(const at::Tensor& pair_ids, int64_t epoch, std::vector<int64_t>* counts_out);

 private:
  LossTerms loss_impl(const data::Batch& batch, const StepContext& ctx) override;
  std::optional<at::Tensor> plan_epoch(int64_t epoch) override;
  /// Spurious drift div M with M = diag(exp s): M_i * ds_i/dz_i; needs z0 with requires_grad.
  at::Tensor spurious_drift(const at::Tensor& z0, const at::Tensor& s, bool create_graph);

  DynaeOptions opt_;
  torch::nn::Sequential force_{nullptr}, logdiff_{nullptr};
  at::Tensor centres_;
};

}  // namespace latdyn::models
