// SPDX-License-Identifier: MIT
// Built-in models. A new model is one header, one source file and one line here.
#include "latdyn/models/registry.hpp"

#include <torch/torch.h>

#include "latdyn/models/ae_baselines.hpp"
#include "latdyn/models/dynae.hpp"
#include "latdyn/models/ladid.hpp"
#include "latdyn/models/msvi.hpp"
#include "latdyn/models/ndp.hpp"
#include "latdyn/models/ode2vae.hpp"
#include "latdyn/models/ode_baselines.hpp"

namespace latdyn::models {

const ModelRegistry& model_registry() {
  static const ModelRegistry reg = [] {
    ModelRegistry r("model");
    r.add("ladid", "LaDID: transformer psi from K frames, z_t = F(psi, gamma(t)) without a solver (ICLR 2024)",
          [](const json& j) { return std::make_shared<Ladid>(LadidOptions::from_json(j)); });
    r.add("dynae", "DynAE: autoencoder whose latent moves match overdamped Langevin dynamics via binned sliced-Wasserstein (JCTC 2024)",
          [](const json& j) { return std::make_shared<Dynae>(DynaeOptions::from_json(j)); });
    for (const char* v : {"beta_vae", "swae", "sde_vae"}) {
      const std::string name = v;
      const char* what = name == "beta_vae" ? "beta-VAE baseline on single frames (Higgins et al. 2017; dynae.md 14.2)"
                         : name == "swae"   ? "SWAE baseline, uniform prior on [-1,1]^d (Kolouri et al. 2019; dynae.md 14.3)"
                                            : "SDE-VAE baseline on frame pairs (Hasan et al. 2021; dynae.md 14.4)";
      r.add(name, what, [name](const json& j) { return std::make_shared<AeBaseline>(AeBaselineOptions::from_json(j, name)); });
    }
    r.add("ode_rnn", "ODE-RNN forecaster baseline (Rubanova et al. 2019; baselines.md 3.2)",
          [](const json& j) { return std::make_shared<OdeRnnModel>(OdeRnnModelOptions::from_json(j)); });
    r.add("latent_ode", "Latent ODE baseline: backwards ODE-RNN encoder, dopri5 latent flow (Rubanova et al. 2019; baselines.md 3.3)",
          [](const json& j) { return std::make_shared<LatentOde>(LatentOdeOptions::from_json(j)); });
    r.add("ndp", "NDP baseline: neural ODE process, mean-aggregated context, dopri5 latent ODE (Norcliffe et al. 2021; baselines.md 5)",
          [](const json& j) { return std::make_shared<Ndp>(NdpOptions::from_json(j)); });
    r.add("ode2vae", "ODE2VAE-det baseline: second-order latent ODE with ODE-propagated density, rk4 (Yildiz et al. 2019; baselines.md 4)",
          [](const json& j) { return std::make_shared<Ode2vae>(Ode2vaeOptions::from_json(j)); });
    r.add("msvi", "MSVI baseline: amortised sparse Bayesian multiple shooting, dopri5 blocks (Iakovlev et al. 2023; baselines.md 6)",
          [](const json& j) { return std::make_shared<Msvi>(MsviOptions::from_json(j)); });
    return r;
  }();
  return reg;
}

std::shared_ptr<LatentModel> create_model(const json& resolved) { return model_registry().create(resolved); }

json resolve_model_options(const json& model, const data::Dataset& train, int64_t batch_size) {
  const std::string type = model.value("type", std::string());
  model_registry().at(type);  // unknown names throw with the list of models
  if (type == "ladid") return resolve_ladid_options(model, train, batch_size);
  if (type == "dynae" || type == "beta_vae" || type == "swae" || type == "sde_vae")
    return resolve_pair_ae_options(model, train, batch_size);
  if (type == "ode_rnn" || type == "latent_ode" || type == "ndp" || type == "ode2vae") return resolve_frame_codec_options(model, train);
  if (type == "msvi") return resolve_msvi_options(model, train);  // frame-codec options plus n_train
  return model;
}

}  // namespace latdyn::models
