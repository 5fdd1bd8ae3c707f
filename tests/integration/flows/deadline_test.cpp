// Deadlines in the running gateway, against the real servers: each case's answer deadline, the timers
// (fired once across gateway processes and restarts, with the clock moved forward by
// deadlines.clock_offset_s), extensions within and beyond the legal cap, and the tracking API.
#define BOOST_TEST_MODULE integration_deadlines
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <thread>

#include "gateway/store/pg.hpp"
#include "gateway/store/timers.hpp"
#include "tests/support/exchange_harness.hpp"

using namespace vkhid::testing;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;
namespace json = boost::json;

namespace {

json::object parse(const std::string& body) { return json::parse(body).as_object(); }

std::string str(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

constexpr const char* kForty = "3456000";  // 40 days, in seconds

// One case registered by a participant that never answers, and the gateway stopped: its answer term's
// first step waits on the case's open row.
void registerOneAndStop(ExchangeHarness& x, const std::string& name) {
  x.setUp();
  x.startGateway(0);
  x.startSimulator({"--no-answer"});
  BOOST_REQUIRE(x.submit(name).status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'registered_by_participant'", 1, 60s));
  x.killGateway(0, SIGTERM);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(deadlines, *utf::precondition(servicesAreOurs))

BOOST_AUTO_TEST_CASE(deadline_set_at_registration_sent_to_the_participant_and_tracked) {
  ExchangeHarness x;
  x.setUp();
  auto port = x.startGateway();
  x.startSimulator({"--no-answer"});
  auto r = x.submit("d1");
  BOOST_REQUIRE(r.status == 201);
  auto created = parse(r.body);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'registered_by_participant'", 1, 60s));

  // One month from the Kyiv date of receipt, by the rule the shipped file cites.
  BOOST_TEST(x.sql("SELECT due_kind FROM cases") == "appeal");
  BOOST_TEST(x.sql("SELECT due_rule FROM cases").find("ст. 20") != std::string::npos);
  std::string expected = x.sql("SELECT to_char(due_at AT TIME ZONE 'Europe/Kyiv', 'YYYY-MM-DD HH24:MI:SS') FROM cases");
  BOOST_TEST(expected.substr(11) == "23:59:59");
  // Recorded in the history with the registration, not as an event (and an evidence entry) of its own.
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE event = 'registered' AND detail->'deadline'->>'kind' = "
                     "'appeal' AND detail->'deadline'->>'due' LIKE '" +
                     expected.substr(0, 10) + "%'") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE event = 'deadline_set'") == 0);
  auto shown = x.runVkhid({"case", "show", x.sql("SELECT id FROM cases")});
  BOOST_TEST(shown.find("registered by the UCC (answer due " + expected.substr(0, 10)) != std::string::npos, shown);
  // The answer term's steps, one at a time: the first warning, three working days before the term, kept
  // with the open case (migration 0038) — no timer row until it comes due; each step plans the next when
  // it fires.
  BOOST_TEST(x.count("SELECT count(*) FROM timer") == 0);
  BOOST_TEST(x.count("SELECT count(*) FROM case_open o JOIN cases c ON c.id = o.case_id WHERE o.step = 'warning_3wd' "
                     "AND o.step_at < c.due_at - interval '3 days' AND o.step_at > now()") == 1);
  // The participant got it in the appeal expansion.
  const std::string sent = x.sql("SELECT msg_id FROM message WHERE direction = 'out' AND msg_type = 1");
  BOOST_TEST(x.openedPackage(sent).find("kind=\"answer\"") != std::string::npos);

  // The applicant's view: status, dates, participant, deadline — no names, no text.
  std::string code = str(created, "tracking_code");
  auto t = httpGet("127.0.0.1", port, "/api/v1/track/" + code);
  BOOST_REQUIRE(t.status == 200);
  auto view = parse(t.body);
  BOOST_TEST(str(view, "status") == "registered_by_participant");
  BOOST_TEST(str(view, "due_date") == expected.substr(0, 10));
  BOOST_TEST(view.at("answer_available").as_bool() == false);
  BOOST_TEST(view.at("participant").as_object().at("org_id").as_string() == x.org());
  for (const char* secret : {"Шевченко", "Олена", "olena@", "Садовій", "+380"}) {
    BOOST_TEST(t.body.find(secret) == std::string::npos, secret);
  }
  // As people type it: lower case, no dashes.
  std::string typed;
  for (char ch : code) {
    if (ch != '-') typed += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  BOOST_TEST(httpGet("127.0.0.1", port, "/api/v1/track/" + typed).status == 200);
  BOOST_TEST(httpGet("127.0.0.1", port, "/api/v1/track/ZZZZ-ZZZZ-ZZZZ-ZZZZ").status == 404);
}

BOOST_AUTO_TEST_CASE(deadline_tracking_is_rate_limited_per_address) {
  ExchangeHarness x;
  x.setUp();
  auto port = x.startGateway(0, {{"VKHID_INTAKE_TRACK_PER_MINUTE", "5"}});
  int ok = 0, limited = 0;
  HttpReply last;
  for (int i = 0; i < 8; ++i) {
    last = httpGet("127.0.0.1", port, "/api/v1/track/AAAA-BBBB-CCCC-DDDD");
    if (last.status == 404) ok++;
    if (last.status == 429) limited++;
  }
  BOOST_TEST(ok == 5);
  BOOST_TEST(limited == 3);
  BOOST_TEST(last.body.find("too many tracking requests") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(deadline_warnings_and_overdue_fire_once_across_gateways_and_restarts, *utf::timeout(300)) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway(0);
  x.startSimulator({"--no-answer"});  // registers, never answers
  for (int i = 0; i < 3; ++i) BOOST_REQUIRE(x.submit("w" + std::to_string(i)).status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'registered_by_participant'", 3, 60s));
  // One answer-term step a case, its first warning, kept with the open case until it is due; the next
  // steps are planned (as timer rows) as each fires.
  BOOST_TEST(x.count("SELECT count(*) FROM case_open WHERE step = 'warning_3wd'") == 3);
  BOOST_TEST(x.count("SELECT count(*) FROM timer") == 0);
  x.killGateway(0, SIGKILL);

  // Forty days later, by the clock the timers see: two gateways at once.
  x.startGateway(0, {{"VKHID_DEADLINES_CLOCK_OFFSET_S", kForty}});
  x.startGateway(1, {{"VKHID_DEADLINES_CLOCK_OFFSET_S", kForty}});
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE overdue", 3, 60s));
  BOOST_REQUIRE(
      x.waitFor("SELECT count(*) FROM outbox_message WHERE exchange = 'vkhid.alerts' AND routing_key = "
                "'deadline.overdue' AND sent_at IS NOT NULL",
                3, 30s));
  // Restarted once more: nothing fires again.
  x.killGateway(1, SIGKILL);
  x.startGateway(1, {{"VKHID_DEADLINES_CLOCK_OFFSET_S", kForty}});
  std::this_thread::sleep_for(3s);
  for (const char* kind : {"warning_3wd", "warning_1d", "overdue"}) {
    BOOST_TEST(x.count(std::string("SELECT count(*) FROM case_event WHERE event = 'timer_") + kind + "'") == 3, kind);
    BOOST_TEST(
        x.count(std::string("SELECT count(*) FROM outbox_message WHERE routing_key = 'deadline.") + kind + "'") == 3,
        kind);
  }
  BOOST_TEST(x.count("SELECT count(*) FROM outbox_message WHERE routing_key = 'applicant.overdue'") == 3);
  // Each case once per timer; none left pending.
  BOOST_TEST(x.count("SELECT count(*) FROM (SELECT case_id, kind FROM timer WHERE outcome = 'fired' GROUP BY 1, 2 "
                     "HAVING count(*) > 1) d") == 0);
  BOOST_TEST(x.count("SELECT count(*) FROM timer WHERE fired_at IS NULL AND cancelled_at IS NULL") == 0);
  // The receipts came in time: the packages' transport watches found them, no escalation for them (and
  // no timer row: one is written only for a watch that fires).
  BOOST_TEST(x.count("SELECT count(*) FROM timer WHERE kind IN ('delivery_receipt', 'registration')") == 0);
  BOOST_TEST(x.count("SELECT count(*) FROM outbox_message WHERE routing_key LIKE 'deadline.%' AND routing_key NOT IN "
                     "('deadline.warning_3wd', 'deadline.warning_1d', 'deadline.overdue')") == 0);
  BOOST_TEST(x.count("SELECT count(*) FROM message m JOIN transport_watch w ON (m.created_at, m.msg_id) > "
                     "(w.through_at, w.through_id) WHERE m.direction = 'out' AND m.msg_type = 1") == 0);
}

// A package's transport watches, from the participant's side: it loses one appeal (no receipt at all) and
// acknowledges another's delivery but never registers it; a third it registers. Judged from the packages
// themselves (migration 0036): nothing is planned when a package is queued nor cancelled when a receipt
// comes, and each overdue receipt is escalated once, whatever the gateways and restarts.
BOOST_AUTO_TEST_CASE(deadline_transport_watches_escalate_each_missing_receipt_once_across_gateways_and_restarts,
                     *utf::timeout(300)) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway(0);
  x.startSimulator({"--drop", "1", "--no-register"});
  BOOST_REQUIRE(x.submit("lost").status == 201);
  BOOST_REQUIRE(eventually([&] { return x.simStats()["dropped"] == 1; }, 60s, 100ms));
  BOOST_REQUIRE(x.submit("unregistered").status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM message WHERE direction = 'in' AND ack_type = 2", 1, 60s));
  x.stopSimulator();
  x.startSimulator({"--no-answer"});
  BOOST_REQUIRE(x.submit("registered").status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'registered_by_participant'", 1, 60s));
  // Nothing planned for the packages, nothing cancelled by their receipts: the timer table holds nothing
  // (the answer term's first step a case is kept with the open case).
  BOOST_TEST(x.count("SELECT count(*) FROM timer") == 0);
  BOOST_TEST(x.count("SELECT count(*) FROM case_open WHERE step = 'warning_3wd'") == 3);
  x.killGateway(0, SIGKILL);

  // Forty days on by the timers' clock, two gateways at once.
  x.startGateway(0, {{"VKHID_DEADLINES_CLOCK_OFFSET_S", kForty}});
  x.startGateway(1, {{"VKHID_DEADLINES_CLOCK_OFFSET_S", kForty}});
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM timer WHERE kind = 'registration' AND outcome = 'fired'", 2, 60s));
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM timer WHERE kind = 'delivery_receipt' AND outcome = 'fired'", 1, 30s));
  x.killGateway(1, SIGKILL);
  x.startGateway(1, {{"VKHID_DEADLINES_CLOCK_OFFSET_S", kForty}});
  std::this_thread::sleep_for(3s);

  // The lost appeal: no delivery receipt and no registration; the unregistered one: no registration. The
  // registered one: nothing. Each escalated once, as an event of its case and an alert.
  const std::string lost = x.sql(
      "SELECT c.id FROM cases c WHERE NOT EXISTS (SELECT 1 FROM message m WHERE m.case_id = c.id AND m.direction = "
      "'in')");
  const std::string unregistered = x.sql("SELECT case_id FROM message WHERE direction = 'in' AND ack_type = 2");
  auto fired = [&](const std::string& kind, const std::string& case_id) {
    return x.count(
        "SELECT count(*) FROM timer t JOIN message m ON m.msg_id = t.msg_id AND m.case_id = t.case_id "
        "WHERE t.outcome = 'fired' AND t.kind = '" +
        kind + "' AND t.case_id = '" + case_id + "'");
  };
  BOOST_TEST(fired("delivery_receipt", lost) == 1);
  BOOST_TEST(fired("registration", lost) == 1);
  BOOST_TEST(fired("registration", unregistered) == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM timer WHERE kind IN ('delivery_receipt', 'registration')") == 3);
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE event = 'timer_delivery_receipt' AND case_id = '" + lost +
                     "'") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE event = 'timer_registration'") == 2);
  BOOST_TEST(x.count("SELECT count(*) FROM outbox_message WHERE routing_key = 'deadline.delivery_receipt'") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM outbox_message WHERE routing_key = 'deadline.registration'") == 2);
  // Every package judged by both watches.
  BOOST_TEST(x.count("SELECT count(*) FROM message m JOIN transport_watch w ON (m.created_at, m.msg_id) > "
                     "(w.through_at, w.through_id) WHERE m.direction = 'out' AND m.msg_type = 1") == 0);
  // The UCC's operator reads it in the case's history.
  auto shown = x.runVkhid({"case", "show", lost});
  BOOST_TEST(shown.find("no delivery receipt in time: escalated") != std::string::npos, shown);
  BOOST_TEST(shown.find("no registration receipt in time: escalated") != std::string::npos, shown);
}

// A transaction still running may yet commit a package queued when it began: the watch does not pass it
// over. A connection holds a transaction open while the gateways judge 40 days on.
BOOST_AUTO_TEST_CASE(deadline_transport_watch_waits_for_a_transaction_older_than_its_packages) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway(0);
  x.startSimulator({"--drop", "2"});
  BOOST_REQUIRE(x.submit("before").status == 201);
  BOOST_REQUIRE(eventually([&] { return x.simStats()["dropped"] == 1; }, 60s, 100ms));
  auto open = vkhid::store::PgConnection::connect({x.dbUrl(), 5, 60000, "test-open"});
  BOOST_REQUIRE(open.ok());
  BOOST_REQUIRE(open->begin().ok());
  BOOST_REQUIRE(open->exec("SELECT 1").ok());  // its snapshot, and xact_start, are now
  std::this_thread::sleep_for(1100ms);
  BOOST_REQUIRE(x.submit("after").status == 201);
  BOOST_REQUIRE(eventually([&] { return x.simStats()["dropped"] == 2; }, 60s, 100ms));
  x.killGateway(0, SIGTERM);
  x.startGateway(0, {{"VKHID_DEADLINES_CLOCK_OFFSET_S", kForty}});
  // The package queued before the open transaction is judged; the one queued after it waits.
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM timer WHERE kind = 'registration' AND outcome = 'fired'", 1, 60s));
  std::this_thread::sleep_for(3s);
  BOOST_TEST(x.count("SELECT count(*) FROM timer WHERE kind = 'registration' AND outcome = 'fired'") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM timer WHERE kind = 'delivery_receipt' AND outcome = 'fired'") == 1);
  BOOST_TEST(open->rollback().ok());
  // Once it ends, the later package is judged too.
  BOOST_TEST(x.waitFor("SELECT count(*) FROM timer WHERE kind = 'registration' AND outcome = 'fired'", 2, 30s));
  BOOST_TEST(x.waitFor("SELECT count(*) FROM timer WHERE kind = 'delivery_receipt' AND outcome = 'fired'", 2, 30s));
}

BOOST_AUTO_TEST_CASE(deadline_answered_case_raises_no_alarm) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway(0);
  x.startSimulator();
  BOOST_REQUIRE(x.submit("a1").status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s));
  // The answer term's first step went with the case's open row when the answer settled it: no timer was
  // ever written for the case, and nothing waits to fire (and be found moot) weeks later.
  BOOST_TEST(x.count("SELECT count(*) FROM timer") == 0);
  BOOST_TEST(x.count("SELECT count(*) FROM case_open") == 0);
  // Nothing due yet for the package's transport watches: the gateway's passes (one a second) looked and
  // wrote nothing — no watch row was ever locked (a lock leaves its xid as the row's xmax).
  std::this_thread::sleep_for(2500ms);
  BOOST_TEST(x.count("SELECT count(*) FROM transport_watch WHERE xmax <> '0'") == 0);
  x.killGateway(0, SIGTERM);
  x.startGateway(0, {{"VKHID_DEADLINES_CLOCK_OFFSET_S", kForty}});
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM timer WHERE fired_at IS NULL AND cancelled_at IS NULL", 0, 30s));
  BOOST_TEST(x.count("SELECT count(*) FROM timer WHERE outcome = 'fired'") == 0);
  BOOST_TEST(x.sql("SELECT overdue FROM cases") == "f");
}

BOOST_AUTO_TEST_CASE(deadline_answer_closes_a_case_whose_timer_is_being_fired) {
  // A gateway firing a timer holds its row until its transaction ends (and that transaction wants the
  // case's row to record its event). The answer arriving meanwhile holds the case's row and cancels the
  // case's timers: it skips the one being fired rather than wait for it — or deadlock with it.
  ExchangeHarness x;
  x.setUp();
  x.startGateway(0);
  x.startSimulator({"--answer-after-ms", "4000"});
  BOOST_REQUIRE(x.submit("f1").status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'registered_by_participant'", 1, 60s));
  // The answer term's timer held as a firing gateway holds it, for longer than the test waits below.
  auto firing = vkhid::store::PgConnection::connect({x.dbUrl(), 5, 60000, "test-firing"});
  BOOST_REQUIRE(firing.ok());
  // Its first step come due and turned into its timer row, as the timer loop does (here by hand, with the
  // clock forty days on); then claimed.
  auto promoted = vkhid::store::promoteDueAnswerSteps(*firing, std::stoi(kForty), 10);
  BOOST_REQUIRE(promoted.ok());
  BOOST_REQUIRE(*promoted == 1);
  BOOST_REQUIRE(firing->begin().ok());
  auto held = firing->exec("SELECT id FROM timer WHERE kind = 'warning_3wd' FOR UPDATE");
  BOOST_REQUIRE(held.ok());
  BOOST_REQUIRE(held->rows() == 1);
  BOOST_REQUIRE(x.count("SELECT count(*) FROM cases WHERE status = 'closed'") == 0);  // the answer is still to come
  // The answer closes the case while the timer is held; every other timer of it is cancelled, the held
  // one left to its firing (which finds it moot).
  BOOST_TEST(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 20s));
  BOOST_TEST(x.count("SELECT count(*) FROM timer WHERE fired_at IS NULL AND cancelled_at IS NULL") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM timer WHERE kind = 'warning_3wd' AND cancelled_at IS NULL") == 1);
  BOOST_TEST(firing->rollback().ok());
}

BOOST_AUTO_TEST_CASE(deadline_warning_fired_as_the_answer_closes_the_case_plans_no_next_step) {
  // A gateway fires the first warning; before it can plan the next step, the participant's answer closes
  // the case (it holds the case's row, and skips the warning being fired when it cancels the timers).
  // The warning, once it has the case, sees it settled and plans nothing: a closed case leaves no timer
  // to fire, even as moot, a day before a term that no longer matters.
  ExchangeHarness x;
  registerOneAndStop(x, "race");
  auto answer = vkhid::store::PgConnection::connect({x.dbUrl(), 5, 60000, "test-answer"});
  BOOST_REQUIRE(answer.ok());
  // The warning came due and was turned into its timer row (as the timer loop does, here by hand with the
  // clock forty days on) before the answer came. A step still on the open case when an answer holds the
  // case is skipped instead, and goes with the open row.
  auto promoted = vkhid::store::promoteDueAnswerSteps(*answer, std::stoi(kForty), 10);
  BOOST_REQUIRE(promoted.ok());
  BOOST_REQUIRE(*promoted == 1);
  // The answer's transaction, as the gateway writes it, holds the case while the warning is fired.
  BOOST_REQUIRE(answer->begin().ok());
  BOOST_REQUIRE(answer->exec("SELECT id FROM cases FOR UPDATE").ok());
  x.startGateway(0, {{"VKHID_DEADLINES_CLOCK_OFFSET_S", kForty}});
  // The firing waits for the case, its warning claimed.
  BOOST_REQUIRE_MESSAGE(
      x.waitFor("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = "
                "'Lock' AND query LIKE '%FROM cases%'",
                1, 30s),
      x.sql("SELECT string_agg(coalesce(wait_event_type, '-') || ' ' || left(query, 80), E'\n') FROM "
            "pg_stat_activity WHERE datname = current_database()"));
  BOOST_REQUIRE(answer->exec("UPDATE cases SET status = 'closed'").ok());
  BOOST_REQUIRE(answer
                    ->exec("UPDATE timer SET cancelled_at = now() WHERE id IN (SELECT id FROM timer WHERE "
                           "coalesce(fired_at, cancelled_at) IS NULL FOR UPDATE SKIP LOCKED)")
                    .ok());
  BOOST_REQUIRE(answer->commit().ok());
  // The warning fired (it was claimed before the answer), and nothing came after it.
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM timer WHERE kind = 'warning_3wd' AND fired_at IS NOT NULL", 1, 30s));
  std::this_thread::sleep_for(3s);  // several of the timer loop's rounds
  BOOST_TEST(x.count("SELECT count(*) FROM timer WHERE kind IN ('warning_1d', 'overdue')") == 0);
  BOOST_TEST(x.count("SELECT count(*) FROM timer WHERE fired_at IS NULL AND cancelled_at IS NULL") == 0);
}

// A new case's first answer-term step is kept with its open row (migration 0038) and becomes a timer row
// only when it comes due. A case another transaction holds (an answer settling it) is passed over, not
// waited for: that transaction deletes the open row this one holds, and waiting for each other would be
// a deadlock.
BOOST_AUTO_TEST_CASE(deadline_first_step_waits_with_the_open_case_and_becomes_a_timer_when_due) {
  ExchangeHarness x;
  registerOneAndStop(x, "step");
  BOOST_TEST(x.count("SELECT count(*) FROM timer") == 0);
  const std::string step_at = x.sql("SELECT step_at FROM case_open WHERE step = 'warning_3wd'");
  BOOST_REQUIRE(!step_at.empty());
  // The UCC's operator sees it waiting on the case's page.
  auto shown = x.runVkhid({"case", "show", x.sql("SELECT id FROM cases")});
  BOOST_TEST(shown.find("warning_3wd              waiting") != std::string::npos, shown);

  auto loop = vkhid::store::PgConnection::connect({x.dbUrl(), 5, 10000, "test-timer-loop"});
  BOOST_REQUIRE(loop.ok());
  // Not due today.
  auto none = vkhid::store::promoteDueAnswerSteps(*loop, 0, 10);
  BOOST_REQUIRE(none.ok());
  BOOST_TEST(*none == 0);
  // Due forty days on, but the case is held: passed over at once (the statement timeout is ten seconds).
  auto holder = vkhid::store::PgConnection::connect({x.dbUrl(), 5, 60000, "test-answer"});
  BOOST_REQUIRE(holder.ok());
  BOOST_REQUIRE(holder->begin().ok());
  BOOST_REQUIRE(holder->exec("SELECT id FROM cases FOR UPDATE").ok());
  auto held = vkhid::store::promoteDueAnswerSteps(*loop, std::stoi(kForty), 10);
  BOOST_REQUIRE(held.ok());
  BOOST_TEST(*held == 0);
  BOOST_TEST(x.count("SELECT count(*) FROM timer") == 0);
  BOOST_REQUIRE(holder->rollback().ok());
  // Released: the step becomes a pending timer row at the step's own time, once, and leaves the open row.
  auto due = vkhid::store::promoteDueAnswerSteps(*loop, std::stoi(kForty), 10);
  BOOST_REQUIRE(due.ok());
  BOOST_TEST(*due == 1);
  auto again = vkhid::store::promoteDueAnswerSteps(*loop, std::stoi(kForty), 10);
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(*again == 0);
  BOOST_TEST(x.count("SELECT count(*) FROM timer WHERE kind = 'warning_3wd' AND fired_at IS NULL AND cancelled_at IS "
                     "NULL AND fire_at = '" +
                     step_at + "'") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM case_open WHERE step IS NULL AND step_at IS NULL") == 1);
}

BOOST_AUTO_TEST_CASE(deadline_extension_within_the_cap_and_beyond_it) {
  ExchangeHarness x;
  x.setUp();
  int late = x.addParticipant();
  x.runVkhid({"route", "add", "--target", x.org(late), "--addressee", x.org(late), "--priority", "10"});
  x.startGateway();
  x.startSimulator({"--no-answer", "--extend-days", "40"});        // within 45 days
  x.startSimulator({"--no-answer", "--extend-days", "50"}, late);  // beyond
  BOOST_REQUIRE(x.submit("e1").status == 201);
  BOOST_REQUIRE(x.submitTo(late, "e2").status == 201);

  std::string within = "participant_org_id = '" + x.org() + "'";
  std::string beyond = "participant_org_id = '" + x.org(late) + "'";
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE extended_at IS NOT NULL AND " + within, 1, 60s));
  BOOST_TEST(x.sql("SELECT due_kind FROM cases WHERE " + within) == "appeal_extended");
  BOOST_TEST(x.count("SELECT count(*) FROM cases WHERE " + within +
                     " AND due_at > now() + interval '39 days' AND due_at < now() + interval '41 days'") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE event = 'extended'") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM outbox_message WHERE routing_key = 'applicant.extended'") == 1);
  // The old plan's timer is cancelled; one stands, the new plan's first warning, three working days
  // before the new term (after the old one, a month from receipt).
  BOOST_TEST(x.count("SELECT count(*) FROM timer t JOIN cases c ON c.id = t.case_id WHERE c." + within +
                     " AND t.kind IN ('warning_3wd', 'warning_1d', 'overdue') AND t.cancelled_at IS NULL") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM timer t JOIN cases c ON c.id = t.case_id WHERE c." + within +
                     " AND t.kind = 'warning_3wd' AND t.cancelled_at IS NULL AND t.fire_at < c.due_at - interval "
                     "'3 days' AND t.fire_at > now() + interval '32 days'") == 1);
  // The old plan's first step, kept with the open case, is gone with it; the refused one keeps its own.
  BOOST_TEST(x.count("SELECT count(*) FROM case_open o JOIN cases c ON c.id = o.case_id WHERE c." + within +
                     " AND o.step IS NOT NULL") == 0);
  BOOST_TEST(x.count("SELECT count(*) FROM case_open o JOIN cases c ON c.id = o.case_id WHERE c." + beyond +
                     " AND o.step = 'warning_3wd'") == 1);

  // Beyond the cap: refused with code 133 and a receipt 4; the case keeps its one-month deadline.
  BOOST_REQUIRE(
      x.waitFor("SELECT count(*) FROM message WHERE direction = 'in' AND status = 'rejected' AND "
                "error_code = 133",
                1, 60s));
  BOOST_REQUIRE(
      x.waitFor("SELECT count(*) FROM message WHERE direction = 'out' AND ack_type = 4 AND error_code = 133", 1, 30s));
  BOOST_TEST(x.sql("SELECT due_kind FROM cases WHERE " + beyond) == "appeal");
  BOOST_TEST(x.sql("SELECT extended_at IS NULL FROM cases WHERE " + beyond) == "t");
}

BOOST_AUTO_TEST_CASE(deadline_extension_that_would_shorten_the_term_is_refused) {
  // Ten days from now is before the one-month term in force: not an extension. Refused with code 135
  // and a receipt 4; the case keeps its term.
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  x.startSimulator({"--no-answer", "--extend-days", "10"});
  BOOST_REQUIRE(x.submit("s1").status == 201);
  BOOST_REQUIRE(x.waitFor(
      "SELECT count(*) FROM message WHERE direction = 'in' AND status = 'rejected' AND error_code = 135", 1, 60s));
  BOOST_TEST(x.sql("SELECT last_error FROM message WHERE direction = 'in' AND error_code = 135")
                 .find("is not after the term in force") != std::string::npos);
  BOOST_REQUIRE(
      x.waitFor("SELECT count(*) FROM message WHERE direction = 'out' AND ack_type = 4 AND error_code = 135", 1, 30s));
  BOOST_TEST(x.sql("SELECT due_kind FROM cases") == "appeal");
  BOOST_TEST(x.sql("SELECT extended_at IS NULL FROM cases") == "t");
  BOOST_TEST(x.count("SELECT count(*) FROM cases WHERE due_at > now() + interval '27 days'") == 1);
}

BOOST_AUTO_TEST_SUITE_END()
