// SPDX-License-Identifier: MIT
// DynAE benchmark systems (datasets.md §8-§10): three-well data and surrogate statistics, sprite rule and walk,
// blob motion statistics, camera noise and normalisation, determinism per seed.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>

#include "latdyn/core/error.hpp"
#include "latdyn/data/npy.hpp"
#include "latdyn/sim/blob.hpp"
#include "latdyn/sim/sprites.hpp"
#include "latdyn/sim/three_well.hpp"

using namespace latdyn;
namespace fs = std::filesystem;

namespace {

const std::string kThreeWellDir = std::string(LATDYN_SOURCE_DIR) + "/../shared/data/three_well";

bool three_well_files_present() {
  return fs::exists(kThreeWellDir + "/three_state_traj_data200k.npy") &&
         fs::exists(kThreeWellDir + "/three_state_transformed_traj_data200k.npy");
}

/// Per-axis variance of one-frame increments of xy [T * 2].
std::array<double, 2> increment_variance(const double* xy, int64_t m) {
  std::array<double, 2> v{};
  for (int a = 0; a < 2; ++a) {
    double s = 0, s2 = 0;
    for (int64_t k = 0; k + 1 < m; ++k) {
      const double d = xy[2 * (k + 1) + a] - xy[2 * k + a];
      s += d, s2 += d * d;
    }
    const double n = static_cast<double>(m - 1);
    v[a] = s2 / n - (s / n) * (s / n);
  }
  return v;
}

struct SectorStats { double pop[3] = {0, 0, 0}; double changes = 0; };
SectorStats sector_stats(const at::Tensor& well) {
  const int64_t* w = well.data_ptr<int64_t>();
  const int64_t m = well.numel();
  SectorStats s;
  for (int64_t k = 0; k < m; ++k) {
    s.pop[w[k]] += 1.0 / static_cast<double>(m);
    if (k > 0 && w[k] != w[k - 1]) s.changes += 1.0 / static_cast<double>(m - 1);
  }
  return s;
}

}  // namespace

// ------------------------------------------------------------------------------------------------ three-well (§8)

TEST(ThreeWellOfficial, LoadsShapesWarpAndIncrementVariance) {
  if (!three_well_files_present()) GTEST_SKIP() << "official three-well files not found in " << kThreeWellDir;
  auto o = sim::ThreeWellOptions::from_json({{"type", "three_well"}, {"data_dir", kThreeWellDir}});
  EXPECT_EQ(o.frames, 199999);
  data::Dataset ds = sim::ThreeWell(o).generate();
  ds.validate("three_well official");
  const int64_t m = 199999;
  EXPECT_EQ(ds.y.sizes(), (std::vector<int64_t>{1, m, 2}));
  EXPECT_EQ(ds.y.scalar_type(), at::kFloat);
  EXPECT_EQ(ds.t.sizes(), (std::vector<int64_t>{1, m}));
  EXPECT_DOUBLE_EQ(ds.t[0][12345].item<double>(), 123.45);
  EXPECT_EQ(ds.split.sizes(), (std::vector<int64_t>{1}));
  EXPECT_EQ(ds.split[0].item<int64_t>(), 0);
  ASSERT_TRUE(ds.truth.count("xy") && ds.truth.count("well"));
  EXPECT_EQ(ds.truth["xy"].sizes(), (std::vector<int64_t>{1, m, 2}));
  EXPECT_EQ(ds.truth["well"].sizes(), (std::vector<int64_t>{1, m}));
  EXPECT_EQ(ds.truth.count("U"), 0u);  // no analytic potential behind the official file
  EXPECT_DOUBLE_EQ(o.to_json().at("latent_scale").get<double>(), 10.0);

  // The observed file is exactly the warp (x, y + x^2) of the ground truth (datasets.md §8.1).
  const data::Array raw = data::read_npy(kThreeWellDir + "/three_state_traj_data200k.npy");
  const data::Array obs = data::read_npy(kThreeWellDir + "/three_state_transformed_traj_data200k.npy");
  ASSERT_EQ(raw.shape, (std::vector<int64_t>{m, 2}));
  const double *a = raw.data<double>(), *b = obs.data<double>();
  const double* xy = ds.truth["xy"].data_ptr<double>();
  const float* y = ds.y.data_ptr<float>();
  int64_t mismatches = 0;
  for (int64_t k = 0; k < m; ++k) {
    const double x = a[2 * k], yy = a[2 * k + 1];
    mismatches += (b[2 * k] != x || b[2 * k + 1] != yy + x * x) ? 1 : 0;
    mismatches += (xy[2 * k] != x || xy[2 * k + 1] != yy) ? 1 : 0;
    mismatches += (y[2 * k] != static_cast<float>(b[2 * k]) || y[2 * k + 1] != static_cast<float>(b[2 * k + 1])) ? 1 : 0;
  }
  EXPECT_EQ(mismatches, 0);

  const auto v = increment_variance(xy, m);  // reference statistics of datasets.md §8.2
  EXPECT_NEAR(v[0], 0.0185, 0.0185 * 0.03);
  EXPECT_NEAR(v[1], 0.0185, 0.0185 * 0.03);
  const SectorStats s = sector_stats(ds.truth["well"]);
  EXPECT_NEAR(s.pop[0], 0.40, 0.02);  // top
  EXPECT_NEAR(s.pop[1], 0.33, 0.02);  // left
  EXPECT_NEAR(s.pop[2], 0.27, 0.02);  // right
  EXPECT_NEAR(s.changes, 0.014, 0.003);
}

