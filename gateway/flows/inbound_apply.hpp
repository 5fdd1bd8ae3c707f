// The inbound flow's parts: the peer a transport identity names, the package being applied, our
// receipts, and one handler per kind of message. Used by flows/inbound.cpp (InboundHandler), inside the
// transaction that records the package.
#pragma once

#include <optional>
#include <string>

#include <boost/json.hpp>

#include "gateway/crypto/package.hpp"
#include "gateway/domain/case.hpp"
#include "gateway/flows/context.hpp"
#include "gateway/sev/builders.hpp"
#include "gateway/store/inbound_rows.hpp"
#include "gateway/store/participants.hpp"

namespace vkhid::flows::inbound {

// The sending participant, as its packages are judged.
using Peer = store::PeerRow;

// One package being applied: what every handler reads, and what it decides.
struct Arrival {
  ExchangeContext& ctx;
  store::PgConnection& db;
  const Peer& peer;
  const sev::Header& h;
  store::InboundRows& rows;  // what the transaction's arrivals read (a batch's: read for the batch)
  // Decided by the handler:
  std::string case_id, ref_msg_id, effect;
  std::optional<Error> mismatch;                   // refused: the SEV error
  std::optional<sev::RegNumber> ucc_registration;  // a participant's appeal registered as a UCC case
  std::optional<domain::Case> registered;
  bool record_receipt = true;  // false: a conflicting receipt is kept as evidence, not as a receipt

  std::string actor() const { return "participant:" + peer.org_id; }
};

void countInbound(const std::string& outcome);
// A batch of arrivals applied in one transaction, counted by its exchanges with the database (9: nine or
// more) — what a batch costs in waits on the server, whatever its size.
void countInboundBatch(long long exchanges);

// Seals and records one of our receipts for a participant's message, queued to be sent; its msg_id. The
// caller hands it to delivery (queueReceipt does both).
Result<std::string> recordReceipt(ExchangeContext& ctx, store::PgConnection& db, const Peer& peer,
                                  const std::string& their_msg_id, sev::AckType type, const std::string& case_id,
                                  std::optional<sev::Rejection> rejection = {},
                                  std::optional<sev::RegNumber> registration = {});

// Seals and queues one of our receipts for a participant's message.
Status queueReceipt(ExchangeContext& ctx, store::PgConnection& db, const Peer& peer, const std::string& their_msg_id,
                    sev::AckType type, const std::string& case_id, std::optional<sev::Rejection> rejection = {},
                    std::optional<sev::RegNumber> registration = {});

// The rejection our receipt gives for a refusal.
sev::Rejection rejectionFor(const Error& e);

Status alertOf(store::PgConnection& db, const std::string& kind, const std::string& key, boost::json::object body);

// A registration's date as recorded: the calendar day its sender wrote (an xs:date may carry any time zone,
// which the database's date type does not all read); none when it is not a real date.
std::optional<std::string> registrationDay(const sev::RegNumber& r);

// The handlers, one per kind: each decides a.case_id, a.effect, and a.mismatch when it refuses.
Status applyReceipt(Arrival& a);
Status applyNotice(Arrival& a);
Status applyReply(Arrival& a);
Status applyOwnAppeal(Arrival& a, const std::string& sha);

// The verdicts of a package's attachment signatures as they stood on arrival (JSON array).
std::string signaturesJson(const crypto::PackageReport& report);

// Bytes that no handler reads are kept as evidence (the first 4 KiB of an oversized package), unanswered.
Status keepUnread(store::PgConnection& db, const Peer& peer, const std::string& bytes, const Error& why);

}  // namespace vkhid::flows::inbound
