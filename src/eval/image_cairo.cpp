// SPDX-License-Identifier: MIT
// Shared helpers of the picture code (see cairo_util.hpp). Torch-free (part of latdyn_base); named image_*.cpp so
// that the torch library's src/eval/[!i]*.cpp glob does not pick it up a second time.
#include "cairo_util.hpp"

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>

#include "latdyn/core/error.hpp"

namespace latdyn::eval::detail {
namespace {

constexpr const char* kFontFamily = "sans";

cairo_status_t png_write_callback(void* closure, const unsigned char* data, unsigned int length) {
  auto* f = static_cast<std::FILE*>(closure);
  return std::fwrite(data, 1, length, f) == length ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// Files.

FilePtr open_for_write(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    const int e = errno;
    throw IoError(concat("cannot open '", path, "' for writing: ", std::strerror(e)), kWriteHint);
  }
  return FilePtr(f);
}

void write_all(std::FILE* f, const void* data, size_t n, const std::string& path) {
  if (n > 0 && std::fwrite(data, 1, n, f) != n) {
    const int e = errno;
    throw IoError(concat("failed writing '", path, "': ", std::strerror(e)), kWriteHint);
  }
}

void close_checked(FilePtr& file, const std::string& path) {
  std::FILE* f = file.release();
  const bool had_error = std::ferror(f) != 0;
  if (std::fclose(f) != 0 || had_error) {
    throw IoError(concat("failed to finish writing '", path, "'"), kWriteHint);
  }
}

void write_text_file(const std::string& path, const std::string& text) {
  FilePtr f = open_for_write(path);
  write_all(f.get(), text.data(), text.size(), path);
  close_checked(f, path);
}

std::string csv_path_for(const std::string& png_path) {
  return std::filesystem::path(png_path).replace_extension(".csv").string();
}

// ---------------------------------------------------------------------------------------------------------------
// Text.

std::string sanitize_text(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      out.push_back(b < 0x20 || b == 0x7F ? ' ' : static_cast<char>(b));
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if ((b & 0xE0) == 0xC0) {
      len = 2;
      cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3;
      cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4;
      cp = b & 0x07;
    }
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      const auto cb = static_cast<unsigned char>(s[i + k]);
      ok = (cb & 0xC0) == 0x80;
      cp = (cp << 6) | (cb & 0x3F);
    }
    const uint32_t min_cp = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    ok = ok && cp >= min_cp && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    if (ok) {
      out.append(s, i, len);
      i += len;
    } else {
      out.push_back('?');
      ++i;
    }
  }
  return out;
}

void set_font(cairo_t* cr, double size, bool bold) {
  cairo_select_font_face(cr, kFontFamily, CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}

double text_width(cairo_t* cr, const std::string& s) {
  if (s.empty()) return 0.0;
  const std::string t = sanitize_text(s);
  cairo_text_extents_t e;
  cairo_text_extents(cr, t.c_str(), &e);
  return e.x_advance;
}

void draw_text(cairo_t* cr, const std::string& s, double x, double y_mid, Align align) {
  if (s.empty()) return;
  const std::string t = sanitize_text(s);
  cairo_text_extents_t e;
  cairo_text_extents(cr, t.c_str(), &e);
  cairo_font_extents_t fe;
  cairo_font_extents(cr, &fe);
  const double x0 = align == Align::kLeft ? x : align == Align::kCenter ? x - e.x_advance / 2.0 : x - e.x_advance;
  cairo_move_to(cr, x0, y_mid + (fe.ascent - fe.descent) / 2.0);
  cairo_show_text(cr, t.c_str());
}

void draw_vertical_text(cairo_t* cr, const std::string& s, double x, double y) {
  if (s.empty()) return;
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_rotate(cr, -kPi / 2.0);
  draw_text(cr, s, 0.0, 0.0, Align::kCenter);
  cairo_restore(cr);
}

// ---------------------------------------------------------------------------------------------------------------
// Surfaces and PNG.

SurfacePtr make_surface(int w, int h, const char* who) {
  SurfacePtr s(cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h));
  const cairo_status_t st = cairo_surface_status(s.get());
  if (st != CAIRO_STATUS_SUCCESS) {
    throw Error(concat(who, ": cannot create a ", w, "x", h, " cairo surface: ", cairo_status_to_string(st)));
  }
  return s;
}

ContextPtr make_context(cairo_surface_t* s, const char* who) {
  ContextPtr cr(cairo_create(s));
  const cairo_status_t st = cairo_status(cr.get());
  if (st != CAIRO_STATUS_SUCCESS) {
    throw Error(concat(who, ": cannot create a cairo context: ", cairo_status_to_string(st)));
  }
  return cr;
}

void check_context(cairo_t* cr, const char* who) {
  const cairo_status_t st = cairo_status(cr);
  if (st != CAIRO_STATUS_SUCCESS) throw Error(concat(who, ": drawing failed: ", cairo_status_to_string(st)));
}

void save_png(cairo_surface_t* s, const std::string& path) {
  cairo_surface_flush(s);
  const cairo_status_t sst = cairo_surface_status(s);
  if (sst != CAIRO_STATUS_SUCCESS) {
    throw Error(concat("cannot write PNG '", path, "': surface in error state: ", cairo_status_to_string(sst)));
  }
  FilePtr f = open_for_write(path);
  const cairo_status_t st = cairo_surface_write_to_png_stream(s, png_write_callback, f.get());
  if (st != CAIRO_STATUS_SUCCESS) {
    throw IoError(concat("failed to write PNG '", path, "': ", cairo_status_to_string(st)), kWriteHint);
  }
  close_checked(f, path);
}

// ---------------------------------------------------------------------------------------------------------------
// Numbers.

std::string format_number(double v, std::chars_format fmt, int precision) {
  std::array<char, 64> buf{};
  const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v, fmt, precision);
  return std::string(buf.data(), res.ptr);
}

std::string shortest(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::array<char, 64> buf{};
  const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return std::string(buf.data(), res.ptr);
}

double nice_number(double x, bool round) {
  const double e = std::floor(std::log10(x));
  const double p = std::pow(10.0, e);
  const double f = x / p;
  double nf;
  if (round) {
    nf = f < 1.5 ? 1.0 : f < 3.0 ? 2.0 : f < 7.0 ? 5.0 : 10.0;
  } else {
    nf = f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0;
  }
  return nf * p;
}

}  // namespace latdyn::eval::detail
