// SPDX-License-Identifier: MIT
// Model registry: name -> factory from resolved options, plus the per-model data-dependent option resolution.
#pragma once
#include <memory>

#include "latdyn/core/registry.hpp"
#include "latdyn/data/dataset.hpp"
#include "latdyn/models/latent_model.hpp"

namespace latdyn::models {

using ModelRegistry = Registry<std::shared_ptr<LatentModel>>;
/// Built-in models, registered explicitly on first use.
const ModelRegistry& model_registry();
/// Builds a model from fully resolved options (e.g. a run's config.json "model" section).
std::shared_ptr<LatentModel> create_model(const json& resolved);
/// Resolves options that depend on the training data (shapes, time span, ...); returns the resolved JSON.
json resolve_model_options(const json& model, const data::Dataset& train, int64_t batch_size);

}  // namespace latdyn::models
