// SPDX-License-Identifier: MIT
// Train / evaluate / predict workflows over run directories (design.md §2.5-§2.6).
#include "latdyn/eval/pipeline.hpp"

#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "latdyn/core/error.hpp"
#include "latdyn/core/fs_util.hpp"
#include "latdyn/core/log.hpp"
#include "latdyn/core/version.hpp"
#include "latdyn/data/h5.hpp"
#include "latdyn/data/loader.hpp"
#include "latdyn/data/tensor_array.hpp"
#include "latdyn/eval/image.hpp"
#include "latdyn/eval/metrics.hpp"
#include "latdyn/eval/representation.hpp"
#include "latdyn/eval/rollout.hpp"
#include "latdyn/eval/val_metric.hpp"
#include "latdyn/models/registry.hpp"
#include "latdyn/sim/simulator.hpp"
#include "latdyn/train/checkpoint.hpp"

namespace latdyn::eval {
namespace fs = std::filesystem;

// ---------------------------------------------------------------- config sections
DataSection DataSection::from_json(const json& j) {
  ConfigReader r(j, "data");
  DataSection d;
  d.path = r.require<std::string>("path");
  r.accept("simulator");
  if (j.contains("simulator") && !j.at("simulator").is_null()) {
    d.simulator = j.at("simulator");
    if (!d.simulator.is_object() || !d.simulator.contains("type"))
      r.throw_error("data.simulator must be an object with a \"type\"", "e.g. {\"type\": \"pendulum\", \"profile\": \"quick\"}");
  }
  d.train_fraction = r.get("train_fraction", d.train_fraction);
  r.finish();
  if (!(d.train_fraction > 0.0 && d.train_fraction <= 1.0))
    r.throw_error(concat("data.train_fraction must be in (0, 1], got ", d.train_fraction),
                  "e.g. 0.08 trains on the first 8 % of the training trajectories");
  return d;
}
json DataSection::to_json() const {
  return {{"path", path}, {"simulator", simulator}, {"train_fraction", train_fraction}};
}

InitSection InitSection::from_json(const json& j_in) {
  json j = j_in;  // a step number may be given as a number
  if (j.is_object() && j.contains("checkpoint") && j["checkpoint"].is_number_integer())
    j["checkpoint"] = std::to_string(j["checkpoint"].get<int64_t>());
  ConfigReader r(j, "init");
  InitSection s;
  s.from = r.get("from", s.from);
  s.checkpoint = r.get("checkpoint", s.checkpoint);
  r.finish();
  if (!s.from.empty() && !fs::exists(fs::path(s.from) / "config.json"))
    r.throw_error("init.from = '" + s.from + "' is not a run directory (no config.json)",
                  "give the directory of a trained run, e.g. runs/pendulum");
  return s;
}
json InitSection::to_json() const { return {{"from", from}, {"checkpoint", checkpoint}}; }

EvalSection EvalSection::from_json(const json& j_in) {
  json j = j_in;  // a step number may be given as a number: --set eval.checkpoint=700
  if (j.is_object() && j.contains("checkpoint") && j["checkpoint"].is_number_integer())
    j["checkpoint"] = std::to_string(j["checkpoint"].get<int64_t>());
  ConfigReader r(j, "eval");
  EvalSection e;
  e.context = r.get("context", e.context);
  e.horizon = r.get("horizon", e.horizon);
  e.batch_size = r.get("batch_size", e.batch_size);
  e.n_pictures = r.get("n_pictures", e.n_pictures);
  e.split = r.get("split", e.split);
  e.checkpoint = r.get("checkpoint", e.checkpoint);
  e.truth = r.get("truth", e.truth);
  e.latent_scale = r.get("latent_scale", e.latent_scale);
  e.empty_bins = r.get("empty_bins", e.empty_bins);
  r.check_choice("empty_bins", e.empty_bins, {"mask", "reference"});
  if (e.latent_scale < 0) r.throw_error("eval.latent_scale must be >= 0 (0: from the dataset)", "");
  r.finish();
  data::parse_split(e.split);
  if (e.context < 1 || e.horizon < 1 || e.batch_size < 1 || e.n_pictures < 0)
    r.throw_error("eval.context, eval.horizon and eval.batch_size must be >= 1", "");
  return e;
}
json EvalSection::to_json() const {
  return {{"context", context}, {"horizon", horizon}, {"batch_size", batch_size}, {"n_pictures", n_pictures},
          {"split", split}, {"checkpoint", checkpoint}, {"truth", truth}, {"latent_scale", latent_scale},
          {"empty_bins", empty_bins}};
}

RunConfig RunConfig::from_json(const json& j) {
  ConfigReader r(j, "config");
  RunConfig c;
  c.data = DataSection::from_json(r.object("data"));
  c.model = r.object("model");
  if (!c.model.contains("type")) r.throw_error("the model section needs a \"type\"", "e.g. \"model\": {\"type\": \"ladid\"}");
  models::model_registry().at(c.model.at("type").get<std::string>());
  c.trainer = train::TrainerOptions::from_json(r.object("trainer"));
  c.eval = EvalSection::from_json(r.object("eval"));
  c.init = InitSection::from_json(r.object("init"));
  r.accept("comment");
  r.finish();
  return c;
}
json RunConfig::to_json() const {
  json j = {{"data", data.to_json()}, {"model", model}, {"trainer", trainer.to_json()}, {"eval", eval.to_json()}};
  if (!init.from.empty()) j["init"] = init.to_json();
  return j;
}

data::Dataset load_or_simulate(DataSection& d) {
  if (d.simulator.is_null()) return data::read_dataset(d.path);
  auto sim = sim::simulators().create(d.simulator);
  d.simulator = sim->options();  // every option resolved, so config.json records what the data is
  if (!fs::exists(d.path)) {
    log::info("dataset '" + d.path + "' not found: simulating it with " + d.simulator.at("type").get<std::string>());
    const fs::path parent = fs::path(d.path).parent_path();
    if (!parent.empty()) ensure_writable_dir(parent.string());
    data::write_dataset(d.path, sim->generate());
  }
  data::Dataset ds = data::read_dataset(d.path);
  // An existing file must be what data.simulator describes; otherwise the run would silently use other data.
  std::string diff;
  for (auto it = d.simulator.begin(); it != d.simulator.end(); ++it) {
    const json have = it.key() == "type" ? json(ds.header.generator) : ds.header.options.value(it.key(), json());
    if (have != it.value()) diff += concat(diff.empty() ? "" : ", ", it.key(), " (file ", have.dump(), ", config ", it.value().dump(), ")");
  }
  if (!diff.empty())
    throw ConfigError("dataset '" + d.path + "' exists but was generated with other options than data.simulator: " + diff,
                      "delete the file to regenerate it, point data.path elsewhere, or remove data.simulator");
  return ds;
}

// ---------------------------------------------------------------- train
json read_run_config(const std::string& run_dir) {
  const std::string p = (fs::path(run_dir) / "config.json").string();
  if (!fs::exists(p))
    throw CheckpointError("'" + run_dir + "' is not a latdyn run directory (no config.json)", "pass the --run-dir of a `latdyn train` run");
  return read_json_file(p);
}

static json env_json(int64_t threads, const std::string& device, const std::string& note) {
  return {{"latdyn_version", kVersion}, {"torch_version", concat(TORCH_VERSION_MAJOR, ".", TORCH_VERSION_MINOR, ".", TORCH_VERSION_PATCH)},
          {"compiler", __VERSION__}, {"threads", threads}, {"device", device}, {"world_size", 1}, {"git", note},
          {"cuda_available", torch::cuda::is_available()}};
}

data::Dataset training_subset(const data::Dataset& ds, double fraction) {
  at::Tensor idx = ds.indices(data::Split::kTrain);
  const int64_t n = idx.numel();
  const auto keep = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(fraction * static_cast<double>(n) - 1e-9)));
  return ds.select(idx.slice(0, 0, std::min(n, keep)));
}

