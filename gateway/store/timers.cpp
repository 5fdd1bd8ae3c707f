#include "gateway/store/timers.hpp"

namespace vkhid::store {
namespace {
// The answer term's timers (flows/deadlines.cpp): one pending at a time, cancelled together.
constexpr const char* kAnswerTimerKinds = "('warning_3wd', 'warning_1d', 'overdue')";
}  // namespace

Status planTimer(PgConnection& db, const std::string& case_id, const std::string& kind, long long fire_at_epoch,
                 const std::string& msg_id) {
  return db.later(
      "INSERT INTO timer (case_id, kind, msg_id, fire_at) VALUES ($1::uuid, $2, NULLIF($3, '')::uuid, "
      "to_timestamp($4::double precision))",
      {case_id, kind, msg_id, std::to_string(fire_at_epoch)});
}

Status planNextAnswerTimer(PgConnection& db, const std::string& case_id, const std::string& kind,
                           long long from_due_s) {
  return db.later(
      "INSERT INTO timer (case_id, kind, fire_at) SELECT c.id, $2, c.due_at + make_interval(secs => $3::double "
      "precision) FROM cases c WHERE c.id = $1::uuid AND c.due_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM timer t "
      "WHERE t.case_id = c.id AND coalesce(t.fired_at, t.cancelled_at) IS NULL AND t.kind IN " +
          std::string(kAnswerTimerKinds) + ")",
      {case_id, kind, std::to_string(from_due_s)});
}

// A case's pending timers are named `coalesce(fired_at, cancelled_at) IS NULL` so that the planner
// finds them through the case's key (timer_pkey, case_id first): spelt as the pending index's own predicate, it
// walked every pending timer of every case through timer_pending instead (0.48 ms a receipt in a
// 500-case bench, growing with them).
Status cancelCaseTimers(PgConnection& db, const std::string& case_id) {
  return db.later(
      "UPDATE timer SET cancelled_at = now() WHERE case_id = $1::uuid AND id IN (SELECT id FROM timer WHERE "
      "case_id = $1::uuid AND coalesce(fired_at, cancelled_at) IS NULL FOR UPDATE SKIP LOCKED)",
      {case_id});
}

Status cancelAnswerTimers(PgConnection& db, const std::string& case_id) {
  // The step on the open row first (migration 0038): the timer loop that turns it into a timer row holds
  // the row until it commits, and the timers are read after that, so a step just turned is cancelled too.
  if (auto s = db.later("UPDATE case_open SET step = NULL, step_at = NULL WHERE case_id = $1::uuid AND step IS NOT "
                        "NULL",
                        {case_id});
      !s) {
    return s;
  }
  return db.later(
      "UPDATE timer SET cancelled_at = now() WHERE case_id = $1::uuid AND id IN (SELECT id FROM timer WHERE "
      "case_id = $1::uuid AND coalesce(fired_at, cancelled_at) IS NULL AND kind IN " +
          std::string(kAnswerTimerKinds) + " FOR UPDATE SKIP LOCKED)",
      {case_id});
}

Result<int> promoteDueAnswerSteps(PgConnection& db, int offset_s, int limit) {
  // A case held by another transaction (an answer settling it, an extension re-planning it) is skipped
  // for now, never waited for: that transaction deletes or clears the open row, which this one holds.
  // Its own hold on the case (what the timer's foreign key asks) is taken here, without waiting.
  auto r = db.exec(
      "WITH due AS (SELECT o.case_id, o.step, o.step_at FROM case_open o JOIN cases c ON c.id = o.case_id WHERE "
      "o.step_at <= now() + make_interval(secs => $1::double precision) ORDER BY o.step_at LIMIT $2::int FOR UPDATE "
      "OF o SKIP LOCKED FOR KEY SHARE OF c SKIP LOCKED), "
      "taken AS (UPDATE case_open o SET step = NULL, step_at = NULL FROM due WHERE o.case_id = due.case_id) "
      "INSERT INTO timer (case_id, kind, fire_at) SELECT case_id, step, step_at FROM due",
      {std::to_string(offset_s), std::to_string(limit)});
  if (!r) return r.error();
  return static_cast<int>(r->affected());
}

Result<std::optional<DueTimerRow>> claimDueTimer(PgConnection& db, int offset_s) {
  auto t = db.exec(
      "SELECT t.id, t.case_id::text, t.kind, coalesce(t.msg_id::text, ''), c.status, "
      "coalesce(c.participant_org_id, ''), c.tracking_code, coalesce(to_char(c.due_at AT TIME ZONE 'UTC', "
      "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), coalesce(m.peer_org_id, '') "
      "FROM timer t JOIN cases c ON c.id = t.case_id LEFT JOIN message m ON m.msg_id = t.msg_id "
      "WHERE t.fired_at IS NULL AND t.cancelled_at IS NULL "
      "AND t.fire_at <= now() + make_interval(secs => $1::double precision) "
      "ORDER BY t.fire_at LIMIT 1 FOR UPDATE OF t SKIP LOCKED",
      {std::to_string(offset_s)});
  if (!t) return t.error();
  if (t->rows() == 0) return std::optional<DueTimerRow>();
  DueTimerRow row;
  row.id = std::string(t->get(0, 0));
  row.case_id = std::string(t->get(0, 1));
  row.kind = std::string(t->get(0, 2));
  row.msg_id = std::string(t->get(0, 3));
  row.case_status = std::string(t->get(0, 4));
  row.participant_org_id = std::string(t->get(0, 5));
  row.tracking_code = std::string(t->get(0, 6));
  row.due_at = std::string(t->get(0, 7));
  row.sent_to = std::string(t->get(0, 8));
  return std::optional<DueTimerRow>(std::move(row));
}

Result<bool> receiptCame(PgConnection& db, const std::string& case_id, const std::string& msg_id,
                         const std::string& ack_types) {
  auto r = db.exec(
      "SELECT count(*) FROM receipt WHERE case_id = $1::uuid AND msg_id = $2::uuid AND ack_type = ANY ($3::int[])",
      {case_id, msg_id, ack_types});
  if (!r) return r.error();
  return r->getInt(0, 0) > 0;
}

Status closeTimer(PgConnection& db, const DueTimerRow& timer, const std::string& outcome) {
  auto u = db.exec("UPDATE timer SET fired_at = now(), outcome = $3 WHERE case_id = $1::uuid AND id = $2",
                   {timer.case_id, timer.id, outcome});
  return u ? Status() : Status(u.error());
}

Result<bool> lockTransportWatch(PgConnection& db, const std::string& kind) {
  auto r = db.exec("SELECT 1 FROM transport_watch WHERE kind = $1 FOR UPDATE SKIP LOCKED", {kind});
  if (!r) return r.error();
  return r->rows() == 1;
}

Result<std::string> oldestRunningTransaction(PgConnection& db) {
  // Read in a statement of its own, before the packages' snapshot is taken: a transaction that began
  // before the time returned had ended when this ran, so its packages are in that later snapshot. Only
  // this database's clients queue packages (autovacuum's long passes do not hold the watch back); other
  // roles' transactions read as NULL here, and none of them queues packages.
  auto r = db.exec(
      "SELECT coalesce(min(xact_start), clock_timestamp())::text FROM pg_stat_activity WHERE xact_start IS NOT NULL "
      "AND pid <> pg_backend_pid() AND datname = current_database() AND backend_type = 'client backend'");
  if (!r) return r.error();
  return std::string(r->get(0, 0));
}

Result<std::vector<WatchedPackageRow>> watchedPackages(PgConnection& db, const std::string& kind,
                                                       long long cutoff_epoch, const std::string& running_since,
                                                       const std::string& ack_types, int limit) {
  // Through message_watched (migration 0036), from where the watch stopped: the watch's row read once
  // (an InitPlan), so that the index gives the order and the scan stops at the limit however many wait.
  // Only then is each asked for its receipts, one probe of their index each (LATERAL … LIMIT 1): asked as
  // EXISTS, the planner may read every package ever kept into a hash of the receipts instead.
  auto r = db.exec(
      "SELECT p.msg_id::text, p.created_at::text, extract(epoch FROM p.created_at)::bigint, "
      "rc.came IS NOT NULL, "
      "p.case_id::text, c.status, coalesce(c.participant_org_id, ''), c.tracking_code, "
      "coalesce(to_char(c.due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), p.peer_org_id "
      "FROM (SELECT m.msg_id, m.created_at, m.case_id, m.peer_org_id FROM message m "
      "WHERE (m.created_at, m.msg_id) > (SELECT w.through_at, w.through_id FROM transport_watch w WHERE w.kind = $1) "
      "AND m.direction = 'out' AND m.msg_type = 1 AND m.case_id IS NOT NULL "
      "AND m.created_at <= to_timestamp($2::double precision) AND m.created_at < $3::timestamptz "
      "ORDER BY m.created_at, m.msg_id LIMIT " +
          std::to_string(limit) +  // written out, so that a generic plan knows how few it asks about
          ") p JOIN cases c ON c.id = p.case_id LEFT JOIN LATERAL (SELECT true AS came FROM receipt r WHERE "
          "r.case_id = p.case_id AND r.msg_id = p.msg_id AND r.ack_type = ANY ($4::int[]) LIMIT 1) rc ON true ORDER BY "
          "p.created_at, p.msg_id",
      {kind, std::to_string(cutoff_epoch), running_since, ack_types});
  if (!r) return r.error();
  std::vector<WatchedPackageRow> rows;
  for (int i = 0; i < r->rows(); ++i) {
    WatchedPackageRow p;
    p.msg_id = std::string(r->get(i, 0));
    p.created_at = std::string(r->get(i, 1));
    p.created_epoch = r->getInt(i, 2);
    p.receipt_came = r->get(i, 3) == "t";
    p.timer.case_id = std::string(r->get(i, 4));
    p.timer.kind = kind;
    p.timer.msg_id = p.msg_id;
    p.timer.case_status = std::string(r->get(i, 5));
    p.timer.participant_org_id = std::string(r->get(i, 6));
    p.timer.tracking_code = std::string(r->get(i, 7));
    p.timer.due_at = std::string(r->get(i, 8));
    p.timer.sent_to = std::string(r->get(i, 9));
    rows.push_back(std::move(p));
  }
  return rows;
}

Status advanceTransportWatch(PgConnection& db, const std::string& kind, const WatchedPackageRow& last) {
  auto r = db.exec("UPDATE transport_watch SET through_at = $2::timestamptz, through_id = $3::uuid WHERE kind = $1",
                   {kind, last.created_at, last.msg_id});
  return r ? Status() : Status(r.error());
}

Result<std::string> recordFiredWatch(PgConnection& db, const WatchedPackageRow& package, const std::string& kind,
                                     long long due_epoch) {
  auto r = db.exec(
      "INSERT INTO timer (case_id, kind, msg_id, fire_at, fired_at, outcome) VALUES ($1::uuid, $2, $3::uuid, "
      "to_timestamp($4::double precision), now(), 'fired') RETURNING id::text",
      {package.timer.case_id, kind, package.msg_id, std::to_string(due_epoch)});
  if (!r) return r.error();
  return std::string(r->get(0, 0));
}

}  // namespace vkhid::store
