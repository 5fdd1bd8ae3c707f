// Versioned schema migrations: plain .sql files under gateway/store/migrations/, embedded at build
// time, applied in order, each in its own transaction, recorded in schema_migrations.
#pragma once

#include <string>
#include <vector>

#include "gateway/domain/error.hpp"
#include "gateway/store/pg.hpp"

namespace vkhid::store {

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

// The migrations compiled into this binary, ascending by version.
const std::vector<Migration>& embeddedMigrations();

struct MigrationReport {
  int applied_now = 0;      // how many this call applied
  int current_version = 0;  // the schema version after the call
};

// Applies every migration newer than the recorded version. Serialised across processes by an
// advisory lock (waits up to `lock_wait_s`), so gateways starting together do not race; a second
// call is a no-op. Refuses when an applied migration's text no longer matches what it was.
Result<MigrationReport> migrate(PgConnection& db, const std::vector<Migration>& migrations, int lock_wait_s = 60);

// The highest applied version; 0 when nothing was ever applied.
Result<int> appliedVersion(PgConnection& db);

int latestVersion(const std::vector<Migration>& migrations);

}  // namespace vkhid::store
