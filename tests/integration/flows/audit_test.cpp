// The evidence log against the real servers: a day of exchanges exported and verified offline, then
// each kind of tampering found and named; the time-stamp authority down and back.
#define BOOST_TEST_MODULE integration_audit
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <filesystem>
#include <sstream>
#include <thread>

#include "gateway/app/digest.hpp"
#include "gateway/crypto/cms.hpp"
#include "gateway/domain/base64.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/flows/audit.hpp"
#include "gateway/store/migrations.hpp"
#include "gateway/store/pg.hpp"
#include "tests/support/exchange_harness.hpp"
#include "tests/support/pki.hpp"

using namespace vkhid::testing;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;

namespace {

using Tsa = TsaSimulator;

// An entry's hash from its JSON fields, as anyone can compute it (no key is needed to chain).
std::string rehash(const boost::json::object& entry) {
  auto field = [&](const char* key) { return std::string(entry.at(key).as_string()); };
  vkhid::flows::AuditEntry e;
  e.at = field("at");
  e.actor = field("actor");
  e.action = field("action");
  e.subject = field("subject");
  e.payload_sha256 = field("payload_sha256");
  e.prev_hash = field("prev_hash");
  return vkhid::flows::auditEntryHash(e);
}

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
  long long seqAt(int offset) {
    return x.count("SELECT min(first_seq) + " + std::to_string(offset) + " FROM audit_batch");
  }
  // SQL: the id of the entry at `seq` — entries are never updated and carry no seq (migration 0018): an
  // entry's seq is its place in the chain's order (xid, id), from 1 in a fresh database. What someone
  // with write access to the database, tampering, would look for.
  static std::string entryAt(long long seq) {
    return "(SELECT id FROM audit_entry ORDER BY xid, id OFFSET " + std::to_string(seq - 1) + " LIMIT 1)";
  }
  // The seq of the first entry `where` holds.
  long long seqWhere(const std::string& where) {
    return x.count("SELECT count(*) FROM audit_entry x, (SELECT xid, id FROM audit_entry WHERE " + where +
                   " ORDER BY xid, id LIMIT 1) f WHERE (x.xid, x.id) <= (f.xid, f.id)");
  }
  std::string bundle(const std::string& name) { return x.dir() + "/bundle-" + name; }
  // `vkhid audit export` into bundle(name); its one-line summary.
  std::string exportBundle(const std::string& name, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"audit", "export", "--out", bundle(name)};
    args.insert(args.end(), extra.begin(), extra.end());
    return x.runVkhid(args);
  }
  Verdict verify(const std::string& name, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv{binaryPath(), "audit", "verify", bundle(name)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run(argv, "verify-" + name + std::to_string(extra.size()));
  }
  // The manifest's digests made to match the bundle's files again (what a forger does).
  void reManifest(const std::string& name) {
    auto manifest = boost::json::parse(readFile(bundle(name) + "/manifest.json")).as_object();
    for (auto& [file, digest] : manifest["files"].as_object()) {
      digest = vkhid::app::sha256Hex(readFile(bundle(name) + "/" + std::string(file)));
    }
    writeFile(bundle(name) + "/manifest.json", boost::json::serialize(manifest));
  }
  Verdict exportAndVerify(const std::string& name, const std::vector<std::string>& extra = {}) {
    exportBundle(name, extra);
    return verify(name);
  }
  Verdict run(const std::vector<std::string>& argv, const std::string& log) {
    ChildProcess child(argv, {}, x.dir() + "/" + log + ".log");
    return {child.wait(60s).value_or(-1), child.log()};
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(audit, *utf::precondition(servicesAreOurs))

BOOST_AUTO_TEST_CASE(audit_day_of_exchanges_exports_and_verifies_clean) {
  Audited a(5);
  // Every package in and out, every state change and the administrative acts are entries.
  BOOST_TEST(a.x.count("SELECT count(*) FROM audit_entry WHERE action = 'message.out.queued'") >= 5);
  BOOST_TEST(a.x.count("SELECT count(*) FROM audit_entry WHERE action = 'message.in.applied'") >= 20);
  // Each appeal we sent: queued, then sent — the delivery claim between them (sending) is the gateway's own
  // bookkeeping, not evidence (migration 0029).
  BOOST_TEST(a.x.count("SELECT count(*) FROM message m WHERE m.direction = 'out' AND m.msg_type = 1 AND "
                       "ARRAY['message.out.queued', 'message.out.sent'] = (SELECT array_agg(e.action ORDER BY e.id) "
                       "FROM audit_entry e WHERE e.subject LIKE 'msg:' || m.msg_id || ' %')") == 5);
  BOOST_TEST(a.x.count("SELECT count(*) FROM audit_entry WHERE action = 'message.out.sending'") == 0);
  BOOST_TEST(a.x.count("SELECT count(*) FROM audit_entry WHERE action = 'case.closed'") == 5);
  BOOST_TEST(a.x.count("SELECT count(*) FROM audit_entry WHERE action = 'participant.insert' AND actor LIKE "
                       "'admin:cli:%'") == 1);
  // No personal data: the applicant's name appears nowhere in the log.
  BOOST_TEST(a.x.count("SELECT count(*) FROM audit_entry WHERE subject LIKE '%Шевченко%' OR actor LIKE '%Шевченко%'") ==
             0);
  // An entry's batch is the one whose key range holds it — what finds the unsealed entries, an entry's
  // batch for a proof and the batches of an export relies on (migration 0018): every sealed entry lies
  // in exactly one batch's range, and the entries were never updated (no seq, no hash written back).
  BOOST_TEST(a.x.count("SELECT count(*) FROM audit_entry e WHERE (SELECT count(*) FROM audit_batch b WHERE (e.xid, "
                       "e.id) >= (b.first_xid, b.first_id) AND (e.xid, e.id) <= (b.last_xid, b.last_id)) <> 1") == 0);
  BOOST_TEST(a.x.count("SELECT count(*) FROM audit_entry WHERE seq IS NOT NULL OR entry_hash IS NOT NULL") == 0);
  BOOST_TEST(a.x.count("SELECT sum(n_tup_upd) FROM pg_stat_user_tables WHERE relname = 'audit_entry'") == 0);
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
  // Who sealed the batches and when they were time-stamped, for the auditor to compare with what the
  // UCC publishes; with the UCC's org_id given, the same bundle verifies, and with another it fails.
  BOOST_TEST(v.output.find("sealed by " + std::string(kUccOrg) + " (seal certificate SHA-256 ") != std::string::npos,
             v.output);
  BOOST_TEST(v.output.find("time-stamped 20") != std::string::npos, v.output);
  BOOST_TEST(v.output.find(" s after a batch's last entry (batch ") != std::string::npos, v.output);
  BOOST_TEST(a.verify("clean", {"--ucc-org", kUccOrg}).code == 0);
  BOOST_TEST(a.verify("clean", {"--ucc-org", kP1Org}).code == 1);

  // The guide's checks of a batch with stock OpenSSL alone (docs/auditor-guide.md): the seal's signature
  // over the root's 32 bytes and the time-stamp over the root, both against the bundle's CA.
  std::string dir = a.bundle("clean"), ca = dir + "/certs/ca.pem";
  std::string batches = readFile(dir + "/batches.jsonl");
  auto batch = boost::json::parse(batches.substr(0, batches.find('\n'))).as_object();
  std::string root_hex(batch.at("root").as_string());
  writeFile(dir + "/../root.bin", *vkhid::hexDecode(root_hex));
  writeFile(dir + "/../batch.sig", *vkhid::base64Decode(batch.at("signature_base64").as_string()));
  writeFile(dir + "/../batch.tsr", *vkhid::base64Decode(batch.at("timestamp_base64").as_string()));
  auto cms = a.run({"/usr/bin/openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", dir + "/../batch.sig",
                    "-content", dir + "/../root.bin", "-CAfile", ca, "-out", "/dev/null"},
                   "stock-cms");
  BOOST_TEST(cms.code == 0, cms.output);
  auto ts =
      a.run({"/usr/bin/openssl", "ts", "-verify", "-in", dir + "/../batch.tsr", "-digest", root_hex, "-CAfile", ca},
            "stock-ts");
  BOOST_TEST(ts.code == 0, ts.output);
  BOOST_TEST(ts.output.find("Verification: OK") != std::string::npos, ts.output);
  // And an entry's hash with printf and sha256sum, as the guide spells it.
  std::string entries = readFile(dir + "/entries.jsonl");
  auto entry = boost::json::parse(entries.substr(0, entries.find('\n'))).as_object();
  // A whole-log export begins with the first entry ever, which follows the genesis hash (the guide's
  // Limits: how an auditor knows nothing was left out at its start).
  BOOST_TEST(entry.at("seq").as_int64() == 1);
  BOOST_TEST(entry.at("prev_hash").as_string() == std::string(64, '0'));
  std::vector<std::string> recipe{"/bin/sh", "-c",
                                  "printf 'vkhid-audit-1\\n%s\\n%s\\n%s\\n%s\\n%s\\n%s' \"$@\" | sha256sum", "sh"};
  for (const char* key : {"prev_hash", "at", "actor", "action", "subject", "payload_sha256"}) {
    recipe.emplace_back(entry.at(key).as_string());
  }
  auto printed = a.run(recipe, "stock-entry-hash");
  BOOST_TEST(printed.output.substr(0, 64) == std::string(entry.at("entry_hash").as_string()), printed.output);
  std::string other_root = root_hex.substr(0, 63) + (root_hex.back() == '0' ? "1" : "0");
  auto ts_other =
      a.run({"/usr/bin/openssl", "ts", "-verify", "-in", dir + "/../batch.tsr", "-digest", other_root, "-CAfile", ca},
            "stock-ts-other");
  BOOST_TEST(ts_other.code != 0, ts_other.output);  // the same check refuses a root the token is not over

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

BOOST_AUTO_TEST_CASE(audit_proof_of_one_entry_checks_offline_and_fails_when_altered) {
  Audited a(1);
  std::string seq = std::to_string(a.seqAt(2));
  auto out = a.x.runVkhid({"audit", "prove", seq});
  std::string proof_text = out.substr(out.find('{'));
  // A third party with the proof and the CA alone (no database, no bundle).
  auto check = [&](const std::string& name, const std::string& text, const std::string& org) {
    writeFile(a.x.dir() + "/" + name + ".json", text);
    return a.run({binaryPath(), "audit", "check-proof", a.x.dir() + "/" + name + ".json", "--ca", pkiDir() + "/ca.pem",
                  "--ucc-org", org},
                 "check-" + name);
  };
  auto proof = boost::json::parse(proof_text).as_object();
  auto good = check("proof", proof_text, kUccOrg);
  BOOST_TEST(good.code == 0, good.output);
  BOOST_TEST(good.output.find("audit check-proof: OK — seq " + seq + " (") != std::string::npos, good.output);
  BOOST_TEST(good.output.find("is in batch " + std::to_string(proof.at("batch").as_int64())) != std::string::npos,
             good.output);
  BOOST_TEST(good.output.find("sealed by " + std::string(kUccOrg)) != std::string::npos, good.output);
  BOOST_TEST(good.output.find("; time-stamped 20") != std::string::npos, good.output);

  auto edited = proof;
  edited["entry"].as_object()["subject"] = "case:forged";
  auto v = check("edited", boost::json::serialize(edited), kUccOrg);
  BOOST_TEST(v.code == 1);
  BOOST_TEST(v.output.find("seq " + seq + ": edited") != std::string::npos, v.output);

  // Another entry's hash, chained correctly, is not in this root.
  auto moved = proof;
  auto& entry = moved["entry"].as_object();
  entry["payload_sha256"] = std::string(64, 'a');
  entry["entry_hash"] = rehash(entry);
  v = check("moved", boost::json::serialize(moved), kUccOrg);
  BOOST_TEST(v.code == 1);
  BOOST_TEST(v.output.find("seq " + seq + ": not in the batch") != std::string::npos, v.output);

  v = check("other-sealer", proof_text, kP1Org);
  BOOST_TEST(v.code == 1);
  BOOST_TEST(v.output.find("root: bad signature") != std::string::npos, v.output);

  v = check("entry-not-object", "{\"entry\": 1}", kUccOrg);
  BOOST_TEST(v.code == 1);
  BOOST_TEST(v.output.find("proof: 'entry' must be an object") != std::string::npos, v.output);
}

BOOST_AUTO_TEST_CASE(audit_edited_row_is_found_and_named) {
  Audited a;
  long long seq = a.seqAt(5);
  a.x.sql("UPDATE audit_entry SET actor = 'participant:00000000' WHERE id = " + Audited::entryAt(seq));
  auto v = a.exportAndVerify("edited");
  BOOST_TEST(v.code == 1);
  BOOST_TEST(v.output.find("seq " + std::to_string(seq) + ": edited") != std::string::npos, v.output);
}

BOOST_AUTO_TEST_CASE(audit_deleted_row_is_found_and_named) {
  Audited a;
  long long seq = a.seqAt(6);
  a.x.sql("DELETE FROM audit_entry WHERE id = " + Audited::entryAt(seq));
  auto v = a.exportAndVerify("deleted");
  BOOST_TEST(v.code == 1);
  BOOST_TEST(v.output.find("seq " + std::to_string(seq) + ": missing") != std::string::npos, v.output);
}

BOOST_AUTO_TEST_CASE(audit_sealed_entry_deleted_while_the_gateway_was_down_is_alerted_when_it_returns) {
  Audited a;
  // Someone with write access to the database deletes a sealed entry while the gateway is stopped.
  a.x.killGateway(0, SIGTERM);
  const long long seq = a.seqAt(6);
  const std::string batch =
      a.x.sql("SELECT id FROM audit_batch WHERE " + std::to_string(seq) + " BETWEEN first_seq AND last_seq");
  const long long sealed = a.x.count("SELECT entries FROM audit_batch WHERE id = " + batch);
  a.x.sql("DELETE FROM audit_entry WHERE id = " + Audited::entryAt(seq));
  // Back, the gateway recounts what it sealed and alerts the UCC, naming the batch; once.
  a.x.startGateway(0, {{"VKHID_AUDIT_TSA_URL", a.tsa.url()}, {"VKHID_AUDIT_BATCH_MAX_AGE_MS", "300"}});
  const std::string alerts = "FROM outbox_message WHERE routing_key = 'audit.sealed_changed'";
  BOOST_REQUIRE_MESSAGE(a.x.waitAtLeast("SELECT count(*) " + alerts, 1, 30s), a.x.evidenceReport());
  auto alert = boost::json::parse(a.x.sql("SELECT convert_from(payload, 'UTF8') " + alerts)).as_object();
  BOOST_TEST(std::to_string(alert.at("batch").as_int64()) == batch);
  BOOST_TEST(alert.at("sealed").as_int64() == sealed);
  BOOST_TEST(alert.at("held_now").as_int64() == sealed - 1);
  std::this_thread::sleep_for(2s);
  BOOST_TEST(a.x.count("SELECT count(*) " + alerts) == 1);
  // Every other batch holds what it sealed: none is named.
  const auto metrics = httpGet("127.0.0.1", a.x.adminPort(), "/metrics").body;
  const auto at = metrics.find("\nvkhid_audit_sealed_batches_changed_total ");
  BOOST_REQUIRE_MESSAGE(at != std::string::npos, metrics);
  BOOST_TEST(std::stod(metrics.substr(at + 42)) == 1.0);
}

BOOST_AUTO_TEST_CASE(audit_entries_whose_xids_gain_a_digit_are_sealed_in_their_order) {
  // The chain's order is (xid, id) as numbers. When the cluster's transaction ids gain a digit (9999 to
  // 10000, 999999 to 1000000: every cluster passes each), one batch holds both — in text order "10001"
  // comes before "9997", and a sealer that sorted by the key's text closed batches whose first key lay
  // after their last, and lost entries below its tail (stop 41's CI failures). Entries of long-finished
  // transactions across such a step, written before the gateway starts, are sealed and verify.
  ExchangeHarness x;
  Tsa tsa{x.dir()};
  x.setUp();
  x.sql(
      "INSERT INTO audit_entry (xid, actor, action, subject, payload_sha256) SELECT x::text::xid8, 'admin:cli:ops', "
      "'client.note', 'client:step-' || x, repeat('0', 64) FROM unnest(ARRAY[98, 99, 100, 101, 998, 1000]) x");
  x.startGateway(0, {{"VKHID_AUDIT_TSA_URL", tsa.url()}, {"VKHID_AUDIT_BATCH_MAX_AGE_MS", "300"}});
  BOOST_REQUIRE_MESSAGE(x.waitEvidenceSealed(30s), x.evidenceReport());
  BOOST_TEST(x.count("SELECT count(*) FROM audit_batch WHERE (first_xid, first_id) > (last_xid, last_id)") == 0,
             x.evidenceReport());
  x.runVkhid({"audit", "export", "--out", x.dir() + "/bundle-digits"});
  ChildProcess verify({binaryPath(), "audit", "verify", x.dir() + "/bundle-digits"}, {}, x.dir() + "/verify.log");
  BOOST_TEST(verify.wait(60s).value_or(-1) == 0, verify.log() + x.evidenceReport());
  // In the bundle, the six come first, in the order of their transactions.
  std::istringstream lines(readFile(x.dir() + "/bundle-digits/entries.jsonl"));
  std::string line, order;
  for (int i = 0; i < 6 && std::getline(lines, line); ++i) {
    order += std::string(boost::json::parse(line).as_object().at("subject").as_string()) + " ";
  }
  BOOST_TEST(order ==
             "client:step-98 client:step-99 client:step-100 client:step-101 client:step-998 client:step-1000 ");
}

BOOST_AUTO_TEST_CASE(audit_batch_of_its_size_closes_with_an_entry_that_settled_late_in_its_place) {
  // A batch closes once audit.batch_max_entries entries wait, however many of the sealer's passes saw
  // them come: each pass counts only what settled since the last. An entry whose transaction still runs
  // is not counted, and the entries of later transactions wait behind it (the chain is in the order of
  // the transactions); once it commits, it is sealed in its place, before them.
  ExchangeHarness x;
  Tsa tsa{x.dir()};
  x.setUp();
  x.startGateway(0, {{"VKHID_AUDIT_TSA_URL", tsa.url()},
                     {"VKHID_AUDIT_BATCH_MAX_ENTRIES", "25"},
                     {"VKHID_AUDIT_BATCH_MAX_AGE_MS", "600000"}});
  auto note = [&](const std::string& subject) {
    x.sql(
        "INSERT INTO audit_entry (actor, action, subject, payload_sha256) VALUES ('admin:cli:ops', 'client.note', "
        "'client:" +
        subject + "', repeat('0', 64))");
  };
  // What the set-up wrote waits, fewer than a batch; 22 in all, a few at a time, each a pass apart.
  std::this_thread::sleep_for(1s);
  const long long written = x.count("SELECT count(*) FROM audit_entry");
  BOOST_REQUIRE(written < 20);
  for (long long i = written; i < 22; ++i) {
    note("fill-" + std::to_string(i));
    if (i % 4 == 0) std::this_thread::sleep_for(300ms);
  }
  // A transaction that wrote an entry and runs on; five entries of later transactions committed meanwhile.
  auto late = vkhid::store::PgConnection::connect({x.dbUrl(), 5, 0, "late-writer"});
  BOOST_REQUIRE(static_cast<bool>(late));
  BOOST_REQUIRE(static_cast<bool>(late->exec("BEGIN")));
  BOOST_REQUIRE(static_cast<bool>(
      late->exec("INSERT INTO audit_entry (actor, action, subject, payload_sha256) VALUES ('admin:cli:ops', "
                 "'client.note', 'client:late', repeat('0', 64))")));
  for (int i = 1; i <= 5; ++i) note("after-" + std::to_string(i));
  std::this_thread::sleep_for(1500ms);  // several passes: 22 settled, not yet a batch
  BOOST_TEST(x.count("SELECT count(*) FROM audit_batch") == 0, x.evidenceReport());
  // Committed: 28 settle, and the first 25 in the chain's order are sealed — the late entry among them,
  // before every entry written after it.
  BOOST_REQUIRE(static_cast<bool>(late->exec("COMMIT")));
  BOOST_REQUIRE_MESSAGE(eventually([&] { return x.count("SELECT count(*) FROM audit_batch") == 1; }, 30s),
                        x.evidenceReport());
  const std::string in_first =
      "SELECT string_agg(e.subject, ' ' ORDER BY e.xid, e.id) FROM audit_entry e, audit_batch b WHERE (e.xid, e.id) "
      "BETWEEN (b.first_xid, b.first_id) AND (b.last_xid, b.last_id) AND e.subject LIKE 'client:%' AND e.subject NOT "
      "LIKE 'client:fill-%'";
  BOOST_TEST(x.sql(in_first).find("client:late client:after-1 client:after-2") != std::string::npos, x.sql(in_first));
  BOOST_TEST(x.count("SELECT entries FROM audit_batch") == 25);
  // The three left over and 22 more make the next batch.
  for (int i = 0; i < 22; ++i) note("more-" + std::to_string(i));
  BOOST_REQUIRE_MESSAGE(eventually([&] { return x.count("SELECT count(*) FROM audit_batch") == 2; }, 30s),
                        x.evidenceReport());
  BOOST_TEST(x.count("SELECT count(*) FROM audit_batch WHERE entries = 25") == 2);
  BOOST_REQUIRE(
      eventually([&] { return x.count("SELECT count(*) FROM audit_batch WHERE timestamp_token IS NULL") == 0; }, 30s));
  x.runVkhid({"audit", "export", "--out", x.dir() + "/bundle-late"});
  ChildProcess verify({binaryPath(), "audit", "verify", x.dir() + "/bundle-late"}, {}, x.dir() + "/verify.log");
  BOOST_TEST(verify.wait(60s).value_or(-1) == 0, verify.log() + x.evidenceReport());
}

BOOST_AUTO_TEST_CASE(audit_batch_that_forks_the_chain_is_refused_by_the_database) {
  Audited a;
  // A second batch following what the first follows, over a longer range: what a sealer that read a stale
  // tail would write. `columns` replace the first seq and last seq; what the database says.
  auto fork = [&](const std::string& seqs) {
    try {
      a.x.sql(
          "INSERT INTO audit_batch (first_seq, last_seq, entries, root, signature, prev_hash, leaves, first_xid, "
          "first_id, last_xid, last_id) SELECT " +
          seqs +
          ", entries + 1, root, signature, prev_hash, leaves, first_xid, first_id, last_xid, last_id + 1000000 "
          "FROM audit_batch ORDER BY id LIMIT 1");
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  // At the same place in the chain: refused by its first seq.
  const std::string same = fork("first_seq, last_seq + 1");
  BOOST_TEST(same.find("audit_batch_first_seq") != std::string::npos, same);
  // Moved to a free seq, it still follows the same batch: refused by the hash it follows.
  const std::string moved = fork("1000000, 1000001");
  BOOST_TEST(moved.find("audit_batch_follows") != std::string::npos, moved);
  // The chain goes on as before: a case later, the log exports and verifies.
  BOOST_REQUIRE(a.x.submit("after-fork").status == 201);
  BOOST_REQUIRE(a.x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 4, 60s));
  a.waitSealed();
  auto v = a.exportAndVerify("after-fork");
  BOOST_TEST(v.code == 0, v.output);
}

BOOST_AUTO_TEST_CASE(audit_swapped_rows_are_found_and_named) {
  Audited a;
  std::string s1 = std::to_string(a.seqAt(5)), s2 = std::to_string(a.seqAt(8));
  // Each row given the other's content: the two entries trade places in the chain's order.
  std::string i1 = a.x.sql("SELECT " + Audited::entryAt(a.seqAt(5))),
              i2 = a.x.sql("SELECT " + Audited::entryAt(a.seqAt(8)));
  a.x.sql(
      "UPDATE audit_entry a SET at = b.at, actor = b.actor, action = b.action, subject = b.subject, payload_sha256 "
      "= b.payload_sha256 FROM audit_entry b WHERE (a.id, b.id) IN ((" +
      i1 + ", " + i2 + "), (" + i2 + ", " + i1 + "))");
  auto v = a.exportAndVerify("swapped");
  BOOST_TEST(v.code == 1);
  BOOST_TEST(v.output.find("seq " + s1 + ": reordered") != std::string::npos, v.output);
}

BOOST_AUTO_TEST_CASE(audit_package_changed_by_one_byte_is_found_and_named) {
  Audited a;
  std::string msg = a.x.sql("SELECT msg_id FROM message WHERE direction = 'out' AND msg_type = 1 LIMIT 1");
  // In the database the package is sealed (AES-256-GCM): a byte changed there no longer opens. The export
  // names it and goes on; the verifier finds it missing from the bundle.
  a.x.sql("UPDATE message SET bytes = set_byte(bytes, 300, get_byte(bytes, 300) # 1) WHERE msg_id = '" + msg + "'");
  auto exported = a.exportBundle("package-at-rest");
  BOOST_TEST(
      exported.find("package " + msg + " was changed at rest: its sealed bytes do not open") != std::string::npos,
      exported);
  auto at_rest = a.verify("package-at-rest");
  BOOST_TEST(at_rest.code == 1);
  BOOST_TEST(at_rest.output.find("package missing — message " + msg) != std::string::npos, at_rest.output);
  // In a bundle, a package changed by one byte is found against the digest the signed log holds.
  a.x.sql("UPDATE message SET bytes = set_byte(bytes, 300, get_byte(bytes, 300) # 1) WHERE msg_id = '" + msg + "'");
  a.exportBundle("package");
  const std::string file = a.bundle("package") + "/packages/" + msg + ".xml";
  std::string bytes = readFile(file);
  bytes[300] = static_cast<char>(bytes[300] ^ 1);
  writeFile(file, bytes);
  a.reManifest("package");
  auto v = a.verify("package");
  BOOST_TEST(v.code == 1);
  BOOST_TEST(v.output.find("package edited — message " + msg) != std::string::npos, v.output);
}

BOOST_AUTO_TEST_CASE(audit_package_deleted_is_found_and_named) {
  Audited a;
  // A package the log names, deleted from the database (Vkhid never deletes one): the export says so
  // and still writes the bundle, and the verifier names the entry and the message.
  std::string msg = a.x.sql("SELECT msg_id FROM message WHERE direction = 'out' AND msg_type = 1 LIMIT 1");
  std::string peer = a.x.sql("SELECT peer_org_id FROM message WHERE msg_id = '" + msg + "'");
  std::string seq = std::to_string(a.seqWhere("subject LIKE 'msg:" + msg + " %'"));
  a.x.sql("DELETE FROM message WHERE msg_id = '" + msg + "'");
  // What was written since (a report's entry, say) sealed and time-stamped first, as an auditor exports.
  a.waitSealed();
  auto exported = a.exportBundle("package-deleted");
  BOOST_TEST(exported.find("1 package(s) named by the log are not in the database") != std::string::npos, exported);
  auto v = a.verify("package-deleted");
  BOOST_TEST(v.code == 1);
  BOOST_TEST(v.output.find("seq " + seq + ": package missing — message " + msg) != std::string::npos, v.output);

  // An export for one participant holds that participant's packages only: the body the package was for
  // misses it too; another body's export needs none of its packages and verifies.
  auto own = a.exportAndVerify("own-participant", {"--participant", peer});
  BOOST_TEST(own.code == 1);
  BOOST_TEST(own.output.find("package missing — message " + msg) != std::string::npos, own.output);
  auto other = a.exportAndVerify("other-participant", {"--participant", "99999999"});
  BOOST_TEST(other.code == 0, other.output);
  BOOST_TEST(other.output.find("packages 0 (participant 99999999's only)") != std::string::npos, other.output);
}

// Retention and erasure (issue 29): one case erased at its data subject's request, another by the
// daily job once its period has passed. Their personal data and packages go; their figures and the
// packages' digests stay; the evidence still verifies, naming what was erased, under which rule and
// when, instead of "package missing". A bundle of the format before erasures still verifies; an
// erasure record that lies about a digest does not.
BOOST_AUTO_TEST_CASE(privacy_retention_erasure_keeps_the_evidence_verifiable) {
  Audited a(2);
  auto& x = a.x;
  // Format 1 (before erasures): still read.
  a.exportBundle("format-1");
  {
    auto manifest = boost::json::parse(readFile(a.bundle("format-1") + "/manifest.json")).as_object();
    manifest["format"] = "vkhid-evidence-1";
    manifest["files"].as_object().erase("erasures.jsonl");
    std::filesystem::remove(a.bundle("format-1") + "/erasures.jsonl");
    writeFile(a.bundle("format-1") + "/manifest.json", boost::json::serialize(manifest));
  }
  auto old_format = a.verify("format-1");
  BOOST_TEST(old_format.code == 0, old_format.output);
  // The export read both cases' packages: each recorded as a read, with the evidence entries.
  BOOST_TEST(x.count("SELECT count(*) FROM case_access WHERE what = 'export' AND actor LIKE 'admin:cli:%' AND "
                     "reason = 'evidence export'") == 2);
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'case.read' AND subject LIKE '% read:export'") ==
             2);

  const std::string first = x.sql("SELECT id FROM cases ORDER BY registered_at LIMIT 1");
  const std::string second = x.sql("SELECT id FROM cases ORDER BY registered_at DESC LIMIT 1");
  // The name the cases were submitted with (the example case's).
  const auto example = boost::json::parse(readFile(sourceDir() + "/config/examples/case-appeal.json"));
  const std::string surname(example.at("applicant").at("surname").as_string());
  BOOST_REQUIRE(!surname.empty());
  // The data subject's request: a reason and a legal ground, or nothing happens.
  auto bad = x.runVkhidStatus({"case", "erase", first, "--reason", "лист від 01.12.2026", "--ground", "no ground"});
  BOOST_TEST(bad.first != 0);
  BOOST_TEST(bad.second.find("ground: the legal ground") != std::string::npos, bad.second);
  auto erased = x.runVkhid({"case", "erase", first, "--reason", "лист від 01.12.2026", "--ground", "zpd-art8-p2-8"});
  BOOST_TEST(erased.find("erased under rule request:zpd-art8-p2-8") != std::string::npos, erased);
  BOOST_TEST(x.runVkhidStatus({"case", "erase", first, "--reason", "again", "--ground", "zpd"}).first != 0);

  // The daily job: nothing is due until the second case ended more than five years ago.
  BOOST_TEST(x.runVkhid({"retention", "run", "--dry-run"}).find("0 case(s) due") != std::string::npos);
  x.sql("UPDATE case_event SET at = at - interval '5 years 1 day' WHERE case_id = '" + second + "' RETURNING 1");
  BOOST_TEST(x.runVkhid({"retention", "run", "--dry-run"}).find("1 case(s) due") != std::string::npos);
  BOOST_TEST(x.count("SELECT count(*) FROM cases WHERE erased_at IS NOT NULL") == 1);  // a dry run erased none
  auto run = x.runVkhid({"retention", "run"});
  BOOST_TEST(run.find("1 case(s) erased") != std::string::npos, run);

  // Gone: names, contacts, text, attachments, the packages' bytes. Kept: the figures and the digests.
  BOOST_TEST(x.count("SELECT count(*) FROM cases WHERE body ? 'text' OR body ? 'attachments' OR "
                     "body->'applicant' ? 'surname' OR body->'applicant' ? 'email' OR body->'applicant' ? 'phone'") ==
             0);
  BOOST_TEST(x.count("SELECT count(*) FROM cases WHERE body::text LIKE '%" + surname + "%'") == 0);
  BOOST_TEST(x.count("SELECT count(*) FROM cases WHERE erased_at IS NOT NULL AND (personal IS NOT NULL OR "
                     "applicant_key IS NOT NULL OR contact_keys IS NOT NULL)") == 0);
  BOOST_TEST(x.count("SELECT count(*) FROM cases WHERE body->>'kind' = 'appeal' AND body ? 'classification' AND "
                     "status = 'closed'") == 2);
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE case_id IS NOT NULL AND octet_length(bytes) > 0") == 0);
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE case_id IS NOT NULL AND length(sha256) = 64") ==
             x.count("SELECT count(*) FROM message WHERE case_id IS NOT NULL"));
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'erasure.package'") ==
             x.count("SELECT count(*) FROM message WHERE case_id IS NOT NULL"));
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'erasure.case'") == 2);
  BOOST_TEST(x.runVkhid({"retention", "run"}).find("0 case(s) erased") != std::string::npos);  // done is done
  // The channel asking for an erased answer is told there is none.
  auto answer = httpRequest("GET", "127.0.0.1", x.intakePort(), "/api/v1/cases/" + first + "/answer",
                            {{"Authorization", "Bearer " + x.token()}}, "");
  BOOST_TEST(answer.status == 404);

  // The evidence: the chain and batches verify, and each erased package is named with its rule.
  a.waitSealed();
  auto v = a.exportAndVerify("erased");
  BOOST_TEST(v.code == 0, v.output);
  BOOST_TEST(v.output.find("erased under rule request:zpd-art8-p2-8 on ") != std::string::npos, v.output);
  BOOST_TEST(v.output.find("erased under rule retention:appeal:5y on ") != std::string::npos, v.output);
  BOOST_TEST(v.output.find("(its hash was ") != std::string::npos, v.output);
  BOOST_TEST(v.output.find("package missing") == std::string::npos, v.output);
  // An erasure record that gives another digest than the log's is refused.
  const std::string lines = readFile(a.bundle("erased") + "/erasures.jsonl");
  const auto at = lines.find("\"sha256\":\"") + 10;
  std::string forged = lines;
  forged[at] = forged[at] == '0' ? '1' : '0';
  writeFile(a.bundle("erased") + "/erasures.jsonl", forged);
  a.reManifest("erased");
  auto lie = a.verify("erased");
  BOOST_TEST(lie.code == 1);
  BOOST_TEST(lie.output.find("eras") != std::string::npos, lie.output);
}

BOOST_AUTO_TEST_CASE(audit_entries_no_batch_holds_are_refused) {
  Audited a;
  a.x.issueToken("last-batch", "auditor");  // an entry after everything is sealed: a last batch of its own
  a.waitSealed();
  BOOST_REQUIRE(a.x.count("SELECT count(*) FROM audit_batch") >= 2);
  a.exportBundle("unsealed");
  std::string dir = a.bundle("unsealed");
  // The bundle's last batch dropped and its entries rewritten — chained again, which anyone can do:
  // nothing signed holds them any more, and the manifest is made to match.
  std::string batches = readFile(dir + "/batches.jsonl");
  std::size_t cut = batches.rfind('\n', batches.size() - 2);
  BOOST_REQUIRE(cut != std::string::npos);
  long long first = boost::json::parse(batches.substr(cut + 1)).at("first_seq").as_int64();
  writeFile(dir + "/batches.jsonl", batches.substr(0, cut + 1));
  std::istringstream lines(readFile(dir + "/entries.jsonl"));
  std::string line, rewritten, prev;
  while (std::getline(lines, line)) {
    auto o = boost::json::parse(line).as_object();
    if (o.at("seq").as_int64() >= first) {
      if (o.at("seq").as_int64() == first) o["subject"] = "api_client:forged role:admin";
      if (!prev.empty()) o["prev_hash"] = prev;
      o["entry_hash"] = rehash(o);
    }
    prev = std::string(o.at("entry_hash").as_string());
    rewritten += boost::json::serialize(o) + "\n";
  }
  writeFile(dir + "/entries.jsonl", rewritten);
  a.reManifest("unsealed");
  auto v = a.verify("unsealed");
  BOOST_TEST(v.code == 1);
  BOOST_TEST(v.output.find("seq " + std::to_string(first) + ": unsealed") != std::string::npos, v.output);
}

BOOST_AUTO_TEST_CASE(audit_bundle_resealed_by_a_participant_fails_against_the_uccs_org) {
  Audited a;
  a.exportBundle("resealed");
  // A participant — its seal chains to the same CA — re-signs every batch root and names itself the
  // UCC in the manifest (which nothing signs). The roots and time-stamps are untouched, so only the
  // sealer's identity can tell: the summary names it, and the auditor's own --ucc-org refuses it.
  std::istringstream lines(readFile(a.bundle("resealed") + "/batches.jsonl"));
  std::string line, resealed;
  while (std::getline(lines, line)) {
    auto b = boost::json::parse(line).as_object();
    auto root = vkhid::hexDecode(b.at("root").as_string());
    auto sig = vkhid::crypto::signDetached(*root, signerOf("p1-seal"));
    BOOST_REQUIRE(sig);
    b["signature_base64"] = vkhid::base64Encode(sig->der);
    resealed += boost::json::serialize(b) + "\n";
  }
  writeFile(a.bundle("resealed") + "/batches.jsonl", resealed);
  auto manifest = boost::json::parse(readFile(a.bundle("resealed") + "/manifest.json")).as_object();
  manifest["ucc_org_id"] = kP1Org;
  writeFile(a.bundle("resealed") + "/manifest.json", boost::json::serialize(manifest));
  a.reManifest("resealed");

  auto forged = a.verify("resealed");
  BOOST_TEST(forged.output.find("sealed by " + std::string(kP1Org)) != std::string::npos, forged.output);
  auto checked = a.verify("resealed", {"--ucc-org", kUccOrg});
  BOOST_TEST(checked.code == 1);
  BOOST_TEST(checked.output.find("batch ") != std::string::npos, checked.output);
  BOOST_TEST(checked.output.find("bad signature") != std::string::npos, checked.output);
}

BOOST_AUTO_TEST_CASE(audit_malformed_bundle_is_refused_by_line_and_field_never_a_crash) {
  Audited a(1);
  a.exportBundle("good");
  std::string batches = readFile(a.bundle("good") + "/batches.jsonl");
  std::string first_line = batches.substr(0, batches.find('\n'));
  auto batch_with = [&](const char* key, boost::json::value v) {
    auto b = boost::json::parse(first_line).as_object();
    b[key] = std::move(v);
    return boost::json::serialize(b) + "\n" + batches.substr(batches.find('\n') + 1);
  };
  // Each: a copy of the good bundle with one file replaced (the manifest made to match), and what the
  // verifier must say — exit 1, the place named; an exception or a crash would exit otherwise.
  struct Hostile {
    std::string name, file, content, said;
  };
  std::vector<Hostile> cases{
      {"id-text", "batches.jsonl", batch_with("id", "x"),
       "batches.jsonl: line 1: 'id', 'first_seq' and 'last_seq' must be integers"},
      {"range-backwards", "batches.jsonl", batch_with("first_seq", 1000000),
       "batches.jsonl: line 1: expected 1 <= first_seq <= last_seq"},
      {"root-number", "batches.jsonl", batch_with("root", 7),
       "batches.jsonl: line 1: 'root' and 'signature_base64' must be strings"},
      {"stamp-number", "batches.jsonl", batch_with("timestamp_base64", 7), "bad time-stamp"},
      {"manifest-array", "manifest.json", "[1, 2]", "manifest.json: not a JSON object"},
      {"manifest-escapes", "manifest.json", R"({"files": {"../../../../etc/hostname": "00"}})",
       "manifest.json: the file name '../../../../etc/hostname' leaves the bundle"},
  };
  for (const auto& h : cases) {
    BOOST_TEST_CONTEXT(h.name) {
      std::filesystem::copy(a.bundle("good"), a.bundle(h.name), std::filesystem::copy_options::recursive);
      writeFile(a.bundle(h.name) + "/" + h.file, h.content);
      if (h.file != "manifest.json") a.reManifest(h.name);
      auto v = a.verify(h.name);
      BOOST_TEST(v.code == 1, v.output);
      BOOST_TEST(v.output.find(h.said) != std::string::npos, v.output);
    }
  }
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

BOOST_AUTO_TEST_CASE(audit_log_sealed_before_entries_became_append_only_verifies_across_the_change) {
  // The log as a gateway before migration 0018 kept it: each entry chained in place (its seq, prev_hash
  // and entry_hash written into the row), and a batch over the first three; the fourth chained but in
  // no batch, the fifth not chained yet.
  ExchangeHarness x;
  Tsa tsa{x.dir()};
  auto db = vkhid::store::PgConnection::connect({x.dbUrl(), 5, 30000, "vkhid-before-0018"});
  BOOST_REQUIRE(db);
  std::vector<vkhid::store::Migration> before;
  for (const auto& m : vkhid::store::embeddedMigrations()) {
    if (m.version < 18) before.push_back(m);
  }
  BOOST_REQUIRE(vkhid::store::migrate(*db, before));
  std::vector<std::string> hashes;
  std::string prev(64, '0');
  for (int i = 1; i <= 5; ++i) {
    const std::string subject = "client:before-" + std::to_string(i) + " role:auditor",
                      where = " WHERE subject = '" + subject + "'";
    x.sql(
        "INSERT INTO audit_entry (actor, action, subject, payload_sha256) VALUES ('admin:cli:ops', "
        "'api_client.insert', '" +
        subject + "', encode(sha256('" + subject + "'), 'hex'))");
    if (i == 5) break;
    vkhid::flows::AuditEntry e;
    e.at = x.sql("SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM audit_entry" + where);
    e.actor = "admin:cli:ops";
    e.action = "api_client.insert";
    e.subject = subject;
    e.payload_sha256 = x.sql("SELECT payload_sha256 FROM audit_entry" + where);
    e.prev_hash = prev;
    prev = vkhid::flows::auditEntryHash(e);
    hashes.push_back(prev);
    x.sql("UPDATE audit_entry SET seq = " + std::to_string(i) + ", prev_hash = '" + e.prev_hash + "', entry_hash = '" +
          prev + "'" + where);
  }
  const std::string root = vkhid::flows::merkleRoot({hashes[0], hashes[1], hashes[2]});
  auto signature = vkhid::crypto::signDetached(*vkhid::hexDecode(root), signerOf("ucc-seal"));
  BOOST_REQUIRE(signature);
  x.sql("INSERT INTO audit_batch (first_seq, last_seq, entries, root, signature) VALUES (1, 3, 3, '" + root +
        "', '\\x" + vkhid::hexEncode(signature->der) + "')");

  // The gateway of today migrates it, time-stamps the old batch, and seals what follows into batches of
  // the append-only kind; the whole log, across the change, exports and verifies.
  x.setUp();
  x.startGateway(0, {{"VKHID_AUDIT_TSA_URL", tsa.url()}, {"VKHID_AUDIT_BATCH_MAX_AGE_MS", "300"}});
  x.startSimulator();
  BOOST_REQUIRE(x.submit("after").status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s));
  BOOST_REQUIRE(x.waitEvidenceSealed(30s));
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE seq IS NOT NULL") == 3);  // the batched ones only
  x.runVkhid({"audit", "export", "--out", x.dir() + "/bundle-across"});
  ChildProcess verify({binaryPath(), "audit", "verify", x.dir() + "/bundle-across"}, {}, x.dir() + "/verify.log");
  BOOST_TEST(verify.wait(60s).value_or(-1) == 0, verify.log());
  BOOST_TEST(verify.log().find("audit verify: OK") != std::string::npos, verify.log());
  // The old batch's entries keep their seqs and hashes; the one chained in no batch is chained again,
  // to the same hash, and the one never chained follows it.
  std::istringstream lines(readFile(x.dir() + "/bundle-across/entries.jsonl"));
  std::string line;
  for (int seq = 1; seq <= 5 && std::getline(lines, line); ++seq) {
    auto entry = boost::json::parse(line).as_object();
    BOOST_TEST_CONTEXT("seq " << seq) {
      BOOST_TEST(entry.at("seq").as_int64() == seq);
      BOOST_TEST(entry.at("subject").as_string() == "client:before-" + std::to_string(seq) + " role:auditor");
      if (seq <= 4) BOOST_TEST(entry.at("entry_hash").as_string() == hashes[static_cast<std::size_t>(seq - 1)]);
      if (seq == 5) BOOST_TEST(entry.at("prev_hash").as_string() == hashes[3]);
    }
  }
}

BOOST_AUTO_TEST_CASE(audit_sealer_lock_held_by_a_stuck_session_is_named_then_sealing_resumes) {
  ExchangeHarness x;
  Tsa tsa{x.dir()};
  x.setUp();
  x.startGateway(0, {{"VKHID_AUDIT_TSA_URL", tsa.url()}, {"VKHID_AUDIT_BATCH_MAX_AGE_MS", "300"}});
  BOOST_REQUIRE(x.waitEvidenceSealed(30s));
  // A session that took the sealer's lock and hangs — a second gateway stuck mid-round.
  auto stuck = vkhid::store::PgConnection::connect({x.dbUrl(), 5, 0, "stuck-gateway"});
  BOOST_REQUIRE(static_cast<bool>(stuck));
  BOOST_REQUIRE(static_cast<bool>(stuck->exec("BEGIN")));
  BOOST_REQUIRE(static_cast<bool>(stuck->exec("SELECT pg_advisory_xact_lock(hashtext('vkhid.audit'))")));
  BOOST_REQUIRE(x.submit("while-stuck").status == 201);
  // Nothing is sealed meanwhile, and the gateway says who holds the lock.
  const std::string warning = "held the sealer's lock for over 10 s";
  BOOST_REQUIRE(eventually([&] { return x.gatewayLog().find(warning) != std::string::npos; }, 30s));
  const std::string log = x.gatewayLog();
  const std::string line = log.substr(log.find(warning), 200);
  BOOST_TEST(line.find("stuck-gateway pid ") != std::string::npos, line);
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'case.registered'") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM audit_batch b, audit_entry e WHERE e.action = 'case.registered' AND "
                     "(e.xid, e.id) BETWEEN (b.first_xid, b.first_id) AND (b.last_xid, b.last_id)") == 0);
  // Released, the gateway seals what waited.
  BOOST_REQUIRE(static_cast<bool>(stuck->exec("ROLLBACK")));
  BOOST_TEST(x.waitEvidenceSealed(30s));
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
  BOOST_REQUIRE(x.waitAtLeast("SELECT count(*) FROM outbox_message WHERE routing_key = 'audit.unsealed'", 1, 30s));

  // The authority returns (three seconds later still): every waiting batch is stamped, and cases are
  // taken again.
  std::this_thread::sleep_for(3s);
  Tsa tsa(x.dir(), tsa_port);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM audit_batch WHERE timestamp_token IS NULL", 0, 30s));
  HttpReply accepted;
  BOOST_TEST(eventually(
      [&] {
        accepted = x.submit("back");
        return accepted.status == 201;
      },
      30s));
  // The wait shows in the evidence: the verifier names how long the entries of a batch went without
  // a time-stamp — the two seconds after which intake was refused (less the batch's 0.3 s) and the
  // three after, in whole seconds (a normal batch's is 0 or 1).
  x.runVkhid({"audit", "export", "--out", x.dir() + "/bundle-late"});
  ChildProcess verify({binaryPath(), "audit", "verify", x.dir() + "/bundle-late"}, {}, x.dir() + "/verify-late.log");
  BOOST_TEST(verify.wait(60s).value_or(-1) == 0, verify.log() + x.evidenceReport());
  auto at = verify.log().find(", at most ");
  BOOST_REQUIRE_MESSAGE(at != std::string::npos, verify.log());
  BOOST_TEST(std::stoll(verify.log().substr(at + 10)) >= 4, verify.log());
}

