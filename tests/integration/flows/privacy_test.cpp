// Personal data encrypted at rest (issue 29, docs/privacy.md), seen as an operator, an attacker with a
// copy of the database, and an auditor see it: a raw dump names no one; the master key rotates and old
// data keys are replaced while cases flow; a value changed at rest is an error for its case alone; a
// gateway without the master key the data needs does not start.
#define BOOST_TEST_MODULE integration_privacy
#include <signal.h>

#include <atomic>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <thread>

#include "gateway/domain/text.hpp"
#include "tests/support/exchange_harness.hpp"
#include "tests/support/pki.hpp"
#include "tests/support/test_env.hpp"

using namespace vkhid::testing;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

// What a gateway or a command needs to use the master key in `file` named `id`.
std::map<std::string, std::string> masterKey(const std::string& file, const std::string& id) {
  return {{"VKHID_AT_REST_MASTER_KEY", file}, {"VKHID_AT_REST_MASTER_KEY_ID", id}};
}

// Every file of the private broker's node (scripts/services: its message store, queue indexes, logs).
std::string brokerFiles() {
  const char* var = std::getenv("VKHID_VAR");
  const auto dir = std::filesystem::canonical(std::string(var ? var : sourceDir() + "/var") + "/rabbitmq");
  std::string all;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) all += readFile(e.path().string());
  }
  return all;
}

std::string gatewayLogs(const std::string& dir) {
  std::string logs;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename().string().starts_with("gateway-")) logs += readFile(e.path().string());
  }
  return logs;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(privacy)

BOOST_AUTO_TEST_CASE(privacy_raw_dump_holds_no_personal_values) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  x.startSimulator();
  // Values found nowhere else in the database, so that any copy of them is this case's.
  const std::string surname = "Ґудзиченко-Сімсімович", email = "myroslava.7731@example.org", phone = "+380675557731",
                    address = "м. Львів, вул. Неіснуюча, 7731",
                    text = "Звернення 7731: у під'їзді будинку третій тиждень не працює ліфт.",
                    attachment = "0JTQvtCy0ZbQtNC60LAgNzczMQ==";  // "Довідка 7731"
  auto reply = x.submitJson(exampleCaseWith([&](json::object& o) {
                              o["addressee_org_id"] = x.org();
                              auto& a = o["applicant"].as_object();
                              a["surname"] = surname;
                              a["email"] = email;
                              a["phone"] = phone;
                              a["address"] = address;
                              o["text"] = text;
                              o["attachments"].as_array()[0].as_object()["content_base64"] = attachment;
                            }),
                            "dump-1");
  BOOST_REQUIRE_MESSAGE(reply.status == 201, reply.body);
  // Delivered, answered and closed: the packages both ways are stored too.
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s), x.histogram());
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE vkhid_sealed_key(bytes) IS NOT NULL") >= 2);
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE vkhid_sealed_key(bytes) IS NULL") == 0);
  // The applicant's rating comment, and a person's second-factor secret, are sealed too.
  const std::string comment = "Дякую, пані Мирославо 7731, усе швидко.";
  auto rated = httpRequest(
      "POST", "127.0.0.1", x.intakePort(), "/api/v1/track/" + jsonField(reply.body, "tracking_code") + "/rating",
      {{"Content-Type", "application/json"}}, json::serialize(json::object{{"score", 5}, {"comment", comment}}));
  BOOST_REQUIRE_MESSAGE(rated.status == 201, rated.body);
  writeFile(x.dir() + "/password", "довгий-пароль-7731-для-тесту\n");
  const std::string account = x.runVkhid({"account", "add", "--login", "m.operator", "--role", "admin", "--name",
                                          "Марія Оператор", "--password-file", x.dir() + "/password"});
  const auto at = account.find("totp_secret: ");
  BOOST_REQUIRE(at != std::string::npos);
  const std::string secret = account.substr(at + 13, account.find('\n', at) - at - 13);

  const std::string dump = x.dir() + "/raw.sql";
  const std::string cmd = "/usr/lib/postgresql/15/bin/pg_dump --no-owner -f " + dump + " '" + x.dbUrl() + "'";
  BOOST_REQUIRE(std::system(cmd.c_str()) == 0);
  const std::string raw = readFile(dump);
  // The dump is of this database: its non-personal facts are there.
  const std::string ucc = x.sql("SELECT ucc_number FROM cases");
  BOOST_REQUIRE(raw.find(ucc) != std::string::npos);
  // No personal value, as text or as the hex in which bytea columns are dumped.
  for (const std::string& value :
       {surname, email, phone, address, text, attachment, std::string("Довідка 7731"), comment, secret}) {
    BOOST_TEST(raw.find(value) == std::string::npos, "in the dump: " << value);
    BOOST_TEST(raw.find(vkhid::hexEncode(value)) == std::string::npos, "in the dump as hex: " << value);
  }
  // The participant got the case whole all the same (its answer closed it), and the channel reads the
  // answer: opened from the sealed package.
  auto answer =
      httpRequest("GET", "127.0.0.1", x.intakePort(), "/api/v1/cases/" + jsonField(reply.body, "id") + "/answer",
                  {{"Authorization", "Bearer " + x.token()}}, "");
  BOOST_TEST(answer.status == 200, answer.body);
}

