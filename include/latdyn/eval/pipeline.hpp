// SPDX-License-Identifier: MIT
// Run-level workflows behind the CLI: train (simulating the dataset if asked), evaluate, predict. They sit in eval/
// because they wire eval callbacks into the trainer; apps/ only parses flags and calls these.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "latdyn/core/config_reader.hpp"
#include "latdyn/data/dataset.hpp"
#include "latdyn/models/latent_model.hpp"
#include "latdyn/train/trainer.hpp"

namespace latdyn::eval {

/// `data` section: the dataset file and, optionally, the simulator that creates it when it is missing.
struct DataSection {
  std::string path;
  json simulator;  ///< null or {"type": ..., options}
  /// Train on the first ceil(train_fraction * n_train) training trajectories in stored order (nested subsets;
  /// ladid.md §9 transfer protocol). Validation and test splits are always used whole. 1 = all.
  double train_fraction = 1.0;
  static DataSection from_json(const json& j);
  json to_json() const;
};

/// `eval` section: test protocol and pictures.
struct EvalSection {
  int64_t context = 10, horizon = 50, batch_size = 16, n_pictures = 4;
  std::string split = "test", checkpoint = "best";
  // Representation models (dynae.md §12-13): the ground-truth array to align the latent with; the expected latent
  // units per truth unit 1/sqrt(D dt) (0: the dataset's latent_scale option, else 1); free-energy empty bins
  // (mask | reference).
  std::string truth;
  double latent_scale = 0;
  std::string empty_bins = "mask";
  static EvalSection from_json(const json& j);
  json to_json() const;
};

/// `init` section: start training from the weights of another run (fine-tuning, ladid.md §9). Every weight and
/// buffer (BN statistics included) is copied from the checkpoint; the optimizer state starts fresh.
struct InitSection {
  std::string from;                 ///< run directory; "" = random initialisation
  std::string checkpoint = "best";  ///< latest | best | step number
  static InitSection from_json(const json& j);
  json to_json() const;
};

/// Whole config: sections data, model, trainer, eval, init (unknown sections rejected with a hint).
struct RunConfig {
  DataSection data;
  json model;
  train::TrainerOptions trainer;
  EvalSection eval;
  InitSection init;
  static RunConfig from_json(const json& j);
  json to_json() const;
};

/// Reads the dataset, generating it first with data.simulator when the file is missing. With data.simulator, an
/// existing file must match its options (ConfigError otherwise) and d.simulator is replaced by the resolved options.
data::Dataset load_or_simulate(DataSection& d);

struct TrainRequest {
  json config;              ///< merged config (file + --set), unresolved
  std::string run_dir;
  bool resume = false;
  std::string env_note;     ///< e.g. git describe, stored in env.json
};
/// Trains a run end to end; returns the trainer's result. A new run refuses a non-empty run directory.
train::TrainResult train_run(const TrainRequest& req);

/// The training split of `ds` reduced to the first ceil(fraction * n_train) trajectories (at least one).
data::Dataset training_subset(const data::Dataset& ds, double fraction);

/// Rebuilds the model of a run from config.json and loads checkpoint `which` (latest | best | step).
std::shared_ptr<models::LatentModel> load_run_model(const std::string& run_dir, const std::string& which,
                                                    int64_t* step_out = nullptr);
/// Resolved config.json of a run.
json read_run_config(const std::string& run_dir);

struct EvalRequest {
  std::string run_dir, data_path /*"" = the run's*/, checkpoint /*"" = config*/, split /*"" = config*/, out_dir /*"" = run*/;
  int64_t context = -1, horizon = -1;  ///< -1: from the run's eval section
  bool pictures = true;
};
/// Runs the test protocol; writes metrics.json, eval_predictions.h5 and plots/; returns metrics.json content.
json evaluate_run(const EvalRequest& req);

struct PredictRequest {
  std::string run_dir, data_path, out_path, checkpoint = "best";
  std::vector<int64_t> indices;       ///< trajectories of the file to condition on
  std::vector<double> query_times;    ///< sorted ascending; absolute unless `relative`
  bool relative = false;              ///< query times relative to each trajectory's first context time
  int64_t context = -1;
};
/// Predicts frames at arbitrary query times from K context frames; writes a dataset-format HDF5 with source_run.
void predict_run(const PredictRequest& req);

/// Draws plots/loss.png and plots/learning_curve.png (+ CSV) from log.jsonl.
void plot_training_curves(const std::string& run_dir, const std::string& out_dir);

}  // namespace latdyn::eval
