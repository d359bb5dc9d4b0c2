// SPDX-License-Identifier: MIT
// 2-D Navier–Stokes generator (datasets.md §6): GRF initial vorticity, pseudo-spectral integrating-factor RK4 with
// 2/3 dealiasing on torch::fft, recording at t = 1..50, and the §0.5 symmetric field normalisation.
#include "latdyn/sim/navier_stokes.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>  // at::get_num_threads

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <mutex>
#include <random>
#include <thread>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "latdyn/core/error.hpp"
#include "latdyn/core/log.hpp"
#include "latdyn/sim/normal_stream.hpp"

namespace latdyn::sim {
namespace {

constexpr double kPi = 3.14159265358979323846;

/// Interleaved (re, im) view of a contiguous complex128 tensor.
double* cplx(at::Tensor& t) { return reinterpret_cast<double*>(t.data_ptr<c10::complex<double>>()); }
const double* cplx(const at::Tensor& t) {
  return reinterpret_cast<const double*>(t.data_ptr<c10::complex<double>>());
}

/// Runs body(row, a) for every spectral row `row` in [0, rows) of length nh, a = row % n its wavenumber row. Serial:
/// the generator runs one solver per thread.
template <typename F>
void for_rows(int64_t rows, int64_t n, F&& body) {
  for (int64_t q = 0; q < rows; ++q) body(q, q % n);
}

}  // namespace

NavierStokesOptions NavierStokesOptions::from_json(const json& j) {
  ConfigReader r(j, "simulator options (navier_stokes)");
  r.accept("type");
  r.accept("normalization");  // derived output written into the file header; accepted back so a header parses again
  NavierStokesOptions o;
  o.profile = r.get<std::string>("profile", o.profile);
  check_profile(r, "navier_stokes", o.profile, {"default", "quick"});
  if (o.profile == "quick") {
    o.n_trajectories = 50, o.n_train = 40, o.n_val = 5;  // 10 % of 500, split 80/10/10 (datasets.md §0.2)
    o.grid = 64;                                          // §6.1: quick simulates on 64 x 64
    o.resolution = 32;                                    // the smallest resolution (§0.2)
  }
  o.n_trajectories = r.get("n_trajectories", o.n_trajectories);
  o.n_train = r.get("n_train", o.n_train);
  o.n_val = r.get("n_val", o.n_val);
  o.frames = r.get("frames", o.frames);
  o.dt = r.get("dt", o.dt);
  o.resolution = r.get("resolution", o.resolution);
  o.grid = r.get("grid", o.grid);
  o.nu = r.get("nu", o.nu);
  o.forcing = r.get("forcing", o.forcing);
  o.alpha = r.get("alpha", o.alpha);
  o.tau = r.get("tau", o.tau);
  o.dt_sim = r.get("dt_sim", o.dt_sim);
  o.cfl_max = r.get("cfl_max", o.cfl_max);
  o.batch_size = r.get("batch_size", o.batch_size);
  o.w_max = r.get("w_max", o.w_max);
  o.seed = r.get("seed", o.seed);
  r.finish();
  check_split(r, o.n_trajectories, o.n_train, o.n_val);
  if (o.grid < 8 || o.grid % 2 != 0)
    r.throw_error(concat("grid ", o.grid, " is not supported"), "use an even simulation grid >= 8; the recipe is 128");
  if (o.resolution < 16 || o.resolution % 16 != 0 || o.resolution > o.grid || o.grid % o.resolution != 0)
    r.throw_error(concat("resolution ", o.resolution, " is not supported with grid ", o.grid),
                  "use 32, 64 (default) or 128, divisible by 16 and dividing grid (subsampling by stride; 128 needs "
                  "grid >= 128)");
  if (o.frames < 2 || !(o.dt > 0) || !(o.dt_sim > 0))
    r.throw_error(concat("bad frames ", o.frames, ", dt ", o.dt, " or dt_sim ", o.dt_sim),
                  "need frames >= 2 and positive dt and dt_sim (recipe: 50, 1.0, 2.5e-3)");
  const double ratio = o.dt / o.dt_sim;
  if (std::abs(ratio - std::round(ratio)) > 1e-9 * ratio)
    r.throw_error(concat("dt ", o.dt, " is not a whole number of solver steps dt_sim ", o.dt_sim),
                  "choose dt_sim = dt / k for an integer k (recipe: 1.0 / 400 = 2.5e-3)");
  if (!(o.nu >= 0) || !(o.alpha > 1) || !(o.tau >= 0) || !(o.cfl_max > 0))
    r.throw_error(concat("bad nu ", o.nu, ", alpha ", o.alpha, ", tau ", o.tau, " or cfl_max ", o.cfl_max),
                  "need nu >= 0, alpha > 1, tau >= 0, cfl_max > 0 (recipe: 1e-3, 2.5, 7, 0.5)");
  if (o.batch_size < 1) r.throw_error(concat("bad batch_size ", o.batch_size), "use a positive batch size, e.g. 32");
  if (!(o.w_max >= 0))
    r.throw_error(concat("bad w_max ", o.w_max),
                  "use 0 (the 99.9th percentile of |w| over the training split) or a fixed w_max > 0");
  return o;
}

json NavierStokesOptions::to_json() const {
  return {{"type", "navier_stokes"}, {"profile", profile}, {"n_trajectories", n_trajectories}, {"n_train", n_train},
          {"n_val", n_val}, {"frames", frames}, {"dt", dt}, {"resolution", resolution}, {"grid", grid}, {"nu", nu},
          {"forcing", forcing}, {"alpha", alpha}, {"tau", tau}, {"dt_sim", dt_sim}, {"cfl_max", cfl_max},
          {"batch_size", batch_size}, {"w_max", w_max}, {"seed", seed}};
}

at::Tensor gaussian_random_field(int64_t n, double alpha, double tau, uint64_t seed) {
  LATDYN_CHECK(n >= 2 && n % 2 == 0, Error, "gaussian_random_field: grid ", n, " must be even");
  std::mt19937_64 rng(seed);
  NormalStream normal(rng);
  const double sigma = std::pow(tau, alpha - 1.0);  // σ = τ^((2α − 2)/2) (§6.2)
  const int64_t h = n / 2;
  at::Tensor c = at::empty({n, n}, at::kComplexDouble);  // [ky index, kx index]
  double* cp = cplx(c);
  std::fill(cp, cp + 2 * n * n, 0.0);
  for (int64_t m = 1; m <= h; ++m) {  // ring max(|kx|, |ky|) = m; k = 0 stays 0
    for (int64_t ky = -m; ky <= m; ++ky) {
      for (int64_t kx = -m; kx <= m; ++kx) {
        if (std::max(std::abs(kx), std::abs(ky)) != m) continue;
        const double xi = normal(), eta = normal();
        if (kx >= h || ky >= h) continue;  // +n/2 is not an FFT wavenumber of the grid (it is −n/2)
        const double lam = 4.0 * kPi * kPi * static_cast<double>(kx * kx + ky * ky) + tau * tau;
        const double amp = std::sqrt(2.0) * sigma * std::pow(lam, -alpha / 2.0);
        const int64_t idx = ((ky + n) % n) * n + (kx + n) % n;
        cp[2 * idx] = amp * xi, cp[2 * idx + 1] = amp * eta;
      }
    }
  }
  // Σ_k c_k e^{2πi k·x} = n² ifft2(c); keep the real part.
  at::Tensor z = at::fft_ifft2(c).contiguous();
  at::Tensor w = at::empty({n, n}, at::kDouble);
  const double* zp = cplx(z);
  double* wp = w.data_ptr<double>();
  const double scale = static_cast<double>(n * n);
  for (int64_t p = 0; p < n * n; ++p) wp[p] = zp[2 * p] * scale;
  return w;
}

NavierStokesSolver::NavierStokesSolver(int64_t n, double nu, double dt, double forcing)
    : n_(n), nh_(n / 2 + 1), plane_(n * (n / 2 + 1)), nu_(nu), dt_(dt) {
  LATDYN_CHECK(n >= 4 && n % 2 == 0, Error, "NavierStokesSolver: grid ", n, " must be even and >= 4");
  const int64_t kmax = (n - 1) / 3;  // 2/3 rule: 3 kmax < n, so products of kept modes never alias onto kept modes
  for (auto* v : {&kx_, &ky_, &inv_lap_, &mask_, &e_full_, &e_half_}) v->assign(static_cast<size_t>(plane_), 0.0);
  for (int64_t a = 0; a < n; ++a) {
    const int64_t ky = a < n / 2 ? a : a - n;
    for (int64_t b = 0; b < nh_; ++b) {
      const int64_t kx = b, p = a * nh_ + b;
      const double k2 = static_cast<double>(kx * kx + ky * ky);
      kx_[p] = b == n / 2 ? 0.0 : 2.0 * kPi * static_cast<double>(kx);  // Nyquist derivative of a real field: 0
      ky_[p] = a == n / 2 ? 0.0 : 2.0 * kPi * static_cast<double>(ky);
      inv_lap_[p] = k2 > 0 ? 1.0 / (4.0 * kPi * kPi * k2) : 0.0;      // ψ̂ = ŵ/(4π²|k|²), ψ̂_0 = 0 (§6.3)
      mask_[p] = (std::abs(kx) <= kmax && std::abs(ky) <= kmax) ? 1.0 : 0.0;
      e_full_[p] = std::exp(-4.0 * kPi * kPi * nu * k2 * dt);  // integrating factor (§6.3)
      e_half_[p] = std::exp(-4.0 * kPi * kPi * nu * k2 * dt / 2.0);
    }
  }
  // f(x, y) = A (sin 2π(x + y) + cos 2π(x + y)) (§6.1), x = column / n, y = row / n.
  at::Tensor f = at::empty({1, n, n}, at::kDouble);
  double* fp = f.data_ptr<double>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const double s = 2.0 * kPi * static_cast<double>(i + j) / static_cast<double>(n);
      fp[i * n + j] = forcing * (std::sin(s) + std::cos(s));
    }
  at::Tensor fh = to_spectral(f);
  const double* fhp = cplx(fh);
  f_hat_.resize(static_cast<size_t>(plane_));
  for (int64_t p = 0; p < plane_; ++p) f_hat_[p] = {fhp[2 * p], fhp[2 * p + 1]};
}

