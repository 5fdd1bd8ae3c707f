// The auditor's side: a bundle verified offline, and one entry's proof checked.
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

// One bundle's offline check, step by step; each step gives the first failure it finds, or nothing.
class BundleCheck {
 public:
  BundleCheck(std::string dir, std::string ucc_org_id) : dir_(std::move(dir)), ucc_org_id_(std::move(ucc_org_id)) {}

  VerifyReport run() {
    VerifyReport report;
    for (auto step : {&BundleCheck::manifest, &BundleCheck::chain, &BundleCheck::batches, &BundleCheck::packages}) {
      if (auto failure = (this->*step)()) {
        report.ok = false;
        report.failure = *failure;
        return report;
      }
    }
    report.summary = summary();
    report.notes = notes_;
    return report;
  }

 private:
  using Failure = std::optional<std::string>;

  fs::path path() const { return fs::path(dir_); }

  // manifest.json: every file it lists is in the bundle, inside it, with its digest.
  Failure manifest() {
    auto manifest_text = readAll(path() / "manifest.json");
    if (!manifest_text) return "manifest.json: missing";
    boost::system::error_code ec;
    manifest_ = json::parse(*manifest_text, ec);
    if (ec || !manifest_.is_object()) return "manifest.json: not a JSON object";
    if (auto* files = manifest_.as_object().if_contains("files"); files && files->is_object()) {
      for (const auto& [name, digest] : files->as_object()) {
        fs::path relative{std::string(name)};
        bool inside = !relative.empty() && relative.is_relative();
        for (const auto& part : relative) inside &= part != "..";
        if (!inside) return "manifest.json: the file name '" + std::string(name) + "' leaves the bundle";
        auto bytes = readAll(path() / relative);
        if (!bytes) return std::string(name) + ": missing from the bundle";
        if (digest.is_string() && app::sha256Hex(*bytes) != digest.as_string()) {
          return std::string(name) + ": edited — it does not match the manifest";
        }
      }
    }
    auto ca_pem = readAll(path() / "certs" / "ca.pem");
    if (!ca_pem) return "certs/ca.pem: missing";
    ca_pem_ = *ca_pem;
    // Format 1 (before erasures) and 2 (with erasures.jsonl) are read; another is not guessed at.
    if (auto* f = manifest_.as_object().if_contains("format");
        f && f->is_string() && f->as_string() != "vkhid-evidence-1" && f->as_string() != "vkhid-evidence-2") {
      return "manifest.json: format " + std::string(f->as_string()) + " is not one this verifier reads (1 or 2)";
    }
    // The export's scope: one participant's packages, or (empty) every package the entries name.
    if (auto* p = manifest_.as_object().if_contains("participant"); p && p->is_string()) scope_ = p->as_string();
    return std::nullopt;
  }

