// The law's workflow beyond the main path (issue 30), as the UCC, a participant and the applicant see
// it: a complaint never sent to the body it is about, forwards judged against their legal term, returns
// with their article, withdrawals. Real gateway, database, broker and participant simulators.
#define BOOST_TEST_MODULE integration_legal
#include <algorithm>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <thread>

#include "tests/support/exchange_harness.hpp"

using namespace vkhid::testing;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;
namespace json = boost::json;

namespace {

// A complaint (classifier type 3.3) about `subject`, addressed to `addressee`.
std::string complaint(const std::string& addressee, const std::string& subject) {
  return exampleCaseWith([&](json::object& o) {
    o["addressee_org_id"] = addressee;
    o["complained_of_org_id"] = subject;
    o["classification"].as_object()["type"] = "3.3";
    o["text"] = "Скарга на рішення органу щодо вуличного освітлення.";
  });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(legal, *utf::precondition(servicesAreOurs))

BOOST_AUTO_TEST_CASE(legal_complaint_never_routed_to_its_subject) {
  ExchangeHarness x;
  x.setUp();  // participant 0, and a rule that sends every case to it
  const int other = x.addParticipant();
  const std::string admin = x.issueToken("ops", "admin");
  x.startGateway();
  x.startSimulator();
  x.startSimulator({}, other);
  auto call = [&](const std::string& path, const std::string& body) {
    return httpRequest("POST", "127.0.0.1", x.adminPort(), "/api/v1/admin/" + path,
                       {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + admin}}, body);
  };

  // Only a complaint names the body it is about.
  auto wrong = x.submitJson(exampleCaseWith([&](json::object& o) { o["complained_of_org_id"] = x.org(); }), "w");
  BOOST_TEST(wrong.status == 422);
  BOOST_TEST(wrong.body.find("/complained_of_org_id") != std::string::npos, wrong.body);

  // The rule and the addressee both say participant 0, which the complaint is about: the dry run shows
  // the refusal with the law's rule, and leaves the case to a person.
  const std::string about_first = complaint(x.org(), x.org());
  auto dry = call("routes/dry-run", about_first);
  BOOST_REQUIRE_MESSAGE(dry.status == 200, dry.body);
  auto shown = json::parse(dry.body).as_object();
  BOOST_TEST(shown.at("target").is_null(), dry.body);
  BOOST_REQUIRE(shown.contains("refused"));
  const auto& refused = shown.at("refused").as_array().at(0).as_object();
  BOOST_TEST(std::string(refused.at("org_id").as_string()) == x.org());
  BOOST_TEST(std::string(refused.at("rule").as_string()).find("ст. 7") != std::string::npos);
  // An ordinary appeal to the same body is not refused.
  auto plain =
      json::parse(
          call("routes/dry-run", exampleCaseWith([&](json::object& o) { o["addressee_org_id"] = x.org(); })).body)
          .as_object();
  BOOST_TEST(std::string(plain.at("target").as_string()) == x.org());
  BOOST_TEST(!plain.contains("refused"));

  auto r = x.submitJson(about_first, "c1");
  BOOST_REQUIRE_MESSAGE(r.status == 201, r.body);
  const std::string id = jsonField(r.body, "id");
  BOOST_REQUIRE_MESSAGE(
      x.waitFor("SELECT count(*) FROM case_event WHERE event = 'unrouted' AND detail->>'complained_of_org_id' = '" +
                    x.org() + "'",
                1, 30s),
      x.histogram());
  BOOST_TEST(x.sql("SELECT status FROM cases WHERE id = '" + id + "'") == "registered");
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'out' AND peer_org_id = '" + x.org() + "'") == 0);

  // A person cannot send it there either; to another body they can, and it is answered there.
  auto to_subject = call("cases/" + id + "/reroute", R"({"to": ")" + x.org() + R"(", "reason": "r"})");
  BOOST_TEST(to_subject.status == 422);
  BOOST_TEST(to_subject.body.find("complaint is about") != std::string::npos, to_subject.body);
  BOOST_TEST(x.sql("SELECT status FROM cases WHERE id = '" + id + "'") == "registered");
  auto to_other = call("cases/" + id + "/reroute", R"({"to": ")" + x.org(other) + R"(", "reason": "Компетентний"})");
  BOOST_TEST(to_other.status == 202, to_other.body);
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s), x.histogram());
  BOOST_TEST(x.sql("SELECT participant_org_id FROM cases WHERE id = '" + id + "'") == x.org(other));

  // A complaint about the other body goes where the rule says: the rule is not refused, only the subject.
  auto about_other = x.submitJson(complaint(x.org(other), x.org(other)), "c2");
  BOOST_REQUIRE(about_other.status == 201);
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 2, 60s), x.histogram());
  BOOST_TEST(x.sql("SELECT participant_org_id FROM cases WHERE id = '" + jsonField(about_other.body, "id") + "'") ==
             x.org());

  // A participant that forwards a complaint to the body it is about: the forward is recorded, the body
  // never gets it, and the case waits for a person.
  x.stopSimulator(0);
  x.startSimulator({"--forward", x.org(other)}, 0);
  auto forwarded = x.submitJson(complaint(x.org(), x.org(other)), "c3");
  BOOST_REQUIRE(forwarded.status == 201);
  const std::string fid = jsonField(forwarded.body, "id");
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM case_event WHERE case_id = '" + fid +
                                      "' AND event = 'forwarded' AND detail->>'to' = 'review' AND "
                                      "detail->>'refused' LIKE 'the body the complaint is about%'",
                                  1, 60s),
                        x.histogram());
  std::this_thread::sleep_for(2s);
  BOOST_TEST(x.sql("SELECT status FROM cases WHERE id = '" + fid + "'") == "forwarded");
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'out' AND msg_type = 1 AND case_id = '" + fid +
                     "' AND peer_org_id = '" + x.org(other) + "'") == 0);
}

