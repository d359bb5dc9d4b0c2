// SPDX-License-Identifier: MIT
// LaDID's temporal transformer (ladid.md §3.2): post-LN blocks, layer 0 a hard time-window attention without Q/K,
// later layers dot-product attention, a relative-time term w_r * hardtanh(dt/delta_r) shared by all layers (MSVI).
#pragma once
#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <string>

namespace latdyn::nn {

/// Per-call time-grid tensors shared by all layers (no gradient). t: [S, M] float64.
struct TimeGrid {
  at::Tensor clamped;   ///< [S, M, M] float32: hardtanh(dt_ij / delta_r), dt_ij = sign(j-i)|t_i - t_j|
  at::Tensor temporal;  ///< [S, M, M] float32: ln(eps) * (|dt_ij| / delta_r)^p (0 inside the window, -inf outside)
  static TimeGrid build(const at::Tensor& t, double delta_r, double p, double eps);
};

struct TemporalTransformerOptions {
  TORCH_ARG(int64_t, d_model) = 128;
  TORCH_ARG(int64_t, layers) = 4;
  TORCH_ARG(int64_t, d_ff) = 256;
  TORCH_ARG(std::string, attn_type) = "dp";  ///< layers >= 1: dp | tdp | t
  TORCH_ARG(int64_t, heads) = 1;
  TORCH_ARG(double, delta_r) = 0.45;
  TORCH_ARG(double, attn_p) = 1e15;          ///< -1 means infinity
  TORCH_ARG(double, attn_eps) = 0.01;
};

/// One post-LN block: X <- LN(X + Attn(X)); X <- LN(X + FFN(X)).
class TimeAttentionBlockImpl final : public torch::nn::Cloneable<TimeAttentionBlockImpl> {
 public:
  TimeAttentionBlockImpl(TemporalTransformerOptions options, bool temporal_only);
  void reset() override;
  /// x: [S, M, E]; rpe_w: [E] relative-time direction -> [S, M, E]. Equals feed_forward(attend(x, grid, rpe_w)).
  at::Tensor forward(const at::Tensor& x, const TimeGrid& grid, const at::Tensor& rpe_w);
  /// Attention half: LN1(X + Attn(X)). x: [S, M, E] -> [S, M, E] (the spacetime variant's temporal step, §3.2.1).
  at::Tensor attend(const at::Tensor& x, const TimeGrid& grid, const at::Tensor& rpe_w);
  /// FFN half: LN2(Y + W2 ReLU(W1 Y + b1) + b2), per token. y: [..., E] -> [..., E].
  at::Tensor feed_forward(const at::Tensor& y);
  TemporalTransformerOptions options;
  bool temporal_only;
  torch::nn::Linear wq{nullptr}, wk{nullptr}, wv{nullptr}, wout{nullptr}, ff1{nullptr}, ff2{nullptr};
  torch::nn::LayerNorm ln1{nullptr}, ln2{nullptr};
};
TORCH_MODULE(TimeAttentionBlock);

/// Stack of blocks plus the shared rpe Linear(1 -> E, no bias). x: [S, M, E], t: [S, M] float64 -> [S, M, E].
class TemporalTransformerImpl final : public torch::nn::Cloneable<TemporalTransformerImpl> {
 public:
  explicit TemporalTransformerImpl(TemporalTransformerOptions options);
  void reset() override;
  at::Tensor forward(const at::Tensor& x, const at::Tensor& t);
  TemporalTransformerOptions options;
  torch::nn::Linear rpe{nullptr};
  torch::nn::ModuleList blocks{nullptr};
};
TORCH_MODULE(TemporalTransformer);

}  // namespace latdyn::nn
