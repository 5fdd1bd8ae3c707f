#include <boost/test/unit_test.hpp>

#include "gateway/flows/case_json.hpp"

using namespace vkhid;

BOOST_AUTO_TEST_SUITE(case_json)

BOOST_AUTO_TEST_CASE(a_case_written_as_json_reads_back_the_same) {
  domain::Case c;
  c.kind = domain::CaseKind::Appeal;
  c.applicant = {false, true, "Шевченко", "Олена", "Петрівна", "м. Київ", "olena@example.org", "+380501234567"};
  c.consent = {true, false};
  c.classification.topic = "004";
  c.classification.subject = "5.1";
  c.text = "Текст \"у лапках\"\n";
  c.attachments.push_back({"a.bin", "application/octet-stream", std::string("\0\xff\x01", 3)});
  c.channel = "participant:99999911";
  c.addressee_org_id = "99999912";
  c.urgency = domain::Urgency::ThreatToLife;
  c.priority = true;
  c.received_at = "2026-11-28T09:00:00Z";
  auto back = flows::parseCaseJson(flows::caseToJson(c));
  BOOST_REQUIRE_MESSAGE(back.errors.empty(), (back.errors.empty() ? std::string() : back.errors.front().field));
  const auto& b = back.value;
  BOOST_TEST(b.applicant.surname == "Шевченко");
  BOOST_TEST(b.applicant.collective);
  BOOST_TEST(b.applicant.phone == "+380501234567");
  BOOST_TEST(b.consent.disclose_identity);
  BOOST_TEST(!b.consent.process_personal_data);
  BOOST_TEST(*b.classification.topic == "004");
  BOOST_TEST(*b.classification.subject == "5.1");
  BOOST_TEST(b.text == c.text);
  BOOST_REQUIRE(b.attachments.size() == 1u);
  BOOST_TEST(b.attachments[0].content == c.attachments[0].content);
  BOOST_TEST(b.channel == c.channel);
  BOOST_TEST(b.addressee_org_id == "99999912");
  BOOST_TEST((b.urgency == domain::Urgency::ThreatToLife));
  BOOST_TEST(b.priority);
  BOOST_TEST(b.received_at == c.received_at);
}

BOOST_AUTO_TEST_CASE(an_anonymous_case_needs_no_name) {
  domain::Case c;
  c.applicant.anonymous = true;
  c.text = "Анонімне звернення";
  c.channel = "web";
  auto back = flows::parseCaseJson(flows::caseToJson(c));
  BOOST_TEST(back.errors.empty());
  BOOST_TEST(back.value.applicant.anonymous);
}

BOOST_AUTO_TEST_SUITE_END()
