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
#include "gateway/flows/exchange_store.hpp"
#include "gateway/store/pg_pool.hpp"

namespace vkhid::flows {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

const std::string kGenesis(64, '0');  // prev_hash of the first entry ever

std::string rawSha256(std::string_view bytes) { return *hexDecode(app::sha256Hex(bytes)); }

std::string leafHash(const std::string& entry_hash_hex) {
  return rawSha256(std::string(1, '\0') + hexDecode(entry_hash_hex).value_or(""));
}
std::string nodeHash(const std::string& left, const std::string& right) {
  return rawSha256(std::string(1, '\1') + left + right);
}

std::string arrayLiteral(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
  return out + "}";
}

Status writeFile(const fs::path& path, std::string_view bytes) { return crypto::writeFile(path.string(), bytes); }

std::optional<std::string> readAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string field(const std::string& subject, const std::string& key) {
  auto at = subject.find(key + ":");
  if (at == std::string::npos) return {};
  at += key.size() + 1;
  return subject.substr(at, subject.find(' ', at) - at);
}

json::object entryJson(const AuditEntry& e) {
  return {{"seq", e.seq},
          {"at", e.at},
          {"actor", e.actor},
          {"action", e.action},
          {"subject", e.subject},
          {"payload_sha256", e.payload_sha256},
          {"prev_hash", e.prev_hash},
          {"entry_hash", e.entry_hash},
          {"batch", e.batch}};
}

std::string joined(const std::set<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

// A field of outside JSON (a bundle, a proof) when it has the expected type; nullopt otherwise.
std::optional<std::string> stringField(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::optional(std::string(v->as_string())) : std::nullopt;
}
std::optional<long long> integerField(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_int64() ? std::optional(v->as_int64()) : std::nullopt;
}

AuditEntry entryFromJson(const json::object& o) {
  auto s = [&](const char* k) { return stringField(o, k).value_or(""); };
  auto n = [&](const char* k) { return integerField(o, k).value_or(0); };
  return {n("seq"),       s("at"),         s("actor"), s("action"), s("subject"), s("payload_sha256"),
          s("prev_hash"), s("entry_hash"), n("batch")};
}

}  // namespace

// ---- pure ----

std::string auditEntryHash(const AuditEntry& e) {
  return app::sha256Hex("vkhid-audit-1\n" + e.prev_hash + "\n" + e.at + "\n" + e.actor + "\n" + e.action + "\n" +
                        e.subject + "\n" + e.payload_sha256);
}

std::string merkleRoot(const std::vector<std::string>& hashes) {
  if (hashes.empty()) return app::sha256Hex("");
  std::vector<std::string> level;
  for (const auto& h : hashes) level.push_back(leafHash(h));
  while (level.size() > 1) {
    std::vector<std::string> next;
    for (std::size_t i = 0; i < level.size(); i += 2) {
      next.push_back(i + 1 < level.size() ? nodeHash(level[i], level[i + 1]) : level[i]);
    }
    level = std::move(next);
  }
  return hexEncode(level[0]);
}

std::vector<ProofStep> merkleProof(const std::vector<std::string>& hashes, std::size_t index) {
  std::vector<ProofStep> proof;
  std::vector<std::string> level;
  for (const auto& h : hashes) level.push_back(leafHash(h));
  while (level.size() > 1) {
    if (index % 2 == 1) {
      proof.push_back({true, hexEncode(level[index - 1])});
    } else if (index + 1 < level.size()) {
      proof.push_back({false, hexEncode(level[index + 1])});
    }
    std::vector<std::string> next;
    for (std::size_t i = 0; i < level.size(); i += 2) {
      next.push_back(i + 1 < level.size() ? nodeHash(level[i], level[i + 1]) : level[i]);
    }
    level = std::move(next);
    index /= 2;
  }
  return proof;
}

bool checkMerkleProof(const std::string& entry_hash, const std::vector<ProofStep>& proof, const std::string& root) {
  std::string h = leafHash(entry_hash);
  for (const auto& step : proof) {
    auto sibling = hexDecode(step.hash);
    if (!sibling) return false;
    h = step.left ? nodeHash(*sibling, h) : nodeHash(h, *sibling);
  }
  return hexEncode(h) == root;
}

// ---- the sealer ----

AuditSealer::AuditSealer(const app::AuditSettings& settings, const crypto::Signer& signer, TimestampFetch fetch)
    : settings_(settings), signer_(signer), fetch_(std::move(fetch)) {
  if (!settings_.ca_file.empty()) {
    if (auto pem = crypto::readFile(settings_.ca_file)) ca_pem_ = *pem;
  }
}

Result<int> AuditSealer::chain(store::PgConnection& db) {
  // Entries whose transaction is older than every running one: none can appear before them any more.
  auto xmin = db.exec("SELECT pg_snapshot_xmin(pg_current_snapshot())::text");
  if (!xmin) return xmin.error();
  auto rows = db.exec(
      "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), actor, action, subject, "
      "payload_sha256 FROM audit_entry WHERE seq IS NULL AND xid < $1::xid8 ORDER BY id LIMIT 5000",
      {std::string(xmin->get(0, 0))});
  if (!rows) return rows.error();
  if (rows->rows() == 0) return 0;
  auto last = db.exec("SELECT seq, entry_hash FROM audit_entry WHERE seq = (SELECT max(seq) FROM audit_entry)");
  if (!last) return last.error();
  long long seq = last->rows() > 0 ? last->getInt(0, 0) : 0;
  std::string prev = last->rows() > 0 ? std::string(last->get(0, 1)) : kGenesis;
  std::vector<std::string> ids, seqs, prevs, hashes;
  for (int i = 0; i < rows->rows(); ++i) {
    AuditEntry e{++seq,
                 std::string(rows->get(i, 1)),
                 std::string(rows->get(i, 2)),
                 std::string(rows->get(i, 3)),
                 std::string(rows->get(i, 4)),
                 std::string(rows->get(i, 5)),
                 prev,
                 {},
                 0};
    e.entry_hash = auditEntryHash(e);
    ids.emplace_back(rows->get(i, 0));
    seqs.push_back(std::to_string(seq));
    prevs.push_back(prev);
    hashes.push_back(e.entry_hash);
    prev = e.entry_hash;
  }
  auto u = db.exec(
      "UPDATE audit_entry a SET seq = v.seq, prev_hash = v.prev, entry_hash = v.h FROM (SELECT unnest($1::bigint[]) "
      "id, unnest($2::bigint[]) seq, unnest($3::text[]) prev, unnest($4::text[]) h) v WHERE a.id = v.id",
      {arrayLiteral(ids), arrayLiteral(seqs), arrayLiteral(prevs), arrayLiteral(hashes)});
  if (!u) return u.error();
  return rows->rows();
}

Result<bool> AuditSealer::closeBatch(store::PgConnection& db) {
  // Chained but in no batch yet: after the last batch's range (batches are closed in seq order).
  // Seqs are consecutive, so their count is the last one's distance from the last batch, and the oldest
  // is the first in chain order (settled in id order: within moments of the oldest by time) — both read
  // through the seq index, not by visiting every waiting entry each round.
  auto due = db.exec(std::string("WITH l AS (SELECT ") + kLastBatchedSeq +
                     " AS s) SELECT (SELECT coalesce(max(seq), l.s) FROM audit_entry) - l.s, coalesce(extract(epoch "
                     "FROM now() - (SELECT at FROM audit_entry WHERE seq = l.s + 1)) * 1000, 0)::bigint FROM l");
  if (!due) return due.error();
  long long count = due->getInt(0, 0), age_ms = due->getInt(0, 1);
  if (count == 0 || (count < settings_.batch_max_entries && age_ms < settings_.batch_max_age_ms)) return false;
  auto rows = db.exec(
      "SELECT seq, entry_hash FROM audit_entry WHERE seq > " + std::string(kLastBatchedSeq) + " ORDER BY seq LIMIT $1",
      {std::to_string(settings_.batch_max_entries)});
  if (!rows) return rows.error();
  std::vector<std::string> hashes;
  for (int i = 0; i < rows->rows(); ++i) hashes.emplace_back(rows->get(i, 1));
  std::string root = merkleRoot(hashes);
  auto signature = crypto::signDetached(*hexDecode(root), signer_);
  if (!signature) return signature.error();
  std::string first(rows->get(0, 0)), last(rows->get(rows->rows() - 1, 0));
  auto b = db.exec(
      "INSERT INTO audit_batch (first_seq, last_seq, entries, root, signature) VALUES ($1, $2, $3, $4, $5::bytea) "
      "RETURNING id",
      {first, last, std::to_string(hashes.size()), root, byteaHex(signature->der)});
  if (!b) return b.error();
  app::metrics().counter("vkhid_audit_batches_total", "Evidence batches closed").inc();
  return true;
}

Status AuditSealer::stamp(store::PgConnection& db) {
  if (settings_.tsa_url.empty() || !fetch_) return {};
  auto rows = db.exec("SELECT id, root FROM audit_batch WHERE timestamp_token IS NULL ORDER BY id LIMIT 20");
  if (!rows) return rows.error();
  for (int i = 0; i < rows->rows(); ++i) {
    std::string id(rows->get(i, 0));
    std::string root = *hexDecode(rows->get(i, 1));
    auto query = crypto::timestampQuery(root);
    Result<std::string> token = query ? fetch_(*query) : Result<std::string>(query.error());
    if (token) {
      // Stored only once it verifies: a TSA that answers nonsense is as good as none.
      if (auto checked = crypto::verifyTimestamp(*token, root, ca_pem_); !checked) token = checked.error();
    }
    if (!token) {
      auto u = db.exec("UPDATE audit_batch SET attempts = attempts + 1, last_error = $2 WHERE id = $1",
                       {id, token.error().message});
      if (!u) return u.error();
      app::metrics().counter("vkhid_audit_timestamp_failures_total", "Time-stamp requests that failed").inc();
      log::warn("audit: time-stamp not obtained, the batch waits", {{"batch", id}, {"error", token.error().message}});
      return {};  // the authority is away: the others wait too
    }
    auto u = db.exec(
        "UPDATE audit_batch SET timestamp_token = $2::bytea, stamped_at = now() WHERE id = $1 AND timestamp_token IS "
        "NULL",
        {id, byteaHex(*token)});
    if (!u) return u.error();
  }
  return {};
}

Status AuditSealer::refreshHealth(store::PgConnection& db) {
  auto r = db.exec(
      // The oldest unchained entry is the first by id, the oldest unbatched the first by seq (as in
      // closeBatch): each found through an index, however long the backlog.
      "SELECT greatest((SELECT coalesce(extract(epoch FROM now() - (SELECT at FROM audit_entry WHERE seq IS NULL "
      "ORDER BY id LIMIT 1)), 0)), coalesce((SELECT extract(epoch FROM now() - at) FROM audit_entry WHERE seq = " +
          std::string(kLastBatchedSeq) +
          " + 1), 0), CASE WHEN $1 THEN (SELECT coalesce(extract(epoch FROM now() - min(e.at)), 0) FROM audit_batch b "
          "JOIN "
          "audit_entry e ON e.seq = b.first_seq WHERE b.timestamp_token IS NULL) ELSE 0 END)::bigint, "
          "(SELECT coalesce(min(id), 0) FROM audit_batch WHERE timestamp_token IS NULL)",
      {settings_.tsa_url.empty() ? "false" : "true"});
  if (!r) return r.error();
  long long age = r->getInt(0, 0);
  unsealed_s_ = age;
  app::metrics()
      .gauge("vkhid_audit_unsealed_seconds", "Age of the oldest evidence not yet sealed and time-stamped")
      .set(static_cast<double>(age));
  bool sealed = age <= settings_.fail_closed_after_s;
  if (!sealed && sealed_.exchange(false)) {
    log::error("audit: evidence unsealed for too long", {{"seconds", age}});
    // One alert per stuck batch, whichever gateway notices first (the message id de-duplicates).
    return enqueueOutbox(db, bus::names::kAlerts, "audit.unsealed", "audit.unsealed:" + std::string(r->get(0, 1)),
                         json::serialize(json::object{{"unsealed_seconds", age},
                                                      {"fail_closed", settings_.fail_closed},
                                                      {"notify", json::array{"ucc:coordinator"}}}));
  }
  if (sealed && !sealed_.exchange(true)) log::info("audit: evidence sealed again", {});
  return {};
}

Status AuditSealer::runOnce(store::PgConnection& db) {
  Status chained = store::inTransaction(db, [&]() -> Status {
    auto lock = db.exec("SELECT pg_try_advisory_xact_lock(hashtext('vkhid.audit'))");
    if (!lock) return lock.error();
    if (lock->get(0, 0) != "t") return {};  // another gateway is at it
    auto n = chain(db);
    if (!n) return n.error();
    auto closed = closeBatch(db);
    return closed ? Status() : Status(closed.error());
  });
  if (!chained) return chained;
  if (auto s = stamp(db); !s) return s;
  return store::inTransaction(db, [&]() -> Status { return refreshHealth(db); });
}

// ---- export ----

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
  int written = 0, absent = 0;
  for (const auto& msg_id : packages) {
    auto m = db.exec("SELECT bytes, bytes_cut FROM message WHERE msg_id = vkhid_uuid($1)", {msg_id});
    if (!m) return m.error();
    if (m->rows() == 0) {  // deleted from the store (Vkhid never deletes one): exported without it, verify names it
      ++absent;
      continue;
    }
    // An oversized package refused unread was kept as its first kilobytes only: they go as .head.
    const char* suffix = m->get(0, 1) == "t" ? ".head" : ".xml";
    if (auto s = writeFile(fs::path(o.out_dir) / "packages" / (msg_id + suffix), fromByteaHex(m->get(0, 0))); !s) {
      return s.error();
    }
    ++written;
  }
  // The certificates an auditor needs: the CA(s) of the seal and the TSA, the seal's own certificate,
  // and the CA certificates each participant's signatures chain to.
  auto ca = crypto::readFile(config.audit.ca_file);
  if (!ca) return ca.error();
  if (auto s = writeFile(fs::path(o.out_dir) / "certs" / "ca.pem", *ca); !s) return s.error();
  if (auto seal = crypto::readFile(config.gateway.seal_cert)) {
    if (auto s = writeFile(fs::path(o.out_dir) / "certs" / "ucc-seal.pem", *seal); !s) return s.error();
  }
  bool global_list = false;
  for (const auto& [org, unused] : peers) {
    auto p = db.exec("SELECT trust_pem, coalesce(trust_list, ''::bytea) FROM participant WHERE org_id = $1", {org});
    if (!p) return p.error();
    if (p->rows() == 0) continue;
    if (!p->get(0, 0).empty()) {
      if (auto s = writeFile(fs::path(o.out_dir) / "certs" / ("participant-" + org + ".pem"), p->get(0, 0)); !s) {
        return s.error();
      }
    }
    // The qualified providers' list its attachment signatures were judged against: its own, or the global.
    if (auto pinned = fromByteaHex(p->get(0, 1)); !pinned.empty()) {
      if (auto s = writeFile(fs::path(o.out_dir) / "certs" / ("participant-" + org + "-list.p7b"), pinned); !s) {
        return s.error();
      }
    } else {
      global_list = true;
    }
  }
  if (global_list) {
    std::error_code made;
    fs::create_directories(fs::path(o.out_dir) / "certs" / "qualified", made);
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
        if (auto s = writeFile(fs::path(o.out_dir) / "certs" / "qualified" / name, *bytes); !s) return s.error();
      }
    }
  }
  if (auto s = writeFile(fs::path(o.out_dir) / "entries.jsonl", entry_lines); !s) return s.error();
  if (auto s = writeFile(fs::path(o.out_dir) / "batches.jsonl", batch_lines); !s) return s.error();
  json::object files;
  for (const auto& f : fs::recursive_directory_iterator(o.out_dir)) {
    if (!f.is_regular_file() || f.path().filename() == "manifest.json") continue;
    files[fs::relative(f.path(), o.out_dir).string()] = app::sha256Hex(*readAll(f.path()));
  }
  json::object manifest{{"format", "vkhid-evidence-1"},
                        {"ucc_org_id", config.gateway.org_id},
                        {"from", o.from},
                        {"to", o.to},
                        {"participant", o.participant},
                        {"entries", rows->rows()},
                        {"batches", batches->rows()},
                        {"packages", written},
                        {"files", std::move(files)}};
  if (auto s = writeFile(fs::path(o.out_dir) / "manifest.json", json::serialize(manifest) + "\n"); !s) {
    return s.error();
  }
  std::string summary = "exported " + std::to_string(rows->rows()) + " entries (seq " + lo + ".." + hi + "), " +
                        std::to_string(batches->rows()) + " batches, " + std::to_string(written) + " packages to " +
                        o.out_dir;
  if (absent > 0) {
    summary += "; " + std::to_string(absent) +
               " package(s) named by the log are not in the database — 'audit verify' names them";
  }
  return summary;
}

