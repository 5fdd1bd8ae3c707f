// Onboarding and administration against the real servers: a participant from TOML through its
// connectivity check and activation, a check that fails at the right step, suspension, roles on the
// administration API, and certificate rotation with an overlap.
#define BOOST_TEST_MODULE integration_onboarding
#include <atomic>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <thread>

#include "gateway/store/pg.hpp"
#include "tests/support/exchange_harness.hpp"
#include "tests/support/pki.hpp"

using namespace vkhid::testing;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;

namespace {

// A second seal certificate for the same organisation, from the development CA (the rotation's "new").
std::pair<std::string, std::string> secondSeal(ExchangeHarness& x, const std::string& org) {
  std::string key = x.dir() + "/" + org + "-seal2.key", cert = x.dir() + "/" + org + "-seal2.pem";
  std::string ext = x.dir() + "/seal2.ext";
  writeFile(ext,
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n"
            "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n");
  std::string cmd = "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + key +
                    " 2>/dev/null && openssl req -new -utf8 -key " + key + " -subj '/organizationIdentifier=NTRUA-" +
                    org + "/O=Учасник " + org + "/CN=нова печатка' 2>/dev/null | openssl x509 -req -CA " + pkiDir() +
                    "/ca.pem -CAkey " + pkiDir() + "/ca.key -set_serial 0x" + org + "2 -days 30 -sha256 -extfile " +
                    ext + " -out " + cert + " 2>/dev/null";
  BOOST_REQUIRE(std::system(cmd.c_str()) == 0);
  return {key, cert};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(onboarding, *utf::precondition(servicesAreOurs))

BOOST_AUTO_TEST_CASE(onboarding_from_toml_through_check_and_activate_over_amqp) {
  ExchangeHarness x;
  x.setUp();
  int p = x.addParticipant(
      "full_name = \"Нове міністерство\"\nmemorandum_number = \"М-1\"\nmemorandum_date = "
      "2026-11-01\n",
      false);
  BOOST_TEST(x.sql("SELECT status FROM participant WHERE org_id = '" + x.org(p) + "'") == "pending_check");
  x.startGateway();
  // Not before a passed check.
  auto early = x.runVkhidStatus({"participant", "activate", x.org(p)});
  BOOST_TEST(early.first == 2);
  BOOST_TEST(early.second.find("no passed connectivity check") != std::string::npos, early.second);

  x.startSimulator({}, p);
  auto check = x.runVkhidStatus({"participant", "check", x.org(p)});
  BOOST_TEST(check.first == 0, check.second);
  for (const char* step : {"resolve    ok", "tcp        ok", "accepted   ok", "receipt    ok", "signature  ok"}) {
    BOOST_TEST(check.second.find(step) != std::string::npos, step << " in " << check.second);
  }
  BOOST_TEST(x.simStats(p)["checks"] == 1);
  x.runVkhid({"participant", "activate", x.org(p)});
  BOOST_TEST(x.sql("SELECT status FROM participant WHERE org_id = '" + x.org(p) + "'") == "active");

  // Now it receives cases.
  x.runVkhid({"route", "add", "--target", x.org(p), "--addressee", x.org(p), "--priority", "1"});
  BOOST_REQUIRE(x.submitTo(p, "o1").status == 201);
  BOOST_TEST(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed' AND participant_org_id = '" + x.org(p) + "'",
                       1, 60s));
  // Every act is in the evidence log with who did it.
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'participant_check.insert' AND subject LIKE "
                     "'%passed:true%'") == 1);
  BOOST_TEST(
      x.count("SELECT count(*) FROM audit_entry WHERE action = 'participant.update' AND actor LIKE 'admin:cli:%' "
              "AND subject LIKE '%status:active%'") == 1);
}

