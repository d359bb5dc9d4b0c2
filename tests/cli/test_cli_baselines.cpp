// SPDX-License-Identifier: MIT
// Latent-ODE baselines through the real binary: train with best-checkpoint selection by validation nMSE and early
// bad selection keys (trainer.select_by, baselines.md §1), bit-exact resume, eval of the selected checkpoint.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "latdyn/core/fs_util.hpp"
#include "support.hpp"

using namespace latdyn;
namespace fs = std::filesystem;

namespace {
struct Out {
  int code;
  std::string text;
};
Out run(const std::string& args) {
  Out o;
  o.code = test::run_command(std::string(LATDYN_BINARY) + " " + args, &o.text);
  return o;
}
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
  Out t = run("train --config " + cfg + " --run-dir " + run_dir);
  ASSERT_EQ(t.code, 0) << t.text;
  json st = json::parse(read_text(run_dir + "/status.json"));
  EXPECT_EQ(st["select_by"], "val_nmse");
  EXPECT_FALSE(st["early_stopped"].get<bool>());
  EXPECT_TRUE(fs::exists(run_dir + "/ckpt/best/DONE"));
  // every validation line carries the selection metric; best_value is the smallest of them
  double smallest = 1e300;
  std::istringstream in(read_text(run_dir + "/log.jsonl"));
  int validations = 0;
  for (std::string line; std::getline(in, line);) {
    json j = json::parse(line);
    if (!j.contains("val_loss")) continue;
    ASSERT_TRUE(j.contains("val_nmse")) << line;
    smallest = std::min(smallest, j["val_nmse"].get<double>());
    ++validations;
  }
  EXPECT_GE(validations, 3);
  EXPECT_DOUBLE_EQ(st["best_value"].get<double>(), smallest);
  Out e = run("eval --run-dir " + run_dir);
  ASSERT_EQ(e.code, 0) << e.text;
  json m = json::parse(read_text(run_dir + "/metrics.json"));
  EXPECT_EQ(m["checkpoint"], "best");
  // an explicit selection metric that validation cannot produce is a clear error
  json bad_model = model;
  const std::string cfg2 = config(dir, data, bad_model, {{"select_by", "val_nmse_frist10"}});
  Out b = run("train --config " + cfg2 + " --run-dir " + dir + "/run_bad");
  EXPECT_EQ(b.code, 2) << b.text;
  EXPECT_NE(b.text.find("val_nmse_first10"), std::string::npos) << b.text;
}

TEST(CliBaselines, LatentOdeTrainsAndResumesBitExact) {
  const std::string dir = test::temp_dir("cli_latent_ode");
  const std::string data = dir + "/pend.h5";
  test::write_tiny_pendulum(data, 24, 12);
  json model = {{"type", "latent_ode"}, {"enc_channels", 4}, {"dec_channels", 4}, {"token_dim", 16}, {"rec_hidden", 8},
                {"latent_dim", 4}, {"units", 16}, {"n_samples", 2}, {"context_len", 4}, {"max_len", 12}};
  const std::string cfg = config(dir, data, model, {{"epochs", 1}});
  Out full = run("train --config " + cfg + " --run-dir " + dir + "/full");
  ASSERT_EQ(full.code, 0) << full.text;
  Out part = run("train --config " + cfg + " --run-dir " + dir + "/part --set trainer.max_steps=2");
  ASSERT_EQ(part.code, 0) << part.text;
  Out rest = run("train --run-dir " + dir + "/part --resume --set trainer.max_steps=0");
  ASSERT_EQ(rest.code, 0) << rest.text;
  auto last_loss = [](const std::string& run_dir) {
    double v = 0;
    std::istringstream in(read_text(run_dir + "/log.jsonl"));
    for (std::string line; std::getline(in, line);) {
      json j = json::parse(line);
      if (j.contains("loss_total")) v = j["loss_total"].get<double>();
    }
    return v;
  };
  EXPECT_EQ(last_loss(dir + "/full"), last_loss(dir + "/part"));
}