BOOST_AUTO_TEST_CASE(legal_late_forward_counted) {
  ExchangeHarness x;
  x.setUp();
  const int competent = x.addParticipant();
  x.startGateway();
  x.startSimulator({"--forward", x.org(competent)});  // participant 0 forwards everything it gets
  x.startSimulator({}, competent);
  auto info_request = exampleCaseWith([](json::object& o) {
    o["kind"] = "info_request";
    o["text"] = "Прошу надати копію рішення про ремонт вулиці Садової.";
  });
  auto forwardOf = [&](const std::string& id, const char* field) {
    return x.sql("SELECT detail->>'" + std::string(field) +
                 "' FROM case_event WHERE event = 'forwarded' AND case_id = '" + id + "'");
  };

  // Forwarded the day it came: on time, against the 5-day term counted from the participant's receipt.
  auto on_time = x.submitJson(exampleCaseWith([](json::object&) {}), "a1");
  BOOST_REQUIRE(on_time.status == 201);
  const std::string a1 = jsonField(on_time.body, "id");
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s), x.histogram());
  BOOST_TEST(forwardOf(a1, "late") == "false");
  BOOST_TEST(forwardOf(a1, "forward_term") == "appeal_forward");
  // It sent no registration receipt: the term ran from its delivery receipt, or (when its forward
  // overtook that receipt) from its transport's taking the package.
  const std::string from_event = forwardOf(a1, "term_from");
  BOOST_TEST((from_event == "receipt_1" || from_event == "delivered_to_transport"), from_event);

  // Twelve days on, by the clock the gateway judges with: an appeal (5 days) and an information request
  // (5 working days) forwarded now are late. Both still reach the competent body and are answered.
  x.killGateway(0, SIGTERM);
  x.startGateway(0, {{"VKHID_DEADLINES_CLOCK_OFFSET_S", std::to_string(12 * 86400)}});
  auto late_appeal = x.submitJson(exampleCaseWith([](json::object&) {}), "a2");
  auto late_request = x.submitJson(info_request, "i1");
  BOOST_REQUIRE(late_appeal.status == 201);
  BOOST_REQUIRE_MESSAGE(late_request.status == 201, late_request.body);
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 3, 90s), x.histogram());
  const std::string a2 = jsonField(late_appeal.body, "id"), i1 = jsonField(late_request.body, "id");
  BOOST_TEST(forwardOf(a2, "late") == "true");
  BOOST_TEST(forwardOf(i1, "late") == "true");
  BOOST_TEST(forwardOf(i1, "forward_term") == "info_request_forward");
  BOOST_TEST(!forwardOf(i1, "forward_due").empty());
  // The UCC is told of each late forward, naming the participant.
  BOOST_TEST(x.count("SELECT count(*) FROM outbox_message WHERE routing_key = 'case.forward_late' AND "
                     "convert_from(payload, 'UTF8')::jsonb->>'org_id' = '" +
                     x.org() + "'") == 2);

  // The reports count them: 3 forwarded by participant 0, 2 of them late.
  const std::string from = x.sql("SELECT to_char(now() AT TIME ZONE 'Europe/Kyiv' - interval '1 day', 'YYYY-MM-DD')");
  const std::string to = x.sql("SELECT to_char(now() AT TIME ZONE 'Europe/Kyiv' + interval '1 day', 'YYYY-MM-DD')");
  const std::string out = x.dir() + "/report.json";
  x.runVkhid({"report", "--from", from, "--to", to, "--format", "json", "--out", out});
  auto r = json::parse(readFile(out)).as_object();
  BOOST_TEST(r.at("totals").at("forwarded_not_in_competence").as_int64() == 3);
  BOOST_TEST(r.at("totals").at("forwarded_late").as_int64() == 2);
  const auto& misrouting = r.at("misrouting").as_array();
  BOOST_REQUIRE(misrouting.size() == 1u);
  BOOST_TEST(std::string(misrouting.at(0).at("participant").as_string()) == x.org());
  BOOST_TEST(misrouting.at(0).at("forwarded").as_int64() == 3);
  BOOST_TEST(misrouting.at(0).at("late").as_int64() == 2);
}

