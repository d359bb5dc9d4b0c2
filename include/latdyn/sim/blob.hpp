// SPDX-License-Identifier: MIT
// Brownian blob "DNA-like" fluorescence movie (datasets.md §10): an 8-bead polymer whose centroid is an exactly
// sampled Ornstein–Uhlenbeck process, imaged with a Gaussian PSF, Poisson shot noise and Gaussian read noise.
#pragma once
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "latdyn/sim/simulator.hpp"

namespace latdyn::sim {

/// Options of the blob generator; defaults are the `default` profile of datasets.md §10.
struct BlobOptions {
  std::string profile = "default";  ///< default | quick (4,000 frames)
  int64_t frames = 20000;
  double dt = 0.5;                  ///< frame interval (time units)
  int64_t resolution = 64;
  int64_t channels = 1;             ///< 1, or 3 (replicated, the SDE-VAE input format)
  double centroid_diffusion = 2.0;  ///< D_c (px^2 / unit)
  double centroid_stiffness = 0.05; ///< k (1 / unit); stationary std sqrt(D_c / k)
  int64_t n_beads = 8;
  double bond_length = 2.0;         ///< px
  double rot_diffusion = 0.02;      ///< D_r of the orientation (rad^2 / unit)
  double bend_std = 0.35;           ///< stationary std of each bend angle (rad)
  double bend_time = 2.0;           ///< correlation time of each bend angle (units)
  double psf_sigma = 1.5;           ///< s (px)
  double amplitude = 40.0;          ///< A (photons at a bead centre)
  double background = 10.0;         ///< b (photons per pixel)
  double read_noise = 2.0;          ///< std of the Gaussian camera noise (photons)
  uint64_t seed = 1545;

  static BlobOptions from_json(const json& j);
  json to_json() const;
};

/// Motion of one movie. Positions are in px relative to the image centre, x right and y down.
struct BlobMotion {
  std::vector<double> centroid;     ///< [frames * 2]
  std::vector<double> orientation;  ///< [frames], Theta (rad, unwrapped)
  std::vector<double> bends;        ///< [frames * (n_beads - 2)], kappa_j (rad)
  std::vector<double> beads;        ///< [frames * n_beads * 2], centred on the centroid
};
/// Samples the motion exactly (OU centroid and bends, Brownian orientation), each from its stationary law at frame 0
/// (orientation uniform); draws come from 64-bit Mersenne Twisters seeded with derive_seed(seed, "blob_motion").
BlobMotion simulate_blob_motion(const BlobOptions& o, uint64_t seed);
/// Expected photon counts lambda = b + A sum_j exp(-|x - p_j|^2 / (2 s^2)) at the pixel centres of one frame.
/// beads: [n_beads * 2] relative to the image centre; out: [res * res].
void blob_intensity(const BlobOptions& o, const double* beads, double* out);
/// Poisson(lambda) draw (inversion below lambda 30, Hörmann's PTRS above), exact for any lambda >= 0.
int64_t poisson_draw(double lambda, std::mt19937_64& rng);

/// numpy's default percentile (linear interpolation between order statistics) of n >= 1 values >= 0, exact.
double percentile_of(const float* v, int64_t n, double q);

/// One movie (N = 1, train): y [1, T, C, R, R] = clip(n / n_999, 0, 1) with n = max(Poisson(lambda) + N(0, r^2), 0)
/// and n_999 the 99.9th percentile (linear interpolation) of n over the training frames, stored as the header option
/// "n_999" and params/n_999 [1]. Camera noise of frame k comes from derive_seed(seed, "blob_camera", k).
/// truth/centroid_px [1, T, 2], beads [1, T, n_beads, 2] (px from the image centre), orientation [1, T],
/// bends [1, T, n_beads - 2].
class Blob final : public Simulator {
 public:
  explicit Blob(BlobOptions o) : o_(std::move(o)) {}
  json options() const override { return o_.to_json(); }
  data::Dataset generate() const override;

 private:
  BlobOptions o_;
};

}  // namespace latdyn::sim
