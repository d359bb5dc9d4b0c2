// SPDX-License-Identifier: MIT
// Default stderr log sink and its replacement hook.
#include "latdyn/core/log.hpp"

#include <iostream>
#include <mutex>

namespace latdyn::log {
namespace {
std::mutex g_mutex;
void default_sink(Level level, const std::string& msg) {
  const char* tag = level == Level::kInfo ? "" : level == Level::kWarn ? "warning: " : "error: ";
  std::cerr << "[latdyn] " << tag << msg << std::endl;
}
Sink& sink() {
  static Sink s = default_sink;
  return s;
}
void emit(Level level, const std::string& msg) {
  std::lock_guard<std::mutex> lock(g_mutex);
  sink()(level, msg);
}
}  // namespace

Sink set_sink(Sink s) {
  std::lock_guard<std::mutex> lock(g_mutex);
  Sink old = sink();
  sink() = s ? std::move(s) : Sink(default_sink);
  return old;
}
void info(const std::string& msg) { emit(Level::kInfo, msg); }
void warn(const std::string& msg) { emit(Level::kWarn, msg); }
void error(const std::string& msg) { emit(Level::kError, msg); }

}  // namespace latdyn::log
