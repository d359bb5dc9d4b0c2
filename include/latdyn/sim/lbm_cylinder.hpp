// SPDX-License-Identifier: MIT
// Flow past a cylinder, von Kármán vortex street (datasets.md §7): D2Q9 lattice Boltzmann with TRT (or BGK)
// collision, Zou–He velocity inlet, copy outlet, full-way bounce-back cylinder and free-slip (or periodic) walls;
// windows of the recorded vorticity (or velocity) as the observation, with an optional cylinder shift.
#pragma once
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "latdyn/sim/simulator.hpp"

namespace latdyn::sim {

/// Options of the cylinder_lbm generator; defaults are the `default` profile of datasets.md §7 (one Re per set).
struct CylinderLbmOptions {
  std::string profile = "default";  ///< default | quick (210x90, r 10, 3 runs x 20 windows, 32x32) | shifted
  double re = 100.0;                ///< diameter-based Reynolds number; ν = U D / Re, τ = 3ν + ½ (§7.1)
  int64_t nx = 420, ny = 180;       ///< lattice (§7.1)
  double radius = 20.0;             ///< r; D = 2r; centre (nx/4, ny/2) plus the shift (§7.1)
  double u_in = 0.04;               ///< inflow speed U (lattice units per step)
  std::string collision = "trt";    ///< trt | bgk (§7.1)
  double magic = 0.25;              ///< TRT Λ = (τ⁺ − ½)(τ⁻ − ½)
  std::string walls = "free_slip";  ///< free_slip | periodic (top and bottom rows, §7.2 step 6)
  std::vector<double> cylinder_shift = {0.0, 0.0};  ///< (Δx, Δy) in units of D (§7.4 intervention)
  int64_t runs = 10, train_runs = 8, val_runs = 1;   ///< runs 0..7 train, 8 val, 9 test (§7.3)
  int64_t windows_per_run = 50, frames = 50;         ///< windows of `frames` consecutive recorded frames (§7.3)
  int64_t recorded_frames = 300;    ///< frames recorded per run after the burn-in (§7.3)
  double dt = 0.5;                  ///< frame interval in convective units D/U (§7.3)
  double burn_in = 100.0;           ///< burn-in in convective units (§7.3)
  int64_t resolution = 64;          ///< output side (area average of the ny x ny crop): 32, 64 or 128
  std::string channels = "vorticity";  ///< vorticity (C = 1) | velocity (C = 2: u_x/U, u_y/U) (§7.4)
  double omega_clip = 0.0;          ///< fixed scale (e.g. the source set's); 0: 99.5th pct of |value| over train
  std::string precision = "float32";  ///< float32 | float64 populations
  bool checks = true;               ///< fail loudly on the §7.4 checks (false: warn and continue)
  uint64_t seed = 1545;

  static CylinderLbmOptions from_json(const json& j);
  json to_json() const;
  // Derived quantities of §7.1.
  double diameter() const { return 2.0 * radius; }
  double nu() const { return u_in * diameter() / re; }
  double tau() const { return 3.0 * nu() + 0.5; }
  int64_t centre_x0() const { return nx / 4; }  ///< unshifted centre (105 at the default lattice)
  int64_t centre_y0() const { return ny / 2; }
  double centre_x() const { return static_cast<double>(centre_x0()) + cylinder_shift[0] * diameter(); }
  double centre_y() const { return static_cast<double>(centre_y0()) + cylinder_shift[1] * diameter(); }
  int64_t crop_x0() const {  ///< left edge of the ny x ny crop, nx/4 − 2r (65 at the default lattice)
    return static_cast<int64_t>(std::llround(static_cast<double>(centre_x0()) - 2.0 * radius));
  }
  double steps_per_unit() const { return diameter() / u_in; }  ///< steps per convective unit D/U
};

/// D2Q9 velocities c_i, weights w_i and opposite directions ī (§7.1); y increases upwards.
extern const int kD2Q9Cx[9], kD2Q9Cy[9], kD2Q9Opp[9];
extern const double kD2Q9W[9];
/// f_i^eq = w_i ρ [1 + 3 c_i·u + 4.5 (c_i·u)² − 1.5 |u|²] (§7.1).
void lbm_equilibrium(double rho, double ux, double uy, double feq[9]);
/// TRT collision of one node (§7.2 step 4): f*_i = f_i − ω⁺(f⁺_i − f^{eq+}_i) − ω⁻(f⁻_i − f^{eq−}_i), with the
/// moments of f. BGK is ω⁺ = ω⁻ = 1/τ.
void lbm_collide(const double f[9], double out[9], double omega_plus, double omega_minus);

/// Lattice geometry and boundary kinds.
struct LbmGeometry {
  int64_t nx = 0, ny = 0;
  std::vector<uint8_t> solid;  ///< [ny * nx], index y * nx + x; 1 = solid (full-way bounce-back)
  bool channel = true;         ///< Zou–He inlet at x = 0, copy outlet at x = nx−1; false: periodic in x (closed box)
  bool periodic_y = false;     ///< false: free-slip walls at y = 0 and y = ny−1
};
/// Solid mask of the cylinder (x − xc)² + (y − yc)² < r² on an nx x ny lattice.
std::vector<uint8_t> cylinder_mask(int64_t nx, int64_t ny, double xc, double yc, double r);

/// A D2Q9 lattice with populations of type T (float or double), structure of arrays f[i][y][x].
/// The stored state is the post-collision f* of the current step; one call of step() performs §7.2 step 6 of the
/// previous step (streaming with the wall rule) followed by steps 1–5 of the next, in one sweep.
template <typename T>
class LbmLattice {
 public:
  LbmLattice(LbmGeometry geo, double omega_plus, double omega_minus, double u_in);
  const LbmGeometry& geometry() const { return geo_; }
  /// f = f^eq(ρ, u) from fields [ny * nx], then steps 1–5 of the first step (outlet, inlet, collision, bounce-back).
  void init(const std::vector<double>& rho, const std::vector<double>& ux, const std::vector<double>& uy);
  /// One step. Returns false when some fluid node has |u| >= u_limit or a non-finite velocity.
  bool step(double u_limit);
  /// Moments ρ, u_x, u_y [ny * nx] of the current state (collision conserves them, so these are the moments the
  /// step's collision used); solid nodes get ρ = 1, u = 0.
  void moments(std::vector<double>& rho, std::vector<double>& ux, std::vector<double>& uy) const;
  /// u_y at one fluid node.
  double velocity_y(int64_t x, int64_t y) const;
  /// Σ f over every node (fluid and solid), accumulated in double.
  double total_mass() const;
  /// Force on the solid by momentum exchange, F = Σ_links 2 c_i f_i (populations arriving at solid nodes from fluid).
  std::array<double, 2> force() const;
  int64_t steps() const { return steps_; }

