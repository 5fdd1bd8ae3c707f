#include "gateway/store/evidence.hpp"

namespace vkhid::store {
namespace {

constexpr const char* kAtUtc = "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";
constexpr const char* kBatchColumns =
    "id, first_seq, last_seq, entries, root, signature, timestamp_token, coalesce(prev_hash, ''), "
    "coalesce(leaves, ''::bytea), coalesce(first_xid::text, ''), coalesce(first_id, 0), "
    "coalesce(last_xid::text, ''), coalesce(last_id, 0)";
// The same for the time-stamping rounds, which need the root only: the leaves (up to 320 kB a batch)
// are not read again every round while the authority is away.
const std::string kStampColumns = [] {
  std::string c = kBatchColumns;
  c.replace(c.find("coalesce(leaves, ''::bytea)"), std::string_view("coalesce(leaves, ''::bytea)").size(), "''::bytea");
  return c;
}();
// An entry's columns, in StoredEntry's order. The key's text is named apart from the column: an output
// column named xid would be what "ORDER BY xid" sorts by — as text, where "10001" comes before "9997" —
// and the chain's order would break each time the cluster's xids gain a digit.
const std::string kEntryColumns =
    std::string("xid::text AS xid_text, id, ") + kAtUtc + ", actor, action, subject, payload_sha256";

BatchRow batchAt(const PgResult& r, int i) {
  BatchRow b;
  b.id = r.getInt(i, 0);
  b.first_seq = r.getInt(i, 1);
  b.last_seq = r.getInt(i, 2);
  b.entries = r.getInt(i, 3);
  b.root = r.get(i, 4);
  b.signature = fromByteaHex(r.get(i, 5));
  if (!r.isNull(i, 6)) b.timestamp_token = fromByteaHex(r.get(i, 6));
  b.prev_hash = r.get(i, 7);
  b.leaves = fromByteaHex(r.get(i, 8));
  b.first_xid = r.get(i, 9);
  b.first_id = r.getInt(i, 10);
  b.last_xid = r.get(i, 11);
  b.last_id = r.getInt(i, 12);
  return b;
}

Result<std::vector<BatchRow>> batchesOf(Result<PgResult> r) {
  if (!r) return r.error();
  std::vector<BatchRow> rows;
  rows.reserve(static_cast<std::size_t>(r->rows()));
  for (int i = 0; i < r->rows(); ++i) rows.push_back(batchAt(*r, i));
  return rows;
}

Result<std::vector<StoredEntry>> entriesOf(Result<PgResult> r) {
  if (!r) return r.error();
  std::vector<StoredEntry> rows;
  rows.reserve(static_cast<std::size_t>(r->rows()));
  for (int i = 0; i < r->rows(); ++i) {
    rows.push_back({std::string(r->get(i, 0)), r->getInt(i, 1), std::string(r->get(i, 2)), std::string(r->get(i, 3)),
                    std::string(r->get(i, 4)), std::string(r->get(i, 5)), std::string(r->get(i, 6))});
  }
  return rows;
}

}  // namespace

Status appendEvidence(PgConnection& db, const std::string& action, const std::string& subject,
                      const std::string& payload_sha256, const std::string& actor) {
  auto r = db.exec(
      "INSERT INTO audit_entry (actor, action, subject, payload_sha256) VALUES (coalesce(NULLIF($1, ''), "
      "vkhid_audit_actor()), $2, $3, $4)",
      {actor, action, subject, payload_sha256});
  return r ? Status() : Status(r.error());
}

Result<bool> tryLockSealer(PgConnection& db) {
  // The name and the tail's length below are parameters so that the statements are prepared, planned once a
  // connection: as text alone they were parsed and planned at each of the sealer's rounds (74 and 156 µs,
  // pg_stat_statements with track_planning over a bench run).
  auto lock = db.exec("SELECT pg_try_advisory_xact_lock(hashtext($1))", {"vkhid.audit"});
  if (!lock) return lock.error();
  return lock->get(0, 0) == "t";
}

Result<std::string> sealerLockHolder(PgConnection& db) {
  // An advisory lock on a bigint key is listed as classid (its high 32 bits), objid (its low), objsubid 1.
  auto r = db.exec(
      "SELECT a.application_name || ' pid ' || a.pid || ' ' || a.state || ' for ' || round(extract(epoch FROM now() - "
      "a.xact_start)) || ' s' FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
      "AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND l.classid "
      "= ((hashtext('vkhid.audit')::bigint >> 32) & 4294967295)::oid AND l.objid = (hashtext('vkhid.audit')::bigint & "
      "4294967295)::oid AND l.objsubid = 1",
      {});
  if (!r) return r.error();
  return r->rows() == 0 ? std::string() : std::string(r->get(0, 0));
}

Result<ChainTail> chainTail(PgConnection& db) {
  auto r = db.exec(
      "SELECT last_seq, coalesce(encode(substring(leaves FROM length(leaves) - ($1::int - 1)), 'hex'), ''), "
      "coalesce(last_xid::text, '0'), coalesce(last_id, 0) FROM audit_batch ORDER BY id DESC LIMIT 1",
      {"32"});  // the last leaf's 32 bytes
  if (!r) return r.error();
  if (r->rows() == 0) return ChainTail{};
  return ChainTail{r->getInt(0, 0), std::string(r->get(0, 1)), std::string(r->get(0, 2)), r->getInt(0, 3)};
}

Result<BatchBacklog> batchBacklog(PgConnection& db, const ChainTail& tail, const std::string& from_xid,
                                  long long from_id, long long limit) {
  // Both walk the key in order from where they start (the ORDER BY keeps a generic plan on the key too,
  // where a scan of the whole log looked as cheap): what waits, never the sealed log behind it.
  auto due = db.exec(
      "WITH w AS (SELECT xid, id FROM audit_entry WHERE (xid, id) > ($3::xid8, $4::bigint) AND seq IS NULL AND xid < "
      "pg_snapshot_xmin(pg_current_snapshot()) ORDER BY xid, id LIMIT $5::bigint), l AS (SELECT xid, id FROM w ORDER "
      "BY xid DESC, id DESC LIMIT 1) SELECT (SELECT count(*) FROM w), (SELECT xid::text FROM l), (SELECT id FROM l), "
      "coalesce((SELECT extract(epoch FROM now() - at) * 1000 FROM audit_entry WHERE (xid, id) > ($1::xid8, "
      "$2::bigint) AND seq IS NULL ORDER BY xid, id LIMIT 1), 0)::bigint",
      {tail.last_xid, std::to_string(tail.last_id), from_xid, std::to_string(from_id), std::to_string(limit)});
  if (!due) return due.error();
  BatchBacklog b;
  b.entries = due->getInt(0, 0);
  b.oldest_age_ms = due->getInt(0, 3);
  if (b.entries > 0) {
    b.last_xid = std::string(due->get(0, 1));
    b.last_id = due->getInt(0, 2);
  }
  return b;
}

Result<std::vector<StoredEntry>> settledAfter(PgConnection& db, const ChainTail& tail, int limit) {
  return entriesOf(db.exec("SELECT " + kEntryColumns +
                               " FROM audit_entry WHERE (xid, id) > ($1::xid8, $2::bigint) AND seq IS NULL AND xid < "
                               "pg_snapshot_xmin(pg_current_snapshot()) ORDER BY xid, id LIMIT $3::int",
                           {tail.last_xid, std::to_string(tail.last_id), std::to_string(limit)}));
}

Status insertBatch(PgConnection& db, const BatchRow& b) {
  auto r = db.exec(
      "INSERT INTO audit_batch (first_seq, last_seq, entries, root, signature, prev_hash, leaves, first_xid, first_id, "
      "last_xid, last_id, first_at, last_at) VALUES ($1, $2, $3, $4, $5::bytea, $6, $7::bytea, $8::xid8, $9, "
      "$10::xid8, "
      "$11, $12::timestamptz, $13::timestamptz)",
      {std::to_string(b.first_seq), std::to_string(b.last_seq), std::to_string(b.entries), b.root,
       byteaHex(b.signature), b.prev_hash, byteaHex(b.leaves), b.first_xid, std::to_string(b.first_id), b.last_xid,
       std::to_string(b.last_id), b.first_at, b.last_at});
  return r ? Status() : Status(r.error());
}

Result<std::vector<BatchCount>> recountBatches(PgConnection& db, long long after_id, int settle_s, int limit) {
  // Batches are closed one at a time under the sealer's lock: their ids, keys and times rise together. So
  // the batches to recount follow the later of the last one recounted and the last closed before the ten
  // minutes, both found through the key from its end; the batches are read in the key's order from there,
  // never the year of them behind (a gateway just started has recounted none).
  auto r = db.exec(
      "WITH s AS (SELECT greatest(coalesce((SELECT max(id) FROM audit_batch WHERE first_xid IS NOT NULL AND id <= $1), "
      "0), coalesce((SELECT max(id) FROM audit_batch WHERE closed_at <= now() - interval '10 minutes'), 0)) AS start), "
      "b AS (SELECT id, entries, closed_at, first_xid, first_id, last_xid, last_id, lag(last_xid) OVER w AS px, "
      "lag(last_id) OVER w AS pi FROM (SELECT a.* FROM audit_batch a, s WHERE a.first_xid IS NOT NULL AND a.id >= "
      "s.start ORDER BY a.id LIMIT $3::int + 1) x WINDOW w AS (ORDER BY id)) "
      "SELECT id, entries, (SELECT count(*) FROM audit_entry e WHERE e.seq IS NULL AND (e.xid, e.id) > "
      "(coalesce(b.px, b.first_xid), coalesce(b.pi, b.first_id - 1)) AND (e.xid, e.id) <= (b.last_xid, b.last_id)) "
      "FROM b WHERE id > $1 AND closed_at < now() - make_interval(secs => $2) AND closed_at > now() - interval "
      "'10 minutes' ORDER BY id LIMIT $3::int",
      {std::to_string(after_id), std::to_string(settle_s), std::to_string(limit)});
  if (!r) return r.error();
  std::vector<BatchCount> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back({r->getInt(i, 0), r->getInt(i, 1), r->getInt(i, 2)});
  return out;
}

Result<std::vector<BatchRow>> unstampedBatches(PgConnection& db, int limit) {
  return batchesOf(
      db.exec("SELECT " + kStampColumns + " FROM audit_batch WHERE timestamp_token IS NULL ORDER BY id LIMIT $1::int",
              {std::to_string(limit)}));
}

Status recordStampFailure(PgConnection& db, long long batch_id, const std::string& error) {
  auto u = db.exec("UPDATE audit_batch SET attempts = attempts + 1, last_error = $2 WHERE id = $1",
                   {std::to_string(batch_id), error});
  return u ? Status() : Status(u.error());
}

Status storeStamp(PgConnection& db, long long batch_id, const std::string& token) {
  auto u = db.exec(
      "UPDATE audit_batch SET timestamp_token = $2::bytea, stamped_at = now() WHERE id = $1 AND timestamp_token IS "
      "NULL",
      {std::to_string(batch_id), byteaHex(token)});
  return u ? Status() : Status(u.error());
}

Result<SealHealthRow> sealHealth(PgConnection& db, bool stamping) {
  auto tail = chainTail(db);
  if (!tail) return tail.error();
  auto r = db.exec(
      // The oldest entry in no batch is the first after the tail by key, found through it however long
      // the backlog; a batch's oldest entry is its first_at.
      "SELECT greatest(coalesce((SELECT extract(epoch FROM now() - at) FROM audit_entry WHERE (xid, id) > ($2::xid8, "
      "$3::bigint) AND seq IS NULL ORDER BY xid, id LIMIT 1), 0), CASE WHEN $1 THEN (SELECT coalesce(extract(epoch "
      "FROM now() - min(first_at)), 0) FROM audit_batch WHERE timestamp_token IS NULL) ELSE 0 END)::bigint, "
      "(SELECT coalesce(min(id), 0) FROM audit_batch WHERE timestamp_token IS NULL)",
      {stamping ? "true" : "false", tail->last_xid, std::to_string(tail->last_id)});
  if (!r) return r.error();
  return SealHealthRow{r->getInt(0, 0), r->getInt(0, 1)};
}

Result<std::vector<StoredEntry>> batchEntries(PgConnection& db, const BatchRow& b) {
  if (b.first_xid.empty()) {  // chained by seq, before migration 0018
    return entriesOf(db.exec("SELECT " + kEntryColumns + " FROM audit_entry WHERE seq BETWEEN $1 AND $2 ORDER BY seq",
                             {std::to_string(b.first_seq), std::to_string(b.last_seq)}));
  }
  return entriesOf(
      db.exec("SELECT " + kEntryColumns +
                  " FROM audit_entry WHERE (xid, id) >= ($1::xid8, $2::bigint) AND (xid, id) <= ($3::xid8, "
                  "$4::bigint) AND seq IS NULL ORDER BY xid, id",
              {b.first_xid, std::to_string(b.first_id), b.last_xid, std::to_string(b.last_id)}));
}

Result<std::vector<BatchRow>> batchesCovering(PgConnection& db, const std::string& from, const std::string& to) {
  return batchesOf(db.exec(
      "WITH hit AS (SELECT min(id) AS lo, max(id) AS hi FROM audit_batch WHERE ($1 = '' OR last_at >= $1::timestamptz) "
      "AND ($2 = '' OR first_at <= $2::timestamptz)) SELECT " +
          std::string(kBatchColumns) + " FROM audit_batch, hit WHERE id BETWEEN hit.lo AND hit.hi ORDER BY id",
      {from, to}));
}

Result<std::optional<BatchRow>> batchHolding(PgConnection& db, long long seq) {
  auto r = batchesOf(db.exec(std::string("SELECT ") + kBatchColumns +
                                 " FROM audit_batch WHERE last_seq >= $1 AND first_seq <= $1 ORDER BY last_seq LIMIT 1",
                             {std::to_string(seq)}));
  if (!r) return r.error();
  if (r->empty()) return std::optional<BatchRow>();
  return std::optional<BatchRow>(std::move(r->front()));
}

Status setSessionActor(PgConnection& db, const std::string& actor) {
  auto r = db.exec("SELECT set_config('vkhid.actor', $1, false)", {actor});
  return r ? Status() : Status(r.error());
}

}  // namespace vkhid::store
