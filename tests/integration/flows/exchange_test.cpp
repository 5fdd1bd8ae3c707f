// The exchange core end to end, against the real PostgreSQL and RabbitMQ, real gateway processes and
// the participant simulator speaking SEV OVV over AMQP.
#define BOOST_TEST_MODULE integration_exchange
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <csignal>
#include <ctime>
#include <set>
#include <thread>

#include <sys/stat.h>

#include "gateway/bus/amqp.hpp"
#include "gateway/bus/topology.hpp"
#include "tests/support/exchange_harness.hpp"
#include "tests/support/pki.hpp"

using namespace vkhid::testing;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;

namespace {

// `n` appeals sent to the participant, which answers each (three receipts and the answer) while the
// gateway is away: its packages wait together in the gateway's queue for the next gateway to start. With
// `--no-answer` it registers them and never answers: wait for `registered` instead.
void answeredWhileAway(ExchangeHarness& x, int n, const std::string& name, std::vector<std::string> simulator = {},
                       const char* waited_for = "answered") {
  x.startGateway();
  for (int i = 0; i < n; ++i) BOOST_REQUIRE(x.submit(name + "-" + std::to_string(i)).status == 201);
  BOOST_REQUIRE(
      x.waitFor("SELECT count(*) FROM message WHERE direction = 'out' AND msg_type = 1 AND status = 'sent'", n, 30s));
  x.killGateway(0, SIGTERM);
  x.startSimulator(std::move(simulator));
  BOOST_REQUIRE(eventually([&] { return x.simStats()[waited_for] == n; }, 60s));
}

// What `counter` (a query of the server's statistics) rose by while a gateway started again and applied
// what waited for it, until `settled` counts `n`.
long long countedWhileApplied(ExchangeHarness& x, const std::string& counter, const std::string& settled, int n) {
  // A backend reports its statistics when it ends at the latest: every one of the first gateway's has.
  std::this_thread::sleep_for(2s);
  const long long before = x.count(counter);
  x.startGateway();
  BOOST_REQUIRE_MESSAGE(x.waitFor(settled, n, 60s), x.histogram());
  x.killGateway(0, SIGTERM);
  std::this_thread::sleep_for(2s);
  return x.count(counter) - before;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(exchange, *utf::precondition(servicesAreOurs))

BOOST_AUTO_TEST_CASE(exchange_case_reaches_closed_with_answer) {
  ExchangeHarness x;
  x.setUp();
  auto port = x.startGateway();
  x.startSimulator();
  auto created = x.submit("first");
  BOOST_REQUIRE_MESSAGE(created.status == 201, created.body);
  BOOST_TEST(created.location.starts_with("/api/v1/cases/"));
  BOOST_TEST(jsonField(created.body, "ucc_number").find("УКЦ-") == 0u);
  BOOST_TEST(jsonField(created.body, "tracking_code").size() == 19u);
  std::string id = jsonField(created.body, "id");

  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s));
  // The participant's four packages (three receipts, the answer) are applied in the order sent, but the
  // protocol allows any: a package put back to the queue comes again behind later ones, and a registration
  // receipt overtaken by the answer still gives the closed case its number. Counted once every one is in.
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM message WHERE direction = 'in'", 4, 30s), x.histogram());
  auto status =
      httpRequest("GET", "127.0.0.1", port, "/api/v1/cases/" + id, {{"Authorization", "Bearer " + x.token()}}, "");
  BOOST_TEST(status.status == 200);
  BOOST_TEST(jsonField(status.body, "participant_reg_number") == "SIM-" + x.org() + "-1");
  // Every step is in its history. A receipt applied after the answer closed the case is recorded as a
  // late receipt of its type (a full run once applied receipt 1 after the answer).
  std::set<std::string> steps;
  const auto shown = boost::json::parse(status.body);
  for (const auto& e : shown.at("history").as_array()) {
    const std::string event(e.at("event").as_string());
    steps.insert(event == "late_receipt" ? "receipt_" + std::to_string(e.at("detail").at("ack_type").to_number<int>())
                                         : event);
  }
  for (const char* step : {"registered", "routed", "delivered_to_transport", "receipt_1", "receipt_2", "receipt_3",
                           "answered", "closed"}) {
    BOOST_TEST(steps.count(step) == 1u, "history lacks " << step << ": " << status.body);
  }
  auto answer = httpRequest("GET", "127.0.0.1", port, "/api/v1/cases/" + id + "/answer",
                            {{"Authorization", "Bearer " + x.token()}}, "");
  BOOST_TEST(answer.status == 200, answer.body);
  BOOST_TEST(answer.body.find("\"seal\":\"valid\"") != std::string::npos);
  // The answer's file, verified against the participant's certificates, with its signer.
  BOOST_TEST(answer.body.find("\"signature\":\"valid\"") != std::string::npos);
  BOOST_TEST(answer.body.find("\"signer\":") != std::string::npos);
  // The applicant is told the answer is in, by the tracking code they were given.
  BOOST_TEST(x.count("SELECT count(*) FROM outbox_message WHERE routing_key = 'applicant.answered' AND "
                     "convert_from(payload, 'UTF8')::jsonb->>'tracking_code' = '" +
                     jsonField(created.body, "tracking_code") + "'") == 1);

  // The same key and body: the first answer again; the same key with another body: refused.
  auto again = x.submit("first");
  BOOST_TEST(again.status == 200);
  BOOST_TEST(jsonField(again.body, "id") == id);
  auto other = httpRequest(
      "POST", "127.0.0.1", port, "/api/v1/cases",
      {{"Authorization", "Bearer " + x.token()}, {"Content-Type", "application/json"}, {"Idempotency-Key", "first"}},
      R"({"kind":"appeal","applicant":{"anonymous":true},"text":"інше","channel":"web"})");
  BOOST_TEST(other.status == 409);
  BOOST_TEST(x.count("SELECT count(*) FROM cases") == 1);
}

BOOST_AUTO_TEST_CASE(exchange_participant_on_amqp_has_one_delivery_consumer_others_two) {
  // Issue 25: a participant on amqp takes its waiting deliveries in one batch (one publish, one wait for
  // confirms, one transaction for their outcomes); two consumers on its queue would split every batch in
  // two (the broker hands them out in turn). One on http keeps two, so one slow POST holds only half.
  // A participant its operator moves from http to amqp gets its one consumer within the refresh.
  ExchangeHarness x;
  x.setUp();
  int h = x.addHttpParticipant();
  x.startGateway();
  auto c = vkhid::bus::AmqpConnection::connect({x.brokerUrlForTests(), 5, 0, std::chrono::milliseconds(5000)});
  BOOST_REQUIRE(c.ok());
  auto consumers = [&](const std::string& org) {
    auto n = c->queueConsumers(vkhid::bus::deliveryQueueName(org));
    return n ? static_cast<int>(*n) : -1;
  };
  BOOST_TEST(eventually([&] { return consumers(x.org()) == 1 && consumers(x.org(h)) == 2; }, 30s),
             "amqp: " << consumers(x.org()) << ", http: " << consumers(x.org(h)));
  // Cases to both still close: the one consumer delivers what waits.
  x.startSimulator();
  x.startHttpSimulator(h);
  for (int i = 0; i < 10; ++i) BOOST_REQUIRE(x.submit("one-" + std::to_string(i)).status == 201);
  BOOST_REQUIRE(x.submitTo(h, "two").status == 201);
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 11, 60s), x.histogram());
  // The http participant's endpoint becomes amqp: its consumers become one.
  x.moveToAmqp(h);
  BOOST_TEST(eventually([&] { return consumers(x.org(h)) == 1; }, 30s), "now " << consumers(x.org(h)));
}

BOOST_AUTO_TEST_CASE(exchange_outbox_rows_go_out_when_committed_not_at_the_next_poll) {
  // Issue 25: an idle relay does not ask the database 20 times a second whether anything waits; the
  // transaction that writes a row wakes it as it commits. Its idle poll (0.5 s) is only for rows other
  // processes wrote. Cases one at a time, so the relay is idle before each: the rows this gateway wrote
  // go out within moments of their commit (rounds at most every 25 ms), not at a poll (uniform over
  // 0.5 s, 60 % of them later than 0.2 s).
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  x.startSimulator();
  const std::string since = x.sql("SELECT now()");
  for (int i = 0; i < 10; ++i) {
    BOOST_REQUIRE(x.submit("one-at-a-time-" + std::to_string(i)).status == 201);
    BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", i + 1, 60s));
    std::this_thread::sleep_for(600ms);  // idle again, past a whole poll
  }
  const std::string mine = "FROM outbox_message WHERE created_at > '" + since + "'";
  const long long rows = x.count("SELECT count(*) " + mine + " AND sent_at IS NOT NULL");
  const long long prompt = x.count("SELECT count(*) " + mine + " AND sent_at - created_at < interval '200 ms'");
  BOOST_REQUIRE(rows >= 20);
  BOOST_TEST(prompt >= rows * 8 / 10, prompt << " of " << rows << " rows relayed within 0.2 s of their transaction");
}

