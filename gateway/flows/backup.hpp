// Backup and restore (issue 28, docs/operations.md "Back up and restore"): a consistent base backup of
// PostgreSQL (pg_basebackup), the broker's definitions of the gateway's virtual host, and the evidence
// since the last backup, under one manifest of digests; and the way back onto empty servers, with or
// without the WAL archive, reporting what the backup cannot hold.
#pragma once

#include <string>
#include <vector>

#include "gateway/app/config.hpp"
#include "gateway/domain/error.hpp"
#include "gateway/store/pg.hpp"

namespace vkhid::flows {

// `vkhid backup --to DIR`: DIR must not exist or be empty. Writes postgresql/ (base.tar.gz,
// pg_wal.tar.gz, backup_manifest), broker-definitions.json, evidence/ (a bundle from the last backup's
// start on) and manifest.json (format vkhid-backup-1: the label, when, the WAL range, each file's
// SHA-256). Records the backup (table backup_run, evidence entry backup.taken). One-line summary.
Result<std::string> takeBackup(store::PgConnection& db, const app::Config& config, const std::string& dir);

struct RestorePlan {
  std::string from;         // a backup's folder
  std::string pgdata;       // PostgreSQL's new data folder: absent or empty
  std::string pg_user;      // when run as root: the data folder is given to this user (the server's)
  std::string wal_archive;  // the archive to replay to its end (empty: the backup's point)
  std::string until;        // with wal_archive: stop at this instant (recovery_target_time)
};
// `vkhid restore --from DIR --pgdata PATH`: checks every file against the manifest, then lays the
// base backup out in the data folder (with recovery from the archive when given). The server is
// started on it by the operator; then finishRestore. Says what was done and what comes next.
Result<std::string> prepareRestore(const RestorePlan& plan);

struct RestoreReport {
  std::vector<std::string> lines;  // what was restored, for the operator
  std::vector<std::string> lost;   // known cases the restored database does not hold
};
// `vkhid restore --from DIR --finish`: on the started server, once its recovery has ended: imports the
// broker's definitions, counts what the database holds against the backup's point, and names each of
// `known` (case ids or tracking codes the channel kept) that it does not hold: lost since the backup.
// Records the restore (evidence entry backup.restored).
Result<RestoreReport> finishRestore(store::PgConnection& db, const app::Config& config, const std::string& from,
                                    const std::vector<std::string>& known);

// The broker definitions (rabbitmqctl export_definitions) reduced to one virtual host: the host, the
// users with permissions on it and theirs, and its queues, exchanges, bindings, policies and parameters.
Result<std::string> definitionsOfVhost(const std::string& definitions_json, const std::string& vhost);

}  // namespace vkhid::flows
