// The messages repository (DESIGN §5): every package of the exchange, in and out, written and read by
// named rows — what a flow records of a package, what a receipt refers to, and the claim a delivery
// holds while its adapter sends. The flows never spell the `message` table's SQL themselves.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/store/pg.hpp"

namespace vkhid::store {

// What a participant's receipt says beyond its kind (ack_type) and the package it acknowledges
// (ref_msg_id), recorded in the receipt's own row (migration 0034; read through the view `receipt`).
struct ReceiptFields {
  std::optional<std::string> reg_number, reg_date;  // a registration receipt's
  std::optional<int> error_code;                    // a rejection's
  std::optional<std::string> error_text;
};

// A package as the exchange records it: one row of `message`.
struct MessageRecord {
  std::string msg_id;
  std::string direction;  // "in" (from a participant) or "out" (ours)
  std::string case_id;    // empty: of no case
  std::string peer_org_id;
  int msg_type = 0;  // -1: bytes no handler could read
  std::optional<int> ack_type;
  std::string ref_msg_id;               // the message it answers or acknowledges; empty (or not a UUID): none
  std::string_view bytes;               // as they came (or their first kilobytes, when `bytes_cut`); not owned
  std::string sha256;                   // of the whole package
  std::string status;                   // queued (out), applied or rejected (in)
  std::string seal_verdict;             // empty: not judged
  std::optional<int> error_code;        // the SEV code it was refused with
  std::string last_error;               // empty: none
  std::string signatures_json;          // the attachments' verdicts on arrival; empty: none
  std::optional<long long> size_bytes;  // the whole package's size, when only part is kept
  bool bytes_cut = false;
  std::optional<ReceiptFields> receipt;  // a receipt recorded as one; none: not a receipt, or kept as evidence only

