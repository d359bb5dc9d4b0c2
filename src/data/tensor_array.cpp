// SPDX-License-Identifier: MIT
// Array <-> tensor copies.
#include "latdyn/data/tensor_array.hpp"

#include <cstring>

#include "latdyn/core/error.hpp"

namespace latdyn::data {
namespace {
at::ScalarType to_scalar(Dtype d) {
  switch (d) {
    case Dtype::kFloat32: return at::kFloat;
    case Dtype::kFloat64: return at::kDouble;
    case Dtype::kInt32: return at::kInt;
    case Dtype::kInt64: return at::kLong;
    case Dtype::kUInt8: return at::kByte;
  }
  return at::kFloat;
}
Dtype from_scalar(at::ScalarType s) {
  switch (s) {
    case at::kFloat: return Dtype::kFloat32;
    case at::kDouble: return Dtype::kFloat64;
    case at::kInt: return Dtype::kInt32;
    case at::kLong: return Dtype::kInt64;
    case at::kByte: return Dtype::kUInt8;
    case at::kBool: return Dtype::kUInt8;
    default: throw DataError(concat("cannot store tensors of dtype ", s), "convert to float32, float64, int32, int64 or uint8");
  }
}
}  // namespace

Array to_array(const at::Tensor& t) {
  at::Tensor c = t.to(at::kCPU).contiguous();
  if (c.scalar_type() == at::kBool) c = c.to(at::kByte);
  Array a;
  a.dtype = from_scalar(c.scalar_type());
  a.shape = c.sizes().vec();
  a.bytes.resize(c.numel() * c.element_size());
  if (!a.bytes.empty()) std::memcpy(a.bytes.data(), c.data_ptr(), a.bytes.size());
  return a;
}

at::Tensor from_array(const Array& a) {
  at::Tensor t = at::empty(a.shape, at::TensorOptions().dtype(to_scalar(a.dtype)));
  if (!a.bytes.empty()) std::memcpy(t.data_ptr(), a.bytes.data(), a.bytes.size());
  return t;
}

}  // namespace latdyn::data
