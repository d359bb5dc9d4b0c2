// SPDX-License-Identifier: MIT
// Minibatch loader over one split (design.md §2.2): seeded per-epoch permutations, a stateless (epoch, position)
// cursor so that resumed runs see exactly the batches they would have seen.
#pragma once
#include "latdyn/data/batch.hpp"
#include "latdyn/data/dataset.hpp"

namespace latdyn::data {

struct LoaderOptions {
  int64_t batch_size = 16;
  bool shuffle = true;     ///< permutation of epoch e from derive_seed(seed, "loader", e)
  bool drop_last = true;   ///< drop the last incomplete batch (ladid.md §6)
  uint64_t seed = 0;
};

class Loader final {
 public:
  /// `ds` is the split to iterate (already selected); tensors are shared, not copied.
  Loader(Dataset ds, LoaderOptions o);
  int64_t steps_per_epoch() const { return steps_per_epoch_; }
  /// Batch number `position` (0-based) of epoch `epoch`.
  Batch batch(int64_t epoch, int64_t position);
  const Dataset& dataset() const { return ds_; }

 private:
  Dataset ds_;
  LoaderOptions o_;
  int64_t steps_per_epoch_;
  int64_t cached_epoch_ = -1;
  at::Tensor perm_;
};

/// All rows of a dataset as one batch (for evaluation), times and mask filled in.
Batch whole(const Dataset& ds);

}  // namespace latdyn::data
