// SPDX-License-Identifier: MIT
// LaDID (Lagemann, Lagemann, Mukherjee, ICLR 2024; spec ladid.md): CNN tokens -> temporal transformer -> variational
// psi from K context frames -> z_t = F(psi, gamma(t)) with no solver -> CNN decoder; multiple shooting + curriculum.
#pragma once
#include <string>
#include <vector>

#include "latdyn/data/dataset.hpp"
#include "latdyn/models/latent_model.hpp"
#include "latdyn/nn/conv_decoder.hpp"
#include "latdyn/nn/conv_stack.hpp"
#include "latdyn/nn/mlp.hpp"
#include "latdyn/nn/spacetime_transformer.hpp"
#include "latdyn/nn/time_attention.hpp"

namespace latdyn::models {

/// Every option of ladid.md §10; values that depend on data are resolved by resolve_ladid_options().
struct LadidOptions {
  int64_t channels = 0, resolution = 0;  ///< from the data (0 = not yet resolved)
  int64_t latent_dim = 32, token_mult = 4, enc_channels = 8, dec_channels = 8, tf_layers = 4;
  std::string attn_type = "dp";
  std::string tokens = "frame";  ///< frame (one token per frame, §3.1-3.2) | spacetime (patch tokens, §3.2.1)
  int64_t attn_heads = 1;
  double delta_r = 0.45, delta_r_frames = 0.0;  ///< delta_r_frames > 0: delta_r = frames * median dt (resolved)
  double attn_p = 1e15, attn_eps = 0.01;
  int64_t dyn_width_mult = 8;
  std::string dyn_act = "relu";
  double dyn_dropout = 0.5;
  double time_span = 0.0;  ///< 0 = "auto" (reference rule, resolved once and stored)
  double sigma_y = 1e-3;
  int64_t context_len = 10, max_len = 60, overlap = 0;
  bool variational = true, full_traj_term = true, psi_prior = true, static_skip = true;
  double smoothness_scaling = 1.0, overlap_sigma = 0.1;
  std::string posterior_std = "reference";  ///< reference | exp | softplus (§11.1)
  double posterior_std_min = 0.02;
  std::string psi_prior_mode = "sample_nll";  ///< sample_nll | kl (§11.2)
  std::string eval_psi = "mean";              ///< mean | sample (§11.9)
  int64_t eval_samples = 1;
  bool curriculum = true;
  int64_t epochs_per_phase = 10;
  std::vector<int64_t> phase_epochs;  ///< optional explicit lengths of the non-final phases (overrides epochs_per_phase)
  bool share_frame_features = false;
  double loss_scale = 0.0;            ///< N_train / B (0 = "auto", resolved from data and trainer.batch_size)
  std::string out_bias = "default";   ///< default | auto | a number (logit of the mean pixel when auto)
  bool channels_last = true;

  static LadidOptions from_json(const json& j);
  json to_json() const;
};

/// Fills the data-dependent options (channels, resolution, time_span, delta_r, loss_scale, out_bias) from the
/// training split; checks that trajectories are long enough. Returns the resolved JSON.
json resolve_ladid_options(const json& model, const data::Dataset& train, int64_t batch_size);

/// One row of the curriculum table (ladid.md §5).
struct Phase { int64_t q, length, overlap, blocks, first_epoch; };
/// Phase table for the options: q = 1, 2, 4, ..., L0 - K; lengths re-truncated per phase.
std::vector<Phase> curriculum_phases(const LadidOptions& o);

class Ladid final : public LatentModel, public Curriculum {
 public:
  explicit Ladid(LadidOptions options);
  json hyperparams() const override { return options_.to_json(); }
  int64_t context_steps() const override { return options_.context_len; }
  int64_t phase_of_epoch(int64_t epoch) const override;
  int64_t n_phases() const override { return static_cast<int64_t>(phases_.size()); }
  int64_t final_phase_start() const override { return phases_.back().first_epoch; }
  double relative_step_cost(int64_t epoch) const override;
  const std::vector<Phase>& phases() const { return phases_; }
  const LadidOptions& options() const { return options_; }

  /// x: [S, M, C, H, W], t: [S, M] -> (mu, s) each [S, M, d]; = heads(aggregate(tokens(x), t))
  std::pair<at::Tensor, at::Tensor> embed(const at::Tensor& x, const at::Tensor& t);
  /// x: [S, M, C, H, W] -> frame tokens [S, M, E] (tokens = frame) or patch tokens [S, M, P, E] (spacetime)
  at::Tensor tokens(const at::Tensor& x);
  /// tokens (as returned by tokens()), t: [S, M] -> transformer output h [S, M, E] (spacetime: mean over patches)
  at::Tensor aggregate(const at::Tensor& tok, const at::Tensor& t);
  /// context x: [S, K, C, H, W] -> static map [S, 8c, H/16, W/16] (undefined when static_skip is off)
  at::Tensor static_map(const at::Tensor& x_ctx);
  /// psi: [S, d], tau: [S, Q] float64 relative times -> z [S, Q, d]
  at::Tensor latent(const at::Tensor& psi, const at::Tensor& tau, at::Generator gen = at::Generator());
  /// z: [S, Q, d], static: [S, ...] -> mean frames [S, Q, C, H, W] in (0, 1)
  at::Tensor decode(const at::Tensor& z, const at::Tensor& static_map);

  // tokens = "frame": encoder + transformer; tokens = "spacetime": patch_encoder + st_transformer, registered under
  // the same names "encoder" and "transformer" (the members of the other variant stay null).
  nn::FrameEncoder encoder{nullptr};
  nn::TemporalTransformer transformer{nullptr};
  nn::PatchEncoder patch_encoder{nullptr};
  nn::SpacetimeTransformer st_transformer{nullptr};
  torch::nn::Linear head_mu{nullptr}, head_s{nullptr};
  nn::DynamicsMlp dynamics{nullptr};
  nn::ConvDecoder decoder{nullptr};
  nn::StaticCnn static_cnn{nullptr};

 private:
  LossTerms loss_impl(const data::Batch& batch, const StepContext& ctx) override;
  Prediction predict_impl(const data::Batch& context, const at::Tensor& query_times) override;
  at::Tensor sample_std(const at::Tensor& s) const;
  at::Tensor likelihood_std(const at::Tensor& s) const;
  LadidOptions options_;
  std::vector<Phase> phases_;
  at::Tensor omega_;  // buffer "time_omega" [16] float64
};

}  // namespace latdyn::models
