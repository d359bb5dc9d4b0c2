// SPDX-License-Identifier: MIT
// CLI entry: declares the subcommands, dispatches, and maps error classes to exit codes (the only place that does).
#include <c10/util/Exception.h>

#include <cstdio>
#include <iostream>

#include "latdyn/commands.hpp"
#include "latdyn/core/error.hpp"
#include "latdyn/core/version.hpp"
#include "latdyn/train/trainer.hpp"

namespace latdyn::cli {

int main_entry(int argc, char** argv) {
  CLI::App app{"latdyn: learn latent dynamical models from trajectory data (LaDID, ...)"};
  app.footer("Run `latdyn <command> --help` for the flags of a command. Exit codes: 0 ok, 1 error, 2 config, 3 data,\n"
             "4 checkpoint, 5 device, 6 numerical (training diverged), 7 file system, 8 internal (LibTorch).");
  app.set_version_flag("--version", std::string("latdyn ") + kVersion);
  app.require_subcommand(1);
  SimulateArgs sim;
  ImportArgs imp;
  TrainArgs tr;
  EvalArgs ev;
  PredictArgs pr;
  InfoArgs info;
  EncodeArgs enc;
  CompareArgs cmp;
  FinetuneArgs ft;
  TransferArgs tf;
  add_simulate(app, sim);
  add_import(app, imp);
  add_train(app, tr);
  add_eval(app, ev);
  add_predict(app, pr);
  add_info(app, info);
  add_encode(app, enc);
  add_compare(app, cmp);
  add_finetune(app, ft);
  add_transfer(app, tf);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  train::configure_threads(0);  // all cores by default (LibTorch may default to 1); train --threads overrides
  try {
    if (app.got_subcommand("simulate")) return run_simulate(sim);
    if (app.got_subcommand("import")) return run_import(imp);
    if (app.got_subcommand("train")) return run_train(tr);
    if (app.got_subcommand("eval")) return run_eval(ev);
    if (app.got_subcommand("predict")) return run_predict(pr);
    if (app.got_subcommand("info")) return run_info(info);
    if (app.got_subcommand("encode")) return run_encode(enc);
    if (app.got_subcommand("compare")) return run_compare(cmp);
    if (app.got_subcommand("finetune")) return run_finetune(ft);
    if (app.got_subcommand("transfer")) return run_transfer(tf);
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.exit_code();
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what_without_backtrace());
    return 8;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 1;
}

}  // namespace latdyn::cli
