// SPDX-License-Identifier: MIT
// DynAE's sample-based transition matching (dynae.md §5.3, §6): the sliced-Wasserstein estimator, regular-space
// clustering of the latent, nearest-centre assignment and well-tempered resampling into one-bin minibatches.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace latdyn::models {

/// SW_2^2 estimate between two equal-size sets a, b: [B, d] with `projections` fresh unit directions from `gen`
/// (dynae.md §5.3): project, sort each column along the batch, mean squared difference over B*P. Differentiable.
at::Tensor sliced_wasserstein(const at::Tensor& a, const at::Tensor& b, int64_t projections, at::Generator gen);

/// Regular-space clustering (Prinz et al. 2011; dynae.md §6.1): scan z[perm[i]] in order and add a point as a new
/// centre when its distance to every centre exceeds min_dist (strict). z: [N, d]; perm: [N] int64.
/// Returns centres [K, d]. Throws DataError "Too many bin centres" when K reaches max_centres.
at::Tensor regular_space_centres(const at::Tensor& z, const at::Tensor& perm, double min_dist, int64_t max_centres);

/// Index [N] int64 of the nearest centre of every row of z (ties: lowest index), computed in chunks.
at::Tensor assign_to_centres(const at::Tensor& z, const at::Tensor& centres);

/// Throws DataError "Too few samples per bin" unless the bins with more than B members hold >= 80 % of the points.
void check_bin_populations(const std::vector<int64_t>& counts, int64_t batch_size, double min_dist);

/// Well-tempered resampling with the reference's integer arithmetic (dynae.md §6.3). labels: [N] bin of each
/// point; weight_counts: the bin populations n_k that define w_k = n_k^(1/gamma) (the training counts, also when
/// resampling test points). Returns [n_batches, B] int64 point indices, rows randomly permuted, each row from one bin.
at::Tensor well_tempered_batches(const at::Tensor& labels, const std::vector<int64_t>& weight_counts, int64_t batch_size,
                                 double bias_factor, at::Generator gen);

}  // namespace latdyn::models
