// SPDX-License-Identifier: MIT
// Latent-space outputs of dynae.md §12: the free-energy map F = −ln(count/N) of the latent trajectory, the 10 × 10
// evaluation grid for the force and diffusion fields, and the force check against a known true potential.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "latdyn/core/config_reader.hpp"
#include "latdyn/eval/alignment.hpp"

namespace latdyn::eval {

/// What empty histogram bins become in the free-energy map.
enum class EmptyBins {
  kMask,       ///< NaN (default, "mask")
  kReference,  ///< the minimum non-zero count, as the reference notebook does ("reference"): the largest F
};
/// "mask" or "reference". @throws ConfigError listing the valid names.
EmptyBins parse_empty_bins(const std::string& name);
std::string to_string(EmptyBins e);

/// Options of free_energy_map.
struct FreeEnergyOptions final {
  int64_t bins = 100;                      ///< bins per axis, over [min, max] of the data on that axis
  EmptyBins empty_bins = EmptyBins::kMask;
  int64_t axis_x = 0, axis_y = 1;          ///< latent axes of the map (d = 3: one map per pair)
};

/// A 2-D free-energy map in units of k_BT. Layout of F and counts: [iy][ix], row iy along axis_y (row 0 = lowest
/// y), column ix along axis_x; that is the [ny][nx] layout of write_heatmap_png. Binning as numpy.histogram2d: bins
/// of equal width over [min, max], the last bin closed on the right; a degenerate axis (max == min) is widened to
/// [min − 0.5, max + 0.5].
struct FreeEnergyMap final {
  at::Tensor F;                     ///< [bins, bins] float64; F = −ln(count/N) − min(...), so min F = 0
  at::Tensor counts;                ///< [bins, bins] int64
  at::Tensor x_edges, y_edges;      ///< [bins + 1] float64
  at::Tensor x_centres, y_centres;  ///< [bins] float64
  int64_t n = 0;                    ///< number of points N
  int64_t empty = 0;                ///< number of empty bins
  EmptyBins empty_bins = EmptyBins::kMask;
};

/// dynae.md §12 free-energy map of the latent trajectory Z: [N, d] (d >= 2; any real dtype/device).
/// @throws c10::Error on bad shapes, axes or bins < 1; DataError on non-finite values.
FreeEnergyMap free_energy_map(const at::Tensor& Z, const FreeEnergyOptions& options = {});

/// Evaluation grid of dynae.md §12: per axis j, per_axis points linearly spaced over [min_j + m_j, max_j − m_j],
/// m_j = (max_j − min_j)/10, from the range of Z on that axis.
struct EvalGrid final {
  at::Tensor points;             ///< [per_axis^d, d] float64; point k has index (k mod n, (k / n) mod n, ...):
                                 ///< the first axis varies fastest (d = 2: k = iy·n + ix, numpy meshgrid order)
  std::vector<at::Tensor> axes;  ///< d tensors [per_axis] float64: the coordinates per axis
};
/// Z: [N, d] (1 <= d, per_axis^d <= 1e6). Default 10 per axis → points [100, 2] for d = 2.
/// @throws c10::Error on bad shapes or per_axis < 1; DataError on non-finite values.
EvalGrid evaluation_grid(const at::Tensor& Z, int64_t per_axis = 10);

/// Ideal latent drift per frame for a known potential U (k_BT units) under the similarity alignment
/// z ≈ s Q ẑ + b of §13.2: f*(ẑ_n) = −∇_ẑ U = −s Qᵀ ∇_z U(z_n).
/// grad_u_truth: [N, dy] ∇_z U at the true positions; sim: align_similarity(latent, truth) → [N, dx] float64.
at::Tensor ideal_latent_drift(const at::Tensor& grad_u_truth, const AlignmentResult& sim);

/// Result of the force check (dynae.md §12, last bullet).
struct ForceCheck final {
  double rmse = 0.0;           ///< sqrt(mean_n ‖f(ẑ_n) − f*_n‖²)
  double rms_ideal = 0.0;      ///< sqrt(mean_n ‖f*_n‖²)
  double relative_rmse = 0.0;  ///< rmse / rms_ideal (the reported value); NaN when rms_ideal = 0
  int64_t n = 0;
};
/// f_latent: [N, dx] the model's drift f(ẑ_n) at the data points; grad_u_truth: [N, dy] the true ∇_z U at the same
/// frames; sim: a similarity alignment (kind kSimilarity) of those latents to the truth.
/// @throws c10::Error on shape mismatch or a non-similarity alignment; DataError on non-finite values.
ForceCheck force_check(const at::Tensor& f_latent, const at::Tensor& grad_u_truth, const AlignmentResult& sim);
/// {"name": "force_relative_rmse", "value", "rmse", "rms_ideal", "n", "definition"}.
json force_check_json(const ForceCheck& fc);

extern const char* const kFreeEnergyDefinition;
extern const char* const kForceCheckDefinition;

/// [R, C] tensor → R rows of C doubles (for the torch-free plots, e.g. write_heatmap_png).
std::vector<std::vector<double>> to_rows(const at::Tensor& m);
/// 1-D tensor → vector of doubles.
std::vector<double> to_vector(const at::Tensor& v);

}  // namespace latdyn::eval
