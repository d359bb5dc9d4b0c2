// SPDX-License-Identifier: MIT
// The real `latdyn` binary as a user runs it: the simulate -> train -> eval -> predict -> info chain, files read back
// with h5py under /usr/bin/python3, --help everywhere, and every kind of bad input with its exit code and message.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>
#include <fstream>

#include "latdyn/core/fs_util.hpp"
#include "latdyn/data/array.hpp"
#include "latdyn/data/npy.hpp"
#include "cli_support.hpp"

using namespace latdyn;
using namespace latdyn::test;
namespace fs = std::filesystem;

namespace {
std::string write_config(const std::string& dir, const json& cfg) {
  const std::string p = dir + "/config.json";
  write_text_atomic(p, cfg.dump(2));
  return p;
}
// Simulated tiny dataset through the CLI itself.
std::string simulate_tiny(const std::string& dir, int frames = 20) {
  const std::string p = dir + "/tiny.h5";
  CliResult r = latdyn_cmd("simulate pendulum --out " + p + " --option n_trajectories=24 --option n_train=18 --option n_val=3 "
                        "--option frames=" + std::to_string(frames) + " --option seed=7");
  EXPECT_EQ(r.code, 0) << r.out;
  return p;
}
data::Array float_array(std::vector<int64_t> shape, float fill) {
  int64_t n = 1;
  for (auto s : shape) n *= s;
  std::vector<float> v(n, fill);
  for (int64_t i = 0; i < n; ++i) v[i] = fill * static_cast<float>(i % 7) / 7.0f;
  data::Array a;
  a.dtype = data::Dtype::kFloat32;
  a.shape = shape;
  a.bytes.resize(n * sizeof(float));
  std::memcpy(a.bytes.data(), v.data(), a.bytes.size());
  return a;
}
}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// The whole user path on tiny data.
TEST(Cli, SimulateTrainEvalPredictInfoChain) {
  const std::string dir = test::temp_dir("cli_chain");
  const std::string data = simulate_tiny(dir);
  const std::string cfg = write_config(dir, test::tiny_ladid_config(data));
  const std::string run = dir + "/run";

  CliResult tr = latdyn_cmd("train --config " + cfg + " --run-dir " + run + " --set trainer.epochs=5");
  ASSERT_EQ(tr.code, 0) << tr.out;
  for (const char* f : {"config.json", "log.jsonl", "status.json", "normalizer.json", "env.json", "ckpt/best/DONE"})
    EXPECT_TRUE(fs::exists(run + "/" + f)) << f;
  json resolved = json::parse(read_text(run + "/config.json"));
  EXPECT_EQ(resolved["trainer"]["epochs"], 5);  // --set reached the resolved config
  EXPECT_EQ(json::parse(read_text(run + "/status.json"))["status"], "completed");

  CliResult ev = latdyn_cmd("eval --run-dir " + run);
  ASSERT_EQ(ev.code, 0) << ev.out;
  json metrics = json::parse(read_text(run + "/metrics.json"));
  ASSERT_TRUE(metrics.contains("metrics"));
  int with_defs = 0;
  std::set<std::string> predictors;
  for (const auto& m : metrics["metrics"]) {
    EXPECT_TRUE(m.contains("definition")) << m.dump();
    EXPECT_TRUE(std::isfinite(m["value"].get<double>()));
    EXPECT_GE(m["std"].get<double>(), 0.0);
    with_defs += m.contains("definition");
    predictors.insert(m["predictor"].get<std::string>());
  }
  EXPECT_EQ(predictors, (std::set<std::string>{"model", "copy_last_context_frame", "mean_training_frame"}));
  EXPECT_GE(with_defs, 6);  // model, copy-last, mean-frame x (all frames, first 10)
  for (const char* f : {"plots/rollout_grid.png", "plots/rollout.gif", "plots/loss.png", "plots/nmse_per_frame.png"})
    EXPECT_GT(fs::file_size(run + "/" + f), 100u) << f;

  // Query times between and beyond the training grid (dt = 0.5 for the quick/default profiles).
  const std::string pred = dir + "/pred.h5";
  CliResult pr = latdyn_cmd("predict --run-dir " + run + " --data " + data + " --index 0,5 --relative --times 0.25,2.1,3.75,30 --out " + pred);
  ASSERT_EQ(pr.code, 0) << pr.out;

  CliResult info = latdyn_cmd("info --json");
  ASSERT_EQ(info.code, 0) << info.out;
  CliResult get = latdyn_cmd("info " + data + " --get options.seed");  // one value for scripts
  ASSERT_EQ(get.code, 0) << get.out;
  EXPECT_EQ(get.out, "7\n");
  EXPECT_EQ(latdyn_cmd("info " + data + " --get options.no_such_key").code, 2);
  json j = json::parse(info.out.substr(info.out.find('{')));
  EXPECT_TRUE(j.contains("simulators"));
  EXPECT_TRUE(j.contains("models"));
  EXPECT_NE(info.out.find("pendulum"), std::string::npos);
  EXPECT_NE(info.out.find("ladid"), std::string::npos);
  CliResult info_text = latdyn_cmd("info");
  ASSERT_EQ(info_text.code, 0);
  EXPECT_NE(info_text.out.find("pendulum"), std::string::npos);
  CliResult info_file = latdyn_cmd("info " + data);
  ASSERT_EQ(info_file.code, 0) << info_file.out;
  EXPECT_NE(info_file.out.find("trajectories"), std::string::npos);

  // Users read our files with h5py (Debian python3-h5py under /usr/bin/python3).
  const std::string py = dir + "/check.py";
  write_text_atomic(py, R"PY(
import sys, json, h5py, numpy as np
data, pred = sys.argv[1], sys.argv[2]
with h5py.File(data, "r") as f:
    assert f.attrs["format"] in ("latdyn-dataset", b"latdyn-dataset"), f.attrs["format"]
    assert int(f.attrs["format_version"]) == 1
    y = f["trajectories"][...]; t = f["times"][...]; s = f["split"][...]
    assert y.dtype == np.float32 and y.shape == (24, 20, 1, 32, 32), (y.dtype, y.shape)
    assert t.dtype == np.float64 and t.shape == (24, 20)
    assert 0.0 <= y.min() and y.max() <= 1.0
    assert sorted(set(s.tolist())) == [0, 1, 2]
    assert "theta" in f["truth"] and "l" in f["params"] and "b" in f["params"]
    opts = json.loads(f.attrs["options"])
    assert opts["frames"] == 20 and int(f.attrs["seed"]) == 7
with h5py.File(pred, "r") as g:
    yp = g["trajectories"][...]; tp = g["times"][...]
    assert yp.shape == (2, 4, 1, 32, 32), yp.shape
    assert np.all(np.isfinite(yp)) and yp.min() >= 0 and yp.max() <= 1
    assert np.allclose(tp[0] - t[0, 0], [0.25, 2.1, 3.75, 30.0])
    assert g["context/frames"].shape == (2, 4, 1, 32, 32) and g["context/times"].shape == (2, 4)
    assert g["params/source_index"][...].tolist() == [0, 5]
    assert "source_run" in g.attrs
print("h5py-ok")
)PY");
  std::string out;
  ASSERT_EQ(test::run_command("/usr/bin/python3 " + py + " " + data + " " + pred, &out), 0) << out;
  EXPECT_NE(out.find("h5py-ok"), std::string::npos) << out;
}

