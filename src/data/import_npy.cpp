// SPDX-License-Identifier: MIT
// NPY importer: shape/dtype checks with hints, optional min-max normalisation, split by fractions or array.
#include "latdyn/data/import_npy.hpp"

#include <torch/torch.h>

#include <cmath>

#include "latdyn/core/error.hpp"
#include "latdyn/core/version.hpp"
#include "latdyn/data/npy.hpp"
#include "latdyn/data/tensor_array.hpp"

namespace latdyn::data {

static at::Tensor load(const std::string& path, const std::string& role) {
  Array a = read_npy(path);
  at::Tensor t = from_array(a);
  if (t.numel() == 0) throw DataError("'" + path + "' (" + role + ") is empty: shape " + a.shape_str(), "check the exported array");
  return t;
}

Dataset import_npy(const ImportOptions& o) {
  Dataset ds;
  at::Tensor y = load(o.y_path, "observations");
  if (y.dim() == 4) y = y.unsqueeze(2);  // [N,T,H,W] -> [N,T,1,H,W]
  if (y.dim() != 3 && y.dim() != 5)
    throw DataError(concat("'", o.y_path, "' (observations) has shape ", y.sizes(), "; expected [N,T,C,H,W], [N,T,H,W] or [N,T,D]"),
                    "one trajectory is [T, ...]: stack trajectories along a new first axis (np.stack)");
  json norm = {{"type", o.normalize}};
  if (y.scalar_type() == at::kByte) {
    y = y.to(at::kFloat) / 255.0;
    norm["uint8_divided_by"] = 255;
  } else if (y.scalar_type() == at::kFloat || y.scalar_type() == at::kDouble) {
    y = y.to(at::kFloat);
  } else {
    throw DataError(concat("'", o.y_path, "' (observations) has dtype ", y.scalar_type(), "; expected float32, float64 or uint8"),
                    "convert with a.astype(np.float32)");
  }
  if (!at::isfinite(y).all().item<bool>())
    throw DataError("'" + o.y_path + "' (observations) contains NaN or Inf", "repair or drop the affected frames before import");
  if (o.normalize == "minmax") {
    const double lo = y.min().item<double>(), hi = y.max().item<double>();
    if (hi <= lo) throw DataError("'" + o.y_path + "' is constant; min-max normalisation is undefined", "");
    y = (y - lo) / (hi - lo);
    norm["min"] = lo, norm["max"] = hi;
  } else if (o.normalize != "none") {
    throw ConfigError("unknown --normalize '" + o.normalize + "'", "use none or minmax");
  }
  const int64_t n = y.size(0), steps = y.size(1);
  ds.y = y.contiguous();
  if (o.t_path.empty()) {
    if (!(o.dt > 0)) throw ConfigError("--dt must be positive", "");
    ds.t = (torch::arange(steps, torch::kDouble) * o.dt).unsqueeze(0).repeat({n, 1});
  } else {
    at::Tensor t = load(o.t_path, "times").to(at::kDouble);
    if (t.dim() == 1 && t.size(0) == steps) t = t.unsqueeze(0).repeat({n, 1});
    if (t.dim() != 2 || t.size(0) != n || t.size(1) != steps)
      throw DataError(concat("'", o.t_path, "' (times) has shape ", t.sizes(), "; expected [", n, ", ", steps, "] or [", steps, "]"),
                      "one time per frame, per trajectory or shared");
    ds.t = t.contiguous();
  }
  if (!o.split_path.empty()) {
    at::Tensor s = load(o.split_path, "split");
    if (s.dim() != 1 || s.size(0) != n)
      throw DataError(concat("'", o.split_path, "' (split) has shape ", s.sizes(), "; expected [", n, "]"), "0 train, 1 val, 2 test");
    ds.split = s.to(at::kByte);
  } else {
    if (o.split_fractions.size() != 3 || std::abs(o.split_fractions[0] + o.split_fractions[1] + o.split_fractions[2] - 1.0) > 1e-6)
      throw ConfigError("--split needs three fractions that sum to 1", "e.g. --split 0.8,0.1,0.1");
    const int64_t n_train = static_cast<int64_t>(std::llround(o.split_fractions[0] * n));
    const int64_t n_val = static_cast<int64_t>(std::llround(o.split_fractions[1] * n));
    ds.split = torch::full({n}, 2, torch::kByte);
    ds.split.narrow(0, 0, std::min(n_train, n)).fill_(0);
    if (n_train < n) ds.split.narrow(0, n_train, std::min(n_val, n - n_train)).fill_(1);
  }
  for (const auto& kv : o.truth) ds.truth[kv.first] = load(kv.second, "truth/" + kv.first);
  for (const auto& kv : o.params) ds.params[kv.first] = load(kv.second, "params/" + kv.first);
  ds.header.generator = "import_npy";
  ds.header.options = {{"type", "import_npy"}, {"y", o.y_path}, {"t", o.t_path}, {"dt", o.dt}, {"split", o.split_path},
                       {"split_fractions", o.split_fractions}, {"normalization", norm}, {"truth", o.truth}, {"params", o.params}};
  ds.header.latdyn_version = kVersion;
  ds.validate("imported from '" + o.y_path + "'");
  return ds;
}

}  // namespace latdyn::data