at::Tensor NavierStokesSolver::to_spectral(const at::Tensor& w) const {
  TORCH_CHECK(w.dim() == 3 && w.size(1) == n_ && w.size(2) == n_ && w.scalar_type() == at::kDouble,
              "NavierStokesSolver::to_spectral expects [B, n, n] float64");
  return at::fft_rfft2(w).contiguous();
}

at::Tensor NavierStokesSolver::to_physical(const at::Tensor& w_hat) const {
  TORCH_CHECK(w_hat.dim() == 3 && w_hat.size(1) == n_ && w_hat.size(2) == nh_,
              "NavierStokesSolver::to_physical expects [B, n, n/2+1] complex128");
  return at::fft_irfft2(w_hat, at::IntArrayRef{n_, n_}).contiguous();
}

std::pair<at::Tensor, at::Tensor> NavierStokesSolver::velocity(const at::Tensor& w_hat) const {
  const int64_t batch = w_hat.size(0);
  at::Tensor uv = at::empty({2, batch, n_, nh_}, at::kComplexDouble);
  const at::Tensor wc = w_hat.contiguous();
  const double* w = cplx(wc);
  double* u = cplx(uv);
  double* v = u + 2 * batch * plane_;
  for_rows(batch * n_, n_, [&](int64_t q, int64_t a) {
    for (int64_t b = 0; b < nh_; ++b) {
      const int64_t p = a * nh_ + b, e = 2 * (q * nh_ + b);
      const double pr = w[e] * inv_lap_[p], pi = w[e + 1] * inv_lap_[p];  // ψ̂
      u[e] = -ky_[p] * pi, u[e + 1] = ky_[p] * pr;   // û = i k_y ψ̂ (2π in k)
      v[e] = kx_[p] * pi, v[e + 1] = -kx_[p] * pr;   // v̂ = −i k_x ψ̂
    }
  });
  at::Tensor phys = at::fft_irfft2(uv, at::IntArrayRef{n_, n_});  // contiguous [2, B, n, n]
  return {phys[0], phys[1]};
}

