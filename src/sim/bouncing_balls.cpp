// SPDX-License-Identifier: MIT
// Bouncing balls generator (datasets.md §3, MSVI's bballs.ipynb semantics): rejection-sampled start, explicit Euler
// fine steps with reflecting walls and elastic pairwise collisions, soft-disc rendering at pixel centres.
#include "latdyn/sim/bouncing_balls.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>

#include "latdyn/core/error.hpp"
#include "latdyn/core/rng.hpp"
#include "latdyn/sim/normal_stream.hpp"
#include "latdyn/sim/time_grid.hpp"

namespace latdyn::sim {

BouncingBallsOptions BouncingBallsOptions::from_json(const json& j) {
  ConfigReader r(j, "simulator options (bouncing_balls)");
  r.accept("type");
  BouncingBallsOptions o;
  o.profile = r.get<std::string>("profile", o.profile);
  check_profile(r, "bouncing_balls", o.profile, {"default", "quick", "msvi"});
  if (o.profile == "quick") {
    o.n_trajectories = 50, o.n_train = 40, o.n_val = 5;  // 10 % of 500, split 80/10/10 (datasets.md §0.2)
  } else if (o.profile == "msvi") {
    // datasets.md §3.2: 12,000 (10,000 / 1,000 / 1,000), 51 of the 201 fine points (T = 20), irregular.
    o.n_trajectories = 12000, o.n_train = 10000, o.n_val = 1000, o.frames = 51, o.irregular = true;
  }
  o.n_trajectories = r.get("n_trajectories", o.n_trajectories);
  o.n_train = r.get("n_train", o.n_train);
  o.n_val = r.get("n_val", o.n_val);
  o.frames = r.get("frames", o.frames);
  o.frame_every = r.get("frame_every", o.frame_every);
  o.fine_dt = r.get("fine_dt", o.fine_dt);
  o.resolution = r.get("resolution", o.resolution);
  o.n_balls = r.get("n_balls", o.n_balls);
  o.radius = r.get("radius", o.radius);
  o.irregular = r.get("irregular", o.irregular);
  o.seed = r.get("seed", o.seed);
  r.finish();
  if (o.resolution < 16 || o.resolution % 16 != 0)
    r.throw_error("resolution " + concat(o.resolution) + " is not supported for bouncing_balls",
                  "use 32 (default), 64 or 128 (divisible by 16)");
  check_split(r, o.n_trajectories, o.n_train, o.n_val);
  if (o.frames < 2 || o.frame_every < 1 || o.fine_dt <= 0)
    r.throw_error(concat("bad time grid: frames ", o.frames, ", frame_every ", o.frame_every, ", fine_dt ", o.fine_dt),
                  "need frames >= 2, frame_every >= 1 and fine_dt > 0 (the recipe: 60, 4, 0.1)");
  if (o.n_balls < 1 || !(o.radius > 0.0 && o.radius < 2.0))
    r.throw_error(concat("bad balls: n_balls ", o.n_balls, ", radius ", o.radius),
                  "need n_balls >= 1 and 0 < radius < 2 (start positions are 2 + 8 U(0, 1) in a box of 10; the "
                  "recipe: 3 balls of radius 1.2)");
  return o;
}

json BouncingBallsOptions::to_json() const {
  return {{"type", "bouncing_balls"}, {"profile", profile}, {"n_trajectories", n_trajectories},
          {"n_train", n_train}, {"n_val", n_val}, {"frames", frames}, {"frame_every", frame_every},
          {"fine_dt", fine_dt}, {"resolution", resolution}, {"n_balls", n_balls}, {"radius", radius},
          {"irregular", irregular}, {"seed", seed}};
}

void balls_initial_state(std::mt19937_64& rng, int64_t n, double radius, std::vector<double>& x, std::vector<double>& v) {
  // datasets.md §3.1: v ~ N(0, I) of shape (n, 2), v <- 0.5 v / ||v||_F (Frobenius norm over all balls).
  NormalStream normal(rng);
  v.assign(static_cast<size_t>(2 * n), 0.0);
  double norm2 = 0.0;
  for (double& c : v) c = normal(), norm2 += c * c;
  const double scale = 0.5 / std::sqrt(norm2);
  for (double& c : v) c *= scale;
  // Positions x = 2 + 8 U(0, 1); the whole configuration is redrawn while a ball touches a wall or a pair overlaps.
  x.assign(static_cast<size_t>(2 * n), 0.0);
  for (int attempt = 0; attempt < 100000; ++attempt) {
    for (double& c : x) c = 2.0 + 8.0 * unit_double(rng());
    bool good = true;
    for (double c : x)
      if (c - radius < 0.0 || c + radius > kBallsBoxSize) good = false;
    for (int64_t i = 0; i < n && good; ++i)
      for (int64_t j = 0; j < i && good; ++j) {
        const double dx = x[2 * i] - x[2 * j], dy = x[2 * i + 1] - x[2 * j + 1];
        if (std::sqrt(dx * dx + dy * dy) < 2.0 * radius) good = false;
      }
    if (good) return;
  }
  throw DataError(concat("bouncing_balls: no valid start for ", n, " balls of radius ", radius, " in 100000 draws"),
                  "reduce n_balls or radius (the recipe: 3 balls of radius 1.2)");
}

void balls_step(std::vector<double>& x, std::vector<double>& v, const std::vector<double>& masses, double radius,
                double dt) {
  // datasets.md §3.1, in this order: move, walls, pairwise collisions.
  const int64_t n = static_cast<int64_t>(masses.size());
  for (int64_t q = 0; q < 2 * n; ++q) x[q] += dt * v[q];  // 1. explicit Euler move
  for (int64_t q = 0; q < 2 * n; ++q) {                   // 2. walls, per ball and axis
    if (x[q] - radius < 0.0) v[q] = std::abs(v[q]);
    if (x[q] + radius > kBallsBoxSize) v[q] = -std::abs(v[q]);
  }
  for (int64_t i = 0; i < n; ++i) {  // 3. collisions, pairs (i, j) with j < i in loop order
    for (int64_t j = 0; j < i; ++j) {
      const double dx = x[2 * i] - x[2 * j], dy = x[2 * i + 1] - x[2 * j + 1];
      const double dist = std::sqrt(dx * dx + dy * dy);
      if (!(dist < 2.0 * radius)) continue;
      const double wx = dx / dist, wy = dy / dist;                   // w = (x_i - x_j) / ||x_i - x_j||
      const double a = wx * v[2 * i] + wy * v[2 * i + 1];            // a = w·v_i
      const double c = wx * v[2 * j] + wy * v[2 * j + 1];            // c = w·v_j
      const double mi = masses[i], mj = masses[j];
      const double c_new = (2.0 * mi * a + c * (mj - mi)) / (mi + mj);  // c' = (2 m_i a + c (m_j - m_i)) / (m_i + m_j)
      const double a_new = c_new + (c - a);                             // a' = c' + (c - a)
      v[2 * i] += wx * (a_new - a), v[2 * i + 1] += wy * (a_new - a);   // v_i += w (a' - a)
      v[2 * j] += wx * (c_new - c), v[2 * j + 1] += wy * (c_new - c);   // v_j += w (c' - c)
    }
  }
}

void render_balls(const double* x, int64_t n, double radius, int64_t res, float* out) {
  // datasets.md §3.2: img[row, col] = min(1, Σ_b exp(-(((c_col - x_b0)² + (c_row - x_b1)²) / r²)^4)),
  // c_k = (k + ½) 10 / P.
  const double cell = kBallsBoxSize / static_cast<double>(res), inv_r2 = 1.0 / (radius * radius);
  std::vector<double> acc(static_cast<size_t>(res * res), 0.0);
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t row = 0; row < res; ++row) {
      const double dy = (static_cast<double>(row) + 0.5) * cell - x[2 * b + 1];  // c_row - x_b,1
      const double qy = dy * dy * inv_r2;
      if (qy > 6.0) continue;  // exp(-q^4) with q > 6 is exactly 0.0 in double (exp(-1296) underflows)
      for (int64_t col = 0; col < res; ++col) {
        const double dx = (static_cast<double>(col) + 0.5) * cell - x[2 * b];  // c_col - x_b,0
        const double q = dx * dx * inv_r2 + qy, q2 = q * q;
        if (q > 6.0) continue;
        acc[static_cast<size_t>(row * res + col)] += std::exp(-(q2 * q2));
      }
    }
  }
  for (int64_t p = 0; p < res * res; ++p) out[p] = static_cast<float>(std::min(1.0, acc[static_cast<size_t>(p)]));
}

