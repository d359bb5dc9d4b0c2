// SPDX-License-Identifier: MIT
// Tests for latdyn/eval/image.hpp: grid and line-plot PNG layout (read back with cairo), GIF round trip through an
// independent GIF/LZW decoder written here, hstack, CSV side output, and error types.
#include "latdyn/eval/image.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "latdyn/core/error.hpp"
#include "support.hpp"

namespace {

using latdyn::eval::GridLayout;
using latdyn::eval::Image;
using latdyn::eval::Series;
using latdyn::test::png_pixel;
using latdyn::test::png_size;

std::string tmp_path(const std::string& name) { return ::testing::TempDir() + "latdyn_test_image_" + name; }

Image gray(int64_t h, int64_t w, float value) {
  Image im;
  im.c = 1;
  im.h = h;
  im.w = w;
  im.v.assign(static_cast<size_t>(h * w), value);
  return im;
}

Image noise(int64_t c, int64_t h, int64_t w, std::mt19937& rng, int levels) {
  Image im;
  im.c = c;
  im.h = h;
  im.w = w;
  std::uniform_int_distribution<int> d(0, levels - 1);
  for (int64_t i = 0; i < c * h * w; ++i) im.v.push_back(static_cast<float>(d(rng)) / static_cast<float>(levels - 1));
  return im;
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// ------------------------------------------------------------------------------------------------
// Independent GIF decoder (only what the writer is expected to produce, strict about structure).

struct DecodedFrame {
  int w = 0, h = 0, delay = -1;
  std::vector<uint8_t> idx;
};
struct DecodedGif {
  int w = 0, h = 0;
  std::vector<uint8_t> palette;  // 3 bytes per entry
  int loop_count = -1;           // from NETSCAPE2.0; -1 when absent
  std::vector<DecodedFrame> frames;
  int clear_codes = 0;  // over all frames
  int max_code_bits = 0;
  bool ok = false;
  std::string error;
};

class ByteReader {
 public:
  explicit ByteReader(const std::vector<uint8_t>& b) : b_(b) {}
  bool has(size_t n) const { return pos_ + n <= b_.size(); }
  uint8_t u8() { return b_.at(pos_++); }
  int u16() {
    const int lo = u8();
    return lo | (u8() << 8);
  }
  size_t pos() const { return pos_; }
  size_t size() const { return b_.size(); }
  /// Concatenated data of a sub-block sequence (up to and including the 0 terminator).
  std::vector<uint8_t> sub_blocks() {
    std::vector<uint8_t> out;
    for (;;) {
      const uint8_t n = u8();
      if (n == 0) return out;
      for (int i = 0; i < n; ++i) out.push_back(u8());
    }
  }

 private:
  const std::vector<uint8_t>& b_;
  size_t pos_ = 0;
};

/// Textbook GIF LZW decoder: code size grows when the next free entry reaches 2^size (max 12 bits), the table
/// stops growing at 4096 entries, KwKwK handled. Returns false on any malformed stream.
bool lzw_decode(const std::vector<uint8_t>& data, int min_bits, std::vector<uint8_t>& out, int& clears,
                int& max_bits, std::string& err) {
  const int clear = 1 << min_bits, eoi = clear + 1;
  std::vector<int> prefix(4096, -1), suffix(4096, 0);
  for (int i = 0; i < clear; ++i) suffix[static_cast<size_t>(i)] = i;
  size_t bitpos = 0;
  int bits = min_bits + 1, next = eoi + 1, prev = -1;
  bool seen_clear = false;
  const auto expand = [&](int code) {
    std::vector<uint8_t> s;
    for (int c = code; c != -1; c = prefix[static_cast<size_t>(c)]) s.push_back(static_cast<uint8_t>(suffix[static_cast<size_t>(c)]));
    return std::vector<uint8_t>(s.rbegin(), s.rend());
  };
  for (;;) {
    if (bitpos + static_cast<size_t>(bits) > data.size() * 8) {
      err = "code stream ended without EOI";
      return false;
    }
    int code = 0;
    for (int i = 0; i < bits; ++i, ++bitpos) {
      if ((data[bitpos / 8] >> (bitpos % 8)) & 1) code |= 1 << i;
    }
    max_bits = std::max(max_bits, bits);
    if (code == clear) {
      ++clears;
      seen_clear = true;
      bits = min_bits + 1;
      next = eoi + 1;
      prev = -1;
      continue;
    }
    if (!seen_clear) {
      err = "stream does not start with a clear code";
      return false;
    }
    if (code == eoi) {
      // Padding after EOI must fit in the last byte.
      if ((bitpos + 7) / 8 != data.size()) {
        err = "data after EOI";
        return false;
      }
      return true;
    }
    if (prev == -1) {
      if (code >= clear) {
        err = "first code after clear is not a literal";
        return false;
      }
      out.push_back(static_cast<uint8_t>(code));
      prev = code;
      continue;
    }
    std::vector<uint8_t> entry;
    if (code < next) {
      entry = expand(code);
    } else if (code == next) {
      entry = expand(prev);
      entry.push_back(entry[0]);
    } else {
      err = "code " + std::to_string(code) + " beyond table end " + std::to_string(next);
      return false;
    }
    out.insert(out.end(), entry.begin(), entry.end());
    if (next < 4096) {
      prefix[static_cast<size_t>(next)] = prev;
      suffix[static_cast<size_t>(next)] = entry[0];
      ++next;
      if (next == (1 << bits) && bits < 12) ++bits;
    }
    prev = code;
  }
}

DecodedGif decode_gif(const std::vector<uint8_t>& bytes) {
  DecodedGif g;
  ByteReader r(bytes);
  try {
    if (bytes.size() < 13 || std::string(bytes.begin(), bytes.begin() + 6) != "GIF89a") {
      g.error = "bad header";
      return g;
    }
    for (int i = 0; i < 6; ++i) r.u8();
    g.w = r.u16();
    g.h = r.u16();
    const uint8_t packed = r.u8();
    r.u8();
    r.u8();
    if (packed & 0x80) {
      const size_t n = size_t{1} << ((packed & 7) + 1);
      for (size_t i = 0; i < 3 * n; ++i) g.palette.push_back(r.u8());
    }
    int pending_delay = -1;
    for (;;) {
      const uint8_t tag = r.u8();
      if (tag == 0x3B) {
        g.ok = r.pos() == r.size();
        if (!g.ok) g.error = "bytes after trailer";
        return g;
      }
      if (tag == 0x21) {
        const uint8_t label = r.u8();
        if (label == 0xF9) {
          const std::vector<uint8_t> d = r.sub_blocks();
          if (d.size() != 4) {
            g.error = "bad graphic control extension";
            return g;
          }
          pending_delay = d[1] | (d[2] << 8);
        } else if (label == 0xFF) {
          const std::vector<uint8_t> d = r.sub_blocks();
          if (d.size() == 14 && std::string(d.begin(), d.begin() + 11) == "NETSCAPE2.0" && d[11] == 1) {
            g.loop_count = d[12] | (d[13] << 8);
          }
        } else {
          r.sub_blocks();
        }
        continue;
      }
      if (tag != 0x2C) {
        g.error = "unexpected block tag " + std::to_string(tag);
        return g;
      }
      DecodedFrame f;
      const int left = r.u16(), top = r.u16();
      f.w = r.u16();
      f.h = r.u16();
      const uint8_t ipacked = r.u8();
      if (left != 0 || top != 0 || (ipacked & 0x40)) {
        g.error = "unexpected offset or interlace";
        return g;
      }
      if (ipacked & 0x80) {
        g.error = "unexpected local colour table";
        return g;
      }
      const int min_bits = r.u8();
      const std::vector<uint8_t> data = r.sub_blocks();
      if (!lzw_decode(data, min_bits, f.idx, g.clear_codes, g.max_code_bits, g.error)) return g;
      f.delay = pending_delay;
      pending_delay = -1;
      g.frames.push_back(std::move(f));
    }
  } catch (const std::out_of_range&) {
    g.error = "truncated file";
    return g;
  }
}

/// Expected grayscale indices of `im` enlarged by `scale`.
std::vector<uint8_t> expected_gray(const Image& im, int scale) {
  std::vector<uint8_t> out;
  for (int64_t y = 0; y < im.h * scale; ++y) {
    for (int64_t x = 0; x < im.w * scale; ++x) {
      const float v = im.v[static_cast<size_t>((y / scale) * im.w + x / scale)];
      out.push_back(static_cast<uint8_t>(std::lround(std::clamp(static_cast<double>(v), 0.0, 1.0) * 255.0)));
    }
  }
  return out;
}

void expect_gray_round_trip(const std::vector<Image>& frames, int scale, int delay, const std::string& name,
                            DecodedGif* decoded_out = nullptr) {
  const std::string path = tmp_path(name);
  latdyn::eval::write_gif(path, frames, delay, scale);
  const std::vector<uint8_t> bytes = read_bytes(path);
  ASSERT_GE(bytes.size(), 14u);
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 6), "GIF89a");
  EXPECT_EQ(bytes.back(), 0x3B);
  const DecodedGif g = decode_gif(bytes);
  ASSERT_TRUE(g.ok) << g.error;
  EXPECT_EQ(g.w, frames[0].w * scale);
  EXPECT_EQ(g.h, frames[0].h * scale);
  EXPECT_EQ(g.loop_count, 0);
  ASSERT_EQ(g.palette.size(), 768u);
  for (int i = 0; i < 256; ++i) {
    EXPECT_EQ(g.palette[static_cast<size_t>(3 * i)], i);
    EXPECT_EQ(g.palette[static_cast<size_t>(3 * i + 2)], i);
  }
  ASSERT_EQ(g.frames.size(), frames.size());
  for (size_t k = 0; k < frames.size(); ++k) {
    EXPECT_EQ(g.frames[k].delay, delay);
    EXPECT_EQ(g.frames[k].w, g.w);
    EXPECT_EQ(g.frames[k].h, g.h);
    EXPECT_TRUE(g.frames[k].idx == expected_gray(frames[k], scale)) << "frame " << k << " differs";
  }
  if (decoded_out != nullptr) *decoded_out = g;
}

