// SPDX-License-Identifier: MIT
// `latdyn eval --run-dir DIR [--ckpt best|latest|STEP] [--data FILE] [--split test]`
// Example: latdyn eval --run-dir runs/pendulum
#include <cstdio>

#include "latdyn/commands.hpp"
#include "latdyn/core/error.hpp"
#include "latdyn/core/log.hpp"
#include "latdyn/eval/pipeline.hpp"

namespace latdyn::cli {

void add_eval(CLI::App& app, EvalArgs& a) {
  auto* c = app.add_subcommand("eval", "Test protocol: nMSE per predicted frame vs two reference predictors -> metrics.json, plots/");
  c->footer("Example: latdyn eval --run-dir runs/pendulum --ckpt best");
  c->add_option("--run-dir", a.run_dir, "run directory of `latdyn train`")->required();
  c->add_option("--ckpt", a.ckpt, "checkpoint: best (default from config), latest or a step number");
  c->add_option("--data", a.data, "dataset file (default: the run's)");
  c->add_option("--split", a.split, "train, val or test (default test)");
  c->add_option("--context", a.context, "context frames (default: the run's eval.context)");
  c->add_option("--horizon", a.horizon, "predicted frames (default: the run's eval.horizon)");
  c->add_option("--out", a.out, "output directory (default: the run directory)");
  c->add_flag("--no-pictures", a.no_pictures, "skip PNG/GIF output");
}

int run_eval(const EvalArgs& a) {
  eval::EvalRequest r{a.run_dir, a.data, a.ckpt, a.split, a.out, a.context, a.horizon, !a.no_pictures};
  json m = eval::evaluate_run(r);
  if (m["metrics"].is_object()) {  // representation model: held-out losses and the alignment summary
    const json& mm = m["metrics"];
    if (mm.contains("heldout_losses"))
      log::info(concat("held-out pairs: rec = ", mm["heldout_losses"].value("loss_rec", std::nan("")),
                       ", prior NLL = ", mm["heldout_losses"].value("loss_nll", std::nan(""))));
    if (mm.contains("alignment"))
      for (const auto& fit : {"orthogonal", "similarity"})
        for (const auto& e : mm["alignment"]["all_frames"][fit]["metrics"])
          if (e["value"].is_number())
            log::info(concat(fit, " alignment, all frames: ", e["name"].get<std::string>(), " = ", e["value"].get<double>()));
    log::info("wrote " + (a.out.empty() ? a.run_dir : a.out) + "/metrics.json, latent.h5 and plots/");
    return 0;
  }
  for (const auto& e : m["metrics"])
    log::info(concat(e["predictor"].get<std::string>(), " ", e["name"].get<std::string>(), " = ", e["value"].get<double>(),
                     " +- ", e["stderr"].get<double>(), " (s.e., n=", e["n"].get<int64_t>(), ")"));
  log::info("wrote " + (a.out.empty() ? a.run_dir : a.out) + "/metrics.json");
  return 0;
}

}  // namespace latdyn::cli
