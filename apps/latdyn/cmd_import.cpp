// SPDX-License-Identifier: MIT
// `latdyn import --y obs.npy [--t times.npy | --dt DT] --out FILE`, or `latdyn import --molecular traj.h5 --out FILE`
// Example: latdyn import --y frames.npy --dt 0.1 --truth theta=theta.npy --out data/mine.h5
// Example: latdyn import --molecular ala2.h5 --atoms heavy --reference frame0.h5 --out data/ala2.h5
#include "latdyn/cli_common.hpp"
#include "latdyn/commands.hpp"
#include "latdyn/core/error.hpp"
#include "latdyn/core/log.hpp"
#include "latdyn/data/import_molecular.hpp"
#include "latdyn/data/import_npy.hpp"

namespace latdyn::cli {

void add_import(CLI::App& app, ImportArgs& a) {
  auto* c = app.add_subcommand("import", "Convert NPY arrays or molecular coordinates (mdtraj HDF5) into a latdyn dataset "
                                          "(HDF5, docs/formats.md)");
  c->footer("Example: latdyn import --y frames.npy --dt 0.1 --truth theta=theta.npy --out data/mine.h5\n"
            "Example: latdyn import --molecular ala2.h5 --atoms heavy --reference frame0.h5 --out data/ala2.h5");
  auto* y_opt = c->add_option("--y", a.y, "observations .npy: [N,T,C,H,W], [N,T,H,W] or [N,T,D]; float32/float64 in [0,1] or uint8");
  auto* mol = c->add_option("--molecular", a.molecular,
                            "instead of --y: mdtraj-style HDF5 with coordinates [frames, atoms, 3] (+ topology JSON, time); "
                            "Kabsch-aligned, flattened, truth phi/psi/rmsd_to_reference");
  y_opt->excludes(mol);
  mol->excludes(y_opt);
  // Exactly one of the two, checked at parse time as the former `--y ... ->required()` was.
  c->parse_complete_callback([y_opt, mol] {
    if (y_opt->count() == 0 && mol->count() == 0) throw CLI::RequiredError("--y or --molecular");
  });
  c->add_option("--t", a.t, "times .npy: [N,T] or [T] (default: k * dt)");
  c->add_option("--dt", a.dt, "frame spacing when --t is not given (default 1; --molecular: from its /time, else 1)")
      ->each([&a](const std::string&) { a.dt_given = true; });
  c->add_option("--split", a.split, "train,val,test fractions in stored order (default 0.8,0.1,0.1; --molecular: "
                                    "train, or fractions of the --segment pieces)")
      ->each([&a](const std::string&) { a.split_given = true; });
  c->add_option("--coords-dataset", a.coords_dataset, "--molecular: coordinate dataset name (default coordinates)")->needs(mol);
  c->add_option("--atoms", a.atoms, "--molecular: heavy (default, non-hydrogen), backbone (N,CA,C,O), all, or 0-based "
                                    "indices 1,4,5")->needs(mol);
  c->add_option("--reference", a.reference, "--molecular: HDF5 holding the reference frame (default: the input)")->needs(mol);
  c->add_option("--reference-frame", a.reference_frame, "--molecular: frame of the reference used (default 0)")->needs(mol);
  c->add_option("--stride", a.stride, "--molecular: keep every stride-th frame (default 1)")->needs(mol);
  c->add_option("--segment", a.segment, "--molecular: cut into contiguous trajectories of this many frames (default 0: "
                                        "one trajectory)")->needs(mol);
  c->add_flag("--standardize", a.standardize, "--molecular: per-feature (x-mean)/std over train frames (stored)")->needs(mol);
  c->add_option("--split-file", a.split_file, ".npy [N] with 0 train, 1 val, 2 test");
  c->add_option("--truth", a.truth, "per-frame ground truth name=file.npy, [N,T,...] (repeatable)");
  c->add_option("--params", a.params, "per-trajectory parameters name=file.npy, [N,...] (repeatable)");
  c->add_option("--normalize", a.normalize, "none (default) or minmax (global min/max to [0,1], stored)");
  c->add_option("--out", a.out, "output HDF5 file")->required();
}

static std::map<std::string, std::string> named_files(const std::vector<std::string>& items, const std::string& flag) {
  std::map<std::string, std::string> out;
  for (const auto& s : items) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
      throw ConfigError(flag + " '" + s + "' is not name=file.npy", "e.g. " + flag + " theta=theta.npy");
    out[s.substr(0, eq)] = s.substr(eq + 1);
  }
  return out;
}

static int run_import_molecular(const ImportArgs& a) {
  if (!a.t.empty() || !a.split_file.empty() || !a.truth.empty() || !a.params.empty() || a.normalize != "none")
    throw ConfigError("--t, --split-file, --truth, --params and --normalize apply to --y only, not to --molecular",
                      "times come from --dt or the file's /time; the split from --split train|fractions with --segment; "
                      "use --standardize to scale the features");
  prepare_output_file(a.out);
  data::MolecularImportOptions o;
  o.path = a.molecular, o.dataset = a.coords_dataset, o.atoms = a.atoms, o.reference = a.reference;
  o.reference_frame = a.reference_frame, o.stride = a.stride, o.segment_frames = a.segment;
  o.standardize = a.standardize;
  o.dt = a.dt_given ? a.dt : 0.0;
  if (a.dt_given && !(a.dt > 0)) throw ConfigError("--dt must be positive", "or leave it out to read the file's /time");
  o.split = a.split_given ? a.split : "train";
  data::Dataset ds = data::import_molecular(o);
  data::write_dataset(a.out, ds);
  log::info(concat("wrote ", a.out, ": ", ds.size(), " trajectories x ", ds.steps(), " steps x ", ds.y.size(2),
                   " features (", ds.header.options.at("atom_indices").size(), " atoms)"));
  return 0;
}

int run_import(const ImportArgs& a) {
  if (!a.y.empty() && !a.molecular.empty())
    throw ConfigError("give exactly one of --y and --molecular, not both", "--y for NPY arrays, --molecular for mdtraj HDF5");
  if (a.y.empty() && a.molecular.empty())
    throw ConfigError("give exactly one of --y (NPY observations) and --molecular (mdtraj HDF5 coordinates)",
                      "e.g. latdyn import --y frames.npy --out data/mine.h5");
  if (!a.molecular.empty()) return run_import_molecular(a);
  prepare_output_file(a.out);
  data::ImportOptions o;
  o.y_path = a.y, o.t_path = a.t, o.dt = a.dt, o.split_path = a.split_file, o.normalize = a.normalize;
  o.split_fractions = parse_doubles(a.split, "--split");
  o.truth = named_files(a.truth, "--truth");
  o.params = named_files(a.params, "--params");
  data::Dataset ds = data::import_npy(o);
  data::write_dataset(a.out, ds);
  log::info(concat("wrote ", a.out, ": ", ds.size(), " trajectories x ", ds.steps(), " steps"));
  return 0;
}

}  // namespace latdyn::cli