  // entries.jsonl: consecutive seqs, each entry its hash, each linked to the one before.
  Failure chain() {
    std::ifstream in(path() / "entries.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      boost::system::error_code ec;
      auto v = json::parse(line, ec);
      if (ec || !v.is_object()) return "entries.jsonl: line " + std::to_string(entries_.size() + 1) + " is not JSON";
      entries_.push_back(entryFromJson(v.as_object()));
    }
    if (entries_.empty()) return "entries.jsonl: no entries";
    std::map<std::string, long long> seq_by_hash;
    for (const auto& e : entries_) seq_by_hash[e.entry_hash] = e.seq;
    long long expected = entries_.front().seq;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      const auto& e = entries_[i];
      const std::string at = "seq " + std::to_string(e.seq) + ": ";
      if (e.seq > expected) {
        return "seq " + std::to_string(expected) + ": missing — the log jumps from seq " +
               std::to_string(expected - 1) + " to seq " + std::to_string(e.seq);
      }
      if (e.seq < expected) return at + "reordered — it appears after seq " + std::to_string(expected - 1);
      if (auditEntryHash(e) != e.entry_hash) {
        return at + "edited — its content (" + e.action + ", " + e.subject + ") does not match its hash";
      }
      if (i > 0 && e.prev_hash != entries_[i - 1].entry_hash) {
        auto other = seq_by_hash.find(e.prev_hash);
        if (other != seq_by_hash.end()) {
          return at + "reordered — in the chain it follows seq " + std::to_string(other->second) + ", not seq " +
                 std::to_string(entries_[i - 1].seq);
        }
        return at + "missing — the entry it follows in the chain is not in the log";
      }
      ++expected;
    }
    sealed_.assign(entries_.size(), false);
    proven_at_.assign(entries_.size(), std::nullopt);
    return std::nullopt;
  }

  // batches.jsonl: each batch's root, seal signature and time-stamp; every entry in a batch.
  Failure batches() {
    std::ifstream in(path() / "batches.jsonl");
    crypto::TrustStore trust;
    (void)trust.addPem(ca_pem_);
    // Whom the batches must be sealed by: the auditor's own knowledge when given (the manifest is the
    // bundle's word, not signed), else the manifest's.
    std::string ucc_org = ucc_org_id_;
    if (auto* m = manifest_.as_object().if_contains("ucc_org_id"); ucc_org.empty() && m && m->is_string()) {
      ucc_org = m->as_string();
    }
    std::string line;
    for (int line_no = 1; std::getline(in, line); ++line_no) {
      if (line.empty()) continue;
      if (auto failure = batch(line, line_no, trust, ucc_org)) return failure;
    }
    if (batch_count_ == 0) return "batches.jsonl: no batches";
    // An export holds whole batches: an entry no batch holds is protected by nothing signed (anyone can
    // chain a hash), so it is refused, not counted.
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      if (!sealed_[i]) {
        return "seq " + std::to_string(entries_[i].seq) +
               ": unsealed — no batch in the bundle holds it, so nothing signed vouches for it";
      }
    }
    return std::nullopt;
  }

  Failure batch(const std::string& line, int line_no, const crypto::TrustStore& trust, const std::string& ucc_org) {
    const std::string where = "batches.jsonl: line " + std::to_string(line_no) + ": ";
    boost::system::error_code ec;
    auto v = json::parse(line, ec);
    if (ec || !v.is_object()) return where + "not a JSON object";
    const auto& b = v.as_object();
    auto id = integerField(b, "id"), first_seq = integerField(b, "first_seq"), last_seq = integerField(b, "last_seq");
    auto root_text = stringField(b, "root"), sig_text = stringField(b, "signature_base64");
    if (!id || !first_seq || !last_seq) return where + "'id', 'first_seq' and 'last_seq' must be integers";
    if (*first_seq < 1 || *last_seq < *first_seq) return where + "expected 1 <= first_seq <= last_seq";
    if (!root_text || !sig_text) return where + "'root' and 'signature_base64' must be strings";
    const long long first = *first_seq, last = *last_seq;
    const std::string at =
        "batch " + std::to_string(*id) + " (seq " + std::to_string(first) + ".." + std::to_string(last) + "): ";
    auto sealed_root =
        checkSealedRoot(*root_text, *sig_text, stringField(b, "timestamp_base64"), trust, ca_pem_, ucc_org);
    if (!sealed_root.failure.empty()) return at + sealed_root.failure;
    sealers_.insert(sealed_root.sealer);
    stamp_times_.insert(sealed_root.stamped_at);
    // The entries' seqs are consecutive (checked above): a batch's are a slice, found by position.
    const long long base = entries_.front().seq;
    if (first < base || last > entries_.back().seq) return at + "missing — the bundle lacks entries of this batch";
    std::vector<std::string> hashes;
    for (auto i = static_cast<std::size_t>(first - base); i <= static_cast<std::size_t>(last - base); ++i) {
      hashes.push_back(entries_[i].entry_hash);
      sealed_[i] = true;
      proven_at_[i] = parseIsoDateTime(sealed_root.stamped_at);
    }
    const std::string& last_at = entries_[static_cast<std::size_t>(last - base)].at;
    if (merkleRoot(hashes) != *root_text) return at + "edited — its entries do not make the signed root";
    // How long its entries were protected by the database's access control alone (docs: Limits).
    auto stamp_time = parseIsoDateTime(sealed_root.stamped_at), entry_time = parseIsoDateTime(last_at);
    if (stamp_time && entry_time && (!longest_wait_ || *stamp_time - *entry_time > longest_wait_->first)) {
      longest_wait_ = std::pair{static_cast<long long>(*stamp_time - *entry_time), *id};
    }
    ++batch_count_;
    return std::nullopt;
  }

  // Every package named: its bytes as recorded, and its own seal and signatures.
  Failure packages() {
    if (auto failure = erasures()) return failure;
    std::set<std::string> checked;
    for (const auto& e : entries_) {
      if (!e.action.starts_with("message.")) continue;
      std::string msg_id = field(e.subject, "msg");
      if (!checked.insert(msg_id).second) continue;
      if (auto failure = package(e, msg_id)) return failure;
    }
    return std::nullopt;
  }

  Failure package(const AuditEntry& e, const std::string& msg_id) {
    const std::string at = "seq " + std::to_string(e.seq) + ": ";
    // A message id is a UUID: nothing else may become a file name read from the bundle.
    if (!isUuid(msg_id)) return at + "its subject names no message id (msg:<uuid>)";
    auto bytes = readAll(path() / "packages" / (msg_id + ".xml"));
    // Refused as over the size limit (code 102): only its first kilobytes were kept; its digest, in the
    // signed log, is what stands for it.
    if (!bytes && e.action == "message.in.rejected" && field(e.subject, "code") == "102" &&
        fs::exists(path() / "packages" / (msg_id + ".head"))) {
      ++packages_;
      return std::nullopt;
    }
    if (!bytes) {
      if (!scope_.empty() && field(e.subject, "peer") != scope_) return std::nullopt;  // another's: not exported
      if (auto erased = erased_.find(msg_id); erased != erased_.end()) return erasedPackage(e, msg_id, erased->second);
      return at + "package missing — message " + msg_id + " is named by the log but not in the bundle";
    }
    if (app::sha256Hex(*bytes) != e.payload_sha256) {
      return at + "package edited — message " + msg_id + " does not match its recorded SHA-256";
    }
    ++packages_;
    if (e.action.ends_with(".rejected")) return std::nullopt;  // refused on arrival, for a reason of its own
    bool inbound = e.action.starts_with("message.in.");
    std::string trust_file = inbound ? "participant-" + field(e.subject, "peer") + ".pem" : "ca.pem";
    auto pem = readAll(path() / "certs" / trust_file);
    if (!pem) return at + "certs/" + trust_file + ": missing";
    crypto::TrustStore trust;
    (void)trust.addPem(*pem);
    if (inbound) addQualifiedLists(trust, field(e.subject, "peer"));
    // Judged when the log's time-stamp proves the package was already there, not at the auditor's now.
    crypto::VerifyOptions options;
    // The UCC seals everything it sends; a participant registered without require_seal sends no seal (as
    // real SEV OVV 1.5 systems), and its files' own signatures are what holds — a seal it did send must
    // still hold.
    options.require_seal = !inbound;
    options.at = proven_at_[static_cast<std::size_t>(e.seq - entries_.front().seq)];
    auto r = crypto::verifyPackage(*bytes, trust, options);
    if (!r.ok()) return at + "bad signature — package " + msg_id + ": " + r.findings.front().message;
    return std::nullopt;
  }

  struct Erasure {
    std::string sha256, rule, at;
  };

  // erasures.jsonl (format 2): the packages erased under a retention rule or a data subject's request.
  Failure erasures() {
    auto text = readAll(path() / "erasures.jsonl");
    if (!text) return std::nullopt;  // format 1, or none erased
    std::size_t line_no = 0;
    for (std::size_t at = 0; at < text->size();) {
      auto end = text->find('\n', at);
      const std::string line = text->substr(at, end == std::string::npos ? std::string::npos : end - at);
      at = end == std::string::npos ? text->size() : end + 1;
      ++line_no;
      if (line.empty()) continue;
      boost::system::error_code ec;
      auto v = json::parse(line, ec);
      const std::string where = "erasures.jsonl line " + std::to_string(line_no) + ": ";
      if (ec || !v.is_object()) return where + "not a JSON object";
      const auto& o = v.as_object();
      auto text_of = [&](const char* k) {
        const auto* x = o.if_contains(k);
        return x && x->is_string() ? std::string(x->as_string()) : std::string();
      };
      if (!isUuid(text_of("msg_id")) || text_of("sha256").size() != 64 || text_of("rule").empty()) {
        return where + "expected msg_id, sha256, rule and erased_at";
      }
      erased_[text_of("msg_id")] = Erasure{text_of("sha256"), text_of("rule"), text_of("erased_at")};
    }
    // Where the log itself holds the erasure (its entry in this bundle), they must agree.
    for (const auto& e : entries_) {
      if (e.action != "erasure.package") continue;
      auto it = erased_.find(field(e.subject, "msg"));
      if (it != erased_.end() &&
          (it->second.sha256 != e.payload_sha256 || it->second.rule != field(e.subject, "rule"))) {
        return "seq " + std::to_string(e.seq) + ": erasure of " + it->first + " disagrees with erasures.jsonl";
      }
    }
    return std::nullopt;
  }

  // A package the log names and the store erased: its recorded digest must be the one the log signed.
  Failure erasedPackage(const AuditEntry& e, const std::string& msg_id, const Erasure& erased) {
    if (erased.sha256 != e.payload_sha256) {
      return "seq " + std::to_string(e.seq) + ": package missing — message " + msg_id +
             " is listed as erased with another SHA-256 than the log's";
    }
    ++erased_count_;
    notes_.push_back("package " + msg_id + " erased under rule " + erased.rule + " on " + erased.at +
                     " (its hash was " + erased.sha256 + ")");
    return std::nullopt;
  }

  // The qualified providers' list the participant's attachment signatures were judged against.
  void addQualifiedLists(crypto::TrustStore& trust, const std::string& peer) const {
    const fs::path pinned = path() / "certs" / ("participant-" + peer + "-list.p7b");
    std::error_code ec;
    if (isDigits(peer) && fs::exists(pinned, ec)) {
      if (auto list = readAll(pinned)) (void)trust.addAny(*list);
    } else if (fs::is_directory(path() / "certs" / "qualified", ec)) {
      for (const auto& f : fs::directory_iterator(path() / "certs" / "qualified", ec)) {
        if (auto list = readAll(f.path())) (void)trust.addAny(*list);
      }
    }
  }

  std::string summary() const {
    return "entries " + std::to_string(entries_.size()) + " (seq " + std::to_string(entries_.front().seq) + ".." +
           std::to_string(entries_.back().seq) + "), batches " + std::to_string(batch_count_) + ", packages " +
           std::to_string(packages_) + (scope_.empty() ? "" : " (participant " + scope_ + "'s only)") +
           (erased_count_ == 0 ? std::string() : " and " + std::to_string(erased_count_) + " erased") + ", from " +
           entries_.front().at + " to " + entries_.back().at + "; sealed by " + joined(sealers_) + "; time-stamped " +
           *stamp_times_.begin() + (stamp_times_.size() > 1 ? " to " + *stamp_times_.rbegin() : std::string()) +
           (!longest_wait_ ? std::string()
                           : ", at most " + std::to_string(longest_wait_->first) +
                                 " s after a batch's last entry (batch " + std::to_string(longest_wait_->second) + ")");
  }

  std::string dir_, ucc_org_id_;
  json::value manifest_;
  std::string ca_pem_, scope_;
  std::vector<AuditEntry> entries_;
  std::vector<bool> sealed_;  // by position
  // The time each entry's batch time-stamp proves, by position: packages are judged at it.
  std::vector<std::optional<std::time_t>> proven_at_;
  std::set<std::string> sealers_, stamp_times_;
  std::optional<std::pair<long long, long long>> longest_wait_;  // seconds, batch id
  int batch_count_ = 0, packages_ = 0, erased_count_ = 0;
  std::map<std::string, Erasure> erased_;  // by msg_id
  std::vector<std::string> notes_;

 public:
  const std::vector<std::string>& notes() const { return notes_; }
};

VerifyReport verifyBundleUnguarded(const std::string& dir, const std::string& ucc_org_id) {
  return BundleCheck(dir, ucc_org_id).run();
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

}  // namespace vkhid::flows
