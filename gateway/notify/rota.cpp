#include "gateway/notify/rota.hpp"

#include <date/tz.h>

#include <toml++/toml.h>
#include <array>
#include <fstream>
#include <sstream>

#include "gateway/domain/contact.hpp"

namespace vkhid::notify {
namespace {

constexpr std::array<std::string_view, 7> kDays = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

int dayIndex(std::string_view d) {
  for (std::size_t i = 0; i < kDays.size(); ++i) {
    if (kDays[i] == d) return static_cast<int>(i);
  }
  return -1;
}

// "mon-fri", "sat-sun", "all", "mon,wed,fri" -> a bit set; 0 if malformed.
unsigned parseDays(std::string_view text) {
  if (text == "all") return 0x7f;
  unsigned bits = 0;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (auto dash = item.find('-'); dash != std::string_view::npos) {
      int a = dayIndex(item.substr(0, dash)), b = dayIndex(item.substr(dash + 1));
      if (a < 0 || b < 0) return 0;
      for (int i = a;; i = (i + 1) % 7) {
        bits |= 1u << i;
        if (i == b) break;
      }
    } else {
      int i = dayIndex(item);
      if (i < 0) return 0;
      bits |= 1u << i;
    }
  }
  return bits;
}

std::optional<int> parseClock(std::string_view t) {
  if (t.size() != 5 || t[2] != ':') return std::nullopt;
  for (int i : {0, 1, 3, 4}) {
    if (t[i] < '0' || t[i] > '9') return std::nullopt;
  }
  int h = (t[0] - '0') * 10 + (t[1] - '0'), m = (t[3] - '0') * 10 + (t[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return std::nullopt;
  return h * 60 + m;
}

Error invalid(const std::string& what) { return Error::invalid("config.invalid", what); }

}  // namespace

std::optional<std::pair<int, int>> parseHours(std::string_view text) {
  auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto a = parseClock(text.substr(0, dash)), b = parseClock(text.substr(dash + 1));
  if (!a || !b || *a == *b) return std::nullopt;
  return std::pair{*a, *b};
}

bool withinHours(int minute, int from, int to) {
  return from < to ? (minute >= from && minute < to) : (minute >= from || minute < to);
}

KyivMoment kyivMoment(std::chrono::system_clock::time_point t) {
  static const date::time_zone* kyiv = date::locate_zone("Europe/Kyiv");
  const auto local = date::make_zoned(kyiv, std::chrono::floor<std::chrono::minutes>(t)).get_local_time();
  const auto day = date::floor<date::days>(local);
  const date::weekday wd{day};
  KyivMoment m;
  m.weekday = static_cast<int>((wd.c_encoding() + 6) % 7);
  m.minute = static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(local - day).count());
  return m;
}

Result<Rota> Rota::load(const std::string& path) {
  if (path.empty()) return Rota{};
  std::ifstream in(path, std::ios::binary);
  if (!in) return invalid("notify.rota_file: cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

Result<Rota> Rota::parse(const std::string& source_text, const std::string& source) {
  toml::table t;
  try {
    t = toml::parse(source_text, source);
  } catch (const toml::parse_error& e) {
    return invalid(source + ": " + std::string(e.description()));
  }
  Rota r;
  auto* list = t["duty"].as_array();
  if (list == nullptr) return r;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string where = source + ": [[duty]] " + std::to_string(i + 1);
    const auto* e = (*list)[i].as_table();
    if (e == nullptr) return invalid(where + ": must be a table");
    DutyOfficer d;
    d.name = (*e)["name"].value_or(std::string());
    d.email = (*e)["email"].value_or(std::string());
    if (d.name.empty()) return invalid(where + ": name is required");
    if (!domain::validEmail(d.email)) return invalid(where + ": email: an e-mail address");
    d.days = parseDays((*e)["days"].value_or(std::string("all")));
    if (d.days == 0) return invalid(where + ": days: mon-fri, sat-sun, all or a list such as mon,wed,fri");
    auto hours = parseHours((*e)["hours"].value_or(std::string("00:00-24:00")));
    if (!hours) return invalid(where + ": hours: HH:MM-HH:MM, Kyiv time");
    d.from_minute = hours->first;
    d.to_minute = hours->second;
    d.restricted = (*e)["restricted"].value_or(false);
    r.people_.push_back(std::move(d));
  }
  return r;
}

std::vector<DutyOfficer> Rota::onDuty(KyivMoment at, bool restricted) const {
  std::vector<DutyOfficer> out;
  for (const auto& p : people_) {
    if (restricted && !p.restricted) continue;
    // A shift across midnight belongs to the day it began: 02:00 on Tuesday is Monday's night shift.
    int day = at.weekday;
    if (p.from_minute > p.to_minute && at.minute < p.to_minute) day = (day + 6) % 7;
    if ((p.days & (1u << day)) == 0) continue;
    if (withinHours(at.minute, p.from_minute, p.to_minute)) out.push_back(p);
  }
  return out;
}

std::optional<DutyOfficer> Rota::forStep(KyivMoment at, bool restricted, int step) const {
  auto duty = onDuty(at, restricted);
  if (step < 0 || static_cast<std::size_t>(step) >= duty.size()) return std::nullopt;
  return duty[static_cast<std::size_t>(step)];
}

}  // namespace vkhid::notify