void NavierStokesSolver::ensure_workspace(int64_t batch) {
  if (batch == batch_) return;
  batch_ = batch;
  spec4_ = at::empty({4, batch, n_, nh_}, at::kComplexDouble);
  prod_ = at::empty({batch, n_, n_}, at::kDouble);
  k_ = at::empty({batch, n_, nh_}, at::kComplexDouble);
  acc_ = at::empty({batch, n_, nh_}, at::kComplexDouble);
  stage_ = at::empty({batch, n_, nh_}, at::kComplexDouble);
}

void NavierStokesSolver::rhs(const at::Tensor& w_hat, at::Tensor& out, double* max_speed) {
  TORCH_CHECK(w_hat.dim() == 3 && w_hat.size(1) == n_ && w_hat.size(2) == nh_ && w_hat.is_contiguous() &&
                  w_hat.scalar_type() == at::kComplexDouble,
              "NavierStokesSolver::rhs expects a contiguous [B, n, n/2+1] complex128 tensor");
  const int64_t batch = w_hat.size(0), stride = batch * plane_;
  ensure_workspace(batch);
  if (!out.defined() || out.sizes() != w_hat.sizes()) out = at::empty_like(w_hat);
  const double* w = cplx(w_hat);
  double* s = cplx(spec4_);
  // Spectral (û, v̂, ∂_x ŵ, ∂_y ŵ) [4, B, n, n/2+1].
  for_rows(batch * n_, n_, [&](int64_t q, int64_t a) {
    for (int64_t b = 0; b < nh_; ++b) {
      const int64_t p = a * nh_ + b, e = 2 * (q * nh_ + b);
      const double wr = w[e], wi = w[e + 1], pr = wr * inv_lap_[p], pi = wi * inv_lap_[p], kx = kx_[p], ky = ky_[p];
      s[e] = -ky * pi, s[e + 1] = ky * pr;                          // û = i k_y ψ̂
      s[2 * stride + e] = kx * pi, s[2 * stride + e + 1] = -kx * pr;  // v̂ = −i k_x ψ̂
      s[4 * stride + e] = -kx * wi, s[4 * stride + e + 1] = kx * wr;  // ∂_x ŵ = i k_x ŵ
      s[6 * stride + e] = -ky * wi, s[6 * stride + e + 1] = ky * wr;  // ∂_y ŵ = i k_y ŵ
    }
  });
  // One batched FFT call. The functional form: the _out form copies through a TensorIterator (torch parallel work).
  phys4_ = at::fft_irfft2(spec4_, at::IntArrayRef{n_, n_}).contiguous();
  const int64_t np = batch * n_ * n_;
  const double* ph = phys4_.data_ptr<double>();
  double* pr = prod_.data_ptr<double>();
  for (int64_t i = 0; i < np; ++i) pr[i] = ph[i] * ph[2 * np + i] + ph[np + i] * ph[3 * np + i];  // u·∇w
  if (max_speed) {
    double m2 = 0.0;
    for (int64_t i = 0; i < np; ++i) m2 = std::max(m2, ph[i] * ph[i] + ph[np + i] * ph[np + i]);
    *max_speed = std::sqrt(m2);
    if (!std::isfinite(m2)) *max_speed = std::numeric_limits<double>::infinity();
    for (int64_t i = 0; i < np && std::isfinite(*max_speed); ++i)
      if (!std::isfinite(ph[i]) || !std::isfinite(ph[np + i])) *max_speed = std::numeric_limits<double>::infinity();
  }
  prod_hat_ = at::fft_rfft2(prod_).contiguous();
  const double* nl = cplx(prod_hat_);
  double* o = cplx(out);
  const double* fh = reinterpret_cast<const double*>(f_hat_.data());
  for_rows(batch * n_, n_, [&](int64_t q, int64_t a) {
    for (int64_t b = 0; b < nh_; ++b) {
      const int64_t p = a * nh_ + b, e = 2 * (q * nh_ + b);
      o[e] = -mask_[p] * nl[e] + fh[2 * p];  // F = −D(u·∇w)^ + f̂
      o[e + 1] = -mask_[p] * nl[e + 1] + fh[2 * p + 1];
    }
  });
}

