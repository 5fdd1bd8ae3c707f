// `vkhid bench --preload N` (issue 25, "cost must not grow with the data"): a database that already
// holds N cases of history, generated rather than run through the exchange, before the measured run.
// The history is cloned from template cases that did go through it (each copy with its own ids, codes
// and times, spread back over a year), so every table the exchange writes holds rows of its real shape
// and its indexes their real size: cases, their events, messages, receipts, timers and evidence
// entries. What is not copied: the packages' bytes (a copy has its digest and size, no bytes, as an
// erased package — the TOAST volume no query of the exchange scans), the outbox (pruned once sent),
// reads and notices; a copy's timers have all fired, as history's have. Copied evidence entries are
// outside the sealed chain (given a seq of their own, as entries chained before migration 0018): the
// load is for cost, not for `audit verify`.
#include "tools/bench_preload.hpp"

#include <cstdio>

namespace vkhid::tools::bench {
namespace {

// Copies $1…$2 of every template case; `shift` moves a copy's times back by k / copies of a year.
// A copy's ids: md5(template id, k) as a uuid — the same mapping in every table, so references hold.
constexpr const char* kCopies[] = {
    "INSERT INTO cases SELECT (jsonb_populate_record(NULL::cases, to_jsonb(c) || jsonb_build_object('id', "
    "pg_temp.copy_id(c.id, k), 'ucc_number', c.ucc_number || '-' || k, 'tracking_code', c.tracking_code || '-' || k, "
    "'idempotency_key', c.idempotency_key || '-' || k, 'answer_msg_id', pg_temp.copy_id(c.answer_msg_id, k), "
    "'repeat_of', NULL, 'merged_into', NULL, 'received_at', c.received_at - pg_temp.shift(k, $3), 'registered_at', "
    "c.registered_at - pg_temp.shift(k, $3), 'updated_at', c.updated_at - pg_temp.shift(k, $3)))).* FROM "
    "bench_template_cases c, generate_series($1::int, $2::int) k",
    "INSERT INTO message SELECT (jsonb_populate_record(NULL::message, to_jsonb(m) || jsonb_build_object('msg_id', "
    "pg_temp.copy_id(m.msg_id, k), 'case_id', pg_temp.copy_id(m.case_id, k), 'ref_msg_id', "
    "pg_temp.copy_id(m.ref_msg_id, k), 'bytes', '\\x', 'created_at', m.created_at - pg_temp.shift(k, $3), "
    "'updated_at', m.updated_at - pg_temp.shift(k, $3)))).* FROM message m JOIN bench_template_cases c ON c.id = "
    "m.case_id, generate_series($1::int, $2::int) k",
    "INSERT INTO receipt SELECT (jsonb_populate_record(NULL::receipt, to_jsonb(r) || jsonb_build_object("
    "'receipt_msg_id', pg_temp.copy_id(r.receipt_msg_id, k), 'msg_id', pg_temp.copy_id(r.msg_id, k), "
    "'received_at', r.received_at - pg_temp.shift(k, $3)))).* FROM receipt r JOIN message m ON m.msg_id = "
    "r.receipt_msg_id JOIN bench_template_cases c ON c.id = m.case_id, generate_series($1::int, $2::int) k",
    "INSERT INTO case_event SELECT (jsonb_populate_record(NULL::case_event, to_jsonb(e) || jsonb_build_object('id', "
    "nextval('case_event_id_seq'), 'case_id', pg_temp.copy_id(e.case_id, k), 'at', e.at - pg_temp.shift(k, $3)))).* "
    "FROM case_event e JOIN bench_template_cases c ON c.id = e.case_id, generate_series($1::int, $2::int) k",
    "INSERT INTO timer SELECT (jsonb_populate_record(NULL::timer, to_jsonb(t) || jsonb_build_object('id', "
    "nextval('timer_id_seq'), 'case_id', pg_temp.copy_id(t.case_id, k), 'msg_id', pg_temp.copy_id(t.msg_id, k), "
    "'fire_at', t.fire_at - pg_temp.shift(k, $3), 'fired_at', coalesce(t.fired_at, t.fire_at) - pg_temp.shift(k, $3), "
    "'outcome', coalesce(t.outcome, 'moot')))).* FROM timer t JOIN bench_template_cases c ON c.id = t.case_id, "
    "generate_series($1::int, $2::int) k",
    "INSERT INTO audit_entry SELECT (jsonb_populate_record(NULL::audit_entry, to_jsonb(e) || jsonb_build_object('id', "
    "e.nid, 'seq', -e.nid, 'at', e.at - pg_temp.shift(e.k, $3)))).* FROM (SELECT t.*, k, nextval('audit_entry_id_seq') "
    "AS nid FROM bench_template_entries t, generate_series($1::int, $2::int) k) e",
};

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
      "LIKE 'message:%'");
  if (!setup) return setup.error();
  auto templates = db.exec("SELECT count(*) FROM bench_template_cases");
  if (!templates) return templates.error();
  const long long per_copy = templates->getInt(0, 0);
  if (per_copy == 0) return Error::invalid("bench.preload", "no closed case to copy the history from");
  const long long copies = cases / per_copy;
  // About 20,000 cases a statement, each committed: the copy can be stopped and its progress is kept.
  const long long step = std::max(1LL, 20000 / per_copy);
  for (long long k0 = 1; k0 <= copies; k0 += step) {
    const long long k1 = std::min(copies, k0 + step - 1);
    for (const char* sql : kCopies) {
      auto r = db.exec(sql, {std::to_string(k0), std::to_string(k1), std::to_string(copies)});
      if (!r) return r.error();
    }
    std::printf("vkhid bench: history %lld of %lld cases generated\n", k1 * per_copy, copies * per_copy);
    std::fflush(stdout);
  }
  // As a year-old database is: its statistics current (autovacuum analyses it as it grows).
  if (auto r = db.exec("SET session_replication_role = origin; ANALYZE"); !r) return r.error();
  return copies * per_copy;
}

}  // namespace vkhid::tools::bench
