// SPDX-License-Identifier: MIT
// Test support: temp directories, warning policy, tiny datasets and configs, PNG read-back, shared by the test binaries.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "latdyn/core/config_reader.hpp"
#include "latdyn/data/dataset.hpp"

namespace latdyn::test {

/// A fresh empty directory under the gtest temp dir, unique per call.
std::string temp_dir(const std::string& tag);
/// While alive, warnings from the library are allowed (otherwise any warning fails the running test).
class AllowWarnings final {
 public:
  AllowWarnings();
  ~AllowWarnings();
};
/// Runs a shell command, returns its exit status; output captured into *out when given.
int run_command(const std::string& cmd, std::string* out = nullptr);
/// Small pendulum dataset (quick profile options, `n` trajectories) written to `path`; returns the options used.
json write_tiny_pendulum(const std::string& path, int64_t n = 24, int64_t frames = 20);
/// A LaDID config for tiny data: short max_len, small curriculum, few steps.
json tiny_ladid_config(const std::string& data_path);
/// The JSON lines of run_dir/log.jsonl in order; with `key`, only the lines that have it ("loss_total": training
/// lines, "val_loss": validation lines).
std::vector<json> log_lines(const std::string& run_dir, const std::string& key = "");
/// Reads a PNG back with cairo; returns {width, height}, or {-1, -1} on failure.
std::pair<int, int> png_size(const std::string& path);
/// Pixel (x, y) of a PNG as 0xRRGGBB (alpha dropped), or -1.
int64_t png_pixel(const std::string& path, int x, int y);

}  // namespace latdyn::test
