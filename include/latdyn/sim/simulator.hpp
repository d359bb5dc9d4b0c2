// SPDX-License-Identifier: MIT
// Simulator interface and registry: a simulator turns resolved options into a whole Dataset (datasets.md §0).
#pragma once
#include <memory>

#include "latdyn/core/registry.hpp"
#include "latdyn/data/dataset.hpp"

namespace latdyn::sim {

/// Generates a dataset deterministically from its options (trajectory r uses seed base_seed + r).
class Simulator {
 public:
  virtual ~Simulator() = default;
  /// Every option resolved (profile applied), including "type"; stored in the dataset header.
  virtual json options() const = 0;
  virtual data::Dataset generate() const = 0;
};

/// Header of a generated dataset: generator name and version, every resolved option, base seed, latdyn version.
data::DatasetHeader generated_header(const std::string& generator, const json& options, uint64_t seed,
                                     int64_t generator_version = 1);

using SimulatorRegistry = Registry<std::unique_ptr<Simulator>>;
/// The registry with the built-in simulators (registered explicitly on first use).
const SimulatorRegistry& simulators();

}  // namespace latdyn::sim
