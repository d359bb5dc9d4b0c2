// SPDX-License-Identifier: MIT
// Unit tests for the molecular-coordinate importer (dynae.md §11): Kabsch alignment, dihedrals (IUPAC sign), mdtraj
// topology parsing, the real alanine-dipeptide files of Debian's python-mdtraj-doc, parity with mdtraj, bad input.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "latdyn/commands.hpp"
#include "latdyn/core/error.hpp"
#include "latdyn/core/log.hpp"
#include "latdyn/data/h5.hpp"
#include "latdyn/data/import_molecular.hpp"
#include "latdyn/data/npy.hpp"
#include "latdyn/data/tensor_array.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using latdyn::ConfigError;
using latdyn::DataError;
using namespace latdyn::data;

namespace {

const std::string kAla2 = "/usr/share/doc/python-mdtraj-doc/examples/ala2.h5";
const std::string kFrame0 = "/usr/share/doc/python-mdtraj-doc/examples/data/frame0.h5";
const std::vector<int64_t> kAla2Heavy = {1, 4, 5, 6, 8, 10, 14, 15, 16, 18};  // mdtraj: select('not element H')

#define SKIP_WITHOUT_ALA2()                                                                               \
  if (!fs::exists(kAla2) || !fs::exists(kFrame0))                                                         \
  GTEST_SKIP() << "alanine-dipeptide files of Debian's python-mdtraj-doc are absent (" << kAla2 << ", " \
               << kFrame0 << "); install them with: apt-get install python-mdtraj-doc"

/// Collects library warnings while alive (the test main would otherwise fail the test on them).
class CaptureWarnings final {
 public:
  CaptureWarnings() {
    prev_ = latdyn::log::set_sink([this](latdyn::log::Level level, const std::string& msg) {
      if (level != latdyn::log::Level::kInfo) messages.push_back(msg);
    });
  }
  ~CaptureWarnings() { latdyn::log::set_sink(prev_); }
  std::string all() const {
    std::string s;
    for (const auto& m : messages) s += m + "\n";
    return s;
  }
  std::vector<std::string> messages;

 private:
  latdyn::log::Sink prev_;
};

at::Tensor dtensor(const std::vector<double>& v, std::vector<int64_t> shape) {
  return torch::tensor(v, torch::kDouble).reshape(shape);
}

/// Random rotation matrix from a normalised Gaussian quaternion (proper by construction).
at::Tensor random_rotation(std::mt19937_64& rng) {
  std::normal_distribution<double> n(0.0, 1.0);
  double q[4], s = 0;
  for (double& v : q) v = n(rng), s += v * v;
  s = std::sqrt(s);
  const double w = q[0] / s, x = q[1] / s, y = q[2] / s, z = q[3] / s;
  return dtensor({1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),  //
                  2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),  //
                  2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)},
                 {3, 3});
}

at::Tensor random_points(std::mt19937_64& rng, int64_t n, double scale = 1.0) {
  std::normal_distribution<double> d(0.0, scale);
  std::vector<double> v(static_cast<size_t>(n * 3));
  for (double& x : v) x = d(rng);
  return dtensor(v, {n, 3});
}

void expect_message(const std::function<void()>& fn, const std::vector<std::string>& parts, bool config = false) {
  try {
    fn();
    ADD_FAILURE() << "expected an error containing '" << parts.front() << "'";
  } catch (const DataError& e) {
    EXPECT_FALSE(config) << "DataError where a ConfigError was expected: " << e.what();
    for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << "'" << p << "' in: " << e.what();
    EXPECT_FALSE(e.hint().empty()) << e.what();
  } catch (const ConfigError& e) {
    EXPECT_TRUE(config) << "ConfigError where a DataError was expected: " << e.what();
    for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << "'" << p << "' in: " << e.what();
  }
}

/// mdtraj-style topology JSON: one chain; residues [(name, [(atom name, element)])], indices in order.
std::string topology_json(const std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>>& res) {
  latdyn::json chain = {{"index", 0}, {"residues", latdyn::json::array()}};
  int64_t idx = 0, r = 0;
  for (const auto& rr : res) {
    latdyn::json jr = {{"index", r}, {"resSeq", r + 1}, {"name", rr.first}, {"atoms", latdyn::json::array()}};
    for (const auto& a : rr.second) jr["atoms"].push_back({{"index", idx++}, {"name", a.first}, {"element", a.second}});
    chain["residues"].push_back(jr);
    ++r;
  }
  return latdyn::json({{"chains", {chain}}, {"bonds", latdyn::json::array()}}).dump();
}

