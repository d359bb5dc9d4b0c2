// SPDX-License-Identifier: MIT
// `latdyn train --config FILE --run-dir DIR [--set k=v ...] [--resume]`
// Example: latdyn train --config configs/pendulum_ladid.json --run-dir runs/pendulum
#include "latdyn/cli_common.hpp"
#include "latdyn/commands.hpp"
#include "latdyn/core/error.hpp"
#include "latdyn/core/log.hpp"
#include "latdyn/eval/pipeline.hpp"

namespace latdyn::cli {

void add_train(CLI::App& app, TrainArgs& a) {
  auto* c = app.add_subcommand("train", "Train a model; writes config, log.jsonl and checkpoints into the run directory");
  c->footer("Examples:\n  latdyn train --config configs/pendulum_ladid.json --run-dir runs/pendulum\n"
            "  latdyn train --run-dir runs/pendulum --resume --set trainer.epochs=150");
  c->add_option("--config", a.config, "JSON config (sections data, model, trainer, eval); not with --resume");
  c->add_option("--run-dir", a.run_dir, "run directory (must be empty unless --resume)")->required();
  c->add_option("--set", a.sets, "override section.key=value (repeatable); with --resume only trainer.* keys");
  c->add_flag("--resume", a.resume, "continue the run from its newest complete checkpoint");
  c->add_option("--threads", a.threads, "intra-op threads (default: trainer.threads, 0 = all cores)");
}

int run_train(const TrainArgs& a) {
  eval::TrainRequest req;
  req.run_dir = a.run_dir;
  req.resume = a.resume;
  req.env_note = git_describe();
  if (a.resume) {
    if (!a.config.empty()) throw ConfigError("--config and --resume are exclusive", "a resumed run uses its own config.json");
    json overrides = json::object();
    for (const auto& s : a.sets) apply_override(overrides, s);
    if (a.threads >= 0) overrides["trainer"]["threads"] = a.threads;
    req.config = overrides;
  } else {
    if (a.config.empty()) throw ConfigError("train needs --config (or --resume)", "e.g. --config configs/pendulum_ladid.json");
    req.config = load_config(a.config, a.sets);
    if (a.threads >= 0) req.config["trainer"]["threads"] = a.threads;
  }
  train::TrainResult r = eval::train_run(req);
  log::info(concat("training ", r.status, " after ", r.steps, " steps (", static_cast<int64_t>(r.train_seconds), " s); run: ", a.run_dir));
  return r.status == "diverged" ? 6 : 0;
}

}  // namespace latdyn::cli