// The broker's store on disk: a participant connected over HTTPS gets its packages straight from the
// gateway, and everything else the gateway puts on the broker (events, notices, alerts) names cases by
// id, never by their people. (A participant that takes its packages from a broker queue gets them there
// in clear, as SEV OVV sends them: docs/privacy.md, "The broker".)
BOOST_AUTO_TEST_CASE(privacy_broker_store_holds_no_personal_values, *boost::unit_test::precondition(servicesAreOurs)) {
  ExchangeHarness x;
  x.setUp();
  int h = x.addHttpParticipant();
  x.runVkhid({"route", "add", "--target", x.org(h), "--addressee", x.org(h), "--priority", "1"});
  x.startGateway();
  x.startHttpSimulator(h);
  const std::string surname = "Броківничук-Сімсімович", email = "broker.7731@example.org",
                    text = "Звернення 8842: на зупинці вже місяць немає розкладу руху автобусів.";
  auto reply = x.submitJson(exampleCaseWith([&](json::object& o) {
                              o["addressee_org_id"] = x.org(h);
                              o["applicant"].as_object()["surname"] = surname;
                              o["applicant"].as_object()["email"] = email;
                              o["text"] = text;
                            }),
                            "broker-1");
  BOOST_REQUIRE_MESSAGE(reply.status == 201, reply.body);
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s), x.histogram());
  const std::string store = brokerFiles();
  BOOST_REQUIRE(!store.empty());
  for (const std::string& value : {surname, email, text}) {
    BOOST_TEST(store.find(value) == std::string::npos, "in the broker's files: " << value);
  }
}

