// SPDX-License-Identifier: MIT
// Atomic writes and directory checks used by run directories and checkpoints.
#include "latdyn/core/fs_util.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "latdyn/core/error.hpp"

namespace latdyn {
namespace fs = std::filesystem;

void write_text_atomic(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw IoError("cannot write '" + tmp + "'", "check that the directory exists and is writable");
    out << text;
    out.flush();
    if (!out) throw IoError("write to '" + tmp + "' failed", "is the disk full?");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw IoError("cannot rename '" + tmp + "' to '" + path + "': " + ec.message(), "check permissions");
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot read '" + path + "'", "check the path");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void ensure_writable_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw IoError("cannot create directory '" + dir + "'" + (ec ? ": " + ec.message() : std::string()),
                  "choose a writable location with --run-dir / --out");
  const std::string probe = (fs::path(dir) / ".latdyn_write_probe").string();
  std::ofstream out(probe);
  if (!out) throw IoError("directory '" + dir + "' is not writable", "choose a writable location or fix its permissions");
  out.close();
  fs::remove(probe, ec);
}

void append_line(const std::string& path, const std::string& line) {
  std::ofstream out(path, std::ios::app);
  if (!out) throw IoError("cannot append to '" + path + "'", "check that the run directory is writable");
  out << line << '\n';
  out.flush();
}

}  // namespace latdyn