TEST(ThreeWellOfficial, MissingFilesAreADataErrorWithAHint) {
  auto o = sim::ThreeWellOptions::from_json({{"type", "three_well"}, {"data_dir", "/nonexistent/three_well"}});
  try {
    sim::ThreeWell(o).generate();
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("three_state_traj_data200k.npy"), std::string::npos) << e.what();
    EXPECT_NE(e.hint().find("source=surrogate"), std::string::npos) << e.hint();
  }
}

TEST(ThreeWellOptions, ProfilesValidationAndRoundTrip) {
  auto q = sim::ThreeWellOptions::from_json({{"type", "three_well"}, {"profile", "quick"}});
  EXPECT_EQ(q.frames, 20000);
  auto s = sim::ThreeWellOptions::from_json({{"type", "three_well"}, {"source", "surrogate"}});
  EXPECT_EQ(s.frames, 200000);
  EXPECT_EQ(s.save_every, 10);
  EXPECT_DOUBLE_EQ(s.dt / static_cast<double>(s.save_every), 1e-3);
  EXPECT_EQ(s.burn_in, 1000);
  const json j = s.to_json();
  EXPECT_EQ(sim::ThreeWellOptions::from_json(j).to_json(), j);  // resolved options parse back unchanged
  EXPECT_THROW(sim::ThreeWellOptions::from_json({{"type", "three_well"}, {"sourse", "surrogate"}}), ConfigError);
  EXPECT_THROW(sim::ThreeWellOptions::from_json({{"type", "three_well"}, {"source", "synthetic"}}), ConfigError);
  EXPECT_THROW(sim::ThreeWellOptions::from_json({{"type", "three_well"}, {"latent_scale", 5.0}}), ConfigError);
  EXPECT_EQ(sim::simulators().create({{"type", "three_well"}})->options().at("type"), "three_well");
}

TEST(ThreeWellSurrogate, PotentialMinimumAndGradient) {
  double best = 1e300, bx = 0, by = 0;
  for (int i = -300; i <= 300; ++i)
    for (int j = -300; j <= 300; ++j) {
      const double x = 0.01 * i, y = 0.01 * j, u = sim::three_well_potential(x, y);
      if (u < best) best = u, bx = x, by = y;
    }
  // The three wells are equally deep by symmetry; the grid picks the one on the +y axis or a rotated copy.
  const double r = std::hypot(bx, by);
  EXPECT_NEAR(r, 1.48, 0.03);
  EXPECT_NEAR(sim::three_well_potential(0.0, 1.48), best, 1e-3);
  EXPECT_NEAR(sim::three_well_potential(0.0, 0.0) - best, 2.3, 0.15);
  const auto g = sim::three_well_gradient(0.0, 1.48);
  EXPECT_NEAR(g[0], 0.0, 1e-9);
  EXPECT_NEAR(g[1], 0.0, 0.2);  // stationary to the grid resolution
  for (auto p : {std::array<double, 2>{0.3, -0.7}, std::array<double, 2>{-1.2, 0.4}, std::array<double, 2>{1.7, -1.1}}) {
    const double h = 1e-6;
    const auto gp = sim::three_well_gradient(p[0], p[1]);
    EXPECT_NEAR(gp[0], (sim::three_well_potential(p[0] + h, p[1]) - sim::three_well_potential(p[0] - h, p[1])) / (2 * h), 1e-6);
    EXPECT_NEAR(gp[1], (sim::three_well_potential(p[0], p[1] + h) - sim::three_well_potential(p[0], p[1] - h)) / (2 * h), 1e-6);
  }
  EXPECT_EQ(sim::three_well_sector(0.0, 1.5), 0);
  EXPECT_EQ(sim::three_well_sector(-1.3, -0.75), 1);
  EXPECT_EQ(sim::three_well_sector(1.3, -0.75), 2);
}

