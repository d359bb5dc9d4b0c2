// SPDX-License-Identifier: MIT
// DynAE loss (dynae.md §5, §7), per-epoch binning (§6, §9 lines 7-12) and optimizer groups (§8).
#include "latdyn/models/dynae.hpp"

#include <torch/torch.h>

#include <cmath>

#include "latdyn/core/error.hpp"
#include "latdyn/core/log.hpp"
#include "latdyn/core/rng.hpp"
#include "latdyn/models/latent_binning.hpp"

namespace latdyn::models {

DynaeOptions DynaeOptions::from_json(const json& j) {
  ConfigReader r(j, "model (dynae)");
  r.accept("type");
  DynaeOptions o;
  o.ae = PairAeOptions::read(r, j, o.ae);
  o.beta = r.get("beta", o.beta);
  const json schedule = r.get("beta_schedule", json::array());
  if (!schedule.is_array())
    r.throw_error("model.beta_schedule must be an array of {\"epoch\": E, \"beta\": B}, got " + schedule.dump(),
                  "e.g. [{\"epoch\": 10, \"beta\": 100}]: beta 100 from epoch 10 on");
  for (size_t i = 0; i < schedule.size(); ++i) {
    ConfigReader e(schedule[i], concat("model.beta_schedule[", i, "]"));
    BetaStep step{e.require<int64_t>("epoch"), e.require<double>("beta")};
    e.finish();
    const int64_t previous = o.beta_schedule.empty() ? 0 : o.beta_schedule.back().epoch;
    if (step.epoch <= previous || step.beta < 0)
      e.throw_error(concat("model.beta_schedule[", i, "] = {epoch ", step.epoch, ", beta ", step.beta,
                           "}: need epoch > ", previous, " and beta >= 0"),
                    "epochs start after the warm-up epoch 0 and increase strictly from entry to entry");
    o.beta_schedule.push_back(step);
  }
  o.projections = r.get("projections", o.projections);
  o.min_dist = r.get("min_dist", o.min_dist);
  o.bias_factor = r.get("bias_factor", o.bias_factor);
  o.max_centres = r.get("max_centres", o.max_centres);
  o.warmup_lr = r.get("warmup_lr", o.warmup_lr);
  o.warmup_beta_factor = r.get("warmup_beta_factor", o.warmup_beta_factor);
  o.prior_lr = r.get("prior_lr", o.prior_lr);
  o.prior_width = r.get("prior_width", o.prior_width);
  o.force_param = r.get("force_param", o.force_param);
  r.check_choice("force_param", o.force_param, {"mlp", "gradient"});
  o.exact_spurious_drift = r.get("exact_spurious_drift", o.exact_spurious_drift);
  o.regulariser_diffusion = r.get("regulariser_diffusion", o.regulariser_diffusion);
  r.check_choice("regulariser_diffusion", o.regulariser_diffusion, {"constant", "learned"});
  r.finish();
  if (o.beta < 0 || o.projections < 1 || o.min_dist <= 0 || o.bias_factor <= 0 || o.max_centres < 2 || o.warmup_lr <= 0 ||
      o.prior_lr < 0 || o.prior_width < 1)
    r.throw_error("need beta >= 0, projections >= 1, min_dist > 0, bias_factor > 0, max_centres >= 2, warmup_lr > 0, "
                  "prior_lr >= 0 and prior_width >= 1",
                  "see docs/config.md (dynae)");
  return o;
}

json DynaeOptions::to_json() const {
  json j = {{"type", "dynae"}, {"beta", beta}, {"projections", projections}, {"min_dist", min_dist},
            {"bias_factor", bias_factor}, {"max_centres", max_centres}, {"warmup_lr", warmup_lr},
            {"warmup_beta_factor", warmup_beta_factor}, {"prior_lr", prior_lr}, {"prior_width", prior_width},
            {"force_param", force_param}, {"exact_spurious_drift", exact_spurious_drift},
            {"regulariser_diffusion", regulariser_diffusion}};
  // Written only when set, so runs from before the key existed keep identical resolved options.
  for (const BetaStep& b : beta_schedule) j["beta_schedule"].push_back({{"epoch", b.epoch}, {"beta", b.beta}});
  ae.write(j);
  return j;
}

int64_t DynaeOptions::phase_at(int64_t epoch) const {
  int64_t phase = 0;
  for (const BetaStep& s : beta_schedule) phase += s.epoch <= epoch ? 1 : 0;
  return phase;
}

double DynaeOptions::beta_at(int64_t epoch) const {
  const int64_t phase = phase_at(epoch);
  return phase == 0 ? beta : beta_schedule[static_cast<size_t>(phase - 1)].beta;
}

Dynae::Dynae(DynaeOptions o) : PairAutoencoder(o.ae), opt_(std::move(o)) {
  const int64_t d = opt_.ae.latent_dim;
  encoder_ = register_module("encoder", nn::make_encoder(opt_.ae.encoder_spec(1)));
  decoder_ = register_module("decoder", nn::make_decoder(opt_.ae.decoder_spec()));
  force_ = register_module("force", nn::make_tanh_mlp(d, opt_.prior_width, opt_.force_param == "mlp" ? d : 1));
  logdiff_ = register_module("logdiff", nn::make_tanh_mlp(d, opt_.prior_width, d));
  centres_ = register_buffer("centres", at::empty({0, d}, at::kDouble));
}

std::vector<ParamGroup> Dynae::param_groups() {
  ParamGroup ae{"autoencoder", encoder_->parameters()}, prior{"prior", force_->parameters()};
  for (const auto& p : decoder_->parameters()) ae.params.push_back(p);
  for (const auto& p : logdiff_->parameters()) prior.params.push_back(p);
  return {ae, prior};
}

double Dynae::group_lr(size_t group, int64_t epoch, double scheduled_lr) const {
  if (group == 0) return epoch == 0 ? opt_.warmup_lr : scheduled_lr;  // warm-up epoch (§8.1)
  return opt_.prior_lr > 0 ? opt_.prior_lr : scheduled_lr;
}

at::Tensor Dynae::force(const at::Tensor& z) {
  if (opt_.force_param == "mlp") return force_->forward(z);
  // f = -grad Phi (dynae.md Q3), differentiable in the parameters of Phi.
  torch::AutoGradMode enable(true);
  at::Tensor zz = z.requires_grad() ? z : z.detach().requires_grad_(true);
  at::Tensor phi = force_->forward(zz).sum();
  return -torch::autograd::grad({phi}, {zz}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
}

at::Tensor Dynae::spurious_drift(const at::Tensor& z0, const at::Tensor& s, bool create_graph) {
  // (div M)_i = dM_ii/dz_i = M_ii * ds_i/dz_i for M = diag(exp s) (dynae.md §2.2); one backward pass per dimension.
  std::vector<at::Tensor> ds;
  for (int64_t i = 0; i < s.size(1); ++i)
    ds.push_back(torch::autograd::grad({s.select(1, i).sum()}, {z0}, {}, /*retain_graph=*/true, create_graph)[0].select(1, i));
  return s.exp() * at::stack(ds, 1);
}

at::Tensor Dynae::prior_moves(const at::Tensor& z0, at::Generator gen) {
  // Constant isotropic M = I (reference default): z <- z + f(z) + sqrt(2) xi, lag times (dynae.md §2.2, Q6).
  at::Tensor z = z0.detach();
  for (int64_t k = 0; k < opt_.ae.lag; ++k) {
    at::Tensor xi = at::randn(z.sizes(), gen, at::TensorOptions().dtype(at::kFloat)).to(z.device(), z.scalar_type());
    if (opt_.regulariser_diffusion == "constant") {
      torch::NoGradGuard no_grad;
      at::Tensor f = force(z).detach();  // the gradient parameterisation builds a graph even here
      z = z + f + std::sqrt(2.0) * xi;
    } else {  // learned M (Q5): drift M f + div M, noise sqrt(2 M) xi
      torch::AutoGradMode enable(true);
      at::Tensor zz = z.detach().requires_grad_(true);
      at::Tensor s = log_diffusion(zz);
      at::Tensor drift = s.exp() * force(zz) + spurious_drift(zz, s, false);
      z = (zz + drift + (2.0 * s.exp()).sqrt() * xi).detach();
    }
  }
  return (z - z0.detach()).detach();
}

at::Tensor Dynae::prior_nll(const at::Tensor& z0_in, const at::Tensor& z1_in) {
  // -log N(z1 | z0 + lag (M f + div M), 2 lag M) without the constant, mean over the batch (dynae.md §7; for lag > 1
  // the one-Gaussian approximation of lag Euler–Maruyama steps).
  torch::AutoGradMode enable(true);  // the spurious drift needs ds/dz0 also during validation (Q10)
  at::Tensor z0 = z0_in.detach().requires_grad_(true), z1 = z1_in.detach();
  at::Tensor s = log_diffusion(z0), m = s.exp();
  at::Tensor div = spurious_drift(z0, s, opt_.exact_spurious_drift);
  const double lag = static_cast<double>(opt_.ae.lag);
  at::Tensor mean = z0.detach() + lag * (m * force(z0) + div);
  at::Tensor var2 = 2.0 * lag * m;  // 2 M per step
  return (0.5 * (s + std::log(lag) + (z1 - mean).pow(2) / var2)).sum(1).mean();
}

LossTerms Dynae::loss_impl(const data::Batch& batch, const StepContext& ctx) {
  const int64_t b = batch.size();
  at::Tensor x0 = batch.x.select(1, 0), x1 = batch.x.select(1, 1);
  at::Tensor z = encoder_forward(at::cat({x0, x1}));  // one forward of the 2B frames [2B, d]
  at::Tensor z0 = z.slice(0, 0, b), z1 = z.slice(0, b);
  at::Tensor recon = decoder_forward(z);
  at::Tensor rec = summed_sq_error(x0, recon.slice(0, 0, b)) + summed_sq_error(x1, recon.slice(0, b));
  at::Tensor dz = z1 - z0;
  at::Tensor dz_prior = prior_moves(z0, ctx.noise);  // stop-gradient prior moves (§5.2)
  at::Tensor sw = sliced_wasserstein(dz, dz_prior, opt_.projections, ctx.noise);
  // Warm-up epoch: beta/100 (§8.1); validation always uses the full beta (Q2), that of its epoch under a schedule.
  const double beta_epoch = opt_.beta_at(ctx.epoch);
  const double beta_cur = ctx.training && ctx.epoch == 0 ? beta_epoch * opt_.warmup_beta_factor : beta_epoch;
  at::Tensor ae_loss = rec + beta_cur * sw;
  at::Tensor nll = prior_nll(z0, z1);  // reaches only f and s: gradient-disjoint from ae_loss
  LossTerms out;
  out.total = ae_loss + nll;
  out.terms = {{"rec", rec.detach()}, {"sw", sw.detach()}, {"nll", nll.detach()}, {"ae", ae_loss.detach()},
               {"beta", at::scalar_tensor(beta_cur, at::kDouble)}};
  return out;
}

at::Tensor Dynae::bin_and_resample(const at::Tensor& pair_ids, int64_t epoch, std::vector<int64_t>* counts_out) {
  // Encoded current frames of the pairs, in chunks (the frames of image sets are gathered chunk by chunk).
  std::vector<at::Tensor> parts;
  for (int64_t i = 0; i < pair_ids.numel(); i += 4096)
    parts.push_back(encode(first_frames(pair_ids.slice(0, i, std::min(pair_ids.numel(), i + 4096)))));
  at::Tensor z = at::cat(parts);
  at::Generator gen = make_generator(seed(), "bins", static_cast<uint64_t>(epoch));
  at::Tensor c = regular_space_centres(z, at::randperm(z.size(0), gen), opt_.min_dist, opt_.max_centres);
  {
    torch::NoGradGuard no_grad;
    centres_.set_(c.to(centres_.device()));
  }
  at::Tensor labels = assign_to_centres(z, centres_);
  const int64_t k = centres_.size(0);
  at::Tensor counts_t = at::bincount(labels, {}, k);
  std::vector<int64_t> counts(counts_t.data_ptr<int64_t>(), counts_t.data_ptr<int64_t>() + k);
  check_bin_populations(counts, batch_size(), opt_.min_dist);
  if (counts_out) *counts_out = counts;
  return well_tempered_batches(labels, counts, batch_size(), opt_.bias_factor, gen);
}

std::optional<at::Tensor> Dynae::plan_epoch(int64_t epoch) {
  if (epoch == 0) return std::nullopt;  // warm-up: plain random minibatches (§6)
  std::vector<int64_t> counts;
  at::Tensor batches = bin_and_resample(train_pairs(), epoch, &counts);
  int64_t kept = 0;
  for (int64_t c : counts) kept += c > batch_size() ? 1 : 0;
  log::info(concat("epoch ", epoch, ": ", counts.size(), " latent bins (", kept, " with more than ", batch_size(),
                   " pairs), ", batches.size(0), " one-bin batches"));
  return batches;
}

}  // namespace latdyn::models