data::Dataset BouncingBalls::generate() const {
  const int64_t n = o_.n_trajectories, m = o_.frames, res = o_.resolution, nb = o_.n_balls, npix = res * res;
  const int64_t n_fine = o_.frame_every * (m - 1) + 1;  // fine points 0 .. n_fine - 1, t = k fine_dt
  const double t_end = o_.fine_dt * static_cast<double>(n_fine - 1);
  const std::vector<double> masses(static_cast<size_t>(nb), 1.0);
  data::Dataset ds;
  ds.y = at::zeros({n, m, 1, res, res}, at::kFloat);  // [R, M, 1, P, P]
  ds.t = at::zeros({n, m}, at::kDouble);              // [R, M]
  at::Tensor pos = at::zeros({n, m, nb, 2}, at::kDouble), vel = at::zeros({n, m, nb, 2}, at::kDouble);
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      std::mt19937_64 rng(o_.seed + static_cast<uint64_t>(r));  // datasets.md §0.2: seed base_seed + r
      // Frame k sits on fine point idx[k]: every frame_every-th, or the §0.3 rule over the fine points.
      std::vector<int64_t> idx(static_cast<size_t>(m));
      if (o_.irregular) {
        const std::vector<double> t = irregular_grid(m, t_end, n_fine, 0.25 * t_end / static_cast<double>(m - 1), rng);
        for (int64_t k = 0; k < m; ++k)
          idx[k] = std::llround(t[k] * static_cast<double>(n_fine - 1) / t_end);
      } else {
        for (int64_t k = 0; k < m; ++k) idx[k] = k * o_.frame_every;
      }
      std::vector<double> x, v;
      balls_initial_state(rng, nb, o_.radius, x, v);
      double* pp = pos.data_ptr<double>() + r * m * nb * 2;
      double* pv = vel.data_ptr<double>() + r * m * nb * 2;
      float* frames = ds.y.data_ptr<float>() + r * m * npix;
      int64_t fine = 0;
      for (int64_t k = 0; k < m; ++k) {
        for (; fine < idx[k]; ++fine) balls_step(x, v, masses, o_.radius, o_.fine_dt);
        ds.t.data_ptr<double>()[r * m + k] = static_cast<double>(idx[k]) * o_.fine_dt;
        std::copy(x.begin(), x.end(), pp + k * nb * 2);
        std::copy(v.begin(), v.end(), pv + k * nb * 2);
        render_balls(x.data(), nb, o_.radius, res, frames + k * npix);
      }
    }
  });
  ds.split = at::full({n}, 2, at::kByte);
  ds.split.slice(0, 0, o_.n_train).fill_(0);
  ds.split.slice(0, o_.n_train, o_.n_train + o_.n_val).fill_(1);
  ds.truth["positions"] = pos;
  ds.truth["velocities"] = vel;
  ds.params["radius"] = at::full({n}, o_.radius, at::kDouble);
  ds.params["size"] = at::full({n}, kBallsBoxSize, at::kDouble);
  ds.params["masses"] = at::ones({n, nb}, at::kDouble);
  ds.header = generated_header("bouncing_balls", options(), o_.seed);
  return ds;
}

}  // namespace latdyn::sim
