// SPDX-License-Identifier: MIT
// LaDID CNN decoder (ladid.md §3.6): Linear -> (+ static map) -> 4 x (ConvT k2 s2 -> ReLU -> BN) -> Conv k5 -> 2C logits.
#pragma once
#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace latdyn::nn {

struct ConvDecoderOptions {
  ConvDecoderOptions(int64_t latent_dim, int64_t out_channels, int64_t resolution)
      : latent_dim_(latent_dim), out_channels_(out_channels), resolution_(resolution) {}
  TORCH_ARG(int64_t, latent_dim);
  TORCH_ARG(int64_t, out_channels);  ///< C; the last conv has 2C outputs, channel 2c holds the logits of channel c
  TORCH_ARG(int64_t, resolution);
  TORCH_ARG(int64_t, base_channels) = 8;
};

class ConvDecoderImpl final : public torch::nn::Cloneable<ConvDecoderImpl> {
 public:
  explicit ConvDecoderImpl(ConvDecoderOptions options);
  void reset() override;
  /// z: [N, d]; static_map: [N, 8c, H/16, W/16] or undefined -> mean logits [N, C, H, W]
  at::Tensor forward(const at::Tensor& z, const at::Tensor& static_map);
  /// Every output of the last conv: [N, 2C, H, W]; channel 2c is forward's mean logit of data channel c, channel
  /// 2c+1 a second map per data channel (NDP's per-pixel std, baselines.md §5.1).
  at::Tensor all_logits(const at::Tensor& z, const at::Tensor& static_map);
  ConvDecoderOptions options;
  torch::nn::Linear fc{nullptr};
  torch::nn::ConvTranspose2d up1{nullptr}, up2{nullptr}, up3{nullptr}, up4{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr}, bn4{nullptr};
  torch::nn::Conv2d out{nullptr};
};
TORCH_MODULE(ConvDecoder);

}  // namespace latdyn::nn
