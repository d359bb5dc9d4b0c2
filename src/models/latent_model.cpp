// SPDX-License-Identifier: MIT
// Non-virtual interface of LatentModel: precondition checks before the model's own code runs.
#include "latdyn/models/latent_model.hpp"

#include <torch/torch.h>

namespace latdyn::models {

static void check_batch(const data::Batch& b, const char* what) {
  TORCH_CHECK(b.x.defined() && b.t.defined(), what, ": batch needs x and t");
  TORCH_CHECK(b.x.dim() == 3 || b.x.dim() == 5, what, ": x must be [B,T,D] or [B,T,C,H,W], got ", b.x.sizes());
  TORCH_CHECK(b.t.dim() == 2 && b.t.size(0) == b.x.size(0) && b.t.size(1) == b.x.size(1), what,
              ": t must be [B,T] matching x, got ", b.t.sizes(), " for x ", b.x.sizes());
  TORCH_CHECK(b.t.scalar_type() == at::kDouble, what, ": t must be float64");
  TORCH_CHECK(b.x.device() == b.t.device(), what, ": x and t on different devices");
}

LossTerms LatentModel::loss(const data::Batch& batch, const StepContext& ctx) {
  check_batch(batch, "loss");
  LossTerms out = loss_impl(batch, ctx);
  TORCH_CHECK(out.total.defined() && out.total.numel() == 1, "loss_impl must return a scalar total");
  return out;
}

Prediction LatentModel::predict(const data::Batch& context, const at::Tensor& query_times) {
  check_batch(context, "predict");
  TORCH_CHECK(query_times.dim() == 2 && query_times.size(0) == context.x.size(0), "predict: query_times must be [B,Q], got ",
              query_times.sizes());
  TORCH_CHECK(context.x.size(1) >= context_steps(), "predict: need ", context_steps(), " context steps, got ",
              context.x.size(1));
  return predict_impl(context, query_times.to(at::kDouble));
}

}  // namespace latdyn::models
