// SPDX-License-Identifier: MIT
// A minibatch of trajectories (design.md §2.2). Every row has its own time grid.
#pragma once
#include <ATen/ATen.h>

namespace latdyn::data {

/// x: [B, T, C, H, W] or [B, T, D] float32; t: [B, T] float64; mask: [B, T] float32 (1 valid, 0 padding);
/// index: [B] int64 rows of the source dataset.
struct Batch {
  at::Tensor x, t, mask, index;
  int64_t size() const { return x.size(0); }
  Batch to(const at::Device& device) const;
  /// Rows [first, first+count) along the batch axis.
  Batch rows(int64_t first, int64_t count) const;
  /// Time steps [first, first+count) of every row.
  Batch steps(int64_t first, int64_t count) const;
};

}  // namespace latdyn::data
