// Legal deadlines (DESIGN §9): each kind of term is a rule with its citation (config/deadlines.toml);
// the counting is here. A term in days starts the day after receipt (its Kyiv date); "N months" ends
// on the same day-number N months later, or that month's last day; a term in working days ends on the
// N-th working day after the receipt date; a term in hours is exact from the receipt instant. A
// day-based deadline is the end of its day, 23:59:59 Kyiv time.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "gateway/domain/calendar.hpp"
#include "gateway/domain/kyiv_time.hpp"

namespace vkhid::domain {

enum class TermUnit { Days, WorkingDays, Months, Hours };
std::optional<TermUnit> termUnitFromName(const std::string& name);  // days, working_days, months, hours

struct DeadlineRule {
  std::string kind;  // appeal, info_request_urgent, …
  int amount = 0;
  TermUnit unit = TermUnit::Days;
  std::string citation;
};

struct DeadlinePolicy {
  // A count in days or months that ends on a day off ends on the next working day (Civil Code art. 254
  // by analogy). On by default.
  bool day_off_end_moves_to_next_working_day = true;
};

struct DeadlineRules {
  std::map<std::string, DeadlineRule> by_kind;
  DeadlinePolicy policy;
  const DeadlineRule* find(const std::string& kind) const {
    auto it = by_kind.find(kind);
    return it == by_kind.end() ? nullptr : &it->second;
  }
};

struct Due {
  Instant at;
  Date date;  // its Kyiv date
};

Due computeDue(const DeadlineRule& rule, Instant received, const Calendar& calendar, const DeadlinePolicy& policy);

}  // namespace vkhid::domain
