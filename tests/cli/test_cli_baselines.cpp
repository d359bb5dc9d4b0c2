// SPDX-License-Identifier: MIT
// Latent-ODE baselines through the real binary: train with best-checkpoint selection by validation nMSE and early
// bad selection keys (trainer.select_by, baselines.md §1), bit-exact resume, eval of the selected checkpoint.
#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "latdyn/core/fs_util.hpp"
#include "cli_support.hpp"

using namespace latdyn;
using namespace latdyn::test;
namespace fs = std::filesystem;

namespace {
std::string config(const std::string& dir, const std::string& data, const json& model, const json& trainer_extra) {
  json cfg = test::tiny_ladid_config(data);
  cfg["model"] = model;
  cfg["trainer"]["epochs"] = 12;
  for (auto it = trainer_extra.begin(); it != trainer_extra.end(); ++it) cfg["trainer"][it.key()] = it.value();
  const std::string p = dir + "/cfg.json";
  write_text_atomic(p, cfg.dump(2));
  return p;
}
}  // namespace

TEST(CliBaselines, SelectionByValidationNmseAndEval) {
  const std::string dir = test::temp_dir("cli_baselines");
  const std::string data = dir + "/pend.h5";
  test::write_tiny_pendulum(data, 24, 12);
  json model = {{"type", "ode_rnn"}, {"enc_channels", 4}, {"dec_channels", 4}, {"token_dim", 16}, {"hidden", 8},
                {"context_len", 4}, {"max_len", 12}};
  const std::string cfg = config(dir, data, model, {{"epochs", 4}});
  const std::string run_dir = dir + "/run";
  CliResult t = latdyn_cmd("train --config " + cfg + " --run-dir " + run_dir);
  ASSERT_EQ(t.code, 0) << t.out;
  json st = json::parse(read_text(run_dir + "/status.json"));
  EXPECT_EQ(st["select_by"], "val_nmse");
  EXPECT_FALSE(st["early_stopped"].get<bool>());
  EXPECT_TRUE(fs::exists(run_dir + "/ckpt/best/DONE"));
  // every validation line carries the selection metric; best_value is the smallest of them
  double smallest = 1e300;
  int validations = 0;
  for (const json& j : log_lines(run_dir, "val_loss")) {
    ASSERT_TRUE(j.contains("val_nmse")) << j.dump();
    smallest = std::min(smallest, j["val_nmse"].get<double>());
    ++validations;
  }
  EXPECT_GE(validations, 3);
  EXPECT_DOUBLE_EQ(st["best_value"].get<double>(), smallest);
  CliResult e = latdyn_cmd("eval --run-dir " + run_dir);
  ASSERT_EQ(e.code, 0) << e.out;
  json m = json::parse(read_text(run_dir + "/metrics.json"));
  EXPECT_EQ(m["checkpoint"], "best");
  // an explicit selection metric that validation cannot produce is a clear error
  json bad_model = model;
  const std::string cfg2 = config(dir, data, bad_model, {{"select_by", "val_nmse_frist10"}});
  CliResult b = latdyn_cmd("train --config " + cfg2 + " --run-dir " + dir + "/run_bad");
  expect_cli_error(b, 2, {"val_nmse_first10"});
}

