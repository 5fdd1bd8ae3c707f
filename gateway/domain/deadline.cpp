#include "gateway/domain/deadline.hpp"

namespace vkhid::domain {

std::optional<TermUnit> termUnitFromName(const std::string& name) {
  if (name == "days") return TermUnit::Days;
  if (name == "working_days") return TermUnit::WorkingDays;
  if (name == "months") return TermUnit::Months;
  if (name == "hours") return TermUnit::Hours;
  return std::nullopt;
}

Due computeDue(const DeadlineRule& rule, Instant received, const Calendar& calendar, const DeadlinePolicy& policy) {
  if (rule.unit == TermUnit::Hours) {
    Instant at = received + std::chrono::hours(rule.amount);
    return {at, kyivDate(at)};
  }
  Date start = kyivDate(received);
  Date end;
  switch (rule.unit) {
    case TermUnit::Days: end = addDays(start, rule.amount); break;
    case TermUnit::Months: end = addMonths(start, rule.amount); break;
    case TermUnit::WorkingDays: end = calendar.nthWorkingDayAfter(start, rule.amount); break;
    case TermUnit::Hours: break;
  }
  if (policy.day_off_end_moves_to_next_working_day) end = calendar.workingDayOnOrAfter(end);
  return {kyivEndOfDay(end), end};
}

}  // namespace vkhid::domain
