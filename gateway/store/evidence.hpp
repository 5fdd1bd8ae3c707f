// The evidence repository (DESIGN §10): the append-only log of audit entries — each inserted once, never
// updated — and the signed, time-stamped batches the sealer closes over them in chain order (xid, id),
// which alone hold the chain's hashes (migration 0018); read back by the export and the proofs. The
// hashes and Merkle trees are computed by flows/audit and crypto/merkle; this is where the rows live.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "gateway/store/pg.hpp"

namespace vkhid::store {

// One evidence entry, in the caller's transaction: `action` on `subject` with the digest of what it
// concerns, by `actor` — or, empty, by whoever the connection acts for (vkhid_audit_actor()).
Status appendEvidence(PgConnection& db, const std::string& action, const std::string& subject,
                      const std::string& payload_sha256, const std::string& actor = {});

// One gateway seals at a time: the transaction-scoped advisory lock, or false when another holds it.
Result<bool> tryLockSealer(PgConnection& db);
// Who holds the sealer's lock in this database: "<application> pid <pid> <state> for <n> s", or empty.
Result<std::string> sealerLockHolder(PgConnection& db);

// Where the sealed chain ends: the last batch's last seq and entry hash, and the key (xid, id) of its
// last entry — ("0", 0) before the first batch, or when the last predates migration 0018 (entries
// chained then keep their seq and are passed over by the key's queries).
struct ChainTail {
  long long last_seq = 0;
  std::string head_hash;  // hex; empty before the first batch
  std::string last_xid = "0";
  long long last_id = 0;
};
Result<ChainTail> chainTail(PgConnection& db);

// Entries after the tail whose transactions are older than every running one (none can appear before
// them any more), counted from the entry `from_xid`, `from_id` on (the tail's, or the last one an earlier
// count reached: an entry that settles later was written by a transaction still running then, whose xid
// is above every one counted, so a count goes on from where the last one stopped): how many, up to
// `limit`, the last of them, and how long the first after the tail has waited.
struct BatchBacklog {
  long long entries = 0;
  std::string last_xid;  // the last entry counted; empty when none was
  long long last_id = 0;
  long long oldest_age_ms = 0;
};
Result<BatchBacklog> batchBacklog(PgConnection& db, const ChainTail& tail, const std::string& from_xid,
                                  long long from_id, long long limit);

// An entry as it was written: its key and what its hash covers.
struct StoredEntry {
  std::string xid;
  long long id = 0;
  std::string at;  // UTC, microseconds
  std::string actor, action, subject, payload_sha256;
};
// The first `limit` settled entries after the tail, in chain order.
Result<std::vector<StoredEntry>> settledAfter(PgConnection& db, const ChainTail& tail, int limit);

// A closed batch: its range, Merkle root (hex), the seal's detached signature over the root (DER) and,
// once obtained, the time-stamp token (DER); the hash its first entry follows, its entries' hashes (32
// bytes each, in chain order: the Merkle leaves) and their keys (first_xid empty: a batch of entries
// chained by seq, before migration 0018).
struct BatchRow {
  long long id = 0, first_seq = 0, last_seq = 0, entries = 0;
  std::string root, signature;
  std::optional<std::string> timestamp_token;
  std::string prev_hash, leaves;
  std::string first_xid, last_xid;
  long long first_id = 0, last_id = 0;
  std::string first_at, last_at;  // the span of its entries' times (written, not read back)
};
Status insertBatch(PgConnection& db, const BatchRow& batch);

// A sealed batch recounted: the entries it sealed, and how many its key range holds now — counted from
// just after the batch before it, so an entry that turned up between two sealed ranges counts too. Other
// than `sealed`: an entry inserted into, or deleted from, the log after it was sealed.
struct BatchCount {
  long long id = 0, sealed = 0, held = 0;
};
// The append-only batches after `after_id` closed between `settle_s` seconds and ten minutes ago, oldest
// first, up to `limit`.
Result<std::vector<BatchCount>> recountBatches(PgConnection& db, long long after_id, int settle_s, int limit);

// Batches still without a time-stamp, oldest first (without their leaves).
Result<std::vector<BatchRow>> unstampedBatches(PgConnection& db, int limit);
Status recordStampFailure(PgConnection& db, long long batch_id, const std::string& error);
Status storeStamp(PgConnection& db, long long batch_id, const std::string& token);

// How long the oldest evidence has waited to be sealed (batched and — with a time-stamp authority —
// stamped), and the first batch without a stamp (0: none).
struct SealHealthRow {
  long long unsealed_s = 0;
  long long first_unstamped_batch = 0;
};
Result<SealHealthRow> sealHealth(PgConnection& db, bool stamping);

// A batch's entries in chain order, as the database holds them now.
Result<std::vector<StoredEntry>> batchEntries(PgConnection& db, const BatchRow& batch);

// Whole batches covering the entries written between `from` and `to` (ISO 8601; empty: open), and every
// batch between them, in id order.
Result<std::vector<BatchRow>> batchesCovering(PgConnection& db, const std::string& from, const std::string& to);
// The batch whose range holds `seq`.
Result<std::optional<BatchRow>> batchHolding(PgConnection& db, long long seq);

// Who acts for the rest of the session: the evidence log names them ("admin:cli:<user>", "admin:<client>").
Status setSessionActor(PgConnection& db, const std::string& actor);

}  // namespace vkhid::store