BOOST_AUTO_TEST_CASE(legal_appeal_needing_no_further_study_runs_on_15_days) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  auto simple = x.submitJson(exampleCaseWith([](json::object& o) { o["no_further_study"] = true; }), "s1");
  auto ordinary = x.submitJson(exampleCaseWith([](json::object&) {}), "s2");
  BOOST_REQUIRE_MESSAGE(simple.status == 201, simple.body);
  BOOST_REQUIRE(ordinary.status == 201);
  auto termOf = [&](const HttpReply& r, const std::string& what) {
    return x.sql("SELECT " + what + " FROM cases WHERE id = '" + jsonField(r.body, "id") + "'");
  };
  BOOST_TEST(termOf(simple, "due_kind") == "appeal_simple");
  BOOST_TEST(termOf(simple, "due_rule").find("15 днів") != std::string::npos);
  // 15 days from today, or the next working day after it: never the month an ordinary appeal gets.
  const long long days = std::stoll(termOf(simple, "(due_at::date - received_at::date)"));
  BOOST_TEST(days >= 15);
  BOOST_TEST(days <= 18);
  BOOST_TEST(termOf(ordinary, "due_kind") == "appeal");
  BOOST_TEST(std::stoll(termOf(ordinary, "(due_at::date - received_at::date)")) >= 28);
  // Only an appeal has that term.
  auto request = x.submitJson(exampleCaseWith([](json::object& o) {
                                o["kind"] = "info_request";
                                o["no_further_study"] = true;
                              }),
                              "s3");
  BOOST_TEST(request.status == 422);
  BOOST_TEST(request.body.find("/no_further_study") != std::string::npos, request.body);

  // The participant may find it so too: its notice shortens an ordinary appeal's term to the same 15 days.
  x.startSimulator({"--no-further-study", "--no-answer"});
  auto noticed = x.submitJson(exampleCaseWith([](json::object&) {}), "s4");
  BOOST_REQUIRE(noticed.status == 201);
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM case_event WHERE event = 'deadline_set' AND case_id = '" +
                                      jsonField(noticed.body, "id") + "' AND detail->>'reason' = 'no_further_study'",
                                  1, 60s),
                        x.histogram());
  BOOST_TEST(termOf(noticed, "due_kind") == "appeal_simple");
  BOOST_TEST(std::stoll(termOf(noticed, "(due_at::date - received_at::date)")) <= 18);
  BOOST_TEST(x.sql("SELECT actor FROM case_event WHERE event = 'deadline_set' AND case_id = '" +
                   jsonField(noticed.body, "id") + "' AND detail->>'reason' = 'no_further_study'") ==
             "participant:" + x.org());
  // The cases registered before the participant came are reached too; the one already on 15 days keeps
  // its term (recorded, unchanged).
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM case_event WHERE event = 'no_further_study' AND case_id = '" +
                                      jsonField(simple.body, "id") + "' AND detail->>'changed' = 'false'",
                                  1, 60s),
                        x.histogram());
  BOOST_TEST(termOf(simple, "due_kind") == "appeal_simple");
}

