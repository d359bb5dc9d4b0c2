// SPDX-License-Identifier: MIT
// `latdyn predict --run-dir DIR --data FILE --index I,J --times T1,T2,... --out FILE`
// Example: latdyn predict --run-dir runs/pendulum --data data/pendulum.h5 --index 450 --times-range 0:7:0.03 --relative --out pred.h5
#include "latdyn/cli_common.hpp"
#include "latdyn/commands.hpp"
#include "latdyn/core/error.hpp"
#include "latdyn/core/log.hpp"
#include "latdyn/eval/pipeline.hpp"

namespace latdyn::cli {

void add_predict(CLI::App& app, PredictArgs& a) {
  auto* c = app.add_subcommand("predict", "Predict frames at any query times from the first K frames of chosen trajectories");
  c->footer("Example: latdyn predict --run-dir runs/pendulum --data data/pendulum.h5 --index 450,451 "
            "--times-range 0:7:0.03 --relative --out pred.h5");
  c->add_option("--run-dir", a.run_dir, "run directory of `latdyn train`")->required();
  c->add_option("--data", a.data, "dataset file holding the context trajectories")->required();
  c->add_option("--index", a.index, "trajectory indices in the file, comma separated (default 0)");
  c->add_option("--times", a.times, "query times, comma separated");
  c->add_option("--times-range", a.times_range, "query times start:stop:step");
  c->add_flag("--relative", a.relative, "query times are relative to each trajectory's first context time");
  c->add_option("--ckpt", a.ckpt, "checkpoint: best (default), latest or a step number");
  c->add_option("--out", a.out, "output HDF5 (dataset format + /context, source_run attribute)")->required();
}

int run_predict(const PredictArgs& a) {
  if (a.times.empty() == a.times_range.empty())
    throw ConfigError("give exactly one of --times and --times-range", "e.g. --times 0.6,0.63 or --times-range 0:3.54:0.03");
  eval::PredictRequest r;
  r.run_dir = a.run_dir, r.data_path = a.data, r.out_path = a.out, r.checkpoint = a.ckpt, r.relative = a.relative;
  r.indices = parse_ints(a.index, "--index");
  r.query_times = a.times.empty() ? parse_range(a.times_range, "--times-range") : parse_doubles(a.times, "--times");
  eval::predict_run(r);
  log::info(concat("wrote ", a.out, ": ", r.indices.size(), " trajectories x ", r.query_times.size(), " query times"));
  return 0;
}

}  // namespace latdyn::cli