BOOST_AUTO_TEST_CASE(onboarding_check_with_a_bad_receipt_seal_fails_at_the_signature_step) {
  ExchangeHarness x;
  x.setUp();
  int p = x.addParticipant("[[contact]]\nname = \"Черговий\"\nemail = \"duty@example.gov.ua\"\n", false);
  x.startGateway();
  x.startSimulator({"--bad-seal"}, p);
  auto check = x.runVkhidStatus({"participant", "check", x.org(p), "--timeout", "20"});
  BOOST_TEST(check.first == 1, check.second);
  BOOST_TEST(check.second.find("receipt    ok") != std::string::npos, check.second);
  BOOST_TEST(check.second.find("signature  failed") != std::string::npos, check.second);
  BOOST_TEST(check.second.find("code 111") != std::string::npos, check.second);
  BOOST_TEST(x.sql("SELECT status FROM participant WHERE org_id = '" + x.org(p) + "'") == "pending_check");
  // The participant's contacts are told why.
  BOOST_TEST(x.count("SELECT count(*) FROM outbox_message WHERE routing_key = 'participant.check_failed' AND "
                     "convert_from(payload, 'UTF8') LIKE '%duty@example.gov.ua%' AND convert_from(payload, 'UTF8') "
                     "LIKE '%signature%'") == 1);
  BOOST_TEST(x.runVkhidStatus({"participant", "activate", x.org(p)}).first == 2);
}

BOOST_AUTO_TEST_CASE(onboarding_suspended_participant_receives_nothing_until_reactivated) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  x.startSimulator();
  x.runVkhid({"participant", "suspend", x.org(), "--reason", "технічні роботи"});
  BOOST_TEST(x.count("SELECT count(*) FROM outbox_message WHERE routing_key = 'participant.suspended'") == 1);
  for (int i = 0; i < 3; ++i) BOOST_REQUIRE(x.submit("s" + std::to_string(i)).status == 201);
  // Routed to it (nothing re-routed silently), and held.
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM message WHERE direction = 'out' AND msg_type = 1", 3, 30s));
  std::this_thread::sleep_for(4s);
  BOOST_TEST(x.simStats()["received"] == 0);
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'out' AND msg_type = 1 AND status = 'sent'") == 0);
  // Active again (it passed no new check, and needs none: nothing changed): its queue drains.
  x.runVkhid({"participant", "activate", x.org(), "--force"});
  BOOST_TEST(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 3, 60s));
  BOOST_TEST(x.simStats()["appeals"] == 3);
}

// A delivery job for a package its claim did not take is let go only when the package no longer waits.
// Here the claim misses the package (another holds it when the claim gets to it) and, before the gateway
// asks what became of it, the hold is released and its participant is active: the package waits,
// unclaimed, and its job must come again. The test holds that moment open with locks: the claim waits
// for the package's row; a session queues for the participant table behind it, so that the gateway's
// question waits in turn until the package is released. Read "not held for a participant not active",
// the job was acknowledged and the package was never delivered.
BOOST_AUTO_TEST_CASE(onboarding_activation_while_a_claim_misses_loses_no_delivery_job) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  x.startSimulator();
  x.runVkhid({"participant", "suspend", x.org(), "--reason", "технічні роботи"});
  BOOST_REQUIRE(x.submit("race").status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM message WHERE direction = 'out' AND msg_type = 1", 1, 30s));
  const std::string msg = x.sql("SELECT msg_id FROM message WHERE direction = 'out' AND msg_type = 1");
  const std::string gateway = x.sql(
      "SELECT instance || ':' || pid FROM gateway_instance WHERE stopped_at IS NULL ORDER BY started_at DESC "
      "LIMIT 1");
  auto connect = [&](const char* name) {
    auto c = vkhid::store::PgConnection::connect({x.dbUrl(), 5, 0, name});
    if (!c) throw std::runtime_error("cannot connect: " + c.error().message);
    return std::move(*c);
  };
  auto done = [](const vkhid::Result<vkhid::store::PgResult>& r) { return static_cast<bool>(r); };
  // The package held (as by the gateway's own claim: its sweeper leaves it for 10 s), not yet committed.
  auto holder = connect("holder");
  BOOST_REQUIRE(done(holder.exec("BEGIN")));
  BOOST_REQUIRE(done(
      holder.exec("UPDATE message SET claimed_by = $1, claimed_at = now() WHERE msg_id = $2::uuid", {gateway, msg})));
  x.runVkhid({"participant", "activate", x.org(), "--force"});
  // The job comes round again; its claim now finds the participant active and waits for the package's row.
  BOOST_REQUIRE(
      x.waitAtLeast("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
                    "wait_event_type = 'Lock' AND query LIKE 'UPDATE message m SET claimed_by%'",
                    1, 30s));
  // A session queues for the participant table behind the claim: whatever the gateway reads of a
  // participant next waits for it.
  auto g = connect("gate");
  std::atomic<bool> released = false;
  std::thread gate([&] {
    // The claim has missed the package (held when it got to it): the hold is released, and only then
    // may the gateway ask what became of it.
    released = done(g.exec("BEGIN")) && done(g.exec("LOCK TABLE participant IN ACCESS EXCLUSIVE MODE")) &&
               done(g.exec("UPDATE message SET claimed_by = NULL, claimed_at = NULL WHERE msg_id = $1::uuid", {msg})) &&
               done(g.exec("COMMIT"));
  });
  const bool queued = x.waitAtLeast(
      "SELECT count(*) FROM pg_locks WHERE relation = 'participant'::regclass AND mode = "
      "'AccessExclusiveLock' AND NOT granted",
      1, 30s);
  BOOST_REQUIRE(done(holder.exec("COMMIT")));
  gate.join();
  BOOST_REQUIRE(queued);
  BOOST_REQUIRE(released.load());
  // The package waits, unclaimed, for an active participant: its job came again and it was delivered.
  BOOST_TEST(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 30s));
  BOOST_TEST(x.simStats()["appeals"] == 1);
}

