// The evidence log's sealer: chains settled entries, closes batches under a signed Merkle root,
// time-stamps them, and keeps the fail-closed flag.
#include "gateway/flows/audit.hpp"

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "gateway/app/digest.hpp"
#include "gateway/app/logging.hpp"
#include "gateway/app/metrics.hpp"
#include "gateway/bus/topology.hpp"
#include "gateway/crypto/cms.hpp"
#include "gateway/crypto/openssl.hpp"
#include "gateway/crypto/package.hpp"
#include "gateway/crypto/timestamp.hpp"
#include "gateway/domain/base64.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/domain/time.hpp"
#include "gateway/flows/audit_internal.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/store/pg_pool.hpp"

namespace vkhid::flows {

using namespace audit_detail;
namespace json = boost::json;
namespace fs = std::filesystem;

// ---- the sealer ----

AuditSealer::AuditSealer(const app::AuditSettings& settings, const crypto::Signer& signer, TimestampFetch fetch)
    : settings_(settings), signer_(signer), fetch_(std::move(fetch)) {
  if (!settings_.ca_file.empty()) {
    if (auto pem = crypto::readFile(settings_.ca_file)) ca_pem_ = *pem;
  }
}

Result<int> AuditSealer::chain(store::PgConnection& db) {
  // Entries whose transaction is older than every running one: none can appear before them any more.
  auto xmin = db.exec("SELECT pg_snapshot_xmin(pg_current_snapshot())::text");
  if (!xmin) return xmin.error();
  auto rows = db.exec(
      "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), actor, action, subject, "
      "payload_sha256 FROM audit_entry WHERE seq IS NULL AND xid < $1::xid8 ORDER BY id LIMIT 5000",
      {std::string(xmin->get(0, 0))});
  if (!rows) return rows.error();
  if (rows->rows() == 0) return 0;
  auto last = db.exec("SELECT seq, entry_hash FROM audit_entry WHERE seq = (SELECT max(seq) FROM audit_entry)");
  if (!last) return last.error();
  long long seq = last->rows() > 0 ? last->getInt(0, 0) : 0;
  std::string prev = last->rows() > 0 ? std::string(last->get(0, 1)) : kGenesis;
  std::vector<std::string> ids, seqs, prevs, hashes;
  for (int i = 0; i < rows->rows(); ++i) {
    AuditEntry e{++seq,
                 std::string(rows->get(i, 1)),
                 std::string(rows->get(i, 2)),
                 std::string(rows->get(i, 3)),
                 std::string(rows->get(i, 4)),
                 std::string(rows->get(i, 5)),
                 prev,
                 {},
                 0};
    e.entry_hash = auditEntryHash(e);
    ids.emplace_back(rows->get(i, 0));
    seqs.push_back(std::to_string(seq));
    prevs.push_back(prev);
    hashes.push_back(e.entry_hash);
    prev = e.entry_hash;
  }
  auto u = db.exec(
      "UPDATE audit_entry a SET seq = v.seq, prev_hash = v.prev, entry_hash = v.h FROM (SELECT unnest($1::bigint[]) "
      "id, unnest($2::bigint[]) seq, unnest($3::text[]) prev, unnest($4::text[]) h) v WHERE a.id = v.id",
      {store::textArrayLiteral(ids), store::textArrayLiteral(seqs), store::textArrayLiteral(prevs),
       store::textArrayLiteral(hashes)});
  if (!u) return u.error();
  return rows->rows();
}

Result<bool> AuditSealer::closeBatch(store::PgConnection& db) {
  // Chained but in no batch yet: after the last batch's range (batches are closed in seq order).
  // Seqs are consecutive, so their count is the last one's distance from the last batch, and the oldest
  // is the first in chain order (settled in id order: within moments of the oldest by time) — both read
  // through the seq index, not by visiting every waiting entry each round.
  auto due = db.exec(std::string("WITH l AS (SELECT ") + kLastBatchedSeq +
                     " AS s) SELECT (SELECT coalesce(max(seq), l.s) FROM audit_entry) - l.s, coalesce(extract(epoch "
                     "FROM now() - (SELECT at FROM audit_entry WHERE seq = l.s + 1)) * 1000, 0)::bigint FROM l");
  if (!due) return due.error();
  long long count = due->getInt(0, 0), age_ms = due->getInt(0, 1);
  if (count == 0 || (count < settings_.batch_max_entries && age_ms < settings_.batch_max_age_ms)) return false;
  auto rows = db.exec(
      "SELECT seq, entry_hash FROM audit_entry WHERE seq > " + std::string(kLastBatchedSeq) + " ORDER BY seq LIMIT $1",
      {std::to_string(settings_.batch_max_entries)});
  if (!rows) return rows.error();
  std::vector<std::string> hashes;
  for (int i = 0; i < rows->rows(); ++i) hashes.emplace_back(rows->get(i, 1));
  std::string root = merkleRoot(hashes);
  auto signature = crypto::signDetached(*hexDecode(root), signer_);
  if (!signature) return signature.error();
  std::string first(rows->get(0, 0)), last(rows->get(rows->rows() - 1, 0));
  auto b = db.exec(
      "INSERT INTO audit_batch (first_seq, last_seq, entries, root, signature) VALUES ($1, $2, $3, $4, $5::bytea) "
      "RETURNING id",
      {first, last, std::to_string(hashes.size()), root, byteaHex(signature->der)});
  if (!b) return b.error();
  app::metrics().counter("vkhid_audit_batches_total", "Evidence batches closed").inc();
  return true;
}

Status AuditSealer::stamp(store::PgConnection& db) {
  if (settings_.tsa_url.empty() || !fetch_) return {};
  auto rows = db.exec("SELECT id, root FROM audit_batch WHERE timestamp_token IS NULL ORDER BY id LIMIT 20");
  if (!rows) return rows.error();
  for (int i = 0; i < rows->rows(); ++i) {
    std::string id(rows->get(i, 0));
    std::string root = *hexDecode(rows->get(i, 1));
    auto query = crypto::timestampQuery(root);
    Result<std::string> token = query ? fetch_(*query) : Result<std::string>(query.error());
    if (token) {
      // Stored only once it verifies: a TSA that answers nonsense is as good as none.
      if (auto checked = crypto::verifyTimestamp(*token, root, ca_pem_); !checked) token = checked.error();
    }
    if (!token) {
      auto u = db.exec("UPDATE audit_batch SET attempts = attempts + 1, last_error = $2 WHERE id = $1",
                       {id, token.error().message});
      if (!u) return u.error();
      app::metrics().counter("vkhid_audit_timestamp_failures_total", "Time-stamp requests that failed").inc();
      log::warn("audit: time-stamp not obtained, the batch waits", {{"batch", id}, {"error", token.error().message}});
      return {};  // the authority is away: the others wait too
    }
    auto u = db.exec(
        "UPDATE audit_batch SET timestamp_token = $2::bytea, stamped_at = now() WHERE id = $1 AND timestamp_token IS "
        "NULL",
        {id, byteaHex(*token)});
    if (!u) return u.error();
  }
  return {};
}

Status AuditSealer::refreshHealth(store::PgConnection& db) {
  auto r = db.exec(
      // The oldest unchained entry is the first by id, the oldest unbatched the first by seq (as in
      // closeBatch): each found through an index, however long the backlog.
      "SELECT greatest((SELECT coalesce(extract(epoch FROM now() - (SELECT at FROM audit_entry WHERE seq IS NULL "
      "ORDER BY id LIMIT 1)), 0)), coalesce((SELECT extract(epoch FROM now() - at) FROM audit_entry WHERE seq = " +
          std::string(kLastBatchedSeq) +
          " + 1), 0), CASE WHEN $1 THEN (SELECT coalesce(extract(epoch FROM now() - min(e.at)), 0) FROM audit_batch b "
          "JOIN "
          "audit_entry e ON e.seq = b.first_seq WHERE b.timestamp_token IS NULL) ELSE 0 END)::bigint, "
          "(SELECT coalesce(min(id), 0) FROM audit_batch WHERE timestamp_token IS NULL)",
      {settings_.tsa_url.empty() ? "false" : "true"});
  if (!r) return r.error();
  long long age = r->getInt(0, 0);
  unsealed_s_ = age;
  app::metrics()
      .gauge("vkhid_audit_unsealed_seconds", "Age of the oldest evidence not yet sealed and time-stamped")
      .set(static_cast<double>(age));
  bool sealed = age <= settings_.fail_closed_after_s;
  if (!sealed && sealed_.exchange(false)) {
    log::error("audit: evidence unsealed for too long", {{"seconds", age}});
    // One alert per stuck batch, whichever gateway notices first (the message id de-duplicates).
    return enqueueOutbox(db, bus::names::kAlerts, "audit.unsealed", "audit.unsealed:" + std::string(r->get(0, 1)),
                         json::serialize(json::object{{"unsealed_seconds", age},
                                                      {"fail_closed", settings_.fail_closed},
                                                      {"notify", json::array{"ucc:coordinator"}}}));
  }
  if (sealed && !sealed_.exchange(true)) log::info("audit: evidence sealed again", {});
  return {};
}

Status AuditSealer::runOnce(store::PgConnection& db) {
  Status chained = store::inTransaction(db, [&]() -> Status {
    auto lock = db.exec("SELECT pg_try_advisory_xact_lock(hashtext('vkhid.audit'))");
    if (!lock) return lock.error();
    if (lock->get(0, 0) != "t") return {};  // another gateway is at it
    auto n = chain(db);
    if (!n) return n.error();
    auto closed = closeBatch(db);
    return closed ? Status() : Status(closed.error());
  });
  if (!chained) return chained;
  if (auto s = stamp(db); !s) return s;
  return store::inTransaction(db, [&]() -> Status { return refreshHealth(db); });
}

}  // namespace vkhid::flows
