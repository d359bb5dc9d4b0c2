// SPDX-License-Identifier: MIT
// latdyn version and file-format versions.
#pragma once

namespace latdyn {
constexpr const char* kVersion = "0.1.0";
/// Major version of the dataset HDF5 layout (docs/formats.md); readers refuse other majors.
constexpr int kDatasetFormatVersion = 1;
/// Version of checkpoint state.json.
constexpr int kCheckpointFormatVersion = 1;
}  // namespace latdyn