BOOST_AUTO_TEST_CASE(exchange_case_is_routed_in_the_transaction_that_registers_it) {
  // Issue 25: a new case is routed as it is registered — when the channel has its 201, the case has its
  // participant and its sealed package queued for delivery (or, placed by no rule, is on its way to the
  // review queue), with no routing message in between.
  ExchangeHarness x;
  x.setUp();
  auto port = x.startGateway();
  auto routed = x.submitTo(0, "routed-at-intake");
  BOOST_REQUIRE_MESSAGE(routed.status == 201, routed.body);
  BOOST_TEST(jsonField(routed.body, "status") == "registered");  // the reply's contract (intake.openapi.yaml)
  const std::string id = jsonField(routed.body, "id");
  // Read at once, before any consumer could have routed it: routed, to its participant.
  BOOST_TEST(x.sql("SELECT participant_org_id FROM cases WHERE id = '" + id + "'") == x.org());
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE event = 'routed' AND case_id = '" + id + "'") == 1);
  BOOST_TEST(
      x.count("SELECT count(*) FROM message WHERE direction = 'out' AND msg_type = 1 AND case_id = '" + id + "'") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM outbox_message WHERE routing_key = 'case.registered'") == 0);

  // With no rule and an addressee that is no participant, nothing places a case: the review queue.
  (void)x.sql("DELETE FROM routing_rule");
  std::string body = readFile(sourceDir() + "/config/examples/case-appeal.json");
  body.replace(body.find("\"99999911\""), 10, "\"12345678\"");
  auto unrouted = httpRequest("POST", "127.0.0.1", port, "/api/v1/cases",
                              {{"Authorization", "Bearer " + x.token()},
                               {"Content-Type", "application/json"},
                               {"Idempotency-Key", "unrouted-at-intake"}},
                              body);
  BOOST_REQUIRE_MESSAGE(unrouted.status == 201, unrouted.body);
  const std::string other = jsonField(unrouted.body, "id");
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE event = 'unrouted' AND case_id = '" + other + "'") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM outbox_message WHERE routing_key = 'case.unrouted' AND message_id = '" +
                     other + "'") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM outbox_message WHERE routing_key = 'case.registered'") == 0);
}

