// SPDX-License-Identifier: MIT
// The training loop. Step counter = epoch * steps_per_epoch + position, so a checkpoint needs only the step to
// restore the loader cursor; model noise uses derive_seed(seed, "noise", step), so resumes are bit-exact on CPU.
#include "latdyn/train/trainer.hpp"

#include <torch/torch.h>
#include <unistd.h>

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>
#include <type_traits>

#include "latdyn/core/error.hpp"
#include "latdyn/core/fs_util.hpp"
#include "latdyn/core/log.hpp"
#include "latdyn/core/rng.hpp"
#include "latdyn/data/loader.hpp"
#include "latdyn/train/adamax.hpp"
#include "latdyn/train/checkpoint.hpp"

namespace latdyn::train {
namespace fs = std::filesystem;

TrainerOptions TrainerOptions::from_json(const json& j) {
  ConfigReader r(j, "trainer");
  TrainerOptions o;
  o.seed = r.get("seed", o.seed);
  o.epochs = r.get("epochs", o.epochs);
  o.max_steps = r.get("max_steps", o.max_steps);
  o.batch_size = r.get("batch_size", o.batch_size);
  o.val_batch_size = r.get("val_batch_size", o.val_batch_size);
  json opt = r.object("optimizer");
  {
    ConfigReader ro(opt, "trainer.optimizer");
    o.optimizer = ro.get("type", o.optimizer);
    const std::vector<std::string> types = {"adamw", "adamax"};
    if (std::find(types.begin(), types.end(), o.optimizer) == types.end()) {
      const std::string near = closest_name(o.optimizer, types);
      ro.throw_error("unknown trainer.optimizer.type '" + o.optimizer + "' (expected \"adamw\" or \"adamax\")",
                     (near.empty() ? std::string() : "did you mean '" + near + "'? ") +
                         "adamw: decoupled weight decay (LaDID, DynAE); adamax: the ODE-RNN / Latent ODE optimiser "
                         "(baselines.md 3.4)");
    }
    o.lr = ro.get("lr", o.lr);
    // torch.optim.Adamax has no weight decay by default; AdamW's default (0.01) would be an L2 penalty there
    o.weight_decay = ro.get("weight_decay", o.optimizer == "adamax" ? 0.0 : o.weight_decay);
    std::vector<double> betas = ro.get("betas", std::vector<double>{o.beta1, o.beta2});
    if (betas.size() != 2) ro.throw_error("betas must be [beta1, beta2]", "");
    o.beta1 = betas[0], o.beta2 = betas[1];
    o.eps = ro.get("eps", o.eps);
    ro.finish();
  }
  o.schedule = ScheduleOptions::from_json(r.object("schedule"));
  o.grad_clip = r.get("grad_clip", o.grad_clip);
  o.log_every = r.get("log_every", o.log_every);
  o.val_every_epochs = r.get("val_every_epochs", o.val_every_epochs);
  o.val_every_steps = r.get("val_every_steps", o.val_every_steps);
  o.select_by = r.get("select_by", o.select_by);
  o.patience_epochs = r.get("patience_epochs", o.patience_epochs);
  o.max_seconds = r.get("max_seconds", o.max_seconds);
  o.ckpt_every_steps = r.get("ckpt_every_steps", o.ckpt_every_steps);
  o.keep_last = r.get("keep_last", o.keep_last);
  o.threads = r.get("threads", o.threads);
  o.device = r.get("device", o.device);
  o.progress = r.get("progress", o.progress);
  r.finish();
  if (o.epochs < 1 || o.batch_size < 1 || o.val_batch_size < 1 || o.log_every < 1 || o.val_every_epochs < 1)
    r.throw_error("epochs, batch_size, val_batch_size, log_every and val_every_epochs must be >= 1", "");
  if (o.val_every_steps < 0)
    r.throw_error(concat("val_every_steps must be >= 0, got ", o.val_every_steps), "0 validates on the val_every_epochs cadence");
  r.check_choice("select_by", o.select_by, {"auto", "val_loss", "val_nmse", "val_nmse_first10"});
  if (o.max_seconds < 0) r.throw_error("max_seconds must be >= 0", "0 = no wall-clock limit");
  if (o.patience_epochs < 0) r.throw_error("patience_epochs must be >= 0", "0 switches early stopping off; baselines.md uses 20");
  if (o.lr <= 0) r.throw_error(concat("optimizer lr must be positive, got ", o.lr), "");
  if (o.weight_decay < 0) r.throw_error(concat("trainer.optimizer.weight_decay must be >= 0, got ", o.weight_decay), "0 switches it off");
  if (o.eps < 0) r.throw_error(concat("trainer.optimizer.eps must be >= 0, got ", o.eps), "");
  if (!(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1))
    r.throw_error(concat("trainer.optimizer.betas must lie in [0, 1), got [", o.beta1, ", ", o.beta2, "]"), "the default is [0.9, 0.999]");
  if (o.device != "cpu" && o.device.rfind("cuda", 0) != 0)
    r.throw_error("unknown device '" + o.device + "'", "use \"cpu\" or \"cuda\" (\"cuda:1\" for a specific GPU)");
  return o;
}

json TrainerOptions::to_json() const {
  return {{"seed", seed}, {"epochs", epochs}, {"max_steps", max_steps}, {"batch_size", batch_size},
          {"val_batch_size", val_batch_size},
          {"optimizer", {{"type", optimizer}, {"lr", lr}, {"weight_decay", weight_decay}, {"betas", {beta1, beta2}}, {"eps", eps}}},
          {"schedule", schedule.to_json()}, {"grad_clip", grad_clip}, {"log_every", log_every},
          {"val_every_epochs", val_every_epochs}, {"val_every_steps", val_every_steps}, {"select_by", select_by}, {"patience_epochs", patience_epochs},
          {"max_seconds", max_seconds},
          {"ckpt_every_steps", ckpt_every_steps}, {"keep_last", keep_last},
          {"threads", threads}, {"device", device}, {"progress", progress}};
}

int64_t configure_threads(int64_t threads) {
  int64_t n = threads > 0 ? threads : static_cast<int64_t>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(static_cast<int>(n));
  return n;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainerOptions& o,
                                                        const std::vector<std::vector<at::Tensor>>& groups) {
  if (o.optimizer == "adamax") {
    const auto opts = AdamaxOptions(o.lr).betas({o.beta1, o.beta2}).eps(o.eps).weight_decay(o.weight_decay);
    std::vector<torch::optim::OptimizerParamGroup> pg;
    for (const auto& g : groups) pg.emplace_back(g, std::make_unique<AdamaxOptions>(opts));
    return std::make_unique<Adamax>(std::move(pg), opts);
  }
  if (o.optimizer == "adamw") {
    const auto opts = torch::optim::AdamWOptions(o.lr).betas({o.beta1, o.beta2}).eps(o.eps).weight_decay(o.weight_decay);
    std::vector<torch::optim::OptimizerParamGroup> pg;
    for (const auto& g : groups) pg.emplace_back(g, std::make_unique<torch::optim::AdamWOptions>(opts));
    return std::make_unique<torch::optim::AdamW>(std::move(pg), opts);
  }
  throw ConfigError("unknown trainer.optimizer.type '" + o.optimizer + "'", "use \"adamw\" or \"adamax\"");
}

void seed_init_generator(uint64_t seed) {
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_current_seed(derive_seed(seed, "init"));
}

Trainer::Trainer(TrainerOptions o, std::shared_ptr<models::LatentModel> model, data::Dataset train, data::Dataset val,
                 std::string run_dir)
    : o_(std::move(o)), model_(std::move(model)), train_(std::move(train)), val_(std::move(val)), run_dir_(std::move(run_dir)) {
  // Everything that can be checked before the first step is checked here, so a bad config fails before any file
  // of the run is written.
  if (auto* sampler = dynamic_cast<models::EpochSampler*>(model_.get()))
    sampler->bind_data(train_, val_, o_.batch_size, o_.seed);
  steps_per_epoch();
  auto* curriculum = dynamic_cast<models::Curriculum*>(model_.get());
  if (curriculum && curriculum->final_phase_start() >= o_.epochs)
    throw ConfigError(concat("trainer.epochs = ", o_.epochs, " never reaches the final curriculum phase (starts at epoch ",
                             curriculum->final_phase_start(), ")"),
                      "raise trainer.epochs, or start the model's last phase earlier (LaDID: model.phase_epochs / "
                      "model.epochs_per_phase; DynAE: model.beta_schedule)");
}

int64_t Trainer::steps_per_epoch() const {
  if (auto* sampler = dynamic_cast<models::EpochSampler*>(model_.get())) return sampler->steps_per_epoch();
  const int64_t spe = train_.size() / o_.batch_size;
  if (spe < 1)
    throw ConfigError(concat("trainer.batch_size ", o_.batch_size, " exceeds the training split (", train_.size(), ")"),
                      "lower trainer.batch_size");
  return spe;
}
int64_t Trainer::total_steps() const {
  const int64_t all = o_.epochs * steps_per_epoch();
  return o_.max_steps > 0 ? std::min(all, o_.max_steps) : all;
}

namespace {
std::string format_duration(double s) {
  char buf[32];
  if (!std::isfinite(s) || s < 0) return "?";
  const long t = static_cast<long>(s);
  if (t >= 3600) std::snprintf(buf, sizeof(buf), "%ldh%02ldm", t / 3600, (t % 3600) / 60);
  else std::snprintf(buf, sizeof(buf), "%ldm%02lds", t / 60, t % 60);
  return buf;
}
// Keeps the log lines with step <= `step` (and drops a torn last line of a killed process).
void truncate_log_after(const std::string& path, int64_t step) {
  if (!fs::exists(path)) return;
  std::ifstream in(path);
  std::string line, kept;
  while (std::getline(in, line)) {
    json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || j.value("step", int64_t{0}) > step) continue;
    kept += line + "\n";
  }
  write_text_atomic(path, kept);
}
// Forgets the Adam moments of `params` (the optimizer starts them afresh at their next step). LibTorch keys the
// state by the TensorImpl address: a string up to 1.13, the pointer itself in later versions.
template <class StateMap>
void erase_param_state(StateMap& state, at::TensorImpl* impl) {
  if constexpr (std::is_same_v<typename StateMap::key_type, std::string>) state.erase(c10::guts::to_string(impl));
  else state.erase(impl);
}
void clear_optimizer_state(torch::optim::Optimizer& opt, const std::vector<at::Tensor>& params) {
  for (const auto& p : params) erase_param_state(opt.state(), p.unsafeGetTensorImpl());
}
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

double Trainer::validate(int64_t epoch) {
  torch::NoGradGuard no_grad;
  model_->eval();
  const auto device = torch::Device(o_.device);
  models::StepContext ctx;
  ctx.epoch = epoch;
  ctx.training = false;
  ctx.noise = make_generator(o_.seed, "val", static_cast<uint64_t>(epoch));  // ladid.md §11.8
  double sum = 0;
  int64_t n = 0;
  if (auto* sampler = dynamic_cast<models::EpochSampler*>(model_.get())) {
    for (const auto& b : sampler->validation_batches()) sum += model_->loss(b.to(device), ctx).total.item<double>(), ++n;
    model_->train();
    return n > 0 ? sum / static_cast<double>(n) : std::nan("");
  }
  data::Batch all = data::whole(val_);
  for (int64_t first = 0; first + o_.val_batch_size <= val_.size(); first += o_.val_batch_size, ++n)
    sum += model_->loss(all.rows(first, o_.val_batch_size).to(device), ctx).total.item<double>();
  model_->train();
  return n > 0 ? sum / static_cast<double>(n) : std::nan("");
}

TrainResult Trainer::fit(bool resume) {
  const auto device = torch::Device(o_.device);
  if (device.is_cuda() && !torch::cuda::is_available())
    throw DeviceError("trainer.device is '" + o_.device + "' but no CUDA device is available", "use --set trainer.device=cpu");
  model_->to(device);
  auto* groups = dynamic_cast<models::OptimizerGroups*>(model_.get());
  std::vector<std::vector<at::Tensor>> group_params;
  if (groups) {
    for (auto& g : groups->param_groups()) group_params.push_back(g.params);
  } else {
    group_params.push_back(model_->parameters());
  }
  std::unique_ptr<torch::optim::Optimizer> optimizer_ptr = make_optimizer(o_, group_params);
  torch::optim::Optimizer& optimizer = *optimizer_ptr;
  auto* sampler = dynamic_cast<models::EpochSampler*>(model_.get());
  const int64_t spe = steps_per_epoch(), total = total_steps(), planned = o_.epochs * spe;
  auto* curriculum = dynamic_cast<models::Curriculum*>(model_.get());
  int64_t decay_start = 0;
  if (o_.schedule.decay_start == "final_phase") decay_start = curriculum ? curriculum->final_phase_start() * spe : 0;
  else decay_start = std::stoll(o_.schedule.decay_start) * spe;
  Schedule schedule(o_.schedule, o_.lr, planned, decay_start);

  int64_t step = 0;
  double elapsed_before = 0, best_val = std::numeric_limits<double>::infinity();
  int64_t best_phase = -1, best_epoch = -1;
  const std::string select_key = o_.select_by == "auto" ? model_->selection_metric() : o_.select_by;
  bool warned_selection = false, early_stopped = false;
  const std::string log_path = (fs::path(run_dir_) / "log.jsonl").string();
  if (resume) {
    remove_partial_checkpoints(run_dir_);
    auto latest = latest_checkpoint(run_dir_);
    if (!latest) throw CheckpointError("--resume: run '" + run_dir_ + "' has no complete checkpoint", "start a new run without --resume");
    // Without this check a changed type fails inside LibTorch's archive reader with a less helpful message.
    // (Checkpoints written before trainer.optimizer.type existed hold AdamW state.)
    const std::string saved_optimizer =
        read_json_file((fs::path(*latest) / "state.json").string()).value("optimizer", std::string("adamw"));
    if (saved_optimizer != o_.optimizer)
      throw ConfigError("trainer.optimizer.type is '" + o_.optimizer + "' but checkpoint '" + *latest + "' holds '" +
                            saved_optimizer + "' state",
                        "trainer.optimizer.type cannot change on --resume; start a new run in another --run-dir");
    json st = load_checkpoint(*latest, *model_, &optimizer);
    step = st.at("step").get<int64_t>();
    elapsed_before = st.value("elapsed_s", 0.0);
    schedule.load_state(st.at("schedule"));
    if (!st.at("best_val").is_null()) best_val = st.at("best_val").get<double>();
    best_phase = st.value("best_phase", int64_t{-1});
    best_epoch = st.value("best_epoch", int64_t{-1});
    log::info(concat("resumed from ", *latest, " at step ", step));
    truncate_log_after(log_path, step);  // lines a killed session wrote after its last checkpoint are replayed
  }
  write_text_atomic((fs::path(run_dir_) / "status.json").string(), json{{"status", "running"}, {"steps", step}}.dump(2));
  model_->train();
  std::unique_ptr<data::Loader> loader;
  if (!sampler) loader = std::make_unique<data::Loader>(train_, data::LoaderOptions{o_.batch_size, true, true, o_.seed});
  for (auto& cb : callbacks_) cb->on_train_begin(*model_);

  auto make_state = [&](double elapsed) {
    return json{{"step", step}, {"epoch", step / spe}, {"position", step % spe}, {"lr", schedule.lr(step)},
                {"schedule", schedule.state()}, {"best_val", std::isfinite(best_val) ? json(best_val) : json(nullptr)},
                {"best_phase", best_phase}, {"best_epoch", best_epoch}, {"select_by", select_key}, {"elapsed_s", elapsed}, {"seed", o_.seed},
                {"optimizer", o_.optimizer}};
  };
  auto save = [&](double elapsed) {
    save_checkpoint((fs::path(run_dir_) / "ckpt" / step_dir_name(step)).string(), *model_, &optimizer, make_state(elapsed));
    prune_checkpoints(run_dir_, o_.keep_last);
  };

  const auto t0 = std::chrono::steady_clock::now();
  const bool tty = isatty(2);
  double last_print = -1e9, last_loss = 0;
  const int64_t start_step = step;
  // ETA: seconds per unit of the model's relative step cost (curriculum phases differ ~10x in step time).
  auto step_cost = [&](int64_t s) { return curriculum ? curriculum->relative_step_cost(s / spe) : 1.0; };
  double cost_done = 0;
  std::string status = "completed";
  while (step < total) {
    const int64_t step_before = step, epoch = step / spe, pos = step % spe;
    const int64_t phase = curriculum ? curriculum->phase_of_epoch(epoch) : 0;
    if (pos == 0 && sampler) {
      sampler->begin_epoch(epoch);
      if (sampler->active_steps() < 1)
        throw DataError(concat("the model planned no minibatches for epoch ", epoch), "check the model's sampling options");
    }
    if (pos == 0 && groups) {
      for (size_t g = 0; g < optimizer.param_groups().size(); ++g)
        if (groups->reset_moments_at(g, epoch)) clear_optimizer_state(optimizer, optimizer.param_groups()[g].params());
    }
    data::Batch batch = (sampler ? sampler->train_batch(epoch, pos) : loader->batch(epoch, pos)).to(device);
    models::StepContext ctx{step, epoch, make_generator(o_.seed, "noise", static_cast<uint64_t>(step)), true};
    models::LossTerms terms = model_->loss(batch, ctx);
    const double loss = terms.total.item<double>();
    if (!std::isfinite(loss)) {  // NaN guard: stop cleanly, keep the last good checkpoint
      status = "diverged";
      log::error(concat("loss is ", loss, " at step ", step, " (epoch ", epoch, "); stopping. hint: lower the lr or set trainer.grad_clip"));
      append_line(log_path, json{{"step", step}, {"event", "diverged"}, {"loss_total", nullptr}}.dump());
      break;
    }
    optimizer.zero_grad();
    terms.total.backward();
    double grad_norm;
    if (o_.grad_clip > 0) {
      grad_norm = torch::nn::utils::clip_grad_norm_(model_->parameters(), o_.grad_clip);
    } else {
      std::vector<at::Tensor> norms;
      for (const auto& p : model_->parameters())
        if (p.grad().defined()) norms.push_back(p.grad().norm().pow(2));
      grad_norm = norms.empty() ? 0.0 : std::sqrt(torch::stack(norms).sum().item<double>());
    }
    const double lr = schedule.lr(step);
    for (size_t g = 0; g < optimizer.param_groups().size(); ++g)
      optimizer.param_groups()[g].options().set_lr(groups ? groups->group_lr(g, epoch, lr) : lr);
    optimizer.step();
    ++step;
    // The model's plan for this epoch is exhausted: skip to the epoch end (validation and checkpoint follow).
    if (sampler && step % spe != 0 && step % spe >= sampler->active_steps()) step = std::min(total, (step / spe + 1) * spe);
    last_loss = loss;
    const double elapsed = elapsed_before + seconds_since(t0);

    StepInfo info{step, epoch, phase, total, loss, lr, grad_norm, elapsed, {}};
    for (const auto& kv : terms.terms) info.terms[kv.first] = kv.second.item<double>();
    if (step % o_.log_every == 0 || step == total) {
      json line = {{"step", step}, {"epoch", epoch}, {"phase", phase}, {"loss_total", loss}, {"lr", lr},
                   {"grad_norm", grad_norm}, {"time_s", elapsed}};
      for (const auto& kv : info.terms) line["loss_" + kv.first] = kv.second;
      append_line(log_path, line.dump());
    }
    const double session = seconds_since(t0);
    cost_done += step_cost(step - 1);
    if (o_.progress && (session - last_print > (tty ? 0.5 : 30.0) || step == total)) {
      const double rate = static_cast<double>(step - start_step) / std::max(session, 1e-9);
      double cost_left = 0;
      for (int64_t e = step / spe; e * spe < total; ++e)
        cost_left += step_cost(e * spe) * static_cast<double>(std::min(total, (e + 1) * spe) - std::max(step, e * spe));
      const double eta = cost_left * session / std::max(cost_done, 1e-9);
      // Terms shown: mse when the model reports it (LaDID), else its first three terms (e.g. DynAE rec, sw, nll).
      std::string shown;
      char tb[64];
      if (info.terms.count("mse")) {
        std::snprintf(tb, sizeof(tb), " mse %.4g", info.terms["mse"]);
        shown = tb;
      } else {
        for (size_t k = 0; k < terms.terms.size() && k < 3; ++k) {
          std::snprintf(tb, sizeof(tb), " %s %.4g", terms.terms[k].first.c_str(), info.terms[terms.terms[k].first]);
          shown += tb;
        }
      }
      char buf[320];
      std::snprintf(buf, sizeof(buf), "step %lld/%lld epoch %lld phase %lld | loss %.4g%s | %.2f it/s | ETA %s",
                    static_cast<long long>(step), static_cast<long long>(total), static_cast<long long>(epoch),
                    static_cast<long long>(phase), loss, shown.c_str(), rate, format_duration(eta).c_str());
      if (tty) std::fprintf(stderr, "\r%-110s%s", buf, step == total ? "\n" : "");
      else log::info(buf);
      last_print = session;
    }
    bool stop = false;
    for (auto& cb : callbacks_) stop = cb->on_step_end(info) || stop;

    const bool epoch_end = step % spe == 0;
    // Wall-clock budget (baselines.md §1 budgets): validate and checkpoint where it runs out, then stop.
    const bool out_of_time = o_.max_seconds > 0 && elapsed >= o_.max_seconds;
    // Validation cadence: every val_every_steps steps when set (a sampler's skip to the epoch end may cross a
    // multiple), else every val_every_epochs epochs; and at the last step if it ends an epoch. Not at a mid-epoch
    // max_steps stop: a run continued from there with a larger max_steps must replay the straight run's log.
    const bool val_due = o_.val_every_steps > 0 ? step / o_.val_every_steps > step_before / o_.val_every_steps
                                                : epoch_end && (epoch + 1) % o_.val_every_epochs == 0;
    if (val_due || (epoch_end && step == total) || out_of_time) {
      EpochInfo ei{epoch, step, phase, validate(epoch), elapsed, json::object()};
      for (auto& cb : callbacks_) cb->on_validation(*model_, ei);
      if (schedule.on_validation(ei.val_loss)) log::info(concat("lr reduced to ", schedule.lr(step), " (plateau)"));
      if (phase != best_phase)  // reset per phase
        best_val = std::numeric_limits<double>::infinity(), best_phase = phase, best_epoch = epoch;
      json vline = {{"step", step}, {"epoch", epoch}, {"phase", phase}, {"val_loss", ei.val_loss}, {"time_s", elapsed}};
      for (auto it = ei.metrics.begin(); it != ei.metrics.end(); ++it) vline[it.key()] = it.value();
      append_line(log_path, vline.dump());
      double sel = ei.val_loss;
      if (select_key != "val_loss" && !ei.metrics.contains(select_key) && o_.select_by == "auto") {
        if (!warned_selection)
          log::warn("best checkpoint selected by val_loss: validation produced no " + select_key +
                    " (eval.context + eval.horizon exceed the trajectories)");
        warned_selection = true;
      } else if (select_key != "val_loss") {
        if (!ei.metrics.contains(select_key))
          throw ConfigError("trainer.select_by is '" + select_key + "' but validation produced no such metric",
                            "the validation nMSE needs eval.context + eval.horizon <= the trajectory length; or set "
                            "trainer.select_by to \"val_loss\"");
        sel = ei.metrics.at(select_key).get<double>();
      }
      if (std::isfinite(sel) && sel < best_val) {
        best_val = sel;
        best_epoch = epoch;
        save_checkpoint((fs::path(run_dir_) / "ckpt" / concat("best_phase_", phase)).string(), *model_, nullptr, make_state(elapsed));
        if (!curriculum || phase == curriculum->n_phases() - 1)
          save_checkpoint((fs::path(run_dir_) / "ckpt" / "best").string(), *model_, nullptr, make_state(elapsed));
      }
      save(elapsed);
      const bool final_phase = !curriculum || phase == curriculum->n_phases() - 1;
      if (o_.patience_epochs > 0 && final_phase && epoch - best_epoch >= o_.patience_epochs && step < total) {
        log::info(concat("early stop at epoch ", epoch, ": ", select_key, " has not improved for ", epoch - best_epoch,
                         " epochs (trainer.patience_epochs ", o_.patience_epochs, "); best at epoch ", best_epoch));
        early_stopped = true;
        break;
      }
    } else if (o_.ckpt_every_steps > 0 && step % o_.ckpt_every_steps == 0) {
      save(elapsed);
    }
    if (stop) {
      status = "stopped";
      break;
    }
    if (out_of_time) {
      log::info(concat("time budget of ", o_.max_seconds, " s reached at step ", step, " (trainer.max_seconds)"));
      break;
    }
  }
  const double elapsed = elapsed_before + seconds_since(t0);
  if (status != "diverged" && !is_complete_checkpoint((fs::path(run_dir_) / "ckpt" / step_dir_name(step)).string())) save(elapsed);
  for (auto& cb : callbacks_) cb->on_train_end(status);
  TrainResult res{status, step, last_loss, std::isfinite(best_val) ? best_val : std::nan(""), elapsed};
  write_text_atomic((fs::path(run_dir_) / "status.json").string(),
                    json{{"status", status}, {"steps", step}, {"final_loss", std::isfinite(last_loss) ? json(last_loss) : json(nullptr)},
                         {"train_seconds", elapsed}, {"select_by", select_key}, {"best_epoch", best_epoch},
                         {"best_value", std::isfinite(best_val) ? json(best_val) : json(nullptr)},
                         {"early_stopped", early_stopped}}
                        .dump(2));
  return res;
}

}  // namespace latdyn::train
