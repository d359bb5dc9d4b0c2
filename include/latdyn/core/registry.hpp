// SPDX-License-Identifier: MIT
// Registry<T>: lower-case name -> factory + one-line description (design.md §3 "Registries").
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "latdyn/core/config_reader.hpp"
#include "latdyn/core/error.hpp"

namespace latdyn {

/// Maps names to factories `Ptr(const json& options)`. Duplicate names and unknown names throw ConfigError.
template <typename Ptr>
class Registry final {
 public:
  using Factory = std::function<Ptr(const json&)>;
  struct Entry { std::string name, description; Factory factory; };

  explicit Registry(std::string kind) : kind_(std::move(kind)) {}
  void add(const std::string& name, const std::string& description, Factory factory) {
    if (entries_.count(name)) throw ConfigError(kind_ + " '" + name + "' is registered twice", "rename one of them");
    entries_[name] = Entry{name, description, std::move(factory)};
  }
  bool contains(const std::string& name) const { return entries_.count(name) > 0; }
  const Entry& at(const std::string& name) const {
    auto it = entries_.find(name);
    if (it == entries_.end()) {
      std::string near = closest_name(name, names());
      std::string hint = (near.empty() ? std::string() : "did you mean '" + near + "'? ") + "known " + kind_ + "s: ";
      auto all = names();
      for (size_t i = 0; i < all.size(); ++i) hint += (i ? ", " : "") + all[i];
      throw ConfigError("unknown " + kind_ + " '" + name + "'", hint + " (see `latdyn info`)");
    }
    return it->second;
  }
  /// Builds from options whose "type" names the entry.
  Ptr create(const json& options) const {
    if (!options.is_object() || !options.contains("type") || !options.at("type").is_string())
      throw ConfigError(kind_ + " options need a \"type\" string", "e.g. {\"type\": \"" +
                                                                      (entries_.empty() ? std::string("...") : entries_.begin()->first) + "\"}");
    return at(options.at("type").get<std::string>()).factory(options);
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& kv : entries_) out.push_back(kv.first);
    return out;
  }
  std::vector<Entry> entries() const {
    std::vector<Entry> out;
    for (const auto& kv : entries_) out.push_back(kv.second);
    return out;
  }
  const std::string& kind() const { return kind_; }

 private:
  std::string kind_;
  std::map<std::string, Entry> entries_;
};

}  // namespace latdyn