BOOST_AUTO_TEST_CASE(onboarding_roles_without_the_right_get_403) {
  ExchangeHarness x;
  x.setUp();
  std::string admin = x.issueToken("ops", "admin"), auditor = x.issueToken("audit", "auditor");
  std::string channel = x.issueToken("web2", "channel");
  x.startGateway();
  const unsigned short port = x.adminPort();
  const std::string base = "/api/v1/admin/participants";
  auto call = [&](const std::string& method, const std::string& target, const std::string& token,
                  const std::string& body = "{}") {
    std::map<std::string, std::string> headers{{"Content-Type", "application/json"}};
    if (!token.empty()) headers["Authorization"] = "Bearer " + token;
    return httpRequest(method, "127.0.0.1", port, target, headers, body);
  };
  struct Action {
    std::string method, target, body;
  };
  const std::vector<Action> reads{{"GET", base, ""}, {"GET", base + "/" + x.org(), ""}};
  const std::vector<Action> acts{{"POST", base, "org_id = \"12345678\"\nsys_id = \"s\"\nname = \"n\"\n"},
                                 {"POST", base + "/" + x.org() + "/check", "{\"timeout_s\": 1}"},
                                 {"POST", base + "/" + x.org() + "/activate", "{}"},
                                 {"POST", base + "/" + x.org() + "/suspend", "{\"reason\": \"x\"}"},
                                 {"POST", base + "/" + x.org() + "/retire", "{}"},
                                 {"POST", base + "/" + x.org() + "/rotate-cert", "{\"cert_pem\": \"\"}"}};
  for (const auto& a : reads) {
    BOOST_TEST(call(a.method, a.target, channel).status == 403, a.target);
    BOOST_TEST(call(a.method, a.target, "").status == 401, a.target);
    BOOST_TEST(call(a.method, a.target, auditor).status == 200, a.target);
    BOOST_TEST(call(a.method, a.target, admin).status == 200, a.target);
  }
  for (const auto& a : acts) {
    BOOST_TEST(call(a.method, a.target, channel, a.body).status == 403, a.target);
    BOOST_TEST(call(a.method, a.target, auditor, a.body).status == 403, a.target);
    BOOST_TEST(call(a.method, a.target, "", a.body).status == 401, a.target);
  }
  // Refused acts changed nothing; an admin may act, and the act is recorded with who did it.
  BOOST_TEST(x.sql("SELECT status FROM participant WHERE org_id = '" + x.org() + "'") == "active");
  BOOST_TEST(x.count("SELECT count(*) FROM participant WHERE org_id = '12345678'") == 0);
  auto suspended = call("POST", base + "/" + x.org() + "/suspend", admin, "{\"reason\": \"планові роботи\"}");
  BOOST_TEST(suspended.status == 200, suspended.body);
  BOOST_TEST(suspended.body.find("\"status\":\"suspended\"") != std::string::npos);
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE actor = 'admin:ops' AND action = 'participant.update'") ==
             1);
  // Routing rules the same way: read and dry-run by both roles, changed by the admin only.
  std::string sample = readFile(sourceDir() + "/config/examples/case-appeal.json");
  BOOST_TEST(call("GET", "/api/v1/admin/routes", auditor, "").status == 200);
  auto dry = call("POST", "/api/v1/admin/routes/dry-run", auditor, sample);
  BOOST_TEST(dry.status == 200, dry.body);
  BOOST_TEST(dry.body.find("\"target\":\"" + x.org() + "\"") != std::string::npos, dry.body);
  std::string rule = "{\"target\": \"" + x.org() + "\", \"kind\": \"appeal\", \"priority\": 5}";
  BOOST_TEST(call("POST", "/api/v1/admin/routes", auditor, rule).status == 403);
  BOOST_TEST(call("POST", "/api/v1/admin/routes", channel, rule).status == 403);
  BOOST_TEST(call("POST", "/api/v1/admin/routes", admin, rule).status == 201);
  BOOST_TEST(x.count("SELECT count(*) FROM routing_rule") == 2);
  // Acts that make no sense now are refused with 409, naming the status.
  auto again = call("POST", base + "/" + x.org() + "/suspend", admin, "{\"reason\": \"ще раз\"}");
  BOOST_TEST(again.status == 409);
  BOOST_TEST(again.body.find("is suspended") != std::string::npos, again.body);
}

