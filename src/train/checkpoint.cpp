// SPDX-License-Identifier: MIT
// Atomic checkpoint directories: model/optimizer archives, RNG state, state.json, DONE marker.
#include "latdyn/train/checkpoint.hpp"

#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "latdyn/core/error.hpp"
#include "latdyn/core/fs_util.hpp"
#include "latdyn/core/version.hpp"

namespace latdyn::train {
namespace fs = std::filesystem;

std::string step_dir_name(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "step_%08lld", static_cast<long long>(step));
  return buf;
}

bool is_complete_checkpoint(const std::string& dir) { return fs::exists(fs::path(dir) / "DONE"); }

void save_checkpoint(const std::string& dir, torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                     const json& state) {
  const fs::path final_dir(dir), tmp = fs::path(dir + ".tmp");
  std::error_code ec;
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) throw IoError("cannot create checkpoint directory '" + tmp.string() + "': " + ec.message(), "check disk space and permissions");
  try {
    {
      torch::serialize::OutputArchive ar;
      model.save(ar);
      ar.save_to((tmp / "model.pt").string());
    }
    if (optimizer) {
      torch::serialize::OutputArchive ar;
      optimizer->save(ar);
      ar.save_to((tmp / "optim.pt").string());
      torch::serialize::OutputArchive rng;
      rng.write("default_cpu", at::detail::getDefaultCPUGenerator().get_state());
      rng.save_to((tmp / "rng.pt").string());
    }
  } catch (const c10::Error& e) {
    throw IoError("writing checkpoint '" + tmp.string() + "' failed: " + e.what_without_backtrace(), "is the disk full?");
  }
  json s = state;
  s["format_version"] = kCheckpointFormatVersion;
  write_text_atomic((tmp / "state.json").string(), s.dump(2));
  write_text_atomic((tmp / "DONE").string(), "ok\n");  // last: marks the checkpoint complete
  fs::remove_all(final_dir, ec);
  fs::rename(tmp, final_dir, ec);
  if (ec) throw IoError("cannot rename checkpoint '" + tmp.string() + "': " + ec.message(), "check permissions");
}

// Shapes of every parameter, by name. InputArchive::read replaces a tensor with the stored one (set_), so a stored
// tensor of another shape would silently reshape the model; we compare before and after loading. Buffers are not
// compared: some legitimately change shape during training (DynAE's per-epoch bins, epoch_batches).
static std::vector<std::pair<std::string, std::vector<int64_t>>> tensor_shapes(torch::nn::Module& model) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  for (const auto& p : model.named_parameters(true)) out.emplace_back(p.key(), p.value().sizes().vec());
  return out;
}

static std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

json load_checkpoint(const std::string& dir, torch::nn::Module& model, torch::optim::Optimizer* optimizer) {
  if (!is_complete_checkpoint(dir))
    throw CheckpointError("checkpoint '" + dir + "' is incomplete (no DONE marker)", "use another checkpoint, e.g. --ckpt latest");
  json state;
  try {
    state = parse_json_text(read_text((fs::path(dir) / "state.json").string()), dir + "/state.json");
    if (state.value("format_version", 0) != kCheckpointFormatVersion)
      throw CheckpointError("checkpoint '" + dir + "' has format_version " + state.value("format_version", json(0)).dump(),
                            concat("this latdyn reads version ", kCheckpointFormatVersion));
    const auto before = tensor_shapes(model);
    torch::serialize::InputArchive ar;
    ar.load_from((fs::path(dir) / "model.pt").string());
    model.load(ar);
    const auto after = tensor_shapes(model);
    for (size_t i = 0; i < before.size() && i < after.size(); ++i)
      if (before[i].second != after[i].second)
        throw CheckpointError("checkpoint '" + dir + "' does not fit this model: '" + before[i].first + "' is " +
                                  shape_str(before[i].second) + " here but " + shape_str(after[i].second) + " in the checkpoint",
                              "build the model with the same architecture keys as the run that wrote the checkpoint");
    if (optimizer) {
      torch::serialize::InputArchive oa;
      oa.load_from((fs::path(dir) / "optim.pt").string());
      optimizer->load(oa);
      torch::serialize::InputArchive rng;
      rng.load_from((fs::path(dir) / "rng.pt").string());
      at::Tensor s;
      rng.read("default_cpu", s);
      at::Generator gen = at::detail::getDefaultCPUGenerator();
      gen.set_state(s);
    }
  } catch (const c10::Error& e) {
    throw CheckpointError("cannot load checkpoint '" + dir + "': " + e.what_without_backtrace(),
                          "the checkpoint does not match this model configuration or is damaged");
  } catch (const IoError& e) {
    throw CheckpointError("cannot load checkpoint '" + dir + "': " + e.message(), "the checkpoint is damaged");
  }
  return state;
}

