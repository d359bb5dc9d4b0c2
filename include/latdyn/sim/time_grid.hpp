// SPDX-License-Identifier: MIT
// Regular and irregular (MSVI rule, datasets.md §0.3) time grids.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

namespace latdyn::sim {

/// t_k = k * dt, k = 0..m-1.
std::vector<double> regular_grid(int64_t m, double dt);
/// m points from a fine grid linspace(0, t_end, fine) keeping first and last; others drawn uniformly and accepted if
/// at distance >= min_dist from every kept point; sorted. Throws DataError after 1e4 failed draws for one point.
std::vector<double> irregular_grid(int64_t m, double t_end, int64_t fine, double min_dist, std::mt19937_64& rng);

}  // namespace latdyn::sim
