// SPDX-License-Identifier: MIT
// LaDID's spatio-temporal variant, model option tokens = "spacetime" (ladid.md §3.2.1): the per-frame CNN stops before
// Flatten and every cell of its (8c_e, H/16, W/16) feature map is a patch token; each post-LN layer runs the default
// temporal attention per patch, then dot-product attention over the patches of each frame, then the FFN
// (divided space-time attention in the spirit of TimeSformer / space-time mixing).
#pragma once
#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "latdyn/nn/conv_stack.hpp"
#include "latdyn/nn/time_attention.hpp"

namespace latdyn::nn {

/// Patch tokeniser: ConvStack (§3.1 blocks 1-4) -> per-cell Linear(8c_e -> d_model) -> + E_pos.
/// x: [N, C, H, W] -> [N, P, d_model] with P = (H/16)^2, patch p = row * (W/16) + col (row-major).
class PatchEncoderImpl final : public torch::nn::Cloneable<PatchEncoderImpl> {
 public:
  explicit PatchEncoderImpl(FrameEncoderOptions options);
  void reset() override;
  at::Tensor forward(const at::Tensor& x);
  int64_t patches() const { return (options.resolution() / 16) * (options.resolution() / 16); }
  FrameEncoderOptions options;
  ConvStack convs{nullptr};
  torch::nn::Linear proj{nullptr};  ///< 8c_e -> d_model, with bias
  at::Tensor pos;                   ///< E_pos [P, d_model], initialised N(0, 0.02^2)
};
TORCH_MODULE(PatchEncoder);

/// Spatial step of one layer: X <- LN(X + SpatialAttn(X)), dot-product attention over the P patches of one frame,
/// own W_q, W_k, W_v, W_out (no bias), no time terms. `heads` splits d_model as the temporal layers do (§3.2).
/// x: [N, P, E] -> [N, P, E].
class SpatialAttentionBlockImpl final : public torch::nn::Cloneable<SpatialAttentionBlockImpl> {
 public:
  SpatialAttentionBlockImpl(int64_t d_model, int64_t heads);
  void reset() override;
  at::Tensor forward(const at::Tensor& x);
  int64_t d_model, heads;
  torch::nn::Linear wq{nullptr}, wk{nullptr}, wv{nullptr}, wout{nullptr};
  torch::nn::LayerNorm ln{nullptr};
};
TORCH_MODULE(SpatialAttentionBlock);

/// L_tf layers of (temporal step per patch, spatial step per frame, FFN), all post-LN. The temporal blocks, their
/// FFNs and the shared rpe Linear(1 -> E) are exactly those of TemporalTransformer (same names, same layer-0 rule).
/// x: [S, M, P, E] tokens, t: [S, M] float64 per-sequence time grids.
class SpacetimeTransformerImpl final : public torch::nn::Cloneable<SpacetimeTransformerImpl> {
 public:
  explicit SpacetimeTransformerImpl(TemporalTransformerOptions options);
  void reset() override;
  /// -> [S, M, P, E], every patch token after the last layer.
  at::Tensor forward_patches(const at::Tensor& x, const at::Tensor& t);
  /// Read-out h_t = mean_p X_{t,p}: -> [S, M, E].
  at::Tensor forward(const at::Tensor& x, const at::Tensor& t);
  TemporalTransformerOptions options;
  torch::nn::Linear rpe{nullptr};
  torch::nn::ModuleList blocks{nullptr};   ///< TimeAttentionBlock per layer (temporal attention + FFN)
  torch::nn::ModuleList spatial{nullptr};  ///< SpatialAttentionBlock per layer
};
TORCH_MODULE(SpacetimeTransformer);

}  // namespace latdyn::nn
