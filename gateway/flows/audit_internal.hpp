// What the evidence log's parts share (flows/audit*.cpp): hashing, files, and the JSON of entries.
// Not for other modules.
#pragma once

#include <boost/json.hpp>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/flows/audit.hpp"
#include "gateway/store/evidence.hpp"

namespace vkhid::flows::audit_detail {

extern const std::string kGenesis;  // prev_hash of the first entry ever

Status writeFile(const std::filesystem::path& path, std::string_view bytes);
std::optional<std::string> readAll(const std::filesystem::path& path);
// The value of "key:" in an entry's subject ("case:… msg:…"), up to the next space.
std::string field(const std::string& subject, const std::string& key);
boost::json::object entryJson(const AuditEntry& e);
std::string joined(const std::set<std::string>& items);
// A field of outside JSON (a bundle, a proof) when it has the expected type; nullopt otherwise.
std::optional<std::string> stringField(const boost::json::object& o, const char* key);
std::optional<long long> integerField(const boost::json::object& o, const char* key);
AuditEntry entryFromJson(const boost::json::object& o);

// A batch's Merkle leaves as hex, in chain order.
std::vector<std::string> batchLeaves(const store::BatchRow& batch);
// A batch's entries, as the database now holds them, given the seqs from `first_seq` on in the order
// found and the hashes the batch sealed: each row is matched to the leaf its content hashes to after
// the leaf before it. Untouched, row i is leaf i. A row moved or deleted in the database keeps the
// hashes it was sealed with, so the verifier names it reordered or missing; a row that matches no leaf
// takes the leaf of its place, and the verifier names it edited.
std::vector<AuditEntry> placeEntries(const store::BatchRow& batch, const std::vector<store::StoredEntry>& rows,
                                     long long first_seq);

}  // namespace vkhid::flows::audit_detail
