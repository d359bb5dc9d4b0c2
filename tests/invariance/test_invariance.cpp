// SPDX-License-Identifier: MIT
// Exact resume, deterministic datasets (same seed -> same bytes, any thread count), save -> load.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "latdyn/core/fs_util.hpp"
#include "latdyn/eval/pipeline.hpp"
#include "latdyn/eval/rollout.hpp"
#include "latdyn/models/registry.hpp"
#include "latdyn/sim/simulator.hpp"
#include "latdyn/train/checkpoint.hpp"
#include "support.hpp"

using namespace latdyn;
namespace fs = std::filesystem;

namespace {
std::string file_bytes(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
std::vector<json> log_lines_untimed(const std::string& run) {
  std::vector<json> out = test::log_lines(run);
  for (json& j : out) j.erase("time_s");
  return out;
}
void expect_same_weights(const std::string& run_a, const std::string& run_b, const std::string& which) {
  auto a = eval::load_run_model(run_a, which), b = eval::load_run_model(run_b, which);
  auto pa = a->named_parameters(), pb = b->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& kv : pa) EXPECT_TRUE(torch::equal(kv.value(), pb[kv.key()])) << kv.key();
  auto ba = a->named_buffers(), bb = b->named_buffers();
  for (const auto& kv : ba) EXPECT_TRUE(torch::equal(kv.value(), bb[kv.key()])) << kv.key();
}
}  // namespace

TEST(Resume, NPlusMStepsEqualsNStepsSaveResumeMSteps) {
  const std::string dir = test::temp_dir("resume");
  const std::string data = dir + "/tiny.h5";
  test::write_tiny_pendulum(data);
  json cfg = test::tiny_ladid_config(data);
  // straight: 11 steps (crosses epoch ends with validation, a curriculum phase change and a mid-epoch stop)
  json straight = cfg;
  straight["trainer"]["max_steps"] = 11;
  eval::train_run({straight, dir + "/straight", false, ""});
  // interrupted: 5 steps (mid-epoch), then resume to 11
  json first = cfg;
  first["trainer"]["max_steps"] = 5;
  eval::train_run({first, dir + "/resumed", false, ""});
  eval::train_run({json{{"trainer", {{"max_steps", 11}}}}, dir + "/resumed", true, ""});
  expect_same_weights(dir + "/straight", dir + "/resumed", "latest");
  auto la = log_lines_untimed(dir + "/straight"), lb = log_lines_untimed(dir + "/resumed");
  ASSERT_EQ(la.size(), lb.size());
  for (size_t i = 0; i < la.size(); ++i) EXPECT_EQ(la[i], lb[i]) << "log line " << i;
  // a half-written checkpoint directory is ignored by lookups (eval may run during training) and removed on resume
  fs::create_directories(dir + "/resumed/ckpt/step_99999999.tmp");
  auto latest = train::latest_checkpoint(dir + "/resumed");
  ASSERT_TRUE(latest.has_value());
  EXPECT_NE(latest->find(train::step_dir_name(11)), std::string::npos);
  EXPECT_TRUE(fs::exists(dir + "/resumed/ckpt/step_99999999.tmp"));
  train::remove_partial_checkpoints(dir + "/resumed");
  EXPECT_FALSE(fs::exists(dir + "/resumed/ckpt/step_99999999.tmp"));
  // a checkpoint without DONE is never loaded
  fs::remove(*latest + "/DONE");
  EXPECT_THROW(train::resolve_checkpoint(dir + "/resumed", "11"), CheckpointError);
}

TEST(Determinism, SameSeedGivesSameDatasetBytesForAnyThreadCount) {
  const std::string dir = test::temp_dir("det");
  json opts = {{"type", "pendulum"}, {"n_trajectories", 12}, {"n_train", 8}, {"n_val", 2}, {"frames", 10}, {"irregular", true}};
  torch::set_num_threads(1);
  data::write_dataset(dir + "/a.h5", sim::simulators().create(opts)->generate());
  torch::set_num_threads(2);
  data::write_dataset(dir + "/b.h5", sim::simulators().create(opts)->generate());
  EXPECT_EQ(file_bytes(dir + "/a.h5"), file_bytes(dir + "/b.h5"));
  opts["seed"] = 1546;
  data::write_dataset(dir + "/c.h5", sim::simulators().create(opts)->generate());
  EXPECT_NE(file_bytes(dir + "/a.h5"), file_bytes(dir + "/c.h5"));
  // trajectory r depends only on base_seed + r: trajectory 1 of seed 1545 == trajectory 0 of seed 1546
  auto a = data::read_dataset(dir + "/a.h5"), c = data::read_dataset(dir + "/c.h5");
  EXPECT_TRUE(torch::equal(a.y[1], c.y[0]));
  EXPECT_TRUE(torch::equal(a.t[1], c.t[0]));
}

TEST(SaveLoad, DatasetRoundTripAndModelPredictionsSurviveReload) {
  const std::string dir = test::temp_dir("saveload");
  auto ds = sim::simulators().create(json{{"type", "pendulum"}, {"n_trajectories", 6}, {"n_train", 4}, {"n_val", 1}, {"frames", 12}})->generate();
  data::write_dataset(dir + "/d.h5", ds);
  auto back = data::read_dataset(dir + "/d.h5");
  EXPECT_TRUE(torch::equal(ds.y, back.y));
  EXPECT_TRUE(torch::equal(ds.t, back.t));
  EXPECT_TRUE(torch::equal(ds.split, back.split));
  EXPECT_TRUE(torch::equal(ds.truth.at("theta"), back.truth.at("theta")));
  EXPECT_EQ(back.header.generator, "pendulum");
  EXPECT_EQ(back.header.options, ds.header.options);

  test::write_tiny_pendulum(dir + "/tiny.h5");
  json cfg = test::tiny_ladid_config(dir + "/tiny.h5");
  cfg["trainer"]["max_steps"] = 3;
  eval::train_run({cfg, dir + "/run", false, ""});
  auto m1 = eval::load_run_model(dir + "/run", "latest"), m2 = eval::load_run_model(dir + "/run", "latest");
  auto tiny = data::read_dataset(dir + "/tiny.h5");
  auto r1 = eval::rollout(*m1, tiny, 4, 8), r2 = eval::rollout(*m2, tiny, 4, 8);
  EXPECT_TRUE(torch::equal(r1.y_pred, r2.y_pred));
  // batch-size invariance of the rollout
  auto r3 = eval::rollout(*m1, tiny, 4, 8, 1);
  EXPECT_TRUE(torch::allclose(r1.y_pred, r3.y_pred, 1e-5, 1e-6));
}
