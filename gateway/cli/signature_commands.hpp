// `vkhid signature verify`, `vkhid crypto selftest`, `vkhid trust show`: qualified signatures, the
// Ukrainian algorithms' known answers and trust lists from the command line.
#pragma once

#include <CLI/CLI.hpp>

namespace vkhid::cli {

// Registers the sub-commands; each sets `exit_code` when it runs.
void addSignatureCommands(CLI::App& app, int& exit_code);

}  // namespace vkhid::cli
