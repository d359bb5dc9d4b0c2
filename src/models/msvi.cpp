// SPDX-License-Identifier: MIT
// MSVI, amortised sparse Bayesian multiple shooting (baselines.md §6; Iakovlev et al., ICLR 2023, arXiv 2210.03466,
// and yakovlev31/msvi): transformer recognition net, block-wise dopri5 shooting, continuity prior, Bayesian g and F.
#include "latdyn/models/msvi.hpp"

#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "latdyn/core/error.hpp"
#include "latdyn/models/likelihood.hpp"

namespace latdyn::models {

namespace {

// Elementwise KL( N(mu_q, sd_q²) ‖ N(mu_p, sd_p²) ) = log(sd_p/sd_q) + (sd_q² + (mu_q − mu_p)²)/(2 sd_p²) − 1/2,
// the reference's kl_norm_norm before its sum over K.
at::Tensor kl_normal(const at::Tensor& mu_q, const at::Tensor& sd_q, const at::Tensor& mu_p, double sd_p) {
  return std::log(sd_p) - at::log(sd_q) + (sd_q.pow(2) + (mu_q - mu_p).pow(2)) / (2.0 * sd_p * sd_p) - 0.5;
}

// Standard normal noise shaped like `ref` from `gen`, drawn on the generator's device and moved to ref's.
at::Tensor noise_like(const at::Tensor& ref, at::Generator gen) {
  if (gen.device() == ref.device()) return at::randn(ref.sizes(), gen, ref.options());
  return at::randn(ref.sizes(), gen, ref.options().device(gen.device())).to(ref.device());
}

// MSVI's attention dropout (msvi/attention.py, AttentionBase.drop): every logit of [S, M, M] is dropped (−∞) with
// probability p, except the diagonal and one neighbour per row, chosen at random (left or right, one choice per
// call shared by the batch; row 0 keeps its right, row M−1 its left neighbour). Returns the additive mask.
at::Tensor drop_mask(int64_t s, int64_t m, double p, at::Generator gen, const at::TensorOptions& opt) {
  at::TensorOptions on_gen = opt.device(gen.device());
  at::Tensor keep_always = at::eye(m, on_gen);
  if (m > 1) {
    at::Tensor shift = at::randint(0, 2, {m}, gen, on_gen.dtype(at::kLong)) * 2 - 1;  // ±1
    shift.index_put_({0}, 1);
    shift.index_put_({m - 1}, -1);
    at::Tensor rows = at::arange(m, on_gen.dtype(at::kLong));
    keep_always.index_put_({rows, rows + shift}, at::ones({m}, on_gen));
  }
  at::Tensor prob = at::clamp(keep_always + (1.0 - p), 0.0, 1.0).unsqueeze(0).expand({s, m, m}).contiguous();
  at::Tensor keep = at::bernoulli(prob, gen);
  at::Tensor mask = at::where(keep > 0.5, at::zeros_like(keep),
                              at::full_like(keep, -std::numeric_limits<float>::infinity()));
  return mask.to(opt.device());
}

int64_t read_n_train(ConfigReader& r, const json& j) {
  r.accept("n_train");
  if (!j.contains("n_train") || j.at("n_train").is_null() || (j.at("n_train").is_string() && j.at("n_train") == "auto"))
    return 0;
  if (!j.at("n_train").is_number_integer())
    r.throw_error("bad value for 'n_train': " + j.at("n_train").dump(), "use a whole number or \"auto\"");
  return j.at("n_train").get<int64_t>();
}

}  // namespace

// ------------------------------------------------------------------------------------------------- options --

MsviOptions MsviOptions::from_json(const json& j) {
  ConfigReader r(j, "model (msvi)");
  MsviOptions o;
  // dopri5, rtol = atol = 1e-5 [C]; a fixed-step solver takes the reference's step_size 0.2 in rescaled time, i.e.
  // 5 substeps per unit interval (§6.3)
  o.solver.method = "dopri5", o.solver.rtol = 1e-5, o.solver.atol = 1e-5, o.solver.substeps = 5;
  o.codec.read(r);
  o.latent_dim = r.get("latent_dim", o.latent_dim);
  o.dyn_order = r.get("dyn_order", o.dyn_order);
  o.m_F = r.get("m_F", o.m_F);
  o.stat_layers = r.get("stat_layers", o.stat_layers);
  o.dyn_layers = r.get("dyn_layers", o.dyn_layers);
  o.attn_type = r.get("attn_type", o.attn_type);
  o.attn_heads = r.get("attn_heads", o.attn_heads);
  o.delta_r = r.get("delta_r", o.delta_r);
  o.attn_p = r.get("attn_p", o.attn_p);
  o.attn_eps = r.get("attn_eps", o.attn_eps);
  o.attn_dropout = r.get("attn_dropout", o.attn_dropout);
  o.tau_min = r.get("tau_min", o.tau_min);
  o.block_size = r.get("block_size", o.block_size);
  o.xi = r.get("xi", o.xi);
  o.obs_std = r.get("obs_std", o.obs_std);
  o.bayesian = r.get("bayesian", o.bayesian);
  o.logsig_init = r.get("logsig_init", o.logsig_init);
  o.n_train = read_n_train(r, j);
  o.flip = r.get("flip", o.flip);
  o.predict_samples = r.get("predict_samples", o.predict_samples);
  read_solver_options(r, o.solver);
  r.finish();
  o.codec.check(r);
  o.solver.check("model (msvi).solver");
  r.check_choice("attn_type", o.attn_type, {"dp", "tdp", "t"});
  r.check_choice("flip", o.flip, {"none", "h", "hv"});
  if (o.dyn_order != 1 && o.dyn_order != 2) r.throw_error(concat("dyn_order must be 1 or 2, got ", o.dyn_order), "default 2");
  if (o.latent_dim < 1 || (o.dyn_order == 2 && o.latent_dim % 2 != 0))
    r.throw_error(concat("latent_dim must be >= 1 (and even for dyn_order 2), got ", o.latent_dim), "default 32");
  if (o.m_F < 1) r.throw_error(concat("m_F must be >= 1, got ", o.m_F), "default 8 (F width m_F·K = 256)");
  if (o.stat_layers < 1 || o.dyn_layers < 1)
    r.throw_error(concat("stat_layers and dyn_layers must be >= 1, got ", o.stat_layers, ", ", o.dyn_layers), "defaults 4, 8");
  if (o.attn_heads < 1 || o.codec.token_dim % o.attn_heads != 0)
    r.throw_error(concat("attn_heads must divide token_dim ", o.codec.token_dim, ", got ", o.attn_heads), "default 1");
  if (!(o.delta_r > 0)) r.throw_error(concat("delta_r must be > 0, got ", o.delta_r), "0.45 pendulum, 3.0 bouncing balls, 0.3 rotating MNIST");
  if (!(o.attn_p == -1 || o.attn_p > 0)) r.throw_error(concat("attn_p must be > 0 or -1 (infinity), got ", o.attn_p), "default -1");
  if (!(o.attn_eps > 0 && o.attn_eps < 1)) r.throw_error(concat("attn_eps must be in (0, 1), got ", o.attn_eps), "default 0.01");
  if (!(o.attn_dropout >= 0 && o.attn_dropout < 1))
    r.throw_error(concat("attn_dropout must be in [0, 1), got ", o.attn_dropout), "default 0.1");
  if (!(o.tau_min >= 0)) r.throw_error(concat("tau_min must be >= 0, got ", o.tau_min), "default 0.02");
  if (o.block_size < 1 || o.block_size > o.codec.max_len - 1)
    r.throw_error(concat("block_size must be in [1, max_len - 1 = ", o.codec.max_len - 1, "], got ", o.block_size),
                  "1 (pendulum, rotating MNIST) or 5 (bouncing balls)");
  if (!(o.xi > 0)) r.throw_error(concat("xi must be > 0, got ", o.xi), "1e-4 (pendulum, rotating MNIST), 1e-3 (bouncing balls)");
  if (!(o.obs_std > 0)) r.throw_error(concat("obs_std must be > 0, got ", o.obs_std), "default 1e-3");
  if (!std::isfinite(o.logsig_init)) r.throw_error("logsig_init must be finite", "default -7");
  if (o.n_train < 0) r.throw_error(concat("n_train must be >= 0 or \"auto\", got ", o.n_train), "\"auto\" = training trajectories");
  if (o.predict_samples < 1)
    r.throw_error(concat("predict_samples must be >= 1, got ", o.predict_samples), "10 MC samples (1 = the posterior means)");
  return o;
}

json MsviOptions::to_json() const {
  json j = {{"type", "msvi"}, {"latent_dim", latent_dim}, {"dyn_order", dyn_order}, {"m_F", m_F},
            {"stat_layers", stat_layers}, {"dyn_layers", dyn_layers}, {"attn_type", attn_type},
            {"attn_heads", attn_heads}, {"delta_r", delta_r}, {"attn_p", attn_p}, {"attn_eps", attn_eps},
            {"attn_dropout", attn_dropout}, {"tau_min", tau_min}, {"block_size", block_size}, {"xi", xi},
            {"obs_std", obs_std}, {"bayesian", bayesian}, {"logsig_init", logsig_init},
            {"n_train", n_train > 0 ? json(n_train) : json("auto")}, {"flip", flip},
            {"predict_samples", predict_samples}};
  write_solver_options(solver, j);
  codec.write(j);
  return j;
}

json resolve_msvi_options(const json& model, const data::Dataset& train) {
  json out = resolve_frame_codec_options(model, train);
  const bool is_auto = !out.contains("n_train") || out.at("n_train").is_null() ||
                       (out.at("n_train").is_string() && out.at("n_train") == "auto");
  if (is_auto) out["n_train"] = train.size();  // N_train of the ELBO scale N/B (§6.4)
  return out;
}

// --------------------------------------------------------------------------------------------------- model --

Msvi::Msvi(MsviOptions o) : FrameCodecModel(o.codec, o.latent_dim), o_(std::move(o)) {
  const int64_t e = o_.codec.token_dim, k = o_.latent_dim, half = o_.dyn_order == 2 ? k / 2 : k;
  auto tf = [&](int64_t layers) {
    return nn::TemporalTransformer(nn::TemporalTransformerOptions()
                                       .d_model(e)
                                       .layers(layers)
                                       .d_ff(2 * e)
                                       .attn_type(o_.attn_type)
                                       .heads(o_.attn_heads)
                                       .delta_r(o_.delta_r)
                                       .attn_p(o_.attn_p)
                                       .attn_eps(o_.attn_eps));
  };
  // Recognition (§6.2): static aggregation -> position half (τ floored at τ_min); dynamic -> velocity half (no floor)
  agg_stat = register_module("agg_stat", tf(o_.stat_layers));
  gamma_stat = register_module("gamma_stat", torch::nn::Linear(e, half));
  tau_stat = register_module("tau_stat", torch::nn::Linear(e, half));
  if (o_.dyn_order == 2) {
    agg_dyn = register_module("agg_dyn", tf(o_.dyn_layers));
    gamma_dyn = register_module("gamma_dyn", torch::nn::Linear(e, half));
    tau_dyn = register_module("tau_dyn", torch::nn::Linear(e, half));
  }
  // F (§6.1): K -> m_F·K -> m_F·K -> K/2 (acceleration) or K, ReLU
  const int64_t w = o_.m_F * k;
  F = register_module("F", torch::nn::Sequential(torch::nn::Linear(k, w), torch::nn::ReLU(), torch::nn::Linear(w, w),
                                                 torch::nn::ReLU(), torch::nn::Linear(w, half)));
  // q(θ) = N(μ_θ, diag(exp(2 logσ_θ))) over every weight and bias of g and F (BN affine included); μ_θ are the
  // module parameters themselves (default initialisation), logσ_θ = logsig_init (§6.1)
  for (const auto& kv : decoder->named_parameters()) theta_names.push_back("decoder." + kv.key());
  for (const auto& kv : F->named_parameters()) theta_names.push_back("F." + kv.key());
  if (o_.bayesian) {
    for (const auto& kv : named_parameters()) {
      const std::string& name = kv.key();
      if (name.rfind("decoder.", 0) != 0 && name.rfind("F.", 0) != 0) continue;
      std::string flat = name;
      for (char& c : flat)
        if (c == '.') c = '_';
      theta_logsig.push_back(register_parameter("logsig_" + flat, at::full(kv.value().sizes(), o_.logsig_init)));
    }
    TORCH_INTERNAL_ASSERT(theta_logsig.size() == theta_names.size());
  }
  if (o_.codec.channels_last) nn::to_channels_last(*this);
}

double Msvi::sigma_xi() const { return o_.xi / std::sqrt(static_cast<double>(o_.latent_dim)); }

int64_t Msvi::usable_length(int64_t m) const { return 1 + o_.block_size * ((m - 1) / o_.block_size); }

std::vector<at::Tensor> Msvi::theta_means() {
  std::vector<at::Tensor> out;
  for (const auto& kv : decoder->named_parameters()) out.push_back(kv.value());
  for (const auto& kv : F->named_parameters()) out.push_back(kv.value());
  return out;
}

MsviTheta Msvi::mean_theta() {
  std::vector<at::Tensor> mu = theta_means();
  MsviTheta theta;
  for (size_t i = 0; i < mu.size(); ++i) theta[theta_names[i]] = mu[i];
  return theta;
}

MsviTheta Msvi::sample_theta(at::Generator gen) {
  if (!o_.bayesian) return mean_theta();
  std::vector<at::Tensor> mu = theta_means();
  MsviTheta theta;
  for (size_t i = 0; i < mu.size(); ++i)  // θ = μ + σ ⊙ ε, reparameterised, one sample for the whole batch
    theta[theta_names[i]] = mu[i] + at::exp(theta_logsig[i]) * noise_like(mu[i], gen);
  return theta;
}

at::Tensor Msvi::kl_theta() {
  if (!o_.bayesian) return at::zeros({}, F->parameters().front().options());
  // L3 = Σ KL(N(μ, σ²) ‖ N(0, 1)) = Σ [½(σ² + μ² − 1) − log σ] over g and F (§6.4)
  std::vector<at::Tensor> mu = theta_means();
  at::Tensor kl = at::zeros({}, mu.front().options());
  for (size_t i = 0; i < mu.size(); ++i)
    kl = kl + (0.5 * (at::exp(2.0 * theta_logsig[i]) + mu[i].pow(2) - 1.0) - theta_logsig[i]).sum();
  return kl;
}

at::Tensor Msvi::field(const at::Tensor& z, const MsviTheta& theta) const {
  auto p = [&](const char* name) { return theta.at(name); };
  // F with parameters θ_F: z [N, K] -> [N, K/2] (second order) or [N, K]
  at::Tensor h = at::relu(at::linear(z, p("F.0.weight"), p("F.0.bias")));
  h = at::relu(at::linear(h, p("F.2.weight"), p("F.2.bias")));
  at::Tensor out = at::linear(h, p("F.4.weight"), p("F.4.bias"));
  if (o_.dyn_order == 1) return out;  // ż = F(z)
  const int64_t half = o_.latent_dim / 2;
  return at::cat({z.slice(1, half), out}, 1);  // ẋ = v, v̇ = F(x, v); z = [x, v]
}

at::Tensor Msvi::decode_theta(const at::Tensor& z, const MsviTheta& theta) {
  const int64_t b = z.size(0), t = z.size(1), k = o_.latent_dim;
  const int64_t c = codec_.dec_channels, s = codec_.resolution / 16, ch = codec_.channels, res = codec_.resolution;
  at::Tensor zin = z.flatten(0, 1);  // [B·T, K]
  if (o_.dyn_order == 2)  // second order: g sees only the position; the velocity half is set to zero (§6.1)
    zin = at::cat({zin.slice(1, 0, k / 2), at::zeros_like(zin.slice(1, k / 2))}, 1);
  auto p = [&](const std::string& name) { return theta.at("decoder." + name); };
  // ConvDecoder (ladid.md §3.6, no static skip) with parameters θ_g, mirroring nn::ConvDecoderImpl::all_logits
  at::Tensor h = at::linear(zin, p("fc.weight"), p("fc.bias")).view({b * t, 8 * c, s, s});
  h = h.contiguous(at::MemoryFormat::ChannelsLast);
  std::vector<torch::nn::BatchNorm2d> bns = {decoder->bn1, decoder->bn2, decoder->bn3, decoder->bn4};
  for (int i = 0; i < 4; ++i) {
    const std::string up = "up" + std::to_string(i + 1), bn = "bn" + std::to_string(i + 1);
    h = at::relu(at::conv_transpose2d(h, p(up + ".weight"), p(up + ".bias"), /*stride=*/{2, 2}));
    auto& m = bns[static_cast<size_t>(i)];
    const bool training = m->is_training();
    if (training) {
      torch::NoGradGuard g;
      m->num_batches_tracked += 1;
    }
    h = at::batch_norm(h, p(bn + ".weight"), p(bn + ".bias"), m->running_mean, m->running_var, training,
                       m->options.momentum().value(), m->options.eps(), at::globalContext().userEnabledCuDNN());
  }
  at::Tensor logits = at::conv2d(h, p("out.weight"), p("out.bias"), /*stride=*/{1, 1}, /*padding=*/{2, 2});
  // channel 2·ch holds the mean logits of data channel ch; the second channel is unused (σ_y fixed)
  return at::sigmoid(logits.slice(1, 0, 2 * ch, 2)).contiguous().view({b, t, ch, res, res});
}

at::Tensor Msvi::aggregate(nn::TemporalTransformerImpl& net, const at::Tensor& tok, const nn::TimeGrid& grid,
                           at::Generator gen) {
  const bool drop = gen.defined() && is_training() && o_.attn_dropout > 0;
  at::Tensor w = net.rpe->weight.view({-1});  // [E], one rpe per aggregation net, shared by its layers
  at::Tensor y = tok;
  for (const auto& blk : *net.blocks) {
    nn::TimeGrid g = grid;
    // attention dropout per layer (every layer, the temporal layer 0 included, as in the reference)
    if (drop) g.temporal = grid.temporal + drop_mask(tok.size(0), tok.size(1), o_.attn_dropout, gen, grid.temporal.options());
    y = blk->as<nn::TimeAttentionBlockImpl>()->forward(y, g, w);
  }
  return y;  // [B, M, E]
}

MsviPosterior Msvi::recognise(const at::Tensor& x, const at::Tensor& t, at::Generator gen) {
  at::Tensor tok = tokens(x);  // [B, M, E]
  nn::TimeGrid grid = nn::TimeGrid::build(t, o_.delta_r, o_.attn_p, o_.attn_eps);
  // γ = Linear(b), τ = exp(Linear(b)) + τ_min on the position half; no floor on the velocity half (§6.2)
  at::Tensor bs = aggregate(*agg_stat, tok, grid, gen);
  MsviPosterior q;
  q.gamma = gamma_stat(bs);
  q.tau = at::exp(tau_stat(bs)) + o_.tau_min;
  if (o_.dyn_order == 2) {
    at::Tensor bd = aggregate(*agg_dyn, tok, grid, gen);
    q.gamma = at::cat({q.gamma, gamma_dyn(bd)}, -1);
    q.tau = at::cat({q.tau, at::exp(tau_dyn(bd))}, -1);
  }
  return q;  // [B, M, K] each
}

MsviPath Msvi::shoot(const at::Tensor& s, const at::Tensor& t, const MsviTheta& theta) {
  const int64_t b = s.size(0), n_blocks = s.size(1), k = s.size(2), bs = o_.block_size;
  TORCH_CHECK(t.size(1) == 1 + n_blocks * bs, "msvi: ", n_blocks, " blocks of ", bs, " intervals need ",
              1 + n_blocks * bs, " times, got ", t.size(1));
  // Overlapping block grids t_{jb}..t_{(j+1)b} (extract_time_grids of the reference): [B, B_s, b+1] -> [B·B_s, b+1]
  at::Tensor grids = t.unfold(1, bs + 1, bs).reshape({b * n_blocks, bs + 1});
  auto f = [&](const at::Tensor&, const at::Tensor& z) { return field(z, theta); };  // autonomous
  // Every block from its own shooting variable, all blocks one batch; per-row grids use the §2.3 rescaling
  at::Tensor sol = nn::odeint(f, s.reshape({b * n_blocks, k}), grids, o_.solver);  // [B·B_s, b+1, K]
  MsviPath path;
  path.s = s;
  at::Tensor after = sol.slice(1, 1).reshape({b, n_blocks * bs, k});  // block j's states at t_{jb+1..(j+1)b}
  path.x = at::cat({s.slice(1, 0, 1), after}, 1);                    // x_0 = s_0: [B, 1 + B_s·b, K]
  path.x_minus = sol.select(1, bs).reshape({b, n_blocks, k}).slice(1, 0, n_blocks - 1);  // x⁻_1..x⁻_{B_s−1}
  return path;
}

MsviElbo Msvi::elbo(const at::Tensor& y, const at::Tensor& gamma_b, const at::Tensor& tau_b, const MsviPath& path,
                    const MsviTheta& theta) {
  MsviElbo e;
  // L1 = Σ_i log N(y_i | g(x_i), σ_y²) over all frames and pixels, per trajectory (§6.4)
  e.log_lik = gaussian_log_prob(y, decode_theta(path.x, theta), o_.obs_std).flatten(1).sum(1);  // [B]
  // L2 = KL(q(s_0) ‖ N(0, I)) + Σ_{j≥1} KL(q(s_j) ‖ N(x⁻_j, σ_ξ² I)); gradients reach s_{j−1} (via x⁻_j) and θ
  e.kl_s0 = kl_normal(gamma_b.select(1, 0), tau_b.select(1, 0), at::zeros_like(gamma_b.select(1, 0)), 1.0).sum(-1);
  e.kl_cont = kl_normal(gamma_b.slice(1, 1), tau_b.slice(1, 1), path.x_minus, sigma_xi()).flatten(1).sum(1);
  e.kl_theta = kl_theta();  // L3
  return e;
}

LossTerms Msvi::loss_impl(const data::Batch& batch, const StepContext& ctx) {
  data::Batch w = window(batch);
  const int64_t m = usable_length(w.x.size(1)), bs = o_.block_size;
  TORCH_CHECK(m >= 1 + bs, "msvi: block_size ", bs, " needs at least ", 1 + bs, " frames, got ", w.x.size(1));
  if (m < w.x.size(1)) w = w.steps(0, m);  // M − 1 must be divisible by b: truncate to the largest valid M [O]
  at::Tensor y = w.x;
  if (is_training() && o_.flip != "none") {  // one coin per minibatch and axis, applied to every frame (§6.5)
    at::Tensor coins = at::rand({2}, ctx.noise, at::TensorOptions().dtype(at::kFloat).device(ctx.noise.device())).cpu();
    if (coins[0].item<float>() < 0.5f) y = y.flip({4});
    if (o_.flip == "hv" && coins[1].item<float>() < 0.5f) y = y.flip({3});
  }
  // Recognition on the whole window; the last frame's output is dropped, then every b-th entry: [B, B_s, K]
  MsviPosterior q = recognise(y, w.t, ctx.noise);
  at::Tensor gamma_b = q.gamma.slice(1, 0, m - 1, bs), tau_b = q.tau.slice(1, 0, m - 1, bs);
  at::Tensor s = gamma_b + tau_b * noise_like(gamma_b, ctx.noise);  // s_j ~ N(γ_jb, τ_jb²)
  MsviTheta theta = sample_theta(ctx.noise);                          // one θ per step, shared by the batch
  MsviPath path = shoot(s, w.t, theta);
  MsviElbo e = elbo(y, gamma_b, tau_b, path, theta);
  // loss = −(N_train/B)·(L1 − L2) + L3 with L1, L2 summed over the batch (§6.4)
  const double n = static_cast<double>(o_.n_train > 0 ? o_.n_train : batch.size());
  at::Tensor nll = -e.log_lik.mean(), kl_s0 = e.kl_s0.mean(), kl_cont = e.kl_cont.mean();
  LossTerms out;
  out.total = n * (nll + kl_s0 + kl_cont) + e.kl_theta;
  out.terms = {{"nll", nll.detach()}, {"kl_s0", kl_s0.detach()}, {"kl_cont", kl_cont.detach()},
               {"kl_theta", e.kl_theta.detach()}};
  return out;
}

Prediction Msvi::predict_impl(const data::Batch& context, const at::Tensor& query_times) {
  check_context(context);
  const int64_t k = codec_.context_len, b = context.x.size(0);
  at::Tensor t_ctx = context.t.slice(1, 0, k);  // [B, K_in]
  at::Tensor query = query_times.to(t_ctx.device()).to(t_ctx.scalar_type());
  TORCH_CHECK((query.select(1, 0) >= t_ctx.select(1, k - 1)).all().item<bool>(),
              "msvi predict: query times must not precede the last context time");
  // §6.5 [O]: recognition on the first K_in frames only; x_0 ~ q(s_0) and θ ~ q(θ); integrate interval by interval
  // (rescaled, §2.3) through the context times to every query time; average the decoded means over the samples.
  MsviPosterior q = recognise(context.x.slice(1, 0, k), t_ctx);  // no attention dropout
  at::Tensor g0 = q.gamma.select(1, 0), t0 = q.tau.select(1, 0);  // [B, K]
  at::Tensor times = at::cat({t_ctx, query}, 1);                   // [B, K_in + Q]
  // Fixed-seed CPU noise, one ε per sample shared by all rows, so a row's forecast does not depend on its batch
  at::Generator gen = at::detail::createCPUGenerator(12345);
  std::vector<at::Tensor> means, latents;
  for (int64_t r = 0; r < o_.predict_samples; ++r) {
    at::Tensor x0 = g0;
    MsviTheta theta;
    if (o_.predict_samples == 1) {
      theta = mean_theta();  // one "sample": the posterior means
    } else {
      x0 = g0 + t0 * noise_like(g0.select(0, 0), gen).unsqueeze(0);
      theta = sample_theta(gen);
    }
    auto f = [&](const at::Tensor&, const at::Tensor& z) { return field(z, theta); };
    at::Tensor xq = nn::odeint(f, x0, times, o_.solver).slice(1, k);  // [B, Q, K]
    means.push_back(decode_theta(xq, theta));
    latents.push_back(xq);
  }
  Prediction p;
  at::Tensor stacked = at::stack(means);  // [S, B, Q, C, H, W]
  p.mean = stacked.mean(0);
  if (o_.predict_samples > 1) p.stddev = stacked.std(0, /*unbiased=*/false);
  p.latent = at::stack(latents).mean(0);
  TORCH_INTERNAL_ASSERT(p.mean.size(0) == b);
  return p;
}

}  // namespace latdyn::models
