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

}  // namespace vkhid::flows::audit_detail
