// SPDX-License-Identifier: MIT
// Common base of DynAE and its autoencoder baselines (dynae.md §5.1, §14): lag pairs (x_t, x_{t+lag}) built within
// the training trajectories, an 80/20 split over pairs, minibatches of pairs, and the encoder/decoder builders.
// A pair is served as a two-step trajectory: Batch.x [B, 2, ...], Batch.t [B, 2], Batch.index = pair ids.
#pragma once
#include <torch/nn/modules/container/sequential.h>

#include <optional>

#include "latdyn/models/latent_model.hpp"
#include "latdyn/nn/ae_nets.hpp"

namespace latdyn::models {

/// Options every pair autoencoder shares (dynae.md §16). frame_shape is resolved from the data.
struct PairAeOptions {
  std::vector<int64_t> frame_shape;
  int64_t latent_dim = 2;
  std::string encoder = "fc", decoder = "fc";
  int64_t width_enc = 32, width_dec = 32;
  std::string split = "random_80_20";  ///< random_80_20 (reference) | contiguous (last 20 % of each trajectory)
  int64_t lag = 1;
  int64_t eval_batch = 256;            ///< rows per forward when encoding many frames

  /// Reads the shared keys from `r` (which the caller finishes).
  static PairAeOptions read(ConfigReader& r, const json& j, const PairAeOptions& defaults);
  void write(json& j) const;
  nn::AeNetSpec encoder_spec(int64_t out_mult) const;
  nn::AeNetSpec decoder_spec() const;
};

/// Fills frame_shape from the data and checks the pair options against it; the model's own from_json validates the rest.
json resolve_pair_ae_options(const json& model, const data::Dataset& train, int64_t batch_size);

class PairAutoencoder : public LatentModel, public EpochSampler, public LatentEncoder {
 public:
  explicit PairAutoencoder(PairAeOptions o);
  // EpochSampler
  void bind_data(const data::Dataset& train, const data::Dataset& val, int64_t batch_size, uint64_t seed) override;
  int64_t steps_per_epoch() const override;
  int64_t active_steps() const override;
  void begin_epoch(int64_t epoch) override;
  data::Batch train_batch(int64_t epoch, int64_t position) override;
  std::vector<data::Batch> validation_batches() override;
  // LatentEncoder: frames [M, ...] -> [M, d] (no grad, in chunks of eval_batch)
  at::Tensor encode(const at::Tensor& frames) override;
  at::Tensor decode(const at::Tensor& latent) override;
  int64_t latent_dim() const override { return o_.latent_dim; }
  int64_t context_steps() const override { return 1; }

  /// Pair ids [P] of the training / held-out pairs, and the first frames of given pairs [P, ...].
  const at::Tensor& train_pairs() const { return train_ids_; }
  const at::Tensor& test_pairs() const { return test_ids_; }
  at::Tensor first_frames(const at::Tensor& pair_ids) const;
  /// Trajectory row and first step [P] of the pairs `pair_ids` (indices into the bound training split).
  std::pair<at::Tensor, at::Tensor> pair_positions(const at::Tensor& pair_ids) const {
    return {pair_row_.index_select(0, pair_ids), pair_step_.index_select(0, pair_ids)};
  }
  data::Batch gather_pairs(const at::Tensor& pair_ids) const;
  int64_t batch_size() const { return batch_size_; }
  uint64_t seed() const { return seed_; }

 protected:
  /// Encoder output for a minibatch of frames [M, ...] -> [M, out_mult * d] (with grad).
  at::Tensor encoder_forward(const at::Tensor& frames) { return encoder_->forward(frames); }
  at::Tensor decoder_forward(const at::Tensor& z) { return decoder_->forward(z); }
  /// Mean over the batch of the squared error summed over every feature/pixel (dynae.md §5.2).
  static at::Tensor summed_sq_error(const at::Tensor& x, const at::Tensor& recon);
  /// Override to replace the plain random minibatches of `epoch` (returned [n, B] rows of train pair positions).
  virtual std::optional<at::Tensor> plan_epoch(int64_t epoch) { (void)epoch; return std::nullopt; }
  /// The latent used by encode(): the encoder output's first d columns (the mean for stochastic encoders).
  virtual at::Tensor latent_of(const at::Tensor& encoder_out) { return encoder_out.narrow(1, 0, o_.latent_dim); }
  Prediction predict_impl(const data::Batch& context, const at::Tensor& query_times) override;

  PairAeOptions o_;
  torch::nn::Sequential encoder_{nullptr}, decoder_{nullptr};
  /// Rows of train-pair positions for the current epoch when plan_epoch chose them (a buffer: saved in checkpoints).
  at::Tensor epoch_batches_;

 private:
  /// Random minibatches [steps_per_epoch, B] of train-pair positions for `epoch`, cached for the current epoch.
  const at::Tensor& random_batches(int64_t epoch);
  at::Tensor y_, t_;                  // training split [N, T, ...], [N, T]
  at::Tensor pair_row_, pair_step_;   // [P] trajectory and first step of every pair
  at::Tensor train_ids_, test_ids_;   // pair ids
  int64_t batch_size_ = 0;
  uint64_t seed_ = 0;
  bool bound_ = false;
  int64_t cached_epoch_ = -1;
  at::Tensor cached_batches_;
};

}  // namespace latdyn::models
