#define BOOST_TEST_MODULE unit_domain
#include <boost/test/unit_test.hpp>

#include "gateway/domain/case_status.hpp"

using namespace vkhid::domain;

namespace {
std::string after(CaseStatus s, int ack) { return caseStatusName(afterReceipt(s, ack)); }
}  // namespace

BOOST_AUTO_TEST_SUITE(case_status)

BOOST_AUTO_TEST_CASE(receipts_move_the_case_forward_in_order) {
  BOOST_TEST(after(CaseStatus::Sent, 1) == "delivered");
  BOOST_TEST(after(CaseStatus::Delivered, 2) == "accepted");
  BOOST_TEST(after(CaseStatus::Accepted, 3) == "registered_by_participant");
}

BOOST_AUTO_TEST_CASE(registration_before_delivery_receipt_is_accepted_and_never_goes_back) {
  BOOST_TEST(after(CaseStatus::Sent, 3) == "registered_by_participant");
  BOOST_TEST(after(CaseStatus::RegisteredByParticipant, 1) == "registered_by_participant");
  BOOST_TEST(after(CaseStatus::RegisteredByParticipant, 2) == "registered_by_participant");
  BOOST_TEST(after(CaseStatus::Routed, 2) == "accepted");  // receipt before our own delivery record
}

BOOST_AUTO_TEST_CASE(rejection_after_registration_rejects_and_stands) {
  BOOST_TEST(after(CaseStatus::RegisteredByParticipant, 4) == "rejected");
  BOOST_TEST(after(CaseStatus::Rejected, 3) == "rejected");
}

BOOST_AUTO_TEST_CASE(late_receipts_after_the_answer_change_nothing) {
  BOOST_TEST(after(CaseStatus::Answered, 4) == "answered");
  BOOST_TEST(after(CaseStatus::Closed, 1) == "closed");
}

BOOST_AUTO_TEST_CASE(a_receipt_proves_a_failed_delivery_happened) {
  BOOST_TEST(after(CaseStatus::DeliveryFailed, 1) == "delivered");
  BOOST_TEST(caseStatusName(afterTransportDelivery(CaseStatus::DeliveryFailed)) == std::string("sent"));
}

BOOST_AUTO_TEST_CASE(names_round_trip) {
  for (int i = 0; i <= static_cast<int>(CaseStatus::Returned); ++i) {
    auto s = static_cast<CaseStatus>(i);
    BOOST_TEST((caseStatusFromName(caseStatusName(s)) == s));
  }
  BOOST_TEST(!caseStatusFromName("lost").has_value());
}

namespace {
// What the history records for an event in `from`, as "event:from>to" steps; "refused" when the state
// machine refuses it.
std::string steps(CaseStatus from, CaseEvent event, int ack_type = 0) {
  auto t = transition(from, event, ack_type);
  if (!t.allowed) return "refused";
  std::string out;
  for (const auto& s : t.steps) {
    if (!out.empty()) out += " ";
    out += s.event + ":" + caseStatusName(s.from) + ">" + caseStatusName(s.to);
  }
  return out;
}
}  // namespace

BOOST_AUTO_TEST_CASE(only_a_registered_or_forwarded_case_is_routed) {
  BOOST_TEST(steps(CaseStatus::Registered, CaseEvent::Routed) == "routed:registered>routed");
  BOOST_TEST(steps(CaseStatus::Forwarded, CaseEvent::Routed) == "routed:forwarded>routed");
  // A repeated routing event finds the case moved on: nothing is routed twice.
  for (auto s :
       {CaseStatus::Routed, CaseStatus::Sent, CaseStatus::Rejected, CaseStatus::Answered, CaseStatus::Closed}) {
    BOOST_TEST(steps(s, CaseEvent::Routed) == "refused");
  }
  BOOST_TEST(transition(CaseStatus::Sent, CaseEvent::Routed).why ==
             "routed needs the case registered or forwarded, "
             "and it is sent");
}

BOOST_AUTO_TEST_CASE(delivery_events_move_only_a_case_on_its_way) {
  BOOST_TEST(steps(CaseStatus::Routed, CaseEvent::DeliveredToTransport) == "delivered_to_transport:routed>sent");
  // A receipt that overtook the transport's word: recorded, the case stays where the receipt put it.
  BOOST_TEST(steps(CaseStatus::Accepted, CaseEvent::DeliveredToTransport) ==
             "delivered_to_transport:accepted>accepted");
  BOOST_TEST(steps(CaseStatus::Sent, CaseEvent::DeliveryFailed) == "delivery_failed:sent>delivery_failed");
  BOOST_TEST(steps(CaseStatus::Answered, CaseEvent::DeliveryFailed) == "refused");
  BOOST_TEST(steps(CaseStatus::DeliveryFailed, CaseEvent::DeliveryReplayed) ==
             "delivery_replayed:delivery_failed>routed");
  BOOST_TEST(steps(CaseStatus::Sent, CaseEvent::DeliveryReplayed) == "refused");
}

