// SPDX-License-Identifier: MIT
// NumPy .npy reader/writer (format versions 1.0, 2.0, 3.0) for little-endian C-order arrays.
#pragma once
#include <string>

#include "latdyn/data/array.hpp"

namespace latdyn::data {

/// Reads a .npy file with descr '<f4', '<f8', '<i4', '<i8' or '|u1' in C order.
/// Throws DataError for a missing, malformed or truncated file or an unsupported dtype/layout.
Array read_npy(const std::string& path);

/// Writes `a` as a version 1.0 .npy (2.0 if the header needs it); IoError if the file cannot be written.
void write_npy(const std::string& path, const Array& a);

}  // namespace latdyn::data
