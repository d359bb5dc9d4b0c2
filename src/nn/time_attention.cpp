// SPDX-License-Identifier: MIT
// Temporal transformer of LaDID (ladid.md §3.2; MSVI's TemporalAttention, Iakovlev et al. ICLR 2023).
#include "latdyn/nn/time_attention.hpp"

#include <torch/torch.h>

#include <cmath>

namespace latdyn::nn {

TimeGrid TimeGrid::build(const at::Tensor& t, double delta_r, double p, double eps) {
  torch::NoGradGuard guard;
  TORCH_CHECK(t.dim() == 2, "TimeGrid: t must be [S, M], got ", t.sizes());
  const int64_t m = t.size(1);
  // dt[s,i,j] = sign(j - i) * |t_i - t_j| (= t_j - t_i on a sorted grid)
  at::Tensor diff = (t.unsqueeze(1) - t.unsqueeze(2)).abs();
  at::Tensor idx = torch::arange(m, t.options().dtype(at::kLong));
  at::Tensor sign = (idx.unsqueeze(0) - idx.unsqueeze(1)).sign().to(t.scalar_type());
  at::Tensor dt = (diff * sign).to(at::kFloat);
  TimeGrid g;
  g.clamped = torch::clamp(dt / static_cast<float>(delta_r), -1.0, 1.0);
  at::Tensor ratio = dt.abs() / static_cast<float>(delta_r);  // float32, so the |dt| = delta_r edge matches the reference
  const float log_eps = std::log(static_cast<float>(eps));
  if (p < 0) {  // p = infinity
    g.temporal = torch::where(ratio < 1, torch::zeros_like(ratio),
                              torch::where(ratio == 1, torch::full_like(ratio, log_eps),
                                           torch::full_like(ratio, -std::numeric_limits<float>::infinity())));
  } else {
    g.temporal = log_eps * torch::pow(ratio, static_cast<float>(p));
  }
  return g;
}

TimeAttentionBlockImpl::TimeAttentionBlockImpl(TemporalTransformerOptions o, bool temporal)
    : options(std::move(o)), temporal_only(temporal) {
  reset();
}

void TimeAttentionBlockImpl::reset() {
  const int64_t e = options.d_model();
  TORCH_CHECK(e % options.heads() == 0, "d_model ", e, " not divisible by attn_heads ", options.heads());
  auto lin = [&](int64_t a, int64_t b, bool bias) { return torch::nn::Linear(torch::nn::LinearOptions(a, b).bias(bias)); };
  if (!temporal_only) {
    wq = register_module("wq", lin(e, e, false));
    wk = register_module("wk", lin(e, e, false));
  }
  wv = register_module("wv", lin(e, e, false));
  wout = register_module("wout", lin(e, e, false));
  ff1 = register_module("ff1", lin(e, options.d_ff(), true));
  ff2 = register_module("ff2", lin(options.d_ff(), e, true));
  ln1 = register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({e}).eps(1e-5)));
  ln2 = register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({e}).eps(1e-5)));
}

at::Tensor TimeAttentionBlockImpl::forward(const at::Tensor& x, const TimeGrid& grid, const at::Tensor& rpe_w) {
  return feed_forward(attend(x, grid, rpe_w));
}

at::Tensor TimeAttentionBlockImpl::attend(const at::Tensor& x, const TimeGrid& grid, const at::Tensor& rpe_w) {
  const int64_t s = x.size(0), m = x.size(1), e = x.size(2), h = options.heads(), dh = e / h;
  auto split = [&](const at::Tensor& y) { return y.view({s, m, h, dh}).transpose(1, 2); };  // [S, h, M, dh]
  at::Tensor v = split(wv(x));
  at::Tensor logits;
  if (temporal_only) {
    logits = grid.temporal.unsqueeze(1);  // [S, 1, M, M], the same for every head
  } else {
    at::Tensor q = split(wq(x)), k = split(wk(x));
    logits = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(dh));
    if (options.attn_type() == "tdp") logits = logits + grid.temporal.unsqueeze(1);
  }
  at::Tensor a = torch::softmax(logits, -1).expand({s, h, m, m});  // [S, h, M, M]
  // sum_j A_ij r_ij with r_ij = w_r * c_ij: since w_r is one vector per head slice this is (sum_j A_ij c_ij) * w_r,
  // identical to materialising the [S, M, M, E] rpe tensor of the reference, at 1/E of the memory.
  at::Tensor ac = (a * grid.clamped.unsqueeze(1)).sum(-1, /*keepdim=*/true);  // [S, h, M, 1]
  at::Tensor out = torch::matmul(a, v) + ac * rpe_w.view({1, h, 1, dh});
  out = wout(out.transpose(1, 2).reshape({s, m, e}));
  return ln1(x + out);
}

at::Tensor TimeAttentionBlockImpl::feed_forward(const at::Tensor& y) { return ln2(y + ff2(torch::relu(ff1(y)))); }

TemporalTransformerImpl::TemporalTransformerImpl(TemporalTransformerOptions o) : options(std::move(o)) { reset(); }

void TemporalTransformerImpl::reset() {
  const auto& t = options.attn_type();
  TORCH_CHECK(t == "dp" || t == "tdp" || t == "t", "attn_type must be dp, tdp or t, got '", t, "'");
  rpe = register_module("rpe", torch::nn::Linear(torch::nn::LinearOptions(1, options.d_model()).bias(false)));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int64_t l = 0; l < options.layers(); ++l)
    blocks->push_back(TimeAttentionBlock(options, /*temporal_only=*/l == 0 || t == "t"));
}

at::Tensor TemporalTransformerImpl::forward(const at::Tensor& x, const at::Tensor& t) {
  TimeGrid grid = TimeGrid::build(t, options.delta_r(), options.attn_p(), options.attn_eps());
  at::Tensor w = rpe->weight.view({-1});  // [E]
  at::Tensor y = x;
  for (const auto& b : *blocks) y = b->as<TimeAttentionBlockImpl>()->forward(y, grid, w);
  return y;
}

}  // namespace latdyn::nn
