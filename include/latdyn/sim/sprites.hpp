// SPDX-License-Identifier: MIT
// Brownian sprites movie of DynAE (datasets.md §9): a heart sprite on a 32 x 32 position lattice (and, in 3-D, a
// 6-level scale lattice) doing a reflecting discrete Gaussian walk, rendered on 64 x 64 frames.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "latdyn/sim/simulator.hpp"

namespace latdyn::sim {

/// Sprite shapes; heart is (X^2 + Y^2 - 1)^3 - X^2 Y^3 <= 0 in sprite units (pixels / (8 scale), Y up).
enum class SpriteShape { kHeart, kSquare, kEllipse };
/// "heart" | "square" | "ellipse"; ConfigError otherwise.
SpriteShape parse_sprite_shape(const std::string& name);

/// Options of the sprites generator (sprites2d: dims 2, sprites3d: dims 3); defaults are datasets.md §9.
struct SpritesOptions {
  int64_t dims = 2;                 ///< 2: position; 3: position and scale (set by the registry name)
  std::string profile = "default";  ///< default | quick (10,000 frames)
  int64_t frames = 100000;
  int64_t resolution = 64;
  std::string shape = "heart";      ///< heart | square | ellipse
  bool antialias = false;           ///< coverage of 4 x 4 sub-samples; default true when continuous
  bool continuous = false;          ///< real-valued lattice coordinates (same sigma), anti-aliased by default
  int64_t n_positions = 32;         ///< position lattice size per axis
  double position_min_px = 11.0, position_max_px = 53.0;  ///< centre of index 0 and n_positions - 1
  int64_t n_scales = 6;             ///< scale lattice (dims 3): scale_j = scale_min + scale_step j
  double scale_min = 0.5, scale_step = 0.1;
  double sigma_position = 1.5, sigma_scale = 0.5;  ///< walk step std in lattice cells
  uint64_t seed = 1545;

  std::string type() const { return dims == 3 ? "sprites3d" : "sprites2d"; }
  static SpritesOptions from_json(const json& j, int64_t dims);
  json to_json() const;
};

/// Sprite membership of a point in sprite units (Y up).
bool sprite_inside(SpriteShape shape, double x, double y);
/// Renders one sprite centred at (cx, cy) px (x right, y down) with `scale` into a zero-filled res x res frame:
/// binary by pixel centre, or coverage of 4 x 4 sub-samples when antialias.
void render_sprite(SpriteShape shape, double cx, double cy, double scale, int64_t res, bool antialias, float* out);
/// Reflection into [0, i_max]: -i below 0, 2 i_max - i above i_max, repeated until inside.
double reflect_index(double i, double i_max);

/// The walk: index [frames * A] row-major (A = 2 or 3 axes: column, row[, scale]), integers unless continuous.
/// The start is drawn from the walk's stationary law; draws come from a 64-bit Mersenne Twister seeded with
/// derive_seed(seed, "sprites").
std::vector<double> sprite_walk(const SpritesOptions& o, uint64_t seed);

/// Per-axis empirical step variance away from the walls: steps whose start index is at least ceil(4 sigma_a)
/// from both walls (so reflection is negligible). index: [frames * A].
std::vector<double> sprite_step_variance(const SpritesOptions& o, const std::vector<double>& index);

/// One movie (N = 1, train): y [1, T, 1, R, R] in [0, 1]; truth/index [1, T, A], centre_px [1, T, 2] (x, y),
/// scale [1, T], diffusion_normalised [1, T, A] = index * sqrt(2 / v_a); params/step_variance [1, A] = v_a.
class Sprites final : public Simulator {
 public:
  explicit Sprites(SpritesOptions o) : o_(std::move(o)) {}
  json options() const override { return o_.to_json(); }
  data::Dataset generate() const override;

 private:
  SpritesOptions o_;
};

}  // namespace latdyn::sim