/// ACE-ALA-NME heavy atoms only (10 atoms, the ala2 heavy-atom order), as a topology.
std::string ala2_heavy_topology() {
  return topology_json({{"ACE", {{"CH3", "C"}, {"C", "C"}, {"O", "O"}}},
                        {"ALA", {{"N", "N"}, {"CA", "C"}, {"CB", "C"}, {"C", "C"}, {"O", "O"}}},
                        {"NME", {{"N", "N"}, {"C", "C"}}}});
}

/// Writes an mdtraj-like file: coordinates (as given), optional topology and time.
void write_mol(const std::string& path, const at::Tensor& xyz, const std::string& topology = "",
               const at::Tensor& time = at::Tensor(), const std::string& name = "coordinates") {
  H5File f(path, H5File::Mode::kCreate);
  f.write(name, to_array(xyz.contiguous()));
  if (!topology.empty()) f.write_strings("topology", {topology});
  if (time.defined()) f.write("time", to_array(time.contiguous()));
}

/// F frames of a 10-atom molecule: a random rigid motion of `base` plus small noise.
at::Tensor moving_molecule(std::mt19937_64& rng, const at::Tensor& base, int64_t frames, double noise = 0.01) {
  std::vector<at::Tensor> out;
  for (int64_t i = 0; i < frames; ++i) {
    const at::Tensor r = random_rotation(rng), t = random_points(rng, 1, 2.0);
    out.push_back((base + random_points(rng, base.size(0), noise)).matmul(r.t()) + t);
  }
  return at::stack(out);
}

at::Tensor unaligned_rmsd(const at::Tensor& x, const at::Tensor& ref) {  // x: [F, n, 3], ref: [n, 3]
  return (x - ref.unsqueeze(0)).pow(2).sum(-1).mean(-1).sqrt();
}

}  // namespace

// ---------------------------------------------------------------- Kabsch

TEST(ImportMolecular, KabschRecoversRandomRigidMotion) {
  std::mt19937_64 rng(7);
  const at::Tensor ref = random_points(rng, 12);
  std::vector<at::Tensor> frames, rots, shifts;
  for (int i = 0; i < 6; ++i) {
    rots.push_back(random_rotation(rng));
    shifts.push_back(random_points(rng, 1, 5.0).squeeze(0));
    frames.push_back(ref.matmul(rots.back().t()) + shifts.back());  // x = R y + t
  }
  const KabschFit fit = kabsch_align(at::stack(frames), ref);
  const at::Tensor yc = ref - ref.mean(0, true);
  ASSERT_EQ(fit.aligned.sizes(), (std::vector<int64_t>{6, 12, 3}));
  for (int i = 0; i < 6; ++i) {
    EXPECT_TRUE(at::allclose(fit.rotation[i], rots[i].t(), 0, 1e-12)) << fit.rotation[i] << rots[i].t();
    EXPECT_NEAR(at::linalg_det(fit.rotation[i]).item<double>(), 1.0, 1e-12);
    EXPECT_TRUE(at::allclose(fit.aligned[i], yc, 0, 1e-12));
    EXPECT_TRUE(at::allclose(fit.centroid[i], ref.mean(0).matmul(rots[i].t()) + shifts[i], 0, 1e-12));
    EXPECT_LT(fit.rmsd[i].item<double>(), 1e-12);
  }
  // float32 input is computed in float64 and gives the same rotation to float32 precision.
  const KabschFit f32 = kabsch_align(at::stack(frames).to(at::kFloat), ref.to(at::kFloat));
  EXPECT_EQ(f32.rotation.scalar_type(), at::kDouble);
  EXPECT_TRUE(at::allclose(f32.rotation[0], rots[0].t(), 0, 1e-5));
}

TEST(ImportMolecular, KabschExcludesReflections) {
  std::mt19937_64 rng(11);
  const at::Tensor ref = random_points(rng, 8);  // generic, chiral point cloud
  const at::Tensor mirror = dtensor({1, 0, 0, 0, 1, 0, 0, 0, -1}, {3, 3});
  const at::Tensor rot = random_rotation(rng);
  const at::Tensor x = ref.matmul(mirror).matmul(rot.t()).unsqueeze(0);  // an improper copy of ref
  const KabschFit fit = kabsch_align(x, ref);
  EXPECT_NEAR(at::linalg_det(fit.rotation[0]).item<double>(), 1.0, 1e-12);  // proper, although a reflection fits exactly
  EXPECT_TRUE(at::allclose(fit.rotation[0].matmul(fit.rotation[0].t()), at::eye(3, at::kDouble), 0, 1e-12));
  const double rmsd = fit.rmsd[0].item<double>();
  EXPECT_GT(rmsd, 0.05);
  // Closed form of the constrained optimum: n E = |X|^2 + |Y|^2 - 2 (s1 + s2 - s3).
  const at::Tensor xc = x[0] - x[0].mean(0, true), yc = ref - ref.mean(0, true);
  const at::Tensor s = at::linalg_svdvals(xc.t().matmul(yc));
  const double e = (xc.pow(2).sum() + yc.pow(2).sum() - 2 * (s[0] + s[1] - s[2])).item<double>() / 8.0;
  EXPECT_NEAR(rmsd * rmsd, e, 1e-12);
  // No proper rotation does better: random ones and small perturbations of the fit.
  for (int i = 0; i < 500; ++i) {
    at::Tensor r = random_rotation(rng);
    if (i % 2) {  // a small rotation about a random axis times the fit
      const at::Tensor a = random_points(rng, 1, 0.05).squeeze(0);
      const double ax = a[0].item<double>(), ay = a[1].item<double>(), az = a[2].item<double>();
      const at::Tensor k = dtensor({0, -az, ay, az, 0, -ax, -ay, ax, 0}, {3, 3});
      r = at::linalg_matrix_exp(k).matmul(fit.rotation[0]);
    }
    const double ri = (xc.matmul(r.t()) - yc).pow(2).sum(-1).mean().sqrt().item<double>();
    EXPECT_GE(ri, rmsd - 1e-12) << "rotation " << i << " beats the Kabsch fit";
  }
}

