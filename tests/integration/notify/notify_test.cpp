// Notices reach people (issue 27), seen from where they land: the mailbox of a real mail server (Exim,
// started privately by scripts/services for each test, with STARTTLS and authentication) and the record
// of `vkhid sim sms`, an SMS provider's API. Real gateway, database, broker and participant simulators.
#define BOOST_TEST_MODULE integration_notify
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "gateway/domain/base64.hpp"
#include "tests/support/exchange_harness.hpp"
#include "tests/support/pki.hpp"

using namespace vkhid::testing;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;
namespace json = boost::json;

namespace {

constexpr const char* kForty = "3456000";  // 40 days, in seconds

// A private Exim for one test: its own folder, port and mailbox (one mbox file for every recipient).
struct PrivateSmtp {
  std::string var;
  unsigned short port;
  explicit PrivateSmtp(const std::string& dir) : var(dir + "/smtp-var"), port(freePort()) {
    BOOST_REQUIRE_MESSAGE(run("start smtp") == 0, "scripts/services start smtp failed");
  }
  ~PrivateSmtp() { run("stop smtp"); }
  int run(const std::string& args) const {
    std::string cmd = "VKHID_VAR=" + var + " VKHID_SMTP_PORT=" + std::to_string(port) + " " + sourceDir() +
                      "/scripts/services " + args + " >/dev/null 2>&1";
    int rc = std::system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }
  std::string smtpDir() const { return std::filesystem::canonical(var + "/smtp").string(); }
  std::map<std::string, std::string> env() const {
    return {{"VKHID_NOTIFY_SMTP_URL", "smtp://127.0.0.1:" + std::to_string(port)},
            {"VKHID_NOTIFY_SMTP_USER", "vkhid"},
            {"VKHID_NOTIFY_SMTP_PASSWORD_FILE", smtpDir() + "/password"},
            {"VKHID_NOTIFY_SMTP_CA_FILE", smtpDir() + "/tls/cert.pem"}};
  }
  std::string mailbox() const {
    std::ifstream in(smtpDir() + "/mail/mbox", std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // True once everything the server accepted is in the mailbox: its spool's input folder is empty. Exim
  // delivers after it accepts, and a delivery that finds the mailbox locked by another waits and tries again
  // (seconds, under load), so a count of the mailbox is honest only after this.
  bool delivered(std::chrono::seconds within = std::chrono::seconds(60)) const {
    return eventually(
        [&] {
          const auto input = std::filesystem::path(smtpDir()) / "spool" / "input";
          if (!std::filesystem::exists(input)) return true;
          for (const auto& e : std::filesystem::recursive_directory_iterator(input)) {
            if (e.is_regular_file()) return false;
          }
          return true;
        },
        within);
  }
  // The messages delivered to `address` (by their Envelope-to line).
  std::vector<std::string> messagesTo(const std::string& address) const {
    std::vector<std::string> out;
    const std::string box = mailbox();
    std::size_t at = 0;
    while ((at = box.find("From ", at)) != std::string::npos) {
      if (at != 0 && box[at - 1] != '\n') {
        ++at;
        continue;
      }
      std::size_t next = box.find("\nFrom ", at + 1);
      std::string message = box.substr(at, next == std::string::npos ? std::string::npos : next + 1 - at);
      if (message.find("Envelope-to: " + address + "\n") != std::string::npos) out.push_back(message);
      if (next == std::string::npos) break;
      at = next + 1;
    }
    return out;
  }
};

std::string withContact(const std::string& escalation, const std::string& other) {
  return "[[contact]]\nname = \"Оксана Черговa\"\nemail = \"" + escalation +
         "\"\nrole = \"escalation\"\n[[contact]]\nname = \"Іван Технік\"\nemail = \"" + other +
         "\"\nrole = \"technical\"\n";
}

std::string rotaFile(ExchangeHarness& x, const std::vector<std::string>& emails) {
  std::string toml;
  for (std::size_t i = 0; i < emails.size(); ++i) {
    toml += "[[duty]]\nname = \"Duty " + std::to_string(i + 1) + "\"\nemail = \"" + emails[i] +
            "\"\ndays = \"all\"\nhours = \"00:00-24:00\"\nrestricted = true\n";
  }
  const std::string path = x.dir() + "/rota.toml";
  writeFile(path, toml);
  return path;
}

std::map<std::string, std::string> notifyEnv(std::map<std::string, std::string> env) {
  env["VKHID_NOTIFY_ENABLED"] = "true";
  env["VKHID_NOTIFY_SEND_INTERVAL_MS"] = "100";
  env["VKHID_NOTIFY_RETRY_DELAYS"] = "1s,1s,1s,2s,2s,2s,3s,3s,3s,3s,3s,3s,3s,3s";
  env["VKHID_NOTIFY_QUIET_HOURS"] = "";
  env["VKHID_NOTIFY_TRACKING_URL"] = "https://vkhid.test/track/";
  env["VKHID_NOTIFY_CONSOLE_URL"] = "https://vkhid.test/console/";
  return env;
}

std::string caseWithConsent(const std::string& notify, const std::string& email, const std::string& phone) {
  static int n = 0;
  const int seq = ++n;
  return exampleCaseWith([&](json::object& o) {
    // Texts of their own: not a mass appeal.
    o["text"] = "Прошу пояснити порядок нарахування субсидії, звернення номер " + std::to_string(seq) + ".";
    auto& a = o["applicant"].as_object();
    if (email.empty()) {
      a.erase("email");
    } else {
      a["email"] = email;
    }
    if (phone.empty()) {
      a.erase("phone");
    } else {
      a["phone"] = phone;
    }
    o["consent"].as_object()["notify"] = notify;
  });
}

// A message's Subject, decoded (RFC 2047, as the mailer encodes UTF-8).
std::string subjectOf(const std::string& message) {
  auto at = message.find("\nSubject: ");
  if (at == std::string::npos) return {};
  at += 10;
  std::string line = message.substr(at, message.find('\n', at) - at);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.starts_with("=?UTF-8?B?") && line.ends_with("?=")) {
    return vkhid::base64Decode(line.substr(10, line.size() - 12)).value_or("");
  }
  return line;
}

std::string allLogs(const std::string& dir) {
  std::string logs;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".log") logs += readFile(e.path().string());
  }
  return logs;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(notify, *utf::precondition(servicesAreOurs))

BOOST_AUTO_TEST_CASE(notify_overdue_emails_the_escalation_contact_and_the_duty_officer, *utf::timeout(300)) {
  ExchangeHarness x;
  const std::string escalation = "escalation-" + x.org() + "@body.example";
  const std::string technical = "tech-" + x.org() + "@body.example";
  const std::string duty1 = "duty1-" + x.org() + "@ucc.example", duty2 = "duty2-" + x.org() + "@ucc.example";
  x.setUp("", withContact(escalation, technical));
  PrivateSmtp smtp(x.dir());
  auto env = notifyEnv(smtp.env());
  env["VKHID_NOTIFY_ROTA_FILE"] = rotaFile(x, {duty1, duty2});
  x.startGateway(0, env);
  x.startSimulator({"--no-answer"});
  const std::string applicant = "applicant-" + x.org() + "@mail.example";
  BOOST_REQUIRE(x.submitJson(caseWithConsent("none", applicant, ""), "o1").status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'registered_by_participant'", 1, 60s));
  // Forty days later nobody has answered.
  x.killGateway(0, SIGTERM);
  env["VKHID_DEADLINES_CLOCK_OFFSET_S"] = kForty;
  x.startGateway(0, env);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM alert WHERE kind = 'deadline.overdue'", 1, 60s));
  // The terms' warnings came before it, each an e-mail too; the overdue one says what is wrong and what to do.
  const std::string ucc = x.sql("SELECT ucc_number FROM cases");
  auto containing = [&](const std::string& address, const std::string& text) {
    std::vector<std::string> out;
    for (auto& m : smtp.messagesTo(address)) {
      if (m.find(text) != std::string::npos) out.push_back(m);
    }
    return out;
  };
  const std::string overdue_uk = "Строк розгляду звернення " + ucc + " минув";
  const std::string overdue_en = "the answer to case " + ucc + " is overdue";
  BOOST_REQUIRE(eventually(
      [&] { return containing(escalation, overdue_uk).size() == 1 && containing(duty1, overdue_en).size() == 1; },
      60s));
  const auto to_body = containing(escalation, overdue_uk).front();
  BOOST_TEST(to_body.find("Що зробити") != std::string::npos);
  BOOST_TEST(to_body.find("https://vkhid.test/console/") != std::string::npos);
  BOOST_TEST(subjectOf(to_body) == "Вхід: строк розгляду минув — " + ucc);
  const auto to_duty = containing(duty1, overdue_en).front();
  BOOST_TEST(to_duty.find("What to do") != std::string::npos);
  BOOST_TEST(subjectOf(to_duty) == "[Vkhid URGENT] deadline.overdue, case " + ucc + ", participant " + x.org());
  // Delivered through STARTTLS with authentication (Exim's own record of each).
  const std::string mainlog = readFile(smtp.smtpDir() + "/log/mainlog");
  BOOST_TEST(mainlog.find("P=esmtpsa X=TLS") != std::string::npos, mainlog);
  BOOST_TEST(mainlog.find("A=plain:vkhid") != std::string::npos);
  // Nobody else: not the technical contact (terms are the escalation contact's), not the applicant
  // (no consent), not the second officer yet.
  BOOST_TEST(containing(technical, ucc).empty());
  BOOST_TEST(smtp.messagesTo(applicant).empty());
  BOOST_TEST(smtp.messagesTo(duty2).empty());
  // Forty days on, a month has ended: each contact gets the body's monthly report (issue 30).
  const std::string report = "Звіт про звернення, які Ваш орган отримав";
  BOOST_TEST(eventually(
      [&] { return containing(technical, report).size() == 1 && containing(escalation, report).size() == 1; }, 30s));
  // The record keeps the masked recipient only.
  BOOST_TEST(x.count("SELECT count(*) FROM notice WHERE status = 'sent' AND (address IS NOT NULL OR data IS NOT "
                     "NULL)") == 0);
  BOOST_TEST(x.sql("SELECT recipient_masked FROM notice WHERE event_kind = 'deadline.overdue' AND audience = "
                   "'participant'") == "e***@body.example");

  // Nobody acknowledges: the next officer on the rota is told (the alert's time moved on).
  x.sql("UPDATE alert SET renotify_at = now() WHERE kind = 'deadline.overdue'");
  BOOST_REQUIRE(eventually([&] { return containing(duty2, overdue_en).size() == 1; }, 30s));
  BOOST_TEST(containing(duty2, overdue_en).front().find("you are the next on the rota") != std::string::npos);

  // Acknowledged in the inbox: evidence, and no one else is told.
  const std::string admin = x.issueToken("admin-" + x.org(), "admin");
  const std::string id = x.sql("SELECT id FROM alert WHERE kind = 'deadline.overdue'");
  auto ack = httpRequest("POST", "127.0.0.1", x.adminPort(), "/api/v1/admin/alerts/" + id + "/ack",
                         {{"Authorization", "Bearer " + admin}, {"Content-Type", "application/json"}},
                         R"({"comment":"Called the body; the answer comes tomorrow."})");
  BOOST_TEST(ack.status == 200, ack.body);
  auto again = httpRequest("POST", "127.0.0.1", x.adminPort(), "/api/v1/admin/alerts/" + id + "/ack",
                           {{"Authorization", "Bearer " + admin}, {"Content-Type", "application/json"}},
                           R"({"comment":"again"})");
  BOOST_TEST(again.status == 409);
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'alert.ack' AND subject LIKE 'alert:" + id +
                     " %'") == 1);
  BOOST_TEST(x.sql("SELECT renotify_at IS NULL FROM alert WHERE id = " + id) == "t");
  auto inbox = httpRequest("GET", "127.0.0.1", x.adminPort(), "/api/v1/admin/alerts",
                           {{"Authorization", "Bearer " + admin}}, "");
  BOOST_REQUIRE(inbox.status == 200);
  auto list = json::parse(inbox.body).as_array();
  bool found = false;
  for (const auto& a : list) {
    if (json::serialize(a.at("id")) != id) continue;
    found = true;
    BOOST_TEST(a.at("open").as_bool() == false);
    BOOST_TEST(a.at("ucc_number").as_string() == ucc);
    BOOST_TEST(a.at("notices").as_array().size() == 3);  // the contact, the first officer, the next
  }
  BOOST_TEST(found);
  // No address in any log of the gateway.
  const std::string logs = allLogs(x.dir());
  for (const auto& a : {escalation, duty1, duty2, applicant}) BOOST_TEST(logs.find(a) == std::string::npos, a);
}