BOOST_AUTO_TEST_CASE(exchange_deliveries_waiting_together_go_out_together_each_once) {
  // Issue 25: a participant's deliveries that wait together go out together — claimed in one
  // statement, published with one wait for the broker's confirms, their outcomes recorded in one
  // transaction (whose time each row then carries) — and each is still delivered once.
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  x.runVkhid({"participant", "suspend", x.org(), "--reason", "технічні роботи"});  // its deliveries wait
  const int n = 10;
  for (int i = 0; i < n; ++i) BOOST_REQUIRE(x.submit("together-" + std::to_string(i)).status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM message WHERE direction = 'out' AND msg_type = 1", n, 30s));
  // One job twice among them (a relay that died between publishing and marking sent publishes again):
  // it may come in the same batch as its twin, and the package still goes out once.
  x.sql(
      "INSERT INTO outbox (exchange, routing_key, message_id, payload, headers, priority) SELECT exchange, "
      "routing_key, message_id, payload, headers, priority FROM outbox_message WHERE exchange = 'vkhid.delivery' ORDER "
      "BY id "
      "LIMIT 1");
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM outbox WHERE sent_at IS NULL", 0, 30s));
  x.runVkhid({"participant", "activate", x.org(), "--force"});
  BOOST_REQUIRE_MESSAGE(
      x.waitFor("SELECT count(*) FROM message WHERE direction = 'out' AND msg_type = 1 AND status = 'sent'", n, 60s),
      x.histogram());
  const long long outcome_transactions =
      x.count("SELECT count(DISTINCT updated_at) FROM message WHERE direction = 'out' AND msg_type = 1");
  BOOST_TEST(outcome_transactions < n / 2, outcome_transactions << " transactions recorded " << n << " outcomes");
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'out' AND msg_type = 1 AND attempts = 1") == n);
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE event = 'delivered_to_transport'") == n);
  // The participant takes them from its queue: each once, every case closed.
  x.startSimulator();
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", n, 60s), x.histogram());
  BOOST_TEST(x.simStats()["appeals"] == n);
}

BOOST_AUTO_TEST_CASE(exchange_a_participants_jobs_of_one_relay_round_travel_as_one_broker_message) {
  // Issue 25: the delivery jobs the outbox relay takes together for one participant go to its delivery
  // queue as one broker message naming every package; each package is still delivered once.
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  x.runVkhid({"participant", "suspend", x.org(), "--reason", "технічні роботи"});  // its queue is not consumed
  const int n = 10;
  for (int i = 0; i < n; ++i) BOOST_REQUIRE(x.submit("one-message-" + std::to_string(i)).status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM message WHERE direction = 'out' AND msg_type = 1", n, 30s));
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM outbox WHERE sent_at IS NULL", 0, 30s));
  // The broker's count of what waits in the participant's delivery queue, read while no gateway runs (a
  // running one holds some of a suspended participant's jobs unacknowledged, offering them back).
  auto c = vkhid::bus::AmqpConnection::connect({x.brokerUrlForTests(), 5, 0, std::chrono::milliseconds(5000)});
  BOOST_REQUIRE(c.ok());
  const std::string queue = vkhid::bus::deliveryQueueName(x.org());
  auto waiting = [&] {
    std::uint32_t last = 0;
    // Settled: the same count twice, 200 ms apart (the stopped gateway's jobs are back in the queue).
    BOOST_REQUIRE(eventually(
        [&] {
          auto depth = c->queueDepth(queue);
          BOOST_REQUIRE(depth.ok());
          const bool same = *depth == last;
          last = *depth;
          return same && last > 0;
        },
        10s, 200ms));
    return last;
  };
  x.killGateway(0, SIGTERM);
  const auto before = waiting();
  // As if the gateway had stopped after publishing them, before it could mark them sent (at least once):
  // the next relay's first round takes all ten at once.
  x.sql(
      "UPDATE outbox SET sent_at = NULL WHERE id IN (SELECT id FROM outbox_message WHERE exchange = 'vkhid.delivery')");
  x.startGateway();
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM outbox WHERE sent_at IS NULL", 0, 30s));
  x.killGateway(0, SIGTERM);
  const auto after = waiting();
  BOOST_TEST(after == before + 1, "the round's " << n << " jobs went out as " << (after - before) << " messages");
  x.startGateway();
  // The participant back: every appeal delivered once (each twice in its queue), every case closed, the
  // queue empty.
  x.runVkhid({"participant", "activate", x.org(), "--force"});
  x.startSimulator();
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", n, 60s), x.histogram());
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'out' AND msg_type = 1 AND attempts = 1") == n);
  BOOST_TEST(x.simStats()["appeals"] == n);
  BOOST_TEST(x.simStats()["duplicates_seen"] == 0);
  BOOST_TEST(eventually(
      [&] {
        auto depth = c->queueDepth(queue);
        return depth.ok() && *depth == 0u;
      },
      30s));
}

BOOST_AUTO_TEST_CASE(exchange_arrivals_waiting_together_are_applied_together_each_once) {
  // Issue 25: a participant's packages that wait together — receipts and answers that came while the
  // gateway was away — are verified one by one and applied in one transaction per batch, and each is
  // still applied once, in the order the participant sent it: every case closes, every receipt is
  // recorded once and before the answer.
  ExchangeHarness x;
  x.setUp();
  const int n = 30;
  answeredWhileAway(x, n, "waiting");
  x.startGateway();
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", n, 60s), x.histogram());
  // Each applied in the order the participant sent it (one consumer takes its queue): the three receipts,
  // then the answer that closed the case. None of them came after the close, none was a late receipt.
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'in'") == 4 * n);
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE event = 'late_receipt'") == 0, x.histogram());
  BOOST_TEST(x.count("SELECT count(*) FROM cases c WHERE ARRAY['receipt_1', 'receipt_2', 'receipt_3', 'answered'] = "
                     "(SELECT array_agg(event ORDER BY id) FROM case_event e WHERE e.case_id = c.id "
                     "AND event IN ('receipt_1', 'receipt_2', 'receipt_3', 'late_receipt', 'answered'))") == n);
  const long long arrivals = x.count("SELECT count(*) FROM message WHERE direction = 'in'");
  BOOST_TEST(arrivals == 4 * n);
  const long long transactions = x.count("SELECT count(DISTINCT created_at) FROM message WHERE direction = 'in'");
  BOOST_TEST(transactions < n, transactions << " transactions applied " << arrivals << " arrivals");
  BOOST_TEST(x.count("SELECT count(*) FROM receipt") == 3 * n);
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE event = 'closed'") == n);
  // Two consumers' batches never waited on each other in a cycle: one batch at a time (with two at once,
  // 30 cases of the same text deadlocked in one run of three). The server counts each deadlock it broke;
  // its statistics reach the view within a second or so.
  std::this_thread::sleep_for(2s);
  BOOST_TEST(x.count("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()") == 0);
}

BOOST_AUTO_TEST_CASE(exchange_a_batch_of_arrivals_reads_the_participant_it_came_from_once) {
  // Issue 25: the participant a batch's packages came from was read for each package, in the transaction
  // that applies them — its row and its seal certificates, a statement a package. Now once for each
  // transport identity in the batch. Counted by the scans of participant_cert, which only that read and
  // the operator's gauges and console touch, while a gateway applies arrivals that waited for it.
  ExchangeHarness x;
  x.setUp();
  const int n = 10;
  answeredWhileAway(x, n, "peer-once");
  const long long read = countedWhileApplied(
      x, "SELECT seq_scan + coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = 'participant_cert'",
      "SELECT count(*) FROM cases WHERE status = 'closed'", n);
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'in'") == 4 * n);
  const long long batches = x.count("SELECT count(DISTINCT created_at) FROM message WHERE direction = 'in'");
  BOOST_TEST(batches < 2 * n);  // they came together
  // One read a batch (and what the gateway's gauges read at its start), not one a package.
  BOOST_TEST(read < 2 * n,
             read << " scans of participant_cert for " << 4 * n << " arrivals in " << batches << " transactions");
}

BOOST_AUTO_TEST_CASE(exchange_a_batch_of_receipts_reads_the_packages_they_refer_to_with_their_cases) {
  // Issue 25: a receipt's handler read the package of ours it refers to (is it ours, sent to this
  // participant, of which case), a statement a receipt, after the batch had read the same rows to find
  // their cases. Now the batch's one read gives both. Counted by the probes of the packages' key while a
  // gateway applies receipts that waited for it (the participant registers the appeals, never answers).
  ExchangeHarness x;
  x.setUp();
  const int n = 10;
  answeredWhileAway(x, n, "refers-once", {"--no-answer"}, "registered");
  const long long read = countedWhileApplied(
      x,
      "SELECT (SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_indexes WHERE indexrelname = 'message_pkey') + "
      "(SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'message')",
      "SELECT count(*) FROM cases WHERE status = 'registered_by_participant'", n);
  // Every receipt applied to its case, judged by the package it refers to.
  const long long receipts = 3 * n;
  BOOST_TEST(x.count("SELECT count(*) FROM receipt") == receipts);
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'in' AND status <> 'applied'") == 0);
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE event = 'late_receipt'") == 0, x.histogram());
  const long long batches = x.count("SELECT count(DISTINCT created_at) FROM message WHERE direction = 'in'");
  // One probe a receipt, the batch's (and a few of the gateway's own at its start): two before (63 for 30).
  BOOST_TEST(read < receipts * 3 / 2,
             read << " scans of message for " << receipts << " receipts in " << batches << " batches");
}

BOOST_AUTO_TEST_CASE(exchange_a_batch_of_receipts_locks_its_cases_together_and_reads_each_once) {
  // Issue 25: each receipt read its case under its row lock, a statement and a round trip a receipt —
  // three a case, though the batch already knew every case it concerns. Now the batch locks its cases in
  // one statement, in the order of their ids, and each receipt reads its case from what the batch knows
  // of it, kept up to date as receipts move it. Every receipt must still be applied to the case as it
  // stands after the one before: in order, each case registered with the participant's number. Counted
  // by the probes of the cases' key while a gateway applies receipts that waited for it (the
  // participant registers the appeals, never answers).
  ExchangeHarness x;
  x.setUp();
  const int n = 10;
  answeredWhileAway(x, n, "case-once", {"--no-answer"}, "registered");
  const long long read =
      countedWhileApplied(x, "SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'cases_pkey'",
                          "SELECT count(*) FROM cases WHERE status = 'registered_by_participant'", n);
  const long long receipts = 3 * n;
  BOOST_TEST(x.count("SELECT count(*) FROM receipt") == receipts);
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE event = 'late_receipt'") == 0, x.histogram());
  BOOST_TEST(x.count("SELECT count(*) FROM cases c WHERE participant_reg_number IS NOT NULL AND "
                     "ARRAY['receipt_1', 'receipt_2', 'receipt_3'] = (SELECT array_agg(event ORDER BY id) FROM "
                     "case_event e WHERE e.case_id = c.id AND event LIKE '%receipt%')") == n,
             x.histogram());
  // Each status change starts from the status the one before it left: a receipt decided on a case as it
  // stood before the batch's earlier receipts would break the history's chain.
  BOOST_TEST(x.count("SELECT count(*) FROM (SELECT status_from, lag(status_to) OVER (PARTITION BY case_id ORDER BY "
                     "id) AS before FROM case_event WHERE status_to IS NOT NULL) e WHERE before IS NOT NULL AND "
                     "status_from IS DISTINCT FROM before") == 0,
             x.histogram());
  const long long batches = x.count("SELECT count(DISTINCT created_at) FROM message WHERE direction = 'in'");
  BOOST_TEST(batches < n);  // they came together
  // A receipt's own probes of the cases' key (its status change, the foreign keys of its package and of
  // its event) and a few of the batch's and the gateway's start: 107 for 30 receipts in 2 batches; a read a
  // receipt more before (137).
  BOOST_TEST(read < receipts * 4,
             read << " probes of the cases' key for " << receipts << " receipts in " << batches << " batches");
  std::this_thread::sleep_for(2s);
  BOOST_TEST(x.count("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()") == 0);
}

BOOST_AUTO_TEST_CASE(exchange_an_answer_in_a_batch_reads_its_case_with_the_batch_and_only_that_case_again) {
  // Issue 25: a batch of arrivals locks and reads its cases in one statement; an answer then locked its
  // case again by its UCC number, a statement and an exchange an answer, and — as a reply may change
  // cases — made the batch read every case it remembered again: a batch is applied case by case, each
  // case's receipts and then its answer, so every case after the first answered was read again. An
  // answer reads its case, its group's members with it, from what the batch read now, and changes that
  // case alone of what a receipt reads (the members get an event each): only it is read again. Each
  // package must still be applied to its case as it stands, the history's chain unbroken. Counted by
  // the probes of the cases' keys (by id, by UCC number) while a gateway applies what waited for it.
  ExchangeHarness x;
  x.setUp();
  const int n = 10;
  answeredWhileAway(x, n, "answers-once");
  const std::string probes = "SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = ";
  std::this_thread::sleep_for(2s);  // every backend of the first gateway has reported its statistics
  const long long by_id = x.count(probes + "'cases_pkey'"), by_number = x.count(probes + "'cases_ucc_number_key'");
  x.startGateway();
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", n, 60s), x.histogram());
  const std::string metrics = httpGet("127.0.0.1", x.adminPort(), "/metrics").body;
  x.killGateway(0, SIGTERM);
  std::this_thread::sleep_for(2s);
  const long long read_by_id = x.count(probes + "'cases_pkey'") - by_id;
  const long long read_by_number = x.count(probes + "'cases_ucc_number_key'") - by_number;
  BOOST_TEST(x.count("SELECT count(*) FROM receipt") == 3 * n);
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE event = 'late_receipt'") == 0, x.histogram());
  BOOST_TEST(x.count("SELECT count(*) FROM cases WHERE participant_reg_number IS NOT NULL AND answer_msg_id IS NOT "
                     "NULL") == n);
  BOOST_TEST(x.count("SELECT count(*) FROM (SELECT status_from, lag(status_to) OVER (PARTITION BY case_id ORDER BY "
                     "id) AS before FROM case_event WHERE status_to IS NOT NULL) e WHERE before IS NOT NULL AND "
                     "status_from IS DISTINCT FROM before") == 0,
             x.histogram());
  const long long batches = x.count("SELECT count(DISTINCT created_at) FROM message WHERE direction = 'in'");
  BOOST_TEST(batches < n);
  // A batch's exchanges with the database: its peers with BEGIN, whether its packages came before with
  // its cases' keys, its cases locked and read, its writes with the COMMIT — four, whatever it holds;
  // a new gateway's first batch prepares its statements and reads its data keys besides.
  double batches_applied = 0, in_four = 0;
  for (int e = 1; e <= 9; ++e) {
    const std::string series = "vkhid_inbound_batches_total{exchanges=\"" + std::to_string(e) + "\"}";
    const auto at = metrics.find("\n" + series + " ");
    if (at == std::string::npos) continue;
    const double count = std::stod(metrics.substr(at + series.size() + 2));
    batches_applied += count;
    if (e <= 4) in_four += count;
  }
  BOOST_TEST(batches_applied >= 2, metrics);
  BOOST_TEST(in_four >= batches_applied - 1, metrics);
  // Each answer's case found by its number once, to lock it with the batch: twice before.
  BOOST_TEST(read_by_number == n, read_by_number << " probes of the UCC numbers for " << n << " answers");
  // 187 probes of the ids for 40 packages; 194 when every case after an answer was read again (a read a
  // case but the first of each batch).
  BOOST_TEST(read_by_id < 19 * n,
             read_by_id << " probes of the cases' key for " << 4 * n << " packages in " << batches << " batches");
}

BOOST_AUTO_TEST_CASE(exchange_a_registration_routed_and_sealed_at_intake_takes_three_exchanges_with_the_database) {
  // Issue 25: the intake's reads each took an exchange with PostgreSQL of their own — the idempotency key,
  // the applicant's earlier appeals, the case's UCC number, the routing rule — and then its writes and
  // the sealed package went with the commit: five a registration. The reads that do not wait on one
  // another are asked ahead now (PgConnection::ask) and travel together: the key (a repeat draws no
  // number), then the rest with the number, then the commit. Counted by the gateway
  // (vkhid_intake_pg_round_trips_total) for cases each registered and routed at once, after a first
  // that made the month's data keys.
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  BOOST_REQUIRE(x.submit("trips-first").status == 201);
  auto value = [&](const std::string& series) {
    const std::string metrics = httpGet("127.0.0.1", x.adminPort(), "/metrics").body;
    const auto at = metrics.find("\n" + series + " ");
    BOOST_REQUIRE_MESSAGE(at != std::string::npos, series + " not in the metrics");
    return std::stod(metrics.substr(at + series.size() + 2));
  };
  const double trips = value("vkhid_intake_pg_round_trips_total");
  const int n = 8;
  for (int i = 0; i < n; ++i) BOOST_REQUIRE(x.submit("trips-" + std::to_string(i)).status == 201);
  BOOST_TEST(value("vkhid_cases_registered_total{kind=\"appeal\"}") == n + 1);
  BOOST_TEST(value("vkhid_routing_total{outcome=\"routed\"}") == n + 1);
  BOOST_TEST(value("vkhid_intake_pg_round_trips_total") - trips == 3 * n);
  // A repeat of a registration: the key's exchange, and nothing more drawn.
  const double before_repeat = value("vkhid_intake_pg_round_trips_total");
  BOOST_REQUIRE(x.submit("trips-0").status == 200);
  BOOST_TEST(value("vkhid_intake_pg_round_trips_total") - before_repeat == 2);  // the key, and the commit
  BOOST_TEST(x.count("SELECT count(*) FROM cases") == n + 1);
}

BOOST_AUTO_TEST_CASE(exchange_copies_of_a_package_in_one_batch_are_applied_once_and_the_batch_together) {
  // Issue 25: whether each package of a batch came before is read for the whole batch in one statement,
  // before the first is applied. A package sent twice in a row waits beside its copy and is taken in the
  // same batch: the copy must still be seen as a repeat of what the batch has just recorded, so that it
  // changes nothing, and the batch must not fail on it and fall back to one transaction a package.
  ExchangeHarness x;
  x.setUp();
  const int n = 10;
  answeredWhileAway(x, n, "copies", {"--duplicate"});  // every package it sends, sent again at once
  x.startGateway();
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", n, 60s), x.histogram());
  // Each package once: three receipts and the answer a case, each applied once, in the order sent.
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'in'") == 4 * n);
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'in' AND status <> 'applied'") == 0);
  BOOST_TEST(x.count("SELECT count(*) FROM receipt") == 3 * n);
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE event = 'answered'") == n);
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE event = 'late_receipt'") == 0, x.histogram());
  // Applied in batches, copies and all: had a copy failed its batch, each package would have gone alone.
  const long long batches = x.count("SELECT count(DISTINCT created_at) FROM message WHERE direction = 'in'");
  BOOST_TEST(batches < n, batches << " transactions applied " << 4 * n << " packages and their copies");
}

BOOST_AUTO_TEST_CASE(exchange_our_receipts_for_one_package_leave_as_one_delivery_job) {
  // Issue 25: the receipts a participant's package asks for (msg_acknow 2) — delivered and accepted for
  // its answer — are queued in the transaction that applies it, and each took an outbox row of its own:
  // its insert, its index entry, its mark as sent. They are handed to delivery as one job now, in the
  // order the protocol gives them, and each still reaches the participant once.
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  x.startSimulator();
  const int n = 5;
  for (int i = 0; i < n; ++i) BOOST_REQUIRE(x.submit("receipts-" + std::to_string(i)).status == 201);
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", n, 60s), x.histogram());
  BOOST_REQUIRE_MESSAGE(
      x.waitFor("SELECT count(*) FROM message WHERE direction = 'out' AND msg_type = 0 AND status = 'sent'", 2 * n,
                30s),
      x.histogram());
  // Each answer's two receipts, in one job: delivered, then accepted.
  BOOST_TEST(x.count("SELECT count(*) FROM message a WHERE a.direction = 'in' AND a.msg_type = 3 AND (SELECT "
                     "array_agg(r.msg_id::text ORDER BY r.ack_type) FROM message r WHERE r.direction = 'out' AND "
                     "r.ref_msg_id = a.msg_id) = ARRAY(SELECT jsonb_array_elements_text(convert_from(o.payload, "
                     "'UTF8')::jsonb->'msg_ids') FROM outbox_message o WHERE o.exchange = 'vkhid.delivery' AND "
                     "convert_from(o.payload, 'UTF8')::jsonb->'msg_ids'->>0 = (SELECT r.msg_id::text FROM message r "
                     "WHERE r.direction = 'out' AND r.ref_msg_id = a.msg_id AND r.ack_type = 1))") == n);
  // The appeals' jobs and the receipts': one row a package of ours, one a package of theirs answered.
  BOOST_TEST(x.count("SELECT count(*) FROM outbox_message WHERE exchange = 'vkhid.delivery'") == 2 * n);
  // The participant took each receipt once.
  BOOST_TEST(eventually([&] { return x.simStats()["receipts_received"] == 2 * n; }, 30s));
  BOOST_TEST(x.simStats()["duplicates_seen"] == 0);
}

BOOST_AUTO_TEST_CASE(exchange_priority_applicant_is_marked_in_every_queue) {
  // A priority applicant's case: its registration event, its package and the receipts about it all
  // leave the outbox at priority 5 (the broker serves them first: amqp/priority_applicant_…); an
  // ordinary case's at 0. Both complete.
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  x.startSimulator();
  auto ordinary = x.submitTo(0, "ordinary");
  auto priority = x.submitTo(0, "priority", 0, true);
  BOOST_REQUIRE_MESSAGE(ordinary.status == 201, ordinary.body);
  BOOST_REQUIRE_MESSAGE(priority.status == 201, priority.body);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 2, 60s));
  auto outboxPriorities = [&](const std::string& id) {
    return x.sql("SELECT string_agg(DISTINCT o.priority::text, ',') FROM outbox_message o WHERE o.message_id = '" + id +
                 "' OR o.message_id IN (SELECT msg_id::text FROM message WHERE case_id::text = '" + id + "')");
  };
  BOOST_TEST(outboxPriorities(jsonField(priority.body, "id")) == "5");
  BOOST_TEST(outboxPriorities(jsonField(ordinary.body, "id")) == "0");
  BOOST_TEST(x.count("SELECT count(*) FROM cases WHERE priority") == 1);
}