std::optional<std::string> latest_checkpoint(const std::string& run_dir) {
  const fs::path ck = fs::path(run_dir) / "ckpt";
  if (!fs::is_directory(ck)) return std::nullopt;
  std::vector<std::string> done;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(ck)) {
    const std::string name = e.path().filename().string();
    // A half-written checkpoint (step_*.tmp, or no DONE marker) is never loaded. It is not deleted here either:
    // eval may resolve "latest" while training is writing one; remove_partial_checkpoints cleans up on resume.
    if (name.size() > 4 && name.substr(name.size() - 4) == ".tmp") continue;
    if (name.rfind("step_", 0) == 0 && is_complete_checkpoint(e.path().string())) done.push_back(name);
  }
  if (done.empty()) return std::nullopt;
  std::sort(done.begin(), done.end());
  return (ck / done.back()).string();
}

void remove_partial_checkpoints(const std::string& run_dir) {
  const fs::path ck = fs::path(run_dir) / "ckpt";
  if (!fs::is_directory(ck)) return;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(ck)) {
    const std::string name = e.path().filename().string();
    if (name.size() > 4 && name.substr(name.size() - 4) == ".tmp") fs::remove_all(e.path(), ec);
  }
}

std::string resolve_checkpoint(const std::string& run_dir, const std::string& which) {
  if (!fs::is_directory(run_dir))
    throw CheckpointError("run directory '" + run_dir + "' does not exist", "pass the --run-dir of a `latdyn train` run");
  std::string dir;
  if (which == "latest") {
    auto l = latest_checkpoint(run_dir);
    if (!l) throw CheckpointError("run '" + run_dir + "' has no complete checkpoint", "train it first, or resume it with --resume");
    dir = *l;
  } else if (which == "best") {
    dir = (fs::path(run_dir) / "ckpt" / "best").string();
    if (!is_complete_checkpoint(dir))
      throw CheckpointError("run '" + run_dir + "' has no best checkpoint (written at validations of the final curriculum phase)",
                            "use --ckpt latest");
  } else {
    int64_t step = -1;
    try {
      step = std::stoll(which);
    } catch (...) {
      throw CheckpointError("bad --ckpt '" + which + "'", "use latest, best or a step number");
    }
    dir = (fs::path(run_dir) / "ckpt" / step_dir_name(step)).string();
    if (!is_complete_checkpoint(dir)) throw CheckpointError("no complete checkpoint at step " + which + " in '" + run_dir + "'", "list ckpt/ to see the kept steps");
  }
  return dir;
}

void prune_checkpoints(const std::string& run_dir, int64_t keep_last) {
  const fs::path ck = fs::path(run_dir) / "ckpt";
  std::vector<fs::path> steps;
  for (const auto& e : fs::directory_iterator(ck)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("step_", 0) == 0 && name.find(".tmp") == std::string::npos) steps.push_back(e.path());
  }
  std::sort(steps.begin(), steps.end());
  std::error_code ec;
  for (size_t i = 0; i + static_cast<size_t>(std::max<int64_t>(keep_last, 1)) < steps.size(); ++i) fs::remove_all(steps[i], ec);
}

}  // namespace latdyn::train
