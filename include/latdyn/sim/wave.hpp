// SPDX-License-Identifier: MIT
// 2-D wave equation u_tt = c² Δu on [0, 1]² with u = 0 on the boundary and u_t(x, 0) = 0 (datasets.md §4), solved
// exactly in the discrete sine basis of the H x H interior grid: U(t) = S [A ∘ cos(Ω t)] S.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "latdyn/sim/simulator.hpp"

namespace latdyn::sim {

/// Options of the wave2d generator; defaults are the `default` profile of datasets.md §4.2.
struct WaveOptions {
  std::string profile = "default";  ///< default | quick (50 trajectories 40/5/5, resolution 32; datasets.md §0.2)
  int64_t n_trajectories = 500, n_train = 400, n_val = 50;
  int64_t frames = 60;
  double dt = 0.02;                           ///< T = dt (frames - 1) = 1.18
  int64_t resolution = 64;                    ///< H: interior points per axis; 32, 64 (default), 128
  double c_min = 1.0, c_max = 1.0;            ///< option c_range = [c_min, c_max]; c ~ U(c_min, c_max) per trajectory
  int64_t bumps_min = 1, bumps_max = 3;       ///< n_b ~ U{bumps_min .. bumps_max}; params are padded to bumps_max
  double centre_min = 0.3, centre_max = 0.7;  ///< x_k ~ U(centre_min, centre_max)^2
  double width_min = 0.04, width_max = 0.08;  ///< sigma_k ~ U(width_min, width_max)
  double amplitude_min = 0.5, amplitude_max = 1.0;  ///< a_k = ±U(amplitude_min, amplitude_max), fair sign
  bool irregular = false;                     ///< §0.3 grid (100 M fine points, min_dist 0.25 T/(M-1)), exact solution there
  double u_max_percentile = 99.9;             ///< u_max = this percentile of |u| over the training split (§0.5)
  std::optional<double> u_max;                ///< fixed u_max instead of the percentile (e.g. a source set's value)
  uint64_t seed = 1545;

  static WaveOptions from_json(const json& j);
  json to_json() const;
};

/// One Gaussian bump a exp(-|x - (cx, cy)|² / (2 sigma²)) (datasets.md §4.2).
struct WaveBump { double cx, cy, sigma, amplitude; };

/// Modal form of one trajectory on the H x H interior grid x_i = i/(H+1), i = 1..H (datasets.md §4.1).
struct WaveModes {
  int64_t h = 0;
  std::vector<double> a;      ///< A [H * H], A = (2/(H+1))² S U0 S; row = y mode n, column = x mode m
  std::vector<double> omega;  ///< Ω [H * H], Ω_nm = c π sqrt(m² + n²)
};

/// S [H * H] row-major, S[i*H + m] = sin(π (i+1)(m+1) / (H+1)); symmetric, S S = ((H+1)/2) I.
std::vector<double> wave_sine_matrix(int64_t h);
/// out = S x S for H x H matrices (row-major); S symmetric. Plain float64 loops (thread-count independent).
void wave_sandwich(const std::vector<double>& s, const double* x, int64_t h, double* out);
/// U0 [H * H] at the grid points: row i ↔ y = (i+1)/(H+1), column j ↔ x = (j+1)/(H+1).
std::vector<double> wave_initial_field(const std::vector<WaveBump>& bumps, int64_t h);
/// Modal coefficients of a grid field u [H * H] (A = (2/(H+1))² S u S) and frequencies for wave speed c.
WaveModes wave_modes(const std::vector<double>& s, const double* u, int64_t h, double c);
/// U(t) = S [A ∘ cos(Ω t)] S into out [H * H].
void wave_field(const WaveModes& md, const std::vector<double>& s, double t, double* out);
/// Modal energy Σ (Ω² a² + a'²) with a = A cos(Ω t), a' = -A Ω sin(Ω t); equals Σ Ω² A² (§4.2 check) for all t.
double wave_modal_energy(const WaveModes& md, double t);

/// Dataset: y [R, M, 1, H, H] = clip(0.5 + u/(2 u_max), 0, 1) (§0.5); t [R, M]; truth/modal_energy [R, M];
/// params/n_bumps [R] int64, params/centres [R, B, 2] (x, y), params/widths [R, B], params/amplitudes [R, B]
/// (B = bumps_max, 3 by default; padded with 0 beyond n_bumps), params/c [R]. Header options gain u_max,
/// normalisation and clipped_fraction {train, val, test} (fraction of pixel values changed by the clip).
class Wave2d final : public Simulator {
 public:
  explicit Wave2d(WaveOptions o) : o_(std::move(o)) {}
  json options() const override { return o_.to_json(); }
  data::Dataset generate() const override;

 private:
  WaveOptions o_;
};

}  // namespace latdyn::sim
