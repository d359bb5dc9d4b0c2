// SPDX-License-Identifier: MIT
// Transfer protocol (ladid.md §9): fine-tune vs scratch on nested fractions of a changed system, same gradient-step
// budget for both arms, selection by validation loss on the full target validation split, zero-shot reference.
#include "latdyn/eval/transfer.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "latdyn/core/error.hpp"
#include "latdyn/core/fs_util.hpp"
#include "latdyn/core/log.hpp"
#include "latdyn/eval/image.hpp"
#include "latdyn/eval/pipeline.hpp"
#include "latdyn/eval/run_set.hpp"

namespace fs = std::filesystem;

namespace latdyn::eval {

json FinetunePlan::to_json() const {
  return {{"n_train", n_train},     {"steps_per_epoch", steps_per_epoch}, {"epochs", epochs},
          {"max_steps", max_steps}, {"val_every_epochs", val_every_epochs}, {"val_every_steps", val_every_steps},
          {"phase_scale", phase_scale}};
}

const std::vector<std::string>& protocol_trainer_keys() {
  static const std::vector<std::string> keys = {"seed", "epochs", "max_steps", "val_every_epochs", "val_every_steps", "batch_size"};
  return keys;
}

namespace {

int64_t scaled_epochs(int64_t e, double scale) {
  return std::max<int64_t>(1, static_cast<int64_t>(std::llround(static_cast<double>(e) * scale)));
}

// Curriculum keys of a model section scaled (or dropped for final_only); other model types pass unchanged.
void apply_curriculum(json& model, const std::string& curriculum, double scale) {
  if (curriculum == "final_only") {
    if (model.contains("curriculum")) model["curriculum"] = false;
    if (model.contains("phase_epochs")) model["phase_epochs"] = json::array();
    return;
  }
  if (model.contains("epochs_per_phase")) model["epochs_per_phase"] = scaled_epochs(model["epochs_per_phase"].get<int64_t>(), scale);
  if (model.contains("phase_epochs") && model["phase_epochs"].is_array())
    for (auto& e : model["phase_epochs"]) e = scaled_epochs(e.get<int64_t>(), scale);
}

std::string percent_label(double fraction) {
  std::ostringstream os;
  os.precision(4);
  os << fraction * 100.0;
  return os.str();
}

}  // namespace

json finetune_config(const FinetuneSpec& s, int64_t target_n_train, FinetunePlan* plan_out) {
  if (!(s.fraction > 0.0 && s.fraction <= 1.0))
    throw ConfigError(concat("fraction must be in (0, 1], got ", s.fraction), "e.g. 0.08 for 8 % of the target training set");
  if (s.budget != "steps" && s.budget != "epochs")
    throw ConfigError("budget must be \"steps\" or \"epochs\", got '" + s.budget + "'", "ladid.md §9.5: steps (default)");
  if (s.curriculum != "full" && s.curriculum != "final_only")
    throw ConfigError("curriculum must be \"full\" or \"final_only\", got '" + s.curriculum + "'", "ladid.md §9.5");
  if (s.steps < 0) throw ConfigError(concat("steps must be >= 0, got ", s.steps), "0 = the full-data run's steps");
  json cfg = read_run_config(s.source_run);
  json& tr = cfg.at("trainer");
  const int64_t batch = tr.value("batch_size", int64_t{16}), src_epochs = tr.value("epochs", int64_t{100});
  const int64_t src_max = tr.value("max_steps", int64_t{0}), src_val_every = tr.value("val_every_epochs", int64_t{1});
  FinetunePlan plan;
  plan.n_train = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(s.fraction * static_cast<double>(target_n_train) - 1e-9)));
  plan.n_train = std::min(plan.n_train, target_n_train);
  if (plan.n_train < batch || target_n_train < batch)
    throw ConfigError(concat("fraction ", s.fraction, " of ", target_n_train, " target training trajectories is ", plan.n_train,
                             ", fewer than the source run's trainer.batch_size = ", batch),
                      "use a larger fraction or a target set with more training trajectories");
  plan.steps_per_epoch = plan.n_train / batch;
  const int64_t full_spe = target_n_train / batch;
  if (s.budget == "steps") {
    int64_t full_steps = src_epochs * full_spe;
    if (src_max > 0) full_steps = std::min(full_steps, src_max);
    if (s.steps > 0) full_steps = s.steps;
    plan.max_steps = full_steps;
    plan.epochs = (full_steps + plan.steps_per_epoch - 1) / plan.steps_per_epoch;
    plan.phase_scale = static_cast<double>(plan.epochs) / static_cast<double>(src_epochs);
  } else {
    plan.epochs = src_epochs;
    plan.max_steps = src_max;
    plan.phase_scale = 1.0;
  }
  // Validate as often in gradient steps as the source run did (the same plateau / selection cadence per step): a
  // source that validated by steps keeps its step cadence (trainer.val_every_steps comes with its config), an epoch
  // cadence is converted to the fraction's epochs.
  plan.val_every_steps = tr.value("val_every_steps", int64_t{0});
  plan.val_every_epochs = s.budget == "steps" ? scaled_epochs(src_val_every * full_spe, 1.0 / static_cast<double>(plan.steps_per_epoch))
                                              : src_val_every;
  json& model = cfg.at("model");
  apply_curriculum(model, s.curriculum, plan.phase_scale);
  if (model.contains("phase_epochs") && model["phase_epochs"].is_array() && model.value("curriculum", true)) {
    int64_t early = 0;
    for (const auto& e : model["phase_epochs"]) early += e.get<int64_t>();
    if (early >= plan.epochs)
      throw ConfigError(concat("the budget gives ", plan.epochs, " epochs of ", plan.steps_per_epoch, " steps at fraction ", s.fraction,
                               "; the curriculum's early phases (scaled, at least one epoch each) take ", early, " of them"),
                        "raise the step budget, or fine-tune only in the final phase (curriculum final_only)");
  }
  tr["seed"] = s.seed;
  tr["epochs"] = plan.epochs;
  tr["max_steps"] = plan.max_steps;
  tr["val_every_epochs"] = plan.val_every_epochs;
  cfg["data"] = {{"path", s.target_path}, {"simulator", nullptr}, {"train_fraction", s.fraction}};
  if (s.scratch) cfg.erase("init");
  else cfg["init"] = {{"from", s.source_run}, {"checkpoint", s.checkpoint}};
  if (plan_out) *plan_out = plan;
  return cfg;
}

