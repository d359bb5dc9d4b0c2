// SPDX-License-Identifier: MIT
// Learning-rate schedules with a resumable state.
#include "latdyn/train/schedule.hpp"

#include <cmath>
#include <limits>

#include "latdyn/core/error.hpp"

namespace latdyn::train {

ScheduleOptions ScheduleOptions::from_json(const json& j) {
  ConfigReader r(j, "trainer.schedule");
  ScheduleOptions o;
  o.type = r.get("type", o.type);
  o.warmup_steps = r.get("warmup_steps", o.warmup_steps);
  o.factor = r.get("factor", o.factor);
  o.threshold = r.get("threshold", o.threshold);
  o.min_lr = r.get("min_lr", o.min_lr);
  o.patience = r.get("patience", o.patience);
  o.cooldown = r.get("cooldown", o.cooldown);
  r.accept("decay_start");
  if (j.contains("decay_start")) {
    const json& v = j.at("decay_start");
    if (v.is_number_integer()) o.decay_start = std::to_string(v.get<int64_t>());
    else if (v == "final_phase") o.decay_start = "final_phase";
    else r.throw_error("bad value for 'decay_start': " + v.dump(), "use an epoch number or \"final_phase\"");
  }
  o.lr_final = r.get("lr_final", o.lr_final);
  o.gamma = r.get("gamma", o.gamma);
  o.min_lr_factor = r.get("min_lr_factor", o.min_lr_factor);
  r.finish();
  const std::vector<std::string> types = {"constant", "plateau", "linear_decay", "cosine", "exponential"};
  if (std::find(types.begin(), types.end(), o.type) == types.end()) {
    std::string near = closest_name(o.type, types);
    r.throw_error("unknown schedule type '" + o.type + "'",
                  (near.empty() ? std::string() : "did you mean '" + near + "'? ") + "types: constant, plateau, linear_decay, cosine, exponential");
  }
  if (o.factor <= 0 || o.factor >= 1) r.throw_error("schedule factor must be in (0, 1)", "");
  if (!(o.gamma > 0 && o.gamma <= 1))
    r.throw_error(concat("schedule gamma must be in (0, 1], got ", o.gamma), "the lr is multiplied by gamma every step; 0.999 in baselines.md");
  if (!(o.min_lr_factor >= 0 && o.min_lr_factor <= 1))
    r.throw_error(concat("schedule min_lr_factor must be in [0, 1], got ", o.min_lr_factor),
                  "the floor is min_lr_factor x the base lr; 0.1 in baselines.md");
  return o;
}

json ScheduleOptions::to_json() const {
  json j = {{"type", type}, {"warmup_steps", warmup_steps}, {"factor", factor}, {"threshold", threshold},
            {"min_lr", min_lr}, {"patience", patience}, {"cooldown", cooldown}, {"lr_final", lr_final},
            {"gamma", gamma}, {"min_lr_factor", min_lr_factor}};
  j["decay_start"] = decay_start == "final_phase" ? json("final_phase") : json(std::stoll(decay_start));
  return j;
}

Schedule::Schedule(ScheduleOptions o, double base_lr, int64_t total_steps, int64_t decay_start_step)
    : o_(std::move(o)), base_lr_(base_lr), total_steps_(total_steps), decay_start_step_(decay_start_step),
      plateau_lr_(base_lr), best_(std::numeric_limits<double>::infinity()) {}

double Schedule::lr(int64_t step) const {
  double lr = base_lr_;
  if (o_.type == "plateau") {
    lr = plateau_lr_;
  } else if (o_.type == "linear_decay" && step >= decay_start_step_) {
    const double span = static_cast<double>(std::max<int64_t>(1, total_steps_ - decay_start_step_));
    const double frac = std::min(1.0, static_cast<double>(step - decay_start_step_) / span);
    lr = base_lr_ + (o_.lr_final - base_lr_) * frac;
  } else if (o_.type == "cosine") {
    const double frac = std::min(1.0, static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, total_steps_)));
    lr = o_.lr_final + 0.5 * (base_lr_ - o_.lr_final) * (1 + std::cos(M_PI * frac));
  } else if (o_.type == "exponential") {
    // Closed form of "lr <- max(lr * gamma, floor)" applied after every step (the step-0 lr is the base lr)
    lr = base_lr_ * std::max(std::pow(o_.gamma, static_cast<double>(step)), o_.min_lr_factor);
  }
  if (o_.warmup_steps > 0 && step < o_.warmup_steps)
    lr *= static_cast<double>(step + 1) / static_cast<double>(o_.warmup_steps);
  return lr;
}

bool Schedule::on_validation(double val_loss) {
  if (o_.type != "plateau") return false;
  // "rel" threshold mode, mode "min": improvement if val < best * (1 - threshold)
  if (val_loss < best_ * (1 - o_.threshold) || !std::isfinite(best_)) {
    best_ = val_loss;
    bad_epochs_ = 0;
  } else {
    ++bad_epochs_;
  }
  if (cooldown_left_ > 0) {
    --cooldown_left_;
    bad_epochs_ = 0;
  }
  if (bad_epochs_ > o_.patience) {
    const double next = std::max(plateau_lr_ * o_.factor, o_.min_lr);
    const bool reduced = plateau_lr_ - next > 1e-8 * plateau_lr_;  // eps of the PyTorch scheduler
    if (reduced) plateau_lr_ = next;
    cooldown_left_ = o_.cooldown;
    bad_epochs_ = 0;
    return reduced;
  }
  return false;
}

json Schedule::state() const {
  return {{"plateau_lr", plateau_lr_}, {"best", std::isfinite(best_) ? json(best_) : json(nullptr)},
          {"bad_epochs", bad_epochs_}, {"cooldown_left", cooldown_left_}};
}

void Schedule::load_state(const json& s) {
  plateau_lr_ = s.at("plateau_lr").get<double>();
  best_ = s.at("best").is_null() ? std::numeric_limits<double>::infinity() : s.at("best").get<double>();
  bad_epochs_ = s.at("bad_epochs").get<int64_t>();
  cooldown_left_ = s.at("cooldown_left").get<int64_t>();
}

}  // namespace latdyn::train
