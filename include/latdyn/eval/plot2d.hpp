// SPDX-License-Identifier: MIT
// Torch-free 2-D pictures for evaluation (cairo PNG + CSV beside it): coloured scatter plots of latent
// trajectories, and heatmaps (free-energy maps, dynae.md §12) with optional quiver and ellipse overlays.
#pragma once
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

namespace latdyn::eval {

/// Canvas and plot-area geometry of write_scatter_png and write_heatmap_png (pixels), exposed for callers and tests.
/// The plot area spans x in [kLeft, right] and y in [kTop, kBottom], where right = kRightWithBar when a colour bar
/// or category legend is drawn and kRightNoBar otherwise. With equal_aspect the area shrinks (centred) so that one
/// data unit has the same length on both axes.
struct Plot2dLayout final {
  static constexpr int kWidth = 800;
  static constexpr int kHeight = 600;
  static constexpr int kLeft = 80;
  static constexpr int kTop = 40;
  static constexpr int kBottom = kHeight - 60;
  static constexpr int kRightWithBar = kWidth - 130;
  static constexpr int kRightNoBar = kWidth - 20;
  static constexpr int kBarLeft = kWidth - 115;  ///< colour bar: x in [kBarLeft, kBarLeft + kBarWidth], y spanning
                                                 ///< the plot area (its bottom row is the lowest value)
  static constexpr int kBarWidth = 18;
};

/// Drawing options of write_scatter_png.
struct ScatterStyle final {
  bool categorical = false;      ///< colour by integer category (tab10 colours, legend) instead of a colour bar
  size_t max_points = 20000;     ///< more points are subsampled deterministically (every (N/max)-th, order kept)
  bool equal_aspect = false;     ///< same length per data unit on both axes (use for latents, which are isometric)
  double point_radius = 0.0;     ///< pixels; 0 = automatic (2.5 below 2000 drawn points, else 1.5)
};

/// Scatter plot PNG (Plot2dLayout::kWidth x kHeight) of points (x[i], y[i]) in index order (later points on top).
/// colour_values: empty (one colour, no colour bar), or one value per point: continuous values mapped through a
/// viridis-like map with a colour bar labelled colour_label (NaN/Inf drawn grey), or integer categories when
/// style.categorical (legend, at most 20 entries listed). Points with non-finite x or y are skipped.
/// Writes the drawn points as CSV next to the PNG (extension replaced by .csv): header "x,y,c" ("x,y" without
/// colour values), one row per drawn point after subsampling, shortest round-trip number format.
/// @throws DataError on no points, x/y or colour size mismatch, non-integer categories, max_points == 0.
/// @throws IoError when the PNG or CSV cannot be written.
void write_scatter_png(const std::string& path, const std::vector<double>& x, const std::vector<double>& y,
                       const std::vector<double>& colour_values, const std::string& title, const std::string& xlabel,
                       const std::string& ylabel, const std::string& colour_label, const ScatterStyle& style = {});

/// Arrows at (x[i], y[i]) with vectors (u[i], v[i]), drawn in data coordinates: from (x, y) to
/// (x + scale·u, y + scale·v). scale = 0: automatic, the longest arrow is 0.9 × sqrt(plot data area / #arrows)
/// (about one grid spacing for a regular grid). Arrows with non-finite entries are skipped. Empty = no overlay.
struct QuiverOverlay final {
  std::vector<double> x, y, u, v;
  double scale = 0.0;
};

/// Axis-aligned ellipse outlines with centres (x[i], y[i]) and semi-axes (scale·rx[i], scale·ry[i]) in data units
/// (dynae.md §12 diffusion ellipses: rx = M_11, ry = M_22). Non-finite or negative entries skipped. Empty = none.
struct EllipseOverlay final {
  std::vector<double> x, y, rx, ry;
  double scale = 1.0;
};

/// Drawing options of write_heatmap_png.
struct HeatmapStyle final {
  bool filled_contours = false;  ///< bilinear interpolation quantised into `levels` bands (matplotlib contourf look)
  int levels = 10;               ///< number of bands when filled_contours (>= 2)
  bool equal_aspect = false;
  double v_min = std::numeric_limits<double>::quiet_NaN();  ///< colour range; NaN = min/max of the finite values
  double v_max = std::numeric_limits<double>::quiet_NaN();
  QuiverOverlay quiver;
  EllipseOverlay ellipses;
};

/// Heatmap PNG (Plot2dLayout::kWidth x kHeight) of values[iy][ix] (ny rows of nx values): cell (iy, ix) covers
/// x in [x_min + ix·w, x_min + (ix+1)·w], y in [y_min + iy·h, y_min + (iy+1)·h] with w = (x_max − x_min)/nx,
/// h = (y_max − y_min)/ny; row 0 is at the bottom (y_min). NaN cells are masked (light grey, 0xD9D9D9). Colour bar
/// with ticks on the right (viridis-like map, banded when filled_contours). Overlays are drawn on top, clipped to the
/// plot area. Also writes the grid as CSV next to the PNG: header "x,y,value", one row per cell (cell centre, value;
/// NaN written as "nan"), row-major from iy = 0, ix = 0.
/// @throws DataError on an empty or ragged grid, a non-finite or empty range (x_max <= x_min or y_max <= y_min),
///         overlay vectors of unequal length, levels < 2 with filled_contours, or v_max <= v_min when both given.
/// @throws IoError when the PNG or CSV cannot be written.
void write_heatmap_png(const std::string& path, const std::vector<std::vector<double>>& values, double x_min,
                       double x_max, double y_min, double y_max, const std::string& title, const std::string& xlabel,
                       const std::string& ylabel, const std::string& colour_label, const HeatmapStyle& style = {});

/// The viridis-like colour map used by both plots: t in [0, 1] (clamped) → {r, g, b} in [0, 1].
/// Anchors (matplotlib's viridis at t = k/8) are interpolated linearly.
void colour_map_viridis(double t, double rgb[3]);

}  // namespace latdyn::eval