// ---- verification ----

namespace {

// A batch root as its seal signed it and its authority time-stamped it, or the first thing that fails
// ("bad signature — …", "bad time-stamp — …").
struct SealedRoot {
  std::string failure;
  std::string sealer;      // "99999901 (seal certificate SHA-256 2bb08e68f171f2cc…)"
  std::string stamped_at;  // ISO 8601 UTC, seconds
};
SealedRoot checkSealedRoot(const std::string& root_hex, const std::string& signature_base64,
                           const std::optional<std::string>& timestamp_base64, const crypto::TrustStore& trust,
                           const std::string& ca_pem, const std::string& ucc_org) {
  SealedRoot out;
  auto root_raw = hexDecode(root_hex);
  auto sig = base64Decode(signature_base64);
  if (!root_raw || root_raw->size() != 32 || !sig) {
    out.failure = "bad signature — root or signature unreadable";
    return out;
  }
  // The seal is judged at the time the batch's time-stamp proves (a bundle is read years after its
  // certificates expire); without a valid one, now — and the missing stamp is a failure of its own.
  std::optional<Result<crypto::TimestampInfo>> stamped;
  std::optional<std::string> token;
  if (timestamp_base64) token = base64Decode(*timestamp_base64);
  if (token) stamped = crypto::verifyTimestamp(*token, *root_raw, ca_pem);
  std::optional<std::time_t> proven;
  if (stamped && *stamped) proven = parseIsoDateTime((*stamped)->time);
  auto verdict = crypto::verifyDetached(*root_raw, *sig, trust, ucc_org, {}, proven);
  if (!verdict.valid()) {
    out.failure = "bad signature — the seal did not sign this root: " + verdict.detail;
    return out;
  }
  out.sealer = verdict.signer_org_id + " (seal certificate SHA-256 " + verdict.signer_sha256.substr(0, 16) + "…)";
  if (!timestamp_base64) {
    out.failure = "bad time-stamp — the batch was never time-stamped";
    return out;
  }
  if (!token) {
    out.failure = "bad time-stamp — unreadable";
    return out;
  }
  if (!*stamped) {
    out.failure = "bad time-stamp — " + stamped->error().message;
    return out;
  }
  out.stamped_at = (*stamped)->time;
  return out;
}

VerifyReport verifyBundleUnguarded(const std::string& dir, const std::string& ucc_org_id) {
  VerifyReport report;
  auto fail = [&](const std::string& what) {
    if (report.ok) report.failure = what;
    report.ok = false;
    return report;
  };
  auto manifest_text = readAll(fs::path(dir) / "manifest.json");
  if (!manifest_text) return fail("manifest.json: missing");
  boost::system::error_code ec;
  auto manifest = json::parse(*manifest_text, ec);
  if (ec || !manifest.is_object()) return fail("manifest.json: not a JSON object");
  if (auto* files = manifest.as_object().if_contains("files"); files && files->is_object()) {
    for (const auto& [name, digest] : files->as_object()) {
      fs::path relative{std::string(name)};
      bool inside = !relative.empty() && relative.is_relative();
      for (const auto& part : relative) inside &= part != "..";
      if (!inside) return fail("manifest.json: the file name '" + std::string(name) + "' leaves the bundle");
      auto bytes = readAll(fs::path(dir) / relative);
      if (!bytes) return fail(std::string(name) + ": missing from the bundle");
      if (digest.is_string() && app::sha256Hex(*bytes) != digest.as_string()) {
        return fail(std::string(name) + ": edited — it does not match the manifest");
      }
    }
  }
  auto ca_pem = readAll(fs::path(dir) / "certs" / "ca.pem");
  if (!ca_pem) return fail("certs/ca.pem: missing");
  // The export's scope: one participant's packages, or (empty) every package the entries name.
  std::string scope;
  if (auto* p = manifest.as_object().if_contains("participant"); p && p->is_string()) scope = p->as_string();

  // The chain.
  std::vector<AuditEntry> entries;
  {
    std::ifstream in(fs::path(dir) / "entries.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      auto v = json::parse(line, ec);
      if (ec || !v.is_object())
        return fail("entries.jsonl: line " + std::to_string(entries.size() + 1) + " is not JSON");
      entries.push_back(entryFromJson(v.as_object()));
    }
  }
  if (entries.empty()) return fail("entries.jsonl: no entries");
  std::map<std::string, long long> seq_by_hash;
  for (const auto& e : entries) seq_by_hash[e.entry_hash] = e.seq;
  long long expected = entries.front().seq;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    const std::string at = "seq " + std::to_string(e.seq) + ": ";
    if (e.seq > expected) {
      return fail("seq " + std::to_string(expected) + ": missing — the log jumps from seq " +
                  std::to_string(expected - 1) + " to seq " + std::to_string(e.seq));
    }
    if (e.seq < expected) return fail(at + "reordered — it appears after seq " + std::to_string(expected - 1));
    if (auditEntryHash(e) != e.entry_hash) {
      return fail(at + "edited — its content (" + e.action + ", " + e.subject + ") does not match its hash");
    }
    if (i > 0 && e.prev_hash != entries[i - 1].entry_hash) {
      auto other = seq_by_hash.find(e.prev_hash);
      if (other != seq_by_hash.end()) {
        return fail(at + "reordered — in the chain it follows seq " + std::to_string(other->second) + ", not seq " +
                    std::to_string(entries[i - 1].seq));
      }
      return fail(at + "missing — the entry it follows in the chain is not in the log");
    }
    ++expected;
  }

