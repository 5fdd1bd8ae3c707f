// `vkhid audit export | verify | prove`: the evidence bundle for auditors (docs/auditor-guide.md).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace vkhid::cli {

void addAuditCommands(CLI::App& app, int& exit_code, std::string& config_path);

}  // namespace vkhid::cli
