// SPDX-License-Identifier: MIT
// LaDID training step (forward, backward, AdamW) in C++ against the PyTorch reference bench/ladid_reference.py on
// Debian's python3-torch, in one run: same default config (ladid.md §3, 733,522 parameters at 32x32), same batch,
// shapes, thread count and curriculum phase. Prints median, quartiles and min/max of both and the ratio.
//   build/bin/bench_ladid_step --q 50,8,1 --repeats 15 --json bench/results_ladid_step.json
#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "latdyn/core/fs_util.hpp"
#include "latdyn/data/batch.hpp"
#include "latdyn/data/dataset.hpp"
#include "latdyn/models/ladid.hpp"
#include "latdyn/models/registry.hpp"
#include "latdyn/train/trainer.hpp"
#include "bench_stats.hpp"

using namespace latdyn;
using bench::Stats;
using bench::stats_json;
using bench::stats_of;
using bench::time_calls;

namespace {
// The C++ side: default LaDID resolved from a synthetic 400-trajectory training set (dt 0.06, 60 frames),
// uniform random frames in [0,1] of the same shapes as the Python script's make_batch.
Stats time_cpp(int64_t q, int64_t batch, int64_t res, int warmup, int repeats, int64_t* params) {
  const int64_t n_train = 400, frames = 60;
  data::Dataset train;
  train.y = torch::rand({n_train, frames, 1, res, res});
  train.t = (0.06 * torch::arange(frames, torch::kFloat64)).expand({n_train, frames}).contiguous();
  train.split = torch::zeros({n_train}, torch::kUInt8);
  json resolved = models::resolve_model_options(json{{"type", "ladid"}}, train, batch);
  auto model = models::create_model(resolved);
  auto* ladid = dynamic_cast<models::Ladid*>(model.get());
  int64_t epoch = -1, length = 0;
  for (const auto& ph : ladid->phases())
    if (ph.q == q) epoch = ph.first_epoch, length = ph.length;
  if (epoch < 0) throw ConfigError(concat("q = ", q, " is not a curriculum phase of the default config"), "use 1,2,4,8,16,32,50");
  *params = 0;
  for (const auto& p : model->parameters()) *params += p.numel();
  model->train();
  torch::optim::AdamW opt(model->parameters(), torch::optim::AdamWOptions(1e-3).weight_decay(0.01));
  data::Batch b;
  b.x = torch::rand({batch, length, 1, res, res});
  b.t = train.t.slice(0, 0, batch).slice(1, 0, length).contiguous();
  b.mask = torch::ones({batch, length});
  b.index = torch::arange(batch);
  models::StepContext ctx;
  ctx.epoch = epoch;
  ctx.noise = at::detail::createCPUGenerator(0);
  auto step = [&] {
    opt.zero_grad();
    at::Tensor loss = model->loss(b, ctx).total;
    loss.backward();
    opt.step();
    if (!std::isfinite(loss.item<double>())) throw NumericalError("non-finite loss in the benchmark step");
  };
  return time_calls(step, warmup, repeats);
}

json time_python(const std::string& python, int64_t q, int64_t batch, int64_t res, int threads, int warmup, int repeats) {
  const std::string cmd = concat(python, " ", LATDYN_SOURCE_DIR, "/bench/ladid_reference.py --json --q ", q, " --batch ", batch,
                                 " --res ", res, " --threads ", threads, " --warmup ", warmup, " --repeats ", repeats);
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw IoError("cannot run " + cmd);
  std::string out;
  char buf[4096];
  while (fgets(buf, sizeof buf, p)) out += buf;
  if (pclose(p) != 0 || out.find('{') == std::string::npos)
    throw IoError("the Python reference failed: " + cmd + "\n" + out, "it needs Debian's python3-torch under /usr/bin/python3");
  return json::parse(out.substr(out.find('{')));
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"LaDID training step: latdyn (C++) vs the PyTorch reference, same machine, same run"};
  std::vector<int64_t> qs{50, 8, 1};
  int64_t batch = 16, res = 32;
  int threads = 2, warmup = 3, repeats = 15;
  std::string python = "/usr/bin/python3", out;
  app.add_option("--q", qs, "curriculum query lengths to time (comma separated)")->delimiter(',');
  app.add_option("--batch", batch, "batch size (default 16)");
  app.add_option("--res", res, "frame side (default 32)");
  app.add_option("--threads", threads, "intra-op threads for both (default 2)");
  app.add_option("--warmup", warmup, "untimed steps (default 3)");
  app.add_option("--repeats", repeats, "timed steps (default 15)");
  app.add_option("--python", python, "interpreter with torch (default /usr/bin/python3)");
  bool cpp_only = false;
  app.add_flag("--cpp-only", cpp_only, "time only the C++ step (no comparator)");
  app.add_option("--json", out, "write all timings to this JSON file");
  CLI11_PARSE(app, argc, argv);
  try {
    train::configure_threads(threads);
    torch::manual_seed(0);
    json report = {{"benchmark", "ladid_train_step"}, {"batch", batch}, {"res", res}, {"threads", threads},
                   {"warmup", warmup}, {"repeats", repeats}, {"cpp_torch", concat(TORCH_VERSION_MAJOR, ".", TORCH_VERSION_MINOR, ".", TORCH_VERSION_PATCH)}, {"rows", json::array()}};
    std::printf("%-4s %-8s %-30s %-30s %s\n", "q", "params", "C++ median [q1, q3] (min-max) ms", "Python median [q1, q3] (min-max) ms",
                "Python/C++");
    for (int64_t q : qs) {
      int64_t params = 0;
      Stats c = time_cpp(q, batch, res, warmup, repeats, &params);
      if (cpp_only) {
        std::printf("%-4lld %-8lld C++ median %.0f ms [%.0f, %.0f]\n", static_cast<long long>(q), static_cast<long long>(params),
                    c.median * 1e3, c.q1 * 1e3, c.q3 * 1e3);
        continue;
      }
      json py = time_python(python, q, batch, res, threads, warmup, repeats);
      const double ratio = py["median_s"].get<double>() / c.median;
      auto fmt = [](double m, double a, double b, double lo, double hi) {
        std::ostringstream s;
        s.precision(0);
        s << std::fixed << m * 1e3 << " [" << a * 1e3 << ", " << b * 1e3 << "] (" << lo * 1e3 << "-" << hi * 1e3 << ")";
        return s.str();
      };
      std::printf("%-4lld %-8lld %-30s %-30s %.2fx\n", static_cast<long long>(q), static_cast<long long>(params),
                  fmt(c.median, c.q1, c.q3, c.min, c.max).c_str(),
                  fmt(py["median_s"], py["q1_s"], py["q3_s"], py["min_s"], py["max_s"]).c_str(), ratio);
      std::fflush(stdout);
      if (py["params"].get<int64_t>() != params) std::printf("WARNING: parameter counts differ (%lld vs %lld)\n",
                                                             static_cast<long long>(params), static_cast<long long>(py["params"].get<int64_t>()));
      report["rows"].push_back({{"q", q}, {"params", params}, {"cpp", stats_json(c)}, {"python", py}, {"ratio_python_over_cpp", ratio}});
    }
    if (!out.empty()) write_text_atomic(out, report.dump(2));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
