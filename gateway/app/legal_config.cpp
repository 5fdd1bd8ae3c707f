#include "gateway/app/legal_config.hpp"

#include <toml++/toml.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

namespace vkhid::app {
namespace {

Error calendarError(const std::string& what) { return Error::invalid("config.calendar", what); }
Error deadlinesError(const std::string& what) { return Error::invalid("config.deadlines", what); }

std::optional<domain::Date> tomlDate(const toml::node* n) {
  if (n == nullptr) return std::nullopt;
  if (auto d = n->as_date()) {
    const toml::date& v = d->get();
    return domain::Date{v.year, v.month, v.day};
  }
  if (auto s = n->value<std::string>()) return domain::parseDate(*s);
  return std::nullopt;
}

Result<toml::table> parseToml(std::string_view text, const std::string& source, Error (*err)(const std::string&)) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return err(source + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
}

Result<std::string> readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::invalid("config.file", "cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

Result<domain::CalendarData> parseCalendar(std::string_view text, const std::string& source) {
  auto parsed = parseToml(text, source, calendarError);
  if (!parsed) return parsed.error();
  const toml::table& t = *parsed;
  for (const auto& [k, v] : t) {
    std::string key(k.str());
    if (key != "name" && key != "holiday" && key != "martial_law")
      return calendarError(source + ": unknown key '" + key + "'");
  }
  domain::CalendarData data;
  data.name = t["name"].value_or(std::string());
  if (const auto* holidays = t["holiday"].as_array()) {
    for (std::size_t i = 0; i < holidays->size(); ++i) {
      std::string where = source + ": holiday " + std::to_string(i + 1);
      const auto* h = (*holidays)[i].as_table();
      if (h == nullptr) return calendarError(where + ": expected a [[holiday]] table");
      for (const auto& [k, v] : *h) {
        static const std::set<std::string> known{"name", "date", "from", "until"};
        if (!known.count(std::string(k.str())))
          return calendarError(where + ": unknown key '" + std::string(k.str()) + "'");
      }
      domain::HolidayRule rule;
      rule.name = (*h)["name"].value_or(std::string());
      std::string date = (*h)["date"].value_or(std::string());
      if (date == "easter") {
        rule.kind = domain::HolidayRule::Kind::Easter;
      } else if (date == "trinity") {
        rule.kind = domain::HolidayRule::Kind::Trinity;
      } else if (auto d = domain::parseDate("2000-" + date); d && date.size() == 5) {
        rule.month = d->month;
        rule.day = d->day;
      } else {
        return calendarError(where + ": date: expected \"MM-DD\", \"easter\" or \"trinity\", not \"" + date + "\"");
      }
      if ((*h)["from"] && !(rule.from = tomlDate((*h)["from"].node())))
        return calendarError(where + ": from: expected a date (YYYY-MM-DD)");
      if ((*h)["until"] && !(rule.until = tomlDate((*h)["until"].node())))
        return calendarError(where + ": until: expected a date (YYYY-MM-DD)");
      data.holidays.push_back(std::move(rule));
    }
  }
  if (const auto* periods = t["martial_law"].as_array()) {
    for (std::size_t i = 0; i < periods->size(); ++i) {
      std::string where = source + ": martial_law " + std::to_string(i + 1);
      const auto* p = (*periods)[i].as_table();
      if (p == nullptr) return calendarError(where + ": expected a [[martial_law]] table");
      auto from = tomlDate((*p)["from"].node());
      if (!from) return calendarError(where + ": from: expected a date (YYYY-MM-DD)");
      domain::Period period{*from, std::nullopt};
      if ((*p)["until"] && !(period.until = tomlDate((*p)["until"].node())))
        return calendarError(where + ": until: expected a date (YYYY-MM-DD)");
      data.martial_law.push_back(period);
    }
  }
  return data;
}

Result<domain::DeadlineRules> parseDeadlineRules(std::string_view text, const std::string& source) {
  auto parsed = parseToml(text, source, deadlinesError);
  if (!parsed) return parsed.error();
  domain::DeadlineRules rules;
  for (const auto& [k, v] : *parsed) {
    std::string kind(k.str());
    const auto* t = v.as_table();
    if (t == nullptr) return deadlinesError(source + ": " + kind + ": expected a table");
    if (kind == "counting") {
      for (const auto& [ck, cv] : *t) {
        if (ck.str() != "day_off_end_moves_to_next_working_day")
          return deadlinesError(source + ": counting: unknown key '" + std::string(ck.str()) + "'");
      }
      rules.policy.day_off_end_moves_to_next_working_day = (*t)["day_off_end_moves_to_next_working_day"].value_or(true);
      continue;
    }
    for (const auto& [rk, rv] : *t) {
      static const std::set<std::string> known{"amount", "unit", "rule"};
      if (!known.count(std::string(rk.str())))
        return deadlinesError(source + ": " + kind + ": unknown key '" + std::string(rk.str()) + "'");
    }
    domain::DeadlineRule rule;
    rule.kind = kind;
    auto amount = (*t)["amount"].value<int64_t>();
    if (!amount || *amount < 1 || *amount > 10000)
      return deadlinesError(source + ": " + kind + ": amount: expected a whole number from 1 to 10000");
    rule.amount = static_cast<int>(*amount);
    auto unit = domain::termUnitFromName((*t)["unit"].value_or(std::string()));
    if (!unit) return deadlinesError(source + ": " + kind + ": unit: expected days, working_days, months or hours");
    rule.unit = *unit;
    rule.citation = (*t)["rule"].value_or(std::string());
    if (rule.citation.empty()) return deadlinesError(source + ": " + kind + ": rule: the legal citation is required");
    rules.by_kind[kind] = std::move(rule);
  }
  return rules;
}

Result<domain::CalendarData> loadCalendar(const std::string& path) {
  if (path.empty()) return parseCalendar(embeddedLegalFile("ua.toml"), "config/calendars/ua.toml");
  auto text = readAll(path);
  if (!text) return text.error();
  return parseCalendar(*text, path);
}

Result<domain::DeadlineRules> loadDeadlineRules(const std::string& path) {
  if (path.empty()) return parseDeadlineRules(embeddedLegalFile("deadlines.toml"), "config/deadlines.toml");
  auto text = readAll(path);
  if (!text) return text.error();
  return parseDeadlineRules(*text, path);
}

Result<std::map<std::string, std::string>> loadTopicNames(const std::string& path) {
  std::string text;
  std::string source = path.empty() ? std::string("config/classifier.toml") : path;
  if (path.empty()) {
    text = std::string(embeddedLegalFile("classifier.toml"));
  } else {
    auto read = readAll(path);
    if (!read) return read.error();
    text = std::move(read).value();
  }
  auto doc = parseToml(text, source, [](const std::string& m) { return Error::invalid("config.classifier", m); });
  if (!doc) return doc.error();
  std::map<std::string, std::string> names;
  if (const auto* topics = (*doc)["topic"].as_table()) {
    for (const auto& [code, name] : *topics) {
      if (auto v = name.value<std::string>()) names[std::string(code.str())] = *v;
    }
  }
  return names;
}

namespace {

Error costsError(const std::string& m) { return Error::invalid("config.costs", m); }

// A sum in hryvnias (an integer or a decimal with at most two places) as kopecks; nullopt otherwise.
std::optional<long long> kopecks(const toml::node* node) {
  if (node == nullptr) return std::nullopt;
  if (auto i = node->value_exact<int64_t>()) {
    if (*i < 0 || *i > 1'000'000'000) return std::nullopt;
    return *i * 100;
  }
  if (auto d = node->value_exact<double>()) {
    const double k = *d * 100.0;
    const long long rounded = std::llround(k);
    if (*d < 0 || *d > 1e9 || std::fabs(k - static_cast<double>(rounded)) > 1e-6) return std::nullopt;
    return rounded;
  }
  return std::nullopt;
}

}  // namespace

Result<UnitCosts> parseUnitCosts(std::string_view text, const std::string& source) {
  auto doc = parseToml(text, source, costsError);
  if (!doc) return doc.error();
  UnitCosts costs;
  auto money = [&](const toml::node* node, const std::string& key, long long& out) -> Status {
    if (node == nullptr) return {};
    auto k = kopecks(node);
    if (!k) return costsError(source + ": " + key + ": expected a sum in hryvnias, at most two decimals (e.g. 6.50)");
    out = *k;
    return {};
  };
  if (auto c = (*doc)["currency"].value<std::string>()) costs.currency = *c;
  if (auto s = money((*doc).get("per_package"), "per_package", costs.per_package); !s) return s.error();
  if (auto s = money((*doc).get("per_handling_minute"), "per_handling_minute", costs.per_handling_minute); !s) {
    return s.error();
  }
  if (const auto* channels = (*doc)["channel"].as_table()) {
    for (const auto& [name, value] : *channels) {
      const std::string key(name.str());
      long long k = 0;
      if (auto s = money(&value, "channel." + key, k); !s) return s.error();
      if (key == "default") {
        costs.per_channel_default = k;
      } else {
        costs.per_channel[key] = k;
      }
    }
  }
  return costs;
}

Result<UnitCosts> loadUnitCosts(const std::string& path) {
  if (path.empty()) return parseUnitCosts(embeddedLegalFile("costs.toml"), "config/costs.toml");
  auto text = readAll(path);
  if (!text) return text.error();
  return parseUnitCosts(*text, path);
}

}  // namespace vkhid::app