// Every sampling baseline (noise from the trainer's generator: posterior samples, MSVI's attention dropout and weight
// samples) resumes bit-exactly and evaluates through the CLI.
TEST(CliBaselines, SamplingBaselinesTrainResumeBitExactAndEvaluate) {
  const json codec = {{"enc_channels", 4}, {"dec_channels", 4}, {"token_dim", 16}, {"context_len", 4}, {"max_len", 12}};
  const std::vector<json> models = {
      {{"type", "latent_ode"}, {"rec_hidden", 8}, {"latent_dim", 4}, {"units", 16}, {"n_samples", 2}},
      {{"type", "ode2vae"}, {"q", 4}, {"units", 16}, {"amort_len", 3}, {"substeps", 2}},
      {{"type", "ndp"}, {"d_L", 4}, {"d_D", 2}, {"hidden", 16}, {"rtol", 1e-3}, {"atol", 1e-4}},
      {{"type", "msvi"}, {"latent_dim", 4}, {"m_F", 2}, {"stat_layers", 1}, {"dyn_layers", 1}, {"block_size", 4},
       {"predict_samples", 2}, {"solver", "rk4"}, {"substeps", 1}}};
  for (json model : models) {
    SCOPED_TRACE(model.dump());
    model.update(codec);
    const std::string dir = test::temp_dir("cli_" + model["type"].get<std::string>());
    const std::string data = dir + "/pend.h5";
    test::write_tiny_pendulum(data, 24, 12);
    const std::string cfg = config(dir, data, model, {{"epochs", 1}});
    CliResult full = latdyn_cmd("train --config " + cfg + " --run-dir " + dir + "/full");
    ASSERT_EQ(full.code, 0) << full.out;
    CliResult part = latdyn_cmd("train --config " + cfg + " --run-dir " + dir + "/part --set trainer.max_steps=2");
    ASSERT_EQ(part.code, 0) << part.out;
    CliResult rest = latdyn_cmd("train --run-dir " + dir + "/part --resume --set trainer.max_steps=0");
    ASSERT_EQ(rest.code, 0) << rest.out;
    auto last_loss = [](const std::string& run_dir) {
      const std::vector<json> lines = log_lines(run_dir, "loss_total");
      return lines.empty() ? 0.0 : lines.back()["loss_total"].get<double>();
    };
    EXPECT_EQ(last_loss(dir + "/full"), last_loss(dir + "/part"));
    CliResult e = latdyn_cmd("eval --run-dir " + dir + "/full");
    ASSERT_EQ(e.code, 0) << e.out;
    json m = json::parse(read_text(dir + "/full/metrics.json"));
    EXPECT_TRUE(m.contains("metrics"));
  }
}