TEST(ImportMolecular, KabschPlanarMoleculeStaysProper) {
  // All atoms in one plane: H has a zero singular value, so the sign of det(V U^T) is decided by round-off;
  // the correction must still give a proper rotation that recovers the motion exactly.
  std::mt19937_64 rng(3);
  at::Tensor ref = random_points(rng, 6);
  ref.select(1, 2).zero_();
  for (int i = 0; i < 20; ++i) {
    const at::Tensor r = random_rotation(rng);
    const KabschFit fit = kabsch_align(ref.matmul(r.t()).unsqueeze(0), ref);
    EXPECT_NEAR(at::linalg_det(fit.rotation[0]).item<double>(), 1.0, 1e-12);
    EXPECT_LT(fit.rmsd[0].item<double>(), 1e-12);
  }
}

// ---------------------------------------------------------------- dihedrals

TEST(ImportMolecular, DihedralIupacSign) {
  // p0 = (1,0,0), p1 = origin, p2 = (0,0,1): p3 above p2 at angle a in the xy plane gives dihedral a.
  // Hand-checked with mdtraj 1.9.7 compute_dihedrals: (0,1,1) -> +pi/2, (0,-1,1) -> -pi/2, (1,0,1) -> 0, (-1,0,1) -> pi.
  const at::Tensor p0 = dtensor({1, 0, 0}, {3}), p1 = dtensor({0, 0, 0}, {3}), p2 = dtensor({0, 0, 1}, {3});
  const auto dih = [&](double x, double y) { return dihedral(p0, p1, p2, dtensor({x, y, 1}, {3})).item<double>(); };
  EXPECT_NEAR(dih(1, 0), 0.0, 1e-15);           // cis / eclipsed
  EXPECT_NEAR(dih(-1, 0), M_PI, 1e-15);         // trans, +pi (the range is (-pi, pi])
  EXPECT_NEAR(dih(0, 1), M_PI / 2, 1e-15);      // clockwise looking from p1 to p2: positive
  EXPECT_NEAR(dih(0, -1), -M_PI / 2, 1e-15);
  EXPECT_NEAR(dih(0.5, std::sqrt(3.0) / 2), M_PI / 3, 1e-14);
  EXPECT_NEAR(dih(-0.5, -std::sqrt(3.0) / 2), -2 * M_PI / 3, 1e-14);
  // Batched, and invariant to rotation, translation and bond lengths.
  std::mt19937_64 rng(5);
  const at::Tensor r = random_rotation(rng), t = random_points(rng, 1, 3.0);
  const at::Tensor q3 = dtensor({0, 2, 2.5, 0, -3, 1.2}, {2, 3});
  const at::Tensor moved = dihedral(p0.matmul(r.t()) * 1.7 + t, p1.matmul(r.t()) * 1.7 + t, p2.matmul(r.t()) * 1.7 + t,
                                    q3.matmul(r.t()) * 1.7 + t);
  ASSERT_EQ(moved.sizes(), (std::vector<int64_t>{2}));
  EXPECT_NEAR(moved[0].item<double>(), M_PI / 2, 1e-12);
  EXPECT_NEAR(moved[1].item<double>(), -M_PI / 2, 1e-12);
  // A mirror image flips the sign.
  const at::Tensor m = dtensor({1, 0, 0, 0, -1, 0, 0, 0, 1}, {3, 3});
  EXPECT_NEAR(dihedral(p0.matmul(m), p1.matmul(m), p2.matmul(m), dtensor({0.5, std::sqrt(3.0) / 2, 1}, {3}).matmul(m))
                  .item<double>(),
              -M_PI / 3, 1e-14);
}

