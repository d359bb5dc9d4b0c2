// SPDX-License-Identifier: MIT
// 2-D incompressible Navier–Stokes on the unit torus in vorticity form (datasets.md §6): FNO's forcing and Gaussian
// random field initial vorticity, pseudo-spectral solver (torch::fft, 2/3 dealiasing, integrating factor + RK4).
// Also the §0.5 symmetric field normalisation shared by the field generators.
#pragma once
#include <complex>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "latdyn/sim/simulator.hpp"

namespace latdyn::sim {

/// Options of the navier_stokes generator; defaults are the `default` profile of datasets.md §6.
struct NavierStokesOptions {
  std::string profile = "default";  ///< default | quick (grid 64, 50 trajectories 40/5/5, 32x32 output)
  int64_t n_trajectories = 500, n_train = 400, n_val = 50;
  int64_t frames = 50;              ///< M; frames at t = dt, 2 dt, ..., M dt (§6.4)
  double dt = 1.0;                  ///< frame interval (§6.4)
  int64_t resolution = 64;          ///< output side, subsampled by stride from the grid: 32, 64 or 128 (§6.1)
  int64_t grid = 128;               ///< simulation grid side (§6.1)
  double nu = 1e-3;                 ///< viscosity ν (§6.1)
  double forcing = 0.1;             ///< amplitude A of f = A (sin 2π(x+y) + cos 2π(x+y)) (§6.1)
  double alpha = 2.5, tau = 7.0;    ///< GRF exponent and shift; σ = τ^(α−1) (§6.2)
  double dt_sim = 2.5e-3;           ///< solver step Δt (§6.3)
  double cfl_max = 0.5;             ///< abort when Δt max|u| / Δx exceeds it (checked every 100 steps, §6.3)
  int64_t batch_size = 2;           ///< trajectories per FFT call and solver (results do not depend on it)
  double w_max = 0.0;               ///< fixed scale (e.g. the source set's); 0: 99.9th percentile of |w| over train
  uint64_t seed = 1545;

  static NavierStokesOptions from_json(const json& j);
  json to_json() const;
};

/// Initial vorticity of §6.2 on the n x n grid (x = column/n, y = row/n):
///   w0 = Re Σ_{k≠0} √2 σ λ_k^{−α/2} (ξ_k + i η_k) e^{2πi k·x},  λ_k = 4π²|k|² + τ²,  σ = τ^{α−1},
/// summed over the grid's FFT wavenumbers k ∈ [−n/2, n/2)². ξ_k, η_k are drawn from std::mt19937_64(seed) ring by
/// ring (max(|k_x|, |k_y|) = 1, 2, ..., n/2, each ring in a fixed order), so the coefficients of the low modes do not
/// depend on n. Returns [n, n] float64.
at::Tensor gaussian_random_field(int64_t n, double alpha, double tau, uint64_t seed);

/// Pseudo-spectral solver of §6.1/§6.3 for a batch of vorticity fields. Spectral state ŵ [B, n, n/2+1] complex128 is
/// torch's rfft2 over (row = y, column = x) of the physical w [B, n, n] float64. Elementwise work runs in plain C++
/// loops (no torch elementwise kernels, whose vector and scalar paths round complex products differently), so results
/// do not depend on the thread count or the batch composition. Single-threaded (torch's CPU FFT runs on the calling
/// thread); the generator runs one solver per thread. Derivatives drop the Nyquist wavenumbers (k = −n/2).
class NavierStokesSolver {
 public:
  /// forcing: amplitude A of f (0 switches it off); dt: the step of step().
  NavierStokesSolver(int64_t n, double nu, double dt, double forcing);
  int64_t n() const { return n_; }
  double dt() const { return dt_; }
  at::Tensor to_spectral(const at::Tensor& w) const;      ///< [B, n, n] float64 -> [B, n, n/2+1] complex128
  at::Tensor to_physical(const at::Tensor& w_hat) const;  ///< inverse of to_spectral
  /// Velocity from the stream function: ψ̂ = ŵ/(4π²|k|²) (ψ̂_0 = 0), û = 2πi k_y ψ̂, v̂ = −2πi k_x ψ̂ (§6.3).
  /// Returns physical (u, v), each [B, n, n] float64.
  std::pair<at::Tensor, at::Tensor> velocity(const at::Tensor& w_hat) const;
  /// RK4 right-hand side F(ŵ) = −D[(u ∂_x w + v ∂_y w)^] + f̂, with D the 2/3-rule mask (|k_x|, |k_y| <= (n−1)/3)
  /// and the product formed in physical space. out: [B, n, n/2+1] complex128 (resized as needed).
  /// max_speed (optional): receives max |u| over the batch, from the fields of this evaluation.
  void rhs(const at::Tensor& w_hat, at::Tensor& out, double* max_speed = nullptr);
  /// One step of the integrating-factor RK4 (Lawson) scheme, viscosity exactly through E = exp(−4π²ν|k|²Δt):
  ///   K1 = F(ŵ), K2 = F(E½(ŵ + Δt/2 K1)), K3 = F(E½ ŵ + Δt/2 K2), K4 = F(E ŵ + Δt E½ K3),
  ///   ŵ ← E ŵ + Δt/6 (E K1 + 2 E½ (K2 + K3) + K4).  In place; max_speed as for rhs (at the step's start).
  void step(at::Tensor& w_hat, double* max_speed = nullptr);

