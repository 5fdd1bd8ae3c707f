// The evidence log (DESIGN §10): the chain, the batches (Merkle root, seal signature, RFC 3161
// time-stamp), the evidence bundle and its offline verification. Entries are appended by database
// triggers in the same transaction as the change they record (migration 0006), and never updated
// (migration 0018); this module chains them into sealed batches, exports and verifies.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gateway/app/config.hpp"
#include "gateway/crypto/merkle.hpp"
#include "gateway/crypto/signer.hpp"
#include "gateway/store/pg.hpp"

namespace vkhid::flows {

// ---- pure: hashes and Merkle trees (SHA-256; RFC 6962 style, leaves and nodes domain-separated) ----

struct AuditEntry {
  long long seq = 0;
  std::string at;  // UTC, microseconds: 2026-11-28T21:00:00.123456Z
  std::string actor, action, subject, payload_sha256;
  std::string prev_hash, entry_hash;  // hex
  long long batch = 0;
};

// SHA-256 (hex) over "vkhid-audit-1", prev_hash, at, actor, action, subject and payload_sha256, one per
// line. The seq is not hashed: the order is the chain of prev_hash links, so a moved entry is told
// apart from an edited one.
std::string auditEntryHash(const AuditEntry& e);

// A batch's root is the Merkle root over its entry hashes in seq order (crypto/merkle).
using crypto::checkMerkleProof;
using crypto::merkleProof;
using crypto::merkleRoot;
using crypto::ProofStep;

// ---- in the running gateway ----

// POSTs a TimeStampReq (DER), returns the TimeStampResp (DER). Given by the service (HTTP client).
using TimestampFetch = std::function<Result<std::string>(const std::string& query_der)>;

class AuditSealer {
 public:
  AuditSealer(const app::AuditSettings& settings, const crypto::Signer& signer, TimestampFetch fetch);
  // One pass: closes settled entries into a batch when due (the chain and its Merkle tree computed and
  // written to the batch row), time-stamps unstamped batches (one gateway at a time, under an advisory
  // lock), and refreshes evidenceSealed().
  Status runOnce(store::PgConnection& db);
  // False once evidence has waited longer than audit.fail_closed_after_s for its seal and time-stamp.
  bool evidenceSealed() const { return sealed_.load(); }
  long long unsealedSeconds() const { return unsealed_s_.load(); }

 private:
  Result<bool> closeBatch(store::PgConnection& db);
  Status stamp(store::PgConnection& db);
  Status refreshHealth(store::PgConnection& db);
  Status watch(store::PgConnection& db);
  void reportLockHolder(store::PgConnection& db);

  app::AuditSettings settings_;
  const crypto::Signer& signer_;
  TimestampFetch fetch_;
  std::string ca_pem_;
  std::atomic<bool> sealed_{true};
  std::atomic<long long> unsealed_s_{0};
  long long watched_batch_ = 0;  // the last batch recounted
  // The settled entries after the chain's tail counted so far (store::batchBacklog), and the last of
  // them: each pass counts only what settled since. Begun again whenever the tail moves.
  struct Backlog {
    std::string tail_xid;
    long long tail_id = -1;
    std::string last_xid;
    long long last_id = 0;
    long long entries = 0;
  } backlog_;
  std::chrono::steady_clock::time_point next_watch_{};
  std::chrono::steady_clock::time_point lock_missed_since_{}, next_lock_report_{};  // zero: this one seals
};

// ---- export, verification, proofs ----

struct ExportOptions {
  std::string from, to;     // ISO 8601 instants (inclusive); empty = unbounded
  std::string participant;  // only this participant's packages (entries stay whole)
  std::string out_dir;
  // The packages hold personal data: each case whose packages go into the bundle is recorded as read
  // ("export", by the connection's actor, with this reason) before a file is written, on `recorder` (the
  // primary's connection when the export reads a replica; null: the export's own).
  std::string reason = "evidence export";
  store::PgConnection* recorder = nullptr;
  // A batch is sealed some moments before its time-stamp comes back (longer while the authority is
  // unreachable). The last batches of the range still waiting for theirs are left out of the bundle and
  // named in the summary, so a bundle verifies as soon as it is written; false keeps them (a backup
  // takes everything sealed, and the verifier names a batch without its time-stamp).
  bool stamped_only = true;
};
// Writes the bundle: manifest.json, entries.jsonl, batches.jsonl, packages/<msg_id>.xml, certs/*.pem.
// Whole batches are exported (every entry of a batch that has one in the range), so each root can be
// recomputed. Returns a one-line summary.
Result<std::string> exportBundle(store::PgConnection& db, const app::Config& config, const ExportOptions& o);

struct VerifyReport {
  bool ok = true;
  std::string summary;  // entries, packages, batches, time span
  std::string failure;  // the first break: "seq N: edited — …"
  // What the verifier found and accepts, said for the auditor: "package … erased under rule R on D (its
  // hash was H)".
  std::vector<std::string> notes;
};
// Offline: no database, no network. Checks file digests, the chain, each batch root, signature and
// time-stamp, that every entry is in a batch, and each package's presence, digest and its own seal and
// attachment signatures. The batches must be sealed by `ucc_org_id` (the manifest's when empty); the
// summary names who sealed them and when they were time-stamped.
VerifyReport verifyBundle(const std::string& dir, const std::string& ucc_org_id = {});

// An inclusion proof for one entry (JSON): the entry, its hash, the path and the batch root.
Result<std::string> proveEntry(store::PgConnection& db, long long seq);

// Offline, what a third party given one proof checks: the entry's hash from its content, the path from
// it to the root, the seal's signature over the root (chained to `ca_pem`, by `ucc_org_id` unless
// empty) and the time-stamp over it. The summary names the entry, batch, sealer and time-stamp.
VerifyReport checkProof(const std::string& proof_json, const std::string& ca_pem, const std::string& ucc_org_id);

}  // namespace vkhid::flows