TEST(ImportMolecular, TopologyAndBackboneDihedrals) {
  const std::vector<MolecularAtom> atoms = parse_mdtraj_topology(ala2_heavy_topology(), "test");
  ASSERT_EQ(atoms.size(), 10u);
  EXPECT_EQ(atoms[4].label(), "ALA2-CA");
  EXPECT_FALSE(atoms[4].is_hydrogen());
  const BackboneDihedrals bd = find_backbone_dihedrals(atoms);
  ASSERT_EQ(bd.phi.size(), 1u);  // ACE has no N/CA, NME has no CA: one phi and one psi, as mdtraj
  ASSERT_EQ(bd.psi.size(), 1u);
  EXPECT_EQ(bd.phi[0], (std::array<int64_t, 4>{1, 3, 4, 6}));
  EXPECT_EQ(bd.psi[0], (std::array<int64_t, 4>{3, 4, 6, 8}));
  expect_message([] { parse_mdtraj_topology("{\"chains\": 3", "'x.h5' (/topology)"); }, {"x.h5", "not valid JSON"});
  expect_message([] { parse_mdtraj_topology("{\"residues\": []}", "'x.h5' (/topology)"); }, {"x.h5", "chains"});
  MolecularAtom h;
  h.name = "HB1";
  EXPECT_TRUE(h.is_hydrogen());  // no element: by name
  h.element = "C";
  EXPECT_FALSE(h.is_hydrogen());
}

TEST(ImportMolecular, H5StringDatasetRoundTrip) {
  const std::string dir = latdyn::test::temp_dir("mol_strings");
  {
    H5File f(dir + "/s.h5", H5File::Mode::kCreate);
    f.write_strings("a/b", {"one", "", "three \xc3\xa9"});
    f.write("num", to_array(torch::zeros({2}, torch::kDouble)));
  }
  H5File f(dir + "/s.h5", H5File::Mode::kRead);
  EXPECT_EQ(f.read_strings("/a/b"), (std::vector<std::string>{"one", "", "three \xc3\xa9"}));
  expect_message([&] { f.read_strings("num"); }, {"num", "not a string"});
  expect_message([&] { f.read_strings("missing"); }, {"missing", "not found"});
}

// ---------------------------------------------------------------- the real alanine dipeptide

