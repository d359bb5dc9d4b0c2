// SPDX-License-Identifier: MIT
// Torch-free image output for evaluation: frame grids (PNG via cairo), animated GIFs (own LZW encoder),
// horizontal stacking of frames, and line plots (PNG + CSV of the plotted data).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace latdyn::eval {

/// A frame of C (1 or 3) channels, H x W, values in [0,1] (clamped when drawn, NaN drawn as 0), layout [C][H][W].
struct Image {
  int64_t c = 1, h = 0, w = 0;
  std::vector<float> v;
};

/// Layout constants of write_frame_grid_png (pixels), exposed so callers and tests can predict the canvas size.
struct GridLayout final {
  static constexpr int kMargin = 8;       ///< outer margin on every side
  static constexpr int kGap = 4;          ///< white gap between neighbouring cells
  static constexpr int kHeaderH = 20;     ///< height of the column-label row (only when col_labels is non-empty)
  static constexpr int kTitleH = 28;      ///< height of the title band (only when title is non-empty)
  static constexpr int kLabelPad = 8;     ///< added to the widest row label to form the label column
  static constexpr int kColLabelPad = 4;  ///< cells widen to (column label width + this) when a label is wider
  static constexpr int kMaxSide = 32767;  ///< cairo's limit on either canvas side
};

/// Grid of frames: rows[r][k] drawn at cell (r, k), each pixel enlarged by `scale` (nearest), thin gaps between
/// cells, a label column on the left (row_labels[r], may be empty strings), a header row with col_labels (may be
/// an empty vector), optional title at top. Rows may hold different numbers of frames (missing cells stay blank).
/// Every cell is max(w)*scale x max(h)*scale (frames centred). Without labels and title the canvas is exactly
/// W = 2*kMargin + ncols*cell_w + (ncols-1)*kGap, H = 2*kMargin + nrows*cell_h + (nrows-1)*kGap; a title adds
/// kTitleH and col_labels add kHeaderH to H; row labels add a text-dependent label column to W.
/// @throws DataError on empty rows, a bad frame, scale < 1, label count mismatch or a canvas too large.
/// @throws IoError when `path` cannot be written.
void write_frame_grid_png(const std::string& path, const std::vector<std::vector<Image>>& rows,
                          const std::vector<std::string>& row_labels, const std::vector<std::string>& col_labels,
                          const std::string& title, int scale);

/// Animated GIF (GIF89a, looping forever), frames enlarged by `scale`, delay in 1/100 s. Own LZW encoder:
/// grayscale 256-level palette for C=1 (index = round(v*255)); for C=3 a fixed 6x7x6 (252 colour) palette,
/// index = 42*round(r*5) + 6*round(g*6) + round(b*5) (the nearest palette colour).
/// @throws DataError on no frames, frames of differing shape, a bad frame, scale < 1, delay outside [0, 65535]
///         or a scaled side above 65535.
/// @throws IoError when `path` cannot be written.
void write_gif(const std::string& path, const std::vector<Image>& frames, int delay_cs, int scale);

/// Places images side by side with a `gap`-pixel white separator (value 1 in every channel); all must have equal
/// c and h. Result width is sum(w) + gap*(n-1).
/// @throws DataError on no parts, a bad part, mismatched c or h, or gap < 0.
Image hstack(const std::vector<Image>& parts, int gap);

/// One line of a line plot: points (x[i], y[i]); x and y must have the same length.
struct Series {
  std::string name;
  std::vector<double> x, y;
};

/// Line plot PNG (800x500): axes with ticks and numeric tick labels ("nice" tick steps), axis labels, title, legend
/// with one colour per series, optional log-scale y (non-positive values skipped on log), non-finite values skipped
/// (they break the line into gaps; isolated points are drawn as dots). Also writes the data as CSV next to the PNG
/// (same path with the extension replaced by .csv): header "series,x,y", one row per point whose x and y are both
/// finite, in series order.
/// @throws DataError when `series` is empty or a series has x.size() != y.size().
/// @throws IoError when the PNG or the CSV cannot be written.
void write_line_plot_png(const std::string& path, const std::vector<Series>& series, const std::string& title,
                         const std::string& xlabel, const std::string& ylabel, bool log_y);

}  // namespace latdyn::eval
