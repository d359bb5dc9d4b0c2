// SPDX-License-Identifier: MIT
// Every config shipped in configs/ is valid for the data its simulator makes: the run config parses, the model
// resolves against a dataset of the simulator's frame shape and length, the eval protocol fits in the trajectories,
// and forecasting models take one training loss and one protocol prediction; compare and ablation configs are
// checked model by model. Transfer configs: the source config is valid and the target simulator makes frames of
// the same shape and length (an intervention changes only physics).
// Nothing is simulated or trained; the data are random frames of the right shape.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include <filesystem>

#include "latdyn/core/config_reader.hpp"
#include "latdyn/eval/pipeline.hpp"
#include "latdyn/models/latent_model.hpp"
#include "latdyn/models/registry.hpp"
#include "latdyn/sim/simulator.hpp"

using namespace latdyn;
namespace fs = std::filesystem;

namespace {
const std::string kConfigs = std::string(LATDYN_SOURCE_DIR) + "/configs";

struct FrameSpec {
  int64_t frames = 0, channels = 1, resolution = 0;  // resolution 0: vector data (no "resolution" option)
  double dt = 0.1;                                    // time between frames (the simulator's "dt")
};

FrameSpec frame_spec(const json& simulator) {
  const json o = sim::simulators().create(simulator)->options();
  FrameSpec f;
  f.frames = o.at("frames").get<int64_t>();
  if (o.contains("channels"))  // a count, or a field name ("vorticity" one channel, "velocity" two)
    f.channels = o["channels"].is_number() ? o["channels"].get<int64_t>() : (o["channels"] == "velocity" ? 2 : 1);
  f.resolution = o.value("resolution", int64_t{0});
  f.dt = o.value("dt", 0.1);
  return f;
}

std::vector<std::string> configs_with(bool transfer) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(kConfigs)) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() != ".json") continue;
    const bool is_transfer = name.rfind("transfer_", 0) == 0;
    if (is_transfer != transfer) continue;
    out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// One run config against random data of its simulator's frame shape and length.
void check_run_config(const json& config) {
  eval::RunConfig cfg = eval::RunConfig::from_json(config);
  ASSERT_TRUE(cfg.data.simulator.is_object()) << "every shipped config names the simulator that makes its data";
  const FrameSpec f = frame_spec(cfg.data.simulator);
  // Four random trajectories of the simulator's shape and length: enough to resolve every model option.
  data::Dataset ds;
  ds.y = f.resolution > 0 ? torch::rand({4, f.frames, f.channels, f.resolution, f.resolution})
                          : torch::rand({4, f.frames, f.channels});
  ds.t = torch::arange(f.frames, torch::kDouble).mul(f.dt).unsqueeze(0).repeat({4, 1});
  ds.split = torch::zeros({4}, torch::kUInt8);
  json resolved = models::resolve_model_options(cfg.model, ds, cfg.trainer.batch_size);
  if (resolved.value("type", std::string()) == "ladid")  // ladid.md §11.5: a window under 1.5 frames is degenerate
    EXPECT_GE(resolved.at("delta_r").get<double>(), 1.5 * f.dt)
        << "LaDID's layer-0 attention window is under 1.5 frames of this set (dt " << f.dt
        << "): set model.delta_r_frames (7.5 as on the pendulum)";
  auto model = models::create_model(resolved);
  if (dynamic_cast<models::LatentEncoder*>(model.get()) != nullptr) return;  // DynAE-type: no forecasting protocol
  EXPECT_LE(cfg.eval.context + cfg.eval.horizon, f.frames) << "eval protocol longer than the trajectories";
  EXPECT_EQ(model->context_steps(), cfg.eval.context) << "model conditions on another number of frames than eval gives";
  data::Batch b;
  b.x = ds.y.slice(0, 0, 2);
  b.t = ds.t.slice(0, 0, 2);
  b.mask = torch::ones({2, f.frames});
  b.index = torch::arange(2);
  auto lt = model->loss(b, models::StepContext{0, cfg.trainer.epochs - 1, at::detail::createCPUGenerator(1), true});
  EXPECT_TRUE(std::isfinite(lt.total.item<double>()));
  const int64_t k = cfg.eval.context;
  data::Batch ctx = b.steps(0, k);
  at::Tensor query = b.t.slice(1, k, k + cfg.eval.horizon);
  models::Prediction p = model->predict(ctx, query);
  EXPECT_EQ(p.mean.size(1), cfg.eval.horizon);
  EXPECT_EQ(p.mean.sizes().slice(2).vec(), ds.y.sizes().slice(2).vec());
}
}  // namespace

// Run configs, and compare configs (a "models" list, whatever the file is called: `latdyn compare` trains each
// entry with the common data, trainer and eval sections, the entry's "trainer" merged over the common one).
TEST(ShippedConfigs, EveryRunConfigFitsItsSimulatorsData) {
  const auto files = configs_with(false);
  ASSERT_GE(files.size(), 8u) << "configs/ lost its run configs?";
  int64_t compare_entries = 0;
  for (const std::string& path : files) {
    SCOPED_TRACE(path);
    const json config = read_json_file(path);
    if (!config.contains("models")) {
      check_run_config(config);
      continue;
    }
    ASSERT_TRUE(config.at("models").is_array() && !config.at("models").empty());
    for (const json& entry : config.at("models")) {
      SCOPED_TRACE(entry.value("name", std::string("(unnamed)")));
      json trainer = config.value("trainer", json::object());
      trainer.merge_patch(entry.value("trainer", json::object()));
      check_run_config({{"data", config.at("data")}, {"model", entry.at("model")}, {"trainer", trainer},
                        {"eval", config.value("eval", json::object())}});
      ++compare_entries;
    }
  }
  EXPECT_GE(compare_entries, 8) << "the compare and ablation configs were not found";
}

TEST(ShippedConfigs, TransferTargetsChangeOnlyThePhysics) {
  const auto files = configs_with(true);
  ASSERT_GE(files.size(), 3u);
  for (const std::string& path : files) {
    SCOPED_TRACE(path);
    const json t = read_json_file(path);
    const std::string src_cfg = t.at("source").at("config").get<std::string>();
    ASSERT_TRUE(fs::exists(std::string(LATDYN_SOURCE_DIR) + "/" + src_cfg)) << src_cfg;
    eval::RunConfig src = eval::RunConfig::from_json(read_json_file(std::string(LATDYN_SOURCE_DIR) + "/" + src_cfg));
    const FrameSpec a = frame_spec(src.data.simulator), b = frame_spec(t.at("target").at("simulator"));
    EXPECT_EQ(a.frames, b.frames);
    EXPECT_EQ(a.channels, b.channels);
    EXPECT_EQ(a.resolution, b.resolution);
    EXPECT_NE(src.data.simulator.dump(), t.at("target").at("simulator").dump()) << "the target must be a changed system";
    EXPECT_NE(src.data.path, t.at("target").at("path").get<std::string>());
  }
}
