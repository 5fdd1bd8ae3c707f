// The `sev-hub` adapter against `vkhid sim hub` over real TLS: a case both ways through the hub, a
// 5 MiB package in several chunks, a chunk damaged in transit (caught by the hash, uploaded again),
// a damaged download (caught, downloaded again), and a wrong password refused.
#define BOOST_TEST_MODULE integration_adapter_sevhub
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "tests/support/exchange_harness.hpp"
#include "tests/support/pki.hpp"

using namespace vkhid::testing;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;

namespace {

// A case with one attachment of `size` bytes of pseudo-random base64-safe data.
HttpReply submitWithAttachment(ExchangeHarness& x, int participant, std::size_t size) {
  std::string data;
  data.reserve(size);
  unsigned v = 12345;
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  while (data.size() < size) {
    v = v * 1103515245 + 12345;
    data += alphabet[(v >> 16) % 64];
  }
  std::string body = R"({"kind":"appeal","applicant":{"anonymous":true},"text":"Великий додаток","channel":"web",)"
                     R"("addressee_org_id":")" +
                     x.org(participant) +
                     R"(","attachments":[{"file_name":"scan.pdf","media_type":"application/pdf","content_base64":")" +
                     data + R"("}]})";
  return httpRequest(
      "POST", "127.0.0.1", x.intakePort(), "/api/v1/cases",
      {{"Authorization", "Bearer " + x.token()}, {"Content-Type", "application/json"}, {"Idempotency-Key", "big"}},
      body);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(adapter_sevhub, *utf::precondition(servicesAreOurs))

BOOST_AUTO_TEST_CASE(adapter_sevhub_case_end_to_end_both_directions) {
  ExchangeHarness x;
  x.setUp();
  int h = x.addHubParticipant();
  x.runVkhid({"route", "add", "--target", x.org(h), "--addressee", x.org(h), "--priority", "1"});
  x.startHub();
  x.startGateway();
  x.startHubSimulator(h);
  BOOST_REQUIRE(x.submitTo(h, "hub1").status == 201);
  // Out: the appeal. In: the participant's three receipts and its answer, each downloaded and applied.
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s));
  BOOST_TEST(x.simStats(h)["appeals"] == 1);
  // The hub lists an inbox in no particular order: the answer may be taken before a receipt.
  BOOST_TEST(x.waitFor("SELECT count(*) FROM message WHERE direction = 'in' AND status = 'applied'", 4, 30s));
  BOOST_TEST(eventually([&] { return x.hubStats()["messages"] >= 6; }, 20s));
  auto hub = x.hubStats();  // the appeal, 3 receipts, the answer, and our receipts for it
  BOOST_TEST(hub["type_Document"] == 1);
  BOOST_TEST(hub["type_ReplayDocument"] == 1);
  BOOST_TEST(hub["type_Notification"] >= 3);
  BOOST_TEST(hub["hash_mismatches"] == 0);
  // Every message the gateway downloaded was ended as processed: nothing left in its inbox.
  BOOST_TEST(eventually([&] { return x.hubStats()["messages"] == x.hubStats()["processed_by_recipient"]; }, 20s));
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'in' AND status = 'rejected'") == 0);
}

BOOST_AUTO_TEST_CASE(adapter_sevhub_five_mib_package_crosses_in_chunks_and_a_damaged_chunk_is_sent_again) {
  ExchangeHarness x;
  x.setUp();
  int h = x.addHubParticipant();
  x.runVkhid({"route", "add", "--target", x.org(h), "--addressee", x.org(h), "--priority", "1"});
  // 256 KiB parts: a 5 MiB package (≈ 7 MiB as base64 inside the XML) takes about 27 chunks; the
  // third one arrives damaged, so the first upload fails its hash and a second session carries it.
  x.startHub({"--max-part-size", "262144", "--corrupt-upload-chunk", "3"});
  x.startGateway({}, {{"VKHID_INTAKE_MAX_BODY_BYTES", "16777216"}});
  x.startHubSimulator(h);
  auto created = submitWithAttachment(x, h, 5u << 20);
  BOOST_REQUIRE_MESSAGE(created.status == 201, created.body);
  BOOST_REQUIRE(x.waitAtLeast("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 120s));
  auto hub = x.hubStats();
  BOOST_TEST(hub["corrupted_upload_chunks"] == 1);
  BOOST_TEST(hub["hash_mismatches"] == 1);
  BOOST_TEST(hub["calls"] > 27);
  // The participant got the package whole, once, and verified it (its seal and the attachment's).
  BOOST_TEST(x.simStats(h)["invalid"] == 0);
  BOOST_TEST(x.simStats(h)["appeals"] == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'out' AND msg_type = 1 AND size_bytes > "
                     "5242880") == 1);  // stored sealed and deflated: size_bytes is the package's own
  BOOST_TEST(x.count("SELECT attempts FROM message WHERE direction = 'out' AND msg_type = 1") == 1);
}

BOOST_AUTO_TEST_CASE(adapter_sevhub_damaged_download_is_detected_by_the_hash_and_fetched_again) {
  ExchangeHarness x;
  x.setUp();
  int h = x.addHubParticipant();
  x.runVkhid({"route", "add", "--target", x.org(h), "--addressee", x.org(h), "--priority", "1"});
  // The first chunk anyone downloads is damaged: the participant's download of our appeal. It
  // notices by the hash, fetches again, and the case completes as usual.
  x.startHub({"--corrupt-download-chunk", "1"});
  x.startGateway();
  x.startHubSimulator(h);
  BOOST_REQUIRE(x.submitTo(h, "hub2").status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s));
  BOOST_TEST(x.hubStats()["corrupted_download_chunks"] == 1);
  BOOST_TEST(x.simStats(h)["invalid"] == 0);
  BOOST_TEST(x.simStats(h)["download_failures"] == 0);
}

