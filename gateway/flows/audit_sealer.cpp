// The evidence log's sealer: closes settled entries into batches under a signed Merkle root (the chain
// and the tree written to the batch row; the entries are never updated), time-stamps them, and keeps
// the fail-closed flag.
#include "gateway/flows/audit.hpp"

#include <algorithm>
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
#include "gateway/store/evidence.hpp"
#include "gateway/store/pg_pool.hpp"

namespace vkhid::flows {

using namespace audit_detail;
namespace json = boost::json;
namespace fs = std::filesystem;

// ---- the sealer ----

namespace {

// Exported from the start at 0, so that an alert on its increase sees the first one.
app::Series& sealedChangedCounter() {
  return app::metrics().counter("vkhid_audit_sealed_batches_changed_total",
                                "Sealed evidence batches whose entries were inserted or deleted after sealing");
}

}  // namespace

AuditSealer::AuditSealer(const app::AuditSettings& settings, const crypto::Signer& signer, TimestampFetch fetch)
    : settings_(settings), signer_(signer), fetch_(std::move(fetch)) {
  if (!settings_.ca_file.empty()) {
    if (auto pem = crypto::readFile(settings_.ca_file)) ca_pem_ = *pem;
  }
  (void)sealedChangedCounter();
}

Result<bool> AuditSealer::closeBatch(store::PgConnection& db) {
  auto tail = store::chainTail(db);
  if (!tail) return tail.error();
  const int limit = static_cast<int>(settings_.batch_max_entries);
  if (backlog_.tail_xid != tail->last_xid || backlog_.tail_id != tail->last_id) {
    backlog_ = {tail->last_xid, tail->last_id, tail->last_xid, tail->last_id, 0};
  }
  auto backlog = store::batchBacklog(db, *tail, backlog_.last_xid, backlog_.last_id, limit - backlog_.entries);
  if (!backlog) return backlog.error();
  if (backlog->entries > 0) {
    backlog_.entries += backlog->entries;
    backlog_.last_xid = backlog->last_xid;
    backlog_.last_id = backlog->last_id;
  }
  if (backlog_.entries == 0 || (backlog_.entries < limit && backlog->oldest_age_ms < settings_.batch_max_age_ms)) {
    return false;
  }
  auto rows = store::settledAfter(db, *tail, limit);
  if (!rows) return rows.error();
  if (rows->empty()) return false;
  // The chain, computed here and written to the batch row alone: the entries stay as inserted.
  store::BatchRow batch;
  batch.first_seq = tail->last_seq + 1;
  batch.prev_hash = tail->head_hash.empty() ? kGenesis : tail->head_hash;
  std::vector<std::string> hashes;
  hashes.reserve(rows->size());
  std::string prev = batch.prev_hash;
  for (const auto& r : *rows) {
    AuditEntry e{0, r.at, r.actor, r.action, r.subject, r.payload_sha256, prev, {}, 0};
    prev = auditEntryHash(e);
    batch.leaves += *hexDecode(prev);
    hashes.push_back(prev);
  }
  batch.last_seq = tail->last_seq + static_cast<long long>(rows->size());
  batch.entries = static_cast<long long>(rows->size());
  batch.root = merkleRoot(hashes);
  auto signature = crypto::signDetached(*hexDecode(batch.root), signer_);
  if (!signature) return signature.error();
  batch.signature = signature->der;
  batch.first_xid = rows->front().xid;
  batch.first_id = rows->front().id;
  batch.last_xid = rows->back().xid;
  batch.last_id = rows->back().id;
  auto [earliest, latest] = std::minmax_element(rows->begin(), rows->end(), [](const auto& a, const auto& b) {
    return a.at < b.at;  // ISO 8601 UTC, fixed width: text order is time order
  });
  batch.first_at = earliest->at;
  batch.last_at = latest->at;
  if (auto s = store::insertBatch(db, batch); !s) return s.error();
  app::metrics().counter("vkhid_audit_batches_total", "Evidence batches closed").inc();
  return true;
}

Status AuditSealer::stamp(store::PgConnection& db) {
  if (settings_.tsa_url.empty() || !fetch_) return {};
  auto batches = store::unstampedBatches(db, 20);
  if (!batches) return batches.error();
  for (const auto& batch : *batches) {
    std::string root = *hexDecode(batch.root);
    auto query = crypto::timestampQuery(root);
    Result<std::string> token = query ? fetch_(*query) : Result<std::string>(query.error());
    if (token) {
      // Stored only once it verifies: a TSA that answers nonsense is as good as none.
      if (auto checked = crypto::verifyTimestamp(*token, root, ca_pem_); !checked) token = checked.error();
    }
    if (!token) {
      if (auto s = store::recordStampFailure(db, batch.id, token.error().message); !s) return s;
      app::metrics().counter("vkhid_audit_timestamp_failures_total", "Time-stamp requests that failed").inc();
      log::warn("audit: time-stamp not obtained, the batch waits",
                {{"batch", batch.id}, {"error", token.error().message}});
      return {};  // the authority is away: the others wait too
    }
    if (auto s = store::storeStamp(db, batch.id, *token); !s) return s;
  }
  return {};
}

Status AuditSealer::refreshHealth(store::PgConnection& db) {
  auto r = store::sealHealth(db, !settings_.tsa_url.empty());
  if (!r) return r.error();
  const long long age = r->unsealed_s;
  unsealed_s_ = age;
  app::metrics()
      .gauge("vkhid_audit_unsealed_seconds", "Age of the oldest evidence not yet sealed and time-stamped")
      .set(static_cast<double>(age));
  bool sealed = age <= settings_.fail_closed_after_s;
  if (!sealed && sealed_.exchange(false)) {
    log::error("audit: evidence unsealed for too long", {{"seconds", age}});
    // One alert per stuck batch, whichever gateway notices first (the message id de-duplicates).
    return enqueueOutbox(db, bus::names::kAlerts, "audit.unsealed",
                         "audit.unsealed:" + std::to_string(r->first_unstamped_batch),
                         json::serialize(json::object{{"unsealed_seconds", age},
                                                      {"fail_closed", settings_.fail_closed},
                                                      {"notify", json::array{"ucc:coordinator"}}}));
  }
  if (sealed && !sealed_.exchange(true)) log::info("audit: evidence sealed again", {});
  return {};
}

// The log as sealed, watched while it runs: each batch is recounted once its entries have settled (a few
// seconds after it was closed). An entry inserted into or deleted from a sealed range — by someone with
// write access to the database, or by a fault — is logged, counted and alerted within seconds, where the
// offline verifier would find it only at the next export.
Status AuditSealer::watch(store::PgConnection& db) {
  constexpr int kSettleSeconds = 5;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_watch_) return {};
  next_watch_ = now + std::chrono::seconds(1);
  auto counts = store::recountBatches(db, watched_batch_, kSettleSeconds, 200);
  if (!counts) return counts.error();
  for (const auto& b : *counts) {
    if (b.held == b.sealed) {
      watched_batch_ = b.id;
      continue;
    }
    sealedChangedCounter().inc();
    log::error("audit: a sealed batch's entries changed after it was sealed",
               {{"batch", b.id}, {"sealed", b.sealed}, {"held_now", b.held}});
    if (auto s = enqueueOutbox(db, bus::names::kAlerts, "audit.sealed_changed",
                               "audit.sealed_changed:" + std::to_string(b.id),
                               json::serialize(json::object{{"batch", b.id},
                                                            {"sealed", b.sealed},
                                                            {"held_now", b.held},
                                                            {"notify", json::array{"ucc:coordinator"}}}));
        !s) {
      return s;  // recounted again next time: the alert is not lost
    }
    watched_batch_ = b.id;
  }
  return {};
}

