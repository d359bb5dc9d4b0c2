// SPDX-License-Identifier: MIT
// Subcommands of the latdyn CLI: each is `int run_<name>(const <Name>Args&)` (tests call them in-process) plus
// `add_<name>(app, args)` that declares its flags, help text and example.
#pragma once
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace latdyn::cli {

struct SimulateArgs { std::string simulator, out; std::vector<std::string> options; };
struct ImportArgs {
  std::string y, t, out, split = "0.8,0.1,0.1", split_file, normalize = "none";
  double dt = 1.0;
  std::vector<std::string> truth, params;
  // --molecular (mdtraj HDF5 coordinates; docs/formats.md "Molecular coordinates import")
  std::string molecular, coords_dataset = "coordinates", atoms = "heavy", reference;
  int64_t reference_frame = 0, stride = 1, segment = 0;
  bool standardize = false;
  bool dt_given = false, split_given = false;  ///< set by the parser: --dt / --split were on the command line
};
struct TrainArgs { std::string config, run_dir; std::vector<std::string> sets; bool resume = false; int threads = -1; };
struct EvalArgs {
  std::string run_dir, ckpt, data, split, out;
  int context = -1, horizon = -1;
  bool no_pictures = false;
};
struct PredictArgs {
  std::string run_dir, data, out, ckpt = "best", index = "0", times, times_range;
  bool relative = false;
};
struct EncodeArgs { std::string run_dir, data, npy, out, ckpt = "best"; };
struct InfoArgs { std::string target, get; bool json = false; };
struct CompareArgs { std::string config, out, models; std::vector<std::string> sets; int64_t predict_reps = 10; };
struct FinetuneArgs {
  std::string from, data, run_dir, ckpt = "best", budget = "steps", curriculum = "full";
  double fraction = 1.0;
  int64_t seed = 0, steps = 0;
  bool scratch = false, resume = false;
  std::vector<std::string> sets;
  int threads = -1;
};
struct TransferArgs { std::string config, out; std::vector<std::string> sets; };

void add_simulate(CLI::App& app, SimulateArgs& a);
void add_import(CLI::App& app, ImportArgs& a);
void add_train(CLI::App& app, TrainArgs& a);
void add_eval(CLI::App& app, EvalArgs& a);
void add_predict(CLI::App& app, PredictArgs& a);
void add_info(CLI::App& app, InfoArgs& a);
void add_encode(CLI::App& app, EncodeArgs& a);
void add_compare(CLI::App& app, CompareArgs& a);
void add_finetune(CLI::App& app, FinetuneArgs& a);
void add_transfer(CLI::App& app, TransferArgs& a);

int run_simulate(const SimulateArgs& a);
int run_import(const ImportArgs& a);
int run_train(const TrainArgs& a);
int run_eval(const EvalArgs& a);
int run_predict(const PredictArgs& a);
int run_info(const InfoArgs& a);
int run_encode(const EncodeArgs& a);
int run_compare(const CompareArgs& a);
int run_finetune(const FinetuneArgs& a);
int run_transfer(const TransferArgs& a);

/// Whole CLI: parses argv and dispatches; maps latdyn errors to exit codes and prints "error: ..." to stderr.
int main_entry(int argc, char** argv);

}  // namespace latdyn::cli