// Copies every weight and buffer of the init run's checkpoint into `model` (ladid.md §9 fine-tune arm).
static void load_init_weights(const InitSection& init, const json& model_cfg, models::LatentModel& model) {
  const json src = read_run_config(init.from);
  const std::string want = model_cfg.at("type").get<std::string>(), have = src.at("model").value("type", "");
  if (want != have)
    throw ConfigError("init.from run '" + init.from + "' trained a '" + have + "' model; this run builds '" + want + "'",
                      "fine-tune from a run of the same model type");
  const std::string dir = train::resolve_checkpoint(init.from, init.checkpoint);
  try {
    train::load_checkpoint(dir, model, nullptr);
  } catch (const CheckpointError& e) {
    throw ConfigError("the weights of '" + dir + "' do not fit this run's model (" + e.message() + ")",
                      "keep the architecture keys of the source run's model section; only curriculum keys may change");
  }
  log::info("initialised every weight and buffer from " + dir + " (optimizer state fresh)");
}

train::TrainResult train_run(const TrainRequest& req) {
  json cfg_json;
  if (req.resume) {
    cfg_json = read_run_config(req.run_dir);
    if (req.config.is_object())
      for (auto it = req.config.begin(); it != req.config.end(); ++it) {
        if (it.key() != "trainer")
          throw ConfigError("--resume only accepts trainer overrides (got section '" + it.key() + "')",
                            "start a new run to change data, model or eval settings");
        for (const char* fixed : {"batch_size", "seed"})
          if (it.value().contains(fixed) && it.value()[fixed] != cfg_json["trainer"][fixed])
            throw ConfigError(concat("trainer.", fixed, " cannot change on --resume (the run's steps, epochs and random streams depend on it)"),
                              "start a new run to change it");
        cfg_json["trainer"].merge_patch(it.value());  // nested keys (e.g. schedule.lr_final) change one at a time
      }
  } else {
    if (fs::exists(req.run_dir) && fs::is_directory(req.run_dir) && !fs::is_empty(req.run_dir))
      throw ConfigError("run directory '" + req.run_dir + "' is not empty", "use --resume to continue it, or choose another --run-dir");
    cfg_json = req.config;
  }
  RunConfig cfg = RunConfig::from_json(cfg_json);
  ensure_writable_dir(req.run_dir);
  data::Dataset ds = load_or_simulate(cfg.data);
  if (ds.indices(data::Split::kTrain).numel() == 0)
    throw DataError("dataset '" + cfg.data.path + "' has no training trajectories (split == 0)", "check /split");
  data::Dataset train = training_subset(ds, cfg.data.train_fraction), val = ds.select(ds.indices(data::Split::kVal));
  const int64_t threads = train::configure_threads(cfg.trainer.threads);
  if (!req.resume) cfg.model = models::resolve_model_options(cfg.model, train, cfg.trainer.batch_size);
  // Build model and trainer (which check every option) before the first file of the run is written.
  train::seed_init_generator(cfg.trainer.seed);
  auto model = models::create_model(cfg.model);
  if (!req.resume && !cfg.init.from.empty()) load_init_weights(cfg.init, cfg.model, *model);
  // Models that draw their own samples validate on held-out pairs of the training trajectories.
  const bool own_samples = dynamic_cast<models::EpochSampler*>(model.get()) != nullptr;
  if (!own_samples && val.size() < cfg.trainer.val_batch_size)
    throw DataError(concat("dataset '", cfg.data.path, "' has ", val.size(), " validation trajectories, fewer than trainer.val_batch_size = ",
                           cfg.trainer.val_batch_size), "lower trainer.val_batch_size or add a validation split");
  train::Trainer trainer(cfg.trainer, model, train, val, req.run_dir);
  const bool forecasts = dynamic_cast<models::LatentEncoder*>(model.get()) == nullptr;
  if (forecasts && cfg.eval.context + cfg.eval.horizon <= val.steps())
    trainer.add_callback(std::make_shared<MetricsCallback>(val, cfg.eval.context, cfg.eval.horizon));
  write_text_atomic((fs::path(req.run_dir) / "config.json").string(), cfg.to_json().dump(2));
  if (!req.resume) {
    at::Tensor y = train.y;
    write_text_atomic((fs::path(req.run_dir) / "normalizer.json").string(),
                      json{{"applied", false}, {"reason", "observations are stored in [0,1]; models see them unchanged"},
                           {"train_mean", y.mean().item<double>()}, {"train_std", y.std().item<double>()},
                           {"train_min", y.min().item<double>()}, {"train_max", y.max().item<double>()}}
                          .dump(2));
  }
  write_text_atomic((fs::path(req.run_dir) / "env.json").string(), env_json(threads, cfg.trainer.device, req.env_note).dump(2));
  log::info(concat("run ", req.run_dir, ": ", train.size(), " train / ", val.size(), " val trajectories of ",
                   ds.steps(), " frames, ", threads, " threads"));
  int64_t n_params = 0;
  for (const auto& p : model->parameters()) n_params += p.numel();
  log::info(concat("model ", cfg.model.at("type").get<std::string>(), ": ", n_params, " parameters"));
  return trainer.fit(req.resume);
}

