// SPDX-License-Identifier: MIT
// LaDID time encoding gamma (ladid.md §3.4): 16 log-spaced frequencies over 8 octaves, interleaved sin/cos.
#pragma once
#include <ATen/ATen.h>

namespace latdyn::nn {

/// omega_i = pi * 2^(8 (i-1)/(n-1)) / time_span, i = 1..n (float64 [n]).
at::Tensor time_frequencies(double time_span, int64_t n_freq = 16);
/// tau: [...] float64 -> [..., 2n] float32 = [sin w1 tau, cos w1 tau, sin w2 tau, ...]; products in float64.
at::Tensor encode_time(const at::Tensor& tau, const at::Tensor& omega);

}  // namespace latdyn::nn
