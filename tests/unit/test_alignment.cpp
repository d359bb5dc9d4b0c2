// SPDX-License-Identifier: MIT
// Tests for latdyn/eval/alignment.hpp and latent_maps.hpp (dynae.md §12–13): exact recovery of rotations,
// reflections, translations and scale; noise lowers R² as predicted; dx != dy; a nonlinear warp cannot pass;
// free-energy map of a Gaussian against the analytic quadratic; evaluation grid; force check against autograd.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "latdyn/core/error.hpp"
#include "latdyn/eval/alignment.hpp"
#include "latdyn/eval/latent_maps.hpp"

namespace {

using latdyn::eval::AlignmentResult;
namespace ev = latdyn::eval;

at::Tensor normal(at::IntArrayRef size, at::Generator& gen) {
  return at::empty(size, at::TensorOptions().dtype(at::kDouble)).normal_(0.0, 1.0, gen);
}
at::Tensor uniform(at::IntArrayRef size, double lo, double hi, at::Generator& gen) {
  return at::empty(size, at::TensorOptions().dtype(at::kDouble)).uniform_(lo, hi, gen);
}
/// Random orthogonal d x d matrix with the requested determinant sign.
at::Tensor random_orthogonal(int64_t d, bool reflection, at::Generator& gen) {
  at::Tensor q = std::get<0>(at::linalg_qr(normal({d, d}, gen)));
  const double det = at::linalg_det(q).item<double>();
  if ((det < 0.0) != reflection) q.select(1, 0).mul_(-1.0);
  return q;
}
double max_abs(const at::Tensor& t) { return t.abs().max().item<double>(); }

TEST(Alignment, OrthogonalRecoversRotationReflectionTranslation) {
  at::Generator gen = at::detail::createCPUGenerator(11);
  for (int64_t d : {2, 3, 5}) {
    for (bool refl : {false, true}) {
      const at::Tensor X = normal({400, d}, gen) * 3.0;
      const at::Tensor Q0 = random_orthogonal(d, refl, gen);
      const at::Tensor b0 = normal({d}, gen) * 10.0;
      const at::Tensor Y = X.mm(Q0.t()) + b0;
      const AlignmentResult r = ev::align_orthogonal(X, Y);
      EXPECT_LT(r.mse, 1e-20) << "d=" << d << " reflection=" << refl;
      EXPECT_LT(r.normalised_error, 1e-20);
      EXPECT_LT(max_abs(r.Q - Q0), 1e-10);
      EXPECT_LT(max_abs(r.b - b0), 1e-9);
      EXPECT_NEAR(r.det_q, refl ? -1.0 : 1.0, 1e-12);
      EXPECT_DOUBLE_EQ(r.scale, 1.0);
      ASSERT_EQ(r.r2.size(), static_cast<size_t>(d));
      for (double v : r.r2) EXPECT_NEAR(v, 1.0, 1e-12);
      EXPECT_NEAR(r.r2_min, 1.0, 1e-12);
      EXPECT_EQ(r.n, 400);
      EXPECT_EQ(r.aligned.sizes(), Y.sizes());
      // The similarity fit finds the same map with s = 1.
      const AlignmentResult s = ev::align_similarity(X, Y);
      EXPECT_NEAR(s.scale, 1.0, 1e-12);
      EXPECT_LT(s.mse, 1e-20);
    }
  }
}

TEST(Alignment, InputsOfAnyDtypeAndErrors) {
  at::Generator gen = at::detail::createCPUGenerator(3);
  const at::Tensor X = normal({50, 2}, gen).to(at::kFloat);
  const AlignmentResult r = ev::align_orthogonal(X, X * 1.0);
  EXPECT_EQ(r.Q.scalar_type(), at::kDouble);
  EXPECT_LT(r.mse, 1e-25);
  EXPECT_THROW(ev::align_orthogonal(X, X.narrow(0, 0, 49)), c10::Error);
  EXPECT_THROW(ev::align_orthogonal(X.flatten(), X), c10::Error);
  EXPECT_THROW(ev::align_similarity(X.narrow(0, 0, 1), X.narrow(0, 0, 1)), c10::Error);
  at::Tensor bad = X.clone();
  bad[3][1] = std::nan("");
  try {
    ev::align_similarity(bad, X);
    FAIL() << "expected DataError";
  } catch (const latdyn::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("non-finite"), std::string::npos) << e.what();
  }
}

