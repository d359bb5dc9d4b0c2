// SPDX-License-Identifier: MIT
// 2-D pictures with cairo's C API: coloured scatter plots and heatmaps with quiver/ellipse overlays (dynae.md §12),
// each with a CSV of the drawn data beside the PNG. Torch-free (part of latdyn_base); named image_*.cpp so that the
// torch library's src/eval/[!i]*.cpp glob does not pick it up a second time.
#include <cairo.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <string>

#include "cairo_util.hpp"
#include "latdyn/core/error.hpp"
#include "latdyn/eval/plot2d.hpp"

namespace latdyn::eval {
namespace {

using namespace detail;  // the shared picture helpers of cairo_util.hpp

constexpr uint32_t kMaskRgb = 0xD9D9D9;  // masked (NaN) heatmap cells
constexpr double kMissingGrey = 0.6;     // scatter points with a non-finite colour value

// ---------------------------------------------------------------------------------------------------------------
// Colours, ticks and the plot frame.

constexpr std::array<std::array<double, 3>, 9> kViridis = {{{0.267004, 0.004874, 0.329415},
                                                            {0.282623, 0.140926, 0.457517},
                                                            {0.253935, 0.265254, 0.529983},
                                                            {0.206756, 0.371758, 0.553117},
                                                            {0.163625, 0.471133, 0.558148},
                                                            {0.127568, 0.566949, 0.550556},
                                                            {0.134692, 0.658636, 0.517649},
                                                            {0.266941, 0.748751, 0.440573},
                                                            {0.993248, 0.906157, 0.143936}}};

uint32_t pack_rgb(const double rgb[3]) {
  uint32_t out = 0;
  for (int c = 0; c < 3; ++c) {
    const double v = std::clamp(rgb[c], 0.0, 1.0);
    out = (out << 8) | static_cast<uint32_t>(std::lround(v * 255.0));
  }
  return out;
}

struct Ticks {
  std::vector<double> v;
  std::vector<std::string> labels;
};

/// Ticks at multiples of a nice step inside [lo, hi] (the range itself is not widened), 3 to 10 ticks.
Ticks inner_ticks(double lo, double hi) {
  Ticks t;
  if (!(hi > lo) || !std::isfinite(hi - lo)) return t;
  const double step = nice_number((hi - lo) / 5.0, true);
  const int step_exp = static_cast<int>(std::floor(std::log10(step) + 1e-9));
  const double big = std::max(std::fabs(lo), std::fabs(hi));
  const bool scientific = step_exp < -5 || big >= 1e6;
  const int sig = std::clamp(static_cast<int>(std::floor(std::log10(big) + 1e-9)) - step_exp, 0, 15);
  const double first = std::ceil(lo / step - 1e-9) * step;
  for (int i = 0; i <= 100; ++i) {
    double v = first + i * step;
    if (v > hi + step * 1e-9) break;
    if (std::fabs(v) < step * 1e-6) v = 0.0;
    t.v.push_back(v);
    t.labels.push_back(scientific ? format_number(v, std::chars_format::scientific, sig)
                                  : format_number(v, std::chars_format::fixed, std::max(0, -step_exp)));
  }
  return t;
}

/// A data range widened to be non-empty (and padded by `pad` of its span on each side).
void widen(double& lo, double& hi, double pad) {
  if (!(hi > lo)) {
    const double d = std::fabs(lo) > 0.0 ? 0.5 * std::fabs(lo) : 0.5;
    lo -= d;
    hi += d;
    return;
  }
  const double s = (hi - lo) * pad;
  lo -= s;
  hi += s;
}

/// Mapping between data and pixel coordinates of the plot area.
struct Frame {
  double x0, x1, y0, y1;         // data range
  double left, right, top, bottom;  // pixel box
  double px(double x) const { return left + (x - x0) / (x1 - x0) * (right - left); }
  double py(double y) const { return bottom - (y - y0) / (y1 - y0) * (bottom - top); }
  double dx(double px_) const { return x0 + (px_ - left) / (right - left) * (x1 - x0); }
  double dy(double py_) const { return y0 + (bottom - py_) / (bottom - top) * (y1 - y0); }
};

Frame make_frame(double x0, double x1, double y0, double y1, bool with_bar, bool equal_aspect) {
  using L = Plot2dLayout;
  Frame f{x0, x1, y0, y1, static_cast<double>(L::kLeft), static_cast<double>(with_bar ? L::kRightWithBar : L::kRightNoBar),
          static_cast<double>(L::kTop), static_cast<double>(L::kBottom)};
  if (equal_aspect) {
    const double pw = f.right - f.left, ph = f.bottom - f.top;
    const double upp = std::max((x1 - x0) / pw, (y1 - y0) / ph);  // data units per pixel
    const double nw = (x1 - x0) / upp, nh = (y1 - y0) / upp;
    f.left += (pw - nw) / 2.0;
    f.right = f.left + nw;
    f.top += (ph - nh) / 2.0;
    f.bottom = f.top + nh;
  }
  return f;
}

/// White canvas, optional light grid, ticks with labels, axis labels and the title. The frame outline is drawn
/// separately (after the data) by draw_frame_outline.
void draw_axes(cairo_t* cr, const Frame& f, const std::string& title, const std::string& xlabel,
               const std::string& ylabel, bool grid) {
  using L = Plot2dLayout;
  cairo_set_source_rgb(cr, 1.0, 1.0, 1.0);
  cairo_paint(cr);
  const Ticks tx = inner_ticks(f.x0, f.x1), ty = inner_ticks(f.y0, f.y1);
  cairo_set_line_width(cr, 1.0);
  for (size_t i = 0; i < tx.v.size(); ++i) {
    const double x = std::round(f.px(tx.v[i]) - 0.5) + 0.5;
    if (grid) {
      cairo_set_source_rgb(cr, 0.92, 0.92, 0.92);
      cairo_move_to(cr, x, f.top);
      cairo_line_to(cr, x, f.bottom);
      cairo_stroke(cr);
    }
    cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
    cairo_move_to(cr, x, f.bottom);
    cairo_line_to(cr, x, f.bottom + 5.0);
    cairo_stroke(cr);
  }
  for (size_t i = 0; i < ty.v.size(); ++i) {
    const double y = std::round(f.py(ty.v[i]) - 0.5) + 0.5;
    if (grid) {
      cairo_set_source_rgb(cr, 0.92, 0.92, 0.92);
      cairo_move_to(cr, f.left, y);
      cairo_line_to(cr, f.right, y);
      cairo_stroke(cr);
    }
    cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
    cairo_move_to(cr, f.left - 5.0, y);
    cairo_line_to(cr, f.left, y);
    cairo_stroke(cr);
  }
  cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
  set_font(cr, 11.0, false);
  for (size_t i = 0; i < tx.v.size(); ++i) draw_text(cr, tx.labels[i], f.px(tx.v[i]), f.bottom + 15.0, Align::kCenter);
  for (size_t i = 0; i < ty.v.size(); ++i) draw_text(cr, ty.labels[i], f.left - 8.0, f.py(ty.v[i]), Align::kRight);
  set_font(cr, 13.0, false);
  draw_text(cr, xlabel, (f.left + f.right) / 2.0, f.bottom + 40.0, Align::kCenter);
  draw_vertical_text(cr, ylabel, 16.0, (f.top + f.bottom) / 2.0);
  set_font(cr, 16.0, true);
  draw_text(cr, title, L::kWidth / 2.0, L::kTop / 2.0, Align::kCenter);
}

void draw_frame_outline(cairo_t* cr, const Frame& f) {
  cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
  cairo_set_line_width(cr, 1.0);
  cairo_rectangle(cr, std::round(f.left) - 0.5, std::round(f.top) - 0.5, std::round(f.right) - std::round(f.left) + 1.0,
                  std::round(f.bottom) - std::round(f.top) + 1.0);
  cairo_stroke(cr);
}

/// Vertical colour bar over [v_lo, v_hi] beside the plot area, as tall as the plot frame `f`; `bands` > 0 draws that
/// many flat bands.
void draw_colour_bar(cairo_t* cr, const Frame& f, double v_lo, double v_hi, int bands, const std::string& label) {
  using L = Plot2dLayout;
  const double x = L::kBarLeft, w = L::kBarWidth, top = std::round(f.top), bottom = std::round(f.bottom);
  for (int row = static_cast<int>(top); row < static_cast<int>(bottom); ++row) {
    double t = (bottom - (row + 0.5)) / (bottom - top);
    if (bands > 0) t = (std::min(std::floor(t * bands), bands - 1.0) + 0.5) / bands;
    double rgb[3];
    colour_map_viridis(t, rgb);
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_rectangle(cr, x, row, w, 1.0);
    cairo_fill(cr);
  }
  cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
  cairo_set_line_width(cr, 1.0);
  cairo_rectangle(cr, x - 0.5, top - 0.5, w + 1.0, bottom - top + 1.0);
  cairo_stroke(cr);
  set_font(cr, 10.0, false);
  const Ticks t = inner_ticks(v_lo, v_hi);
  for (size_t i = 0; i < t.v.size(); ++i) {
    const double y = std::round(bottom - (t.v[i] - v_lo) / (v_hi - v_lo) * (bottom - top) - 0.5) + 0.5;
    cairo_move_to(cr, x + w, y);
    cairo_line_to(cr, x + w + 4.0, y);
    cairo_stroke(cr);
    draw_text(cr, t.labels[i], x + w + 6.0, y, Align::kLeft);
  }
  set_font(cr, 12.0, false);
  draw_vertical_text(cr, label, L::kBarLeft + L::kBarWidth + 60.0, (top + bottom) / 2.0);
}

// ---------------------------------------------------------------------------------------------------------------
// Overlays.

void check_same_length(const char* who, const char* what, std::initializer_list<const std::vector<double>*> vs,
                       std::initializer_list<const char*> names) {
  const size_t n = (*vs.begin())->size();
  auto name = names.begin();
  for (const auto* v : vs) {
    if (v->size() != n) {
      throw DataError(concat(who, ": ", what, " vectors differ in length: ", *names.begin(), " has ", n, " entries but ",
                          *name, " has ", v->size()),
                      "give one entry per arrow/ellipse in every vector");
    }
    ++name;
  }
}

void draw_arrow(cairo_t* cr, double x0, double y0, double x1, double y1) {
  const double dx = x1 - x0, dy = y1 - y0, len = std::hypot(dx, dy);
  if (!(len >= 0.5)) {
    cairo_new_sub_path(cr);
    cairo_arc(cr, x0, y0, 1.0, 0.0, 2.0 * kPi);
    cairo_fill(cr);
    return;
  }
  const double head = std::min(0.35 * len, 7.0), half = 0.45 * head;
  const double ux = dx / len, uy = dy / len;
  const double bx = x1 - ux * head, by = y1 - uy * head;
  cairo_move_to(cr, x0, y0);
  cairo_line_to(cr, bx, by);
  cairo_stroke(cr);
  cairo_move_to(cr, x1, y1);
  cairo_line_to(cr, bx - uy * half, by + ux * half);
  cairo_line_to(cr, bx + uy * half, by - ux * half);
  cairo_close_path(cr);
  cairo_fill(cr);
}

void draw_quiver(cairo_t* cr, const Frame& f, const QuiverOverlay& q) {
  if (q.x.empty()) return;
  double max_norm = 0.0;
  size_t n_ok = 0;
  const auto ok = [&](size_t i) {
    return std::isfinite(q.x[i]) && std::isfinite(q.y[i]) && std::isfinite(q.u[i]) && std::isfinite(q.v[i]);
  };
  for (size_t i = 0; i < q.x.size(); ++i) {
    if (!ok(i)) continue;
    ++n_ok;
    max_norm = std::max(max_norm, std::hypot(q.u[i], q.v[i]));
  }
  if (n_ok == 0) return;
  double scale = q.scale;
  if (!(scale > 0.0)) {
    if (!(max_norm > 0.0)) return;
    const double spacing = std::sqrt((f.x1 - f.x0) * (f.y1 - f.y0) / static_cast<double>(n_ok));
    scale = 0.9 * spacing / max_norm;
  }
  cairo_set_line_width(cr, 1.4);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
  for (size_t i = 0; i < q.x.size(); ++i) {
    if (!ok(i)) continue;
    draw_arrow(cr, f.px(q.x[i]), f.py(q.y[i]), f.px(q.x[i] + scale * q.u[i]), f.py(q.y[i] + scale * q.v[i]));
  }
}

void draw_ellipses(cairo_t* cr, const Frame& f, const EllipseOverlay& e) {
  cairo_set_line_width(cr, 1.5);
  cairo_set_source_rgb(cr, 0.85, 0.1, 0.1);
  for (size_t i = 0; i < e.x.size(); ++i) {
    const double rx = e.scale * e.rx[i], ry = e.scale * e.ry[i];
    if (!std::isfinite(e.x[i]) || !std::isfinite(e.y[i]) || !std::isfinite(rx) || !std::isfinite(ry) || !(rx > 0.0) ||
        !(ry > 0.0)) {
      continue;
    }
    const double cx = f.px(e.x[i]), cy = f.py(e.y[i]);
    const double prx = std::fabs(f.px(e.x[i] + rx) - cx), pry = std::fabs(f.py(e.y[i] + ry) - cy);
    if (!(prx > 0.05) || !(pry > 0.05)) continue;
    cairo_save(cr);
    cairo_translate(cr, cx, cy);
    cairo_scale(cr, prx, pry);
    cairo_new_sub_path(cr);
    cairo_arc(cr, 0.0, 0.0, 1.0, 0.0, 2.0 * kPi);
    cairo_restore(cr);  // stroke with an unscaled pen
    cairo_stroke(cr);
  }
}

}  // namespace

// -----------------------------------------------------------------------------------------------------------------

void colour_map_viridis(double t, double rgb[3]) {
  if (!std::isfinite(t)) t = 0.0;
  t = std::clamp(t, 0.0, 1.0) * static_cast<double>(kViridis.size() - 1);
  const size_t i = std::min(static_cast<size_t>(t), kViridis.size() - 2);
  const double w = t - static_cast<double>(i);
  for (int c = 0; c < 3; ++c) rgb[c] = (1.0 - w) * kViridis[i][c] + w * kViridis[i + 1][c];
}

void write_scatter_png(const std::string& path, const std::vector<double>& x, const std::vector<double>& y,
                       const std::vector<double>& colour_values, const std::string& title, const std::string& xlabel,
                       const std::string& ylabel, const std::string& colour_label, const ScatterStyle& style) {
  constexpr const char* kWho = "write_scatter_png";
  if (x.empty()) throw DataError(concat(kWho, ": no points to plot for '", path, "'"));
  if (x.size() != y.size()) {
    throw DataError(concat(kWho, ": x has ", x.size(), " values but y has ", y.size(), " for '", path, "'"),
                    "pass one y per x");
  }
  const bool coloured = !colour_values.empty();
  if (coloured && colour_values.size() != x.size()) {
    throw DataError(concat(kWho, ": ", colour_values.size(), " colour values for ", x.size(), " points in '", path, "'"),
                    "pass one colour value per point, or none");
  }
  if (style.max_points == 0) throw DataError(concat(kWho, ": max_points must be >= 1"));
  // Categories: sorted distinct integer values, colour by rank.
  std::map<long long, size_t> category_rank;
  if (coloured && style.categorical) {
    for (size_t i = 0; i < colour_values.size(); ++i) {
      const double c = colour_values[i];
      if (!std::isfinite(c)) continue;
      if (std::fabs(c - std::round(c)) > 1e-9 || std::fabs(c) > 9e15) {
        throw DataError(concat(kWho, ": categorical colour value ", c, " at point ", i, " is not an integer"),
                        "round the categories, or plot with categorical = false for a continuous colour bar");
      }
      category_rank.emplace(std::llround(c), 0);
    }
    size_t r = 0;
    for (auto& kv : category_rank) kv.second = r++;
  }
  double c_lo = std::numeric_limits<double>::infinity(), c_hi = -c_lo;
  if (coloured && !style.categorical) {
    for (double c : colour_values) {
      if (!std::isfinite(c)) continue;
      c_lo = std::min(c_lo, c);
      c_hi = std::max(c_hi, c);
    }
    if (!(c_lo <= c_hi)) {
      c_lo = 0.0;
      c_hi = 1.0;
    }
    if (!(c_hi > c_lo)) widen(c_lo, c_hi, 0.0);
  }

  // Deterministic subsample: indices floor(k·N/M), k < M, which keeps the order and spreads over the whole run.
  const size_t n = x.size();
  std::vector<size_t> idx;
  if (n <= style.max_points) {
    idx.resize(n);
    for (size_t i = 0; i < n; ++i) idx[i] = i;
  } else {
    idx.resize(style.max_points);
    for (size_t k = 0; k < style.max_points; ++k) {
      idx[k] = static_cast<size_t>((static_cast<unsigned long long>(k) * n) / style.max_points);
    }
  }
  std::vector<size_t> drawn;
  drawn.reserve(idx.size());
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  for (size_t i : idx) {
    if (!std::isfinite(x[i]) || !std::isfinite(y[i])) continue;
    drawn.push_back(i);
    x_lo = std::min(x_lo, x[i]);
    x_hi = std::max(x_hi, x[i]);
    y_lo = std::min(y_lo, y[i]);
    y_hi = std::max(y_hi, y[i]);
  }
  if (drawn.empty()) {
    x_lo = y_lo = 0.0;
    x_hi = y_hi = 1.0;
  } else {
    widen(x_lo, x_hi, 0.03);
    widen(y_lo, y_hi, 0.03);
  }
  const bool side_panel = coloured;
  const Frame f = make_frame(x_lo, x_hi, y_lo, y_hi, side_panel, style.equal_aspect);

  SurfacePtr surface = make_surface(Plot2dLayout::kWidth, Plot2dLayout::kHeight, kWho);
  ContextPtr owner = make_context(surface.get(), kWho);
  cairo_t* cr = owner.get();
  draw_axes(cr, f, title, xlabel, ylabel, true);

  const double radius = style.point_radius > 0.0 ? style.point_radius : drawn.size() < 2000 ? 2.5 : 1.5;
  cairo_save(cr);
  cairo_rectangle(cr, f.left, f.top, f.right - f.left, f.bottom - f.top);
  cairo_clip(cr);
  for (size_t i : drawn) {
    double rgb[3] = {0.122, 0.467, 0.706};
    if (coloured) {
      const double c = colour_values[i];
      if (!std::isfinite(c)) {
        rgb[0] = rgb[1] = rgb[2] = kMissingGrey;
      } else if (style.categorical) {
        const auto& col = kCategoryColours[category_rank.at(std::llround(c)) % kCategoryColours.size()];
        for (int k = 0; k < 3; ++k) rgb[k] = col[static_cast<size_t>(k)];
      } else {
        colour_map_viridis((c - c_lo) / (c_hi - c_lo), rgb);
      }
    }
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_new_sub_path(cr);
    cairo_arc(cr, f.px(x[i]), f.py(y[i]), radius, 0.0, 2.0 * kPi);
    cairo_fill(cr);
  }
  cairo_restore(cr);
  if (drawn.empty()) {
    cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
    set_font(cr, 13.0, false);
    draw_text(cr, "no finite data", (f.left + f.right) / 2.0, (f.top + f.bottom) / 2.0, Align::kCenter);
  }
  draw_frame_outline(cr, f);

  if (coloured && !style.categorical) {
    draw_colour_bar(cr, f, c_lo, c_hi, 0, colour_label);
  } else if (coloured) {
    // Category legend in the side panel.
    using L = Plot2dLayout;
    constexpr size_t kMaxListed = 20;
    constexpr double kRowH = 17.0;
    double y = L::kTop + 8.0;
    cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
    set_font(cr, 12.0, true);
    draw_text(cr, colour_label, L::kRightWithBar + 12.0, y, Align::kLeft);
    y += kRowH + 2.0;
    set_font(cr, 11.0, false);
    size_t listed = 0;
    for (const auto& kv : category_rank) {
      if (listed == kMaxListed) {
        cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
        draw_text(cr, concat("+", category_rank.size() - kMaxListed, " more"), L::kRightWithBar + 12.0, y, Align::kLeft);
        break;
      }
      const auto& col = kCategoryColours[kv.second % kCategoryColours.size()];
      cairo_set_source_rgb(cr, col[0], col[1], col[2]);
      cairo_new_sub_path(cr);
      cairo_arc(cr, L::kRightWithBar + 18.0, y, 4.5, 0.0, 2.0 * kPi);
      cairo_fill(cr);
      cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
      draw_text(cr, std::to_string(kv.first), L::kRightWithBar + 30.0, y, Align::kLeft);
      y += kRowH;
      ++listed;
    }
  }
  check_context(cr, kWho);
  save_png(surface.get(), path);

  std::string csv = coloured ? "x,y,c\n" : "x,y\n";
  for (size_t i : drawn) {
    csv += shortest(x[i]);
    csv += ',';
    csv += shortest(y[i]);
    if (coloured) {
      csv += ',';
      csv += shortest(colour_values[i]);
    }
    csv += '\n';
  }
  write_text_file(csv_path_for(path), csv);
}

void write_heatmap_png(const std::string& path, const std::vector<std::vector<double>>& values, double x_min,
                       double x_max, double y_min, double y_max, const std::string& title, const std::string& xlabel,
                       const std::string& ylabel, const std::string& colour_label, const HeatmapStyle& style) {
  constexpr const char* kWho = "write_heatmap_png";
  if (values.empty() || values[0].empty()) {
    throw DataError(concat(kWho, ": empty grid for '", path, "'"), "pass ny rows of nx values, ny, nx >= 1");
  }
  const size_t ny = values.size(), nx = values[0].size();
  for (size_t r = 0; r < ny; ++r) {
    if (values[r].size() != nx) {
      throw DataError(concat(kWho, ": ragged grid: row ", r, " has ", values[r].size(), " values but row 0 has ", nx),
                      "every row must have the same length");
    }
  }
  if (!std::isfinite(x_min) || !std::isfinite(x_max) || !std::isfinite(y_min) || !std::isfinite(y_max) ||
      !(x_max > x_min) || !(y_max > y_min)) {
    throw DataError(concat(kWho, ": bad range x [", x_min, ", ", x_max, "], y [", y_min, ", ", y_max, "]"),
                    "ranges must be finite with max > min");
  }
  if (style.filled_contours && style.levels < 2) {
    throw DataError(concat(kWho, ": filled contours need levels >= 2, got ", style.levels));
  }
  check_same_length(kWho, "quiver", {&style.quiver.x, &style.quiver.y, &style.quiver.u, &style.quiver.v},
                    {"x", "y", "u", "v"});
  check_same_length(kWho, "ellipse", {&style.ellipses.x, &style.ellipses.y, &style.ellipses.rx, &style.ellipses.ry},
                    {"x", "y", "rx", "ry"});

  double v_lo = std::numeric_limits<double>::infinity(), v_hi = -v_lo;
  for (const auto& row : values) {
    for (double v : row) {
      if (!std::isfinite(v)) continue;
      v_lo = std::min(v_lo, v);
      v_hi = std::max(v_hi, v);
    }
  }
  const bool any = v_lo <= v_hi;
  if (!any) {
    v_lo = 0.0;
    v_hi = 1.0;
  }
  if (std::isfinite(style.v_min)) v_lo = style.v_min;
  if (std::isfinite(style.v_max)) v_hi = style.v_max;
  if (std::isfinite(style.v_min) && std::isfinite(style.v_max) && !(style.v_max > style.v_min)) {
    throw DataError(concat(kWho, ": colour range v_max = ", style.v_max, " must exceed v_min = ", style.v_min));
  }
  if (!(v_hi > v_lo)) widen(v_lo, v_hi, 0.0);

  const Frame f = make_frame(x_min, x_max, y_min, y_max, true, style.equal_aspect);
  SurfacePtr surface = make_surface(Plot2dLayout::kWidth, Plot2dLayout::kHeight, kWho);
  ContextPtr owner = make_context(surface.get(), kWho);
  cairo_t* cr = owner.get();
  draw_axes(cr, f, title, xlabel, ylabel, false);
  check_context(cr, kWho);

  // Pixels of the plot area, written straight into the surface. Pixel centres map to data coordinates.
  const double cw = (x_max - x_min) / static_cast<double>(nx), ch = (y_max - y_min) / static_cast<double>(ny);
  const auto cell = [&](long long iy, long long ix) {
    return values[static_cast<size_t>(std::clamp<long long>(iy, 0, static_cast<long long>(ny) - 1))]
                 [static_cast<size_t>(std::clamp<long long>(ix, 0, static_cast<long long>(nx) - 1))];
  };
  cairo_surface_flush(surface.get());
  unsigned char* data = cairo_image_surface_get_data(surface.get());
  const int stride = cairo_image_surface_get_stride(surface.get());
  const int px0 = static_cast<int>(std::round(f.left)), px1 = static_cast<int>(std::round(f.right));
  const int py0 = static_cast<int>(std::round(f.top)), py1 = static_cast<int>(std::round(f.bottom));
  for (int py = py0; py < py1; ++py) {
    auto* line = reinterpret_cast<uint32_t*>(data + static_cast<ptrdiff_t>(py) * stride);
    const double yd = f.dy(py + 0.5);
    const double cy = (yd - y_min) / ch;  // in cells; cell iy spans [iy, iy + 1)
    for (int px = px0; px < px1; ++px) {
      const double xd = f.dx(px + 0.5);
      const double cx = (xd - x_min) / cw;
      const auto iy = static_cast<long long>(std::floor(cy)), ix = static_cast<long long>(std::floor(cx));
      double v = cell(iy, ix);
      if (!std::isfinite(v)) {
        line[px] = kMaskRgb;
        continue;
      }
      if (style.filled_contours) {
        // Bilinear between cell centres, over the finite neighbours only (keeps the mask edge at the cell edge).
        const double gx = cx - 0.5, gy = cy - 0.5;
        const auto jx = static_cast<long long>(std::floor(gx)), jy = static_cast<long long>(std::floor(gy));
        const double wx = gx - static_cast<double>(jx), wy = gy - static_cast<double>(jy);
        double acc = 0.0, wsum = 0.0;
        for (int a = 0; a < 2; ++a) {
          for (int b = 0; b < 2; ++b) {
            const double w = (a ? wy : 1.0 - wy) * (b ? wx : 1.0 - wx);
            const double c = cell(jy + a, jx + b);
            if (w > 0.0 && std::isfinite(c)) {
              acc += w * c;
              wsum += w;
            }
          }
        }
        if (wsum > 0.0) v = acc / wsum;
      }
      double t = (v - v_lo) / (v_hi - v_lo);
      if (style.filled_contours) {
        const double levels = style.levels;
        t = (std::clamp(std::floor(t * levels), 0.0, levels - 1.0) + 0.5) / levels;
      }
      double rgb[3];
      colour_map_viridis(t, rgb);
      line[px] = pack_rgb(rgb);
    }
  }
  cairo_surface_mark_dirty(surface.get());

  cairo_save(cr);
  cairo_rectangle(cr, f.left, f.top, f.right - f.left, f.bottom - f.top);
  cairo_clip(cr);
  draw_ellipses(cr, f, style.ellipses);
  draw_quiver(cr, f, style.quiver);
  cairo_restore(cr);
  if (!any) {
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    set_font(cr, 13.0, false);
    draw_text(cr, "no finite data", (f.left + f.right) / 2.0, (f.top + f.bottom) / 2.0, Align::kCenter);
  }
  draw_frame_outline(cr, f);
  draw_colour_bar(cr, f, v_lo, v_hi, style.filled_contours ? style.levels : 0, colour_label);
  check_context(cr, kWho);
  save_png(surface.get(), path);

  std::string csv = "x,y,value\n";
  csv.reserve(csv.size() + nx * ny * 24);
  for (size_t iy = 0; iy < ny; ++iy) {
    const std::string yc = shortest(y_min + (static_cast<double>(iy) + 0.5) * ch);
    for (size_t ix = 0; ix < nx; ++ix) {
      csv += shortest(x_min + (static_cast<double>(ix) + 0.5) * cw);
      csv += ',';
      csv += yc;
      csv += ',';
      csv += shortest(values[iy][ix]);
      csv += '\n';
    }
  }
  write_text_file(csv_path_for(path), csv);
}

}  // namespace latdyn::eval
