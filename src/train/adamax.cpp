// SPDX-License-Identifier: MIT
// Adamax optimizer (see the header for the update rule). tests/unit/test_adamax.cpp checks it against
// torch.optim.Adamax (tests/reference/adamax_reference.py).
#include "latdyn/train/adamax.hpp"

#include <torch/optim/serialize.h>
#include <torch/serialize/archive.h>
#include <torch/torch.h>

#include <cmath>
#include <sstream>
#include <string>
#include <type_traits>

namespace latdyn::train {

AdamaxOptions::AdamaxOptions(double lr) : lr_(lr) {}

double AdamaxOptions::get_lr() const { return lr(); }
void AdamaxOptions::set_lr(const double lr) { this->lr(lr); }

// Group options: plain IValues (doubles), one key per field, betas as two keys.
void AdamaxOptions::serialize(torch::serialize::OutputArchive& archive) const {
  archive.write("lr", c10::IValue(lr()));
  archive.write("beta1", c10::IValue(std::get<0>(betas())));
  archive.write("beta2", c10::IValue(std::get<1>(betas())));
  archive.write("eps", c10::IValue(eps()));
  archive.write("weight_decay", c10::IValue(weight_decay()));
}

void AdamaxOptions::serialize(torch::serialize::InputArchive& archive) {
  c10::IValue v, b1, b2;
  archive.read("lr", v);
  lr(v.toDouble());
  archive.read("beta1", b1);
  archive.read("beta2", b2);
  betas(std::make_tuple(b1.toDouble(), b2.toDouble()));
  archive.read("eps", v);
  eps(v.toDouble());
  archive.read("weight_decay", v);
  weight_decay(v.toDouble());
}

void AdamaxParamState::serialize(torch::serialize::OutputArchive& archive) const {
  archive.write("step", c10::IValue(step()));
  archive.write("exp_avg", c10::IValue(exp_avg()));
  archive.write("exp_inf", c10::IValue(exp_inf()));
}

void AdamaxParamState::serialize(torch::serialize::InputArchive& archive) {
  c10::IValue v;
  archive.read("step", v);
  step(v.toInt());
  archive.read("exp_avg", v);
  exp_avg(v.toTensor());
  archive.read("exp_inf", v);
  exp_inf(v.toTensor());
}

namespace {
void check_options(const AdamaxOptions& o) {
  TORCH_CHECK(o.lr() >= 0, "Invalid learning rate: ", o.lr());
  TORCH_CHECK(o.eps() >= 0, "Invalid epsilon value: ", o.eps());
  const double b1 = std::get<0>(o.betas()), b2 = std::get<1>(o.betas());
  TORCH_CHECK(0 <= b1 && b1 < 1.0, "Invalid beta parameter at index 0: ", b1);
  TORCH_CHECK(0 <= b2 && b2 < 1.0, "Invalid beta parameter at index 1: ", b2);
  TORCH_CHECK(o.weight_decay() >= 0, "Invalid weight_decay value: ", o.weight_decay());
}

// LibTorch keys the optimizer state by the parameter's TensorImpl: its address printed as a string up to 1.13,
// the pointer itself in later versions.
// (The string is what c10::guts::to_string wrote: the pointer through operator<<.)
template <class StateMap>
typename StateMap::key_type state_key(const at::Tensor& p) {
  if constexpr (std::is_same_v<typename StateMap::key_type, std::string>) {
    std::ostringstream os;
    os << p.unsafeGetTensorImpl();
    return os.str();
  } else {
    return p.unsafeGetTensorImpl();
  }
}
}  // namespace

Adamax::Adamax(std::vector<torch::optim::OptimizerParamGroup> param_groups, AdamaxOptions defaults)
    : Optimizer(std::move(param_groups), std::make_unique<AdamaxOptions>(defaults)) {
  check_options(defaults);
  for (const auto& g : param_groups_) check_options(static_cast<const AdamaxOptions&>(g.options()));
}

Adamax::Adamax(std::vector<at::Tensor> params, AdamaxOptions defaults)
    : Adamax(std::vector<torch::optim::OptimizerParamGroup>{torch::optim::OptimizerParamGroup(std::move(params))},
             std::move(defaults)) {}

at::Tensor Adamax::step(LossClosure closure) {
  at::Tensor loss;
  if (closure) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  at::NoGradGuard no_grad;
  using StateMap = std::remove_reference_t<decltype(state_)>;
  for (auto& group : param_groups_) {
    const auto& o = static_cast<const AdamaxOptions&>(group.options());
    const double beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      at::Tensor grad = p.grad();
      TORCH_CHECK(!grad.is_sparse(), "Adamax does not support sparse gradients");
      auto& slot = state_[state_key<StateMap>(p)];
      if (!slot) {
        auto fresh = std::make_unique<AdamaxParamState>();
        fresh->exp_avg(at::zeros_like(p, at::MemoryFormat::Preserve));
        fresh->exp_inf(at::zeros_like(p, at::MemoryFormat::Preserve));
        slot = std::move(fresh);
      }
      auto& st = static_cast<AdamaxParamState&>(*slot);
      // A state loaded from an archive lives on the CPU; follow the parameter (e.g. resuming on a GPU).
      if (st.exp_avg().device() != p.device()) st.exp_avg(st.exp_avg().to(p.device()));
      if (st.exp_inf().device() != p.device()) st.exp_inf(st.exp_inf().to(p.device()));
      st.step(st.step() + 1);
      if (o.weight_decay() != 0) grad = grad.add(p, o.weight_decay());
      at::Tensor exp_avg = st.exp_avg(), exp_inf = st.exp_inf();
      exp_avg.mul_(beta1).add_(grad, 1 - beta1);
      // u <- max(beta2 * u, |g| + eps), elementwise; a NaN propagates as in torch.amax
      exp_inf.mul_(beta2);
      at::maximum_out(exp_inf, exp_inf, grad.abs().add_(o.eps()));
      const double bias_correction = 1 - std::pow(beta1, static_cast<double>(st.step()));
      p.addcdiv_(exp_avg, exp_inf, -o.lr() / bias_correction);
    }
  }
  return loss;
}

void Adamax::save(torch::serialize::OutputArchive& archive) const {
  torch::optim::serialize<AdamaxParamState, AdamaxOptions>(archive, *this);
}

void Adamax::load(torch::serialize::InputArchive& archive) {
  torch::optim::serialize<AdamaxParamState, AdamaxOptions>(archive, *this);
}

}  // namespace latdyn::train
