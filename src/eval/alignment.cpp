// SPDX-License-Identifier: MIT
// Orthogonal Procrustes and Umeyama similarity alignment of a latent to the ground truth, with MSE, normalised
// error and per-axis R² (dynae.md §13). Everything runs in float64 on the CPU; the matrices are tiny (dy × dx).
#include "latdyn/eval/alignment.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "latdyn/core/error.hpp"

namespace latdyn::eval {

const char* const kMseOrthDefinition =
    "orthogonal Procrustes (dynae.md §13.1): C = (Y - mean Y)^T (X - mean X), U S V^T = SVD(C), Q = U V^T "
    "(reflections allowed; semi-orthogonal when dims differ), b = mean Y - Q mean X, Yhat = X Q^T + b; "
    "value = mean over all N*d_truth entries of (Yhat - Y)^2";
const char* const kMseSimDefinition =
    "similarity / Umeyama alignment (dynae.md §13.2): sigma_x^2 = mean ||x - mean x||^2, C = (1/N)(Y - mean Y)^T "
    "(X - mean X), U S V^T = SVD(C), Q = U E V^T, s = tr(S E) / sigma_x^2, b = mean Y - s Q mean X, "
    "Yhat = s X Q^T + b; value = mean over all N*d_truth entries of (Yhat - Y)^2";
const char* const kNormalisedErrorDefinition =
    "sum over n of ||Yhat_n - Y_n||^2 / sum over n of ||Y_n - mean Y||^2 after the alignment (scale-free)";
const char* const kR2Definition =
    "per truth axis j: R2_j = 1 - sum_n (Yhat_nj - Y_nj)^2 / sum_n (Y_nj - mean Y_j)^2 after the alignment "
    "(dynae.md §13.3); NaN for a constant truth axis";
const char* const kR2MinDefinition = "min over truth axes j of R2_j (NaN if any R2_j is NaN); acceptance: >= 0.98";
const char* const kRelErrorRefDefinition =
    "reference notebook's relative error: mean over all entries of |(Yhat - Y) / (Y + 1e-5)| after the alignment; "
    "numerically fragile, not a headline metric";
const char* const kScaleDefinition =
    "fitted similarity scale s mapping latent to truth units (Yhat = s X Q^T + b); DynAE expects s = sqrt(D_true dt)";
const char* const kScaleRelDevDefinition =
    "|s - s_expected| / s_expected with s_expected = sqrt(D_true dt) (dynae.md §3.2, §13.2)";

namespace {

struct Centred {
  at::Tensor X, Y, x_mean, y_mean, Xc, Yc;  // X: [N, dx], Y: [N, dy], means [dx] / [dy]
};

at::Tensor to_cpu_double(const at::Tensor& t) {
  return t.detach().to(at::kCPU, at::kDouble).contiguous();
}

Centred prepare(const at::Tensor& X, const at::Tensor& Y, const char* who) {
  TORCH_CHECK(X.defined() && Y.defined(), who, ": X and Y must be defined tensors");
  TORCH_CHECK(X.dim() == 2, who, ": latent X must be [N, dx], got ", X.sizes());
  TORCH_CHECK(Y.dim() == 2, who, ": truth Y must be [N, dy], got ", Y.sizes());
  TORCH_CHECK(X.size(0) == Y.size(0), who, ": X has ", X.size(0), " rows but Y has ", Y.size(0));
  TORCH_CHECK(X.size(0) >= 2, who, ": need at least 2 points, got ", X.size(0));
  TORCH_CHECK(X.size(1) >= 1 && Y.size(1) >= 1, who, ": dimensions must be >= 1, got X ", X.sizes(), ", Y ",
              Y.sizes());
  TORCH_CHECK(at::isFloatingType(X.scalar_type()) || at::isIntegralType(X.scalar_type(), false), who,
              ": X must be real, got ", X.scalar_type());
  TORCH_CHECK(at::isFloatingType(Y.scalar_type()) || at::isIntegralType(Y.scalar_type(), false), who,
              ": Y must be real, got ", Y.scalar_type());
  Centred c;
  c.X = to_cpu_double(X);
  c.Y = to_cpu_double(Y);
  const int64_t bad_x = (~at::isfinite(c.X)).sum().item<int64_t>();
  const int64_t bad_y = (~at::isfinite(c.Y)).sum().item<int64_t>();
  if (bad_x > 0 || bad_y > 0) {
    throw DataError(concat(who, ": non-finite values (", bad_x, " in the latent X, ", bad_y, " in the truth Y)"),
                    "check the encoder output and the ground-truth arrays for NaN/Inf");
  }
  c.x_mean = c.X.mean(0);
  c.y_mean = c.Y.mean(0);
  c.Xc = c.X - c.x_mean;
  c.Yc = c.Y - c.y_mean;
  return c;
}

/// Fills aligned, the metrics and the sizes from Q, b and scale.
void finish(AlignmentResult& r, const Centred& c) {
  r.n = c.X.size(0);
  r.dim_latent = c.X.size(1);
  r.dim_truth = c.Y.size(1);
  r.det_q = r.dim_latent == r.dim_truth ? at::linalg_det(r.Q).item<double>() : std::nan("");
  r.aligned = r.scale * c.X.mm(r.Q.t()) + r.b;
  const at::Tensor resid2 = (r.aligned - c.Y).pow(2);
  const at::Tensor sse = resid2.sum(0), sst = c.Yc.pow(2).sum(0);  // [dy]
  r.mse = resid2.mean().item<double>();
  r.normalised_error = sse.sum().item<double>() / sst.sum().item<double>();
  r.rel_error_ref = rel_error_ref(r.aligned, c.Y);
  r.r2.clear();
  r.r2_min = std::numeric_limits<double>::infinity();
  bool any_nan = false;
  for (int64_t j = 0; j < r.dim_truth; ++j) {
    const double t = sst[j].item<double>();
    const double v = t > 0.0 ? 1.0 - sse[j].item<double>() / t : std::nan("");
    r.r2.push_back(v);
    if (std::isnan(v)) any_nan = true;
    else r.r2_min = std::min(r.r2_min, v);
  }
  if (any_nan) r.r2_min = std::nan("");
}

json tensor_to_json(const at::Tensor& t) {
  const at::Tensor d = t.to(at::kDouble).contiguous();
  if (d.dim() == 1) {
    json a = json::array();
    for (int64_t i = 0; i < d.size(0); ++i) a.push_back(d[i].item<double>());
    return a;
  }
  json a = json::array();
  for (int64_t i = 0; i < d.size(0); ++i) a.push_back(tensor_to_json(d[i]));
  return a;
}

/// NaN is not representable in JSON; nlohmann writes it as null, which is what we want.
json metric(const std::string& name, const json& value, const std::string& definition) {
  return {{"name", name}, {"value", value}, {"definition", definition}};
}

}  // namespace

AlignmentResult align_orthogonal(const at::Tensor& X, const at::Tensor& Y) {
  const Centred c = prepare(X, Y, "align_orthogonal");
  const at::Tensor C = c.Yc.t().mm(c.Xc);  // [dy, dx]
  // linalg_svd exists in LibTorch 1.13 and 2.x (at::svd is deprecated in 2.x); thin SVD: U [dy,k], Vh [k,dx].
  at::Tensor U, S, Vh;
  std::tie(U, S, Vh) = at::linalg_svd(C, /*full_matrices=*/false);
  AlignmentResult r;
  r.kind = AlignmentKind::kOrthogonal;
  r.reflections_allowed = true;
  r.Q = U.mm(Vh);
  r.scale = 1.0;
  r.b = c.y_mean - r.Q.mv(c.x_mean);
  finish(r, c);
  return r;
}

AlignmentResult align_similarity(const at::Tensor& X, const at::Tensor& Y, bool allow_reflection) {
  const Centred c = prepare(X, Y, "align_similarity");
  const auto n = static_cast<double>(c.X.size(0));
  const int64_t dx = c.X.size(1), dy = c.Y.size(1);
  const at::Tensor C = c.Yc.t().mm(c.Xc) / n;  // [dy, dx]
  at::Tensor U, S, Vh;
  std::tie(U, S, Vh) = at::linalg_svd(C, /*full_matrices=*/false);
  at::Tensor E = at::ones_like(S);  // diagonal of E, [k]
  if (!allow_reflection && dx == dy) {
    // Umeyama: det(U)·det(V) rather than sign(det C), so that a rank-deficient C is handled too.
    const double d = at::linalg_det(U).item<double>() * at::linalg_det(Vh).item<double>();
    if (d < 0.0) E[S.size(0) - 1] = -1.0;
  }
  AlignmentResult r;
  r.kind = AlignmentKind::kSimilarity;
  r.reflections_allowed = allow_reflection || dx != dy;
  r.Q = (U * E).mm(Vh);  // U diag(E) Vᵀ
  const double var = dy >= dx ? c.Xc.pow(2).sum().item<double>() / n
                              : c.Xc.mm(r.Q.t()).pow(2).sum().item<double>() / n;
  const double tr = (S * E).sum().item<double>();
  r.scale = var > 0.0 ? tr / var : 0.0;
  r.b = c.y_mean - r.scale * r.Q.mv(c.x_mean);
  finish(r, c);
  return r;
}

double rel_error_ref(const at::Tensor& Y_hat, const at::Tensor& Y) {
  TORCH_CHECK(Y_hat.sizes() == Y.sizes(), "rel_error_ref: shapes differ: ", Y_hat.sizes(), " vs ", Y.sizes());
  TORCH_CHECK(Y.numel() > 0, "rel_error_ref: empty input");
  const at::Tensor yh = to_cpu_double(Y_hat), y = to_cpu_double(Y);
  return ((yh - y) / (y + 1e-5)).abs().mean().item<double>();
}

double scale_rel_deviation(double scale, double expected_scale) {
  LATDYN_CHECK(expected_scale > 0.0 && std::isfinite(expected_scale), DataError,
               "scale_rel_deviation: expected scale must be finite and > 0, got ", expected_scale);
  return std::fabs(scale - expected_scale) / expected_scale;
}

json alignment_json(const AlignmentResult& r, const std::string& truth_units, double expected_scale) {
  const bool sim = r.kind == AlignmentKind::kSimilarity;
  const std::string sfx = sim ? "_sim" : "_orth";
  const std::string units = concat("; truth in units of ", truth_units.empty() ? "the data" : truth_units,
                                   "; N = ", r.n, " frames, d_latent = ", r.dim_latent, ", d_truth = ", r.dim_truth);
  const std::string how =
      sim ? concat("after the similarity alignment (",
                   r.reflections_allowed ? "reflections allowed" : "proper rotations only", ")")
          : std::string("after the orthogonal alignment (reflections allowed)");
  json metrics = json::array();
  metrics.push_back(metric("mse" + sfx, r.mse, std::string(sim ? kMseSimDefinition : kMseOrthDefinition) + units));
  metrics.push_back(
      metric("normalised_error" + sfx, r.normalised_error, concat(kNormalisedErrorDefinition, ", ", how, units)));
  metrics.push_back(metric("r2" + sfx, r.r2, concat(kR2Definition, ", ", how, units)));
  metrics.push_back(metric("r2_min" + sfx, r.r2_min, concat(kR2MinDefinition, ", ", how, units)));
  metrics.push_back(metric("rel_error_ref" + sfx, r.rel_error_ref, concat(kRelErrorRefDefinition, ", ", how, units)));
  if (sim) {
    metrics.push_back(metric("scale" + sfx, r.scale, concat(kScaleDefinition, units)));
    if (std::isfinite(expected_scale) && expected_scale > 0.0) {
      json m = metric("scale_rel_dev" + sfx, scale_rel_deviation(r.scale, expected_scale),
                      concat(kScaleRelDevDefinition, units));
      m["expected_scale"] = expected_scale;
      metrics.push_back(m);
    }
  }
  return {{"alignment", sim ? "similarity" : "orthogonal"},
          {"reflections_allowed", r.reflections_allowed},
          {"n", r.n},
          {"dim_latent", r.dim_latent},
          {"dim_truth", r.dim_truth},
          {"truth_units", truth_units},
          {"transform", {{"Q", tensor_to_json(r.Q)}, {"b", tensor_to_json(r.b)}, {"scale", r.scale},
                         {"det_Q", r.det_q}, {"definition", "Yhat = scale * X Q^T + b, Q: [d_truth, d_latent]"}}},
          {"metrics", metrics}};
}

json alignment_report_json(const at::Tensor& X, const at::Tensor& Y, double truth_scale) {
  LATDYN_CHECK(truth_scale > 0.0 && std::isfinite(truth_scale), DataError,
               "alignment_report_json: truth_scale = sqrt(D_true dt) must be finite and > 0, got ", truth_scale);
  const at::Tensor Yd = to_cpu_double(Y);
  const AlignmentResult orth = align_orthogonal(X, Yd / truth_scale);
  const AlignmentResult sim = align_similarity(X, Yd, true);
  return {{"orthogonal", alignment_json(orth, concat("truth / sqrt(D_true dt) = truth / ", truth_scale))},
          {"similarity", alignment_json(sim, "truth", truth_scale)}};
}

}  // namespace latdyn::eval
