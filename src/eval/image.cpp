// SPDX-License-Identifier: MIT
// Image output for evaluation: frame-grid and line-plot PNGs drawn with cairo's C API, animated GIFs written
// with an in-house GIF89a/LZW encoder, and horizontal stacking of frames.
#include "latdyn/eval/image.hpp"

#include <cairo.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include "cairo_util.hpp"
#include "latdyn/core/error.hpp"

namespace latdyn::eval {
namespace {

using namespace detail;  // the shared picture helpers of cairo_util.hpp

// ---------------------------------------------------------------------------------------------------------------
// Validation and pixel conversion (cairo, file and text helpers are in cairo_util.hpp).

constexpr int64_t kMaxFrameSide = int64_t{1} << 20;  // bound on h and w so that c*h*w cannot overflow

void check_image(const Image& im, const std::string& what) {
  if (im.c != 1 && im.c != 3) throw DataError(concat(what, ": channel count must be 1 or 3, got ", im.c));
  if (im.h <= 0 || im.w <= 0) {
    throw DataError(concat(what, ": height and width must be positive, got ", im.h, "x", im.w));
  }
  if (im.h > kMaxFrameSide || im.w > kMaxFrameSide) {
    throw DataError(concat(what, ": frame of ", im.h, "x", im.w, " is too large (limit ", kMaxFrameSide, " per side)"));
  }
  const uint64_t expected = static_cast<uint64_t>(im.c * im.h * im.w);
  if (im.v.size() != expected) {
    throw DataError(concat(what, ": expected c*h*w = ", im.c, "*", im.h, "*", im.w, " = ", expected, " values, got ",
                        im.v.size()));
  }
}

/// [0,1] -> 0..255, clamped; NaN -> 0.
uint8_t to_byte(float v) {
  if (!(v > 0.0f)) return 0;
  if (v >= 1.0f) return 255;
  return static_cast<uint8_t>(std::lround(static_cast<double>(v) * 255.0));
}

/// [0,1] -> 0..levels-1 (nearest), clamped; NaN -> 0.
int to_level(float v, int levels) {
  if (!(v > 0.0f)) return 0;
  if (v >= 1.0f) return levels - 1;
  return static_cast<int>(std::lround(static_cast<double>(v) * (levels - 1)));
}

/// RGB of pixel (y, x) as 0x00RRGGBB.
uint32_t pixel_rgb(const Image& im, int64_t y, int64_t x) {
  const size_t plane = static_cast<size_t>(im.h * im.w);
  const size_t i = static_cast<size_t>(y * im.w + x);
  const uint32_t r = to_byte(im.v[i]);
  if (im.c == 1) return (r << 16) | (r << 8) | r;
  const uint32_t g = to_byte(im.v[plane + i]);
  const uint32_t b = to_byte(im.v[2 * plane + i]);
  return (r << 16) | (g << 8) | b;
}

// ---------------------------------------------------------------------------------------------------------------
// GIF: LZW encoder (variable code size 9..12 bits, minimum code size 8, clear when the table is full).

class BitPacker final {
 public:
  explicit BitPacker(std::vector<uint8_t>& out) : out_(out) {}
  /// Appends `bits` bits of `code`, least significant bit first (GIF bit order).
  void put(uint32_t code, int bits) {
    acc_ |= code << nbits_;
    nbits_ += bits;
    while (nbits_ >= 8) {
      out_.push_back(static_cast<uint8_t>(acc_ & 0xFFu));
      acc_ >>= 8;
      nbits_ -= 8;
    }
  }
  void flush() {
    if (nbits_ > 0) out_.push_back(static_cast<uint8_t>(acc_ & 0xFFu));
    acc_ = 0;
    nbits_ = 0;
  }

