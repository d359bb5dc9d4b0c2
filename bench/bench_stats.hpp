// SPDX-License-Identifier: MIT
// Timing statistics shared by the benchmarks: median, quartiles (numpy.percentile's linear rule), min, max.
#pragma once
#include <algorithm>
#include <chrono>
#include <vector>

#include "latdyn/core/config_reader.hpp"

namespace latdyn::bench {

struct Stats {
  double median, q1, q3, min, max;
  std::vector<double> times;
};
inline double quantile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const double pos = p * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}
inline Stats stats_of(const std::vector<double>& t) {
  return {quantile(t, 0.5), quantile(t, 0.25), quantile(t, 0.75), *std::min_element(t.begin(), t.end()),
          *std::max_element(t.begin(), t.end()), t};
}
/// Statistics of the wall times of `repeats` calls of f, after `warmup` untimed calls.
template <typename F>
Stats time_calls(F&& f, int warmup, int repeats) {
  for (int i = 0; i < warmup; ++i) f();
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return stats_of(times);
}
inline json stats_json(const Stats& s) {
  return {{"median_s", s.median}, {"q1_s", s.q1}, {"q3_s", s.q3}, {"min_s", s.min}, {"max_s", s.max}, {"times_s", s.times}};
}

}  // namespace latdyn::bench
