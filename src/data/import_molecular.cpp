// SPDX-License-Identifier: MIT
// Molecular-coordinate importer: mdtraj HDF5 -> atom selection -> Kabsch alignment (Kabsch 1976) -> flattened vector
// observations, with backbone dihedrals phi/psi and the RMSD to the reference as ground truth (dynae.md §11).
#include "latdyn/data/import_molecular.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "latdyn/core/config_reader.hpp"
#include "latdyn/core/error.hpp"
#include "latdyn/core/log.hpp"
#include "latdyn/core/version.hpp"
#include "latdyn/data/h5.hpp"
#include "latdyn/data/tensor_array.hpp"

namespace latdyn::data {
namespace {

constexpr const char* kLayoutHint =
    "expected an mdtraj-style HDF5 file: float32/float64 '/coordinates' [frames, atoms, 3], '/topology' (JSON string), "
    "optional '/time' [frames]; e.g. mdtraj: md.load('traj.dcd', top='top.pdb').save_hdf5('traj.h5')";

std::string join(const std::vector<std::string>& v, const std::string& sep = ", ") {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

/// Coordinates of one file, [F, A, 3] float64, with its NaN/shape checks done. `allow_2d` accepts one frame [A, 3].
at::Tensor read_coordinates(const H5File& f, const std::string& name, const std::string& role, bool allow_2d) {
  const std::string& path = f.path();
  if (!f.exists(name)) {
    std::vector<std::string> have = f.list("/");
    throw DataError(concat("'", path, "' (", role, ") has no dataset '", name, "'; expected [frames, atoms, 3] coordinates"),
                    concat("the file contains: ", have.empty() ? std::string("(nothing)") : join(have),
                           "; pass the coordinate dataset's name (--coords-dataset), or ", kLayoutHint));
  }
  const std::vector<int64_t> shape = f.shape(name);
  const bool rank_ok = shape.size() == 3 || (allow_2d && shape.size() == 2);
  std::string shape_str = "[";
  for (size_t i = 0; i < shape.size(); ++i) shape_str += (i ? ", " : "") + std::to_string(shape[i]);
  shape_str += "]";
  if (!rank_ok || shape.back() != 3)
    throw DataError(concat("'", path, "' (", role, ") dataset '", name, "' has shape ", shape_str,
                           allow_2d ? "; expected [frames, atoms, 3] or [atoms, 3]" : "; expected [frames, atoms, 3]"),
                    "Cartesian coordinates: one row per frame, one (x, y, z) triple per atom; " + std::string(kLayoutHint));
  const Dtype dt = f.dtype(name);
  if (dt != Dtype::kFloat32 && dt != Dtype::kFloat64)
    throw DataError(concat("'", path, "' (", role, ") dataset '", name, "' has dtype ", dtype_name(dt),
                           "; expected float32 or float64 coordinates"),
                    "store the coordinates as floats, e.g. h5py: f['coordinates'] = xyz.astype('float32')");
  at::Tensor x = from_array(f.read_as(name, Dtype::kFloat64));
  if (x.dim() == 2) x = x.unsqueeze(0);
  if (x.size(0) < 1 || x.size(1) < 1)
    throw DataError(concat("'", path, "' (", role, ") dataset '", name, "' has shape ", shape_str,
                           "; expected at least one frame and one atom"),
                    "check the export");
  const at::Tensor bad = at::logical_not(at::isfinite(x));
  if (bad.any().item<bool>()) {
    const at::Tensor where = at::nonzero(bad)[0];
    throw DataError(concat("'", path, "' (", role, ") dataset '", name, "' contains NaN or Inf (first at frame ",
                           where[0].item<int64_t>(), ", atom ", where[1].item<int64_t>(), ")"),
                    "repair or drop the affected frames before import (mdtraj: traj[good_frames].save_hdf5(...))");
  }
  return x;
}

/// The topology of a file: `/topology` string dataset (mdtraj) or a root attribute `topology`; empty if neither.
std::vector<MolecularAtom> read_topology(const H5File& f, int64_t n_atoms, bool* found) {
  *found = false;
  std::string text;
  if (f.exists("topology")) {
    text = join(f.read_strings("topology"), "");
  } else if (f.has_attr("/", "topology")) {
    text = f.attr_string("/", "topology");
  } else {
    return {};
  }
  std::vector<MolecularAtom> atoms = parse_mdtraj_topology(text, "'" + f.path() + "' (/topology)");
  if (static_cast<int64_t>(atoms.size()) != n_atoms)
    throw DataError(concat("'", f.path(), "' (/topology) lists ", atoms.size(), " atoms, but the coordinates have ",
                           n_atoms, "; expected one topology atom per coordinate row"),
                    "the topology and the coordinates come from different systems; re-export the file");
  for (int64_t i = 0; i < n_atoms; ++i)
    if (atoms[static_cast<size_t>(i)].index != i)
      throw DataError(concat("'", f.path(), "' (/topology) atom indices are not 0..", n_atoms - 1,
                             " (atom ", i, " has index ", atoms[static_cast<size_t>(i)].index, ")"),
                      "every atom index must appear exactly once");
  *found = true;
  return atoms;
}

/// Resolves the atom selection to sorted unique indices.
std::vector<int64_t> select_atoms(const std::string& spec, const std::vector<MolecularAtom>& atoms, bool have_top,
                                  int64_t n_atoms, const std::string& path) {
  std::vector<int64_t> sel;
  if (spec == "all") {
    for (int64_t i = 0; i < n_atoms; ++i) sel.push_back(i);
  } else if (spec == "heavy" || spec == "backbone") {
    if (!have_top)
      throw DataError(concat("'", path, "' has no topology ('/topology' dataset or attribute); atom selection '", spec,
                             "' needs atom names and elements"),
                      "use --atoms all or an explicit index list such as --atoms 1,4,5,6,8; or " + std::string(kLayoutHint));
    static const std::set<std::string> kBackbone = {"N", "CA", "C", "O"};
    for (const auto& a : atoms)
      if (spec == "heavy" ? !a.is_hydrogen() : kBackbone.count(a.name) > 0) sel.push_back(a.index);
  } else if (!spec.empty() && std::isdigit(static_cast<unsigned char>(spec[0]))) {
    std::stringstream ss(spec);
    std::string item;
    std::set<int64_t> seen;
    while (std::getline(ss, item, ',')) {
      size_t used = 0;
      int64_t v = -1;
      try {
        v = std::stoll(item, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != item.size())
        throw ConfigError(concat("atom selection '", spec, "': '", item, "' is not a 0-based atom index"),
                          "write indices as a comma list, e.g. 1,4,5,6,8");
      if (v < 0 || v >= n_atoms)
        throw ConfigError(concat("atom selection '", spec, "': index ", v, " is out of range for the ", n_atoms,
                                 " atoms of '", path, "'"),
                          concat("indices are 0-based, 0..", n_atoms - 1));
      if (!seen.insert(v).second)
        throw ConfigError(concat("atom selection '", spec, "' lists atom ", v, " twice"), "give each index once");
      sel.push_back(v);
    }
  } else {
    throw ConfigError(concat("unknown atom selection '", spec, "'"),
                      "use heavy (non-hydrogen atoms), backbone (N, CA, C, O), all, or 0-based indices such as 1,4,5,6,8");
  }
  if (sel.empty())
    throw DataError(concat("atom selection '", spec, "' matched no atom of the ", n_atoms, " atoms in '", path, "'"),
                    "check the topology's atom names and elements (latdyn info does not show them; h5py: "
                    "json.loads(f['topology'][0])), or use --atoms all");
  if (sel.size() < 3)
    throw DataError(concat("atom selection '", spec, "' in '", path, "' has ", sel.size(),
                           " atom(s); the Kabsch alignment needs at least 3 (non-collinear) atoms"),
                    "select more atoms, e.g. --atoms heavy or --atoms all");
  std::sort(sel.begin(), sel.end());
  return sel;
}

std::vector<double> parse_fractions(const std::string& text) {
  std::vector<double> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t used = 0;
    double v = NAN;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || !(v >= 0.0))
      throw ConfigError(concat("split '", text, "': '", item, "' is not a fraction"),
                        "use train, or three fractions such as 0.8,0.1,0.1 (with a segment length)");
    out.push_back(v);
  }
  if (out.size() != 3 || std::abs(out[0] + out[1] + out[2] - 1.0) > 1e-6)
    throw ConfigError(concat("split '", text, "' needs three fractions that sum to 1"), "e.g. 0.8,0.1,0.1, or train");
  return out;
}

/// Reshapes a per-frame tensor [F_s, ...] into [N, L, ...] (the first N*L frames).
at::Tensor segment(const at::Tensor& x, int64_t n, int64_t len) {
  std::vector<int64_t> shape = {n, len};
  for (int64_t d = 1; d < x.dim(); ++d) shape.push_back(x.size(d));
  return x.narrow(0, 0, n * len).reshape(shape).contiguous();
}

}  // namespace

bool MolecularAtom::is_hydrogen() const {
  if (!element.empty()) return element == "H" || element == "D";
  return !name.empty() && name[0] == 'H';
}

std::string MolecularAtom::label() const { return concat(residue, residue_seq, "-", name); }

std::vector<MolecularAtom> parse_mdtraj_topology(const std::string& json_text, const std::string& origin) {
  const std::string hint = "expected mdtraj's topology JSON: {\"chains\": [{\"residues\": [{\"name\": \"ALA\", "
                           "\"resSeq\": 2, \"atoms\": [{\"index\": 8, \"name\": \"CA\", \"element\": \"C\"}]}]}]}";
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::exception& e) {
    throw DataError(concat(origin, " is not valid JSON: ", e.what()), hint);
  }
  std::vector<MolecularAtom> atoms;
  try {
    if (!j.is_object() || !j.contains("chains") || !j.at("chains").is_array())
      throw DataError(concat(origin, " has no 'chains' list"), hint);
    int64_t chain_i = 0, res_i = 0;
    for (const auto& chain : j.at("chains")) {
      for (const auto& res : chain.at("residues")) {
        for (const auto& at_j : res.at("atoms")) {
          MolecularAtom a;
          a.index = at_j.at("index").get<int64_t>();
          a.name = at_j.at("name").get<std::string>();
          if (at_j.contains("element") && at_j.at("element").is_string()) a.element = at_j.at("element").get<std::string>();
          a.residue = res.value("name", std::string());
          a.residue_seq = res.contains("resSeq") && res.at("resSeq").is_number_integer() ? res.at("resSeq").get<int64_t>()
                                                                                         : res_i + 1;
          a.residue_index = res_i;
          a.chain_index = chain_i;
          atoms.push_back(std::move(a));
        }
        ++res_i;
      }
      ++chain_i;
    }
  } catch (const json::exception& e) {
    throw DataError(concat(origin, " has an unexpected structure: ", e.what()), hint);
  }
  std::sort(atoms.begin(), atoms.end(), [](const MolecularAtom& a, const MolecularAtom& b) { return a.index < b.index; });
  return atoms;
}