TEST(Alignment, SimilarityRecoversScale) {
  at::Generator gen = at::detail::createCPUGenerator(5);
  const at::Tensor X = normal({1000, 2}, gen) * 12.0;  // latent units
  const at::Tensor Q0 = random_orthogonal(2, true, gen);
  const at::Tensor b0 = at::tensor({0.3, -1.2}, at::kDouble);
  const double s0 = 0.1;
  const at::Tensor Y = s0 * X.mm(Q0.t()) + b0;
  const AlignmentResult sim = ev::align_similarity(X, Y);
  EXPECT_NEAR(sim.scale, s0, 1e-12);
  EXPECT_LT(max_abs(sim.Q - Q0), 1e-10);
  EXPECT_LT(sim.mse, 1e-24);
  EXPECT_NEAR(sim.r2_min, 1.0, 1e-12);
  EXPECT_NEAR(ev::scale_rel_deviation(sim.scale, 0.1), 0.0, 1e-10);
  EXPECT_NEAR(ev::scale_rel_deviation(0.115, 0.1), 0.15, 1e-12);
  // Orthogonal without pre-scaling cannot fit a 10x scale: R² is strongly negative.
  const AlignmentResult orth_raw = ev::align_orthogonal(X, Y);
  EXPECT_LT(orth_raw.r2_min, 0.0);
  // ... but succeeds on the pre-scaled truth (dynae.md §13.1).
  EXPECT_LT(ev::align_orthogonal(X, Y / s0).mse, 1e-20);
  // Proper rotations only: a reflected map cannot be fitted.
  const AlignmentResult rot = ev::align_similarity(X, Y, /*allow_reflection=*/false);
  EXPECT_FALSE(rot.reflections_allowed);
  EXPECT_NEAR(rot.det_q, 1.0, 1e-12);
  EXPECT_LT(rot.r2_min, 0.5);
  // The report holds both fits with a definition for every metric.
  const latdyn::json rep = ev::alignment_report_json(X, Y, s0);
  ASSERT_TRUE(rep.contains("orthogonal") && rep.contains("similarity"));
  bool saw_scale_dev = false;
  for (const char* kind : {"orthogonal", "similarity"}) {
    for (const auto& m : rep[kind]["metrics"]) {
      ASSERT_TRUE(m.contains("definition")) << m.dump();
      EXPECT_GT(m["definition"].get<std::string>().size(), 20u) << m.dump();
      if (m["name"] == "mse_orth") EXPECT_LT(m["value"].get<double>(), 1e-20);
      if (m["name"] == "scale_sim") EXPECT_NEAR(m["value"].get<double>(), 0.1, 1e-12);
      if (m["name"] == "scale_rel_dev_sim") {
        saw_scale_dev = true;
        EXPECT_NEAR(m["value"].get<double>(), 0.0, 1e-10);
      }
    }
  }
  EXPECT_TRUE(saw_scale_dev);
  EXPECT_EQ(rep["similarity"]["transform"]["Q"].size(), 2u);
}

TEST(Alignment, NoiseLowersR2AsExpected) {
  at::Generator gen = at::detail::createCPUGenerator(7);
  const int64_t n = 40000;
  const at::Tensor X = normal({n, 2}, gen);  // unit variance per axis
  const at::Tensor Q0 = random_orthogonal(2, false, gen);
  for (double sigma : {0.1, 0.5, 1.0}) {
    const at::Tensor Y = X.mm(Q0.t()) + sigma * normal({n, 2}, gen);
    const AlignmentResult r = ev::align_orthogonal(X, Y);
    const double expected = 1.0 / (1.0 + sigma * sigma);  // var(signal) / var(signal + noise)
    for (double v : r.r2) EXPECT_NEAR(v, expected, 0.02) << "sigma=" << sigma;
    EXPECT_NEAR(r.mse, sigma * sigma, 0.05 * sigma * sigma);
    EXPECT_NEAR(r.normalised_error, 1.0 - expected, 0.02);
  }
}

TEST(Alignment, NonlinearWarpCannotPass) {
  at::Generator gen = at::detail::createCPUGenerator(9);
  const at::Tensor truth = uniform({20000, 2}, -1.0, 1.0, gen);
  const at::Tensor x = truth.select(1, 0), y = truth.select(1, 1);
  const at::Tensor latent = at::stack({x, y + x * x}, 1);  // smooth, invertible, not a similarity
  const AlignmentResult o = ev::align_orthogonal(latent, truth);
  const AlignmentResult s = ev::align_similarity(latent, truth);
  EXPECT_LT(o.r2_min, 0.98);
  EXPECT_LT(s.r2_min, 0.98);
  // Even the best unconstrained linear map reaches only R²_y ≈ 0.79 (x² is uncorrelated with x and y).
  EXPECT_LT(s.r2_min, 0.85);
  EXPECT_GT(s.normalised_error, 0.05);
}