 private:
  std::vector<uint8_t>& out_;
  uint32_t acc_ = 0;
  int nbits_ = 0;
};

/// LZW-compresses 8-bit palette indices into a GIF code stream (not yet split into sub-blocks).
/// Code-size growth follows the decoder: after the n-th data code the decoder's next free entry equals the
/// encoder's last assigned entry, so both widen when that number reaches 2^code_size.
std::vector<uint8_t> lzw_encode(const std::vector<uint8_t>& px) {
  constexpr uint32_t kClear = 256, kEoi = 257, kLastCode = 4095;
  constexpr int kStartBits = 9, kMaxBits = 12;
  // Dense trie: child[prefix * 256 + byte] = code of prefix+byte, 0 when absent (0 is never an assigned code).
  std::vector<uint16_t> child(size_t{4096} * 256, 0);
  std::vector<uint8_t> out;
  out.reserve(px.size());
  BitPacker bits(out);
  int code_bits = kStartBits;
  uint32_t last = kEoi;
  bits.put(kClear, code_bits);
  uint32_t prefix = px[0];
  for (size_t i = 1; i < px.size(); ++i) {
    const uint32_t k = px[i];
    uint16_t& slot = child[prefix * 256 + k];
    if (slot != 0) {
      prefix = slot;
      continue;
    }
    bits.put(prefix, code_bits);
    ++last;
    slot = static_cast<uint16_t>(last);
    if (last >= (1u << code_bits) && code_bits < kMaxBits) ++code_bits;
    if (last == kLastCode) {
      bits.put(kClear, code_bits);
      std::fill(child.begin(), child.end(), uint16_t{0});
      code_bits = kStartBits;
      last = kEoi;
    }
    prefix = k;
  }
  bits.put(prefix, code_bits);
  ++last;
  if (last >= (1u << code_bits) && code_bits < kMaxBits) ++code_bits;
  bits.put(kEoi, code_bits);
  bits.flush();
  return out;
}

void put_u16(std::vector<uint8_t>& out, uint32_t v) {
  out.push_back(static_cast<uint8_t>(v & 0xFFu));
  out.push_back(static_cast<uint8_t>((v >> 8) & 0xFFu));
}

// ---------------------------------------------------------------------------------------------------------------
// Line plot: axes and tick generation.

struct Axis {
  double lo = 0.0, hi = 1.0;  // in data units (log axes: positive)
  bool log = false;
  std::vector<double> major, minor;
  std::vector<std::string> labels;
};

Axis linear_axis(double lo, double hi) {
  Axis a;
  if (hi < lo) std::swap(lo, hi);
  const double mag = std::max(std::fabs(lo), std::fabs(hi));
  if (hi - lo <= mag * 1e-12) {
    const double d = mag > 0.0 ? 0.5 * mag : 1.0;
    lo -= d;
    hi += d;
  }
  if (!std::isfinite(hi - lo)) {  // extreme magnitudes: fall back to an unticked axis
    a.lo = lo;
    a.hi = hi;
    return a;
  }
  const double step = nice_number((hi - lo) / 5.0, true);  // 5 to 10 intervals
  a.lo = std::floor(lo / step) * step;
  a.hi = std::ceil(hi / step) * step;
  const int step_exp = static_cast<int>(std::floor(std::log10(step) + 1e-9));
  const double big = std::max(std::fabs(a.lo), std::fabs(a.hi));
  const bool scientific = step_exp < -5 || big >= 1e6;
  const int sig = std::clamp(static_cast<int>(std::floor(std::log10(big) + 1e-9)) - step_exp, 0, 15);
  for (int i = 0; i <= 100; ++i) {
    double v = a.lo + i * step;
    if (v > a.hi + step * 1e-6) break;
    if (std::fabs(v) < step * 1e-6) v = 0.0;
    a.major.push_back(v);
    a.labels.push_back(scientific ? format_number(v, std::chars_format::scientific, sig)
                                  : format_number(v, std::chars_format::fixed, std::max(0, -step_exp)));
  }
  return a;
}

Axis log_axis(double lo, double hi) {
  Axis a;
  a.log = true;
  if (hi < lo) std::swap(lo, hi);
  int e0 = static_cast<int>(std::floor(std::log10(lo) + 1e-12));
  int e1 = static_cast<int>(std::ceil(std::log10(hi) - 1e-12));
  e0 = std::clamp(e0, -300, 300);
  e1 = std::clamp(e1, -300, 300);
  if (e1 <= e0) e1 = e0 + 1;
  a.lo = std::pow(10.0, e0);
  a.hi = std::pow(10.0, e1);
  const int decades = e1 - e0;
  const int stride = (decades + 7) / 8;
  for (int e = e0; e <= e1; e += stride) {
    a.major.push_back(std::pow(10.0, e));
    a.labels.push_back(e >= -3 && e <= 4 ? format_number(std::pow(10.0, e), std::chars_format::fixed, std::max(0, -e))
                                         : concat("1e", e));
    if (stride == 1 && decades <= 6 && e < e1) {
      for (int m = 2; m <= 9; ++m) a.minor.push_back(m * std::pow(10.0, e));
    }
  }
  return a;
}

/// Fraction [0,1] of the axis span at which v lies.
double axis_fraction(const Axis& a, double v) {
  if (a.log) return (std::log10(v) - std::log10(a.lo)) / (std::log10(a.hi) - std::log10(a.lo));
  return (v - a.lo) / (a.hi - a.lo);
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"') out.push_back('"');
    out.push_back(ch);
  }
  out.push_back('"');
  return out;
}

}  // namespace