BackboneDihedrals find_backbone_dihedrals(const std::vector<MolecularAtom>& atoms) {
  // residue_index -> (chain, name -> atom index); residue order is the topology order.
  std::map<int64_t, std::pair<int64_t, std::map<std::string, int64_t>>> res;
  for (const auto& a : atoms) {
    auto& r = res[a.residue_index];
    r.first = a.chain_index;
    r.second.emplace(a.name, a.index);  // the first atom of a name wins, as in mdtraj
  }
  BackboneDihedrals out;
  const auto get = [](const std::map<std::string, int64_t>& m, const char* name, int64_t* idx) {
    auto it = m.find(name);
    if (it == m.end()) return false;
    *idx = it->second;
    return true;
  };
  for (auto it = res.begin(); it != res.end(); ++it) {
    const auto& cur = it->second.second;
    int64_t n, ca, c, prev_c, next_n;
    if (!get(cur, "N", &n) || !get(cur, "CA", &ca) || !get(cur, "C", &c)) continue;
    if (it != res.begin()) {
      auto prev = std::prev(it);
      if (prev->first == it->first - 1 && prev->second.first == it->second.first && get(prev->second.second, "C", &prev_c))
        out.phi.push_back({prev_c, n, ca, c});
    }
    auto next = std::next(it);
    if (next != res.end() && next->first == it->first + 1 && next->second.first == it->second.first &&
        get(next->second.second, "N", &next_n))
      out.psi.push_back({n, ca, c, next_n});
  }
  return out;
}

