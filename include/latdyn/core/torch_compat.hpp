// SPDX-License-Identifier: MIT
// One place that turns the LibTorch version into feature macros (design.md §4); other files test only these.
#pragma once
#include <torch/version.h>

#define LATDYN_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

/// at::scaled_dot_product_attention exists from 2.0.
#define LATDYN_HAS_SDPA LATDYN_TORCH_AT_LEAST(2, 0)
/// torch::load(optimizer) restores lr and other group options only from 2.4.
#define LATDYN_OPTIM_LOAD_RESTORES_LR LATDYN_TORCH_AT_LEAST(2, 4)

namespace latdyn {
constexpr int kTorchMajor = TORCH_VERSION_MAJOR;
constexpr int kTorchMinor = TORCH_VERSION_MINOR;
}  // namespace latdyn
