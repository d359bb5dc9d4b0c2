// SPDX-License-Identifier: MIT
// Explicit RNG streams (design.md §3): every random draw takes a generator derived from the run seed.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <string>

namespace latdyn {

/// Derives a 64-bit seed for stream `stream` at counter `counter` from the run seed (SplitMix64 of both).
/// Rule: seed_of(s, name, c) = splitmix64(splitmix64(s ^ fnv1a(name)) + c). Documented in docs/concepts.md.
uint64_t derive_seed(uint64_t run_seed, const std::string& stream, uint64_t counter = 0);

/// A CPU generator seeded with derive_seed(run_seed, stream, counter).
at::Generator make_generator(uint64_t run_seed, const std::string& stream, uint64_t counter = 0);

/// Uniform double in [0,1) from a 64-bit word (53 random bits).
inline double unit_double(uint64_t x) { return static_cast<double>(x >> 11) * (1.0 / 9007199254740992.0); }

}  // namespace latdyn
