// SPDX-License-Identifier: MIT
// dynae.md §12 latent outputs: free-energy histogram map, 10 × 10 evaluation grid, and the force check
// f(ẑ) vs −s Qᵀ ∇U(z) under the similarity alignment of §13.2. Float64 on the CPU.
#include "latdyn/eval/latent_maps.hpp"

#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <tuple>
#include <utility>

#include "latdyn/core/error.hpp"

namespace latdyn::eval {

const char* const kFreeEnergyDefinition =
    "2-D histogram of the latent trajectory with equal-width bins over [min, max] per axis (last bin closed); "
    "F = -ln(count / N) shifted so that min F = 0 (units of k_BT); empty bins NaN (empty_bins = mask) or set to the "
    "minimum non-zero count (empty_bins = reference) (dynae.md §12)";
const char* const kForceCheckDefinition =
    "relative force RMSE at the data points: sqrt(mean_n ||f(zhat_n) - f*_n||^2) / sqrt(mean_n ||f*_n||^2) with the "
    "ideal latent drift per frame f*_n = -s Q^T grad U(z_n) from the similarity alignment z = s Q zhat + b "
    "(dynae.md §12, §13.2)";

namespace {

at::Tensor to_cpu_double(const at::Tensor& t) { return t.detach().to(at::kCPU, at::kDouble).contiguous(); }

void check_finite(const at::Tensor& t, const char* who, const char* what) {
  const int64_t bad = (~at::isfinite(t)).sum().item<int64_t>();
  if (bad > 0) {
    throw DataError(concat(who, ": ", bad, " non-finite values in ", what),
                    "check the encoder output / input arrays for NaN or Inf");
  }
}

/// Per-axis [lo, hi] of a [N, d] float64 tensor.
std::pair<at::Tensor, at::Tensor> ranges(const at::Tensor& z) {
  return {std::get<0>(z.min(0)), std::get<0>(z.max(0))};
}

}  // namespace

EmptyBins parse_empty_bins(const std::string& name) {
  if (name == "mask") return EmptyBins::kMask;
  if (name == "reference") return EmptyBins::kReference;
  throw ConfigError(concat("unknown empty_bins '", name, "'"), "valid values: mask, reference");
}

std::string to_string(EmptyBins e) { return e == EmptyBins::kMask ? "mask" : "reference"; }

FreeEnergyMap free_energy_map(const at::Tensor& Z, const FreeEnergyOptions& opt) {
  constexpr const char* kWho = "free_energy_map";
  TORCH_CHECK(Z.defined(), kWho, ": Z is undefined");
  TORCH_CHECK(Z.dim() == 2, kWho, ": expected Z [N, d], got ", Z.sizes());
  TORCH_CHECK(Z.size(0) >= 1, kWho, ": no points");
  const int64_t d = Z.size(1);
  TORCH_CHECK(opt.axis_x >= 0 && opt.axis_x < d && opt.axis_y >= 0 && opt.axis_y < d && opt.axis_x != opt.axis_y,
              kWho, ": axes (", opt.axis_x, ", ", opt.axis_y, ") must be two different axes of a ", d,
              "-dimensional latent");
  TORCH_CHECK(opt.bins >= 1 && opt.bins <= 10000, kWho, ": bins must be in [1, 10000], got ", opt.bins);
  const at::Tensor z = at::stack({to_cpu_double(Z.select(1, opt.axis_x)), to_cpu_double(Z.select(1, opt.axis_y))}, 1);
  check_finite(z, kWho, "the latent trajectory");
  const int64_t n = z.size(0), nb = opt.bins;

  FreeEnergyMap out;
  out.n = n;
  out.empty_bins = opt.empty_bins;
  std::vector<at::Tensor> edges, idx;
  for (int64_t a = 0; a < 2; ++a) {
    const at::Tensor col = z.select(1, a);
    double lo = col.min().item<double>(), hi = col.max().item<double>();
    if (!(hi > lo)) {  // numpy.histogram's rule for a degenerate range
      lo -= 0.5;
      hi += 0.5;
    }
    edges.push_back(at::linspace(lo, hi, nb + 1, at::TensorOptions().dtype(at::kDouble)));
    // Bin i holds [edge_i, edge_{i+1}); the maximum goes into the last bin.
    idx.push_back(((col - lo) * (static_cast<double>(nb) / (hi - lo))).floor().clamp(0, static_cast<double>(nb - 1))
                      .to(at::kLong));
  }
  out.x_edges = edges[0];
  out.y_edges = edges[1];
  out.x_centres = (edges[0].slice(0, 0, nb) + edges[0].slice(0, 1, nb + 1)) / 2.0;
  out.y_centres = (edges[1].slice(0, 0, nb) + edges[1].slice(0, 1, nb + 1)) / 2.0;
  out.counts = at::bincount(idx[1] * nb + idx[0], {}, nb * nb).view({nb, nb}).to(at::kLong);  // [iy][ix]

  at::Tensor c = out.counts.to(at::kDouble);
  const at::Tensor empty = out.counts == 0;
  out.empty = empty.sum().item<int64_t>();
  if (opt.empty_bins == EmptyBins::kReference) {
    const double min_nonzero = c.masked_select(~empty).min().item<double>();
    c = at::where(empty, at::full_like(c, min_nonzero), c);
  } else {
    c = at::where(empty, at::full_like(c, std::numeric_limits<double>::quiet_NaN()), c);
  }
  at::Tensor F = -(c / static_cast<double>(n)).log();
  // NaN bins never hold the minimum: the fullest bin has the smallest F.
  const double f_min = -std::log(out.counts.max().item<double>() / static_cast<double>(n));
  out.F = F - f_min;
  return out;
}

EvalGrid evaluation_grid(const at::Tensor& Z, int64_t per_axis) {
  constexpr const char* kWho = "evaluation_grid";
  TORCH_CHECK(Z.defined(), kWho, ": Z is undefined");
  TORCH_CHECK(Z.dim() == 2 && Z.size(0) >= 1 && Z.size(1) >= 1, kWho, ": expected Z [N, d] with N, d >= 1, got ",
              Z.sizes());
  TORCH_CHECK(per_axis >= 1, kWho, ": per_axis must be >= 1, got ", per_axis);
  const at::Tensor z = to_cpu_double(Z);
  check_finite(z, kWho, "the latent trajectory");
  const int64_t d = z.size(1);
  int64_t total = 1;
  for (int64_t j = 0; j < d; ++j) {
    TORCH_CHECK(total <= 1000000 / per_axis, kWho, ": ", per_axis, "^", d, " grid points exceed the limit of 1e6");
    total *= per_axis;
  }
  EvalGrid g;
  const auto [lo, hi] = ranges(z);
  for (int64_t j = 0; j < d; ++j) {
    const double l = lo[j].item<double>(), h = hi[j].item<double>(), m = (h - l) / 10.0;
    g.axes.push_back(per_axis == 1 ? at::full({1}, (l + h) / 2.0, at::TensorOptions().dtype(at::kDouble))
                                   : at::linspace(l + m, h - m, per_axis, at::TensorOptions().dtype(at::kDouble)));
  }
  g.points = at::empty({total, d}, at::TensorOptions().dtype(at::kDouble));
  auto p = g.points.accessor<double, 2>();
  for (int64_t k = 0; k < total; ++k) {
    int64_t rest = k;
    for (int64_t j = 0; j < d; ++j) {
      p[k][j] = g.axes[static_cast<size_t>(j)].data_ptr<double>()[rest % per_axis];
      rest /= per_axis;
    }
  }
  return g;
}

at::Tensor ideal_latent_drift(const at::Tensor& grad_u_truth, const AlignmentResult& sim) {
  TORCH_CHECK(sim.kind == AlignmentKind::kSimilarity, "ideal_latent_drift: needs a similarity alignment (§13.2)");
  TORCH_CHECK(sim.Q.defined() && sim.Q.dim() == 2, "ideal_latent_drift: alignment has no Q");
  TORCH_CHECK(grad_u_truth.dim() == 2 && grad_u_truth.size(1) == sim.Q.size(0), "ideal_latent_drift: grad U must be [N, ",
              sim.Q.size(0), "] (truth dimension of the alignment), got ", grad_u_truth.sizes());
  const at::Tensor g = to_cpu_double(grad_u_truth);
  check_finite(g, "ideal_latent_drift", "grad U");
  return -sim.scale * g.mm(sim.Q);  // row form of −s Qᵀ ∇U: [N, dy] · [dy, dx]
}

ForceCheck force_check(const at::Tensor& f_latent, const at::Tensor& grad_u_truth, const AlignmentResult& sim) {
  const at::Tensor f_star = ideal_latent_drift(grad_u_truth, sim);
  TORCH_CHECK(f_latent.dim() == 2 && f_latent.size(0) == f_star.size(0) && f_latent.size(1) == f_star.size(1),
              "force_check: f must be [N, dx] = ", f_star.sizes(), " (N from grad U, dx from the alignment), got ",
              f_latent.sizes());
  TORCH_CHECK(f_star.size(0) >= 1, "force_check: no points");
  const at::Tensor f = to_cpu_double(f_latent);
  check_finite(f, "force_check", "f(zhat)");
  ForceCheck fc;
  fc.n = f.size(0);
  fc.rmse = std::sqrt((f - f_star).pow(2).sum(1).mean().item<double>());
  fc.rms_ideal = std::sqrt(f_star.pow(2).sum(1).mean().item<double>());
  fc.relative_rmse = fc.rms_ideal > 0.0 ? fc.rmse / fc.rms_ideal : std::numeric_limits<double>::quiet_NaN();
  return fc;
}

json force_check_json(const ForceCheck& fc) {
  return {{"name", "force_relative_rmse"}, {"value", fc.relative_rmse}, {"rmse", fc.rmse},
          {"rms_ideal", fc.rms_ideal},     {"n", fc.n},                  {"definition", kForceCheckDefinition}};
}

std::vector<std::vector<double>> to_rows(const at::Tensor& m) {
  TORCH_CHECK(m.dim() == 2, "to_rows: expected a 2-D tensor, got ", m.sizes());
  const at::Tensor d = to_cpu_double(m);
  auto a = d.accessor<double, 2>();
  std::vector<std::vector<double>> rows(static_cast<size_t>(d.size(0)));
  for (int64_t i = 0; i < d.size(0); ++i) {
    rows[static_cast<size_t>(i)].resize(static_cast<size_t>(d.size(1)));
    for (int64_t j = 0; j < d.size(1); ++j) rows[static_cast<size_t>(i)][static_cast<size_t>(j)] = a[i][j];
  }
  return rows;
}

std::vector<double> to_vector(const at::Tensor& v) {
  TORCH_CHECK(v.dim() == 1, "to_vector: expected a 1-D tensor, got ", v.sizes());
  const at::Tensor d = to_cpu_double(v);
  return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.size(0));
}

}  // namespace latdyn::eval
