// SPDX-License-Identifier: MIT
// Shared by the CLI test files: run the latdyn binary built beside the tests (LATDYN_BINARY) with arguments.
#pragma once
#include <gtest/gtest.h>

#include <string>
#include <vector>

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

/// Checks a command that must fail cleanly: exit status `code` (2 config, 3 data, 4 checkpoint, 6 diverged,
/// 7 I/O), every needle (the problem and its hint) in the output, and no uncaught exception. `what` labels the case.
inline void expect_cli_error(const CliResult& r, int code, const std::vector<std::string>& needles,
                             const std::string& what = "") {
  EXPECT_EQ(r.code, code) << what << "\n" << r.out;
  for (const std::string& n : needles)
    EXPECT_NE(r.out.find(n), std::string::npos) << what << ": missing '" << n << "' in:\n" << r.out;
  EXPECT_EQ(r.out.find("terminate called"), std::string::npos) << what << "\n" << r.out;
}

}  // namespace latdyn::test
