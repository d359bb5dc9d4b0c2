// SPDX-License-Identifier: MIT
// `latdyn compare`: one dataset, one budget, every model x seed through train_run / evaluate_run, one table.
#include "latdyn/eval/compare.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "latdyn/core/error.hpp"
#include "latdyn/core/fs_util.hpp"
#include "latdyn/core/log.hpp"
#include "latdyn/eval/pipeline.hpp"
#include "latdyn/eval/rollout.hpp"
#include "latdyn/eval/run_set.hpp"

namespace fs = std::filesystem;

namespace latdyn::eval {

Budget Budget::from_json(const json& j) {
  ConfigReader r(j, "budget");
  Budget b;
  b.type = r.get("type", b.type);
  b.steps = r.get("steps", b.steps);
  b.seconds = r.get("seconds", b.seconds);
  b.patience_epochs = r.get("patience_epochs", b.patience_epochs);
  b.max_epochs = r.get("max_epochs", b.max_epochs);
  r.finish();
  r.check_choice("type", b.type, {"configured", "steps", "seconds", "converged"});
  if (b.type == "steps" && b.steps < 1) r.throw_error("budget type 'steps' needs steps >= 1", "e.g. \"steps\": 2500 (LaDID's 100 epochs x 25 steps)");
  if (b.type == "seconds" && !(b.seconds > 0)) r.throw_error("budget type 'seconds' needs seconds > 0", "e.g. \"seconds\": 600");
  if (b.type == "converged" && (b.patience_epochs < 1 || b.max_epochs < 1))
    r.throw_error("budget type 'converged' needs patience_epochs >= 1 and max_epochs >= 1", "baselines.md §1: 20 and 2000");
  return b;
}

json Budget::to_json() const {
  return {{"type", type}, {"steps", steps}, {"seconds", seconds}, {"patience_epochs", patience_epochs}, {"max_epochs", max_epochs}};
}

std::string Budget::describe() const {
  if (type == "steps") return concat(steps, " gradient steps per run");
  if (type == "seconds") return concat(seconds, " s of training wall-clock per run");
  if (type == "converged")
    return concat("until the selection metric has not improved for ", patience_epochs, " epochs, at most ", max_epochs, " epochs");
  return "each model's configured trainer section";
}

namespace {

struct ModelEntry {
  std::string name;
  json model, trainer;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Trainer keys of the budget: the same gradient steps, wall-clock or stopping rule for every model.
json budget_patch(const Budget& b, int64_t steps_per_epoch) {
  json p = json::object();
  if (b.type == "steps") {
    p["max_steps"] = b.steps;
    p["epochs"] = (b.steps + steps_per_epoch - 1) / steps_per_epoch;
  } else if (b.type == "seconds") {
    p["max_seconds"] = b.seconds;
  } else if (b.type == "converged") {
    p["patience_epochs"] = b.patience_epochs;
    p["epochs"] = b.max_epochs;
    p["val_every_epochs"] = 1;
    p["val_every_steps"] = 0;  // the rule validates every epoch
  }
  return p;
}

// Median over `reps` repetitions of predicting every test trajectory's horizon in one batch (baselines.md §7.5).
json time_prediction(models::LatentModel& model, const data::Dataset& test, int64_t context, int64_t horizon,
                     int64_t reps) {
  torch::NoGradGuard ng;
  rollout(model, test, context, horizon, test.size());  // warm-up
  std::vector<double> secs;
  for (int64_t r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    rollout(model, test, context, horizon, test.size());
    secs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::vector<double> sorted = secs;
  std::sort(sorted.begin(), sorted.end());
  const double med = median(secs);
  return {{"median_s", med}, {"min_s", sorted.front()}, {"max_s", sorted.back()}, {"reps", reps},
          {"trajectories", test.size()}, {"per_trajectory_ms", 1e3 * med / static_cast<double>(test.size())},
          {"threads", torch::get_num_threads()}, {"device", "cpu"}};
}


}  // namespace

json run_compare(const CompareRequest& req) {
  ConfigReader r(req.config, "compare config");
  DataSection data = DataSection::from_json(r.object("data"));
  std::vector<int64_t> seeds = r.get("seeds", std::vector<int64_t>{0, 1, 2});
  Budget budget = Budget::from_json(r.object("budget"));
  json trainer = r.object("trainer"), eval_section = r.object("eval");
  r.accept("models");
  if (!req.config.contains("models") || !req.config.at("models").is_array() || req.config.at("models").empty())
    r.throw_error("'models' must be a non-empty list of {\"name\", \"model\", \"trainer\"}",
                  "e.g. \"models\": [{\"name\": \"ladid\", \"model\": {\"type\": \"ladid\"}}]");
  r.finish();
  if (seeds.empty()) r.throw_error("'seeds' is empty", "baselines.md §1 asks for at least 3 seeds: [0, 1, 2]");

  std::vector<ModelEntry> entries;
  for (const auto& m : req.config.at("models")) {
    ConfigReader mr(m, "compare config: models[]");
    ModelEntry e;
    e.model = mr.object("model");
    e.trainer = mr.object("trainer");
    e.name = mr.get("name", e.model.value("type", std::string()));
    mr.finish();
    if (e.name.empty() || e.name.find('/') != std::string::npos)
      mr.throw_error("every model needs a \"name\" (or model.type) without '/'", "e.g. {\"name\": \"latent_ode\", ...}");
    for (const auto& other : entries)
      if (other.name == e.name) mr.throw_error("duplicate model name '" + e.name + "'", "give each entry its own \"name\"");
    if (req.only.empty() || std::find(req.only.begin(), req.only.end(), e.name) != req.only.end()) entries.push_back(e);
  }
  for (const auto& want : req.only)
    if (std::none_of(entries.begin(), entries.end(), [&](const ModelEntry& e) { return e.name == want; }))
      throw ConfigError("--models names '" + want + "', which the compare config does not list", "check the names in \"models\"");

  // The dataset once (simulated if missing), for the steps-per-epoch of the budget and the timing split.
  data::Dataset ds = load_or_simulate(data);
  data::Dataset train = training_subset(ds, data.train_fraction), test = ds.select(ds.indices(data::Split::kTest));
  EvalSection ev = EvalSection::from_json(eval_section);
  ensure_writable_dir(req.out_dir);

  json runs = json::array(), summary = json::array();
  json sanity;
  for (const ModelEntry& e : entries) {
    std::vector<double> nmse, nmse_first, at1, at10, atH, train_s, s_per_epoch, pred_ms;
    int64_t params = 0;
    for (int64_t seed : seeds) {
      json tr = trainer;
      tr.merge_patch(e.trainer);
      tr["seed"] = seed;
      const int64_t batch = tr.value("batch_size", int64_t{16});
      const int64_t spe = std::max<int64_t>(1, train.size() / std::max<int64_t>(1, batch));
      tr.merge_patch(budget_patch(budget, spe));
      json cfg = {{"data", data.to_json()}, {"model", e.model}, {"trainer", tr}, {"eval", eval_section}};
      const std::string run_dir = (fs::path(req.out_dir) / e.name / concat("seed_", seed)).string();
      json budget_keys = json::object();
      for (const char* k : {"max_steps", "epochs", "max_seconds", "patience_epochs"})
        if (tr.contains(k)) budget_keys[k] = tr[k];
      ensure_trained(cfg, budget_keys, run_dir);
      const std::string status_path = (fs::path(run_dir) / "status.json").string();
      const std::string ckpt = selected_checkpoint(run_dir);
      EvalRequest er{run_dir, "", ckpt, "test", "", ev.context, ev.horizon, false};
      json m = evaluate_run(er);
      json st = json::parse(read_text(status_path));
      auto model = load_run_model(run_dir, ckpt);
      json timing = time_prediction(*model, test, ev.context, ev.horizon, req.predict_reps);
      params = 0;
      for (const auto& p : model->parameters()) params += p.numel();
      const json* nm = find_metric(m, "nmse", "model");
      const json* nf = find_metric(m, "nmse_first10", "model");
      const auto& curve = m.at("nmse_per_frame").at("model");
      const int64_t h = static_cast<int64_t>(curve.size());
      nmse.push_back(nm->at("value").get<double>());
      nmse_first.push_back(nf->at("value").get<double>());
      at1.push_back(curve.at(0).get<double>());
      if (h >= 10) at10.push_back(curve.at(9).get<double>());
      atH.push_back(curve.at(h - 1).get<double>());
      const double secs = st.value("train_seconds", 0.0);
      const int64_t steps = st.value("steps", int64_t{0});
      train_s.push_back(secs);
      if (steps > 0) s_per_epoch.push_back(secs * static_cast<double>(spe) / static_cast<double>(steps));
      pred_ms.push_back(timing.at("per_trajectory_ms").get<double>());
      runs.push_back({{"model", e.name}, {"seed", seed}, {"run_dir", run_dir}, {"checkpoint", ckpt},
                      {"checkpoint_step", m.value("checkpoint_step", int64_t{-1})}, {"steps", steps},
                      {"train_seconds", secs}, {"early_stopped", st.value("early_stopped", false)},
                      {"nmse", nmse.back()}, {"nmse_first10", nmse_first.back()}, {"nmse_per_frame", curve},
                      {"prediction_time", timing}, {"parameters", params}});
      if (sanity.is_null())
        for (const char* p : {"copy_last_context_frame", "mean_training_frame"})
          if (const json* s = find_metric(m, "nmse", p)) sanity[p] = {{"nmse", s->at("value")}, {"nmse_per_frame", m["nmse_per_frame"][p]}};
    }
    summary.push_back({{"model", e.name}, {"type", e.model.value("type", "")}, {"parameters", params},
                       {"nmse", to_json(seed_stat(nmse))}, {"nmse_first10", to_json(seed_stat(nmse_first))},
                       {"nmse_step1", to_json(seed_stat(at1))}, {"nmse_step10", to_json(seed_stat(at10))},
                       {"nmse_stepH", to_json(seed_stat(atH))}, {"train_seconds", to_json(seed_stat(train_s))},
                       {"seconds_per_epoch", to_json(seed_stat(s_per_epoch))},
                       {"predict_ms_per_trajectory", to_json(seed_stat(pred_ms))}});
  }

  json out = {{"dataset", {{"path", data.path}, {"generator", ds.header.generator}, {"n_test", test.size()},
                           {"n_train", train.size()}}},
              {"budget", budget.to_json()}, {"budget_statement", budget.describe()}, {"seeds", seeds},
              {"context", ev.context}, {"horizon", ev.horizon}, {"models", summary}, {"sanity", sanity}, {"runs", runs},
              {"definitions",
               {{"nmse", "per predicted frame ||y - yhat||^2 / ||y||^2 over (C,H,W) on the stored [0,1] data (ladid.md §8); "
                         "per run the mean over test trajectories and horizon; mean and sample std over seeds"},
                {"nmse_stepK", "the per-frame nMSE curve at predicted step K (1-based), averaged over test trajectories; mean/std over seeds"},
                {"seconds_per_epoch", "training wall-clock / steps x steps per epoch (n_train / batch_size)"},
                {"predict_ms_per_trajectory", "median of `reps` repetitions of predicting every test trajectory's horizon in one batch "
                                              "from its context (after one warm-up), divided by the number of test trajectories; "
                                              "CPU, the thread count stored with each run (baselines.md §7.5)"},
                {"checkpoint", "best (selected by each model's rule: LaDID val loss in its final phase, baselines val nMSE) when "
                               "written, else latest"}}}};
  write_text_atomic((fs::path(req.out_dir) / "compare.json").string(), out.dump(2));

  std::ostringstream md;
  md << "Dataset `" << data.path << "` (" << ds.header.generator << "), " << test.size() << " test trajectories, "
     << ev.context << " context -> " << ev.horizon << " predicted frames. Budget: " << budget.describe() << ". Seeds: ";
  for (size_t i = 0; i < seeds.size(); ++i) md << (i ? ", " : "") << seeds[i];
  md << ".\n\n| model | parameters | test nMSE | first 10 | step 1 | step 10 | step H | train time (s) | s / epoch | predict (ms / traj.) |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n";
  double best_sanity = std::nan("");
  for (auto it = sanity.begin(); sanity.is_object() && it != sanity.end(); ++it) {
    const double v = it.value()["nmse"].get<double>();
    if (!std::isfinite(best_sanity) || v < best_sanity) best_sanity = v;
  }
  for (const auto& s : summary) {
    auto pm = [&](const char* k) { return fmt_mean_std(s[k]); };
    const bool flagged = std::isfinite(best_sanity) && s["nmse"]["mean"].get<double>() >= best_sanity;
    md << "| " << s["model"].get<std::string>() << (flagged ? " ⚠ (does not beat a sanity baseline)" : "") << " | "
       << s["parameters"].get<int64_t>() << " | " << pm("nmse") << " | " << pm("nmse_first10") << " | "
       << fmt_number(s["nmse_step1"]["mean"].get<double>()) << " | " << fmt_number(s["nmse_step10"]["mean"].get<double>()) << " | "
       << fmt_number(s["nmse_stepH"]["mean"].get<double>()) << " | " << fmt_number(s["train_seconds"]["mean"].get<double>(), 5) << " | "
       << fmt_number(s["seconds_per_epoch"]["mean"].get<double>(), 3) << " | "
       << fmt_number(s["predict_ms_per_trajectory"]["mean"].get<double>(), 3) << " |\n";
  }
  for (auto it = sanity.begin(); sanity.is_object() && it != sanity.end(); ++it)
    md << "| " << it.key() << " (no learning) | 0 | " << fmt_number(it.value()["nmse"].get<double>()) << " | | | | | | | |\n";
  md << "\nValues: mean ± sample std over seeds; definitions in compare.json.\n";
  write_text_atomic((fs::path(req.out_dir) / "compare.md").string(), md.str());
  log::info("wrote " + req.out_dir + "/compare.json and compare.md");
  return out;
}

}  // namespace latdyn::eval
