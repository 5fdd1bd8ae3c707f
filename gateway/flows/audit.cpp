// The evidence log: the helpers its parts share, and the entry hash (its Merkle trees: crypto/merkle).
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
namespace audit_detail {

namespace json = boost::json;
namespace fs = std::filesystem;

const std::string kGenesis(64, '0');

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

std::vector<std::string> batchLeaves(const store::BatchRow& batch) {
  std::vector<std::string> leaves;
  for (std::size_t at = 0; at + 32 <= batch.leaves.size(); at += 32) {
    leaves.push_back(hexEncode(std::string_view(batch.leaves).substr(at, 32)));
  }
  return leaves;
}

std::vector<AuditEntry> placeEntries(const store::BatchRow& batch, const std::vector<store::StoredEntry>& rows,
                                     long long first_seq) {
  const auto leaves = batchLeaves(batch);
  auto prevOf = [&](std::size_t k) { return k == 0 ? batch.prev_hash : leaves[k - 1]; };
  auto entryAt = [&](const store::StoredEntry& r, std::size_t k) {
    AuditEntry e{0, r.at, r.actor, r.action, r.subject, r.payload_sha256, prevOf(k), {}, batch.id};
    e.entry_hash = auditEntryHash(e);
    return e;
  };
  std::vector<AuditEntry> placed;
  placed.reserve(rows.size());
  std::size_t next = 0;  // the leaf the next row should be
  int searches = 16;     // rows looked for among all the leaves: only a tampered batch has any
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::optional<std::size_t> found;
    if (next < leaves.size() && entryAt(rows[i], next).entry_hash == leaves[next]) {
      found = next;
    } else if (searches > 0) {
      --searches;
      for (std::size_t k = 0; !found && k < leaves.size(); ++k) {
        if (entryAt(rows[i], k).entry_hash == leaves[k]) found = k;
      }
    }
    const std::size_t k = found.value_or(std::min(next, leaves.empty() ? 0 : leaves.size() - 1));
    AuditEntry e = entryAt(rows[i], k);
    e.seq = first_seq + static_cast<long long>(i);
    if (k < leaves.size()) e.entry_hash = leaves[k];  // as sealed: an edited row shows it
    placed.push_back(std::move(e));
    next = k + 1;
  }
  return placed;
}

}  // namespace audit_detail

using namespace audit_detail;

// ---- pure ----

std::string auditEntryHash(const AuditEntry& e) {
  return app::sha256Hex("vkhid-audit-1\n" + e.prev_hash + "\n" + e.at + "\n" + e.actor + "\n" + e.action + "\n" +
                        e.subject + "\n" + e.payload_sha256);
}

}  // namespace vkhid::flows
