// SPDX-License-Identifier: MIT
// DynAE's baselines (dynae.md §14) on the same pairs, builders and trainer: beta-VAE (Higgins et al. 2017),
// SWAE with a uniform prior (Kolouri et al. 2019) and SDE-VAE (Hasan et al. 2021, as re-implemented by the DynAE
// authors). One Adam over all parameters, random minibatches, no binning, no warm-up.
#pragma once
#include "latdyn/models/pair_autoencoder.hpp"

namespace latdyn::models {

struct AeBaselineOptions {
  std::string variant;        ///< beta_vae | swae | sde_vae (the registry name)
  PairAeOptions ae;
  double beta = 1.0;
  int64_t projections = 50;   ///< swae
  double nu = 0.0065;         ///< sde_vae: marginal prior N(0, 1/nu)
  int64_t force_width = 32;   ///< sde_vae: force net width

  static AeBaselineOptions from_json(const json& j, const std::string& variant);
  json to_json() const;
};

class AeBaseline final : public PairAutoencoder {
 public:
  explicit AeBaseline(AeBaselineOptions o);
  json hyperparams() const override { return opt_.to_json(); }

 private:
  LossTerms loss_impl(const data::Batch& batch, const StepContext& ctx) override;
  bool stochastic() const { return opt_.variant != "swae"; }
  AeBaselineOptions opt_;
  torch::nn::Sequential force_{nullptr};
};

}  // namespace latdyn::models