BOOST_AUTO_TEST_CASE(legal_return_with_its_article) {
  ExchangeHarness x;
  x.setUp();
  const std::string admin = x.issueToken("ops", "admin");
  x.startGateway();
  const std::string article = "ст. 5 Закону № 393/96-ВР";
  auto pending = [&](const std::string& id) {
    return x.count("SELECT count(*) FROM timer WHERE fired_at IS NULL AND cancelled_at IS NULL AND case_id = '" + id +
                   "'");
  };
  auto eventOf = [&](const std::string& id, const std::string& field) {
    return x.sql("SELECT detail->>'" + field + "' FROM case_event WHERE event = 'returned' AND case_id = '" + id + "'");
  };

  // The participant registers the appeal, finds it lacking and returns it: the case ends `returned` with
  // the article, the applicant is told, and nobody sends the participant its own return back.
  x.startSimulator({"--return-article", article});
  auto by_participant = x.submitJson(exampleCaseWith([](json::object&) {}), "r1");
  BOOST_REQUIRE(by_participant.status == 201);
  const std::string r1 = jsonField(by_participant.body, "id");
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'returned'", 1, 60s), x.histogram());
  BOOST_TEST(eventOf(r1, "article") == article);
  BOOST_TEST(eventOf(r1, "late") == "false");
  BOOST_TEST(!eventOf(r1, "return_due").empty());
  BOOST_TEST(x.sql("SELECT actor FROM case_event WHERE event = 'returned' AND case_id = '" + r1 + "'") ==
             "participant:" + x.org());
  BOOST_TEST(x.count("SELECT count(*) FROM outbox_message WHERE routing_key = 'applicant.returned' AND "
                     "convert_from(payload, 'UTF8')::jsonb->>'article' = '" +
                     article + "'") == 1);
  BOOST_TEST(pending(r1) == 0);
  BOOST_TEST(x.simStats()["return_notices"] == 0);

  // The UCC returns one the participant holds without an answer, twelve days on: late, and the
  // participant is told by a signed notice.
  x.stopSimulator(0);
  x.startSimulator({"--no-answer"});
  x.killGateway(0, SIGTERM);
  x.startGateway(0, {{"VKHID_DEADLINES_CLOCK_OFFSET_S", std::to_string(12 * 86400)}});
  auto held = x.submitJson(exampleCaseWith([](json::object&) {}), "r2");
  BOOST_REQUIRE(held.status == 201);
  const std::string r2 = jsonField(held.body, "id");
  BOOST_REQUIRE_MESSAGE(
      x.waitFor("SELECT count(*) FROM cases WHERE status = 'registered_by_participant' AND id = '" + r2 + "'", 1, 60s),
      x.histogram());
  auto act = [&](const std::string& id, const std::string& body) {
    return httpRequest("POST", "127.0.0.1", x.adminPort(), "/api/v1/admin/cases/" + id + "/return",
                       {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + admin}}, body);
  };
  auto no_article = act(r2, R"({"reason": "Немає підпису"})");
  BOOST_TEST(no_article.status == 422);
  BOOST_TEST(no_article.body.find("article") != std::string::npos, no_article.body);
  BOOST_TEST(x.sql("SELECT status FROM cases WHERE id = '" + r2 + "'") == "registered_by_participant");
  auto returned = act(r2, R"({"article": "ст. 5 Закону № 393/96-ВР", "reason": "Звернення не підписано"})");
  BOOST_TEST(returned.status == 200, returned.body);
  BOOST_TEST(x.sql("SELECT status FROM cases WHERE id = '" + r2 + "'") == "returned");
  BOOST_TEST(eventOf(r2, "late") == "true");
  BOOST_TEST(x.sql("SELECT actor FROM case_event WHERE event = 'returned' AND case_id = '" + r2 + "'") == "admin:ops");
  BOOST_TEST(pending(r2) == 0);
  BOOST_TEST(eventually([&] { return x.simStats()["return_notices"] == 1; }, 30s, 100ms), x.histogram());
  // Once: a second return finds the case ended.
  BOOST_TEST(act(r2, R"({"article": "ст. 5", "reason": "r"})").status == 409);
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE event = 'returned' AND case_id = '" + r2 + "'") == 1);

  // Only an appeal is returned.
  auto request = x.submitJson(exampleCaseWith([](json::object& o) { o["kind"] = "info_request"; }), "r3");
  BOOST_REQUIRE(request.status == 201);
  auto refused = act(jsonField(request.body, "id"), R"({"article": "ст. 5", "reason": "r"})");
  BOOST_TEST(refused.status == 422);
  BOOST_TEST(refused.body.find("only an appeal") != std::string::npos, refused.body);
}

