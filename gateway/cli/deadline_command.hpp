// `vkhid deadline --kind KIND --received ISO8601 [--calendar FILE] [--martial-law on|off]`: one legal
// deadline as a JSON object (kind, received, due, due_date, rule); exit 2 on a bad kind or date.
#pragma once

#include <CLI/CLI.hpp>

namespace vkhid::cli {

void addDeadlineCommand(CLI::App& app, int& exit_code);

}  // namespace vkhid::cli
