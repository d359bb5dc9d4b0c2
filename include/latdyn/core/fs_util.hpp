// SPDX-License-Identifier: MIT
// Small file-system helpers: atomic text writes, whole-file reads, writable-directory checks.
#pragma once
#include <string>

namespace latdyn {
/// Writes `text` to PATH.tmp, flushes, renames to PATH (IoError naming the path on failure).
void write_text_atomic(const std::string& path, const std::string& text);
/// Reads a whole text file (IoError if missing).
std::string read_text(const std::string& path);
/// Creates the directory (and parents) and checks that a file can be created in it; IoError with a hint otherwise.
void ensure_writable_dir(const std::string& dir);
/// Appends one line to a file (creating it), flushing immediately.
void append_line(const std::string& path, const std::string& line);
}  // namespace latdyn
