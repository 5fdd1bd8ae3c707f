#include "gateway/store/evidence.hpp"

namespace vkhid::store {
namespace {

constexpr const char* kAtUtc = "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";
constexpr const char* kBatchColumns = "id, first_seq, last_seq, entries, root, signature, timestamp_token";

BatchRow batchAt(const PgResult& r, int i) {
  BatchRow b{r.getInt(i, 0), r.getInt(i, 1),           r.getInt(i, 2),
             r.getInt(i, 3), std::string(r.get(i, 4)), fromByteaHex(r.get(i, 5)),
             std::nullopt};
  if (!r.isNull(i, 6)) b.timestamp_token = fromByteaHex(r.get(i, 6));
  return b;
}

EvidenceEntryRow entryRowAt(const PgResult& r, int i) {
  return {r.getInt(i, 0),           std::string(r.get(i, 1)), std::string(r.get(i, 2)),
          std::string(r.get(i, 3)), std::string(r.get(i, 4)), std::string(r.get(i, 5)),
          std::string(r.get(i, 6)), std::string(r.get(i, 7)), r.isNull(i, 8) ? 0 : r.getInt(i, 8)};
}

std::string entryQuery(const char* where) {
  return std::string("SELECT seq, ") + kAtUtc + ", actor, action, subject, payload_sha256, prev_hash, entry_hash, " +
         kBatchOfEntry + " FROM audit_entry e WHERE " + where + " ORDER BY seq";
}

}  // namespace

Result<bool> tryLockSealer(PgConnection& db) {
  auto lock = db.exec("SELECT pg_try_advisory_xact_lock(hashtext('vkhid.audit'))");
  if (!lock) return lock.error();
  return lock->get(0, 0) == "t";
}

Result<std::vector<UnchainedEntryRow>> settledUnchained(PgConnection& db, int limit) {
  auto xmin = db.exec("SELECT pg_snapshot_xmin(pg_current_snapshot())::text");
  if (!xmin) return xmin.error();
  auto r = db.exec(std::string("SELECT id, ") + kAtUtc +
                       ", actor, action, subject, payload_sha256 FROM audit_entry WHERE seq IS NULL AND xid < "
                       "$1::xid8 ORDER BY id LIMIT $2::int",
                   {std::string(xmin->get(0, 0)), std::to_string(limit)});
  if (!r) return r.error();
  std::vector<UnchainedEntryRow> rows;
  rows.reserve(static_cast<std::size_t>(r->rows()));
  for (int i = 0; i < r->rows(); ++i) {
    rows.push_back({std::string(r->get(i, 0)), std::string(r->get(i, 1)), std::string(r->get(i, 2)),
                    std::string(r->get(i, 3)), std::string(r->get(i, 4)), std::string(r->get(i, 5))});
  }
  return rows;
}

Result<std::optional<ChainHead>> chainHead(PgConnection& db) {
  auto r = db.exec("SELECT seq, entry_hash FROM audit_entry WHERE seq = (SELECT max(seq) FROM audit_entry)");
  if (!r) return r.error();
  if (r->rows() == 0) return std::optional<ChainHead>();
  return std::optional<ChainHead>(ChainHead{r->getInt(0, 0), std::string(r->get(0, 1))});
}

Status writeChain(PgConnection& db, const std::vector<ChainLink>& links) {
  std::vector<std::string> ids, seqs, prevs, hashes;
  for (const auto& l : links) {
    ids.push_back(l.id);
    seqs.push_back(std::to_string(l.seq));
    prevs.push_back(l.prev_hash);
    hashes.push_back(l.entry_hash);
  }
  auto u = db.exec(
      "UPDATE audit_entry a SET seq = v.seq, prev_hash = v.prev, entry_hash = v.h FROM (SELECT unnest($1::bigint[]) "
      "id, unnest($2::bigint[]) seq, unnest($3::text[]) prev, unnest($4::text[]) h) v WHERE a.id = v.id",
      {textArrayLiteral(ids), textArrayLiteral(seqs), textArrayLiteral(prevs), textArrayLiteral(hashes)});
  return u ? Status() : Status(u.error());
}

Result<BatchBacklog> batchBacklog(PgConnection& db) {
  // Seqs are consecutive, so their count is the last one's distance from the last batch, and the oldest
  // is the first in chain order (settled in id order: within moments of the oldest by time) — both read
  // through the seq index, not by visiting every waiting entry each round.
  auto due = db.exec(std::string("WITH l AS (SELECT ") + kLastBatchedSeq +
                     " AS s) SELECT (SELECT coalesce(max(seq), l.s) FROM audit_entry) - l.s, coalesce(extract(epoch "
                     "FROM now() - (SELECT at FROM audit_entry WHERE seq = l.s + 1)) * 1000, 0)::bigint FROM l");
  if (!due) return due.error();
  return BatchBacklog{due->getInt(0, 0), due->getInt(0, 1)};
}

Result<std::vector<SeqHash>> nextToBatch(PgConnection& db, int limit) {
  auto r = db.exec(
      "SELECT seq, entry_hash FROM audit_entry WHERE seq > " + std::string(kLastBatchedSeq) + " ORDER BY seq LIMIT $1",
      {std::to_string(limit)});
  if (!r) return r.error();
  std::vector<SeqHash> rows;
  rows.reserve(static_cast<std::size_t>(r->rows()));
  for (int i = 0; i < r->rows(); ++i) rows.push_back({r->getInt(i, 0), std::string(r->get(i, 1))});
  return rows;
}

Status insertBatch(PgConnection& db, const BatchRow& b) {
  auto r = db.exec(
      "INSERT INTO audit_batch (first_seq, last_seq, entries, root, signature) VALUES ($1, $2, $3, $4, $5::bytea)",
      {std::to_string(b.first_seq), std::to_string(b.last_seq), std::to_string(b.entries), b.root,
       byteaHex(b.signature)});
  return r ? Status() : Status(r.error());
}

Result<std::vector<BatchRow>> unstampedBatches(PgConnection& db, int limit) {
  auto r = db.exec(std::string("SELECT ") + kBatchColumns +
                       " FROM audit_batch WHERE timestamp_token IS NULL ORDER BY id LIMIT $1::int",
                   {std::to_string(limit)});
  if (!r) return r.error();
  std::vector<BatchRow> rows;
  for (int i = 0; i < r->rows(); ++i) rows.push_back(batchAt(*r, i));
  return rows;
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
  auto r = db.exec(
      // The oldest unchained entry is the first by id, the oldest unbatched the first by seq (as in
      // batchBacklog): each found through an index, however long the backlog.
      "SELECT greatest((SELECT coalesce(extract(epoch FROM now() - (SELECT at FROM audit_entry WHERE seq IS NULL "
      "ORDER BY id LIMIT 1)), 0)), coalesce((SELECT extract(epoch FROM now() - at) FROM audit_entry WHERE seq = " +
          std::string(kLastBatchedSeq) +
          " + 1), 0), CASE WHEN $1 THEN (SELECT coalesce(extract(epoch FROM now() - min(e.at)), 0) FROM audit_batch b "
          "JOIN audit_entry e ON e.seq = b.first_seq WHERE b.timestamp_token IS NULL) ELSE 0 END)::bigint, "
          "(SELECT coalesce(min(id), 0) FROM audit_batch WHERE timestamp_token IS NULL)",
      {stamping ? "true" : "false"});
  if (!r) return r.error();
  return SealHealthRow{r->getInt(0, 0), r->getInt(0, 1)};
}

Result<std::vector<EvidenceEntryRow>> entriesBetween(PgConnection& db, long long first_seq, long long last_seq) {
  auto r = db.exec(entryQuery("seq BETWEEN $1 AND $2"), {std::to_string(first_seq), std::to_string(last_seq)});
  if (!r) return r.error();
  std::vector<EvidenceEntryRow> rows;
  rows.reserve(static_cast<std::size_t>(r->rows()));
  for (int i = 0; i < r->rows(); ++i) rows.push_back(entryRowAt(*r, i));
  return rows;
}

Result<std::optional<EvidenceEntryRow>> entryAt(PgConnection& db, long long seq) {
  auto r = db.exec(entryQuery("seq = $1"), {std::to_string(seq)});
  if (!r) return r.error();
  if (r->rows() == 0) return std::optional<EvidenceEntryRow>();
  return std::optional<EvidenceEntryRow>(entryRowAt(*r, 0));
}

Result<std::vector<BatchRow>> batchesCovering(PgConnection& db, const std::string& from, const std::string& to) {
  auto r = db.exec(
      "WITH hit AS (SELECT min(b.first_seq) AS lo, max(b.last_seq) AS hi FROM audit_batch b WHERE EXISTS (SELECT 1 "
      "FROM audit_entry e WHERE e.seq BETWEEN b.first_seq AND b.last_seq AND ($1 = '' OR e.at >= $1::timestamptz) "
      "AND ($2 = '' OR e.at <= $2::timestamptz))) SELECT " +
          std::string(kBatchColumns) +
          " FROM audit_batch, hit WHERE first_seq >= hit.lo AND last_seq <= hit.hi ORDER BY id",
      {from, to});
  if (!r) return r.error();
  std::vector<BatchRow> rows;
  for (int i = 0; i < r->rows(); ++i) rows.push_back(batchAt(*r, i));
  return rows;
}

Result<std::optional<BatchRow>> batchById(PgConnection& db, long long id) {
  auto r = db.exec(std::string("SELECT ") + kBatchColumns + " FROM audit_batch WHERE id = $1", {std::to_string(id)});
  if (!r) return r.error();
  if (r->rows() == 0) return std::optional<BatchRow>();
  return std::optional<BatchRow>(batchAt(*r, 0));
}

Result<std::vector<std::string>> batchLeaves(PgConnection& db, long long batch_id) {
  auto r = db.exec(
      "SELECT e.entry_hash FROM audit_batch b JOIN audit_entry e ON e.seq BETWEEN b.first_seq AND b.last_seq WHERE "
      "b.id = $1 ORDER BY e.seq",
      {std::to_string(batch_id)});
  if (!r) return r.error();
  std::vector<std::string> hashes;
  for (int i = 0; i < r->rows(); ++i) hashes.emplace_back(r->get(i, 0));
  return hashes;
}

Status setSessionActor(PgConnection& db, const std::string& actor) {
  auto r = db.exec("SELECT set_config('vkhid.actor', $1, false)", {actor});
  return r ? Status() : Status(r.error());
}

}  // namespace vkhid::store