BOOST_AUTO_TEST_CASE(exchange_intake_over_tls) {
  ExchangeHarness x;
  x.setUp();
  auto port = x.startGateway(0, {{"VKHID_INTAKE_TLS_CERT", pkiDir() + "/gateway-tls.pem"},
                                 {"VKHID_INTAKE_TLS_KEY", pkiDir() + "/gateway-tls.key"}});
  std::string body = x.dir() + "/case.json";
  writeFile(body, readFile(sourceDir() + "/config/examples/case-appeal.json"));
  std::string out = x.dir() + "/tls.out";
  auto curl = [&](const std::string& extra) {
    std::string cmd = "curl -sS -o " + out + " -w '%{http_code}' " + extra +
                      " -X POST https://localhost:" + std::to_string(port) +
                      "/api/v1/cases -H 'Authorization: Bearer " + x.token() +
                      "' -H 'Content-Type: application/json' --data @" + body + " > " + out + ".code 2>&1";
    std::system(cmd.c_str());
    return readFile(out + ".code");
  };
  // Trusting the development CA, the certificate for localhost is accepted and the case registered.
  BOOST_TEST(curl("--cacert " + pkiDir() + "/ca.pem") == "201");
  BOOST_TEST(readFile(out).find("\"ucc_number\"") != std::string::npos);
  // Without that trust the handshake fails: nothing is registered by it.
  BOOST_TEST(curl("--cacert " + pkiDir() + "/rogue-ca.pem").find("201") == std::string::npos);
  // Plain HTTP to the TLS port gets no answer.
  BOOST_TEST(httpGet("127.0.0.1", port, "/api/v1/cases/x").status == 0);
  BOOST_TEST(x.count("SELECT count(*) FROM cases") == 1);
}

BOOST_AUTO_TEST_CASE(exchange_body_over_the_limit_is_refused_with_its_own_message) {
  ExchangeHarness x;
  x.setUp();
  auto port = x.startGateway(0, {{"VKHID_INTAKE_MAX_BODY_BYTES", "4096"}, {"VKHID_INTAKE_MAX_ATTACHMENTS", "1"}});
  auto big = httpRequest("POST", "127.0.0.1", port, "/api/v1/cases",
                         {{"Authorization", "Bearer " + x.token()}, {"Content-Type", "application/json"}},
                         std::string(8192, ' '));
  BOOST_TEST(big.status == 413);
  BOOST_TEST(big.body.find("4096 bytes") != std::string::npos, big.body);
  std::string two = R"({"kind":"appeal","applicant":{"anonymous":true},"text":"т","channel":"web","attachments":[)"
                    R"({"file_name":"a.txt","media_type":"text/plain","content_base64":"YQ=="},)"
                    R"({"file_name":"b.txt","media_type":"text/plain","content_base64":"Yg=="}]})";
  auto many = httpRequest("POST", "127.0.0.1", port, "/api/v1/cases",
                          {{"Authorization", "Bearer " + x.token()}, {"Content-Type", "application/json"}}, two);
  BOOST_TEST(many.status == 422);
  BOOST_TEST(many.body.find("at most 1 attachments") != std::string::npos, many.body);
  BOOST_TEST(x.count("SELECT count(*) FROM cases") == 0);
}

BOOST_AUTO_TEST_CASE(exchange_invalid_case_lists_every_wrong_field) {
  ExchangeHarness x;
  x.setUp();
  auto port = x.startGateway();
  auto r = httpRequest("POST", "127.0.0.1", port, "/api/v1/cases",
                       {{"Authorization", "Bearer " + x.token()}, {"Content-Type", "application/json"}},
                       R"({"kind":"complaint","applicant":{"surname":"Ш"},"channel":7,"extra":1})");
  BOOST_TEST(r.status == 422);
  BOOST_TEST(r.content_type == "application/problem+json");
  for (const char* f : {"/kind", "/applicant/first_name", "/text", "/channel", "/extra"}) {
    BOOST_TEST(r.body.find(std::string("\"field\":\"") + f + "\"") != std::string::npos, f << " in " << r.body);
  }
  auto no_token = httpRequest("POST", "127.0.0.1", port, "/api/v1/cases", {{"Content-Type", "application/json"}}, "{}");
  BOOST_TEST(no_token.status == 401);
  BOOST_TEST(x.count("SELECT count(*) FROM cases") == 0);
}

