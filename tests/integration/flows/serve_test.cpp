#define BOOST_TEST_MODULE integration_serve
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <fstream>
#include <sstream>

#include "tests/support/pki.hpp"
#include "tests/support/test_env.hpp"

using namespace vkhid::testing;
namespace utf = boost::unit_test;
using namespace std::chrono_literals;

namespace {

// A `vkhid serve` child on its own database and admin port, probing often so tests run quickly.
struct Gateway {
  TestDatabase db;
  unsigned short admin_port = freePort();
  std::unique_ptr<ChildProcess> process;

  Gateway() {
    std::string log = varDir() + "/serve-" + std::to_string(admin_port) + ".log";
    process = std::make_unique<ChildProcess>(
        std::vector<std::string>{binaryPath(), "serve"},
        std::map<std::string, std::string>{{"VKHID_DATABASE_URL", db.url()},
                                           {"VKHID_BROKER_URL", amqpUrl()},
                                           {"VKHID_ADMIN_LISTEN", "127.0.0.1:" + std::to_string(admin_port)},
                                           {"VKHID_GATEWAY_INSTANCE", "test-" + std::to_string(admin_port)},
                                           {"VKHID_GATEWAY_HEALTH_INTERVAL_MS", "200"},
                                           {"VKHID_BROKER_RECONNECT_MAX_S", "1"},
                                           {"VKHID_GATEWAY_SHUTDOWN_TIMEOUT_S", "10"},
                                           {"VKHID_INTAKE_LISTEN", "127.0.0.1:" + std::to_string(freePort())},
                                           {"VKHID_GATEWAY_SEAL_KEY", pkiDir() + "/ucc-seal.key"},
                                           {"VKHID_GATEWAY_SEAL_CERT", pkiDir() + "/ucc-seal.pem"}},
        log);
  }
  HttpReply readyz() const { return httpGet("127.0.0.1", admin_port, "/readyz"); }
  bool readyIs(int status) const { return readyz().status == status; }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(serve)

BOOST_AUTO_TEST_CASE(migrate_command_twice_is_a_noop) {
  TestDatabase db;
  std::map<std::string, std::string> env{{"VKHID_DATABASE_URL", db.url()}};
  ChildProcess first({binaryPath(), "migrate"}, env, varDir() + "/migrate-1.log");
  BOOST_REQUIRE(first.wait(30s) == 0);
  BOOST_TEST(first.log().find("applied now") != std::string::npos);
  ChildProcess second({binaryPath(), "migrate"}, env, varDir() + "/migrate-2.log");
  BOOST_REQUIRE(second.wait(30s) == 0);
  BOOST_TEST(second.log().find("(0 applied now)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(serve_becomes_ready_and_stops_on_sigterm) {
  Gateway gw;
  BOOST_REQUIRE_MESSAGE(eventually([&] { return gw.readyIs(200); }, 30s), gw.process->log());
  BOOST_TEST(httpGet("127.0.0.1", gw.admin_port, "/healthz").status == 200);
  auto metrics = httpGet("127.0.0.1", gw.admin_port, "/metrics");
  BOOST_TEST(metrics.body.find("vkhid_dependency_up{dependency=\"database\"} 1") != std::string::npos);
  BOOST_TEST(metrics.body.find("vkhid_dependency_up{dependency=\"broker\"} 1") != std::string::npos);
  BOOST_TEST(gw.db.query("SELECT count(*) FROM gateway_instance WHERE stopped_at IS NULL") == "1");

  gw.process->signal(SIGTERM);
  auto code = gw.process->wait(15s);
  BOOST_REQUIRE_MESSAGE(code.has_value(), "serve did not stop within 15 s of SIGTERM");
  BOOST_TEST(*code == 0);
  BOOST_TEST(gw.db.query("SELECT count(*) FROM gateway_instance WHERE stopped_at IS NOT NULL") == "1");
  // Every log line is one JSON object.
  std::istringstream lines(gw.process->log());
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    BOOST_TEST_INFO("line: " << line);
    BOOST_TEST((line.starts_with("{\"ts\":\"") && line.ends_with("}")));
    ++count;
  }
  BOOST_TEST(count > 3);
}

BOOST_AUTO_TEST_CASE(serve_refuses_unknown_config_key) {
  std::string path = varDir() + "/bad.toml";
  std::ofstream(path) << "[admin]\nlisten = \"127.0.0.1:1\"\nport = 3\n";
  ChildProcess p({binaryPath(), "serve", "--config", path}, {}, varDir() + "/bad.log");
  BOOST_REQUIRE(p.wait(10s) == 2);
  BOOST_TEST(p.log().find("unknown key 'admin.port'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(readyz_names_database_while_postgres_is_down, *utf::precondition(servicesAreOurs)) {
  Gateway gw;
  BOOST_REQUIRE_MESSAGE(eventually([&] { return gw.readyIs(200); }, 30s), gw.process->log());
  BOOST_REQUIRE(services("stop postgres") == 0);
  std::string body_while_down;
  bool named = eventually(
      [&] {
        auto r = gw.readyz();
        body_while_down = r.body;
        return r.status == 503 && r.body.find("\"failing\":[\"database\"]") != std::string::npos;
      },
      20s);
  BOOST_REQUIRE(services("start postgres") == 0);
  BOOST_TEST(named, "readyz while postgres was down: " << body_while_down);
  BOOST_TEST(eventually([&] { return gw.readyIs(200); }, 30s));
}

BOOST_AUTO_TEST_CASE(readyz_names_broker_while_rabbitmq_is_down, *utf::precondition(servicesAreOurs)) {
  Gateway gw;
  BOOST_REQUIRE_MESSAGE(eventually([&] { return gw.readyIs(200); }, 30s), gw.process->log());
  BOOST_REQUIRE(services("stop rabbitmq") == 0);
  std::string body_while_down;
  bool named = eventually(
      [&] {
        auto r = gw.readyz();
        body_while_down = r.body;
        return r.status == 503 && r.body.find("\"failing\":[\"broker\"]") != std::string::npos;
      },
      20s);
  BOOST_REQUIRE(services("start rabbitmq") == 0);
  BOOST_TEST(named, "readyz while rabbitmq was down: " << body_while_down);
  BOOST_TEST(eventually([&] { return gw.readyIs(200); }, 60s));
}

BOOST_AUTO_TEST_SUITE_END()