// A participant that returns an appeal after the 10-day term (Law 393 art. 5): the return stands, marked
// late against its due date; the applicant is told once.
BOOST_AUTO_TEST_CASE(legal_return_by_the_participant_after_its_term_is_late) {
  ExchangeHarness x;
  x.setUp();
  const std::string article = "ст. 5 Закону № 393/96-ВР";
  // Twelve days on by the clock the gateway's timers and judgements see.
  x.startGateway(0, {{"VKHID_DEADLINES_CLOCK_OFFSET_S", std::to_string(12 * 86400)}});
  x.startSimulator({"--return-article", article});
  auto r = x.submitJson(exampleCaseWith([](json::object&) {}), "late-return");
  BOOST_REQUIRE(r.status == 201);
  const std::string id = jsonField(r.body, "id");
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'returned'", 1, 60s), x.histogram());
  BOOST_TEST(x.sql("SELECT detail->>'late' FROM case_event WHERE event = 'returned' AND case_id = '" + id + "'") ==
             "true");
  BOOST_TEST(x.sql("SELECT actor FROM case_event WHERE event = 'returned' AND case_id = '" + id + "'") ==
             "participant:" + x.org());
  BOOST_TEST(x.count("SELECT count(*) FROM outbox_message WHERE routing_key = 'applicant.returned'") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE event = 'returned'") == 1);
}

BOOST_AUTO_TEST_CASE(legal_withdrawal_by_tracking_code) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  auto withdraw = [&](const std::string& body) {
    return httpRequest("POST", "127.0.0.1", x.intakePort(), "/api/v1/cases/withdrawal",
                       {{"Authorization", "Bearer " + x.token()}, {"Content-Type", "application/json"}}, body);
  };
  // A case already answered cannot be withdrawn: its answer stands.
  x.startSimulator();
  auto answered = x.submit("w0");
  BOOST_REQUIRE(answered.status == 201);
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s), x.histogram());
  auto too_late = withdraw(R"({"tracking_code": ")" + jsonField(answered.body, "tracking_code") + R"("})");
  BOOST_TEST(too_late.status == 409, too_late.body);
  BOOST_TEST(x.sql("SELECT status FROM cases") == "closed");

  // One the participant has registered and is working on: withdrawn, the participant told.
  x.stopSimulator(0);
  x.startSimulator({"--no-answer"});
  auto open = x.submit("w1");
  BOOST_REQUIRE(open.status == 201);
  const std::string id = jsonField(open.body, "id");
  BOOST_REQUIRE_MESSAGE(
      x.waitFor("SELECT count(*) FROM cases WHERE status = 'registered_by_participant' AND id = '" + id + "'", 1, 60s),
      x.histogram());
  // As the applicant typed it: lower case, no dashes.
  std::string typed = jsonField(open.body, "tracking_code");
  typed.erase(std::remove(typed.begin(), typed.end(), '-'), typed.end());
  std::transform(typed.begin(), typed.end(), typed.begin(), [](unsigned char c) { return std::tolower(c); });
  auto first = withdraw(R"({"tracking_code": ")" + typed + R"(", "reason": "Питання вирішено"})");
  BOOST_TEST(first.status == 200, first.body);
  BOOST_TEST(jsonField(first.body, "status") == "withdrawn");
  BOOST_TEST(first.body.find("\"repeated\":false") != std::string::npos, first.body);
  // Again (the applicant pressed twice): the same answer, nothing more done.
  auto again = withdraw(R"({"tracking_code": ")" + typed + R"("})");
  BOOST_TEST(again.status == 200);
  BOOST_TEST(again.body.find("\"repeated\":true") != std::string::npos, again.body);
  BOOST_TEST(x.sql("SELECT status FROM cases WHERE id = '" + id + "'") == "withdrawn");
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE event = 'withdrawn' AND case_id = '" + id +
                     "' AND actor LIKE 'client:%'") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM outbox_message WHERE routing_key = 'applicant.withdrawn'") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM timer WHERE fired_at IS NULL AND cancelled_at IS NULL AND case_id = '" + id +
                     "'") == 0);
  BOOST_TEST(eventually([&] { return x.simStats()["withdrawal_notices"] == 1; }, 30s, 100ms), x.histogram());
  // The applicant's tracking page says so.
  auto tracked = httpGet("127.0.0.1", x.intakePort(), "/api/v1/track/" + jsonField(open.body, "tracking_code"));
  BOOST_TEST(jsonField(tracked.body, "status") == "withdrawn");

  // An unknown code, and no code: refused, nothing changed.
  BOOST_TEST(withdraw(R"({"tracking_code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ"})").status == 404);
  auto wrong = withdraw(R"({"reason": "x"})");
  BOOST_TEST(wrong.status == 422);
  BOOST_TEST(wrong.body.find("/tracking_code") != std::string::npos, wrong.body);
}

