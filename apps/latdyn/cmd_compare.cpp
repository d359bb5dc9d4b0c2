// SPDX-License-Identifier: MIT
// `latdyn compare --config FILE --out DIR [--models a,b] [--set k=v ...]`
// Example: latdyn compare --config configs/compare_pendulum.json --out runs/compare_pendulum
#include "latdyn/cli_common.hpp"
#include "latdyn/commands.hpp"
#include "latdyn/core/error.hpp"
#include "latdyn/core/log.hpp"
#include "latdyn/eval/compare.hpp"

namespace latdyn::cli {

void add_compare(CLI::App& app, CompareArgs& a) {
  auto* c = app.add_subcommand("compare", "Train every model of a comparison config on one dataset, budget and seed list; "
                                          "evaluate, time prediction, write compare.json and compare.md");
  c->footer("Examples:\n  latdyn compare --config configs/compare_pendulum.json --out runs/compare_pendulum\n"
            "  latdyn compare --config configs/compare_pendulum.json --out runs/cmp --models ladid,latent_ode "
            "--set budget.steps=500\n"
            "A killed comparison continues where it stopped when run again with the same --out.");
  c->add_option("--config", a.config, "JSON (sections data, seeds, budget, trainer, eval, models)")->required();
  c->add_option("--out", a.out, "output directory: one run per model and seed, plus the table")->required();
  c->add_option("--models", a.models, "comma-separated subset of the config's model names");
  c->add_option("--set", a.sets, "override key=value in the config (repeatable), e.g. budget.steps=500");
  c->add_option("--predict-reps", a.predict_reps, "repetitions of the prediction timing (median reported)");
}

int run_compare(const CompareArgs& a) {
  eval::CompareRequest req;
  req.config = load_config(a.config, a.sets, {"data", "seeds", "budget", "trainer", "eval", "models"});
  req.out_dir = a.out;
  req.predict_reps = a.predict_reps;
  std::string rest = a.models;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    std::string name = rest.substr(0, comma);
    if (!name.empty()) req.only.push_back(name);
    rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
  }
  if (a.predict_reps < 1) throw ConfigError("--predict-reps must be >= 1", "baselines.md §7 uses 10");
  eval::run_compare(req);
  return 0;
}

}  // namespace latdyn::cli
