// SPDX-License-Identifier: MIT
// In-memory dataset (docs/formats.md): observations, per-trajectory time grids, split, ground truth, provenance.
#pragma once
#include <ATen/ATen.h>

#include <map>
#include <string>
#include <vector>

#include "latdyn/core/config_reader.hpp"

namespace latdyn::data {

enum class Split : uint8_t { kTrain = 0, kVal = 1, kTest = 2 };
Split parse_split(const std::string& name);  // "train" | "val" | "test"
const char* split_name(Split s);

/// Provenance stored as root attributes of the file.
struct DatasetHeader {
  std::string generator;          ///< registry name of the simulator or importer
  int64_t generator_version = 1;
  json options = json::object();  ///< every resolved generator option
  uint64_t seed = 0;
  std::string latdyn_version;
  int64_t format_version = 0;
  std::string source_path;        ///< file it was read from ("" if in memory)
};

/// A whole dataset. y: [N, T, C, H, W] or [N, T, D] float32 in [0,1]; t: [N, T] float64 strictly increasing per row;
/// split: [N] uint8; truth: per-frame arrays [N, T, ...]; params: per-trajectory arrays [N, ...].
struct Dataset {
  at::Tensor y, t, split;
  std::map<std::string, at::Tensor> truth, params;
  DatasetHeader header;

  int64_t size() const { return y.size(0); }
  int64_t steps() const { return y.size(1); }
  bool is_image() const { return y.dim() == 5; }
  /// Shape of one frame: {C, H, W} or {D}.
  std::vector<int64_t> frame_shape() const;
  /// Indices [n] int64 of the trajectories in split s.
  at::Tensor indices(Split s) const;
  /// Rows `index` of every per-trajectory array (y, t, split, truth, params); header copied.
  Dataset select(const at::Tensor& index) const;
  /// Throws DataError with the offending field when shapes, dtypes, times or values are invalid.
  void validate(const std::string& origin) const;
};

/// Writes the dataset (format latdyn-dataset v1) atomically: to PATH.tmp, then renamed.
void write_dataset(const std::string& path, const Dataset& ds);
/// Reads and validates a dataset file; DataError naming file, field and expected form on any problem.
Dataset read_dataset(const std::string& path);
/// Reads only the header (root attributes) and array shapes, for `latdyn info FILE`.
json describe_dataset(const std::string& path);

}  // namespace latdyn::data
