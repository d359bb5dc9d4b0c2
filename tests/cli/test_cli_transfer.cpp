// SPDX-License-Identifier: MIT
// Transfer to interventions (ladid.md §9) through the real binary: `latdyn finetune` copies every weight from the
// source and trains on the nested fraction under the full-data step budget; `latdyn transfer` runs arms x fractions x
// seeds with a zero-shot reference, resumes without retraining, refuses a changed budget; bad inputs are named.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "latdyn/core/fs_util.hpp"
#include "latdyn/eval/pipeline.hpp"
#include "cli_support.hpp"

using namespace latdyn;
using namespace latdyn::test;
namespace fs = std::filesystem;

namespace {

// Tiny source (l = 1) and target (l = 1.5, other initial conditions) pendulum sets, 18/3/3 trajectories of 20 frames,
// and a source run trained for 4 epochs (batch 4: 4 steps per epoch, 16 steps).
struct TransferFixture : ::testing::Test {
  static void SetUpTestSuite() {
    dir = test::temp_dir("cli_transfer");
    const std::string common = " --option n_trajectories=24 --option n_train=18 --option n_val=3 --option frames=20";
    ASSERT_EQ(latdyn_cmd("simulate pendulum --out " + dir + "/src.h5" + common + " --option seed=7").code, 0);
    ASSERT_EQ(latdyn_cmd("simulate pendulum --out " + dir + "/tgt.h5" + common + " --option seed=1000007 --option l=1.5").code, 0);
    json cfg = test::tiny_ladid_config(dir + "/src.h5");
    write_text_atomic(dir + "/src.json", cfg.dump(2));
    CliResult t = latdyn_cmd("train --config " + dir + "/src.json --run-dir " + dir + "/source");
    ASSERT_EQ(t.code, 0) << t.out;
  }
  static std::string dir;
};
std::string TransferFixture::dir;

double max_param_diff(const std::string& run_a, const std::string& ckpt_a, const std::string& run_b, const std::string& ckpt_b) {
  auto a = eval::load_run_model(run_a, ckpt_a), b = eval::load_run_model(run_b, ckpt_b);
  auto pa = a->named_parameters(), pb = b->named_parameters();
  double worst = 0;
  for (const auto& item : pa) worst = std::max(worst, (item.value() - pb[item.key()]).abs().max().item<double>());
  return worst;
}
}  // namespace

TEST_F(TransferFixture, FinetuneStartsFromTheSourceWeightsScratchDoesNot) {
  const std::string ft = dir + "/ft", sc = dir + "/sc";
  // A vanishing learning rate: after 16 steps the fine-tuned weights are still the source's.
  CliResult f = latdyn_cmd("finetune --from " + dir + "/source --data " + dir + "/tgt.h5 --fraction 0.5 --run-dir " + ft +
              " --set trainer.optimizer.lr=1e-12");
  ASSERT_EQ(f.code, 0) << f.out;
  CliResult s = latdyn_cmd("finetune --from " + dir + "/source --data " + dir + "/tgt.h5 --fraction 0.5 --scratch --run-dir " + sc +
              " --set trainer.optimizer.lr=1e-12");
  ASSERT_EQ(s.code, 0) << s.out;
  EXPECT_LT(max_param_diff(ft, "latest", dir + "/source", "best"), 1e-6);
  EXPECT_GT(max_param_diff(sc, "latest", dir + "/source", "best"), 1e-3);

  // Budget: 9 of 18 trajectories -> 2 steps per epoch; the full-data run's 16 steps -> 8 epochs; phases and the
  // validation interval scaled by 8 / 4.
  json c = json::parse(read_text(ft + "/config.json"));
  EXPECT_EQ(c["data"]["train_fraction"], 0.5);
  EXPECT_EQ(c["data"]["path"], dir + "/tgt.h5");
  EXPECT_EQ(c["init"]["from"], dir + "/source");
  EXPECT_EQ(c["trainer"]["epochs"], 8);
  EXPECT_EQ(c["trainer"]["max_steps"], 16);
  EXPECT_EQ(c["trainer"]["val_every_epochs"], 2);
  EXPECT_EQ(c["model"]["phase_epochs"], json::array({2, 2, 2}));
  EXPECT_FALSE(json::parse(read_text(sc + "/config.json")).contains("init"));
  EXPECT_NE(f.out.find("9 train / 3 val"), std::string::npos) << f.out;
  EXPECT_EQ(json::parse(read_text(ft + "/status.json"))["steps"], 16);

  // final_only: one phase, curriculum off.
  CliResult fo = latdyn_cmd("finetune --from " + dir + "/source --data " + dir + "/tgt.h5 --fraction 1 --curriculum final_only --run-dir " +
               dir + "/fo");
  ASSERT_EQ(fo.code, 0) << fo.out;
  json co = json::parse(read_text(dir + "/fo/config.json"));
  EXPECT_EQ(co["model"]["curriculum"], false);
  EXPECT_EQ(co["trainer"]["epochs"], 4);
}

