// SPDX-License-Identifier: MIT
// Batched ODE solvers (baselines.md §2): euler, classical rk4, adaptive Dormand–Prince 5(4) with FSAL.
// Everything below works on a scalar "solver time" s and a field g(s, z); odeint() builds g for the shared-grid case
// (s = t) and for the per-trajectory case (s in [0, 1], MSVI's rescaling, §2.3).
#include "latdyn/nn/ode.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "latdyn/core/error.hpp"
#include "latdyn/core/config_reader.hpp"

namespace latdyn::nn {

void OdeOptions::check(const std::string& where) const {
  if (method != "euler" && method != "rk4" && method != "dopri5") {
    std::string near = closest_name(method, {"euler", "rk4", "dopri5"});
    throw ConfigError(where + ": unknown ODE method '" + method + "'",
                      (near.empty() ? std::string() : "did you mean '" + near + "'? ") + "methods: euler, rk4, dopri5");
  }
  if (!(rtol > 0) || !(atol > 0))
    throw ConfigError(concat(where, ": rtol and atol must be > 0 (got ", rtol, ", ", atol, ")"),
                      "typical values: rtol 1e-3, atol 1e-4 (Latent ODE) or 1e-5 (MSVI, NDP)");
  if (substeps < 0 || step < 0 || max_steps < 1)
    throw ConfigError(concat(where, ": substeps (", substeps, ") and step (", step, ") must be >= 0, max_steps (",
                             max_steps, ") >= 1"),
                      "substeps 0 and step 0 mean one step per output interval");
}

namespace {

using Field = std::function<at::Tensor(double s, const at::Tensor& z)>;

// Dormand & Prince (1980) tableau (baselines.md §2.2).
constexpr double kC[7] = {0.0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1.0, 1.0};
constexpr double kA[7][6] = {
    {0, 0, 0, 0, 0, 0},
    {1.0 / 5, 0, 0, 0, 0, 0},
    {3.0 / 40, 9.0 / 40, 0, 0, 0, 0},
    {44.0 / 45, -56.0 / 15, 32.0 / 9, 0, 0, 0},
    {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729, 0, 0},
    {9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656, 0},
    {35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84}};  // row 7 = b (5th order, FSAL)
constexpr double kB[7] = {35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0};
constexpr double kBStar[7] = {5179.0 / 57600, 0, 7571.0 / 16695, 393.0 / 640, -92097.0 / 339200, 187.0 / 2100, 1.0 / 40};

class Integrator {
 public:
  Integrator(Field g, const OdeOptions& o, OdeStats& stats) : g_(std::move(g)), o_(o), stats_(stats) {}

  /// Fixed-step integration of [s0, s1] in n equal steps. z: [B, n].
  at::Tensor fixed(at::Tensor z, double s0, double s1, int64_t n) {
    const double h = (s1 - s0) / static_cast<double>(n);
    for (int64_t i = 0; i < n; ++i) {
      const double s = (i + 1 == n) ? s1 - h : s0 + h * static_cast<double>(i);
      if (o_.method == "euler") {
        z = z + h * eval(s, z);
      } else if (o_.method == "rk4") {
        at::Tensor k1 = eval(s, z);
        at::Tensor k2 = eval(s + h / 2, z + (h / 2) * k1);
        at::Tensor k3 = eval(s + h / 2, z + (h / 2) * k2);
        at::Tensor k4 = eval(s + h, z + h * k3);
        z = z + (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4);
      } else {
        z = dopri_step(z, s, h, eval(s, z)).z_new;
      }
      ++stats_.accepted;
    }
    return z;
  }

