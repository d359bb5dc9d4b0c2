// SPDX-License-Identifier: MIT
// Networks of dynae.md §4; parameter counts are checked in tests/unit/test_dynae.cpp (§17.1).
#include "latdyn/nn/ae_nets.hpp"

#include <torch/torch.h>

#include "latdyn/core/error.hpp"

namespace latdyn::nn {
namespace tnn = torch::nn;

void check_ae_spec(const AeNetSpec& s, const std::string& where) {
  const bool fc = s.kind == "fc", conv = s.kind == "conv" || s.kind == "deconv";
  if (!fc && !conv) throw ConfigError(where + ": unknown network '" + s.kind + "'", "use \"fc\" (vectors) or \"conv\"/\"deconv\" (64x64 images)");
  if (s.width < 1 || s.latent_dim < 1) throw ConfigError(where + ": widths and latent_dim must be >= 1", "");
  if (fc && s.frame_shape.size() != 1)
    throw ConfigError(where + ": fc networks need vector frames [D], the data has frames " + concat(c10::IntArrayRef(s.frame_shape)),
                      "use \"conv\"/\"deconv\" for images");
  if (conv && (s.frame_shape.size() != 3 || s.frame_shape[1] != 64 || s.frame_shape[2] != 64))
    throw ConfigError(where + ": conv networks need 64x64 image frames [C,64,64], the data has frames " + concat(c10::IntArrayRef(s.frame_shape)),
                      "use \"fc\" for vector data, or simulate/import 64x64 frames");
  if (s.kind == "conv" && s.width % 16 != 0)
    throw ConfigError(where + concat(": conv width n1 = ", s.width, " must be a multiple of 16"), "e.g. 256");
}

tnn::Sequential make_encoder(const AeNetSpec& s) {
  check_ae_spec(s, "encoder");
  const int64_t out = s.latent_dim * s.out_mult;
  tnn::Sequential net;
  if (s.kind == "fc") {
    net->push_back(tnn::Linear(s.frame_shape[0], s.width));
    net->push_back(tnn::ReLU());
    for (int i = 0; i < 2; ++i) {
      net->push_back(tnn::Linear(s.width, s.width));
      net->push_back(tnn::ReLU());
    }
    net->push_back(tnn::Linear(s.width, out));
    return net;
  }
  const int64_t c = s.frame_shape[0];
  const int64_t chans[5] = {c, 32, 32, 64, 64};
  for (int i = 0; i < 4; ++i) {  // 64 -> 32 -> 16 -> 8 -> 4
    net->push_back(tnn::Conv2d(tnn::Conv2dOptions(chans[i], chans[i + 1], 4).stride(2).padding(1)));
    net->push_back(tnn::ReLU());
  }
  net->push_back(tnn::Conv2d(tnn::Conv2dOptions(64, s.width / 16, 1)));
  net->push_back(tnn::ReLU());
  net->push_back(tnn::Flatten());
  net->push_back(tnn::Linear(s.width, out));
  return net;
}

tnn::Sequential make_decoder(const AeNetSpec& s) {
  check_ae_spec(s, "decoder");
  tnn::Sequential net;
  if (s.kind == "fc") {
    net->push_back(tnn::Linear(s.latent_dim, s.width));
    net->push_back(tnn::ReLU());
    for (int i = 0; i < 2; ++i) {
      net->push_back(tnn::Linear(s.width, s.width));
      net->push_back(tnn::ReLU());
    }
    net->push_back(tnn::Linear(s.width, s.frame_shape[0]));
    return net;
  }
  const int64_t c = s.frame_shape[0];
  net->push_back(tnn::Linear(s.latent_dim, s.width));
  net->push_back(tnn::ReLU());
  net->push_back(tnn::Linear(s.width, 1024));
  net->push_back(tnn::ReLU());
  net->push_back(tnn::Unflatten(tnn::UnflattenOptions(1, {64, 4, 4})));
  const int64_t chans[5] = {64, 64, 32, 32, c};
  for (int i = 0; i < 4; ++i) {  // 4 -> 8 -> 16 -> 32 -> 64
    net->push_back(tnn::ConvTranspose2d(tnn::ConvTranspose2dOptions(chans[i], chans[i + 1], 4).stride(2).padding(1)));
    if (i < 3) net->push_back(tnn::ReLU());
  }
  return net;
}

tnn::Sequential make_tanh_mlp(int64_t in, int64_t width, int64_t out) {
  return tnn::Sequential(tnn::Linear(in, width), tnn::Tanh(), tnn::Linear(width, width), tnn::Tanh(),
                         tnn::Linear(width, out));
}

}  // namespace latdyn::nn