TEST_F(TransferFixture, FinetuneBadInputsAreNamed) {
  const std::string tgt = dir + "/tgt.h5", src = dir + "/source";
  struct Case {
    std::string args, expect;
    int code = 2;
  };
  for (const Case& c : std::vector<Case>{
           {"--from " + src + " --data " + tgt + " --fraction 1.5", "fraction must be in (0, 1]"},
           {"--from " + src + " --data " + tgt + " --fraction 0.1", "fewer than the source run's trainer.batch_size"},
           {"--from " + src + " --data " + tgt + " --budget weeks", "budget must be"},
           {"--from " + src + " --data " + tgt + " --set trainer.seed=4", "set by the fine-tune protocol"},
           {"--from " + src + " --data " + tgt + " --set trainer.val_every_steps=5", "trainer.val_every_steps is set by the fine-tune protocol"},
           {"--from " + dir + " --data " + tgt, "not a latdyn run directory", 4},
           {"--data " + tgt, "needs --from"}}) {
    const std::string run_dir = dir + "/bad";
    CliResult o = latdyn_cmd("finetune " + c.args + " --run-dir " + run_dir);
    expect_cli_error(o, c.code, {c.expect}, c.args);
    EXPECT_FALSE(fs::exists(run_dir + "/ckpt")) << c.args;
    fs::remove_all(run_dir);
  }
}

TEST_F(TransferFixture, TransferTableZeroShotResumeAndBudgetGuard) {
  const std::string out = dir + "/transfer";
  json cfg = {{"source", {{"run", dir + "/source"}}}, {"target", {{"path", dir + "/tgt.h5"}}}, {"fractions", {0.5, 1.0}},
              {"seeds", {0, 1}}, {"budget", {{"type", "steps"}, {"steps", 16}}}, {"trainer", {{"threads", 2}}}};
  write_text_atomic(dir + "/transfer.json", cfg.dump(2));
  CliResult t = latdyn_cmd("transfer --config " + dir + "/transfer.json --out " + out);
  ASSERT_EQ(t.code, 0) << t.out;
  json r = json::parse(read_text(out + "/transfer.json"));
  ASSERT_EQ(r["fractions"].size(), 2u);
  EXPECT_EQ(r["runs"].size(), 8u);  // 2 fractions x 2 arms x 2 seeds
  EXPECT_EQ(r["fractions"][0]["n_train"], 9);
  EXPECT_EQ(r["fractions"][1]["n_train"], 18);
  for (const auto& row : r["fractions"])
    for (const char* arm : {"finetune", "scratch"}) {
      EXPECT_EQ(row[arm]["nmse"]["n"], 2) << row.dump();
      EXPECT_TRUE(std::isfinite(row[arm]["nmse"]["mean"].get<double>()));
      EXPECT_GE(row[arm]["nmse"]["std"].get<double>(), 0.0);
    }
  for (const auto& run_row : r["runs"]) EXPECT_EQ(run_row["steps"], 16) << run_row.dump();
  // Zero-shot equals evaluating the source run on the target test split.
  CliResult ev = latdyn_cmd("eval --run-dir " + dir + "/source --data " + dir + "/tgt.h5 --out " + dir + "/zs_check --no-pictures");
  ASSERT_EQ(ev.code, 0) << ev.out;
  json zs = json::parse(read_text(dir + "/zs_check/metrics.json"));
  double expect = -1;
  for (const auto& m : zs["metrics"])
    if (m["name"] == "nmse" && m["predictor"] == "model") expect = m["value"].get<double>();
  EXPECT_NEAR(r["zero_shot"]["nmse"].get<double>(), expect, 1e-9);
  EXPECT_TRUE(r["definitions"].contains("nmse"));
  EXPECT_NE(read_text(out + "/transfer.md").find("| 50 % | 9 | 16 |"), std::string::npos) << read_text(out + "/transfer.md");
  EXPECT_EQ(test::png_size(out + "/plots/transfer_nmse.png").first, 800);

  // Run again: nothing is retrained and the table is the same.
  const auto stamp = fs::last_write_time(out + "/finetune/p50/seed_0/status.json");
  CliResult again = latdyn_cmd("transfer --config " + dir + "/transfer.json --out " + out);
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_EQ(fs::last_write_time(out + "/finetune/p50/seed_0/status.json"), stamp);
  json r2 = json::parse(read_text(out + "/transfer.json"));
  EXPECT_EQ(r2["fractions"][0]["finetune"]["nmse"], r["fractions"][0]["finetune"]["nmse"]);

  // Another budget into the same directory is refused; a budget too small for the curriculum is named.
  CliResult other = latdyn_cmd("transfer --config " + dir + "/transfer.json --out " + out + " --set budget.steps=32");
  expect_cli_error(other, 2, {"use another --out directory"});
  CliResult tiny = latdyn_cmd("transfer --config " + dir + "/transfer.json --out " + dir + "/transfer_tiny --set budget.steps=8");
  expect_cli_error(tiny, 2, {"final_only"});
  for (const std::string& set : {std::string("arms=[\"finetune\",\"magic\"]"), std::string("trainer.seed=3"),
                                 std::string("fractions=[0,0.5]")}) {
    CliResult bad = latdyn_cmd("transfer --config " + dir + "/transfer.json --out " + dir + "/transfer_bad --set '" + set + "'");
    EXPECT_EQ(bad.code, 2) << set << "\n" << bad.out;
  }
}
