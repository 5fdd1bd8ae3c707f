// The web console (issue 11) against a real gateway, PostgreSQL and RabbitMQ: its sessions over HTTP,
// and its users' tasks in Debian's Chromium driven by playwright-core (tests/browser/console.mjs), with
// the database behind it checked after each.
#define BOOST_TEST_MODULE integration_console
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <filesystem>

#include "gateway/crypto/otp.hpp"
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

// A person's account made as an administrator makes it (vkhid account add); returns its TOTP secret.
std::string addAccount(ExchangeHarness& x, const std::string& login, const std::string& role,
                       const std::string& password) {
  const std::string file = x.dir() + "/" + login + ".password";
  writeFile(file, password + "\n");
  const std::string out = x.runVkhid(
      {"account", "add", "--login", login, "--role", role, "--name", "Олена Петренко", "--password-file", file});
  const auto at = out.find("totp_secret: ");
  BOOST_REQUIRE(at != std::string::npos);
  return out.substr(at + 13, out.find('\n', at) - at - 13);
}

// The code an authenticator app shows now for a base32 secret.
std::string codeNow(const std::string& secret, std::chrono::seconds shift = 0s) {
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch() + shift);
  return vkhid::crypto::totp(vkhid::crypto::base32Decode(secret).value(), now.count());
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
  // A reader who opened twelve restricted cases today, as the access log has it, and one who opened two.
  x.sql(
      "INSERT INTO case_access (case_id, actor, what, restricted, reason) SELECT gen_random_uuid(), "
      "'admin:curious', 'view', true, 'r' FROM generate_series(1, 12) UNION ALL SELECT gen_random_uuid(), "
      "'admin:duty', 'view', true, 'r' FROM generate_series(1, 2) RETURNING 1");
  auto seen = browse(x, "audit", {{"token", auditor}});
  // The audit page lists the unusual reader, and only that one.
  const auto& unusual = seen.at("unusual_rows").as_array();
  BOOST_REQUIRE(unusual.size() == 1u);
  BOOST_TEST(unusual.at(0).as_array().at(0).as_string() == "admin:curious");
  BOOST_TEST(unusual.at(0).as_array().at(2).as_string() == "12");
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

  // With restricted access, the case opens once its reader says why (issue 29): the reason and the read
  // are in the case's access history, and in the evidence log.
  auto cleared_view = browse(x, "cases", {{"token", cleared}, {"case_id", hidden}, {"reason", "звернення поліції"}});
  BOOST_TEST(cleared_view.at("rows").as_array().size() == 2u);
  BOOST_TEST(cleared_view.at("asked_reason").as_bool());
  BOOST_TEST(std::string(cleared_view.at("case_heading").as_string()).starts_with("Справа УКЦ-"));
  const auto& access = cleared_view.at("access_rows").as_array();
  BOOST_REQUIRE(access.size() == 1u);
  BOOST_TEST(access.at(0).as_array().at(1).as_string() == "admin:lead");
  BOOST_TEST(access.at(0).as_array().at(2).as_string() == "перегляд");
  BOOST_TEST(access.at(0).as_array().at(3).as_string() == "звернення поліції");
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'case.read' AND actor = 'admin:lead' AND "
                     "subject = 'case:" +
                     hidden + " read:view restricted'") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM case_access WHERE actor = 'admin:ops'") == 0);  // it saw nothing
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