json run_transfer(const TransferRequest& req) {
  ConfigReader r(req.config, "transfer config");
  json source = r.object("source");
  DataSection target = DataSection::from_json(r.object("target"));
  std::vector<double> fractions = r.get("fractions", std::vector<double>{0.08, 0.16, 0.32, 0.64, 1.0});
  std::vector<int64_t> seeds = r.get("seeds", std::vector<int64_t>{0, 1, 2});
  std::vector<std::string> arms = r.get("arms", std::vector<std::string>{"finetune", "scratch"});
  json budget = r.object("budget");
  const std::string curriculum = r.get("finetune_curriculum", std::string("full"));
  json trainer_over = r.object("trainer"), eval_over = r.object("eval");
  r.accept("comment");
  r.finish();
  ConfigReader sr(source, "transfer config: source");
  const std::string source_run = sr.require<std::string>("run");
  const std::string source_ckpt = sr.get("checkpoint", std::string("best"));
  sr.accept("config");
  sr.finish();
  ConfigReader br(budget, "transfer config: budget");
  const std::string budget_type = br.get("type", std::string("steps"));
  const int64_t budget_steps = br.get("steps", int64_t{0});
  br.finish();
  br.check_choice("type", budget_type, {"steps", "epochs"});
  r.check_choice("finetune_curriculum", curriculum, {"full", "final_only"});
  if (target.train_fraction != 1.0)
    r.throw_error("target.train_fraction is set; the fractions come from \"fractions\"", "remove target.train_fraction");
  if (fractions.empty() || seeds.empty() || arms.empty())
    r.throw_error("fractions, seeds and arms must be non-empty", "ladid.md §9: [0.08, 0.16, 0.32, 0.64, 1.0], [0, 1, 2], [\"finetune\", \"scratch\"]");
  for (const auto& a : arms)
    if (a != "finetune" && a != "scratch") r.throw_error("unknown arm '" + a + "'", "arms are \"finetune\" and \"scratch\"");
  for (double f : fractions)
    if (!(f > 0 && f <= 1)) r.throw_error(concat("fraction ", f, " is outside (0, 1]"), "e.g. 0.08 for 8 %");
  for (const std::string& k : protocol_trainer_keys())
    if (trainer_over.contains(k))
      r.throw_error(concat("trainer.", k, " is set by the protocol"), "use the budget section (type, steps) or the seeds list");

  // 1. Source: an existing run, or trained from source.config (resumed when killed).
  if (source.contains("config")) {
    json scfg = source["config"].is_string() ? read_json_file(source["config"].get<std::string>()) : source["config"];
    if (!scfg.is_object()) sr.throw_error("source.config must be a config file path or an object", "e.g. \"configs/pendulum_ladid.json\"");
    ensure_trained(scfg, json::object(), source_run);
  } else if (!fs::exists(fs::path(source_run) / "config.json")) {
    sr.throw_error("source run '" + source_run + "' does not exist and source.config is not given",
                   "train it first (latdyn train) or add \"config\": \"configs/...json\" to train it here");
  }

  // 2. Target data (simulated when missing) and its training-split size.
  data::Dataset ds = load_or_simulate(target);
  const int64_t n_train = ds.indices(data::Split::kTrain).numel();
  for (double f : fractions)  // every plan checked before any work (e.g. a budget too small for the curriculum)
    for (const auto& arm : arms)
      finetune_config(FinetuneSpec{source_run, source_ckpt, target.path, f, arm == "scratch", seeds.front(), budget_type,
                                   budget_steps, curriculum},
                      n_train);
  ensure_writable_dir(req.out_dir);
  const json src_eval = read_run_config(source_run).at("eval");
  const int64_t context = eval_over.value("context", src_eval.value("context", int64_t{10}));
  const int64_t horizon = eval_over.value("horizon", src_eval.value("horizon", int64_t{50}));

  // 3. Zero-shot: the source model on the target test split.
  json zs = evaluate_run(EvalRequest{source_run, target.path, source_ckpt, "test",
                                     (fs::path(req.out_dir) / "zero_shot").string(), context, horizon, true});
  const json zero_shot = {{"nmse", find_metric(zs, "nmse", "model")->at("value")},
                          {"nmse_first10", find_metric(zs, "nmse_first10", "model")->at("value")},
                          {"checkpoint_step", zs.value("checkpoint_step", int64_t{-1})}};

  // 4. Arms x fractions x seeds.
  json runs = json::array(), table = json::array();
  for (double f : fractions) {
    json row = {{"fraction", f}};
    for (const auto& arm : arms) {
      std::vector<double> nmse, first10, secs;
      FinetunePlan plan;
      for (int64_t seed : seeds) {
        FinetuneSpec spec{source_run, source_ckpt, target.path, f, arm == "scratch", seed, budget_type, budget_steps, curriculum};
        json cfg = finetune_config(spec, n_train, &plan);
        cfg["trainer"].merge_patch(trainer_over);
        cfg["eval"].merge_patch(eval_over);
        const std::string run_dir = (fs::path(req.out_dir) / arm / ("p" + percent_label(f)) / concat("seed_", seed)).string();
        ensure_trained(cfg, {{"epochs", plan.epochs}, {"max_steps", plan.max_steps}, {"val_every_epochs", plan.val_every_epochs}},
                       run_dir);
        const std::string ckpt = selected_checkpoint(run_dir);
        json m = evaluate_run(EvalRequest{run_dir, "", ckpt, "test", "", context, horizon, false});
        const json st = json::parse(read_text((fs::path(run_dir) / "status.json").string()));
        nmse.push_back(find_metric(m, "nmse", "model")->at("value").get<double>());
        first10.push_back(find_metric(m, "nmse_first10", "model")->at("value").get<double>());
        secs.push_back(st.value("train_seconds", 0.0));
        runs.push_back({{"arm", arm}, {"fraction", f}, {"seed", seed}, {"run_dir", run_dir}, {"checkpoint", ckpt},
                        {"checkpoint_step", m.value("checkpoint_step", int64_t{-1})}, {"steps", st.value("steps", int64_t{0})},
                        {"train_seconds", secs.back()}, {"nmse", nmse.back()}, {"nmse_first10", first10.back()}});
      }
      row["n_train"] = plan.n_train;
      row["plan"] = plan.to_json();
      row[arm] = {{"nmse", to_json(seed_stat(nmse))}, {"nmse_first10", to_json(seed_stat(first10))},
                  {"train_seconds", to_json(seed_stat(secs))}, {"values", nmse}};
    }
    if (row.contains("finetune") && row.contains("scratch")) {
      const double d = row["finetune"]["nmse"]["mean"].get<double>() - row["scratch"]["nmse"]["mean"].get<double>();
      const double spread = std::max(row["finetune"]["nmse"]["std"].get<double>(), row["scratch"]["nmse"]["std"].get<double>());
      row["finetune_minus_scratch"] = d;
      const bool one_seed = row["finetune"]["nmse"]["n"].get<int64_t>() < 2 || row["scratch"]["nmse"]["n"].get<int64_t>() < 2;
      row["verdict"] = one_seed              ? (d < 0 ? "fine-tune lower (1 seed: no spread)" : "scratch lower (1 seed: no spread)")
                       : std::abs(d) <= spread ? "inside the seed spread"
                       : d < 0               ? "fine-tune better"
                                             : "scratch better";
    }
    table.push_back(row);
  }

  json out = {{"source", {{"run", source_run}, {"checkpoint", source_ckpt}}},
              {"target", {{"path", target.path}, {"generator", ds.header.generator}, {"n_train", n_train}}},
              {"budget", {{"type", budget_type}, {"steps", budget_steps}}}, {"finetune_curriculum", curriculum},
              {"seeds", seeds}, {"context", context}, {"horizon", horizon}, {"zero_shot", zero_shot}, {"fractions", table},
              {"runs", runs},
              {"definitions",
               {{"nmse", "test nMSE of the target test split: per predicted frame ||y - yhat||^2 / ||y||^2, mean over test "
                         "trajectories and horizon (ladid.md §8); mean and sample std over seeds"},
                {"fraction", "the first ceil(p * n_train) target training trajectories in stored order (nested subsets)"},
                {"budget", "steps: every run gets the gradient steps of the full-data run (source epochs x n_train / batch, "
                           "or budget.steps), curriculum phase lengths scaled by epochs / source epochs, validation "
                           "every as many steps as the source; epochs: the source's epochs on fewer steps"},
                {"finetune", "every weight and buffer from the source checkpoint, fresh optimizer state"},
                {"scratch", "random initialisation (seeded by the run seed), same settings"},
                {"selection", "checkpoint by validation loss on the full target validation split (final curriculum phase)"},
                {"verdict", "|mean difference| <= the larger seed std is reported as inside the seed spread; with one seed there is no spread and the verdict only says which mean is lower"}}}};
  write_text_atomic((fs::path(req.out_dir) / "transfer.json").string(), out.dump(2));

  std::ostringstream md;
  md << "Source `" << source_run << "` (" << source_ckpt << "), target `" << target.path << "` (" << ds.header.generator << ", "
     << n_train << " training trajectories), " << context << " context -> " << horizon << " predicted frames. Budget: "
     << (budget_type == "steps" ? (budget_steps > 0 ? concat(budget_steps, " gradient steps per run")
                                                    : std::string("the full-data run's gradient steps per run"))
                                : std::string("the source run's epochs"))
     << ", curriculum " << curriculum << ". Seeds:";
  for (int64_t s : seeds) md << " " << s;
  md << ".\n\n| fraction | trajectories | steps | fine-tune nMSE | scratch nMSE | fine-tune − scratch | verdict |\n"
        "|---|---|---|---|---|---|---|\n";
  auto pm = [](const json& row, const char* arm) {
    if (!row.contains(arm)) return std::string("–");
    return fmt_mean_std(row[arm]["nmse"]);
  };
  for (const auto& row : table)
    md << "| " << percent_label(row["fraction"].get<double>()) << " % | " << row["n_train"].get<int64_t>() << " | "
       << row["plan"]["max_steps"].get<int64_t>() << " | " << pm(row, "finetune") << " | " << pm(row, "scratch") << " | "
       << (row.contains("finetune_minus_scratch") ? fmt_number(row["finetune_minus_scratch"].get<double>(), 3) : "–") << " | "
       << row.value("verdict", "–") << " |\n";
  md << "\nZero-shot (source model on the target test split): nMSE " << fmt_number(zero_shot["nmse"].get<double>())
     << ". Values: mean ± sample std over seeds; definitions in transfer.json.\n";
  write_text_atomic((fs::path(req.out_dir) / "transfer.md").string(), md.str());

  std::vector<Series> series;
  for (const auto& arm : arms) {
    Series s{arm == "finetune" ? "fine-tune" : "scratch", {}, {}};
    for (const auto& row : table) {
      s.x.push_back(100.0 * row["fraction"].get<double>());
      s.y.push_back(row[arm]["nmse"]["mean"].get<double>());
    }
    series.push_back(s);
  }
  Series zero{"zero-shot", {}, {}};
  for (const auto& row : table) {
    zero.x.push_back(100.0 * row["fraction"].get<double>());
    zero.y.push_back(zero_shot["nmse"].get<double>());
  }
  series.push_back(zero);
  ensure_writable_dir((fs::path(req.out_dir) / "plots").string());
  write_line_plot_png((fs::path(req.out_dir) / "plots" / "transfer_nmse.png").string(), series,
                      "transfer: test nMSE vs target training fraction", "target training fraction (%)", "test nMSE", false);
  log::info("wrote " + req.out_dir + "/transfer.json, transfer.md and plots/transfer_nmse.png");
  return out;
}

}  // namespace latdyn::eval
