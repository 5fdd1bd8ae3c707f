// The case status model (DESIGN §8) and how events move it. Pure. Late events are accepted in any
// order a real network produces (a registration receipt before the delivery receipt, a rejection
// after registration) and never move a case backwards along its main path.
#pragma once

#include <optional>
#include <string>

namespace vkhid::domain {

enum class CaseStatus {
  Received,
  Registered,
  Routed,
  Sent,
  Delivered,
  Accepted,
  RegisteredByParticipant,
  Answered,
  Closed,
  Forwarded,
  Rejected,
  Extended,
  DeliveryFailed,
  Withdrawn,
  NotConsidered,
  Merged,
};

const char* caseStatusName(CaseStatus s);
std::optional<CaseStatus> caseStatusFromName(const std::string& name);

// True once nothing a participant sends can change the outcome.
bool isFinal(CaseStatus s);

// After the participant's receipt (SEV ack_type 1 delivered, 2 accepted, 3 registered, 4 rejected).
CaseStatus afterReceipt(CaseStatus current, int ack_type);

// After the transport took the appeal package (adapter said delivered).
CaseStatus afterTransportDelivery(CaseStatus current);

// After the participant's answer (a reply document) from the one participant the case is with.
CaseStatus afterAnswer(CaseStatus current);

}  // namespace vkhid::domain