// -----------------------------------------------------------------------------------------------------------------

void write_frame_grid_png(const std::string& path, const std::vector<std::vector<Image>>& rows,
                          const std::vector<std::string>& row_labels, const std::vector<std::string>& col_labels,
                          const std::string& title, int scale) {
  constexpr const char* kWho = "write_frame_grid_png";
  using L = GridLayout;
  if (rows.empty()) throw DataError(concat(kWho, ": no rows to draw for '", path, "'"));
  if (scale < 1) throw DataError(concat(kWho, ": scale must be >= 1, got ", scale));
  size_t ncols = 0;
  for (const auto& row : rows) ncols = std::max(ncols, row.size());
  if (ncols == 0) throw DataError(concat(kWho, ": every row is empty, nothing to draw for '", path, "'"));
  if (!row_labels.empty() && row_labels.size() != rows.size()) {
    throw DataError(concat(kWho, ": ", row_labels.size(), " row labels for ", rows.size(), " rows"));
  }
  if (!col_labels.empty() && col_labels.size() != ncols) {
    throw DataError(concat(kWho, ": ", col_labels.size(), " column labels for ", ncols, " columns"));
  }
  int64_t max_w = 0, max_h = 0;
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t k = 0; k < rows[r].size(); ++k) {
      check_image(rows[r][k], concat(kWho, ": frame (", r, ", ", k, ")"));
      max_w = std::max(max_w, rows[r][k].w);
      max_h = std::max(max_h, rows[r][k].h);
    }
  }
  if (max_w * scale > L::kMaxSide || max_h * scale > L::kMaxSide) {
    throw DataError(concat(kWho, ": a ", max_h, "x", max_w, " frame at scale ", scale, " exceeds ", L::kMaxSide,
                        " pixels per side"));
  }

  // Measure text on a scratch surface to size the label column, the columns and the title band.
  constexpr double kLabelFont = 12.0, kTitleFont = 15.0;
  int64_t cell_w = max_w * scale;
  const int64_t cell_h = max_h * scale;
  int64_t label_w = 0;
  double title_w = 0.0;
  {
    SurfacePtr scratch = make_surface(1, 1, kWho);
    ContextPtr cr = make_context(scratch.get(), kWho);
    set_font(cr.get(), kLabelFont, false);
    double widest = -1.0;
    for (const auto& s : row_labels) {
      if (!s.empty()) widest = std::max(widest, text_width(cr.get(), s));
    }
    if (widest >= 0.0) label_w = static_cast<int64_t>(std::ceil(widest)) + L::kLabelPad;
    for (const auto& s : col_labels) {
      if (!s.empty()) cell_w = std::max(cell_w, static_cast<int64_t>(std::ceil(text_width(cr.get(), s))) + L::kColLabelPad);
    }
    set_font(cr.get(), kTitleFont, true);
    title_w = text_width(cr.get(), title);
    check_context(cr.get(), kWho);
  }
  const int64_t title_h = title.empty() ? 0 : L::kTitleH;
  const int64_t header_h = col_labels.empty() ? 0 : L::kHeaderH;
  const auto n_c = static_cast<int64_t>(ncols), n_r = static_cast<int64_t>(rows.size());
  int64_t width = 2 * L::kMargin + label_w + n_c * cell_w + (n_c - 1) * L::kGap;
  width = std::max(width, static_cast<int64_t>(std::ceil(title_w)) + 2 * L::kMargin);
  const int64_t height = 2 * L::kMargin + title_h + header_h + n_r * cell_h + (n_r - 1) * L::kGap;
  if (width > L::kMaxSide || height > L::kMaxSide) {
    throw DataError(concat(kWho, ": grid of ", n_r, "x", n_c, " cells needs a ", width, "x", height,
                        " canvas, above the limit of ", L::kMaxSide, " pixels per side"),
                    "reduce the number of frames or the scale");
  }

  SurfacePtr surface = make_surface(static_cast<int>(width), static_cast<int>(height), kWho);
  ContextPtr cr = make_context(surface.get(), kWho);
  cairo_set_source_rgb(cr.get(), 1.0, 1.0, 1.0);
  cairo_paint(cr.get());
  check_context(cr.get(), kWho);

  // Frames are written straight into the pixel buffer (exact nearest-neighbour enlargement).
  cairo_surface_flush(surface.get());
  unsigned char* data = cairo_image_surface_get_data(surface.get());
  const int stride = cairo_image_surface_get_stride(surface.get());
  const int64_t grid_x = L::kMargin + label_w, grid_y = L::kMargin + title_h + header_h;
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t k = 0; k < rows[r].size(); ++k) {
      const Image& im = rows[r][k];
      const int64_t iw = im.w * scale, ih = im.h * scale;
      const int64_t x0 = grid_x + static_cast<int64_t>(k) * (cell_w + L::kGap) + (cell_w - iw) / 2;
      const int64_t y0 = grid_y + static_cast<int64_t>(r) * (cell_h + L::kGap) + (cell_h - ih) / 2;
      for (int64_t y = 0; y < ih; ++y) {
        auto* line = reinterpret_cast<uint32_t*>(data + (y0 + y) * stride) + x0;
        for (int64_t x = 0; x < iw; ++x) line[x] = pixel_rgb(im, y / scale, x / scale);
      }
    }
  }
  cairo_surface_mark_dirty(surface.get());

  // A 1-pixel light outline just outside each frame (inside the gap) keeps white frames visible.
  cairo_set_source_rgb(cr.get(), 0.8, 0.8, 0.8);
  cairo_set_line_width(cr.get(), 1.0);
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t k = 0; k < rows[r].size(); ++k) {
      const int64_t iw = rows[r][k].w * scale, ih = rows[r][k].h * scale;
      const int64_t x0 = grid_x + static_cast<int64_t>(k) * (cell_w + L::kGap) + (cell_w - iw) / 2;
      const int64_t y0 = grid_y + static_cast<int64_t>(r) * (cell_h + L::kGap) + (cell_h - ih) / 2;
      cairo_rectangle(cr.get(), static_cast<double>(x0) - 0.5, static_cast<double>(y0) - 0.5,
                      static_cast<double>(iw) + 1.0, static_cast<double>(ih) + 1.0);
    }
  }
  cairo_stroke(cr.get());

  cairo_set_source_rgb(cr.get(), 0.0, 0.0, 0.0);
  if (!title.empty()) {
    set_font(cr.get(), kTitleFont, true);
    draw_text(cr.get(), title, static_cast<double>(width) / 2.0, L::kMargin + L::kTitleH / 2.0, Align::kCenter);
  }
  set_font(cr.get(), kLabelFont, false);
  for (size_t k = 0; k < col_labels.size(); ++k) {
    const double cx = static_cast<double>(grid_x + static_cast<int64_t>(k) * (cell_w + L::kGap)) + cell_w / 2.0;
    draw_text(cr.get(), col_labels[k], cx, static_cast<double>(L::kMargin + title_h) + L::kHeaderH / 2.0,
              Align::kCenter);
  }
  for (size_t r = 0; r < row_labels.size(); ++r) {
    const double cy = static_cast<double>(grid_y + static_cast<int64_t>(r) * (cell_h + L::kGap)) + cell_h / 2.0;
    draw_text(cr.get(), row_labels[r], L::kMargin, cy, Align::kLeft);
  }
  check_context(cr.get(), kWho);
  save_png(surface.get(), path);
}

