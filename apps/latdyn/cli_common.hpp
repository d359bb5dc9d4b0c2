// SPDX-License-Identifier: MIT
// Shared CLI helpers: config loading with --set overrides, list parsing, git describe.
#pragma once
#include <string>
#include <vector>

#include "latdyn/core/config_reader.hpp"

namespace latdyn::cli {

/// Reads a JSON config (comments allowed) and applies each "section.key=value" override in order.
json load_config(const std::string& path, const std::vector<std::string>& sets,
                 const std::vector<std::string>& sections = {"data", "model", "trainer", "eval", "init"});
/// "1,2.5,3" -> {1, 2.5, 3}; ConfigError naming `flag` on bad numbers.
std::vector<double> parse_doubles(const std::string& text, const std::string& flag);
std::vector<int64_t> parse_ints(const std::string& text, const std::string& flag);
/// "start:stop:step" -> start, start+step, ... <= stop (+1e-9 tolerance).
std::vector<double> parse_range(const std::string& text, const std::string& flag);
/// `git describe --always --dirty` of the working directory, or "" when unavailable.
std::string git_describe();
/// Creates the parent directory of an output file (IoError with a hint when it cannot), before any work is done.
void prepare_output_file(const std::string& path);

}  // namespace latdyn::cli
