// The `http` adapter against real TLS: the gateway and a participant's simulated EDMS exchanging over
// HTTPS with mutual TLS, both directions; refused certificates; a busy participant; the onboarding
// check over http, including a wrong server certificate.
#define BOOST_TEST_MODULE integration_adapter_http
#include <boost/test/unit_test.hpp>

#include "tests/support/exchange_harness.hpp"
#include "tests/support/pki.hpp"

using namespace vkhid::testing;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;

namespace {}  // namespace

BOOST_AUTO_TEST_SUITE(adapter_http, *utf::precondition(servicesAreOurs))

BOOST_AUTO_TEST_CASE(adapter_http_case_end_to_end_both_directions) {
  ExchangeHarness x;
  x.setUp();
  int h = x.addHttpParticipant();
  x.runVkhid({"route", "add", "--target", x.org(h), "--addressee", x.org(h), "--priority", "1"});
  x.startGateway();
  x.startHttpSimulator(h);
  BOOST_REQUIRE(x.submitTo(h, "h1").status == 201);
  // Out by HTTPS POST to the participant, receipts and the signed answer back by HTTPS POST to us.
  BOOST_REQUIRE(x.waitFor(
      "SELECT count(*) FROM cases WHERE status = 'closed' AND participant_org_id = '" + x.org(h) + "'", 1, 60s));
  BOOST_TEST(x.simStats(h)["appeals"] == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'in' AND status = 'applied' AND peer_org_id = '" +
                     x.org(h) + "'") == 4);
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'out' AND msg_type = 1 AND status = 'sent'") == 1);
}

BOOST_AUTO_TEST_CASE(adapter_http_deliveries_reuse_their_connection) {
  // Keep-alive: three cases and the receipts for their answers go to the participant over fewer TLS
  // connections than packages (one per package without reuse).
  ExchangeHarness x;
  x.setUp();
  int h = x.addHttpParticipant();
  x.runVkhid({"route", "add", "--target", x.org(h), "--addressee", x.org(h), "--priority", "1"});
  x.startGateway();
  x.startHttpSimulator(h);
  for (const char* key : {"k1", "k2", "k3"}) BOOST_REQUIRE(x.submitTo(h, key).status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 3, 60s));
  BOOST_REQUIRE(eventually([&] { return x.simStats(h)["received"] >= 6; }, 20s));
  auto stats = x.simStats(h);
  BOOST_TEST(stats["connections"] >= 1);
  BOOST_TEST(stats["connections"] < stats["received"],
             stats["connections"] << " connections for " << stats["received"] << " packages");
}

BOOST_AUTO_TEST_CASE(adapter_http_wrong_certificates_are_refused) {
  ExchangeHarness x;
  x.setUp();
  int h = x.addHttpParticipant();
  x.startGateway();
  x.startHttpSimulator(h);  // the inbound listener runs while an http endpoint exists
  const std::string url = "https://localhost:" + std::to_string(x.edmsPort()) + "/edms/v1/messages";
  std::string package = x.dir() + "/other.xml";
  // A package from another organisation (the UCC's own org id, sealed with its seal).
  auto built = x.runVkhid({"package", "build", "--case", sourceDir() + "/config/examples/case-appeal.json", "--key",
                           pkiDir() + "/ucc-seal.key", "--cert", pkiDir() + "/ucc-seal.pem", "--to", "99999901"});
  writeFile(package, built.substr(built.find("<")));
  std::string out = x.dir() + "/post.out";
  auto post = [&](const std::string& who) {
    std::string cmd = "curl -sS -o " + out + " -w '%{http_code}' --cacert " + pkiDir() + "/ca.pem " + who +
                      " -X POST " + url + " -H 'Content-Type: application/xml' --data-binary @" + package + " > " +
                      out + ".code 2>/dev/null";
    std::system(cmd.c_str());
    return readFile(out + ".code");
  };
  BOOST_REQUIRE(eventually(
      [&] {
        return post("--cert " + pkiDir() + "/" + x.org(h) + "-tls.pem --key " + pkiDir() + "/" + x.org(h) +
                    "-tls.key") == "422";
      },
      30s));
  // The registered certificate, but the package says another organisation sent it: refused with 115.
  BOOST_TEST(readFile(out).find("\"code\":115") != std::string::npos, readFile(out));
  // No client certificate, or one of another CA: the handshake fails, nothing is recorded.
  long long before = x.count("SELECT count(*) FROM message WHERE direction = 'in'");
  BOOST_TEST(post("") == "000");
  BOOST_TEST(post("--cert " + pkiDir() + "/rogue-seal.pem --key " + pkiDir() + "/rogue-seal.key") == "000");
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'in'") == before);
}