void write_gif(const std::string& path, const std::vector<Image>& frames, int delay_cs, int scale) {
  constexpr const char* kWho = "write_gif";
  if (frames.empty()) throw DataError(concat(kWho, ": no frames to write to '", path, "'"));
  if (scale < 1) throw DataError(concat(kWho, ": scale must be >= 1, got ", scale));
  if (delay_cs < 0 || delay_cs > 65535) throw DataError(concat(kWho, ": delay must be in [0, 65535] cs, got ", delay_cs));
  for (size_t i = 0; i < frames.size(); ++i) {
    check_image(frames[i], concat(kWho, ": frame ", i));
    if (frames[i].c != frames[0].c || frames[i].h != frames[0].h || frames[i].w != frames[0].w) {
      throw DataError(concat(kWho, ": frame ", i, " has shape ", frames[i].c, "x", frames[i].h, "x", frames[i].w,
                          " but frame 0 has ", frames[0].c, "x", frames[0].h, "x", frames[0].w));
    }
  }
  const Image& f0 = frames[0];
  const int64_t gw = f0.w * scale, gh = f0.h * scale;
  if (gw > 65535 || gh > 65535) {
    throw DataError(concat(kWho, ": scaled frame ", gh, "x", gw, " exceeds the GIF limit of 65535 pixels per side"));
  }

  std::vector<uint8_t> out;
  const char* magic = "GIF89a";
  out.insert(out.end(), magic, magic + 6);
  put_u16(out, static_cast<uint32_t>(gw));
  put_u16(out, static_cast<uint32_t>(gh));
  out.push_back(0xF7);  // global colour table, 8-bit colour resolution, 256 entries
  out.push_back(0);     // background colour index
  out.push_back(0);     // pixel aspect ratio
  for (int i = 0; i < 256; ++i) {
    std::array<int, 3> rgb{0, 0, 0};
    if (f0.c == 1) {
      rgb = {i, i, i};
    } else if (i < 252) {
      rgb = {static_cast<int>(std::lround((i / 42) * 255.0 / 5.0)),
             static_cast<int>(std::lround(((i / 6) % 7) * 255.0 / 6.0)),
             static_cast<int>(std::lround((i % 6) * 255.0 / 5.0))};
    }
    for (int v : rgb) out.push_back(static_cast<uint8_t>(v));
  }
  // NETSCAPE2.0 application extension: loop forever.
  const uint8_t loop[] = {0x21, 0xFF, 0x0B, 'N', 'E', 'T', 'S', 'C', 'A', 'P', 'E', '2', '.', '0', 0x03, 0x01, 0x00,
                          0x00, 0x00};
  out.insert(out.end(), std::begin(loop), std::end(loop));

  std::vector<uint8_t> indices(static_cast<size_t>(gw * gh));
  const size_t plane = static_cast<size_t>(f0.h * f0.w);
  for (const Image& im : frames) {
    for (int64_t y = 0; y < gh; ++y) {
      for (int64_t x = 0; x < gw; ++x) {
        const size_t src = static_cast<size_t>((y / scale) * im.w + x / scale);
        uint8_t idx;
        if (im.c == 1) {
          idx = to_byte(im.v[src]);
        } else {
          idx = static_cast<uint8_t>(42 * to_level(im.v[src], 6) + 6 * to_level(im.v[plane + src], 7) +
                                     to_level(im.v[2 * plane + src], 6));
        }
        indices[static_cast<size_t>(y * gw + x)] = idx;
      }
    }
    // Graphic control extension: disposal "do not dispose", delay, no transparency.
    out.insert(out.end(), {0x21, 0xF9, 0x04, 0x04});
    put_u16(out, static_cast<uint32_t>(delay_cs));
    out.insert(out.end(), {0x00, 0x00});
    // Image descriptor: full canvas, no local colour table, not interlaced.
    out.push_back(0x2C);
    put_u16(out, 0);
    put_u16(out, 0);
    put_u16(out, static_cast<uint32_t>(gw));
    put_u16(out, static_cast<uint32_t>(gh));
    out.push_back(0x00);
    out.push_back(8);  // LZW minimum code size
    const std::vector<uint8_t> codes = lzw_encode(indices);
    for (size_t p = 0; p < codes.size(); p += 255) {
      const size_t n = std::min<size_t>(255, codes.size() - p);
      out.push_back(static_cast<uint8_t>(n));
      out.insert(out.end(), codes.begin() + static_cast<std::ptrdiff_t>(p),
                 codes.begin() + static_cast<std::ptrdiff_t>(p + n));
    }
    out.push_back(0x00);  // block terminator
  }
  out.push_back(0x3B);  // trailer

  FilePtr f = open_for_write(path);
  write_all(f.get(), out.data(), out.size(), path);
  close_checked(f, path);
}

