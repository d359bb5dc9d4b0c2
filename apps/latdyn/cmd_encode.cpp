// SPDX-License-Identifier: MIT
// `latdyn encode --run-dir DIR (--data FILE | --npy FRAMES.npy) --out OUT.h5|OUT.npy`: latent coordinates of new
// frames or coordinates with a trained representation model (DynAE and its baselines).
// Example: latdyn encode --run-dir runs/three_well --npy new_points.npy --out latent.npy
#include <filesystem>

#include "latdyn/cli_common.hpp"
#include "latdyn/commands.hpp"
#include "latdyn/core/error.hpp"
#include "latdyn/core/log.hpp"
#include "latdyn/data/h5.hpp"
#include "latdyn/data/npy.hpp"
#include "latdyn/data/tensor_array.hpp"
#include "latdyn/eval/pipeline.hpp"

namespace latdyn::cli {

void add_encode(CLI::App& app, EncodeArgs& a) {
  auto* c = app.add_subcommand("encode", "Map frames or coordinates to latent coordinates with a trained DynAE-type model");
  c->footer("Examples:\n  latdyn encode --run-dir runs/three_well --data data/three_well.h5 --out latent.h5\n"
            "  latdyn encode --run-dir runs/three_well --npy points.npy --out latent.npy   (points [M, D] or frames [M, C, H, W])");
  c->add_option("--run-dir", a.run_dir, "run directory of `latdyn train`")->required();
  c->add_option("--data", a.data, "a latdyn dataset: every frame of every trajectory is encoded -> /latent [N, T, d]");
  c->add_option("--npy", a.npy, "NPY frames [M, D], [M, H, W] or [M, C, H, W] (float32/64 or uint8/255) -> [M, d]");
  c->add_option("--ckpt", a.ckpt, "checkpoint: best (default), latest or a step number");
  c->add_option("--out", a.out, "output: .npy (latent array only) or .h5 (/latent plus source_run attributes)")->required();
}

int run_encode(const EncodeArgs& a) {
  if (a.data.empty() == a.npy.empty())
    throw ConfigError("give exactly one of --data and --npy", "e.g. --data data/three_well.h5 or --npy frames.npy");
  const std::string ext = std::filesystem::path(a.out).extension().string();
  if (ext != ".npy" && ext != ".h5")
    throw ConfigError("--out '" + a.out + "' must end in .npy or .h5", "e.g. --out latent.h5");
  int64_t step = -1;
  auto model = eval::load_run_model(a.run_dir, a.ckpt, &step);
  auto* enc = dynamic_cast<models::LatentEncoder*>(model.get());
  const std::string type = model->hyperparams().value("type", std::string("?"));
  if (!enc)
    throw ConfigError("model '" + type + "' of run '" + a.run_dir + "' has no encoder to a latent coordinate",
                      "encode works with dynae, beta_vae, swae and sde_vae runs; use `latdyn predict` for forecasting models");
  const auto expected = model->hyperparams().at("frame_shape").get<std::vector<int64_t>>();
  at::Tensor frames;
  std::vector<int64_t> lead;  // leading shape of the output latent
  const std::string source = a.data.empty() ? a.npy : a.data;
  if (!a.data.empty()) {
    data::Dataset ds = data::read_dataset(a.data);
    frames = ds.y.flatten(0, 1), lead = {ds.size(), ds.steps()};
  } else {
    frames = data::from_array(data::read_npy(a.npy));
    if (frames.scalar_type() == at::kByte) frames = frames.to(at::kFloat) / 255.0;
    if (!frames.is_floating_point())
      throw DataError("'" + a.npy + "' has dtype " + concat(frames.scalar_type()) + "; expected float32, float64 or uint8",
                      "convert the array, e.g. arr.astype(np.float32)");
    if (frames.dim() == 3 && expected.size() == 3 && expected[0] == 1) frames = frames.unsqueeze(1);  // [M,H,W] -> [M,1,H,W]
    lead = {frames.size(0)};
  }
  std::vector<int64_t> got(frames.sizes().begin() + 1, frames.sizes().end());
  if (got != expected)
    throw DataError(concat("'", source, "' has frames of shape ", c10::IntArrayRef(got), " but the model of '", a.run_dir,
                           "' encodes frames of shape ", c10::IntArrayRef(expected)),
                    concat("give an array [M, ", c10::IntArrayRef(expected), "] (without the brackets of the inner shape)"));
  if (!at::isfinite(frames).all().item<bool>())
    throw DataError("'" + source + "' contains NaN or Inf", "remove or repair the non-finite frames");
  std::vector<int64_t> out_shape = lead;
  out_shape.push_back(enc->latent_dim());
  at::Tensor z = enc->encode(frames.to(at::kFloat)).view(out_shape);
  prepare_output_file(a.out);
  if (ext == ".npy") {
    data::write_npy(a.out, data::to_array(z));
  } else {
    data::H5File f(a.out + ".tmp", data::H5File::Mode::kCreate);
    f.write("latent", data::to_array(z));
    f.set_attr_string("/", "source_run", a.run_dir);
    f.set_attr_string("/", "source_data", source);
    f.set_attr_string("/", "model", type);
    f.set_attr_int("/", "checkpoint_step", step);
    f.flush();
    std::filesystem::rename(a.out + ".tmp", a.out);
  }
  log::info(concat("wrote ", a.out, ": latent ", z.sizes(), " from ", source));
  return 0;
}

}  // namespace latdyn::cli