 private:
  void sweep(bool stream);
  LbmGeometry geo_;
  T omega_plus_, omega_minus_, u_in_;
  std::vector<T> a_, b_;  // current f* and the next, [9][ny][nx]
  /// The solid mask as an integer as wide as T (1 solid, 0 fluid): an integer test keeps the sweep's select
  /// branch-free (GCC does not if-convert floating-point tests under -ftrapping-math).
  using Mask = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;
  std::vector<Mask> solid_;
  std::vector<int64_t> run_offsets_, runs_;  // solid runs per row (x ranges), for the bounce-back pass
  int64_t steps_ = 0;
  bool bad_ = false;
  T limit2_ = T(0);
  std::vector<std::pair<int64_t, int>> links_;  // (solid node index, direction i) with a fluid node at x − c_i
};

/// Everything one run produces (§7.3): recorded frames at output resolution (raw values, not yet mapped), per-frame
/// probe u_y/U at (x_c + 2D, y_c), lift and drag coefficients, the Strouhal number of the probe spectrum.
struct CylinderRun {
  std::vector<float> frames;          ///< [recorded_frames, C, H, H]
  std::vector<double> probe, cl, cd;  ///< [recorded_frames]
  double amplitude = 0.0, phase = 0.0;  ///< A, φ of the initial perturbation
  double strouhal = 0.0;              ///< St = f_shed D / U from the probe spectrum
  double burn_amplitude_change = 0.0; ///< relative change of the probe amplitude over the last 20 units of burn-in
  std::vector<int64_t> window_starts; ///< distinct start frames in {0 .. recorded_frames − frames}
};
/// Simulates run `run` (seed = o.seed + run: A, φ, then the window starts). Throws NumericalError when |u| >= 0.15
/// or a NaN appears; the stationarity and Strouhal checks of §7.4 throw (o.checks) or warn.
CylinderRun simulate_cylinder_run(const CylinderLbmOptions& o, int64_t run);
/// Dominant frequency (cycles per time unit) of signal s sampled every dt, by the peak of |DFT|² of the mean-free
/// signal over a fine frequency grid in [f_min, 1/(2 dt)].
double dominant_frequency(const std::vector<double>& s, double dt, double f_min);

/// Generator (datasets.md §7): runs × windows_per_run trajectories; trajectory r is window r % W of run r / W.
/// y [N, frames, C, H, H] = clip(0.5 + v/(2 s), 0, 1) of the vorticity ω* = (∂_x u_y − ∂_y u_x) D/U (or u/U),
/// cropped to x ∈ [x_c⁰ − 2r, x_c⁰ − 2r + ny), area-averaged to H, image row 0 at the top; t = 0, dt, ... per
/// window. params/{Re, nu, tau, U, D, x_c, y_c, run, start_step, A, phi, St} [N]; truth/{probe, cl, cd} [N, frames].
/// Header options get "normalization" and "strouhal" (mean St over the runs, and per run).
class CylinderLbm final : public Simulator {
 public:
  explicit CylinderLbm(CylinderLbmOptions o) : o_(std::move(o)) {}
  json options() const override { return o_.to_json(); }
  data::Dataset generate() const override;

 private:
  CylinderLbmOptions o_;
};

}  // namespace latdyn::sim
