// SPDX-License-Identifier: MIT
// nMSE / MSE per frame and their summaries over trajectories.
#include "latdyn/eval/metrics.hpp"

#include <torch/torch.h>

#include <cmath>

#include "latdyn/core/error.hpp"

namespace latdyn::eval {

const char* const kNmseDefinition =
    "per predicted frame k of trajectory r: nMSE_rk = sum((y_rk - yhat_rk)^2) / sum(y_rk^2) over C,H,W (or D), on the "
    "stored [0,1] data; per trajectory the mean over the scored frames; value = mean over trajectories; std and stderr "
    "(std/sqrt(n)) over trajectories; frames with sum(y^2) < 1e-12 skipped and counted (ladid.md §8)";
const char* const kMseDefinition =
    "per predicted frame: mean((y - yhat)^2) over C,H,W (or D); per trajectory the mean over the scored frames; "
    "value = mean over trajectories, std and stderr over trajectories";

static void check_pair(const at::Tensor& y, const at::Tensor& y_hat) {
  TORCH_CHECK(y.sizes() == y_hat.sizes(), "metric: shapes differ: ", y.sizes(), " vs ", y_hat.sizes());
  TORCH_CHECK(y.dim() >= 3, "metric: expected [R, H, ...], got ", y.sizes());
}

at::Tensor nmse_per_frame(const at::Tensor& y, const at::Tensor& y_hat) {
  check_pair(y, y_hat);
  at::Tensor yd = y.to(at::kDouble).flatten(2), yh = y_hat.to(at::kDouble).flatten(2);
  at::Tensor num = (yd - yh).pow(2).sum(-1), den = yd.pow(2).sum(-1);
  return torch::where(den < 1e-12, torch::full_like(num, std::nan("")), num / den);
}

at::Tensor mse_per_frame(const at::Tensor& y, const at::Tensor& y_hat) {
  check_pair(y, y_hat);
  return (y.to(at::kDouble) - y_hat.to(at::kDouble)).flatten(2).pow(2).mean(-1);
}

Summary summarize(const at::Tensor& per_frame, int64_t first, int64_t count) {
  TORCH_CHECK(per_frame.dim() == 2, "summarize: expected [R, H]");
  const int64_t h = per_frame.size(1);
  if (count < 0) count = h - first;
  at::Tensor v = per_frame.narrow(1, first, std::min(count, h - first)).to(at::kDouble);
  at::Tensor valid = torch::isfinite(v);
  Summary s;
  s.skipped_frames = (~valid).sum().item<int64_t>();
  at::Tensor per_traj = torch::where(valid, v, torch::zeros_like(v)).sum(1) / valid.sum(1).to(at::kDouble);
  per_traj = per_traj.index({torch::isfinite(per_traj)});
  s.n = per_traj.size(0);
  if (s.n == 0) return s;
  s.mean = per_traj.mean().item<double>();
  s.std = s.n > 1 ? per_traj.std().item<double>() : 0.0;
  s.stderr_ = s.std / std::sqrt(static_cast<double>(s.n));
  return s;
}

json summary_json(const std::string& name, const Summary& s, const std::string& definition) {
  return {{"name", name}, {"value", s.mean}, {"std", s.std}, {"stderr", s.stderr_}, {"n", s.n},
          {"skipped_frames", s.skipped_frames}, {"definition", definition}};
}

}  // namespace latdyn::eval
