// SPDX-License-Identifier: MIT
// Transfer to interventions (ladid.md §9): one fine-tune or scratch run on a fraction of a changed system's training
// set under the gradient-step budget of the full-data run (`latdyn finetune`), and the whole protocol — fractions x
// arms x seeds plus the zero-shot source model — as one resumable experiment with a table and a curve
// (`latdyn transfer`).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "latdyn/core/config_reader.hpp"

namespace latdyn::eval {

/// One arm of the protocol on one fraction.
struct FinetuneSpec {
  std::string source_run;            ///< trained source run (its config.json is the template)
  std::string checkpoint = "best";   ///< source checkpoint the fine-tune arm starts from
  std::string target_path;           ///< target dataset (HDF5, same generator with one parameter changed)
  double fraction = 1.0;             ///< of the target training split: the first ceil(p n_train) trajectories
  bool scratch = false;              ///< random initialisation instead of the source weights
  int64_t seed = 0;
  std::string budget = "steps";      ///< steps: the full-data run's gradient steps | epochs: the source's epochs
  int64_t steps = 0;                 ///< budget "steps": 0 = source epochs x full-data steps per epoch
  std::string curriculum = "full";   ///< full | final_only (fine-tune only in the last curriculum phase)
};

/// How a FinetuneSpec was turned into trainer settings (stored in transfer.json for every run).
struct FinetunePlan {
  int64_t n_train = 0, steps_per_epoch = 0, epochs = 0, max_steps = 0, val_every_epochs = 1;
  int64_t val_every_steps = 0;  ///< the source's step cadence when it validated by steps (then val_every_epochs is unused)
  double phase_scale = 1.0;  ///< factor on the curriculum's phase lengths (in epochs)
  json to_json() const;
};

/// The run config of one arm: the source run's resolved config with data -> target (train_fraction), the trainer
/// seed, the budget (epochs and max_steps; curriculum phase lengths scaled by epochs / source epochs so phases keep
/// their share of the steps, ladid.md §9.5; validation every as many steps as the source run validated), and
/// init -> source checkpoint unless scratch.
/// target_n_train: training trajectories of the whole target split. Throws ConfigError on bad specs.
json finetune_config(const FinetuneSpec& spec, int64_t target_n_train, FinetunePlan* plan = nullptr);

/// Trainer keys the protocol sets; `latdyn finetune --set` and the transfer config's trainer section refuse them.
const std::vector<std::string>& protocol_trainer_keys();

struct TransferRequest {
  json config;          ///< sections source, target, fractions, seeds, arms, budget, finetune_curriculum, trainer, eval
  std::string out_dir;
};
/// Runs (or resumes) the protocol into out_dir/<arm>/p<percent>/seed_<s>, evaluates zero-shot into
/// out_dir/zero_shot, writes transfer.json, transfer.md and plots/transfer_nmse.png; returns transfer.json.
json run_transfer(const TransferRequest& req);

}  // namespace latdyn::eval