// A person signs in to the console in Chromium with their password and the code of their authenticator
// app (computed by the browser test with Node's HMAC, apart from the gateway's code); a wrong code is
// refused first. The console takes no bearer token for a person, while the same token still serves the
// API as a machine client. Each sign-in, failure and sign-out is in the evidence log.
BOOST_AUTO_TEST_CASE(privacy_console_signin_with_password_and_totp_in_chromium, *utf::timeout(300)) {
  ExchangeHarness x;
  x.setUp();
  const std::string password = "довгий пароль для входу 2026";
  const std::string secret = addAccount(x, "o.petrenko", "admin", password);
  BOOST_TEST(secret.size() == 32u);  // 160 bits
  // Stored as Argon2id, never as the password.
  BOOST_TEST(
      x.sql("SELECT password_hash FROM console_account WHERE client_id = 'o.petrenko'").starts_with("$argon2id$v=19$"));
  BOOST_TEST(x.count("SELECT count(*) FROM console_account WHERE password_hash LIKE '%пароль%'") == 0);
  const std::string machine = x.issueToken("ops-robot", "admin");
  // A colleague locked out after failed sign-ins, for the accounts page.
  addAccount(x, "i.locked", "auditor", "another long password 1");
  x.sql(
      "UPDATE console_account SET locked_until = now() + interval '15 minutes' WHERE client_id = 'i.locked' "
      "RETURNING 1");
  x.startGateway(0, {{"VKHID_ADMIN_CONSOLE_TOKENS", "false"}});

  const auto port = x.adminPort();
  auto post = [&](const std::string& body) {
    return httpRequest("POST", "127.0.0.1", port, "/console/session", {{"Content-Type", "application/json"}}, body);
  };
  auto by_token = post(R"({"token": ")" + machine + R"("})");
  BOOST_TEST(by_token.status == 401);
  BOOST_TEST(by_token.body.find("admin.console_tokens") != std::string::npos, by_token.body);
  BOOST_TEST(
      httpRequest("GET", "127.0.0.1", port, "/api/v1/admin/participants", {{"Authorization", "Bearer " + machine}}, "")
          .status == 200);

  auto seen = browse(
      x, "account", {{"login", "o.petrenko"}, {"password", password}, {"totp_secret", secret}, {"locked", "i.locked"}});
  // The accounts page lists both; the admin unlocked the colleague's, an act in the evidence log.
  BOOST_TEST(seen.at("accounts").as_array().size() == 2u);
  BOOST_TEST(seen.at("unlock_buttons_after").as_int64() == 0);
  BOOST_TEST(x.count("SELECT count(*) FROM console_account WHERE client_id = 'i.locked' AND locked_until IS NULL") ==
             1);
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'account.unlock' AND actor = 'admin:o.petrenko' "
                     "AND subject = 'client:i.locked'") == 1);
  BOOST_TEST(std::string(seen.at("wrong_code_message").as_string()).find("not accepted") != std::string::npos);
  BOOST_TEST(seen.at("form_after_wrong_code").as_bool());
  BOOST_TEST(!seen.at("header_before_signin").as_bool());
  BOOST_TEST(std::string(seen.at("who").as_string()).starts_with("o.petrenko · admin"), seen.at("who").as_string());
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'console.signin_failed' AND subject = "
                     "'client:o.petrenko failures:1'") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'console.signin' AND actor = "
                     "'admin:o.petrenko' AND subject = 'client:o.petrenko method:password+totp'") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'console.signout' AND actor = "
                     "'admin:o.petrenko'") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'account.create' AND subject = "
                     "'client:o.petrenko role:admin'") == 1);
  // A success clears the failure before it.
  BOOST_TEST(x.sql("SELECT failed_attempts FROM console_account WHERE client_id = 'o.petrenko'") == "0");
}

