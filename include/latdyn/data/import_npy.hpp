// SPDX-License-Identifier: MIT
// `latdyn import`: NPY arrays -> a latdyn dataset (observations, times, split, ground truth, provenance).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "latdyn/data/dataset.hpp"

namespace latdyn::data {

struct ImportOptions {
  std::string y_path;                 ///< [N,T,C,H,W], [N,T,H,W] (C = 1 added) or [N,T,D]; float32/64 or uint8 (/255)
  std::string t_path;                 ///< [N,T] or [T] float; empty: t_k = k * dt
  double dt = 1.0;
  std::vector<double> split_fractions = {0.8, 0.1, 0.1};  ///< train, val, test in stored order
  std::string split_path;             ///< optional uint8/int [N] with 0/1/2 (overrides fractions)
  std::map<std::string, std::string> truth;   ///< name -> NPY [N,T,...]
  std::map<std::string, std::string> params;  ///< name -> NPY [N,...]
  std::string normalize = "none";     ///< none | minmax (global min/max of the data -> [0,1], stored in options)
};

/// Builds and validates the dataset; DataError naming the file, the field and the expected form on bad input.
Dataset import_npy(const ImportOptions& o);

}  // namespace latdyn::data
