// Europe/Kyiv local time from the system's tz database (Debian's tzdata, through H. Hinnant's date/tz),
// so daylight-saving changes and any future change of the law come with a tzdata update, not a release.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/domain/calendar.hpp"

namespace vkhid::domain {

using Instant = std::chrono::sys_seconds;

Date kyivDate(Instant t);
// 23:59:59 Kyiv time on that date.
Instant kyivEndOfDay(Date d);
// 00:00:00 Kyiv time on that date.
Instant kyivStartOfDay(Date d);
// "2026-03-29T23:59:59+03:00".
std::string formatKyiv(Instant t);
// ISO 8601: "2026-11-28T10:00:00Z", "…T12:00:00+02:00", "…T12:00:00" (Kyiv local time), or a bare
// date "2026-11-28" (its Kyiv start). nullopt if malformed or not a real date and time.
std::optional<Instant> parseInstant(std::string_view text);

}  // namespace vkhid::domain
