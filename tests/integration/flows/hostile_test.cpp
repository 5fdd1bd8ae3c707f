// The gateway as an attacker met it (issue 21): what a registered participant, a channel client or a
// page in a browser can send, over the real listeners, and what the gateway must do. Raw sockets where
// the attack is in the framing itself.
#define BOOST_TEST_MODULE integration_hostile
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <thread>

#include "gateway/flows/exchange_store.hpp"
#include "tests/support/exchange_harness.hpp"
#include "tests/support/participant_peer.hpp"
#include "tests/support/pki.hpp"

using namespace vkhid;
using namespace vkhid::testing;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;
namespace json = boost::json;

namespace {

// A TCP connection to 127.0.0.1:port for bytes written by hand.
class Raw {
 public:
  explicit Raw(unsigned short port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("connect");
  }
  ~Raw() { ::close(fd_); }
  void send(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      auto n = ::write(fd_, bytes.data() + sent, bytes.size() - sent);
      if (n <= 0) return;  // the server closed: what it answered is still there to read
      sent += static_cast<std::size_t>(n);
    }
  }
  // Everything the server sends until it closes the connection, or `timeout` passes.
  std::string readAll(std::chrono::milliseconds timeout, bool* closed = nullptr) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[8192];
      auto n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) {
        if (closed) *closed = true;
        return out;
      }
      out.append(buf, static_cast<std::size_t>(n));
    }
    if (closed) *closed = false;
    return out;
  }

 private:
  int fd_ = -1;
};

int countOf(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

std::string caseJson(const std::string& surname, const std::string& extra = "") {
  return R"({"kind":"appeal","applicant":{"surname":")" + surname +
         R"(","first_name":"Олена"},"text":"Текст звернення.","channel":"web")" + extra + "}";
}

HttpReply post(ExchangeHarness& x, const std::string& body, std::map<std::string, std::string> headers = {}) {
  headers.emplace("Authorization", "Bearer " + x.token());
  headers.emplace("Content-Type", "application/json");
  return httpRequest("POST", "127.0.0.1", x.intakePort(), "/api/v1/cases", headers, body);
}

std::string gatewayLogs(ExchangeHarness& x) {
  std::string all;
  for (const auto& f : std::filesystem::directory_iterator(x.dir())) {
    if (f.path().filename().string().starts_with("gateway-")) all += readFile(f.path().string());
  }
  return all;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(hostile, *utf::precondition(servicesAreOurs))

BOOST_AUTO_TEST_CASE(hostile_attribute_bomb_over_the_broker_is_refused_at_once_and_holds_back_no_one) {
  // A registered participant sends a 1 MB package whose one element has 100,000 attributes; another
  // participant's appeal is under way meanwhile.
  ExchangeHarness x;
  x.setUp();
  int other = x.addParticipant();
  x.runVkhid({"route", "add", "--target", x.org(other), "--addressee", x.org(other), "--priority", "1"});
  x.startGateway();
  x.startSimulator({}, other);
  ParticipantPeer attacker(x);
  std::string bomb = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Header standart=\"1207\"";
  for (int i = 0; i < 100000; ++i) bomb += " a" + std::to_string(i) + "=\"x\"";
  bomb += "/>";
  auto t0 = std::chrono::steady_clock::now();
  attacker.sendBytes(bomb, "bomb-1");
  BOOST_REQUIRE(x.submitTo(other, "unrelated").status == 201);
  BOOST_TEST(x.waitFor("SELECT count(*) FROM message WHERE direction = 'in' AND error_code = 107", 1, 20s));
  BOOST_TEST(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 20s));
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 20s));
}