  /// Adaptive dopri5 over [s0, s1]. h: proposed first step (<= 0: Hairer's heuristic); updated to the next
  /// proposal. k1: f(s0, z) when known (FSAL carry), else undefined; updated to f(s1, z(s1)).
  at::Tensor adaptive(at::Tensor z, double s0, double s1, double& h, at::Tensor& k1) {
    if (!k1.defined()) k1 = eval(s0, z);
    if (!(h > 0)) h = initial_step(z, s0, k1);
    double s = s0;
    int64_t attempts = 0;
    const double span = s1 - s0;
    while (s < s1) {
      if (attempts++ >= o_.max_steps)
        throw NumericalError(concat("ODE solver (dopri5): stiff or diverging dynamics: more than ", o_.max_steps,
                                    " steps in one output interval, stuck at solver time ", s, " (interval [", s0,
                                    ", ", s1, "], step ", h, ")"),
                             "lower the learning rate, clip gradients, loosen rtol/atol, or use a fixed-step "
                             "method (rk4) for this model");
      const bool last = s + h >= s1 - 1e-12 * std::max(1.0, std::abs(s1));
      const double h_used = last ? s1 - s : h;
      Step st = dopri_step(z, s, h_used, k1);
      const double r = error_ratio(st.err, z, st.z_new);
      double factor;
      if (std::isfinite(r) && r <= 1.0) {
        z = st.z_new;
        k1 = st.k7;
        s = last ? s1 : s + h_used;
        ++stats_.accepted;
        factor = r == 0.0 ? 10.0 : std::clamp(0.9 * std::pow(r, -0.2), 0.2, 10.0);
      } else {
        ++stats_.rejected;
        factor = std::isfinite(r) ? std::clamp(0.9 * std::pow(r, -0.2), 0.2, 10.0) : 0.2;
      }
      h = h_used * factor;
      if (!(h > 1e-14 * std::max(1.0, std::abs(span))) && s < s1)
        throw NumericalError(concat("ODE solver (dopri5): step size underflow (", h, ") at solver time ", s),
                             "the dynamics are stiff or diverging; loosen rtol/atol or lower the learning rate");
    }
    return z;
  }

 private:
  struct Step {
    at::Tensor z_new, err, k7;
  };

  at::Tensor eval(double s, const at::Tensor& z) {
    ++stats_.evaluations;
    return g_(s, z);
  }

  Step dopri_step(const at::Tensor& z, double s, double h, const at::Tensor& k1) {
    at::Tensor k[7];
    k[0] = k1;
    for (int i = 1; i < 7; ++i) {
      at::Tensor acc = z;
      for (int j = 0; j < i; ++j)
        if (kA[i][j] != 0.0) acc = acc + (h * kA[i][j]) * k[j];
      if (i == 6) {  // the 7th stage's input is the 5th-order solution (FSAL)
        k[6] = eval(s + h, acc);
        Step st;
        st.z_new = acc;
        st.k7 = k[6];
        at::Tensor e = at::zeros_like(z);
        for (int j = 0; j < 7; ++j)
          if (kB[j] != kBStar[j]) e = e + (h * (kB[j] - kBStar[j])) * k[j];
        st.err = e;
        return st;
      }
      k[i] = eval(s + kC[i] * h, acc);
    }
    return {};  // unreachable
  }

  // RMS over every batch entry of err / (atol + rtol max(|z|, |z_new|)), detached (no gradient through h).
  double error_ratio(const at::Tensor& err, const at::Tensor& z, const at::Tensor& z_new) const {
    at::NoGradGuard ng;
    at::Tensor scale = o_.atol + o_.rtol * at::maximum(z.detach().abs(), z_new.detach().abs());
    return (err.detach() / scale).pow(2).mean().sqrt().item<double>();
  }

  // Hairer, Nørsett & Wanner, Solving ODEs I, §II.4 starting-step heuristic, order p = 5.
  double initial_step(const at::Tensor& z0, double s0, const at::Tensor& f0) {
    at::NoGradGuard ng;
    at::Tensor scale = o_.atol + o_.rtol * z0.detach().abs();
    auto rms = [](const at::Tensor& x) { return x.pow(2).mean().sqrt().item<double>(); };
    const double d0 = rms(z0.detach() / scale), d1 = rms(f0.detach() / scale);
    const double h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
    at::Tensor f1 = eval(s0 + h0, z0.detach() + h0 * f0.detach());
    const double d2 = rms((f1 - f0.detach()) / scale) / h0;
    const double dm = std::max(d1, d2);
    const double h1 = dm <= 1e-15 ? std::max(1e-6, h0 * 1e-3) : std::pow(0.01 / dm, 1.0 / 6.0);
    return std::min(100.0 * h0, h1);
  }