// ------------------------------------------------------------------------------------------------

TEST(ImageGrid, SizeMatchesLayoutWithoutLabels) {
  std::vector<std::vector<Image>> rows(2);
  for (auto& row : rows) {
    for (int k = 0; k < 3; ++k) row.push_back(gray(7, 5, 0.5f));
  }
  Image red;
  red.c = 3;
  red.h = 7;
  red.w = 5;
  red.v.assign(3 * 7 * 5, 0.0f);
  for (int i = 0; i < 35; ++i) red.v[static_cast<size_t>(i)] = 1.0f;
  rows[1][2] = red;
  const int scale = 3;
  const std::string path = tmp_path("grid_plain.png");
  latdyn::eval::write_frame_grid_png(path, rows, {}, {}, "", scale);
  const int M = GridLayout::kMargin, G = GridLayout::kGap;
  const int cw = 5 * scale, ch = 7 * scale;
  EXPECT_EQ(png_size(path), std::make_pair(2 * M + 3 * cw + 2 * G, 2 * M + 2 * ch + G));
  EXPECT_EQ(png_pixel(path, M, M), 0x808080);                                        // frame (0,0), 0.5 gray
  EXPECT_EQ(png_pixel(path, M + cw + 1, M + 3), 0xFFFFFF);  // middle of the gap is white (frames are outlined)
  EXPECT_EQ(png_pixel(path, M + 2 * (cw + G) + cw - 1, M + ch + G + ch - 1), 0xFF0000);  // frame (1,2), red
}