TEST(Cli, ResumeContinuesAStoppedRun) {
  const std::string dir = test::temp_dir("cli_resume");
  const std::string data = simulate_tiny(dir);
  const std::string cfg = write_config(dir, test::tiny_ladid_config(data));
  const std::string run = dir + "/run";
  ASSERT_EQ(latdyn_cmd("train --config " + cfg + " --run-dir " + run + " --set trainer.max_steps=3").code, 0);
  // what a process killed after its last checkpoint leaves behind: log lines past it (one torn) and a .tmp checkpoint
  append_line(run + "/log.jsonl", R"({"step": 4, "loss_total": 123.0})");
  append_line(run + "/log.jsonl", R"({"step": 5, "loss_to)");
  fs::create_directories(run + "/ckpt/step_00000004.tmp");
  // a checkpoint directory without its DONE marker (killed while writing) is never loaded
  fs::copy(run + "/ckpt/step_00000003", run + "/ckpt/step_00000005", fs::copy_options::recursive);
  fs::remove(run + "/ckpt/step_00000005/DONE");
  CliResult r = latdyn_cmd("train --run-dir " + run + " --resume --set trainer.max_steps=6");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("resumed from " + run + "/ckpt/step_00000003 at step 3"), std::string::npos) << r.out;
  EXPECT_EQ(json::parse(read_text(run + "/status.json"))["steps"], 6);
  EXPECT_EQ(json::parse(read_text(run + "/status.json"))["status"], "completed");
  EXPECT_FALSE(fs::exists(run + "/ckpt/step_00000004.tmp"));
  std::vector<int64_t> train_steps;
  for (const json& j : log_lines(run)) {  // every line parses: the torn one is gone
    if (j.contains("loss_total")) train_steps.push_back(j["step"]);
    EXPECT_NE(j.value("loss_total", 0.0), 123.0) << "a line written after the last checkpoint survived the resume";
  }
  EXPECT_EQ(train_steps, (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  // batch size and seed define the run's steps and random streams: they cannot change on resume
  CliResult bs = latdyn_cmd("train --run-dir " + run + " --resume --set trainer.batch_size=2 --set trainer.max_steps=8");
  expect_cli_error(bs, 2, {"batch_size"});
  // nested trainer keys change one at a time on resume
  CliResult nested = latdyn_cmd("train --run-dir " + run + " --resume --set trainer.optimizer.lr=5e-4 --set trainer.max_steps=7");
  ASSERT_EQ(nested.code, 0) << nested.out;
  json resumed_cfg = json::parse(read_text(run + "/config.json"));
  EXPECT_EQ(resumed_cfg["trainer"]["optimizer"]["lr"], 5e-4);
  EXPECT_EQ(resumed_cfg["trainer"]["optimizer"]["type"], "adamw");
  // a model override on resume would silently change the run: refused
  CliResult bad = latdyn_cmd("train --run-dir " + run + " --resume --set model.latent_dim=4");
  expect_cli_error(bad, 2, {"trainer"});
}

TEST(Cli, NanGuardStopsCleanlyWithStatus) {
  const std::string dir = test::temp_dir("cli_nan");
  const std::string data = simulate_tiny(dir);
  const std::string cfg = write_config(dir, test::tiny_ladid_config(data));
  const std::string run = dir + "/run";
  // sigma_y = 1e-25 makes (y - mean)^2 / sigma^2 overflow float32: the loss is infinite at the first step
  CliResult r = latdyn_cmd("train --config " + cfg + " --run-dir " + run + " --set model.sigma_y=1e-25");
  expect_cli_error(r, 6, {"stopping"});
  json status = json::parse(read_text(run + "/status.json"));
  EXPECT_EQ(status["status"], "diverged");
  EXPECT_EQ(status["steps"], 0);
  EXPECT_NE(read_text(run + "/log.jsonl").find("\"event\":\"diverged\""), std::string::npos);
}

TEST(Cli, HelpOnEverySubcommand) {
  for (const char* sub : {"", "simulate", "import", "train", "eval", "predict", "info", "encode", "compare", "finetune", "transfer"}) {
    CliResult r = latdyn_cmd(std::string(sub) + " --help");
    EXPECT_EQ(r.code, 0) << sub << "\n" << r.out;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << sub << "\n" << r.out;
  }
  CliResult none = latdyn_cmd("");
  EXPECT_NE(none.code, 0);
}

TEST(Cli, ImportNpyRoundTrip) {
  const std::string dir = test::temp_dir("cli_import");
  data::write_npy(dir + "/y.npy", float_array({10, 6, 3}, 1.0f));  // vector data [N,T,D]
  data::write_npy(dir + "/theta.npy", float_array({10, 6}, 2.0f));
  CliResult r = latdyn_cmd("import --y " + dir + "/y.npy --dt 0.1 --truth theta=" + dir + "/theta.npy --out " + dir + "/v.h5");
  ASSERT_EQ(r.code, 0) << r.out;
  CliResult info = latdyn_cmd("info " + dir + "/v.h5");
  ASSERT_EQ(info.code, 0) << info.out;
  EXPECT_NE(info.out.find("theta"), std::string::npos) << info.out;
}

// ---------------------------------------------------------------------------------------------------------------
// Bad input: clear message naming the problem, non-zero exit code (2 config, 3 data, 4 checkpoint, 7 I/O).
class CliBadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = test::temp_dir("cli_bad");
    good = dir + "/good.h5";
    static std::string cached;
    if (cached.empty() || !fs::exists(cached)) cached = simulate_tiny(test::temp_dir("cli_bad_data"));
    fs::copy_file(cached, good);
  }
  void expect_error(const std::string& args, int code, std::initializer_list<std::string> needles) {
    CliResult r = latdyn_cmd(args);
    std::vector<std::string> all{"error"};  // every bad-input message says it is an error
    all.insert(all.end(), needles);
    expect_cli_error(r, code, all, args);
  }
  std::string train_with(const std::string& data, const std::string& extra = "") {
    return "train --config " + write_config(dir, test::tiny_ladid_config(data)) + " --run-dir " + dir + "/run " + extra;
  }
  std::string dir, good;
};

