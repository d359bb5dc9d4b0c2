// SPDX-License-Identifier: MIT
// Test support implementation.
#include "support.hpp"

#include <cairo.h>
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "latdyn/core/fs_util.hpp"
#include "latdyn/data/dataset.hpp"
#include "latdyn/sim/simulator.hpp"

namespace latdyn::test {
namespace fs = std::filesystem;
std::atomic<int> g_allow{0};

std::string temp_dir(const std::string& tag) {
  static std::atomic<int> counter{0};
  const fs::path p = fs::path(::testing::TempDir()) / ("latdyn_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

std::vector<json> log_lines(const std::string& run_dir, const std::string& key) {
  std::vector<json> out;
  std::istringstream in(read_text((fs::path(run_dir) / "log.jsonl").string()));
  for (std::string line; std::getline(in, line);) {
    json j = json::parse(line);
    if (key.empty() || j.contains(key)) out.push_back(std::move(j));
  }
  return out;
}

AllowWarnings::AllowWarnings() { ++g_allow; }
AllowWarnings::~AllowWarnings() { --g_allow; }

int run_command(const std::string& cmd, std::string* out) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return -1;
  std::array<char, 4096> buf;
  std::string text;
  while (fgets(buf.data(), buf.size(), p)) text += buf.data();
  int status = pclose(p);
  if (out) *out = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

json write_tiny_pendulum(const std::string& path, int64_t n, int64_t frames) {
  json opts = {{"type", "pendulum"}, {"n_trajectories", n}, {"n_train", n - n / 4}, {"n_val", n / 8},
               {"frames", frames}, {"resolution", 32}, {"seed", 7}};
  data::write_dataset(path, sim::simulators().create(opts)->generate());
  return opts;
}

json tiny_ladid_config(const std::string& data_path) {
  json cfg = json::parse(R"({
    "data": {"path": ""},
    "model": {"type": "ladid", "latent_dim": 8, "token_mult": 2, "enc_channels": 4, "dec_channels": 4, "tf_layers": 2,
              "dyn_width_mult": 2, "context_len": 4, "max_len": 12, "phase_epochs": [1, 1, 1], "out_bias": "auto"},
    "trainer": {"seed": 3, "epochs": 4, "batch_size": 4, "val_batch_size": 2, "threads": 2, "log_every": 1,
                "optimizer": {"type": "adamw", "lr": 1e-3}, "schedule": {"type": "constant"}, "progress": false},
    "eval": {"context": 4, "horizon": 8, "n_pictures": 2}
  })");
  cfg["data"]["path"] = data_path;
  return cfg;
}

std::pair<int, int> png_size(const std::string& path) {
  cairo_surface_t* s = cairo_image_surface_create_from_png(path.c_str());
  std::pair<int, int> out{-1, -1};
  if (cairo_surface_status(s) == CAIRO_STATUS_SUCCESS) {
    out = {cairo_image_surface_get_width(s), cairo_image_surface_get_height(s)};
  }
  cairo_surface_destroy(s);
  return out;
}

int64_t png_pixel(const std::string& path, int x, int y) {
  cairo_surface_t* s = cairo_image_surface_create_from_png(path.c_str());
  int64_t out = -1;
  if (cairo_surface_status(s) == CAIRO_STATUS_SUCCESS) {
    cairo_surface_flush(s);
    const unsigned char* data = cairo_image_surface_get_data(s);
    const int stride = cairo_image_surface_get_stride(s);
    out = reinterpret_cast<const uint32_t*>(data + y * stride)[x] & 0xFFFFFFu;
  }
  cairo_surface_destroy(s);
  return out;
}

}  // namespace latdyn::test