TEST(ImageGrid, SizeWithTitleHeaderAndRowLabels) {
  std::vector<std::vector<Image>> rows = {{gray(16, 16, 0.2f), gray(16, 16, 0.8f)}, {gray(16, 16, 1.0f)}};
  const int scale = 4;
  const std::string path = tmp_path("grid_labels.png");
  latdyn::eval::write_frame_grid_png(path, rows, {"truth", "model"}, {"t=0", "t=1"}, "rollout", scale);
  const int M = GridLayout::kMargin, G = GridLayout::kGap;
  const auto [w, h] = png_size(path);
  EXPECT_EQ(h, 2 * M + GridLayout::kTitleH + GridLayout::kHeaderH + 2 * 64 + G);
  EXPECT_GT(w, 2 * M + 2 * 64 + G + GridLayout::kLabelPad);  // a label column was added
  EXPECT_LT(w, 2 * M + 2 * 64 + G + 200);
}

TEST(ImageGrid, Errors) {
  const std::string ok = tmp_path("grid_err.png");
  EXPECT_THROW(latdyn::eval::write_frame_grid_png(ok, {}, {}, {}, "", 1), latdyn::DataError);
  EXPECT_THROW(latdyn::eval::write_frame_grid_png(ok, {{}, {}}, {}, {}, "", 1), latdyn::DataError);
  Image bad = gray(4, 4, 0.5f);
  bad.v.pop_back();
  EXPECT_THROW(latdyn::eval::write_frame_grid_png(ok, {{bad}}, {}, {}, "", 1), latdyn::DataError);
  EXPECT_THROW(latdyn::eval::write_frame_grid_png(ok, {{gray(4, 4, 0.5f)}}, {"a", "b"}, {}, "", 1),
               latdyn::DataError);
  EXPECT_THROW(latdyn::eval::write_frame_grid_png(ok, {{gray(4, 4, 0.5f)}}, {}, {"a", "b"}, "", 1),
               latdyn::DataError);
  EXPECT_THROW(latdyn::eval::write_frame_grid_png(ok, {{gray(4, 4, 0.5f)}}, {}, {}, "", 0), latdyn::DataError);
  try {
    latdyn::eval::write_frame_grid_png("/nonexistent_dir/x.png", {{gray(4, 4, 0.5f)}}, {}, {}, "", 1);
    FAIL() << "expected IoError";
  } catch (const latdyn::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent_dir/x.png"), std::string::npos);
    EXPECT_FALSE(e.hint().empty());
  }
}