Image hstack(const std::vector<Image>& parts, int gap) {
  if (parts.empty()) throw DataError("hstack: no images to stack");
  if (gap < 0) throw DataError(concat("hstack: gap must be >= 0, got ", gap));
  int64_t total_w = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    check_image(parts[i], concat("hstack: part ", i));
    if (parts[i].c != parts[0].c || parts[i].h != parts[0].h) {
      throw DataError(concat("hstack: part ", i, " has c=", parts[i].c, ", h=", parts[i].h, " but part 0 has c=",
                          parts[0].c, ", h=", parts[0].h));
    }
    total_w += parts[i].w;
  }
  total_w += static_cast<int64_t>(gap) * static_cast<int64_t>(parts.size() - 1);
  if (total_w > kMaxFrameSide) throw DataError(concat("hstack: result width ", total_w, " is too large"));
  Image out;
  out.c = parts[0].c;
  out.h = parts[0].h;
  out.w = total_w;
  out.v.assign(static_cast<size_t>(out.c * out.h * out.w), 1.0f);
  int64_t x0 = 0;
  for (const Image& p : parts) {
    for (int64_t ch = 0; ch < out.c; ++ch) {
      for (int64_t y = 0; y < out.h; ++y) {
        const auto src = p.v.begin() + static_cast<std::ptrdiff_t>((ch * p.h + y) * p.w);
        std::copy(src, src + static_cast<std::ptrdiff_t>(p.w),
                  out.v.begin() + static_cast<std::ptrdiff_t>((ch * out.h + y) * out.w + x0));
      }
    }
    x0 += p.w + gap;
  }
  return out;
}

