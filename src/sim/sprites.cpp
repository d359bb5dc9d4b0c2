// SPDX-License-Identifier: MIT
// Brownian sprites generator (datasets.md §9): reflecting discrete Gaussian walk on the position (and scale)
// lattice, heart sprite rendered by pixel-centre rule or 4 x 4 coverage; plain loops, one frame at a time.
#include "latdyn/sim/sprites.hpp"
#include "latdyn/sim/normal_stream.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "latdyn/core/error.hpp"
#include "latdyn/core/rng.hpp"
#include "latdyn/core/version.hpp"

namespace latdyn::sim {
namespace {

// Square and ellipse have the heart's area (about 3.61 sprite units^2, 231 px^2 at scale 1).
constexpr double kSquareHalf = 0.95, kEllipseA = 1.25, kEllipseB = 0.92;
constexpr double kBoundRadius = 1.3;  // every shape lies in |X|, |Y| <= 1.3 sprite units (heart: 1.14 x [-1, 1.25])

}  // namespace

SpriteShape parse_sprite_shape(const std::string& name) {
  if (name == "heart") return SpriteShape::kHeart;
  if (name == "square") return SpriteShape::kSquare;
  if (name == "ellipse") return SpriteShape::kEllipse;
  std::string near = closest_name(name, {"heart", "square", "ellipse"});
  throw ConfigError("unknown sprite shape '" + name + "'",
                    (near.empty() ? std::string() : "did you mean '" + near + "'? ") + "shapes: heart, square, ellipse");
}

SpritesOptions SpritesOptions::from_json(const json& j, int64_t dims) {
  SpritesOptions o;
  o.dims = dims;
  ConfigReader r(j, "simulator options (" + o.type() + ")");
  r.accept("type");
  o.profile = r.get<std::string>("profile", o.profile);
  check_profile(r, o.type(), o.profile, {"default", "quick"});
  if (o.profile == "quick") {
    o.frames = 10000;
  }
  o.frames = r.get("frames", o.frames);
  o.resolution = r.get("resolution", o.resolution);
  o.shape = r.get<std::string>("shape", o.shape);
  o.continuous = r.get("continuous", o.continuous);
  o.antialias = r.get("antialias", o.continuous);  // continuous positions are rendered anti-aliased (§9.2)
  o.n_positions = r.get("n_positions", o.n_positions);
  o.position_min_px = r.get("position_min_px", o.position_min_px);
  o.position_max_px = r.get("position_max_px", o.position_max_px);
  o.sigma_position = r.get("sigma_position", o.sigma_position);
  if (dims == 3) {  // the scale lattice exists only in 3-D; 2-D sprites have scale 1
    o.n_scales = r.get("n_scales", o.n_scales);
    o.scale_min = r.get("scale_min", o.scale_min);
    o.scale_step = r.get("scale_step", o.scale_step);
    o.sigma_scale = r.get("sigma_scale", o.sigma_scale);
  }
  o.seed = r.get("seed", o.seed);
  // Derived outputs written into the file header; accepted back so a header's options parse again.
  r.accept("step_variance");
  r.finish();
  try {
    parse_sprite_shape(o.shape);
  } catch (const ConfigError& e) {
    r.throw_error(e.message() + " in " + r.where(), e.hint());
  }
  if (o.frames < 2 || o.resolution < 16 || o.resolution % 16 != 0)
    r.throw_error(concat("bad frames ", o.frames, " or resolution ", o.resolution),
                  "need frames >= 2 and a resolution divisible by 16 (64 is the recipe)");
  if (o.n_positions < 2 || o.position_min_px < 0 || o.position_max_px > static_cast<double>(o.resolution) ||
      o.position_max_px <= o.position_min_px || o.sigma_position <= 0)
    r.throw_error(concat("bad position lattice: n_positions ", o.n_positions, ", centres ", o.position_min_px, "..",
                         o.position_max_px, " px, sigma_position ", o.sigma_position),
                  "need n_positions >= 2, 0 <= position_min_px < position_max_px <= resolution, sigma_position > 0");
  if (dims == 3 && (o.n_scales < 2 || o.scale_min <= 0 || o.scale_step <= 0 || o.sigma_scale <= 0))
    r.throw_error(concat("bad scale lattice: n_scales ", o.n_scales, ", scale_min ", o.scale_min, ", scale_step ",
                         o.scale_step, ", sigma_scale ", o.sigma_scale),
                  "need n_scales >= 2 and positive scale_min, scale_step, sigma_scale");
  return o;
}

json SpritesOptions::to_json() const {
  json j = {{"type", type()}, {"profile", profile}, {"frames", frames}, {"resolution", resolution}, {"shape", shape},
            {"antialias", antialias}, {"continuous", continuous}, {"n_positions", n_positions},
            {"position_min_px", position_min_px}, {"position_max_px", position_max_px},
            {"sigma_position", sigma_position}, {"seed", seed}};
  if (dims == 3) {
    j["n_scales"] = n_scales;
    j["scale_min"] = scale_min;
    j["scale_step"] = scale_step;
    j["sigma_scale"] = sigma_scale;
  }
  return j;
}

bool sprite_inside(SpriteShape shape, double x, double y) {
  switch (shape) {
    case SpriteShape::kHeart: {
      const double q = x * x + y * y - 1.0;
      return q * q * q - x * x * y * y * y <= 0.0;
    }
    case SpriteShape::kSquare: return std::abs(x) <= kSquareHalf && std::abs(y) <= kSquareHalf;
    case SpriteShape::kEllipse: return (x * x) / (kEllipseA * kEllipseA) + (y * y) / (kEllipseB * kEllipseB) <= 1.0;
  }
  return false;
}

void render_sprite(SpriteShape shape, double cx, double cy, double scale, int64_t res, bool antialias, float* out) {
  const double unit = 8.0 * scale;  // pixels per sprite unit
  const double reach = kBoundRadius * unit + 1.0;
  const int64_t j0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(cx - reach)));
  const int64_t j1 = std::min<int64_t>(res - 1, static_cast<int64_t>(std::ceil(cx + reach)));
  const int64_t i0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(cy - reach)));
  const int64_t i1 = std::min<int64_t>(res - 1, static_cast<int64_t>(std::ceil(cy + reach)));
  const double inv = 1.0 / unit;
  for (int64_t i = i0; i <= i1; ++i) {
    for (int64_t j = j0; j <= j1; ++j) {
      float v;
      if (!antialias) {
        v = sprite_inside(shape, (j + 0.5 - cx) * inv, -(i + 0.5 - cy) * inv) ? 1.0f : 0.0f;  // Y points up
      } else {
        int inside = 0;
        for (int a = 0; a < 4; ++a)
          for (int c = 0; c < 4; ++c)
            inside += sprite_inside(shape, (j + (c + 0.5) / 4.0 - cx) * inv, -(i + (a + 0.5) / 4.0 - cy) * inv) ? 1 : 0;
        v = static_cast<float>(inside) / 16.0f;
      }
      out[i * res + j] = v;
    }
  }
}

