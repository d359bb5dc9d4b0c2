// SPDX-License-Identifier: MIT
// Batched test rollouts and reference predictors.
#include "latdyn/eval/rollout.hpp"

#include <torch/torch.h>

#include "latdyn/core/error.hpp"
#include "latdyn/data/loader.hpp"

namespace latdyn::eval {

static void check_lengths(const data::Dataset& ds, int64_t context, int64_t horizon) {
  if (context < 1 || horizon < 1 || context + horizon > ds.steps())
    throw DataError(concat("context ", context, " + horizon ", horizon, " frames exceed the trajectory length ", ds.steps()),
                    concat("use --context/--horizon with context + horizon <= ", ds.steps()));
}

Rollout rollout(models::LatentModel& model, const data::Dataset& ds, int64_t context, int64_t horizon, int64_t batch_size) {
  check_lengths(ds, context, horizon);
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const auto device = model.parameters().empty() ? torch::Device(torch::kCPU) : model.parameters().front().device();
  data::Batch all = data::whole(ds);
  std::vector<at::Tensor> preds;
  for (int64_t first = 0; first < ds.size(); first += batch_size) {
    const int64_t count = std::min(batch_size, ds.size() - first);
    data::Batch b = all.rows(first, count);
    at::Tensor q = b.t.narrow(1, context, horizon);
    preds.push_back(model.predict(b.steps(0, context).to(device), q.to(device)).mean.to(torch::kCPU));
  }
  model.train(was_training);
  return Rollout{torch::cat(preds, 0), ds.y.narrow(1, context, horizon), ds.t.narrow(1, context, horizon)};
}

at::Tensor predict_copy_last(const data::Dataset& ds, int64_t context, int64_t horizon) {
  check_lengths(ds, context, horizon);
  at::Tensor last = ds.y.narrow(1, context - 1, 1);
  std::vector<int64_t> reps(ds.y.dim(), 1);
  reps[1] = horizon;
  return last.repeat(reps);
}

at::Tensor predict_mean_frame(const data::Dataset& train, const data::Dataset& ds, int64_t context, int64_t horizon) {
  check_lengths(ds, context, horizon);
  at::Tensor mean = train.y.mean(at::IntArrayRef{0, 1}, /*keepdim=*/true);  // [1, 1, ...]
  auto sizes = ds.y.narrow(1, context, horizon).sizes().vec();
  return mean.expand(sizes).contiguous();
}

}  // namespace latdyn::eval
