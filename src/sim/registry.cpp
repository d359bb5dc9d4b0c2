// SPDX-License-Identifier: MIT
// Built-in simulators, registered explicitly on first use (no static self-registration).
#include "latdyn/sim/pendulum.hpp"

namespace latdyn::sim {

const SimulatorRegistry& simulators() {
  static const SimulatorRegistry reg = [] {
    SimulatorRegistry r("simulator");
    r.add("pendulum", "single pendulum video, theta'' = -(g/l) sin theta - (b/m) theta' (datasets.md §1)",
          [](const json& j) { return std::make_unique<Pendulum>(PendulumOptions::from_json(j)); });
    return r;
  }();
  return reg;
}

}  // namespace latdyn::sim