double reflect_index(double i, double i_max) {
  while (i < 0.0 || i > i_max) i = i < 0.0 ? -i : 2.0 * i_max - i;
  return i;
}

std::vector<double> sprite_walk(const SpritesOptions& o, uint64_t seed) {
  std::mt19937_64 rng(derive_seed(seed, "sprites"));
  NormalStream normal(rng);
  const int64_t na = o.dims, m = o.frames;
  std::vector<double> i_max(na), sigma(na);
  for (int64_t a = 0; a < na; ++a) {
    i_max[a] = static_cast<double>(a < 2 ? o.n_positions - 1 : o.n_scales - 1);
    sigma[a] = a < 2 ? o.sigma_position : o.sigma_scale;
  }
  std::vector<double> idx(static_cast<size_t>(m * na));
  // Start from the stationary law: uniform on the circle of length 2 i_max, folded into [0, i_max] (the reflecting
  // walk is that circle's walk folded), so no burn-in is needed.
  for (int64_t a = 0; a < na; ++a) {
    const double u = unit_double(rng()) * 2.0 * i_max[a];
    double v = o.continuous ? u : std::floor(u);
    idx[a] = v <= i_max[a] ? v : 2.0 * i_max[a] - v;
  }
  for (int64_t k = 1; k < m; ++k)
    for (int64_t a = 0; a < na; ++a) {
      const double step = sigma[a] * normal();
      idx[k * na + a] = reflect_index(idx[(k - 1) * na + a] + (o.continuous ? step : std::round(step)), i_max[a]);
    }
  return idx;
}

