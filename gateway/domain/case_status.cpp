#include "gateway/domain/case_status.hpp"

#include <array>
#include <utility>

namespace vkhid::domain {
namespace {

constexpr std::array<std::pair<CaseStatus, const char*>, 16> kNames = {{
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
         s == CaseStatus::Merged;
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

}  // namespace vkhid::domain
