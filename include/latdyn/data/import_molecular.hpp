// SPDX-License-Identifier: MIT
// `latdyn import --molecular`: Cartesian coordinates [F, A, 3] (mdtraj HDF5 layout) -> Kabsch-aligned vector dataset
// with backbone dihedrals as ground truth (dynae.md §11 "Molecular coordinates"; Kabsch 1976, Acta Cryst. A32:922).
#pragma once
#include <ATen/ATen.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "latdyn/data/dataset.hpp"

namespace latdyn::data {

/// One atom of an mdtraj topology (`/topology` JSON: chains -> residues -> atoms).
struct MolecularAtom {
  int64_t index = 0;          ///< 0-based row in the coordinate array
  std::string name;           ///< e.g. "CA"
  std::string element;        ///< e.g. "C" ("" when the topology gives none)
  std::string residue;        ///< residue name, e.g. "ALA"
  int64_t residue_index = 0;  ///< 0-based residue position in the topology (over all chains)
  int64_t residue_seq = 0;    ///< residue number as written (`resSeq`), for labels like "ALA2-CA"
  int64_t chain_index = 0;    ///< 0-based chain position
  /// Hydrogen (or deuterium) by element; by a leading 'H' in the name when the element is empty.
  bool is_hydrogen() const;
  /// mdtraj-style label "ALA2-CA".
  std::string label() const;
};

/// Parses mdtraj's topology JSON; atoms sorted by index. DataError naming `origin` on malformed text.
std::vector<MolecularAtom> parse_mdtraj_topology(const std::string& json_text, const std::string& origin);

/// Backbone dihedral quadruples (atom indices) in residue order, mdtraj's definition (compute_phi / compute_psi):
/// phi = C(i-1), N(i), CA(i), C(i); psi = N(i), CA(i), C(i), N(i+1); neighbouring residues of the same chain only.
struct BackboneDihedrals {
  std::vector<std::array<int64_t, 4>> phi, psi;
};
BackboneDihedrals find_backbone_dihedrals(const std::vector<MolecularAtom>& atoms);

/// Dihedral angle p0-p1-p2-p3 in radians, in (-pi, pi], IUPAC sign (positive = clockwise looking from p1 to p2;
/// the convention of mdtraj.compute_dihedrals). Computed in float64; NaN-free for non-degenerate input.
// p0..p3: [..., 3] -> [...]
at::Tensor dihedral(const at::Tensor& p0, const at::Tensor& p1, const at::Tensor& p2, const at::Tensor& p3);

/// Optimal superposition of every frame onto a reference (Kabsch): centroid removal, then the proper rotation
/// (det +1, reflections excluded by the sign correction) that minimises the RMSD.
struct KabschFit {
  at::Tensor aligned;   ///< [F, n, 3] float64: (x_f - centroid_f) R_f^T, centred at the origin
  at::Tensor rotation;  ///< [F, 3, 3] float64, proper rotations
  at::Tensor centroid;  ///< [F, 3] float64, centroid of each input frame
  at::Tensor rmsd;      ///< [F] float64, RMSD between `aligned` and the centred reference (input units)
};
// x: [F, n, 3], reference: [n, 3] (float32 or float64), n >= 1
KabschFit kabsch_align(const at::Tensor& x, const at::Tensor& reference);

/// Options of `import_molecular` (all stored in the dataset header).
struct MolecularImportOptions {
  std::string path;                      ///< input HDF5 (mdtraj layout: `/coordinates` [F, A, 3], `/topology`, `/time`)
  std::string dataset = "coordinates";   ///< coordinate dataset in `path` (and in `reference`)
  std::string atoms = "heavy";           ///< heavy (non-hydrogen) | backbone (N, CA, C, O) | all | "0,4,5,6" (indices)
  std::string reference;                 ///< HDF5 holding the reference frame; "" = a frame of the input
  int64_t reference_frame = 0;           ///< frame of the reference file (or of the input) used as the reference
  int64_t stride = 1;                    ///< keep input frames 0, stride, 2*stride, ...
  double dt = 0.0;                       ///< time between input frames; <= 0: from `/time` if present, else 1
  std::string split = "train";           ///< "train" (everything train) or "f_train,f_val,f_test" (needs segment_frames)
  int64_t segment_frames = 0;            ///< > 0: cut the trajectory into contiguous trajectories of this many frames
  bool standardize = false;              ///< per-feature (x - mean) / std with train-split statistics (stored)
};

/// Builds the dataset: y [N, T, 3 n_sel] float32 (aligned coordinates, input units), t [N, T] = input frame * dt,
/// truth/phi, truth/psi ([N, T] radians, or [N, T, k] for k > 1 dihedrals; skipped with a warning when the
/// topology lacks the named atoms), truth/rmsd_to_reference [N, T], truth/frame_index [N, T] int64.
/// DataError naming file, field and expected form on bad input; ConfigError on bad options.
Dataset import_molecular(const MolecularImportOptions& o);

}  // namespace latdyn::data
