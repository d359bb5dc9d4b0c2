// SPDX-License-Identifier: MIT
// `latdyn transfer --config FILE --out DIR [--set k=v ...]`
// Example: latdyn transfer --config configs/transfer_pendulum_length.json --out runs/transfer_pendulum_length
#include "latdyn/cli_common.hpp"
#include "latdyn/commands.hpp"
#include "latdyn/eval/transfer.hpp"

namespace latdyn::cli {

void add_transfer(CLI::App& app, TransferArgs& a) {
  auto* c = app.add_subcommand("transfer", "Transfer protocol (ladid.md §9): fine-tune vs scratch on nested fractions of a "
                                           "changed system, 3 seeds, zero-shot reference; transfer.json, .md and a curve");
  c->footer("Examples:\n  latdyn transfer --config configs/transfer_pendulum_length.json --out runs/transfer_pendulum_length\n"
            "  latdyn transfer --config configs/transfer_pendulum_length.json --out runs/t --set seeds=[0] --set budget.steps=500\n"
            "A killed experiment continues where it stopped when run again with the same --out.");
  c->add_option("--config", a.config, "JSON (sections source, target, fractions, seeds, arms, budget, finetune_curriculum, "
                                      "trainer, eval)")->required();
  c->add_option("--out", a.out, "output directory: one run per arm, fraction and seed, plus the table")->required();
  c->add_option("--set", a.sets, "override key=value in the config (repeatable), e.g. budget.steps=500");
}

int run_transfer(const TransferArgs& a) {
  eval::TransferRequest req;
  req.config = load_config(a.config, a.sets,
                           {"source", "target", "fractions", "seeds", "arms", "budget", "finetune_curriculum", "trainer", "eval"});
  req.out_dir = a.out;
  eval::run_transfer(req);
  return 0;
}

}  // namespace latdyn::cli
