// SPDX-License-Identifier: MIT
// Three-well generator (datasets.md §8): DynAE's official trajectory read from .npy, or Euler–Maruyama on the
// fitted surrogate potential (§8.2); observation (x, y + x^2).
#include "latdyn/sim/three_well.hpp"
#include "latdyn/sim/normal_stream.hpp"

#include <cmath>
#include <filesystem>
#include <random>

#include "latdyn/core/error.hpp"
#include "latdyn/core/rng.hpp"
#include "latdyn/core/version.hpp"
#include "latdyn/data/npy.hpp"

namespace latdyn::sim {
namespace fs = std::filesystem;
namespace {

constexpr double kPi = 3.14159265358979323846;
// Surrogate fit of datasets.md §8.2.
constexpr double kQuad = 3.76, kDepth = 14.1, kRadius = 1.936, kWidth = 0.678;
constexpr const char* kTruthFile = "three_state_traj_data200k.npy";
constexpr const char* kObservedFile = "three_state_transformed_traj_data200k.npy";

struct Centres {
  double x[3], y[3];
  Centres() {
    const double deg[3] = {90.0, 210.0, 330.0};
    for (int i = 0; i < 3; ++i) x[i] = kRadius * std::cos(deg[i] * kPi / 180.0), y[i] = kRadius * std::sin(deg[i] * kPi / 180.0);
  }
};
const Centres& centres() {
  static const Centres c;
  return c;
}

/// A relative data_dir is tried from the working directory, then from the repository root of this source file
/// (__FILE__ is <root>/src/sim/three_well.cpp in CMake builds), so the default works from the root and from build/.
fs::path resolve_data_dir(const std::string& dir) {
  const fs::path p(dir);
  if (p.is_absolute() || fs::exists(p)) return p;
  const std::string here = __FILE__, tail = "src/sim/three_well.cpp";
  if (here.size() > tail.size() && here.compare(here.size() - tail.size(), tail.size(), tail) == 0) {
    const fs::path q = (fs::path(here.substr(0, here.size() - tail.size())) / p).lexically_normal();
    if (fs::exists(q)) return q;
  }
  return p;
}

data::Array read_xy_file(const fs::path& dir, const char* name, const std::string& data_dir) {
  const fs::path file = dir / name;
  if (!fs::exists(file))
    throw DataError("three_well: official data file '" + file.string() + "' not found (data_dir '" + data_dir + "')",
                    "pass --option data_dir=<folder with " + std::string(kTruthFile) + " and " + kObservedFile +
                        "> (from tiwarylab/DynamicsAE examples/), or --option source=surrogate to regenerate (datasets.md §8.2)");
  data::Array a = data::read_npy(file.string());
  if (a.dtype != data::Dtype::kFloat64 || a.shape.size() != 2 || a.shape[1] != 2)
    throw DataError("three_well: '" + file.string() + "' has dtype " + dtype_name(a.dtype) + " and shape " + a.shape_str() +
                        "; expected float64 [frames, 2]",
                    "use the unmodified DynAE files (199999 x 2 float64)");
  return a;
}

}  // namespace

double ThreeWellOptions::latent_scale() const { return 1.0 / std::sqrt(diffusion * dt); }

ThreeWellOptions ThreeWellOptions::from_json(const json& j) {
  ConfigReader r(j, "simulator options (three_well)");
  r.accept("type");
  ThreeWellOptions o;
  o.profile = r.get<std::string>("profile", o.profile);
  check_profile(r, "three_well", o.profile, {"default", "quick"});
  o.source = r.get<std::string>("source", o.source);
  if (o.source != "official" && o.source != "surrogate") {
    std::string near = closest_name(o.source, {"official", "surrogate"});
    r.throw_error("unknown source '" + o.source + "' for three_well",
                  (near.empty() ? std::string() : "did you mean '" + near + "'? ") + "sources: official, surrogate");
  }
  o.frames = o.profile == "quick" ? 20000 : (o.source == "official" ? 199999 : 200000);
  o.data_dir = r.get<std::string>("data_dir", o.data_dir);
  o.frames = r.get("frames", o.frames);
  o.dt = r.get("dt", o.dt);
  o.save_every = r.get("save_every", o.save_every);
  o.burn_in = r.get("burn_in", o.burn_in);
  o.diffusion = r.get("diffusion", o.diffusion);
  o.x0 = r.get("x0", o.x0);
  o.y0 = r.get("y0", o.y0);
  o.seed = r.get("seed", o.seed);
  if (o.frames < 2 || o.dt <= 0 || o.save_every < 1 || o.burn_in < 0 || o.diffusion <= 0)
    r.throw_error(concat("bad three_well options: frames ", o.frames, ", dt ", o.dt, ", save_every ", o.save_every,
                         ", burn_in ", o.burn_in, ", diffusion ", o.diffusion),
                  "need frames >= 2, dt > 0, save_every >= 1, burn_in >= 0, diffusion > 0");
  // Derived; present in resolved options (config.json, file header), so accept it back when it agrees.
  const double ls = r.get("latent_scale", o.latent_scale());
  if (std::abs(ls - o.latent_scale()) > 1e-9 * o.latent_scale())
    r.throw_error(concat("latent_scale ", ls, " disagrees with 1/sqrt(diffusion*dt) = ", o.latent_scale()),
                  "latent_scale is derived; set diffusion or dt instead");
  r.finish();
  return o;
}

json ThreeWellOptions::to_json() const {
  return {{"type", "three_well"}, {"profile", profile}, {"source", source}, {"data_dir", data_dir}, {"frames", frames},
          {"dt", dt}, {"save_every", save_every}, {"burn_in", burn_in}, {"diffusion", diffusion}, {"x0", x0},
          {"y0", y0}, {"seed", seed}, {"latent_scale", latent_scale()}};
}

double three_well_potential(double x, double y) {
  const Centres& c = centres();
  double wells = 0.0;
  for (int i = 0; i < 3; ++i) {
    const double dx = x - c.x[i], dy = y - c.y[i];
    wells += std::exp(-(dx * dx + dy * dy) / (2.0 * kWidth * kWidth));
  }
  return kQuad * (x * x + y * y) - kDepth * wells;
}

std::array<double, 2> three_well_gradient(double x, double y) {
  const Centres& c = centres();
  double gx = 2.0 * kQuad * x, gy = 2.0 * kQuad * y;
  const double f = kDepth / (kWidth * kWidth);
  for (int i = 0; i < 3; ++i) {
    const double dx = x - c.x[i], dy = y - c.y[i];
    const double e = std::exp(-(dx * dx + dy * dy) / (2.0 * kWidth * kWidth));
    gx += f * e * dx;
    gy += f * e * dy;
  }
  return {gx, gy};
}

int64_t three_well_sector(double x, double y) {
  double a = std::atan2(y, x) * 180.0 / kPi;
  if (a < 0) a += 360.0;
  if (a >= 30.0 && a < 150.0) return 0;
  if (a >= 150.0 && a < 270.0) return 1;
  return 2;
}

ThreeWellPath simulate_three_well(const ThreeWellOptions& o, uint64_t seed) {
  std::mt19937_64 rng(derive_seed(seed, "three_well"));
  NormalStream normal(rng);
  const double h = o.dt / static_cast<double>(o.save_every), d = o.diffusion;
  const double noise = std::sqrt(2.0 * d * h);
  ThreeWellPath p;
  p.xy.resize(static_cast<size_t>(2 * o.frames));
  double x = o.x0, y = o.y0;
  for (int64_t f = 0; f < o.burn_in + o.frames; ++f) {
    if (f >= o.burn_in) {  // frame f is the state after f * save_every steps
      p.xy[2 * (f - o.burn_in)] = x;
      p.xy[2 * (f - o.burn_in) + 1] = y;
    }
    if (f + 1 == o.burn_in + o.frames) break;
    for (int64_t s = 0; s < o.save_every; ++s) {
      const auto g = three_well_gradient(x, y);
      const double xi = normal(), eta = normal();
      x += -d * g[0] * h + noise * xi;
      y += -d * g[1] * h + noise * eta;
    }
  }
  return p;
}

data::Dataset ThreeWell::generate() const {
  const int64_t m = o_.frames;
  data::Dataset ds;
  ds.y = at::zeros({1, m, 2}, at::kFloat);
  ds.t = at::zeros({1, m}, at::kDouble);
  at::Tensor xy = at::zeros({1, m, 2}, at::kDouble), well = at::zeros({1, m}, at::kLong);
  double* pxy = xy.data_ptr<double>();
  float* py = ds.y.data_ptr<float>();
  if (o_.source == "official") {
    const fs::path dir = resolve_data_dir(o_.data_dir);
    const data::Array truth = read_xy_file(dir, kTruthFile, o_.data_dir);
    const data::Array obs = read_xy_file(dir, kObservedFile, o_.data_dir);
    if (truth.shape != obs.shape)
      throw DataError("three_well: " + std::string(kTruthFile) + " has shape " + truth.shape_str() + " but " + kObservedFile +
                          " has " + obs.shape_str(),
                      "use the matching pair of DynAE files");
    if (truth.shape[0] < m)
      throw DataError(concat("three_well: frames = ", m, " but the official files hold ", truth.shape[0], " frames"),
                      concat("use --option frames=", truth.shape[0], " or fewer"));
    const double* a = truth.data<double>();
    const double* b = obs.data<double>();
    for (int64_t k = 0; k < m; ++k) {
      const double x = a[2 * k], y = a[2 * k + 1];
      // The pair must be (x, y) and its warp (x, y + x^2) (datasets.md §8.1); catches swapped or foreign files.
      if (std::abs(b[2 * k] - x) > 1e-9 * (1.0 + std::abs(x)) ||
          std::abs(b[2 * k + 1] - (y + x * x)) > 1e-9 * (1.0 + std::abs(b[2 * k + 1])))
        throw DataError(concat("three_well: row ", k, " of ", kObservedFile, " is (", b[2 * k], ", ", b[2 * k + 1],
                               "), not the warp (x, y + x^2) of (", x, ", ", y, ") in ", kTruthFile),
                        "use the unmodified DynAE files");
      pxy[2 * k] = x, pxy[2 * k + 1] = y;
      py[2 * k] = static_cast<float>(b[2 * k]);
      py[2 * k + 1] = static_cast<float>(b[2 * k + 1]);
    }
  } else {
    const ThreeWellPath p = simulate_three_well(o_, o_.seed);  // datasets.md §0.2: trajectory 0 uses base seed + 0
    at::Tensor u = at::zeros({1, m}, at::kDouble);
    for (int64_t k = 0; k < m; ++k) {
      const double x = p.xy[2 * k], y = p.xy[2 * k + 1];
      pxy[2 * k] = x, pxy[2 * k + 1] = y;
      py[2 * k] = static_cast<float>(x);
      py[2 * k + 1] = static_cast<float>(y + x * x);
      u.data_ptr<double>()[k] = three_well_potential(x, y);
    }
    ds.truth["U"] = u;
  }
  for (int64_t k = 0; k < m; ++k) {
    ds.t.data_ptr<double>()[k] = static_cast<double>(k) * o_.dt;
    well.data_ptr<int64_t>()[k] = three_well_sector(pxy[2 * k], pxy[2 * k + 1]);
  }
  ds.split = at::zeros({1}, at::kByte);  // one trajectory, train
  ds.truth["xy"] = xy;
  ds.truth["well"] = well;
  ds.header = generated_header("three_well", options(), o_.seed);
  return ds;
}

}  // namespace latdyn::sim