TEST_F(CliBadInput, MissingDatasetFile) {
  expect_error("info " + dir + "/nope.h5", 3, {"nope.h5", "no such file"});
  expect_error(train_with(dir + "/nope.h5"), 3, {"nope.h5"});
}

TEST_F(CliBadInput, TruncatedDatasetFile) {
  const std::string bad = dir + "/trunc.h5";
  fs::copy_file(good, bad);
  fs::resize_file(bad, fs::file_size(bad) / 2);
  expect_error(train_with(bad), 3, {"trunc.h5"});
}

TEST_F(CliBadInput, CorruptDatasetFile) {
  const std::string bad = dir + "/corrupt.h5";
  std::ofstream(bad) << std::string(4096, 'x');
  expect_error("info " + bad, 3, {"corrupt.h5", "not a readable HDF5 file"});
  // an HDF5 file that is not a latdyn dataset
  const std::string other = dir + "/pred_like.h5";
  fs::copy_file(good, other);
  // damage bytes in the middle of the raw data region: HDF5 opens, reading must not crash
  {
    std::fstream f(other, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(other) / 3));
    const std::string junk(256, '\xff');
    f.write(junk.data(), junk.size());
  }
  CliResult r = latdyn_cmd(train_with(other, "--set trainer.max_steps=1"));
  // 0xff bytes are NaN in float32 observations: caught by validation, never trained on
  EXPECT_EQ(r.code, 3) << r.out;
}