// A batch is sealed a moment before its time-stamp comes back, longer while the authority is away. An
// auditor who exports in that moment gets a bundle that verifies: the batch still waiting is left out
// and named, and is in the next export once stamped. Exported while every batch in the range waits,
// the export is refused with the reason and records nothing.
BOOST_AUTO_TEST_CASE(audit_export_leaves_out_a_batch_waiting_for_its_time_stamp_and_names_it) {
  Audited a;
  const long long stamped = a.x.count("SELECT count(*) FROM audit_batch");
  const unsigned short port = a.tsa.port;
  a.tsa.process.reset();  // the authority is away
  const std::string since = a.x.sql("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')");
  a.x.issueToken("while-away", "auditor");  // an entry: sealed into a batch that cannot be stamped yet
  BOOST_REQUIRE(
      a.x.waitAtLeast("SELECT count(*) FROM audit_batch WHERE timestamp_token IS NULL AND attempts > 0", 1, 30s));
  const std::string waiting = a.x.sql("SELECT min(id) FROM audit_batch WHERE timestamp_token IS NULL");

  const std::string summary = a.exportBundle("while-away");
  auto names = [&](const std::string& text) {  // "batch 3 (seq …" or, more than one, "batches 3..4 (seq …"
    return text.find("batch " + waiting + " (seq ") != std::string::npos ||
           text.find("batches " + waiting + "..") != std::string::npos;
  };
  BOOST_TEST(names(summary), summary);
  BOOST_TEST(summary.find("time-stamp — not in this bundle; export again once stamped") != std::string::npos, summary);
  auto v = a.verify("while-away");
  BOOST_TEST(v.code == 0, v.output);
  BOOST_TEST(v.output.find("batches " + std::to_string(stamped) + ",") != std::string::npos, v.output);

  const long long entries = a.x.count("SELECT count(*) FROM audit_entry");
  auto [code, out] = a.x.runVkhidStatus({"audit", "export", "--from", since, "--out", a.bundle("only-waiting")}, {});
  BOOST_TEST(code == 2);
  // The export's own reads (the cases whose packages the first bundle holds) wait in a batch after it.
  BOOST_TEST(out.find("no batch with entries in that range is time-stamped yet: batch") != std::string::npos, out);
  BOOST_TEST(names(out), out);
  BOOST_TEST(a.x.count("SELECT count(*) FROM audit_entry") == entries);

  // The authority returns: the batch is stamped, and the next export holds it and verifies.
  Tsa back(a.x.dir(), port);
  a.waitSealed();
  const std::string after = a.exportBundle("stamped");
  BOOST_TEST(after.find("time-stamp") == std::string::npos, after);
  auto all = a.verify("stamped");
  BOOST_TEST(all.code == 0, all.output);
  BOOST_TEST(all.output.find("batches " + std::to_string(stamped) + ",") == std::string::npos, all.output);
}

BOOST_AUTO_TEST_SUITE_END()
