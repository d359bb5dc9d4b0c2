// SPDX-License-Identifier: MIT
// ODE2VAE baseline (baselines.md §4; Yildiz et al. 2019, arXiv 1905.10994, and cagatayyildiz/ODE2VAE): second-order
// latent ODE with the ODE-propagated density, the ODE2VAE-KL objective (γ = 1) and optional Bayesian f_W.
#include "latdyn/models/ode2vae.hpp"

#include <torch/torch.h>

#include <cmath>

#include "latdyn/core/error.hpp"
#include "latdyn/models/likelihood.hpp"

namespace latdyn::models {

namespace {
// Sum over the last dim of log N(z; mean, std^2) (diagonal Gaussian): [..., n] -> [...]
at::Tensor diag_normal_log_prob(const at::Tensor& z, const at::Tensor& mean, const at::Tensor& std) {
  return (-0.5 * ((z - mean) / std).pow(2) - at::log(std) - kHalfLog2Pi).sum(-1);
}
// Sum over the last dim of log N(z; 0, I): [..., n] -> [...]
at::Tensor std_normal_log_prob(const at::Tensor& z) { return (-0.5 * z.pow(2) - kHalfLog2Pi).sum(-1); }
// f_W with explicit weights [w1, b1, w2, b2, w3, b3]: vs [N, 2q] -> [N, q] (ReLU MLP, §4.1)
at::Tensor f_apply(const at::Tensor& vs, const std::vector<at::Tensor>& w) {
  at::Tensor h = at::relu(at::linear(vs, w[0], w[1]));
  h = at::relu(at::linear(h, w[2], w[3]));
  return at::linear(h, w[4], w[5]);
}
}  // namespace

// ------------------------------------------------------------------------------------------------- options --

Ode2vaeOptions Ode2vaeOptions::from_json(const json& j) {
  ConfigReader r(j, "model (ode2vae)");
  Ode2vaeOptions o;
  o.solver.method = "rk4", o.solver.substeps = 5;  // fixed-step RK4, 5 substeps per frame interval [C] (§4.4)
  o.codec.read(r);
  o.q = r.get("q", o.q);
  o.units = r.get("units", o.units);
  o.amort_len = r.get("amort_len", o.amort_len);
  o.likelihood = r.get("likelihood", o.likelihood);
  o.obs_std = r.get("obs_std", o.obs_std);
  o.gamma = r.get("gamma", o.gamma);
  o.bayesian = r.get("bayesian", o.bayesian);
  o.lambda2_init = r.get("lambda2_init", o.lambda2_init);
  read_solver_options(r, o.solver);
  r.finish();
  o.codec.check(r);
  r.check_choice("likelihood", o.likelihood, {"bernoulli", "gaussian"});
  o.solver.check("model (ode2vae).solver");
  if (o.q < 1) r.throw_error(concat("q must be >= 1, got ", o.q), "default 16 (z = [v, s] has 2q = 32 dims)");
  if (o.units < 1) r.throw_error(concat("units must be >= 1, got ", o.units), "default 100");
  if (o.amort_len < 1 || o.amort_len > o.codec.context_len)
    r.throw_error(concat("amort_len must be in [1, context_len = ", o.codec.context_len, "], got ", o.amort_len),
                  "q(v_0) stacks the first amort_len context frames; default 3, or context_len");
  if (!(o.obs_std > 0)) r.throw_error(concat("obs_std must be > 0, got ", o.obs_std), "default 0.01 (gaussian likelihood)");
  if (!(o.gamma >= 0)) r.throw_error(concat("gamma must be >= 0, got ", o.gamma), "default 1 (ODE2VAE-KL)");
  if (!(o.lambda2_init > 0))
    r.throw_error(concat("lambda2_init must be > 0, got ", o.lambda2_init), "default 1e-4 (Bayesian option)");
  return o;
}

json Ode2vaeOptions::to_json() const {
  json j = {{"type", "ode2vae"}, {"q", q}, {"units", units}, {"amort_len", amort_len}, {"likelihood", likelihood},
            {"obs_std", obs_std}, {"gamma", gamma}, {"bayesian", bayesian}, {"lambda2_init", lambda2_init}};
  write_solver_options(solver, j);
  codec.write(j);
  return j;
}

// --------------------------------------------------------------------------------------------------- model --

Ode2vae::Ode2vae(Ode2vaeOptions o) : FrameCodecModel(o.codec, o.q), o_(std::move(o)) {
  const int64_t q = o_.q, h = o_.units, e = o_.codec.token_dim;
  // q(v_0 | x_0..x_{m-1}): its own FrameEncoder on the first m frames stacked as C·m channels (§4.1)
  encoder_v = register_module(
      "encoder_v", nn::FrameEncoder(nn::FrameEncoderOptions(o_.codec.channels * o_.amort_len, o_.codec.resolution)
                                        .base_channels(o_.codec.enc_channels)
                                        .d_model(e)));
  head_s = register_module("head_s", torch::nn::Linear(e, 2 * q));  // mean and log-variance of s_0
  head_v = register_module("head_v", torch::nn::Linear(e, 2 * q));  // mean and log-variance of v_0
  f_w = register_module("f_w", torch::nn::Sequential(torch::nn::Linear(2 * q, h), torch::nn::ReLU(),
                                                     torch::nn::Linear(h, h), torch::nn::ReLU(),
                                                     torch::nn::Linear(h, q)));
  if (o_.bayesian) log_lambda2 = register_parameter("log_lambda2", at::full({1}, std::log(o_.lambda2_init)));
  if (o_.codec.channels_last) nn::to_channels_last(*this);
}

std::vector<torch::nn::Linear> Ode2vae::f_layers() const {
  return {torch::nn::Linear(f_w->ptr<torch::nn::LinearImpl>(0)), torch::nn::Linear(f_w->ptr<torch::nn::LinearImpl>(2)),
          torch::nn::Linear(f_w->ptr<torch::nn::LinearImpl>(4))};
}

double Ode2vae::beta_w() const {
  const double q = static_cast<double>(o_.q), h = static_cast<double>(o_.units), n_f = 1.0;
  return q / (h * (3.0 * q + n_f * h + n_f + 1.0) + q);
}

Ode2vaePosterior Ode2vae::encode_windows(const at::Tensor& x, int64_t n) {
  const int64_t b = x.size(0), m = o_.amort_len, q = o_.q;
  TORCH_CHECK(x.size(1) >= n + m - 1, "ode2vae: ", n, " encoder windows of ", m, " frames need ", n + m - 1,
              " frames, got ", x.size(1));
  at::Tensor tok_s = tokens(x.slice(1, 0, n));  // [B, n, E] from x_t
  std::vector<at::Tensor> shifted;
  for (int64_t j = 0; j < m; ++j) shifted.push_back(x.slice(1, j, j + n));  // x_{t+j}: [B, n, C, H, W]
  at::Tensor stacked = at::cat(shifted, 2).flatten(0, 1);                  // [B*n, m*C, H, W], frame-major
  if (codec_.channels_last) stacked = stacked.contiguous(at::MemoryFormat::ChannelsLast);
  at::Tensor tok_v = encoder_v->forward(stacked).view({b, n, -1});         // [B, n, E]
  auto ps = head_s->forward(tok_s).chunk(2, -1), pv = head_v->forward(tok_v).chunk(2, -1);
  Ode2vaePosterior out;
  out.mean = at::cat({pv[0], ps[0]}, -1);                      // [B, n, 2q], z = [v, s]
  out.std = at::exp(0.5 * at::cat({pv[1], ps[1]}, -1));       // the heads give log-variances
  TORCH_INTERNAL_ASSERT(out.mean.size(-1) == 2 * q);
  return out;
}

Ode2vaeField Ode2vae::velocity_field(const at::Tensor& v, const at::Tensor& s, bool with_trace,
                                     const std::vector<at::Tensor>* weights) {
  std::vector<at::Tensor> mean_w;
  if (!weights) {
    for (const auto& l : f_layers()) mean_w.push_back(l->weight), mean_w.push_back(l->bias);
    weights = &mean_w;
  }
  Ode2vaeField out;
  if (!with_trace) {
    out.dv = f_apply(at::cat({v, s}, 1), *weights);
    return out;
  }
  // tr(∂f/∂v) = Σ_i e_iᵀ (∂f/∂v) e_i: q vector–Jacobian products (§4.1), done as one autograd::grad call on q
  // stacked copies of the batch, copy i seeded with e_i. create_graph keeps the trace differentiable for training.
  const bool create_graph = at::GradMode::is_enabled();
  at::AutoGradMode grad_on(true);  // the trace needs autograd even under NoGradGuard (validation loss)
  const int64_t b = v.size(0), q = v.size(1);
  at::Tensor v_rep = v.unsqueeze(0).expand({q, b, q}).reshape({q * b, q});  // [q*B, q], copy i = rows i*B..
  if (!v_rep.requires_grad()) v_rep = v_rep.detach().requires_grad_(true);
  at::Tensor s_rep = s.unsqueeze(0).expand({q, b, q}).reshape({q * b, q});
  at::Tensor f_rep = f_apply(at::cat({v_rep, s_rep}, 1), *weights);         // [q*B, q]
  at::Tensor seeds = at::eye(q, f_rep.options()).unsqueeze(1).expand({q, b, q}).reshape({q * b, q});
  at::Tensor g = torch::autograd::grad({f_rep}, {v_rep}, {seeds}, /*retain_graph=*/true, create_graph)[0];
  out.trace = at::diagonal(g.view({q, b, q}), 0, 0, 2).sum(-1);  // [B]: Σ_i (e_iᵀ J)_i
  out.dv = f_rep.view({q, b, q}).select(0, 0);                     // [B, q]: copy 0 carries the field value
  if (!create_graph) out.dv = out.dv.detach(), out.trace = out.trace.detach();
  return out;
}

Ode2vaePath Ode2vae::flow(const at::Tensor& v0, const at::Tensor& s0, const at::Tensor& logq0, const at::Tensor& times,
                          const std::vector<at::Tensor>* weights) {
  const int64_t q = o_.q;
  const bool density = logq0.defined();
  // Augmented state [v, s, log q] (§4.1): v' = f_W(v, s), s' = v, (log q)' = -tr(∂f_W/∂v). The field is autonomous.
  at::Tensor state0 = density ? at::cat({v0, s0, logq0.unsqueeze(1)}, 1) : at::cat({v0, s0}, 1);
  auto field = [&](const at::Tensor&, const at::Tensor& z) {
    at::Tensor v = z.slice(1, 0, q), s = z.slice(1, q, 2 * q);
    Ode2vaeField f = velocity_field(v, s, density, weights);
    return density ? at::cat({f.dv, v, -f.trace.unsqueeze(1)}, 1) : at::cat({f.dv, v}, 1);
  };
  at::Tensor out = nn::odeint(field, state0, times, o_.solver);  // [B, T, 2q (+1)]
  Ode2vaePath p;
  p.v = out.slice(2, 0, q);
  p.s = out.slice(2, q, 2 * q);
  if (density) p.logq = out.select(2, 2 * q);
  return p;
}

std::vector<at::Tensor> Ode2vae::sample_weights(at::Generator gen) {
  TORCH_CHECK(o_.bayesian, "ode2vae: sample_weights needs bayesian = true");
  at::Tensor lambda = at::exp(0.5 * log_lambda2);  // one shared std for every weight and bias (§4.3)
  std::vector<at::Tensor> w;
  for (const auto& l : f_layers())
    for (const at::Tensor& p : {l->weight, l->bias}) w.push_back(p + lambda * at::randn(p.sizes(), gen, p.options()));
  return w;
}

at::Tensor Ode2vae::kl_weights() {
  if (!o_.bayesian) return at::zeros({}, head_s->weight.options());
  // Σ KL(N(μ, λ²) || N(0, 1)) = Σ ½(λ² + μ² − 1 − log λ²)
  at::Tensor lam2 = at::exp(log_lambda2).squeeze(), log_lam2 = log_lambda2.squeeze();
  at::Tensor sq = at::zeros({}, lam2.options());
  int64_t n = 0;
  for (const auto& l : f_layers())
    for (const at::Tensor& p : {l->weight, l->bias}) sq = sq + p.pow(2).sum(), n += p.numel();
  return 0.5 * (static_cast<double>(n) * (lam2 - 1.0 - log_lam2) + sq);
}

at::Tensor Ode2vae::log_lik(const at::Tensor& x, const at::Tensor& mean) const {
  if (o_.likelihood == "bernoulli")  // the reference's offset 1e-5 [C] (§4.1)
    return (x * at::log(1e-5 + mean) + (1.0 - x) * at::log(1e-5 + 1.0 - mean)).flatten(1).sum(1);
  return gaussian_log_prob(x, mean, o_.obs_std).flatten(1).sum(1);
}

LossTerms Ode2vae::loss_impl(const data::Batch& batch, const StepContext& ctx) {
  data::Batch w = window(batch);
  const int64_t len = w.x.size(1), m = o_.amort_len, q = o_.q;
  // Instant-encoding windows t = 0..T-m-1 (§4.2); window 0 is also q(z_0). Without the penalty only window 0.
  const int64_t n_enc = o_.gamma > 0 ? std::max<int64_t>(1, len - m) : 1;
  Ode2vaePosterior enc = encode_windows(w.x, n_enc);  // [B, n_enc, 2q]
  at::Tensor mu0 = enc.mean.select(1, 0), sd0 = enc.std.select(1, 0);
  at::Tensor z0 = mu0 + sd0 * at::randn(mu0.sizes(), ctx.noise, mu0.options());  // one MC sample [B, 2q]
  at::Tensor logq0 = diag_normal_log_prob(z0, mu0, sd0);                              // log q(z_0) [B]
  std::vector<at::Tensor> sampled;
  if (o_.bayesian) sampled = sample_weights(ctx.noise);  // one weight sample per minibatch
  Ode2vaePath path = flow(z0.slice(1, 0, q), z0.slice(1, q), logq0, w.t, o_.bayesian ? &sampled : nullptr);
  at::Tensor z = at::cat({path.v, path.s}, -1);  // [B, T, 2q]

  // ELBO per sequence (§4.2): Σ_t log p(x_t|s_t) − Σ_t [log q(z_t) − log N(z_t; 0, I)]
  //                            − γ Σ_{t<T−m} [log q(z_t) − log q_enc(z_t | x_t..x_{t+m−1})] − β_W KL_W
  at::Tensor ll = log_lik(w.x, decode(path.s));                           // [B]
  at::Tensor kl_z = (path.logq - std_normal_log_prob(z)).sum(1);           // [B]
  at::Tensor total = (kl_z - ll).mean();
  LossTerms out;
  out.terms.push_back({"nll", -ll.mean().detach()});
  out.terms.push_back({"kl_z", kl_z.mean().detach()});
  if (o_.gamma > 0) {
    at::Tensor log_qenc = diag_normal_log_prob(z.slice(1, 0, n_enc), enc.mean, enc.std);  // [B, n_enc]
    at::Tensor inst = (path.logq.slice(1, 0, n_enc) - log_qenc).sum(1);                     // [B]
    total = total + o_.gamma * inst.mean();
    out.terms.push_back({"inst_enc", inst.mean().detach()});
  }
  if (o_.bayesian) {
    at::Tensor kl_w = kl_weights();
    total = total + beta_w() * kl_w;
    out.terms.push_back({"kl_w", kl_w.detach()});
  }
  out.total = total;
  return out;
}

Prediction Ode2vae::predict_impl(const data::Batch& context, const at::Tensor& query_times) {
  check_context(context);
  const int64_t k = codec_.context_len, q = o_.q;
  at::Tensor t_ctx = context.t.slice(1, 0, k);
  TORCH_CHECK((query_times.select(1, 0) >= t_ctx.select(1, k - 1)).all().item<bool>(),
              "ode2vae predict: query times must not precede the last context time");
  // Encoder means (s_0 from x_0, v_0 from x_0..x_{m-1}) -> ODE with the mean weights -> decoder means (§4.4).
  at::Tensor mu0 = encode_windows(context.x.slice(1, 0, k), 1).mean.select(1, 0);  // [B, 2q]
  at::Tensor times = at::cat({t_ctx, query_times.to(t_ctx.dtype())}, 1);           // [B, K+Q]
  Ode2vaePath path = flow(mu0.slice(1, 0, q), mu0.slice(1, q), at::Tensor(), times);
  at::Tensor s = path.s.slice(1, k), v = path.v.slice(1, k);  // [B, Q, q]
  Prediction p;
  p.mean = decode(s);
  p.latent = at::cat({v, s}, -1);
  return p;
}

}  // namespace latdyn::models
