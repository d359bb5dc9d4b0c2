// SPDX-License-Identifier: MIT
// Tests for latdyn/eval/plot2d.hpp: scatter and heatmap PNGs (size and sample pixels read back with cairo), the CSV
// beside them, deterministic subsampling, overlays, and DataError/IoError on bad input.
#include "latdyn/eval/plot2d.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "latdyn/core/error.hpp"
#include "support.hpp"

namespace {

using latdyn::eval::HeatmapStyle;
using latdyn::eval::Plot2dLayout;
using latdyn::eval::ScatterStyle;
using latdyn::test::png_pixel;
using latdyn::test::png_size;
namespace ev = latdyn::eval;

std::string tmp_path(const std::string& name) { return ::testing::TempDir() + "latdyn_test_plot2d_" + name; }

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) out.push_back(line);
  return out;
}

uint32_t viridis_rgb(double t) {
  double rgb[3];
  ev::colour_map_viridis(t, rgb);
  uint32_t out = 0;
  for (double c : rgb) out = (out << 8) | static_cast<uint32_t>(std::lround(c * 255.0));
  return out;
}

/// Per-channel difference of at most 2 (cairo's fills may round colours differently from lround).
void expect_rgb_near(int64_t got, uint32_t want) {
  ASSERT_GE(got, 0);
  for (int shift : {16, 8, 0}) {
    EXPECT_NEAR(static_cast<int>((got >> shift) & 0xFF), static_cast<int>((want >> shift) & 0xFF), 2)
        << std::hex << got << " vs " << want;
  }
}

