// SPDX-License-Identifier: MIT
// LaDID per-frame CNN (ladid.md §3.1) and the StaticCNN of the difference skip path (§3.6).
#pragma once
#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace latdyn::nn {

struct ConvStackOptions {
  ConvStackOptions(int64_t in_channels, int64_t base_channels) : in_channels_(in_channels), base_channels_(base_channels) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, base_channels);  ///< c_e: channels c, 2c, 4c, 8c
};

/// Four blocks Conv -> ReLU -> BatchNorm: k5 s2 p2 (x3), then k2 s2. x: [N, C, H, W] -> [N, 8c, H/16, W/16].
class ConvStackImpl final : public torch::nn::Cloneable<ConvStackImpl> {
 public:
  explicit ConvStackImpl(ConvStackOptions options);
  void reset() override;
  at::Tensor forward(const at::Tensor& x);
  ConvStackOptions options;
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr}, conv4{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr}, bn4{nullptr};
};
TORCH_MODULE(ConvStack);

struct FrameEncoderOptions {
  FrameEncoderOptions(int64_t in_channels, int64_t resolution) : in_channels_(in_channels), resolution_(resolution) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, resolution);      ///< H = W, divisible by 16
  TORCH_ARG(int64_t, base_channels) = 8;
  TORCH_ARG(int64_t, d_model) = 128;
};

/// ConvStack -> Flatten -> Linear(8c (H/16)^2 -> d_model). x: [N, C, H, W] -> [N, d_model].
class FrameEncoderImpl final : public torch::nn::Cloneable<FrameEncoderImpl> {
 public:
  explicit FrameEncoderImpl(FrameEncoderOptions options);
  void reset() override;
  at::Tensor forward(const at::Tensor& x);
  FrameEncoderOptions options;
  ConvStack convs{nullptr};
  torch::nn::Linear proj{nullptr};
};
TORCH_MODULE(FrameEncoder);

/// ConvStack -> Conv2d(8c -> 8c, k3, p1). delta: [N, C, H, W] -> [N, 8c, H/16, W/16].
class StaticCnnImpl final : public torch::nn::Cloneable<StaticCnnImpl> {
 public:
  explicit StaticCnnImpl(ConvStackOptions options);
  void reset() override;
  at::Tensor forward(const at::Tensor& delta);
  ConvStackOptions options;
  ConvStack convs{nullptr};
  torch::nn::Conv2d out{nullptr};
};
TORCH_MODULE(StaticCnn);

/// Converts every 4-D parameter (conv weights) of `m` to channels_last in place (design.md §4: 3-4x faster on CPU).
void to_channels_last(torch::nn::Module& m);

}  // namespace latdyn::nn