BOOST_AUTO_TEST_CASE(adapter_sevhub_wrong_password_is_refused_and_nothing_is_delivered) {
  ExchangeHarness x;
  x.setUp();
  int h = x.addHubParticipant();
  x.runVkhid({"route", "add", "--target", x.org(h), "--addressee", x.org(h), "--priority", "1"});
  x.startHub();
  writeFile(x.dir() + "/hub-password", "not-the-password\n");
  x.startGateway();
  BOOST_REQUIRE(x.submitTo(h, "hub3").status == 201);
  // A refusal is final: the delivery fails at once (no retries against a hub that said no).
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM message WHERE direction = 'out' AND status = 'dead'", 1, 60s));
  std::string why = x.sql("SELECT last_error FROM message WHERE direction = 'out' AND status = 'dead'");
  BOOST_TEST(why.find("authentication failed") != std::string::npos, why);
  BOOST_TEST(x.hubStats()["messages"] == 0);
  BOOST_TEST(x.hubStats()["auth_failures"] >= 1);
}

BOOST_AUTO_TEST_CASE(sev_certification_90) {
  // The SEV OVV 2.0 certification run through the hub simulator: the UCC's account (the gateway's
  // hub account and seal) and a participant's, each sending its nine message kinds and answering the
  // other's with the four notifications. Both sides must end complete: 45 sent, 45 received, all
  // valid (schema and seal) and matched; the hub carried 90 and saw each one processed.
  ExchangeHarness x;
  x.setUp();
  int h = x.addHubParticipant();
  unsigned short port = x.startHub();
  std::string url = "https://localhost:" + std::to_string(port) + "/hub";
  writeFile(x.dir() + "/participant-password", "pw-" + x.org(h) + "\n");
  auto side = [&](const std::string& name, const std::string& sys, const std::string& password_file,
                  const std::string& org, const std::string& seal, const std::string& peer_org,
                  const std::string& peer_sys) {
    return std::make_unique<ChildProcess>(std::vector<std::string>{binaryPath(),
                                                                   "sev",
                                                                   "certify",
                                                                   "--hub-url",
                                                                   url,
                                                                   "--system-id",
                                                                   sys,
                                                                   "--password-file",
                                                                   password_file,
                                                                   "--hub-ca",
                                                                   pkiDir() + "/ca.pem",
                                                                   "--org",
                                                                   org,
                                                                   "--key",
                                                                   seal + ".key",
                                                                   "--cert",
                                                                   seal + ".pem",
                                                                   "--trust",
                                                                   pkiDir() + "/ca.pem",
                                                                   "--peer-org",
                                                                   peer_org,
                                                                   "--peer-sys",
                                                                   peer_sys,
                                                                   "--report",
                                                                   x.dir() + "/" + name + ".json",
                                                                   "--timeout",
                                                                   "120"},
                                          std::map<std::string, std::string>{}, x.dir() + "/" + name + ".log");
  };
  auto ucc = side("ucc", "ucc-gateway", x.dir() + "/hub-password", "99999901", pkiDir() + "/ucc-seal", x.org(h),
                  "sys-" + x.org(h));
  auto participant = side("participant", "sys-" + x.org(h), x.dir() + "/participant-password", x.org(h),
                          pkiDir() + "/" + x.org(h) + "-seal", "99999901", "ucc-gateway");
  auto a = ucc->wait(180s);
  auto b = participant->wait(180s);
  BOOST_TEST((a && *a == 0), ucc->log() << readFile(x.dir() + "/ucc.json"));
  BOOST_TEST((b && *b == 0), participant->log() << readFile(x.dir() + "/participant.json"));
  for (const char* name : {"ucc", "participant"}) {
    auto r = boost::json::parse(readFile(x.dir() + "/" + name + ".json")).as_object();
    for (const char* figure : {"sent", "received", "validated", "matched"}) {
      BOOST_TEST(r.at(figure).as_int64() == 45, name << " " << figure);
    }
    BOOST_TEST(r.at("failures").as_array().empty(), name);
  }
  auto hub = x.hubStats();
  BOOST_TEST(hub["messages"] == 90);
  BOOST_TEST(hub["processed_by_recipient"] == 90);
  BOOST_TEST(hub["type_Document"] == 8);
  BOOST_TEST(hub["type_ReplayDocument"] == 10);
  BOOST_TEST(hub["type_Notification"] == 72);
}

BOOST_AUTO_TEST_SUITE_END()
