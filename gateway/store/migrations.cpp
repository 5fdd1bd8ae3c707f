#include "gateway/store/migrations.hpp"

#include <chrono>
#include <thread>

#include "gateway/app/digest.hpp"
#include "gateway/app/logging.hpp"

namespace vkhid::store {
namespace {

// An arbitrary constant that names "vkhid schema migrations" among advisory locks.
constexpr const char* kLockKey = "7627016475091505153";

class AdvisoryLock {
 public:
  explicit AdvisoryLock(PgConnection& db) : db_(db) {}
  ~AdvisoryLock() {
    if (held_) (void)db_.exec(std::string("SELECT pg_advisory_unlock(") + kLockKey + ")", {});
  }
  Status acquire(int wait_s) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_s);
    for (;;) {
      auto r = db_.exec(std::string("SELECT pg_try_advisory_lock(") + kLockKey + ")", {});
      if (!r) return r.error();
      if (r->get(0, 0) == "t") {
        held_ = true;
        return {};
      }
      if (std::chrono::steady_clock::now() > deadline) {
        return Error{ErrorKind::Timeout, "db.migration_lock",
                     "database: another process holds the migration lock for over " + std::to_string(wait_s) + " s"};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

 private:
  PgConnection& db_;
  bool held_ = false;
};

}  // namespace

int latestVersion(const std::vector<Migration>& migrations) {
  return migrations.empty() ? 0 : migrations.back().version;
}

Result<int> appliedVersion(PgConnection& db) {
  auto r = db.exec(
      "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN 0 "
      "ELSE (SELECT coalesce(max(version), 0) FROM schema_migrations) END",
      {});
  if (!r) return r.error();
  return static_cast<int>(r->getInt(0, 0));
}

Result<MigrationReport> migrate(PgConnection& db, const std::vector<Migration>& migrations, int lock_wait_s) {
  AdvisoryLock lock(db);
  if (auto s = lock.acquire(lock_wait_s); !s) return s.error();

  if (auto r = db.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                       " version integer PRIMARY KEY,"
                       " name text NOT NULL,"
                       " sha256 text NOT NULL,"
                       " applied_at timestamptz NOT NULL DEFAULT now())");
      !r) {
    return r.error();
  }
  auto applied = db.exec("SELECT version, name, sha256 FROM schema_migrations ORDER BY version", {});
  if (!applied) return applied.error();

  MigrationReport report;
  for (int i = 0; i < applied->rows(); ++i) {
    int version = static_cast<int>(applied->getInt(i, 0));
    report.current_version = version;
    const Migration* known = nullptr;
    for (const auto& m : migrations) {
      if (m.version == version) known = &m;
    }
    if (known == nullptr) {
      return Error::invalid("db.schema_newer", "database: schema version " + std::to_string(version) +
                                                   " is not known to this binary (a newer gateway migrated it)");
    }
    if (applied->get(i, 2) != app::sha256Hex(known->sql)) {
      return Error::invalid(
          "db.migration_changed",
          "database: migration " + known->name + " was changed after it was applied; add a new migration instead");
    }
  }

  for (const auto& m : migrations) {
    if (m.version <= report.current_version) continue;
    if (auto s = db.begin(); !s) return s.error();
    // Migrations may rewrite large tables: no statement timeout inside them.
    auto run = db.exec("SET LOCAL statement_timeout = 0");
    if (run) run = db.exec(m.sql);
    if (run) {
      run = db.exec("INSERT INTO schema_migrations (version, name, sha256) VALUES ($1, $2, $3)",
                    {std::to_string(m.version), m.name, app::sha256Hex(m.sql)});
    }
    if (!run) {
      (void)db.rollback();
      auto e = run.error();
      e.message = "migration " + m.name + ": " + e.message;
      return e;
    }
    if (auto s = db.commit(); !s) return s.error();
    log::info("migration applied", {{"version", m.version}, {"name", m.name}});
    report.applied_now++;
    report.current_version = m.version;
  }
  return report;
}

}  // namespace vkhid::store