std::shared_ptr<models::LatentModel> load_run_model(const std::string& run_dir, const std::string& which, int64_t* step_out) {
  json cfg = read_run_config(run_dir);
  const std::string dir = train::resolve_checkpoint(run_dir, which);
  auto model = models::create_model(cfg.at("model"));
  json st = train::load_checkpoint(dir, *model, nullptr);
  if (step_out) *step_out = st.value("step", int64_t{-1});
  model->eval();
  return model;
}

// ---------------------------------------------------------------- pictures
static Image to_image(const at::Tensor& frame) {  // [C, H, W] or [D]
  at::Tensor f = frame.to(at::kFloat).contiguous();
  Image im;
  if (f.dim() == 3) im.c = f.size(0), im.h = f.size(1), im.w = f.size(2);
  else im.c = 1, im.h = 1, im.w = f.numel();
  im.v.assign(f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
  return im;
}

static void draw_rollout_pictures(const Rollout& r, const data::Dataset& ds, int64_t context, int64_t n_pictures,
                                  const std::string& plot_dir) {
  if (ds.y.dim() != 5 || n_pictures <= 0) return;
  const int64_t n = std::min<int64_t>(n_pictures, r.y_pred.size(0)), h = r.y_pred.size(1);
  const int64_t ncols = std::min<int64_t>(10, h), stride = std::max<int64_t>(1, h / ncols);
  std::vector<std::vector<Image>> rows;
  std::vector<std::string> labels, cols;
  for (int64_t k = 0; k < ncols; ++k) cols.push_back(concat("+", k * stride + 1));
  for (int64_t i = 0; i < n; ++i) {
    std::vector<Image> truth, pred;
    for (int64_t k = 0; k < ncols; ++k) {
      truth.push_back(to_image(r.y_true[i][k * stride]));
      pred.push_back(to_image(r.y_pred[i][k * stride]));
    }
    rows.push_back(truth), labels.push_back(concat("true #", i));
    rows.push_back(pred), labels.push_back(concat("pred #", i));
  }
  const int scale = static_cast<int>(std::max<int64_t>(1, 96 / ds.y.size(3)));
  write_frame_grid_png((fs::path(plot_dir) / "rollout_grid.png").string(), rows, labels, cols,
                       concat("test rollouts: ", context, " context frames, predicted frames +k"), scale);
  std::vector<Image> frames;
  for (int64_t k = 0; k < context; ++k) frames.push_back(hstack({to_image(ds.y[0][k]), to_image(ds.y[0][k])}, 2));
  for (int64_t k = 0; k < h; ++k) frames.push_back(hstack({to_image(r.y_true[0][k]), to_image(r.y_pred[0][k])}, 2));
  write_gif((fs::path(plot_dir) / "rollout.gif").string(), frames, 8, scale);
}

void plot_training_curves(const std::string& run_dir, const std::string& out_dir) {
  std::ifstream in((fs::path(run_dir) / "log.jsonl").string());
  if (!in) return;
  Series train{"train loss", {}, {}}, val{"val loss", {}, {}}, nmse{"val nMSE (all predicted frames)", {}, {}},
      nmse10{"val nMSE (first 10 frames)", {}, {}};
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;
    const double step = j.value("step", 0.0);
    if (j.contains("loss_total") && j["loss_total"].is_number()) train.x.push_back(step), train.y.push_back(j["loss_total"]);
    if (j.contains("val_loss") && j["val_loss"].is_number()) val.x.push_back(step), val.y.push_back(j["val_loss"]);
    if (j.contains("val_nmse") && j["val_nmse"].is_number()) {
      nmse.x.push_back(j.value("time_s", 0.0) / 60.0), nmse.y.push_back(j["val_nmse"]);
      nmse10.x.push_back(j.value("time_s", 0.0) / 60.0), nmse10.y.push_back(j.value("val_nmse_first10", std::nan("")));
    }
  }
  if (!train.x.empty())
    write_line_plot_png((fs::path(out_dir) / "loss.png").string(), {train, val}, "training and validation loss", "step",
                        "loss (model objective)", true);
  if (!nmse.x.empty())
    write_line_plot_png((fs::path(out_dir) / "learning_curve.png").string(), {nmse, nmse10},
                        "learning curve: validation nMSE vs training time", "training time (minutes)", "nMSE", false);
}