BOOST_AUTO_TEST_CASE(exchange_duplicates_have_one_effect) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  x.startSimulator({"--duplicate"});
  x.submitMany(20);
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 20, 120s), x.histogram());
  auto stats = x.simStats();
  BOOST_TEST(stats["appeals"] == 20);
  BOOST_TEST(stats["registered"] == 20);
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE event = 'answered'") == 20);
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'in' AND msg_type = 3") == 20);
  // Three receipts per package, each once; an answer may overtake the last receipt, so wait for it.
  BOOST_TEST(x.waitFor("SELECT count(*) FROM receipt", 60, 30s));
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'out' AND msg_type = 1") == 20);
}

BOOST_AUTO_TEST_CASE(exchange_rejection_marks_case_rejected) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  x.startSimulator({"--reject", "33"});
  auto r = x.submit("r1");
  BOOST_REQUIRE(r.status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'rejected' AND rejection_code = 33", 1, 60s));
  BOOST_TEST(x.sql("SELECT rejection_text FROM cases") == "Документ відхилено симулятором");
}

BOOST_AUTO_TEST_CASE(exchange_rejected_case_resent_corrected_closes) {
  // The participant rejects the first package (a wrong value); an administrator corrects the topic and
  // sends the case again: a new signed package, registered and answered once.
  ExchangeHarness x;
  x.setUp();
  std::string admin = x.issueToken("ops", "admin"), auditor = x.issueToken("audit", "auditor");
  x.startGateway();
  x.startSimulator({"--reject", "32", "--reject-first", "1"});
  auto r = x.submit("resend-1");
  BOOST_REQUIRE(r.status == 201);
  std::string id = jsonField(r.body, "id");
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'rejected' AND rejection_code = 32", 1, 60s));

  auto resend = [&](const std::string& case_id, const std::string& body, const std::string& token) {
    return httpRequest("POST", "127.0.0.1", x.adminPort(), "/api/v1/admin/cases/" + case_id + "/resend",
                       {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}}, body);
  };
  // Refused, and nothing changes: no reason, a topic that is not a code, the auditor's role, no such case.
  BOOST_TEST(resend(id, R"({"topic": "004"})", admin).status == 422);
  BOOST_TEST(resend(id, R"({"reason": "r", "topic": "four"})", admin).status == 422);
  BOOST_TEST(resend(id, R"({"reason": "r"})", auditor).status == 403);
  BOOST_TEST(resend("00000000-0000-0000-0000-000000000000", R"({"reason": "r"})", admin).status == 404);
  BOOST_TEST(x.sql("SELECT status FROM cases") == "rejected");

  auto done = resend(id, R"({"reason": "Виправлено класифікацію", "topic": "004"})", admin);
  BOOST_TEST(done.status == 202);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s));
  BOOST_TEST(x.sql("SELECT body->'classification'->>'topic' FROM cases") == "004");
  BOOST_TEST(x.count("SELECT count(DISTINCT msg_id) FROM message WHERE direction = 'out' AND msg_type = 1") == 2);
  BOOST_TEST(x.sql("SELECT actor || ' ' || status_from || ' ' || status_to FROM case_event WHERE event = 'resent'") ==
             "admin:ops rejected registered");
  auto stats = x.simStats();
  BOOST_TEST(stats["rejected"] == 1);
  BOOST_TEST(stats["registered"] == 1);
  // A closed case is not sent again.
  BOOST_TEST(resend(id, R"({"reason": "r"})", admin).status == 409);
  BOOST_TEST(x.runVkhidStatus({"case", "resend", id, "--reason", "r"}).first != 0);
}

BOOST_AUTO_TEST_CASE(exchange_rejected_case_rerouted_by_an_administrator_closes_elsewhere) {
  // The first participant rejects every package; an administrator sends the case to another one (no
  // rule names it), and marks it for review on the way.
  ExchangeHarness x;
  x.setUp();
  std::string admin = x.issueToken("ops", "admin");
  int other = x.addParticipant();
  x.startGateway();
  x.startSimulator({"--reject", "32"});
  x.startSimulator({}, other);
  auto r = x.submit("reroute-1");
  BOOST_REQUIRE(r.status == 201);
  std::string id = jsonField(r.body, "id");
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'rejected'", 1, 60s));
  auto act = [&](const std::string& what, const std::string& body) {
    return httpRequest("POST", "127.0.0.1", x.adminPort(), "/api/v1/admin/cases/" + id + "/" + what,
                       {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + admin}}, body);
  };
  BOOST_TEST(act("reroute", R"({"to": "00000000", "reason": "r"})").status == 422);  // not a participant
  BOOST_TEST(act("reroute", R"({"to": ")" + x.org(other) + R"("})").status == 422);  // no reason
  BOOST_TEST(act("review", R"({})").status == 422);                                  // no note
  BOOST_TEST(x.sql("SELECT status FROM cases") == "rejected");

  BOOST_TEST(act("review", R"({"note": "Чому відхилено?"})").status == 200);
  auto listed = httpRequest("GET", "127.0.0.1", x.adminPort(), "/api/v1/admin/cases?review=1",
                            {{"Authorization", "Bearer " + admin}}, "");
  BOOST_TEST(listed.body.find(id) != std::string::npos);
  BOOST_TEST(act("reroute", R"({"to": ")" + x.org(other) + R"(", "reason": "Компетентний орган"})").status == 202);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s));
  BOOST_TEST(x.sql("SELECT participant_org_id FROM cases") == x.org(other));
  BOOST_TEST(x.sql("SELECT count(*) FROM cases WHERE route_to IS NOT NULL") == "0");
  BOOST_TEST(x.sql("SELECT detail->>'chosen_by_administrator' FROM case_event WHERE event = 'routed' "
                   "ORDER BY id DESC LIMIT 1") == "true");
  BOOST_TEST(x.simStats(other)["registered"] == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE event IN ('rerouted', 'review_requested') "
                     "AND actor = 'admin:ops'") == 2);
  BOOST_TEST(act("reroute", R"({"to": ")" + x.org() + R"(", "reason": "r"})").status == 409);  // closed
}

BOOST_AUTO_TEST_CASE(exchange_not_in_competence_reroutes_to_the_competent_participant) {
  ExchangeHarness x;
  x.setUp();
  int competent = x.addParticipant();
  x.startGateway();
  x.startSimulator({"--forward", x.org(competent)});
  x.startSimulator({}, competent);
  auto r = x.submit("f1");
  BOOST_REQUIRE(r.status == 201);
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s), x.histogram());
  // Its registration receipt may be applied after the answer (the protocol allows any order).
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE participant_reg_number IS NOT NULL", 1, 30s),
                        x.histogram());
  // Answered by the competent body, which the first one named; the first one never gets it again.
  BOOST_TEST(x.sql("SELECT participant_org_id FROM cases") == x.org(competent));
  BOOST_TEST(x.sql("SELECT participant_reg_number FROM cases") == "SIM-" + x.org(competent) + "-1");
  BOOST_TEST(x.sql("SELECT declined_by::text FROM cases") == "{" + x.org() + "}");
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE event = 'forwarded' AND detail->>'to' = 'participant' "
                     "AND detail->>'competent_org_id' = '" +
                     x.org(competent) + "'") == 1);
  BOOST_TEST(x.simStats()["forwarded"] == 1);
  BOOST_TEST(x.simStats()["appeals"] == 1);
  BOOST_TEST(x.simStats(competent)["registered"] == 1);
  // The applicant is told, by the tracking code's case, never by name.
  BOOST_TEST(x.count("SELECT count(*) FROM outbox_message WHERE routing_key = 'applicant.forwarded'") == 1);
}

BOOST_AUTO_TEST_CASE(exchange_not_in_competence_of_an_outside_body_goes_to_review) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  x.startSimulator({"--forward", "12345678"});  // a body that is not a participant
  auto r = x.submit("f2");
  BOOST_REQUIRE(r.status == 201);
  BOOST_REQUIRE_MESSAGE(
      x.waitFor("SELECT count(*) FROM case_event WHERE event = 'forwarded' AND detail->>'to' = 'review'", 1, 60s),
      x.histogram());
  BOOST_REQUIRE(x.waitFor(
      "SELECT count(*) FROM outbox_message WHERE routing_key = 'case.unrouted' AND sent_at IS NOT NULL", 1, 30s));
  // It waits for a person: not sent back to the participant that declined it, though its route matches.
  std::this_thread::sleep_for(2s);
  BOOST_TEST(x.sql("SELECT status FROM cases") == "forwarded");
  BOOST_TEST(x.sql("SELECT coalesce(participant_org_id, '-') FROM cases") == "-");
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'out' AND msg_type = 1") == 1);
}

