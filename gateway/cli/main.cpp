// `vkhid`: the gateway binary and its sub-commands.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>
#include <string>

#include "gateway/app/config.hpp"
#include "gateway/app/logging.hpp"
#include "gateway/cli/admin_commands.hpp"
#include "gateway/cli/audit_commands.hpp"
#include "gateway/cli/deadline_command.hpp"
#include "gateway/cli/package_commands.hpp"
#include "gateway/cli/signature_commands.hpp"
#include "gateway/service/profile.hpp"
#include "gateway/service/service.hpp"
#include "tools/tools.hpp"

namespace {

std::optional<vkhid::app::Config> loadOrComplain(const std::string& path, const char* command) {
  std::optional<std::string> file;
  if (!path.empty()) file = path;
  auto config = vkhid::app::loadConfig(file, vkhid::app::processEnvironment());
  if (!config) {
    std::fprintf(stderr, "vkhid %s: %s\n", command, config.error().message.c_str());
    return std::nullopt;
  }
  return std::move(config).value();
}

}  // namespace

int main(int argc, char** argv) {
  vkhid::log::init("warn", "cli");  // commands log warnings only; serve and migrate set their own level
  CLI::App app{"Vkhid — the single-entry exchange gateway (SEV OVV 1.5)"};
  app.require_subcommand(1);

  std::string config_path;
  auto* serve = app.add_subcommand("serve", "Run the gateway until SIGTERM");
  serve->add_option("--config", config_path, "TOML configuration file (see config/vkhid.toml)");
  std::string profile;
  serve->add_option("--profile", profile, "development or production (default: gateway.profile)")
      ->check(CLI::IsMember({"development", "production"}));
  bool check_only = false;
  serve->add_flag("--check", check_only, "Check the configuration against the profile and exit (0: it would start)");

  auto* migrate = app.add_subcommand("migrate", "Apply the database migrations and exit");
  migrate->add_option("--config", config_path, "TOML configuration file");

  auto* version = app.add_subcommand("version", "Print the version");

  int exit_code = 0;
  vkhid::cli::addPackageCommands(app, exit_code);
  vkhid::cli::addSignatureCommands(app, exit_code);
  vkhid::cli::addAdminCommands(app, exit_code, config_path);
  vkhid::cli::addJournalCommand(app, exit_code, config_path);
  vkhid::tools::addSimCommands(app, exit_code);
  vkhid::tools::addSevCommands(app, exit_code);
  vkhid::tools::addBenchCommand(app, exit_code);
  vkhid::cli::addDeadlineCommand(app, exit_code);
  vkhid::cli::addAuditCommands(app, exit_code, config_path);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;  // bad arguments: exit 2, as documented
  }

  if (version->parsed()) {
    std::printf("vkhid %s\n", VKHID_VERSION);
    return 0;
  }
  if (serve->parsed()) {
    auto config = loadOrComplain(config_path, "serve");
    if (!config) return 2;
    if (!profile.empty()) config->gateway.profile = profile;
    if (config->gateway.profile != "development" && config->gateway.profile != "production") {
      std::fprintf(stderr, "vkhid serve: gateway.profile: expected development or production, got '%s'\n",
                   config->gateway.profile.c_str());
      return 2;
    }
    if (config->gateway.profile == "production") {
      const auto refusals = vkhid::service::productionRefusals(*config);
      for (const auto& r : refusals) {
        std::fprintf(stderr, "vkhid serve: the production profile refuses %s: %s — fix: %s\n", r.key.c_str(),
                     r.problem.c_str(), r.fix.c_str());
      }
      if (!refusals.empty()) return 2;
    }
    if (check_only) {
      std::printf("vkhid serve: the configuration passes the %s profile's checks\n", config->gateway.profile.c_str());
      return 0;
    }
    vkhid::log::init(config->log.level, config->gateway.instance);
    return vkhid::service::runGateway(*config);
  }
  if (migrate->parsed()) {
    auto config = loadOrComplain(config_path, "migrate");
    if (!config) return 2;
    vkhid::log::init(config->log.level, config->gateway.instance);
    return vkhid::service::runMigrations(*config);
  }
  return exit_code;
}
