// SPDX-License-Identifier: MIT
// Metrics with their definitions (design.md §3): normalised MSE per predicted frame (ladid.md §8).
#pragma once
#include <ATen/ATen.h>

#include <string>

#include "latdyn/core/config_reader.hpp"

namespace latdyn::eval {

/// y, y_hat: [R, H, ...] -> [R, H] float64 with sum((y - y_hat)^2) / sum(y^2) per frame; frames with
/// sum(y^2) < 1e-12 are NaN (skipped by summaries and counted).
at::Tensor nmse_per_frame(const at::Tensor& y, const at::Tensor& y_hat);
/// y, y_hat: [R, H, ...] -> [R, H] float64 mean squared error per frame.
at::Tensor mse_per_frame(const at::Tensor& y, const at::Tensor& y_hat);

/// Mean over frames per trajectory, then mean, std and standard error over trajectories.
struct Summary { double mean = 0, std = 0, stderr_ = 0; int64_t n = 0, skipped_frames = 0; };
/// per_frame: [R, H]; only frames [first, first+count) are averaged (count < 0: to the end).
Summary summarize(const at::Tensor& per_frame, int64_t first = 0, int64_t count = -1);
json summary_json(const std::string& name, const Summary& s, const std::string& definition);

extern const char* const kNmseDefinition;
extern const char* const kMseDefinition;

}  // namespace latdyn::eval
