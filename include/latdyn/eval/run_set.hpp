// SPDX-License-Identifier: MIT
// Experiments made of many runs (`latdyn compare`, `latdyn transfer`): train a run directory under fixed budget keys
// (or resume it, or skip it when complete), pick its selected checkpoint, read metrics, summarise over seeds.
#pragma once
#include <string>
#include <vector>

#include "latdyn/core/config_reader.hpp"

namespace latdyn::eval {

/// Trains `config` into `run_dir`; a run directory with checkpoints is resumed with `budget_keys` and the execution
/// keys of `config`'s trainer (threads, device, progress, logging, checkpoint cadence) as trainer overrides, a
/// completed one is left alone. A run whose stored trainer differs from `budget_keys` (a JSON object of
/// trainer keys, e.g. max_steps, epochs) is refused with a ConfigError, so that one table never mixes budgets; so is
/// an existing run whose stored config does not hold what `config` asks for (see stale_run_keys).
void ensure_trained(const json& config, const json& budget_keys, const std::string& run_dir);

/// The settings of `requested` (a run config as `latdyn train` takes it) that the stored, resolved config of an
/// existing run does not hold, as "section.key (run X, asked Y)". Compared: every leaf of the data and model
/// sections and of the trainer except how it executes (threads, device, progress, logging, checkpoint cadence);
/// arrays whole; a requested "auto" is resolved at training time and matches anything. Empty: the run is this one.
std::vector<std::string> stale_run_keys(const json& requested, const json& stored);

/// "best" when the run wrote a best checkpoint (its selection rule), else "latest".
std::string selected_checkpoint(const std::string& run_dir);

/// The entry {"name": name, "predictor": predictor} of metrics.json's "metrics" list, or nullptr.
const json* find_metric(const json& metrics, const std::string& name, const std::string& predictor);

/// Mean and sample standard deviation (n - 1; 0 for one value, NaN for none) of values over seeds.
struct SeedStat {
  double mean = 0, std = 0;
  int64_t n = 0;
};
SeedStat seed_stat(const std::vector<double>& v);
json to_json(const SeedStat& s);

/// Number with `prec` significant digits; "–" for NaN or infinity (markdown tables).
std::string fmt_number(double v, int prec = 4);
/// A to_json(SeedStat) object as "mean ± std" (std to 2 digits), or "mean (1 seed)" when there is no spread.
std::string fmt_mean_std(const json& stat);

}  // namespace latdyn::eval