BOOST_AUTO_TEST_CASE(exchange_participant_own_contact_centre_appeal_is_registered_and_routed) {
  ExchangeHarness x;
  x.setUp("", "own_channel = true");
  int competent = x.addParticipant();
  int outsider = x.addParticipant();  // its memorandum does not extend to its own contact centre
  x.runVkhid({"route", "add", "--target", x.org(competent), "--priority", "10"});
  x.startGateway();
  x.startSimulator({}, competent);
  x.startSimulator({"--send-appeals", "2"});
  x.startSimulator({"--send-appeals", "1"}, outsider);
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 2, 60s), x.histogram());
  // Registered as UCC cases with the participant as their channel, routed by the rules like any other.
  BOOST_TEST(x.count("SELECT count(*) FROM cases WHERE channel = 'participant:" + x.org() +
                     "' AND participant_org_id = '" + x.org(competent) + "' AND ucc_number LIKE 'УКЦ-%'") == 2);
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE event = 'received_from_participant'") == 2);
  // The sender got the UCC's registration receipt (3) for each.
  BOOST_REQUIRE(eventually([&] { return x.simStats()["own_appeals_registered"] == 2; }, 30s));
  // The outsider's appeal is refused with code 21 and registers nothing.
  BOOST_REQUIRE(
      x.waitFor("SELECT count(*) FROM message WHERE direction = 'out' AND ack_type = 4 AND error_code = 21 "
                "AND peer_org_id = '" +
                    x.org(outsider) + "'",
                1, 30s));
  BOOST_TEST(x.count("SELECT count(*) FROM cases") == 2);
}

BOOST_AUTO_TEST_CASE(exchange_channel_client_authenticates_with_its_certificate) {
  ExchangeHarness x;
  x.setUp();
  // p1-tls stands for the hot-line desk's client certificate; p2-tls is from the same CA but not bound.
  x.runVkhid({"token", "bind-cert", "--client", "hotline", "--cert", pkiDir() + "/p1-tls.pem"});
  auto port = x.startGateway(0, {{"VKHID_INTAKE_TLS_CERT", pkiDir() + "/gateway-tls.pem"},
                                 {"VKHID_INTAKE_TLS_KEY", pkiDir() + "/gateway-tls.key"},
                                 {"VKHID_INTAKE_CLIENT_CA", pkiDir() + "/ca.pem"}});
  std::string body = x.dir() + "/case.json";
  writeFile(body, readFile(sourceDir() + "/config/examples/case-appeal.json"));
  std::string out = x.dir() + "/cert.out";
  auto curl = [&](const std::string& who) {
    std::string cmd = "curl -sS -o " + out + " -w '%{http_code}' --cacert " + pkiDir() + "/ca.pem " + who +
                      " -X POST https://localhost:" + std::to_string(port) +
                      "/api/v1/cases -H 'Content-Type: application/json' --data @" + body + " > " + out + ".code 2>&1";
    std::system(cmd.c_str());
    return readFile(out + ".code");
  };
  BOOST_TEST(curl("--cert " + pkiDir() + "/p1-tls.pem --key " + pkiDir() + "/p1-tls.key") == "201");
  BOOST_TEST(x.sql("SELECT client_id FROM cases") == "hotline");
  // A certificate from the right CA that no client is bound to, and no certificate at all: 401.
  BOOST_TEST(curl("--cert " + pkiDir() + "/p2-tls.pem --key " + pkiDir() + "/p2-tls.key") == "401");
  BOOST_TEST(curl("") == "401");
  // A certificate of another CA does not pass the handshake.
  BOOST_TEST(curl("--cert " + pkiDir() + "/rogue-seal.pem --key " + pkiDir() + "/rogue-seal.key").find("201") ==
             std::string::npos);
  BOOST_TEST(x.count("SELECT count(*) FROM cases") == 1);
}

BOOST_AUTO_TEST_CASE(exchange_routing_rules_from_the_config_file) {
  ExchangeHarness x;
  x.setUp();
  int other = x.addParticipant();
  std::string rules = x.dir() + "/routes.toml";
  // The topic of the example case (004) goes to the other participant, before the catch-all rule.
  writeFile(rules, "[[route]]\ntarget = \"" + x.org(other) +
                       "\"\nkind = \"appeal\"\ntopic = \"004\"\npriority = 5\n\n[[route]]\ntarget = \"00000000\"\n");
  x.startGateway(0, {{"VKHID_ROUTING_RULES_FILE", rules}});
  x.startSimulator({}, other);
  BOOST_REQUIRE(x.submit("rr1").status == 201);
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s), x.histogram());
  BOOST_TEST(x.sql("SELECT participant_org_id FROM cases") == x.org(other));
  // Loaded once, beside the rules of `vkhid route add`; the unregistered target skipped.
  BOOST_TEST(x.count("SELECT count(*) FROM routing_rule WHERE source = 'config'") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM routing_rule WHERE source = 'admin'") == 1);
  // The dry run says where a sample case would go, and by which rule; the rule list shows both.
  auto dry = x.runVkhid({"route", "dry-run", sourceDir() + "/config/examples/case-appeal.json"});
  BOOST_TEST(dry.find("\"target\":\"" + x.org(other) + "\"") != std::string::npos, dry);
  BOOST_TEST(
      dry.find("routing rule " + x.sql("SELECT id FROM routing_rule WHERE source = 'config'")) != std::string::npos,
      dry);
  auto listed = x.runVkhid({"route", "list"});
  BOOST_TEST(listed.find("config") != std::string::npos);
  BOOST_TEST(listed.find("admin") != std::string::npos);

  // A rules file with a mistake stops the start and names the rule and the key.
  writeFile(rules, "[[route]]\ntarget = \"" + x.org(other) + "\"\nkinds = \"appeal\"\n");
  x.killGateway(0, SIGTERM);
  ChildProcess bad({binaryPath(), "serve"},
                   {{"VKHID_DATABASE_URL", x.dbUrl()},
                    {"VKHID_BROKER_URL", x.brokerUrlForTests()},
                    {"VKHID_INTAKE_LISTEN", "127.0.0.1:" + std::to_string(freePort())},
                    {"VKHID_ADMIN_LISTEN", "127.0.0.1:" + std::to_string(freePort())},
                    {"VKHID_GATEWAY_SEAL_KEY", pkiDir() + "/ucc-seal.key"},
                    {"VKHID_GATEWAY_SEAL_CERT", pkiDir() + "/ucc-seal.pem"},
                    {"VKHID_AT_REST_MASTER_KEY", pkiDir() + "/master.key"},
                    {"VKHID_ROUTING_RULES_FILE", rules}},
                   x.dir() + "/bad-rules.log");
  BOOST_TEST(bad.wait(30s).value_or(-1) == 1);
  BOOST_TEST(bad.log().find("route 1: unknown key 'kinds'") != std::string::npos, bad.log());
  BOOST_TEST(x.count("SELECT count(*) FROM routing_rule WHERE source = 'config'") == 1);
}

BOOST_AUTO_TEST_CASE(exchange_bad_seal_is_refused_and_the_case_unchanged) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  x.startSimulator({"--bad-seal"});
  auto r = x.submit("b1");
  BOOST_REQUIRE(r.status == 201);
  // Every package the participant sent is refused with the seal's code, and answered with receipt 4.
  BOOST_REQUIRE(x.waitFor(
      "SELECT count(*) FROM message WHERE direction = 'in' AND status = 'rejected' AND error_code = 111", 4, 60s));
  BOOST_REQUIRE(
      x.waitFor("SELECT count(*) FROM message WHERE direction = 'out' AND ack_type = 4 AND error_code = 111", 1, 30s));
  BOOST_TEST(x.sql("SELECT status FROM cases") == "sent");
  BOOST_TEST(x.count("SELECT count(*) FROM receipt") == 0);
}

BOOST_AUTO_TEST_CASE(exchange_acknowledgement_of_a_malformed_msg_id_is_refused_once) {
  // A receipt naming 36 hyphens as the package it acknowledges — a uuid's length and alphabet, but no
  // uuid — and unsealed: refused and recorded with no reference, not a failing statement that leaves
  // the package to be offered again and again.
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  const std::string id = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f";
  const std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Header standart=\"1207\" version=\"1.5\" charset=\"UTF-8\" "
      "time=\"2026-11-29T06:56:34Z\" msg_type=\"0\" msg_id=\"" +
      id + "\" msg_acknow=\"0\" from_org_id=\"" + x.org() + "\" from_organization=\"Учасник\" from_sys_id=\"edms-" +
      x.org() +
      "\" from_system=\"Симулятор\" to_org_id=\"99999901\" to_organization=\"Урядовий контактний центр\" "
      "to_sys_id=\"vkhid-gateway\" to_system=\"Вхід\"><Acknowledgement msg_id=\"------------------------------------\" "
      "ack_type=\"1\"><AckResult errorcode=\"0\" errortext=\"\"/></Acknowledgement></Header>";
  auto c = vkhid::bus::AmqpConnection::connect({x.brokerUrlOf(0), 5, 0, std::chrono::milliseconds(5000)});
  BOOST_REQUIRE(c.ok());
  // The participant's own queue, declared as its EDMS client does (the simulator too): the gateway's
  // consumers declare it as well, but in the background after /readyz, so a mandatory publish before
  // then could come back unroutable (1 of this session's 4 full runs failed here, in 4 s: no
  // confirm timeout).
  BOOST_REQUIRE(vkhid::bus::declarePeerQueue(*c, "edms." + x.org() + ".out").ok());
  vkhid::bus::PublishProperties props;
  props.message_id = id;
  props.user_id = x.brokerUser(0);
  BOOST_REQUIRE(c->publish("", "edms." + x.org() + ".out", xml, props).ok());
  auto confirmed = c->waitForConfirms(std::chrono::seconds(5));
  BOOST_REQUIRE_MESSAGE(confirmed.ok(), (confirmed.ok() ? std::string() : confirmed.error().message));
  BOOST_TEST(
      x.waitFor("SELECT count(*) FROM message WHERE direction = 'in' AND status = 'rejected' AND "
                "ref_msg_id IS NULL AND msg_id = '" +
                    id + "'",
                1, 30s));
  // Taken off the queue: handled, not waiting to be offered again.
  auto depth = c->queueDepth("edms." + x.org() + ".out");
  BOOST_REQUIRE(depth.ok());
  BOOST_TEST(*depth == 0u);
}