BOOST_AUTO_TEST_CASE(hostile_restricted_case_is_hidden_from_every_view_without_restricted_access) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  x.startSimulator();
  auto r =
      post(x, R"({"kind":"violence_report","applicant":{"anonymous":true},"text":"Повідомлення.","channel":"hotline"})",
           {{"Idempotency-Key", "v1"}});
  BOOST_REQUIRE(r.status == 201);
  const std::string id = jsonField(r.body, "id");
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 30s));
  const std::string plain = x.issueToken("plain", "admin");
  const std::string cleared = x.issueToken("cleared", "admin", true);
  auto get = [&](const std::string& token, const std::string& target) {
    return httpRequest("GET", "127.0.0.1", x.adminPort(), target, {{"Authorization", "Bearer " + token}}, "");
  };
  for (const char* view : {"/api/v1/admin/cases", "/api/v1/admin/deliveries", "/api/v1/admin/audit?limit=500"}) {
    auto seen = get(plain, view);
    BOOST_TEST(seen.status == 200, view);
    BOOST_TEST(seen.body.find(id) == std::string::npos, view);
  }
  BOOST_TEST(get(plain, "/api/v1/admin/cases/" + id).status == 404);
  BOOST_TEST(httpRequest("POST", "127.0.0.1", x.adminPort(), "/api/v1/admin/audit/exports",
                         {{"Authorization", "Bearer " + plain}, {"Content-Type", "application/json"}}, "{}")
                 .status == 403);
  // With restricted access, the same views show it.
  BOOST_TEST(get(cleared, "/api/v1/admin/audit?limit=500").body.find(id) != std::string::npos);
  // A restricted case is opened with a reason only (issue 29), and the read is recorded.
  BOOST_TEST(get(cleared, "/api/v1/admin/cases/" + id).status == 428);
  BOOST_TEST(
      get(cleared, "/api/v1/admin/cases/" + id + "?reason=%D0%BF%D0%B5%D1%80%D0%B5%D0%B2%D1%96%D1%80%D0%BA%D0%B0")
          .status == 200);
  BOOST_TEST(x.count("SELECT count(*) FROM case_access WHERE reason = 'перевірка' AND restricted") == 1);
}

BOOST_AUTO_TEST_CASE(hostile_nul_and_invalid_utf8_are_refused_naming_the_field_and_never_logged) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  auto nul = post(x, caseJson("Зловмисник\\u0000Прізвище"), {{"Idempotency-Key", "n1"}});
  BOOST_TEST(nul.status == 422, nul.body);
  BOOST_TEST(nul.body.find("/applicant/surname") != std::string::npos, nul.body);
  auto key = post(x, caseJson("Коваль"), {{"Idempotency-Key", std::string("k\xff\xfe")}});
  BOOST_TEST(key.status == 422, key.body);
  BOOST_TEST(key.body.find("Idempotency-Key") != std::string::npos, key.body);
  BOOST_TEST(x.count("SELECT count(*) FROM cases") == 0);
  // Nothing of what was refused reached the log.
  BOOST_TEST(gatewayLogs(x).find("Зловмисник") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(hostile_transfer_encoding_smuggling_is_refused_and_the_connection_closed) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  const std::string smuggled = "GET /api/v1/track/0000-0000-0000-0000 HTTP/1.1\r\nHost: x\r\n\r\n";
  for (const char* te : {"xchunked", "identity", "chunked, gzip", "gzip, chunked\r\nTransfer-Encoding: chunked"}) {
    Raw c(x.intakePort());
    c.send("POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + x.token() +
           "\r\nContent-Type: application/json\r\nTransfer-Encoding: " + te + "\r\n\r\n" + smuggled);
    bool closed = false;
    auto out = c.readAll(5s, &closed);
    BOOST_TEST(out.starts_with("HTTP/1.1 400"), te << ": " << out);
    BOOST_TEST(countOf(out, "HTTP/1.1 ") == 1, te << ": a second response means the body was read as a request");
    BOOST_TEST(closed, te);
  }
  // Two Authorization headers: which one counts would be anyone's guess.
  Raw c(x.intakePort());
  c.send("GET /api/v1/cases/x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + x.token() +
         "\r\nAuthorization: Bearer other\r\n\r\n");
  auto out = c.readAll(5s);
  BOOST_TEST(out.starts_with("HTTP/1.1 400"), out);
}

BOOST_AUTO_TEST_CASE(hostile_login_csrf_form_from_another_origin_is_refused) {
  ExchangeHarness x;
  x.setUp();
  const std::string admin = x.issueToken("ops", "admin");
  x.startGateway();
  const std::string body = R"({"token":")" + admin + R"("})";
  auto signIn = [&](std::map<std::string, std::string> h) {
    return httpRequest("POST", "127.0.0.1", x.adminPort(), "/console/session", h, body);
  };
  // What an auto-submitted form on another site can send: text/plain, with that site's Origin.
  BOOST_TEST(signIn({{"Content-Type", "text/plain"}, {"Origin", "https://attacker.example"}}).status == 415);
  BOOST_TEST(signIn({{"Content-Type", "application/json"}, {"Origin", "https://attacker.example"}}).status == 403);
  auto ok = signIn({{"Content-Type", "application/json"},
                    {"Origin", "http://127.0.0.1:" + std::to_string(x.adminPort())},
                    {"Host", "127.0.0.1:" + std::to_string(x.adminPort())}});
  BOOST_TEST(ok.status == 201, ok.body);
}