TEST(ImportMolecular, Ala2HeavyAtomsAlignedToFrame0) {
  SKIP_WITHOUT_ALA2();
  MolecularImportOptions o;
  o.path = kAla2;
  o.reference = kFrame0;
  const Dataset ds = import_molecular(o);
  ASSERT_EQ(ds.y.sizes(), (std::vector<int64_t>{1, 100, 30}));  // 100 frames, 10 heavy atoms x 3
  EXPECT_EQ(ds.y.scalar_type(), at::kFloat);
  EXPECT_EQ(ds.header.generator, "import_molecular");
  EXPECT_EQ(ds.header.options.at("atom_indices").get<std::vector<int64_t>>(), kAla2Heavy);
  EXPECT_EQ(ds.header.options.at("atom_labels")[4], "ALA2-CA");
  EXPECT_EQ(ds.header.options.at("units"), "nanometers");
  EXPECT_EQ(ds.header.options.at("dt_source"), "time dataset");
  EXPECT_NEAR(ds.header.options.at("dt").get<double>(), 2.0, 1e-4);  // /time is 2, 4, ..., 200 ps
  EXPECT_EQ(ds.header.options.at("phi_atoms"), latdyn::json::parse("[[4, 6, 8, 14]]"));
  EXPECT_EQ(ds.header.options.at("psi_atoms"), latdyn::json::parse("[[6, 8, 14, 16]]"));
  EXPECT_NEAR(ds.t[0][1].item<double>(), 2.0, 1e-4);
  EXPECT_EQ(ds.split.sum().item<int64_t>(), 0);  // all train
  for (const char* k : {"phi", "psi", "rmsd_to_reference", "frame_index"})
    ASSERT_EQ(ds.truth.at(k).sizes(), (std::vector<int64_t>{1, 100})) << k;

  // Aligned frames: centred, internal geometry unchanged, closer to the reference than the raw frames.
  H5File in(kAla2, H5File::Mode::kRead), rf(kFrame0, H5File::Mode::kRead);
  const at::Tensor sel = torch::tensor(kAla2Heavy, torch::kLong);
  const at::Tensor raw = from_array(in.read_as("coordinates", Dtype::kFloat64)).index_select(1, sel);  // [100, 10, 3]
  const at::Tensor ref = from_array(rf.read_as("coordinates", Dtype::kFloat64))[0].index_select(0, sel);
  const at::Tensor y = ds.y[0].to(at::kDouble).reshape({100, 10, 3});
  EXPECT_LT(y.mean(1).abs().max().item<double>(), 1e-6);
  EXPECT_TRUE(at::allclose(at::cdist(y, y), at::cdist(raw, raw), 0, 1e-5));
  const at::Tensor aligned = ds.truth.at("rmsd_to_reference")[0];
  const at::Tensor unaligned = unaligned_rmsd(raw, ref);
  EXPECT_TRUE((aligned < unaligned).all().item<bool>());
  EXPECT_LT(aligned.max().item<double>(), 0.2);  // nm; 0.019-0.144 here (mdtraj.rmsd agrees, see the parity test)
  EXPECT_GT(unaligned.mean().item<double>(), 3 * aligned.mean().item<double>());  // 0.30 vs 0.071 nm
  EXPECT_TRUE(at::allclose(unaligned_rmsd(y, ref - ref.mean(0, true)), aligned, 0, 1e-6));

  // phi/psi: ala2 sits in the beta / polyproline basin (phi < 0, psi near +-pi) and the alpha-R basin (psi < 0 small).
  const at::Tensor phi = ds.truth.at("phi")[0], psi = ds.truth.at("psi")[0];
  EXPECT_TRUE((phi < 0).all().item<bool>()) << phi;
  EXPECT_GT(phi.min().item<double>(), -M_PI);
  EXPECT_TRUE((psi.abs() <= M_PI).all().item<bool>());
  const int64_t n_beta = (psi.abs() > 2.0).sum().item<int64_t>();                   // 70 of 100 frames
  const int64_t n_alpha = ((psi > -1.5) & (psi < 0.5)).sum().item<int64_t>();       // 26 of 100 frames
  EXPECT_GT(n_beta, 50);
  EXPECT_GT(n_alpha, 10);
  EXPECT_GE(n_beta + n_alpha, 90);
  // Against mdtraj 1.9.7 (compute_phi/psi, float32), checked once: frame 0 phi -1.1239667, psi 2.7346942.
  EXPECT_NEAR(phi[0].item<double>(), -1.1239667, 1e-5);
  EXPECT_NEAR(psi[0].item<double>(), 2.7346942, 1e-5);
  EXPECT_NEAR(aligned[0].item<double>(), 0.07266267, 1e-5);  // mdtraj.rmsd(traj, frame0[0], atom_indices=heavy)

  // The written file reads back.
  const std::string out = latdyn::test::temp_dir("mol_ala2") + "/ala2.h5";
  write_dataset(out, ds);
  const Dataset back = read_dataset(out);
  EXPECT_TRUE(at::equal(back.y, ds.y));
  EXPECT_TRUE(at::equal(back.truth.at("phi"), ds.truth.at("phi")));
  EXPECT_EQ(back.header.options, ds.header.options);
}

TEST(ImportMolecular, Ala2SelectionsDefaultReferenceStrideSegments) {
  SKIP_WITHOUT_ALA2();
  MolecularImportOptions o;
  o.path = kAla2;
  {
    const Dataset ds = import_molecular(o);  // reference: first input frame
    EXPECT_LT(ds.truth.at("rmsd_to_reference")[0][0].item<double>(), 1e-6);
    EXPECT_EQ(ds.header.options.at("reference_used"), "frame 0 of the input");
  }
  o.atoms = "backbone";
  EXPECT_EQ(import_molecular(o).header.options.at("atom_indices").get<std::vector<int64_t>>(),
            (std::vector<int64_t>{4, 5, 6, 8, 14, 15, 16, 18}));  // mdtraj select('backbone')
  o.atoms = "all";
  EXPECT_EQ(import_molecular(o).y.size(2), 66);
  o.atoms = "14,4,6,8";
  {
    const Dataset ds = import_molecular(o);
    EXPECT_EQ(ds.header.options.at("atom_indices").get<std::vector<int64_t>>(), (std::vector<int64_t>{4, 6, 8, 14}));
    EXPECT_EQ(ds.truth.count("phi"), 1u);  // dihedrals use all atoms, not just the selection
  }
  // Reference given as the selected atoms only: [A_sel, 3] in a file of its own.
  const std::string dir = latdyn::test::temp_dir("mol_sel");
  {
    H5File rf(kFrame0, H5File::Mode::kRead);
    const at::Tensor ref = from_array(rf.read_as("coordinates", Dtype::kFloat64))[3];
    write_mol(dir + "/ref_sel.h5", ref.index_select(0, torch::tensor(kAla2Heavy, torch::kLong)));
    write_mol(dir + "/ref_all.h5", ref.unsqueeze(0));
  }
  o.atoms = "heavy";
  o.reference = dir + "/ref_sel.h5";
  const Dataset a = import_molecular(o);
  o.reference = dir + "/ref_all.h5";
  const Dataset b = import_molecular(o);
  EXPECT_TRUE(at::equal(a.y, b.y));

  // Stride 10 -> frames 0, 10, ..., 90; segments of 3 -> 3 trajectories (frame 90 dropped); 1/3 each split.
  o.reference.clear();
  o.stride = 10;
  o.segment_frames = 3;
  o.split = "0.34,0.33,0.33";
  o.standardize = true;
  const Dataset s = import_molecular(o);
  ASSERT_EQ(s.y.sizes(), (std::vector<int64_t>{3, 3, 30}));
  EXPECT_TRUE(at::equal(s.split, torch::tensor({0, 1, 2}, torch::kByte)));
  EXPECT_TRUE(at::allclose(s.t[1], torch::tensor({60.0, 80.0, 100.0}, torch::kDouble), 0, 1e-3));
  EXPECT_TRUE(at::equal(s.truth.at("frame_index")[2], torch::tensor({60, 70, 80}, torch::kLong)));
  const at::Tensor train = s.y[0].to(at::kDouble);
  EXPECT_LT(train.mean(0).abs().max().item<double>(), 1e-5);
  EXPECT_NEAR(train.std(0, /*unbiased=*/false).mean().item<double>(), 1.0, 1e-5);
  EXPECT_EQ(s.header.options.at("standardize").at("mean").size(), 30u);
  o.dt = 0.5;  // explicit dt overrides /time: t = input frame index * dt
  EXPECT_NEAR(import_molecular(o).t[1][2].item<double>(), 25.0, 1e-12);  // input frame 50
}

