// What a participant's receipt (ack_type 1–5) for one of our packages does, decided from what the
// store holds — the package it refers to and that package's case — before anything is written. The
// inbound flow (inbound_apply.cpp) carries the decision out; the unit tests hold the rows in memory.
#pragma once

#include <optional>
#include <string>

#include "gateway/domain/case_status.hpp"
#include "gateway/sev/model.hpp"
#include "gateway/store/receipts.hpp"

namespace vkhid::flows {

struct ReceiptDecision {
  enum class Kind {
    Refuse,       // refers to nothing of ours sent to this participant, or carries a malformed number
    OfNoCase,     // a receipt for one of our receipts (or a package of no case): recorded, nothing moves
    UnknownCase,  // its case is gone: recorded, nothing moves
    MovedOn,      // the case is with another participant now (forwarded): a late receipt, recorded
    Conflict,     // it would change what the case has recorded: kept as evidence and alerted, never applied
    Late,         // it changes nothing: recorded in the case's history
    Forward,      // not in the participant's competence: the case leaves it
    Apply,        // moves the case (domain::transition with the receipt's ack_type)
  };
  Kind kind = Kind::Refuse;
  std::optional<Error> refusal;                            // Refuse: the SEV error
  std::string case_id;                                     // all but Refuse
  domain::CaseStatus from = domain::CaseStatus::Received;  // the case's status, from MovedOn on
  std::string conflict;                                    // Conflict: what it would have changed
  std::string competent_org_id;                            // Forward: the body it names (empty: none, or more than one)
  std::string reg_number;  // the participant's registration number it carries (ack_type 3)
};

Result<ReceiptDecision> decideReceipt(store::ReceiptRepository& store, const std::string& peer_org_id,
                                      const sev::Header& h);

// The competent body a not-in-competence rejection names: our forwarding notice when the participant
// added one, else the one EDRPOU code (8 digits standing alone) in the error text; empty when none or
// several.
std::string competentBodyOf(const sev::Header& h);

}  // namespace vkhid::flows
