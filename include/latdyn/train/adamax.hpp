// SPDX-License-Identifier: MIT
// Adamax (Kingma & Ba 2015, §7.1) as a LibTorch optimizer, with the semantics of torch.optim.Adamax in PyTorch 1.13:
//   g <- grad + weight_decay * p                       (L2 penalty added to the gradient, not decoupled)
//   m <- beta1 * m + (1 - beta1) * g                   (exp_avg)
//   u <- max(beta2 * u, |g| + eps)                     (exp_inf, eps inside the max)
//   p <- p - lr / (1 - beta1^t) * m / u                (bias correction on m only)
// LibTorch 1.13 has no Adamax (baselines.md §3.4: ODE-RNN and Latent ODE train with it). Save/load use LibTorch's
// optimizer archive layout (state per parameter + param_groups), so checkpoints treat it like AdamW.
#pragma once
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <tuple>
#include <vector>

namespace latdyn::train {

struct AdamaxOptions : public torch::optim::OptimizerCloneableOptions<AdamaxOptions> {
  AdamaxOptions(double lr = 2e-3);  // NOLINT(google-explicit-constructor): LibTorch's loader constructs it from 0
  TORCH_ARG(double, lr) = 2e-3;
  typedef std::tuple<double, double> betas_t;
  TORCH_ARG(betas_t, betas) = std::make_tuple(0.9, 0.999);
  TORCH_ARG(double, eps) = 1e-8;
  TORCH_ARG(double, weight_decay) = 0;

 public:
  void serialize(torch::serialize::InputArchive& archive) override;
  void serialize(torch::serialize::OutputArchive& archive) const override;
  double get_lr() const override;
  void set_lr(const double lr) override;
  ~AdamaxOptions() override = default;
};

struct AdamaxParamState : public torch::optim::OptimizerCloneableParamState<AdamaxParamState> {
  TORCH_ARG(int64_t, step) = 0;
  TORCH_ARG(at::Tensor, exp_avg);
  TORCH_ARG(at::Tensor, exp_inf);

 public:
  void serialize(torch::serialize::InputArchive& archive) override;
  void serialize(torch::serialize::OutputArchive& archive) const override;
  ~AdamaxParamState() override = default;
};

class Adamax final : public torch::optim::Optimizer {
 public:
  /// Options are checked like torch.optim.Adamax (c10::Error on lr < 0, eps < 0, betas outside [0, 1), wd < 0).
  explicit Adamax(std::vector<torch::optim::OptimizerParamGroup> param_groups, AdamaxOptions defaults = {});
  explicit Adamax(std::vector<at::Tensor> params, AdamaxOptions defaults = {});

  at::Tensor step(LossClosure closure = nullptr) override;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;
};

}  // namespace latdyn::train
