#include "gateway/domain/kyiv_time.hpp"

#include <date/tz.h>

#include <charconv>

namespace vkhid::domain {
namespace {

const date::time_zone* kyiv() {
  static const date::time_zone* zone = date::locate_zone("Europe/Kyiv");
  return zone;
}

date::local_seconds localOf(Date d) { return date::local_days{date::year(d.year) / d.month / d.day}; }

Instant fromKyivLocal(date::local_seconds local) {
  // A local time in the spring-forward gap or the autumn overlap resolves to the earlier instant.
  auto info = kyiv()->get_info(local);
  switch (info.result) {
    case date::local_info::unique: return Instant{local.time_since_epoch() - info.first.offset};
    case date::local_info::ambiguous: return Instant{local.time_since_epoch() - info.first.offset};
    case date::local_info::nonexistent: return Instant{local.time_since_epoch() - info.first.offset};
  }
  return Instant{local.time_since_epoch()};
}

bool number(std::string_view s, std::size_t at, std::size_t len, int& out) {
  if (at + len > s.size()) return false;
  auto r = std::from_chars(s.data() + at, s.data() + at + len, out);
  return r.ec == std::errc() && r.ptr == s.data() + at + len;
}

}  // namespace

Date kyivDate(Instant t) {
  auto local = kyiv()->to_local(t);
  date::year_month_day ymd{date::floor<date::days>(local)};
  return {static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
          static_cast<int>(static_cast<unsigned>(ymd.day()))};
}

Instant kyivEndOfDay(Date d) {
  return fromKyivLocal(localOf(d) + std::chrono::hours(23) + std::chrono::minutes(59) + std::chrono::seconds(59));
}

Instant kyivStartOfDay(Date d) { return fromKyivLocal(localOf(d)); }

std::string formatKyiv(Instant t) {
  return date::format("%FT%T%Ez", date::zoned_time<std::chrono::seconds>{kyiv(), t});
}

std::optional<Instant> parseInstant(std::string_view s) {
  auto day = parseDate(s.substr(0, 10));
  if (!day) return std::nullopt;
  if (s.size() == 10) return fromKyivLocal(localOf(*day));
  int hh = 0, mm = 0, ss = 0;
  if (s.size() < 16 || (s[10] != 'T' && s[10] != ' ') || !number(s, 11, 2, hh) || s[13] != ':' ||
      !number(s, 14, 2, mm)) {
    return std::nullopt;
  }
  std::size_t at = 16;
  if (at < s.size() && s[at] == ':') {
    if (!number(s, at + 1, 2, ss)) return std::nullopt;
    at += 3;
    if (at < s.size() && (s[at] == '.' || s[at] == ',')) {  // fractions of a second: dropped
      ++at;
      while (at < s.size() && std::isdigit(static_cast<unsigned char>(s[at]))) ++at;
    }
  }
  if (hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  auto local = localOf(*day) + std::chrono::hours(hh) + std::chrono::minutes(mm) + std::chrono::seconds(ss);
  std::string_view zone = s.substr(at);
  if (zone.empty()) return fromKyivLocal(local);
  if (zone == "Z") return Instant{local.time_since_epoch()};
  int oh = 0, om = 0;
  if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || !number(zone, 1, 2, oh) || zone[3] != ':' ||
      !number(zone, 4, 2, om) || oh > 14 || om > 59) {
    return std::nullopt;
  }
  auto offset = std::chrono::hours(oh) + std::chrono::minutes(om);
  return Instant{local.time_since_epoch() - (zone[0] == '+' ? offset : -offset)};
}

}  // namespace vkhid::domain