BOOST_AUTO_TEST_CASE(adapter_http_participant_busy_then_ready_gets_it_once) {
  ExchangeHarness x;
  x.setUp();
  int h = x.addHttpParticipant();
  x.runVkhid({"route", "add", "--target", x.org(h), "--addressee", x.org(h), "--priority", "1"});
  x.startGateway();
  x.startHttpSimulator(h, {"--fail-first", "1"});  // 503 first, then 200
  BOOST_REQUIRE(x.submitTo(h, "b1").status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s));
  BOOST_TEST(x.sql("SELECT attempts FROM message WHERE direction = 'out' AND msg_type = 1") == "2");
  BOOST_TEST(x.simStats(h)["appeals"] == 1);
  BOOST_TEST(x.simStats(h)["distinct"] >= 1);
}

BOOST_AUTO_TEST_CASE(onboarding_check_over_http_and_a_wrong_server_certificate) {
  ExchangeHarness x;
  x.setUp();
  int h = x.addHttpParticipant(false);
  x.startGateway();
  x.startHttpSimulator(h);
  auto good = x.runVkhidStatus({"participant", "check", x.org(h)});
  BOOST_TEST(good.first == 0, good.second);
  BOOST_TEST(good.second.find("tls        ok") != std::string::npos, good.second);
  BOOST_TEST(good.second.find("CN=localhost") != std::string::npos, good.second);
  BOOST_TEST(good.second.find("signature  ok") != std::string::npos, good.second);

  // The participant's server presents a certificate of another CA: the check stops at TLS.
  x.stopSimulator(h);
  x.useSimulatorTls(h, pkiDir() + "/rogue-seal.pem", pkiDir() + "/rogue-seal.key");
  x.startHttpSimulator(h);
  auto bad = x.runVkhidStatus({"participant", "check", x.org(h), "--timeout", "5"});
  BOOST_TEST(bad.first == 1, bad.second);
  BOOST_TEST(bad.second.find("tls        failed") != std::string::npos, bad.second);
  BOOST_TEST(bad.second.find("accepted") == std::string::npos, bad.second);  // nothing sent after a failed step
}

// A fresh Debian root's /etc/hosts names ::1 first for localhost; the participant's server listens on
// 127.0.0.1 only. The gateway's client tries both addresses: so must the check, reporting each.
BOOST_AUTO_TEST_CASE(onboarding_check_tries_every_address_of_the_endpoint_host, *utf::precondition(isRoot)) {
  BOOST_REQUIRE(resolveLocalhostIpv6First());
  ExchangeHarness x;
  x.setUp();
  int h = x.addHttpParticipant(false);
  x.startGateway();
  x.startHttpSimulator(h);
  auto check = x.runVkhidStatus({"participant", "check", x.org(h), "--timeout", "10"});
  BOOST_TEST(check.first == 0, check.second);
  BOOST_TEST(check.second.find("localhost -> IPv6 address ::1, IPv4 address 127.0.0.1") != std::string::npos,
             check.second);
  BOOST_TEST(check.second.find("connected to 127.0.0.1 port") != std::string::npos, check.second);
  BOOST_TEST(check.second.find("::1: connection refused") != std::string::npos, check.second);
  BOOST_TEST(check.second.find("signature  ok") != std::string::npos, check.second);
}

BOOST_AUTO_TEST_SUITE_END()
