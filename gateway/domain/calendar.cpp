#include "gateway/domain/calendar.hpp"

#include <algorithm>
#include <charconv>

#include "gateway/domain/time.hpp"

namespace vkhid::domain {

// Civil-date arithmetic after H. Hinnant, "chrono-Compatible Low-Level Date Algorithms".
long daysSinceEpoch(Date d) {
  int y = d.year - (d.month <= 2 ? 1 : 0);
  long era = (y >= 0 ? y : y - 399) / 400;
  long yoe = y - era * 400;
  long doy = (153 * (d.month + (d.month > 2 ? -3 : 9)) + 2) / 5 + d.day - 1;
  long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Date dateFromDays(long z) {
  z += 719468;
  long era = (z >= 0 ? z : z - 146096) / 146097;
  long doe = z - era * 146097;
  long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long y = yoe + era * 400;
  long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  long mp = (5 * doy + 2) / 153;
  int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {static_cast<int>(y + (m <= 2 ? 1 : 0)), m, d};
}

Date addDays(Date d, long n) { return dateFromDays(daysSinceEpoch(d) + n); }

int daysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

Date addMonths(Date d, int n) {
  int months = d.year * 12 + (d.month - 1) + n;
  Date out{months / 12, months % 12 + 1, 1};
  out.day = std::min(d.day, daysInMonth(out.year, out.month));
  return out;
}

int weekday(Date d) {
  long z = daysSinceEpoch(d);
  return static_cast<int>(z >= -4 ? (z + 4) % 7 : (z + 5) % 7 + 6);
}

std::optional<Date> parseDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  Date d;
  auto num = [&](std::size_t at, std::size_t len, int& out) {
    auto r = std::from_chars(s.data() + at, s.data() + at + len, out);
    return r.ec == std::errc() && r.ptr == s.data() + at + len;
  };
  if (!num(0, 4, d.year) || !num(5, 2, d.month) || !num(8, 2, d.day)) return std::nullopt;
  if (d.month < 1 || d.month > 12 || d.day < 1 || d.day > daysInMonth(d.year, d.month)) return std::nullopt;
  return d;
}

std::optional<Date> parseXsDate(std::string_view s) {
  if (s.size() < 10 || !parseZoneOffset(s.substr(10))) return std::nullopt;
  return parseDate(s.substr(0, 10));
}

std::string formatDate(Date d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  return buf;
}

Date orthodoxEaster(int year) {
  // Meeus' Julian algorithm; the Julian date is 13 days behind the Gregorian in 1900–2099.
  int a = year % 4, b = year % 7, c = year % 19;
  int d = (19 * c + 15) % 30;
  int e = (2 * a + 4 * b - d + 34) % 7;
  int month = (d + e + 114) / 31;
  int day = (d + e + 114) % 31 + 1;
  return addDays(Date{year, month, day}, 13);
}

bool HolidayRule::inForce(Date d) const { return (!from || d >= *from) && (!until || d <= *until); }

Calendar::Calendar(CalendarData data, std::optional<bool> martial_law_override)
    : data_(std::move(data)), martial_override_(martial_law_override) {}

bool Calendar::martialLaw(Date d) const {
  if (martial_override_) return *martial_override_;
  return std::any_of(data_.martial_law.begin(), data_.martial_law.end(),
                     [&](const Period& p) { return p.contains(d); });
}

std::optional<std::string> Calendar::holidayOn(Date d) const {
  for (const auto& h : data_.holidays) {
    Date when;
    switch (h.kind) {
      case HolidayRule::Kind::Fixed:
        if (h.month != d.month || h.day != d.day) continue;
        when = d;
        break;
      case HolidayRule::Kind::Easter: when = orthodoxEaster(d.year); break;
      case HolidayRule::Kind::Trinity: when = addDays(orthodoxEaster(d.year), 49); break;
    }
    if (when == d && h.inForce(d)) return h.name;
  }
  return std::nullopt;
}

std::vector<Date> Calendar::holidaysOf(int year) const {
  std::vector<Date> out;
  for (const auto& h : data_.holidays) {
    Date when;
    switch (h.kind) {
      case HolidayRule::Kind::Fixed:
        if (h.month == 2 && h.day == 29 && daysInMonth(year, 2) == 28) continue;
        when = {year, h.month, h.day};
        break;
      case HolidayRule::Kind::Easter: when = orthodoxEaster(year); break;
      case HolidayRule::Kind::Trinity: when = addDays(orthodoxEaster(year), 49); break;
    }
    if (h.inForce(when)) out.push_back(when);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// Art. 67 part 3: a holiday on a Saturday or Sunday moves the day off to the next working day; two
// such holidays take consecutive days (2021: 1 May Saturday and Easter 2 May -> 3 and 4 May off).
// Suspended under martial law (Law 2136-IX): judged on the holiday's own date.
bool Calendar::transferredDayOff(Date d) const {
  for (int year : {d.year - 1, d.year}) {
    std::vector<Date> holidays = holidaysOf(year);
    std::vector<Date> moved;
    for (Date h : holidays) {
      int wd = weekday(h);
      if ((wd != 0 && wd != 6) || martialLaw(h)) continue;
      Date c = addDays(h, 1);
      auto taken = [&](Date x) {
        int w = weekday(x);
        return w == 0 || w == 6 || std::binary_search(holidays.begin(), holidays.end(), x) ||
               std::find(moved.begin(), moved.end(), x) != moved.end();
      };
      while (taken(c)) c = addDays(c, 1);
      moved.push_back(c);
      if (c == d) return true;
    }
  }
  return false;
}

bool Calendar::isDayOff(Date d) const {
  int wd = weekday(d);
  if (wd == 0 || wd == 6) return true;
  if (martialLaw(d)) return false;
  return holidayOn(d).has_value() || transferredDayOff(d);
}

Date Calendar::workingDayOnOrAfter(Date d) const {
  for (int i = 0; i < 60 && isDayOff(d); ++i) d = addDays(d, 1);
  return d;
}

Date Calendar::nthWorkingDayAfter(Date d, int n) const {
  for (int counted = 0; counted < n;) {
    d = addDays(d, 1);
    if (isWorkingDay(d)) ++counted;
  }
  return d;
}

Date Calendar::nthWorkingDayBefore(Date d, int n) const {
  for (int counted = 0; counted < n;) {
    d = addDays(d, -1);
    if (isWorkingDay(d)) ++counted;
  }
  return d;
}

}  // namespace vkhid::domain