TEST(ImageGif, GrayNoiseRoundTripExercisesCodeGrowthAndReset) {
  std::mt19937 rng(12345);
  std::vector<Image> frames;
  for (int k = 0; k < 4; ++k) frames.push_back(noise(1, 64, 64, rng, 256));
  frames.push_back(gray(64, 64, 0.25f));  // constant frame: long runs, KwKwK codes
  Image ramp = gray(64, 64, 0.0f);        // non-integral values: index must be round(v*255)
  std::uniform_real_distribution<float> u(-0.2f, 1.2f);
  for (float& v : ramp.v) v = u(rng);
  frames.push_back(ramp);
  DecodedGif g;
  expect_gray_round_trip(frames, 1, 7, "noise.gif", &g);
  EXPECT_EQ(g.max_code_bits, 12);
  // One clear per frame at the start; high-entropy 64x64 frames fill the 4096-entry table at least once more.
  EXPECT_GT(g.clear_codes, static_cast<int>(frames.size()) + 3);
}

TEST(ImageGif, LowEntropyLargeFrameAndScale) {
  std::mt19937 rng(7);
  std::vector<Image> frames;
  for (int k = 0; k < 3; ++k) frames.push_back(noise(1, 90, 130, rng, 3));
  DecodedGif g;
  expect_gray_round_trip(frames, 2, 10, "lowentropy.gif", &g);
  EXPECT_EQ(g.max_code_bits, 12);
}

TEST(ImageGif, TinyAndConstantFrames) {
  expect_gray_round_trip({gray(1, 1, 0.0f)}, 1, 0, "tiny.gif");
  expect_gray_round_trip({gray(1, 1, 1.0f), gray(1, 1, 0.5f)}, 3, 5, "tiny_scaled.gif");
  expect_gray_round_trip({gray(200, 200, 1.0f)}, 1, 5, "constant.gif");
  std::vector<Image> grow;
  for (int n = 0; n < 3; ++n) {  // sizes whose code counts land near the 9->10->11 bit boundaries
    Image im = gray(1, 255 + n, 0.0f);
    for (size_t i = 0; i < im.v.size(); ++i) im.v[i] = static_cast<float>(i % 256) / 255.0f;
    expect_gray_round_trip({im}, 1, 1, "boundary" + std::to_string(n) + ".gif");
  }
}

TEST(ImageGif, RgbUsesNearestPaletteColour) {
  std::mt19937 rng(99);
  std::vector<Image> frames;
  for (int k = 0; k < 3; ++k) frames.push_back(noise(3, 40, 50, rng, 256));
  const std::string path = tmp_path("rgb.gif");
  latdyn::eval::write_gif(path, frames, 4, 1);
  const DecodedGif g = decode_gif(read_bytes(path));
  ASSERT_TRUE(g.ok) << g.error;
  ASSERT_EQ(g.frames.size(), 3u);
  const double tol[3] = {255.0 / 10.0 + 1.0, 255.0 / 12.0 + 1.0, 255.0 / 10.0 + 1.0};
  for (size_t k = 0; k < 3; ++k) {
    const Image& im = frames[k];
    for (int64_t i = 0; i < im.h * im.w; ++i) {
      const uint8_t idx = g.frames[k].idx[static_cast<size_t>(i)];
      ASSERT_LT(idx, 252);
      for (int c = 0; c < 3; ++c) {
        const double want = im.v[static_cast<size_t>(c * im.h * im.w + i)] * 255.0;
        const double got = g.palette[static_cast<size_t>(3 * idx + c)];
        ASSERT_LE(std::fabs(want - got), tol[c]) << "frame " << k << " pixel " << i << " channel " << c;
      }
    }
  }
}

TEST(ImageGif, Errors) {
  EXPECT_THROW(latdyn::eval::write_gif(tmp_path("e.gif"), {}, 5, 1), latdyn::DataError);
  EXPECT_THROW(latdyn::eval::write_gif(tmp_path("e.gif"), {gray(4, 4, 0.f), gray(4, 5, 0.f)}, 5, 1),
               latdyn::DataError);
  EXPECT_THROW(latdyn::eval::write_gif(tmp_path("e.gif"), {gray(4, 4, 0.f)}, -1, 1), latdyn::DataError);
  EXPECT_THROW(latdyn::eval::write_gif("/nonexistent_dir/x.gif", {gray(4, 4, 0.f)}, 5, 1), latdyn::IoError);
}