void write_line_plot_png(const std::string& path, const std::vector<Series>& series, const std::string& title,
                         const std::string& xlabel, const std::string& ylabel, bool log_y) {
  constexpr const char* kWho = "write_line_plot_png";
  if (series.empty()) throw DataError(concat(kWho, ": no series to plot for '", path, "'"));
  for (size_t s = 0; s < series.size(); ++s) {
    if (series[s].x.size() != series[s].y.size()) {
      throw DataError(concat(kWho, ": series ", s, " ('", series[s].name, "') has ", series[s].x.size(), " x values but ",
                          series[s].y.size(), " y values"));
    }
  }
  const auto plottable = [log_y](double x, double y) {
    return std::isfinite(x) && std::isfinite(y) && (!log_y || y > 0.0);
  };
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
  for (const Series& s : series) {
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!plottable(s.x[i], s.y[i])) continue;
      xmin = std::min(xmin, s.x[i]);
      xmax = std::max(xmax, s.x[i]);
      ymin = std::min(ymin, s.y[i]);
      ymax = std::max(ymax, s.y[i]);
    }
  }
  const bool any = xmin <= xmax;
  if (!any) {
    xmin = 0.0;
    xmax = 1.0;
    ymin = log_y ? 1.0 : 0.0;
    ymax = log_y ? 10.0 : 1.0;
  }
  const Axis ax = linear_axis(xmin, xmax);
  const Axis ay = log_y ? log_axis(ymin, ymax) : linear_axis(ymin, ymax);

  constexpr int kW = 800, kH = 500;
  constexpr double left = 80.5, right = kW - 20.5, top = 40.5, bottom = kH - 60.5;
  const auto px = [&](double x) { return left + axis_fraction(ax, x) * (right - left); };
  const auto py = [&](double y) { return bottom - axis_fraction(ay, y) * (bottom - top); };

  SurfacePtr surface = make_surface(kW, kH, kWho);
  ContextPtr cr_owner = make_context(surface.get(), kWho);
  cairo_t* cr = cr_owner.get();
  cairo_set_source_rgb(cr, 1.0, 1.0, 1.0);
  cairo_paint(cr);

  // Grid lines and ticks: a light line across the plot, a black tick outside it (major ticks longer and darker).
  cairo_set_line_width(cr, 1.0);
  const auto segment = [&](double r, double g, double b, double x0, double y0, double x1, double y1) {
    cairo_set_source_rgb(cr, r, g, b);
    cairo_move_to(cr, x0, y0);
    cairo_line_to(cr, x1, y1);
    cairo_stroke(cr);
  };
  for (bool major : {false, true}) {
    const double grey = major ? 0.9 : 0.96, tick = major ? 5.0 : 3.0;
    for (double v : major ? ax.major : ax.minor) {
      const double x = std::round(px(v) - 0.5) + 0.5;
      segment(grey, grey, grey, x, top, x, bottom);
      segment(0.0, 0.0, 0.0, x, bottom, x, bottom + tick);
    }
    for (double v : major ? ay.major : ay.minor) {
      const double y = std::round(py(v) - 0.5) + 0.5;
      segment(grey, grey, grey, left, y, right, y);
      segment(0.0, 0.0, 0.0, left - tick, y, left, y);
    }
  }
  cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
  cairo_rectangle(cr, left, top, right - left, bottom - top);
  cairo_stroke(cr);

  // Tick labels, axis labels, title.
  set_font(cr, 11.0, false);
  for (size_t i = 0; i < ax.major.size(); ++i) draw_text(cr, ax.labels[i], px(ax.major[i]), bottom + 15.0, Align::kCenter);
  for (size_t i = 0; i < ay.major.size(); ++i) draw_text(cr, ay.labels[i], left - 8.0, py(ay.major[i]), Align::kRight);
  set_font(cr, 13.0, false);
  draw_text(cr, xlabel, (left + right) / 2.0, bottom + 40.0, Align::kCenter);
  draw_vertical_text(cr, ylabel, 16.0, (top + bottom) / 2.0);
  set_font(cr, 16.0, true);
  draw_text(cr, title, kW / 2.0, top / 2.0, Align::kCenter);

  // Series: polylines broken at skipped points, isolated points as dots, clipped to the plot area.
  cairo_save(cr);
  cairo_rectangle(cr, left, top, right - left, bottom - top);
  cairo_clip(cr);
  cairo_set_line_width(cr, 1.8);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  for (size_t s = 0; s < series.size(); ++s) {
    const auto& col = kCategoryColours[s % kCategoryColours.size()];
    cairo_set_source_rgb(cr, col[0], col[1], col[2]);
    const Series& se = series[s];
    size_t i = 0;
    while (i < se.x.size()) {
      if (!plottable(se.x[i], se.y[i])) {
        ++i;
        continue;
      }
      size_t j = i;
      while (j + 1 < se.x.size() && plottable(se.x[j + 1], se.y[j + 1])) ++j;
      if (j == i) {
        cairo_new_sub_path(cr);
        cairo_arc(cr, px(se.x[i]), py(se.y[i]), 2.5, 0.0, 2.0 * kPi);
        cairo_fill(cr);
      } else {
        cairo_move_to(cr, px(se.x[i]), py(se.y[i]));
        for (size_t k = i + 1; k <= j; ++k) cairo_line_to(cr, px(se.x[k]), py(se.y[k]));
        cairo_stroke(cr);
      }
      i = j + 1;
    }
  }
  cairo_restore(cr);
  if (!any) {
    cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
    set_font(cr, 13.0, false);
    draw_text(cr, "no finite data", (left + right) / 2.0, (top + bottom) / 2.0, Align::kCenter);
  }

  // Legend in the top-right corner of the plot area.
  set_font(cr, 11.0, false);
  std::vector<std::string> names;
  double name_w = 0.0;
  for (size_t s = 0; s < series.size(); ++s) {
    names.push_back(series[s].name.empty() ? concat("series ", s) : series[s].name);
    name_w = std::max(name_w, text_width(cr, names.back()));
  }
  constexpr double kRowH = 16.0, kSwatch = 22.0, kPad = 6.0;
  const double box_w = kPad + kSwatch + 6.0 + name_w + kPad;
  const double box_h = kPad * 2.0 + kRowH * static_cast<double>(names.size());
  const double bx = right - 8.0 - box_w, by = top + 8.0;
  cairo_rectangle(cr, bx, by, box_w, box_h);
  cairo_set_source_rgba(cr, 1.0, 1.0, 1.0, 0.85);
  cairo_fill_preserve(cr);
  cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
  cairo_set_line_width(cr, 1.0);
  cairo_stroke(cr);
  for (size_t s = 0; s < names.size(); ++s) {
    const double cy = by + kPad + kRowH * (static_cast<double>(s) + 0.5);
    const auto& col = kCategoryColours[s % kCategoryColours.size()];
    cairo_set_source_rgb(cr, col[0], col[1], col[2]);
    cairo_set_line_width(cr, 2.5);
    cairo_move_to(cr, bx + kPad, cy);
    cairo_line_to(cr, bx + kPad + kSwatch, cy);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
    draw_text(cr, names[s], bx + kPad + kSwatch + 6.0, cy, Align::kLeft);
  }
  check_context(cr, kWho);
  save_png(surface.get(), path);

  // The plotted data as CSV next to the PNG.
  std::string csv = "series,x,y\n";
  for (const Series& s : series) {
    const std::string name = csv_field(s.name);
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      csv += name;
      csv += ',';
      csv += shortest(s.x[i]);
      csv += ',';
      csv += shortest(s.y[i]);
      csv += '\n';
    }
  }
  write_text_file(csv_path_for(path), csv);
}

}  // namespace latdyn::eval
