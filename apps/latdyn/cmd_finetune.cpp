// SPDX-License-Identifier: MIT
// `latdyn finetune --from RUN --data TARGET --fraction F --run-dir DIR [--scratch] [--seed S] [--set k=v ...]`
// Example: latdyn finetune --from runs/pendulum --data data/pendulum_length.h5 --fraction 0.08 --run-dir runs/ft8
#include "latdyn/cli_common.hpp"
#include "latdyn/commands.hpp"
#include "latdyn/core/error.hpp"
#include "latdyn/core/log.hpp"
#include "latdyn/data/dataset.hpp"
#include "latdyn/eval/pipeline.hpp"
#include "latdyn/eval/transfer.hpp"

namespace latdyn::cli {

void add_finetune(CLI::App& app, FinetuneArgs& a) {
  auto* c = app.add_subcommand("finetune", "Fine-tune a trained run on a fraction of a changed system's training set "
                                           "(ladid.md §9), under the full-data run's gradient-step budget");
  c->footer("Examples:\n  latdyn finetune --from runs/pendulum --data data/pendulum_length.h5 --fraction 0.08 --run-dir runs/ft8\n"
            "  latdyn finetune --from runs/pendulum --data data/pendulum_length.h5 --fraction 0.08 --scratch --run-dir runs/sc8\n"
            "  latdyn finetune --run-dir runs/ft8 --resume\n"
            "The fraction takes the first ceil(F n_train) training trajectories in stored order; validation uses the whole\n"
            "validation split. Every weight and buffer comes from the source checkpoint; the optimizer starts fresh.");
  c->add_option("--from", a.from, "source run directory (its config.json is the template; not with --resume)");
  c->add_option("--data", a.data, "target dataset (HDF5)");
  c->add_option("--fraction", a.fraction, "fraction of the target training split in (0, 1] (default 1)");
  c->add_option("--run-dir", a.run_dir, "new run directory (must be empty unless --resume)")->required();
  c->add_option("--checkpoint", a.ckpt, "source checkpoint: best | latest | step number (default best)");
  c->add_flag("--scratch", a.scratch, "random initialisation (the protocol's scratch arm) instead of the source weights");
  c->add_option("--seed", a.seed, "trainer seed (default 0)");
  c->add_option("--budget", a.budget, "steps: the full-data run's gradient steps (default) | epochs: the source's epochs");
  c->add_option("--steps", a.steps, "with --budget steps: this many gradient steps instead of the full-data run's");
  c->add_option("--curriculum", a.curriculum, "full (default; phases scaled) | final_only (only the last phase)");
  c->add_option("--set", a.sets, "override trainer.key=value or eval.key=value (repeatable)");
  c->add_flag("--resume", a.resume, "continue the run from its newest complete checkpoint");
  c->add_option("--threads", a.threads, "intra-op threads (default: the source's trainer.threads, 0 = all cores)");
}

int run_finetune(const FinetuneArgs& a) {
  eval::TrainRequest req;
  req.run_dir = a.run_dir;
  req.resume = a.resume;
  req.env_note = git_describe();
  json overrides = json::object();
  for (const auto& s : a.sets) apply_override(overrides, s, {"trainer", "eval"});
  if (a.threads >= 0) overrides["trainer"]["threads"] = a.threads;
  if (a.resume) {
    if (!a.from.empty() || !a.data.empty())
      throw ConfigError("--resume continues a fine-tune run with its own config.json", "drop --from and --data");
    req.config = overrides;
  } else {
    if (a.from.empty() || a.data.empty())
      throw ConfigError("finetune needs --from RUN and --data TARGET", "e.g. --from runs/pendulum --data data/pendulum_length.h5");
    const data::Dataset target = data::read_dataset(a.data);
    eval::FinetuneSpec spec{a.from, a.ckpt, a.data, a.fraction, a.scratch, a.seed, a.budget, a.steps, a.curriculum};
    eval::FinetunePlan plan;
    req.config = eval::finetune_config(spec, target.indices(data::Split::kTrain).numel(), &plan);
    for (auto it = overrides.begin(); it != overrides.end(); ++it) {
      for (const std::string& fixed : eval::protocol_trainer_keys())
        if (it.key() == "trainer" && it.value().contains(fixed))
          throw ConfigError(concat("trainer.", fixed, " is set by the fine-tune protocol"), "use --seed, --budget or --steps");
      req.config[it.key()].merge_patch(it.value());
    }
    log::info(concat(a.scratch ? "scratch" : "fine-tune", " run on ", plan.n_train, " target trajectories: ", plan.epochs,
                     " epochs of ", plan.steps_per_epoch, " steps", plan.max_steps > 0 ? concat(" (", plan.max_steps, " steps)") : std::string(),
                     ", phase lengths x", plan.phase_scale));
  }
  train::TrainResult r = eval::train_run(req);
  log::info(concat("fine-tuning ", r.status, " after ", r.steps, " steps (", static_cast<int64_t>(r.train_seconds), " s); run: ", a.run_dir));
  return r.status == "diverged" ? 6 : 0;
}

}  // namespace latdyn::cli
