// SPDX-License-Identifier: MIT
// LaDID dynamics network F (ladid.md §3.5): Linear -> act -> Dropout -> Linear -> act -> Dropout -> Linear.
#pragma once
#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <string>

namespace latdyn::nn {

struct DynamicsMlpOptions {
  DynamicsMlpOptions(int64_t in, int64_t width, int64_t out) : in_(in), width_(width), out_(out) {}
  TORCH_ARG(int64_t, in);
  TORCH_ARG(int64_t, width);
  TORCH_ARG(int64_t, out);
  TORCH_ARG(std::string, activation) = "relu";  ///< relu | tanh | gelu | mish
  TORCH_ARG(double, dropout) = 0.5;
};

/// x: [..., in] -> [..., out]. Dropout draws from `gen` (explicit RNG stream) when training.
class DynamicsMlpImpl final : public torch::nn::Cloneable<DynamicsMlpImpl> {
 public:
  explicit DynamicsMlpImpl(DynamicsMlpOptions options);
  void reset() override;
  at::Tensor forward(const at::Tensor& x, at::Generator gen = at::Generator());
  DynamicsMlpOptions options;
  torch::nn::Linear fc1{nullptr}, fc2{nullptr}, fc3{nullptr};

 private:
  at::Tensor act(const at::Tensor& x) const;
  at::Tensor drop(const at::Tensor& x, at::Generator& gen) const;
};
TORCH_MODULE(DynamicsMlp);

}  // namespace latdyn::nn