TEST_F(CliBadInput, NpyWrongShapeAndDtype) {
  data::write_npy(dir + "/flat.npy", float_array({100}, 1.0f));
  expect_error("import --y " + dir + "/flat.npy --out " + dir + "/o.h5", 3, {"flat.npy", "shape", "[N,T,C,H,W]"});
  // int64 observations are not accepted (only float32/float64/uint8)
  data::Array i64;
  i64.dtype = data::Dtype::kInt64;
  i64.shape = {4, 5, 2};
  i64.bytes.assign(4 * 5 * 2 * 8, 0);
  data::write_npy(dir + "/int.npy", i64);
  expect_error("import --y " + dir + "/int.npy --out " + dir + "/o.h5", 3, {"int.npy", "dtype", "float32"});
  std::ofstream(dir + "/notnpy.npy") << "hello";
  expect_error("import --y " + dir + "/notnpy.npy --out " + dir + "/o.h5", 3, {"notnpy.npy"});
  // times with the wrong shape
  data::write_npy(dir + "/y.npy", float_array({4, 5, 2}, 1.0f));
  data::write_npy(dir + "/t.npy", float_array({3, 5}, 1.0f));
  expect_error("import --y " + dir + "/y.npy --t " + dir + "/t.npy --out " + dir + "/o.h5", 3, {"t.npy", "times", "[4, 5]"});
}

TEST_F(CliBadInput, NanOrInfInData) {
  data::Array a = float_array({4, 5, 2}, 1.0f);
  float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(a.bytes.data() + 12, &nan, 4);
  data::write_npy(dir + "/nan.npy", a);
  expect_error("import --y " + dir + "/nan.npy --out " + dir + "/o.h5", 3, {"nan.npy", "NaN"});
  data::Array b = float_array({4, 5, 2}, 1.0f);
  float inf = std::numeric_limits<float>::infinity();
  std::memcpy(b.bytes.data() + 8, &inf, 4);
  data::write_npy(dir + "/inf.npy", b);
  expect_error("import --y " + dir + "/inf.npy --out " + dir + "/o.h5", 3, {"inf.npy", "Inf"});
}

