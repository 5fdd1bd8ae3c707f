#include "gateway/domain/case_status.hpp"

#include <array>
#include <utility>

namespace vkhid::domain {
namespace {

constexpr std::array<std::pair<CaseStatus, const char*>, 17> kNames = {{
    {CaseStatus::Received, "received"},
    {CaseStatus::Registered, "registered"},
    {CaseStatus::Routed, "routed"},
    {CaseStatus::Sent, "sent"},
    {CaseStatus::Delivered, "delivered"},
    {CaseStatus::Accepted, "accepted"},
    {CaseStatus::RegisteredByParticipant, "registered_by_participant"},
    {CaseStatus::Answered, "answered"},
    {CaseStatus::Closed, "closed"},
    {CaseStatus::Forwarded, "forwarded"},
    {CaseStatus::Rejected, "rejected"},
    {CaseStatus::Extended, "extended"},
    {CaseStatus::DeliveryFailed, "delivery_failed"},
    {CaseStatus::Withdrawn, "withdrawn"},
    {CaseStatus::NotConsidered, "not_considered"},
    {CaseStatus::Merged, "merged"},
    {CaseStatus::Returned, "returned"},
}};

// Position on the main path; -1 for states off it.
int rank(CaseStatus s) {
  switch (s) {
    case CaseStatus::Registered: return 0;
    case CaseStatus::Routed: return 1;
    case CaseStatus::Sent: return 2;
    case CaseStatus::Delivered: return 3;
    case CaseStatus::Accepted: return 4;
    case CaseStatus::RegisteredByParticipant: return 5;
    case CaseStatus::Extended: return 5;
    case CaseStatus::Answered: return 6;
    case CaseStatus::Closed: return 7;
    default: return -1;
  }
}

CaseStatus furthest(CaseStatus current, CaseStatus target) {
  // A case that had failed delivery was delivered after all when a receipt arrives.
  if (current == CaseStatus::DeliveryFailed || current == CaseStatus::Forwarded) return target;
  int r = rank(current);
  if (r < 0) return current;
  return rank(target) > r ? target : current;
}

}  // namespace

const char* caseStatusName(CaseStatus s) {
  for (const auto& [status, name] : kNames) {
    if (status == s) return name;
  }
  return "received";
}

std::optional<CaseStatus> caseStatusFromName(const std::string& name) {
  for (const auto& [status, n] : kNames) {
    if (name == n) return status;
  }
  return std::nullopt;
}

bool isFinal(CaseStatus s) {
  return s == CaseStatus::Closed || s == CaseStatus::Withdrawn || s == CaseStatus::NotConsidered ||
         s == CaseStatus::Merged || s == CaseStatus::Returned;
}

CaseStatus afterReceipt(CaseStatus current, int ack_type) {
  if (isFinal(current) || current == CaseStatus::Answered) return current;  // recorded, changes nothing
  if (ack_type == 4) return CaseStatus::Rejected;
  if (current == CaseStatus::Rejected) return current;  // a rejection stands until a person acts
  switch (ack_type) {
    case 1: return furthest(current, CaseStatus::Delivered);
    case 2: return furthest(current, CaseStatus::Accepted);
    case 3: return furthest(current, CaseStatus::RegisteredByParticipant);
    default: return current;
  }
}

CaseStatus afterTransportDelivery(CaseStatus current) {
  if (current == CaseStatus::Routed || current == CaseStatus::DeliveryFailed) return CaseStatus::Sent;
  return current;
}

CaseStatus afterAnswer(CaseStatus current) {
  if (isFinal(current)) return current;
  // One addressee per case here: its answer closes the case (DESIGN §7.5).
  return CaseStatus::Closed;
}

ReceiptEffect receiptEffect(CaseStatus current, int ack_type, const std::string& recorded_number,
                            const std::string& receipt_number) {
  const bool answered = current == CaseStatus::Answered || isFinal(current);
  if (ack_type == 3 && !recorded_number.empty() && receipt_number != recorded_number) {
    return {ReceiptEffect::Kind::Conflict, current,
            "a registration receipt whose number differs from the recorded one (" + recorded_number + ")"};
  }
  if (answered) {
    if (ack_type == 4) return {ReceiptEffect::Kind::Conflict, current, "a rejection after the case was answered"};
    // A registration receipt overtaken by the answer still gives the case its number.
    if (ack_type == 3 && recorded_number.empty() && !receipt_number.empty()) {
      return {ReceiptEffect::Kind::Apply, current, {}};
    }
    return {ReceiptEffect::Kind::Record, current, {}};
  }
  return {ReceiptEffect::Kind::Apply, afterReceipt(current, ack_type), {}};
}

ReplyEffect replyEffect(CaseStatus current, bool answered_already) {
  if (answered_already || current == CaseStatus::Answered || isFinal(current)) return ReplyEffect::FurtherDocument;
  return ReplyEffect::Answer;
}

std::string caseEventName(CaseEvent event, int ack_type) {
  switch (event) {
    case CaseEvent::Routed: return "routed";
    case CaseEvent::DeliveredToTransport: return "delivered_to_transport";
    case CaseEvent::DeliveryFailed: return "delivery_failed";
    case CaseEvent::DeliveryReplayed: return "delivery_replayed";
    case CaseEvent::Resent: return "resent";
    case CaseEvent::Rerouted: return "rerouted";
    case CaseEvent::Receipt: return "receipt_" + std::to_string(ack_type);
    case CaseEvent::Forwarded: return "forwarded";
    case CaseEvent::Answered: return "answered";
    case CaseEvent::Withdrawn: return "withdrawn";
    case CaseEvent::Returned: return "returned";
    case CaseEvent::NotConsidered: return "not_considered";
    case CaseEvent::Merged: return "merged";
    case CaseEvent::Unmerged: return "unmerged";
  }
  return "unknown";
}

namespace {
CaseTransition step(CaseEvent event, int ack_type, CaseStatus from, CaseStatus to) {
  return {true, {}, {{caseEventName(event, ack_type), from, to}}};
}
CaseTransition refused(CaseEvent event, CaseStatus from, const std::string& needs) {
  return {false, caseEventName(event) + " needs the case " + needs + ", and it is " + caseStatusName(from), {}};
}
}  // namespace

CaseTransition transition(CaseStatus from, CaseEvent event, int ack_type) {
  switch (event) {
    case CaseEvent::Routed:
      if (from == CaseStatus::Registered || from == CaseStatus::Forwarded) {
        return step(event, 0, from, CaseStatus::Routed);
      }
      return refused(event, from, "registered or forwarded");
    case CaseEvent::DeliveredToTransport: return step(event, 0, from, afterTransportDelivery(from));
    case CaseEvent::DeliveryFailed:
      if (from == CaseStatus::Routed || from == CaseStatus::Sent)
        return step(event, 0, from, CaseStatus::DeliveryFailed);
      return refused(event, from, "routed or sent");
    case CaseEvent::DeliveryReplayed:
      if (from == CaseStatus::DeliveryFailed) return step(event, 0, from, CaseStatus::Routed);
      return refused(event, from, "delivery_failed");
    case CaseEvent::Resent:
    case CaseEvent::Rerouted:
      // A rerouted case may also be one no rule placed; whether it waits for a person is the flow's to see.
      if (from == CaseStatus::Rejected || from == CaseStatus::DeliveryFailed ||
          (event == CaseEvent::Rerouted && from == CaseStatus::Registered)) {
        return step(event, 0, from, CaseStatus::Registered);
      }
      return refused(event, from, "rejected or delivery_failed");
    case CaseEvent::Receipt:
      // Every ack_type the SEV OVV 1.5 schema allows (5, "other", moves nothing but is recorded).
      if (ack_type < 1 || ack_type > 5) return refused(event, from, "a receipt of type 1 to 5");
      return step(event, ack_type, from, afterReceipt(from, ack_type));
    case CaseEvent::Forwarded:
      if (isFinal(from) || from == CaseStatus::Answered) return refused(event, from, "not answered yet");
      return step(event, 0, from, CaseStatus::Forwarded);
    case CaseEvent::Withdrawn:
    case CaseEvent::Returned:
    case CaseEvent::NotConsidered:
      // Until it is answered: an answer given stands, and a case that ended stays as it ended.
      if (isFinal(from) || from == CaseStatus::Answered) return refused(event, from, "not answered yet");
      return step(event, 0, from,
                  event == CaseEvent::Withdrawn  ? CaseStatus::Withdrawn
                  : event == CaseEvent::Returned ? CaseStatus::Returned
                                                 : CaseStatus::NotConsidered);
    case CaseEvent::Merged:
      // Only as it is registered: a case on its way to a participant is not pulled back into another.
      if (from == CaseStatus::Registered) return step(event, 0, from, CaseStatus::Merged);
      return refused(event, from, "just registered");
    case CaseEvent::Unmerged:
      if (from == CaseStatus::Merged) return step(event, 0, from, CaseStatus::Registered);
      return refused(event, from, "merged");
    case CaseEvent::Answered: {
      if (isFinal(from)) return refused(event, from, "open");
      CaseTransition t = step(event, 0, from, CaseStatus::Answered);
      if (afterAnswer(from) == CaseStatus::Closed)
        t.steps.push_back({"closed", CaseStatus::Answered, CaseStatus::Closed});
      return t;
    }
  }
  return refused(event, from, "known");
}

}  // namespace vkhid::domain
