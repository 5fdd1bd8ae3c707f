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

}  // namespace vkhid::app
