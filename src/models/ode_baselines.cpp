// SPDX-License-Identifier: MIT
// Shared image networks of the baselines (baselines.md §1), ODE-RNN forecaster (§3.2) and Latent ODE (§3.3).
#include "latdyn/models/ode_baselines.hpp"

#include <torch/torch.h>

#include <cmath>

#include "latdyn/core/error.hpp"
#include "latdyn/models/likelihood.hpp"

namespace latdyn::models {

// ---------------------------------------------------------------------------------------------- shared networks --

void FrameCodecOptions::read(ConfigReader& r) {
  r.accept("type");
  channels = r.get("channels", channels);
  resolution = r.get("resolution", resolution);
  enc_channels = r.get("enc_channels", enc_channels);
  dec_channels = r.get("dec_channels", dec_channels);
  token_dim = r.get("token_dim", token_dim);
  context_len = r.get("context_len", context_len);
  max_len = r.get("max_len", max_len);
  channels_last = r.get("channels_last", channels_last);
}

void FrameCodecOptions::write(json& j) const {
  j["channels"] = channels, j["resolution"] = resolution, j["enc_channels"] = enc_channels;
  j["dec_channels"] = dec_channels, j["token_dim"] = token_dim, j["context_len"] = context_len;
  j["max_len"] = max_len, j["channels_last"] = channels_last;
}

void FrameCodecOptions::check(ConfigReader& r) const {
  if (enc_channels < 1 || dec_channels < 1 || token_dim < 1)
    r.throw_error("enc_channels, dec_channels and token_dim must be >= 1", "defaults: 8, 8, 128 (16 for 64x64 fields)");
  if (context_len < 2) r.throw_error(concat("context_len must be >= 2, got ", context_len), "the protocol uses 10");
  if (max_len <= context_len)
    r.throw_error(concat("max_len ", max_len, " must exceed context_len ", context_len), "max_len = context + predicted frames");
  if (resolution != 0 && resolution % 16 != 0)
    r.throw_error(concat("resolution ", resolution, " is not divisible by 16"), "use 32, 64 or 128");
}

json resolve_frame_codec_options(const json& model, const data::Dataset& train) {
  const std::string type = model.value("type", std::string());
  ConfigReader r(model, "model (" + type + ")");
  FrameCodecOptions o;
  o.read(r);  // unknown keys are reported later by the model's own from_json
  if (!train.is_image())
    throw DataError(concat(type, " needs image or field data [N,T,C,H,W]; the training data has shape ", train.y.sizes()),
                    "the latent-ODE baselines compare with LaDID on videos and fields");
  const int64_t c = train.y.size(2), h = train.y.size(3), w = train.y.size(4);
  if (h != w || h % 16 != 0)
    throw DataError(concat(type, " needs square frames with side divisible by 16; got ", h, "x", w),
                    "resample the frames to 32x32, 64x64 or 128x128");
  if (o.channels != 0 && o.channels != c)
    throw ConfigError(concat("model.channels = ", o.channels, " but the data has ", c, " channels"), "remove model.channels");
  if (o.resolution != 0 && o.resolution != h)
    throw ConfigError(concat("model.resolution = ", o.resolution, " but the data is ", h, "x", w), "remove model.resolution");
  if (train.steps() < o.max_len)
    throw DataError(concat("trajectories have ", train.steps(), " frames but ", type, " is configured for max_len = ",
                           o.max_len, " (context_len ", o.context_len, " + ", o.max_len - o.context_len, " predicted)"),
                    concat("set model.max_len <= ", train.steps(), " or simulate longer trajectories"));
  json out = model;
  out["channels"] = c;
  out["resolution"] = h;
  return out;
}

FrameCodecModel::FrameCodecModel(FrameCodecOptions codec, int64_t decoder_in) : codec_(std::move(codec)) {
  TORCH_CHECK(codec_.channels > 0 && codec_.resolution > 0,
              "image baseline: channels and resolution must be resolved from data first (resolve_frame_codec_options)");
  encoder = register_module("encoder", nn::FrameEncoder(nn::FrameEncoderOptions(codec_.channels, codec_.resolution)
                                                             .base_channels(codec_.enc_channels)
                                                             .d_model(codec_.token_dim)));
  decoder = register_module("decoder", nn::ConvDecoder(nn::ConvDecoderOptions(decoder_in, codec_.channels, codec_.resolution)
                                                           .base_channels(codec_.dec_channels)));
}

at::Tensor FrameCodecModel::tokens(const at::Tensor& x) {
  const int64_t b = x.size(0), m = x.size(1);
  at::Tensor frames = x.flatten(0, 1);
  if (codec_.channels_last) frames = frames.contiguous(at::MemoryFormat::ChannelsLast);
  return encoder->forward(frames).view({b, m, -1});
}

at::Tensor FrameCodecModel::decode(const at::Tensor& z) {
  const int64_t b = z.size(0), q = z.size(1);
  at::Tensor logits = decoder->forward(z.flatten(0, 1), at::Tensor());  // [B*Q, C, H, W]
  return at::sigmoid(logits).contiguous().view({b, q, codec_.channels, codec_.resolution, codec_.resolution});
}

data::Batch FrameCodecModel::window(const data::Batch& batch) const {
  TORCH_CHECK(batch.x.dim() == 5, "image baselines need image batches [B,T,C,H,W], got ", batch.x.sizes());
  TORCH_CHECK(batch.x.size(1) > codec_.context_len, "the batch has ", batch.x.size(1), " steps; context_len ",
              codec_.context_len, " + at least one predicted frame needed");
  return batch.steps(0, std::min(batch.x.size(1), codec_.max_len));
}

void FrameCodecModel::check_context(const data::Batch& context) const {
  TORCH_CHECK(context.x.dim() == 5 && context.x.size(1) >= codec_.context_len && context.x.size(2) == codec_.channels &&
                  context.x.size(3) == codec_.resolution && context.x.size(4) == codec_.resolution,
              "predict: context frames must be [B, >=", codec_.context_len, ", ", codec_.channels, ", ",
              codec_.resolution, ", ", codec_.resolution, "], got ", context.x.sizes());
}

namespace {
// Mean over frames and pixels of log N(y; y_hat, s^2) per trajectory: [..., Q, C, H, W] -> [...]
at::Tensor per_point_log_lik(const at::Tensor& y, const at::Tensor& y_hat, double s) {
  return gaussian_log_prob(y, y_hat, s).flatten(-4).mean(-1);
}
}  // namespace

// ------------------------------------------------------------------------------------------ ODE-RNN forecaster --

OdeRnnModelOptions OdeRnnModelOptions::from_json(const json& j) {
  ConfigReader r(j, "model (ode_rnn)");
  OdeRnnModelOptions o;
  o.codec.read(r);
  o.hidden = r.get("hidden", o.hidden);
  o.obs_std = r.get("obs_std", o.obs_std);
  o.context_loss = r.get("context_loss", o.context_loss);
  r.finish();
  o.codec.check(r);
  if (o.hidden < 1 || !(o.obs_std > 0)) r.throw_error("hidden must be >= 1 and obs_std > 0", "defaults: 32, 0.01");
  return o;
}

json OdeRnnModelOptions::to_json() const {
  json j = {{"type", "ode_rnn"}, {"hidden", hidden}, {"obs_std", obs_std}, {"context_loss", context_loss}};
  codec.write(j);
  return j;
}

OdeRnnModel::OdeRnnModel(OdeRnnModelOptions o) : FrameCodecModel(o.codec, o.hidden), o_(std::move(o)) {
  rnn = register_module("rnn", nn::OdeRnn(nn::OdeRnnOptions(o_.codec.token_dim, o_.hidden)));
  if (o_.codec.channels_last) nn::to_channels_last(*this);
}

at::Tensor OdeRnnModel::forecast(const at::Tensor& h, const at::Tensor& t_last, const at::Tensor& query,
                                 const at::Tensor& min_step) {
  std::vector<at::Tensor> hs;
  at::Tensor state = h, prev = t_last;
  for (int64_t q = 0; q < query.size(1); ++q) {
    at::Tensor tq = query.select(1, q);
    state = rnn->evolve(state, prev, tq, min_step);
    hs.push_back(state);
    prev = tq;
  }
  return at::stack(hs, 1);  // [B, Q, d_h]
}

LossTerms OdeRnnModel::loss_impl(const data::Batch& batch, const StepContext&) {
  data::Batch w = window(batch);
  const int64_t k = codec_.context_len;
  at::Tensor t_ctx = w.t.slice(1, 0, k);
  std::vector<at::Tensor> before;
  nn::OdeRnnState s = rnn->run(tokens(w.x.slice(1, 0, k)), t_ctx, false, o_.context_loss ? &before : nullptr);
  at::Tensor h_future = forecast(s.h, t_ctx.select(1, k - 1), w.t.slice(1, k), nn::rubanova_min_step(t_ctx));
  at::Tensor ll_future = per_point_log_lik(w.x.slice(1, k), decode(h_future), o_.obs_std).mean();
  LossTerms out;
  at::Tensor total = -ll_future;
  out.terms.push_back({"nll_future", -ll_future.detach()});
  if (o_.context_loss) {  // states evolved to t_1..t_{K-1} before their updates: one-step-ahead predictions
    at::Tensor h_ctx = at::stack(std::vector<at::Tensor>(before.begin() + 1, before.end()), 1);
    at::Tensor ll_ctx = per_point_log_lik(w.x.slice(1, 1, k), decode(h_ctx), o_.obs_std).mean();
    const double nf = static_cast<double>(w.x.size(1) - k), nc = static_cast<double>(k - 1);
    total = -(nf * ll_future + nc * ll_ctx) / (nf + nc);  // mean over every scored frame
    out.terms.push_back({"nll_context", -ll_ctx.detach()});
  }
  out.total = total;
  return out;
}

Prediction OdeRnnModel::predict_impl(const data::Batch& context, const at::Tensor& query_times) {
  check_context(context);
  const int64_t k = codec_.context_len;
  at::Tensor t_ctx = context.t.slice(1, 0, k);
  nn::OdeRnnState s = rnn->run(tokens(context.x.slice(1, 0, k)), t_ctx, false);
  at::Tensor h = forecast(s.h, t_ctx.select(1, k - 1), query_times, nn::rubanova_min_step(t_ctx));
  Prediction p;
  p.mean = decode(h);
  p.latent = h;
  return p;
}

void read_solver_options(ConfigReader& r, nn::OdeOptions& s) {
  s.method = r.get("solver", s.method);
  s.rtol = r.get("rtol", s.rtol);
  s.atol = r.get("atol", s.atol);
  s.substeps = r.get("substeps", s.substeps);
  s.max_steps = r.get("max_solver_steps", s.max_steps);
}

void write_solver_options(const nn::OdeOptions& s, json& j) {
  j["solver"] = s.method;
  j["rtol"] = s.rtol;
  j["atol"] = s.atol;
  j["substeps"] = s.substeps;
  j["max_solver_steps"] = s.max_steps;
}

// ------------------------------------------------------------------------------------------------- Latent ODE --

LatentOdeOptions LatentOdeOptions::from_json(const json& j) {
  ConfigReader r(j, "model (latent_ode)");
  LatentOdeOptions o;
  o.solver.method = "dopri5", o.solver.rtol = 1e-3, o.solver.atol = 1e-4;
  o.codec.read(r);
  o.rec_hidden = r.get("rec_hidden", o.rec_hidden);
  o.latent_dim = r.get("latent_dim", o.latent_dim);
  o.units = r.get("units", o.units);
  o.obs_std = r.get("obs_std", o.obs_std);
  o.n_samples = r.get("n_samples", o.n_samples);
  o.kl_wait_epochs = r.get("kl_wait_epochs", o.kl_wait_epochs);
  o.kl_rate = r.get("kl_rate", o.kl_rate);
  o.future_only = r.get("future_only", o.future_only);
  o.predict_samples = r.get("predict_samples", o.predict_samples);
  read_solver_options(r, o.solver);
  r.finish();
  o.codec.check(r);
  o.solver.check("model (latent_ode).solver");
  if (o.rec_hidden < 1 || o.latent_dim < 1 || o.units < 1 || o.n_samples < 1 || o.predict_samples < 1)
    r.throw_error("rec_hidden, latent_dim, units, n_samples and predict_samples must be >= 1", "defaults: 64, 32, 100, 3, 1");
  if (!(o.obs_std > 0) || !(o.kl_rate > 0 && o.kl_rate < 1) || o.kl_wait_epochs < 0)
    r.throw_error("obs_std > 0, 0 < kl_rate < 1 and kl_wait_epochs >= 0 are required", "defaults: 0.01, 0.99, 10");
  return o;
}

json LatentOdeOptions::to_json() const {
  json j = {{"type", "latent_ode"}, {"rec_hidden", rec_hidden}, {"latent_dim", latent_dim}, {"units", units},
            {"obs_std", obs_std}, {"n_samples", n_samples}, {"kl_wait_epochs", kl_wait_epochs}, {"kl_rate", kl_rate},
            {"future_only", future_only}, {"predict_samples", predict_samples}};
  write_solver_options(solver, j);
  codec.write(j);
  return j;
}

LatentOde::LatentOde(LatentOdeOptions o) : FrameCodecModel(o.codec, o.latent_dim), o_(std::move(o)) {
  const int64_t d = o_.latent_dim, u = o_.units;
  rec = register_module("rec", nn::OdeRnn(nn::OdeRnnOptions(o_.codec.token_dim, o_.rec_hidden).units(u)));
  q_head = register_module("q_head", torch::nn::Sequential(torch::nn::Linear(2 * o_.rec_hidden, u), torch::nn::Tanh(),
                                                           torch::nn::Linear(u, 2 * d)));
  f_z = register_module("f_z", torch::nn::Sequential(torch::nn::Linear(d, u), torch::nn::Tanh(), torch::nn::Linear(u, u),
                                                     torch::nn::Tanh(), torch::nn::Linear(u, d)));
  if (o_.codec.channels_last) nn::to_channels_last(*this);
}

double LatentOde::kl_weight(int64_t epoch) const {
  if (epoch < o_.kl_wait_epochs) return 0.0;
  return 1.0 - std::pow(o_.kl_rate, static_cast<double>(epoch - o_.kl_wait_epochs));
}

std::pair<at::Tensor, at::Tensor> LatentOde::posterior(const at::Tensor& x_ctx, const at::Tensor& t_ctx) {
  nn::OdeRnnState s = rec->run(tokens(x_ctx), t_ctx, /*backwards=*/true);
  auto parts = q_head->forward(at::cat({s.h, s.h_std}, -1)).chunk(2, -1);
  // sigma = |.| (reference); floored at 1e-6 so that the KL stays finite
  return {parts[0], parts[1].abs().clamp_min(1e-6)};
}

at::Tensor LatentOde::flow(const at::Tensor& z0, const at::Tensor& times) {
  // The generative ODE is autonomous: z' = f_z(z).
  auto field = [this](const at::Tensor&, const at::Tensor& z) { return f_z->forward(z); };
  return nn::odeint(field, z0, times, o_.solver);
}

LossTerms LatentOde::loss_impl(const data::Batch& batch, const StepContext& ctx) {
  data::Batch w = window(batch);
  const int64_t k = codec_.context_len, b = w.x.size(0), s = o_.n_samples, len = w.x.size(1);
  auto [mu, std] = posterior(w.x.slice(1, 0, k), w.t.slice(1, 0, k));  // [B, d]
  at::Tensor eps = at::randn({s, b, o_.latent_dim}, ctx.noise, mu.options());
  at::Tensor z0 = (mu.unsqueeze(0) + std.unsqueeze(0) * eps).flatten(0, 1);  // [S*B, d]
  at::Tensor times = w.t.unsqueeze(0).expand({s, b, len}).reshape({s * b, len});
  at::Tensor z = flow(z0, times);                                             // [S*B, L, d]
  const int64_t first = o_.future_only ? k : 0;
  at::Tensor y_hat = decode(z.slice(1, first)).view({s, b, len - first, codec_.channels, codec_.resolution, codec_.resolution});
  at::Tensor ll = per_point_log_lik(w.x.slice(1, first).unsqueeze(0), y_hat, o_.obs_std).mean(1);  // [S]
  at::Tensor kl = kl_to_standard_normal(mu, std).mean();  // over trajectories and latent dims
  const double kappa = ctx.training ? kl_weight(ctx.epoch) : 1.0;
  LossTerms out;
  out.total = -at::logsumexp(ll - kappa * kl, 0);
  out.terms = {{"nll", -ll.mean().detach()}, {"kl", kl.detach()}, {"kl_weight", at::scalar_tensor(kappa)}};
  return out;
}

Prediction LatentOde::predict_impl(const data::Batch& context, const at::Tensor& query_times) {
  check_context(context);
  const int64_t k = codec_.context_len;
  at::Tensor t_ctx = context.t.slice(1, 0, k);
  TORCH_CHECK((query_times.select(1, 0) >= t_ctx.select(1, k - 1)).all().item<bool>(),
              "latent_ode predict: query times must not precede the last context time");
  auto [mu, std] = posterior(context.x.slice(1, 0, k), t_ctx);
  at::Tensor times = at::cat({t_ctx, query_times.to(t_ctx.dtype())}, 1);  // [B, K+Q]
  at::Generator gen = at::detail::createCPUGenerator(12345);
  std::vector<at::Tensor> means, latents;
  for (int64_t r = 0; r < o_.predict_samples; ++r) {
    at::Tensor z0 = o_.predict_samples == 1 ? mu : mu + std * at::randn(mu.sizes(), gen, mu.options());
    at::Tensor z = flow(z0, times).slice(1, k);  // [B, Q, d]
    means.push_back(decode(z));
    latents.push_back(z);
  }
  Prediction p;
  at::Tensor stacked = at::stack(means);
  p.mean = stacked.mean(0);
  if (o_.predict_samples > 1) p.stddev = stacked.std(0, /*unbiased=*/false);
  p.latent = at::stack(latents).mean(0);
  return p;
}

}  // namespace latdyn::models
