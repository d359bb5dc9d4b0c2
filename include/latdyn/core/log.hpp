// SPDX-License-Identifier: MIT
// Log sink (design.md §3): the library never writes to stdout; messages go through a replaceable sink.
#pragma once
#include <functional>
#include <string>

namespace latdyn::log {

enum class Level { kInfo, kWarn, kError };
using Sink = std::function<void(Level, const std::string&)>;

/// Replaces the sink; returns the previous one. The default sink writes "[latdyn] ..." to stderr.
Sink set_sink(Sink sink);
void info(const std::string& msg);
void warn(const std::string& msg);
void error(const std::string& msg);

}  // namespace latdyn::log
