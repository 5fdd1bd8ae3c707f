// The Ukrainian working-day calendar (DESIGN §9): weekends, public holidays of Labour Code art. 73 as
// dated data, Orthodox Easter and Trinity by computation, the transfer of a holiday that falls on a
// weekend (art. 67 part 3), and a dated martial-law switch under which holidays are working days and
// nothing is transferred. Pure: the data comes from config/calendars/ (app/legal_config.hpp).
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vkhid::domain {

// A civil (proleptic Gregorian) date.
struct Date {
  int year = 1970, month = 1, day = 1;
  auto operator<=>(const Date&) const = default;
};

std::optional<Date> parseDate(std::string_view yyyy_mm_dd);  // nullopt unless a real date
// An xs:date as a sender writes it ("2026-12-01", "2026-12-01Z", "2026-12-01-05:00"): the calendar day
// written, whatever its time zone; nullopt unless a real date of a four-digit year.
std::optional<Date> parseXsDate(std::string_view text);
std::string formatDate(Date d);  // "2026-11-28"
long daysSinceEpoch(Date d);     // 1970-01-01 = 0
Date dateFromDays(long days);
Date addDays(Date d, long n);
// The same day-number n months later, or that month's last day when it has no such day.
Date addMonths(Date d, int n);
int weekday(Date d);  // 0 = Sunday … 6 = Saturday
int daysInMonth(int year, int month);

// Orthodox Easter Sunday (Julian computus, as a Gregorian date; valid 1900–2099).
Date orthodoxEaster(int year);

struct HolidayRule {
  enum class Kind { Fixed, Easter, Trinity };  // Trinity = Easter + 49 days
  Kind kind = Kind::Fixed;
  std::string name;
  int month = 0, day = 0;     // for Fixed
  std::optional<Date> from;   // in force from this date (inclusive); none = always
  std::optional<Date> until;  // in force until this date (inclusive); none = still
  bool inForce(Date d) const;
};

struct Period {
  Date from;
  std::optional<Date> until;  // none = still in force
  bool contains(Date d) const { return d >= from && (!until || d <= *until); }
};

struct CalendarData {
  std::string name;
  std::vector<HolidayRule> holidays;
  std::vector<Period> martial_law;
};

class Calendar {
 public:
  // `martial_law_override` replaces the dated switch for every date (on or off) when set.
  explicit Calendar(CalendarData data, std::optional<bool> martial_law_override = std::nullopt);

  // The holiday in force on that date (its name), whether or not it is a day off.
  std::optional<std::string> holidayOn(Date d) const;
  bool martialLaw(Date d) const;
  // Weekend; holiday (not under martial law); or the working day a weekend holiday moved to.
  bool isDayOff(Date d) const;
  bool isWorkingDay(Date d) const { return !isDayOff(d); }
  // The first working day on or after d.
  Date workingDayOnOrAfter(Date d) const;
  // The n-th working day after d (n >= 1; d itself not counted).
  Date nthWorkingDayAfter(Date d, int n) const;
  // The n-th working day before d (n >= 1; d itself not counted).
  Date nthWorkingDayBefore(Date d, int n) const;

  const CalendarData& data() const { return data_; }

 private:
  bool transferredDayOff(Date d) const;
  std::vector<Date> holidaysOf(int year) const;  // in force, sorted

  CalendarData data_;
  std::optional<bool> martial_override_;
};

}  // namespace vkhid::domain
