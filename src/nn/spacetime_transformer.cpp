// SPDX-License-Identifier: MIT
// Spatio-temporal LaDID transformer, tokens = "spacetime" (ladid.md §3.2.1): patch tokens + E_pos; per layer a
// temporal step per patch (the §3.2 layer-l attention), a spatial step per frame, the FFN; mean over patches.
#include "latdyn/nn/spacetime_transformer.hpp"

#include <torch/torch.h>

#include <cmath>

namespace latdyn::nn {

// ---- tokeniser (§3.2.1 "Tokens") ----
PatchEncoderImpl::PatchEncoderImpl(FrameEncoderOptions o) : options(std::move(o)) { reset(); }

void PatchEncoderImpl::reset() {
  TORCH_CHECK(options.resolution() % 16 == 0 && options.resolution() > 0, "PatchEncoder: resolution must be divisible by 16");
  convs = register_module("convs", ConvStack(ConvStackOptions(options.in_channels(), options.base_channels())));
  proj = register_module("proj", torch::nn::Linear(8 * options.base_channels(), options.d_model()));
  pos = register_parameter("pos", torch::empty({patches(), options.d_model()}));
  torch::NoGradGuard guard;
  pos.normal_(0.0, 0.02);
}

at::Tensor PatchEncoderImpl::forward(const at::Tensor& x) {
  at::Tensor f = convs->forward(x);                            // [N, 8c, h, w] (any memory format)
  const int64_t n = f.size(0), c8 = f.size(1), p = f.size(2) * f.size(3);
  at::Tensor cells = f.permute({0, 2, 3, 1}).reshape({n, p, c8});  // [N, P, 8c], p = row * w + col
  return proj(cells) + pos;                                     // [N, P, E]
}

// ---- spatial step (§3.2.1 step 2) ----
SpatialAttentionBlockImpl::SpatialAttentionBlockImpl(int64_t e, int64_t h) : d_model(e), heads(h) { reset(); }

void SpatialAttentionBlockImpl::reset() {
  TORCH_CHECK(heads >= 1 && d_model % heads == 0, "d_model ", d_model, " not divisible by attn_heads ", heads);
  auto lin = [&] { return torch::nn::Linear(torch::nn::LinearOptions(d_model, d_model).bias(false)); };
  wq = register_module("wq", lin());
  wk = register_module("wk", lin());
  wv = register_module("wv", lin());
  wout = register_module("wout", lin());
  ln = register_module("ln", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d_model}).eps(1e-5)));
}

at::Tensor SpatialAttentionBlockImpl::forward(const at::Tensor& x) {
  const int64_t n = x.size(0), p = x.size(1), e = x.size(2), h = heads, dh = e / h;
  auto split = [&](const at::Tensor& y) { return y.view({n, p, h, dh}).transpose(1, 2); };  // [N, h, P, dh]
  at::Tensor q = split(wq(x)), k = split(wk(x)), v = split(wv(x));
  at::Tensor a = torch::softmax(torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(dh)), -1);  // [N, h, P, P]
  at::Tensor out = wout(torch::matmul(a, v).transpose(1, 2).reshape({n, p, e}));                                   // [N, P, E]
  return ln(x + out);
}

// ---- the stack (§3.2.1 "Layer l", "Read-out") ----
SpacetimeTransformerImpl::SpacetimeTransformerImpl(TemporalTransformerOptions o) : options(std::move(o)) { reset(); }

void SpacetimeTransformerImpl::reset() {
  const auto& t = options.attn_type();
  TORCH_CHECK(t == "dp" || t == "tdp" || t == "t", "attn_type must be dp, tdp or t, got '", t, "'");
  rpe = register_module("rpe", torch::nn::Linear(torch::nn::LinearOptions(1, options.d_model()).bias(false)));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int64_t l = 0; l < options.layers(); ++l)
    blocks->push_back(TimeAttentionBlock(options, /*temporal_only=*/l == 0 || t == "t"));
  spatial = register_module("spatial", torch::nn::ModuleList());
  for (int64_t l = 0; l < options.layers(); ++l) spatial->push_back(SpatialAttentionBlock(options.d_model(), options.heads()));
}

at::Tensor SpacetimeTransformerImpl::forward_patches(const at::Tensor& x, const at::Tensor& t) {
  TORCH_CHECK(x.dim() == 4, "SpacetimeTransformer: tokens must be [S, M, P, E], got ", x.sizes());
  TORCH_CHECK(t.dim() == 2 && t.size(0) == x.size(0) && t.size(1) == x.size(1),
              "SpacetimeTransformer: t must be [S, M] = [", x.size(0), ", ", x.size(1), "], got ", t.sizes());
  const int64_t s = x.size(0), m = x.size(1), p = x.size(2), e = x.size(3);
  // One grid per sequence, repeated for its P patch sequences (row s * P + p), shared by all layers.
  TimeGrid g = TimeGrid::build(t, options.delta_r(), options.attn_p(), options.attn_eps());
  TimeGrid grid;
  grid.clamped = g.clamped.unsqueeze(1).expand({s, p, m, m}).reshape({s * p, m, m});    // [S*P, M, M]
  grid.temporal = g.temporal.unsqueeze(1).expand({s, p, m, m}).reshape({s * p, m, m});  // [S*P, M, M]
  at::Tensor w = rpe->weight.view({-1});  // [E]
  at::Tensor y = x;                       // [S, M, P, E]
  for (int64_t l = 0; l < options.layers(); ++l) {
    auto* blk = blocks[l]->as<TimeAttentionBlockImpl>();
    // 1. temporal step: every patch position is a sequence over the M frames, weights shared across patches
    at::Tensor yt = y.permute({0, 2, 1, 3}).reshape({s * p, m, e});          // [S*P, M, E]
    yt = blk->attend(yt, grid, w);                                           // LN(X + TemporalAttn_l(X))
    // 2. spatial step: every frame is a set of P patches
    at::Tensor ys = yt.view({s, p, m, e}).permute({0, 2, 1, 3}).reshape({s * m, p, e});  // [S*M, P, E]
    ys = spatial[l]->as<SpatialAttentionBlockImpl>()->forward(ys);           // LN(X + SpatialAttn_l(X))
    // 3. FFN per token
    y = blk->feed_forward(ys).view({s, m, p, e});                            // LN(X + FFN(X))
  }
  return y;
}

at::Tensor SpacetimeTransformerImpl::forward(const at::Tensor& x, const at::Tensor& t) {
  return forward_patches(x, t).mean(2);  // h_t = mean_p X_{t,p}: [S, M, E]
}

}  // namespace latdyn::nn