  // The batches: root, seal signature, time-stamp.
  int batch_count = 0;
  std::vector<bool> sealed(entries.size(), false);  // by position
  // The time each entry's batch time-stamp proves, by position: packages are judged at it.
  std::vector<std::optional<std::time_t>> proven_at(entries.size());
  std::set<std::string> sealers, stamp_times;
  std::optional<std::pair<long long, long long>> longest_wait;  // seconds, batch id
  {
    std::ifstream in(fs::path(dir) / "batches.jsonl");
    std::string line;
    crypto::TrustStore trust;
    (void)trust.addPem(*ca_pem);
    // Whom the batches must be sealed by: the auditor's own knowledge when given (the manifest is the
    // bundle's word, not signed), else the manifest's.
    std::string ucc_org = ucc_org_id;
    if (auto* m = manifest.as_object().if_contains("ucc_org_id"); ucc_org.empty() && m && m->is_string()) {
      ucc_org = m->as_string();
    }
    int line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      if (line.empty()) continue;
      const std::string where = "batches.jsonl: line " + std::to_string(line_no) + ": ";
      auto v = json::parse(line, ec);
      if (ec || !v.is_object()) return fail(where + "not a JSON object");
      const auto& b = v.as_object();
      auto id = integerField(b, "id"), first_seq = integerField(b, "first_seq"), last_seq = integerField(b, "last_seq");
      auto root_text = stringField(b, "root"), sig_text = stringField(b, "signature_base64");
      if (!id || !first_seq || !last_seq) return fail(where + "'id', 'first_seq' and 'last_seq' must be integers");
      if (*first_seq < 1 || *last_seq < *first_seq) return fail(where + "expected 1 <= first_seq <= last_seq");
      if (!root_text || !sig_text) return fail(where + "'root' and 'signature_base64' must be strings");
      long long first = *first_seq, last = *last_seq;
      const std::string& root = *root_text;
      const std::string at =
          "batch " + std::to_string(*id) + " (seq " + std::to_string(first) + ".." + std::to_string(last) + "): ";
      auto sealed_root = checkSealedRoot(root, *sig_text, stringField(b, "timestamp_base64"), trust, *ca_pem, ucc_org);
      if (!sealed_root.failure.empty()) return fail(at + sealed_root.failure);
      sealers.insert(sealed_root.sealer);
      stamp_times.insert(sealed_root.stamped_at);
      // The entries' seqs are consecutive (checked above): a batch's are a slice, found by position.
      const long long base = entries.front().seq;
      if (first < base || last > entries.back().seq) {
        return fail(at + "missing — the bundle lacks entries of this batch");
      }
      std::vector<std::string> hashes;
      for (auto i = static_cast<std::size_t>(first - base); i <= static_cast<std::size_t>(last - base); ++i) {
        hashes.push_back(entries[i].entry_hash);
        sealed[i] = true;
        proven_at[i] = parseIsoDateTime(sealed_root.stamped_at);
      }
      const std::string& last_at = entries[static_cast<std::size_t>(last - base)].at;
      if (merkleRoot(hashes) != root) return fail(at + "edited — its entries do not make the signed root");
      // How long its entries were protected by the database's access control alone (docs: Limits).
      auto stamp_time = parseIsoDateTime(sealed_root.stamped_at), entry_time = parseIsoDateTime(last_at);
      if (stamp_time && entry_time && (!longest_wait || *stamp_time - *entry_time > longest_wait->first)) {
        longest_wait = std::pair{static_cast<long long>(*stamp_time - *entry_time), *id};
      }
      ++batch_count;
    }
  }
  if (batch_count == 0) return fail("batches.jsonl: no batches");
  // An export holds whole batches: an entry no batch holds is protected by nothing signed (anyone can
  // chain a hash), so it is refused, not counted.
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (!sealed[i]) {
      return fail("seq " + std::to_string(entries[i].seq) +
                  ": unsealed — no batch in the bundle holds it, so nothing signed vouches for it");
    }
  }

  // Every package named: its bytes as recorded, and its own seal and signatures.
  int packages = 0;
  std::set<std::string> checked;
  for (const auto& e : entries) {
    if (!e.action.starts_with("message.")) continue;
    std::string msg_id = field(e.subject, "msg");
    if (!checked.insert(msg_id).second) continue;
    const std::string at = "seq " + std::to_string(e.seq) + ": ";
    // A message id is a UUID: nothing else may become a file name read from the bundle.
    if (!isUuid(msg_id)) {
      return fail(at + "its subject names no message id (msg:<uuid>)");
    }
    auto bytes = readAll(fs::path(dir) / "packages" / (msg_id + ".xml"));
    // Refused as over the size limit (code 102): only its first kilobytes were kept; its digest, in the
    // signed log, is what stands for it.
    if (!bytes && e.action == "message.in.rejected" && field(e.subject, "code") == "102" &&
        fs::exists(fs::path(dir) / "packages" / (msg_id + ".head"))) {
      ++packages;
      continue;
    }
    if (!bytes) {
      if (!scope.empty() && field(e.subject, "peer") != scope) continue;  // another participant's: not exported
      return fail(at + "package missing — message " + msg_id + " is named by the log but not in the bundle");
    }
    if (app::sha256Hex(*bytes) != e.payload_sha256) {
      return fail(at + "package edited — message " + msg_id + " does not match its recorded SHA-256");
    }
    ++packages;
    if (e.action.ends_with(".rejected")) continue;  // refused on arrival, for a reason of its own
    bool inbound = e.action.starts_with("message.in.");
    std::string trust_file = inbound ? "participant-" + field(e.subject, "peer") + ".pem" : "ca.pem";
    auto pem = readAll(fs::path(dir) / "certs" / trust_file);
    if (!pem) return fail(at + "certs/" + trust_file + ": missing");
    crypto::TrustStore trust;
    (void)trust.addPem(*pem);
    if (inbound) {
      // The qualified providers' list the participant's attachment signatures were judged against.
      const std::string peer = field(e.subject, "peer");
      const fs::path pinned = fs::path(dir) / "certs" / ("participant-" + peer + "-list.p7b");
      std::error_code ec;
      if (isDigits(peer) && fs::exists(pinned, ec)) {
        if (auto list = readAll(pinned)) (void)trust.addAny(*list);
      } else if (fs::is_directory(fs::path(dir) / "certs" / "qualified", ec)) {
        for (const auto& f : fs::directory_iterator(fs::path(dir) / "certs" / "qualified", ec)) {
          if (auto list = readAll(f.path())) (void)trust.addAny(*list);
        }
      }
    }
    // Judged when the log's time-stamp proves the package was already there, not at the auditor's now.
    crypto::VerifyOptions options;
    // The UCC seals everything it sends; a participant registered without require_seal sends no seal (as
    // real SEV OVV 1.5 systems), and its files' own signatures are what holds — a seal it did send must
    // still hold.
    options.require_seal = !inbound;
    options.at = proven_at[static_cast<std::size_t>(e.seq - entries.front().seq)];
    auto r = crypto::verifyPackage(*bytes, trust, options);
    if (!r.ok()) return fail(at + "bad signature — package " + msg_id + ": " + r.findings.front().message);
  }

  report.summary =
      "entries " + std::to_string(entries.size()) + " (seq " + std::to_string(entries.front().seq) + ".." +
      std::to_string(entries.back().seq) + "), batches " + std::to_string(batch_count) + ", packages " +
      std::to_string(packages) + (scope.empty() ? "" : " (participant " + scope + "'s only)") + ", from " +
      entries.front().at + " to " + entries.back().at + "; sealed by " + joined(sealers) + "; time-stamped " +
      *stamp_times.begin() + (stamp_times.size() > 1 ? " to " + *stamp_times.rbegin() : std::string()) +
      (!longest_wait ? std::string()
                     : ", at most " + std::to_string(longest_wait->first) + " s after a batch's last entry (batch " +
                           std::to_string(longest_wait->second) + ")");
  return report;
}

}  // namespace

