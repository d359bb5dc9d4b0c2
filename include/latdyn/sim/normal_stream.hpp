// SPDX-License-Identifier: MIT
// Standard normal draws for the simulators: the polar method on a std::mt19937_64, deterministic across platforms
// and standard libraries (std::normal_distribution is not). Header-only: the simulators' inner loops inline it.
#pragma once
#include <cmath>
#include <random>

#include "latdyn/core/rng.hpp"

namespace latdyn::sim {

class NormalStream final {
 public:
  explicit NormalStream(std::mt19937_64& rng) : rng_(rng) {}
  double operator()() {
    if (has_cached_) {
      has_cached_ = false;
      return cached_;
    }
    double u, v, s;
    do {
      u = 2.0 * unit_double(rng_()) - 1.0;
      v = 2.0 * unit_double(rng_()) - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double f = std::sqrt(-2.0 * std::log(s) / s);
    cached_ = v * f, has_cached_ = true;
    return u * f;
  }

 private:
  std::mt19937_64& rng_;
  double cached_ = 0.0;
  bool has_cached_ = false;
};

}  // namespace latdyn::sim