// Another gateway seals while it holds the lock, a round of milliseconds at a time: a lock missed
// continuously for ten seconds is held by a session that is stuck, and while it is, nothing is sealed
// (then intake fails closed). Said once a minute, naming the session.
void AuditSealer::reportLockHolder(store::PgConnection& db) {
  const auto now = std::chrono::steady_clock::now();
  if (lock_missed_since_ == std::chrono::steady_clock::time_point{}) lock_missed_since_ = now;
  if (now - lock_missed_since_ < std::chrono::seconds(10) || now < next_lock_report_) return;
  next_lock_report_ = now + std::chrono::minutes(1);
  auto holder = store::sealerLockHolder(db);
  log::warn("audit: another session has held the sealer's lock for over 10 s; this gateway cannot seal",
            {{"holder", holder ? *holder : holder.error().message}});
}

Status AuditSealer::runOnce(store::PgConnection& db) {
  bool sealing = false;
  Status chained = store::inTransaction(db, [&]() -> Status {
    auto locked = store::tryLockSealer(db);
    if (!locked) return locked.error();
    if (!*locked) return {};  // another gateway is at it
    sealing = true;
    auto closed = closeBatch(db);
    return closed ? Status() : Status(closed.error());
  });
  if (!chained) return chained;
  if (sealing) {
    lock_missed_since_ = {};
  } else {
    reportLockHolder(db);
  }
  if (auto s = watch(db); !s) return s;
  if (auto s = stamp(db); !s) return s;
  return store::inTransaction(db, [&]() -> Status { return refreshHealth(db); });
}

}  // namespace vkhid::flows
