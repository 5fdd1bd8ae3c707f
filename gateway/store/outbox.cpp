#include "gateway/store/outbox.hpp"

namespace vkhid::store {

void OutboxSignal::notify() {
  {
    std::lock_guard lock(mutex_);
    ++raised_;
  }
  cv_.notify_all();
}

std::uint64_t OutboxSignal::raised() const {
  std::lock_guard lock(mutex_);
  return raised_;
}

bool OutboxSignal::waitBeyond(std::uint64_t seen, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [&] { return raised_ != seen; });
}

OutboxSignal& outboxSignal() {
  static OutboxSignal signal;
  return signal;
}

namespace {
Status signalled(PgConnection& db, Status written) {
  if (written) db.afterCommit([] { outboxSignal().notify(); });
  return written;
}
}  // namespace

Status appendOutbox(PgConnection& db, const std::string& exchange, const std::string& routing_key,
                    const std::string& message_id, std::string_view payload, const std::string& headers_json,
                    int priority) {
  return signalled(
      db, db.later("INSERT INTO outbox (exchange, routing_key, message_id, payload, headers, priority) "
                   "VALUES ($1, $2, $3, $4::bytea, $5::jsonb, $6)",
                   {exchange, routing_key, message_id, byteaHex(payload), headers_json, std::to_string(priority)}));
}

Status appendDelivery(PgConnection& db, const std::string& exchange, const std::string& routing_key,
                      const std::string& msg_id, std::string_view job, const std::string& headers_json, int priority) {
  return signalled(db,
                   db.later("INSERT INTO outbox (exchange, routing_key, message_id, payload, headers, priority) "
                            "SELECT $1, $2, $3, $6::bytea, $4::jsonb, "
                            "CASE WHEN coalesce((SELECT c.priority FROM message m JOIN cases c ON c.id = m.case_id "
                            "WHERE m.msg_id = vkhid_uuid($3)), false) THEN $5::int ELSE 0 END",
                            {exchange, routing_key, msg_id, headers_json, std::to_string(priority), byteaHex(job)}));
}

Result<std::vector<OutboxRow>> lockUnsent(PgConnection& db, int limit) {
  // Read through the unsent index in its order, never as a bitmap: a row marked sent leaves a dead
  // entry in that index until VACUUM, and a bitmap scan (the planner's choice when it expects few
  // rows) rechecks each of them in the table on every round — 2.5 ms a round after 1,000 cases and
  // growing with every row sent since the last vacuum — where an index scan marks them dead once and
  // steps over them after (0.02 ms). With the SELECT, in one round trip; for the rest of the transaction,
  // whose UPDATE (markSent) finds its rows by place and reads no index.
  // One relay at a time, whichever gateway it runs in: the rows are read without a row lock (a lock is a
  // WAL record a row, five a case), after the relay before this one has committed what it sent, and the
  // transaction takes no xid until it marks them sent — so the evidence sealer, which waits for every
  // transaction with one, is not held back by a publish.
  if (auto s = db.later("SELECT pg_advisory_xact_lock(hashtext('vkhid.outbox_relay'))", {}); !s) return s.error();
  if (auto s = db.later("SET LOCAL enable_bitmapscan = off", {}); !s) return s.error();
  auto r = db.exec(
      "SELECT ctid::text, exchange, routing_key, message_id, payload, headers::text, priority FROM outbox "
      "WHERE sent_at IS NULL ORDER BY priority DESC, id LIMIT " +
          std::to_string(limit),
      {});
  if (!r) return r.error();
  std::vector<OutboxRow> rows;
  rows.reserve(static_cast<std::size_t>(r->rows()));
  for (int i = 0; i < r->rows(); ++i) {
    rows.push_back(OutboxRow{std::string(r->get(i, 0)), std::string(r->get(i, 1)), std::string(r->get(i, 2)),
                             std::string(r->get(i, 3)), fromByteaHex(r->get(i, 4)), std::string(r->get(i, 5)),
                             static_cast<int>(r->getInt(i, 6))});
  }
  return rows;
}

Status markSent(PgConnection& db, const std::vector<std::string>& places) {
  // By place (a TID scan): no index is read, and none is needed (migration 0032). A place is stable while
  // the transaction that read it runs: only the relay, under its lock, updates an unsent row.
  return db.later("UPDATE outbox SET sent_at = now() WHERE ctid = ANY ($1::tid[]) AND sent_at IS NULL",
                  {textArrayLiteral(places)});
}

Result<long long> pruneSent(PgConnection& db, int retention_hours, int limit) {
  // Rows are found by their age through the BRIN index on created_at (migration 0032): the scan reads
  // the block ranges written before the retention (what it deletes, and the few old rows still unsent),
  // not the outbox of the last week; they are deleted by place.
  auto r = db.exec(
      "DELETE FROM outbox WHERE ctid = ANY (ARRAY(SELECT o.ctid FROM outbox o WHERE o.created_at < now() - "
      "make_interval(hours => $1::int) AND o.sent_at < now() - make_interval(hours => $1::int) LIMIT $2::int))",
      {std::to_string(retention_hours), std::to_string(limit)});
  if (!r) return r.error();
  return r->affected();
}

}  // namespace vkhid::store
