// SPDX-License-Identifier: MIT
// `latdyn simulate NAME --out FILE [--option key=value ...]`
// Example: latdyn simulate pendulum --out data/pendulum.h5 --option profile=quick
#include <filesystem>

#include "latdyn/cli_common.hpp"
#include "latdyn/commands.hpp"
#include "latdyn/core/error.hpp"
#include "latdyn/core/fs_util.hpp"
#include "latdyn/core/log.hpp"
#include "latdyn/sim/simulator.hpp"

namespace latdyn::cli {

void add_simulate(CLI::App& app, SimulateArgs& a) {
  auto* c = app.add_subcommand("simulate", "Generate a dataset with a registered simulator (see `latdyn info`)");
  c->footer("Example: latdyn simulate pendulum --out data/pendulum.h5 --option profile=quick --option irregular=true");
  c->add_option("simulator", a.simulator, "simulator name, e.g. pendulum")->required();
  c->add_option("--out", a.out, "output HDF5 file")->required();
  c->add_option("--option", a.options, "simulator option key=value (repeatable), e.g. resolution=64");
}

int run_simulate(const SimulateArgs& a) {
  json opts = {{"type", a.simulator}};
  for (const auto& kv : a.options) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw ConfigError("bad --option '" + kv + "'", "use --option key=value, e.g. --option resolution=64");
    json v;
    try {
      v = json::parse(kv.substr(eq + 1));
    } catch (...) {
      v = kv.substr(eq + 1);
    }
    opts[kv.substr(0, eq)] = v;
  }
  auto sim = sim::simulators().create(opts);
  prepare_output_file(a.out);
  data::Dataset ds = sim->generate();
  data::write_dataset(a.out, ds);
  log::info(concat("wrote ", a.out, ": ", ds.size(), " trajectories x ", ds.steps(), " frames"));
  return 0;
}

}  // namespace latdyn::cli
