// The evidence log exported for an auditor (a bundle), and one entry's inclusion proof.
#include "gateway/flows/audit.hpp"

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "gateway/app/digest.hpp"
#include "gateway/app/logging.hpp"
#include "gateway/app/metrics.hpp"
#include "gateway/bus/topology.hpp"
#include "gateway/crypto/cms.hpp"
#include "gateway/crypto/openssl.hpp"
#include "gateway/crypto/package.hpp"
#include "gateway/crypto/timestamp.hpp"
#include "gateway/domain/base64.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/domain/time.hpp"
#include "gateway/flows/audit_internal.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/store/evidence.hpp"
#include "gateway/store/messages.hpp"
#include "gateway/store/participants.hpp"
#include "gateway/store/pg_pool.hpp"

namespace vkhid::flows {

using namespace audit_detail;
namespace json = boost::json;
namespace fs = std::filesystem;

// ---- export ----

namespace {

json::object batchJson(const store::BatchRow& b) {
  json::object o{{"id", b.id},           {"first_seq", b.first_seq}, {"last_seq", b.last_seq},
                 {"entries", b.entries}, {"root", b.root},           {"signature_base64", base64Encode(b.signature)}};
  if (b.timestamp_token) o["timestamp_base64"] = base64Encode(*b.timestamp_token);
  return o;
}

// Where the batches still waiting for their time-stamp begin at the end of `batches` (end(): none waits).
std::vector<store::BatchRow>::iterator unstampedTail(std::vector<store::BatchRow>& batches) {
  auto first = batches.end();
  while (first != batches.begin() && !std::prev(first)->timestamp_token) --first;
  return first;
}

// "batch 41 (seq 9120..9133)", or "batches 41..42 (seq 9120..9170)".
std::string batchesNamed(const store::BatchRow& first, const store::BatchRow& last) {
  const std::string ids = first.id == last.id ? "batch " + std::to_string(first.id)
                                              : "batches " + std::to_string(first.id) + ".." + std::to_string(last.id);
  return ids + " (seq " + std::to_string(first.first_seq) + ".." + std::to_string(last.last_seq) + ")";
}

// The packages the entries name, byte for byte (`absent`: named, but no longer in the database, or
// stored sealed bytes that no longer open — changed at rest, named in `changed`); how many were written.
Result<int> writePackages(store::PgConnection& db, const std::string& out_dir, const std::set<std::string>& packages,
                          int& absent, std::string& erasure_lines, std::vector<std::string>& changed) {
  int written = 0;
  for (const auto& msg_id : packages) {
    auto m = store::storedPackage(db, msg_id);
    if (!m && m.error().code == "at_rest.tampered") {  // logged and counted by the store; the rest goes on
      ++absent;
      changed.push_back(msg_id);
      continue;
    }
    if (!m) return m.error();
    if (!*m) {  // deleted from the store (Vkhid never deletes one): exported without it, verify names it
      ++absent;
      continue;
    }
    // Erased under a retention rule or a data subject's request: what, why and when, in its place.
    if (!(*m)->erased_at.empty()) {
      erasure_lines += json::serialize(json::object{{"msg_id", msg_id},
                                                    {"sha256", (*m)->sha256},
                                                    {"rule", (*m)->erased_rule},
                                                    {"erased_at", (*m)->erased_at}}) +
                       "\n";
      continue;
    }
    // An oversized package refused unread was kept as its first kilobytes only: they go as .head.
    const char* suffix = (*m)->bytes_cut ? ".head" : ".xml";
    if (auto s = writeFile(fs::path(out_dir) / "packages" / (msg_id + suffix), (*m)->bytes); !s) {
      return s.error();
    }
    ++written;
  }
  return written;
}

// The qualified providers' lists of trust.qualified_lists, numbered in the order they are read.
Status writeQualifiedLists(const app::Config& config, const std::string& out_dir) {
  std::error_code made;
  fs::create_directories(fs::path(out_dir) / "certs" / "qualified", made);
  int n = 0;
  for (const auto& path : splitList(config.trust.qualified_lists)) {
    std::error_code ec;
    std::vector<fs::path> files;
    if (fs::is_directory(path, ec)) {
      for (const auto& f : fs::directory_iterator(path, ec)) files.push_back(f.path());
    } else {
      files.emplace_back(path);
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      auto bytes = crypto::readFile(f.string());
      if (!bytes) return bytes.error();
      const std::string name = std::to_string(++n) + "-" + f.filename().string();
      if (auto s = writeFile(fs::path(out_dir) / "certs" / "qualified" / name, *bytes); !s) return s;
    }
  }
  return {};
}

// The certificates an auditor needs: the CA(s) of the seal and the TSA, the seal's own certificate,
// and the CA certificates each participant's signatures chain to.
Status writeCertificates(store::PgConnection& db, const app::Config& config, const std::string& out_dir,
                         const std::map<std::string, std::string>& peers) {
  auto ca = crypto::readFile(config.audit.ca_file);
  if (!ca) return ca.error();
  if (auto s = writeFile(fs::path(out_dir) / "certs" / "ca.pem", *ca); !s) return s;
  if (auto seal = crypto::readFile(config.gateway.seal_cert)) {
    if (auto s = writeFile(fs::path(out_dir) / "certs" / "ucc-seal.pem", *seal); !s) return s;
  }
  bool global_list = false;
  for (const auto& [org, unused] : peers) {
    auto p = store::participantTrust(db, org);
    if (!p) return p.error();
    if (!*p) continue;
    if (!(*p)->trust_pem.empty()) {
      if (auto s = writeFile(fs::path(out_dir) / "certs" / ("participant-" + org + ".pem"), (*p)->trust_pem); !s) {
        return s;
      }
    }
    // The qualified providers' list its attachment signatures were judged against: its own, or the global.
    if (const auto& pinned = (*p)->trust_list; !pinned.empty()) {
      if (auto s = writeFile(fs::path(out_dir) / "certs" / ("participant-" + org + "-list.p7b"), pinned); !s) {
        return s;
      }
    } else {
      global_list = true;
    }
  }
  return global_list ? writeQualifiedLists(config, out_dir) : Status();
}

// manifest.json: what the export holds, and every file's SHA-256.
Status writeManifest(const std::string& out_dir, json::object manifest) {
  json::object files;
  for (const auto& f : fs::recursive_directory_iterator(out_dir)) {
    if (!f.is_regular_file() || f.path().filename() == "manifest.json") continue;
    files[fs::relative(f.path(), out_dir).string()] = app::sha256Hex(*readAll(f.path()));
  }
  manifest["files"] = std::move(files);
  return writeFile(fs::path(out_dir) / "manifest.json", json::serialize(manifest) + "\n");
}

// Who read what (issue 29): every case whose stored packages the bundle will hold, as a read "export" by
// the export's actor, in one statement with its evidence entries. Erased packages hold nothing to read.
Status recordExportReads(store::PgConnection& recorder, store::PgConnection& db, const std::set<std::string>& packages,
                         const std::string& reason) {
  if (packages.empty()) return {};
  auto actor = db.exec("SELECT vkhid_audit_actor()");
  if (!actor) return actor.error();
  std::string ids = "{";
  for (const auto& id : packages) ids += (ids.size() > 1 ? "," : "") + id;
  ids += "}";
  auto r = recorder.exec(
      "WITH r AS (INSERT INTO case_access (case_id, actor, what, restricted, reason) SELECT DISTINCT m.case_id, $2, "
      "'export', c.restricted, $3 FROM message m JOIN cases c ON c.id = m.case_id WHERE m.msg_id::text = "
      "ANY($1::text[]) AND m.erased_at IS NULL RETURNING case_id, restricted) "
      "INSERT INTO audit_entry (actor, action, subject, payload_sha256) SELECT $2, 'case.read', 'case:' || case_id || "
      "' read:export' || CASE WHEN restricted THEN ' restricted' ELSE '' END, vkhid_audit_digest($3) FROM r",
      {ids, std::string(actor->get(0, 0)), reason});
  return r ? Status() : Status(r.error());
}

}  // namespace

Result<std::string> exportBundle(store::PgConnection& db, const app::Config& config, const ExportOptions& o) {
  fs::create_directories(fs::path(o.out_dir) / "packages");
  fs::create_directories(fs::path(o.out_dir) / "certs");
  // Whole batches: every batch from the first to the last with an entry in the range, and those between
  // (an entry's time is its transaction's start, so a batch between two may have none in the range; its
  // entries are exported as the range's own, and the verifier refuses entries no batch holds).
  auto batches = store::batchesCovering(db, o.from, o.to);
  if (!batches) return batches.error();
  if (batches->empty()) return Error::invalid("audit.export", "no sealed batch has entries in that range");
  std::string waiting;  // the last batches of the range, sealed but not yet time-stamped: not exported
  if (auto unstamped = unstampedTail(*batches); o.stamped_only && unstamped != batches->end()) {
    waiting = batchesNamed(*unstamped, batches->back()) +
              (unstamped + 1 == batches->end() ? " awaits its time-stamp" : " await their time-stamps");
    if (unstamped == batches->begin()) {
      return Error::invalid("audit.export", "no batch with entries in that range is time-stamped yet: " + waiting +
                                                "; export again once the time-stamp authority has answered");
    }
    waiting += " — not in this bundle; export again once stamped";
    batches->erase(unstamped, batches->end());
  }
  const std::string lo = std::to_string(batches->front().first_seq), hi = std::to_string(batches->back().last_seq);
  std::string batch_lines;
  for (const auto& batch : *batches) batch_lines += json::serialize(batchJson(batch)) + "\n";
  std::string entry_lines;
  std::set<std::string> packages;
  std::map<std::string, std::string> peers;
  long long next_seq = batches->front().first_seq, count = 0;
  for (const auto& batch : *batches) {
    auto rows = store::batchEntries(db, batch);
    if (!rows) return rows.error();
    for (const AuditEntry& e : placeEntries(batch, *rows, next_seq)) {
      entry_lines += json::serialize(entryJson(e)) + "\n";
      ++next_seq;
      ++count;
      if (e.action.starts_with("message.")) {
        std::string peer = field(e.subject, "peer");
        if (o.participant.empty() || peer == o.participant) packages.insert(field(e.subject, "msg"));
        peers[peer] = peer;
      }
    }
  }
  if (auto s = recordExportReads(o.recorder ? *o.recorder : db, db, packages, o.reason); !s) return s.error();
  int absent = 0;
  std::string erasure_lines;
  std::vector<std::string> changed;
  auto written = writePackages(db, o.out_dir, packages, absent, erasure_lines, changed);
  if (!written) return written.error();
  if (auto e = writeFile(fs::path(o.out_dir) / "erasures.jsonl", erasure_lines); !e) return e.error();
  if (auto s = writeCertificates(db, config, o.out_dir, peers); !s) return s.error();
  if (auto s = writeFile(fs::path(o.out_dir) / "entries.jsonl", entry_lines); !s) return s.error();
  if (auto s = writeFile(fs::path(o.out_dir) / "batches.jsonl", batch_lines); !s) return s.error();
  // Format 2 adds erasures.jsonl (issue 29); the verifier reads format 1 bundles as before.
  json::object manifest{{"format", "vkhid-evidence-2"},
                        {"ucc_org_id", config.gateway.org_id},
                        {"from", o.from},
                        {"to", o.to},
                        {"participant", o.participant},
                        {"entries", count},
                        {"batches", batches->size()},
                        {"packages", *written}};
  if (auto s = writeManifest(o.out_dir, std::move(manifest)); !s) return s.error();
  std::string summary = "exported " + std::to_string(count) + " entries (seq " + lo + ".." + hi + "), " +
                        std::to_string(batches->size()) + " batches, " + std::to_string(*written) + " packages to " +
                        o.out_dir;
  if (absent > 0) {
    summary += "; " + std::to_string(absent) +
               " package(s) named by the log are not in the database — 'audit verify' names them";
  }
  for (const auto& msg_id : changed)
    summary += "; package " + msg_id + " was changed at rest: its sealed bytes do not open";
  if (!waiting.empty()) summary += "; " + waiting;
  return summary;
}

Result<std::string> proveEntry(store::PgConnection& db, long long seq) {
  auto b = store::batchHolding(db, seq);
  if (!b) return b.error();
  if (!*b) return Error::invalid("audit.prove", "no entry with seq " + std::to_string(seq) + " in a batch yet");
  auto rows = store::batchEntries(db, **b);
  if (!rows) return rows.error();
  const auto placed = placeEntries(**b, *rows, (*b)->first_seq);
  const auto index = static_cast<std::size_t>(seq - (*b)->first_seq);
  if (index >= placed.size()) return Error::invalid("audit.prove", "no entry with seq " + std::to_string(seq));
  json::array path;
  for (const auto& step : merkleProof(batchLeaves(**b), index)) {
    path.push_back(json::object{{"side", step.left ? "left" : "right"}, {"hash", step.hash}});
  }
  json::object out{{"entry", entryJson(placed[index])},
                   {"leaf_index", index},
                   {"path", std::move(path)},
                   {"batch", (*b)->id},
                   {"root", (*b)->root},
                   {"signature_base64", base64Encode((*b)->signature)}};
  if ((*b)->timestamp_token) out["timestamp_base64"] = base64Encode(*(*b)->timestamp_token);
  return json::serialize(out);
}

}  // namespace vkhid::flows