BOOST_AUTO_TEST_CASE(exchange_endpoints_changed_while_packages_arrive_every_case_closes) {
  // Participants onboarded while another's receipts and answers are being handled: each change of the
  // endpoints restarts the inbound adapters under traffic (within 3 s, the gateway's refresh). A restart
  // waited for the adapters' consumers while holding the lock a consumer takes inside receive() (the
  // trust store): both stopped for good, and with them every delivery and the gateway's shutdown
  // (found in CI by the console's replay test, which changes an endpoint while an answer arrives).
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  x.startSimulator();
  int submitted = 0;
  for (int round = 0; round < 4; ++round) {
    x.addParticipant();  // a new endpoint: the next refresh restarts the inbound adapters
    auto until = std::chrono::steady_clock::now() + 3500ms;
    while (std::chrono::steady_clock::now() < until) {
      BOOST_REQUIRE(x.submit("r" + std::to_string(submitted++)).status == 201);
      std::this_thread::sleep_for(50ms);
    }
  }
  BOOST_TEST(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", submitted, 120s));
  // Receipts may be applied after the answer that closed their case: a restart puts back what was taken.
  BOOST_TEST(
      x.waitAtLeast("SELECT count(*) FROM message WHERE direction = 'in' AND status = 'applied'", 4 * submitted, 30s));
}

BOOST_AUTO_TEST_CASE(exchange_participant_away_then_back_completes) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  x.submitMany(5);  // no simulator yet: packages wait in the participant's queue
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'sent'", 5, 60s));
  x.startSimulator();
  BOOST_TEST(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 5, 60s));
}

BOOST_AUTO_TEST_CASE(exchange_a_simulators_counts_are_one_file_rewritten_in_place_across_a_restart) {
  // A simulator writes its counts before every batch it sends: in place, one file, never a new one
  // renamed over it (which cost a tenth of its CPU under load). Padded to its longest text, it parses
  // after every write, and a restarted simulator goes on from it.
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  x.startSimulator();
  const std::string file = x.dir() + "/sim-" + x.org() + ".json";
  BOOST_REQUIRE(x.submit("first").status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s));
  BOOST_REQUIRE(eventually([&] { return x.simStats()["registered"] == 1; }, 30s));
  struct stat first {};
  BOOST_REQUIRE(::stat(file.c_str(), &first) == 0);
  BOOST_REQUIRE(x.submit("second").status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 2, 60s));
  BOOST_REQUIRE(eventually([&] { return x.simStats()["registered"] == 2; }, 30s));
  x.stopSimulator();
  x.startSimulator();
  BOOST_REQUIRE(x.submit("third").status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 3, 60s));
  BOOST_TEST(eventually([&] { return x.simStats()["registered"] == 3; }, 30s));  // on from the last run's
  struct stat last {};
  BOOST_REQUIRE(::stat(file.c_str(), &last) == 0);
  BOOST_TEST(last.st_ino == first.st_ino);  // the same file throughout
  boost::system::error_code ec;
  auto v = boost::json::parse(readFile(file), ec);
  BOOST_TEST(!ec);
  BOOST_TEST(v.is_object());
}

BOOST_AUTO_TEST_CASE(exchange_participant_queue_deleted_between_packages_is_declared_again) {
  // The gateway declares a participant's queue once per connection, not before every package. A queue
  // deleted since (an operator clearing the participant's queues while its EDMS is away) returns the
  // next package as unroutable; it is not lost, not retried for ever: the queue is declared again and
  // the package delivered in the same attempt.
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  x.startSimulator();
  BOOST_REQUIRE(x.submit("before").status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s));
  // Our receipts for the answer follow the close: the participant takes them before it goes away, so the
  // queue the operator deletes is empty (a message in it would make the delete refuse).
  const long long receipts = x.count("SELECT count(*) FROM message WHERE direction = 'out' AND msg_type = 0");
  BOOST_REQUIRE(receipts > 0);
  BOOST_REQUIRE(eventually([&] { return x.simStats()["receipts_received"] == receipts; }, 30s));
  x.stopSimulator();
  auto c = vkhid::bus::AmqpConnection::connect({x.brokerUrlForTests(), 5, 0, std::chrono::milliseconds(5000)});
  BOOST_REQUIRE(c.ok());
  BOOST_REQUIRE(c->deleteEmptyQueue("edms." + x.org() + ".in").ok());
  BOOST_REQUIRE(!c->queueDepth("edms." + x.org() + ".in").ok());  // gone

  BOOST_REQUIRE(x.submit("after").status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'sent'", 1, 60s));
  // A new connection: the broker closed c's channel when the passive declare found no queue.
  auto c2 = vkhid::bus::AmqpConnection::connect({x.brokerUrlForTests(), 5, 0, std::chrono::milliseconds(5000)});
  BOOST_REQUIRE(c2.ok());
  auto depth = c2->queueDepth("edms." + x.org() + ".in");
  BOOST_REQUIRE(depth.ok());
  BOOST_TEST(*depth == 1u);
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'out' AND msg_type = 1 AND attempts = 1") == 2);
  x.startSimulator();
  BOOST_TEST(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 2, 60s));
  BOOST_TEST(x.simStats()["registered"] == 2);  // its stats carry over a restart: once each
  BOOST_TEST(x.simStats()["duplicates_seen"] == 0);
}

BOOST_AUTO_TEST_CASE(exchange_a_transactions_publications_leave_together_and_one_no_queue_took_waits_alone) {
  // Issue 25 (migration 0040): a case's registration writes one outbox row, its applicant's notice and
  // its package's delivery job in it, and the relay publishes both. A row of which the broker returned a
  // publication (no queue took it) is marked sent, and that publication waits in a row of its own: the
  // others are not published again.
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  BOOST_REQUIRE(x.submit("together").status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'sent'", 1, 30s));
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM outbox WHERE sent_at IS NULL", 0, 30s));
  BOOST_TEST(x.count("SELECT count(*) FROM outbox") == 1);
  BOOST_TEST(x.sql("SELECT string_agg(exchange || ' ' || routing_key, ', ' ORDER BY exchange) FROM outbox_message") ==
             "vkhid.delivery " + x.org() + ", vkhid.notifications applicant.registered");

  auto c = vkhid::bus::AmqpConnection::connect({x.brokerUrlForTests(), 5, 0, std::chrono::milliseconds(5000)});
  BOOST_REQUIRE(c.ok());
  BOOST_REQUIRE(c->declareQueue("test.outbox.parts").ok());
  BOOST_REQUIRE(c->bindQueue("test.outbox.parts", "vkhid.events", "test.part.#").ok());
  auto parts = [&] {
    auto depth = c->queueDepth("test.outbox.parts");
    BOOST_REQUIRE(depth.ok());
    return *depth;
  };
  // As a transaction writes them: the first in the row's columns, the others in `more`; the second goes
  // where no queue is bound.
  x.sql(
      "INSERT INTO outbox (exchange, routing_key, message_id, payload, more) VALUES ('vkhid.events', 'test.part.one', "
      "'part-one', '\\x7b7d', '[{\"exchange\": \"vkhid.events\", \"routing_key\": \"test.nowhere\", \"message_id\": "
      "\"part-nowhere\", \"payload\": \"7b7d\", \"headers\": {}, \"priority\": 0}, {\"exchange\": \"vkhid.events\", "
      "\"routing_key\": \"test.part.two\", \"message_id\": \"part-two\", \"payload\": \"7b7d\", \"headers\": {}, "
      "\"priority\": 0}]')");
  BOOST_REQUIRE(eventually([&] { return parts() == 2u; }, 30s, 100ms));
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM outbox WHERE message_id = 'part-one' AND sent_at IS NOT NULL", 1, 30s));
  BOOST_TEST(x.sql("SELECT string_agg(message_id || ' ' || coalesce(more::text, 'alone'), ', ') FROM outbox WHERE "
                   "sent_at IS NULL") == "part-nowhere alone");
  // Rounds later (the relay tries what waits again at least every idle poll): the two were published once.
  std::this_thread::sleep_for(3s);
  BOOST_TEST(parts() == 2u);
  BOOST_TEST(x.count("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM outbox_message WHERE message_id = 'part-nowhere'") == 2);
}

BOOST_AUTO_TEST_CASE(exchange_sent_outbox_rows_are_deleted_after_their_retention) {
  // The outbox is the relay's bookkeeping: a row the broker confirmed more than
  // delivery.outbox_retention_hours ago is deleted (soon after a gateway's start, then every ten minutes); a
  // row still unsent is kept however old, and the cases' own records stay whole.
  ExchangeHarness x;
  x.setUp();
  x.startGateway(0, {{"VKHID_DELIVERY_OUTBOX_RETENTION_HOURS", "24"}});
  x.startSimulator();
  BOOST_REQUIRE(x.submit("old").status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s));
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM outbox WHERE sent_at IS NULL", 0, 30s));
  const std::string first = x.sql("SELECT max(id) FROM outbox");
  BOOST_REQUIRE(x.submit("recent").status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 2, 60s));
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM outbox WHERE sent_at IS NULL", 0, 30s));
  x.killGateway(0, SIGTERM);
  const long long recent = x.count("SELECT count(*) FROM outbox WHERE id > " + first);
  BOOST_REQUIRE(recent > 0);
  // The first case's rows sent two days ago; one row never sent, older still.
  x.sql(
      "UPDATE outbox SET created_at = now() - interval '49 hours', sent_at = now() - interval '48 hours' "
      "WHERE id <= " +
      first + " RETURNING 1");
  x.sql(
      "INSERT INTO outbox (exchange, routing_key, message_id, payload, created_at) VALUES ('vkhid.events', "
      "'case.registered', 'never-sent', '\\x7b7d', now() - interval '72 hours') RETURNING 1");

  x.startGateway(0, {{"VKHID_DELIVERY_OUTBOX_RETENTION_HOURS", "24"}});
  BOOST_TEST(x.waitFor("SELECT count(*) FROM outbox WHERE id <= " + first, 0, 30s));
  BOOST_TEST(x.count("SELECT count(*) FROM outbox WHERE message_id = 'never-sent'") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM outbox WHERE id > " + first + " AND message_id <> 'never-sent'") == recent);
  // What happened to the first case is still all there.
  BOOST_TEST(x.count("SELECT count(*) FROM cases WHERE status = 'closed'") == 2);
  BOOST_TEST(x.count("SELECT count(*) FROM case_event e JOIN cases c ON c.id = e.case_id "
                     "WHERE c.idempotency_key = 'old' AND e.event = 'closed'") == 1);
}