  Field g_;
  const OdeOptions& o_;
  OdeStats& stats_;
};

int64_t fixed_steps(const OdeOptions& o, double delta) {
  if (o.substeps > 0) return o.substeps;
  if (o.step > 0) return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(delta / o.step - 1e-9)));
  return 1;
}

}  // namespace

at::Tensor odeint(const OdeField& f, const at::Tensor& z0, const at::Tensor& times, const OdeOptions& options,
                  OdeStats* stats) {
  TORCH_CHECK(z0.dim() == 2, "odeint: z0 must be [B, n], got ", z0.sizes());
  TORCH_CHECK(times.dim() == 1 || (times.dim() == 2 && times.size(0) == z0.size(0)),
              "odeint: times must be [T] or [B, T] with B = ", z0.size(0), ", got ", times.sizes());
  TORCH_CHECK(times.size(-1) >= 1, "odeint: times needs at least one entry");
  options.check("odeint");
  OdeStats local;
  OdeStats& st = stats ? *stats : local;
  st = OdeStats{};
  const int64_t B = z0.size(0), T = times.size(-1);
  at::Tensor tt = times.to(at::kDouble).cpu().contiguous();
  TORCH_CHECK(at::isfinite(tt).all().item<bool>(), "odeint: times contain non-finite values");
  const bool adaptive = options.method == "dopri5" && options.adaptive;

  std::vector<at::Tensor> out{z0};
  out.reserve(static_cast<size_t>(T));
  at::Tensor z = z0;
  // A [B, T] grid whose rows are all equal (and strictly increasing) takes the shared path: one controller run.
  if (tt.dim() == 2 && B > 0 && (tt == tt[0].unsqueeze(0)).all().item<bool>() &&
      (T < 2 || (tt[0].diff() > 0).all().item<bool>()))
    tt = tt[0].contiguous();
  if (tt.dim() == 1) {
    auto acc = tt.accessor<double, 1>();
    Field g = [&](double s, const at::Tensor& zz) { return f(at::full({B}, s, zz.options()), zz); };
    Integrator integ(g, options, st);
    double h = 0.0;
    at::Tensor k1;
    for (int64_t i = 0; i + 1 < T; ++i) {
      const double a = acc[i], b = acc[i + 1];
      TORCH_CHECK(b > a, "odeint: shared times must be strictly increasing (t[", i, "] = ", a, ", t[", i + 1,
                  "] = ", b, ")");
      z = adaptive ? integ.adaptive(z, a, b, h, k1) : integ.fixed(z, a, b, fixed_steps(options, b - a));
      out.push_back(z);
    }
  } else {
    // Per-trajectory grids: interval i of every row on the common unit interval (§2.3).
    at::Tensor t_rows = tt.to(z0.dtype()).to(z0.device());  // [B, T]
    at::Tensor gaps = tt.diff(1, 1);                          // [B, T-1] float64 on CPU
    TORCH_CHECK(T < 2 || (gaps >= 0).all().item<bool>(), "odeint: per-trajectory times must be non-decreasing");
    for (int64_t i = 0; i + 1 < T; ++i) {
      at::Tensor t0 = t_rows.select(1, i);                                // [B]
      at::Tensor dt = t_rows.select(1, i + 1) - t0;                       // [B]
      at::Tensor dt_col = dt.unsqueeze(1);                                // [B, 1]
      Field g = [&](double s, const at::Tensor& zz) { return dt_col * f(t0 + s * dt, zz); };
      Integrator integ(g, options, st);
      if (adaptive) {
        double h = 0.0;
        at::Tensor k1;
        z = integ.adaptive(z, 0.0, 1.0, h, k1);
      } else {
        z = integ.fixed(z, 0.0, 1.0, fixed_steps(options, gaps.select(1, i).max().item<double>()));
      }
      out.push_back(z);
    }
  }
  return at::stack(out, 1);  // [B, T, n]
}

}  // namespace latdyn::nn