BOOST_AUTO_TEST_CASE(notify_applicant_sms_at_registration_and_closing_only_with_consent, *utf::timeout(300)) {
  ExchangeHarness x;
  x.setUp();
  const std::string record = x.dir() + "/sms.jsonl";
  writeFile(x.dir() + "/sms-token", "sms-secret-token\n");
  const unsigned short sms_port = freePort();
  // The provider fails its first two requests: retried, each SMS still arrives once.
  ChildProcess sms(std::vector<std::string>{binaryPath(), "sim", "sms", "--listen",
                                            "127.0.0.1:" + std::to_string(sms_port), "--record", record, "--token",
                                            "sms-secret-token", "--tls-cert", pkiDir() + "/gateway-tls.pem",
                                            "--tls-key", pkiDir() + "/gateway-tls.key", "--fail-first", "2"},
                   std::map<std::string, std::string>{}, x.dir() + "/sim-sms.log");
  BOOST_REQUIRE(eventually([&] { return portOpen(sms_port); }, 10s));
  auto env = notifyEnv({});
  env["VKHID_NOTIFY_SMS_URL"] = "https://127.0.0.1:" + std::to_string(sms_port) + "/api/message/send.json";
  env["VKHID_NOTIFY_SMS_TOKEN_FILE"] = x.dir() + "/sms-token";
  env["VKHID_NOTIFY_SMS_CA_FILE"] = pkiDir() + "/ca.pem";
  x.startGateway(0, env);
  x.startSimulator();  // registers and answers

  // A malformed number is refused at intake, naming the field, and nothing is kept.
  auto bad = x.submitJson(caseWithConsent("sms", "", "050-ABC-45-67"), "bad");
  BOOST_TEST(bad.status == 422);
  BOOST_TEST(bad.body.find("/applicant/phone") != std::string::npos, bad.body);
  auto missing = x.submitJson(caseWithConsent("sms", "", ""), "missing");
  BOOST_TEST(missing.status == 422);
  BOOST_TEST(missing.body.find("/applicant/phone") != std::string::npos, missing.body);
  BOOST_TEST(x.count("SELECT count(*) FROM cases") == 0);

  BOOST_REQUIRE(x.submitJson(caseWithConsent("sms", "", "(050) 123-45-67"), "with").status == 201);
  BOOST_REQUIRE(x.submitJson(caseWithConsent("none", "", "+380 67 765 43 21"), "without").status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 2, 90s));
  BOOST_REQUIRE(eventually([&] { return x.count("SELECT count(*) FROM notice WHERE status = 'sent'") == 2; }, 60s));
  std::this_thread::sleep_for(1s);  // anything more would have come by now
  std::vector<json::object> sent;
  std::istringstream lines(readFile(record));
  for (std::string line; std::getline(lines, line);) sent.push_back(json::parse(line).as_object());
  BOOST_REQUIRE_EQUAL(sent.size(), 2u);
  const std::string ucc = x.sql("SELECT ucc_number FROM cases WHERE body->'consent'->>'notify' = 'sms'");
  const std::string code = x.sql("SELECT tracking_code FROM cases WHERE body->'consent'->>'notify' = 'sms'");
  for (const auto& s : sent) {
    BOOST_TEST(s.at("recipients").as_array().at(0).as_string() == "380501234567");
    const std::string text(s.at("sms").as_object().at("text").as_string());
    BOOST_TEST(text.find(ucc) != std::string::npos, text);
    BOOST_TEST(text.find("https://vkhid.test/track/" + code) != std::string::npos, text);
  }
  // One at registration and one at the answer (in either order: the first waited out the failures).
  const std::string both = std::string(sent[0].at("sms").as_object().at("text").as_string()) + "|" +
                           std::string(sent[1].at("sms").as_object().at("text").as_string());
  BOOST_TEST(both.find("зареєстровано") != std::string::npos, both);
  BOOST_TEST(both.find("надано відповідь") != std::string::npos, both);
  // Never the appeal's text.
  const auto submitted = boost::json::parse(caseWithConsent("sms", "", "(050) 123-45-67"));
  const std::string appeal_text(submitted.at("text").as_string());
  BOOST_REQUIRE(appeal_text.size() > 40);
  BOOST_TEST(readFile(record).find(appeal_text.substr(0, 40)) == std::string::npos);
  BOOST_TEST(x.count("SELECT count(*) FROM notice WHERE recipient_masked = '+38050*****67'") == 2);
  BOOST_TEST(x.count("SELECT count(*) FROM notice WHERE attempts > 1") >= 1);  // the provider's two failures
  const std::string logs = allLogs(x.dir());
  BOOST_TEST(logs.find("501234567") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(notify_sms_waits_out_quiet_hours_except_for_violence_reports, *utf::timeout(300)) {
  ExchangeHarness x;
  x.setUp();
  const std::string record = x.dir() + "/sms.jsonl";
  const unsigned short sms_port = freePort();
  ChildProcess sms(std::vector<std::string>{binaryPath(), "sim", "sms", "--listen",
                                            "127.0.0.1:" + std::to_string(sms_port), "--record", record},
                   std::map<std::string, std::string>{}, x.dir() + "/sim-sms.log");
  BOOST_REQUIRE(eventually([&] { return portOpen(sms_port); }, 10s));
  auto env = notifyEnv({});
  env["VKHID_NOTIFY_SMS_URL"] = "http://127.0.0.1:" + std::to_string(sms_port) + "/send";
  // Quiet hours around now, Kyiv time.
  const std::string from = x.sql("SELECT to_char((now() - interval '1 hour') AT TIME ZONE 'Europe/Kyiv', 'HH24:MI')");
  const std::string to = x.sql("SELECT to_char((now() + interval '2 hours') AT TIME ZONE 'Europe/Kyiv', 'HH24:MI')");
  env["VKHID_NOTIFY_QUIET_HOURS"] = from + "-" + to;
  x.startGateway(0, env);
  x.startSimulator({"--no-answer"});
  BOOST_REQUIRE(x.submitJson(caseWithConsent("sms", "", "0501112233"), "appeal").status == 201);
  const std::string violence = exampleCaseWith([](json::object& o) {
    o["kind"] = "violence_report";
    o["urgency"] = "urgent";
    o["channel"] = "hotline";
    o.erase("addressee_org_id");
    o["classification"].as_object().erase("type");
    o["applicant"].as_object()["phone"] = "0504445566";
    o["consent"].as_object()["notify"] = "sms";
  });
  BOOST_REQUIRE(x.submitJson(violence, "violence").status == 201);
  BOOST_REQUIRE(eventually([&] { return x.count("SELECT count(*) FROM notice WHERE status = 'sent'") == 1; }, 60s));
  std::this_thread::sleep_for(2s);
  const std::string sent = readFile(record);
  BOOST_TEST(sent.find("380504445566") != std::string::npos);  // the violence report's, at once
  BOOST_TEST(sent.find("380501112233") == std::string::npos);  // the appeal's waits
  BOOST_TEST(x.count("SELECT count(*) FROM notice WHERE status = 'pending' AND not_before > now() + interval "
                     "'100 minutes'") == 1);
}

BOOST_AUTO_TEST_CASE(notify_smtp_stopped_and_restarted_loses_and_repeats_nothing, *utf::timeout(400)) {
  ExchangeHarness x;
  x.setUp();
  PrivateSmtp smtp(x.dir());
  x.startGateway(0, notifyEnv(smtp.env()));
  x.startSimulator({"--no-answer"});
  auto address = [&](int i) { return "a" + std::to_string(i) + "-" + x.org() + "@mail.example"; };
  for (int i = 0; i < 4; ++i) {
    BOOST_REQUIRE(x.submitJson(caseWithConsent("email", address(i), ""), "s" + std::to_string(i)).status == 201);
  }
  BOOST_REQUIRE(eventually([&] { return x.count("SELECT count(*) FROM notice WHERE status = 'sent'") == 4; }, 60s));
  // The server's own delivery of what it accepted ends before it is stopped: an Exim stopped between
  // writing a message to the mailbox and removing it from its spool delivers it again when it starts
  // (its at-least-once, not ours). Done: each in the mailbox, and the spool's input folder empty.
  BOOST_REQUIRE(smtp.delivered());
  for (int i = 0; i < 4; ++i) BOOST_REQUIRE_EQUAL(smtp.messagesTo(address(i)).size(), 1u);
  BOOST_REQUIRE(smtp.run("stop smtp") == 0);
  for (int i = 4; i < 8; ++i) {
    BOOST_REQUIRE(x.submitJson(caseWithConsent("email", address(i), ""), "s" + std::to_string(i)).status == 201);
  }
  // They wait, and are tried again while the server is away.
  BOOST_REQUIRE(eventually(
      [&] { return x.count("SELECT count(*) FROM notice WHERE status = 'pending' AND attempts >= 2") == 4; }, 60s));
  BOOST_TEST(x.count("SELECT count(*) FROM notice WHERE status = 'failed'") == 0);
  BOOST_REQUIRE(smtp.run("start smtp") == 0);
  BOOST_REQUIRE(eventually([&] { return x.count("SELECT count(*) FROM notice WHERE status = 'sent'") == 8; }, 90s));
  std::this_thread::sleep_for(2s);  // a notice sent twice would be sent by now
  BOOST_REQUIRE(smtp.delivered());
  for (int i = 0; i < 8; ++i) {
    auto got = smtp.messagesTo(address(i));
    BOOST_TEST(got.size() == 1u, address(i) << ": " << got.size());
    if (!got.empty()) BOOST_TEST(got.front().find("зареєстровано") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(notify_two_gateways_send_each_notice_once, *utf::timeout(400)) {
  ExchangeHarness x;
  x.setUp();
  PrivateSmtp smtp(x.dir());
  x.startGateway(0, notifyEnv(smtp.env()));
  x.startGateway(1, notifyEnv(smtp.env()));
  x.startSimulator({"--no-answer"});
  constexpr int kCases = 16;
  auto address = [&](int i) { return "t" + std::to_string(i) + "-" + x.org() + "@mail.example"; };
  for (int i = 0; i < kCases; ++i) {
    BOOST_REQUIRE(x.submitJson(caseWithConsent("email", address(i), ""), "g" + std::to_string(i), i % 2).status == 201);
  }
  BOOST_REQUIRE(
      eventually([&] { return x.count("SELECT count(*) FROM notice WHERE status = 'sent'") == kCases; }, 90s));
  std::this_thread::sleep_for(3s);  // a notice sent by both would be sent by now
  // Counted once the server has put what it accepted in the mailbox (CI's run once counted before it had).
  BOOST_REQUIRE(smtp.delivered());
  for (int i = 0; i < kCases; ++i) {
    const auto got = smtp.messagesTo(address(i)).size();
    BOOST_TEST(got == 1u, address(i) << ": " << got << " messages");
  }
  BOOST_TEST(x.count("SELECT count(*) FROM notice") == kCases);  // planned once each, by whichever consumed it
}

BOOST_AUTO_TEST_CASE(notify_sms_provider_failing_fails_the_notice_with_an_alert, *utf::timeout(300)) {
  ExchangeHarness x;
  x.setUp();
  const unsigned short sms_port = freePort();
  ChildProcess sms(
      std::vector<std::string>{binaryPath(), "sim", "sms", "--listen", "127.0.0.1:" + std::to_string(sms_port),
                               "--record", x.dir() + "/sms.jsonl", "--fail-first", "1000"},
      std::map<std::string, std::string>{}, x.dir() + "/sim-sms.log");
  BOOST_REQUIRE(eventually([&] { return portOpen(sms_port); }, 10s));
  auto env = notifyEnv({});
  env["VKHID_NOTIFY_SMS_URL"] = "http://127.0.0.1:" + std::to_string(sms_port) + "/send";
  env["VKHID_NOTIFY_RETRY_DELAYS"] = "1s,1s";
  x.startGateway(0, env);
  x.startSimulator({"--no-answer"});
  BOOST_REQUIRE(x.submitJson(caseWithConsent("sms", "", "0509998877"), "failing").status == 201);
  // Tried three times (the first and two retries), then failed for good, recorded and alerted.
  BOOST_REQUIRE(eventually([&] { return x.count("SELECT count(*) FROM notice WHERE status = 'failed'") == 1; }, 60s));
  BOOST_TEST(x.sql("SELECT attempts FROM notice") == "3");
  BOOST_TEST(x.sql("SELECT address IS NULL AND data IS NULL FROM notice") == "t");
  BOOST_TEST(x.sql("SELECT last_error FROM notice").find("500") != std::string::npos);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM alert WHERE kind = 'notify.failed'", 1, 30s));
  const std::string detail = x.sql("SELECT detail::text FROM alert WHERE kind = 'notify.failed'");
  BOOST_TEST(detail.find("+38050*****77") != std::string::npos, detail);
  BOOST_TEST(detail.find("509998877") == std::string::npos);  // masked, never the number
  const std::string metrics = httpGet("127.0.0.1", x.adminPort(), "/metrics").body;
  BOOST_TEST(metrics.find("vkhid_notices_total{channel=\"sms\",outcome=\"failed\"} 1") != std::string::npos);
  BOOST_TEST(metrics.find("vkhid_notices_total{channel=\"sms\",outcome=\"retried\"} 2") != std::string::npos);
  BOOST_TEST(metrics.find("vkhid_alert_oldest_unacknowledged_seconds") != std::string::npos);
  BOOST_TEST(!std::filesystem::exists(x.dir() + "/sms.jsonl"));  // the provider took nothing
}

BOOST_AUTO_TEST_SUITE_END()