TEST(ImageHstack, LayoutAndGap) {
  Image a = gray(2, 3, 0.1f), b = gray(2, 1, 0.7f);
  const Image s = latdyn::eval::hstack({a, b}, 2);
  EXPECT_EQ(s.c, 1);
  EXPECT_EQ(s.h, 2);
  EXPECT_EQ(s.w, 6);
  const std::vector<float> row = {0.1f, 0.1f, 0.1f, 1.0f, 1.0f, 0.7f};
  for (int y = 0; y < 2; ++y) {
    for (int x = 0; x < 6; ++x) EXPECT_FLOAT_EQ(s.v[static_cast<size_t>(y * 6 + x)], row[static_cast<size_t>(x)]);
  }
  EXPECT_THROW(latdyn::eval::hstack({}, 1), latdyn::DataError);
  EXPECT_THROW(latdyn::eval::hstack({a, gray(3, 1, 0.f)}, 1), latdyn::DataError);
  EXPECT_THROW(latdyn::eval::hstack({a, b}, -1), latdyn::DataError);
}

size_t count_lines(const std::string& path, std::string* header) {
  std::ifstream in(path);
  std::string line;
  size_t n = 0;
  if (std::getline(in, line)) *header = line;
  while (std::getline(in, line)) ++n;
  return n;
}

TEST(ImageLinePlot, PngAndCsv) {
  const double nan = std::nan(""), inf = HUGE_VAL;
  Series a{"train loss", {}, {}}, b{"val, loss", {}, {}};
  for (int i = 0; i < 50; ++i) {
    a.x.push_back(i * 100);
    a.y.push_back(2.0 * std::exp(-i / 10.0) + 0.01);
    b.x.push_back(i * 100);
    b.y.push_back(i == 20 ? nan : 2.5 * std::exp(-i / 12.0) + 0.02);
  }
  a.y[30] = inf;
  b.x[40] = nan;
  Series lone{"", {5.0}, {0.5}};
  const std::string path = tmp_path("plot.png");
  latdyn::eval::write_line_plot_png(path, {a, b, lone}, "training", "step", "loss", false);
  EXPECT_EQ(png_size(path), std::make_pair(800, 500));
  std::string header;
  EXPECT_EQ(count_lines(tmp_path("plot.csv"), &header), 49u + 48u + 1u);
  EXPECT_EQ(header, "series,x,y");
  std::ifstream in(tmp_path("plot.csv"));
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_NE(ss.str().find("\"val, loss\",0,2.52"), std::string::npos);
  EXPECT_NE(ss.str().find("train loss,100,"), std::string::npos);
}

TEST(ImageLinePlot, LogScaleSkipsNonPositive) {
  Series s{"err", {}, {}};
  for (int i = 0; i <= 40; ++i) {
    s.x.push_back(i * 0.025);
    s.y.push_back(i == 10 ? 0.0 : i == 11 ? -1.0 : std::pow(10.0, -i / 8.0));
  }
  const std::string path = tmp_path("plot_log.png");
  latdyn::eval::write_line_plot_png(path, {s}, "energy drift", "time", "|dE|", true);
  EXPECT_EQ(png_size(path), std::make_pair(800, 500));
  std::string header;
  EXPECT_EQ(count_lines(tmp_path("plot_log.csv"), &header), 41u);  // CSV keeps every finite point
  // All points unusable: still draws empty axes.
  latdyn::eval::write_line_plot_png(tmp_path("plot_empty.png"), {Series{"none", {1.0}, {-1.0}}}, "", "", "", true);
  EXPECT_EQ(png_size(tmp_path("plot_empty.png")), std::make_pair(800, 500));
}

TEST(ImageLinePlot, Errors) {
  EXPECT_THROW(latdyn::eval::write_line_plot_png(tmp_path("p.png"), {}, "", "", "", false), latdyn::DataError);
  EXPECT_THROW(latdyn::eval::write_line_plot_png(tmp_path("p.png"), {Series{"a", {1.0, 2.0}, {1.0}}}, "", "", "", false),
               latdyn::DataError);
  EXPECT_THROW(
      latdyn::eval::write_line_plot_png("/nonexistent_dir/x.png", {Series{"a", {1.0}, {1.0}}}, "", "", "", false),
      latdyn::IoError);
}

}  // namespace
