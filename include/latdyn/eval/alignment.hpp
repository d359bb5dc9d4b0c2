// SPDX-License-Identifier: MIT
// Latent-to-truth alignment metrics (dynae.md §13): orthogonal Procrustes (§13.1), similarity / Umeyama with a
// global scale (§13.2, Umeyama, IEEE TPAMI 1991), per-axis R² after alignment (§13.3), with their definitions.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "latdyn/core/config_reader.hpp"

namespace latdyn::eval {

/// Which fit produced an AlignmentResult.
enum class AlignmentKind { kOrthogonal, kSimilarity };

/// Affine map from the latent X [N, dx] to the truth Y [N, dy], Ŷ = scale · X Qᵀ + b, and the metrics of Ŷ vs Y.
/// All tensors are float64 on the CPU.
///
/// Q is semi-orthogonal when dx != dy (the maximiser of tr(Qᵀ C) over such matrices, Q = U Vᵀ from the thin SVD):
///  * dy <= dx: Q Qᵀ = I_dy (rows orthonormal). Q rotates/reflects the latent and then projects out the dx − dy
///    latent directions that carry least covariance with the truth.
///  * dy >  dx: Q Qᵀ = I is impossible (rank dx < dy); instead Qᵀ Q = I_dx (columns orthonormal): the latent is
///    embedded isometrically as a dx-dimensional plane in truth space, so at most dx truth axes can be explained and
///    the R² of the remaining variance is lost (the metric cannot pass by construction, which is intended).
struct AlignmentResult final {
  AlignmentKind kind = AlignmentKind::kOrthogonal;
  bool reflections_allowed = true;  ///< false only for similarity(allow_reflection = false)
  at::Tensor Q;                     ///< [dy, dx]
  at::Tensor b;                     ///< [dy]
  double scale = 1.0;               ///< s (1 for orthogonal); maps latent units to truth units
  double det_q = std::numeric_limits<double>::quiet_NaN();  ///< det(Q), ±1, when dx == dy; NaN otherwise
  at::Tensor aligned;               ///< Ŷ: [N, dy]
  double mse = 0.0;                 ///< mean over all N·dy entries of (Ŷ − Y)²
  double normalised_error = 0.0;    ///< Σ‖Ŷ − Y‖² / Σ‖Y − ȳ‖²
  double rel_error_ref = 0.0;       ///< mean |(Ŷ − Y) / (Y + 1e-5)| (reference metric, fragile, see rel_error_ref)
  std::vector<double> r2;           ///< R²_j per truth axis j (NaN when Y_j is constant)
  double r2_min = 0.0;              ///< min_j R²_j; NaN when any R²_j is NaN
  int64_t n = 0, dim_latent = 0, dim_truth = 0;
};

/// §13.1 orthogonal Procrustes: C = (Y − ȳ)ᵀ(X − x̄), U S Vᵀ = SVD(C), Q = U Vᵀ (reflections allowed),
/// b = ȳ − Q x̄, Ŷ = X Qᵀ + b. No scale: pre-scale the truth to latent units first (Y / √(D_true Δt)).
/// X: [N, dx] latent, Y: [N, dy] truth; any floating dtype and device (computed in float64 on the CPU).
/// @throws c10::Error on bad shapes (not 2-D, N mismatch, N < 2); DataError on non-finite values.
AlignmentResult align_orthogonal(const at::Tensor& X, const at::Tensor& Y);

/// §13.2 similarity (Umeyama): σ_x² = (1/N)Σ‖x_n − x̄‖², C = (1/N)(Y − ȳ)ᵀ(X − x̄), U S Vᵀ = SVD(C),
/// E = I (allow_reflection) or diag(1, …, 1, det(U)·det(V)) (proper rotations only), Q = U E Vᵀ,
/// s = tr(S E) / σ_x², b = ȳ − s Q x̄, Ŷ = s X Qᵀ + b.
/// When dy < dx, σ_x² is replaced by the variance of the projected latent (1/N)Σ‖Q(x_n − x̄)‖², which makes s the
/// least-squares scale for that Q (for dy >= dx both are the same number since QᵀQ = I). When dx != dy the
/// semi-orthogonal matrices form one connected set, so "proper rotations only" cannot be imposed and
/// allow_reflection is ignored (E = I). A constant latent (σ_x² = 0) gives s = 0 (Ŷ = ȳ, R² = 0).
/// X: [N, dx], Y: [N, dy]. @throws as align_orthogonal.
AlignmentResult align_similarity(const at::Tensor& X, const at::Tensor& Y, bool allow_reflection = true);

/// The reference notebook's relative error mean over all entries of |(Ŷ − Y) / (Y + 1e-5)|. Numerically fragile
/// (explodes near Y = −1e-5, depends on the origin of Y); not a headline metric. Y_hat, Y: [N, dy].
double rel_error_ref(const at::Tensor& Y_hat, const at::Tensor& Y);

/// |s − s_expected| / s_expected: the check of dynae.md §3.2 (s_expected = √(D_true Δt), 0.1 for three-well).
double scale_rel_deviation(double scale, double expected_scale);

/// JSON of one alignment: {"alignment", "reflections_allowed", "n", "dim_latent", "dim_truth",
/// "transform": {"Q", "b", "scale", "det_Q"}, "metrics": [{"name", "value", "definition"}, ...]}. Metric names carry
/// the suffix "_orth" or "_sim": mse, normalised_error, r2 (array over truth axes), r2_min, rel_error_ref and, for
/// similarity, scale and (when expected_scale is finite and > 0) scale_rel_dev. `truth_units` is written into the
/// definitions (e.g. "truth / sqrt(D dt)" for the pre-scaled truth of §13.1).
json alignment_json(const AlignmentResult& r, const std::string& truth_units,
                    double expected_scale = std::numeric_limits<double>::quiet_NaN());

/// All §13 alignment metrics for one set of frames: the orthogonal fit against the pre-scaled truth
/// Y / truth_scale and the similarity fit (reflections allowed) against Y, where truth_scale = √(D_true Δt) > 0
/// (0.1 for three-well). Returns {"orthogonal": alignment_json(...), "similarity": alignment_json(..., truth_scale)}.
/// X: [N, dx] latent, Y: [N, dy] truth.
json alignment_report_json(const at::Tensor& X, const at::Tensor& Y, double truth_scale);

extern const char* const kMseOrthDefinition;
extern const char* const kMseSimDefinition;
extern const char* const kNormalisedErrorDefinition;
extern const char* const kR2Definition;
extern const char* const kR2MinDefinition;
extern const char* const kRelErrorRefDefinition;
extern const char* const kScaleDefinition;
extern const char* const kScaleRelDevDefinition;

}  // namespace latdyn::eval
