// SPDX-License-Identifier: MIT
// Seed derivation for named RNG streams (SplitMix64; Steele et al. 2014).
#include "latdyn/core/rng.hpp"

#include <ATen/CPUGeneratorImpl.h>

namespace latdyn {
namespace {
uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}
}  // namespace

uint64_t derive_seed(uint64_t run_seed, const std::string& stream, uint64_t counter) {
  return splitmix64(splitmix64(run_seed ^ fnv1a(stream)) + counter);
}

at::Generator make_generator(uint64_t run_seed, const std::string& stream, uint64_t counter) {
  return at::make_generator<at::CPUGeneratorImpl>(derive_seed(run_seed, stream, counter));
}

}  // namespace latdyn
