// SPDX-License-Identifier: MIT
// NDP, Neural ODE Processes (Norcliffe et al., ICLR 2021, arXiv 2103.12413) on the shared image networks
// (baselines.md §5): encoder, mean aggregation, q(z) heads, latent ODE, Gaussian decoder, NP loss and prediction.
#include "latdyn/models/ndp.hpp"

#include <torch/torch.h>

#include "latdyn/core/error.hpp"
#include "latdyn/models/likelihood.hpp"

namespace latdyn::models {

// -------------------------------------------------------------------------------------------------- options --

NdpOptions NdpOptions::from_json(const json& j) {
  ConfigReader r(j, "model (ndp)");
  NdpOptions o;
  o.solver.method = "dopri5", o.solver.rtol = 1e-5, o.solver.atol = 1e-5;  // §5.2 [O]
  o.codec.read(r);
  o.d_L = r.get("d_L", o.d_L);
  o.d_D = r.get("d_D", o.d_D);
  o.hidden = r.get("hidden", o.hidden);
  o.decoder_uses_D = r.get("decoder_uses_D", o.decoder_uses_D);
  o.context = r.get("context", o.context);
  o.predict_samples = r.get("predict_samples", o.predict_samples);
  read_solver_options(r, o.solver);
  r.finish();
  o.codec.check(r);
  o.solver.check("model (ndp).solver");
  r.check_choice("context", o.context, {"first", "random"});
  if (o.d_L < 1) r.throw_error(concat("d_L must be >= 1, got ", o.d_L), "default 32");
  if (o.d_D < 0) r.throw_error(concat("d_D must be >= 0, got ", o.d_D), "default 16; 0 removes the control variable D");
  if (o.hidden < 1) r.throw_error(concat("hidden must be >= 1, got ", o.hidden), "default 128");
  if (o.predict_samples < 1)
    r.throw_error(concat("predict_samples must be >= 1, got ", o.predict_samples), "1 = decode from the mean of q(z|C)");
  return o;
}

json NdpOptions::to_json() const {
  json j = {{"type", "ndp"}, {"d_L", d_L}, {"d_D", d_D}, {"hidden", hidden}, {"decoder_uses_D", decoder_uses_D},
            {"context", context}, {"predict_samples", predict_samples}};
  write_solver_options(solver, j);
  codec.write(j);
  return j;
}

at::Tensor diag_gaussian_kl(const DiagGaussian& q, const DiagGaussian& p) {
  return at::log(p.std / q.std) + (q.std.pow(2) + (q.mean - p.mean).pow(2)) / (2.0 * p.std.pow(2)) - 0.5;
}

// ---------------------------------------------------------------------------------------------------- model --

Ndp::Ndp(NdpOptions o)
    : FrameCodecModel(o.codec, o.d_L + 1 + (o.decoder_uses_D ? o.d_D : 0)), o_(std::move(o)) {
  const int64_t e = o_.hidden, zdim = o_.d_L + o_.d_D;
  enc_mlp = register_module("enc_mlp", torch::nn::Sequential(torch::nn::Linear(o_.codec.token_dim + 1, e),
                                                             torch::nn::ReLU(), torch::nn::Linear(e, e)));
  to_hidden = register_module("to_hidden", torch::nn::Linear(e, e));
  to_mu = register_module("to_mu", torch::nn::Linear(e, zdim));
  to_sigma = register_module("to_sigma", torch::nn::Linear(e, zdim));
  f = register_module("f", torch::nn::Sequential(torch::nn::Linear(zdim + 1, e), torch::nn::Tanh(),
                                                 torch::nn::Linear(e, e), torch::nn::Tanh(),
                                                 torch::nn::Linear(e, o_.d_L)));
  if (o_.codec.channels_last) nn::to_channels_last(*this);
}

DiagGaussian Ndp::posterior_from_tokens(const at::Tensor& tok, const at::Tensor& tau) {
  // r_i = MLP([FrameEncoder(y_i); τ_i]), r = mean_i r_i (§5.1): [B, M, E+1] -> [B, M, hidden] -> [B, hidden]
  at::Tensor r = enc_mlp->forward(at::cat({tok, tau.to(tok.dtype()).unsqueeze(-1)}, -1)).mean(1);
  // h = Linear(r), followed by ReLU as in the neural-process MuSigmaEncoder the NDP code builds on
  at::Tensor h = torch::relu(to_hidden(r));
  // σ = 0.1 + 0.9 sigmoid(·) ∈ (0.1, 1) (§5.1)
  return {to_mu(h), 0.1 + 0.9 * torch::sigmoid(to_sigma(h))};
}

at::Tensor Ndp::latent_path(const at::Tensor& z, const at::Tensor& tau) {
  at::Tensor L0 = z.slice(1, 0, o_.d_L), D = z.slice(1, o_.d_L);  // [B, d_L], [B, d_D]
  // dL/dτ = f([L, D, τ]) (§5.1); D is constant in time, so the field closes over it instead of integrating it.
  // t: [B] (each row's τ), L: [B, d_L]; odeint always evaluates the whole batch in row order.
  auto field = [this, D](const at::Tensor& t, const at::Tensor& L) {
    return f->forward(at::cat({L, D, t.to(L.dtype()).unsqueeze(1)}, 1));
  };
  return nn::odeint(field, L0, tau, o_.solver);  // [B, T, d_L]
}

std::pair<at::Tensor, at::Tensor> Ndp::decode_gaussian(const at::Tensor& L, const at::Tensor& tau, const at::Tensor& D) {
  const int64_t b = L.size(0), t = L.size(1), c = codec_.channels, res = codec_.resolution;
  // ŷ(τ) = FrameDecoder([L(τ); τ]) (§5.1), option [L(τ); τ; D]
  at::Tensor in = at::cat({L, tau.to(L.dtype()).unsqueeze(-1)}, -1);  // [B, T, d_L + 1]
  if (o_.decoder_uses_D) in = at::cat({in, D.unsqueeze(1).expand({b, t, D.size(1)})}, -1);
  at::Tensor logits = decoder->all_logits(in.flatten(0, 1), at::Tensor());       // [B*T, 2C, H, W]
  at::Tensor mean = torch::sigmoid(logits.slice(1, 0, 2 * c, 2));
  at::Tensor std = 0.1 + 0.9 * torch::softplus(logits.slice(1, 1, 2 * c, 2));  // per-pixel std >= 0.1 (§5.1)
  return {mean.contiguous().view({b, t, c, res, res}), std.contiguous().view({b, t, c, res, res})};
}

LossTerms Ndp::loss_impl(const data::Batch& batch, const StepContext& ctx) {
  data::Batch w = window(batch);
  const int64_t k = codec_.context_len, b = w.x.size(0), len = w.x.size(1);
  at::Tensor tau = w.t - w.t.select(1, 0).unsqueeze(1);  // τ = t − t_0: [B, L] float64
  at::Tensor tok = tokens(w.x);                           // [B, L, E], encoded once for T and C
  // Target T = the whole training window, context C ⊆ T (§5.2)
  DiagGaussian q_target = posterior_from_tokens(tok, tau);
  at::Tensor tok_c, tau_c;
  if (o_.context == "first") {
    tok_c = tok.slice(1, 0, k), tau_c = tau.slice(1, 0, k);
  } else {  // "random": per trajectory, k distinct frames of the window, uniformly (NDP's random subsets, fixed size)
    at::Tensor keys = at::rand({b, len}, ctx.noise, w.t.options());
    at::Tensor idx = std::get<0>(keys.argsort(int64_t{1}, false).slice(1, 0, k).sort(1));  // [B, K]
    tok_c = tok.gather(1, idx.unsqueeze(-1).expand({b, k, tok.size(2)}));
    tau_c = tau.gather(1, idx);
  }
  DiagGaussian q_context = posterior_from_tokens(tok_c, tau_c);
  // z ~ q(z|T), one reparameterised sample: [B, d_L + d_D]
  at::Tensor z = q_target.mean + q_target.std * at::randn(q_target.mean.sizes(), ctx.noise, q_target.mean.options());
  at::Tensor L = latent_path(z, tau);  // [B, L, d_L]
  auto [mean, std] = decode_gaussian(L, tau, z.slice(1, o_.d_L));
  // Σ_{t∈T} log p(y_t|z) over frames and pixels, per trajectory: [B]
  at::Tensor ll = (-0.5 * ((w.x - mean) / std).pow(2) - at::log(std) - kHalfLog2Pi).flatten(1).sum(1);
  at::Tensor kl = diag_gaussian_kl(q_target, q_context).sum(1);  // KL(q(z|T) ‖ q(z|C)): [B]
  LossTerms out;
  out.total = (kl - ll).mean();  // batch mean of −log p + KL (the NP objective)
  out.terms = {{"nll", -ll.mean().detach()}, {"kl", kl.mean().detach()}};
  return out;
}

Prediction Ndp::predict_impl(const data::Batch& context, const at::Tensor& query_times) {
  check_context(context);
  const int64_t k = codec_.context_len;
  at::Tensor t_ctx = context.t.slice(1, 0, k);               // [B, K]
  at::Tensor t0 = t_ctx.select(1, 0).unsqueeze(1);           // [B, 1]
  at::Tensor tau_q = query_times.to(t_ctx.device()) - t0;    // [B, Q], relative to the first context frame
  TORCH_CHECK((tau_q >= 0).all().item<bool>(), "ndp predict: query times must not precede the first context time");
  DiagGaussian q_c = posterior(context.x.slice(1, 0, k), t_ctx - t0);  // q(z|C): [B, d_L + d_D]
  at::Tensor grid = at::cat({at::zeros({tau_q.size(0), 1}, tau_q.options()), tau_q}, 1);  // [B, 1 + Q], from τ = 0
  at::Generator gen = at::detail::createCPUGenerator(12345);
  std::vector<at::Tensor> means, latents;
  for (int64_t r = 0; r < o_.predict_samples; ++r) {
    at::Tensor z = o_.predict_samples == 1
                       ? q_c.mean
                       : q_c.mean + q_c.std * at::randn(q_c.mean.sizes(), gen, q_c.mean.options().device(at::kCPU))
                                                  .to(q_c.mean.device());
    at::Tensor L = latent_path(z, grid).slice(1, 1);  // [B, Q, d_L]
    means.push_back(decode_gaussian(L, tau_q, z.slice(1, o_.d_L)).first);
    latents.push_back(L);
  }
  Prediction p;
  at::Tensor stacked = at::stack(means);
  p.mean = stacked.mean(0);
  if (o_.predict_samples > 1) p.stddev = stacked.std(0, /*unbiased=*/false);
  p.latent = at::stack(latents).mean(0);
  return p;
}

}  // namespace latdyn::models
