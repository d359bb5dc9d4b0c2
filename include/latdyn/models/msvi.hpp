// SPDX-License-Identifier: MIT
// MSVI baseline (baselines.md §6): amortised sparse Bayesian multiple shooting (Iakovlev, Yildiz, Heinonen &
// Lähdesmäki, "Latent neural ODEs with sparse Bayesian multiple shooting", ICLR 2023, arXiv 2210.03466; public code
// yakovlev31/msvi). A transformer recognition net gives per-frame q(s_i) = N(γ_i, τ_i²); the trajectory is split
// into blocks of b intervals, each integrated from its own shooting variable s_j by dopri5, and a continuity prior
// N(s_j; x⁻_j, σ_ξ²) ties block ends to the next block's start. Decoder g and dynamics F are Bayesian (mean-field
// Gaussian over every weight and bias).
#pragma once
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "latdyn/models/ode_baselines.hpp"
#include "latdyn/nn/time_attention.hpp"

namespace latdyn::models {

struct MsviOptions {
  FrameCodecOptions codec;
  int64_t latent_dim = 32;      ///< K [C]; second order: position x ∈ R^{K/2}, velocity v ∈ R^{K/2}
  int64_t dyn_order = 2;        ///< 2: ẋ = v, v̇ = F(x, v); 1: ż = F(z) [C]
  int64_t m_F = 8;              ///< F = Linear(K→m_F·K), ReLU, Linear(m_F·K→m_F·K), ReLU, Linear(→K/2 or K) [C]
  int64_t stat_layers = 4;      ///< layers of the static (position) aggregation transformer [C]
  int64_t dyn_layers = 8;       ///< layers of the dynamic (velocity) aggregation transformer, second order only [C]
  std::string attn_type = "tdp";  ///< layers >= 1 (layer 0 is always temporal) [C]
  int64_t attn_heads = 1;
  double delta_r = 0.45;        ///< attention time window δ_r (pendulum) [C]; 3.0 bouncing balls, 0.3 rotating MNIST
  double attn_p = -1;           ///< -1 = ∞ (hard window) [C]
  double attn_eps = 0.01;
  double attn_dropout = 0.1;    ///< logits set to −∞ with this probability during training (diagonal + 1 neighbour kept)
  double tau_min = 0.02;        ///< floor on τ of the position half (all of z in first order) [C]
  int64_t block_size = 1;       ///< b, intervals per shooting block (pendulum) [C]; 5 for bouncing balls
  double xi = 1e-4;             ///< Xi: continuity std σ_ξ = Xi/√K [C]; 1e-3 for bouncing balls
  double obs_std = 1e-3;        ///< σ_y [C]
  bool bayesian = true;         ///< mean-field q(θ) over g and F; false: point estimates (no L3, no θ noise)
  double logsig_init = -7.0;    ///< initial log σ_θ [C]
  int64_t n_train = 0;          ///< N_train of the ELBO scale N/B; 0 = "auto" (filled from the training split)
  std::string flip = "none";    ///< random flips of a training minibatch: none | h | hv (one coin per axis) [O]
  int64_t predict_samples = 10; ///< MC samples averaged in predict (n_mc_samples) [C]
  nn::OdeOptions solver;        ///< dopri5, rtol = atol = 1e-5 [C]; fixed-step solvers: 5 substeps (step 0.2 in s)

  static MsviOptions from_json(const json& j);
  json to_json() const;
};
/// Resolves the frame-codec options and n_train (= number of training trajectories when "auto").
json resolve_msvi_options(const json& model, const data::Dataset& train);

/// Per-frame variational parameters of q(s_i) = N(γ_i, τ_i²): gamma, tau [B, M, K].
struct MsviPosterior {
  at::Tensor gamma, tau;
};

/// Latent path of one multiple-shooting sample: s [B, B_s, K] shooting variables, x [B, 1 + B_s·b, K] the path
/// (x_0 = s_0, then every block's solution after its start), x_minus [B, B_s − 1, K] the block ends x⁻_1..x⁻_{B_s−1}.
struct MsviPath {
  at::Tensor s, x, x_minus;
};

/// ELBO parts per trajectory (baselines.md §6.4), each [B] except kl_theta (scalar).
struct MsviElbo {
  at::Tensor log_lik, kl_s0, kl_cont, kl_theta;
};

/// Named parameter sample of g and F: "decoder.fc.weight" ... "F.4.bias" -> tensor.
using MsviTheta = std::map<std::string, at::Tensor>;

/// MSVI (baselines.md §6). The base-class `encoder` is the recognition FrameEncoder and `decoder` holds μ_θg.
class Msvi final : public FrameCodecModel {
 public:
  explicit Msvi(MsviOptions o);
  json hyperparams() const override { return o_.to_json(); }
  const MsviOptions& options() const { return o_; }