TEST(CliBaselines, CompareTrainsEvaluatesTimesAndResumes) {
  const std::string dir = test::temp_dir("cli_compare");
  json cfg = {
      {"data", {{"path", dir + "/pend.h5"},
                {"simulator", {{"type", "pendulum"}, {"n_trajectories", 16}, {"n_train", 8}, {"n_val", 4}, {"frames", 12}, {"seed", 7}}}}},
      {"seeds", {0, 1}},
      {"budget", {{"type", "steps"}, {"steps", 3}}},
      {"trainer", {{"batch_size", 4}, {"val_batch_size", 2}, {"threads", 2}, {"progress", false},
                   {"optimizer", {{"type", "adamw"}, {"lr", 1e-3}}}, {"schedule", {{"type", "constant"}}}}},
      {"eval", {{"context", 4}, {"horizon", 8}}},
      {"models", {{{"name", "ode_rnn"}, {"model", {{"type", "ode_rnn"}, {"enc_channels", 4}, {"dec_channels", 4}, {"token_dim", 16},
                                                    {"hidden", 8}, {"context_len", 4}, {"max_len", 12}}}},
                  {{"name", "rnn_wide"}, {"model", {{"type", "ode_rnn"}, {"enc_channels", 4}, {"dec_channels", 4}, {"token_dim", 16},
                                                     {"hidden", 16}, {"context_len", 4}, {"max_len", 12}}}}}}};
  const std::string cfg_path = dir + "/cmp.json";
  write_text_atomic(cfg_path, cfg.dump(2));
  const std::string out = dir + "/out";
  CliResult c = latdyn_cmd("compare --config " + cfg_path + " --out " + out + " --predict-reps 2");
  ASSERT_EQ(c.code, 0) << c.out;
  json table = json::parse(read_text(out + "/compare.json"));
  ASSERT_EQ(table["models"].size(), 2u);
  ASSERT_EQ(table["runs"].size(), 4u);
  for (const auto& run_rec : table["runs"]) {
    EXPECT_EQ(run_rec["steps"], 3);  // the budget: 3 gradient steps for every model and seed
    EXPECT_GT(run_rec["prediction_time"]["median_s"].get<double>(), 0.0);
    EXPECT_EQ(run_rec["prediction_time"]["reps"], 2);
    EXPECT_EQ(run_rec["nmse_per_frame"].size(), 8u);
  }
  const auto& m0 = table["models"][0];
  EXPECT_EQ(m0["nmse"]["n"], 2);
  EXPECT_GT(m0["parameters"].get<int64_t>(), 0);
  EXPECT_LT(m0["parameters"].get<int64_t>(), table["models"][1]["parameters"].get<int64_t>());
  EXPECT_TRUE(table["sanity"].contains("copy_last_context_frame"));
  EXPECT_TRUE(table["definitions"].contains("predict_ms_per_trajectory"));
  const std::string md = read_text(out + "/compare.md");
  EXPECT_NE(md.find("| rnn_wide"), std::string::npos) << md;
  EXPECT_NE(md.find("3 gradient steps per run"), std::string::npos) << md;
  // a second call finds the runs trained and only re-evaluates
  CliResult again = latdyn_cmd("compare --config " + cfg_path + " --out " + out + " --predict-reps 1 --models ode_rnn");
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_NE(again.out.find("already trained"), std::string::npos) << again.out;
  EXPECT_EQ(json::parse(read_text(out + "/compare.json"))["runs"][0]["nmse"], table["runs"][0]["nmse"]);
  // a different budget into the same directory is refused; unknown model names too
  CliResult budget = latdyn_cmd("compare --config " + cfg_path + " --out " + out + " --set budget.steps=5");
  expect_cli_error(budget, 2, {"another --out"});
  CliResult unknown = latdyn_cmd("compare --config " + cfg_path + " --out " + out + " --models ode_rn");
  EXPECT_EQ(unknown.code, 2) << unknown.out;
  // an edited model into the same directory is refused, naming the setting (the stored run is not this model);
  // how a run executes (threads) is not a different run
  json edited = cfg;
  edited["models"][0]["model"]["hidden"] = 12;
  write_text_atomic(cfg_path, edited.dump(2));
  CliResult stale = latdyn_cmd("compare --config " + cfg_path + " --out " + out + " --models ode_rnn");
  expect_cli_error(stale, 2, {"trained with another config", "model.hidden (run 8, asked 12)", "another --out"});
  write_text_atomic(cfg_path, cfg.dump(2));
  CliResult threads = latdyn_cmd("compare --config " + cfg_path + " --out " + out + " --models ode_rnn --set trainer.threads=1");
  ASSERT_EQ(threads.code, 0) << threads.out;
  EXPECT_NE(threads.out.find("already trained"), std::string::npos) << threads.out;
  // a killed run (checkpoints, no completed status) resumes with this call's execution keys, not the stored ones
  const std::string killed = out + "/ode_rnn/seed_0";
  write_text_atomic(killed + "/status.json", json{{"status", "running"}, {"steps", 0}}.dump());
  CliResult resumed = latdyn_cmd("compare --config " + cfg_path + " --out " + out + " --models ode_rnn --set trainer.threads=1");
  ASSERT_EQ(resumed.code, 0) << resumed.out;
  EXPECT_NE(resumed.out.find("resuming " + killed), std::string::npos) << resumed.out;
  EXPECT_NE(resumed.out.find("frames, 1 threads"), std::string::npos) << resumed.out;
  EXPECT_EQ(json::parse(read_text(killed + "/config.json"))["trainer"]["threads"], 1);
  EXPECT_EQ(json::parse(read_text(killed + "/status.json"))["status"], "completed");
}
