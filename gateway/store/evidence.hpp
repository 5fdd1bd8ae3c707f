// The evidence repository (DESIGN §10): the append-only log of audit entries, chained by the sealer in
// seq order and closed into signed, time-stamped batches; read back by the export and the proofs. The
// hashes and Merkle trees are computed by flows/audit and crypto/merkle; this is where the rows live.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "gateway/store/pg.hpp"

namespace vkhid::store {

// SQL: the last seq of the last closed batch, 0 before the first. Batches close in seq order without
// gaps, so an entry's batch is the one whose range holds its seq, and the entries after this one are
// in none yet (migration 0013).
inline constexpr const char* kLastBatchedSeq =
    "(SELECT coalesce((SELECT last_seq FROM audit_batch ORDER BY id DESC LIMIT 1), 0))";
// SQL: the batch of the entry aliased `e` (its id), NULL while it is in none (migration 0014: the entry
// no longer carries it). One probe of audit_batch_last_seq.
inline constexpr const char* kBatchOfEntry =
    "(SELECT b.id FROM audit_batch b WHERE b.last_seq >= e.seq AND b.first_seq <= e.seq ORDER BY b.last_seq LIMIT 1)";

// One gateway seals at a time: the transaction-scoped advisory lock, or false when another holds it.
Result<bool> tryLockSealer(PgConnection& db);

// An entry written but not chained yet.
struct UnchainedEntryRow {
  std::string id;
  std::string at;  // UTC, microseconds
  std::string actor, action, subject, payload_sha256;
};
// Up to `limit` unchained entries, by id, whose transactions are older than every running one: none can
// appear before them any more.
Result<std::vector<UnchainedEntryRow>> settledUnchained(PgConnection& db, int limit);

// The last chained entry; nullopt while nothing is chained.
struct ChainHead {
  long long seq = 0;
  std::string entry_hash;
};
Result<std::optional<ChainHead>> chainHead(PgConnection& db);

// Entries given their place in the chain.
struct ChainLink {
  std::string id;
  long long seq = 0;
  std::string prev_hash, entry_hash;
};
Status writeChain(PgConnection& db, const std::vector<ChainLink>& links);

// Chained entries in no batch yet: how many, and how long the oldest has waited.
struct BatchBacklog {
  long long entries = 0;
  long long oldest_age_ms = 0;
};
Result<BatchBacklog> batchBacklog(PgConnection& db);

// The next `limit` chained entries after the last batch, in seq order: their seqs and hashes.
struct SeqHash {
  long long seq = 0;
  std::string entry_hash;
};
Result<std::vector<SeqHash>> nextToBatch(PgConnection& db, int limit);

// A closed batch: its range, Merkle root (hex), the seal's detached signature over the root (DER) and,
// once obtained, the time-stamp token (DER).
struct BatchRow {
  long long id = 0, first_seq = 0, last_seq = 0, entries = 0;
  std::string root, signature;
  std::optional<std::string> timestamp_token;
};
Status insertBatch(PgConnection& db, const BatchRow& batch);

// Batches still without a time-stamp, oldest first.
Result<std::vector<BatchRow>> unstampedBatches(PgConnection& db, int limit);
Status recordStampFailure(PgConnection& db, long long batch_id, const std::string& error);
Status storeStamp(PgConnection& db, long long batch_id, const std::string& token);

// How long the oldest evidence has waited to be sealed (chained, batched, and — with a time-stamp
// authority — stamped), and the first batch without a stamp (0: none).
struct SealHealthRow {
  long long unsealed_s = 0;
  long long first_unstamped_batch = 0;
};
Result<SealHealthRow> sealHealth(PgConnection& db, bool stamping);

// A chained entry, with the batch that holds it (0: none yet).
struct EvidenceEntryRow {
  long long seq = 0;
  std::string at, actor, action, subject, payload_sha256, prev_hash, entry_hash;
  long long batch_id = 0;
};
Result<std::vector<EvidenceEntryRow>> entriesBetween(PgConnection& db, long long first_seq, long long last_seq);
Result<std::optional<EvidenceEntryRow>> entryAt(PgConnection& db, long long seq);

// Whole batches covering the entries written between `from` and `to` (ISO 8601; empty: open), and every
// batch between them, in id order.
Result<std::vector<BatchRow>> batchesCovering(PgConnection& db, const std::string& from, const std::string& to);
Result<std::optional<BatchRow>> batchById(PgConnection& db, long long id);
// The entry hashes of a batch, in seq order: its Merkle tree's leaves.
Result<std::vector<std::string>> batchLeaves(PgConnection& db, long long batch_id);

// Who acts for the rest of the session: the evidence log names them ("admin:cli:<user>", "admin:<client>").
Status setSessionActor(PgConnection& db, const std::string& actor);

}  // namespace vkhid::store