// Guessing is stopped: failed sign-ins in a row lock the account, whatever is sent then (the right
// password and code too), with an alert to the UCC, evidence entries and a metric; an administrator
// unlocks it. A code is taken once; an unknown login is refused in the same words; a session ends at its
// longest time however busy.
BOOST_AUTO_TEST_CASE(privacy_console_locks_an_account_after_failed_signins, *utf::timeout(300)) {
  ExchangeHarness x;
  x.setUp();
  const std::string password = "correct horse battery staple";
  const std::string secret = addAccount(x, "i.kovalenko", "auditor", password);
  x.startGateway(0, {{"VKHID_ADMIN_CONSOLE_TOKENS", "false"}, {"VKHID_ADMIN_SIGNIN_MAX_FAILURES", "3"}});
  const auto port = x.adminPort();
  auto signIn = [&](const std::string& login, const std::string& pass, const std::string& code) {
    json::object body{{"login", login}, {"password", pass}, {"code", code}};
    return httpRequest("POST", "127.0.0.1", port, "/console/session", {{"Content-Type", "application/json"}},
                       json::serialize(body));
  };
  // Wrong code, wrong password, unknown login: one refusal, in the same words.
  auto wrong_code = signIn("i.kovalenko", password, codeNow(secret, -300s));
  BOOST_TEST(wrong_code.status == 401);
  auto unknown = signIn("nobody", password, codeNow(secret));
  BOOST_TEST(unknown.status == 401);
  BOOST_TEST(jsonField(unknown.body, "detail") == jsonField(wrong_code.body, "detail"));
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'console.signin_failed' AND subject = "
                     "'login:unknown'") == 1);
  BOOST_TEST(signIn("i.kovalenko", password + "!", codeNow(secret)).status == 401);
  // The third failure in a row locks it.
  auto third = signIn("i.kovalenko", "", codeNow(secret));
  BOOST_TEST(third.status == 429);
  BOOST_TEST(!third.headers["retry-after"].empty());
  BOOST_TEST(third.body.find("vkhid account unlock") != std::string::npos, third.body);
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'console.locked' AND subject LIKE "
                     "'client:i.kovalenko until:%'") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM outbox_message WHERE routing_key = 'console.locked_out' AND message_id LIKE "
                     "'console.locked:i.kovalenko:%'") == 1);
  // Locked: the right password and code open nothing.
  BOOST_TEST(signIn("i.kovalenko", password, codeNow(secret)).status == 429);
  BOOST_TEST(x.count("SELECT count(*) FROM console_session") == 0);
  const std::string metrics = httpGet("127.0.0.1", port, "/metrics").body;
  BOOST_TEST(metrics.find("vkhid_console_signins_total{result=\"locked\"} 2") != std::string::npos);
  BOOST_TEST(metrics.find("vkhid_console_signins_total{result=\"failed\"} 3") != std::string::npos);

  // A participant body's staff member has an account too, and reads its body's reports, nothing else.
  const std::string staff_secret = [&] {
    writeFile(x.dir() + "/staff.password", "a participant's long password\n");
    const std::string out = x.runVkhid({"account", "add", "--login", "n.staff", "--role", "participant", "--org",
                                        x.org(), "--password-file", x.dir() + "/staff.password"});
    return out.substr(out.find("totp_secret: ") + 13, 32);
  }();
  auto staff = signIn("n.staff", "a participant's long password", codeNow(staff_secret));
  BOOST_REQUIRE(staff.status == 201);
  BOOST_TEST(jsonField(staff.body, "role") == "participant");
  BOOST_TEST(jsonField(staff.body, "org_id") == x.org());
  const std::string staff_cookie = staff.headers["set-cookie"].substr(0, staff.headers["set-cookie"].find(';'));
  BOOST_TEST(httpRequest("GET", "127.0.0.1", port, "/api/v1/admin/cases", {{"Cookie", staff_cookie}}, "").status ==
             403);

  // Unlocked by an administrator (an act in the evidence), the person signs in — once per code.
  x.runVkhid({"account", "unlock", "--login", "i.kovalenko"});
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'account.unlock'") == 1);
  const std::string code = codeNow(secret);
  auto in = signIn("i.kovalenko", password, code);
  BOOST_REQUIRE(in.status == 201);
  BOOST_TEST(jsonField(in.body, "role") == "auditor");
  BOOST_TEST(signIn("i.kovalenko", password, code).status == 401);  // spent
  const std::string cookie = in.headers["set-cookie"].substr(0, in.headers["set-cookie"].find(';'));
  BOOST_TEST(httpRequest("GET", "127.0.0.1", port, "/console/session", {{"Cookie", cookie}}, "").status == 200);
  // However busy, a session ends at its longest time.
  x.sql("UPDATE console_session SET ends_at = now() - interval '1 second' RETURNING 1");
  BOOST_TEST(httpRequest("GET", "127.0.0.1", port, "/console/session", {{"Cookie", cookie}}, "").status == 401);
  // The list an administrator reads: the account, unlocked, with its last sign-in.
  const std::string list = x.runVkhid({"account", "list"});
  BOOST_TEST(list.find("\"login\":\"i.kovalenko\"") != std::string::npos, list);
  BOOST_TEST(list.find("\"locked_until\":null") != std::string::npos, list);
}