VerifyReport verifyBundle(const std::string& dir, const std::string& ucc_org_id) {
  // A bundle is outside input: whatever its checks did not foresee is a failure, never a crash.
  try {
    return verifyBundleUnguarded(dir, ucc_org_id);
  } catch (const std::exception& e) {
    VerifyReport report;
    report.ok = false;
    report.failure = std::string("the bundle is unreadable: ") + e.what();
    return report;
  }
}

VerifyReport checkProof(const std::string& proof_json, const std::string& ca_pem, const std::string& ucc_org_id) {
  VerifyReport report;
  auto fail = [&](const std::string& what) {
    report.ok = false;
    report.failure = what;
    return report;
  };
  boost::system::error_code ec;
  auto parsed = json::parse(proof_json, ec);
  if (ec || !parsed.is_object()) return fail("proof: not a JSON object");
  const auto& proof = parsed.as_object();
  auto* entry_value = proof.if_contains("entry");
  if (!entry_value || !entry_value->is_object()) return fail("proof: 'entry' must be an object");
  const auto& entry_json = entry_value->as_object();
  for (const char* key : {"at", "actor", "action", "subject", "payload_sha256", "prev_hash", "entry_hash"}) {
    if (!stringField(entry_json, key)) return fail("proof: 'entry." + std::string(key) + "' must be a string");
  }
  AuditEntry entry = entryFromJson(entry_json);
  auto root = stringField(proof, "root"), signature = stringField(proof, "signature_base64");
  if (!root || !signature) return fail("proof: 'root' and 'signature_base64' must be strings");
  auto* path_value = proof.if_contains("path");
  if (!path_value || !path_value->is_array()) return fail("proof: 'path' must be an array");
  std::vector<ProofStep> path;
  for (const auto& step : path_value->as_array()) {
    auto side = step.is_object() ? stringField(step.as_object(), "side") : std::nullopt;
    auto hash = step.is_object() ? stringField(step.as_object(), "hash") : std::nullopt;
    if (!side || (*side != "left" && *side != "right") || !hash || hash->size() != 64) {
      return fail("proof: each step of 'path' must be {\"side\": \"left\"|\"right\", \"hash\": <64 hex>}");
    }
    path.push_back({*side == "left", *hash});
  }
  const std::string at = "seq " + std::to_string(entry.seq) + ": ";
  if (auditEntryHash(entry) != entry.entry_hash) {
    return fail(at + "edited — its content (" + entry.action + ", " + entry.subject + ") does not match its hash");
  }
  if (!checkMerkleProof(entry.entry_hash, path, *root)) {
    return fail(at + "not in the batch — its hash and the path do not make the root");
  }
  crypto::TrustStore trust;
  (void)trust.addPem(ca_pem);
  auto sealed_root =
      checkSealedRoot(*root, *signature, stringField(proof, "timestamp_base64"), trust, ca_pem, ucc_org_id);
  if (!sealed_root.failure.empty()) return fail("root: " + sealed_root.failure);
  auto* batch = proof.if_contains("batch");
  report.summary = "seq " + std::to_string(entry.seq) + " (" + entry.action + ", " + entry.subject + ", at " +
                   entry.at + ") is in batch " +
                   (batch && batch->is_int64() ? std::to_string(batch->as_int64()) : std::string("?")) + ", root " +
                   root->substr(0, 16) + "…; sealed by " + sealed_root.sealer + "; time-stamped " +
                   sealed_root.stamped_at;
  return report;
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
