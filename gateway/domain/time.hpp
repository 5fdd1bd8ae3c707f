// Instants as ISO 8601 / xs:dateTime text, both ways. Pure.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace vkhid {

// "2026-11-28T10:00:00Z", "…T12:00:00.123+02:00", "…T10:00:00" (no zone: UTC). nullopt if malformed.
std::optional<std::time_t> parseIsoDateTime(std::string_view text);

// An xs: time zone as written after a date or time: "" (none), "Z", "+02:00", "-05:00"; its offset from
// UTC in seconds, nullopt if malformed.
std::optional<long long> parseZoneOffset(std::string_view zone);

// "2026-11-28T10:00:00Z".
std::string formatIsoUtc(std::time_t t);

}  // namespace vkhid
