// SPDX-License-Identifier: MIT
// Config reader, overrides, registries and learning-rate schedules.
#include <gtest/gtest.h>

#include "latdyn/core/config_reader.hpp"
#include "latdyn/core/error.hpp"
#include "latdyn/models/registry.hpp"
#include "latdyn/sim/simulator.hpp"
#include "latdyn/train/schedule.hpp"

using namespace latdyn;

TEST(ConfigReader, UnknownKeyGetsDidYouMean) {
  json j = {{"latent_dim", 3}, {"laten_dimm", 4}};
  ConfigReader r(j, "model (ladid)");
  EXPECT_EQ(r.get<int64_t>("latent_dim", 1), 3);
  try {
    r.finish();
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown key 'laten_dimm' in model (ladid)"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("did you mean 'latent_dim'"), std::string::npos) << e.what();
  }
}

TEST(ConfigReader, TypeMismatchNamesKeyAndExpectedType) {
  json j = {{"epochs", "ten"}};
  ConfigReader r(j, "trainer");
  try {
    r.get<int64_t>("epochs", 1);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'epochs'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("integer expected"), std::string::npos) << e.what();
  }
  json k = {{"lr", 1}};
  ConfigReader r2(k, "trainer");
  EXPECT_DOUBLE_EQ(r2.get<double>("lr", 0.5), 1.0);  // integers are valid numbers
}

TEST(ConfigReader, CommentsAndOverrides) {
  json cfg = parse_json_text("// comment\n{\"model\": {\"type\": \"ladid\" /* inline */}, \"trainer\": {}}", "test");
  apply_override(cfg, "model.latent_dim=16");
  apply_override(cfg, "model.dyn_act=tanh");
  apply_override(cfg, "trainer.optimizer.lr=0.001");
  EXPECT_EQ(cfg["model"]["latent_dim"], 16);
  EXPECT_EQ(cfg["model"]["dyn_act"], "tanh");
  EXPECT_DOUBLE_EQ(cfg["trainer"]["optimizer"]["lr"].get<double>(), 0.001);
  EXPECT_THROW(apply_override(cfg, "modle.latent_dim=3"), ConfigError);
  EXPECT_THROW(apply_override(cfg, "latent_dim=3"), ConfigError);
  EXPECT_THROW(apply_override(cfg, "noequals"), ConfigError);
  EXPECT_THROW(parse_json_text("{\"a\": }", "x.json"), ConfigError);
}

TEST(Registry, UnknownNamesListChoices) {
  try {
    models::model_registry().create(json{{"type", "ladd"}});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'ladid'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(sim::simulators().create(json{{"type", "pendulm"}}), ConfigError);
  EXPECT_THROW(sim::simulators().create(json{{"profile", "quick"}}), ConfigError);  // missing type
  Registry<int> r("thing");
  r.add("a", "first", [](const json&) { return 1; });
  EXPECT_THROW(r.add("a", "again", [](const json&) { return 2; }), ConfigError);
}

TEST(Schedule, PlateauMatchesPyTorchSemantics) {
  // ReduceLROnPlateau(mode=min, factor=0.5, patience=2, threshold=0.1 rel, cooldown=1, min_lr=0.1) on a hand trace
  train::ScheduleOptions o = train::ScheduleOptions::from_json(
      json{{"type", "plateau"}, {"factor", 0.5}, {"patience", 2}, {"threshold", 0.1}, {"cooldown", 1}, {"min_lr", 0.1}});
  train::Schedule s(o, 1.0, 100, 0);
  const std::vector<double> losses = {10, 9.5, 9.2, 9.3, 9.1, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0};
  // best=10; 9.5,9.2 not < 9.0 -> bad 1,2; 9.3 bad 3 > 2 -> lr 0.5, cooldown 1; 9.1 cooldown -> bad 0;
  // 8.0 improves; then 8.0 x3 -> bad 1,2,3 -> lr 0.25; cooldown; x3 more -> lr 0.125; then min_lr 0.1
  std::vector<double> lrs;
  for (double l : losses) {
    s.on_validation(l);
    lrs.push_back(s.lr(0));
  }
  const std::vector<double> expected = {1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.125, 0.125};
  for (size_t i = 0; i < lrs.size(); ++i) EXPECT_DOUBLE_EQ(lrs[i], expected[i]) << "at validation " << i;
  // state round trip
  train::Schedule s2(o, 1.0, 100, 0);
  s2.load_state(s.state());
  EXPECT_DOUBLE_EQ(s2.lr(0), s.lr(0));
  EXPECT_EQ(s2.state(), s.state());
}

TEST(Schedule, LinearDecayAndWarmup) {
  auto o = train::ScheduleOptions::from_json(json{{"type", "linear_decay"}, {"decay_start", 2}, {"lr_final", 0.0}, {"warmup_steps", 4}});
  train::Schedule s(o, 1.0, 100, 20);
  EXPECT_DOUBLE_EQ(s.lr(0), 0.25);
  EXPECT_DOUBLE_EQ(s.lr(3), 1.0);
  EXPECT_DOUBLE_EQ(s.lr(19), 1.0);
  EXPECT_DOUBLE_EQ(s.lr(20), 1.0);
  EXPECT_DOUBLE_EQ(s.lr(60), 0.5);
  EXPECT_DOUBLE_EQ(s.lr(100), 0.0);
  EXPECT_THROW(train::ScheduleOptions::from_json(json{{"type", "platau"}}), ConfigError);
}
