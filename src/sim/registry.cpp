// SPDX-License-Identifier: MIT
// Built-in simulators, registered explicitly on first use (no static self-registration).
#include "latdyn/core/error.hpp"
#include "latdyn/core/version.hpp"
#include "latdyn/sim/blob.hpp"
#include "latdyn/sim/bouncing_balls.hpp"
#include "latdyn/sim/double_pendulum.hpp"
#include "latdyn/sim/lambda_omega.hpp"
#include "latdyn/sim/lbm_cylinder.hpp"
#include "latdyn/sim/navier_stokes.hpp"
#include "latdyn/sim/pendulum.hpp"
#include "latdyn/sim/sprites.hpp"
#include "latdyn/sim/three_well.hpp"
#include "latdyn/sim/wave.hpp"

namespace latdyn::sim {

data::DatasetHeader generated_header(const std::string& generator, const json& options, uint64_t seed,
                                     int64_t generator_version) {
  data::DatasetHeader h;
  h.generator = generator;
  h.generator_version = generator_version;
  h.options = options;
  h.seed = seed;
  h.latdyn_version = kVersion;
  return h;
}

void check_profile(const ConfigReader& r, const std::string& generator, const std::string& profile,
                   const std::vector<std::string>& known) {
  for (const auto& k : known)
    if (k == profile) return;
  std::string near = closest_name(profile, known), list;
  for (size_t i = 0; i < known.size(); ++i) list += (i ? ", " : "") + known[i];
  r.throw_error("unknown profile '" + profile + "' for " + generator,
                (near.empty() ? std::string() : "did you mean '" + near + "'? ") + "profiles: " + list);
}

void check_split(const ConfigReader& r, int64_t n_trajectories, int64_t n_train, int64_t n_val) {
  if (n_trajectories < 1 || n_train < 0 || n_val < 0 || n_train + n_val > n_trajectories)
    r.throw_error(concat("bad split sizes: n_trajectories ", n_trajectories, ", n_train ", n_train, ", n_val ", n_val),
                  "need n_train + n_val <= n_trajectories; the rest is the test split");
}

const SimulatorRegistry& simulators() {
  static const SimulatorRegistry reg = [] {
    SimulatorRegistry r("simulator");
    r.add("pendulum", "single pendulum video, theta'' = -(g/l) sin theta - (b/m) theta' (datasets.md §1)",
          [](const json& j) { return std::make_unique<Pendulum>(PendulumOptions::from_json(j)); });
    r.add("double_pendulum", "double pendulum video, two bars from the centre, RK4 h = 1e-4 (datasets.md §2)",
          [](const json& j) { return std::make_unique<DoublePendulum>(DoublePendulumOptions::from_json(j)); });
    r.add("bouncing_balls", "3 bouncing balls in a box, MSVI recipe; profiles default, quick, msvi (datasets.md §3)",
          [](const json& j) { return std::make_unique<BouncingBalls>(BouncingBallsOptions::from_json(j)); });
    r.add("wave2d", "2-D wave equation with reflecting walls, exact modal solution (datasets.md §4)",
          [](const json& j) { return std::make_unique<Wave2d>(WaveOptions::from_json(j)); });
    r.add("three_well", "DynAE three-well overdamped Langevin trajectory, observed as (x, y + x^2) (datasets.md §8)",
          [](const json& j) { return std::make_unique<ThreeWell>(ThreeWellOptions::from_json(j)); });
    r.add("sprites2d", "Brownian heart sprite on a 32x32 position lattice, 64x64 movie (datasets.md §9)",
          [](const json& j) { return std::make_unique<Sprites>(SpritesOptions::from_json(j, 2)); });
    r.add("sprites3d", "Brownian heart sprite, position and scale lattice, 64x64 movie (datasets.md §9)",
          [](const json& j) { return std::make_unique<Sprites>(SpritesOptions::from_json(j, 3)); });
    r.add("blob", "Brownian 8-bead blob fluorescence movie with Poisson + Gaussian camera noise (datasets.md §10)",
          [](const json& j) { return std::make_unique<Blob>(BlobOptions::from_json(j)); });
    r.add("lambda_omega", "reaction-diffusion lambda-omega spiral waves, 128x128 RK4, 64x64 u observed (datasets.md §5)",
          [](const json& j) { return std::make_unique<LambdaOmega>(LambdaOmegaOptions::from_json(j)); });
    r.add("navier_stokes", "2-D Navier-Stokes vorticity on the torus, FNO forcing and GRF start, pseudo-spectral (datasets.md §6)",
          [](const json& j) { return std::make_unique<NavierStokes>(NavierStokesOptions::from_json(j)); });
    r.add("cylinder_lbm", "flow past a cylinder at Re 100/250/500, D2Q9 lattice Boltzmann, vorticity windows (datasets.md §7)",
          [](const json& j) { return std::make_unique<CylinderLbm>(CylinderLbmOptions::from_json(j)); });
    return r;
  }();
  return reg;
}

}  // namespace latdyn::sim