TEST(ThreeWellSurrogate, ShortRunStatistics) {
  auto o = sim::ThreeWellOptions::from_json({{"type", "three_well"}, {"source", "surrogate"}, {"frames", 60000}});
  data::Dataset ds = sim::ThreeWell(o).generate();
  ds.validate("three_well surrogate");
  const int64_t m = 60000;
  EXPECT_EQ(ds.y.sizes(), (std::vector<int64_t>{1, m, 2}));
  ASSERT_TRUE(ds.truth.count("U"));
  const double* xy = ds.truth["xy"].data_ptr<double>();
  const float* y = ds.y.data_ptr<float>();
  const double* u = ds.truth["U"].data_ptr<double>();
  for (int64_t k = 0; k < m; k += 997) {
    EXPECT_EQ(y[2 * k], static_cast<float>(xy[2 * k]));
    EXPECT_EQ(y[2 * k + 1], static_cast<float>(xy[2 * k + 1] + xy[2 * k] * xy[2 * k]));
    EXPECT_DOUBLE_EQ(u[k], sim::three_well_potential(xy[2 * k], xy[2 * k + 1]));
  }
  const auto v = increment_variance(xy, m);
  EXPECT_NEAR(v[0], 0.0186, 0.0186 * 0.1);
  EXPECT_NEAR(v[1], 0.0186, 0.0186 * 0.1);
  const SectorStats s = sector_stats(ds.truth["well"]);
  for (int w = 0; w < 3; ++w) EXPECT_GT(s.pop[w], 0.2) << "sector " << w;  // about 1/3 each (0.39/0.31/0.30 in §8.2)
  for (int w = 0; w < 3; ++w) EXPECT_LT(s.pop[w], 0.5) << "sector " << w;
  EXPECT_GT(s.changes, 0.009);
  EXPECT_LT(s.changes, 0.03);
  // deterministic per seed
  auto o2 = o;
  o2.frames = 2000;
  EXPECT_TRUE(at::equal(sim::ThreeWell(o2).generate().y, sim::ThreeWell(o2).generate().y));
  auto o3 = o2;
  o3.seed += 1;
  EXPECT_FALSE(at::equal(sim::ThreeWell(o2).generate().y, sim::ThreeWell(o3).generate().y));
}

// ------------------------------------------------------------------------------------------------ sprites (§9)

