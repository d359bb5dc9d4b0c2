// SPDX-License-Identifier: MIT
// Shared CLI helpers.
#include "latdyn/cli_common.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "latdyn/core/error.hpp"
#include "latdyn/core/fs_util.hpp"

namespace latdyn::cli {

json load_config(const std::string& path, const std::vector<std::string>& sets, const std::vector<std::string>& sections) {
  json cfg = read_json_file(path);
  for (const auto& s : sets) apply_override(cfg, s, sections);
  return cfg;
}

static std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, ',')) {
    part.erase(0, part.find_first_not_of(" \t"));
    part.erase(part.find_last_not_of(" \t") + 1);
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

std::vector<double> parse_doubles(const std::string& text, const std::string& flag) {
  std::vector<double> out;
  for (const auto& p : split_commas(text)) {
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(p, &used);
    } catch (...) {
      used = 0;
    }
    if (used != p.size() || !std::isfinite(v))
      throw ConfigError(flag + ": '" + p + "' is not a finite number", "write numbers separated by commas, e.g. " + flag + " 0.6,0.63");
    out.push_back(v);
  }
  return out;
}

std::vector<int64_t> parse_ints(const std::string& text, const std::string& flag) {
  std::vector<int64_t> out;
  for (const auto& p : split_commas(text)) {
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(p, &used);
    } catch (...) {
      used = 0;
    }
    if (used != p.size()) throw ConfigError(flag + ": '" + p + "' is not an integer", "e.g. " + flag + " 0,1,2");
    out.push_back(v);
  }
  return out;
}

std::vector<double> parse_range(const std::string& text, const std::string& flag) {
  std::vector<double> v;
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, ':')) v.push_back(parse_doubles(part, flag).at(0));
  if (v.size() != 3 || !(v[2] > 0) || v[1] < v[0])
    throw ConfigError(flag + ": '" + text + "' is not start:stop:step with step > 0 and stop >= start", "e.g. " + flag + " 0:3.54:0.03");
  std::vector<double> out;
  for (int64_t k = 0;; ++k) {
    const double t = v[0] + static_cast<double>(k) * v[2];
    if (t > v[1] + 1e-9) break;
    out.push_back(t);
    if (out.size() > 1000000) throw ConfigError(flag + ": more than 1e6 query times", "use a larger step");
  }
  return out;
}

std::string git_describe() {
  FILE* p = popen("git describe --always --dirty 2>/dev/null", "r");
  if (!p) return "";
  char buf[128] = {0};
  std::string out = fgets(buf, sizeof(buf), p) ? buf : "";
  pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

void prepare_output_file(const std::string& path) {
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) ensure_writable_dir(parent.string());
}

}  // namespace latdyn::cli
