// SPDX-License-Identifier: MIT
// Dtype and Array: a torch-free dense byte buffer with shape, the exchange type between
// file formats (HDF5, NPY) and tensors.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace latdyn::data {

/// Element types understood by the file layers.
enum class Dtype { kFloat32, kFloat64, kInt32, kInt64, kUInt8 };

/// NumPy-style name: "float32", "float64", "int32", "int64", "uint8".
inline const char* dtype_name(Dtype d) {
  switch (d) {
    case Dtype::kFloat32: return "float32";
    case Dtype::kFloat64: return "float64";
    case Dtype::kInt32: return "int32";
    case Dtype::kInt64: return "int64";
    case Dtype::kUInt8: return "uint8";
  }
  return "unknown";
}

/// Size of one element in bytes.
inline size_t dtype_size(Dtype d) {
  switch (d) {
    case Dtype::kFloat32: case Dtype::kInt32: return 4;
    case Dtype::kFloat64: case Dtype::kInt64: return 8;
    case Dtype::kUInt8: return 1;
  }
  return 0;
}

/// Dense C-order array of raw bytes, the exchange type between file formats and tensors.
struct Array {
  Dtype dtype = Dtype::kFloat32;
  std::vector<int64_t> shape;        ///< empty for a 0-d scalar
  std::vector<unsigned char> bytes;  ///< numel() * dtype_size(dtype) bytes, C order

  /// Product of the shape (1 for a 0-d scalar).
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  /// Typed view of the bytes; T must match dtype.
  template <typename T>
  T* data() { return reinterpret_cast<T*>(bytes.data()); }
  template <typename T>
  const T* data() const { return reinterpret_cast<const T*>(bytes.data()); }

  /// Zero-filled array of the given dtype and shape.
  static Array zeros(Dtype dtype, std::vector<int64_t> shape) {
    Array a;
    a.dtype = dtype;
    a.shape = std::move(shape);
    a.bytes.assign(static_cast<size_t>(a.numel()) * dtype_size(dtype), 0);
    return a;
  }
  /// Shape as text, e.g. "[500, 60, 1, 32, 32]" ("[]" for a scalar).
  std::string shape_str() const {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
  }
};

}  // namespace latdyn::data