at::Tensor dihedral(const at::Tensor& p0, const at::Tensor& p1, const at::Tensor& p2, const at::Tensor& p3) {
  TORCH_CHECK(p0.size(-1) == 3 && p1.size(-1) == 3 && p2.size(-1) == 3 && p3.size(-1) == 3,
              "dihedral: points must be [..., 3]");
  const at::Tensor a = p0.to(at::kDouble), b = p1.to(at::kDouble), c = p2.to(at::kDouble), d = p3.to(at::kDouble);
  const at::Tensor b1 = b - a, b2 = c - b, b3 = d - c;
  const at::Tensor c1 = at::linalg_cross(b2, b3, -1), c2 = at::linalg_cross(b1, b2, -1);
  // atan2(|b2| b1·(b2×b3), (b1×b2)·(b2×b3)): the form used by mdtraj (and Blondel & Karplus 1996), stable near 0 and pi.
  const at::Tensor y = (b1 * c1).sum(-1) * b2.pow(2).sum(-1).sqrt();
  const at::Tensor x = (c1 * c2).sum(-1);
  at::Tensor ang = at::atan2(y, x);
  return at::where(ang <= -M_PI, ang + 2.0 * M_PI, ang);  // (-pi, pi]: -pi (from y = -0) becomes pi
}

