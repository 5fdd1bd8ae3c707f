#include <boost/test/unit_test.hpp>

#include "gateway/app/legal_config.hpp"
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

BOOST_AUTO_TEST_CASE(a_violence_report_carries_the_journals_facts_and_nothing_else_does) {
  const std::string report = R"({"kind": "violence_report", "applicant": {"anonymous": true}, "text": "t",
    "channel": "hotline", "handling_minutes": 14,
    "violence": {"forms": ["physical", "economic"], "victim": "Донька, 12 років", "offender": "Батько",
                 "child_involved": true}})";
  auto parsed = flows::parseCaseJson(report);
  BOOST_REQUIRE(parsed.errors.empty());
  BOOST_TEST(parsed.value.handling_minutes == 14);
  BOOST_TEST(parsed.value.violence.forms == (std::vector<std::string>{"physical", "economic"}));
  BOOST_TEST(parsed.value.violence.victim == "Донька, 12 років");
  BOOST_TEST(parsed.value.violence.child_involved);
  auto back = flows::parseCaseJson(flows::caseToJson(parsed.value));
  BOOST_REQUIRE(back.errors.empty());
  BOOST_TEST(back.value.violence.offender == "Батько");
  BOOST_TEST(back.value.handling_minutes == 14);

  // Each wrong part named: an unknown form, an unknown field, minutes out of range, facts on an appeal.
  auto wrong = flows::parseCaseJson(R"({"kind": "violence_report", "applicant": {"anonymous": true}, "text": "t",
    "channel": "web", "handling_minutes": 2000, "violence": {"forms": ["verbal"], "weapon": "knife"}})");
  std::vector<std::string> fields;
  for (const auto& e : wrong.errors) fields.push_back(e.field);
  BOOST_TEST(fields == (std::vector<std::string>{"/handling_minutes", "/violence/weapon", "/violence/forms"}),
             boost::test_tools::per_element());
  auto on_appeal = flows::parseCaseJson(R"({"kind": "appeal", "applicant": {"anonymous": true}, "text": "t",
    "channel": "web", "violence": {"forms": ["physical"]}})");
  BOOST_REQUIRE_EQUAL(on_appeal.errors.size(), 1u);
  BOOST_TEST(on_appeal.errors[0].field == "/violence");
}

BOOST_AUTO_TEST_CASE(unit_costs_are_read_in_kopecks_exactly_and_a_bad_sum_is_named) {
  auto costs = app::parseUnitCosts(
      "per_package = 0.40\nper_handling_minute = 6.5\n[channel]\ndefault = 5\nhotline = 28.10\n", "t.toml");
  BOOST_REQUIRE(costs);
  BOOST_TEST(costs->per_package == 40);
  BOOST_TEST(costs->per_handling_minute == 650);
  BOOST_TEST(costs->per_channel_default == 500);
  BOOST_TEST(costs->per_channel.at("hotline") == 2810);
  BOOST_TEST(costs->currency == "UAH");
  for (const char* bad : {"per_package = 0.405", "per_package = -1", "per_package = \"1\"", "[channel]\nweb = 0.001"}) {
    auto refused = app::parseUnitCosts(bad, "t.toml");
    BOOST_REQUIRE(!refused);
    BOOST_TEST(refused.error().code == "config.costs");
  }
  // The shipped file is read.
  BOOST_TEST(static_cast<bool>(app::loadUnitCosts("")));
}

BOOST_AUTO_TEST_SUITE_END()
