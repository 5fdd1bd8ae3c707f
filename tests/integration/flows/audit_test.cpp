// The evidence log against the real servers: a day of exchanges exported and verified offline, then
// each kind of tampering found and named; the time-stamp authority down and back.
#define BOOST_TEST_MODULE integration_audit
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <thread>

#include "gateway/flows/audit.hpp"
#include "tests/support/exchange_harness.hpp"
#include "tests/support/pki.hpp"

using namespace vkhid::testing;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;

namespace {

using Tsa = TsaSimulator;

struct Verdict {
  int code;
  std::string output;
};

// An exchange with a time-stamp authority, `cases` cases answered and every entry sealed.
struct Audited {
  ExchangeHarness x;
  Tsa tsa{x.dir()};

  explicit Audited(int cases = 3) {
    x.setUp();
    x.startGateway(0, {{"VKHID_AUDIT_TSA_URL", tsa.url()}, {"VKHID_AUDIT_BATCH_MAX_AGE_MS", "300"}});
    x.startSimulator();
    for (int i = 0; i < cases; ++i) BOOST_REQUIRE(x.submit("a" + std::to_string(i)).status == 201);
    BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", cases, 60s));
    waitSealed();
  }
  void waitSealed() { BOOST_REQUIRE(x.waitEvidenceSealed(30s)); }
  long long seqAt(int offset) { return x.count("SELECT min(seq) + " + std::to_string(offset) + " FROM audit_entry"); }
  Verdict exportAndVerify(const std::string& name, const std::vector<std::string>& extra = {}) {
    std::string dir = x.dir() + "/bundle-" + name;
    std::vector<std::string> args{"audit", "export", "--out", dir};
    args.insert(args.end(), extra.begin(), extra.end());
    x.runVkhid(args);
    ChildProcess verify({binaryPath(), "audit", "verify", dir}, {}, x.dir() + "/verify-" + name + ".log");
    return {verify.wait(60s).value_or(-1), verify.log()};
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(audit, *utf::precondition(servicesAreOurs))

BOOST_AUTO_TEST_CASE(audit_day_of_exchanges_exports_and_verifies_clean) {
  Audited a(5);
  // Every package in and out, every state change and the administrative acts are entries.
  BOOST_TEST(a.x.count("SELECT count(*) FROM audit_entry WHERE action = 'message.out.queued'") >= 5);
  BOOST_TEST(a.x.count("SELECT count(*) FROM audit_entry WHERE action = 'message.in.applied'") >= 20);
  BOOST_TEST(a.x.count("SELECT count(*) FROM audit_entry WHERE action = 'case.closed'") == 5);
  BOOST_TEST(a.x.count("SELECT count(*) FROM audit_entry WHERE action = 'participant.insert' AND actor LIKE "
                       "'admin:cli:%'") == 1);
  // No personal data: the applicant's name appears nowhere in the log.
  BOOST_TEST(a.x.count("SELECT count(*) FROM audit_entry WHERE subject LIKE '%Шевченко%' OR actor LIKE '%Шевченко%'") ==
             0);
  // An entry's batch is the one whose seq range holds it — what finds the unsealed entries, an entry's
  // batch for a proof and the batches of an export relies on (migrations 0013, 0014): every sealed
  // entry lies in exactly one batch's range.
  BOOST_TEST(a.x.count("SELECT count(*) FROM audit_entry e WHERE (SELECT count(*) FROM audit_batch b WHERE e.seq "
                       "BETWEEN b.first_seq AND b.last_seq) <> 1") == 0);
  std::string auditor = a.x.issueToken("evidence-reader", "auditor");  // itself an entry: sealed in turn
  a.waitSealed();
  auto listing = httpRequest("GET", "127.0.0.1", a.x.adminPort(), "/api/v1/admin/audit?limit=5",
                             {{"Authorization", "Bearer " + auditor}}, "");
  BOOST_REQUIRE_MESSAGE(listing.status == 200, listing.body);
  auto listed = boost::json::parse(listing.body).as_object();
  BOOST_TEST(listed.at("unsealed").as_int64() == 0);
  BOOST_TEST(listed.at("batches").as_array().size() > 0u);

  auto v = a.exportAndVerify("clean");
  BOOST_TEST(v.code == 0, v.output);
  BOOST_TEST(v.output.find("audit verify: OK") != std::string::npos, v.output);
  BOOST_TEST(v.output.find("packages ") != std::string::npos);

  // A third party checks one entry against the published batch root with the proof alone.
  std::string seq = std::to_string(a.seqAt(3));
  auto out = a.x.runVkhid({"audit", "prove", seq});
  auto proof = boost::json::parse(out.substr(out.find('{'))).as_object();
  std::vector<vkhid::flows::ProofStep> path;
  for (const auto& s : proof.at("path").as_array()) {
    path.push_back({s.at("side").as_string() == "left", std::string(s.at("hash").as_string())});
  }
  std::string root(proof.at("root").as_string());
  std::string entry_hash(proof.at("entry").at("entry_hash").as_string());
  BOOST_TEST(vkhid::flows::checkMerkleProof(entry_hash, path, root));
  BOOST_TEST(root ==
             a.x.sql("SELECT root FROM audit_batch WHERE id = " + std::to_string(proof.at("batch").as_int64())));

  // Entries at a batch's edges are proved against their own batch: the first batch's last entry and the
  // next batch's first (the batch is read from the seq ranges, migration 0014; the token above made
  // the next batch).
  std::string first_batch = a.x.sql("SELECT min(id) FROM audit_batch");
  std::string next_batch = a.x.sql("SELECT min(id) FROM audit_batch WHERE id > " + first_batch);
  for (const auto& [edge, batch] :
       {std::pair{a.x.sql("SELECT last_seq FROM audit_batch WHERE id = " + first_batch), first_batch},
        std::pair{a.x.sql("SELECT first_seq FROM audit_batch WHERE id = " + next_batch), next_batch}}) {
    auto [code, text] = a.x.runVkhidStatus({"audit", "prove", edge});
    BOOST_TEST_INFO("seq " << edge << ": " << text);
    BOOST_REQUIRE(code == 0);
    auto edge_proof = boost::json::parse(text.substr(text.find('{'))).as_object();
    BOOST_TEST(std::to_string(edge_proof.at("batch").as_int64()) == batch);
  }
}

BOOST_AUTO_TEST_CASE(audit_edited_row_is_found_and_named) {
  Audited a;
  long long seq = a.seqAt(5);
  a.x.sql("UPDATE audit_entry SET actor = 'participant:00000000' WHERE seq = " + std::to_string(seq));
  auto v = a.exportAndVerify("edited");
  BOOST_TEST(v.code == 1);
  BOOST_TEST(v.output.find("seq " + std::to_string(seq) + ": edited") != std::string::npos, v.output);
}

BOOST_AUTO_TEST_CASE(audit_deleted_row_is_found_and_named) {
  Audited a;
  long long seq = a.seqAt(6);
  a.x.sql("DELETE FROM audit_entry WHERE seq = " + std::to_string(seq));
  auto v = a.exportAndVerify("deleted");
  BOOST_TEST(v.code == 1);
  BOOST_TEST(v.output.find("seq " + std::to_string(seq) + ": missing") != std::string::npos, v.output);
}

BOOST_AUTO_TEST_CASE(audit_swapped_rows_are_found_and_named) {
  Audited a;
  std::string s1 = std::to_string(a.seqAt(5)), s2 = std::to_string(a.seqAt(8));
  a.x.sql("UPDATE audit_entry SET seq = -1 WHERE seq = " + s1);
  a.x.sql("UPDATE audit_entry SET seq = " + s1 + " WHERE seq = " + s2);
  a.x.sql("UPDATE audit_entry SET seq = " + s2 + " WHERE seq = -1");
  auto v = a.exportAndVerify("swapped");
  BOOST_TEST(v.code == 1);
  BOOST_TEST(v.output.find("seq " + s1 + ": reordered") != std::string::npos, v.output);
}

BOOST_AUTO_TEST_CASE(audit_package_changed_by_one_byte_is_found_and_named) {
  Audited a;
  std::string msg = a.x.sql("SELECT msg_id FROM message WHERE direction = 'out' AND msg_type = 1 LIMIT 1");
  a.x.sql("UPDATE message SET bytes = set_byte(bytes, 300, get_byte(bytes, 300) # 1) WHERE msg_id = '" + msg + "'");
  auto v = a.exportAndVerify("package");
  BOOST_TEST(v.code == 1);
  BOOST_TEST(v.output.find("package edited — message " + msg) != std::string::npos, v.output);
}

BOOST_AUTO_TEST_CASE(audit_batch_root_replaced_is_found_and_named) {
  Audited a;
  std::string batch = a.x.sql("SELECT min(id) FROM audit_batch");
  a.x.sql("UPDATE audit_batch SET root = encode(sha256('another root'), 'hex') WHERE id = " + batch);
  auto v = a.exportAndVerify("root");
  BOOST_TEST(v.code == 1);
  BOOST_TEST(v.output.find("batch " + batch + " ") != std::string::npos, v.output);
  BOOST_TEST(v.output.find("bad signature") != std::string::npos, v.output);
}

BOOST_AUTO_TEST_CASE(audit_timestamp_of_another_batch_is_found_and_named) {
  Audited a;
  // A second batch for certain: the three cases can close within one sealing round (all of it in
  // 0.4 s, one batch), and an entry made after everything is sealed goes into a batch of its own.
  a.x.issueToken("second-batch", "auditor");
  a.waitSealed();
  BOOST_REQUIRE(a.x.count("SELECT count(*) FROM audit_batch") >= 2);
  std::string first = a.x.sql("SELECT min(id) FROM audit_batch"), last = a.x.sql("SELECT max(id) FROM audit_batch");
  a.x.sql("UPDATE audit_batch SET timestamp_token = (SELECT timestamp_token FROM audit_batch WHERE id = " + last +
          ") WHERE id = " + first);
  auto v = a.exportAndVerify("timestamp");
  BOOST_TEST(v.code == 1);
  BOOST_TEST(v.output.find("batch " + first + " ") != std::string::npos, v.output);
  BOOST_TEST(v.output.find("bad time-stamp") != std::string::npos, v.output);
}

BOOST_AUTO_TEST_CASE(audit_tsa_down_batches_wait_intake_fails_closed_then_catches_up) {
  ExchangeHarness x;
  x.setUp();
  unsigned short tsa_port = freePort();  // nothing listens there yet
  x.startGateway(0, {{"VKHID_AUDIT_TSA_URL", "http://127.0.0.1:" + std::to_string(tsa_port) + "/"},
                     {"VKHID_AUDIT_BATCH_MAX_AGE_MS", "300"},
                     {"VKHID_AUDIT_FAIL_CLOSED_AFTER_S", "2"}});
  // Batches are closed and signed, and wait for their time-stamp.
  BOOST_REQUIRE(
      x.waitAtLeast("SELECT count(*) FROM audit_batch WHERE timestamp_token IS NULL AND attempts > 0", 1, 30s));
  // Past the threshold (cases are taken until then): new cases are refused with a clear reason, and
  // the UCC is alerted.
  HttpReply refused;
  BOOST_REQUIRE(eventually(
      [&] {
        refused = x.submit("");
        return refused.status == 503;
      },
      30s));
  BOOST_TEST(refused.body.find("Evidence cannot be sealed") != std::string::npos, refused.body);
  // A refused case changes nothing.
  long long before = x.count("SELECT count(*) FROM cases");
  BOOST_TEST(x.submit("").status == 503);
  BOOST_TEST(x.count("SELECT count(*) FROM cases") == before);
  BOOST_REQUIRE(x.waitAtLeast("SELECT count(*) FROM outbox WHERE routing_key = 'audit.unsealed'", 1, 30s));

  // The authority returns: every waiting batch is stamped, and cases are taken again.
  Tsa tsa(x.dir(), tsa_port);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM audit_batch WHERE timestamp_token IS NULL", 0, 30s));
  HttpReply accepted;
  BOOST_TEST(eventually(
      [&] {
        accepted = x.submit("back");
        return accepted.status == 201;
      },
      30s));
}

BOOST_AUTO_TEST_SUITE_END()