KabschFit kabsch_align(const at::Tensor& x_in, const at::Tensor& reference) {
  TORCH_CHECK(x_in.dim() == 3 && x_in.size(2) == 3, "kabsch_align: x must be [F, n, 3], got ", x_in.sizes());
  TORCH_CHECK(reference.dim() == 2 && reference.size(1) == 3 && reference.size(0) == x_in.size(1),
              "kabsch_align: reference must be [n, 3] with n = ", x_in.size(1), ", got ", reference.sizes());
  TORCH_CHECK(x_in.size(1) >= 1, "kabsch_align: needs at least one atom");
  const at::Tensor x = x_in.to(at::kDouble), ref = reference.to(at::kDouble);
  KabschFit fit;
  fit.centroid = x.mean(1);                                 // [F, 3]
  const at::Tensor xc = x - fit.centroid.unsqueeze(1);      // [F, n, 3]
  const at::Tensor yc = ref - ref.mean(0, /*keepdim=*/true);  // [n, 3]
  // Covariance H = Xc^T Yc = U S V^T; the optimal rotation is R = V diag(1, 1, d) U^T with d = sign det(V U^T),
  // which flips the weakest axis when the unconstrained optimum would be a reflection.
  const at::Tensor h = xc.transpose(1, 2).matmul(yc);  // [F, 3, 3]
  at::Tensor u, s, vh;
  std::tie(u, s, vh) = at::linalg_svd(h, /*full_matrices=*/false);
  const at::Tensor v = vh.transpose(1, 2), ut = u.transpose(1, 2);
  const at::Tensor det = at::linalg_det(v.matmul(ut));  // [F], +-1
  at::Tensor diag = at::ones({x.size(0), 3}, x.options());
  diag.select(1, 2).copy_(at::where(det < 0, -1.0 * at::ones_like(det), at::ones_like(det)));
  fit.rotation = (v * diag.unsqueeze(1)).matmul(ut);           // [F, 3, 3]
  fit.aligned = xc.matmul(fit.rotation.transpose(1, 2));      // row vectors: x' = R x
  fit.rmsd = (fit.aligned - yc).pow(2).sum(-1).mean(-1).sqrt();  // [F]
  return fit;
}

