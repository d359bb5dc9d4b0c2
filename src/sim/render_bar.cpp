// SPDX-License-Identifier: MIT
// Coverage rendering of one bar (datasets.md §0.4, §1.3), shared by the single and double pendulum videos.
#include "latdyn/sim/render_bar.hpp"

#include <algorithm>
#include <cmath>

namespace latdyn::sim {

void draw_bar_max(double px, double py, double theta, double length, double width, int64_t res, float intensity,
                  float* out) {
  const double ux = std::sin(theta), uy = std::cos(theta);  // along the bar; theta = 0 hangs down (+y)
  const double nx = std::cos(theta), ny = -std::sin(theta);  // across the bar
  const double half_w = width / 2.0, len = length;
  // Bounding box of the four corners p + s u + r n (s in {0, len}, r in {±half_w}), widened by one pixel so that
  // rounding at the edges cannot drop a sample; every sample outside it is outside the bar.
  double x_lo = px, x_hi = px, y_lo = py, y_hi = py;
  for (double s : {0.0, len})
    for (double r : {-half_w, half_w}) {
      const double cx = px + s * ux + r * nx, cy = py + s * uy + r * ny;
      x_lo = std::min(x_lo, cx), x_hi = std::max(x_hi, cx), y_lo = std::min(y_lo, cy), y_hi = std::max(y_hi, cy);
    }
  const int64_t j0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(x_lo)) - 1);
  const int64_t j1 = std::min<int64_t>(res - 1, static_cast<int64_t>(std::ceil(x_hi)) + 1);
  const int64_t i0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(y_lo)) - 1);
  const int64_t i1 = std::min<int64_t>(res - 1, static_cast<int64_t>(std::ceil(y_hi)) + 1);
  for (int64_t i = i0; i <= i1; ++i) {
    for (int64_t j = j0; j <= j1; ++j) {
      int inside = 0;
      for (int a = 0; a < 4; ++a) {
        for (int c = 0; c < 4; ++c) {
          const double x = j + (c + 0.5) / 4.0 - px, y = i + (a + 0.5) / 4.0 - py;
          const double s = x * ux + y * uy, r = x * nx + y * ny;  // coordinates along and across the bar
          inside += (s >= 0 && s <= len && std::abs(r) <= half_w) ? 1 : 0;
        }
      }
      const float v = intensity * (static_cast<float>(inside) / 16.0f);
      out[i * res + j] = std::max(out[i * res + j], v);
    }
  }
}

void render_bar(double px, double py, double theta, double length, double width, int64_t res, float* out) {
  std::fill(out, out + res * res, 0.0f);
  draw_bar_max(px, py, theta, length, width, res, 1.0f, out);
}

}  // namespace latdyn::sim
