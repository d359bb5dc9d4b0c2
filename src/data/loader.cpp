// SPDX-License-Identifier: MIT
// Batch slicing and the seeded, resumable loader.
#include "latdyn/data/loader.hpp"

#include "latdyn/core/error.hpp"
#include "latdyn/core/rng.hpp"

namespace latdyn::data {

Batch Batch::to(const at::Device& device) const {
  return Batch{x.to(device), t.to(device), mask.to(device), index.to(device)};
}
Batch Batch::rows(int64_t first, int64_t count) const {
  return Batch{x.narrow(0, first, count), t.narrow(0, first, count), mask.narrow(0, first, count),
               index.narrow(0, first, count)};
}
Batch Batch::steps(int64_t first, int64_t count) const {
  return Batch{x.narrow(1, first, count), t.narrow(1, first, count), mask.narrow(1, first, count), index};
}

Loader::Loader(Dataset ds, LoaderOptions o) : ds_(std::move(ds)), o_(o) {
  LATDYN_CHECK(o_.batch_size >= 1, ConfigError, "batch_size must be >= 1, got ", o_.batch_size);
  const int64_t n = ds_.size();
  steps_per_epoch_ = o_.drop_last ? n / o_.batch_size : (n + o_.batch_size - 1) / o_.batch_size;
  if (steps_per_epoch_ < 1)
    throw ConfigError(concat("batch_size ", o_.batch_size, " is larger than the split (", n, " trajectories)"),
                      "lower trainer.batch_size or use a larger dataset");
}

Batch Loader::batch(int64_t epoch, int64_t position) {
  LATDYN_CHECK(position >= 0 && position < steps_per_epoch_, ConfigError, "loader position ", position, " out of range");
  if (epoch != cached_epoch_) {
    const int64_t n = ds_.size();
    perm_ = o_.shuffle ? at::randperm(n, make_generator(o_.seed, "loader", static_cast<uint64_t>(epoch)), at::kLong)
                       : at::arange(n, at::kLong);
    cached_epoch_ = epoch;
  }
  const int64_t first = position * o_.batch_size;
  const int64_t count = std::min(o_.batch_size, ds_.size() - first);
  at::Tensor idx = perm_.narrow(0, first, count);
  return Batch{ds_.y.index_select(0, idx), ds_.t.index_select(0, idx),
               at::ones({count, ds_.steps()}, at::kFloat), idx};
}

Batch whole(const Dataset& ds) {
  return Batch{ds.y, ds.t, at::ones({ds.size(), ds.steps()}, at::kFloat), at::arange(ds.size(), at::kLong)};
}

}  // namespace latdyn::data
