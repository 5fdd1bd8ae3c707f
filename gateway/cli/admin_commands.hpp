// `vkhid participant add`, `vkhid route add`, `vkhid token issue`, `vkhid message replay`: the
// administration the exchange core needs (the onboarding issue grows `participant` into the full
// lifecycle).
#pragma once

#include <CLI/CLI.hpp>

#include "gateway/store/pg.hpp"

namespace vkhid::cli {

void addAdminCommands(CLI::App& app, int& exit_code, std::string& config_path);

// The database an administrative command works on (the configuration's, migrated), acting for the
// person running it ("admin:cli:<user>" in the evidence log).
Result<store::PgConnection> adminDatabase(const std::string& config_path);
// Who a command acts as in the evidence log: admin:cli:<the operator's user>.
std::string cliActor();
// token issue|rotate|revoke|bind-cert and account add|reset|unlock|list (cli/credential_commands.cpp).
void addCredentialCommands(CLI::App& app, int& exit_code, std::string& config_path);
// `vkhid keys new|list|rotate|reencrypt`: the keys of personal data at rest (cli/key_commands.cpp).
void addKeyCommands(CLI::App& app, int& exit_code, std::string& config_path);

// `vkhid backup` and `vkhid restore` (cli/backup_commands.cpp).
void addBackupCommands(CLI::App& app, int& exit_code, std::string& config_path);

// `vkhid journal export`: the violence reports' journal (docs/violence-journal.md), its read logged.
void addJournalCommand(CLI::App& app, int& exit_code, std::string& config_path);

}  // namespace vkhid::cli
