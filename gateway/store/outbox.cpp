#include "gateway/store/outbox.hpp"

#include <boost/json.hpp>

#include "gateway/domain/text.hpp"

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

// One publication a transaction asked for; `priority_of`: the package whose case decides whether it goes
// at `priority` (a priority case's) or at 0 — none: at `priority`.
struct Part {
  std::string exchange, routing_key, message_id;
  std::string payload;
  std::string headers_json;
  int priority = 0;
  std::string priority_of;
};
struct Gathered {
  std::vector<Part> parts;
};

// The priority a part goes at, as SQL over the part's columns (`of` the package, `at` its priority).
std::string partPriority(const std::string& of, const std::string& at) {
  return "CASE WHEN " + of + " = '' THEN " + at +
         " WHEN coalesce((SELECT c.priority FROM message m JOIN cases c ON c.id = m.case_id WHERE m.msg_id = "
         "vkhid_uuid(" +
         of + ")), false) THEN " + at + " ELSE 0 END";
}

Status insertOne(PgConnection& db, const Part& p) {
  return db.later(
      "INSERT INTO outbox (exchange, routing_key, message_id, payload, headers, priority) SELECT $1, $2, "
      "$3, $4::bytea, $5::jsonb, " +
          partPriority("$7", "$6::int"),
      {p.exchange, p.routing_key, p.message_id, byteaHex(p.payload), p.headers_json, std::to_string(p.priority),
       p.priority_of});
}

// A transaction's publications as one row (migration 0040): the one it publishes first — the highest
// priority, then the first asked for — in the row's columns, the others in `more` in that order. Each
// row is a heap tuple, an entry in the unsent index and an update when it is sent: three WAL records a
// publication, where the intake and a participant's answer each asked for two.
Status insertAll(PgConnection& db, const std::vector<Part>& parts) {
  if (parts.size() == 1) return insertOne(db, parts.front());
  boost::json::array all;
  for (const auto& p : parts) {
    boost::system::error_code ec;
    auto headers = boost::json::parse(p.headers_json, ec);
    if (ec || !headers.is_object()) {
      return Error::internal("outbox.headers", "outbox: the headers of " + p.message_id + " are not a JSON object");
    }
    all.push_back(boost::json::object{{"exchange", p.exchange},
                                      {"routing_key", p.routing_key},
                                      {"message_id", p.message_id},
                                      {"payload", hexEncode(p.payload)},
                                      {"headers", std::move(headers)},
                                      {"priority", p.priority},
                                      {"priority_of", p.priority_of}});
  }
  return db.later(
      "WITH p AS (SELECT k.ord, k.e->>'exchange' AS exchange, k.e->>'routing_key' AS routing_key, k.e->>'message_id' "
      "AS "
      "message_id, k.e->>'payload' AS payload, k.e->'headers' AS headers, " +
          partPriority("(k.e->>'priority_of')", "(k.e->>'priority')::int") +
          " AS priority FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS k(e, ord)), o AS (SELECT p.*, "
          "row_number() OVER (ORDER BY priority DESC, ord) AS n FROM p) INSERT INTO outbox (exchange, routing_key, "
          "message_id, payload, headers, priority, more) SELECT f.exchange, f.routing_key, f.message_id, "
          "decode(f.payload, 'hex'), f.headers, f.priority, (SELECT jsonb_agg(jsonb_build_object('exchange', "
          "exchange, 'routing_key', routing_key, 'message_id', message_id, 'payload', payload, 'headers', headers, "
          "'priority', priority) ORDER BY n) FROM o WHERE n > 1) FROM o f WHERE f.n = 1",
      {boost::json::serialize(all)});
}

// Inside a transaction the part waits for the COMMIT, with the transaction's others; outside one it is
// written at once. The process's relay is woken when it is committed.
Status append(PgConnection& db, Part part) {
  if (!db.transactionOpen()) {
    if (auto s = insertOne(db, part); !s) return s;
    outboxSignal().notify();
    return {};
  }
  auto& gathered = db.gathering<Gathered>("outbox", [](PgConnection& c, Gathered& g) -> Status {
    if (auto s = insertAll(c, g.parts); !s) return s;
    c.afterCommit([] { outboxSignal().notify(); });
    return {};
  });
  gathered.parts.push_back(std::move(part));
  return {};
}

}  // namespace

Status appendOutbox(PgConnection& db, const std::string& exchange, const std::string& routing_key,
                    const std::string& message_id, std::string_view payload, const std::string& headers_json,
                    int priority) {
  return append(db, Part{exchange, routing_key, message_id, std::string(payload), headers_json, priority, {}});
}

Status appendDelivery(PgConnection& db, const std::string& exchange, const std::string& routing_key,
                      const std::string& msg_id, std::string_view job, const std::string& headers_json, int priority) {
  return append(db, Part{exchange, routing_key, msg_id, std::string(job), headers_json, priority, msg_id});
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
  // The lock's name a parameter, so that the statement is prepared (a statement without one is parsed and
  // planned at every call: 46 µs a round, pg_stat_statements with track_planning).
  if (auto s = db.later("SELECT pg_advisory_xact_lock(hashtext($1))", {"vkhid.outbox_relay"}); !s) return s.error();
  if (auto s = db.later("SET LOCAL enable_bitmapscan = off", {}); !s) return s.error();
  // A row's publications in order: its own columns, then `more` (migration 0040), each with the row's place.
  // The limit a parameter, so that the statement is prepared once a connection: with the limit in its
  // text it was parsed and planned at every round, 0.27 ms (pg_stat_statements over a bench run).
  auto r = db.exec(
      "SELECT o.ctid::text, x.exchange, x.routing_key, x.message_id, x.payload, x.headers::text, x.priority FROM "
      "(SELECT ctid, id, exchange, routing_key, message_id, payload, headers, priority, more FROM outbox WHERE sent_at "
      "IS NULL ORDER BY priority DESC, id LIMIT $1::int) o CROSS JOIN LATERAL (SELECT 0::bigint AS part, o.exchange, "
      "o.routing_key, o.message_id, o.payload, "
      "o.headers, o.priority::int AS priority UNION ALL SELECT k.ord, k.e->>'exchange', k.e->>'routing_key', "
      "k.e->>'message_id', decode(k.e->>'payload', 'hex'), k.e->'headers', (k.e->>'priority')::int FROM "
      "jsonb_array_elements(o.more) WITH ORDINALITY AS k(e, ord)) x ORDER BY o.priority DESC, o.id, x.part",
      {std::to_string(limit)});
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