TEST(SpriteRendering, HeartPixelRuleAtScaleOne) {
  const int64_t res = 64;
  std::vector<float> img(res * res, 0.0f);
  sim::render_sprite(sim::SpriteShape::kHeart, 32.0, 32.0, 1.0, res, false, img.data());
  int64_t on = 0, i_lo = res, i_hi = -1, j_lo = res, j_hi = -1;
  for (int64_t i = 0; i < res; ++i)
    for (int64_t j = 0; j < res; ++j) {
      const float v = img[i * res + j];
      ASSERT_TRUE(v == 0.0f || v == 1.0f);
      if (v == 1.0f) on++, i_lo = std::min(i_lo, i), i_hi = std::max(i_hi, i), j_lo = std::min(j_lo, j), j_hi = std::max(j_hi, j);
      // the rule itself, evaluated independently: Y up, units of 8 px
      const double X = (j + 0.5 - 32.0) / 8.0, Y = -(i + 0.5 - 32.0) / 8.0;
      const double q = X * X + Y * Y - 1.0;
      EXPECT_EQ(v == 1.0f, q * q * q - X * X * Y * Y * Y <= 0.0) << i << "," << j;
    }
  EXPECT_NEAR(static_cast<double>(i_hi - i_lo + 1), 18.0, 1.5);  // about 18 x 18 px (datasets.md §9.1)
  EXPECT_NEAR(static_cast<double>(j_hi - j_lo + 1), 18.0, 1.5);
  EXPECT_NEAR(static_cast<double>(on), 233.0, 8.0);
  EXPECT_LT(i_hi - 32, 32 - i_lo);  // lobes on top (Y up), the tip below: more rows above the centre
  // anti-aliased coverage integrates to the area; scale 0.5 quarters it (55..230 px^2 over the scale lattice)
  std::fill(img.begin(), img.end(), 0.0f);
  sim::render_sprite(sim::SpriteShape::kHeart, 30.3, 33.7, 1.0, res, true, img.data());
  double mass = 0;
  for (float v : img) mass += v;
  EXPECT_NEAR(mass, 233.0, 3.0);
  std::fill(img.begin(), img.end(), 0.0f);
  sim::render_sprite(sim::SpriteShape::kHeart, 30.3, 33.7, 0.5, res, true, img.data());
  mass = 0;
  for (float v : img) mass += v;
  EXPECT_NEAR(mass, 233.0 / 4.0, 2.0);
  EXPECT_THROW(sim::parse_sprite_shape("hart"), ConfigError);
}

TEST(SpriteWalk, StaysInsideLatticeWithRoundedGaussianSteps) {
  EXPECT_DOUBLE_EQ(sim::reflect_index(-3, 31), 3);
  EXPECT_DOUBLE_EQ(sim::reflect_index(34, 31), 28);
  EXPECT_DOUBLE_EQ(sim::reflect_index(-40, 31), 22);  // repeated: -40 -> 40 -> 22
  auto o = sim::SpritesOptions::from_json({{"type", "sprites3d"}, {"frames", 200000}}, 3);
  const auto idx = sim::sprite_walk(o, o.seed);
  ASSERT_EQ(idx.size(), 3u * 200000u);
  double mean[3] = {0, 0, 0};
  for (size_t k = 0; k < idx.size(); ++k) {
    const double v = idx[k], hi = (k % 3 == 2) ? 5.0 : 31.0;
    ASSERT_GE(v, 0.0);
    ASSERT_LE(v, hi);
    ASSERT_EQ(v, std::round(v));
    mean[k % 3] += v / 200000.0;
  }
  EXPECT_NEAR(mean[0], 15.5, 1.5);
  EXPECT_NEAR(mean[1], 15.5, 1.5);
  EXPECT_NEAR(mean[2], 2.5, 0.3);
  // Var(round(1.5 xi)) = 2.3333 and Var(round(0.5 xi)) = 0.3254 away from the walls
  const auto var = sim::sprite_step_variance(o, idx);
  EXPECT_NEAR(var[0], 2.3333, 2.3333 * 0.03);
  EXPECT_NEAR(var[1], 2.3333, 2.3333 * 0.03);
  EXPECT_NEAR(var[2], 0.3254, 0.3254 * 0.05);
  // continuous: real positions, same sigma, anti-aliased by default
  auto c = sim::SpritesOptions::from_json({{"type", "sprites2d"}, {"frames", 100000}, {"continuous", true}}, 2);
  EXPECT_TRUE(c.antialias);
  const auto ci = sim::sprite_walk(c, c.seed);
  bool fractional = false;
  for (double v : ci) {
    ASSERT_GE(v, 0.0);
    ASSERT_LE(v, 31.0);
    fractional |= v != std::round(v);
  }
  EXPECT_TRUE(fractional);
  const auto cv = sim::sprite_step_variance(c, ci);
  EXPECT_NEAR(cv[0], 2.25, 2.25 * 0.04);
  EXPECT_NEAR(cv[1], 2.25, 2.25 * 0.04);
}