template <typename F>
void expect_data_error(F&& f, const std::string& needle) {
  try {
    f();
    FAIL() << "expected DataError mentioning '" << needle << "'";
  } catch (const latdyn::DataError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(Plot2d, ViridisEndpoints) {
  EXPECT_EQ(viridis_rgb(0.0), 0x440154u);
  EXPECT_EQ(viridis_rgb(1.0), 0xFDE725u);
  EXPECT_EQ(viridis_rgb(-3.0), 0x440154u);
  EXPECT_EQ(viridis_rgb(std::nan("")), 0x440154u);
}

TEST(Plot2dScatter, ContinuousColourPngAndCsv) {
  std::vector<double> x, y, c;
  for (int i = 0; i < 3000; ++i) {  // a spiral coloured by time
    const double t = i / 300.0;
    x.push_back(t * std::cos(t));
    y.push_back(t * std::sin(t));
    c.push_back(i);
  }
  x[5] = std::nan("");  // skipped
  c[7] = std::nan("");  // drawn grey, written as nan
  const std::string path = tmp_path("scatter.png");
  ev::write_scatter_png(path, x, y, c, "latent trajectory", "z1", "z2", "frame");
  EXPECT_EQ(png_size(path), std::make_pair(Plot2dLayout::kWidth, Plot2dLayout::kHeight));
  const std::vector<std::string> csv = lines(read_text(tmp_path("scatter.csv")));
  ASSERT_EQ(csv.size(), 1u + 2999u);
  EXPECT_EQ(csv[0], "x,y,c");
  EXPECT_EQ(csv[1], "0,0,0");
  EXPECT_NEAR(std::stod(csv[6].substr(0, csv[6].find(','))), 0.02 * std::cos(0.02), 1e-15);  // point 6 (5 skipped)
  EXPECT_EQ(csv[7].substr(csv[7].rfind(',')), ",nan");
  // The colour bar's bottom is the map's first colour, its top the last.
  const int bar_x = Plot2dLayout::kBarLeft + Plot2dLayout::kBarWidth / 2;
  expect_rgb_near(png_pixel(path, bar_x, Plot2dLayout::kBottom - 1), viridis_rgb(0.0));
  expect_rgb_near(png_pixel(path, bar_x, Plot2dLayout::kTop), viridis_rgb(1.0));
  EXPECT_EQ(png_pixel(path, 5, 5), 0xFFFFFF);
}

TEST(Plot2dScatter, SubsamplingIsDeterministicAndBounded) {
  std::vector<double> x, y;
  for (int i = 0; i < 50000; ++i) {
    x.push_back(std::sin(i * 0.01));
    y.push_back(std::cos(i * 0.013));
  }
  ScatterStyle st;
  st.max_points = 20000;
  ev::write_scatter_png(tmp_path("sub_a.png"), x, y, {}, "", "", "", "", st);
  ev::write_scatter_png(tmp_path("sub_b.png"), x, y, {}, "", "", "", "", st);
  const std::string a = read_text(tmp_path("sub_a.csv"));
  const std::vector<std::string> rows = lines(a);
  ASSERT_EQ(rows.size(), 20001u);
  EXPECT_EQ(rows[0], "x,y");
  EXPECT_EQ(a, read_text(tmp_path("sub_b.csv")));
  EXPECT_EQ(read_text(tmp_path("sub_a.png")), read_text(tmp_path("sub_b.png")));
  // Row k is point floor(k·50000/20000): k = 2 -> point 5.
  EXPECT_NEAR(std::stod(rows[3].substr(0, rows[3].find(','))), std::sin(5 * 0.01), 1e-15);
}

TEST(Plot2dScatter, Categories) {
  std::vector<double> x, y, c;
  for (int i = 0; i < 600; ++i) {
    const int k = i % 3;
    x.push_back(k * 3.0 + std::cos(i) * 0.5);
    y.push_back(std::sin(i * 1.7) * 0.5);
    c.push_back(k == 2 ? 100.0 : -k);  // arbitrary integer labels
  }
  ScatterStyle st;
  st.categorical = true;
  ev::write_scatter_png(tmp_path("cat.png"), x, y, c, "wells", "x", "y", "well", st);
  EXPECT_EQ(png_size(tmp_path("cat.png")), std::make_pair(Plot2dLayout::kWidth, Plot2dLayout::kHeight));
  EXPECT_EQ(lines(read_text(tmp_path("cat.csv"))).size(), 601u);
  c[4] = 0.5;
  expect_data_error([&] { ev::write_scatter_png(tmp_path("cat.png"), x, y, c, "", "", "", "", st); }, "not an integer");
}

TEST(Plot2dScatter, Errors) {
  const std::vector<double> a = {1.0, 2.0}, b = {1.0};
  expect_data_error([&] { ev::write_scatter_png(tmp_path("e.png"), {}, {}, {}, "", "", "", ""); }, "no points");
  expect_data_error([&] { ev::write_scatter_png(tmp_path("e.png"), a, b, {}, "", "", "", ""); },
                    "x has 2 values but y has 1");
  expect_data_error([&] { ev::write_scatter_png(tmp_path("e.png"), a, a, b, "", "", "", ""); },
                    "1 colour values for 2 points");
  ScatterStyle st;
  st.max_points = 0;
  expect_data_error([&] { ev::write_scatter_png(tmp_path("e.png"), a, a, {}, "", "", "", "", st); }, "max_points");
  EXPECT_THROW(ev::write_scatter_png("/nonexistent_dir/x.png", a, a, {}, "", "", "", ""), latdyn::IoError);
}

/// A 2-D Gaussian-well free energy on a grid, with the corners masked.
std::vector<std::vector<double>> bowl(int nx, int ny) {
  std::vector<std::vector<double>> g(static_cast<size_t>(ny), std::vector<double>(static_cast<size_t>(nx)));
  for (int iy = 0; iy < ny; ++iy) {
    for (int ix = 0; ix < nx; ++ix) {
      const double x = -3.0 + 6.0 * (ix + 0.5) / nx, y = -2.0 + 4.0 * (iy + 0.5) / ny;
      const double f = 0.5 * x * x + y * y;
      g[static_cast<size_t>(iy)][static_cast<size_t>(ix)] = f > 5.0 ? std::nan("") : f;
    }
  }
  return g;
}

TEST(Plot2dHeatmap, CellsMaskAndCsv) {
  // 4 x 2 grid: row 0 (bottom) = {0, 1, 2, 3}, row 1 = {NaN, 5, 6, 7}.
  const double nan = std::nan("");
  const std::vector<std::vector<double>> g = {{0, 1, 2, 3}, {nan, 5, 6, 7}};
  const std::string path = tmp_path("heat.png");
  ev::write_heatmap_png(path, g, 0.0, 4.0, 10.0, 12.0, "F", "z1", "z2", "F [kT]");
  EXPECT_EQ(png_size(path), std::make_pair(Plot2dLayout::kWidth, Plot2dLayout::kHeight));
  const double L = Plot2dLayout::kLeft, R = Plot2dLayout::kRightWithBar, T = Plot2dLayout::kTop,
               B = Plot2dLayout::kBottom;
  const auto centre = [&](int ix, int iy) {
    return std::make_pair(static_cast<int>(L + (ix + 0.5) * (R - L) / 4), static_cast<int>(B - (iy + 0.5) * (B - T) / 2));
  };
  const auto at = [&](int ix, int iy) {
    const auto [px, py] = centre(ix, iy);
    return png_pixel(path, px, py);
  };
  EXPECT_EQ(at(0, 0), viridis_rgb(0.0));
  EXPECT_EQ(at(3, 1), viridis_rgb(1.0));
  EXPECT_EQ(at(1, 1), viridis_rgb(5.0 / 7.0));
  EXPECT_EQ(at(0, 1), 0xD9D9D9);  // masked
  const std::vector<std::string> csv = lines(read_text(tmp_path("heat.csv")));
  ASSERT_EQ(csv.size(), 9u);
  EXPECT_EQ(csv[0], "x,y,value");
  EXPECT_EQ(csv[1], "0.5,10.5,0");
  EXPECT_EQ(csv[5], "0.5,11.5,nan");
  EXPECT_EQ(csv[8], "3.5,11.5,7");
}

TEST(Plot2dHeatmap, FilledContoursQuiverEllipses) {
  const int nx = 100, ny = 100;
  HeatmapStyle st;
  st.filled_contours = true;
  st.levels = 10;
  st.equal_aspect = true;
  for (int iy = 0; iy < 10; ++iy) {
    for (int ix = 0; ix < 10; ++ix) {
      const double x = -2.4 + 4.8 * ix / 9.0, y = -1.6 + 3.2 * iy / 9.0;
      st.quiver.x.push_back(x);
      st.quiver.y.push_back(y);
      st.quiver.u.push_back(-x);  // force = −∇F
      st.quiver.v.push_back(-2.0 * y);
      st.ellipses.x.push_back(x);
      st.ellipses.y.push_back(y);
      st.ellipses.rx.push_back(1.0);
      st.ellipses.ry.push_back(1.0);
    }
  }
  st.ellipses.scale = 0.1;
  const std::string path = tmp_path("fes.png");
  ev::write_heatmap_png(path, bowl(nx, ny), -3.0, 3.0, -2.0, 2.0, "free energy", "z1", "z2", "F [k_BT]", st);
  EXPECT_EQ(png_size(path), std::make_pair(Plot2dLayout::kWidth, Plot2dLayout::kHeight));
  EXPECT_EQ(lines(read_text(tmp_path("fes.csv"))).size(), 1u + nx * ny);
  // Banded colour bar: only `levels` distinct colours along it.
  std::vector<int64_t> seen;
  const int bar_x = Plot2dLayout::kBarLeft + Plot2dLayout::kBarWidth / 2;
  for (int y = Plot2dLayout::kTop; y < Plot2dLayout::kBottom; ++y) {  // the bar is as tall as the (shrunk) plot
    const int64_t p = png_pixel(path, bar_x, y);
    if (p == 0xFFFFFF || p == 0x000000) continue;  // background and outline
    if (seen.empty() || seen.back() != p) seen.push_back(p);
  }
  EXPECT_EQ(seen.size(), 10u);
  // No overlays given and auto colour range from a constant grid still works.
  ev::write_heatmap_png(tmp_path("const.png"), {{1.0, 1.0}, {1.0, 1.0}}, 0, 1, 0, 1, "", "", "", "");
  EXPECT_EQ(png_size(tmp_path("const.png")), std::make_pair(Plot2dLayout::kWidth, Plot2dLayout::kHeight));
}

TEST(Plot2dHeatmap, Errors) {
  const std::vector<std::vector<double>> g = {{0, 1}, {2, 3}};
  expect_data_error([&] { ev::write_heatmap_png(tmp_path("e.png"), {}, 0, 1, 0, 1, "", "", "", ""); }, "empty grid");
  expect_data_error([&] { ev::write_heatmap_png(tmp_path("e.png"), {{}}, 0, 1, 0, 1, "", "", "", ""); }, "empty grid");
  expect_data_error([&] { ev::write_heatmap_png(tmp_path("e.png"), {{0, 1}, {2}}, 0, 1, 0, 1, "", "", "", ""); },
                    "ragged grid: row 1 has 1 values but row 0 has 2");
  expect_data_error([&] { ev::write_heatmap_png(tmp_path("e.png"), g, 1, 1, 0, 1, "", "", "", ""); }, "bad range");
  expect_data_error([&] { ev::write_heatmap_png(tmp_path("e.png"), g, 0, 1, 0, std::nan(""), "", "", "", ""); },
                    "bad range");
  HeatmapStyle st;
  st.quiver.x = {0.5};
  st.quiver.y = {0.5};
  st.quiver.u = {1.0, 2.0};
  st.quiver.v = {1.0};
  expect_data_error([&] { ev::write_heatmap_png(tmp_path("e.png"), g, 0, 1, 0, 1, "", "", "", "", st); },
                    "quiver vectors differ in length: x has 1 entries but u has 2");
  HeatmapStyle se;
  se.ellipses.x = {0.5};
  expect_data_error([&] { ev::write_heatmap_png(tmp_path("e.png"), g, 0, 1, 0, 1, "", "", "", "", se); }, "ellipse");
  HeatmapStyle sl;
  sl.filled_contours = true;
  sl.levels = 1;
  expect_data_error([&] { ev::write_heatmap_png(tmp_path("e.png"), g, 0, 1, 0, 1, "", "", "", "", sl); }, "levels");
  HeatmapStyle sv;
  sv.v_min = 2.0;
  sv.v_max = 1.0;
  expect_data_error([&] { ev::write_heatmap_png(tmp_path("e.png"), g, 0, 1, 0, 1, "", "", "", "", sv); }, "v_max");
  EXPECT_THROW(ev::write_heatmap_png("/nonexistent_dir/x.png", g, 0, 1, 0, 1, "", "", "", ""), latdyn::IoError);
}

}  // namespace
