// Scale-out on the engines themselves (issue 12), against real servers: a PostgreSQL streaming replica
// made by `scripts/services start replica`, and a three-node RabbitMQ cluster made by
// `scripts/services start cluster`. Label `faults`: it changes the servers every test shares.
#define BOOST_TEST_MODULE integration_cluster
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <thread>

#include "gateway/bus/amqp.hpp"
#include "gateway/store/pg.hpp"
#include "tests/support/exchange_harness.hpp"

using namespace vkhid::testing;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;
namespace json = boost::json;

namespace {

// The same database's URL on the replica, whose address `scripts/services env` gives while it runs.
std::string onReplica(const std::string& primary_url) {
  std::string replica = servicesEnv("VKHID_PG_REPLICA_URL");
  BOOST_REQUIRE_MESSAGE(!replica.empty(), "scripts/services env names no replica");
  return replica.substr(0, replica.rfind('/')) + primary_url.substr(primary_url.rfind('/'));
}

long long readers(const std::string& url) {
  auto c = vkhid::store::PgConnection::connect({url, 5, 10000, "test"});
  BOOST_REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
  auto r = c->exec(
      "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'vkhid-read-%' AND datname = "
      "current_database()");
  BOOST_REQUIRE(r.ok());
  return r->getInt(0, 0);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cluster, *utf::precondition(servicesAreOurs))

BOOST_AUTO_TEST_CASE(cluster_reports_and_tracking_read_from_the_replica, *utf::timeout(300)) {
  BOOST_REQUIRE(services("start replica") == 0);
  {
    ExchangeHarness x;
    x.setUp();
    const std::string replica = onReplica(x.dbUrl());
    std::string auditor = x.issueToken("audit", "auditor");
    x.startGateway(0, {{"VKHID_DATABASE_READ_URL", replica}});
    x.startSimulator();
    auto r = x.submit("replica-1");
    BOOST_REQUIRE(r.status == 201);
    std::string code(json::parse(r.body).as_object().at("tracking_code").as_string());
    // Tracked at once: from the replica, or from the primary while the replica has not received it yet.
    BOOST_TEST(httpGet("127.0.0.1", x.intakePort(), "/api/v1/track/" + code).status == 200);
    BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s));

    // The report, read on the replica, counts the case once the replica has it (a period of at most
    // five years around today).
    const std::string period = x.sql(
        "SELECT 'from=' || to_char(now() - interval '1 year', 'YYYY-MM-DD') || '&to=' || to_char(now() + interval "
        "'1 year', 'YYYY-MM-DD')");
    BOOST_TEST(eventually(
        [&] {
          auto rep = httpRequest("GET", "127.0.0.1", x.adminPort(), "/api/v1/admin/reports?" + period + "&by=kind",
                                 {{"Authorization", "Bearer " + auditor}}, "");
          return rep.status == 200 && rep.body.find("\"received\":1") != std::string::npos;
        },
        30s));
    auto track = httpGet("127.0.0.1", x.intakePort(), "/api/v1/track/" + code);
    BOOST_TEST(track.status == 200);
    BOOST_TEST(track.body.find("\"status\":\"closed\"") != std::string::npos);
    // Those reads were served by the replica's connections; the primary has none of them.
    BOOST_TEST(readers(replica) >= 1);
    BOOST_TEST(readers(x.dbUrl()) == 0);
    // And the replica is what it says: read-only.
    auto c = vkhid::store::PgConnection::connect({replica, 5, 10000, "test"});
    BOOST_REQUIRE(c.ok());
    BOOST_TEST(!c->exec("UPDATE cases SET status = status").ok());
  }
  BOOST_TEST(services("stop replica") == 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cluster_broker, *utf::precondition(servicesAreOurs))

BOOST_AUTO_TEST_CASE(cluster_broker_node_stopped_and_a_gateway_killed_every_case_closes, *utf::timeout(900)) {
  // Three RabbitMQ nodes in one cluster (quorum queues, every process given the node list) and three
  // gateways. While cases flow, node 2 stops, gateway 2 is killed (and stays dead), node 2 comes back.
  BOOST_REQUIRE(services("start cluster") == 0);
  {
    ExchangeHarness x(Broker::Cluster);
    x.setUp();
    for (int g = 0; g < 3; ++g) x.startGateway(g);
    x.startSimulator();
    const int n = 200;
    bool node_stopped = false, node_started = false;
    std::thread fault([&] {
      eventually([&] { return x.count("SELECT count(*) FROM cases") >= 50; }, 180s, 50ms);
      node_stopped = services("stop cluster-node 2") == 0;
      eventually([&] { return x.count("SELECT count(*) FROM cases") >= 100; }, 180s, 50ms);
      x.killGateway(2, SIGKILL);
      std::this_thread::sleep_for(3s);
      node_started = services("start cluster-node 2") == 0;
    });
    // The applicants' channel goes on through the two gateways that stay.
    x.submitMany(n, [](int i) { return i % 2; });
    fault.join();
    BOOST_REQUIRE(node_stopped);
    BOOST_REQUIRE(node_started);
    expectEveryCaseOnceAndClosed(x, n);
    BOOST_TEST(!x.gatewayRunning(2));
    // What the killed gateway had claimed (our receipts to the participant among it) is returned once
    // its heartbeat is stale and delivered by the others: every outgoing message ends sent.
    BOOST_TEST_INFO(x.histogram());
    BOOST_TEST(x.waitFor("SELECT count(*) FROM message WHERE direction = 'out' AND status <> 'sent'", 0, 60s));
    // The gateway's queues are quorum queues, replicated on the nodes: declaring one as a classic
    // queue is refused by the broker.
    auto c = vkhid::bus::AmqpConnection::connect({x.brokerUrlForTests(), 5, 0, std::chrono::milliseconds(5000)});
    BOOST_REQUIRE(c.ok());
    auto classic = c->declareQueue("vkhid.routing");
    BOOST_REQUIRE(!classic.ok());
    BOOST_TEST(classic.error().code == "amqp.queue_args");
  }
  BOOST_TEST(services("stop cluster") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
