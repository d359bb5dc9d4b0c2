// SPDX-License-Identifier: MIT
// Anti-aliased bar (rod) rendering shared by the pendulum videos (datasets.md §1.3, §2.2): a rectangle hanging from a
// point at an angle, drawn with 4 x 4 sub-pixel coverage (§0.4).
#pragma once
#include <cstdint>

namespace latdyn::sim {

/// Draws the bar {p + s·u + r·n : 0 <= s <= length, |r| <= width/2}, u = (sin theta, cos theta),
/// n = (cos theta, -sin theta), in image coordinates (x right = column, y down = row; pixel (i, j) covers
/// [j, j+1) x [i, i+1)). theta = 0 hangs straight down, positive theta swings the end towards +x (datasets.md §1.3).
/// Coverage is the fraction of the 4 x 4 sub-pixel sample points (j + (c+½)/4, i + (a+½)/4) inside the bar
/// (datasets.md §0.4). For every pixel the bar touches: out[i*res + j] = max(out[i*res + j], intensity * coverage);
/// pixels farther than one pixel from the bar's bounding box are not visited (their coverage is exactly 0).
/// out: [res * res] row-major.
void draw_bar_max(double px, double py, double theta, double length, double width, int64_t res, float intensity,
                  float* out);

/// Coverage image of one bar: out [res * res] is zeroed, then draw_bar_max with intensity 1.
void render_bar(double px, double py, double theta, double length, double width, int64_t res, float* out);

}  // namespace latdyn::sim
