// The gateway as a participant's EDMS sees it, driven message by message (tests/support/participant_peer):
// what the protocol lets a participant send — twice, late, after the case closed, addressed elsewhere —
// and what the gateway must make of it. The defects an EDMS written apart from us found (issue 14).
#define BOOST_TEST_MODULE integration_edms
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "tests/support/exchange_harness.hpp"
#include "tests/support/participant_peer.hpp"
#include "tests/support/pki.hpp"

using namespace vkhid;
using namespace vkhid::testing;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;

namespace {

// A case submitted and its appeal package taken by the participant.
sev::Header appealTaken(ExchangeHarness& x, ParticipantPeer& peer, const std::string& key) {
  auto r = x.submit(key);
  if (r.status != 201) throw std::runtime_error("submit: " + r.body);
  auto appeal = peer.take(1, 30s);
  if (!appeal) throw std::runtime_error("no appeal package delivered: " + x.histogram());
  return *appeal;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(edms, *utf::precondition(servicesAreOurs))

BOOST_AUTO_TEST_CASE(edms_closed_case_keeps_its_answer_and_number_when_registered_and_answered_again) {
  // The gateway re-delivered the appeal (same msg_id) after a transport error; the participant registered
  // it again, with a new receipt 3 and a new reply.
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  ParticipantPeer peer(x);
  auto appeal = appealTaken(x, peer, "c1");
  peer.send(peer.receipt(appeal, sev::AckType::Delivered));
  peer.send(peer.receipt(appeal, sev::AckType::Registered, "ВХ-101"));
  const auto first = peer.reply(appeal, "ВИХ-201", "Відповідь по суті.");
  peer.send(first);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 30s));

  peer.send(peer.receipt(appeal, sev::AckType::Registered, "ВХ-999"));
  const auto second = peer.reply(appeal, "ВИХ-777", "Друга відповідь.");
  peer.send(second);
  BOOST_REQUIRE(
      x.waitFor("SELECT count(*) FROM case_event WHERE event IN ('further_reply', 'receipt_conflict')", 2, 30s));
  // The answer and the registration number stand; the case never left `closed`.
  BOOST_TEST(x.sql("SELECT status FROM cases") == "closed");
  BOOST_TEST(x.sql("SELECT participant_reg_number FROM cases") == "ВХ-101");
  BOOST_TEST(x.sql("SELECT answer_msg_id::text FROM cases") == first.msg_id);
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE status_to = 'answered'") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE status_from = 'closed' AND status_to <> 'closed'") == 0);
  // The later reply is a further document of the case, flagged for review; the conflict is alerted.
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE msg_id = '" + second.msg_id +
                     "' AND status = 'applied' AND case_id IS NOT NULL") == 1);
  BOOST_TEST(x.sql("SELECT review_note FROM cases").find(second.msg_id) != std::string::npos);
  BOOST_TEST(x.count("SELECT count(*) FROM outbox WHERE routing_key IN ('case.further_reply', "
                     "'case.receipt_conflict')") == 2);
  BOOST_TEST(x.count("SELECT count(*) FROM receipt WHERE reg_number = 'ВХ-999'") == 0);
  // The applicant's answer is the first one.
  auto answer =
      httpRequest("GET", "127.0.0.1", x.intakePort(), "/api/v1/cases/" + x.sql("SELECT id FROM cases") + "/answer",
                  {{"Authorization", "Bearer " + x.token()}}, "");
  BOOST_TEST(answer.status == 200);
  BOOST_TEST(jsonField(answer.body, "msg_id") == first.msg_id);
  // The terminal view says so in words.
  auto shown = x.runVkhid({"case", "show", x.sql("SELECT ucc_number FROM cases")});
  BOOST_TEST(shown.find("a further reply after the case was answered") != std::string::npos, shown);
  BOOST_TEST(shown.find("whose number differs from the recorded one (ВХ-101)") != std::string::npos, shown);
}

BOOST_AUTO_TEST_CASE(edms_package_addressed_elsewhere_is_refused_with_10_or_11) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  ParticipantPeer peer(x);
  auto appeal = appealTaken(x, peer, "a1");
  auto other_system = peer.receipt(appeal, sev::AckType::Delivered);
  other_system.to_sys_id = "99999999";
  peer.send(other_system);
  auto other_org = peer.receipt(appeal, sev::AckType::Accepted);
  other_org.to_org_id = "12345678";
  peer.send(other_org);
  BOOST_TEST(x.waitFor("SELECT count(*) FROM message WHERE direction = 'in' AND status = 'rejected' AND msg_id = '" +
                           other_system.msg_id + "' AND error_code = 11",
                       1, 30s));
  BOOST_TEST(x.waitFor("SELECT count(*) FROM message WHERE direction = 'in' AND status = 'rejected' AND msg_id = '" +
                           other_org.msg_id + "' AND error_code = 10",
                       1, 30s));
  BOOST_TEST(x.sql("SELECT last_error FROM message WHERE error_code = 11").find("to_sys_id 99999999") !=
             std::string::npos);
  BOOST_TEST(x.count("SELECT count(*) FROM receipt") == 0);  // neither moved the case
}

BOOST_AUTO_TEST_CASE(edms_other_bytes_under_an_answered_msg_id_never_get_a_rejection) {
  // A reply acknowledged with receipts 1 and 2; the same msg_id again with other bytes. A strict EDMS
  // would take a receipt 4 under that msg_id for a rejection of the reply it had seen accepted: the
  // receipts it got are sent again instead, and the copy is kept, refused (131) and alerted.
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  ParticipantPeer peer(x);
  auto appeal = appealTaken(x, peer, "d1");
  auto reply = peer.reply(appeal, "ВИХ-1", "Відповідь.");
  peer.send(reply);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM message WHERE direction = 'out' AND ref_msg_id = '" + reply.msg_id +
                              "' AND ack_type IN (1, 2) AND status = 'sent'",
                          2, 30s));
  auto altered = peer.reply(appeal, "ВИХ-1", "Інший текст відповіді.", reply.msg_id);
  peer.send(altered);
  BOOST_REQUIRE(
      x.waitFor("SELECT count(*) FROM message WHERE direction = 'in' AND error_code = 131 AND "
                "ref_msg_id = '" +
                    reply.msg_id + "'",
                1, 30s));
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'out' AND ref_msg_id = '" + reply.msg_id +
                     "' AND ack_type = 4") == 0);
  BOOST_TEST(x.count("SELECT count(*) FROM outbox WHERE routing_key = 'inbound.conflicting_duplicate'") == 1);
  BOOST_TEST(x.sql("SELECT status FROM cases") == "closed");
  // The receipts 1 and 2 it already had come again (and it may de-duplicate them by their msg_ids).
  int again = 0;
  for (int i = 0; i < 4; ++i) {
    auto r = peer.take(0, 10s);
    if (r && r->acknowledgement && r->acknowledgement->msg_id == reply.msg_id) {
      BOOST_TEST(r->acknowledgement->ack_type != 4);
      ++again;
    }
  }
  BOOST_TEST(again >= 2);
}

BOOST_AUTO_TEST_SUITE_END()
