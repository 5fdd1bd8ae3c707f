// The web console (issue 11) against a real gateway, PostgreSQL and RabbitMQ: its sessions over HTTP,
// and its users' tasks in Debian's Chromium driven by playwright-core (tests/browser/console.mjs), with
// the database behind it checked after each.
#define BOOST_TEST_MODULE integration_console
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <filesystem>

#include "tests/support/exchange_harness.hpp"
#include "tests/support/pki.hpp"

using namespace vkhid::testing;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;
namespace json = boost::json;

namespace {

// Runs one scenario of console.mjs; returns what it saw. Screenshots stay in the test's folder.
json::object browse(ExchangeHarness& x, const std::string& scenario, const json::object& args) {
  std::string base = "http://127.0.0.1:" + std::to_string(x.adminPort());
  ChildProcess node({"/usr/bin/env", "node", sourceDir() + "/tests/browser/console.mjs", scenario, base,
                     x.dir() + "/console-" + scenario, json::serialize(args)},
                    {}, x.dir() + "/console-" + scenario + ".log");
  auto code = node.wait(180s);
  BOOST_REQUIRE_MESSAGE(code && *code == 0, node.log());
  std::string out = node.log();
  auto seen = json::parse(out.substr(out.rfind("{\"scenario\""))).as_object();
  BOOST_TEST_MESSAGE(json::serialize(seen));
  BOOST_REQUIRE_MESSAGE(!seen.contains("error"), (seen.contains("error") ? json::serialize(seen.at("error")) : ""));
  // Whatever the page, the console fetches nothing from elsewhere, and its session cookie is out of
  // scripts' reach; signing out ends the session.
  BOOST_TEST(seen.at("external").as_array().empty());
  // No script error; refused requests show as network messages, which the scenarios expect and judge.
  for (const auto& e : seen.at("console_errors").as_array()) {
    BOOST_TEST(std::string(e.as_string()).starts_with("Failed to load resource"), e.as_string());
  }
  BOOST_TEST(seen.at("lang").as_string() == "uk");
  BOOST_TEST(seen.at("cookie_http_only").as_bool());
  BOOST_TEST(!seen.at("cookie_visible_to_script").as_bool());
  BOOST_TEST(seen.at("after_signout").as_int64() == 401);
  // A page whose answer comes after signing out is dropped; the sign-in form stays.
  BOOST_TEST(!seen.at("list_drawn_over_signin").as_bool());
  return seen;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(console, *utf::precondition(servicesAreOurs))

BOOST_AUTO_TEST_CASE(console_session_needs_its_cookie_and_csrf_token) {
  ExchangeHarness x;
  x.setUp();
  std::string admin = x.issueToken("ops", "admin");
  x.startGateway();
  const auto port = x.adminPort();
  auto post = [&](const std::string& target, const std::string& body, std::map<std::string, std::string> h = {}) {
    h["Content-Type"] = "application/json";
    return httpRequest("POST", "127.0.0.1", port, target, h, body);
  };
  // The console's files, with headers that keep them from being framed or mixed with others'.
  auto index = httpGet("127.0.0.1", port, "/console/");
  BOOST_TEST(index.status == 200);
  BOOST_TEST(index.body.find("console.js") != std::string::npos);
  BOOST_TEST(index.headers["content-security-policy"].find("default-src 'self'") != std::string::npos);
  BOOST_TEST(index.headers["x-content-type-options"] == "nosniff");
  BOOST_TEST(httpGet("127.0.0.1", port, "/console/console.js").content_type.starts_with("text/javascript"));
  BOOST_TEST(httpGet("127.0.0.1", port, "/console/../config/vkhid.toml").status == 404);

  // Sign-in: only an admin's or auditor's valid token.
  BOOST_TEST(post("/console/session", R"({"token": "vkh_nonsense"})").status == 401);
  BOOST_TEST(post("/console/session", R"({"token": ")" + x.token() + R"("})").status == 401);  // a channel's
  auto in = post("/console/session", R"({"token": ")" + admin + R"("})");
  BOOST_REQUIRE(in.status == 201);
  const std::string cookie = in.headers["set-cookie"];
  BOOST_TEST(cookie.find("HttpOnly") != std::string::npos);
  BOOST_TEST(cookie.find("SameSite=Strict") != std::string::npos);
  const std::string pair = cookie.substr(0, cookie.find(';'));
  const std::string csrf = jsonField(in.body, "csrf");
  BOOST_TEST(x.count("SELECT count(*) FROM console_session") == 1);
  // The database keeps the id's hash, not the id.
  BOOST_TEST(
      x.count("SELECT count(*) FROM console_session WHERE id_sha256 = '" + pair.substr(pair.find('=') + 1) + "'") == 0);

  // Reading with the cookie; a change without the CSRF token is refused and changes nothing.
  BOOST_TEST(httpRequest("GET", "127.0.0.1", port, "/api/v1/admin/participants", {{"Cookie", pair}}, "").status == 200);
  const std::string suspend = "/api/v1/admin/participants/" + x.org() + "/suspend";
  BOOST_TEST(post(suspend, R"({"reason": "r"})", {{"Cookie", pair}}).status == 403);
  BOOST_TEST(post(suspend, R"({"reason": "r"})", {{"Cookie", pair}, {"X-CSRF-Token", "wrong"}}).status == 403);
  BOOST_TEST(x.sql("SELECT status FROM participant WHERE org_id = '" + x.org() + "'") == "active");
  BOOST_TEST(post(suspend, R"({"reason": "r"})", {{"Cookie", pair}, {"X-CSRF-Token", csrf}}).status == 200);
  BOOST_TEST(x.sql("SELECT status FROM participant WHERE org_id = '" + x.org() + "'") == "suspended");
  BOOST_TEST(x.sql("SELECT actor FROM audit_entry WHERE action LIKE 'participant%' ORDER BY id DESC LIMIT 1") ==
             "admin:ops");

  // A session ends when unused for its time, and when its client's token is revoked.
  x.sql("UPDATE console_session SET expires_at = now() - interval '1 second' RETURNING 1");
  BOOST_TEST(httpRequest("GET", "127.0.0.1", port, "/console/session", {{"Cookie", pair}}, "").status == 401);
  BOOST_TEST(httpRequest("GET", "127.0.0.1", port, "/api/v1/admin/participants", {{"Cookie", pair}}, "").status == 401);
  auto again = post("/console/session", R"({"token": ")" + admin + R"("})");
  const std::string pair2 = again.headers["set-cookie"].substr(0, again.headers["set-cookie"].find(';'));
  BOOST_TEST(httpRequest("GET", "127.0.0.1", port, "/console/session", {{"Cookie", pair2}}, "").status == 200);
  x.sql("UPDATE api_client SET revoked_at = now() WHERE id = 'ops' RETURNING 1");
  BOOST_TEST(httpRequest("GET", "127.0.0.1", port, "/console/session", {{"Cookie", pair2}}, "").status == 401);

  // So does an expired token: it signs in no more, and its open sessions end.
  const std::string auditor = x.issueToken("audit", "auditor");
  auto third = post("/console/session", R"({"token": ")" + auditor + R"("})");
  BOOST_REQUIRE(third.status == 201);
  const std::string pair3 = third.headers["set-cookie"].substr(0, third.headers["set-cookie"].find(';'));
  BOOST_TEST(httpRequest("GET", "127.0.0.1", port, "/console/session", {{"Cookie", pair3}}, "").status == 200);
  x.sql("UPDATE api_client SET expires_at = now() - interval '1 second' WHERE id = 'audit' RETURNING 1");
  BOOST_TEST(httpRequest("GET", "127.0.0.1", port, "/console/session", {{"Cookie", pair3}}, "").status == 401);
  BOOST_TEST(post("/console/session", R"({"token": ")" + auditor + R"("})").status == 401);
}

BOOST_AUTO_TEST_CASE(console_signs_in_by_client_certificate_over_tls) {
  // The admin listener on HTTPS with a client CA: an administrator whose certificate is bound signs in
  // with no token; the cookie is then Secure. An unbound certificate of the same CA, or none, is refused.
  ExchangeHarness x;
  x.setUp();
  x.runVkhid({"token", "bind-cert", "--client", "desk", "--role", "admin", "--cert", pkiDir() + "/p1-tls.pem"});
  x.startGateway(0, {{"VKHID_ADMIN_TLS_CERT", pkiDir() + "/gateway-tls.pem"},
                     {"VKHID_ADMIN_TLS_KEY", pkiDir() + "/gateway-tls.key"},
                     {"VKHID_ADMIN_CLIENT_CA", pkiDir() + "/ca.pem"}});
  const std::string base = "https://localhost:" + std::to_string(x.adminPort());
  const std::string headers = x.dir() + "/signin.headers", code = x.dir() + "/signin.code";
  auto curl = [&](const std::string& args) {
    std::string cmd = "curl -sS -D " + headers + " -o /dev/null -w '%{http_code}' --cacert " + pkiDir() + "/ca.pem " +
                      args + " > " + code + " 2>&1";
    std::system(cmd.c_str());
    return readFile(code);
  };
  const std::string signin = " -X POST " + base + "/console/session -H 'Content-Type: application/json' --data '{}'";
  BOOST_TEST(curl("--cert " + pkiDir() + "/p1-tls.pem --key " + pkiDir() + "/p1-tls.key" + signin) == "201");
  const std::string answered = readFile(headers);
  auto at = answered.find("vkhid_session=");
  BOOST_REQUIRE(at != std::string::npos);
  const std::string cookie = answered.substr(at, answered.find(';', at) - at);
  BOOST_TEST(answered.find("Secure") != std::string::npos);
  BOOST_TEST(curl("-b '" + cookie + "' " + base + "/api/v1/admin/participants") == "200");
  BOOST_TEST(curl("--cert " + pkiDir() + "/p2-tls.pem --key " + pkiDir() + "/p2-tls.key" + signin) == "401");
  BOOST_TEST(curl(signin) == "401");
  BOOST_TEST(x.sql("SELECT client_id FROM console_session") == "desk");
}

BOOST_AUTO_TEST_CASE(console_admin_onboards_a_participant_and_sees_the_check_pass, *utf::timeout(300)) {
  ExchangeHarness x;
  x.setUp();
  std::string admin = x.issueToken("ops", "admin");
  int p = x.prepareParticipant();  // certificates and a broker user; not registered
  x.startGateway();
  x.startSimulator({}, p);  // its EDMS is up, waiting for the check's package
  auto seen = browse(x, "onboard",
                     {{"token", admin},
                      {"org", x.org(p)},
                      {"user", x.brokerUser(p)},
                      {"seal_pem_file", pkiDir() + "/" + x.org(p) + "-seal.pem"},
                      {"ca_pem_file", pkiDir() + "/ca.pem"}});
  BOOST_TEST(std::string(seen.at("saved").as_string()).find("pending_check") != std::string::npos);
  BOOST_TEST(seen.at("passed").as_bool());
  std::map<std::string, std::string> steps;
  for (const auto& s : seen.at("steps").as_array()) {
    steps[std::string(s.as_array()[0].as_string())] = std::string(s.as_array()[1].as_string());
  }
  for (const char* step : {"accepted", "receipt", "signature"}) BOOST_TEST(steps[step] == "ok", step);
  BOOST_TEST(seen.at("status_in_list").as_string() == "active");
  BOOST_TEST(x.sql("SELECT status FROM participant WHERE org_id = '" + x.org(p) + "'") == "active");
  BOOST_TEST(x.sql("SELECT memorandum_number FROM participant WHERE org_id = '" + x.org(p) + "'") == "М-1/2026");
  BOOST_TEST(x.count("SELECT count(*) FROM participant_cert WHERE org_id = '" + x.org(p) + "' AND purpose = 'seal'") ==
             1);
  BOOST_TEST(x.simStats(p)["checks"] == 1);
}

BOOST_AUTO_TEST_CASE(console_admin_replays_the_dead_delivery_of_an_overdue_case, *utf::timeout(300)) {
  ExchangeHarness x;
  x.setUp("inbox_queue = \"amq.refused\"\n");  // every delivery is refused by the broker: it dies
  std::string admin = x.issueToken("ops", "admin");
  x.startGateway({}, {{"VKHID_DELIVERY_RETRY_DELAYS", "200ms,200ms,200ms"}});
  auto r = x.submit("overdue-1");
  BOOST_REQUIRE(r.status == 201);
  std::string id = jsonField(r.body, "id");
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'delivery_failed'", 1, 90s));
  x.sql("UPDATE cases SET due_at = now() - interval '2 days', overdue = true RETURNING 1");  // time has passed
  x.setUp();                                                                                 // the endpoint fixed
  x.startSimulator();
  auto seen = browse(x, "replay", {{"token", admin}, {"case_id", id}});
  const auto& rows = seen.at("overdue_rows").as_array();
  BOOST_REQUIRE(rows.size() == 1u);
  BOOST_TEST(rows[0].as_array()[0].as_string() == id);
  BOOST_TEST(rows[0].as_array()[1].as_string() == "overdue");
  BOOST_TEST(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s));
  BOOST_TEST(x.sql("SELECT actor FROM case_event WHERE event = 'delivery_replayed'") == "admin:ops");
  BOOST_TEST(seen.at("review_rows").as_array().size() == 1u);
  BOOST_TEST(x.sql("SELECT review_note FROM cases") == "Перевірити затримку доставки");
  BOOST_TEST(x.simStats()["registered"] == 1);
}

BOOST_AUTO_TEST_CASE(console_auditor_exports_and_verifies_a_bundle, *utf::timeout(300)) {
  ExchangeHarness x;
  x.setUp();
  std::string auditor = x.issueToken("audit", "auditor", true);
  TsaSimulator tsa(x.dir());
  x.startGateway({}, {{"VKHID_AUDIT_TSA_URL", tsa.url()},
                      {"VKHID_AUDIT_BATCH_MAX_AGE_MS", "500"},
                      {"VKHID_AUDIT_EXPORT_DIR", x.dir() + "/exports"}});
  x.startSimulator();
  BOOST_REQUIRE(x.submit("evidence-1").status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s));
  BOOST_REQUIRE(x.waitEvidenceSealed(60s));
  auto seen = browse(x, "audit", {{"token", auditor}});
  BOOST_TEST(seen.at("verdict").as_string() == "ok", seen.at("verdict_text").as_string());
  BOOST_TEST(seen.at("batches").as_int64() > 0);
  BOOST_TEST(seen.at("act_status").as_int64() == 403);    // reads, never acts
  BOOST_TEST(seen.at("action_buttons").as_int64() == 0);  // and is offered no action
  BOOST_TEST(seen.at("report_charts").as_int64() >= 4);   // the reports page shows the report's charts
  // The bundle is on disk where the configuration says, and an auditor's offline check agrees.
  std::string dir;
  for (const auto& e : std::filesystem::directory_iterator(x.dir() + "/exports")) dir = e.path().string();
  BOOST_REQUIRE(!dir.empty());
  BOOST_TEST(x.runVkhid({"audit", "verify", dir}).find("audit verify: OK") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(console_restricted_case_hidden_without_restricted_access, *utf::timeout(300)) {
  ExchangeHarness x;
  x.setUp();
  std::string plain = x.issueToken("ops", "admin"), cleared = x.issueToken("lead", "admin", true);
  x.startGateway();
  BOOST_REQUIRE(x.submit("ordinary-1").status == 201);
  auto restricted = httpRequest(
      "POST", "127.0.0.1", x.intakePort(), "/api/v1/cases",
      {{"Authorization", "Bearer " + x.token()}, {"Content-Type", "application/json"}, {"Idempotency-Key", "v-1"}},
      R"({"kind":"violence_report","applicant":{"surname":"Анонім","first_name":"Заявник"},)"
      R"("consent":{"disclose_identity":false,"process_personal_data":true},)"
      R"("text":"Повідомлення про насильство.","channel":"hotline","urgency":"threat_to_life"})");
  BOOST_REQUIRE_MESSAGE(restricted.status == 201, restricted.body);
  std::string hidden = jsonField(restricted.body, "id");
  BOOST_REQUIRE(x.count("SELECT count(*) FROM cases WHERE restricted") == 1);

  auto plain_view = browse(x, "cases", {{"token", plain}, {"case_id", hidden}});
  BOOST_TEST(plain_view.at("rows").as_array().size() == 1u);
  for (const auto& row : plain_view.at("rows").as_array()) BOOST_TEST(row.as_string() != hidden);
  BOOST_TEST(plain_view.at("case_heading").as_string() == "Не знайдено");
  BOOST_TEST(!plain_view.at("phone_overflow").as_bool());
  BOOST_TEST(plain_view.at("english_heading").as_string() == "Cases");
  BOOST_TEST(plain_view.at("lang_after").as_string() == "en");
  // The API says the same to the same client's token.
  auto direct = httpRequest("GET", "127.0.0.1", x.adminPort(), "/api/v1/admin/cases/" + hidden,
                            {{"Authorization", "Bearer " + plain}}, "");
  BOOST_TEST(direct.status == 404);

  auto cleared_view = browse(x, "cases", {{"token", cleared}, {"case_id", hidden}});
  BOOST_TEST(cleared_view.at("rows").as_array().size() == 2u);
  BOOST_TEST(std::string(cleared_view.at("case_heading").as_string()).starts_with("Справа УКЦ-"));
}

// The alerts inbox (issue 27): an overdue case's alerts, listed open and most urgent first, with who was
// told; an admin acknowledges one with what was done, in the evidence log, and it leaves the open list.
BOOST_AUTO_TEST_CASE(console_alerts_inbox_acknowledges_in_chromium, *utf::timeout(400)) {
  ExchangeHarness x;
  x.setUp();
  writeFile(x.dir() + "/rota.toml",
            "[[duty]]\nname = \"Черговий\"\nemail = \"duty@ucc.example\"\ndays = \"all\"\nhours = "
            "\"00:00-24:00\"\nrestricted = true\n");
  std::map<std::string, std::string> env{{"VKHID_NOTIFY_ENABLED", "true"},
                                         {"VKHID_NOTIFY_ROTA_FILE", x.dir() + "/rota.toml"},
                                         {"VKHID_NOTIFY_SEND_INTERVAL_MS", "200"}};
  x.startGateway(0, env);
  x.startSimulator({"--no-answer"});
  BOOST_REQUIRE(x.submit("alerts").status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'registered_by_participant'", 1, 60s));
  x.killGateway(0, SIGTERM);
  env["VKHID_DEADLINES_CLOCK_OFFSET_S"] = "3456000";  // forty days on: the warnings, then overdue
  x.startGateway(0, env);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM alert WHERE kind = 'deadline.overdue'", 1, 60s));
  const std::string id = x.sql("SELECT id FROM alert WHERE kind = 'deadline.overdue'");
  const std::string admin = x.issueToken("inbox-admin", "admin");
  auto seen = browse(x, "alerts", {{"token", admin}, {"alert_id", std::stoll(id)}});
  // Open, the overdue one (urgent) first; each row says who was told.
  const auto& open = seen.at("open_rows").as_array();
  BOOST_REQUIRE(open.size() >= 3u);
  BOOST_TEST(open.at(0).at("id").as_string() == id);
  BOOST_TEST(std::string(open.at(0).at("text").as_string()).find("d***@ucc.example") != std::string::npos,
             open.at(0).at("text").as_string());
  // Acknowledged: gone from the open list, shown with the comment in the full one, and in the evidence.
  for (const auto& r : seen.at("open_after").as_array()) BOOST_TEST(r.at("id").as_string() != id);
  bool shown = false;
  for (const auto& r : seen.at("all_after").as_array()) {
    if (r.at("id").as_string() != id) continue;
    shown = true;
    BOOST_TEST(!r.at("open").as_bool());
    BOOST_TEST(std::string(r.at("text").as_string()).find("відповідь буде завтра") != std::string::npos);
  }
  BOOST_TEST(shown);
  BOOST_TEST(x.sql("SELECT acknowledged_by FROM alert WHERE id = " + id) == "admin:inbox-admin");
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'alert.ack'") == 1);
}

BOOST_AUTO_TEST_SUITE_END()
