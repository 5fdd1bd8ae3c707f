// The case status model (DESIGN §8) and how events move it. Pure. Late events are accepted in any
// order a real network produces (a registration receipt before the delivery receipt, a rejection
// after registration) and never move a case backwards along its main path.
#pragma once

#include <optional>
#include <string>
#include <vector>

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
  Returned,  // returned to the applicant: the appeal lacks what the law requires (Law 393 art. 5)
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

// What a receipt from the participant a case is with does to it. A registration number, once recorded,
// stands; so does everything once the case is answered: a receipt that would change either is a
// conflict, recorded and alerted, never applied. A late receipt that changes nothing is recorded.
struct ReceiptEffect {
  enum class Kind { Apply, Record, Conflict };
  Kind kind = Kind::Apply;
  CaseStatus to = CaseStatus::Sent;  // Apply: the status after it
  std::string why;                   // Conflict: what it would have changed
};
ReceiptEffect receiptEffect(CaseStatus current, int ack_type, const std::string& recorded_number,
                            const std::string& receipt_number);

// Whether a reply from the participant a case is with is its answer, or — once an answer is recorded —
// a further document of the case (kept, shown, flagged for review; the first answer stands).
enum class ReplyEffect { Answer, FurtherDocument };
ReplyEffect replyEffect(CaseStatus current, bool answered_already);

// What happens to a case that may move its status. Every status change of a stored case is one of
// these, asked of `transition` and written with its event (store::transitionCase).
enum class CaseEvent {
  Routed,                // a participant chosen, the package queued for it
  DeliveredToTransport,  // the participant's transport took the package
  DeliveryFailed,        // every retry of the package failed
  DeliveryReplayed,      // a person queued the failed package again
  Resent,                // a person sends a rejected or undelivered case to routing again
  Rerouted,              // a person sends it to another participant
  Receipt,               // the participant's receipt (with its ack_type)
  Forwarded,             // the participant said it is not competent
  Answered,              // the participant's answer
  Withdrawn,             // the applicant withdrew it (by its tracking code, through a channel)
  Returned,              // returned to the applicant with the reason and the article (Law 393 art. 5)
  NotConsidered,         // the UCC decides it is not considered (Law 393 art. 8: a repeat, anonymous, …)
  Merged,                // a mass appeal's member joins its first case at registration
  Unmerged,              // its group's first case ended unanswered: the member goes on as a case of its own
};

// The history's name of an event ("routed", "receipt_3", ...).
std::string caseEventName(CaseEvent event, int ack_type = 0);

// One step of a transition: the event recorded and the statuses it joins.
struct CaseStep {
  std::string event;
  CaseStatus from;
  CaseStatus to;
};

// What an event does to a case in `from`: refused (with why), or the steps it takes — usually one; an
// answer is two (answered, then closed: one addressee per case, DESIGN §7.5). A step may leave the
// status as it is (a transport delivery of a case already further on).
struct CaseTransition {
  bool allowed = false;
  std::string why;              // refused: what the case would need
  std::vector<CaseStep> steps;  // allowed: in order; the last one's `to` is the status after it
  CaseStatus to() const { return steps.empty() ? CaseStatus::Received : steps.back().to; }
};
CaseTransition transition(CaseStatus from, CaseEvent event, int ack_type = 0);

}  // namespace vkhid::domain
