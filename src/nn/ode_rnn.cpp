// SPDX-License-Identifier: MIT
// ODE-RNN blocks (baselines.md §3.1, after YuliaRubanova/latent_ode: GRU_unit, run_odernn).
#include "latdyn/nn/ode_rnn.hpp"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>

#include <algorithm>
#include <cmath>

namespace latdyn::nn {

namespace {
torch::nn::Sequential mlp(int64_t in, int64_t units, int64_t out, bool sigmoid) {
  torch::nn::Sequential s(torch::nn::Linear(in, units), torch::nn::Tanh(), torch::nn::Linear(units, out));
  if (sigmoid) s->push_back(torch::nn::Sigmoid());
  return s;
}
}  // namespace

OdeRnnImpl::OdeRnnImpl(OdeRnnOptions o) : options(std::move(o)) { reset(); }

void OdeRnnImpl::reset() {
  const int64_t d = options.hidden(), u = options.units(), in = 2 * d + options.input_dim();
  // f_h: Linear(d_h->100), Tanh, Linear(100->100), Tanh, Linear(100->d_h)
  f_h = register_module("f_h", torch::nn::Sequential(torch::nn::Linear(d, u), torch::nn::Tanh(), torch::nn::Linear(u, u),
                                                     torch::nn::Tanh(), torch::nn::Linear(u, d)));
  gate_u = register_module("gate_u", mlp(in, u, d, true));
  gate_r = register_module("gate_r", mlp(in, u, d, true));
  new_state = register_module("new_state", mlp(in, u, 2 * d, false));
}

OdeRnnState OdeRnnImpl::update(const OdeRnnState& s, const at::Tensor& x) {
  at::Tensor cat = at::cat({s.h, s.h_std, x}, -1);      // [B, 2 d_h + E]
  at::Tensor u = gate_u->forward(cat), r = gate_r->forward(cat);
  at::Tensor n = new_state->forward(at::cat({s.h * r, s.h_std * r, x}, -1));  // [B, 2 d_h]
  auto parts = n.chunk(2, -1);
  at::Tensor n_mean = parts[0], n_std = parts[1].abs();
  OdeRnnState out;
  out.h = (1 - u) * n_mean + u * s.h;
  out.h_std = ((1 - u) * n_std + u * s.h_std).abs();
  return out;
}

at::Tensor OdeRnnImpl::evolve(const at::Tensor& h, const at::Tensor& t_from, const at::Tensor& t_to,
                              const at::Tensor& min_step) {
  at::Tensor gap = (t_to - t_from).to(at::kDouble);  // [B]
  const double ratio = (gap.abs() / min_step.to(at::kDouble).clamp_min(1e-300)).max().item<double>();
  // one Euler step below min_step, else (points - 1) steps over max(2, floor(gap / min_step)) points
  const int64_t steps = ratio < 1.0 ? 1 : std::max<int64_t>(1, static_cast<int64_t>(std::floor(ratio)) - 1);
  at::Tensor dt = (gap / static_cast<double>(steps)).to(h.dtype()).to(h.device()).unsqueeze(1);  // [B, 1]
  at::Tensor z = h;
  for (int64_t i = 0; i < steps; ++i) z = z + dt * f_h->forward(z);
  return z;
}

OdeRnnState OdeRnnImpl::run(const at::Tensor& tokens, const at::Tensor& t, bool backwards,
                            std::vector<at::Tensor>* before_update) {
  TORCH_CHECK(tokens.dim() == 3 && t.dim() == 2 && tokens.size(0) == t.size(0) && tokens.size(1) == t.size(1),
              "OdeRnn::run: tokens [B, K, E] and t [B, K] expected, got ", tokens.sizes(), " and ", t.sizes());
  const int64_t b = tokens.size(0), k = tokens.size(1);
  at::Tensor td = t.to(at::kDouble);
  at::Tensor min_step = rubanova_min_step(td);
  OdeRnnState s{at::zeros({b, options.hidden()}, tokens.options()), at::zeros({b, options.hidden()}, tokens.options())};
  const int64_t first = backwards ? k - 1 : 0;
  at::Tensor prev = td.select(1, first) + (backwards ? 0.01 : -0.01);
  for (int64_t n = 0; n < k; ++n) {
    const int64_t i = backwards ? k - 1 - n : n;
    at::Tensor ti = td.select(1, i);
    s.h = evolve(s.h, prev, ti, min_step);
    if (before_update) before_update->push_back(s.h);
    s = update(s, tokens.select(1, i));
    prev = ti;
  }
  return s;
}

at::Tensor rubanova_min_step(const at::Tensor& t) {
  at::Tensor td = t.to(at::kDouble);
  return (td.select(1, td.size(1) - 1) - td.select(1, 0)) / 50.0;
}

}  // namespace latdyn::nn