TEST(SpritesGenerate, DatasetTruthAndDeterminism) {
  auto ds = sim::simulators().create({{"type", "sprites2d"}, {"frames", 400}})->generate();
  ds.validate("sprites2d");
  EXPECT_EQ(ds.header.generator, "sprites2d");
  EXPECT_EQ(ds.y.sizes(), (std::vector<int64_t>{1, 400, 1, 64, 64}));
  EXPECT_TRUE(at::logical_or(ds.y == 0, ds.y == 1).all().item<bool>());  // binary by default
  EXPECT_DOUBLE_EQ(ds.t[0][399].item<double>(), 399.0);
  EXPECT_EQ(ds.truth["index"].sizes(), (std::vector<int64_t>{1, 400, 2}));
  EXPECT_EQ(ds.truth["centre_px"].sizes(), (std::vector<int64_t>{1, 400, 2}));
  EXPECT_EQ(ds.truth["scale"].sizes(), (std::vector<int64_t>{1, 400}));
  EXPECT_EQ(ds.truth["diffusion_normalised"].sizes(), (std::vector<int64_t>{1, 400, 2}));
  EXPECT_TRUE(at::allclose(ds.truth["centre_px"], 11.0 + 42.0 * ds.truth["index"] / 31.0));
  const at::Tensor v = ds.params["step_variance"];
  EXPECT_TRUE(at::allclose(ds.truth["diffusion_normalised"], ds.truth["index"] * at::sqrt(2.0 / v).unsqueeze(1)));
  EXPECT_TRUE(at::allclose(ds.y.sum({2, 3, 4}), at::full({1, 400}, 233.0, at::kFloat), 0.0, 8.0));
  // The sprite sits where the truth says: the lit pixels' centroid is centre_px, shifted 2.4 px up for the heart.
  {
    const float* img = ds.y.data_ptr<float>() + 123 * 64 * 64;
    double sx = 0, sy = 0, s = 0;
    for (int i = 0; i < 64; ++i)
      for (int j = 0; j < 64; ++j) sx += img[i * 64 + j] * (j + 0.5), sy += img[i * 64 + j] * (i + 0.5), s += img[i * 64 + j];
    EXPECT_NEAR(sx / s, ds.truth["centre_px"][0][123][0].item<double>(), 0.6);
    EXPECT_NEAR(sy / s, ds.truth["centre_px"][0][123][1].item<double>() - 2.4, 0.4);
  }
  auto again = sim::simulators().create({{"type", "sprites2d"}, {"frames", 400}})->generate();
  EXPECT_TRUE(at::equal(ds.y, again.y));
  EXPECT_TRUE(at::equal(ds.truth["index"], again.truth["index"]));
  auto other = sim::simulators().create({{"type", "sprites2d"}, {"frames", 400}, {"seed", 7}})->generate();
  EXPECT_FALSE(at::equal(ds.truth["index"], other.truth["index"]));

  auto d3 = sim::simulators().create({{"type", "sprites3d"}, {"frames", 300}, {"antialias", true}})->generate();
  d3.validate("sprites3d");
  EXPECT_EQ(d3.truth["index"].sizes(), (std::vector<int64_t>{1, 300, 3}));
  EXPECT_TRUE(at::allclose(d3.truth["scale"], 0.5 + 0.1 * d3.truth["index"].select(2, 2)));
  EXPECT_TRUE(at::allclose(d3.y.sum({2, 3, 4}).to(at::kDouble), 233.0 * d3.truth["scale"].pow(2), 0.0, 4.0));

  auto quick = sim::simulators().create({{"type", "sprites2d"}, {"profile", "quick"}});
  EXPECT_EQ(quick->options().at("frames"), 10000);
  EXPECT_EQ(quick->options().at("type"), "sprites2d");
  EXPECT_THROW(sim::simulators().create({{"type", "sprites2d"}, {"n_scales", 4}}), ConfigError);  // 3-D only
  EXPECT_THROW(sim::simulators().create({{"type", "sprites2d"}, {"shape", "hart"}}), ConfigError);
  const json j = sim::simulators().create({{"type", "sprites3d"}})->options();
  EXPECT_EQ(sim::simulators().create(j)->options(), j);
  EXPECT_NO_THROW(sim::simulators().create(d3.header.options));  // header (with derived step_variance) parses back
}

// ------------------------------------------------------------------------------------------------ blob (§10)

