// SPDX-License-Identifier: MIT
// Time grids: regular and MSVI-style irregular with a minimum spacing (datasets.md §0.3).
#include "latdyn/sim/time_grid.hpp"

#include <algorithm>
#include <cmath>

#include "latdyn/core/error.hpp"
#include "latdyn/core/rng.hpp"

namespace latdyn::sim {

std::vector<double> regular_grid(int64_t m, double dt) {
  std::vector<double> t(m);
  for (int64_t k = 0; k < m; ++k) t[k] = static_cast<double>(k) * dt;
  return t;
}

std::vector<double> irregular_grid(int64_t m, double t_end, int64_t fine, double min_dist, std::mt19937_64& rng) {
  std::vector<double> kept = {0.0, t_end};
  const double tol = 1e-12 * t_end;  // fine-grid points are exact multiples; guard rounding at the threshold
  while (static_cast<int64_t>(kept.size()) < m) {
    bool placed = false;
    for (int attempt = 0; attempt < 10000 && !placed; ++attempt) {
      int64_t idx = static_cast<int64_t>(unit_double(rng()) * static_cast<double>(fine));
      double cand = t_end * static_cast<double>(std::min(idx, fine - 1)) / static_cast<double>(fine - 1);
      bool ok = true;
      for (double k : kept)
        if (std::abs(cand - k) < min_dist - tol) { ok = false; break; }
      if (ok) kept.push_back(cand), placed = true;
    }
    if (!placed)
      throw DataError(concat("irregular time grid: could not place point ", kept.size() + 1, " of ", m,
                          " with min_dist ", min_dist, " after 10000 draws"),
                      "reduce the number of frames or min_dist");
  }
  std::sort(kept.begin(), kept.end());
  return kept;
}

}  // namespace latdyn::sim
