// SPDX-License-Identifier: MIT
// `latdyn info [FILE.h5 | RUN_DIR] [--json]`: versions, threads, BLAS speed, registered simulators and models;
// or a dataset header / run summary.
// Example: latdyn info --json
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "latdyn/commands.hpp"
#include "latdyn/core/error.hpp"
#include "latdyn/core/fs_util.hpp"
#include "latdyn/core/version.hpp"
#include "latdyn/data/dataset.hpp"
#include "latdyn/eval/pipeline.hpp"
#include "latdyn/models/registry.hpp"
#include "latdyn/sim/simulator.hpp"

namespace latdyn::cli {
namespace fs = std::filesystem;

void add_info(CLI::App& app, InfoArgs& a) {
  auto* c = app.add_subcommand("info", "Versions, threads, BLAS check and the registered simulators and models; "
                                       "or the header of a dataset file / the summary of a run directory");
  c->footer("Examples:\n  latdyn info\n  latdyn info --json\n  latdyn info data/pendulum.h5\n  latdyn info runs/pendulum\n"
            "  latdyn info data/cylinder_re100.h5 --get options.normalization.scale");
  c->add_option("target", a.target, "dataset .h5 file or run directory (optional)");
  c->add_flag("--json", a.json, "machine-readable output");
  c->add_option("--get", a.get, "print only the value at this dotted path of the JSON output, e.g. "
                                "options.normalization.scale (for scripts)");
}

static double matmul_gflops() {
  at::Tensor x = torch::randn({512, 512}), y = torch::randn({512, 512});
  torch::mm(x, y);
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) torch::mm(x, y);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return 10 * 2.0 * 512 * 512 * 512 / s / 1e9;
}

static json system_info() {
  json sims = json::array(), models = json::array();
  for (const auto& e : sim::simulators().entries()) sims.push_back({{"name", e.name}, {"description", e.description}});
  for (const auto& e : models::model_registry().entries()) models.push_back({{"name", e.name}, {"description", e.description}});
  const double gf = matmul_gflops();
  return {{"latdyn_version", kVersion},
          {"torch_version", concat(TORCH_VERSION_MAJOR, ".", TORCH_VERSION_MINOR, ".", TORCH_VERSION_PATCH)},
          {"threads", torch::get_num_threads()}, {"cuda_available", torch::cuda::is_available()},
          {"matmul_512_gflops", gf}, {"blas_ok", gf > 5.0}, {"simulators", sims}, {"models", models}};
}

int run_info(const InfoArgs& a) {
  json out;
  if (a.target.empty()) {
    out = system_info();
  } else if (fs::is_directory(a.target)) {
    out = {{"run", a.target}, {"config", eval::read_run_config(a.target)}};
    for (const char* f : {"status.json", "metrics.json", "env.json"}) {
      const auto p = fs::path(a.target) / f;
      if (fs::exists(p)) out[fs::path(f).stem().string()] = parse_json_text(read_text(p.string()), p.string());
    }
  } else if (fs::exists(a.target)) {
    out = data::describe_dataset(a.target);
  } else {
    throw DataError("'" + a.target + "': no such file or directory", "pass a dataset .h5 file or a run directory, or nothing for the registries");
  }
  if (!a.get.empty()) {
    const json* node = &out;
    std::string rest = a.get, walked;
    while (!rest.empty()) {
      const size_t dot = rest.find('.');
      const std::string key = rest.substr(0, dot);
      rest = dot == std::string::npos ? "" : rest.substr(dot + 1);
      walked += (walked.empty() ? "" : ".") + key;
      if (!node->is_object() || !node->contains(key))
        throw ConfigError("--get " + a.get + ": '" + walked + "' is not in the output of latdyn info",
                          "run `latdyn info " + a.target + " --json` to see the available keys");
      node = &node->at(key);
    }
    std::cout << node->dump() << std::endl;
    return 0;
  }
  if (a.json) {
    std::cout << out.dump(2) << std::endl;
    return 0;
  }
  if (a.target.empty()) {
    std::printf("latdyn %s, LibTorch %s, %d threads, CUDA %s\n", kVersion, out["torch_version"].get<std::string>().c_str(),
                out["threads"].get<int>(), out["cuda_available"].get<bool>() ? "available" : "not available");
    std::printf("BLAS check: 512x512 matmul at %.1f GFLOP/s%s\n", out["matmul_512_gflops"].get<double>(),
                out["blas_ok"].get<bool>() ? "" : "  (slow: install libopenblas0-openmp, see scripts/setup_debian.sh)");
    for (const auto& s : out["simulators"])
      std::printf("simulator  %-12s %s\n", s["name"].get<std::string>().c_str(), s["description"].get<std::string>().c_str());
    for (const auto& m : out["models"])
      std::printf("model      %-12s %s\n", m["name"].get<std::string>().c_str(), m["description"].get<std::string>().c_str());
  } else {
    std::cout << out.dump(2) << std::endl;
  }
  return 0;
}

}  // namespace latdyn::cli