TEST(BlobMotion, CentroidIsStationaryOuWithStdSixPointThree) {
  auto o = sim::BlobOptions::from_json({{"type", "blob"}, {"frames", 400000}});
  const auto mo = sim::simulate_blob_motion(o, o.seed);
  const int64_t m = o.frames, nb = o.n_beads;
  for (int a = 0; a < 2; ++a) {
    double s = 0, s2 = 0, c1 = 0;
    for (int64_t k = 0; k < m; ++k) {
      const double x = mo.centroid[2 * k + a];
      s += x, s2 += x * x;
      if (k > 0) c1 += x * mo.centroid[2 * (k - 1) + a];
    }
    const double var = s2 / m - (s / m) * (s / m);
    EXPECT_NEAR(std::sqrt(var), std::sqrt(40.0), 0.3) << "axis " << a;    // sqrt(D_c / k) = 6.32 px
    EXPECT_NEAR(c1 / (m - 1) / (s2 / m), std::exp(-0.025), 0.004);       // lag-1 autocorrelation e^{-k dt}
  }
  double bend2 = 0, rot2 = 0;
  for (int64_t k = 0; k < m; ++k) {
    for (int64_t j = 0; j < nb - 2; ++j) bend2 += mo.bends[k * (nb - 2) + j] * mo.bends[k * (nb - 2) + j];
    if (k > 0) rot2 += std::pow(mo.orientation[k] - mo.orientation[k - 1], 2);
  }
  EXPECT_NEAR(std::sqrt(bend2 / (m * (nb - 2))), 0.35, 0.01);
  EXPECT_NEAR(rot2 / (m - 1), 2 * 0.02 * 0.5, 0.02 * 0.03);
  for (int64_t k = 0; k < m; k += 1013) {  // geometry: bond length 2, beads centred on the centroid
    double mx = 0, my = 0;
    for (int64_t j = 0; j < nb; ++j) {
      const double* p = &mo.beads[(k * nb + j) * 2];
      mx += p[0] / nb, my += p[1] / nb;
      if (j > 0) EXPECT_NEAR(std::hypot(p[0] - p[-2], p[1] - p[-1]), 2.0, 1e-9);
    }
    EXPECT_NEAR(mx, mo.centroid[2 * k], 1e-9);
    EXPECT_NEAR(my, mo.centroid[2 * k + 1], 1e-9);
    const double* p = &mo.beads[k * nb * 2];  // first bond points along Theta
    EXPECT_NEAR(std::atan2(p[3] - p[1], p[2] - p[0]), std::remainder(mo.orientation[k], 2 * M_PI), 1e-9);
  }
}

TEST(BlobImage, PoissonDrawMoments) {
  std::mt19937_64 rng(11);
  for (double lam : {0.7, 10.0, 29.5, 30.0, 75.0, 600.0}) {
    const int n = 200000;
    double s = 0, s2 = 0;
    for (int i = 0; i < n; ++i) {
      const double k = static_cast<double>(sim::poisson_draw(lam, rng));
      s += k, s2 += k * k;
    }
    const double mean = s / n, var = s2 / n - mean * mean;
    EXPECT_NEAR(mean, lam, 5 * std::sqrt(lam / n)) << "lambda " << lam;
    EXPECT_NEAR(var / lam, 1.0, 0.02) << "lambda " << lam;
  }
  EXPECT_EQ(sim::poisson_draw(0.0, rng), 0);
}

TEST(BlobImage, PercentileMatchesSortedOrderStatistics) {
  std::mt19937_64 rng(5);
  for (int64_t n : {1, 2, 7, 1000, 123457}) {
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = static_cast<float>(sim::poisson_draw(12.0, rng)) + 0.25f * static_cast<float>(rng() % 8);
    std::vector<float> s = v;
    std::sort(s.begin(), s.end());
    for (double q : {0.0, 50.0, 99.9, 100.0}) {
      const double pos = q / 100.0 * static_cast<double>(n - 1);
      const size_t lo = static_cast<size_t>(std::floor(pos)), hi = std::min(lo + 1, static_cast<size_t>(n - 1));
      const double want = s[lo] + (static_cast<double>(s[hi]) - s[lo]) * (pos - std::floor(pos));
      EXPECT_NEAR(sim::percentile_of(v.data(), n, q), want, 1e-9) << "n " << n << " q " << q;
    }
  }
}

