// SPDX-License-Identifier: MIT
// Latent neural-ODE baselines for LaDID (baselines.md): the shared image networks (§1) and Rubanova et al.'s
// ODE-RNN forecaster (§3.2) and Latent ODE (§3.3). All train on the first max_len frames of each trajectory with
// the first context_len frames as context, the test protocol of ladid.md §8.
#pragma once
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>

#include "latdyn/core/config_reader.hpp"
#include "latdyn/data/dataset.hpp"
#include "latdyn/models/latent_model.hpp"
#include "latdyn/nn/conv_decoder.hpp"
#include "latdyn/nn/conv_stack.hpp"
#include "latdyn/nn/ode.hpp"
#include "latdyn/nn/ode_rnn.hpp"

namespace latdyn::models {

/// Options every image baseline shares (baselines.md §1): data shape, widths of the FrameEncoder / FrameDecoder
/// (LaDID's, without the static skip) and the protocol lengths.
struct FrameCodecOptions {
  int64_t channels = 0, resolution = 0;  ///< from the data (0 = not yet resolved)
  int64_t enc_channels = 8, dec_channels = 8, token_dim = 128;
  int64_t context_len = 10, max_len = 60;
  bool channels_last = true;

  void read(ConfigReader& r);
  void write(json& j) const;
  void check(ConfigReader& r) const;
};
/// The solver keys every ODE baseline reads (solver, rtol, atol, substeps, max_solver_steps), over the model's defaults
/// already in `s`; write_solver_options stores the same keys.
void read_solver_options(ConfigReader& r, nn::OdeOptions& s);
void write_solver_options(const nn::OdeOptions& s, json& j);
/// Reads `type`'s options, fills channels/resolution from the training split, checks trajectory length.
json resolve_frame_codec_options(const json& model, const data::Dataset& train);

/// Base of the image baselines: FrameEncoder tokens and sigmoid-mean FrameDecoder frames.
class FrameCodecModel : public LatentModel {
 public:
  int64_t context_steps() const override { return codec_.context_len; }
  /// Baselines are selected by the validation nMSE of the full protocol prediction (baselines.md §1).
  std::string selection_metric() const override { return "val_nmse"; }
  /// x: [B, T, C, H, W] -> tokens [B, T, token_dim]
  at::Tensor tokens(const at::Tensor& x);
  /// z: [B, Q, d] -> mean frames [B, Q, C, H, W] in (0, 1)
  at::Tensor decode(const at::Tensor& z);

  nn::FrameEncoder encoder{nullptr};
  nn::ConvDecoder decoder{nullptr};

 protected:
  FrameCodecModel(FrameCodecOptions codec, int64_t decoder_in);
  /// Training window of a batch: the first min(T, max_len) steps, checked against context_len.
  data::Batch window(const data::Batch& batch) const;
  void check_context(const data::Batch& context) const;
  FrameCodecOptions codec_;
};

struct OdeRnnModelOptions {
  FrameCodecOptions codec;
  int64_t hidden = 32;       ///< d_h [O]
  double obs_std = 0.01;     ///< Rubanova's obsrv_std
  bool context_loss = false; ///< also score one-step-ahead predictions of context frames 1..K-1

  static OdeRnnModelOptions from_json(const json& j);
  json to_json() const;
};

/// ODE-RNN forecaster (§3.2): ODE-RNN forwards over the context tokens, then f_h alone to every query time.
class OdeRnnModel final : public FrameCodecModel {
 public:
  explicit OdeRnnModel(OdeRnnModelOptions o);
  json hyperparams() const override { return o_.to_json(); }
  nn::OdeRnn rnn{nullptr};

 private:
  LossTerms loss_impl(const data::Batch& batch, const StepContext& ctx) override;
  Prediction predict_impl(const data::Batch& context, const at::Tensor& query_times) override;
  /// Final context state evolved to every query time: h [B, d_h], t_last [B], query [B, Q] -> [B, Q, d_h]
  at::Tensor forecast(const at::Tensor& h, const at::Tensor& t_last, const at::Tensor& query, const at::Tensor& min_step);
  OdeRnnModelOptions o_;
};

struct LatentOdeOptions {
  FrameCodecOptions codec;
  int64_t rec_hidden = 64;   ///< d_rec of the backwards ODE-RNN encoder [O]
  int64_t latent_dim = 32;   ///< d [O]
  int64_t units = 100;
  double obs_std = 0.01;
  int64_t n_samples = 3;     ///< n_traj_samples
  int64_t kl_wait_epochs = 10;
  double kl_rate = 0.99;     ///< kappa = 1 - kl_rate^(epoch - kl_wait_epochs)
  bool future_only = false;  ///< score only frames after the context
  int64_t predict_samples = 1; ///< 1: decode from z0 = mu; N > 1: mean over N sampled z0
  nn::OdeOptions solver;     ///< dopri5, rtol 1e-3, atol 1e-4 [C]

  static LatentOdeOptions from_json(const json& j);
  json to_json() const;
};

/// Latent ODE (§3.3): backwards ODE-RNN -> q(z0) -> dopri5 z' = f_z(z) from t_0 over the window -> FrameDecoder.
class LatentOde final : public FrameCodecModel {
 public:
  explicit LatentOde(LatentOdeOptions o);
  json hyperparams() const override { return o_.to_json(); }
  /// KL weight kappa of an epoch (KL annealing, §3.3).
  double kl_weight(int64_t epoch) const;
  /// Context frames [B, K, C, H, W] at times [B, K] -> (mu, std) of q(z0), each [B, d].
  std::pair<at::Tensor, at::Tensor> posterior(const at::Tensor& x_ctx, const at::Tensor& t_ctx);
  /// z0 [B, d] at times[:, 0] -> latent path [B, T, d] at times [B, T].
  at::Tensor flow(const at::Tensor& z0, const at::Tensor& times);

  nn::OdeRnn rec{nullptr};
  torch::nn::Sequential q_head{nullptr}, f_z{nullptr};

 private:
  LossTerms loss_impl(const data::Batch& batch, const StepContext& ctx) override;
  Prediction predict_impl(const data::Batch& context, const at::Tensor& query_times) override;
  LatentOdeOptions o_;
};

}  // namespace latdyn::models