BOOST_AUTO_TEST_CASE(hostile_credentials_are_checked_before_the_body_and_a_trickle_is_cut) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  // 24 MiB announced, no credentials, no body sent: refused on the headers at once.
  {
    Raw c(x.intakePort());
    auto t0 = std::chrono::steady_clock::now();
    c.send(
        "POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 25165824\r\n\r\n");
    bool closed = false;
    auto out = c.readAll(5s, &closed);
    BOOST_TEST(out.starts_with("HTTP/1.1 401"), out);
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < 3s));
    BOOST_TEST(closed);
  }
  // A valid client trickling its body (a few bytes a second): cut with 408 once the rate is clearly too low.
  {
    Raw c(x.intakePort());
    c.send("POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + x.token() +
           "\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n");
    std::string out;
    for (int i = 0; i < 40 && out.empty(); ++i) {
      c.send(std::string(40, ' '));
      out = c.readAll(1s);
    }
    BOOST_TEST(out.starts_with("HTTP/1.1 408"), out);
  }
}

BOOST_AUTO_TEST_CASE(hostile_large_case_sent_steadily_is_served_past_one_fixed_cut) {
  // 2 MiB at about 100 KiB/s: over 15 s, the old single cut; at a rate well above the floor it is served.
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  std::string data(1500000, 'A');
  std::string body = R"({"kind":"appeal","applicant":{"anonymous":true},"text":"Великий додаток.","channel":"web",)"
                     R"("attachments":[{"file_name":"scan.pdf","media_type":"application/pdf","content_base64":")" +
                     data + R"("}]})";
  Raw c(x.intakePort());
  c.send("POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + x.token() +
         "\r\nContent-Type: application/json\r\nIdempotency-Key: steady\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n");
  for (std::size_t at = 0; at < body.size(); at += 10240) {
    c.send(body.substr(at, 10240));
    std::this_thread::sleep_for(100ms);
  }
  auto out = c.readAll(10s);
  BOOST_TEST(out.starts_with("HTTP/1.1 201"), out.substr(0, 300));
}

BOOST_AUTO_TEST_CASE(hostile_oversized_package_is_kept_as_its_first_kilobytes_only) {
  ExchangeHarness x;
  x.setUp();
  TsaSimulator tsa(x.dir());
  x.startGateway(0, {{"VKHID_EDMS_MAX_PACKAGE_BYTES", "1048576"},
                     {"VKHID_AUDIT_TSA_URL", tsa.url()},
                     {"VKHID_AUDIT_BATCH_MAX_AGE_MS", "300"}});
  ParticipantPeer attacker(x);
  std::string big = "<?xml version=\"1.0\"?><Header>" + std::string(3u << 20, 'x') + "</Header>";
  attacker.sendBytes(big, "big-1");
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM message WHERE direction = 'in' AND error_code = 102", 1, 30s));
  BOOST_TEST(x.sql("SELECT size_bytes || ' ' || bytes_cut FROM message WHERE error_code = 102") ==
             std::to_string(big.size()) + " true");
  BOOST_TEST(x.openedPackage(x.sql("SELECT msg_id FROM message WHERE error_code = 102")).size() == 4096u);
  BOOST_TEST(x.sql("SELECT sha256 FROM message WHERE error_code = 102") == vkhid::flows::sha256Hex(big));
  // The evidence still verifies: the refused package is exported as its head, named for what it is.
  BOOST_REQUIRE(x.waitEvidenceSealed(30s));
  auto out = x.dir() + "/evidence";
  x.runVkhid({"audit", "export", "--out", out});
  auto verified = x.runVkhidStatus({"audit", "verify", out});
  BOOST_TEST(verified.first == 0, verified.second);
}

