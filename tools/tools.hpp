// Test equipment, apart from the product (tools/): the simulators of the outside parties — a
// participant's EDMS, the SEV OVV 2.0 hub, a time-stamp authority — the SEV certification driver and the
// load benchmark. Reached as `vkhid sim …`, `vkhid sev certify` and `vkhid bench`; the product's own code
// (gateway/) never includes them.
#pragma once

#include <CLI/CLI.hpp>

namespace vkhid::tools {

// `vkhid sim participant`: a reference EDMS of a participant, for tests, the demo and the benchmark.
void addSimCommands(CLI::App& app, int& exit_code);
// `vkhid sim tsa`, under the `sim` command.
void addSimTsaCommand(CLI::App& sim, int& exit_code);
// `vkhid sim sms`: an SMS provider that records what it gets.
void addSimSmsCommand(CLI::App& sim, int& exit_code);
// `vkhid sim hub`, under the `sim` command.
void addSimHubCommand(CLI::App& sim, int& exit_code);
// `vkhid sim oidc`: a national ID provider (tools/sim_oidc.cpp).
void addSimOidcCommand(CLI::App& sim, int& exit_code);
// `vkhid sev certify`: the SEV OVV 2.0 certification exchange through a hub (tools/sev_certify.cpp).
void addSevCommands(CLI::App& app, int& exit_code);
// `vkhid bench`: the load benchmark (tools/bench_command.cpp).
void addBenchCommand(CLI::App& app, int& exit_code);

}  // namespace vkhid::tools