// Who read what: the answer handed to a channel, a case page read through the API, the CLI's read — each
// recorded with who and why, in the case's access history and the evidence log; a restricted case is
// read only with a reason; and one reader opening many restricted cases on a day is reported.
BOOST_AUTO_TEST_CASE(privacy_read_access_is_logged_shown_and_reported, *utf::timeout(300)) {
  ExchangeHarness x;
  x.setUp();
  const std::string lead = x.issueToken("lead", "admin", true), duty = x.issueToken("duty", "auditor", true);
  const auto port = x.startGateway();
  x.startSimulator();
  auto created = x.submit("answered-1");
  BOOST_REQUIRE(created.status == 201);
  const std::string appeal = jsonField(created.body, "id");
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s));
  std::vector<std::string> restricted;
  for (int i = 0; i < 3; ++i) {
    auto r = httpRequest(
        "POST", "127.0.0.1", x.intakePort(), "/api/v1/cases",
        {{"Authorization", "Bearer " + x.token()},
         {"Content-Type", "application/json"},
         {"Idempotency-Key", "v-" + std::to_string(i)}},
        R"({"kind":"violence_report","applicant":{"anonymous":true},"text":"Повідомлення.","channel":"hotline"})");
    BOOST_REQUIRE_MESSAGE(r.status == 201, r.body);
    restricted.push_back(jsonField(r.body, "id"));
  }
  BOOST_TEST(x.count("SELECT count(*) FROM case_access") == 0);  // nothing read yet

  // The channel takes the answer: recorded as its read.
  auto answer = httpRequest("GET", "127.0.0.1", port, "/api/v1/cases/" + appeal + "/answer",
                            {{"Authorization", "Bearer " + x.token()}}, "");
  BOOST_REQUIRE(answer.status == 200);
  BOOST_TEST(x.count("SELECT count(*) FROM case_access WHERE case_id = '" + appeal +
                     "' AND what = 'answer' AND actor LIKE 'channel:%'") == 1);
  auto get = [&](const std::string& token, const std::string& target) {
    return httpRequest("GET", "127.0.0.1", x.adminPort(), target, {{"Authorization", "Bearer " + token}}, "");
  };
  // An ordinary case's page: recorded, no reason asked.
  BOOST_TEST(get(duty, "/api/v1/admin/cases/" + appeal).status == 200);
  BOOST_TEST(x.count("SELECT count(*) FROM case_access WHERE actor = 'auditor:duty' AND what = 'view' AND NOT "
                     "restricted") == 1);
  // Restricted: no reason, a bad one, or one too short is refused and recorded as nothing.
  BOOST_TEST(get(lead, "/api/v1/admin/cases/" + restricted[0]).status == 428);
  BOOST_TEST(get(lead, "/api/v1/admin/cases/" + restricted[0] + "?reason=%01%02%03").status == 422);
  BOOST_TEST(get(lead, "/api/v1/admin/cases/" + restricted[0] + "?reason=ok").status == 428);
  BOOST_TEST(x.count("SELECT count(*) FROM case_access WHERE restricted") == 0);
  for (const auto& id : restricted) {
    BOOST_TEST(get(lead, "/api/v1/admin/cases/" + id + "?reason=police+request+42").status == 200);
  }
  BOOST_TEST(get(duty, "/api/v1/admin/cases/" + restricted[0] + "?reason=spot+check").status == 200);
  // The CLI: a restricted case needs --reason too.
  auto bare = x.runVkhidStatus({"case", "show", restricted[1]});
  BOOST_TEST(bare.first != 0);
  BOOST_TEST(bare.second.find("--reason: why this restricted case is opened") != std::string::npos, bare.second);
  x.runVkhid({"case", "show", restricted[1], "--reason", "court order 7"});
  BOOST_TEST(x.count("SELECT count(*) FROM case_access WHERE what = 'cli' AND reason = 'court order 7' AND actor LIKE "
                     "'admin:cli:%'") == 1);

  // The case's access history, newest first, with reasons; in the evidence log as entries.
  auto history = json::parse(get(duty, "/api/v1/admin/cases/" + restricted[0] + "/access").body).as_array();
  BOOST_REQUIRE(history.size() == 2u);
  BOOST_TEST(history.at(0).at("actor").as_string() == "auditor:duty");
  BOOST_TEST(history.at(0).at("reason").as_string() == "spot check");
  BOOST_TEST(history.at(1).at("actor").as_string() == "admin:lead");
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'case.read'") ==
             x.count("SELECT count(*) FROM case_access"));
  BOOST_TEST(
      x.count("SELECT count(*) FROM audit_entry WHERE action = 'case.read' AND subject = 'case:" + restricted[2] +
              " read:view restricted' AND payload_sha256 = encode(sha256('police request "
              "42'::bytea), 'hex')") == 1);

  // Unusual access: "lead" opened three restricted cases today; "duty" one.
  auto unusual = json::parse(get(duty, "/api/v1/admin/access/unusual?days=1&min_cases=3").body).as_array();
  BOOST_REQUIRE(unusual.size() == 1u);
  BOOST_TEST(unusual.at(0).at("actor").as_string() == "admin:lead");
  BOOST_TEST(unusual.at(0).at("restricted_cases").as_int64() == 3);
}