BOOST_AUTO_TEST_CASE(privacy_keys_rotate_and_reencrypt_online_with_cases_flowing, *boost::unit_test::timeout(280)) {
  ExchangeHarness x;
  TsaSimulator tsa(x.dir());  // the evidence is sealed and time-stamped, to be exported at the end
  const std::map<std::string, std::string> audit{{"VKHID_AUDIT_TSA_URL", tsa.url()},
                                                 {"VKHID_AUDIT_BATCH_MAX_AGE_MS", "300"}};
  x.setUp();
  x.startGateway(0, audit);
  x.startSimulator();
  auto first = x.submitMany(5);
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 5, 60s), x.histogram());
  const auto old_key = masterKey(pkiDir() + "/master.key", "dev-master-1");
  const auto new_key = masterKey(x.dir() + "/master-2.key", "master-2");

  // Cases keep coming while the keys change (each retried while a gateway restarts).
  std::atomic<int> accepted = 0;
  std::atomic<bool> stop = false;
  std::thread channel([&] {
    for (int i = 0; i < 40 && !stop; ++i) {
      const std::string key = "flow-" + std::to_string(i);
      for (int tries = 0; tries < 100; ++tries) {
        if (x.submitJson(exampleCaseWith([&](json::object& o) { o["addressee_org_id"] = x.org(); }), key).status ==
            201) {
          ++accepted;
          break;
        }
        std::this_thread::sleep_for(200ms);
      }
      std::this_thread::sleep_for(150ms);
    }
  });

  // A new master key; the data keys re-wrapped under it while the gateway serves.
  x.runVkhid({"keys", "new", "--out", x.dir() + "/master-2.key"});
  BOOST_TEST(x.runVkhidStatus({"keys", "new", "--out", x.dir() + "/master-2.key"}).first != 0);  // never overwritten
  auto rotated = x.runVkhid({"keys", "rotate", "--new-key", x.dir() + "/master-2.key", "--new-id", "master-2"});
  BOOST_TEST(rotated.find("wrapped by master key master-2") != std::string::npos, rotated);
  BOOST_TEST(x.count("SELECT count(*) FROM data_key WHERE master_key_id <> 'master-2' AND destroyed_at IS NULL") == 0);
  // The old key opens nothing any more: a gateway started with it refuses, naming the key it needs.
  try {
    x.startGateway(1, old_key);
    BOOST_ERROR("a gateway started with the old master key");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(std::string(e.what()).find("wrapped by master key master-2") != std::string::npos, e.what());
  }
  auto missing = x.runVkhidStatus({"keys", "list"}, masterKey(x.dir() + "/none.key", "master-3"));
  BOOST_TEST(missing.first != 0);
  BOOST_TEST(missing.second.find("master key master-3: cannot read") != std::string::npos, missing.second);
  // The running gateway restarted with the new one.
  x.killGateway(0, SIGTERM);
  auto restarted = new_key;
  restarted.insert(audit.begin(), audit.end());
  x.startGateway(0, restarted);

  // Every data key made so far replaced, its values re-sealed under the new one, while cases flow.
  const long long keys_before = x.count("SELECT count(*) FROM data_key WHERE purpose = 'data'");
  auto re = x.runVkhidStatus({"keys", "reencrypt", "--older-than", "0"}, new_key);
  BOOST_REQUIRE_MESSAGE(re.first == 0, re.second);
  BOOST_TEST(re.second.find("the old key is destroyed") != std::string::npos, re.second);
  stop = true;
  channel.join();
  BOOST_TEST(accepted.load() >= 10);
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 5 + accepted.load(), 120s),
                        x.histogram());

  BOOST_TEST(x.count("SELECT count(*) FROM data_key WHERE purpose = 'data' AND destroyed_at IS NOT NULL") >=
             keys_before);
  // No value is left under a destroyed key; every one opens (the evidence export reads every package).
  BOOST_TEST(x.count("SELECT count(*) FROM cases c JOIN data_key k ON k.id = vkhid_sealed_key(c.personal) "
                     "WHERE k.destroyed_at IS NOT NULL") == 0);
  BOOST_TEST(x.count("SELECT count(*) FROM message m JOIN data_key k ON k.id = vkhid_sealed_key(m.bytes) "
                     "WHERE k.destroyed_at IS NOT NULL") == 0);
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'keys.rotated'") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'keys.reencrypted'") >= 1);
  BOOST_REQUIRE(x.waitEvidenceSealed(60s));
  auto exported = x.runVkhidStatus({"audit", "export", "--out", x.dir() + "/bundle"}, new_key);
  BOOST_REQUIRE_MESSAGE(exported.first == 0, exported.second);
  BOOST_TEST(exported.second.find("changed at rest") == std::string::npos, exported.second);
  ChildProcess verify({binaryPath(), "audit", "verify", x.dir() + "/bundle"}, {}, x.dir() + "/verify.log");
  BOOST_TEST(verify.wait(60s).value_or(-1) == 0, verify.log() + x.evidenceReport());
  // The first cases' answers still open for their channel.
  auto answer = httpRequest("GET", "127.0.0.1", x.intakePort(), "/api/v1/cases/" + first.at(0) + "/answer",
                            {{"Authorization", "Bearer " + x.token()}}, "");
  BOOST_TEST(answer.status == 200, answer.body);
}

