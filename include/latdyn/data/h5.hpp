// SPDX-License-Identifier: MIT
// H5File: a small HDF5 reader/writer on the C API (datasets as data::Array, scalar attributes).
// Writes are deterministic: same content gives byte-identical files.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "latdyn/data/array.hpp"

namespace latdyn::data {

/// One open HDF5 file. Object names are paths like "/truth/theta" or "truth/theta".
/// Missing/corrupt input raises DataError; failures to create or write raise IoError.
class H5File final {
 public:
  enum class Mode { kRead, kCreate, kReadWrite };

  /// Opens `path`; kCreate truncates or creates, kRead/kReadWrite require an existing HDF5 file.
  H5File(const std::string& path, Mode mode);
  ~H5File();
  H5File(const H5File&) = delete;
  H5File& operator=(const H5File&) = delete;
  H5File(H5File&& other) noexcept;
  H5File& operator=(H5File&& other) noexcept;

  /// Path the file was opened with.
  const std::string& path() const { return path_; }

  /// True if the object exists (false if any intermediate group is missing).
  bool exists(const std::string& name) const;
  /// Sorted names of the children of a group ("/" for the root).
  std::vector<std::string> list(const std::string& group) const;
  /// Shape of a dataset (empty for a scalar dataset).
  std::vector<int64_t> shape(const std::string& name) const;
  /// Stored element type of a dataset; DataError for types other than the five Dtypes.
  Dtype dtype(const std::string& name) const;

  /// Reads a whole dataset in its stored type.
  Array read(const std::string& name) const;
  /// Reads rows [first, first + count) along dim 0 in the stored type.
  Array read_rows(const std::string& name, int64_t first, int64_t count) const;
  /// Reads a whole dataset converted by HDF5 to `as` (e.g. float64 on disk to float32).
  Array read_as(const std::string& name, Dtype as) const;

  /// Reads a string dataset (scalar or 1-D; fixed- or variable-length, e.g. mdtraj's `/topology` JSON), one string
  /// per element; DataError if it is missing, not a string dataset, or of rank > 1.
  std::vector<std::string> read_strings(const std::string& name) const;
  /// Writes (or replaces) a 1-D dataset of variable-length UTF-8 strings, creating intermediate groups.
  void write_strings(const std::string& name, const std::vector<std::string>& values);

  /// Writes (or replaces) a dataset, creating intermediate groups. Chunked along dim 0 and
  /// shuffle+deflate compressed when gzip_level > 0 (0..9); contiguous if empty or 0-d.
  void write(const std::string& name, const Array& a, int gzip_level = 4);

  /// Sets (or replaces) a scalar attribute on an object ("/" is the root group).
  void set_attr_string(const std::string& obj, const std::string& key, const std::string& value);
  void set_attr_int(const std::string& obj, const std::string& key, int64_t value);
  void set_attr_uint(const std::string& obj, const std::string& key, uint64_t value);
  void set_attr_double(const std::string& obj, const std::string& key, double value);

  /// True if the object exists and carries attribute `key`.
  bool has_attr(const std::string& obj, const std::string& key) const;
  /// Reads a scalar attribute; fixed- or variable-length strings; DataError if missing or mistyped.
  std::string attr_string(const std::string& obj, const std::string& key) const;
  int64_t attr_int(const std::string& obj, const std::string& key) const;
  uint64_t attr_uint(const std::string& obj, const std::string& key) const;
  double attr_double(const std::string& obj, const std::string& key) const;

  /// Flushes buffered data to disk.
  void flush();

 private:
  void close() noexcept;
  void require_writable(const std::string& what) const;
  void write_attr(const std::string& obj, const std::string& key, int64_t file_type, int64_t mem_type,
                  const void* value);

  std::string path_;
  Mode mode_ = Mode::kRead;
  int64_t file_ = -1;  // hid_t
};

}  // namespace latdyn::data