TEST(BlobImage, IntensityNormalisationAndDeterminism) {
  auto o = sim::BlobOptions::from_json({{"type", "blob"}, {"n_beads", 2}});
  std::vector<double> lam(64 * 64);
  const double beads[4] = {0.5, 0.5, -20.5, -20.5};  // pixel (32, 32) has its centre on the first bead
  sim::blob_intensity(o, beads, lam.data());
  EXPECT_NEAR(lam[32 * 64 + 32], 10.0 + 40.0, 1e-9);
  EXPECT_NEAR(lam[32 * 64 + 33], 10.0 + 40.0 * std::exp(-1.0 / 4.5), 1e-9);
  EXPECT_NEAR(lam[0], 10.0, 1e-6);

  auto ds = sim::simulators().create({{"type", "blob"}, {"frames", 300}})->generate();
  ds.validate("blob");
  EXPECT_EQ(ds.y.sizes(), (std::vector<int64_t>{1, 300, 1, 64, 64}));
  EXPECT_GE(ds.y.min().item<double>(), 0.0);
  EXPECT_LE(ds.y.max().item<double>(), 1.0);
  const double clipped = (ds.y >= 1.0f).to(at::kDouble).mean().item<double>();
  EXPECT_LE(clipped, 0.0011);  // at most 0.1 % of the training pixels exceed the 99.9th percentile
  EXPECT_DOUBLE_EQ(ds.t[0][2].item<double>(), 1.0);  // dt = 0.5
  const double n999 = ds.header.options.at("n_999").get<double>();
  EXPECT_DOUBLE_EQ(ds.params["n_999"][0].item<double>(), n999);
  EXPECT_GT(n999, 40.0);  // bead peaks reach b + A = 50 photons and more where beads overlap
  EXPECT_LT(n999, 120.0);
  EXPECT_NEAR(ds.y.median().item<double>() * n999, 10.0, 0.6);  // most pixels are background, b = 10 photons
  EXPECT_EQ(ds.truth["centroid_px"].sizes(), (std::vector<int64_t>{1, 300, 2}));
  EXPECT_EQ(ds.truth["beads"].sizes(), (std::vector<int64_t>{1, 300, 8, 2}));
  EXPECT_EQ(ds.truth["orientation"].sizes(), (std::vector<int64_t>{1, 300}));
  EXPECT_EQ(ds.truth["bends"].sizes(), (std::vector<int64_t>{1, 300, 6}));
  // the brightest pixel of a frame lies on the blob
  {
    const int64_t k = 77;
    const at::Tensor f = ds.y[0][k][0];
    const int64_t arg = f.argmax().item<int64_t>();
    const double cx = ds.truth["centroid_px"][0][k][0].item<double>() + 32.0;
    const double cy = ds.truth["centroid_px"][0][k][1].item<double>() + 32.0;
    EXPECT_LT(std::hypot(arg % 64 + 0.5 - cx, arg / 64 + 0.5 - cy), 9.0);
  }
  auto again = sim::simulators().create({{"type", "blob"}, {"frames", 300}})->generate();
  EXPECT_TRUE(at::equal(ds.y, again.y));
  {  // per-frame camera streams: the thread count does not change the bytes
    const int threads = at::get_num_threads();
    at::set_num_threads(1);
    auto serial = sim::simulators().create({{"type", "blob"}, {"frames", 300}})->generate();
    at::set_num_threads(threads);
    EXPECT_TRUE(at::equal(ds.y, serial.y));
  }
  auto other = sim::simulators().create({{"type", "blob"}, {"frames", 300}, {"seed", 9}})->generate();
  EXPECT_FALSE(at::equal(ds.y, other.y));
  auto rgb = sim::simulators().create({{"type", "blob"}, {"frames", 300}, {"channels", 3}})->generate();
  EXPECT_EQ(rgb.y.size(2), 3);
  EXPECT_TRUE(at::equal(rgb.y.select(2, 2), ds.y.select(2, 0)));

  EXPECT_EQ(sim::simulators().create({{"type", "blob"}, {"profile", "quick"}})->options().at("frames"), 4000);
  EXPECT_NO_THROW(sim::simulators().create(ds.header.options));  // header (with derived n_999) parses back
  EXPECT_THROW(sim::simulators().create({{"type", "blob"}, {"chanels", 3}}), ConfigError);
}