TEST(Alignment, LatentLargerThanTruthProjects) {
  at::Generator gen = at::detail::createCPUGenerator(13);
  const int64_t n = 5000;
  const at::Tensor truth = normal({n, 2}, gen);
  // Latent: truth / 0.1 in two dimensions plus a small independent third, then rotated in 3-D.
  const at::Tensor R = random_orthogonal(3, true, gen);
  const at::Tensor latent = at::cat({truth / 0.1, 0.5 * normal({n, 1}, gen)}, 1).mm(R.t()) + 4.0;
  const AlignmentResult s = ev::align_similarity(latent, truth);
  EXPECT_EQ(s.Q.sizes().vec(), (std::vector<int64_t>{2, 3}));
  EXPECT_LT(max_abs(s.Q.mm(s.Q.t()) - at::eye(2, at::kDouble)), 1e-12);  // Q Qᵀ = I
  EXPECT_TRUE(std::isnan(s.det_q));
  EXPECT_NEAR(s.scale, 0.1, 1e-3);  // least-squares scale given Q, not diluted by the extra latent axis
  EXPECT_GT(s.r2_min, 0.9999);
  const AlignmentResult o = ev::align_orthogonal(latent, truth / 0.1);
  EXPECT_LT(max_abs(o.Q.mm(o.Q.t()) - at::eye(2, at::kDouble)), 1e-12);
  EXPECT_GT(o.r2_min, 0.9999);
}

TEST(Alignment, LatentSmallerThanTruthEmbeds) {
  at::Generator gen = at::detail::createCPUGenerator(17);
  const int64_t n = 3000;
  const at::Tensor latent = normal({n, 2}, gen);
  // Truth on a 2-D plane in 3-D: recoverable exactly with Qᵀ Q = I.
  const at::Tensor A = random_orthogonal(3, false, gen).narrow(1, 0, 2);  // [3, 2], orthonormal columns
  const at::Tensor plane = latent.mm(A.t()) + at::tensor({1.0, 2.0, 3.0}, at::kDouble);
  const AlignmentResult o = ev::align_orthogonal(latent, plane);
  EXPECT_EQ(o.Q.sizes().vec(), (std::vector<int64_t>{3, 2}));
  EXPECT_LT(max_abs(o.Q.t().mm(o.Q) - at::eye(2, at::kDouble)), 1e-12);  // Qᵀ Q = I
  EXPECT_LT(o.mse, 1e-20);
  // A truth with a third independent axis: that axis cannot be explained.
  const at::Tensor truth = at::cat({latent, normal({n, 1}, gen)}, 1);
  const AlignmentResult s = ev::align_similarity(latent, truth);
  ASSERT_EQ(s.r2.size(), 3u);
  EXPECT_GT(s.r2[0], 0.999);
  EXPECT_GT(s.r2[1], 0.999);
  EXPECT_LT(s.r2[2], 0.01);
  EXPECT_LT(s.r2_min, 0.01);
  EXPECT_NEAR(s.scale, 1.0, 0.02);
}

TEST(Alignment, RelErrorRefAndConstantAxis) {
  const at::Tensor y = at::tensor({1.0, 2.0, 4.0, -1.0}, at::kDouble).view({2, 2});
  const at::Tensor yh = at::tensor({1.5, 2.0, 3.0, -1.0}, at::kDouble).view({2, 2});
  const double expected = (0.5 / (1.0 + 1e-5) + 0.0 + 1.0 / (4.0 + 1e-5) + 0.0) / 4.0;
  EXPECT_NEAR(ev::rel_error_ref(yh, y), expected, 1e-15);
  // A constant truth axis has no variance: its R² is NaN and so is the minimum (never a silent pass).
  at::Generator gen = at::detail::createCPUGenerator(1);
  const at::Tensor X = normal({100, 2}, gen);
  const at::Tensor Y = at::stack({X.select(1, 0), at::full({100}, 2.0, at::kDouble)}, 1);
  const AlignmentResult r = ev::align_orthogonal(X, Y);
  EXPECT_TRUE(std::isnan(r.r2[1]));
  EXPECT_TRUE(std::isnan(r.r2_min));
  const latdyn::json j = ev::alignment_json(r, "truth");
  EXPECT_NE(j.dump().find("null"), std::string::npos);  // NaN is written as null
}

// ------------------------------------------------------------------------------------------------
// latent_maps.hpp

