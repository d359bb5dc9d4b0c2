// SPDX-License-Identifier: MIT
// latdyn command-line tool.
#include "latdyn/commands.hpp"

int main(int argc, char** argv) { return latdyn::cli::main_entry(argc, argv); }