BOOST_AUTO_TEST_CASE(exchange_own_claim_whose_outcome_was_lost_is_delivered_again) {
  // A delivery worker that could not write down its outcome (the database went away under it) leaves
  // its claim (`sending`) in a gateway that lives on. Once no worker there holds it, the sweeper returns it.
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  x.runVkhid({"participant", "suspend", x.org(), "--reason", "технічні роботи"});  // its deliveries wait
  BOOST_REQUIRE(x.submit("lost-1").status == 201);
  BOOST_REQUIRE(
      x.waitFor("SELECT count(*) FROM message WHERE direction = 'out' AND msg_type = 1 AND status = 'queued'", 1, 60s));
  x.sql(
      "UPDATE message SET claimed_at = now() - interval '30 seconds', claimed_by = "
      "(SELECT instance || ':' || pid FROM gateway_instance WHERE stopped_at IS NULL) "
      "WHERE direction = 'out' AND msg_type = 1 RETURNING 1");
  x.runVkhid({"participant", "activate", x.org(), "--force"});
  x.startSimulator();
  BOOST_TEST(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s));
  BOOST_TEST(x.simStats()["registered"] == 1);
}

BOOST_AUTO_TEST_CASE(exchange_on_quorum_queues_with_a_node_list_closes_cases) {
  // Configured for a cluster: quorum queues, and broker.url naming a node that is down before the one
  // that is up. Cases go through as on a single node.
  ExchangeHarness x;
  x.setUp();
  const std::string dead = "amqp://guest:guest@127.0.0.1:" + std::to_string(freePort()) + "/%2f";
  x.startGateway(0, {{"VKHID_BROKER_QUEUE_TYPE", "quorum"}, {"VKHID_BROKER_URL", dead + "," + x.brokerUrlForTests()}});
  x.startSimulator();
  x.submitMany(10);
  BOOST_TEST(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 10, 90s));
  BOOST_TEST(x.simStats()["registered"] == 10);
  // The routing queue is a quorum queue: the broker refuses it as a classic priority queue.
  auto c = vkhid::bus::AmqpConnection::connect({x.brokerUrlForTests(), 5, 0, std::chrono::milliseconds(5000)});
  BOOST_REQUIRE(c.ok());
  auto classic = c->declareQueue("vkhid.routing", {{"x-max-priority", std::int64_t{5}}});
  BOOST_TEST((!classic.ok() && classic.error().code == "amqp.queue_args"));
}

BOOST_AUTO_TEST_CASE(exchange_retries_exhausted_dead_letter_and_replay) {
  ExchangeHarness x;
  // A queue name the broker refuses ("amq." is reserved): every attempt fails, then retries run out.
  x.setUp("inbox_queue = \"amq.refused\"\n");
  x.startGateway();
  x.startSimulator();
  auto r = x.submit("d1");
  BOOST_REQUIRE(r.status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'delivery_failed'", 1, 90s));
  std::string msg_id = x.sql("SELECT msg_id FROM message WHERE direction = 'out' AND msg_type = 1");
  BOOST_TEST(x.count("SELECT attempts FROM message WHERE msg_id::text = '" + msg_id + "'") == 4);

  // Fix the endpoint, replay from the dead-letter queue: delivered once, answered, closed.
  x.setUp();
  x.runVkhid({"message", "replay", msg_id});
  BOOST_TEST(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s));
  BOOST_TEST(x.simStats()["registered"] == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE event = 'delivery_replayed'") == 1);
  auto c = vkhid::bus::AmqpConnection::connect({x.brokerUrlForTests(), 5, 0, std::chrono::milliseconds(5000)});
  BOOST_REQUIRE(c.ok());
  std::vector<std::uint64_t> tags;
  bool still_dead = false;
  for (int i = 0; i < 1000; ++i) {
    auto d = c->get("vkhid.dead");
    if (!d || !d->has_value()) break;
    still_dead |= (*d)->message_id == msg_id;
    tags.push_back((*d)->tag);
  }
  for (auto t : tags) (void)c->nack(t, true);
  BOOST_TEST(!still_dead);
}

BOOST_AUTO_TEST_CASE(exchange_gateway_killed_mid_run_loses_and_repeats_nothing, *utf::timeout(600)) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  x.startSimulator();
  const int n = 500;
  std::thread killer([&] {
    eventually([&] { return x.count("SELECT count(*) FROM cases") >= 150; }, 120s, 50ms);
    x.killGateway(0, SIGKILL);
    x.startGateway(0);
  });
  x.submitMany(n);
  killer.join();
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", n, 300s), x.histogram());
  auto stats = x.simStats();
  BOOST_TEST(x.count("SELECT count(*) FROM cases") == n);
  BOOST_TEST(stats["appeals"] == n);     // every case reached the participant …
  BOOST_TEST(stats["registered"] == n);  // … and had its effect once
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE event = 'answered'") == n);
}

BOOST_AUTO_TEST_CASE(exchange_two_gateways_share_the_work_exactly_once, *utf::timeout(600)) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway(0);
  x.startGateway(1);
  x.startSimulator();
  const int n = 200;
  x.submitMany(n, [](int i) { return i % 2; });
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", n, 300s), x.histogram());
  auto stats = x.simStats();
  BOOST_TEST(stats["appeals"] == n);
  BOOST_TEST(stats["registered"] == n);
  BOOST_TEST(x.count("SELECT count(DISTINCT instance) FROM gateway_instance") == 2);
}

// What the shipped alert rules read (ops/prometheus, issue 28), as an operator's Prometheus scrapes it
// from a running gateway after a case went through: readiness, the participant's last delivery and
// queue, dead letters, the outbox, and certificates' expiry (the UCC seal's and the participant's).
BOOST_AUTO_TEST_CASE(ops_metrics_the_alert_rules_read_are_exported) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  x.startSimulator();
  BOOST_REQUIRE(x.submit("ops-1").status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s));
  const std::string org = x.org();
  auto scrape = [&] { return httpGet("127.0.0.1", x.adminPort(), "/metrics").body; };
  // The value of one series, or nullopt.
  auto value = [](const std::string& text, const std::string& series) -> std::optional<double> {
    auto at = text.find("\n" + series + " ");
    if (at == std::string::npos) return std::nullopt;
    return std::stod(text.substr(at + series.size() + 2));
  };
  const std::string delivered = "vkhid_participant_last_delivered_timestamp_seconds{participant=\"" + org + "\"}";
  // The gauges are refreshed every 15 s.
  BOOST_REQUIRE(eventually([&] { return value(scrape(), delivered).value_or(0) > 0; }, 40s));
  const std::string text = scrape();
  const double now = static_cast<double>(std::time(nullptr));
  BOOST_TEST(value(text, "vkhid_ready").value_or(-1) == 1);
  BOOST_TEST(std::abs(value(text, delivered).value_or(0) - now) < 120);
  BOOST_TEST(value(text, "vkhid_participant_outbound_waiting{participant=\"" + org + "\"}").value_or(-1) == 0);
  BOOST_TEST(value(text, "vkhid_dead_letters").value_or(-1) == 0);
  BOOST_TEST(value(text, "vkhid_outbox_backlog").has_value());
  BOOST_TEST(value(text, "vkhid_outbox_oldest_seconds").value_or(-1) < 60);
  const auto seal = value(text, "vkhid_certificate_expiry_timestamp_seconds{participant=\"ucc\",purpose=\"seal\"}");
  BOOST_TEST(seal.value_or(0) > now + 86400);  // the development seal: years ahead
  // Every metric the rules read is exported, but those that appear only with their event: a time-stamp
  // failure, a console sign-in, a read replica.
  const std::string rules = readFile(sourceDir() + "/ops/prometheus/vkhid.rules.yml");
  for (std::size_t at = rules.find("vkhid_"); at != std::string::npos; at = rules.find("vkhid_", at + 1)) {
    const std::string name = rules.substr(at, rules.find_first_not_of("abcdefghijklmnopqrstuvwxyz_", at) - at);
    if (name == "vkhid_audit_timestamp_failures_total" || name == "vkhid_console_signins_total" ||
        name == "vkhid_replica_lag_seconds") {
      continue;
    }
    BOOST_TEST(text.find("\n" + name) != std::string::npos, name);
  }
}

BOOST_AUTO_TEST_SUITE_END()