// ---------------------------------------------------------------- evaluate
static json summarize_curve(const at::Tensor& per_frame) {  // [R, H] -> mean over trajectories per frame
  at::Tensor c = per_frame.nanmean(0);
  std::vector<double> v(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  return v;
}

json evaluate_run(const EvalRequest& req) {
  json cfg_json = read_run_config(req.run_dir);
  RunConfig cfg = RunConfig::from_json(cfg_json);
  const std::string which = req.checkpoint.empty() ? cfg.eval.checkpoint : req.checkpoint;
  const std::string split_name = req.split.empty() ? cfg.eval.split : req.split;
  const int64_t context = req.context > 0 ? req.context : cfg.eval.context;
  const int64_t horizon = req.horizon > 0 ? req.horizon : cfg.eval.horizon;
  const std::string data_path = req.data_path.empty() ? cfg.data.path : req.data_path;
  const std::string out_dir = req.out_dir.empty() ? req.run_dir : req.out_dir;
  ensure_writable_dir(out_dir);
  int64_t step = -1;
  auto model = load_run_model(req.run_dir, which, &step);
  if (auto* rep = dynamic_cast<models::PairAutoencoder*>(model.get())) {
    data::Dataset ds = data::read_dataset(data_path);
    RepresentationRequest rr{req.run_dir, out_dir, data_path, which, step, cfg_json, req.pictures};
    json out = {{"run", req.run_dir}, {"checkpoint", which}, {"checkpoint_step", step}, {"model", cfg.model.at("type")},
                {"dataset", {{"path", data_path}, {"generator", ds.header.generator}, {"seed", ds.header.seed},
                             {"format_version", ds.header.format_version}, {"n_trajectories", ds.size()},
                             {"n_frames", ds.size() * ds.steps()}}}};
    out["metrics"] = evaluate_representation(*rep, ds, rr);
    write_text_atomic((fs::path(out_dir) / "metrics.json").string(), out.dump(2));
    if (req.pictures) plot_training_curves(req.run_dir, (fs::path(out_dir) / "plots").string());
    return out;
  }
  if (context != model->context_steps())
    throw ConfigError(concat("eval context ", context, " differs from the model's context_len ", model->context_steps()),
                      concat("use --context ", model->context_steps()));
  data::Dataset ds = data::read_dataset(data_path);
  data::Dataset test = ds.select(ds.indices(data::parse_split(split_name)));
  if (test.size() == 0) throw DataError("dataset '" + data_path + "' has no '" + split_name + "' trajectories", "choose --split train|val|test");
  data::Dataset train = ds.select(ds.indices(data::Split::kTrain));
  if (train.size() == 0) {
    data::Dataset src = data::read_dataset(cfg.data.path);
    train = src.select(src.indices(data::Split::kTrain));
  }
  Rollout r = rollout(*model, test, context, horizon, cfg.eval.batch_size);
  at::Tensor nmse = nmse_per_frame(r.y_true, r.y_pred), mse = mse_per_frame(r.y_true, r.y_pred);
  at::Tensor nmse_copy = nmse_per_frame(r.y_true, predict_copy_last(test, context, horizon));
  at::Tensor nmse_mean = nmse_per_frame(r.y_true, predict_mean_frame(train, test, context, horizon));
  const int64_t first_n = std::min<int64_t>(10, horizon);
  json metrics = json::array();
  auto add = [&](const std::string& name, const at::Tensor& pf, int64_t count, const std::string& predictor, const char* def) {
    json m = summary_json(name, summarize(pf, 0, count), def);
    m["predictor"] = predictor;
    m["frames_scored"] = count;
    metrics.push_back(m);
  };
  add("nmse", nmse, horizon, "model", kNmseDefinition);
  add("nmse_first10", nmse, first_n, "model", kNmseDefinition);
  add("mse", mse, horizon, "model", kMseDefinition);
  add("nmse", nmse_copy, horizon, "copy_last_context_frame", kNmseDefinition);
  add("nmse_first10", nmse_copy, first_n, "copy_last_context_frame", kNmseDefinition);
  add("nmse", nmse_mean, horizon, "mean_training_frame", kNmseDefinition);
  add("nmse_first10", nmse_mean, first_n, "mean_training_frame", kNmseDefinition);
  json out = {{"run", req.run_dir}, {"checkpoint", which}, {"checkpoint_step", step}, {"split", split_name},
              {"context_steps", context}, {"horizon_steps", horizon},
              {"dataset", {{"path", data_path}, {"generator", ds.header.generator}, {"seed", ds.header.seed},
                           {"format_version", ds.header.format_version}, {"n_trajectories", ds.size()}, {"n_evaluated", test.size()}}},
              {"metrics", metrics},
              {"nmse_per_frame", {{"model", summarize_curve(nmse)}, {"copy_last_context_frame", summarize_curve(nmse_copy)},
                                  {"mean_training_frame", summarize_curve(nmse_mean)}}}};
  write_text_atomic((fs::path(out_dir) / "metrics.json").string(), out.dump(2));
  {
    const std::string p = (fs::path(out_dir) / "eval_predictions.h5").string();
    data::H5File f(p + ".tmp", data::H5File::Mode::kCreate);
    f.write("y_pred", data::to_array(r.y_pred.to(at::kFloat)));
    f.write("y_true", data::to_array(r.y_true.to(at::kFloat)));
    f.write("t", data::to_array(r.t));
    f.write("nmse", data::to_array(nmse));
    f.write("mse", data::to_array(mse));
    f.write("nmse_copy_last", data::to_array(nmse_copy));
    f.write("nmse_mean_frame", data::to_array(nmse_mean));
    f.write("index", data::to_array(ds.indices(data::parse_split(split_name))));
    f.set_attr_string("/", "definition", kNmseDefinition);
    f.set_attr_string("/", "source_run", req.run_dir);
    f.set_attr_int("/", "checkpoint_step", step);
    f.flush();
    fs::rename(p + ".tmp", p);
  }
  if (req.pictures) {
    const std::string plot_dir = (fs::path(out_dir) / "plots").string();
    ensure_writable_dir(plot_dir);
    draw_rollout_pictures(r, test, context, cfg.eval.n_pictures, plot_dir);
    std::vector<Series> curves;
    for (auto [name, pf] : {std::make_pair("LaDID model", nmse), std::make_pair("copy last context frame", nmse_copy),
                            std::make_pair("mean training frame", nmse_mean)}) {
      Series s{name, {}, {}};
      at::Tensor c = pf.nanmean(0);
      for (int64_t k = 0; k < horizon; ++k) s.x.push_back(static_cast<double>(k + 1)), s.y.push_back(c[k].item<double>());
      if (std::string(name) == "LaDID model") s.name = cfg.model.at("type").get<std::string>() + " model";
      curves.push_back(s);
    }
    write_line_plot_png((fs::path(plot_dir) / "nmse_per_frame.png").string(), curves, "test nMSE per predicted frame",
                        "predicted frame", "nMSE (mean over test trajectories)", false);
    plot_training_curves(req.run_dir, plot_dir);
  }
  return out;
}

// ---------------------------------------------------------------- predict
void predict_run(const PredictRequest& req) {
  int64_t step = -1;
  auto model = load_run_model(req.run_dir, req.checkpoint, &step);
  const int64_t k = req.context > 0 ? req.context : model->context_steps();
  if (k != model->context_steps())
    throw ConfigError(concat("--context ", k, " differs from the model's context_len ", model->context_steps()), "omit --context");
  data::Dataset ds = data::read_dataset(req.data_path);
  if (k > ds.steps())
    throw DataError(concat("context of ", k, " frames is longer than the trajectories in '", req.data_path, "' (", ds.steps(), " frames)"),
                    "use a dataset with at least context_len frames per trajectory");
  if (req.indices.empty()) throw ConfigError("no trajectories chosen", "pass --index 0,1,2");
  for (int64_t i : req.indices)
    if (i < 0 || i >= ds.size())
      throw ConfigError(concat("--index ", i, " out of range: '", req.data_path, "' has ", ds.size(), " trajectories"),
                        concat("use 0..", ds.size() - 1));
  std::set<double> uniq(req.query_times.begin(), req.query_times.end());
  if (uniq.empty()) throw ConfigError("no query times given", "pass --times 0.6,0.66 or --times-range 0:3.54:0.03");
  for (double q : uniq)
    if (!std::isfinite(q)) throw ConfigError("query times must be finite", "");
  std::vector<double> qs(uniq.begin(), uniq.end());
  if (qs.size() != req.query_times.size()) log::info("query times sorted ascending and de-duplicated");
  at::Tensor index = torch::tensor(req.indices, torch::kLong);
  data::Dataset sel = ds.select(index);
  at::Tensor q = torch::tensor(qs, torch::kDouble).unsqueeze(0).repeat({sel.size(), 1});
  if (req.relative) q = q + sel.t.narrow(1, 0, 1);
  data::Batch ctx = data::whole(sel).steps(0, k);
  at::Tensor pred;
  {
    torch::NoGradGuard g;
    pred = model->predict(ctx, q).mean.to(at::kFloat).clamp(0.0, 1.0);
  }
  data::Dataset out;
  out.y = pred;
  out.t = q;
  out.split = torch::full({sel.size()}, 2, torch::kByte);
  out.params["source_index"] = index;
  out.header.generator = "latdyn-predict";
  out.header.options = {{"run", req.run_dir}, {"checkpoint", req.checkpoint}, {"checkpoint_step", step},
                        {"data", req.data_path}, {"indices", req.indices}, {"context", k}, {"relative", req.relative}};
  out.header.seed = ds.header.seed;
  const fs::path parent = fs::path(req.out_path).parent_path();
  if (!parent.empty()) ensure_writable_dir(parent.string());
  data::write_dataset(req.out_path, out);
  data::H5File f(req.out_path, data::H5File::Mode::kReadWrite);
  f.set_attr_string("/", "source_run", req.run_dir);
  f.write("context/frames", data::to_array(ctx.x.contiguous()));
  f.write("context/times", data::to_array(ctx.t.contiguous()));
  f.flush();
}

}  // namespace latdyn::eval