void NavierStokesSolver::step(at::Tensor& w_hat, double* max_speed) {
  const int64_t batch = w_hat.size(0);
  ensure_workspace(batch);
  const double h = dt_;
  double* w = cplx(w_hat);
  // Each lambda updates one spectral row; E and E½ are real, so complex arithmetic is two real updates.
  auto rows = [&](auto&& body) {
    for_rows(batch * n_, n_, [&](int64_t q, int64_t a) {
      for (int64_t b = 0; b < nh_; ++b) {
        const int64_t p = a * nh_ + b, e = 2 * (q * nh_ + b);
        body(p, e);
        body(p, e + 1);
      }
    });
  };
  rhs(w_hat, k_, max_speed);  // K1
  double *k = cplx(k_), *acc = cplx(acc_), *st = cplx(stage_);
  rows([&](int64_t p, int64_t e) {
    acc[e] = e_full_[p] * k[e];
    st[e] = e_half_[p] * (w[e] + 0.5 * h * k[e]);
  });
  rhs(stage_, k_);  // K2
  rows([&](int64_t p, int64_t e) {
    acc[e] += 2.0 * e_half_[p] * k[e];
    st[e] = e_half_[p] * w[e] + 0.5 * h * k[e];
  });
  rhs(stage_, k_);  // K3
  rows([&](int64_t p, int64_t e) {
    acc[e] += 2.0 * e_half_[p] * k[e];
    st[e] = e_full_[p] * w[e] + h * e_half_[p] * k[e];
  });
  rhs(stage_, k_);  // K4
  rows([&](int64_t p, int64_t e) { w[e] = e_full_[p] * w[e] + h / 6.0 * (acc[e] + k[e]); });
}

