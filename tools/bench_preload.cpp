// `vkhid bench --preload N` (issue 25, "cost must not grow with the data"): a database that already
// holds N cases of history, generated rather than run through the exchange, before the measured run.
// The history is cloned from template cases that did go through it (each copy with its own ids, codes
// and times, spread back over a year), so every table the exchange writes holds rows of its real shape
// and its indexes their real size: cases, their events, messages (receipts among them), timers and evidence
// entries. What is not copied: the packages' bytes (a copy has its digest and size, no bytes, as an
// erased package — the TOAST volume no query of the exchange scans), the outbox (pruned once sent),
// reads and notices; a copy's timers have all fired, as history's have. Copied evidence entries are
// outside the sealed chain (a seq of their own and a key before its first batch, as entries chained
// before migration 0018 have): the load is for cost, not for `audit verify`.
#include "tools/bench_preload.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace vkhid::tools::bench {
namespace {

// Copies $1…$2 of every template case; `shift` moves a copy's times back by k / copies of a year.
// A copy's ids: md5(template id, k) as a uuid — the same mapping in every table, so references hold.
// Each table's copy is `INSERT INTO table (every column) SELECT …`: a column named in `set` takes that
// expression, every other the template row's (`t`) value as it is — so a column added by a later
// migration is copied without a change here.
struct Copy {
  const char* table;
  const char* from;  // the template rows as `t`, with the copy's number `k`
  std::vector<std::pair<std::string, std::string>> set;
};
const std::vector<Copy>& tableCopies() {
  static const std::vector<Copy> kCopies{
      {"cases",
       "bench_template_cases t, generate_series($1::int, $2::int) k",
       {{"id", "pg_temp.copy_id(t.id, k)"},
        {"ucc_number", "t.ucc_number || '-' || k"},
        {"tracking_code", "t.tracking_code || '-' || k"},
        {"idempotency_key", "t.idempotency_key || '-' || k"},
        // Each copy its own applicant's, as the run's cases are (bench_command.cpp, caseBody).
        {"applicant_key", "encode(sha256(convert_to(t.applicant_key || ':' || k, 'UTF8')), 'hex')"},
        {"answer_msg_id", "pg_temp.copy_id(t.answer_msg_id, k)"},
        {"repeat_of", "NULL"},
        {"merged_into", "NULL"},
        {"received_at", "t.received_at - pg_temp.shift(k, $3)"},
        {"registered_at", "t.registered_at - pg_temp.shift(k, $3)"},
        {"updated_at", "t.updated_at - pg_temp.shift(k, $3)"}}},
      {"message",
       "message t JOIN bench_template_cases c ON c.id = t.case_id, generate_series($1::int, $2::int) k",
       {{"msg_id", "pg_temp.copy_id(t.msg_id, k)"},
        {"case_id", "pg_temp.copy_id(t.case_id, k)"},
        {"ref_msg_id", "pg_temp.copy_id(t.ref_msg_id, k)"},
        {"bytes", "'\\x'"},
        {"created_at", "t.created_at - pg_temp.shift(k, $3)"},
        {"updated_at", "t.updated_at - pg_temp.shift(k, $3)"}}},
      {"case_event",
       "case_event t JOIN bench_template_cases c ON c.id = t.case_id, generate_series($1::int, $2::int) k",
       {{"id", "nextval('case_event_id_seq')"},
        {"case_id", "pg_temp.copy_id(t.case_id, k)"},
        {"at", "t.at - pg_temp.shift(k, $3)"}}},
      {"timer",
       "timer t JOIN bench_template_cases c ON c.id = t.case_id, generate_series($1::int, $2::int) k",
       {{"id", "nextval('timer_id_seq')"},
        {"case_id", "pg_temp.copy_id(t.case_id, k)"},
        {"msg_id", "pg_temp.copy_id(t.msg_id, k)"},
        {"fire_at", "t.fire_at - pg_temp.shift(k, $3)"},
        {"fired_at", "coalesce(t.fired_at, t.fire_at) - pg_temp.shift(k, $3)"},
        {"outcome", "coalesce(t.outcome, 'moot')"}}},
      {"audit_entry",
       "(SELECT e.*, k, nextval('audit_entry_id_seq') AS nid FROM bench_template_entries e, "
       "generate_series($1::int, $2::int) k) t",
       // Before the chain's first batch by its key (xid, id), as entries chained before migration 0018 are:
       // the sealer's reads from its tail on never meet them.
       {{"id", "t.nid"}, {"xid", "'1'::xid8"}, {"seq", "-t.nid"}, {"at", "t.at - pg_temp.shift(t.k, $3)"}}},
  };
  return kCopies;
}

// The statement that copies one table, from its columns as the database has them.
Result<std::string> copyStatement(store::PgConnection& db, const Copy& copy) {
  auto columns = db.exec(
      "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped "
      "AND attgenerated = '' ORDER BY attnum",
      {copy.table});
  if (!columns) return columns.error();
  std::string names, values;
  for (int i = 0; i < columns->rows(); ++i) {
    const std::string name(columns->get(i, 0));
    auto set = std::find_if(copy.set.begin(), copy.set.end(), [&](const auto& s) { return s.first == name; });
    names += (i ? ", \"" : "\"") + name + "\"";
    values += (i ? ", " : "") + (set != copy.set.end() ? set->second : "t.\"" + name + "\"");
  }
  return "INSERT INTO " + std::string(copy.table) + " (" + names + ") SELECT " + values + " FROM " + copy.from;
}

}  // namespace

