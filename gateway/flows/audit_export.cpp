// The evidence log exported for an auditor (a bundle), and one entry's inclusion proof.
#include "gateway/flows/audit.hpp"

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

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
#include "gateway/store/pg_pool.hpp"

namespace vkhid::flows {

using namespace audit_detail;
namespace json = boost::json;
namespace fs = std::filesystem;

// ---- export ----

namespace {

// The packages the entries name, byte for byte (`absent`: named, but no longer in the database); how
// many were written.
Result<int> writePackages(store::PgConnection& db, const std::string& out_dir, const std::set<std::string>& packages,
                          int& absent) {
  int written = 0;
  for (const auto& msg_id : packages) {
    auto m = db.exec("SELECT bytes, bytes_cut FROM message WHERE msg_id = vkhid_uuid($1)", {msg_id});
    if (!m) return m.error();
    if (m->rows() == 0) {  // deleted from the store (Vkhid never deletes one): exported without it, verify names it
      ++absent;
      continue;
    }
    // An oversized package refused unread was kept as its first kilobytes only: they go as .head.
    const char* suffix = m->get(0, 1) == "t" ? ".head" : ".xml";
    if (auto s = writeFile(fs::path(out_dir) / "packages" / (msg_id + suffix), fromByteaHex(m->get(0, 0))); !s) {
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
    auto p = db.exec("SELECT trust_pem, coalesce(trust_list, ''::bytea) FROM participant WHERE org_id = $1", {org});
    if (!p) return p.error();
    if (p->rows() == 0) continue;
    if (!p->get(0, 0).empty()) {
      if (auto s = writeFile(fs::path(out_dir) / "certs" / ("participant-" + org + ".pem"), p->get(0, 0)); !s) {
        return s;
      }
    }
    // The qualified providers' list its attachment signatures were judged against: its own, or the global.
    if (auto pinned = fromByteaHex(p->get(0, 1)); !pinned.empty()) {
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

}  // namespace

Result<std::string> exportBundle(store::PgConnection& db, const app::Config& config, const ExportOptions& o) {
  fs::create_directories(fs::path(o.out_dir) / "packages");
  fs::create_directories(fs::path(o.out_dir) / "certs");
  // Whole batches: every batch from the first to the last with an entry in the range, and those between
  // (an entry's time is its transaction's start, so a batch between two may have none in the range; its
  // entries are exported as the range's own, and the verifier refuses entries no batch holds).
  auto batches = db.exec(
      "WITH hit AS (SELECT min(b.first_seq) AS lo, max(b.last_seq) AS hi FROM audit_batch b WHERE EXISTS (SELECT 1 "
      "FROM audit_entry e WHERE e.seq BETWEEN b.first_seq AND b.last_seq AND ($1 = '' OR e.at >= $1::timestamptz) "
      "AND ($2 = '' OR e.at <= $2::timestamptz))) SELECT id, first_seq, last_seq, entries, root, signature, "
      "timestamp_token FROM audit_batch, hit WHERE first_seq >= hit.lo AND last_seq <= hit.hi ORDER BY id",
      {o.from, o.to});
  if (!batches) return batches.error();
  if (batches->rows() == 0) return Error::invalid("audit.export", "no sealed batch has entries in that range");
  std::string lo(batches->get(0, 1)), hi(batches->get(batches->rows() - 1, 2));
  std::string batch_lines;
  for (int i = 0; i < batches->rows(); ++i) {
    json::object b{
        {"id", batches->getInt(i, 0)},       {"first_seq", batches->getInt(i, 1)},
        {"last_seq", batches->getInt(i, 2)}, {"entries", batches->getInt(i, 3)},
        {"root", batches->get(i, 4)},        {"signature_base64", base64Encode(fromByteaHex(batches->get(i, 5)))}};
    if (!batches->isNull(i, 6)) b["timestamp_base64"] = base64Encode(fromByteaHex(batches->get(i, 6)));
    batch_lines += json::serialize(b) + "\n";
  }
  auto rows = db.exec(
      "SELECT seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), actor, action, subject, "
      "payload_sha256, prev_hash, entry_hash, " +
          std::string(kBatchOfEntry) + " FROM audit_entry e WHERE seq BETWEEN $1 AND $2 ORDER BY seq",
      {lo, hi});
  if (!rows) return rows.error();
  std::string entry_lines;
  std::set<std::string> packages;
  std::map<std::string, std::string> peers;
  for (int i = 0; i < rows->rows(); ++i) {
    AuditEntry e{
        rows->getInt(i, 0),           std::string(rows->get(i, 1)), std::string(rows->get(i, 2)),
        std::string(rows->get(i, 3)), std::string(rows->get(i, 4)), std::string(rows->get(i, 5)),
        std::string(rows->get(i, 6)), std::string(rows->get(i, 7)), rows->isNull(i, 8) ? 0 : rows->getInt(i, 8)};
    entry_lines += json::serialize(entryJson(e)) + "\n";
    if (e.action.starts_with("message.")) {
      std::string peer = field(e.subject, "peer");
      if (o.participant.empty() || peer == o.participant) packages.insert(field(e.subject, "msg"));
      peers[peer] = peer;
    }
  }
  int absent = 0;
  auto written = writePackages(db, o.out_dir, packages, absent);
  if (!written) return written.error();
  if (auto s = writeCertificates(db, config, o.out_dir, peers); !s) return s.error();
  if (auto s = writeFile(fs::path(o.out_dir) / "entries.jsonl", entry_lines); !s) return s.error();
  if (auto s = writeFile(fs::path(o.out_dir) / "batches.jsonl", batch_lines); !s) return s.error();
  json::object manifest{{"format", "vkhid-evidence-1"},
                        {"ucc_org_id", config.gateway.org_id},
                        {"from", o.from},
                        {"to", o.to},
                        {"participant", o.participant},
                        {"entries", rows->rows()},
                        {"batches", batches->rows()},
                        {"packages", *written}};
  if (auto s = writeManifest(o.out_dir, std::move(manifest)); !s) return s.error();
  std::string summary = "exported " + std::to_string(rows->rows()) + " entries (seq " + lo + ".." + hi + "), " +
                        std::to_string(batches->rows()) + " batches, " + std::to_string(*written) + " packages to " +
                        o.out_dir;
  if (absent > 0) {
    summary += "; " + std::to_string(absent) +
               " package(s) named by the log are not in the database — 'audit verify' names them";
  }
  return summary;
}

Result<std::string> proveEntry(store::PgConnection& db, long long seq) {
  auto e = db.exec(
      "SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), actor, action, subject, "
      "payload_sha256, prev_hash, entry_hash, " +
          std::string(kBatchOfEntry) + " FROM audit_entry e WHERE seq = $1",
      {std::to_string(seq)});
  if (!e) return e.error();
  if (e->rows() == 0) return Error::invalid("audit.prove", "no entry with seq " + std::to_string(seq));
  if (e->isNull(0, 7)) return Error::invalid("audit.prove", "seq " + std::to_string(seq) + " is not in a batch yet");
  std::string batch(e->get(0, 7));
  auto b = db.exec("SELECT first_seq, root, signature, timestamp_token FROM audit_batch WHERE id = $1", {batch});
  if (!b) return b.error();
  auto rows = db.exec(
      "SELECT e.entry_hash FROM audit_batch b JOIN audit_entry e ON e.seq BETWEEN b.first_seq AND b.last_seq WHERE "
      "b.id = $1 ORDER BY e.seq",
      {batch});
  if (!rows) return rows.error();
  std::vector<std::string> hashes;
  for (int i = 0; i < rows->rows(); ++i) hashes.emplace_back(rows->get(i, 0));
  auto index = static_cast<std::size_t>(seq - b->getInt(0, 0));
  json::array path;
  for (const auto& step : merkleProof(hashes, index)) {
    path.push_back(json::object{{"side", step.left ? "left" : "right"}, {"hash", step.hash}});
  }
  AuditEntry entry{seq,
                   std::string(e->get(0, 0)),
                   std::string(e->get(0, 1)),
                   std::string(e->get(0, 2)),
                   std::string(e->get(0, 3)),
                   std::string(e->get(0, 4)),
                   std::string(e->get(0, 5)),
                   std::string(e->get(0, 6)),
                   std::stoll(batch)};
  json::object out{{"entry", entryJson(entry)}, {"leaf_index", index},
                   {"path", std::move(path)},   {"batch", std::stoll(batch)},
                   {"root", b->get(0, 1)},      {"signature_base64", base64Encode(fromByteaHex(b->get(0, 2)))}};
  if (!b->isNull(0, 3)) out["timestamp_base64"] = base64Encode(fromByteaHex(b->get(0, 3)));
  return json::serialize(out);
}

}  // namespace vkhid::flows