BOOST_AUTO_TEST_CASE(hostile_registration_number_that_reads_as_markup_is_refused) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  ParticipantPeer peer(x);
  BOOST_REQUIRE(x.submit("m1").status == 201);
  auto appeal = peer.take(1, 30s);
  BOOST_REQUIRE(appeal.has_value());
  auto markup = peer.receipt(*appeal, sev::AckType::Registered, "<img src=x onerror=alert(1)>");
  peer.send(markup);
  BOOST_TEST(
      x.waitFor("SELECT count(*) FROM message WHERE msg_id = '" + markup.msg_id + "' AND error_code = 32", 1, 30s));
  BOOST_TEST(x.sql("SELECT coalesce(participant_reg_number, '-') FROM cases") == "-");
}

BOOST_AUTO_TEST_CASE(hostile_reports_cannot_starve_health_and_bad_dates_are_422) {
  ExchangeHarness x;
  x.setUp();
  const std::string admin = x.issueToken("ops", "admin");
  x.startGateway();
  auto report = [&](const std::string& query) {
    return httpRequest("GET", "127.0.0.1", x.adminPort(), "/api/v1/admin/reports?" + query,
                       {{"Authorization", "Bearer " + admin}}, "");
  };
  auto zero = report("from=0000-01-01&to=2026-12-31");
  BOOST_TEST(zero.status == 422, zero.body);
  BOOST_TEST(zero.body.find("ERROR") == std::string::npos, zero.body);  // no database text
  auto millennium = report("from=1000-01-01&to=9999-12-31");
  BOOST_TEST(millennium.status == 422);
  // Twelve of the largest reports allowed, at once; meanwhile readiness answers at once.
  auto today = x.sql("SELECT to_char(now(), 'YYYY-MM-DD')");
  auto earlier = x.sql("SELECT to_char(now() - interval '4 years', 'YYYY-MM-DD')");
  std::vector<std::thread> load;
  for (int i = 0; i < 12; ++i) load.emplace_back([&] { (void)report("from=" + earlier + "&to=" + today); });
  for (int i = 0; i < 5; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto ready = httpGet("127.0.0.1", x.adminPort(), "/readyz");
    BOOST_TEST(ready.status == 200);
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < 1s));
  }
  for (auto& t : load) t.join();
}

BOOST_AUTO_TEST_CASE(hostile_received_at_far_off_is_refused) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  for (const char* at : {"9999-12-31T00:00:00Z", "1900-01-01T00:00:00Z", "2000-01-01T00:00:00Z"}) {
    auto r = post(x, caseJson("Коваль", std::string(R"(,"received_at":")") + at + "\""),
                  {{"Idempotency-Key", std::string("r-") + at}});
    BOOST_TEST(r.status == 422, at << ": " << r.body);
    BOOST_TEST(r.body.find("/received_at") != std::string::npos, r.body);
  }
  BOOST_TEST(x.count("SELECT count(*) FROM cases") == 0);
}

BOOST_AUTO_TEST_CASE(hostile_csv_cells_that_read_as_formulas_are_defused) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  const std::string formula =
      R"x({"kind":"appeal","applicant":{"anonymous":true},"text":"Текст.","channel":"=HYPERLINK(\"http://x\")"})x";
  BOOST_REQUIRE(post(x, formula, {{"Idempotency-Key", "f1"}}).status == 201);
  auto today = x.sql("SELECT to_char(now() AT TIME ZONE 'Europe/Kyiv', 'YYYY-MM-DD')");
  auto csv = x.runVkhid({"report", "--from", today, "--to", today, "--by", "channel", "--format", "csv"});
  BOOST_TEST(csv.find("'=HYPERLINK") != std::string::npos, csv);
  BOOST_TEST(csv.find(",=HYPERLINK") == std::string::npos, csv);
  BOOST_TEST(csv.find("\n=HYPERLINK") == std::string::npos, csv);
}

