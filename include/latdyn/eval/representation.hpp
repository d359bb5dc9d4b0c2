// SPDX-License-Identifier: MIT
// Evaluation of representation models (DynAE and its baselines; dynae.md §12-13): latent trajectory, alignment
// metrics against ground truth on all frames and on the held-out pairs, loss terms on the held-out pairs,
// free-energy map, force and diffusion fields on a grid; HDF5 + pictures.
#pragma once
#include <string>

#include "latdyn/core/config_reader.hpp"
#include "latdyn/data/dataset.hpp"
#include "latdyn/models/pair_autoencoder.hpp"

namespace latdyn::eval {

struct RepresentationRequest {
  std::string run_dir, out_dir, data_path, checkpoint;
  int64_t checkpoint_step = -1;
  json config;               ///< the run's resolved config.json
  bool pictures = true;
};

/// Writes metrics.json, latent.h5 and plots/ into out_dir; returns the metrics.json content.
json evaluate_representation(models::PairAutoencoder& model, const data::Dataset& ds, const RepresentationRequest& req);

}  // namespace latdyn::eval
