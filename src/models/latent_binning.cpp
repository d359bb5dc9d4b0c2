// SPDX-License-Identifier: MIT
// dynae.md §5.3 and §6. Clustering and resampling run on the CPU in float64 / int64, off the autograd graph.
#include "latdyn/models/latent_binning.hpp"

#include <torch/torch.h>

#include <cmath>

#include "latdyn/core/error.hpp"

namespace latdyn::models {

at::Tensor sliced_wasserstein(const at::Tensor& a, const at::Tensor& b, int64_t projections, at::Generator gen) {
  TORCH_CHECK(a.dim() == 2 && a.sizes() == b.sizes(), "sliced_wasserstein: sets must be equal [B,d], got ", a.sizes(),
              " and ", b.sizes());
  // theta: [d, P] unit columns, drawn on the CPU generator then moved to the data's device.
  at::Tensor theta = at::randn({a.size(1), projections}, gen, at::TensorOptions().dtype(at::kFloat));
  theta = (theta / theta.norm(2, 0, true)).to(a.device(), a.scalar_type());
  at::Tensor pa = std::get<0>(a.matmul(theta).sort(0));  // [B, P]
  at::Tensor pb = std::get<0>(b.matmul(theta).sort(0));
  return (pa - pb).pow(2).mean();
}

at::Tensor regular_space_centres(const at::Tensor& z_in, const at::Tensor& perm_in, double min_dist, int64_t max_centres) {
  at::Tensor z = z_in.detach().to(at::kCPU, at::kDouble).contiguous();
  at::Tensor perm = perm_in.to(at::kCPU, at::kLong).contiguous();
  const int64_t n = z.size(0), d = z.size(1);
  TORCH_CHECK(perm.numel() == n && n > 0, "regular_space_centres: perm must have one entry per point");
  const double* zp = z.data_ptr<double>();
  const int64_t* pp = perm.data_ptr<int64_t>();
  const double r2 = min_dist * min_dist;
  std::vector<double> centres(zp + pp[0] * d, zp + pp[0] * d + d);
  for (int64_t i = 1; i < n; ++i) {
    const double* x = zp + pp[i] * d;
    bool far = true;
    for (size_t c = 0; c < centres.size() && far; c += d) {
      double s = 0;
      for (int64_t k = 0; k < d; ++k) s += (x[k] - centres[c + k]) * (x[k] - centres[c + k]);
      far = s > r2;  // strict: min_c |z - c| > d_min
    }
    if (!far) continue;
    centres.insert(centres.end(), x, x + d);
    const int64_t k = static_cast<int64_t>(centres.size()) / d;
    if (k >= max_centres)
      throw DataError(concat("Too many bin centres: ", k, " centres reached the limit max_centres = ", max_centres,
                             " with min_dist = ", min_dist),
                      "increase model.min_dist (d_min), e.g. to about (latent extent)/6; the latent spans " +
                          concat(std::get<0>(z.max(0)) - std::get<0>(z.min(0))).substr(0, 120));
  }
  return at::from_blob(centres.data(), {static_cast<int64_t>(centres.size()) / d, d}, at::kDouble).clone();
}

at::Tensor assign_to_centres(const at::Tensor& z_in, const at::Tensor& centres_in) {
  at::Tensor z = z_in.detach().to(at::kCPU, at::kDouble), c = centres_in.to(at::kCPU, at::kDouble);
  std::vector<at::Tensor> out;
  const int64_t chunk = 8192;
  for (int64_t i = 0; i < z.size(0); i += chunk) {
    at::Tensor zi = z.slice(0, i, std::min(z.size(0), i + chunk));
    at::Tensor dist = (zi.unsqueeze(1) - c.unsqueeze(0)).pow(2).sum(2);  // [n, K] squared distances
    out.push_back(dist.argmin(1));  // first minimum: ties go to the lowest index
  }
  return at::cat(out);
}

void check_bin_populations(const std::vector<int64_t>& counts, int64_t batch_size, double min_dist) {
  int64_t total = 0, kept = 0, kept_bins = 0;
  for (int64_t c : counts) {
    total += c;
    if (c > batch_size) kept += c, ++kept_bins;
  }
  if (static_cast<double>(kept) < 0.8 * static_cast<double>(total))
    throw DataError(concat("Too few samples per bin: bins with more than batch_size = ", batch_size, " points hold ",
                           kept, " of ", total, " points (", 100.0 * kept / std::max<int64_t>(total, 1),
                           " %, need 80 %); ", counts.size(), " bins, ", kept_bins, " large enough"),
                    concat("increase model.min_dist (now ", min_dist, ") so that bins are larger, or use more frames; a "
                           "run stopped here keeps its weights: start a new run with init.from = its run directory "
                           "and the larger model.min_dist (docs/config.md §2.1b)"));
}

at::Tensor well_tempered_batches(const at::Tensor& labels_in, const std::vector<int64_t>& weight_counts, int64_t batch_size,
                                 double bias_factor, at::Generator gen) {
  at::Tensor labels = labels_in.to(at::kCPU, at::kLong).contiguous();
  const int64_t n = labels.numel(), n_bins = static_cast<int64_t>(weight_counts.size()), B = batch_size;
  // Members of every bin, in index order.
  std::vector<std::vector<int64_t>> members(static_cast<size_t>(n_bins));
  const int64_t* lp = labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    TORCH_CHECK(lp[i] >= 0 && lp[i] < n_bins, "well_tempered_batches: label out of range");
    members[static_cast<size_t>(lp[i])].push_back(i);
  }
  // w_k = n_k^(1/gamma) over all bins; s_k = int(N w_k / W / B + 1) * B (float64, truncation).
  std::vector<double> w(static_cast<size_t>(n_bins));
  double wsum = 0;
  for (int64_t k = 0; k < n_bins; ++k) wsum += (w[k] = std::pow(static_cast<double>(weight_counts[k]), 1.0 / bias_factor));
  std::vector<at::Tensor> chunks;
  for (int64_t k = 0; k < n_bins; ++k) {
    const auto s_k = static_cast<int64_t>(static_cast<double>(n) * w[k] / wsum / static_cast<double>(B) + 1.0) * B;
    const auto& m = members[static_cast<size_t>(k)];
    const auto n_k = static_cast<int64_t>(m.size());
    at::Tensor idx = at::from_blob(const_cast<int64_t*>(m.data()), {n_k}, at::kLong);
    if (n_k > s_k) {
      chunks.push_back(idx.index_select(0, at::randperm(n_k, gen).slice(0, 0, s_k)));
    } else if (n_k > B) {
      const int64_t size = (n_k / B) * B;
      for (int64_t r = 0; r < s_k / n_k; ++r) chunks.push_back(idx.index_select(0, at::randperm(n_k, gen).slice(0, 0, size)));
    }
  }
  if (chunks.empty()) return at::empty({0, B}, at::kLong);
  at::Tensor rows = at::cat(chunks).reshape({-1, B});
  return rows.index_select(0, at::randperm(rows.size(0), gen)).contiguous();
}

}  // namespace latdyn::models