BOOST_AUTO_TEST_CASE(legal_repeat_appeal_detected_and_not_considered) {
  ExchangeHarness x;
  x.setUp();
  const std::string admin = x.issueToken("ops", "admin");
  x.startGateway();
  x.startSimulator();
  auto first = x.submit("p1");
  BOOST_REQUIRE(first.status == 201);
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s), x.histogram());

  // The same person (as they typed their name and e-mail this time) on the same topic: marked with the
  // earlier case, which the UCC is shown.
  x.stopSimulator(0);
  x.startSimulator({"--no-answer"});
  auto again = x.submitJson(exampleCaseWith([](json::object& o) {
                              auto& a = o["applicant"].as_object();
                              a["surname"] = "ШЕВЧЕНКО";
                              a["email"] = "Olena@Example.org";
                              a.erase("phone");
                              a.erase("address");
                            }),
                            "p2");
  BOOST_REQUIRE(again.status == 201);
  const std::string id = jsonField(again.body, "id");
  auto shown = httpRequest("GET", "127.0.0.1", x.adminPort(), "/api/v1/admin/cases/" + id,
                           {{"Authorization", "Bearer " + admin}}, "");
  BOOST_REQUIRE(shown.status == 200);
  auto c = json::parse(shown.body).at("case").as_object();
  BOOST_TEST(std::string(c.at("likely_repeat_of_ucc_number").as_string()) == jsonField(first.body, "ucc_number"));
  BOOST_TEST(std::string(c.at("likely_repeat_of").as_string()) == jsonField(first.body, "id"));
  // Another person, or the same person on another topic: no repeat.
  auto other_person =
      x.submitJson(exampleCaseWith([](json::object& o) { o["applicant"].as_object()["surname"] = "Коваленко"; }), "p3");
  auto other_topic =
      x.submitJson(exampleCaseWith([](json::object& o) { o["classification"].as_object()["topic"] = "010"; }), "p4");
  for (const auto* r : {&other_person, &other_topic}) {
    BOOST_TEST(
        x.sql("SELECT coalesce(repeat_of::text, '-') FROM cases WHERE id = '" + jsonField(r->body, "id") + "'") == "-");
  }

  // The UCC decides it is a repeat on a question already decided: not considered, with the article and
  // the earlier case; the participant holding it is told to stop.
  BOOST_REQUIRE_MESSAGE(
      x.waitFor("SELECT count(*) FROM cases WHERE status = 'registered_by_participant' AND id = '" + id + "'", 1, 60s),
      x.histogram());
  auto decide = [&](const std::string& body) {
    return httpRequest("POST", "127.0.0.1", x.adminPort(), "/api/v1/admin/cases/" + id + "/not-considered",
                       {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + admin}}, body);
  };
  BOOST_TEST(decide(R"({"article": "ст. 8 Закону № 393/96-ВР"})").status == 422);  // no reason
  auto decided =
      decide(R"({"article": "ст. 8 Закону № 393/96-ВР", "reason": "Повторне звернення з питання, яке вже вирішено"})");
  BOOST_TEST(decided.status == 200, decided.body);
  BOOST_TEST(x.sql("SELECT status FROM cases WHERE id = '" + id + "'") == "not_considered");
  BOOST_TEST(x.sql("SELECT detail->>'repeat_of' FROM case_event WHERE event = 'not_considered' AND case_id = '" + id +
                   "'") == jsonField(first.body, "ucc_number"));
  BOOST_TEST(x.count("SELECT count(*) FROM outbox_message WHERE routing_key = 'applicant.not_considered'") == 1);
  BOOST_TEST(eventually([&] { return x.simStats()["not_considered_notices"] == 1; }, 30s, 100ms), x.histogram());
  BOOST_TEST(decide(R"({"article": "ст. 8", "reason": "r"})").status == 409);
}

