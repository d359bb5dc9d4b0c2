// SPDX-License-Identifier: MIT
// Shared test main: fixed thread count, a log sink that fails the running test on any unexpected warning.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <atomic>
#include <cstdlib>

#include "latdyn/core/log.hpp"

namespace latdyn::test {
extern std::atomic<int> g_allow;
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  torch::set_num_threads(2);
  latdyn::log::set_sink([](latdyn::log::Level level, const std::string& msg) {
    if (level != latdyn::log::Level::kInfo && latdyn::test::g_allow.load() == 0)
      ADD_FAILURE() << "unexpected library warning/error: " << msg;
    if (std::getenv("LATDYN_TEST_VERBOSE")) fprintf(stderr, "[latdyn] %s\n", msg.c_str());
  });
  return RUN_ALL_TESTS();
}
