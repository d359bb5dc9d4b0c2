// SPDX-License-Identifier: MIT
// Simulator interface and registry: a simulator turns resolved options into a whole Dataset (datasets.md §0).
#pragma once
#include <memory>

#include <string>
#include <vector>

#include "latdyn/core/config_reader.hpp"
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

/// Throws ConfigError "unknown profile 'P' for GENERATOR" with a did-you-mean hint unless `profile` is in `known`.
void check_profile(const ConfigReader& r, const std::string& generator, const std::string& profile,
                   const std::vector<std::string>& known);
/// Throws ConfigError unless n_trajectories >= 1, n_train, n_val >= 0 and n_train + n_val <= n_trajectories
/// (the rest is the test split, datasets.md §0.2).
void check_split(const ConfigReader& r, int64_t n_trajectories, int64_t n_train, int64_t n_val);

using SimulatorRegistry = Registry<std::unique_ptr<Simulator>>;
/// The registry with the built-in simulators (registered explicitly on first use).
const SimulatorRegistry& simulators();

}  // namespace latdyn::sim