data::Dataset NavierStokes::generate() const {
  const int64_t n = o_.n_trajectories, m = o_.frames, g = o_.grid, res = o_.resolution, stride = g / res;
  const int64_t steps_per_frame = static_cast<int64_t>(std::llround(o_.dt / o_.dt_sim));
  data::Dataset ds;
  ds.y = at::empty({n, m, 1, res, res}, at::kFloat);  // raw w first, mapped at the end (§6.4)
  ds.t = (at::arange(1, m + 1, at::kDouble) * o_.dt).unsqueeze(0).repeat({n, 1}).contiguous();
  at::Tensor w0_out = at::empty({n, res, res}, at::kFloat), energy = at::empty({n, m}, at::kDouble),
             enstrophy = at::empty({n, m}, at::kDouble);
  // Subsample by stride, image row 0 at the top: out[a][b] = w[(res − 1 − a) stride][b stride].
  auto sample = [&](const double* w, float* out) {
    for (int64_t a = 0; a < res; ++a)
      for (int64_t b = 0; b < res; ++b)
        out[a * res + b] = static_cast<float>(w[((res - 1 - a) * stride) * g + b * stride]);
  };
  const double dx = 1.0 / static_cast<double>(g);
#if defined(__GLIBC__)
  // Every FFT call allocates temporaries of a few MB. By default glibc hands such blocks back to the kernel when
  // they are freed, so each call faults its pages in again, which costs more than the FFT itself on a virtual
  // machine (measured 5-10x for small batches). Keep freed memory in the process (a process-wide malloc setting).
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
  const auto t_start = std::chrono::steady_clock::now();
  // Batches of batch_size trajectories share the solver's FFT calls; the batches are spread over the threads, each
  // thread with its own solver (torch's CPU FFT runs on the calling thread, so this keeps every core busy).
  const int64_t n_batches = (n + o_.batch_size - 1) / o_.batch_size;
  parallel_chunks(n_batches, [&](int64_t batch_begin, int64_t batch_end) {
    NavierStokesSolver solver(g, o_.nu, o_.dt_sim, o_.forcing);
    for (int64_t batch = batch_begin; batch < batch_end; ++batch) {
      const int64_t r0 = batch * o_.batch_size, nb = std::min(o_.batch_size, n - r0);
      at::Tensor w0 = at::empty({nb, g, g}, at::kDouble);
      for (int64_t b = 0; b < nb; ++b) {  // datasets.md §0.2: trajectory r uses seed base_seed + r
        const at::Tensor grf = gaussian_random_field(g, o_.alpha, o_.tau, o_.seed + static_cast<uint64_t>(r0 + b));
        std::copy_n(grf.data_ptr<double>(), g * g, w0.data_ptr<double>() + b * g * g);
        sample(w0.data_ptr<double>() + b * g * g, w0_out.data_ptr<float>() + (r0 + b) * res * res);
      }
      at::Tensor w_hat = solver.to_spectral(w0);
      int64_t step = 0;
      for (int64_t k = 0; k < m; ++k) {
        for (int64_t s = 0; s < steps_per_frame; ++s, ++step) {
          double speed = 0.0;
          const bool check = step % 100 == 0;  // CFL check every 100 steps (§6.3)
          solver.step(w_hat, check ? &speed : nullptr);
          if (check && !(o_.dt_sim * speed / dx <= o_.cfl_max))
            throw NumericalError(concat("navier_stokes: CFL number dt max|u| / dx = ", o_.dt_sim * speed / dx,
                                        " exceeds ", o_.cfl_max, " at t = ", static_cast<double>(step) * o_.dt_sim,
                                        " (trajectories ", r0, "..", r0 + nb - 1, ")"),
                                 concat("reduce dt_sim (now ", o_.dt_sim, "), e.g. to ", o_.dt_sim / 2,
                                        ", keeping dt a whole multiple of it"));
        }
        at::Tensor w = solver.to_physical(w_hat);
        auto [u, v] = solver.velocity(w_hat);
        const double *wp = w.data_ptr<double>(), *up = u.data_ptr<double>(), *vp = v.data_ptr<double>();
        const double inv = 1.0 / static_cast<double>(g * g);
        for (int64_t b = 0; b < nb; ++b) {
          const int64_t r = r0 + b, off = b * g * g;
          double e = 0.0, z = 0.0, mean = 0.0;
          for (int64_t p = 0; p < g * g; ++p) {
            e += up[off + p] * up[off + p] + vp[off + p] * vp[off + p];
            z += wp[off + p] * wp[off + p];
            mean += wp[off + p];
          }
          energy.data_ptr<double>()[r * m + k] = 0.5 * e * inv;
          enstrophy.data_ptr<double>()[r * m + k] = 0.5 * z * inv;
          // §6 check: the mean vorticity stays 0 (the forcing and u·∇w have zero mean).
          if (!(std::abs(mean * inv) <= 1e-8 * (1.0 + std::sqrt(z * inv))))
            throw NumericalError(concat("navier_stokes: mean vorticity ", mean * inv, " of trajectory ", r, " at t = ",
                                        ds.t.data_ptr<double>()[r * m + k], " is not 0 (or the field is not finite)"),
                                 "reduce dt_sim or check nu; the solver should conserve the zero mean to round-off");
          sample(wp + off, ds.y.data_ptr<float>() + (r * m + k) * res * res);
        }
      }
      if (batch_begin == 0 && ((batch + 1) % std::max<int64_t>(1, batch_end / 10) == 0 || batch + 1 == batch_end)) {
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
        log::info(concat("navier_stokes: ", batch + 1, " of ", batch_end, " batches of the first thread done (", secs,
                         " s)"));
      }
    }
  });
  ds.split = at::full({n}, 2, at::kByte);
  ds.split.slice(0, 0, o_.n_train).fill_(0);
  ds.split.slice(0, o_.n_train, o_.n_train + o_.n_val).fill_(1);
  // §6.4 / §0.5: w_max = 99.9th percentile of |w| over the training split, unless the option fixes it.
  const bool fixed = o_.w_max > 0;
  const std::vector<double> scale =
      fixed ? std::vector<double>{o_.w_max} : training_abs_percentiles(ds.y, ds.split, 99.9);
  json norm = apply_symmetric_map(ds.y, ds.split, scale,
                                  fixed ? "fixed (option w_max)" : "99.9th percentile of |w| over the training split",
                                  "vorticity w (scale = w_max)");
  ds.params["w0"] = w0_out;
  ds.params["nu"] = at::full({n}, o_.nu, at::kDouble);
  ds.params["grf_seed"] = at::arange(n, at::kLong) + static_cast<int64_t>(o_.seed);
  ds.truth["energy"] = energy;
  ds.truth["enstrophy"] = enstrophy;
  ds.header = generated_header("navier_stokes", options(), o_.seed);
  ds.header.options["normalization"] = norm;
  return ds;
}