TEST_F(CliBadInput, ContextLongerThanTrajectory) {
  // model wants 12 frames (context 4 + 8), the data has 8
  const std::string short_data = simulate_tiny(dir, 8);
  expect_error(train_with(short_data), 3, {"8 frames", "max_len", "hint"});
  // eval/predict with a context+horizon beyond the trajectory
  ASSERT_EQ(latdyn_cmd(train_with(good, "--set trainer.max_steps=1")).code, 0);
  expect_error("eval --run-dir " + dir + "/run --ckpt latest --horizon 40", 3, {"exceed the trajectory length"});
  const std::string tiny_data = simulate_tiny(test::temp_dir("cli_bad_3"), 3);
  expect_error("predict --run-dir " + dir + "/run --data " + tiny_data + " --index 0 --times 1 --out " + dir + "/p.h5 --ckpt latest",
               3, {"longer than the trajectories", "3 frames"});
}

TEST_F(CliBadInput, UnknownModelKeyAndSimulator) {
  expect_error(train_with(good, "--set model.type=ladd"), 2, {"ladd", "ladid"});
  expect_error(train_with(good, "--set trainer.epoch=3"), 2, {"epoch", "did you mean 'epochs'"});
  expect_error(train_with(good, "--set trainer.lrr=0.1"), 2, {"lrr", "valid keys"});
  expect_error(train_with(good, "--set model.latent_dimm=4"), 2, {"latent_dimm", "latent_dim"});
  expect_error(train_with(good, "--set trainr.seed=1"), 2, {"trainr", "trainer"});
  expect_error("simulate pendulm --out " + dir + "/x.h5", 2, {"pendulm", "pendulum"});
  expect_error("simulate pendulum --out " + dir + "/x.h5 --option resolutoin=64", 2, {"resolutoin", "resolution"});
  expect_error("simulate pendulum --out " + dir + "/x.h5 --option resolution=40", 2, {"resolution 40", "32"});
  // malformed JSON config names the file and the position
  std::ofstream(dir + "/broken.json") << "{\"model\": {\"type\": \"ladid\",}";
  expect_error("train --config " + dir + "/broken.json --run-dir " + dir + "/r2", 2, {"broken.json"});
}

TEST_F(CliBadInput, ConfigErrorsLeaveNoRunBehind) {
  // the final curriculum phase starts at epoch 3: 2 epochs can never reach it; nothing of the run may be written
  expect_error(train_with(good, "--set trainer.epochs=2"), 2, {"never reaches the final curriculum phase"});
  EXPECT_TRUE(!fs::exists(dir + "/run") || fs::is_empty(dir + "/run"));
  expect_error(train_with(good, "--set model.phase_epochs=[1,1]"), 2, {"phase_epochs"});
  EXPECT_TRUE(!fs::exists(dir + "/run") || fs::is_empty(dir + "/run"));
  // data.simulator must describe the existing file (here: 24 trajectories, the config asks for the default 500)
  json cfg = test::tiny_ladid_config(good);
  cfg["data"]["simulator"] = {{"type", "pendulum"}};
  const std::string c = dir + "/sim.json";
  write_text_atomic(c, cfg.dump());
  expect_error("train --config " + c + " --run-dir " + dir + "/run", 2, {"n_trajectories", "other options"});
  EXPECT_TRUE(!fs::exists(dir + "/run") || fs::is_empty(dir + "/run"));
}

TEST_F(CliBadInput, UnwritableOrNonEmptyRunDirectory) {
  std::ofstream(dir + "/plainfile") << "x";
  const std::string cfg = write_config(dir, test::tiny_ladid_config(good));
  expect_error("train --config " + cfg + " --run-dir " + dir + "/plainfile/run", 7, {"plainfile"});
  fs::create_directories(dir + "/run");
  std::ofstream(dir + "/run/keep.txt") << "important";
  expect_error(train_with(good), 2, {"not empty", "--resume"});
  EXPECT_EQ(read_text(dir + "/run/keep.txt"), "important");  // nothing lost
  expect_error("eval --run-dir " + dir + "/nowhere", 4, {"nowhere", "config.json"});
}