  // The row's identity; the rest is set field by field.
  static MessageRecord of(std::string msg_id, std::string direction, std::string case_id, std::string peer_org_id,
                          int msg_type) {
    MessageRecord m;
    m.msg_id = std::move(msg_id);
    m.direction = std::move(direction);
    m.case_id = std::move(case_id);
    m.peer_org_id = std::move(peer_org_id);
    m.msg_type = msg_type;
    return m;
  }
};

// How a write goes: now (its error is this call's), or queued with the transaction's next statement.
enum class Write { Now, Queued };

Status insertMessage(PgConnection& db, const MessageRecord& m, Write how = Write::Now);

// One of our packages to `peer_org_id`, as a receipt refers to it; nullopt: not ours, or not to it.
struct OurMessageRow {
  std::string case_id;  // empty: of no case
  int msg_type = 0;
};
Result<std::optional<OurMessageRow>> findOurMessage(PgConnection& db, const std::string& msg_id,
                                                    const std::string& peer_org_id);

// A package a participant's receipt or notice refers to, as read by findOurMessage or with a batch of
// arrivals' cases (flows/inbound.cpp): what both judge it by. None of these columns changes once the row
// is written.
struct ReferredPackage {
  std::string case_id;  // empty: of no case
  int msg_type = 0;
  std::string direction;
  std::string peer_org_id;
  // As findOurMessage would answer for `peer_org_id`.
  std::optional<OurMessageRow> ourTo(const std::string& peer) const {
    if (direction != "out" || peer_org_id != peer) return std::nullopt;
    return OurMessageRow{case_id, msg_type};
  }
};

// The digest of what was received before under `msg_id`; nullopt: never.
Result<std::optional<std::string>> earlierDigest(PgConnection& db, const std::string& msg_id);
// The same for several msg_ids (UUIDs, in lower case) in one statement: each one asked for, with its
// digest or nullopt.
Result<std::map<std::string, std::optional<std::string>, std::less<>>> earlierDigests(
    PgConnection& db, const std::vector<std::string>& msg_ids);
// The same asked ahead (PgConnection::ask), for earlierDigests with the same msg_ids in the same order.
void askEarlierDigests(PgConnection& db, const std::vector<std::string>& msg_ids);

// Our receipts for `their_msg_id` that went out (or died) are queued again; their msg_ids.
Result<std::vector<std::string>> requeueReceiptsFor(PgConnection& db, const std::string& their_msg_id);

// A package claimed for delivery by one process, with its participant's active endpoint.
struct DeliveryClaimRow {
  std::string msg_id;
  std::string bytes;
  std::string peer_org_id;
  int attempts = 0;     // this one included
  std::string case_id;  // empty: of no case
  int msg_type = 0;
  std::optional<std::string> adapter;  // nullopt: the participant has no active endpoint
  std::string settings_json;
};

// Claims queued packages (or ones waiting for their retry) whose participant is active, in one statement
// (issue 25: a batch of deliveries, one claim): held by `process_id` since now, one attempt more — the
// status `sending`, kept as `claimed_by` beside the status the package waited in (migration 0031), so
// the row is updated in place. The rows claimed, in no order; one not claimed was sent already, is
// claimed by another worker, or is held; a msg_id that is not a uuid claims nothing.
Result<std::vector<DeliveryClaimRow>> claimAllForDelivery(PgConnection& db, const std::vector<std::string>& msg_ids,
                                                          const std::string& process_id);

// A package a claim did not take. Its job must come again while it still waits for delivery unclaimed,
// whatever kept the claim from it: its participant not active (suspended, or checking) — or active again
// since the claim read it, which the claim and this read, two statements, cannot tell apart. Only a
// package sent, dead or claimed by another worker lets its job go.
struct UnclaimedPackage {
  bool waits = false;                 // queued or waiting_retry, and claimed by nobody
  bool participant_inactive = false;  // and its participant is not active now
};
Result<UnclaimedPackage> unclaimedPackage(PgConnection& db, const std::string& msg_id);

// Moves a claim on to `to` (sent, waiting_retry, dead) with its error, and ends it: false when it is no
// longer claimed — recorded already, by an earlier try whose answer was lost — and then left as it is.
Result<bool> moveClaim(PgConnection& db, const std::string& msg_id, const std::string& to, const PgParam& error);
// The same for several claims in one statement, all to `to` without an error, inside the caller's
// transaction: the ids (lower case) of those it moved, and the cases of the appeal packages among them
// (msg_type 1), locked in the order of their ids until the transaction ends, with their statuses.
struct MovedClaims {
  std::set<std::string, std::less<>> moved;
  std::map<std::string, std::string, std::less<>> case_status;  // by case id
};
Result<MovedClaims> moveClaims(PgConnection& db, const std::vector<std::string>& msg_ids, const std::string& to);

// A package reached participant `org_id` now: when one last did, for the operations gauge (migration
// 0039). Once a transaction for each participant it delivered to; queued.
Status noteDelivered(PgConnection& db, const std::string& org_id);

// Our dead package `msg_id`, queued again with its attempts counted from 0; nullopt when there is no
// such dead package.
struct ReplayedRow {
  std::string peer_org_id, case_id;  // case_id empty: of no case
  int msg_type = 0;
};
Result<std::optional<ReplayedRow>> requeueDead(PgConnection& db, const std::string& msg_id);

// A package's bytes as stored; nullopt when it is not in the store.
struct StoredPackageRow {
  std::string bytes;
  bool bytes_cut = false;  // only its first kilobytes were kept (refused unread as too large)
  // Erased under the retention rules or at the data subject's request: no bytes; its digest stands.
  std::string sha256, erased_rule, erased_at;
};
Result<std::optional<StoredPackageRow>> storedPackage(PgConnection& db, const std::string& msg_id);

// A package's bytes are sealed at rest (store/at_rest.hpp), bound to its msg_id: every write and read
// of message.bytes goes through these. Empty bytes (erased, or none kept) stay empty.
std::string packageAad(std::string_view msg_id);
Result<std::string> sealPackage(PgConnection& db, std::string_view msg_id, std::string_view bytes);
Result<std::string> openPackage(PgConnection& db, std::string_view msg_id, std::string_view stored);

// A claim lost by its holder, queued again.
struct LostClaimRow {
  std::string msg_id, peer_org_id;
};

// Returns lost claims to the queue: those `process_id` holds but none of its workers carries out
// (`in_flight`, a text[] literal) for ten seconds, and any whose process died — it no longer
// heartbeats (its gateway_instance row shows another pid, or is stale, or stopped) — or that is older
// than any adapter's timeouts.
Result<std::vector<LostClaimRow>> requeueLostClaims(PgConnection& db, const std::string& process_id,
                                                    const std::string& in_flight);

// A test package of the connectivity check or a conformance run, ours to `peer_org_id` (`case_id` empty:
// of no case): recorded 'checking' with its one attempt, so the participant's receipts find it; the
// exchange never delivers or retries it. Recorded once: the same msg_id again is left as it is.
Status recordTestPackage(PgConnection& db, const std::string& msg_id, const std::string& case_id,
                         const std::string& peer_org_id, std::string_view bytes);
// Its one attempt's end: 'sent', or 'check_failed' with the adapter's error.
Status settleTestPackage(PgConnection& db, const std::string& msg_id, bool accepted, const std::string& error);

// What a participant sent about one of our packages, as the gateway that took it in recorded it.
struct InboundRow {
  std::string msg_id, status;
  std::string seal_verdict;  // empty: not judged
  int msg_type = 0;
  int ack_type = 0;    // 0: no receipt
  int error_code = 0;  // 0: not refused
  std::string last_error;
  std::string reg_number;  // the number a registration receipt gave; empty: none
};
// Oldest first.
Result<std::vector<InboundRow>> messagesReferringTo(PgConnection& db, const std::string& ref_msg_id);

// The lowest SEV code a reply (msg_type 3) from `peer_org_id` was refused with since case `case_id` was
// registered; 0 for none.
Result<int> replyRefusedSince(PgConnection& db, const std::string& peer_org_id, const std::string& case_id);
// The lowest extension code (133, 134, 135) a package from `peer_org_id` was refused with in the last
// hour; 0 for none.
Result<int> extensionRefusedLately(PgConnection& db, const std::string& peer_org_id);

}  // namespace vkhid::store
