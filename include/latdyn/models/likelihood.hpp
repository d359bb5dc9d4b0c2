// SPDX-License-Identifier: MIT
// Log-densities written out directly (ladid.md §4.2, baselines.md §1), shared by the models.
#pragma once
#include <ATen/ATen.h>

#include <cmath>

namespace latdyn::models {

constexpr double kHalfLog2Pi = 0.91893853320467274178;  // log(2 pi) / 2

/// Elementwise log N(x; m, s^2) for a fixed std s.
inline at::Tensor gaussian_log_prob(const at::Tensor& x, const at::Tensor& m, double s) {
  return (-0.5 / (s * s)) * (x - m).pow(2) - (std::log(s) + kHalfLog2Pi);
}
/// Sum over all elements of log N(x; m, s^2), tensor std.
inline at::Tensor gaussian_log_prob_sum(const at::Tensor& x, const at::Tensor& m, const at::Tensor& s) {
  return (-0.5 * ((x - m) / s).pow(2) - at::log(s) - kHalfLog2Pi).sum();
}
/// Sum over all elements of log N(x; m, s^2), fixed std.
inline at::Tensor gaussian_log_prob_sum(const at::Tensor& x, const at::Tensor& m, double s) {
  return (-0.5 / (s * s)) * (x - m).pow(2).sum() - static_cast<double>(x.numel()) * (std::log(s) + kHalfLog2Pi);
}
/// Elementwise KL( N(mu, std^2) || N(0, 1) ).
inline at::Tensor kl_to_standard_normal(const at::Tensor& mu, const at::Tensor& std) {
  return 0.5 * (std.pow(2) + mu.pow(2) - 1.0) - at::log(std);
}

}  // namespace latdyn::models
