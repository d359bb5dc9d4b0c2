// SPDX-License-Identifier: MIT
// Conversion between data::Array (file exchange type) and ATen tensors (copies, CPU, contiguous).
#pragma once
#include <ATen/ATen.h>

#include "latdyn/data/array.hpp"

namespace latdyn::data {
/// Copies a CPU tensor of dtype float32/float64/int32/int64/uint8 into an Array.
Array to_array(const at::Tensor& t);
/// Copies an Array into a new CPU tensor of the matching dtype.
at::Tensor from_array(const Array& a);
}  // namespace latdyn::data