Result<long long> preloadHistory(store::PgConnection& db, long long cases) {
  auto setup = db.exec(
      // Triggers (the evidence of each insert) and foreign-key checks are off for the copy: this session only.
      "SET session_replication_role = replica; "
      "CREATE OR REPLACE FUNCTION pg_temp.copy_id(u uuid, k int) RETURNS uuid LANGUAGE sql IMMUTABLE AS "
      "$$ SELECT CASE WHEN u IS NULL THEN NULL ELSE md5(u::text || ':' || k)::uuid END $$; "
      "CREATE OR REPLACE FUNCTION pg_temp.shift(k int, copies int) RETURNS interval LANGUAGE sql IMMUTABLE AS "
      "$$ SELECT make_interval(secs => 31536000.0 * k / greatest(copies, 1)) $$; "
      "DROP TABLE IF EXISTS bench_template_cases, bench_template_entries; "
      "CREATE TEMP TABLE bench_template_cases AS SELECT * FROM cases WHERE status = 'closed'; "
      "CREATE TEMP TABLE bench_template_entries AS SELECT * FROM audit_entry WHERE subject LIKE 'case:%' OR subject "
      "LIKE 'msg:%'");
  if (!setup) return setup.error();
  auto templates = db.exec("SELECT count(*) FROM bench_template_cases");
  if (!templates) return templates.error();
  const long long per_copy = templates->getInt(0, 0);
  if (per_copy == 0) return Error::invalid("bench.preload", "no closed case to copy the history from");
  const long long copies = cases / per_copy;
  // About 20,000 cases a statement, each committed: the copy can be stopped and its progress is kept.
  const long long step = std::max(1LL, 20000 / per_copy);
  std::vector<std::string> statements;
  for (const auto& copy : tableCopies()) {
    auto sql = copyStatement(db, copy);
    if (!sql) return sql.error();
    statements.push_back(std::move(sql).value());
  }
  const auto start = std::chrono::steady_clock::now();
  auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  for (long long k0 = 1; k0 <= copies; k0 += step) {
    const long long k1 = std::min(copies, k0 + step - 1);
    for (const auto& sql : statements) {
      auto r = db.exec(sql, {std::to_string(k0), std::to_string(k1), std::to_string(copies)});
      if (!r) return r.error();
    }
    std::printf("vkhid bench: history %lld of %lld cases generated (%.0f s, %.0f cases/s)\n", k1 * per_copy,
                copies * per_copy, seconds(), static_cast<double>(k1 * per_copy) / std::max(seconds(), 0.001));
    std::fflush(stdout);
  }
  // As a year-old database is: vacuumed (every page all-visible, as autovacuum leaves a table that grew by
  // inserts) and its statistics current — else autovacuum would work through the whole history during
  // the measured run.
  if (auto r = db.exec("SET session_replication_role = origin"); !r) return r.error();
  for (const auto& copy : tableCopies()) {
    if (auto r = db.exec("VACUUM (ANALYZE) " + std::string(copy.table)); !r) return r.error();
  }
  std::printf("vkhid bench: history vacuumed and analysed (%.0f s)\n", seconds());
  std::fflush(stdout);
  return copies * per_copy;
}

}  // namespace vkhid::tools::bench
