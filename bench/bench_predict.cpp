// SPDX-License-Identifier: MIT
// Prediction time, LaDID against the Dopri5 Latent ODE baseline (issue 4; baselines.md §7.5), in one run: the
// same test trajectories (all of the split in one batch), context, horizon, thread count and machine. LaDID
// evaluates its dynamics network once for all query times; the Latent ODE integrates adaptively from t_0.
// Models come from trained runs (--ladid-run, --latent-ode-run) or, without them, are freshly initialised from
// the dataset (the untrained ODE is smooth, so that timing flatters the baseline; the JSON says which was used).
//   build/bin/bench_predict --data data/pendulum.h5 --ladid-run runs/pendulum_recipe_v2 --repeats 10 \
//     --json bench/results_predict.json
#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>

#include "bench_stats.hpp"
#include "latdyn/core/fs_util.hpp"
#include "latdyn/data/dataset.hpp"
#include "latdyn/eval/pipeline.hpp"
#include "latdyn/eval/rollout.hpp"
#include "latdyn/models/registry.hpp"
#include "latdyn/train/trainer.hpp"

using namespace latdyn;

namespace {
struct Timed {
  std::string source;
  int64_t params = 0;
  bench::Stats stats;
};

Timed time_model(const std::string& type, const std::string& run, const std::string& ckpt, const data::Dataset& train,
                 const data::Dataset& test, int64_t context, int64_t horizon, int warmup, int repeats) {
  Timed out;
  std::shared_ptr<models::LatentModel> model;
  if (!run.empty()) {
    model = eval::load_run_model(run, ckpt);
    out.source = run + " (" + ckpt + ")";
  } else {
    train::seed_init_generator(0);
    model = models::create_model(models::resolve_model_options(json{{"type", type}}, train, 16));
    out.source = "freshly initialised default " + type;
  }
  for (const auto& p : model->parameters()) out.params += p.numel();
  torch::NoGradGuard ng;
  for (int i = 0; i < warmup; ++i) eval::rollout(*model, test, context, horizon, test.size());
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    eval::rollout(*model, test, context, horizon, test.size());
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  out.stats = bench::stats_of(times);
  return out;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Prediction time: LaDID vs the Dopri5 Latent ODE, same data and machine, one run"};
  std::string data_path = "data/pendulum.h5", ladid_run, ode_run, ckpt = "best", out;
  int64_t context = 10, horizon = 50;
  int threads = 2, warmup = 2, repeats = 10;
  app.add_option("--data", data_path, "dataset (its test split is predicted)");
  app.add_option("--ladid-run", ladid_run, "trained LaDID run (default: freshly initialised)");
  app.add_option("--latent-ode-run", ode_run, "trained Latent ODE run (default: freshly initialised)");
  app.add_option("--ckpt", ckpt, "checkpoint of the runs (best | latest | step)");
  app.add_option("--context", context, "context frames (default 10)");
  app.add_option("--horizon", horizon, "predicted frames (default 50)");
  app.add_option("--threads", threads, "intra-op threads (default 2)");
  app.add_option("--warmup", warmup, "untimed repetitions (default 2)");
  app.add_option("--repeats", repeats, "timed repetitions (default 10)");
  app.add_option("--json", out, "write the timings to this JSON file");
  CLI11_PARSE(app, argc, argv);
  try {
    train::configure_threads(threads);
    data::Dataset ds = data::read_dataset(data_path);
    data::Dataset train = ds.select(ds.indices(data::Split::kTrain)), test = ds.select(ds.indices(data::Split::kTest));
    Timed l = time_model("ladid", ladid_run, ckpt, train, test, context, horizon, warmup, repeats);
    Timed o = time_model("latent_ode", ode_run, ckpt, train, test, context, horizon, warmup, repeats);
    const double ratio = o.stats.median / l.stats.median;
    const double n = static_cast<double>(test.size());
    std::printf("%d test trajectories, %lld context -> %lld frames, %d threads, %d repeats\n", static_cast<int>(test.size()),
                static_cast<long long>(context), static_cast<long long>(horizon), threads, repeats);
    for (const Timed* t : {&l, &o})
      std::printf("%-48s %9lld params  median %8.1f ms [q1 %.1f, q3 %.1f]  (%.2f ms / trajectory)\n", t->source.c_str(),
                  static_cast<long long>(t->params), t->stats.median * 1e3, t->stats.q1 * 1e3, t->stats.q3 * 1e3,
                  t->stats.median * 1e3 / n);
    std::printf("Latent ODE / LaDID (median): %.1fx\n", ratio);
    if (!out.empty())
      write_text_atomic(out, json{{"benchmark", "predict_ladid_vs_latent_ode"}, {"data", data_path}, {"trajectories", test.size()},
                                  {"context", context}, {"horizon", horizon}, {"threads", threads}, {"repeats", repeats},
                                  {"ladid", {{"source", l.source}, {"params", l.params}, {"timing", bench::stats_json(l.stats)}}},
                                  {"latent_ode", {{"source", o.source}, {"params", o.params}, {"timing", bench::stats_json(o.stats)}}},
                                  {"ratio_latent_ode_over_ladid", ratio}}
                                 .dump(2));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
