// SPDX-License-Identifier: MIT
#include "latdyn/eval/run_set.hpp"

#include <cmath>
#include <filesystem>
#include <sstream>

#include "latdyn/core/error.hpp"
#include "latdyn/core/fs_util.hpp"
#include "latdyn/core/log.hpp"
#include "latdyn/eval/pipeline.hpp"

namespace fs = std::filesystem;

namespace latdyn::eval {

namespace {
void collect_stale(const json& want, const json& have, const std::string& path, std::vector<std::string>& out) {
  if (want.is_object() && have.is_object()) {
    for (auto it = want.begin(); it != want.end(); ++it) {
      const std::string key = path + "." + it.key();
      if (!have.contains(it.key()))
        out.push_back(concat(key, " (run: absent, asked ", it.value().dump(), ")"));
      else
        collect_stale(it.value(), have.at(it.key()), key, out);
    }
    return;
  }
  if (want.is_string() && want.get<std::string>() == "auto") return;
  if (want != have)  // json compares numbers by value: 60 == 60.0
    out.push_back(concat(path, " (run ", have.dump(), ", asked ", want.dump(), ")"));
}
// Trainer keys that say how a run executes, not what it trains: not compared against a stored run, and passed on
// when a killed run is resumed (a resumed run takes them from this call, as `latdyn train --resume --threads N`).
const std::vector<const char*>& execution_keys() {
  static const std::vector<const char*> keys = {"threads", "device", "progress", "log_every", "ckpt_every_steps", "keep_last"};
  return keys;
}
}  // namespace

std::vector<std::string> stale_run_keys(const json& requested, const json& stored) {
  std::vector<std::string> out;
  for (const char* section : {"data", "model"})
    if (requested.contains(section)) collect_stale(requested.at(section), stored.value(section, json::object()), section, out);
  if (requested.contains("trainer")) {
    json trainer = requested.at("trainer");
    for (const char* k : execution_keys()) trainer.erase(k);
    collect_stale(trainer, stored.value("trainer", json::object()), "trainer", out);
  }
  return out;
}

void ensure_trained(const json& config, const json& budget_keys, const std::string& run_dir) {
  const std::string status_path = (fs::path(run_dir) / "status.json").string();
  const bool started = fs::exists(fs::path(run_dir) / "config.json");
  if (started) {
    const json stored = read_run_config(run_dir);
    const json& stored_trainer = stored.at("trainer");
    for (auto it = budget_keys.begin(); it != budget_keys.end(); ++it) {
      const json have = stored_trainer.value(it.key(), json());
      if (have != it.value())
        throw ConfigError(concat("run '", run_dir, "' was trained with trainer.", it.key(), " = ", have.dump(),
                                 ", this experiment asks for ", it.value().dump()),
                          "use another --out directory for a different budget");
    }
    // A run trained under another config would silently stand in for this one in the table.
    const std::vector<std::string> stale = stale_run_keys(config, stored);
    if (!stale.empty()) {
      std::string list;
      for (size_t i = 0; i < stale.size() && i < 5; ++i) list += (i ? "; " : "") + stale[i];
      if (stale.size() > 5) list += concat("; … ", stale.size() - 5, " more");
      throw ConfigError(concat("run '", run_dir, "' was trained with another config than this experiment asks for: ", list),
                        "use another --out directory, or delete that run directory to train it again");
    }
  }
  if (fs::exists(status_path) && json::parse(read_text(status_path)).value("status", "") == "completed") {
    log::info("run " + run_dir + " already trained");
    return;
  }
  const bool resume = fs::exists(fs::path(run_dir) / "ckpt");
  log::info(concat(resume ? "resuming " : "training ", run_dir));
  TrainRequest req;
  req.config = config;
  if (resume) {  // the stored run plus the budget and this call's execution keys
    json trainer = budget_keys;
    const json requested = config.value("trainer", json::object());
    for (const char* k : execution_keys())
      if (requested.contains(k)) trainer[k] = requested.at(k);
    req.config = json{{"trainer", trainer}};
  }
  req.run_dir = run_dir;
  req.resume = resume;
  if (!resume && started) fs::remove_all(run_dir);  // killed before its first checkpoint: start it again
  train_run(req);
}

std::string selected_checkpoint(const std::string& run_dir) {
  return fs::exists(fs::path(run_dir) / "ckpt" / "best" / "DONE") ? "best" : "latest";
}

const json* find_metric(const json& metrics, const std::string& name, const std::string& predictor) {
  for (const auto& e : metrics.at("metrics"))
    if (e.value("name", "") == name && e.value("predictor", "") == predictor) return &e;
  return nullptr;
}

SeedStat seed_stat(const std::vector<double>& v) {
  SeedStat s;
  s.n = static_cast<int64_t>(v.size());
  if (v.empty()) return {std::nan(""), std::nan(""), 0};
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - s.mean) * (x - s.mean);
  s.std = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0.0;
  return s;
}
json to_json(const SeedStat& s) { return {{"mean", s.mean}, {"std", s.std}, {"n", s.n}}; }

std::string fmt_number(double v, int prec) {
  if (!std::isfinite(v)) return "–";
  std::ostringstream os;
  os.precision(prec);
  os << v;
  return os.str();
}

std::string fmt_mean_std(const json& stat) {
  const std::string mean = fmt_number(stat.at("mean").get<double>());
  if (stat.value("n", int64_t{0}) < 2) return mean + " (1 seed)";
  return mean + " ± " + fmt_number(stat.at("std").get<double>(), 2);
}

}  // namespace latdyn::eval
