// SPDX-License-Identifier: MIT
// Bouncing balls (datasets.md §3, after MSVI's bballs.ipynb / Sutskever's RTRBM generator): equal balls in a box with
// explicit Euler fine steps, reflecting walls and elastic pairwise collisions, rendered as soft discs.
#pragma once
#include <random>
#include <string>
#include <vector>

#include "latdyn/sim/simulator.hpp"

namespace latdyn::sim {

/// Options of the bouncing balls generator; defaults are the `default` profile of datasets.md §3.2.
struct BouncingBallsOptions {
  std::string profile = "default";  ///< default | quick (50 trajectories) | msvi (12,000, 51 irregular frames)
  int64_t n_trajectories = 500, n_train = 400, n_val = 50;
  int64_t frames = 60;              ///< M
  int64_t frame_every = 4;          ///< regular grid: every frame_every-th fine point (Δt = 0.4)
  double fine_dt = 0.1;             ///< Euler fine step
  int64_t resolution = 32;          ///< P
  int64_t n_balls = 3;
  double radius = 1.2;
  bool irregular = false;           ///< M of the (M-1) frame_every + 1 fine points, §0.3 rule (msvi: true)
  uint64_t seed = 1545;

  static BouncingBallsOptions from_json(const json& j);
  json to_json() const;
};

/// Side of the box (MSVI's SIZE); positions lie in [0, 10]^2, coordinate 0 horizontal (column), 1 vertical (row).
constexpr double kBallsBoxSize = 10.0;

/// Initial state of datasets.md §3.1 from `rng`: v ~ N(0, I) [n, 2] rescaled to 0.5 v / ||v||_F, then positions
/// x = 2 + 8 U(0, 1) per coordinate, redrawn together until no ball touches a wall and no pair overlaps.
/// x, v: [n * 2] (ball b at 2b, 2b + 1). Throws DataError when 1e5 position draws all fail.
void balls_initial_state(std::mt19937_64& rng, int64_t n, double radius, std::vector<double>& x, std::vector<double>& v);
/// One fine step of datasets.md §3.1 in place: move (x += dt v), walls (v = |v| below 0, -|v| above 10), then elastic
/// collisions of every overlapping pair (i, j), j < i, in loop order. masses: [n]; x, v: [n * 2].
void balls_step(std::vector<double>& x, std::vector<double>& v, const std::vector<double>& masses, double radius,
                double dt);
/// Frame at resolution res (datasets.md §3.2): pixel centres c_k = (k + ½) 10 / res,
/// img[row, col] = min(1, Σ_b exp(-(((c_col - x_b0)² + (c_row - x_b1)²) / r²)^4)). x: [n * 2]; out: [res * res].
void render_balls(const double* x, int64_t n, double radius, int64_t res, float* out);

/// Dataset: y [R, M, 1, P, P]; t [R, M] (fine index × fine_dt); truth/positions, truth/velocities [R, M, n, 2]
/// float64 (state after the fine step that lands on the frame; frame 0 is the initial state);
/// params/radius [R], params/size [R], params/masses [R, n] float64.
class BouncingBalls final : public Simulator {
 public:
  explicit BouncingBalls(BouncingBallsOptions o) : o_(std::move(o)) {}
  json options() const override { return o_.to_json(); }
  data::Dataset generate() const override;

 private:
  BouncingBallsOptions o_;
};

}  // namespace latdyn::sim
