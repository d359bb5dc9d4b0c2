// SPDX-License-Identifier: MIT
// Pair tables, the 80/20 pair split and minibatches of pairs (dynae.md §5.1, §9 steps 1 and 6, Q6, Q7).
#include "latdyn/models/pair_autoencoder.hpp"

#include <torch/torch.h>

#include "latdyn/core/error.hpp"
#include "latdyn/core/rng.hpp"

namespace latdyn::models {

PairAeOptions PairAeOptions::read(ConfigReader& r, const json& j, const PairAeOptions& d) {
  PairAeOptions o = d;
  o.frame_shape = r.get("frame_shape", o.frame_shape);
  o.latent_dim = r.get("latent_dim", o.latent_dim);
  o.encoder = r.get("encoder", o.encoder);
  o.decoder = r.get("decoder", o.decoder);
  r.check_choice("encoder", o.encoder, {"fc", "conv"});
  r.check_choice("decoder", o.decoder, {"fc", "deconv"});
  const bool images = o.encoder == "conv";
  // Image networks default to width 256 (dynae.md §4.2), vector networks to 32 (§4.1).
  o.width_enc = r.get("width_enc", images && !j.contains("width_enc") ? int64_t{256} : o.width_enc);
  o.width_dec = r.get("width_dec", o.decoder == "deconv" && !j.contains("width_dec") ? int64_t{256} : o.width_dec);
  o.split = r.get("split", o.split);
  r.check_choice("split", o.split, {"random_80_20", "contiguous"});
  o.lag = r.get("lag", o.lag);
  o.eval_batch = r.get("eval_batch", o.eval_batch);
  if (o.latent_dim < 1 || o.lag < 1 || o.eval_batch < 1) r.throw_error("latent_dim, lag and eval_batch must be >= 1", "");
  return o;
}

void PairAeOptions::write(json& j) const {
  j["frame_shape"] = frame_shape;
  j["latent_dim"] = latent_dim;
  j["encoder"] = encoder, j["decoder"] = decoder;
  j["width_enc"] = width_enc, j["width_dec"] = width_dec;
  j["split"] = split, j["lag"] = lag, j["eval_batch"] = eval_batch;
}

nn::AeNetSpec PairAeOptions::encoder_spec(int64_t out_mult) const {
  return nn::AeNetSpec{encoder, frame_shape, width_enc, latent_dim, out_mult};
}
nn::AeNetSpec PairAeOptions::decoder_spec() const { return nn::AeNetSpec{decoder, frame_shape, width_dec, latent_dim, 1}; }

json resolve_pair_ae_options(const json& model, const data::Dataset& train, int64_t batch_size) {
  json out = model;
  std::vector<int64_t> shape = train.frame_shape();
  if (model.contains("frame_shape") && !model.at("frame_shape").is_null() &&
      model.at("frame_shape").get<std::vector<int64_t>>() != shape)
    throw ConfigError(concat("model.frame_shape = ", model.at("frame_shape").dump(), " but the data has frames ",
                             c10::IntArrayRef(shape)),
                      "remove model.frame_shape (it is resolved from the data)");
  out["frame_shape"] = shape;
  const bool images = shape.size() == 3;
  if (!model.contains("encoder")) out["encoder"] = images ? "conv" : "fc";
  if (!model.contains("decoder")) out["decoder"] = images ? "deconv" : "fc";
  if (train.size() < 1) throw DataError("the training split is empty", "check /split in the dataset");
  const int64_t lag = model.value("lag", int64_t{1});
  if (train.steps() <= lag)
    throw DataError(concat("trajectories have ", train.steps(), " frames; pairs with lag ", lag, " need at least ", lag + 1),
                    "use longer trajectories or a smaller model.lag");
  const int64_t pairs = train.size() * (train.steps() - lag);
  if (pairs * 4 / 5 < batch_size)
    throw DataError(concat("the training split gives ", pairs, " pairs (", pairs * 4 / 5, " for training), fewer than one batch of ",
                           batch_size),
                    "lower trainer.batch_size or use more frames");
  return out;
}

PairAutoencoder::PairAutoencoder(PairAeOptions o) : o_(std::move(o)) {
  epoch_batches_ = register_buffer("epoch_batches", at::empty({0, 0}, at::kLong));
}

void PairAutoencoder::bind_data(const data::Dataset& train, const data::Dataset& val, int64_t batch_size, uint64_t seed) {
  (void)val;  // the held-out pairs come from the training trajectories (dynae.md §5.1)
  TORCH_CHECK(train.frame_shape() == o_.frame_shape, "bind_data: frame shape mismatch");
  y_ = train.y, t_ = train.t, batch_size_ = batch_size, seed_ = seed, cached_epoch_ = -1;
  const int64_t n = train.size(), per = train.steps() - o_.lag;
  TORCH_CHECK(per > 0, "bind_data: trajectories shorter than the lag");
  at::Tensor rows = at::arange(n, at::kLong).repeat_interleave(per);
  at::Tensor steps = at::arange(per, at::kLong).repeat({n});
  pair_row_ = rows, pair_step_ = steps;
  const int64_t total = n * per, n_train = total * 4 / 5;  // 80 % train (int truncation as the reference)
  if (o_.split == "random_80_20") {
    at::Tensor perm = at::randperm(total, make_generator(seed, "pair_split"));
    train_ids_ = perm.slice(0, 0, n_train).contiguous();
    test_ids_ = perm.slice(0, n_train).contiguous();
  } else {  // contiguous: the last 20 % of the pairs of every trajectory are held out
    const int64_t cut = per * 4 / 5;
    at::Tensor is_train = steps < cut;
    train_ids_ = at::nonzero(is_train).flatten();
    test_ids_ = at::nonzero(at::logical_not(is_train)).flatten();
  }
  if (train_ids_.numel() < batch_size)
    throw DataError(concat(train_ids_.numel(), " training pairs are fewer than one batch of ", batch_size),
                    "lower trainer.batch_size or use more frames");
  bound_ = true;
}

int64_t PairAutoencoder::steps_per_epoch() const {
  TORCH_CHECK(bound_, "steps_per_epoch before bind_data");
  return train_ids_.numel() / batch_size_;
}

int64_t PairAutoencoder::active_steps() const {
  // A resampled plan (dynae.md §6.3) has its own length; one longer than the nominal epoch is cut (its rows are in
  // random order), a shorter one ends the epoch early, as in the reference.
  return epoch_batches_.numel() > 0 ? std::min(epoch_batches_.size(0), steps_per_epoch()) : steps_per_epoch();
}

const at::Tensor& PairAutoencoder::random_batches(int64_t epoch) {
  if (epoch != cached_epoch_) {  // a pure function of (seed, epoch): resumed runs see the same batches
    const int64_t spe = steps_per_epoch();
    at::Tensor perm = at::randperm(train_ids_.numel(), make_generator(seed_, "pair_batches", static_cast<uint64_t>(epoch)));
    cached_batches_ = perm.slice(0, 0, spe * batch_size_).view({spe, batch_size_});
    cached_epoch_ = epoch;
  }
  return cached_batches_;
}

void PairAutoencoder::begin_epoch(int64_t epoch) {
  std::optional<at::Tensor> plan = plan_epoch(epoch);
  torch::NoGradGuard no_grad;
  epoch_batches_.set_(plan ? plan->to(at::kLong).contiguous() : at::empty({0, 0}, at::kLong));
}

data::Batch PairAutoencoder::train_batch(int64_t epoch, int64_t position) {
  at::Tensor rows;
  if (epoch_batches_.numel() > 0) {
    TORCH_CHECK(position < epoch_batches_.size(0), "train_batch: position ", position, " beyond the epoch plan");
    rows = epoch_batches_[position].to(at::kCPU);
  } else {
    rows = random_batches(epoch)[position];
  }
  return gather_pairs(train_ids_.index_select(0, rows));
}

std::vector<data::Batch> PairAutoencoder::validation_batches() {
  std::vector<data::Batch> out;
  const int64_t n = test_ids_.numel(), b = std::min(batch_size_, n);
  for (int64_t first = 0; b > 0 && first + b <= n; first += b) out.push_back(gather_pairs(test_ids_.slice(0, first, first + b)));
  return out;
}

at::Tensor PairAutoencoder::first_frames(const at::Tensor& pair_ids) const {
  return y_.index({pair_row_.index_select(0, pair_ids), pair_step_.index_select(0, pair_ids)});
}

data::Batch PairAutoencoder::gather_pairs(const at::Tensor& ids) const {
  at::Tensor rows = pair_row_.index_select(0, ids), s0 = pair_step_.index_select(0, ids), s1 = s0 + o_.lag;
  data::Batch b;
  b.x = at::stack({y_.index({rows, s0}), y_.index({rows, s1})}, 1);  // [B, 2, ...]
  b.t = at::stack({t_.index({rows, s0}), t_.index({rows, s1})}, 1);  // [B, 2]
  b.mask = at::ones({ids.numel(), 2}, at::kFloat);
  b.index = ids;
  return b;
}

at::Tensor PairAutoencoder::summed_sq_error(const at::Tensor& x, const at::Tensor& recon) {
  return (x - recon).pow(2).flatten(1).sum(1).mean();
}

at::Tensor PairAutoencoder::encode(const at::Tensor& frames) {
  torch::NoGradGuard no_grad;
  const bool was_training = is_training();
  eval();
  std::vector<at::Tensor> out;
  const auto device = encoder_->parameters().front().device();
  for (int64_t i = 0; i < frames.size(0); i += o_.eval_batch) {
    at::Tensor chunk = frames.slice(0, i, std::min(frames.size(0), i + o_.eval_batch)).to(device, at::kFloat);
    out.push_back(latent_of(encoder_forward(chunk)).to(at::kCPU));
  }
  train(was_training);
  return out.empty() ? at::empty({0, o_.latent_dim}) : at::cat(out);
}

at::Tensor PairAutoencoder::decode(const at::Tensor& latent) {
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> out;
  const auto device = decoder_->parameters().front().device();
  for (int64_t i = 0; i < latent.size(0); i += o_.eval_batch)
    out.push_back(decoder_forward(latent.slice(0, i, std::min(latent.size(0), i + o_.eval_batch)).to(device, at::kFloat)).to(at::kCPU));
  return at::cat(out);
}

Prediction PairAutoencoder::predict_impl(const data::Batch&, const at::Tensor&) {
  throw ConfigError(concat("model '", hyperparams().value("type", std::string("?")),
                           "' learns a representation and does not forecast frames"),
                    "use `latdyn encode` for latent coordinates and `latdyn eval` for the representation metrics");
}

}  // namespace latdyn::models
