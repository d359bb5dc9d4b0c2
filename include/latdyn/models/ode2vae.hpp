// SPDX-License-Identifier: MIT
// ODE2VAE baseline (baselines.md §4; Yildiz, Heinonen & Lähdesmäki, NeurIPS 2019, arXiv 1905.10994): a second-order
// latent ODE s' = v, v' = f_W(v, s) with the latent density propagated by the instantaneous change of variables.
#pragma once
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>

#include <string>
#include <vector>

#include "latdyn/models/ode_baselines.hpp"

namespace latdyn::models {

struct Ode2vaeOptions {
  FrameCodecOptions codec;
  int64_t q = 16;            ///< position and velocity dimension; z = [v, s] has 2q dims [O]
  int64_t units = 100;       ///< hidden width H_f of f_W: 2q -> H -> H -> q, ReLU [C]
  int64_t amort_len = 3;     ///< m: frames stacked as channels for q(v_0 | x_0..x_{m-1}) [C]; <= context_len
  std::string likelihood = "bernoulli";  ///< bernoulli (reference, 1e-5 offset) | gaussian
  double obs_std = 0.01;     ///< sigma_y of the gaussian likelihood [O]
  double gamma = 1.0;        ///< weight of the instant-encoding penalty (ODE2VAE-KL, gamma = 1) [C]
  bool bayesian = false;     ///< false: deterministic f_W ("ODE2VAE-det", §4.3); true: W ~ N(mu_W, lambda^2 I)
  double lambda2_init = 1e-4;  ///< initial shared weight variance lambda^2 of the Bayesian option [C]
  nn::OdeOptions solver;     ///< rk4 with 5 substeps per frame interval [C]; option dopri5

  static Ode2vaeOptions from_json(const json& j);
  json to_json() const;
};

/// Latent path of the augmented ODE: v, s [B, T, q]; logq [B, T] (log q(z_t); undefined when not propagated).
struct Ode2vaePath {
  at::Tensor v, s, logq;
};

/// Velocity field and the exact trace of its Jacobian in v: dv [B, q]; trace [B] (undefined when not asked).
struct Ode2vaeField {
  at::Tensor dv, trace;
};

/// Diagonal Gaussian posterior of z = [v, s]: mean and std, each [B, 2q] (velocity half first).
struct Ode2vaePosterior {
  at::Tensor mean, std;
};

/// ODE2VAE (§4): FrameEncoder on x_0 -> q(s_0); a second FrameEncoder on x_0..x_{m-1} stacked as C·m channels ->
/// q(v_0); rk4 flow of [v, s, log q] from t_0; FrameDecoder(q) on the position s_t only.
/// The base-class `encoder` is the position encoder; `encoder_v` is the velocity encoder.
class Ode2vae final : public FrameCodecModel {
 public:
  explicit Ode2vae(Ode2vaeOptions o);
  json hyperparams() const override { return o_.to_json(); }
  const Ode2vaeOptions& options() const { return o_; }

  /// Instant encodings of every window x_t..x_{t+m-1}, t = 0..n-1: x [B, >= n+m-1, C, H, W] -> mean, std [B, n, 2q].
  Ode2vaePosterior encode_windows(const at::Tensor& x, int64_t n);
  /// f_W(v, s) and, when `with_trace`, tr(d f_W / d v) by q vector-Jacobian products (one batched autograd::grad
  /// call). The trace keeps its graph (create_graph) when grad mode is on, so the training loss differentiates
  /// through it. v, s: [B, q]. weights: sampled f_W weights (Bayesian option) or nullptr for the mean weights.
  Ode2vaeField velocity_field(const at::Tensor& v, const at::Tensor& s, bool with_trace,
                              const std::vector<at::Tensor>* weights = nullptr);
  /// Integrates s' = v, v' = f_W(v, s) and, when logq0 is defined, d log q / dt = -tr(d f_W / d v) (§4.1), from
  /// times[:, 0]. v0, s0: [B, q]; logq0: [B] or undefined; times: [B, T] (or [T]).
  Ode2vaePath flow(const at::Tensor& v0, const at::Tensor& s0, const at::Tensor& logq0, const at::Tensor& times,
                   const std::vector<at::Tensor>* weights = nullptr);
  /// One reparameterised sample of the f_W weights (Bayesian option): [w1, b1, w2, b2, w3, b3].
  std::vector<at::Tensor> sample_weights(at::Generator gen);
  /// KL(N(mu_W, lambda^2) || N(0, 1)) summed over every weight and bias of f_W (0 when deterministic).
  at::Tensor kl_weights();
  /// beta_W = q / (number of f_W parameters) = q / (H (3q + N_f H + N_f + 1) + q) with N_f = 1 (§4.3).
  double beta_w() const;

  nn::FrameEncoder encoder_v{nullptr};
  torch::nn::Linear head_s{nullptr}, head_v{nullptr};
  torch::nn::Sequential f_w{nullptr};  ///< Linear(2q, H), ReLU, Linear(H, H), ReLU, Linear(H, q)
  at::Tensor log_lambda2;              ///< Bayesian option only: log of the shared weight variance

 private:
  LossTerms loss_impl(const data::Batch& batch, const StepContext& ctx) override;
  Prediction predict_impl(const data::Batch& context, const at::Tensor& query_times) override;
  /// The three Linear layers of f_w.
  std::vector<torch::nn::Linear> f_layers() const;
  /// Per-pixel log p(x | mean) summed over frames and pixels: [B, T, C, H, W] x2 -> [B]
  at::Tensor log_lik(const at::Tensor& x, const at::Tensor& mean) const;
  Ode2vaeOptions o_;
};

}  // namespace latdyn::models
