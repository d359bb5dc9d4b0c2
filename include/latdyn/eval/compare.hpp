// SPDX-License-Identifier: MIT
// `latdyn compare` (baselines.md §1, §7): train every chosen model on one dataset under one stated budget and
// several seeds, evaluate each with the test protocol, time prediction, and write one table (compare.json, .md).
#pragma once
#include <string>
#include <vector>

#include "latdyn/core/config_reader.hpp"

namespace latdyn::eval {

/// Training budget shared by every model of a comparison.
struct Budget {
  std::string type = "configured";  ///< configured | steps | seconds | converged
  int64_t steps = 0;                ///< steps: gradient steps per run
  double seconds = 0;               ///< seconds: wall-clock training time per run
  int64_t patience_epochs = 20, max_epochs = 2000;  ///< converged (baselines.md §1)
  static Budget from_json(const json& j);
  json to_json() const;
  /// Human-readable statement stored with the table.
  std::string describe() const;
};

struct CompareRequest {
  json config;                       ///< sections data, seeds, budget, trainer, eval, models (list of {name, model, trainer})
  std::string out_dir;
  std::vector<std::string> only;     ///< subset of model names ("" = all)
  int64_t predict_reps = 10;
};

/// Runs (or resumes) every model x seed into out_dir/<name>/seed_<s>, evaluates, times prediction and writes
/// out_dir/compare.json and out_dir/compare.md. Returns compare.json's content.
json run_compare(const CompareRequest& req);

}  // namespace latdyn::eval
