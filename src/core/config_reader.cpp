// SPDX-License-Identifier: MIT
// Strict JSON config reading: comments allowed, unknown keys rejected with did-you-mean hints.
#include "latdyn/core/config_reader.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "latdyn/core/error.hpp"

namespace latdyn {

namespace {
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

std::string closest_name(const std::string& name, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = 4;
  for (const auto& c : candidates) {
    size_t d = edit_distance(name, c);
    if (d < best_d) best_d = d, best = c;
  }
  return best;
}

json parse_json_text(const std::string& text, const std::string& origin) {
  try {
    return json::parse(text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const json::parse_error& e) {
    throw ConfigError("cannot parse JSON in " + origin + ": " + e.what(),
                      "check for a missing comma, quote or bracket near the reported byte");
  }
}

json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot read config file '" + path + "'", "check the path; shipped configs are in configs/");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_json_text(ss.str(), "'" + path + "'");
}

ConfigReader::ConfigReader(const json& obj, std::string where) : obj_(obj), where_(std::move(where)) {
  if (!obj_.is_object()) throw_error(where_ + " must be a JSON object, got " + obj_.dump(), "write it as {\"key\": value, ...}");
}

json ConfigReader::object(const std::string& key) {
  known_.insert(key);
  if (!obj_.contains(key) || obj_.at(key).is_null()) return json::object();
  if (!obj_.at(key).is_object())
    throw_error("'" + key + "' in " + where_ + " must be an object, got " + obj_.at(key).dump(), "use {\"type\": ...}");
  return obj_.at(key);
}

void ConfigReader::finish() const {
  std::vector<std::string> known(known_.begin(), known_.end());
  for (auto it = obj_.begin(); it != obj_.end(); ++it) {
    if (known_.count(it.key())) continue;
    std::string near = closest_name(it.key(), known);
    std::string hint = near.empty() ? "valid keys: " : "did you mean '" + near + "'? valid keys: ";
    for (size_t i = 0; i < known.size(); ++i) hint += (i ? ", " : "") + known[i];
    throw ConfigError("unknown key '" + it.key() + "' in " + where_, hint);
  }
}

void ConfigReader::throw_error(const std::string& message, const std::string& hint) const {
  throw ConfigError(message, hint);
}

void apply_override(json& config, const std::string& assignment, const std::vector<std::string>& sections) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("bad --set '" + assignment + "'", "use --set section.key=value, e.g. --set model.latent_dim=16");
  std::string path = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  json value;
  try {
    value = json::parse(text);
  } catch (const json::parse_error&) {
    value = text;  // bare words are strings: --set model.dyn_act=tanh
  }
  json* node = &config;
  std::stringstream ss(path);
  std::string part;
  std::vector<std::string> parts;
  while (std::getline(ss, part, '.')) parts.push_back(part);
  const bool known = !parts.empty() && std::find(sections.begin(), sections.end(), parts[0]) != sections.end();
  if (parts.size() == 1 && known) {  // a whole top-level value, e.g. --set seeds=[0,1,2]
    config[parts[0]] = value;
    return;
  }
  if (parts.size() < 2)
    throw ConfigError("bad --set key '" + path + "'", "name the section too, e.g. trainer.epochs or model.latent_dim");
  if (!known) {
    std::string near = closest_name(parts[0], sections), list;
    for (size_t i = 0; i < sections.size(); ++i) list += (i ? ", " : "") + sections[i];
    throw ConfigError("unknown config section '" + parts[0] + "' in --set " + path,
                      (near.empty() ? std::string() : "did you mean '" + near + "'? ") + "sections: " + list);
  }
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!node->contains(parts[i])) (*node)[parts[i]] = json::object();
    node = &(*node)[parts[i]];
    if (!node->is_object()) throw ConfigError("--set " + path + ": '" + parts[i] + "' is not an object", "");
  }
  (*node)[parts.back()] = value;
}

void ConfigReader::check_choice(const std::string& key, const std::string& value, const std::vector<std::string>& ok) const {
  if (std::find(ok.begin(), ok.end(), value) != ok.end()) return;
  std::string list, near = closest_name(value, ok);
  for (size_t i = 0; i < ok.size(); ++i) list += (i ? ", " : "") + ok[i];
  throw_error("bad value '" + value + "' for '" + key + "' in " + where_,
              (near.empty() ? std::string() : "did you mean '" + near + "'? ") + "choices: " + list);
}

}  // namespace latdyn
