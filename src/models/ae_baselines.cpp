// SPDX-License-Identifier: MIT
// Losses of the DynAE baselines (dynae.md §14.2-14.4). Reported latent: the encoder mean.
#include "latdyn/models/ae_baselines.hpp"

#include <torch/torch.h>

#include <cmath>

#include "latdyn/core/error.hpp"
#include "latdyn/models/latent_binning.hpp"

namespace latdyn::models {

AeBaselineOptions AeBaselineOptions::from_json(const json& j, const std::string& variant) {
  ConfigReader r(j, "model (" + variant + ")");
  r.accept("type");
  AeBaselineOptions o;
  o.variant = variant;
  o.ae = PairAeOptions::read(r, j, o.ae);
  o.beta = r.get("beta", o.beta);
  if (variant == "swae") o.projections = r.get("projections", o.projections);
  if (variant == "sde_vae") o.nu = r.get("nu", o.nu), o.force_width = r.get("force_width", o.force_width);
  r.finish();
  if (o.beta < 0 || o.projections < 1 || o.nu <= 0 || o.force_width < 1)
    r.throw_error("need beta >= 0, projections >= 1, nu > 0 and force_width >= 1", "see docs/config.md");
  return o;
}

json AeBaselineOptions::to_json() const {
  json j = {{"type", variant}, {"beta", beta}};
  if (variant == "swae") j["projections"] = projections;
  if (variant == "sde_vae") j["nu"] = nu, j["force_width"] = force_width;
  ae.write(j);
  return j;
}

AeBaseline::AeBaseline(AeBaselineOptions o) : PairAutoencoder(o.ae), opt_(std::move(o)) {
  encoder_ = register_module("encoder", nn::make_encoder(opt_.ae.encoder_spec(stochastic() ? 2 : 1)));
  decoder_ = register_module("decoder", nn::make_decoder(opt_.ae.decoder_spec()));
  if (opt_.variant == "sde_vae")
    force_ = register_module("force", nn::make_tanh_mlp(opt_.ae.latent_dim, opt_.force_width, opt_.ae.latent_dim));
}

LossTerms AeBaseline::loss_impl(const data::Batch& batch, const StepContext& ctx) {
  const int64_t d = opt_.ae.latent_dim, b = batch.size();
  at::Tensor x0 = batch.x.select(1, 0);
  auto sample = [&](const at::Tensor& mu, const at::Tensor& logvar) {  // z = mu + exp(l/2) eps
    at::Tensor eps = at::randn(mu.sizes(), ctx.noise, at::TensorOptions().dtype(at::kFloat)).to(mu.device(), mu.scalar_type());
    return mu + (0.5 * logvar).exp() * eps;
  };
  LossTerms out;
  if (opt_.variant == "beta_vae") {  // single frames (§14.2)
    at::Tensor h = encoder_forward(x0), mu = h.narrow(1, 0, d), lv = h.narrow(1, d, d);
    at::Tensor rec = summed_sq_error(x0, decoder_forward(sample(mu, lv)));
    at::Tensor kl = (-0.5 * (1 + lv - mu.pow(2) - lv.exp())).sum(1).mean();
    out.total = rec + opt_.beta * kl;
    out.terms = {{"rec", rec.detach()}, {"kl", kl.detach()}};
  } else if (opt_.variant == "swae") {  // single frames, uniform prior on [-1,1]^d (§14.3)
    at::Tensor z = encoder_forward(x0);
    at::Tensor rec = summed_sq_error(x0, decoder_forward(z));
    at::Tensor prior = (2 * at::rand(z.sizes(), ctx.noise, at::TensorOptions().dtype(at::kFloat)) - 1).to(z.device(), z.scalar_type());
    at::Tensor sw = sliced_wasserstein(z, prior, opt_.projections, ctx.noise);
    out.total = rec + opt_.beta * sw;
    out.terms = {{"rec", rec.detach()}, {"sw", sw.detach()}};
  } else {  // sde_vae on pairs (§14.4)
    at::Tensor x1 = batch.x.select(1, 1);
    at::Tensor h = encoder_forward(at::cat({x0, x1}));
    at::Tensor mu = h.narrow(1, 0, d), lv = h.narrow(1, d, d);
    at::Tensor mu0 = mu.slice(0, 0, b), mu1 = mu.slice(0, b), l0 = lv.slice(0, 0, b), l1 = lv.slice(0, b);
    at::Tensor recon = decoder_forward(sample(mu, lv));
    at::Tensor rec = summed_sq_error(x0, recon.slice(0, 0, b)) + summed_sq_error(x1, recon.slice(0, b));
    const double nu = opt_.nu;
    at::Tensor kl = (-0.5 * (2 + l0 + l1 - nu * (mu0.pow(2) + l0.exp()) + std::log(nu) - l0.exp() - l1.exp() -
                             (mu1 - mu0 - force_->forward(mu0)).pow(2)))
                        .sum(1)
                        .mean();
    out.total = rec + opt_.beta * kl;
    out.terms = {{"rec", rec.detach()}, {"kl", kl.detach()}};
  }
  return out;
}

}  // namespace latdyn::models
