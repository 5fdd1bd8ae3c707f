// `vkhid participant add`, `vkhid route add`, `vkhid token issue`, `vkhid message replay`: the
// administration the exchange core needs (the onboarding issue grows `participant` into the full
// lifecycle).
#pragma once

#include <CLI/CLI.hpp>

namespace vkhid::cli {

void addAdminCommands(CLI::App& app, int& exit_code, std::string& config_path);

}  // namespace vkhid::cli
