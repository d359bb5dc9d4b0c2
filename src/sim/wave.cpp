// SPDX-License-Identifier: MIT
// 2-D wave equation generator (datasets.md §4): Gaussian bumps, exact modal solution in the discrete sine basis,
// normalisation clip(0.5 + u/(2 u_max), 0, 1) with u_max from the training split (§0.5).
#include "latdyn/sim/wave.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "latdyn/core/error.hpp"
#include "latdyn/core/rng.hpp"
#include "latdyn/sim/blob.hpp"  // percentile_of
#include "latdyn/sim/time_grid.hpp"

namespace latdyn::sim {
namespace {

constexpr double kPi = 3.14159265358979323846;

/// Reads `key` as a [lo, hi] pair with lo <= hi (ConfigError naming the key otherwise).
template <typename T>
void read_range(ConfigReader& r, const std::string& key, T& lo, T& hi) {
  const std::vector<T> v = r.get<std::vector<T>>(key, {lo, hi});
  if (v.size() != 2 || !(v[0] <= v[1]))
    r.throw_error(concat("'", key, "' must be a pair [min, max] with min <= max in ", r.where()),
                  concat("e.g. \"", key, "\": [", lo, ", ", hi, "] (the recipe's values)"));
  lo = v[0], hi = v[1];
}

}  // namespace

WaveOptions WaveOptions::from_json(const json& j) {
  ConfigReader r(j, "simulator options (wave2d)");
  r.accept("type");
  WaveOptions o;
  o.profile = r.get<std::string>("profile", o.profile);
  check_profile(r, "wave2d", o.profile, {"default", "quick"});
  if (o.profile == "quick") {
    // datasets.md §0.2: 10 % of the trajectories split 80/10/10, the same recipe, the smallest resolution.
    o.n_trajectories = 50, o.n_train = 40, o.n_val = 5, o.resolution = 32;
  }
  o.n_trajectories = r.get("n_trajectories", o.n_trajectories);
  o.n_train = r.get("n_train", o.n_train);
  o.n_val = r.get("n_val", o.n_val);
  o.frames = r.get("frames", o.frames);
  o.dt = r.get("dt", o.dt);
  o.resolution = r.get("resolution", o.resolution);
  read_range(r, "c_range", o.c_min, o.c_max);
  read_range(r, "n_bumps_range", o.bumps_min, o.bumps_max);
  read_range(r, "centre_range", o.centre_min, o.centre_max);
  read_range(r, "width_range", o.width_min, o.width_max);
  read_range(r, "amplitude_range", o.amplitude_min, o.amplitude_max);
  o.irregular = r.get("irregular", o.irregular);
  o.u_max_percentile = r.get("u_max_percentile", o.u_max_percentile);
  if (!r.get<json>("u_max", nullptr).is_null()) o.u_max = r.get<double>("u_max", 0.0);  // a non-number: ConfigError
  o.seed = r.get("seed", o.seed);
  // Derived outputs written into the file header; accepted back so a header's options parse again (u_max above then
  // reproduces the same normalisation).
  r.accept("normalisation");
  r.accept("clipped_fraction");
  r.finish();
  if (o.resolution < 16 || o.resolution % 16 != 0)
    r.throw_error("resolution " + concat(o.resolution) + " is not supported for wave2d",
                  "use 32, 64 (default) or 128 (divisible by 16)");
  if (o.n_trajectories < 1 || o.n_train < 1 || o.n_val < 0 || o.n_train + o.n_val > o.n_trajectories)
    r.throw_error(concat("bad split sizes: n_trajectories ", o.n_trajectories, ", n_train ", o.n_train, ", n_val ", o.n_val),
                  "need n_train >= 1 (u_max comes from the training split) and n_train + n_val <= n_trajectories");
  if (o.frames < 2 || o.dt <= 0)
    r.throw_error(concat("bad time grid: frames ", o.frames, ", dt ", o.dt), "need frames >= 2 and dt > 0 (the recipe: 60, 0.02)");
  if (o.c_min <= 0)
    r.throw_error(concat("c_range [", o.c_min, ", ", o.c_max, "] must be positive"), "the recipe uses c = 1: \"c_range\": [1, 1]");
  if (o.bumps_min < 1)
    r.throw_error(concat("n_bumps_range [", o.bumps_min, ", ", o.bumps_max, "] must start at >= 1"),
                  "the recipe draws 1 to 3 bumps: \"n_bumps_range\": [1, 3]");
  if (o.width_min <= 0 || o.amplitude_min < 0 || o.centre_min < 0 || o.centre_max > 1)
    r.throw_error("bump ranges out of bounds", "need widths > 0, amplitudes >= 0 and centres inside [0, 1]");
  if (!(o.u_max_percentile > 0 && o.u_max_percentile <= 100))
    r.throw_error(concat("u_max_percentile ", o.u_max_percentile, " is outside (0, 100]"), "the recipe uses 99.9 (datasets.md §0.5)");
  if (o.u_max && !(*o.u_max > 0))
    r.throw_error(concat("u_max ", *o.u_max, " must be positive"), "leave u_max out to take it from the training split");
  return o;
}

json WaveOptions::to_json() const {
  json j = {{"type", "wave2d"}, {"profile", profile}, {"n_trajectories", n_trajectories}, {"n_train", n_train},
            {"n_val", n_val}, {"frames", frames}, {"dt", dt}, {"resolution", resolution},
            {"c_range", {c_min, c_max}}, {"n_bumps_range", {bumps_min, bumps_max}},
            {"centre_range", {centre_min, centre_max}}, {"width_range", {width_min, width_max}},
            {"amplitude_range", {amplitude_min, amplitude_max}}, {"irregular", irregular},
            {"u_max_percentile", u_max_percentile}, {"seed", seed}};
  if (u_max) j["u_max"] = *u_max;
  return j;
}

std::vector<double> wave_sine_matrix(int64_t h) {
  std::vector<double> s(static_cast<size_t>(h * h));
  for (int64_t i = 0; i < h; ++i)
    for (int64_t m = 0; m < h; ++m)  // §4.1: S_im = sin(π i m / (H+1)), i, m = 1..H
      s[i * h + m] = std::sin(kPi * static_cast<double>((i + 1) * (m + 1)) / static_cast<double>(h + 1));
  return s;
}

void wave_sandwich(const std::vector<double>& s, const double* x, int64_t h, double* out) {
  // tmp = S x, then out = tmp S; i-k-j loop order keeps the inner loop contiguous.
  std::vector<double> tmp(static_cast<size_t>(h * h), 0.0);
  for (int64_t i = 0; i < h; ++i) {
    double* ti = tmp.data() + i * h;
    for (int64_t k = 0; k < h; ++k) {
      const double sik = s[i * h + k];
      const double* xk = x + k * h;
      for (int64_t j = 0; j < h; ++j) ti[j] += sik * xk[j];
    }
  }
  std::fill(out, out + h * h, 0.0);
  for (int64_t i = 0; i < h; ++i) {
    double* oi = out + i * h;
    for (int64_t k = 0; k < h; ++k) {
      const double tik = tmp[i * h + k];
      const double* sk = s.data() + k * h;
      for (int64_t j = 0; j < h; ++j) oi[j] += tik * sk[j];
    }
  }
}

std::vector<double> wave_initial_field(const std::vector<WaveBump>& bumps, int64_t h) {
  // §4.2: U0(x) = Σ_k a_k exp(-|x - x_k|² / (2 σ_k²)) at x = (j+1)/(H+1) (column), y = (i+1)/(H+1) (row).
  std::vector<double> u(static_cast<size_t>(h * h), 0.0);
  const double step = 1.0 / static_cast<double>(h + 1);
  for (const WaveBump& b : bumps) {
    const double inv = 1.0 / (2.0 * b.sigma * b.sigma);
    for (int64_t i = 0; i < h; ++i) {
      const double dy = static_cast<double>(i + 1) * step - b.cy;
      for (int64_t j = 0; j < h; ++j) {
        const double dx = static_cast<double>(j + 1) * step - b.cx;
        u[i * h + j] += b.amplitude * std::exp(-(dx * dx + dy * dy) * inv);
      }
    }
  }
  return u;
}

WaveModes wave_modes(const std::vector<double>& s, const double* u, int64_t h, double c) {
  WaveModes md;
  md.h = h;
  md.a.resize(static_cast<size_t>(h * h));
  md.omega.resize(static_cast<size_t>(h * h));
  wave_sandwich(s, u, h, md.a.data());
  const double norm = (2.0 / static_cast<double>(h + 1)) * (2.0 / static_cast<double>(h + 1));  // A = (2/(H+1))² S U0 S
  for (double& a : md.a) a *= norm;
  for (int64_t n = 0; n < h; ++n)
    for (int64_t m = 0; m < h; ++m)  // Ω_mn = c π sqrt(m² + n²), m, n = 1..H
      md.omega[n * h + m] = c * kPi * std::sqrt(static_cast<double>((m + 1) * (m + 1) + (n + 1) * (n + 1)));
  return md;
}

void wave_field(const WaveModes& md, const std::vector<double>& s, double t, double* out) {
  const int64_t hh = md.h * md.h;
  std::vector<double> coef(static_cast<size_t>(hh));
  for (int64_t p = 0; p < hh; ++p) coef[p] = md.a[p] * std::cos(md.omega[p] * t);  // A ∘ cos(Ω t)
  wave_sandwich(s, coef.data(), md.h, out);                                          // U(t) = S [..] S
}

double wave_modal_energy(const WaveModes& md, double t) {
  double e = 0.0;
  for (size_t p = 0; p < md.a.size(); ++p) {
    const double w = md.omega[p], a = md.a[p] * std::cos(w * t), da = -md.a[p] * w * std::sin(w * t);
    e += w * w * a * a + da * da;
  }
  return e;
}

data::Dataset Wave2d::generate() const {
  const int64_t n = o_.n_trajectories, m = o_.frames, h = o_.resolution, hh = h * h, nbmax = o_.bumps_max;
  const double t_end = o_.dt * static_cast<double>(m - 1);
  const std::vector<double> s = wave_sine_matrix(h);
  data::Dataset ds;
  ds.y = at::zeros({n, m, 1, h, h}, at::kFloat);  // [R, M, 1, H, H]: the field u first, then the §0.5 map in place
  ds.t = at::zeros({n, m}, at::kDouble);          // [R, M]
  at::Tensor energy = at::zeros({n, m}, at::kDouble);                                  // truth/modal_energy [R, M]
  at::Tensor n_bumps = at::zeros({n}, at::kLong), centres = at::zeros({n, nbmax, 2}, at::kDouble),
             widths = at::zeros({n, nbmax}, at::kDouble), amps = at::zeros({n, nbmax}, at::kDouble),
             speed = at::zeros({n}, at::kDouble);                                      // params
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    std::vector<double> u(static_cast<size_t>(hh));
    for (int64_t r = begin; r < end; ++r) {
      std::mt19937_64 rng(o_.seed + static_cast<uint64_t>(r));  // datasets.md §0.2: seed base_seed + r
      const std::vector<double> times =
          o_.irregular ? irregular_grid(m, t_end, 100 * m, 0.25 * t_end / static_cast<double>(m - 1), rng)
                       : regular_grid(m, o_.dt);
      // §4.2 initial condition: n_b ~ U{min..max}; centres U(0.3, 0.7)², widths U(0.04, 0.08), a = ±U(0.5, 1).
      const int64_t span = o_.bumps_max - o_.bumps_min + 1;
      const int64_t nb = o_.bumps_min + std::min<int64_t>(span - 1, static_cast<int64_t>(unit_double(rng()) * span));
      std::vector<WaveBump> bumps(static_cast<size_t>(nb));
      for (WaveBump& b : bumps) {
        b.cx = o_.centre_min + (o_.centre_max - o_.centre_min) * unit_double(rng());
        b.cy = o_.centre_min + (o_.centre_max - o_.centre_min) * unit_double(rng());
        b.sigma = o_.width_min + (o_.width_max - o_.width_min) * unit_double(rng());
        const double mag = o_.amplitude_min + (o_.amplitude_max - o_.amplitude_min) * unit_double(rng());
        b.amplitude = unit_double(rng()) < 0.5 ? -mag : mag;
      }
      const double c = o_.c_min + (o_.c_max - o_.c_min) * unit_double(rng());  // §4.2: c ~ U(c_range)
      const std::vector<double> u0 = wave_initial_field(bumps, h);
      const WaveModes md = wave_modes(s, u0.data(), h, c);
      float* frames = ds.y.data_ptr<float>() + r * m * hh;
      for (int64_t k = 0; k < m; ++k) {
        wave_field(md, s, times[k], u.data());  // exact solution at t_k (§4.1)
        for (int64_t p = 0; p < hh; ++p) frames[k * hh + p] = static_cast<float>(u[p]);
        ds.t.data_ptr<double>()[r * m + k] = times[k];
        energy.data_ptr<double>()[r * m + k] = wave_modal_energy(md, times[k]);
      }
      n_bumps.data_ptr<int64_t>()[r] = nb;
      speed.data_ptr<double>()[r] = c;
      for (int64_t q = 0; q < nb; ++q) {
        centres.data_ptr<double>()[(r * nbmax + q) * 2] = bumps[q].cx;
        centres.data_ptr<double>()[(r * nbmax + q) * 2 + 1] = bumps[q].cy;
        widths.data_ptr<double>()[r * nbmax + q] = bumps[q].sigma;
        amps.data_ptr<double>()[r * nbmax + q] = bumps[q].amplitude;
      }
    }
  });
  // §0.5: u_max = 99.9th percentile of |u| over the training split (trajectories 0 .. n_train - 1).
  double u_max = 0.0;
  if (o_.u_max) {
    u_max = *o_.u_max;
  } else {
    const at::Tensor train_abs = ds.y.slice(0, 0, o_.n_train).abs().contiguous();
    u_max = percentile_of(train_abs.data_ptr<float>(), train_abs.numel(), o_.u_max_percentile);
  }
  if (!(u_max > 0.0))
    throw NumericalError(concat("wave2d: u_max = ", u_max, " (the training fields are all zero)"),
                         "check amplitude_range; the recipe draws |a| ~ U(0.5, 1)");
  // y = clip(0.5 + u / (2 u_max), 0, 1), counting the clipped values per trajectory (summed per split below).
  std::vector<int64_t> clipped(static_cast<size_t>(n), 0);
  const double inv = 1.0 / (2.0 * u_max);
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      float* p = ds.y.data_ptr<float>() + r * m * hh;
      int64_t count = 0;
      for (int64_t q = 0; q < m * hh; ++q) {
        const double v = 0.5 + static_cast<double>(p[q]) * inv;
        count += (v < 0.0 || v > 1.0) ? 1 : 0;
        p[q] = static_cast<float>(std::clamp(v, 0.0, 1.0));
      }
      clipped[static_cast<size_t>(r)] = count;
    }
  });
  ds.split = at::full({n}, 2, at::kByte);
  ds.split.slice(0, 0, o_.n_train).fill_(0);
  ds.split.slice(0, o_.n_train, o_.n_train + o_.n_val).fill_(1);
  json fraction = json::object();
  const int64_t bounds[4] = {0, o_.n_train, o_.n_train + o_.n_val, n};
  const char* names[3] = {"train", "val", "test"};
  for (int sp = 0; sp < 3; ++sp) {
    int64_t total = 0;
    for (int64_t r = bounds[sp]; r < bounds[sp + 1]; ++r) total += clipped[static_cast<size_t>(r)];
    const int64_t values = (bounds[sp + 1] - bounds[sp]) * m * hh;
    fraction[names[sp]] = values > 0 ? static_cast<double>(total) / static_cast<double>(values) : 0.0;
  }
  ds.truth["modal_energy"] = energy;
  ds.params["n_bumps"] = n_bumps;
  ds.params["centres"] = centres;
  ds.params["widths"] = widths;
  ds.params["amplitudes"] = amps;
  ds.params["c"] = speed;
  ds.header = generated_header("wave2d", options(), o_.seed);
  ds.header.options["u_max"] = u_max;
  ds.header.options["normalisation"] = "clip(0.5 + u/(2 u_max), 0, 1)";
  ds.header.options["clipped_fraction"] = fraction;
  return ds;
}

}  // namespace latdyn::sim
