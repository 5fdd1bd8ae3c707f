// `vkhid package inspect|verify|seal|build`: SEV OVV packages from the command line.
#pragma once

#include <CLI/CLI.hpp>

namespace vkhid::cli {

// Registers the sub-commands; each sets `exit_code` when it runs.
void addPackageCommands(CLI::App& app, int& exit_code);

}  // namespace vkhid::cli