BOOST_AUTO_TEST_CASE(hostile_tls_listener_offers_only_aead_suites_and_sends_hsts) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway(0, {{"VKHID_INTAKE_TLS_CERT", pkiDir() + "/gateway-tls.pem"},
                     {"VKHID_INTAKE_TLS_KEY", pkiDir() + "/gateway-tls.key"}});
  auto probe = [&](const std::string& cipher) {
    std::string cmd = "echo | openssl s_client -connect 127.0.0.1:" + std::to_string(x.intakePort()) +
                      " -tls1_2 -cipher " + cipher + " 2>&1";
    std::string out;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
      char buf[512];
      while (std::fgets(buf, sizeof buf, p)) out += buf;
      ::pclose(p);
    }
    return out;
  };
  BOOST_TEST(probe("AES128-SHA").find("Cipher is (NONE)") != std::string::npos);
  BOOST_TEST(probe("ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA").find("Cipher is (NONE)") != std::string::npos);
  auto good = probe("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256");
  BOOST_TEST(good.find("Cipher is ECDHE") != std::string::npos, good);
  std::string cmd =
      "curl -sk -D - -o /dev/null https://127.0.0.1:" + std::to_string(x.intakePort()) + "/api/v1/track/x";
  std::string headers;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) headers += buf;
    ::pclose(p);
  }
  BOOST_TEST(headers.find("Strict-Transport-Security: max-age=") != std::string::npos, headers);
}

BOOST_AUTO_TEST_CASE(hostile_expired_or_revoked_token_is_refused) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  BOOST_TEST(post(x, caseJson("Коваль"), {{"Idempotency-Key", "t1"}}).status == 201);
  x.sql("UPDATE api_client SET expires_at = now() - interval '1 second' WHERE role = 'channel'");
  BOOST_TEST(post(x, caseJson("Коваль"), {{"Idempotency-Key", "t2"}}).status == 401);
  x.sql("UPDATE api_client SET expires_at = NULL WHERE role = 'channel'");
  BOOST_TEST(post(x, caseJson("Коваль"), {{"Idempotency-Key", "t3"}}).status == 201);
  auto client = x.sql("SELECT id FROM api_client WHERE role = 'channel'");
  x.runVkhid({"token", "revoke", "--client", client});
  BOOST_TEST(post(x, caseJson("Коваль"), {{"Idempotency-Key", "t4"}}).status == 401);
  // A new token is issued with an expiry.
  x.issueToken("fresh");
  BOOST_TEST(x.sql("SELECT expires_at > now() + interval '364 days' FROM api_client WHERE id = 'fresh'") == "t");
}

BOOST_AUTO_TEST_CASE(hostile_tracking_limit_counts_the_client_a_trusted_proxy_names) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway(0, {{"VKHID_INTAKE_TRUSTED_PROXIES", "127.0.0.1"}, {"VKHID_INTAKE_TRACK_PER_MINUTE", "5"}});
  auto track = [&](const std::string& forwarded) {
    return httpRequest("GET", "127.0.0.1", x.intakePort(), "/api/v1/track/0000-0000-0000-0000",
                       {{"X-Forwarded-For", forwarded}}, "")
        .status;
  };
  for (int i = 0; i < 5; ++i) BOOST_TEST(track("203.0.113.7") == 404);
  BOOST_TEST(track("203.0.113.7") == 429);
  BOOST_TEST(track("198.51.100.9") == 404);  // another citizen behind the same proxy
  // A client cannot pick its own slot: the hop the proxy appended is what counts.
  BOOST_TEST(track("198.51.100.9, 203.0.113.7") == 429);
}

BOOST_AUTO_TEST_SUITE_END()

// Stops a server the rest share: run alone.
BOOST_AUTO_TEST_SUITE(hostile_serial, *utf::precondition(servicesAreOurs))

BOOST_AUTO_TEST_CASE(hostile_database_down_is_503_never_401) {
  ExchangeHarness x;
  x.setUp();
  const std::string admin = x.issueToken("ops", "admin");
  x.startGateway();
  BOOST_REQUIRE(services("stop postgres") == 0);
  auto intake = post(x, caseJson("Коваль"), {{"Idempotency-Key", "down"}});
  auto api = httpRequest("GET", "127.0.0.1", x.adminPort(), "/api/v1/admin/participants",
                         {{"Authorization", "Bearer " + admin}}, "");
  BOOST_REQUIRE(services("start postgres") == 0);
  BOOST_TEST(intake.status == 503, intake.body);
  BOOST_TEST(intake.headers.count("www-authenticate") == 0);
  BOOST_TEST(api.status == 503, api.body);
  BOOST_TEST(api.headers.count("www-authenticate") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