BOOST_AUTO_TEST_CASE(a_person_sends_again_only_what_stopped) {
  BOOST_TEST(steps(CaseStatus::Rejected, CaseEvent::Resent) == "resent:rejected>registered");
  BOOST_TEST(steps(CaseStatus::DeliveryFailed, CaseEvent::Rerouted) == "rerouted:delivery_failed>registered");
  BOOST_TEST(steps(CaseStatus::Registered, CaseEvent::Rerouted) == "rerouted:registered>registered");
  BOOST_TEST(steps(CaseStatus::Registered, CaseEvent::Resent) == "refused");
  BOOST_TEST(steps(CaseStatus::Sent, CaseEvent::Resent) == "refused");
  BOOST_TEST(steps(CaseStatus::Closed, CaseEvent::Rerouted) == "refused");
}

BOOST_AUTO_TEST_CASE(an_answer_closes_the_case_and_an_answered_case_is_not_forwarded) {
  BOOST_TEST(steps(CaseStatus::RegisteredByParticipant, CaseEvent::Answered) ==
             "answered:registered_by_participant>answered closed:answered>closed");
  BOOST_TEST(steps(CaseStatus::Closed, CaseEvent::Answered) == "refused");
  BOOST_TEST(steps(CaseStatus::Sent, CaseEvent::Forwarded) == "forwarded:sent>forwarded");
  BOOST_TEST(steps(CaseStatus::Rejected, CaseEvent::Forwarded) == "forwarded:rejected>forwarded");
  BOOST_TEST(steps(CaseStatus::Answered, CaseEvent::Forwarded) == "refused");
  BOOST_TEST(steps(CaseStatus::Closed, CaseEvent::Forwarded) == "refused");
  BOOST_TEST(steps(CaseStatus::Delivered, CaseEvent::Receipt, 3) == "receipt_3:delivered>registered_by_participant");
  BOOST_TEST(steps(CaseStatus::Delivered, CaseEvent::Receipt, 5) == "receipt_5:delivered>delivered");
  BOOST_TEST(steps(CaseStatus::Delivered, CaseEvent::Receipt, 7) == "refused");
}

BOOST_AUTO_TEST_CASE(an_open_case_is_withdrawn_or_returned_and_then_ends) {
  BOOST_TEST(steps(CaseStatus::Registered, CaseEvent::Withdrawn) == "withdrawn:registered>withdrawn");
  BOOST_TEST(steps(CaseStatus::RegisteredByParticipant, CaseEvent::Withdrawn) ==
             "withdrawn:registered_by_participant>withdrawn");
  BOOST_TEST(steps(CaseStatus::Forwarded, CaseEvent::Returned) == "returned:forwarded>returned");
  BOOST_TEST(steps(CaseStatus::Delivered, CaseEvent::Returned) == "returned:delivered>returned");
  // An answer given stands; a case that ended stays as it ended.
  BOOST_TEST(steps(CaseStatus::Answered, CaseEvent::Withdrawn) == "refused");
  BOOST_TEST(steps(CaseStatus::Closed, CaseEvent::Returned) == "refused");
  BOOST_TEST(steps(CaseStatus::Returned, CaseEvent::Withdrawn) == "refused");
  BOOST_TEST(steps(CaseStatus::Withdrawn, CaseEvent::Withdrawn) == "refused");
  BOOST_TEST(isFinal(CaseStatus::Returned));
  // Nothing a participant sends afterwards changes it: a late answer is a further document.
  BOOST_TEST(steps(CaseStatus::Withdrawn, CaseEvent::Answered) == "refused");
  BOOST_TEST((replyEffect(CaseStatus::Returned, false) == ReplyEffect::FurtherDocument));
  BOOST_TEST((afterReceipt(CaseStatus::Withdrawn, 3) == CaseStatus::Withdrawn));
  BOOST_TEST(steps(CaseStatus::Rejected, CaseEvent::NotConsidered) == "not_considered:rejected>not_considered");
  BOOST_TEST(steps(CaseStatus::Closed, CaseEvent::NotConsidered) == "refused");
  // A mass appeal's member joins as it is registered, never later.
  BOOST_TEST(steps(CaseStatus::Registered, CaseEvent::Merged) == "merged:registered>merged");
  BOOST_TEST(steps(CaseStatus::Routed, CaseEvent::Merged) == "refused");
  BOOST_TEST(steps(CaseStatus::Merged, CaseEvent::Routed) == "refused");
  // Its group's first case ended unanswered: the member goes on as a case of its own, and only then.
  BOOST_TEST(steps(CaseStatus::Merged, CaseEvent::Unmerged) == "unmerged:merged>registered");
  BOOST_TEST(steps(CaseStatus::Registered, CaseEvent::Unmerged) == "refused");
}

BOOST_AUTO_TEST_SUITE_END()
