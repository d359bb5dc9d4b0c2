// SPDX-License-Identifier: MIT
// Shared by the CLI test files: run the latdyn binary built beside the tests (LATDYN_BINARY) with arguments.
#pragma once
#include <string>

#include "support.hpp"

namespace latdyn::test {

struct CliResult {
  int code;         // exit status
  std::string out;  // stdout and stderr together
};
/// Runs `latdyn ARGS` through the shell and captures its output.
inline CliResult latdyn_cmd(const std::string& args) {
  CliResult r;
  r.code = run_command(std::string(LATDYN_BINARY) + " " + args, &r.out);
  return r;
}

}  // namespace latdyn::test
