// SPDX-License-Identifier: MIT
// Private helpers shared by the picture code (image.cpp, image_plot2d.cpp): RAII for cairo and FILE*, checked
// file writing, UTF-8-safe text drawing, PNG saving and number formatting. Not part of the public API (it lives
// under src/, not include/). Implemented in image_cairo.cpp.
#pragma once

#include <cairo.h>

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdio>
#include <memory>
#include <string>

namespace latdyn::eval::detail {

// ---------------------------------------------------------------------------------------------------------------
// RAII for cairo objects and FILE*.

struct SurfaceDeleter {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct ContextDeleter {
  void operator()(cairo_t* c) const { cairo_destroy(c); }
};
struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f != nullptr) std::fclose(f);
  }
};
using SurfacePtr = std::unique_ptr<cairo_surface_t, SurfaceDeleter>;
using ContextPtr = std::unique_ptr<cairo_t, ContextDeleter>;
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

inline constexpr const char* kWriteHint =
    "check that the parent directory exists and is writable, and that the disk is not full";
inline constexpr double kPi = 3.14159265358979323846;

/// Category colours (matplotlib's tab10), used for line-plot series and categorical scatter points.
inline constexpr std::array<std::array<double, 3>, 10> kCategoryColours = {{{0.122, 0.467, 0.706},
                                                                            {1.000, 0.498, 0.055},
                                                                            {0.173, 0.627, 0.173},
                                                                            {0.839, 0.153, 0.157},
                                                                            {0.580, 0.404, 0.741},
                                                                            {0.549, 0.337, 0.294},
                                                                            {0.890, 0.467, 0.761},
                                                                            {0.498, 0.498, 0.498},
                                                                            {0.737, 0.741, 0.133},
                                                                            {0.090, 0.745, 0.812}}};

// ---------------------------------------------------------------------------------------------------------------
// Files. Failures throw IoError with the OS reason and kWriteHint.

/// Opens `path` for binary writing.
FilePtr open_for_write(const std::string& path);
/// Writes n bytes (nothing when n == 0).
void write_all(std::FILE* f, const void* data, size_t n, const std::string& path);
/// Closes the file, reporting any earlier stream error or a failing fclose.
void close_checked(FilePtr& file, const std::string& path);
/// open_for_write + write_all + close_checked.
void write_text_file(const std::string& path, const std::string& text);
/// The CSV written beside a PNG: the same path with the extension replaced by ".csv".
std::string csv_path_for(const std::string& png_path);

// ---------------------------------------------------------------------------------------------------------------
// Text.

/// Keeps valid UTF-8 (cairo rejects invalid strings and enters an error state), maps control characters to spaces
/// and any invalid byte to '?'.
std::string sanitize_text(const std::string& s);

enum class Align { kLeft, kCenter, kRight };

void set_font(cairo_t* cr, double size, bool bold);
/// Horizontal advance of `s` (sanitised) in the current font; 0 for an empty string.
double text_width(cairo_t* cr, const std::string& s);
/// Draws `s` with its vertical centre at y_mid; x is the left edge, centre or right edge per `align`.
void draw_text(cairo_t* cr, const std::string& s, double x, double y_mid, Align align);
/// Text rotated by −90° (reading bottom to top), centred on (x, y); nothing for an empty string.
void draw_vertical_text(cairo_t* cr, const std::string& s, double x, double y);

// ---------------------------------------------------------------------------------------------------------------
// Surfaces and PNG. `who` prefixes error messages (the public function's name).

SurfacePtr make_surface(int w, int h, const char* who);
ContextPtr make_context(cairo_surface_t* s, const char* who);
/// Throws Error when the context is in an error state.
void check_context(cairo_t* cr, const char* who);
/// Writes the surface as PNG; the file is opened by us so that an unwritable path reports the OS reason.
void save_png(cairo_surface_t* s, const std::string& path);

// ---------------------------------------------------------------------------------------------------------------
// Numbers.

std::string format_number(double v, std::chars_format fmt, int precision);
/// Shortest round-trip decimal; "nan", "inf", "-inf" for non-finite values.
std::string shortest(double v);
/// A "nice" number near x (1, 2 or 5 times a power of ten): rounded when `round`, else the ceiling.
double nice_number(double x, bool round);

}  // namespace latdyn::eval::detail