TEST(ImportMolecular, Ala2ParityWithMdtraj) {
  SKIP_WITHOUT_ALA2();
  if (std::system("/usr/bin/python3 -c 'import mdtraj' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "/usr/bin/python3 has no mdtraj (Debian: python3-mdtraj); parity not checked";
  const std::string dir = latdyn::test::temp_dir("mol_parity");
  const std::string script = dir + "/parity.py";
  std::ofstream(script) << "import warnings; warnings.filterwarnings('ignore')\n"
                           "import mdtraj as md, numpy as np\n"
                           "t = md.load('" << kAla2 << "')[:100]\n"
                           "ref = md.load('" << kFrame0 << "')[0]\n"
                           "heavy = t.topology.select('not element H')\n"
                           "np.save('" << dir << "/phi.npy', md.compute_phi(t)[1][:, 0].astype('float64'))\n"
                           "np.save('" << dir << "/psi.npy', md.compute_psi(t)[1][:, 0].astype('float64'))\n"
                           "np.save('" << dir << "/rmsd.npy', md.rmsd(t, ref, atom_indices=heavy).astype('float64'))\n";
  std::string out;
  ASSERT_EQ(latdyn::test::run_command("/usr/bin/python3 " + script, &out), 0) << out;
  MolecularImportOptions o;
  o.path = kAla2;
  o.reference = kFrame0;
  const Dataset ds = import_molecular(o);
  const int64_t n = std::min<int64_t>(100, ds.steps());
  const auto load = [&](const char* name) { return from_array(read_npy(dir + "/" + name + ".npy")); };
  // mdtraj works in float32: agree to 1e-5 rad, wrapping +-pi.
  const at::Tensor dphi = at::remainder(ds.truth.at("phi")[0].narrow(0, 0, n) - load("phi") + M_PI, 2 * M_PI) - M_PI;
  const at::Tensor dpsi = at::remainder(ds.truth.at("psi")[0].narrow(0, 0, n) - load("psi") + M_PI, 2 * M_PI) - M_PI;
  EXPECT_LT(dphi.abs().max().item<double>(), 1e-5);
  EXPECT_LT(dpsi.abs().max().item<double>(), 1e-5);
  EXPECT_LT((ds.truth.at("rmsd_to_reference")[0].narrow(0, 0, n) - load("rmsd")).abs().max().item<double>(), 1e-5);
}

// ---------------------------------------------------------------- bad input

TEST(ImportMolecular, BadInputErrors) {
  const std::string dir = latdyn::test::temp_dir("mol_bad");
  std::mt19937_64 rng(1);
  const at::Tensor base = random_points(rng, 10, 0.3);
  const at::Tensor xyz = moving_molecule(rng, base, 6);  // [6, 10, 3]
  const std::string top = ala2_heavy_topology();
  MolecularImportOptions o;
  const auto run = [&](const std::string& path) {
    o.path = path;
    return import_molecular(o);
  };

  // A good synthetic file imports, and its alignment removes the rigid motion (noise 0.01 remains).
  write_mol(dir + "/good.h5", xyz, top, torch::arange(6, torch::kDouble) * 0.1 + 3.0);
  const Dataset good = run(dir + "/good.h5");
  EXPECT_LT(good.truth.at("rmsd_to_reference").max().item<double>(), 0.05);
  EXPECT_NEAR(good.t[0][5].item<double>(), 0.5, 1e-12);

  expect_message([&] { run(dir + "/absent.h5"); }, {"absent.h5", "not found", "coordinates"});
  write_mol(dir + "/noname.h5", xyz, top, at::Tensor(), "xyz");
  expect_message([&] { run(dir + "/noname.h5"); }, {"noname.h5", "no dataset 'coordinates'", "[frames, atoms, 3]", "xyz"});
  write_mol(dir + "/rank2.h5", xyz[0]);
  expect_message([&] { run(dir + "/rank2.h5"); }, {"rank2.h5", "coordinates", "shape [10, 3]", "[frames, atoms, 3]"});
  write_mol(dir + "/dim2.h5", xyz.narrow(2, 0, 2).contiguous());
  expect_message([&] { run(dir + "/dim2.h5"); }, {"dim2.h5", "shape [6, 10, 2]", "[frames, atoms, 3]"});
  write_mol(dir + "/int.h5", xyz.to(at::kInt));
  expect_message([&] { run(dir + "/int.h5"); }, {"int.h5", "int32", "float32 or float64"});
  at::Tensor nan = xyz.clone();
  nan[2][7][1] = NAN;
  write_mol(dir + "/nan.h5", nan, top);
  expect_message([&] { run(dir + "/nan.h5"); }, {"nan.h5", "NaN", "frame 2, atom 7"});
  write_mol(dir + "/one.h5", xyz.narrow(0, 0, 1).contiguous(), top);
  expect_message([&] { run(dir + "/one.h5"); }, {"one.h5", "1 frame", "at least 2"});

  // Selections: empty, too small, no topology, out-of-range and unknown specs.
  write_mol(dir + "/allh.h5", xyz.narrow(1, 0, 3).contiguous(),
            topology_json({{"HOH", {{"H1", "H"}, {"H2", "H"}, {"H3", "H"}}}}));
  expect_message([&] { run(dir + "/allh.h5"); }, {"allh.h5", "'heavy' matched no atom"});
  o.atoms = "1,2";
  expect_message([&] { run(dir + "/good.h5"); }, {"2 atom(s)", "at least 3"});
  o.atoms = "1,2,10";
  expect_message([&] { run(dir + "/good.h5"); }, {"index 10", "out of range", "10 atoms"}, /*config=*/true);
  o.atoms = "1,x";
  expect_message([&] { run(dir + "/good.h5"); }, {"'x' is not a 0-based atom index"}, true);
  o.atoms = "sidechain";
  expect_message([&] { run(dir + "/good.h5"); }, {"unknown atom selection 'sidechain'"}, true);
  o.atoms = "heavy";
  write_mol(dir + "/notop.h5", xyz);
  expect_message([&] { run(dir + "/notop.h5"); }, {"notop.h5", "no topology", "'heavy'"});
  write_mol(dir + "/topcount.h5", xyz.narrow(1, 0, 9).contiguous(), top);
  expect_message([&] { run(dir + "/topcount.h5"); }, {"topcount.h5", "lists 10 atoms", "have 9"});

  // Reference atom count mismatch (neither all atoms nor the selection), missing reference, frame out of range.
  write_mol(dir + "/ref7.h5", xyz.narrow(1, 0, 7).contiguous());
  o.reference = dir + "/ref7.h5";
  expect_message([&] { run(dir + "/good.h5"); }, {"ref7.h5", "has 7 atoms", "10 atoms", "10 selected"});
  o.reference = dir + "/nothere.h5";
  expect_message([&] { run(dir + "/good.h5"); }, {"nothere.h5", "not found"});
  o.reference.clear();
  o.reference_frame = 6;
  expect_message([&] { run(dir + "/good.h5"); }, {"reference frame 6", "6 frames"}, true);
  o.reference_frame = 0;

  // Uneven /time needs --dt.
  write_mol(dir + "/uneven.h5", xyz, top, torch::tensor({0.0, 1.0, 2.0, 4.0, 5.0, 6.0}, torch::kDouble));
  expect_message([&] { run(dir + "/uneven.h5"); }, {"uneven.h5", "'time'", "not evenly spaced"});
  o.dt = 0.25;
  EXPECT_NEAR(run(dir + "/uneven.h5").t[0][3].item<double>(), 0.75, 1e-12);
  o.dt = 0.0;

  // Bad options.
  o.stride = 0;
  expect_message([&] { run(dir + "/good.h5"); }, {"stride must be >= 1"}, true);
  o.stride = 1;
  o.split = "0.8,0.1,0.1";
  expect_message([&] { run(dir + "/good.h5"); }, {"needs several trajectories"}, true);
  o.segment_frames = 2;
  o.split = "0.8,0.3";
  expect_message([&] { run(dir + "/good.h5"); }, {"three fractions"}, true);
  o.split = "train";
  o.segment_frames = 7;
  expect_message([&] { run(dir + "/good.h5"); }, {"segment length 7", "6 frames"}, true);
  o.segment_frames = 0;
}

TEST(ImportMolecular, UnknownBackboneNamesSkipTruthWithWarning) {
  const std::string dir = latdyn::test::temp_dir("mol_warn");
  std::mt19937_64 rng(2);
  const at::Tensor xyz = moving_molecule(rng, random_points(rng, 5, 0.3), 4);
  write_mol(dir + "/odd.h5", xyz, topology_json({{"LIG", {{"C1", "C"}, {"C2", "C"}, {"O1", "O"}, {"N1", "N"}, {"C3", "C"}}}}));
  MolecularImportOptions o;
  o.path = dir + "/odd.h5";
  CaptureWarnings warn;
  const Dataset ds = import_molecular(o);
  EXPECT_EQ(ds.truth.count("phi"), 0u);
  EXPECT_EQ(ds.truth.count("psi"), 0u);
  EXPECT_EQ(ds.truth.count("rmsd_to_reference"), 1u);
  ASSERT_EQ(warn.messages.size(), 2u) << warn.all();
  EXPECT_NE(warn.all().find("truth/phi is not written"), std::string::npos) << warn.all();
  EXPECT_NE(warn.all().find("truth/psi is not written"), std::string::npos) << warn.all();
  EXPECT_NE(warn.all().find("C(i-1), N, CA, C"), std::string::npos) << warn.all();

  // Without a topology, `all` still imports, with one warning and no dihedrals.
  write_mol(dir + "/bare.h5", xyz);
  o.path = dir + "/bare.h5";
  o.atoms = "all";
  warn.messages.clear();
  EXPECT_EQ(import_molecular(o).y.size(2), 15);
  ASSERT_EQ(warn.messages.size(), 1u) << warn.all();
  EXPECT_NE(warn.all().find("no topology"), std::string::npos);
}

// ---------------------------------------------------------------- CLI

TEST(ImportMolecular, CliImport) {
  SKIP_WITHOUT_ALA2();
  namespace cli = latdyn::cli;
  const std::string dir = latdyn::test::temp_dir("mol_cli");
  cli::ImportArgs a;
  a.molecular = kAla2;
  a.reference = kFrame0;
  a.out = dir + "/ala2.h5";
  EXPECT_EQ(cli::run_import(a), 0);
  const Dataset ds = read_dataset(a.out);
  EXPECT_EQ(ds.y.sizes(), (std::vector<int64_t>{1, 100, 30}));
  EXPECT_EQ(ds.header.generator, "import_molecular");

  cli::ImportArgs both = a;
  both.y = dir + "/y.npy";
  EXPECT_THROW(cli::run_import(both), ConfigError);
  cli::ImportArgs neither;
  neither.out = a.out;
  EXPECT_THROW(cli::run_import(neither), ConfigError);
  cli::ImportArgs truth = a;
  truth.truth = {"theta=x.npy"};
  EXPECT_THROW(cli::run_import(truth), ConfigError);

  // Through the parser: --y and --molecular exclude each other, one of them is required, --stride needs --molecular.
  const auto main_with = [](const std::vector<std::string>& args) {
    std::string cmd = std::string(LATDYN_BINARY);
    for (const auto& s : args) cmd += " '" + s + "'";
    return latdyn::test::run_command(cmd);  // exit code
  };
  EXPECT_NE(main_with({"import", "--molecular", kAla2, "--y", "y.npy", "--out", dir + "/x.h5"}), 0);
  EXPECT_NE(main_with({"import", "--out", dir + "/x.h5"}), 0);
  EXPECT_NE(main_with({"import", "--y", "y.npy", "--stride", "2", "--out", dir + "/x.h5"}), 0);
  EXPECT_EQ(main_with({"import", "--molecular", kAla2, "--atoms", "backbone", "--stride", "2", "--segment", "10", "--split",
                       "0.6,0.2,0.2", "--standardize", "--out", dir + "/seg.h5"}),
            0);
  const Dataset seg = read_dataset(dir + "/seg.h5");
  EXPECT_EQ(seg.y.sizes(), (std::vector<int64_t>{5, 10, 24}));
  EXPECT_TRUE(at::equal(seg.split, torch::tensor({0, 0, 0, 1, 2}, torch::kByte)));
  EXPECT_NEAR(seg.t[0][1].item<double>(), 4.0, 1e-4);  // stride 2 x dt 2 ps from /time
}
