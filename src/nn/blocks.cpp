// SPDX-License-Identifier: MIT
// Time encoding, dynamics MLP and CNN decoder of LaDID (ladid.md §3.4-§3.6); one TU to keep compile time low.
#include <torch/torch.h>

#include <cmath>

#include "latdyn/nn/conv_decoder.hpp"
#include "latdyn/nn/mlp.hpp"
#include "latdyn/nn/time_encoding.hpp"

namespace latdyn::nn {

// ---- time encoding (§3.4) ----
at::Tensor time_frequencies(double time_span, int64_t n_freq) {
  TORCH_CHECK(time_span > 0, "time_span must be positive, got ", time_span);
  at::Tensor i = torch::arange(n_freq, torch::kDouble);
  const double denom = n_freq > 1 ? static_cast<double>(n_freq - 1) : 1.0;
  return M_PI * torch::pow(2.0, 8.0 * i / denom) / time_span;
}

at::Tensor encode_time(const at::Tensor& tau, const at::Tensor& omega) {
  at::Tensor arg = tau.to(at::kDouble).unsqueeze(-1) * omega.to(tau.device(), at::kDouble);  // [..., n]
  at::Tensor out = torch::stack({torch::sin(arg), torch::cos(arg)}, -1);                      // [..., n, 2]
  return out.flatten(-2).to(at::kFloat);
}

// ---- dynamics network F (§3.5) ----
DynamicsMlpImpl::DynamicsMlpImpl(DynamicsMlpOptions o) : options(std::move(o)) { reset(); }

void DynamicsMlpImpl::reset() {
  const auto& a = options.activation();
  TORCH_CHECK(a == "relu" || a == "tanh" || a == "gelu" || a == "mish", "dyn_act must be relu, tanh, gelu or mish");
  fc1 = register_module("fc1", torch::nn::Linear(options.in(), options.width()));
  fc2 = register_module("fc2", torch::nn::Linear(options.width(), options.width()));
  fc3 = register_module("fc3", torch::nn::Linear(options.width(), options.out()));
}

at::Tensor DynamicsMlpImpl::act(const at::Tensor& x) const {
  const auto& a = options.activation();
  if (a == "tanh") return torch::tanh(x);
  if (a == "gelu") return torch::gelu(x);
  if (a == "mish") return x * torch::tanh(torch::softplus(x));
  return torch::relu(x);
}

at::Tensor DynamicsMlpImpl::drop(const at::Tensor& x, at::Generator& gen) const {
  const double p = options.dropout();
  if (!is_training() || p <= 0) return x;
  at::Tensor keep = torch::empty_like(x).bernoulli_(1.0 - p, gen.defined() ? c10::optional<at::Generator>(gen)
                                                                            : c10::optional<at::Generator>());
  return x * keep / (1.0 - p);
}

at::Tensor DynamicsMlpImpl::forward(const at::Tensor& x, at::Generator gen) {
  at::Tensor h = drop(act(fc1(x)), gen);
  h = drop(act(fc2(h)), gen);
  return fc3(h);
}

// ---- decoder (§3.6) ----
ConvDecoderImpl::ConvDecoderImpl(ConvDecoderOptions o) : options(std::move(o)) { reset(); }

void ConvDecoderImpl::reset() {
  TORCH_CHECK(options.resolution() % 16 == 0, "ConvDecoder: resolution must be divisible by 16");
  const int64_t c = options.base_channels(), s = options.resolution() / 16;
  fc = register_module("fc", torch::nn::Linear(options.latent_dim(), 8 * c * s * s));
  auto up = [](int64_t a, int64_t b) {
    return torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(a, b, 2).stride(2));
  };
  up1 = register_module("up1", up(8 * c, 4 * c));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(4 * c));
  up2 = register_module("up2", up(4 * c, 2 * c));
  bn2 = register_module("bn2", torch::nn::BatchNorm2d(2 * c));
  up3 = register_module("up3", up(2 * c, c));
  bn3 = register_module("bn3", torch::nn::BatchNorm2d(c));
  up4 = register_module("up4", up(c, c));
  bn4 = register_module("bn4", torch::nn::BatchNorm2d(c));
  out = register_module("out", torch::nn::Conv2d(torch::nn::Conv2dOptions(c, 2 * options.out_channels(), 5).padding(2)));
}

at::Tensor ConvDecoderImpl::forward(const at::Tensor& z, const at::Tensor& static_map) {
  return all_logits(z, static_map).slice(1, 0, 2 * options.out_channels(), 2);  // channel 2c: mean logits of channel c
}

at::Tensor ConvDecoderImpl::all_logits(const at::Tensor& z, const at::Tensor& static_map) {
  const int64_t c = options.base_channels(), s = options.resolution() / 16;
  at::Tensor h = fc(z).view({z.size(0), 8 * c, s, s});
  if (static_map.defined()) h = h + static_map;
  h = h.contiguous(at::MemoryFormat::ChannelsLast);
  h = bn1(torch::relu(up1(h)));
  h = bn2(torch::relu(up2(h)));
  h = bn3(torch::relu(up3(h)));
  h = bn4(torch::relu(up4(h)));
  return out(h);  // [N, 2C, H, W]
}

}  // namespace latdyn::nn