// Tokens are for machine clients: one rotates with an overlap, so the client switches without a gap, and
// then without one; a person's account gets no token.
BOOST_AUTO_TEST_CASE(privacy_machine_token_rotates_with_an_overlap_and_persons_get_none) {
  ExchangeHarness x;
  x.setUp();
  const std::string first = x.issueToken("hotline", "channel");
  x.startGateway();
  auto status = [&](const std::string& token) {
    return httpRequest("GET", "127.0.0.1", x.intakePort(), "/api/v1/cases/00000000-0000-4000-8000-000000000000",
                       {{"Authorization", "Bearer " + token}}, "")
        .status;
  };
  BOOST_TEST(status(first) == 404);  // known: no such case
  auto rotated = x.runVkhid({"token", "rotate", "--client", "hotline", "--overlap-hours", "1"});
  const std::string second = rotated.substr(rotated.rfind("vkh_"), 44);
  BOOST_REQUIRE(second.starts_with("vkh_"));
  BOOST_TEST(status(second) == 404);
  BOOST_TEST(status(first) == 404);  // the overlap
  BOOST_TEST(x.sql("SELECT role FROM api_client WHERE id = 'hotline'") == "channel");
  // Its overlap over, the old token stops.
  x.sql("UPDATE api_client SET previous_expires_at = now() - interval '1 second' WHERE id = 'hotline' RETURNING 1");
  BOOST_TEST(status(first) == 401);
  // Rotated with no overlap: the one replaced stops at once.
  auto third = x.runVkhid({"token", "rotate", "--client", "hotline", "--overlap-hours", "0"});
  BOOST_TEST(status(third.substr(third.rfind("vkh_"), 44)) == 404);
  BOOST_TEST(status(second) == 401);
  BOOST_TEST(x.runVkhidStatus({"token", "rotate", "--client", "nobody"}).second.find("no machine client") !=
             std::string::npos);

  // A person's account: no token, whatever role is asked.
  addAccount(x, "o.petrenko", "admin", "довгий пароль для входу 2026");
  auto refused = x.runVkhidStatus({"token", "issue", "--client", "o.petrenko", "--role", "admin"});
  BOOST_TEST(refused.first != 0);
  BOOST_TEST(refused.second.find("is a person's account") != std::string::npos, refused.second);
  BOOST_TEST(x.count("SELECT count(*) FROM api_client WHERE id = 'o.petrenko' AND token_sha256 IS NOT NULL") == 0);
}