TEST(FreeEnergy, SmallExampleLayout) {
  const at::Tensor z = at::tensor({0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0}, at::kDouble).view({4, 2});
  ev::FreeEnergyOptions o;
  o.bins = 2;
  const ev::FreeEnergyMap m = ev::free_energy_map(z, o);
  // counts[iy][ix]: (0,0) -> [0][0]; (1,0) twice -> [0][1]; (1,1) -> [1][1]; [1][0] empty.
  EXPECT_EQ(m.counts[0][0].item<int64_t>(), 1);
  EXPECT_EQ(m.counts[0][1].item<int64_t>(), 2);
  EXPECT_EQ(m.counts[1][0].item<int64_t>(), 0);
  EXPECT_EQ(m.counts[1][1].item<int64_t>(), 1);
  EXPECT_EQ(m.empty, 1);
  EXPECT_NEAR(m.F[0][0].item<double>(), std::log(2.0), 1e-12);
  EXPECT_DOUBLE_EQ(m.F[0][1].item<double>(), 0.0);
  EXPECT_TRUE(std::isnan(m.F[1][0].item<double>()));
  EXPECT_NEAR(m.F[1][1].item<double>(), std::log(2.0), 1e-12);
  EXPECT_NEAR(m.x_centres[0].item<double>(), 0.25, 1e-12);
  EXPECT_NEAR(m.y_edges[2].item<double>(), 1.0, 1e-12);
  o.empty_bins = ev::parse_empty_bins("reference");
  const ev::FreeEnergyMap r = ev::free_energy_map(z, o);
  EXPECT_NEAR(r.F[1][0].item<double>(), std::log(2.0), 1e-12);  // min non-zero count = 1
  EXPECT_THROW(ev::parse_empty_bins("zero"), latdyn::ConfigError);
  EXPECT_EQ(ev::to_string(ev::EmptyBins::kMask), "mask");
  // Other axis pairs of a 3-D latent; bad axes and bins.
  const at::Tensor z3 = at::cat({z, at::zeros({4, 1}, at::kDouble)}, 1);
  o.axis_x = 2;
  o.axis_y = 0;
  EXPECT_EQ(ev::free_energy_map(z3, o).counts.sum().item<int64_t>(), 4);  // degenerate axis widened, no throw
  o.axis_x = 3;
  EXPECT_THROW(ev::free_energy_map(z3, o), c10::Error);
  at::Tensor bad = z.clone();
  bad[0][0] = std::numeric_limits<double>::infinity();
  EXPECT_THROW(ev::free_energy_map(bad), latdyn::DataError);
}

TEST(FreeEnergy, GaussianMatchesAnalyticQuadratic) {
  at::Generator gen = at::detail::createCPUGenerator(21);
  const int64_t n = 400000;
  const double mx = 1.0, my = -3.0, sx = 1.0, sy = 2.0;
  const at::Tensor z = at::stack({mx + sx * normal({n}, gen), my + sy * normal({n}, gen)}, 1).to(at::kFloat);
  const ev::FreeEnergyMap m = ev::free_energy_map(z);
  ASSERT_EQ(m.F.sizes().vec(), (std::vector<int64_t>{100, 100}));
  EXPECT_EQ(m.counts.sum().item<int64_t>(), n);
  EXPECT_DOUBLE_EQ(at::nan_to_num(m.F, 1e9).min().item<double>(), 0.0);
  EXPECT_GT(m.empty, 0);  // the corners of the range are empty
  EXPECT_EQ(at::isnan(m.F).sum().item<int64_t>(), m.empty);
  // F(x, y) = (x − mx)²/(2 sx²) + (y − my)²/(2 sy²) + const at the bin centres; rows are y, columns x.
  const at::Tensor fx = (m.x_centres - mx).pow(2) / (2 * sx * sx);
  const at::Tensor fy = (m.y_centres - my).pow(2) / (2 * sy * sy);
  const at::Tensor analytic = fy.unsqueeze(1) + fx.unsqueeze(0);
  const at::Tensor well = m.counts >= 200;  // relative Poisson noise <= 7 %
  ASSERT_GT(well.sum().item<int64_t>(), 500);
  const at::Tensor diff = (m.F - analytic).masked_select(well);
  const at::Tensor centred = diff - diff.mean();
  EXPECT_LT(centred.pow(2).mean().sqrt().item<double>(), 0.06);
  EXPECT_LT(centred.abs().max().item<double>(), 0.4);
  // Reference mode fills the empty bins with the largest F.
  ev::FreeEnergyOptions ref;
  ref.empty_bins = ev::EmptyBins::kReference;
  const ev::FreeEnergyMap r = ev::free_energy_map(z, ref);
  EXPECT_EQ(at::isnan(r.F).sum().item<int64_t>(), 0);
  const double min_count = m.counts.masked_select(m.counts > 0).min().item<double>();
  const double f_max = -std::log(min_count / n) + std::log(m.counts.max().item<double>() / n);
  EXPECT_NEAR(r.F.max().item<double>(), f_max, 1e-12);
}

