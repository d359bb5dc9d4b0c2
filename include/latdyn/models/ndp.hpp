// SPDX-License-Identifier: MIT
// NDP baseline: Neural ODE Processes (Norcliffe, Bodnar, Day, Moss, Liò, ICLR 2021, arXiv 2103.12413), adapted to
// the shared image networks as specified in baselines.md §5 (mean-aggregated context encoding, z = [L_0, D],
// dL/dτ = f([L, D, τ]) by dopri5, Gaussian FrameDecoder([L(τ); τ]) with a learned per-pixel std).
#pragma once
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>

#include <string>
#include <utility>

#include "latdyn/models/ode_baselines.hpp"

namespace latdyn::models {

struct NdpOptions {
  FrameCodecOptions codec;
  int64_t d_L = 32;              ///< latent state L ∈ R^{d_L} [O]
  int64_t d_D = 16;              ///< global control D ∈ R^{d_D}, constant in time [O]
  int64_t hidden = 128;          ///< width of the encoder MLP, r, h and f (§5.1)
  bool decoder_uses_D = false;   ///< decoder input [L(τ); τ; D] instead of [L(τ); τ]
  std::string context = "first"; ///< training context C: "first" K frames (protocol) | "random" K of the window
  int64_t predict_samples = 1;   ///< 1: z = mean of q(z|C); N > 1: average of N decoded means
  nn::OdeOptions solver;         ///< dopri5, rtol = atol = 1e-5 [O]

  static NdpOptions from_json(const json& j);
  json to_json() const;
};

/// Diagonal Gaussian: mean and std, each [B, Z].
struct DiagGaussian {
  at::Tensor mean, std;
};

/// Elementwise KL( N(mu_q, std_q²) ‖ N(mu_p, std_p²) ) = log(σ_p/σ_q) + (σ_q² + (μ_q − μ_p)²)/(2σ_p²) − 1/2.
at::Tensor diag_gaussian_kl(const DiagGaussian& q, const DiagGaussian& p);

/// Neural ODE Process (baselines.md §5): q(z | ·) from a mean of per-frame representations, the latent ODE
/// dL/dτ = f([L, D, τ]) from L(0) = L_0, and p(y(τ) | z) = N(sigmoid(m), (0.1 + 0.9 softplus(s))²) per pixel.
class Ndp final : public FrameCodecModel {
 public:
  explicit Ndp(NdpOptions o);
  json hyperparams() const override { return o_.to_json(); }
  int64_t latent_size() const { return o_.d_L + o_.d_D; }

  /// q(z | set) from frame tokens [B, M, token_dim] at relative times tau [B, M] (any order: mean aggregation).
  DiagGaussian posterior_from_tokens(const at::Tensor& tok, const at::Tensor& tau);
  /// q(z | set) from frames [B, M, C, H, W] at relative times tau [B, M].
  DiagGaussian posterior(const at::Tensor& x, const at::Tensor& tau) { return posterior_from_tokens(tokens(x), tau); }
  /// z = [L_0, D]: [B, d_L + d_D], tau [B, T] (tau[:, 0] = 0, non-decreasing) -> L(tau) [B, T, d_L].
  at::Tensor latent_path(const at::Tensor& z, const at::Tensor& tau);
  /// Per-pixel Gaussian of the frames: L [B, T, d_L], tau [B, T], D [B, d_D] -> {mean (0,1), std >= 0.1},
  /// each [B, T, C, H, W].
  std::pair<at::Tensor, at::Tensor> decode_gaussian(const at::Tensor& L, const at::Tensor& tau, const at::Tensor& D);

  torch::nn::Sequential enc_mlp{nullptr};  ///< r_i = MLP([token_i; τ_i]): token_dim + 1 -> hidden -> hidden
  torch::nn::Linear to_hidden{nullptr};    ///< h = ReLU(Linear(r))
  torch::nn::Linear to_mu{nullptr}, to_sigma{nullptr};  ///< μ(h), σ(h) = 0.1 + 0.9 sigmoid(·), each -> d_L + d_D
  torch::nn::Sequential f{nullptr};        ///< f([L, D, τ]): d_L + d_D + 1 -> hidden -> hidden -> d_L (tanh)

 private:
  LossTerms loss_impl(const data::Batch& batch, const StepContext& ctx) override;
  Prediction predict_impl(const data::Batch& context, const at::Tensor& query_times) override;
  NdpOptions o_;
};

}  // namespace latdyn::models
