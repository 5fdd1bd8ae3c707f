// The calendar (config/calendars/*.toml) and the deadline rules (config/deadlines.toml) read from TOML
// into the pure domain types. The shipped files are built into the binary, so a gateway or the CLI
// needs no file at run time; a configured path replaces them.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "gateway/domain/deadline.hpp"
#include "gateway/domain/error.hpp"

namespace vkhid::app {

// The shipped copy of a file by name ("ua.toml", "deadlines.toml"); empty when unknown.
std::string_view embeddedLegalFile(std::string_view name);

// Errors name the source, the entry and the key (code "config.calendar" / "config.deadlines").
Result<domain::CalendarData> parseCalendar(std::string_view toml_text, const std::string& source);
Result<domain::DeadlineRules> parseDeadlineRules(std::string_view toml_text, const std::string& source);

// From a file, or the shipped one when `path` is empty.
Result<domain::CalendarData> loadCalendar(const std::string& path);
Result<domain::DeadlineRules> loadDeadlineRules(const std::string& path);

// The classifier's topic names (the [topic] table of config/classifier.toml, or of `path`): code → name.
Result<std::map<std::string, std::string>> loadTopicNames(const std::string& path);

// The unit costs behind the cost per appeal (the Procedure's п. 3), in kopecks so sums are exact:
// config/costs.toml, or `path`. Errors name the key (code "config.costs").
struct UnitCosts {
  std::string currency = "UAH";
  long long per_package = 0;          // each SEV OVV package of the case, either way, receipts included
  long long per_handling_minute = 0;  // a minute of a person's handling, as the channel recorded it
  long long per_channel_default = 0;  // taking one case in, by a channel not named below
  std::map<std::string, long long> per_channel;
};
Result<UnitCosts> parseUnitCosts(std::string_view toml_text, const std::string& source);
Result<UnitCosts> loadUnitCosts(const std::string& path);

}  // namespace vkhid::app