BOOST_AUTO_TEST_CASE(onboarding_certificate_rotation_with_overlap) {
  ExchangeHarness x;
  x.setUp("", "seal_cert_file = \"" + pkiDir() + "/" + x.org() + "-seal.pem\"\n");
  auto [new_key, new_cert] = secondSeal(x, x.org());
  x.startGateway();
  auto closedAfter = [&](const std::string& key, long long expected) {
    BOOST_REQUIRE(x.submit(key).status == 201);
    return x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", expected, 60s);
  };
  // The registered (old) certificate: accepted.
  x.startSimulator();
  BOOST_TEST(closedAfter("r1", 1));
  x.stopSimulator();
  // A certificate of the right organisation and CA but not registered: refused (pinning) with a code of its
  // own — 114 says the chain is untrusted, which it is not.
  x.useSimulatorCredentials(0, new_key, new_cert);
  x.startSimulator();
  BOOST_REQUIRE(x.submit("r2").status == 201);
  BOOST_TEST(
      x.waitAtLeast("SELECT count(*) FROM message WHERE direction = 'in' AND status = 'rejected' AND error_code = "
                    "118",
                    1, 60s));
  BOOST_TEST(x.sql("SELECT last_error FROM message WHERE direction = 'in' AND error_code = 118 LIMIT 1")
                 .find("is not registered for participant " + x.org()) != std::string::npos);
  x.stopSimulator();

  // Rotation with a 30-day overlap: old and new are both accepted.
  x.runVkhid({"participant", "rotate-cert", x.org(), "--cert", new_cert, "--overlap-days", "30"});
  x.startSimulator();
  BOOST_TEST(closedAfter("r3", 2));  // r2 stays where its refused receipts left it
  x.stopSimulator();
  x.useSimulatorCredentials(0, pkiDir() + "/" + x.org() + "-seal.key", pkiDir() + "/" + x.org() + "-seal.pem");
  x.startSimulator();
  BOOST_TEST(closedAfter("r4", 3));
  x.stopSimulator();

  // After the overlap (its end moved to the past): only the new one.
  x.sql("UPDATE participant_cert SET retire_after = now() - interval '1 second' WHERE retire_after IS NOT NULL");
  long long refused = x.count("SELECT count(*) FROM message WHERE direction = 'in' AND error_code = 118");
  x.startSimulator();
  BOOST_REQUIRE(x.submit("r5").status == 201);
  BOOST_TEST(eventually(
      [&] { return x.count("SELECT count(*) FROM message WHERE direction = 'in' AND error_code = 118") > refused; },
      60s));
  x.stopSimulator();
  x.useSimulatorCredentials(0, new_key, new_cert);
  x.startSimulator();
  BOOST_TEST(closedAfter("r6", 4));  // r2 and r5 stay where their refused receipts left them
}

