// SPDX-License-Identifier: MIT
// Atomic checkpoints (design.md §2.5): write step_XXXXXXXX.tmp/, DONE last, rename; never load one without DONE.
#pragma once
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <optional>
#include <string>

#include "latdyn/core/config_reader.hpp"

namespace latdyn::train {

/// Writes model.pt (+ optim.pt, rng.pt when an optimizer is given), state.json and DONE into `dir` atomically.
void save_checkpoint(const std::string& dir, torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                     const json& state);
/// Loads model weights (and optimizer state when given) from a finished checkpoint; returns its state.json.
json load_checkpoint(const std::string& dir, torch::nn::Module& model, torch::optim::Optimizer* optimizer);
/// True when `dir` holds a complete checkpoint (DONE present).
bool is_complete_checkpoint(const std::string& dir);
/// Deletes leftovers of interrupted checkpoint writes (ckpt/*.tmp); only the process that trains a run calls it.
void remove_partial_checkpoints(const std::string& run_dir);
/// Newest complete ckpt/step_* directory under run_dir (*.tmp and unfinished ones skipped), or nullopt.
std::optional<std::string> latest_checkpoint(const std::string& run_dir);
/// Resolves "latest", "best" or a step number to a checkpoint directory; CheckpointError with a hint otherwise.
std::string resolve_checkpoint(const std::string& run_dir, const std::string& which);
/// Deletes all but the newest `keep_last` step_* checkpoints.
void prune_checkpoints(const std::string& run_dir, int64_t keep_last);
/// "ckpt/step_00001234"
std::string step_dir_name(int64_t step);

}  // namespace latdyn::train
