// SPDX-License-Identifier: MIT
// `latdyn import --y obs.npy [--t times.npy | --dt DT] --out FILE`
// Example: latdyn import --y frames.npy --dt 0.1 --truth theta=theta.npy --out data/mine.h5
#include "latdyn/cli_common.hpp"
#include "latdyn/commands.hpp"
#include "latdyn/core/error.hpp"
#include "latdyn/core/log.hpp"
#include "latdyn/data/import_npy.hpp"

namespace latdyn::cli {

void add_import(CLI::App& app, ImportArgs& a) {
  auto* c = app.add_subcommand("import", "Convert NPY arrays into a latdyn dataset (HDF5, docs/formats.md)");
  c->footer("Example: latdyn import --y frames.npy --dt 0.1 --truth theta=theta.npy --out data/mine.h5");
  c->add_option("--y", a.y, "observations .npy: [N,T,C,H,W], [N,T,H,W] or [N,T,D]; float32/float64 in [0,1] or uint8")->required();
  c->add_option("--t", a.t, "times .npy: [N,T] or [T] (default: k * dt)");
  c->add_option("--dt", a.dt, "frame spacing when --t is not given (default 1)");
  c->add_option("--split", a.split, "train,val,test fractions in stored order (default 0.8,0.1,0.1)");
  c->add_option("--split-file", a.split_file, ".npy [N] with 0 train, 1 val, 2 test");
  c->add_option("--truth", a.truth, "per-frame ground truth name=file.npy, [N,T,...] (repeatable)");
  c->add_option("--params", a.params, "per-trajectory parameters name=file.npy, [N,...] (repeatable)");
  c->add_option("--normalize", a.normalize, "none (default) or minmax (global min/max to [0,1], stored)");
  c->add_option("--out", a.out, "output HDF5 file")->required();
}

static std::map<std::string, std::string> named_files(const std::vector<std::string>& items, const std::string& flag) {
  std::map<std::string, std::string> out;
  for (const auto& s : items) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
      throw ConfigError(flag + " '" + s + "' is not name=file.npy", "e.g. " + flag + " theta=theta.npy");
    out[s.substr(0, eq)] = s.substr(eq + 1);
  }
  return out;
}

int run_import(const ImportArgs& a) {
  prepare_output_file(a.out);
  data::ImportOptions o;
  o.y_path = a.y, o.t_path = a.t, o.dt = a.dt, o.split_path = a.split_file, o.normalize = a.normalize;
  o.split_fractions = parse_doubles(a.split, "--split");
  o.truth = named_files(a.truth, "--truth");
  o.params = named_files(a.params, "--params");
  data::Dataset ds = data::import_npy(o);
  data::write_dataset(a.out, ds);
  log::info(concat("wrote ", a.out, ": ", ds.size(), " trajectories x ", ds.steps(), " steps"));
  return 0;
}

}  // namespace latdyn::cli