BOOST_AUTO_TEST_CASE(onboarding_certificate_expiring_within_30_days_is_warned_once) {
  ExchangeHarness x;
  x.setUp();
  // A seal certificate valid for 20 more days, registered by rotation.
  std::string key = x.dir() + "/short.key", cert = x.dir() + "/short.pem", ext = x.dir() + "/short.ext";
  writeFile(ext, "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n");
  std::string cmd = "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + key +
                    " 2>/dev/null && openssl req -new -utf8 -key " + key + " -subj '/organizationIdentifier=NTRUA-" +
                    x.org() + "/CN=short' 2>/dev/null | openssl x509 -req -CA " + pkiDir() + "/ca.pem -CAkey " +
                    pkiDir() + "/ca.key -set_serial 0x" + x.org() + "3 -days 20 -sha256 -extfile " + ext + " -out " +
                    cert + " 2>/dev/null";
  BOOST_REQUIRE(std::system(cmd.c_str()) == 0);
  x.runVkhid({"participant", "rotate-cert", x.org(), "--cert", cert});
  x.startGateway();
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM outbox_message WHERE routing_key = 'certificate.expiring'", 1, 30s));
  BOOST_TEST(
      x.sql("SELECT convert_from(payload, 'UTF8') FROM outbox_message WHERE routing_key = 'certificate.expiring'")
          .find("\"within_days\":30") != std::string::npos);
  // A restart does not warn again (and 7 days is not reached yet).
  x.killGateway(0, SIGTERM);
  x.startGateway();
  std::this_thread::sleep_for(2s);
  BOOST_TEST(x.count("SELECT count(*) FROM outbox_message WHERE routing_key = 'certificate.expiring'") == 1);
}

BOOST_AUTO_TEST_CASE(onboarding_certificate_revoked_by_a_configured_crl_is_refused) {
  ExchangeHarness x;
  x.setUp();
  // The CA revokes the participant's seal and publishes a CRL (stock `openssl ca`).
  std::string db = x.dir() + "/crl-db";
  std::string cmd = "mkdir -p " + db + " && touch " + db + "/index.txt && printf '[ca]\\ndefault_ca = dev\\n[dev]\\n" +
                    "database = " + db + "/index.txt\\ndefault_md = sha256\\ndefault_crl_days = 30\\n' > " + db +
                    "/ca.cnf && openssl ca -config " + db + "/ca.cnf -keyfile " + pkiDir() + "/ca.key -cert " +
                    pkiDir() + "/ca.pem -revoke " + pkiDir() + "/" + x.org() + "-seal.pem >/dev/null 2>&1 && " +
                    "openssl ca -config " + db + "/ca.cnf -keyfile " + pkiDir() + "/ca.key -cert " + pkiDir() +
                    "/ca.pem -gencrl -out " + db + "/crl.pem >/dev/null 2>&1";
  BOOST_REQUIRE(std::system(cmd.c_str()) == 0);
  x.startGateway(0, {{"VKHID_TRUST_CRL_FILES", db + "/crl.pem"}});
  x.startSimulator();
  BOOST_REQUIRE(x.submit("crl1").status == 201);
  // Everything the participant signs is refused as untrusted, saying why; the case does not move on.
  BOOST_REQUIRE(
      x.waitAtLeast("SELECT count(*) FROM message WHERE direction = 'in' AND status = 'rejected' AND "
                    "error_code = 114 AND last_error LIKE '%revoked%'",
                    1, 60s));
  BOOST_TEST(x.count("SELECT count(*) FROM cases WHERE status = 'closed'") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
