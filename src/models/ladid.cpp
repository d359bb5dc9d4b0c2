// SPDX-License-Identifier: MIT
// LaDID model: embedding, psi, solver-free latent dynamics, decoding, and the multiple-shooting loss (ladid.md §2-§4).
#include "latdyn/models/ladid.hpp"

#include <torch/torch.h>

#include <cmath>

#include "latdyn/core/error.hpp"
#include "latdyn/core/log.hpp"
#include "latdyn/models/likelihood.hpp"
#include "latdyn/nn/time_encoding.hpp"

namespace latdyn::models {

Ladid::Ladid(LadidOptions o) : options_(std::move(o)) {
  TORCH_CHECK(options_.channels > 0 && options_.resolution > 0 && options_.time_span > 0 && options_.loss_scale > 0,
              "Ladid: channels, resolution, time_span and loss_scale must be resolved from data first "
              "(resolve_ladid_options)");
  const int64_t d = options_.latent_dim, e = d * options_.token_mult;
  auto tf_options = nn::TemporalTransformerOptions()
                        .d_model(e)
                        .layers(options_.tf_layers)
                        .d_ff(2 * e)
                        .attn_type(options_.attn_type)
                        .heads(options_.attn_heads)
                        .delta_r(options_.delta_r)
                        .attn_p(options_.attn_p)
                        .attn_eps(options_.attn_eps);
  auto enc_options = nn::FrameEncoderOptions(options_.channels, options_.resolution).base_channels(options_.enc_channels).d_model(e);
  if (options_.tokens == "spacetime") {  // patch tokens + divided space-time attention (ladid.md §3.2.1)
    patch_encoder = register_module("encoder", nn::PatchEncoder(enc_options));
    st_transformer = register_module("transformer", nn::SpacetimeTransformer(tf_options));
  } else {
    TORCH_CHECK(options_.tokens == "frame", "Ladid: tokens must be frame or spacetime, got '", options_.tokens, "'");
    encoder = register_module("encoder", nn::FrameEncoder(enc_options));
    transformer = register_module("transformer", nn::TemporalTransformer(tf_options));
  }
  head_mu = register_module("head_mu", torch::nn::Linear(e, d));
  head_s = register_module("head_s", torch::nn::Linear(e, d));
  dynamics = register_module("dynamics", nn::DynamicsMlp(nn::DynamicsMlpOptions(d + 32, options_.dyn_width_mult * d, d)
                                                             .activation(options_.dyn_act)
                                                             .dropout(options_.dyn_dropout)));
  decoder = register_module("decoder", nn::ConvDecoder(nn::ConvDecoderOptions(d, options_.channels, options_.resolution)
                                                           .base_channels(options_.dec_channels)));
  if (options_.static_skip)
    static_cnn = register_module("static_cnn", nn::StaticCnn(nn::ConvStackOptions(options_.channels, options_.enc_channels)));
  omega_ = register_buffer("time_omega", nn::time_frequencies(options_.time_span, 16));
  if (options_.out_bias != "default") {  // decoder output bias at logit(mean pixel) (ladid.md §6.1 recipe)
    torch::NoGradGuard g;
    decoder->out->bias.fill_(std::stod(options_.out_bias));
  }
  if (options_.channels_last) nn::to_channels_last(*this);
  phases_ = curriculum_phases(options_);
}

int64_t Ladid::phase_of_epoch(int64_t epoch) const {
  int64_t p = 0;
  for (size_t i = 0; i < phases_.size(); ++i)
    if (epoch >= phases_[i].first_epoch) p = static_cast<int64_t>(i);
  return p;
}

// Frames through the encoder (full trajectory + every block's context), frames decoded, plus a per-block overhead
// of ~20 frame-equivalents fitted to measured step times at q = 1, 8, 32, 50 (2 threads, 32x32).
double Ladid::relative_step_cost(int64_t epoch) const {
  const Phase& ph = phases_[phase_of_epoch(epoch)];
  return static_cast<double>(ph.length + ph.blocks * (options_.context_len + 2 * ph.q + 20));
}

at::Tensor Ladid::tokens(const at::Tensor& x) {
  const int64_t s = x.size(0), m = x.size(1);
  at::Tensor frames = x.flatten(0, 1);
  if (options_.channels_last) frames = frames.contiguous(at::MemoryFormat::ChannelsLast);
  if (patch_encoder) {
    at::Tensor patches = patch_encoder->forward(frames);  // [S*M, P, E]
    return patches.view({s, m, patches.size(1), patches.size(2)});
  }
  return encoder->forward(frames).view({s, m, -1});
}

at::Tensor Ladid::aggregate(const at::Tensor& tok, const at::Tensor& t) {
  if (st_transformer) return st_transformer->forward(tok, t);  // [S, M, P, E] -> mean_p -> [S, M, E]
  return transformer->forward(tok, t);
}

std::pair<at::Tensor, at::Tensor> Ladid::embed(const at::Tensor& x, const at::Tensor& t) {
  at::Tensor h = aggregate(tokens(x), t);
  return {head_mu->forward(h), head_s->forward(h)};
}

at::Tensor Ladid::sample_std(const at::Tensor& s) const {
  if (options_.posterior_std == "exp") return torch::exp(s) + options_.posterior_std_min;
  if (options_.posterior_std == "softplus") return torch::softplus(s) + options_.posterior_std_min;
  return s;  // reference: raw head output used as the std when sampling (§11.1)
}

at::Tensor Ladid::likelihood_std(const at::Tensor& s) const {
  if (options_.posterior_std == "softplus") return torch::softplus(s) + options_.posterior_std_min;
  if (options_.posterior_std == "exp") return torch::exp(s) + options_.posterior_std_min;
  return torch::exp(s);  // reference: the same output read as a log-std (§11.1)
}

at::Tensor Ladid::static_map(const at::Tensor& x_ctx) {
  if (!options_.static_skip) return at::Tensor();
  const int64_t k = options_.context_len;
  at::Tensor delta = (x_ctx.slice(1, 1, k) - x_ctx.slice(1, 0, 1)).mean(1);  // [S, C, H, W]
  if (options_.channels_last) delta = delta.contiguous(at::MemoryFormat::ChannelsLast);
  return static_cnn->forward(delta);
}

at::Tensor Ladid::latent(const at::Tensor& psi, const at::Tensor& tau, at::Generator gen) {
  at::Tensor gamma = nn::encode_time(tau, omega_).to(psi.device());  // [S, Q, 32]
  at::Tensor in = torch::cat({psi.unsqueeze(1).expand({psi.size(0), tau.size(1), psi.size(1)}), gamma}, -1);
  return dynamics->forward(in, gen);
}

at::Tensor Ladid::decode(const at::Tensor& z, const at::Tensor& smap) {
  const int64_t s = z.size(0), q = z.size(1);
  at::Tensor st;
  if (smap.defined()) st = smap.unsqueeze(1).expand({s, q, smap.size(1), smap.size(2), smap.size(3)}).flatten(0, 1);
  at::Tensor logits = decoder->forward(z.flatten(0, 1), st);  // [S*Q, C, H, W]
  return torch::sigmoid(logits).contiguous().view({s, q, options_.channels, options_.resolution, options_.resolution});
}

LossTerms Ladid::loss_impl(const data::Batch& batch, const StepContext& ctx) {
  const Phase& ph = phases_[phase_of_epoch(ctx.epoch)];
  const int64_t k = options_.context_len, q = ph.q, o = ph.overlap, len = ph.length, n = ph.blocks;
  TORCH_CHECK(batch.x.dim() == 5, "LaDID needs image batches [B,T,C,H,W]");
  TORCH_CHECK(batch.x.size(1) >= len, "LaDID phase needs ", len, " frames, batch has ", batch.x.size(1));
  const int64_t b = batch.x.size(0), span = k + q + o;
  at::Tensor x = batch.x.slice(1, 0, len), t = batch.t.slice(1, 0, len);
  // multiple-shooting blocks (§4.1): window S = K + q + o, stride q -> [B*n, S, ...]
  at::Tensor x_blk = x.unfold(1, span, q).permute({0, 1, 5, 2, 3, 4}).reshape({b * n, span, x.size(2), x.size(3), x.size(4)});
  at::Tensor t_blk = t.unfold(1, span, q).reshape({b * n, span});
  at::Tensor x_ctx = x_blk.slice(1, 0, k), t_ctx = t_blk.slice(1, 0, k);

  at::Tensor mu, s, mu_full, s_full;
  const bool need_full = options_.variational && options_.full_traj_term;
  if (options_.share_frame_features && need_full) {  // one CNN call for both passes (changes BN batch statistics)
    at::Tensor tok = tokens(x);  // [B, L, E] (frame) or [B, L, P, E] (spacetime)
    at::Tensor tok_ctx;
    if (tok.dim() == 3) {
      tok_ctx = tok.unfold(1, span, q).permute({0, 1, 3, 2}).reshape({b * n, span, -1}).slice(1, 0, k);
    } else {  // unfold -> [B, n, P, E, S] -> [B*n, S, P, E]
      tok_ctx = tok.unfold(1, span, q).permute({0, 1, 4, 2, 3}).reshape({b * n, span, tok.size(2), tok.size(3)}).slice(1, 0, k);
    }
    at::Tensor h = aggregate(tok_ctx, t_ctx);
    mu = head_mu->forward(h), s = head_s->forward(h);
    at::Tensor hf = aggregate(tok, t);
    mu_full = head_mu->forward(hf), s_full = head_s->forward(hf);
  } else {
    std::tie(mu, s) = embed(x_ctx, t_ctx);  // [B*n, K, d]
    if (need_full) std::tie(mu_full, s_full) = embed(x, t);  // [B, L, d], separate BN call as in the reference
  }
  at::Tensor psi, std_ctx;
  if (options_.variational) {
    std_ctx = sample_std(s);
    at::Tensor eps = at::randn(mu.sizes(), ctx.noise, mu.options());
    psi = (mu + std_ctx * eps).mean(1);  // [B*n, d] (§3.3)
  } else {
    psi = mu.mean(1);
  }
  at::Tensor tau = t_blk - t_blk.slice(1, 0, 1);                  // relative to the first context frame (§3.4)
  at::Tensor z = latent(psi, tau.slice(1, k), ctx.noise);          // [B*n, q+o, d]
  at::Tensor z_main = z.slice(1, 0, q);
  at::Tensor mean = decode(z_main, static_map(x_ctx));             // [B*n, q, C, H, W]
  at::Tensor y = x_blk.slice(1, k, k + q);

  LossTerms out;
  at::Tensor rec = -gaussian_log_prob_sum(y, mean, options_.sigma_y);  // -L_rec
  at::Tensor reg = torch::zeros({}, rec.options());
  if (need_full) {  // -L_lat: predicted z scored under the full-trajectory embedding (§4.2)
    at::Tensor zt = z_main.reshape({b, n * q, -1});
    at::Tensor m_f = mu_full.slice(1, k, len - o), s_f = likelihood_std(s_full.slice(1, k, len - o));
    at::Tensor lat = -gaussian_log_prob_sum(zt, m_f, s_f);
    reg = reg + lat;
    out.terms.push_back({"lat", lat.detach()});
    out.terms.push_back({"s_full_mean", s_full.detach().mean()});
  }
  if (options_.variational && (options_.psi_prior || !options_.full_traj_term)) {
    at::Tensor prior;
    if (options_.psi_prior_mode == "kl") {  // KL(N(mean mu, sum sigma^2 / K^2) || N(0, I)) (§11.2)
      at::Tensor mbar = mu.mean(1), v = std_ctx.pow(2).sum(1) / static_cast<double>(k * k);
      prior = 0.5 * (v + mbar.pow(2) - 1 - torch::log(v)).sum();
    } else {
      prior = -gaussian_log_prob_sum(psi, torch::zeros_like(psi), 1.0);  // -L_psi at the sampled psi
    }
    reg = reg + prior;
    out.terms.push_back({"psi", prior.detach()});
  }
  at::Tensor total = rec + options_.smoothness_scaling * reg;
  if (o > 0 && n > 1) {  // -L_ov: overlap frames of block j vs the first o predictions of block j+1
    at::Tensor zb = z.view({b, n, q + o, -1});
    at::Tensor ov = -gaussian_log_prob_sum(zb.slice(1, 0, n - 1).slice(2, q), zb.slice(1, 1).slice(2, 0, o),
                                           options_.overlap_sigma);
    total = total + ov;
    out.terms.push_back({"ov", ov.detach()});
  }
  out.total = options_.loss_scale * total;
  out.terms.insert(out.terms.begin(), {"rec", rec.detach()});
  out.terms.push_back({"mse", (y - mean).pow(2).mean().detach()});
  if (options_.variational) out.terms.push_back({"s_ctx_abs", s.detach().abs().mean()});
  out.terms.push_back({"q", torch::full({}, static_cast<double>(q))});
  return out;
}

Prediction Ladid::predict_impl(const data::Batch& context, const at::Tensor& query_times) {
  const int64_t k = options_.context_len;
  at::Tensor x_ctx = context.x.slice(1, 0, k), t_ctx = context.t.slice(1, 0, k);
  TORCH_CHECK(x_ctx.dim() == 5 && x_ctx.size(2) == options_.channels && x_ctx.size(3) == options_.resolution &&
                  x_ctx.size(4) == options_.resolution,
              "LaDID predict: context frames must be [B, K, ", options_.channels, ", ", options_.resolution, ", ",
              options_.resolution, "], got ", x_ctx.sizes());
  at::Tensor tau = query_times - t_ctx.slice(1, 0, 1);
  const double tmax = tau.abs().max().item<double>();
  if (tmax >= 2 * options_.time_span)
    log::warn(concat("LaDID: query time offset ", tmax, " >= 2 x time_span (", 2 * options_.time_span,
                  "): the slowest time-encoding wave aliases; predictions that far out are unreliable"));
  auto [mu, s] = embed(x_ctx, t_ctx);
  at::Tensor smap = static_map(x_ctx);
  const int64_t n_samples = (options_.eval_psi == "sample" && options_.variational) ? std::max<int64_t>(1, options_.eval_samples) : 1;
  at::Generator gen = at::detail::createCPUGenerator(12345);
  std::vector<at::Tensor> means, latents;
  for (int64_t r = 0; r < n_samples; ++r) {
    at::Tensor psi = mu.mean(1);
    if (n_samples > 1 || options_.eval_psi == "sample")
      psi = (mu + sample_std(s) * at::randn(mu.sizes(), gen, mu.options())).mean(1);
    at::Tensor z = latent(psi, tau);
    // decode in chunks of query times to bound memory for long or dense query grids
    std::vector<at::Tensor> parts;
    for (int64_t first = 0; first < z.size(1); first += 64)
      parts.push_back(decode(z.slice(1, first, std::min(first + 64, z.size(1))), smap));
    means.push_back(torch::cat(parts, 1));
    latents.push_back(z);
  }
  Prediction p;
  at::Tensor stacked = torch::stack(means);
  p.mean = stacked.mean(0);
  if (n_samples > 1) p.stddev = stacked.std(0);
  p.latent = torch::stack(latents).mean(0);
  return p;
}

}  // namespace latdyn::models
