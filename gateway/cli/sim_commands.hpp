// `vkhid sim participant`: a reference EDMS of a participant, for tests, the demo and the benchmark.
#pragma once

#include <CLI/CLI.hpp>

namespace vkhid::cli {

void addSimCommands(CLI::App& app, int& exit_code);
// `vkhid sim tsa`, under the `sim` command.
void addSimTsaCommand(CLI::App& sim, int& exit_code);
// `vkhid sim hub`, under the `sim` command.
void addSimHubCommand(CLI::App& sim, int& exit_code);
// `vkhid sev certify`: the SEV OVV 2.0 certification exchange through a hub (gateway/cli/sev_certify.cpp).
void addSevCommands(CLI::App& app, int& exit_code);
// `vkhid bench`: the load benchmark (gateway/cli/bench_command.cpp).
void addBenchCommand(CLI::App& app, int& exit_code);

}  // namespace vkhid::cli
