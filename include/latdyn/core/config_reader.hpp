// SPDX-License-Identifier: MIT
// Strict JSON section reader (design.md §3 "Unknown keys are errors"): every key must be consumed, typos get a hint.
#pragma once
#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

namespace latdyn {

using json = nlohmann::json;

/// Levenshtein-closest candidate within distance 3 (or "" if none); used for did-you-mean hints.
std::string closest_name(const std::string& name, const std::vector<std::string>& candidates);

/// Parses JSON text that may contain // and /* */ comments; `origin` names the file in errors (ConfigError).
json parse_json_text(const std::string& text, const std::string& origin);
/// Reads and parses a JSON file (ConfigError naming the file on a missing file or a syntax error).
json read_json_file(const std::string& path);

/// Reads typed values from one JSON object and rejects unread keys on finish().
/// `where` names the section in messages, e.g. "model (ladid)".
class ConfigReader final {
 public:
  ConfigReader(const json& obj, std::string where);
  /// Value of `key` or `fallback` when absent. Throws ConfigError on a type mismatch.
  template <typename T>
  T get(const std::string& key, const T& fallback) {
    known_.insert(key);
    if (!obj_.contains(key) || obj_.at(key).is_null()) return fallback;
    return convert<T>(key);
  }
  /// Value of a key that must be present.
  template <typename T>
  T require(const std::string& key) {
    known_.insert(key);
    if (!obj_.contains(key))
      throw_error("missing required key '" + key + "' in " + where_, "add \"" + key + "\": <value> to the section");
    return convert<T>(key);
  }
  /// Sub-object (or empty object when absent).
  json object(const std::string& key);
  /// Marks a key as known without reading it (e.g. consumed elsewhere).
  void accept(const std::string& key) { known_.insert(key); }
  /// Throws ConfigError (with a did-you-mean hint and the list) unless `value` of `key` is one of `ok`.
  void check_choice(const std::string& key, const std::string& value, const std::vector<std::string>& ok) const;
  /// Throws ConfigError on any key that was not read, with a did-you-mean hint.
  void finish() const;
  const std::string& where() const { return where_; }
  [[noreturn]] void throw_error(const std::string& message, const std::string& hint) const;

 private:
  template <typename T>
  T convert(const std::string& key) {
    const json& v = obj_.at(key);
    try {
      if constexpr (std::is_same_v<T, bool>) {
        if (!v.is_boolean()) throw json::type_error::create(302, "expected true or false", nullptr);
      } else if constexpr (std::is_integral_v<T>) {
        if (!v.is_number_integer()) throw json::type_error::create(302, "expected an integer", nullptr);
      } else if constexpr (std::is_floating_point_v<T>) {
        if (!v.is_number()) throw json::type_error::create(302, "expected a number", nullptr);
      } else if constexpr (std::is_same_v<T, std::string>) {
        if (!v.is_string()) throw json::type_error::create(302, "expected a string", nullptr);
      }
      return v.get<T>();
    } catch (const json::exception& e) {
      throw_error("bad value for '" + key + "' in " + where_ + ": " + v.dump() + " (" + type_name<T>() + " expected)",
                  "fix the value in the config file or via --set");
    }
  }
  template <typename T>
  static std::string type_name() {
    if constexpr (std::is_same_v<T, bool>) return "boolean";
    else if constexpr (std::is_integral_v<T>) return "integer";
    else if constexpr (std::is_floating_point_v<T>) return "number";
    else if constexpr (std::is_same_v<T, std::string>) return "string";
    else return "array or object";
  }
  json obj_;
  std::string where_;
  std::set<std::string> known_;
};

/// Applies "a.b.c=value" overrides (value parsed as JSON, else taken as a string). Unknown top-level sections
/// are rejected; deeper unknown keys are caught later by the section readers.
void apply_override(json& config, const std::string& assignment,
                    const std::vector<std::string>& sections = {"data", "model", "trainer", "eval"});

}  // namespace latdyn
