// SPDX-License-Identifier: MIT
// Per-frame CNN encoder and StaticCNN of LaDID (ladid.md §3.1, §3.6), Conv -> ReLU -> BN order as in the reference.
#include "latdyn/nn/conv_stack.hpp"

#include <torch/torch.h>

namespace latdyn::nn {
namespace F = torch::nn::functional;

ConvStackImpl::ConvStackImpl(ConvStackOptions o) : options(std::move(o)) { reset(); }

void ConvStackImpl::reset() {
  const int64_t c = options.base_channels(), in = options.in_channels();
  using torch::nn::Conv2dOptions;
  conv1 = register_module("conv1", torch::nn::Conv2d(Conv2dOptions(in, c, 5).stride(2).padding(2)));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(c));
  conv2 = register_module("conv2", torch::nn::Conv2d(Conv2dOptions(c, 2 * c, 5).stride(2).padding(2)));
  bn2 = register_module("bn2", torch::nn::BatchNorm2d(2 * c));
  conv3 = register_module("conv3", torch::nn::Conv2d(Conv2dOptions(2 * c, 4 * c, 5).stride(2).padding(2)));
  bn3 = register_module("bn3", torch::nn::BatchNorm2d(4 * c));
  conv4 = register_module("conv4", torch::nn::Conv2d(Conv2dOptions(4 * c, 8 * c, 2).stride(2)));
  bn4 = register_module("bn4", torch::nn::BatchNorm2d(8 * c));
}

at::Tensor ConvStackImpl::forward(const at::Tensor& x) {
  at::Tensor h = bn1(torch::relu(conv1(x)));
  h = bn2(torch::relu(conv2(h)));
  h = bn3(torch::relu(conv3(h)));
  return bn4(torch::relu(conv4(h)));
}

FrameEncoderImpl::FrameEncoderImpl(FrameEncoderOptions o) : options(std::move(o)) { reset(); }

void FrameEncoderImpl::reset() {
  TORCH_CHECK(options.resolution() % 16 == 0, "FrameEncoder: resolution must be divisible by 16");
  convs = register_module("convs", ConvStack(ConvStackOptions(options.in_channels(), options.base_channels())));
  const int64_t s = options.resolution() / 16;
  proj = register_module("proj", torch::nn::Linear(8 * options.base_channels() * s * s, options.d_model()));
}

at::Tensor FrameEncoderImpl::forward(const at::Tensor& x) {
  // Flatten in NCHW order (as the reference) whatever the memory format.
  return proj(convs->forward(x).contiguous().flatten(1));
}

StaticCnnImpl::StaticCnnImpl(ConvStackOptions o) : options(std::move(o)) { reset(); }

void StaticCnnImpl::reset() {
  convs = register_module("convs", ConvStack(options));
  const int64_t c8 = 8 * options.base_channels();
  out = register_module("out", torch::nn::Conv2d(torch::nn::Conv2dOptions(c8, c8, 3).padding(1)));
}

at::Tensor StaticCnnImpl::forward(const at::Tensor& delta) { return out(convs->forward(delta)); }

void to_channels_last(torch::nn::Module& m) {
  torch::NoGradGuard guard;
  for (auto& p : m.parameters())
    if (p.dim() == 4) p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
}

}  // namespace latdyn::nn