void parallel_chunks(int64_t n, const std::function<void(int64_t, int64_t)>& body) {
  if (n <= 0) return;
  const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(n, at::get_num_threads()));
  std::exception_ptr error;
  std::mutex error_mutex;
  auto run = [&](int64_t c) {
    try {
      body(c * n / chunks, (c + 1) * n / chunks);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  for (int64_t c = 1; c < chunks; ++c) threads.emplace_back(run, c);
  run(0);
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
}

double abs_percentile(const std::vector<std::pair<const float*, int64_t>>& spans, double q) {
  int64_t n = 0;
  float vmax = 0.0f;
  for (auto [p, len] : spans) {
    n += len;
    for (int64_t i = 0; i < len; ++i) vmax = std::max(vmax, std::abs(p[i]));
  }
  if (n == 0 || !(vmax > 0.0f)) return 0.0;
  const double pos = q / 100.0 * static_cast<double>(n - 1);
  const int64_t lo = static_cast<int64_t>(std::floor(pos)), hi = std::min(lo + 1, n - 1);
  // A histogram finds the bins holding the two order statistics; only those bins' values are sorted.
  constexpr int64_t kBins = 1 << 16;
  const double to_bin = static_cast<double>(kBins) / static_cast<double>(vmax);
  auto bin = [&](float x) {
    return std::clamp<int64_t>(static_cast<int64_t>(static_cast<double>(std::abs(x)) * to_bin), 0, kBins - 1);
  };
  std::vector<int64_t> count(kBins, 0);
  for (auto [p, len] : spans)
    for (int64_t i = 0; i < len; ++i) ++count[bin(p[i])];
  int64_t below = 0, b_lo = 0;
  while (below + count[b_lo] <= lo) below += count[b_lo++];
  int64_t b_hi = b_lo, upto = below + count[b_lo];
  while (upto <= hi) upto += count[++b_hi];
  std::vector<float> sel;
  sel.reserve(static_cast<size_t>(upto - below));
  for (auto [p, len] : spans)
    for (int64_t i = 0; i < len; ++i) {
      const int64_t b = bin(p[i]);
      if (b >= b_lo && b <= b_hi) sel.push_back(std::abs(p[i]));
    }
  std::sort(sel.begin(), sel.end());
  const double a = sel[static_cast<size_t>(lo - below)], c = sel[static_cast<size_t>(hi - below)];
  return a + (c - a) * (pos - static_cast<double>(lo));
}

std::vector<double> training_abs_percentiles(const at::Tensor& y, const at::Tensor& split, double q) {
  TORCH_CHECK(y.dim() == 5 && y.is_contiguous() && y.scalar_type() == at::kFloat,
              "training_abs_percentiles expects a contiguous [N, M, C, H, W] float32 tensor");
  const int64_t n = y.size(0), m = y.size(1), ch = y.size(2), plane = y.size(3) * y.size(4);
  const uint8_t* sp = split.data_ptr<uint8_t>();
  const float* yp = y.data_ptr<float>();
  std::vector<double> scale(static_cast<size_t>(ch));
  for (int64_t c = 0; c < ch; ++c) {
    std::vector<std::pair<const float*, int64_t>> spans;
    for (int64_t r = 0; r < n; ++r)
      if (sp[r] == 0)
        for (int64_t k = 0; k < m; ++k) spans.emplace_back(yp + ((r * m + k) * ch + c) * plane, plane);
    scale[static_cast<size_t>(c)] = abs_percentile(spans, q);
  }
  return scale;
}

json apply_symmetric_map(at::Tensor& y, const at::Tensor& split, std::vector<double> scale,
                         const std::string& scale_rule, const std::string& quantity) {
  TORCH_CHECK(y.dim() == 5 && y.is_contiguous() && y.scalar_type() == at::kFloat &&
                  static_cast<int64_t>(scale.size()) == y.size(2),
              "apply_symmetric_map expects a contiguous [N, M, C, H, W] float32 tensor and C scales");
  const int64_t n = y.size(0), m = y.size(1), ch = y.size(2), plane = y.size(3) * y.size(4);
  for (double& s : scale)
    if (!(s > 0)) s = 1.0;  // an all-zero training split (far from any recipe) keeps the raw values
  const uint8_t* sp = split.data_ptr<uint8_t>();
  float* yp = y.data_ptr<float>();
  // y = clip(0.5 + u/(2 scale), 0, 1) (§0.5), counting the clipped values per trajectory.
  std::vector<int64_t> clipped(static_cast<size_t>(n), 0);
  parallel_chunks(n, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      int64_t cnt = 0;
      for (int64_t k = 0; k < m; ++k)
        for (int64_t c = 0; c < ch; ++c) {
          float* p = yp + ((r * m + k) * ch + c) * plane;
          const double inv = 1.0 / (2.0 * scale[static_cast<size_t>(c)]);
          for (int64_t i = 0; i < plane; ++i) {
            const double v = 0.5 + static_cast<double>(p[i]) * inv;
            cnt += (v < 0.0 || v > 1.0) ? 1 : 0;
            p[i] = static_cast<float>(std::clamp(v, 0.0, 1.0));
          }
        }
      clipped[static_cast<size_t>(r)] = cnt;
    }
  });
  json frac = json::object();
  const char* names[3] = {"train", "val", "test"};
  for (uint8_t s = 0; s < 3; ++s) {
    int64_t c = 0, rows = 0;
    for (int64_t r = 0; r < n; ++r)
      if (sp[r] == s) c += clipped[static_cast<size_t>(r)], ++rows;
    frac[names[s]] = rows > 0 ? static_cast<double>(c) / static_cast<double>(rows * m * ch * plane) : 0.0;
  }
  return {{"map", "y = clip(0.5 + u/(2 scale), 0, 1)"},
          {"inverse", "u = (2 y - 1) scale (exact where 0 < y < 1)"},
          {"quantity", quantity},
          {"scale", scale},
          {"scale_rule", scale_rule},
          {"clipped_fraction", frac}};
}

}  // namespace latdyn::sim