BOOST_AUTO_TEST_CASE(legal_mass_appeal_merged_and_answered_once) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  // The participant answers each appeal 20 s after it comes: all 50 arrive while the first is open.
  x.startSimulator({"--answer-after-ms", "20000"});
  const std::string text =
      "Ми, мешканці мікрорайону Сонячний, вимагаємо відновити рух автобуса № 12, скасований з 1 листопада, "
      "бо інших способів дістатися до лікарні немає.";
  std::vector<std::string> ids, codes;
  for (int i = 0; i < 50; ++i) {
    auto r = x.submitJson(exampleCaseWith([&](json::object& o) {
                            auto& a = o["applicant"].as_object();
                            a["surname"] = "Заявник" + std::to_string(i);
                            a["email"] = "person" + std::to_string(i) + "@example.org";
                            // Some write it in capitals, without the punctuation: the same words.
                            o["text"] = i % 5 == 4 ? "МИ МЕШКАНЦІ МІКРОРАЙОНУ СОНЯЧНИЙ вимагаємо відновити рух "
                                                     "автобуса 12 скасований з 1 листопада бо інших способів "
                                                     "дістатися до лікарні немає"
                                                   : text;
                          }),
                          "m" + std::to_string(i));
    BOOST_REQUIRE_MESSAGE(r.status == 201, r.body);
    ids.push_back(jsonField(r.body, "id"));
    codes.push_back(jsonField(r.body, "tracking_code"));
    if (i > 0) {
      BOOST_TEST(jsonField(r.body, "status") == "merged");
      BOOST_TEST(jsonField(r.body, "merged_into") == x.sql("SELECT ucc_number FROM cases WHERE id = '" + ids[0] + "'"));
    }
  }
  BOOST_TEST(x.count("SELECT count(*) FROM cases WHERE status = 'merged' AND merged_into = '" + ids[0] + "'") == 49);
  // Two short identical texts from two people are no campaign: each its own case.
  auto short1 =
      x.submitJson(exampleCaseWith([](json::object& o) { o["applicant"].as_object()["surname"] = "Бойко"; }), "s1");
  auto short2 =
      x.submitJson(exampleCaseWith([](json::object& o) { o["applicant"].as_object()["surname"] = "Мельник"; }), "s2");
  BOOST_TEST(jsonField(short1.body, "status") == "registered");
  BOOST_TEST(jsonField(short2.body, "status") == "registered");

  // Answered once: one package reached the participant for the 50, one answer closed the first case, and
  // each of the 50 applicants is told, by their own tracking code.
  BOOST_REQUIRE_MESSAGE(
      x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed' AND id = '" + ids[0] + "'", 1, 90s), x.histogram());
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'out' AND msg_type = 1 AND case_id IN ('" +
                     ids[0] + "', '" + ids[1] + "', '" + ids[49] + "')") == 1);
  BOOST_TEST(
      x.count("SELECT count(DISTINCT convert_from(payload, 'UTF8')::jsonb->>'tracking_code') FROM outbox_message "
              "WHERE routing_key = 'applicant.answered' AND (convert_from(payload, 'UTF8')::jsonb->>'case_id' = '" +
              ids[0] + "' OR convert_from(payload, 'UTF8')::jsonb->>'answered_with' = '" + ids[0] + "')") == 50);
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE event = 'answered_with_group'") == 49);
  BOOST_TEST(x.count("SELECT count(*) FROM timer WHERE fired_at IS NULL AND cancelled_at IS NULL AND case_id IN "
                     "(SELECT id FROM cases WHERE merged_into IS NOT NULL)") == 0);
}

