// SPDX-License-Identifier: MIT
// Dataset validation, selection and the HDF5 reader/writer for the latdyn-dataset format (docs/formats.md).
#include "latdyn/data/dataset.hpp"

#include <cstdio>
#include <cstring>
#include <filesystem>

#include "latdyn/core/error.hpp"
#include "latdyn/core/version.hpp"
#include "latdyn/data/h5.hpp"
#include "latdyn/data/tensor_array.hpp"

namespace latdyn::data {
namespace fs = std::filesystem;

Split parse_split(const std::string& name) {
  if (name == "train") return Split::kTrain;
  if (name == "val") return Split::kVal;
  if (name == "test") return Split::kTest;
  throw ConfigError("unknown split '" + name + "'", "use train, val or test");
}
const char* split_name(Split s) { return s == Split::kTrain ? "train" : s == Split::kVal ? "val" : "test"; }

std::vector<int64_t> Dataset::frame_shape() const {
  auto s = y.sizes().vec();
  return std::vector<int64_t>(s.begin() + 2, s.end());
}

at::Tensor Dataset::indices(Split s) const { return at::nonzero(split == static_cast<int64_t>(s)).flatten(); }

Dataset Dataset::select(const at::Tensor& index) const {
  Dataset out;
  out.y = y.index_select(0, index);
  out.t = t.index_select(0, index);
  out.split = split.index_select(0, index);
  for (const auto& kv : truth) out.truth[kv.first] = kv.second.index_select(0, index);
  for (const auto& kv : params) out.params[kv.first] = kv.second.index_select(0, index);
  out.header = header;
  return out;
}

void Dataset::validate(const std::string& origin) const {
  auto fail = [&](const std::string& field, const std::string& msg, const std::string& hint) {
    throw DataError("invalid dataset " + origin + ": field '" + field + "' " + msg, hint);
  };
  if (!y.defined()) fail("trajectories", "is missing", "every dataset needs /trajectories");
  if (y.dim() != 3 && y.dim() != 5)
    fail("trajectories", "has shape " + concat(y.sizes()) + "; expected [N,T,C,H,W] (images/fields) or [N,T,D] (vectors)",
         "reshape the observations before import");
  if (y.scalar_type() != at::kFloat) fail("trajectories", "has dtype " + concat(y.scalar_type()) + "; expected float32", "");
  const int64_t n = y.size(0), steps = y.size(1);
  if (n < 1 || steps < 2) fail("trajectories", "has shape " + concat(y.sizes()) + "; need N >= 1 and T >= 2", "");
  if (!t.defined() || t.dim() != 2 || t.size(0) != n || t.size(1) != steps)
    fail("times", "has shape " + (t.defined() ? concat(t.sizes()) : std::string("(missing)")) + "; expected [N, T] = [" +
                      concat(n) + ", " + concat(steps) + "]",
         "store one time per frame of every trajectory");
  if (t.scalar_type() != at::kDouble) fail("times", "has dtype " + concat(t.scalar_type()) + "; expected float64", "");
  if (!at::isfinite(t).all().item<bool>()) fail("times", "contains NaN or Inf", "check the time grid");
  auto dt = t.slice(1, 1) - t.slice(1, 0, steps - 1);
  if ((dt <= 0).any().item<bool>()) {
    int64_t row = at::nonzero((dt <= 0).any(1)).flatten()[0].item<int64_t>();
    fail("times", "is not strictly increasing in trajectory " + concat(row), "sort the frames by time, drop duplicates");
  }
  if (!at::isfinite(y).all().item<bool>()) {
    int64_t row = at::nonzero(at::logical_not(at::isfinite(y.flatten(1))).any(1)).flatten()[0].item<int64_t>();
    fail("trajectories", "contains NaN or Inf (first in trajectory " + concat(row) + ")",
         "remove or repair the non-finite frames before import");
  }
  // Images and fields are in [0,1] (datasets.md §0.1); vector data (coordinates, features) keep their own units.
  double lo = y.min().item<double>(), hi = y.max().item<double>();
  if (y.dim() == 5 && (lo < 0.0 || hi > 1.0))
    fail("trajectories", "has values in [" + concat(lo) + ", " + concat(hi) + "]; expected [0, 1]",
         "rescale the data, e.g. latdyn import --normalize minmax");
  if (!split.defined() || split.dim() != 1 || split.size(0) != n || split.scalar_type() != at::kByte)
    fail("split", "must be uint8 [N] with 0 train, 1 val, 2 test", "latdyn import --split 0.8,0.1,0.1 creates one");
  if ((split > 2).any().item<bool>()) fail("split", "has values other than 0, 1, 2", "");
  for (const auto& kv : truth)
    if (kv.second.dim() < 2 || kv.second.size(0) != n || kv.second.size(1) != steps)
      fail("truth/" + kv.first, "has shape " + concat(kv.second.sizes()) + "; expected [N, T, ...]", "");
  for (const auto& kv : params)
    if (kv.second.dim() < 1 || kv.second.size(0) != n)
      fail("params/" + kv.first, "has shape " + concat(kv.second.sizes()) + "; expected [N, ...]", "");
}

void write_dataset(const std::string& path, const Dataset& ds) {
  ds.validate("to be written to '" + path + "'");
  const std::string tmp = path + ".tmp";
  {
    H5File f(tmp, H5File::Mode::kCreate);
    f.set_attr_string("/", "format", "latdyn-dataset");
    f.set_attr_int("/", "format_version", kDatasetFormatVersion);
    f.set_attr_string("/", "generator", ds.header.generator);
    f.set_attr_int("/", "generator_version", ds.header.generator_version);
    f.set_attr_string("/", "options", ds.header.options.dump());
    f.set_attr_uint("/", "seed", ds.header.seed);
    f.set_attr_string("/", "latdyn_version", kVersion);
    f.write("trajectories", to_array(ds.y));
    f.write("times", to_array(ds.t));
    f.write("split", to_array(ds.split));
    for (const auto& kv : ds.truth) f.write("truth/" + kv.first, to_array(kv.second));
    for (const auto& kv : ds.params) f.write("params/" + kv.first, to_array(kv.second));
    f.flush();
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw IoError("cannot move '" + tmp + "' to '" + path + "': " + ec.message(), "check the directory permissions");
}

Dataset read_dataset(const std::string& path) {
  H5File f(path, H5File::Mode::kRead);
  const std::string origin = "'" + path + "'";
  if (!f.has_attr("/", "format") || f.attr_string("/", "format") != "latdyn-dataset")
    throw DataError(origin + " is an HDF5 file but not a latdyn dataset (root attribute format != 'latdyn-dataset')",
                    "convert arrays with `latdyn import` or generate data with `latdyn simulate`");
  Dataset ds;
  ds.header.format_version = f.attr_int("/", "format_version");
  if (ds.header.format_version != kDatasetFormatVersion)
    throw DataError(origin + " has format_version " + concat(ds.header.format_version) + "; this latdyn reads version " +
                        concat(kDatasetFormatVersion),
                    "regenerate the dataset with this latdyn version");
  ds.header.generator = f.attr_string("/", "generator");
  ds.header.generator_version = f.has_attr("/", "generator_version") ? f.attr_int("/", "generator_version") : 1;
  ds.header.options = f.has_attr("/", "options") ? parse_json_text(f.attr_string("/", "options"), origin) : json::object();
  ds.header.seed = f.has_attr("/", "seed") ? f.attr_uint("/", "seed") : 0;
  ds.header.latdyn_version = f.has_attr("/", "latdyn_version") ? f.attr_string("/", "latdyn_version") : "";
  ds.header.source_path = path;
  auto need = [&](const std::string& name) {
    if (!f.exists(name))
      throw DataError(origin + " has no '" + name + "' array", "a latdyn dataset needs /trajectories, /times and /split");
  };
  need("trajectories");
  need("times");
  need("split");
  Dtype yt = f.dtype("trajectories");
  if (yt != Dtype::kFloat32 && yt != Dtype::kFloat64)
    throw DataError(origin + ": 'trajectories' has dtype " + dtype_name(yt) + "; expected float32 (or float64)",
                    "store observations as floating point in [0,1]");
  ds.y = from_array(f.read_as("trajectories", Dtype::kFloat32));
  Dtype tt = f.dtype("times");
  if (tt != Dtype::kFloat64 && tt != Dtype::kFloat32)
    throw DataError(origin + ": 'times' has dtype " + dtype_name(tt) + "; expected float64", "");
  ds.t = from_array(f.read_as("times", Dtype::kFloat64));
  // Read the split as int64 first, so a stored -1 or 3 is reported rather than converted by HDF5 into 0 or kept.
  const Dtype st = f.dtype("split");
  if (st == Dtype::kFloat32 || st == Dtype::kFloat64)
    throw DataError(origin + ": 'split' has dtype " + dtype_name(st) + "; expected uint8 (0 train, 1 val, 2 test)", "");
  at::Tensor split = from_array(f.read_as("split", Dtype::kInt64));
  if (split.numel() > 0 && (split.min().item<int64_t>() < 0 || split.max().item<int64_t>() > 2))
    throw DataError(origin + ": field 'split' has values outside {0, 1, 2}", "0 train, 1 val, 2 test");
  ds.split = split.to(at::kByte);
  for (const char* group : {"truth", "params"}) {
    if (!f.exists(group)) continue;
    auto& dst = std::string(group) == "truth" ? ds.truth : ds.params;
    for (const auto& name : f.list(group)) dst[name] = from_array(f.read(std::string(group) + "/" + name));
  }
  ds.validate(origin);
  return ds;
}

json describe_dataset(const std::string& path) {
  H5File f(path, H5File::Mode::kRead);
  json out;
  out["path"] = path;
  for (const char* key : {"format", "generator", "latdyn_version", "options"})
    if (f.has_attr("/", key)) out[key] = f.attr_string("/", key);
  if (out.contains("options")) out["options"] = parse_json_text(out["options"].get<std::string>(), path);
  for (const char* key : {"format_version", "generator_version"})
    if (f.has_attr("/", key)) out[key] = f.attr_int("/", key);
  if (f.has_attr("/", "seed")) out["seed"] = f.attr_uint("/", "seed");
  json arrays = json::object();
  std::vector<std::string> names = {"trajectories", "times", "split"};
  for (const char* group : {"truth", "params"})
    if (f.exists(group))
      for (const auto& n : f.list(group)) names.push_back(std::string(group) + "/" + n);
  for (const auto& n : names)
    if (f.exists(n)) arrays[n] = {{"shape", f.shape(n)}, {"dtype", dtype_name(f.dtype(n))}};
  out["arrays"] = arrays;
  if (f.exists("split")) {
    auto s = f.read_as("split", Dtype::kUInt8);
    int64_t c[3] = {0, 0, 0};
    for (int64_t i = 0; i < s.numel(); ++i) c[std::min<int>(s.data<uint8_t>()[i], 2)]++;
    out["split_counts"] = {{"train", c[0]}, {"val", c[1]}, {"test", c[2]}};
  }
  return out;
}

}  // namespace latdyn::data