BOOST_AUTO_TEST_CASE(privacy_value_changed_at_rest_is_an_error_for_its_case_alone) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  x.startSimulator();
  auto ids = x.submitMany(3);
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 3, 60s), x.histogram());
  auto answerOf = [&](const std::string& id) {
    return httpRequest("GET", "127.0.0.1", x.intakePort(), "/api/v1/cases/" + id + "/answer",
                       {{"Authorization", "Bearer " + x.token()}}, "");
  };
  // One byte of the first case's stored answer changed; the second case's answer moved onto the third's
  // row (a value that opens, in the wrong place).
  const std::string answer1 = x.sql("SELECT answer_msg_id FROM cases WHERE id = '" + ids[0] + "'");
  x.sql("UPDATE message SET bytes = set_byte(bytes, 60, get_byte(bytes, 60) # 1) WHERE msg_id = '" + answer1 + "'");
  x.sql(
      "UPDATE message SET bytes = (SELECT m.bytes FROM message m JOIN cases c ON m.msg_id = c.answer_msg_id WHERE "
      "c.id = '" +
      ids[1] + "') WHERE msg_id = (SELECT answer_msg_id FROM cases WHERE id = '" + ids[2] + "')");
  for (const auto& id : {ids[0], ids[2]}) {
    auto r = answerOf(id);
    BOOST_TEST(r.status == 500, r.body);
    BOOST_TEST(r.body.find("changed at rest") != std::string::npos, r.body);
  }
  BOOST_TEST(answerOf(ids[1]).status == 200);  // the others are not held back
  // Logged by what it is (never what it holds), counted for the alert VkhidSealedDataUnreadable.
  const std::string logs = gatewayLogs(x.dir());
  BOOST_TEST(logs.find("\"what\":\"message.bytes:" + answer1 + "\"") != std::string::npos);
  auto metrics = httpGet("127.0.0.1", x.adminPort(), "/metrics");
  BOOST_TEST(metrics.body.find("vkhid_at_rest_failures_total{code=\"at_rest.tampered\"} 2") != std::string::npos,
             metrics.body.substr(0, 2000));
}

