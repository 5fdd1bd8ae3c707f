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
  for (int i = 0; i <= static_cast<int>(CaseStatus::Merged); ++i) {
    auto s = static_cast<CaseStatus>(i);
    BOOST_TEST((caseStatusFromName(caseStatusName(s)) == s));
  }
  BOOST_TEST(!caseStatusFromName("lost").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