 private:
  void ensure_workspace(int64_t batch);
  int64_t n_, nh_, plane_;  // plane_ = n * (n/2 + 1)
  double nu_, dt_;
  std::vector<double> kx_, ky_, inv_lap_, mask_, e_full_, e_half_;  // [plane_]; kx_, ky_ include 2π, 0 at Nyquist
  std::vector<std::complex<double>> f_hat_;                         // [plane_]
  int64_t batch_ = 0;
  at::Tensor spec4_, phys4_, prod_, prod_hat_, k_, acc_, stage_;  // workspace; phys4_, prod_hat_ are FFT results
};

/// Generator (datasets.md §6): trajectory r starts from gaussian_random_field(grid, α, τ, seed + r), advanced in
/// batches of batch_size. y [N, M, 1, H, H] = clip(0.5 + w/(2 w_max), 0, 1) of w subsampled by stride grid/H
/// (image row 0 is the top, y = (H−1)·stride/grid); t = 1, 2, ..., M (× dt). params/w0 [N, H, H] float32 (the
/// raw field at t = 0, same sampling), params/{nu, grf_seed} [N]; truth/{energy, enstrophy} [N, M] float64 with
/// energy = ½⟨u² + v²⟩ and enstrophy = ½⟨w²⟩ on the simulation grid. The header option "normalization" holds
/// w_max and the clipped fraction of every split (§0.5).
class NavierStokes final : public Simulator {
 public:
  explicit NavierStokes(NavierStokesOptions o) : o_(std::move(o)) {}
  json options() const override { return o_.to_json(); }
  data::Dataset generate() const override;

 private:
  NavierStokesOptions o_;
};

/// Runs body(begin, end) on [0, n) split into at most at::get_num_threads() contiguous chunks, one std::thread per
/// chunk (the calling thread takes the first); rethrows the first exception after every chunk has finished. Shared by
/// the PDE generators: latdyn's sources are not compiled with OpenMP, so at::parallel_for called from them runs
/// serially under LibTorch 1.13 (its OpenMP loop is a header template). The body must not start torch parallel work
/// (plain loops and torch FFTs only), or each thread would open its own OpenMP team.
void parallel_chunks(int64_t n, const std::function<void(int64_t, int64_t)>& body);

/// numpy's default q-th percentile (linear interpolation between order statistics) of |v| over the values of
/// `spans` (pointer, length) together, exact; 0 when there are no values.
double abs_percentile(const std::vector<std::pair<const float*, int64_t>>& spans, double q);

/// Per-channel q-th percentile of |y[:, :, c]| over the trajectories of split 0 (train); y [N, M, C, H, W] float32.
std::vector<double> training_abs_percentiles(const at::Tensor& y, const at::Tensor& split, double q);

/// datasets.md §0.5 symmetric map for field data, in place: y [N, M, C, H, W] float32 holds raw values;
/// y = clip(0.5 + y/(2 scale_c), 0, 1) per channel c (a scale <= 0 is replaced by 1). Returns the header record
/// {"map", "inverse", "quantity", "scale" [C], "scale_rule", "clipped_fraction": {"train", "val", "test"}}, the
/// clipped fractions counted per split over every stored value.
json apply_symmetric_map(at::Tensor& y, const at::Tensor& split, std::vector<double> scale,
                         const std::string& scale_rule, const std::string& quantity);

}  // namespace latdyn::sim
