// SPDX-License-Identifier: MIT
// Prediction time, LaDID against the Dopri5 Latent ODE baseline (issue 4; baselines.md §7.5), in one run: the
// same test trajectories (all of the split in one batch), context, horizon, thread count and machine. LaDID
// evaluates its dynamics network once for all query times; the Latent ODE integrates adaptively from t_0.
// Models come from trained runs (--ladid-run, --latent-ode-run) or, without them, are freshly initialised from
// the dataset (the untrained ODE is smooth, so that timing flatters the baseline; the JSON says which was used).
// Besides the whole prediction (frames), it times the prediction up to the latent trajectory, without decoding:
// LaDID's embed + dynamics network at every query time, against the Latent ODE's ODE-RNN posterior + Dopri5 flow.
// Decoding the same number of frames is common to both and, at 32x32 on a CPU, dominates the whole prediction.
//   build/bin/bench_predict --data data/pendulum.h5 --ladid-run runs/pendulum_recipe_v2 --repeats 10 \
//     --json bench/results_predict.json
#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>

#include "bench_stats.hpp"
#include "latdyn/core/error.hpp"
#include "latdyn/core/fs_util.hpp"
#include "latdyn/data/dataset.hpp"
#include "latdyn/data/loader.hpp"
#include "latdyn/eval/pipeline.hpp"
#include "latdyn/eval/rollout.hpp"
#include "latdyn/models/ladid.hpp"
#include "latdyn/models/ode_baselines.hpp"
#include "latdyn/models/registry.hpp"
#include "latdyn/train/trainer.hpp"

using namespace latdyn;

namespace {
struct Timed {
  std::string source;
  int64_t params = 0;
  bench::Stats stats;         // whole prediction (frames)
  bench::Stats latent_stats;  // up to the latent trajectory, no decoding
};

// The model's prediction of the latent trajectory at the query times, all test trajectories in one batch:
// [B, horizon, d].
at::Tensor latent_only(models::LatentModel& model, const data::Batch& all, int64_t context, int64_t horizon) {
  at::Tensor x_ctx = all.x.narrow(1, 0, context), t_ctx = all.t.narrow(1, 0, context);
  at::Tensor q = all.t.narrow(1, context, horizon);
  if (auto* l = dynamic_cast<models::Ladid*>(&model)) {
    const int64_t k = l->options().context_len;
    auto [mu, s] = l->embed(x_ctx.narrow(1, 0, k), t_ctx.narrow(1, 0, k));
    return l->latent(mu.mean(1), q - t_ctx.narrow(1, 0, 1));  // the eval_psi = "mean" path of predict
  }
  if (auto* o = dynamic_cast<models::LatentOde*>(&model)) {
    auto [mu, std] = o->posterior(x_ctx, t_ctx);
    return o->flow(mu, at::cat({t_ctx, q.to(t_ctx.dtype())}, 1)).narrow(1, context, horizon);
  }
  throw ConfigError("bench_predict times LaDID and the Latent ODE only", "pass runs of those two models");
}

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
  out.stats = bench::time_calls([&] { eval::rollout(*model, test, context, horizon, test.size()); }, warmup, repeats);
  model->eval();
  const data::Batch all = data::whole(test);
  out.latent_stats = bench::time_calls([&] { latent_only(*model, all, context, horizon); }, warmup, repeats);
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
    const double ratio = o.stats.median / l.stats.median, latent_ratio = o.latent_stats.median / l.latent_stats.median;
    const double n = static_cast<double>(test.size());
    std::printf("%d test trajectories, %lld context -> %lld frames, %d threads, %d repeats\n", static_cast<int>(test.size()),
                static_cast<long long>(context), static_cast<long long>(horizon), threads, repeats);
    for (const Timed* t : {&l, &o})
      std::printf("%-48s %9lld params  median %8.1f ms [q1 %.1f, q3 %.1f]  (%.2f ms / trajectory)\n", t->source.c_str(),
                  static_cast<long long>(t->params), t->stats.median * 1e3, t->stats.q1 * 1e3, t->stats.q3 * 1e3,
                  t->stats.median * 1e3 / n);
    std::printf("Latent ODE / LaDID (median): %.1fx\n", ratio);
    for (const Timed* t : {&l, &o})
      std::printf("  latent trajectory only (no decoding): %-12s median %8.1f ms [q1 %.1f, q3 %.1f]\n",
                  t == &l ? "LaDID" : "Latent ODE", t->latent_stats.median * 1e3, t->latent_stats.q1 * 1e3,
                  t->latent_stats.q3 * 1e3);
    std::printf("Latent ODE / LaDID, latent trajectory only (median): %.1fx\n", latent_ratio);
    if (!out.empty())
      write_text_atomic(out, json{{"benchmark", "predict_ladid_vs_latent_ode"}, {"data", data_path}, {"trajectories", test.size()},
                                  {"context", context}, {"horizon", horizon}, {"threads", threads}, {"repeats", repeats},
                                  {"ladid", {{"source", l.source}, {"params", l.params}, {"timing", bench::stats_json(l.stats)},
                                             {"timing_latent_only", bench::stats_json(l.latent_stats)}}},
                                  {"latent_ode", {{"source", o.source}, {"params", o.params}, {"timing", bench::stats_json(o.stats)},
                                                  {"timing_latent_only", bench::stats_json(o.latent_stats)}}},
                                  {"ratio_latent_ode_over_ladid", ratio},
                                  {"ratio_latent_only", latent_ratio},
                                  {"definition", "wall time of the prediction of all test trajectories in one batch "
                                                 "(context frames -> horizon frames); latent_only: up to the latent "
                                                 "trajectory at the query times, without decoding; ratios of medians"}}
                                 .dump(2));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