std::vector<double> sprite_step_variance(const SpritesOptions& o, const std::vector<double>& index) {
  const int64_t na = o.dims, m = static_cast<int64_t>(index.size()) / na;
  std::vector<double> var(na);
  for (int64_t a = 0; a < na; ++a) {
    const double i_max = static_cast<double>(a < 2 ? o.n_positions - 1 : o.n_scales - 1);
    const double wall = std::ceil(4.0 * (a < 2 ? o.sigma_position : o.sigma_scale));
    double s = 0.0, s2 = 0.0, n = 0.0;
    for (int pass = 0; pass < 2 && n == 0.0; ++pass)  // pass 1 (all steps) only if the lattice has no interior
      for (int64_t k = 0; k + 1 < m; ++k) {
        const double i = index[k * na + a];
        if (pass == 0 && (i < wall || i > i_max - wall)) continue;
        const double d = index[(k + 1) * na + a] - i;
        s += d, s2 += d * d, n += 1.0;
      }
    var[a] = n > 0 ? s2 / n - (s / n) * (s / n) : 0.0;
  }
  return var;
}

data::Dataset Sprites::generate() const {
  const int64_t m = o_.frames, res = o_.resolution, na = o_.dims;
  const SpriteShape shape = parse_sprite_shape(o_.shape);
  const std::vector<double> idx = sprite_walk(o_, o_.seed);  // datasets.md §0.2: trajectory 0 uses base seed + 0
  const std::vector<double> var = sprite_step_variance(o_, idx);
  data::Dataset ds;
  ds.y = at::empty({1, m, 1, res, res}, at::kFloat);  // every pixel is written below (first touch in parallel)
  ds.t = at::arange(m, at::kDouble).unsqueeze(0);  // time unit = 1 frame
  at::Tensor index = at::zeros({1, m, na}, at::kDouble), centre = at::zeros({1, m, 2}, at::kDouble),
             scale = at::ones({1, m}, at::kDouble), dnorm = at::zeros({1, m, na}, at::kDouble);
  double *pi = index.data_ptr<double>(), *pc = centre.data_ptr<double>(), *ps = scale.data_ptr<double>(),
         *pd = dnorm.data_ptr<double>();
  const double px_per_cell = (o_.position_max_px - o_.position_min_px) / static_cast<double>(o_.n_positions - 1);
  std::vector<double> dfac(na);
  for (int64_t a = 0; a < na; ++a) dfac[a] = var[a] > 0 ? std::sqrt(2.0 / var[a]) : 0.0;
  for (int64_t k = 0; k < m; ++k) {
    for (int64_t a = 0; a < na; ++a) {
      pi[k * na + a] = idx[k * na + a];
      pd[k * na + a] = idx[k * na + a] * dfac[a];
    }
    pc[2 * k] = o_.position_min_px + px_per_cell * idx[k * na];
    pc[2 * k + 1] = o_.position_min_px + px_per_cell * idx[k * na + 1];
    if (na == 3) ps[k] = o_.scale_min + o_.scale_step * idx[k * na + 2];
  }
  float* py = ds.y.data_ptr<float>();
  // Frames are independent once the walk is drawn, so any thread split gives the same bytes.
  at::parallel_for(0, m, 1024, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) {
      std::fill(py + k * res * res, py + (k + 1) * res * res, 0.0f);
      render_sprite(shape, pc[2 * k], pc[2 * k + 1], ps[k], res, o_.antialias, py + k * res * res);
    }
  });
  ds.split = at::zeros({1}, at::kByte);  // one movie, train
  ds.truth["index"] = index;
  ds.truth["centre_px"] = centre;
  ds.truth["scale"] = scale;
  ds.truth["diffusion_normalised"] = dnorm;
  ds.params["step_variance"] = at::tensor(var, at::kDouble).reshape({1, na});
  ds.header = generated_header(o_.type(), options(), o_.seed);
  ds.header.options["step_variance"] = var;  // v_a of truth/diffusion_normalised (derived)
  return ds;
}

}  // namespace latdyn::sim