// The national ID sign-in (id.gov.ua's OpenID Connect), as a browser goes through it: to the provider
// (our simulator, the outside party) and back with a code the gateway redeems. Who signs in is whoever
// an administrator bound the РНОКПП to; another browser's answer, a replayed code and an unbound person
// are refused.
BOOST_AUTO_TEST_CASE(privacy_console_signin_with_the_national_id) {
  ExchangeHarness x;
  x.setUp();
  const unsigned short idp_port = freePort();
  const std::string idp = "http://127.0.0.1:" + std::to_string(idp_port);
  writeFile(x.dir() + "/oidc-secret", "секрет-консолі-7731\n");
  ChildProcess provider(
      {binaryPath(), "sim", "oidc", "--listen", "127.0.0.1:" + std::to_string(idp_port), "--client-id", "vkhid-console",
       "--client-secret-file", x.dir() + "/oidc-secret", "--national-id", "3012345678"},
      {}, x.dir() + "/oidc.log");
  BOOST_REQUIRE(eventually([&] { return portOpen(idp_port); }, 15s));
  x.startGateway(0, {{"VKHID_ADMIN_OIDC_AUTHORIZE_URL", idp + "/authorize"},
                     {"VKHID_ADMIN_OIDC_TOKEN_URL", idp + "/token"},
                     {"VKHID_ADMIN_OIDC_ISSUER", idp},
                     {"VKHID_ADMIN_OIDC_CLIENT_ID", "vkhid-console"},
                     {"VKHID_ADMIN_OIDC_CLIENT_SECRET_FILE", x.dir() + "/oidc-secret"},
                     {"VKHID_ADMIN_OIDC_REDIRECT_URI", "https://console.test/console/oidc/callback"}});
  writeFile(x.dir() + "/password", "довгий-пароль-7731-для-тесту\n");
  x.runVkhid({"account", "add", "--login", "n.petrenko", "--role", "auditor", "--name", "Наталія Петренко",
              "--password-file", x.dir() + "/password"});
  auto bad = x.runVkhidStatus({"account", "bind-id", "--login", "n.petrenko", "--national-id", "30123"});
  BOOST_TEST(bad.first != 0);
  BOOST_TEST(bad.second.find("a РНОКПП of 10 digits") != std::string::npos, bad.second);
  x.runVkhid({"account", "bind-id", "--login", "n.petrenko", "--national-id", "3012345678"});
  BOOST_TEST(x.count("SELECT count(*) FROM console_account WHERE national_id_key ~ '^[0-9a-f]{64}$'") == 1);

  // The browser's way: the console, the provider, the console again. `hint`: who signs in there.
  struct Way {
    HttpReply start, back, done;
    std::string cookie, callback;
  };
  auto signIn = [&](const std::string& hint) {
    Way w;
    w.start = httpGet("127.0.0.1", x.adminPort(), "/console/oidc/start");
    const std::string set = w.start.headers["set-cookie"];
    w.cookie = set.substr(0, set.find(';'));
    std::string at_provider = w.start.location.substr(idp.size());
    if (!hint.empty()) at_provider += "&login_hint=" + hint;
    w.back = httpGet("127.0.0.1", idp_port, at_provider);
    w.callback = w.back.location.substr(std::string("https://console.test").size());
    w.done = httpRequest("GET", "127.0.0.1", x.adminPort(), w.callback, {{"Cookie", w.cookie}}, "");
    return w;
  };
  // The console offers it (its sign-in form shows the link then).
  BOOST_TEST(httpGet("127.0.0.1", x.adminPort(), "/console/oidc").status == 200);
  Way w = signIn("");
  BOOST_TEST(w.start.status == 302);
  BOOST_TEST(w.start.location.starts_with(idp + "/authorize?response_type=code&scope=openid&client_id=vkhid-console"),
             w.start.location);
  BOOST_TEST(w.start.headers["set-cookie"].find("HttpOnly; SameSite=Lax") != std::string::npos);
  BOOST_TEST(w.back.status == 302);
  BOOST_TEST(w.done.status == 302, w.done.body);
  BOOST_TEST(w.done.location == "/console/");
  const std::string set = w.done.headers["set-cookie"];
  BOOST_REQUIRE(set.starts_with("vkhid_session="));
  auto session = httpRequest("GET", "127.0.0.1", x.adminPort(), "/console/session",
                             {{"Cookie", set.substr(0, set.find(';'))}}, "");
  BOOST_TEST(session.status == 200, session.body);
  BOOST_TEST(jsonField(session.body, "client") == "n.petrenko");
  BOOST_TEST(jsonField(session.body, "role") == "auditor");
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'console.signin' AND subject LIKE "
                     "'%n.petrenko%' AND subject LIKE '%national-id%'") == 1);

  // The same code again, brought by the same browser: the provider gives it once.
  auto replayed = httpRequest("GET", "127.0.0.1", x.adminPort(), w.callback, {{"Cookie", w.cookie}}, "");
  BOOST_TEST(replayed.status == 401, replayed.body);
  // Another browser's answer (login CSRF): its state is not this browser's.
  Way other = signIn("");
  auto foreign = httpRequest("GET", "127.0.0.1", x.adminPort(), other.callback,
                             {{"Cookie", "vkhid_oidc=" + std::string(32, 'a') + ".b"}}, "");
  BOOST_TEST(foreign.status == 403, foreign.body);
  // Someone the provider knows but nobody bound to an account: refused, and recorded without their number.
  Way stranger = signIn("2999999999");
  BOOST_TEST(stranger.done.status == 403, stranger.done.body);
  BOOST_TEST(stranger.done.body.find("bound to no account") != std::string::npos, stranger.done.body);
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'console.signin_failed' AND subject = "
                     "'national-id:unbound'") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE subject LIKE '%2999999999%' OR subject LIKE "
                     "'%3012345678%'") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
