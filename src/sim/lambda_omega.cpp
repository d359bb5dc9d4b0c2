// SPDX-License-Identifier: MIT
// λ–ω reaction–diffusion generator (datasets.md §5): spiral initial condition, burn-in, RK4 with the 5-point periodic
// Laplacian, block-averaged observation with the fixed map y = clip((u + 1)/2, 0, 1) (§0.5).
#include "latdyn/sim/lambda_omega.hpp"


#include <algorithm>
#include <cmath>
#include <random>

#include "latdyn/core/error.hpp"
#include "latdyn/core/rng.hpp"
#include "latdyn/sim/navier_stokes.hpp"  // parallel_chunks
#include "latdyn/sim/time_grid.hpp"

namespace latdyn::sim {
namespace {

constexpr double kPi = 3.14159265358979323846;

}  // namespace

LambdaOmegaOptions LambdaOmegaOptions::from_json(const json& j) {
  ConfigReader r(j, "simulator options (lambda_omega)");
  r.accept("type");
  r.accept("normalization");  // derived output written into the file header; accepted back so a header parses again
  LambdaOmegaOptions o;
  o.profile = r.get<std::string>("profile", o.profile);
  check_profile(r, "lambda_omega", o.profile, {"default", "quick"});
  if (o.profile == "quick") {
    o.n_trajectories = 50, o.n_train = 40, o.n_val = 5;  // 10 % of 500, split 80/10/10 (datasets.md §0.2)
    o.resolution = 32;                                    // the smallest resolution (§0.2); same simulation grid
  }
  o.n_trajectories = r.get("n_trajectories", o.n_trajectories);
  o.n_train = r.get("n_train", o.n_train);
  o.n_val = r.get("n_val", o.n_val);
  o.frames = r.get("frames", o.frames);
  o.dt = r.get("dt", o.dt);
  o.resolution = r.get("resolution", o.resolution);
  o.grid = r.get("grid", o.grid);
  o.domain = r.get("domain", o.domain);
  o.beta = r.get("beta", o.beta);
  o.d1 = r.get("d1", o.d1);
  o.d2 = r.get("d2", o.d2);
  o.dt_sim = r.get("dt_sim", o.dt_sim);
  o.arms = r.get("arms", o.arms);
  o.centre_range = r.get("centre_range", o.centre_range);
  o.t_burn_min = r.get("t_burn_min", o.t_burn_min);
  o.t_burn_max = r.get("t_burn_max", o.t_burn_max);
  o.channels = r.get("channels", o.channels);
  o.irregular = r.get("irregular", o.irregular);
  o.store_full_fields = r.get("store_full_fields", o.store_full_fields);
  o.seed = r.get("seed", o.seed);
  r.finish();
  check_split(r, o.n_trajectories, o.n_train, o.n_val);
  if (o.grid < 8 || o.grid % 2 != 0)
    r.throw_error(concat("grid ", o.grid, " is not supported"), "use an even simulation grid >= 8; the recipe is 128");
  if (o.resolution < 16 || o.resolution % 16 != 0 || o.resolution > o.grid || o.grid % o.resolution != 0)
    r.throw_error(concat("resolution ", o.resolution, " is not supported with grid ", o.grid),
                  "use 32, 64 (default) or 128, divisible by 16 and dividing grid (block averaging)");
  if (o.frames < 2 || !(o.dt > 0) || !(o.dt_sim > 0) || !(o.domain > 0))
    r.throw_error(concat("bad frames ", o.frames, ", dt ", o.dt, ", dt_sim ", o.dt_sim, " or domain ", o.domain),
                  "need frames >= 2 and positive dt, dt_sim and domain (recipe: 50, 0.2, 0.01, 20)");
  if (!(o.d1 >= 0) || !(o.d2 >= 0))
    r.throw_error(concat("bad diffusion constants d1 ", o.d1, ", d2 ", o.d2), "need d1, d2 >= 0 (recipe: 0.1, 0.1)");
  if (o.arms != 1 && o.arms != 2) r.throw_error(concat("bad arms ", o.arms), "the spiral arm number m is 1 or 2");
  if (o.channels != 1 && o.channels != 2)
    r.throw_error(concat("bad channels ", o.channels), "use 1 (u only) or 2 (u, v)");
  if (!(o.centre_range >= 0) || o.centre_range >= o.domain / 2)
    r.throw_error(concat("bad centre_range ", o.centre_range), "need 0 <= centre_range < domain/2 (recipe: 3)");
  if (!(o.t_burn_min >= 0) || !(o.t_burn_max >= o.t_burn_min))
    r.throw_error(concat("bad burn-in range [", o.t_burn_min, ", ", o.t_burn_max, "]"),
                  "need 0 <= t_burn_min <= t_burn_max (recipe: 2, 4)");
  // RK4 is stable for real eigenvalues down to -2.78/h; the 5-point Laplacian reaches -8 d / dx^2.
  const double dx = o.domain / static_cast<double>(o.grid);
  const double stiff = 8.0 * std::max(o.d1, o.d2) / (dx * dx) * o.dt_sim;
  if (stiff > 2.5)
    r.throw_error(concat("dt_sim ", o.dt_sim, " is unstable for RK4 with d = ", std::max(o.d1, o.d2), " and dx = ", dx,
                         " (8 d dt_sim / dx^2 = ", stiff, ")"),
                  concat("reduce dt_sim below ", 2.5 * dx * dx / (8.0 * std::max(o.d1, o.d2))));
  return o;
}

json LambdaOmegaOptions::to_json() const {
  return {{"type", "lambda_omega"}, {"profile", profile}, {"n_trajectories", n_trajectories}, {"n_train", n_train},
          {"n_val", n_val}, {"frames", frames}, {"dt", dt}, {"resolution", resolution}, {"grid", grid},
          {"domain", domain}, {"beta", beta}, {"d1", d1}, {"d2", d2}, {"dt_sim", dt_sim}, {"arms", arms},
          {"centre_range", centre_range}, {"t_burn_min", t_burn_min}, {"t_burn_max", t_burn_max},
          {"channels", channels}, {"irregular", irregular}, {"store_full_fields", store_full_fields}, {"seed", seed}};
}

LambdaOmegaSolver::LambdaOmegaSolver(int64_t n, double dx, double beta, double d1, double d2)
    : n_(n), inv_dx2_(1.0 / (dx * dx)), beta_(beta), d1_(d1), d2_(d2) {
  LATDYN_CHECK(n >= 3, Error, "LambdaOmegaSolver: grid ", n, " too small (need >= 3)");
  for (auto* w : {&ku_, &kv_, &au_, &av_, &tu_, &tv_}) w->assign(static_cast<size_t>(n * n), 0.0);
}

namespace {

// The RK4 sweep is compiled for AVX2 and for the baseline and picked at run time (GCC function multiversioning);
// AVX2 without FMA rounds every operation as the scalar code does, so results are the same on every x86-64 machine.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define LATDYN_LO_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define LATDYN_LO_CLONES
#endif

/// §5.1 right-hand side on the periodic n x n grid: reaction (1 − r²)(u, v) + β r² (v, −u) plus d Δ (5-point).
/// c1 = d1/dx², c2 = d2/dx².
inline void lo_rhs(int64_t n, double c1, double c2, double beta, const double* __restrict u,
                   const double* __restrict v, double* __restrict du, double* __restrict dv) {
  auto node = [&](int64_t p, int64_t west, int64_t east, int64_t north, int64_t south) {
    const double uu = u[p], vv = v[p], r2 = uu * uu + vv * vv, a = 1.0 - r2, b = beta * r2;
    du[p] = a * uu + b * vv + c1 * (u[west] + u[east] + u[north] + u[south] - 4.0 * uu);
    dv[p] = -b * uu + a * vv + c2 * (v[west] + v[east] + v[north] + v[south] - 4.0 * vv);
  };
  for (int64_t i = 0; i < n; ++i) {
    const int64_t row = i * n, up = ((i + 1) % n) * n, down = ((i + n - 1) % n) * n;
    node(row, row + n - 1, row + 1, up, down);
    for (int64_t j = 1; j < n - 1; ++j) node(row + j, row + j - 1, row + j + 1, up + j, down + j);
    node(row + n - 1, row + n - 2, row, up + n - 1, down + n - 1);
  }
}

LATDYN_LO_CLONES void lo_rhs_clones(int64_t n, double c1, double c2, double beta, const double* __restrict u,
                                    const double* __restrict v, double* __restrict du, double* __restrict dv) {
  lo_rhs(n, c1, c2, beta, u, v, du, dv);
}

/// Classical RK4 step of size h (§5.1), in place: y += h/6 (k1 + 2 k2 + 2 k3 + k4); a accumulates the slopes, t is
/// the stage input, k the stage slope (all [n * n]).
LATDYN_LO_CLONES void lo_rk4(int64_t n, double c1, double c2, double beta, double h, double* __restrict u,
                             double* __restrict v, double* __restrict ku, double* __restrict kv, double* __restrict au,
                             double* __restrict av, double* __restrict tu, double* __restrict tv) {
  const int64_t np = n * n;
  lo_rhs(n, c1, c2, beta, u, v, ku, kv);
  for (int64_t p = 0; p < np; ++p) {
    au[p] = ku[p], av[p] = kv[p];
    tu[p] = u[p] + 0.5 * h * ku[p], tv[p] = v[p] + 0.5 * h * kv[p];
  }
  lo_rhs(n, c1, c2, beta, tu, tv, ku, kv);
  for (int64_t p = 0; p < np; ++p) {
    au[p] += 2.0 * ku[p], av[p] += 2.0 * kv[p];
    tu[p] = u[p] + 0.5 * h * ku[p], tv[p] = v[p] + 0.5 * h * kv[p];
  }
  lo_rhs(n, c1, c2, beta, tu, tv, ku, kv);
  for (int64_t p = 0; p < np; ++p) {
    au[p] += 2.0 * ku[p], av[p] += 2.0 * kv[p];
    tu[p] = u[p] + h * ku[p], tv[p] = v[p] + h * kv[p];
  }
  lo_rhs(n, c1, c2, beta, tu, tv, ku, kv);
  const double h6 = h / 6.0;
  for (int64_t p = 0; p < np; ++p) {
    u[p] += h6 * (au[p] + ku[p]);
    v[p] += h6 * (av[p] + kv[p]);
  }
}

}  // namespace

void LambdaOmegaSolver::rhs(const double* u, const double* v, double* du, double* dv) const {
  lo_rhs_clones(n_, d1_ * inv_dx2_, d2_ * inv_dx2_, beta_, u, v, du, dv);
}

void LambdaOmegaSolver::step(double* u, double* v, double h) {
  lo_rk4(n_, d1_ * inv_dx2_, d2_ * inv_dx2_, beta_, h, u, v, ku_.data(), kv_.data(), au_.data(), av_.data(),
         tu_.data(), tv_.data());
}

void LambdaOmegaSolver::advance(double* u, double* v, double span, double max_h) {
  if (!(span > 0)) return;
  const int64_t steps = static_cast<int64_t>(std::ceil(span / max_h - 1e-9));
  const double h = span / static_cast<double>(steps);
  for (int64_t s = 0; s < steps; ++s) step(u, v, h);
}

void lambda_omega_spiral(int64_t n, double domain, double xc, double yc, double phi, int chirality, int64_t arms,
                         double* u, double* v) {
  const double dx = domain / static_cast<double>(n), half = domain / 2.0;
  auto min_image = [&](double d) { return d - domain * std::round(d / domain); };
  for (int64_t i = 0; i < n; ++i) {
    const double ry = min_image(-half + static_cast<double>(i) * dx - yc);
    for (int64_t j = 0; j < n; ++j) {
      const double rx = min_image(-half + static_cast<double>(j) * dx - xc);
      const double rho = std::hypot(rx, ry), theta = std::atan2(ry, rx);
      const double arg = static_cast<double>(chirality * arms) * theta + phi - rho;  // §5.2
      u[i * n + j] = std::tanh(rho * std::cos(arg));
      v[i * n + j] = std::tanh(rho * std::sin(arg));
    }
  }
}

data::Dataset LambdaOmega::generate() const {
  const int64_t n = o_.n_trajectories, m = o_.frames, g = o_.grid, res = o_.resolution, ch = o_.channels;
  const int64_t block = g / res, npix = res * res;
  const double dx = o_.domain / static_cast<double>(g), t_end = o_.dt * static_cast<double>(m - 1);
  // Irregular option (§5.3): record every dt/4 and pick M of those 4(M-1)+1 times with §0.3.
  const int64_t sub = o_.irregular ? 4 : 1, fine = sub * (m - 1) + 1;
  const double fine_dt = o_.dt / static_cast<double>(sub);
  data::Dataset ds;
  ds.y = at::empty({n, m, ch, res, res}, at::kFloat);
  ds.t = at::empty({n, m}, at::kDouble);
  at::Tensor full;
  if (o_.store_full_fields) full = at::empty({n, m, 2, g, g}, at::kFloat);
  at::Tensor p_xc = at::empty({n}, at::kDouble), p_yc = at::empty({n}, at::kDouble), p_phi = at::empty({n}, at::kDouble);
  at::Tensor p_chi = at::empty({n}, at::kDouble), p_tb = at::empty({n}, at::kDouble);
  std::vector<int64_t> clipped(static_cast<size_t>(n), 0);  // per trajectory: stored values the map clipped
  parallel_chunks(n, [&](int64_t begin, int64_t end) {
    LambdaOmegaSolver solver(g, dx, o_.beta, o_.d1, o_.d2);
    std::vector<double> u(static_cast<size_t>(g * g)), v(static_cast<size_t>(g * g));
    for (int64_t r = begin; r < end; ++r) {
      // datasets.md §0.2: seed base_seed + r. The initial condition is drawn before the (optional) irregular grid, so
      // an irregular set holds frames of the same trajectories as the regular one.
      std::mt19937_64 rng(o_.seed + static_cast<uint64_t>(r));
      const double xc = -o_.centre_range + 2.0 * o_.centre_range * unit_double(rng());
      const double yc = -o_.centre_range + 2.0 * o_.centre_range * unit_double(rng());
      const double phi = 2.0 * kPi * unit_double(rng());
      const int chirality = unit_double(rng()) < 0.5 ? -1 : 1;
      const double t_burn = o_.t_burn_min + (o_.t_burn_max - o_.t_burn_min) * unit_double(rng());
      std::vector<double> times = o_.irregular
                                      ? irregular_grid(m, t_end, fine, 0.25 * t_end / static_cast<double>(m - 1), rng)
                                      : regular_grid(m, o_.dt);
      p_xc.data_ptr<double>()[r] = xc, p_yc.data_ptr<double>()[r] = yc, p_phi.data_ptr<double>()[r] = phi;
      p_chi.data_ptr<double>()[r] = chirality, p_tb.data_ptr<double>()[r] = t_burn;
      lambda_omega_spiral(g, o_.domain, xc, yc, phi, chirality, o_.arms, u.data(), v.data());
      solver.advance(u.data(), v.data(), t_burn, o_.dt_sim);  // burn-in, not recorded (§5.2)
      int64_t at_fine = 0, frame = 0, n_clip = 0;
      for (int64_t k = 0; k < m; ++k) {
        const int64_t target = static_cast<int64_t>(std::llround(times[k] / fine_dt));
        for (; at_fine < target; ++at_fine) solver.advance(u.data(), v.data(), fine_dt, o_.dt_sim);
        ds.t.data_ptr<double>()[r * m + k] = times[k];
        // Block average g -> res; image row 0 is the top (largest y), column = x (§5.3).
        float* out = ds.y.data_ptr<float>() + (r * m + frame) * ch * npix;
        const double inv = 1.0 / static_cast<double>(block * block);
        for (int64_t c = 0; c < ch; ++c) {
          const double* f = c == 0 ? u.data() : v.data();
          for (int64_t a = 0; a < res; ++a) {
            const int64_t i0 = (res - 1 - a) * block;
            for (int64_t b = 0; b < res; ++b) {
              double s = 0.0;
              for (int64_t di = 0; di < block; ++di)
                for (int64_t dj = 0; dj < block; ++dj) s += f[(i0 + di) * g + b * block + dj];
              const double y = 0.5 * (s * inv + 1.0);  // fixed map (u + 1)/2 (§5.3)
              n_clip += (y < 0.0 || y > 1.0) ? 1 : 0;
              out[(c * res + a) * res + b] = static_cast<float>(std::clamp(y, 0.0, 1.0));
            }
          }
        }
        if (o_.store_full_fields) {
          float* fo = full.data_ptr<float>() + (r * m + frame) * 2 * g * g;
          for (int64_t p = 0; p < g * g; ++p) {
            fo[p] = static_cast<float>(u[p]);
            fo[g * g + p] = static_cast<float>(v[p]);
          }
        }
        ++frame;
      }
      clipped[static_cast<size_t>(r)] = n_clip;
    }
  });
  ds.split = at::full({n}, 2, at::kByte);
  ds.split.slice(0, 0, o_.n_train).fill_(0);
  ds.split.slice(0, o_.n_train, o_.n_train + o_.n_val).fill_(1);
  ds.params["x_c"] = p_xc, ds.params["y_c"] = p_yc, ds.params["phi"] = p_phi;
  ds.params["chirality"] = p_chi, ds.params["t_burn"] = p_tb;
  ds.params["arms"] = at::full({n}, static_cast<double>(o_.arms), at::kDouble);
  if (o_.store_full_fields) ds.truth["uv_full"] = full;
  // §0.5: the fixed map and the clipped fraction of every split.
  json frac = json::object();
  const int64_t per_traj = m * ch * npix;
  for (auto [name, lo, hi] : {std::tuple<const char*, int64_t, int64_t>{"train", 0, o_.n_train},
                              {"val", o_.n_train, o_.n_train + o_.n_val}, {"test", o_.n_train + o_.n_val, n}}) {
    int64_t c = 0;
    for (int64_t r = lo; r < hi; ++r) c += clipped[static_cast<size_t>(r)];
    frac[name] = hi > lo ? static_cast<double>(c) / static_cast<double>((hi - lo) * per_traj) : 0.0;
  }
  ds.header = generated_header("lambda_omega", options(), o_.seed);
  ds.header.options["normalization"] = {
      {"map", ch == 1 ? "y = clip((u + 1)/2, 0, 1)" : "y_c = clip((f_c + 1)/2, 0, 1), f = (u, v)"},
      {"type", "fixed"},
      {"inverse", ch == 1 ? "u = 2 y - 1" : "f_c = 2 y_c - 1"},
      {"clipped_fraction", frac}};
  return ds;
}

}  // namespace latdyn::sim