Dataset import_molecular(const MolecularImportOptions& o) {
  namespace fs = std::filesystem;
  // ---- options
  if (o.stride < 1) throw ConfigError(concat("stride must be >= 1, got ", o.stride), "e.g. --stride 10 keeps every 10th frame");
  if (o.reference_frame < 0) throw ConfigError(concat("reference frame must be >= 0, got ", o.reference_frame));
  if (o.segment_frames < 0 || o.segment_frames == 1)
    throw ConfigError(concat("segment length must be 0 (one trajectory) or >= 2 frames, got ", o.segment_frames));
  if (!std::isfinite(o.dt)) throw ConfigError("dt must be finite", "pass a positive --dt, or leave it out to read /time");
  const bool all_train = o.split == "train";
  std::vector<double> fractions;
  if (!all_train) {
    fractions = parse_fractions(o.split);
    if (o.segment_frames == 0)
      throw ConfigError(concat("split '", o.split, "' needs several trajectories, but the import makes one"),
                        "cut the trajectory into contiguous pieces with a segment length (--segment 1000), or use --split train");
  }
  std::error_code ec;
  if (!fs::exists(o.path, ec))
    throw DataError(concat("molecular coordinates file '", o.path, "' not found"),
                    "check the path; " + std::string(kLayoutHint));

  // ---- input coordinates and topology
  H5File f(o.path, H5File::Mode::kRead);
  const at::Tensor xyz = read_coordinates(f, o.dataset, "coordinates", /*allow_2d=*/false);  // [F, A, 3]
  const int64_t n_frames = xyz.size(0), n_atoms = xyz.size(1);
  bool have_top = false;
  const std::vector<MolecularAtom> atoms = read_topology(f, n_atoms, &have_top);
  const std::vector<int64_t> sel = select_atoms(o.atoms, atoms, have_top, n_atoms, o.path);
  const int64_t n_sel = static_cast<int64_t>(sel.size());
  const at::Tensor sel_t = torch::tensor(sel, torch::kLong);
  std::string units;
  if (f.has_attr(o.dataset, "units")) {
    try {
      units = f.attr_string(o.dataset, "units");
    } catch (const DataError&) {
      units.clear();  // a non-string units attribute is informational only
    }
  }

  // ---- frames kept
  const at::Tensor frame_idx = torch::arange(0, n_frames, o.stride, torch::kLong);  // [F_s]
  const int64_t n_kept = frame_idx.size(0);
  if (n_kept < 2)
    throw DataError(concat("'", o.path, "' (coordinates) has ", n_frames, " frame(s); with stride ", o.stride, " that leaves ",
                           n_kept, ", but a trajectory needs at least 2"),
                    "use a smaller --stride or a longer trajectory");
  const at::Tensor x = xyz.index_select(0, frame_idx);  // [F_s, A, 3]

  // ---- reference frame (selected atoms)
  at::Tensor ref_sel;
  std::string ref_desc;
  if (o.reference.empty()) {
    if (o.reference_frame >= n_frames)
      throw ConfigError(concat("reference frame ", o.reference_frame, " is out of range for the ", n_frames, " frames of '",
                               o.path, "'"),
                        "frames are 0-based");
    ref_sel = xyz[o.reference_frame].index_select(0, sel_t);
    ref_desc = concat("frame ", o.reference_frame, " of the input");
  } else {
    if (!fs::exists(o.reference, ec))
      throw DataError(concat("reference file '", o.reference, "' not found"),
                      "pass an HDF5 file with a '" + o.dataset + "' dataset [frames, atoms, 3] or [atoms, 3], or leave "
                      "--reference out to use the first input frame");
    H5File rf(o.reference, H5File::Mode::kRead);
    const at::Tensor r = read_coordinates(rf, o.dataset, "reference", /*allow_2d=*/true);  // [F_r, A_r, 3]
    if (o.reference_frame >= r.size(0))
      throw ConfigError(concat("reference frame ", o.reference_frame, " is out of range for the ", r.size(0),
                               " frames of '", o.reference, "'"),
                        "frames are 0-based");
    const int64_t n_ref = r.size(1);
    if (n_ref == n_atoms) {
      ref_sel = r[o.reference_frame].index_select(0, sel_t);
      bool ref_top = false;
      const std::vector<MolecularAtom> ref_atoms = read_topology(rf, n_ref, &ref_top);
      if (have_top && ref_top) {
        for (int64_t i : sel) {
          const auto &a = atoms[static_cast<size_t>(i)], &b = ref_atoms[static_cast<size_t>(i)];
          if (a.name != b.name || a.residue != b.residue) {
            log::warn(concat("reference '", o.reference, "' atom ", i, " is ", b.label(), " but input atom ", i, " is ",
                             a.label(), "; aligning by index anyway"));
            break;
          }
        }
      }
    } else if (n_ref == n_sel) {
      ref_sel = r[o.reference_frame];  // already reduced to the selection
    } else {
      throw DataError(concat("reference '", o.reference, "' dataset '", o.dataset, "' has ", n_ref, " atoms, but '",
                             o.path, "' has ", n_atoms, " atoms (", n_sel, " selected by '", o.atoms, "')"),
                      concat("the reference must hold the same system: [frames, ", n_atoms, ", 3] (all atoms) or [frames, ",
                             n_sel, ", 3] (the selected atoms only)"));
    }
    ref_desc = concat("frame ", o.reference_frame, " of '", o.reference, "'");
  }

  // ---- alignment and observations
  const KabschFit fit = kabsch_align(x.index_select(1, sel_t), ref_sel);
  at::Tensor y = fit.aligned.reshape({n_kept, 3 * n_sel});  // [F_s, D], atom-major (x, y, z per atom)

  // ---- ground truth (from the raw coordinates of all atoms; dihedrals are rotation and translation invariant)
  std::map<std::string, at::Tensor> truth_frames;  // name -> [F_s, ...]
  json phi_atoms = json::array(), psi_atoms = json::array();
  if (!have_top) {
    log::warn(concat("'", o.path, "' has no topology: truth/phi and truth/psi are not written"));
  } else {
    const BackboneDihedrals bd = find_backbone_dihedrals(atoms);
    const auto compute = [&](const std::vector<std::array<int64_t, 4>>& quads, const std::string& name, json& record) {
      if (quads.empty()) {
        log::warn(concat("'", o.path, "': no residue has the atoms named ",
                         name == "phi" ? "C(i-1), N, CA, C" : "N, CA, C, N(i+1)", " in its topology; truth/", name,
                         " is not written"));
        return;
      }
      std::vector<at::Tensor> cols;
      for (const auto& q : quads) {
        cols.push_back(dihedral(x.select(1, q[0]), x.select(1, q[1]), x.select(1, q[2]), x.select(1, q[3])));
        record.push_back({q[0], q[1], q[2], q[3]});
      }
      at::Tensor d = at::stack(cols, 1);  // [F_s, k]
      truth_frames[name] = quads.size() == 1 ? d.select(1, 0) : d;
    };
    compute(bd.phi, "phi", phi_atoms);
    compute(bd.psi, "psi", psi_atoms);
  }
  truth_frames["rmsd_to_reference"] = fit.rmsd;
  truth_frames["frame_index"] = frame_idx;

  // ---- times
  double dt = o.dt;
  std::string dt_source = "option";
  std::string time_units;
  if (!(dt > 0)) {
    if (o.dt < 0) throw ConfigError(concat("dt must be positive, got ", o.dt), "leave it out to read /time");
    if (f.exists("time")) {
      const at::Tensor tm = from_array(f.read_as("time", Dtype::kFloat64));
      if (tm.dim() != 1 || tm.size(0) != n_frames)
        throw DataError(concat("'", o.path, "' dataset 'time' has shape ", tm.sizes(), "; expected [", n_frames,
                               "] (one time per frame)"),
                        "pass --dt to set the frame spacing explicitly");
      const double span = (tm[n_frames - 1] - tm[0]).item<double>();
      dt = span / static_cast<double>(n_frames - 1);
      const double dev = (tm.slice(0, 1) - tm.slice(0, 0, n_frames - 1) - dt).abs().max().item<double>();
      if (!(dt > 0) || !std::isfinite(dt) || dev > 1e-3 * std::abs(dt))
        throw DataError(concat("'", o.path, "' dataset 'time' is not evenly spaced and increasing (mean step ", dt,
                               ", largest deviation ", dev, ")"),
                        "pass --dt to use t = frame index * dt");
      dt_source = "time dataset";
      if (f.has_attr("time", "units")) {
        try {
          time_units = f.attr_string("time", "units");
        } catch (const DataError&) {
          time_units.clear();
        }
      }
    } else {
      dt = 1.0;
      dt_source = "default (no /time)";
    }
  }
  const at::Tensor t_frames = frame_idx.to(at::kDouble) * dt;  // [F_s]

  // ---- trajectories (segments) and split
  const int64_t len = o.segment_frames > 0 ? o.segment_frames : n_kept;
  const int64_t n_traj = n_kept / len;
  if (n_traj < 1)
    throw ConfigError(concat("segment length ", o.segment_frames, " is longer than the ", n_kept, " frames kept"),
                      "use a shorter --segment, a smaller --stride, or no segments");
  if (n_traj * len < n_kept)
    log::info(concat("import_molecular: dropping the last ", n_kept - n_traj * len, " frame(s) that do not fill a segment of ",
                     len));
  Dataset ds;
  at::Tensor split = torch::zeros({n_traj}, torch::kByte);
  if (!all_train) {
    const int64_t n_train = static_cast<int64_t>(std::llround(fractions[0] * static_cast<double>(n_traj)));
    const int64_t n_val = static_cast<int64_t>(std::llround(fractions[1] * static_cast<double>(n_traj)));
    split.fill_(2);
    split.narrow(0, 0, std::min(n_train, n_traj)).fill_(0);
    if (n_train < n_traj) split.narrow(0, n_train, std::min(n_val, n_traj - n_train)).fill_(1);
  }
  y = segment(y, n_traj, len);  // [N, L, D]

  // ---- optional standardisation with train statistics
  json standardize = {{"applied", o.standardize}};
  if (o.standardize) {
    const at::Tensor train_rows = at::nonzero(split == 0).flatten();
    if (train_rows.numel() == 0)
      throw ConfigError(concat("standardisation needs train frames, but split '", o.split, "' leaves none"),
                        "give the train split a larger fraction");
    const at::Tensor yt = y.index_select(0, train_rows).reshape({-1, y.size(2)});
    const at::Tensor mean = yt.mean(0);
    at::Tensor sd = (yt - mean).pow(2).mean(0).sqrt();
    const at::Tensor tiny = sd < 1e-12;
    if (tiny.any().item<bool>()) {
      log::warn(concat("import_molecular: ", tiny.sum().item<int64_t>(),
                       " feature(s) are constant over the train frames; their std is set to 1"));
      sd = at::where(tiny, at::ones_like(sd), sd);
    }
    y = (y - mean) / sd;
    const auto to_vec = [](const at::Tensor& v) {
      const at::Tensor c = v.contiguous();
      return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
    };
    standardize["mean"] = to_vec(mean);
    standardize["std"] = to_vec(sd);
    standardize["statistics_over"] = "train frames";
  }
  ds.y = y.to(at::kFloat).contiguous();
  ds.t = segment(t_frames, n_traj, len);
  ds.split = split;
  for (const auto& kv : truth_frames) ds.truth[kv.first] = segment(kv.second, n_traj, len);

  // ---- provenance
  std::vector<std::string> names, labels;
  for (int64_t i : sel) {
    names.push_back(have_top ? atoms[static_cast<size_t>(i)].name : "");
    labels.push_back(have_top ? atoms[static_cast<size_t>(i)].label() : concat("atom", i));
  }
  ds.header.generator = "import_molecular";
  ds.header.options = {{"type", "import_molecular"},
                       {"path", o.path},
                       {"dataset", o.dataset},
                       {"atoms", o.atoms},
                       {"atom_indices", sel},
                       {"atom_names", names},
                       {"atom_labels", labels},
                       {"n_atoms_input", n_atoms},
                       {"n_frames_input", n_frames},
                       {"units", units},
                       {"reference", o.reference},
                       {"reference_frame", o.reference_frame},
                       {"reference_used", ref_desc},
                       {"alignment", "kabsch: centroid removed (frames centred at the origin), proper rotation onto the "
                                     "centred reference"},
                       {"feature_layout", "atom-major: x, y, z of atom_indices[0], then atom_indices[1], ..."},
                       {"stride", o.stride},
                       {"dt", dt},
                       {"dt_source", dt_source},
                       {"time_units", time_units},
                       {"segment_frames", o.segment_frames},
                       {"split", o.split},
                       {"standardize", standardize},
                       {"phi_atoms", phi_atoms},
                       {"psi_atoms", psi_atoms},
                       {"dihedral_convention", "radians in (-pi, pi], IUPAC sign (as mdtraj.compute_phi/psi)"}};
  ds.header.latdyn_version = kVersion;
  ds.validate("imported from '" + o.path + "'");
  return ds;
}

}  // namespace latdyn::data