// The gateway runs the erasure itself (retention.interval_minutes), one gateway at a time: a case whose
// period has passed is erased soon after start, with nobody running a command.
BOOST_AUTO_TEST_CASE(privacy_retention_runs_inside_the_gateway, *utf::timeout(300)) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  x.startSimulator();
  BOOST_REQUIRE(x.submit("old-1").status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s));
  x.killGateway(0, SIGTERM);
  x.sql("UPDATE case_event SET at = at - interval '6 years' RETURNING 1");
  x.startGateway(0, {{"VKHID_RETENTION_INTERVAL_MINUTES", "1440"}});
  x.startGateway(1, {{"VKHID_RETENTION_INTERVAL_MINUTES", "1440"}});  // a second gateway: one erases
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE erased_at IS NOT NULL", 1, 60s));
  BOOST_TEST(x.count("SELECT count(*) FROM cases WHERE body ? 'text'") == 0);
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE octet_length(bytes) > 0 AND case_id IS NOT NULL") == 0);
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'erasure.case' AND subject LIKE "
                     "'% rule:retention:appeal:5y'") == 1);
}

// A flood of sign-in attempts from one address, whatever the logins, is refused before any password is
// checked: each costs an Argon2id hash, and none of the refused ones reaches the evidence log.
BOOST_AUTO_TEST_CASE(privacy_console_signin_attempts_are_limited_per_address) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway(0, {{"VKHID_ADMIN_CONSOLE_TOKENS", "false"}, {"VKHID_ADMIN_SIGNIN_PER_MINUTE", "5"}});
  auto attempt = [&](int i) {
    json::object body{{"login", "guess" + std::to_string(i)}, {"password", "p"}, {"code", "000000"}};
    return httpRequest("POST", "127.0.0.1", x.adminPort(), "/console/session", {{"Content-Type", "application/json"}},
                       json::serialize(body));
  };
  for (int i = 0; i < 5; ++i) BOOST_TEST(attempt(i).status == 401);
  auto limited = attempt(5);
  BOOST_TEST(limited.status == 429);
  BOOST_TEST(std::stoi(limited.headers["retry-after"]) >= 1);
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'console.signin_failed'") == 5);
}

// An account's bad input: each refusal names its field, and nothing is made.
BOOST_AUTO_TEST_CASE(privacy_console_account_refuses_bad_input) {
  ExchangeHarness x;
  x.setUp();
  writeFile(x.dir() + "/short", "short\n");
  writeFile(x.dir() + "/good", "a good long password\n");
  auto add = [&](const std::string& login, const std::string& role, const std::string& file) {
    return x.runVkhidStatus(
        {"account", "add", "--login", login, "--role", role, "--password-file", x.dir() + "/" + file});
  };
  auto short_password = add("p.short", "admin", "short");
  BOOST_TEST(short_password.first != 0);
  BOOST_TEST(short_password.second.find("password: 12-256 characters") != std::string::npos);
  auto bad_login = add("Bad Login", "admin", "good");
  BOOST_TEST(bad_login.second.find("login: 3-64 of a-z") != std::string::npos);
  auto bad_role = add("p.channel", "channel", "good");
  BOOST_TEST(bad_role.second.find("role: admin, auditor or participant") != std::string::npos);
  auto no_org = add("p.staff", "participant", "good");
  BOOST_TEST(no_org.second.find("org: a participant's staff account names its body") != std::string::npos);
  x.issueToken("ucc-web");  // a channel's client id is taken
  auto taken = add("ucc-web", "admin", "good");
  BOOST_TEST(taken.second.find("is a client's id already") != std::string::npos);
  BOOST_TEST(x.count("SELECT count(*) FROM console_account") == 0);
  BOOST_TEST(x.sql("SELECT role FROM api_client WHERE id = 'ucc-web'") == "channel");
}

BOOST_AUTO_TEST_SUITE_END()