TEST(EvalGrid, SpansInnerRangeFirstAxisFastest) {
  const at::Tensor z = at::tensor({0.0, -5.0, 10.0, 5.0, 3.0, 0.0}, at::kDouble).view({3, 2});
  const ev::EvalGrid g = ev::evaluation_grid(z);
  ASSERT_EQ(g.points.sizes().vec(), (std::vector<int64_t>{100, 2}));
  EXPECT_NEAR(g.axes[0][0].item<double>(), 1.0, 1e-12);
  EXPECT_NEAR(g.axes[0][9].item<double>(), 9.0, 1e-12);
  EXPECT_NEAR(g.axes[1][0].item<double>(), -4.0, 1e-12);
  EXPECT_NEAR(g.axes[1][9].item<double>(), 4.0, 1e-12);
  EXPECT_NEAR(g.points[1][0].item<double>(), g.axes[0][1].item<double>(), 1e-15);  // k = iy·10 + ix
  EXPECT_NEAR(g.points[1][1].item<double>(), -4.0, 1e-15);
  EXPECT_NEAR(g.points[10][0].item<double>(), 1.0, 1e-15);
  EXPECT_NEAR(g.points[10][1].item<double>(), g.axes[1][1].item<double>(), 1e-15);
  EXPECT_EQ(ev::evaluation_grid(at::cat({z, z.narrow(1, 0, 1)}, 1), 4).points.size(0), 64);
  EXPECT_THROW(ev::evaluation_grid(z, 0), c10::Error);
}

TEST(ForceCheck, IdealDriftIsMinusLatentGradient) {
  at::Generator gen = at::detail::createCPUGenerator(31);
  const int64_t n = 200;
  const at::Tensor A = at::tensor({2.0, 0.5, 0.5, 1.0}, at::kDouble).view({2, 2});  // U(z) = ½ zᵀ A z
  const at::Tensor truth = normal({n, 2}, gen);
  // Latent as DynAE would give it: ẑ = Qᵀ (z − b) / s, so z = s Q ẑ + b.
  const at::Tensor Q0 = random_orthogonal(2, true, gen), b0 = at::tensor({0.4, -0.7}, at::kDouble);
  const double s0 = 0.1;
  const at::Tensor latent = (truth - b0).mm(Q0) / s0;
  const AlignmentResult sim = ev::align_similarity(latent, truth);
  ASSERT_NEAR(sim.scale, s0, 1e-12);
  const at::Tensor grad_u = truth.mm(A);  // A symmetric
  const at::Tensor f_star = ev::ideal_latent_drift(grad_u, sim);
  // −∇_ẑ U(s Q ẑ + b) by autograd.
  at::Tensor zh = latent.clone().requires_grad_(true);
  const at::Tensor zz = sim.scale * zh.mm(sim.Q.t()) + sim.b;
  const at::Tensor u = 0.5 * (zz.mm(A) * zz).sum();
  const at::Tensor g = torch::autograd::grad({u}, {zh})[0];
  EXPECT_LT(max_abs(f_star + g), 1e-10);
  const ev::ForceCheck exact = ev::force_check(f_star, grad_u, sim);
  EXPECT_LT(exact.relative_rmse, 1e-12);
  EXPECT_NEAR(ev::force_check(1.1 * f_star, grad_u, sim).relative_rmse, 0.1, 1e-12);
  EXPECT_NEAR(ev::force_check(at::zeros_like(f_star), grad_u, sim).relative_rmse, 1.0, 1e-12);
  const latdyn::json j = ev::force_check_json(exact);
  EXPECT_EQ(j["name"], "force_relative_rmse");
  EXPECT_TRUE(j.contains("definition"));
  EXPECT_THROW(ev::force_check(f_star.narrow(0, 0, 10), grad_u, sim), c10::Error);
  EXPECT_THROW(ev::force_check(f_star, grad_u, ev::align_orthogonal(latent, truth)), c10::Error);
}

TEST(LatentMaps, ToRowsAndVector) {
  const at::Tensor m = at::arange(6, at::kFloat).view({2, 3});
  const auto rows = ev::to_rows(m);
  ASSERT_EQ(rows.size(), 2u);
  ASSERT_EQ(rows[1].size(), 3u);
  EXPECT_DOUBLE_EQ(rows[1][2], 5.0);
  EXPECT_EQ(ev::to_vector(m[1]), (std::vector<double>{3.0, 4.0, 5.0}));
}

}  // namespace
