// SPDX-License-Identifier: MIT
// Encoder/decoder builders shared by DynAE and its baselines (dynae.md §4), and the small prior MLPs (§4.3).
// Default LibTorch initialisation, float32, no normalisation layers.
#pragma once
#include <torch/nn/modules/container/sequential.h>

#include <string>
#include <vector>

namespace latdyn::nn {

/// Which network family to build: fully connected for vectors, convolutional for 64x64 images.
struct AeNetSpec {
  std::string kind;                 ///< "fc" | "conv" (encoder) ; "fc" | "deconv" (decoder)
  std::vector<int64_t> frame_shape; ///< {D} for fc, {C, 64, 64} for conv
  int64_t width = 32;               ///< n1 (encoder) or n2 (decoder)
  int64_t latent_dim = 2;
  int64_t out_mult = 1;             ///< encoder outputs out_mult * latent_dim (2 for mean + log-variance)
};

/// fc:   Linear(D->n1) ReLU [Linear(n1->n1) ReLU]x2 Linear(n1->out)                                   [M, D] -> [M, out]
/// conv: 4x Conv(k4,s2,p1) ReLU (C->32->32->64->64), Conv(64->n1/16,k1) ReLU, flatten, Linear(n1->out)  [M,C,64,64] -> [M,out]
torch::nn::Sequential make_encoder(const AeNetSpec& s);
/// fc:     Linear(d->n2) ReLU [Linear(n2->n2) ReLU]x2 Linear(n2->D)                       [M, d] -> [M, D]
/// deconv: Linear(d->n2) ReLU Linear(n2->1024) ReLU, reshape (64,4,4), 4x ConvT(k4,s2,p1)  [M, d] -> [M, C, 64, 64]
torch::nn::Sequential make_decoder(const AeNetSpec& s);
/// Linear(in->width) Tanh Linear(width->width) Tanh Linear(width->out): force, log-diffusion and potential nets.
torch::nn::Sequential make_tanh_mlp(int64_t in, int64_t width, int64_t out);
/// Throws ConfigError naming `where` when the spec cannot be built (unknown kind, image not 64x64, width % 16).
void check_ae_spec(const AeNetSpec& s, const std::string& where);

}  // namespace latdyn::nn
