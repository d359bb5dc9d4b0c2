// SPDX-License-Identifier: MIT
// Built-in models. A new model is one header, one source file and one line here.
#include "latdyn/models/registry.hpp"

#include <torch/torch.h>

#include "latdyn/models/ladid.hpp"

namespace latdyn::models {

const ModelRegistry& model_registry() {
  static const ModelRegistry reg = [] {
    ModelRegistry r("model");
    r.add("ladid", "LaDID: transformer psi from K frames, z_t = F(psi, gamma(t)) without a solver (ICLR 2024)",
          [](const json& j) { return std::make_shared<Ladid>(LadidOptions::from_json(j)); });
    return r;
  }();
  return reg;
}

std::shared_ptr<LatentModel> create_model(const json& resolved) { return model_registry().create(resolved); }

json resolve_model_options(const json& model, const data::Dataset& train, int64_t batch_size) {
  const std::string type = model.value("type", std::string());
  model_registry().at(type);  // unknown names throw with the list of models
  if (type == "ladid") return resolve_ladid_options(model, train, batch_size);
  return model;
}

}  // namespace latdyn::models