// The same campaign text sent at once, through two gateways: the text's lock makes one group — one case
// the others are merged into, never two "first" cases.
BOOST_AUTO_TEST_CASE(legal_mass_appeal_sent_at_once_through_two_gateways_is_one_group) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway(0);
  x.startGateway(1);
  x.startSimulator({"--no-answer"});
  const std::string text =
      "Ми, батьки учнів школи № 7, просимо відремонтувати дах спортивної зали до зими: він протікає, і заняття "
      "фізкультурою вже двічі скасовували через воду на підлозі.";
  constexpr int kThreads = 8, kEach = 3;
  std::vector<std::thread> senders;
  std::vector<int> statuses(kThreads * kEach, 0);
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([&, t] {
      for (int k = 0; k < kEach; ++k) {
        const int i = t * kEach + k;
        auto r = x.submitJson(exampleCaseWith([&](json::object& o) {
                                o["applicant"].as_object()["surname"] = "Батько" + std::to_string(i);
                                o["text"] = text;
                              }),
                              "at-once-" + std::to_string(i), t % 2);
        statuses[i] = r.status;
      }
    });
  }
  for (auto& s : senders) s.join();
  for (int st : statuses) BOOST_TEST(st == 201);
  const int n = kThreads * kEach;
  BOOST_TEST(x.count("SELECT count(*) FROM cases") == n);
  BOOST_TEST(x.count("SELECT count(*) FROM cases WHERE merged_into IS NULL") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM cases c WHERE merged_into = (SELECT id FROM cases WHERE merged_into IS "
                     "NULL) AND status = 'merged'") == n - 1);
}

BOOST_AUTO_TEST_CASE(legal_mass_appeal_goes_on_when_its_first_case_ends) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway();  // no participant answers yet
  const std::string text =
      "Просимо терміново відремонтувати дах будинку № 7 на вулиці Лесі Українки, бо протікає у квартири "
      "третього і четвертого поверхів.";
  std::vector<std::string> ids, codes;
  for (int i = 0; i < 3; ++i) {
    auto r = x.submitJson(exampleCaseWith([&](json::object& o) {
                            o["applicant"].as_object()["surname"] = "Мешканець" + std::to_string(i);
                            o["applicant"].as_object()["email"] = "m" + std::to_string(i) + "@example.org";
                            o["text"] = text;
                          }),
                          "g" + std::to_string(i));
    BOOST_REQUIRE_MESSAGE(r.status == 201, r.body);
    ids.push_back(jsonField(r.body, "id"));
    codes.push_back(jsonField(r.body, "tracking_code"));
  }
  BOOST_TEST(x.count("SELECT count(*) FROM cases WHERE merged_into = '" + ids[0] + "'") == 2);

  // The first applicant withdraws: the others' appeals do not end with theirs. The earliest member goes on
  // as a case of its own, with its own term, and the last joins it.
  auto withdrawn = httpRequest("POST", "127.0.0.1", x.intakePort(), "/api/v1/cases/withdrawal",
                               {{"Authorization", "Bearer " + x.token()}, {"Content-Type", "application/json"}},
                               R"({"tracking_code": ")" + codes[0] + R"("})");
  BOOST_REQUIRE_MESSAGE(withdrawn.status == 200, withdrawn.body);
  BOOST_TEST(x.sql("SELECT status FROM cases WHERE id = '" + ids[0] + "'") == "withdrawn");
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE event = 'unmerged' AND case_id = '" + ids[1] + "'") == 1);
  BOOST_TEST(x.sql("SELECT coalesce(merged_into::text, 'none') FROM cases WHERE id = '" + ids[1] + "'") == "none");
  BOOST_TEST(x.sql("SELECT merged_into FROM cases WHERE id = '" + ids[2] + "'") == ids[1]);
  BOOST_TEST(x.count("SELECT count(*) FROM cases WHERE id = '" + ids[1] + "' AND due_at IS NOT NULL") == 1);

  // It is routed and answered, and the member still in the group is answered with it.
  x.startSimulator();
  BOOST_REQUIRE_MESSAGE(
      x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed' AND id = '" + ids[1] + "'", 1, 60s), x.histogram());
  BOOST_REQUIRE_MESSAGE(
      x.waitFor("SELECT count(*) FROM case_event WHERE event = 'answered_with_group' AND case_id = '" + ids[2] + "'", 1,
                30s),
      x.histogram());
  BOOST_TEST(x.count("SELECT count(*) FROM outbox_message WHERE routing_key = 'applicant.answered' AND "
                     "convert_from(payload, 'UTF8')::jsonb->>'tracking_code' = '" +
                     codes[2] + "'") == 1);
  // One package reached the participant for the two that remain, none for the withdrawn one after.
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'out' AND msg_type = 1 AND case_id = '" + ids[1] +
                     "'") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'out' AND msg_type = 1 AND case_id = '" + ids[2] +
                     "'") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
