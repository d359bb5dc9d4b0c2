// SPDX-License-Identifier: MIT
// ODE-RNN building blocks (Rubanova, Chen, Duvenaud, NeurIPS 2019; baselines.md §3.1): an autonomous hidden ODE
// f_h, a GRU-style update carrying a mean and a std state, and Rubanova's Euler rule between observations.
#pragma once
#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include <utility>
#include <vector>

namespace latdyn::nn {

struct OdeRnnOptions {
  OdeRnnOptions(int64_t input_dim, int64_t hidden) : input_dim_(input_dim), hidden_(hidden) {}
  TORCH_ARG(int64_t, input_dim);   ///< x: one observation's token
  TORCH_ARG(int64_t, hidden);      ///< d_h
  TORCH_ARG(int64_t, units) = 100; ///< hidden units of f_h and the gate MLPs
};

/// Mean and std hidden states, each [B, d_h].
struct OdeRnnState {
  at::Tensor h, h_std;
};

class OdeRnnImpl final : public torch::nn::Cloneable<OdeRnnImpl> {
 public:
  explicit OdeRnnImpl(OdeRnnOptions options);
  void reset() override;

  /// GRU update (§3.1): x [B, E] -> new state.
  OdeRnnState update(const OdeRnnState& s, const at::Tensor& x);
  /// Evolves h with f_h from t_from to t_to (each [B], float64; t_to < t_from allowed) by Rubanova's rule: one Euler
  /// step if |gap| < min_step, else max(2, floor(|gap|/min_step)) equally spaced points (one step fewer). Rows are
  /// integrated together on the unit interval (dz/ds = gap_b f_h(z)) with the largest step count of the batch.
  at::Tensor evolve(const at::Tensor& h, const at::Tensor& t_from, const at::Tensor& t_to, const at::Tensor& min_step);
  /// Runs over the observations tokens [B, K, E] at times t [B, K] from zero states, forwards or backwards (§3.1 step
  /// 2: the start sits 0.01 time units before the first processed observation). min_step = span/50 per row.
  /// before_update, when given, receives the evolved state h just before each update (processing order).
  OdeRnnState run(const at::Tensor& tokens, const at::Tensor& t, bool backwards,
                  std::vector<at::Tensor>* before_update = nullptr);

  OdeRnnOptions options;
  torch::nn::Sequential f_h{nullptr}, gate_u{nullptr}, gate_r{nullptr}, new_state{nullptr};
};
TORCH_MODULE(OdeRnn);

/// Rubanova's minimum step for a run over times t [B, K]: (t_last - t_first) / 50, per row [B] (float64).
at::Tensor rubanova_min_step(const at::Tensor& t);

}  // namespace latdyn::nn