  /// Recognition network (§6.2): frames [B, M, C, H, W] at times [B, M] -> γ, τ [B, M, K] (position half first).
  /// `gen` drives the attention dropout, applied in training mode only; an undefined generator switches it off.
  MsviPosterior recognise(const at::Tensor& x, const at::Tensor& t, at::Generator gen = at::Generator());
  /// θ = μ + σ ⊙ ε for every weight and bias of g and F (one sample); the means when `bayesian` is false.
  MsviTheta sample_theta(at::Generator gen);
  /// The means μ_θ (no noise).
  MsviTheta mean_theta();
  /// Vector field with parameters θ: z [N, K] -> dz/dt [N, K]; second order [v, F(x, v)].
  at::Tensor field(const at::Tensor& z, const MsviTheta& theta) const;
  /// Multiple shooting (§6.3): s [B, B_s, K] at times t [B, 1 + B_s·b] -> path. Block j integrates from s_j over
  /// t_{jb}..t_{(j+1)b} interval by interval with MSVI's rescaling (§2.3); all blocks are solved as one batch.
  MsviPath shoot(const at::Tensor& s, const at::Tensor& t, const MsviTheta& theta);
  /// Decoder g with parameters θ (velocity half zeroed in second order): z [B, T, K] -> mean frames [B, T, C, H, W].
  at::Tensor decode_theta(const at::Tensor& z, const MsviTheta& theta);
  /// The ELBO parts (§6.4) for frames y [B, M, C, H, W] (M = 1 + B_s·b), the block posteriors q(s_j) = N(γ_jb, τ_jb²)
  /// (gamma_b, tau_b [B, B_s, K]), the multiple-shooting path and θ.
  MsviElbo elbo(const at::Tensor& y, const at::Tensor& gamma_b, const at::Tensor& tau_b, const MsviPath& path,
                const MsviTheta& theta);
  /// KL(q(θ) ‖ N(0, I)) summed over every weight and bias of g and F (0 when not Bayesian).
  at::Tensor kl_theta();
  /// σ_ξ = Xi / √K.
  double sigma_xi() const;
  /// Largest usable training length: 1 + b·⌊(M − 1)/b⌋.
  int64_t usable_length(int64_t m) const;

  nn::TemporalTransformer agg_stat{nullptr}, agg_dyn{nullptr};
  torch::nn::Linear gamma_stat{nullptr}, tau_stat{nullptr}, gamma_dyn{nullptr}, tau_dyn{nullptr};
  torch::nn::Sequential F{nullptr};        ///< μ_θF: Linear, ReLU, Linear, ReLU, Linear
  std::vector<std::string> theta_names;    ///< "decoder.fc.weight", ..., "F.4.bias" (registration order)
  std::vector<at::Tensor> theta_logsig;    ///< log σ_θ, one per entry of theta_names (Bayesian only)

 private:
  LossTerms loss_impl(const data::Batch& batch, const StepContext& ctx) override;
  Prediction predict_impl(const data::Batch& context, const at::Tensor& query_times) override;
  /// Aggregation transformer with MSVI's attention dropout: tokens [B, M, E], t [B, M] -> [B, M, E].
  at::Tensor aggregate(nn::TemporalTransformerImpl& net, const at::Tensor& tok, const nn::TimeGrid& grid,
                       at::Generator gen);
  /// The μ_θ tensors in theta_names order.
  std::vector<at::Tensor> theta_means();
  MsviOptions o_;
};

}  // namespace latdyn::models
