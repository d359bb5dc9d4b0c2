// SPDX-License-Identifier: MIT
// Brownian blob generator (datasets.md §10): exact OU centroid and bends, diffusing orientation, separable Gaussian
// PSF, Poisson + Gaussian camera noise, normalisation by the 99.9th percentile of the training frames.
#include "latdyn/sim/blob.hpp"
#include "latdyn/sim/normal_stream.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>

#include "latdyn/core/error.hpp"
#include "latdyn/core/rng.hpp"
#include "latdyn/core/version.hpp"

namespace latdyn::sim {
namespace {

constexpr double kPi = 3.14159265358979323846;

/// 1/k for the inversion search of poisson_draw (multiplications instead of divisions).
const std::vector<double>& reciprocals() {
  static const std::vector<double> r = [] {
    std::vector<double> t(256);
    for (size_t k = 1; k < t.size(); ++k) t[k] = 1.0 / static_cast<double>(k);
    return t;
  }();
  return r;
}

}  // namespace

BlobOptions BlobOptions::from_json(const json& j) {
  ConfigReader r(j, "simulator options (blob)");
  r.accept("type");
  BlobOptions o;
  o.profile = r.get<std::string>("profile", o.profile);
  check_profile(r, "blob", o.profile, {"default", "quick"});
  if (o.profile == "quick") {
    o.frames = 4000;
  }
  o.frames = r.get("frames", o.frames);
  o.dt = r.get("dt", o.dt);
  o.resolution = r.get("resolution", o.resolution);
  o.channels = r.get("channels", o.channels);
  o.centroid_diffusion = r.get("centroid_diffusion", o.centroid_diffusion);
  o.centroid_stiffness = r.get("centroid_stiffness", o.centroid_stiffness);
  o.n_beads = r.get("n_beads", o.n_beads);
  o.bond_length = r.get("bond_length", o.bond_length);
  o.rot_diffusion = r.get("rot_diffusion", o.rot_diffusion);
  o.bend_std = r.get("bend_std", o.bend_std);
  o.bend_time = r.get("bend_time", o.bend_time);
  o.psf_sigma = r.get("psf_sigma", o.psf_sigma);
  o.amplitude = r.get("amplitude", o.amplitude);
  o.background = r.get("background", o.background);
  o.read_noise = r.get("read_noise", o.read_noise);
  o.seed = r.get("seed", o.seed);
  r.accept("n_999");  // derived output written into the file header; accepted back so a header's options parse again
  r.finish();
  if (o.frames < 2 || o.dt <= 0 || o.resolution < 16 || o.resolution % 16 != 0 || (o.channels != 1 && o.channels != 3))
    r.throw_error(concat("bad frames ", o.frames, ", dt ", o.dt, ", resolution ", o.resolution, " or channels ", o.channels),
                  "need frames >= 2, dt > 0, resolution divisible by 16 (64 is the recipe), channels 1 or 3");
  if (o.centroid_diffusion < 0 || o.centroid_stiffness <= 0 || o.n_beads < 2 || o.bond_length < 0 ||
      o.rot_diffusion < 0 || o.bend_std < 0 || o.bend_time <= 0 || o.psf_sigma <= 0 || o.amplitude < 0 ||
      o.background < 0 || o.read_noise < 0)
    r.throw_error("blob options out of range",
                  "need centroid_stiffness, bend_time, psf_sigma > 0, n_beads >= 2, and the other constants >= 0");
  if (o.background + o.amplitude + o.read_noise <= 0)
    r.throw_error("blob: background, amplitude and read_noise are all 0, the movie would be black",
                  "keep background = 10, amplitude = 40, read_noise = 2 (datasets.md §10.2)");
  return o;
}

json BlobOptions::to_json() const {
  return {{"type", "blob"}, {"profile", profile}, {"frames", frames}, {"dt", dt}, {"resolution", resolution},
          {"channels", channels}, {"centroid_diffusion", centroid_diffusion},
          {"centroid_stiffness", centroid_stiffness}, {"n_beads", n_beads}, {"bond_length", bond_length},
          {"rot_diffusion", rot_diffusion}, {"bend_std", bend_std}, {"bend_time", bend_time},
          {"psf_sigma", psf_sigma}, {"amplitude", amplitude}, {"background", background}, {"read_noise", read_noise},
          {"seed", seed}};
}

BlobMotion simulate_blob_motion(const BlobOptions& o, uint64_t seed) {
  std::mt19937_64 rng(derive_seed(seed, "blob_motion"));
  NormalStream normal(rng);
  const int64_t m = o.frames, nb = o.n_beads, nk = nb - 2;
  BlobMotion mo;
  mo.centroid.resize(static_cast<size_t>(2 * m));
  mo.orientation.resize(static_cast<size_t>(m));
  mo.bends.resize(static_cast<size_t>(std::max<int64_t>(nk, 0) * m));
  mo.beads.resize(static_cast<size_t>(2 * nb * m));
  // Exact transitions over one frame (datasets.md §10.1).
  const double c_stat = std::sqrt(o.centroid_diffusion / o.centroid_stiffness);
  const double c_decay = std::exp(-o.centroid_stiffness * o.dt);
  const double c_noise = c_stat * std::sqrt(1.0 - c_decay * c_decay);
  const double r_noise = std::sqrt(2.0 * o.rot_diffusion * o.dt);
  const double b_decay = std::exp(-o.dt / o.bend_time);
  const double b_noise = o.bend_std * std::sqrt(1.0 - b_decay * b_decay);
  double cx = c_stat * normal(), cy = c_stat * normal();  // stationary start: no burn-in
  double theta = 2.0 * kPi * unit_double(rng());
  std::vector<double> kappa(static_cast<size_t>(std::max<int64_t>(nk, 0)));
  for (double& k : kappa) k = o.bend_std * normal();
  std::vector<double> px(nb), py(nb);
  for (int64_t f = 0; f < m; ++f) {
    if (f > 0) {
      cx = c_decay * cx + c_noise * normal();
      cy = c_decay * cy + c_noise * normal();
      theta += r_noise * normal();
      for (double& k : kappa) k = b_decay * k + b_noise * normal();
    }
    mo.centroid[2 * f] = cx, mo.centroid[2 * f + 1] = cy;
    mo.orientation[f] = theta;
    for (int64_t j = 0; j < nk; ++j) mo.bends[f * nk + j] = kappa[j];
    // Bond angles phi_1 = Theta, phi_{j+1} = phi_j + kappa_j; beads chained from 0, then centred on the centroid.
    double phi = theta, sx = 0.0, sy = 0.0;
    px[0] = 0.0, py[0] = 0.0;
    for (int64_t j = 1; j < nb; ++j) {
      if (j > 1) phi += kappa[j - 2];
      px[j] = px[j - 1] + o.bond_length * std::cos(phi);
      py[j] = py[j - 1] + o.bond_length * std::sin(phi);
    }
    for (int64_t j = 0; j < nb; ++j) sx += px[j], sy += py[j];
    sx /= static_cast<double>(nb), sy /= static_cast<double>(nb);
    for (int64_t j = 0; j < nb; ++j) {
      mo.beads[(f * nb + j) * 2] = px[j] - sx + cx;
      mo.beads[(f * nb + j) * 2 + 1] = py[j] - sy + cy;
    }
  }
  return mo;
}

void blob_intensity(const BlobOptions& o, const double* beads, double* out) {
  const int64_t res = o.resolution;
  const double half = static_cast<double>(res) / 2.0, inv2s2 = 1.0 / (2.0 * o.psf_sigma * o.psf_sigma);
  std::fill(out, out + res * res, o.background);
  std::vector<double> gx(res), gy(res);
  for (int64_t b = 0; b < o.n_beads; ++b) {
    // The Gaussian is separable: exp(-(dx^2 + dy^2) / 2s^2) = gx(col) * gy(row); pixel centres at +1/2.
    for (int64_t j = 0; j < res; ++j) {
      const double dx = static_cast<double>(j) + 0.5 - half - beads[2 * b];
      const double dy = static_cast<double>(j) + 0.5 - half - beads[2 * b + 1];
      gx[j] = std::exp(-dx * dx * inv2s2);
      gy[j] = o.amplitude * std::exp(-dy * dy * inv2s2);
    }
    for (int64_t i = 0; i < res; ++i)
      for (int64_t j = 0; j < res; ++j) out[i * res + j] += gy[i] * gx[j];
  }
}

int64_t poisson_draw(double lambda, std::mt19937_64& rng) {
  if (lambda <= 0.0) return 0;
  if (lambda < 30.0) {  // inversion by sequential search: one uniform, about lambda + 1 multiplications
    const double u = unit_double(rng());
    const double* inv = reciprocals().data();  // k stays below 256: P(k >= 256 | lambda < 30) is far below 2^-53
    double p = std::exp(-lambda), cdf = p;
    int64_t k = 0;
    while (u > cdf && p > 0.0 && k < 255) {
      ++k;
      p *= lambda * inv[k];
      cdf += p;
    }
    return k;
  }
  // PTRS, transformed rejection with squeeze (Hörmann 1993, as in numpy's random_poisson_ptrs).
  const double slam = std::sqrt(lambda), loglam = std::log(lambda);
  const double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
  const double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2.0);
  for (;;) {
    const double u = unit_double(rng()) - 0.5, v = unit_double(rng());
    const double us = 0.5 - std::abs(u);
    if (us <= 0.0) continue;
    const double kf = std::floor((2.0 * a / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return static_cast<int64_t>(kf);
    if (kf < 0.0 || (us < 0.013 && v > us)) continue;
    if (std::log(v) + std::log(invalpha) - std::log(a / (us * us) + b) <= -lambda + kf * loglam - std::lgamma(kf + 1.0))
      return static_cast<int64_t>(kf);
  }
}

// A histogram finds the bins holding the two order statistics; only those bins' values are then sorted, so the
// 82 M counts of a default movie are neither copied nor fully sorted.
double percentile_of(const float* v, int64_t n, double q) {
  const double pos = q / 100.0 * static_cast<double>(n - 1);
  const int64_t lo = static_cast<int64_t>(std::floor(pos)), hi = std::min(lo + 1, n - 1);
  float vmax = 0.0f;
  for (int64_t i = 0; i < n; ++i) vmax = std::max(vmax, v[i]);
  if (vmax <= 0.0f) return 0.0;
  constexpr int64_t kBins = 1 << 16;
  const double to_bin = static_cast<double>(kBins) / static_cast<double>(vmax);
  auto bin = [&](float x) {
    return std::clamp<int64_t>(static_cast<int64_t>(static_cast<double>(x) * to_bin), 0, kBins - 1);
  };
  std::vector<int64_t> count(kBins, 0);
  for (int64_t i = 0; i < n; ++i) ++count[bin(v[i])];
  int64_t below = 0, b_lo = 0;  // b_lo: the bin holding rank lo; `below` counts the values in lower bins
  while (below + count[b_lo] <= lo) below += count[b_lo++];
  int64_t b_hi = b_lo, upto = below + count[b_lo];
  while (upto <= hi) upto += count[++b_hi];
  std::vector<float> sel;
  sel.reserve(static_cast<size_t>(upto - below));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t b = bin(v[i]);
    if (b >= b_lo && b <= b_hi) sel.push_back(v[i]);
  }
  std::sort(sel.begin(), sel.end());
  const double a = sel[static_cast<size_t>(lo - below)], c = sel[static_cast<size_t>(hi - below)];
  return a + (c - a) * (pos - static_cast<double>(lo));
}

data::Dataset Blob::generate() const {
  const int64_t m = o_.frames, res = o_.resolution, nb = o_.n_beads, nk = nb - 2, npix = res * res;
  const BlobMotion mo = simulate_blob_motion(o_, o_.seed);  // datasets.md §0.2: trajectory 0 uses base seed + 0
  at::Tensor counts = at::empty({1, m, 1, res, res}, at::kFloat);
  float* pn = counts.data_ptr<float>();
  // Camera noise per frame from its own stream, so frames are independent and any thread split gives the same bytes.
  at::parallel_for(0, m, 64, [&](int64_t begin, int64_t end) {
    std::vector<double> lam(static_cast<size_t>(npix));
    for (int64_t k = begin; k < end; ++k) {
      std::mt19937_64 rng(derive_seed(o_.seed, "blob_camera", static_cast<uint64_t>(k)));
      NormalStream normal(rng);
      blob_intensity(o_, mo.beads.data() + k * nb * 2, lam.data());
      float* out = pn + k * npix;
      for (int64_t p = 0; p < npix; ++p) {
        const double n = static_cast<double>(poisson_draw(lam[p], rng)) + o_.read_noise * normal();
        out[p] = static_cast<float>(std::max(n, 0.0));
      }
    }
  });
  // One movie, all of it train: the percentile runs over every frame (datasets.md §10.2).
  double n_999 = percentile_of(pn, m * npix, 99.9);
  if (!(n_999 > 0.0)) n_999 = 1.0;  // only when nearly every count is 0 (options far from the recipe)
  const float inv = static_cast<float>(1.0 / n_999);
  at::parallel_for(0, m * npix, 1 << 16, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) pn[p] = std::min(pn[p] * inv, 1.0f);
  });
  data::Dataset ds;
  ds.y = o_.channels == 1 ? counts : counts.expand({1, m, o_.channels, res, res}).contiguous();
  ds.t = (at::arange(m, at::kDouble) * o_.dt).unsqueeze(0);
  ds.split = at::zeros({1}, at::kByte);
  auto from = [](const std::vector<double>& v, std::vector<int64_t> shape) {
    return at::tensor(v, at::kDouble).reshape(shape);
  };
  ds.truth["centroid_px"] = from(mo.centroid, {1, m, 2});
  ds.truth["beads"] = from(mo.beads, {1, m, nb, 2});
  ds.truth["orientation"] = from(mo.orientation, {1, m});
  if (nk > 0) ds.truth["bends"] = from(mo.bends, {1, m, nk});
  ds.params["n_999"] = at::full({1}, n_999, at::kDouble);
  ds.header = generated_header("blob", options(), o_.seed);
  ds.header.options["n_999"] = n_999;
  return ds;
}

}  // namespace latdyn::sim
