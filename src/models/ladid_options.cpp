// SPDX-License-Identifier: MIT
// LaDID options (ladid.md §10), their data-dependent resolution and the curriculum table (§5).
#include <torch/torch.h>

#include <cmath>

#include "latdyn/core/error.hpp"
#include "latdyn/core/log.hpp"
#include "latdyn/models/ladid.hpp"

namespace latdyn::models {

namespace {
double read_auto(ConfigReader& r, const json& j, const std::string& key, double fallback) {
  r.accept(key);
  if (!j.contains(key) || j.at(key).is_null() || (j.at(key).is_string() && j.at(key) == "auto")) return fallback;
  if (!j.at(key).is_number()) r.throw_error("bad value for '" + key + "': " + j.at(key).dump(), "use a number or \"auto\"");
  return j.at(key).get<double>();
}
}  // namespace

LadidOptions LadidOptions::from_json(const json& j) {
  ConfigReader r(j, "model (ladid)");
  r.accept("type");
  LadidOptions o;
  o.channels = r.get("channels", o.channels);
  o.resolution = r.get("resolution", o.resolution);
  o.latent_dim = r.get("latent_dim", o.latent_dim);
  o.token_mult = r.get("token_mult", o.token_mult);
  o.enc_channels = r.get("enc_channels", o.enc_channels);
  o.dec_channels = r.get("dec_channels", o.dec_channels);
  o.tf_layers = r.get("tf_layers", o.tf_layers);
  o.attn_type = r.get("attn_type", o.attn_type);
  o.tokens = r.get("tokens", o.tokens);
  o.attn_heads = r.get("attn_heads", o.attn_heads);
  o.delta_r = r.get("delta_r", o.delta_r);
  o.delta_r_frames = r.get("delta_r_frames", o.delta_r_frames);
  o.attn_p = r.get("attn_p", o.attn_p);
  o.attn_eps = r.get("attn_eps", o.attn_eps);
  o.dyn_width_mult = r.get("dyn_width_mult", o.dyn_width_mult);
  o.dyn_act = r.get("dyn_act", o.dyn_act);
  o.dyn_dropout = r.get("dyn_dropout", o.dyn_dropout);
  o.time_span = read_auto(r, j, "time_span", 0.0);
  o.sigma_y = r.get("sigma_y", o.sigma_y);
  o.context_len = r.get("context_len", o.context_len);
  o.max_len = r.get("max_len", o.max_len);
  o.overlap = r.get("overlap", o.overlap);
  o.variational = r.get("variational", o.variational);
  o.full_traj_term = r.get("full_traj_term", o.full_traj_term);
  o.psi_prior = r.get("psi_prior", o.psi_prior);
  o.static_skip = r.get("static_skip", o.static_skip);
  o.smoothness_scaling = r.get("smoothness_scaling", o.smoothness_scaling);
  o.overlap_sigma = r.get("overlap_sigma", o.overlap_sigma);
  o.posterior_std = r.get("posterior_std", o.posterior_std);
  o.posterior_std_min = r.get("posterior_std_min", o.posterior_std_min);
  o.psi_prior_mode = r.get("psi_prior_mode", o.psi_prior_mode);
  o.eval_psi = r.get("eval_psi", o.eval_psi);
  o.eval_samples = r.get("eval_samples", o.eval_samples);
  o.curriculum = r.get("curriculum", o.curriculum);
  o.epochs_per_phase = r.get("epochs_per_phase", o.epochs_per_phase);
  o.phase_epochs = r.get("phase_epochs", o.phase_epochs);
  o.share_frame_features = r.get("share_frame_features", o.share_frame_features);
  o.loss_scale = read_auto(r, j, "loss_scale", 0.0);
  r.accept("out_bias");
  if (j.contains("out_bias")) {
    const json& v = j.at("out_bias");
    if (v.is_number()) o.out_bias = v.dump();
    else if (v.is_string() && (v == "auto" || v == "default")) o.out_bias = v.get<std::string>();
    else r.throw_error("bad value for 'out_bias': " + v.dump(), "use \"default\", \"auto\" (logit of the mean pixel) or a number");
  }
  o.channels_last = r.get("channels_last", o.channels_last);
  r.finish();
  r.check_choice("attn_type", o.attn_type, {"dp", "tdp", "t"});
  try {
    r.check_choice("tokens", o.tokens, {"frame", "spacetime"});
  } catch (const ConfigError& e) {  // same message as the other choices, plus what the two variants are
    throw ConfigError(e.message(), e.hint() + " (frame = one token per frame, ladid.md §3.2; spacetime = (H/16)^2 patch "
                                              "tokens per frame with temporal + spatial attention, ladid.md §3.2.1)");
  }
  r.check_choice("dyn_act", o.dyn_act, {"relu", "tanh", "gelu", "mish"});
  r.check_choice("posterior_std", o.posterior_std, {"reference", "exp", "softplus"});
  r.check_choice("psi_prior_mode", o.psi_prior_mode, {"sample_nll", "kl"});
  r.check_choice("eval_psi", o.eval_psi, {"mean", "sample"});
  if (o.variational && !o.full_traj_term && !o.psi_prior)  // ladid.md §4.2: L_psi is on whenever L_lat is off
    r.throw_error("psi_prior false has no effect when full_traj_term is false: the psi prior L_psi stays on in "
                  "variational mode without the latent likelihood L_lat (ladid.md §4.2)",
                  "to drop both terms set smoothness_scaling to 0 (or variational to false); to drop only L_psi keep "
                  "full_traj_term true");
  if (o.psi_prior_mode == "kl" && o.posterior_std == "reference")
    r.throw_error("psi_prior_mode 'kl' needs a positive posterior std", "set posterior_std to \"exp\" or \"softplus\" (ladid.md §11.2)");
  if (o.latent_dim < 1 || o.token_mult < 1 || o.enc_channels < 1 || o.dec_channels < 1 || o.tf_layers < 1)
    r.throw_error("latent_dim, token_mult, enc_channels, dec_channels and tf_layers must be >= 1", "");
  if ((o.latent_dim * o.token_mult) % o.attn_heads != 0)
    r.throw_error(concat("attn_heads ", o.attn_heads, " does not divide d_model ", o.latent_dim * o.token_mult), "");
  if (o.context_len < 2) r.throw_error("context_len must be >= 2 (the static skip uses frame differences)", "");
  if (o.max_len <= o.context_len)
    r.throw_error(concat("max_len ", o.max_len, " must exceed context_len ", o.context_len), "max_len = context + predicted frames");
  if (o.overlap < 0) r.throw_error("overlap must be >= 0", "");
  if (o.delta_r <= 0 || o.sigma_y <= 0 || o.time_span < 0) r.throw_error("delta_r and sigma_y must be positive", "");
  if (o.dyn_dropout < 0 || o.dyn_dropout >= 1) r.throw_error("dyn_dropout must be in [0, 1)", "");
  if (o.epochs_per_phase < 1) r.throw_error("epochs_per_phase must be >= 1", "");
  if (o.resolution != 0 && o.resolution % 16 != 0)
    r.throw_error(concat("resolution ", o.resolution, " is not divisible by 16"), "LaDID supports 32, 64, 128, ...");
  return o;
}

json LadidOptions::to_json() const {
  json j = {{"type", "ladid"}, {"channels", channels}, {"resolution", resolution}, {"latent_dim", latent_dim},
            {"token_mult", token_mult}, {"enc_channels", enc_channels}, {"dec_channels", dec_channels},
            {"tf_layers", tf_layers}, {"tokens", tokens}, {"attn_type", attn_type}, {"attn_heads", attn_heads}, {"delta_r", delta_r},
            {"delta_r_frames", delta_r_frames}, {"attn_p", attn_p}, {"attn_eps", attn_eps},
            {"dyn_width_mult", dyn_width_mult}, {"dyn_act", dyn_act}, {"dyn_dropout", dyn_dropout},
            {"sigma_y", sigma_y}, {"context_len", context_len}, {"max_len", max_len}, {"overlap", overlap},
            {"variational", variational}, {"full_traj_term", full_traj_term}, {"psi_prior", psi_prior},
            {"static_skip", static_skip}, {"smoothness_scaling", smoothness_scaling}, {"overlap_sigma", overlap_sigma},
            {"posterior_std", posterior_std}, {"posterior_std_min", posterior_std_min},
            {"psi_prior_mode", psi_prior_mode}, {"eval_psi", eval_psi}, {"eval_samples", eval_samples},
            {"curriculum", curriculum}, {"epochs_per_phase", epochs_per_phase}, {"phase_epochs", phase_epochs},
            {"share_frame_features", share_frame_features}, {"channels_last", channels_last}};
  j["time_span"] = time_span > 0 ? json(time_span) : json("auto");
  j["loss_scale"] = loss_scale > 0 ? json(loss_scale) : json("auto");
  j["out_bias"] = (out_bias == "auto" || out_bias == "default") ? json(out_bias) : json(std::stod(out_bias));
  return j;
}

json resolve_ladid_options(const json& model, const data::Dataset& train, int64_t batch_size) {
  LadidOptions o = LadidOptions::from_json(model);
  if (!train.is_image())
    throw DataError(concat("LaDID needs image or field data [N,T,C,H,W]; the training data has shape ", train.y.sizes()),
                    "use a model for vector data (e.g. dynae) or reshape fields to [N,T,C,H,W]");
  const int64_t c = train.y.size(2), h = train.y.size(3), w = train.y.size(4), steps = train.steps();
  if (h != w || h % 16 != 0)
    throw DataError(concat("LaDID needs square frames with side divisible by 16; got ", h, "x", w),
                    "resample the frames to 32x32, 64x64 or 128x128");
  if (o.channels != 0 && o.channels != c)
    throw ConfigError(concat("model.channels = ", o.channels, " but the data has ", c, " channels"), "remove model.channels");
  if (o.resolution != 0 && o.resolution != h)
    throw ConfigError(concat("model.resolution = ", o.resolution, " but the data is ", h, "x", w), "remove model.resolution");
  o.channels = c, o.resolution = h;
  if (steps < o.max_len)
    throw DataError(concat("trajectories have ", steps, " frames but LaDID is configured for max_len = ", o.max_len,
                        " (context_len ", o.context_len, " + ", o.max_len - o.context_len, " predicted)"),
                    concat("set model.max_len <= ", steps, " or simulate longer trajectories"));
  if (train.size() < 1) throw DataError("the training split is empty", "check /split in the dataset");
  const at::Tensor t0 = train.t[0];
  if (o.time_span <= 0) {  // reference rule (§3.4): first training trajectory, index max_len - 1
    o.time_span = t0[o.max_len - 1].item<double>() - t0.slice(0, 0, o.max_len).min().item<double>();
  }
  at::Tensor dts = (train.t.slice(1, 1) - train.t.slice(1, 0, steps - 1)).flatten();
  const double median_dt = dts.median().item<double>();
  if (o.delta_r_frames > 0) o.delta_r = o.delta_r_frames * median_dt;
  if (o.delta_r < 1.5 * median_dt)
    log::warn(concat("LaDID delta_r = ", o.delta_r, " < 1.5 x median dt (", median_dt,
                  "): the layer-0 time window is degenerate; consider model.delta_r_frames = 7.5"));
  if (o.loss_scale <= 0) o.loss_scale = static_cast<double>(train.size()) / static_cast<double>(batch_size);
  if (o.out_bias == "auto") {
    const double m = std::min(std::max(train.y.mean().item<double>(), 1e-4), 1 - 1e-4);
    o.out_bias = std::to_string(std::log(m / (1 - m)));
  }
  return o.to_json();
}

std::vector<Phase> curriculum_phases(const LadidOptions& o) {
  const int64_t k = o.context_len, l0 = o.max_len, q_final = l0 - k;
  std::vector<int64_t> qs;
  if (o.curriculum) {
    const int64_t top = static_cast<int64_t>(std::ceil(std::log2(static_cast<double>(l0)))) - 1;
    for (int64_t e = 0; e <= top; ++e)
      if ((int64_t{1} << e) < q_final) qs.push_back(int64_t{1} << e);
  }
  qs.push_back(q_final);
  const std::vector<int64_t> overlap_schedule = {1, 1, 2, 4, 8, 16};
  std::vector<Phase> out;
  int64_t length = l0, epoch = 0;
  for (size_t i = 0; i < qs.size(); ++i) {
    const int64_t q = qs[i];
    const bool last = i + 1 == qs.size();
    int64_t o_i = 0;
    if (o.overlap > 0 && !last) o_i = std::min(i < overlap_schedule.size() ? overlap_schedule[i] : 16, q);
    length = last ? k + q : k + ((length - k - o_i) / q) * q + o_i;
    if (length < k + q + o_i) length = k + q + o_i;
    const int64_t blocks = (length - k - o_i) / q;
    out.push_back(Phase{q, length, o_i, blocks, epoch});
    const int64_t dur = (!o.phase_epochs.empty() && i < o.phase_epochs.size()) ? o.phase_epochs[i] : o.epochs_per_phase;
    epoch += dur;
  }
  if (!o.phase_epochs.empty() && o.phase_epochs.size() + 1 != qs.size())
    throw ConfigError(concat("model.phase_epochs has ", o.phase_epochs.size(), " entries; the curriculum has ", qs.size(),
                          " phases (q = 1 ... ", q_final, ")"),
                      concat("give ", qs.size() - 1, " lengths (the final phase runs to the end)"));
  return out;
}

}  // namespace latdyn::models
