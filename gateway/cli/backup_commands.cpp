// `vkhid backup --to DIR` and `vkhid restore --from DIR` (docs/operations.md, "Back up and restore").
#include <cstdio>
#include <fstream>

#include "gateway/app/config.hpp"
#include "gateway/cli/admin_commands.hpp"
#include "gateway/flows/backup.hpp"
#include "gateway/flows/participants.hpp"
#include "gateway/store/at_rest.hpp"

namespace vkhid::cli {
namespace {

struct BackupOptions {
  std::string to, known;
  flows::RestorePlan plan{{}, {}, "postgres", {}, {}};
  bool finish = false;
};

int complain(const char* command, const std::string& what) {
  std::fprintf(stderr, "vkhid %s: %s\n", command, what.c_str());
  return 2;
}

int backup(const BackupOptions& o, const std::string& config_path) {
  std::optional<std::string> path;
  if (!config_path.empty()) path = config_path;
  auto config = app::loadConfig(path, app::processEnvironment());
  if (!config) return complain("backup", config.error().message);
  auto db = adminDatabase(config_path);
  if (!db) return complain("backup", db.error().message);
  // The evidence since the last backup holds the packages, sealed at rest: opened with the master key.
  if (auto keys = store::loadAtRest(*config, *db); !keys) return complain("backup", keys.error().message);
  if (auto s = flows::setActor(*db, cliActor()); !s) return complain("backup", s.error().message);
  auto done = flows::takeBackup(*db, *config, o.to);
  if (!done) return complain("backup", done.error().message);
  std::printf("%s\n", done->c_str());
  return 0;
}

// Without --finish: the data folder laid out (no server yet). With it: the started server finished
// and checked; exit 3 when known cases are lost since the backup.
int restore(const BackupOptions& o, const std::string& config_path) {
  if (!o.finish) {
    if (o.plan.pgdata.empty()) return complain("restore", "--pgdata: required (or --finish once the server runs)");
    auto done = flows::prepareRestore(o.plan);
    if (!done) return complain("restore", done.error().message);
    std::printf("%s\n", done->c_str());
    return 0;
  }
  std::vector<std::string> known;
  if (!o.known.empty()) {
    std::ifstream in(o.known);
    if (!in) return complain("restore", "--known " + o.known + ": cannot be read");
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty() && line[0] != '#') known.push_back(line);
    }
  }
  std::optional<std::string> path;
  if (!config_path.empty()) path = config_path;
  auto config = app::loadConfig(path, app::processEnvironment());
  if (!config) return complain("restore", config.error().message);
  // Not migrated here: the server may still be recovering. The gateway migrates when it starts.
  auto db =
      store::PgConnection::connect({config->database.url, config->database.connect_timeout_s, 0, "vkhid-restore"});
  if (!db) return complain("restore", db.error().message);
  auto report = flows::finishRestore(*db, *config, o.plan.from, known);
  if (!report) return complain("restore", report.error().message);
  for (const auto& line : report->lines) std::printf("%s\n", line.c_str());
  if (!known.empty()) {
    std::printf("lost since the backup: %zu of %zu known cases\n", report->lost.size(), known.size());
    for (const auto& id : report->lost) std::printf("  lost-since-backup %s\n", id.c_str());
  }
  return report->lost.empty() ? 0 : 3;
}

}  // namespace

void addBackupCommands(CLI::App& app, int& exit_code, std::string& config_path) {
  auto o = std::make_shared<BackupOptions>();
  auto* b = app.add_subcommand("backup", "A base backup of PostgreSQL, the broker's definitions and the evidence");
  b->add_option("--to", o->to, "a new folder for the backup")->required();
  b->add_option("--config", config_path, "gateway configuration");
  b->callback([o, &exit_code, &config_path] { exit_code = backup(*o, config_path); });
  auto* r = app.add_subcommand("restore", "Lay a backup out for an empty PostgreSQL, then --finish on the server");
  r->add_option("--from", o->plan.from, "the backup's folder")->required();
  r->add_option("--pgdata", o->plan.pgdata, "PostgreSQL's new data folder (absent or empty)");
  r->add_option("--pg-user", o->plan.pg_user, "the data folder's owner when run as root (default postgres)");
  r->add_option("--wal-archive", o->plan.wal_archive, "replay this WAL archive (to its end, or --until)");
  r->add_option("--until", o->plan.until, "with --wal-archive: recover to this instant (ISO 8601)");
  r->add_flag("--finish", o->finish, "on the started server: import the broker's definitions and report");
  r->add_option("--known", o->known, "with --finish: case ids or tracking codes the channel kept, one a line");
  r->add_option("--config", config_path, "gateway configuration");
  r->callback([o, &exit_code, &config_path] { exit_code = restore(*o, config_path); });
}

}  // namespace vkhid::cli
