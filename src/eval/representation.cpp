// SPDX-License-Identifier: MIT
// `latdyn eval` for representation models (dynae.md §12-13, §17.7).
#include "latdyn/eval/representation.hpp"

#include <torch/torch.h>

#include <filesystem>

#include "latdyn/core/error.hpp"
#include "latdyn/core/fs_util.hpp"
#include "latdyn/core/log.hpp"
#include "latdyn/core/rng.hpp"
#include "latdyn/data/h5.hpp"
#include "latdyn/data/tensor_array.hpp"
#include "latdyn/eval/alignment.hpp"
#include "latdyn/eval/latent_maps.hpp"
#include "latdyn/eval/plot2d.hpp"
#include "latdyn/models/dynae.hpp"

namespace latdyn::eval {
namespace fs = std::filesystem;

namespace {
// [N, T, ...] per-frame array -> [N*T, k] float64 rows (a scalar per frame becomes k = 1).
// [M, ...] per-point array -> [M, k] float64.
at::Tensor as_rows(const at::Tensor& a) {
  at::Tensor r = a.to(at::kDouble);
  return r.dim() == 1 ? r.unsqueeze(1) : r.flatten(1);
}
at::Tensor frame_rows(const at::Tensor& a) { return as_rows(a.flatten(0, 1)); }
std::vector<double> column(const at::Tensor& m, int64_t j) { return to_vector(m.select(1, j).contiguous()); }

// Mean of every loss term over the held-out pairs (full beta; dynae.md Q1: un-resampled test pairs).
json heldout_losses(models::PairAutoencoder& model, uint64_t seed) {
  torch::NoGradGuard no_grad;
  std::map<std::string, double> sums;
  int64_t n = 0;
  models::StepContext ctx{0, 1, make_generator(seed, "eval_noise"), false};
  for (const auto& b : model.validation_batches()) {
    auto terms = model.loss(b, ctx);
    sums["total"] += terms.total.item<double>();
    for (const auto& kv : terms.terms) sums[kv.first] += kv.second.item<double>();
    ++n;
  }
  json out = json::object();
  for (const auto& kv : sums) out["loss_" + kv.first] = kv.second / static_cast<double>(std::max<int64_t>(n, 1));
  out["n_batches"] = n;
  out["definition"] = "mean over the held-out pairs (the 20 % of the training-split pairs not trained on, dynae.md "
                      "§5.1), in minibatches of trainer.batch_size, with the full beta; loss_nll is the prior "
                      "transition NLL of §7 per pair (about 1 for a matched force and unit diffusion, §10)";
  return out;
}
}  // namespace

json evaluate_representation(models::PairAutoencoder& model, const data::Dataset& ds, const RepresentationRequest& req) {
  const json& cfg = req.config;
  const json& ev = cfg.at("eval");
  const int64_t batch = cfg.at("trainer").at("batch_size").get<int64_t>();
  const uint64_t seed = cfg.at("trainer").at("seed").get<uint64_t>();
  data::Dataset train = ds.select(ds.indices(data::Split::kTrain));
  if (train.size() == 0) throw DataError("dataset '" + req.data_path + "' has no training trajectories", "check /split");
  if (train.frame_shape() != model.hyperparams().at("frame_shape").get<std::vector<int64_t>>())
    throw DataError(concat("dataset '", req.data_path, "' has frames ", c10::IntArrayRef(train.frame_shape()),
                           " but the model was trained on ", model.hyperparams().at("frame_shape").dump()),
                    "evaluate on data of the same system");
  model.bind_data(train, train, batch, seed);  // the same pair split as in training
  const int64_t d = model.latent_dim();

  // Latent trajectory of every frame, and of the first frames of the held-out pairs.
  at::Tensor z_all = model.encode(ds.y.flatten(0, 1)).to(at::kDouble);  // [N*T, d]
  auto [rows, steps] = model.pair_positions(model.test_pairs());  // rows of the training split
  at::Tensor z_test = z_all.view({ds.size(), ds.steps(), d}).index({ds.indices(data::Split::kTrain).index_select(0, rows), steps});

  json metrics = {{"heldout_losses", heldout_losses(model, seed)}};
  const std::string truth = ev.value("truth", std::string());
  at::Tensor y_all;
  if (!truth.empty()) {
    if (!ds.truth.count(truth)) {
      std::string names;
      for (const auto& kv : ds.truth) names += (names.empty() ? "" : ", ") + kv.first;
      throw ConfigError("eval.truth = '" + truth + "' is not an array of '" + req.data_path + "'",
                        "the file has truth arrays: " + (names.empty() ? std::string("(none)") : names));
    }
    double latent_scale = ev.value("latent_scale", 0.0);
    if (latent_scale <= 0) latent_scale = ds.header.options.value("latent_scale", 1.0);
    y_all = frame_rows(ds.truth.at(truth));
    at::Tensor y_test = as_rows(train.truth.at(truth).index({rows, steps}));
    metrics["alignment"] = {
        {"truth", truth},
        {"latent_scale", latent_scale},
        {"latent_scale_definition", "expected latent units per truth unit, 1/sqrt(D_true dt) (dynae.md §3.2); the "
                                    "orthogonal fit compares with truth * latent_scale, the similarity fit reports "
                                    "its scale against 1/latent_scale"},
        {"all_frames", alignment_report_json(z_all, y_all, 1.0 / latent_scale)},
        {"heldout_pair_frames", alignment_report_json(z_test, y_test, 1.0 / latent_scale)}};
  }

  // Free-energy map, grid, force and diffusion fields (dynae.md §12).
  const std::string out_h5 = (fs::path(req.out_dir) / "latent.h5").string();
  data::H5File f(out_h5 + ".tmp", data::H5File::Mode::kCreate);
  f.write("latent", data::to_array(z_all.to(at::kFloat).view({ds.size(), ds.steps(), d})));
  f.write("heldout_pair_ids", data::to_array(model.test_pairs()));
  if (!ds.is_image()) f.write("reconstruction", data::to_array(model.decode(z_all.to(at::kFloat)).view(ds.y.sizes())));
  auto* dyn = dynamic_cast<models::Dynae*>(&model);
  FreeEnergyMap fe;
  EvalGrid grid;
  at::Tensor force, diffusion;
  if (d >= 2) {
    FreeEnergyOptions fo;
    fo.empty_bins = parse_empty_bins(ev.value("empty_bins", std::string("mask")));
    fe = free_energy_map(z_all, fo);
    grid = evaluation_grid(z_all, 10);
    f.write("free_energy", data::to_array(fe.F));
    f.write("free_energy_counts", data::to_array(fe.counts));
    f.write("free_energy_x_edges", data::to_array(fe.x_edges));
    f.write("free_energy_y_edges", data::to_array(fe.y_edges));
    f.write("grid", data::to_array(grid.points));
    if (dyn) {
      at::Tensor g = grid.points.to(at::kFloat);
      force = dyn->force(g).detach().to(at::kDouble);
      {
        torch::NoGradGuard ng;
        diffusion = dyn->log_diffusion(g).exp().to(at::kDouble);
      }
      f.write("force", data::to_array(force));
      f.write("diffusion", data::to_array(diffusion));
      f.write("centres", data::to_array(dyn->centres()));
      at::Tensor diag = diffusion.mean(0);
      metrics["diffusion_field"] = {{"mean", to_vector(diag)},
                                    {"min", to_vector(std::get<0>(diffusion.min(0)))},
                                    {"max", to_vector(std::get<0>(diffusion.max(0)))},
                                    {"definition", "exp(s(z)) per latent axis on the 10x10 grid of dynae.md §12; "
                                                   "expected about 1 everywhere (constant isotropic diffusion)"}};
    }
    metrics["free_energy"] = {{"bins", fe.F.size(0)}, {"empty_bins", fe.empty}, {"definition", kFreeEnergyDefinition}};
  }
  f.set_attr_string("/", "source_run", req.run_dir);
  f.set_attr_int("/", "checkpoint_step", req.checkpoint_step);
  f.flush();
  fs::rename(out_h5 + ".tmp", out_h5);

  if (req.pictures && d >= 2) {
    const std::string plots = (fs::path(req.out_dir) / "plots").string();
    ensure_writable_dir(plots);
    ScatterStyle st;
    st.equal_aspect = true;
    const std::vector<double> zx = column(z_all, 0), zy = column(z_all, 1);
    if (y_all.defined())
      for (int64_t j = 0; j < std::min<int64_t>(y_all.size(1), 3); ++j)
        write_scatter_png((fs::path(plots) / concat("latent_by_", truth, j, ".png")).string(), zx, zy, column(y_all, j),
                          concat("latent coloured by ", truth, "[", j, "]"), "z1", "z2", concat(truth, "[", j, "]"), st);
    if (ds.truth.count("well")) {  // categorical ground truth (three-well sectors)
      ScatterStyle sc = st;
      sc.categorical = true;
      write_scatter_png((fs::path(plots) / "latent_by_well.png").string(), zx, zy, column(frame_rows(ds.truth.at("well")), 0),
                        "latent coloured by well", "z1", "z2", "well", sc);
    }
    HeatmapStyle hs;
    hs.filled_contours = true, hs.equal_aspect = true;
    const double x0 = fe.x_edges[0].item<double>(), x1 = fe.x_edges[-1].item<double>();
    const double y0 = fe.y_edges[0].item<double>(), y1 = fe.y_edges[-1].item<double>();
    if (force.defined()) hs.quiver = {column(grid.points, 0), column(grid.points, 1), column(force, 0), column(force, 1), 0.0};
    write_heatmap_png((fs::path(plots) / "free_energy.png").string(), to_rows(fe.F), x0, x1, y0, y1,
                      force.defined() ? "free energy -ln p(z) with the learned force" : "free energy -ln p(z)", "z1", "z2",
                      "F (kT)", hs);
    if (diffusion.defined()) {
      HeatmapStyle he = hs;
      he.quiver = {};
      const double spacing = (grid.axes[0][1] - grid.axes[0][0]).item<double>();
      he.ellipses = {column(grid.points, 0), column(grid.points, 1), column(diffusion, 0), column(diffusion, 1), 0.4 * spacing};
      write_heatmap_png((fs::path(plots) / "diffusion.png").string(), to_rows(fe.F), x0, x1, y0, y1,
                        "learned diffusion exp(s(z)) (ellipse semi-axes, 1 = 0.4 grid spacing)", "z1", "z2", "F (kT)", he);
    }
  }
  return metrics;
}

}  // namespace latdyn::eval
